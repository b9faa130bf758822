"""R reference values and data of tests/reference/interval.R (shared by the interval tests).

See tests/reference/interval_data/README.md for the conventions: survfit's Turnbull
output (midpoint jump times, its 5e-5 EM stopping rule), the high-precision NPMLE
(``npmle`` blocks), survreg's parameters and log-likelihood scale.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

REFERENCE = Path(__file__).parent.parent / "reference"
DATA = REFERENCE / "interval_data"
TREAT = "C(treat)[T.radiotherapy+chemotherapy]"
#: R coefficient name -> calcstats term
R_TERMS = {"(Intercept)": "Intercept", "treatradiotherapy+chemotherapy": TREAT}

#: (data set, R formula, group, calcstats ``by`` column, group value)
CURVES = [
    ("bcdeter", "~1", "all", None, None),
    ("bcdeter", "~treat", "radiotherapy only", "treat", "radiotherapy only"),
    ("bcdeter", "~treat", "radiotherapy+chemotherapy", "treat", "radiotherapy+chemotherapy"),
    ("ic_sim", "~1", "all", None, None),
    ("ic_sim", "~x", "0", "x", 0),
    ("ic_sim", "~x", "1", "x", 1),
]
CURVE_IDS = [f"{d}{f}:{g}" for d, f, g, _, _ in CURVES]

#: (data set, R formula, calcstats formula)
MODELS = [
    ("bcdeter", "~1", "1"),
    ("bcdeter", "~treat", "C(treat)"),
    ("ic_sim", "~x+z", "x + z"),
    ("lung", "~age+sex", "age + sex"),
]
MODEL_IDS = [f"{d}{f}" for d, f, _ in MODELS]


@cache
def reference() -> dict:
    return json.loads((REFERENCE / "interval.json").read_text())


@cache
def _read(name: str) -> pd.DataFrame:
    df = pd.read_csv(DATA / f"{name}.csv")
    if name == "lung":  # right-censored data in (left, right] form
        df["left"] = df["time"].astype(float)
        df["right"] = np.where(df["status"] == 1, df["time"], np.inf)
    return df


def data(name: str) -> pd.DataFrame:
    """A fresh copy of ``bcdeter``, ``ic_sim`` or ``lung`` (right missing = censored)."""
    return _read(name).copy()


def curve_ref(name: str, formula: str, group: str) -> dict:
    return reference()["npmle"][name][formula][group]


def model_ref(name: str, formula: str, dist: str) -> dict:
    return reference()["survreg"][name][formula][dist]


def terms(values: dict) -> pd.Series:
    """An R named vector as a Series indexed by calcstats term names."""
    return pd.Series(values, dtype=float).rename(index=lambda t: R_TERMS.get(t, t))


def matrix(block: dict) -> np.ndarray:
    """An R matrix written row-major as ``{"names", "matrix"}``."""
    k = len(block["names"])
    return np.asarray(block["matrix"], dtype=float).reshape(k, k)


def step(times: list, values: list, at: np.ndarray, before: float = 1.0) -> np.ndarray:
    """A right-continuous step function (``before`` ahead of the first time)."""
    t = np.asarray(times, dtype=float)
    v = np.asarray(values, dtype=float)
    i = np.searchsorted(t, at, side="right") - 1
    return np.where(i < 0, before, v[np.clip(i, 0, None)])
