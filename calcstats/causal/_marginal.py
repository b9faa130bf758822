"""Marginal risk differences and risk ratios at fixed times, from two curves.

With inverse-probability weights, the Kaplan–Meier or Aalen–Johansen curve of each
treatment group estimates the risk the whole (ATE) population would have had under that
treatment; their difference and ratio at a time t are the marginal effects a results
section reports. The two groups are independent samples, so

* risk = 1 − S(t) for a survival curve, the cumulative incidence itself for a CIF;
* RD = r₁ − r₀, SE(RD) = sqrt(se₁² + se₀²), CI RD ± z·SE;
* RR = r₁/r₀ on the log scale: SE(log RR) = sqrt(se₁²/r₁² + se₀²/r₀²),
  CI exp(log RR ± z·SE);

with se the curves' standard errors of the risk (infinitesimal-jackknife with weights, as
R's ``survfit(..., weights=, id=)``). As all robust SEs, they treat the weights as known
(conservative for the ATE); :func:`calcstats.bootstrap` includes the propensity model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from calcstats._errors import DataError, SchemaError
from calcstats._validation import CONF_LEVEL, NUMBERS, validate_params
from calcstats.labels import Labels
from calcstats.results import EstimateResult

__all__ = ["MARGINAL_COLUMNS", "MarginalRiskResult", "marginal_risks"]

MARGINAL_COLUMNS = [
    "time",
    "risk_treated",
    "se_treated",
    "risk_control",
    "se_control",
    "risk_difference",
    "rd_std_error",
    "rd_conf_low",
    "rd_conf_high",
    "risk_ratio",
    "log_rr_std_error",
    "rr_conf_low",
    "rr_conf_high",
]


class MarginalRiskResult(EstimateResult):
    """Result of :func:`marginal_risks`: one row per time (columns ``MARGINAL_COLUMNS``).

    Attributes
    ----------
    treatment : str
        The curve's grouping column.
    treated, control : object
        Its values taken as treated and control.
    measure : str
        What the risk is ("1 − Kaplan–Meier", "cumulative incidence").
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        treatment: str,
        treated: Any,
        control: Any,
        measure: str,
        method: str,
        conf_level: float,
        labels: Labels | Mapping[str, str] | None,
    ) -> None:
        super().__init__(frame, by=[], method=method, conf_level=conf_level, labels=labels)
        self.treatment = treatment
        self.treated = treated
        self.control = control
        self.measure = measure

    def inline(self, time: float, *, scale: float = 100.0, digits: int = 1) -> str:
        """The fragment a results section prints, at one of the result's times.

        E.g. ``"RD -9.4 (95% CI -19.3 to 0.5) percentage points; RR 0.82 (95% CI
        0.66–1.01)"``; ``scale=100`` gives percentage points (``scale=1``: proportions).
        """
        from calcstats._format import format_number

        f = self._frame
        hit = np.isclose(f["time"].to_numpy(dtype=float), float(time))
        if not hit.any():
            raise DataError(f"inline(): time {time} is not among {f['time'].tolist()}.")
        r = f.loc[hit].iloc[0]
        lv = f"{self.conf_level:.0%}"
        unit = " percentage points" if scale == 100 else ""

        def n(v: float, d: int) -> str:
            return format_number(v, digits=d)

        return (
            f"RD {n(scale * r['risk_difference'], digits)} ({lv} CI "
            f"{n(scale * r['rd_conf_low'], digits)} to "
            f"{n(scale * r['rd_conf_high'], digits)}){unit}; RR {n(r['risk_ratio'], 2)} "
            f"({lv} CI {n(r['rr_conf_low'], 2)}–{n(r['rr_conf_high'], 2)})"
        )


