"""Propensity scores: the logistic model of treatment, its weights and a positivity check.

:func:`propensity` fits P(treatment = 1 | covariates) with :func:`calcstats.logistic` (so
splines, factors and interactions work as in any model) and returns a
:class:`PropensityResult`: the scores, the weights of the chosen estimand
(:mod:`calcstats.causal._weights`), Kish's effective sample sizes and a positivity check.

Positivity (overlap) check
--------------------------
Inverse-probability weights need every unit to have had a real chance of either
treatment. Positivity is reported as doubtful (``result.positivity.doubtful``, and a
:class:`~calcstats.DataWarning`) when

1. for ATE, ATT or ATC, a raw weight (not stabilised, not trimmed) exceeds 20: one unit
   stands for more than 20 — a treated unit with a score below 1/21 ≈ 0.048 (ATE,
   ATC) or a control with a score above 20/21 ≈ 0.952 (ATE, ATT); or
2. more than 10% of the units that matter for the estimand lie outside the common
   support, the score range where both groups have units ([max of the two minima, min
   of the two maxima]): all units for ATE and ATO, the treated for ATT, the controls
   for ATC.

Overlap weights (ATO) are bounded by 1 and give units near the edges of the support
almost no weight; they need no more than scores strictly between 0 and 1, so no rule
fires for them (the record is still filled in). The thresholds are conventions, not
tests: look at :func:`calcstats.plot.overlap`. Remedies: overlap
weights (``estimand="ATO"``), trimming (``weights(trim=0.99)``), or restricting the
cohort to the common support — each changes the population the effect refers to.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from calcstats._errors import ConvergenceError, DataError, DataWarning, user_stacklevel
from calcstats._validation import (
    BOOLEAN,
    NONE,
    Constraint,
    Interval,
    Options,
    require_columns,
    validate_params,
)
from calcstats.causal._weights import (
    ESTIMANDS,
    Weighting,
    estimand_weights,
    kish_ess,
    trim_weights,
)
from calcstats.labels import Labels
from calcstats.results import Result

if TYPE_CHECKING:
    from calcstats.regression import LogisticResult

__all__ = ["Positivity", "PropensityResult", "propensity"]

#: a raw weight above this makes positivity doubtful (rule 1)
LARGE_WEIGHT = 20.0
#: more than this share of the relevant units outside the common support (rule 2)
MAX_OUTSIDE_SHARE = 0.10

_TRIM: list[Constraint] = [NONE, Interval(0.5, 1, closed="left"), Interval(1, None)]


@dataclass(frozen=True)
class Positivity:
    """The positivity (overlap) check of a propensity model (rules in :mod:`._propensity`).

    Attributes
    ----------
    doubtful : bool
        At least one rule fired.
    reasons : tuple of str
        The rules that fired, in words.
    support : tuple of float
        The common support (lowest and highest score where both groups have units).
    n_outside_treated, n_outside_control : int
        Units outside the common support, per group.
    share_outside : float
        Share of the units that matter for the estimand outside the common support.
    max_weight : float
        The largest raw weight of the estimand.
    n_large_weights : int
        Units whose raw weight exceeds 20.
    """

    doubtful: bool
    reasons: tuple[str, ...]
    support: tuple[float, float]
    n_outside_treated: int
    n_outside_control: int
    share_outside: float
    max_weight: float
    n_large_weights: int


def _positivity(e: np.ndarray, t: np.ndarray, estimand: str) -> Positivity:
    e1, e0 = e[t == 1], e[t == 0]
    lo, hi = max(e1.min(), e0.min()), min(e1.max(), e0.max())
    out = (e < lo) | (e > hi)
    n_out_t, n_out_c = int((out & (t == 1)).sum()), int((out & (t == 0)).sum())
    if estimand == "ATT":
        share = n_out_t / len(e1)
        who = "treated units"
    elif estimand == "ATC":
        share = n_out_c / len(e0)
        who = "controls"
    else:
        share = (n_out_t + n_out_c) / len(e)
        who = "units"
    w = estimand_weights(e, t, estimand)
    ato = estimand == "ATO"
    large = 0 if ato else int((w > LARGE_WEIGHT).sum())
    reasons = []
    if large:
        reasons.append(
            f"{large} unit(s) have an {estimand} weight above {LARGE_WEIGHT:g} (largest "
            f"{w.max():.3g}): their propensity score is close to 0 (treated) or 1 (controls)"
        )
    if share > MAX_OUTSIDE_SHARE and not ato:
        reasons.append(
            f"{share:.1%} of the {who} lie outside the common support of the scores "
            f"[{lo:.3g}, {hi:.3g}] ({n_out_t} treated, {n_out_c} controls)"
        )
    return Positivity(
        doubtful=bool(reasons),
        reasons=tuple(reasons),
        support=(lo, hi),
        n_outside_treated=n_out_t,
        n_outside_control=n_out_c,
        share_outside=float(share),
        max_weight=float(w.max()),
        n_large_weights=large,
    )


class PropensityResult(Result):
    """Result of :func:`propensity`.

    Attributes
    ----------
    formula : str
        The propensity model, ``treatment ~ covariates``.
    treatment : str
        The treatment (the model's outcome).
    estimand : {"ATE", "ATT", "ATC", "ATO"}
        The estimand whose weights :meth:`weights` returns.
    model : LogisticResult
        The fitted :func:`calcstats.logistic` model (``model.tidy()``: odds ratios).
    scores : pandas.Series
        P(treatment = 1 | covariates) per row of the data (index as the data; NaN for rows
        the model could not use, e.g. a missing covariate).
    linear_predictor : pandas.Series
        logit(score), the distance :func:`calcstats.match` matches on.
    treated : pandas.Series
        The treatment as 0.0 / 1.0 (NaN for rows not analysed).
    n_dropped : int
        Rows the model could not use (their score and weight are NaN).
    positivity : Positivity
        The overlap check (rules in :mod:`calcstats.causal._propensity`).
    labels : Labels
    """

    def __init__(
        self,
        *,
        formula: str,
        treatment: str,
        estimand: str,
        model: LogisticResult,
        scores: pd.Series,
        linear_predictor: pd.Series,
        treated: pd.Series,
        n_dropped: int,
        labels: Labels | Mapping[str, str] | None,
    ) -> None:
        self.formula = formula
        self.treatment = treatment
        self.estimand = estimand
        self.model = model
        self.scores = scores
        self.linear_predictor = linear_predictor
        self.treated = treated
        self.n_dropped = n_dropped
        self.labels = Labels.coerce(labels)
        self.method = f"Propensity scores from logistic regression ({formula}); {estimand} weights"
        ok = scores.notna().to_numpy()
        self.positivity = _positivity(
            scores.to_numpy(dtype=float)[ok], treated.to_numpy(dtype=float)[ok], estimand
        )

    @validate_params({"stabilize": [BOOLEAN], "trim": _TRIM})
    def weighting(self, *, stabilize: bool = False, trim: float | None = None) -> Weighting:
        """The weights with a record of what was done (stabilisation, trimming).

        Parameters
        ----------
        stabilize : bool
            Multiply by the observed P(T = t) of the unit's group.
        trim : float, optional
            A number in [0.5, 1): weights above that quantile of all weights (pooled,
            type 7) are set to it; a number of 1 or more: a fixed cap. Applied after
            stabilisation.

        Returns
        -------
        Weighting
            ``weights`` (Series), ``trim`` (:class:`Trim`: cap and number of units
            trimmed per group), ``ess``, ``summary()``, ``describe()``.
        """
        ok = self.scores.notna().to_numpy()
        e = self.scores.to_numpy(dtype=float)[ok]
        t = self.treated.to_numpy(dtype=float)[ok]
        w = estimand_weights(e, t, self.estimand)
        factors = None
        if stabilize:
            p1 = float(t.mean())
            factors = (p1, 1 - p1)
            w = w * np.where(t == 1, p1, 1 - p1)
        record = None
        if trim is not None:
            w, record = trim_weights(w, t, float(trim))
        full = np.full(len(self.scores), np.nan)
        full[ok] = w
        series = pd.Series(full, index=self.scores.index, name=f"w_{self.estimand}")
        return Weighting(
            weights=series,
            estimand=self.estimand,
            stabilized=bool(stabilize),
            stabilization=factors,
            trim=record,
            treated=self.treated,
        )

    @validate_params({"stabilize": [BOOLEAN], "trim": _TRIM})
    def weights(self, stabilize: bool = False, trim: float | None = None) -> pd.Series:
        """Weights of the estimand, one per row of the data (NaN where no score).

        See :meth:`weighting` for the parameters and for the record of what trimming did.

        Examples
        --------
        >>> import calcstats as cs
        >>> pbc = cs.datasets.load_pbc().dropna(subset=["trt"])
        >>> ps = cs.propensity(pbc, "hepato ~ age + sex + albumin", estimand="ATE")
        >>> ps.weights().round(3).tolist()[:3]
        [1.214, 3.733, 2.774]
        >>> print(ps.weighting(trim=0.99).trim.describe())  # doctest: +NORMALIZE_WHITESPACE
        Weights above the 99th percentile (4.65) were set to it: 4 units (0 treated,
        4 controls); the largest weight was 11.7.
        """
        return self.weighting(stabilize=stabilize, trim=trim).weights

    @property
    def ess(self) -> pd.Series:
        """Kish's effective sample size of the (raw) weights per group (treated, control)."""
        return self.weighting().ess

    def tidy(self) -> pd.DataFrame:
        """Per group: ``group, n, score_mean, score_min, score_max, weight_max, ess``."""
        w = self.weights().to_numpy(dtype=float)
        e = self.scores.to_numpy(dtype=float)
        t = self.treated.to_numpy(dtype=float)
        rows = []
        for name, g in (("treated", 1), ("control", 0)):
            m = t == g
            rows.append(
                {
                    "group": name,
                    "n": int(m.sum()),
                    "score_mean": float(e[m].mean()),
                    "score_min": float(e[m].min()),
                    "score_max": float(e[m].max()),
                    "weight_max": float(w[m].max()),
                    "ess": kish_ess(w[m]),
                }
            )
        return pd.DataFrame(rows)


@validate_params({"estimand": [Options(*ESTIMANDS)]})
def propensity(
    data: pd.DataFrame,
    formula: str,
    *,
    estimand: str = "ATE",
    labels: Labels | dict[str, str] | None = None,
) -> PropensityResult:
    """Propensity scores from a logistic model of the treatment, and their weights.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per subject.
    formula : str
        ``"treatment ~ covariates"`` as in :func:`calcstats.logistic` (splines such as
        ``cr(age, df=3)``, factors ``C(etiology)`` and interactions work); the treatment
        must be 0/1 or boolean.
    estimand : {"ATE", "ATT", "ATC", "ATO"}
        Which weights :meth:`PropensityResult.weights` returns (formulas in
        :mod:`calcstats.causal._weights`): the average effect in everyone, in the
        treated, in the controls, or in the overlap population.
    labels : Labels or dict, optional
        Display labels the result keeps (used by :func:`calcstats.plot.overlap`).

    Returns
    -------
    PropensityResult
        ``scores``, ``weights(stabilize=False, trim=None)``, ``weighting()`` (with the
        trimming record), ``ess`` (Kish, per group), ``model`` (the logistic fit),
        ``positivity``.

    Warns
    -----
    DataWarning
        When positivity is doubtful (rules in :mod:`calcstats.causal._propensity`).

    Notes
    -----
    Standard errors of weighted analyses (robust sandwich or infinitesimal jackknife)
    treat the weights as known; they ignore that the scores were estimated. For the ATE
    this is conservative (the SEs are too large, Lunceford and Davidian 2004); for the
    ATT it can go either way. :func:`calcstats.bootstrap` repeats the whole chain
    (propensity model, weights, outcome model) to include that uncertainty.

    Examples
    --------
    >>> import calcstats as cs
    >>> pbc = cs.datasets.load_pbc().dropna(subset=["trt"])
    >>> ps = cs.propensity(pbc, "hepato ~ age + sex + albumin", estimand="ATE")
    >>> ps.scores.round(3).tolist()[:4]
    [0.824, 0.268, 0.639, 0.837]
    >>> ps.ess.round(1).to_dict()
    {'treated': 145.5, 'control': 116.4}
    """
    from calcstats.regression import logistic

    require_columns(data, {}, function="propensity")
    model = logistic(data, formula)
    design = model.design
    if not model.converged:
        raise ConvergenceError(
            f"propensity(): the logistic model {formula!r} did not converge or has "
            f"non-estimable terms ({', '.join(model.nonestimable) or 'all'}); the scores "
            "would be 0 or 1 for some units. Simplify the model or merge sparse levels."
        )
    fit = model.model
    rows = np.asarray(design.rows)
    e = np.full(len(data), np.nan)
    lp = np.full(len(data), np.nan)
    t = np.full(len(data), np.nan)
    e[rows] = fit.mu
    lp[rows] = fit.eta
    assert design.y is not None  # a logistic model has its outcome
    t[rows] = design.y.to_numpy(dtype=float)
    if (t[rows] == 1).sum() < 2 or (t[rows] == 0).sum() < 2:
        raise DataError(
            f"propensity(): {design.outcome!r} needs at least two treated and two control "
            "units among the analysed rows."
        )
    idx = data.index
    result = PropensityResult(
        formula=formula,
        treatment=str(design.outcome),
        estimand=estimand,
        model=model,
        scores=pd.Series(e, index=idx, name="propensity_score"),
        linear_predictor=pd.Series(lp, index=idx, name="logit_propensity_score"),
        treated=pd.Series(t, index=idx, name=str(design.outcome)),
        n_dropped=int(design.n_dropped),
        labels=labels,
    )
    if result.positivity.doubtful:
        warnings.warn(
            "propensity(): positivity is doubtful: "
            + "; ".join(result.positivity.reasons)
            + ". Look at cs.plot.overlap(ps); consider overlap weights (estimand='ATO'), "
            "trimming (ps.weights(trim=0.99)) or restricting the cohort to the common "
            "support, and say which population the effect then refers to.",
            DataWarning,
            stacklevel=user_stacklevel(),
        )
    return result
