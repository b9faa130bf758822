"""E-values for unmeasured confounding (VanderWeele & Ding, Ann Intern Med 2017).

For a risk ratio ``RR >= 1`` the E-value is ``RR + sqrt(RR (RR - 1))``; a protective
``RR < 1`` is inverted first. For the confidence interval the limit closer to 1 is used,
and its E-value is 1 when the interval covers 1. Odds and hazard ratios are converted to
the risk-ratio scale first: with a rare outcome (< ~15%) they are used as they are;
otherwise ``RR ~ sqrt(OR)`` and ``RR ~ (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR))``
(VanderWeele 2017; the R package EValue does the same).
"""

from __future__ import annotations

import math

import pandas as pd

from calcstats._errors import CalcstatsError
from calcstats._validation import BOOLEAN, NONE, Options, validate_params

__all__ = ["EValue", "evalue"]


class EValue:
    """E-values of a point estimate and of its confidence limit."""

    def __init__(
        self,
        measure: str,
        estimate: float,
        rr: float,
        point: float,
        limit: float | None,
        rr_limit: float | None,
        conversion: str,
    ) -> None:
        self.measure = measure
        self.estimate = estimate
        self.rr = rr
        self.point = point
        self.ci = limit
        self.rr_limit = rr_limit
        self.conversion = conversion

    def tidy(self) -> pd.DataFrame:
        """Rows ``point`` and ``ci``: the ratio on the RR scale and its E-value."""
        rows = [{"quantity": "point", "rr": self.rr, "e_value": self.point}]
        if self.ci is not None:
            rows.append({"quantity": "ci", "rr": self.rr_limit, "e_value": self.ci})
        return pd.DataFrame(rows, columns=["quantity", "rr", "e_value"])

    def __repr__(self) -> str:
        ci = "" if self.ci is None else f", CI limit E-value = {self.ci:.2f}"
        return (
            f"E-value ({self.measure} {self.estimate:g}; {self.conversion}): "
            f"point = {self.point:.2f}{ci}"
        )


def _e(rr: float) -> float:
    if rr < 1:
        rr = 1 / rr
    return rr + math.sqrt(rr * (rr - 1))


def _to_rr(x: float, measure: str, rare: bool | None) -> float:
    if measure == "RR" or rare:
        return x
    if measure == "OR":
        return math.sqrt(x)
    return (1 - 0.5 ** math.sqrt(x)) / (1 - 0.5 ** math.sqrt(1 / x))


@validate_params({"measure": [Options("RR", "OR", "HR")], "rare": [BOOLEAN, NONE]})
def evalue(
    estimate: float,
    conf_low: float | None = None,
    conf_high: float | None = None,
    *,
    measure: str = "RR",
    rare: bool | None = None,
) -> EValue:
    """E-value: the minimum strength of association (risk-ratio scale) an unmeasured
    confounder would need with both exposure and outcome to explain away an estimate.

    Parameters
    ----------
    estimate : float
        The ratio (RR, OR or HR), not its logarithm.
    conf_low, conf_high : float, optional
        Confidence limits; give both (or neither).
    measure : {"RR", "OR", "HR"}
    rare : bool, optional
        Required for OR and HR: whether the outcome is rare (< ~15%) at the end of
        follow-up; a rare outcome keeps the ratio as an RR, a common one is converted.

    Returns
    -------
    EValue
        ``.point`` and ``.ci`` (E-value of the limit closer to 1; 1 when the CI covers 1),
        ``.tidy()``.

    Examples
    --------
    >>> from calcstats.regression import evalue
    >>> e = evalue(3.9, 1.81, 8.7)          # VanderWeele & Ding (2017)
    >>> round(e.point, 2), round(e.ci, 2)
    (7.26, 3.02)
    """
    if measure != "RR" and rare is None:
        raise CalcstatsError(
            f"evalue(measure={measure!r}) needs rare=True (outcome < ~15% by end of follow-up: "
            f"the {measure} approximates the RR) or rare=False (the {measure} is converted)."
        )
    vals = [estimate, conf_low, conf_high]
    for name, v in zip(("estimate", "conf_low", "conf_high"), vals, strict=True):
        if v is not None and not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
            raise CalcstatsError(
                f"evalue(): {name} must be a positive finite ratio (not a log ratio), got {v!r}."
            )
    if (conf_low is None) != (conf_high is None):
        raise CalcstatsError("evalue(): give both conf_low and conf_high, or neither.")
    if conf_low is not None and conf_high is not None and not conf_low <= estimate <= conf_high:
        raise CalcstatsError(
            f"evalue(): the estimate {estimate} is not inside [{conf_low}, {conf_high}]."
        )
    if measure == "RR" or rare:
        conversion = "used as risk ratio"
    elif measure == "OR":
        conversion = "common outcome: RR = sqrt(OR)"
    else:
        conversion = "common outcome: RR = (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR))"
    rr = _to_rr(float(estimate), measure, rare)
    point = _e(rr)
    limit = rr_limit = None
    if conf_low is not None and conf_high is not None:  # both or neither (checked above)
        lo = _to_rr(float(conf_low), measure, rare)
        hi = _to_rr(float(conf_high), measure, rare)
        if lo <= 1 <= hi:
            rr_limit, limit = (lo if rr >= 1 else hi), 1.0
        elif rr > 1:
            rr_limit, limit = lo, _e(lo)
        else:
            rr_limit, limit = hi, _e(hi)
    return EValue(measure, float(estimate), rr, point, limit, rr_limit, conversion)