@validate_params({"times": [NUMBERS], "conf_level": [CONF_LEVEL]})
def marginal_risks(
    curve: Any,
    *,
    times: float | Sequence[float],
    treated: Any = 1,
    control: Any = 0,
    conf_level: float = 0.95,
    labels: Labels | dict[str, str] | None = None,
) -> MarginalRiskResult:
    """Risk difference and risk ratio between two groups of a curve at given times.

    Formulas in :mod:`calcstats.causal._marginal`: SE(RD) = sqrt(se₁² + se₀²); the RR and
    its interval on the log scale. With weighted curves (``weights=`` in
    :func:`calcstats.kaplan_meier` / :func:`calcstats.cumulative_incidence`) these are
    the marginal (population-averaged) effects of the weights' estimand.

    Parameters
    ----------
    curve : CurveResult
        A survival (Kaplan–Meier: risk = 1 − S) or cumulative incidence curve (risk =
        CIF) with one grouping column, the treatment.
    times : float or list of float
        Times at which to compare (the curves' step-function values, as
        ``summary(fit, times=)``).
    treated, control : object
        The values of the grouping column taken as treated and as control.
    conf_level : float
    labels : Labels or dict, optional

    Returns
    -------
    MarginalRiskResult
        ``tidy()``: ``time, risk_treated, se_treated, risk_control, se_control,
        risk_difference, rd_std_error, rd_conf_low, rd_conf_high, risk_ratio,
        log_rr_std_error, rr_conf_low, rr_conf_high``; ``inline(time)``.
    """
    for attr in ("at", "by", "increasing"):
        if not hasattr(curve, attr):
            raise SchemaError(
                "marginal_risks() needs a curve result (cs.kaplan_meier or "
                f"cs.cumulative_incidence with by=treatment); got {type(curve).__name__}."
            )
    if len(curve.by) != 1:
        raise SchemaError(
            f"marginal_risks(): the curve must have exactly one grouping column (the "
            f"treatment); it has {curve.by or 'none'}."
        )
    col = curve.by[0]
    at = curve.at(times)
    present = list(pd.unique(at[col]))
    for role, value in (("treated", treated), ("control", control)):
        if value not in present:
            raise DataError(
                f"marginal_risks(): {role}={value!r} is not a group of {col!r} (groups: {present})."
            )
    one = at[at[col] == treated].reset_index(drop=True)
    zero = at[at[col] == control].reset_index(drop=True)
    r1, s1 = one["estimate"].to_numpy(dtype=float), one["std_error"].to_numpy(dtype=float)
    r0, s0 = zero["estimate"].to_numpy(dtype=float), zero["std_error"].to_numpy(dtype=float)
    if not curve.increasing:
        r1, r0 = 1 - r1, 1 - r0
    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    rd = r1 - r0
    se_rd = np.sqrt(s1**2 + s0**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        rr = r1 / r0
        se_lrr = np.sqrt(s1**2 / r1**2 + s0**2 / r0**2)
        lrr = np.log(rr)
        rr_lo, rr_hi = np.exp(lrr - z * se_lrr), np.exp(lrr + z * se_lrr)
    frame = pd.DataFrame(
        {
            "time": one["time"].to_numpy(dtype=float),
            "risk_treated": r1,
            "se_treated": s1,
            "risk_control": r0,
            "se_control": s0,
            "risk_difference": rd,
            "rd_std_error": se_rd,
            "rd_conf_low": rd - z * se_rd,
            "rd_conf_high": rd + z * se_rd,
            "risk_ratio": rr,
            "log_rr_std_error": se_lrr,
            "rr_conf_low": rr_lo,
            "rr_conf_high": rr_hi,
        },
        columns=MARGINAL_COLUMNS,
    )
    measure = "cumulative incidence" if curve.increasing else "1 − survival"
    method = (
        f"Risk ({measure}) difference and ratio, {col} = {treated!r} vs {control!r}; "
        "SE(RD) = sqrt(se1² + se0²), RR on the log scale (independent groups, "
        "weights treated as known)"
    )
    return MarginalRiskResult(
        frame,
        treatment=col,
        treated=treated,
        control=control,
        measure=measure,
        method=method,
        conf_level=float(conf_level),
        labels=Labels.coerce(getattr(curve, "labels", None)) | Labels.coerce(labels),
    )
