"""Propensity-score weights: the four estimands, stabilisation, trimming and Kish's ESS.

Conventions (the same as R's WeightIt, written out so that numbers can be checked by hand;
``e`` is the propensity score and ``t`` the 0/1 treatment):

========  =============================  ==========================================
estimand  weight                         target population
========  =============================  ==========================================
ATE       t/e + (1 − t)/(1 − e)          everyone
ATT       t + (1 − t)·e/(1 − e)          the treated
ATC       t·(1 − e)/e + (1 − t)          the controls (untreated)
ATO       t·(1 − e) + (1 − t)·e          the overlap population (overlap weights)
========  =============================  ==========================================

Weights are not normalised. ``stabilize=True`` multiplies a treated unit's weight by the
observed P(T = 1) and a control's by P(T = 0). ``trim`` caps the weights from above:
a number in [0.5, 1) is a quantile of all weights pooled (type 7, R's default
``quantile``), a number of 1 or more a fixed cap; stabilisation comes first. The
effective sample size is Kish's (Σw)²/Σw², within each group.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from calcstats._errors import CalcstatsError

__all__ = ["ESTIMANDS", "Trim", "Weighting", "estimand_weights", "kish_ess", "trim_weights"]

ESTIMANDS = ("ATE", "ATT", "ATC", "ATO")


def estimand_weights(e: np.ndarray, t: np.ndarray, estimand: str) -> np.ndarray:
    """The unnormalised weights of an estimand (see the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> estimand_weights(np.array([0.25, 0.25]), np.array([1, 0]), "ATE").tolist()
    [4.0, 1.3333333333333333]
    """
    e = np.asarray(e, dtype=float)
    t = np.asarray(t, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if estimand == "ATE":
            return t / e + (1 - t) / (1 - e)
        if estimand == "ATT":
            return t + (1 - t) * e / (1 - e)
        if estimand == "ATC":
            return t * (1 - e) / e + (1 - t)
        if estimand == "ATO":
            return t * (1 - e) + (1 - t) * e
    raise CalcstatsError(f"estimand must be one of {ESTIMANDS}, got {estimand!r}.")


def kish_ess(w: np.ndarray) -> float:
    """Kish's effective sample size (Σw)²/Σw² (NaN for no weights).

    Examples
    --------
    >>> kish_ess(np.array([1.0, 1.0, 2.0]))
    2.6666666666666665
    """
    w = np.asarray(w, dtype=float)
    s2 = float(np.sum(w * w))
    return float(np.sum(w) ** 2 / s2) if s2 > 0 else float("nan")


@dataclass(frozen=True)
class Trim:
    """What weight trimming (truncation) did.

    Attributes
    ----------
    rule : {"quantile", "cap"}
        ``trim`` was a quantile of all weights (pooled over both groups) or a fixed cap.
    quantile : float or None
        The quantile (``rule == "quantile"``).
    cap : float
        Weights above this value were set to it.
    n_trimmed, n_trimmed_treated, n_trimmed_control : int
        Units whose weight was lowered, in all and per group.
    max_before : float
        The largest weight before trimming.
    """

    rule: str
    quantile: float | None
    cap: float
    n_trimmed: int
    n_trimmed_treated: int
    n_trimmed_control: int
    max_before: float

    def describe(self) -> str:
        """One sentence for a methods section.

        Examples
        --------
        >>> print(Trim("quantile", 0.99, 12.5, 7, 5, 2, 40.1).describe())
        ... # doctest: +NORMALIZE_WHITESPACE
        Weights above the 99th percentile (12.5) were set to it: 7 units (5 treated,
        2 controls); the largest weight was 40.1.
        """
        what = (
            f"the {_ordinal(self.quantile)} percentile ({self.cap:.3g})"
            if self.rule == "quantile"
            else f"{self.cap:.3g}"
        )
        units = "unit" if self.n_trimmed == 1 else "units"
        controls = "control" if self.n_trimmed_control == 1 else "controls"
        return (
            f"Weights above {what} were set to it: {self.n_trimmed} {units} "
            f"({self.n_trimmed_treated} treated, {self.n_trimmed_control} {controls}); "
            f"the largest weight was {self.max_before:.3g}."
        )


def _ordinal(q: float | None) -> str:
    pct = 100 * float(q or 0)
    text = f"{pct:.10g}"
    if text.endswith(("11", "12", "13")):
        return text + "th"
    return text + {"1": "st", "2": "nd", "3": "rd"}.get(text[-1], "th")


def trim_weights(w: np.ndarray, t: np.ndarray, trim: float) -> tuple[np.ndarray, Trim]:
    """Cap ``w`` from above (``trim`` < 1: pooled type-7 quantile; ≥ 1: fixed cap).

    Examples
    --------
    >>> w, rec = trim_weights(np.array([1.0, 2.0, 50.0]), np.array([1, 0, 1]), 10)
    >>> w.tolist(), rec.n_trimmed
    ([1.0, 2.0, 10.0], 1)
    """
    w = np.asarray(w, dtype=float)
    t = np.asarray(t)
    if trim < 1:
        cap, rule, q = float(np.quantile(w, trim)), "quantile", float(trim)
    else:
        cap, rule, q = float(trim), "cap", None
    hit = w > cap
    out = np.where(hit, cap, w)
    rec = Trim(
        rule=rule,
        quantile=q,
        cap=cap,
        n_trimmed=int(hit.sum()),
        n_trimmed_treated=int((hit & (t == 1)).sum()),
        n_trimmed_control=int((hit & (t == 0)).sum()),
        max_before=float(w.max()) if w.size else float("nan"),
    )
    return out, rec


@dataclass(frozen=True)
class Weighting:
    """Weights for one estimand and what was done to them.

    Attributes
    ----------
    weights : pandas.Series
        One weight per row of the data (index as the data; NaN for rows the propensity
        model could not use).
    estimand : str
    stabilized : bool
    stabilization : tuple of float or None
        (P(T = 1), P(T = 0)) used to stabilise.
    trim : Trim or None
        What trimming did (None: no trimming asked for).
    """

    weights: pd.Series
    estimand: str
    stabilized: bool
    stabilization: tuple[float, float] | None
    trim: Trim | None
    treated: pd.Series

    @property
    def ess(self) -> pd.Series:
        """Kish's effective sample size per group (index ``treated``, ``control``)."""
        w = self.weights.to_numpy(dtype=float)
        t = self.treated.to_numpy(dtype=float)
        ok = ~np.isnan(w)
        return pd.Series(
            {"treated": kish_ess(w[ok & (t == 1)]), "control": kish_ess(w[ok & (t == 0)])},
            name="ess",
        )

    def summary(self) -> pd.DataFrame:
        """Per group: ``group, n, sum_weights, mean, min, max, ess``."""
        w = self.weights.to_numpy(dtype=float)
        t = self.treated.to_numpy(dtype=float)
        rows = []
        for name, g in (("treated", 1), ("control", 0)):
            x = w[(t == g) & ~np.isnan(w)]
            rows.append(
                {
                    "group": name,
                    "n": int(x.size),
                    "sum_weights": float(x.sum()),
                    "mean": float(x.mean()) if x.size else np.nan,
                    "min": float(x.min()) if x.size else np.nan,
                    "max": float(x.max()) if x.size else np.nan,
                    "ess": kish_ess(x),
                }
            )
        return pd.DataFrame(rows)

    def describe(self) -> str:
        """What the weights are, in a sentence or two (for a methods section)."""
        names = {
            "ATE": "average treatment effect (ATE)",
            "ATT": "average treatment effect in the treated (ATT)",
            "ATC": "average treatment effect in the controls (ATC)",
            "ATO": "overlap population (ATO, overlap weights)",
        }
        text = f"Propensity-score weights for the {names[self.estimand]}"
        text += ", stabilised by the marginal treatment probabilities." if self.stabilized else "."
        if self.trim is not None:
            text += " " + self.trim.describe()
        return text
