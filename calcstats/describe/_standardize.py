"""Direct standardisation of incidence rates (``incidence_rate(standardize=...)``).

The option has the shape of :func:`calcstats.prevalence`'s: ``{"by": <column>,
"weights": {level: weight, ...}}``, the standardising column and the standard-population
size or share of every level (normalised to sum 1). Within each group (and follow-up
band) the directly standardised rate is ``sum_k w_k d_k / T_k`` over the strata ``k``
with events ``d_k`` and person-time ``T_k``, with the Fay & Feuer (1997) gamma interval
(:func:`~calcstats.describe._intervals.fay_feuer_interval`, as R
``epitools::ageadjust.direct``).

:func:`standardized_rates` works from the events and person-time of each (group,
stratum), so the pandas path (a ``groupby``) and the engine path (an aggregate query)
share it.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import DataError, InvalidParameterError
from calcstats._validation import require_columns
from calcstats.describe._intervals import fay_feuer_interval

__all__ = ["STANDARDIZE", "check_standardize", "standardized_rates"]


class _Standardize:
    """Constraint of ``standardize=``: None or {"by": column, "weights": {level: w}} with
    finite weights >= 0 and a positive sum."""

    def accepts(self, value: object) -> bool:
        if value is None:
            return True
        if not isinstance(value, Mapping) or set(value) != {"by", "weights"}:
            return False
        weights = value["weights"]
        if not isinstance(value["by"], str) or not isinstance(weights, Mapping) or not weights:
            return False
        w = list(weights.values())
        if not all(isinstance(x, numbers.Real) and not isinstance(x, bool) for x in w):
            return False
        arr = np.asarray(w, dtype=float)
        return bool(np.all(np.isfinite(arr)) and np.all(arr >= 0) and arr.sum() > 0)

    def describe(self) -> str:
        return (
            "None or a dict {'by': <column>, 'weights': {level: weight, ...}} giving every "
            "level of the column a standard-population weight (finite, >= 0, positive sum)"
        )


#: the ``standardize=`` constraint of :func:`calcstats.incidence_rate`
STANDARDIZE = _Standardize()


def check_standardize(
    spec: Mapping[str, Any], columns: pd.Index, by_cols: list[str], *, bands: bool, function: str
) -> tuple[str, dict[Any, float]]:
    """The standardising column and its weights (normalised to sum 1), after checking
    that the column exists and is not a grouping column (``columns``: the data's)."""
    std_col = spec["by"]
    require_columns(
        pd.DataFrame(columns=columns), {"standardize['by']": std_col}, function=function
    )
    if std_col in by_cols or (bands and std_col == "band"):
        grouped = [*by_cols, *(["band"] if bands else [])]
        raise InvalidParameterError(
            f"The 'standardize' parameter of {function} must name a column other than the "
            f"grouping columns {grouped!r}; got {{'by': {std_col!r}}}. Standardise over a "
            "different column (e.g. an age group) or drop it from by=."
        )
    weights = {k: float(v) for k, v in spec["weights"].items()}
    total = sum(weights.values())
    return std_col, {k: v / total for k, v in weights.items()}


def _where(gcols: list[str], key: object) -> str:
    if not gcols:
        return "the data"
    key = key if isinstance(key, tuple) else (key,)
    values = [v.item() if isinstance(v, np.generic) else v for v in key]
    return f"group {dict(zip(gcols, values, strict=True))!r}"


def standardized_rates(
    frame: pd.DataFrame,
    *,
    gcols: list[str],
    std_col: str,
    weights: Mapping[Any, float],
    per: float,
    level: float,
    function: str,
) -> pd.DataFrame:
    """Directly standardised rates per group from the events and person-time of each
    (group, stratum).

    ``frame`` has the ``gcols``, ``std_col``, ``events`` and ``person_time`` (rows of
    present combinations). Returns one row per group: the ``gcols``, the group's crude
    ``events`` and ``person_time`` (all strata), and the standardised ``rate``,
    ``conf_low``, ``conf_high`` per ``per`` units of person-time.
    """
    present = pd.unique(frame[std_col])
    unknown = [v for v in present if v not in weights]
    if unknown:
        raise DataError(
            f"{function}(): standardize: column {std_col!r} has level(s) without a standard "
            f"weight: {sorted(map(str, unknown))} (weights were given for "
            f"{[str(k) for k in weights]}). Give every level a weight (0 to leave it out of "
            "the standardised rate), or recode the column."
        )
    used = [k for k, w in weights.items() if w > 0]
    w = np.array([weights[k] for k in used])
    groups = frame.groupby(gcols, observed=True, sort=True) if gcols else [((), frame)]
    est = []
    for key, g in groups:
        sums = g.groupby(std_col, observed=True)[["events", "person_time"]].sum()
        cells = zip(sums.index, sums["events"], sums["person_time"], strict=True)
        got = {k: (float(e), float(t)) for k, e, t in cells}
        pairs = [got.get(k, (0.0, 0.0)) for k in used]
        lacking = [str(k) for k, (_, t) in zip(used, pairs, strict=True) if not t > 0]
        if lacking:
            raise DataError(
                f"{function}(): standardize: {_where(gcols, key)} has no person-time in "
                f"stratum/strata {lacking} of {std_col!r}; a directly standardised rate needs "
                "person-time in every stratum with a weight. Merge strata, give them weight "
                "0, use wider follow-up bands, or drop the group."
            )
        d, t = np.array(pairs).T
        est.append(fay_feuer_interval(d, t, w, conf_level=level))
    if gcols:
        out = frame.groupby(gcols, observed=True, sort=True)[["events", "person_time"]].sum()
        out = out.reset_index()
    else:
        out = pd.DataFrame(
            {"events": [frame["events"].sum()], "person_time": [frame["person_time"].sum()]}
        )
    out["events"] = out["events"].astype(np.int64)
    out["person_time"] = out["person_time"].astype(float)
    rate, lo, hi = np.array(est, dtype=float).reshape(-1, 3).T * float(per)
    out["rate"] = rate
    out["conf_low"] = lo
    out["conf_high"] = hi
    return out
