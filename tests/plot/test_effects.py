"""Tests for plot.prevalence and plot.dose_response."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats import CalcstatsError
from calcstats.plot import dose_response, prevalence


@pytest.fixture(scope="module")
def prev():
    rng = np.random.default_rng(5)
    et = rng.choice(["pbc", "psc", "schistosomiasis", "masld"], 400)
    p = pd.Series({"pbc": 0.2, "psc": 0.3, "schistosomiasis": 0.7, "masld": 0.02})
    d = pd.DataFrame({"etiology": et, "calc": (rng.random(400) < p[et].to_numpy()).astype(int)})
    return cs.prevalence(d, outcome="calc", by="etiology")


def _gid(ax, gid):
    return [c for c in ax.get_children() if c.get_gid() == gid]


def test_prevalence_rows_equal_estimates(prev):
    ax = prevalence(prev)
    tidy = prev.tidy().sort_values("estimate")
    (pts,) = _gid(ax, "estimate")
    np.testing.assert_allclose(pts.get_xdata(), 100 * tidy["estimate"])
    assert [t.get_text() for t in ax.get_yticklabels()] == tidy["etiology"].tolist()
    counts = [t.get_text() for t in ax.texts if t.get_gid() == "counts"]
    assert counts == [f"{c}/{n}" for c, n in zip(tidy["cases"], tidy["n"], strict=True)]
    (ci,) = _gid(ax, "ci")
    segs = np.array([s[:, 0] for s in ci.get_segments()])
    np.testing.assert_allclose(segs[:, 0], 100 * tidy["conf_low"])
    np.testing.assert_allclose(segs[:, 1], 100 * tidy["conf_high"])


def test_prevalence_hides_small_counts():
    d = pd.DataFrame({"calc": [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1, 0],
                      "g": ["a"] * 4 + ["b"] * 8})
    res = cs.prevalence(d, outcome="calc", by="g", suppress_below=3)
    ax = prevalence(res, sort=False)
    counts = [t.get_text() for t in ax.texts if t.get_gid() == "counts"]
    assert counts[0] == "<3/4"


def test_prevalence_errors(prev):
    with pytest.raises(CalcstatsError, match="computed with by="):
        prevalence(cs.prevalence(pd.DataFrame({"c": [0, 1]}), outcome="c"))


def test_dose_response_draws_effect():
    v = np.linspace(30, 80, 20)
    eff = pd.DataFrame({"value": v, "estimate": np.exp(0.03 * (v - 50)),
                        "conf_low": np.exp(0.02 * (v - 50) - 0.1),
                        "conf_high": np.exp(0.04 * (v - 50) + 0.1)})
    eff.attrs["reference"] = 50.0
    ax = dose_response(eff, rug=[35, 40, 60])
    (line,) = _gid(ax, "estimate")
    np.testing.assert_allclose(line.get_ydata(), eff["estimate"])
    assert ax.get_yscale() == "log"
    (ref,) = _gid(ax, "reference")
    assert ref.get_xdata()[0] == 50.0
    with pytest.raises(CalcstatsError, match="value, estimate, conf_low"):
        dose_response(eff.drop(columns="value"))
