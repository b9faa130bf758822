"""Prevalence (proportions) with binomial confidence intervals and direct standardisation.

Intervals: Wilson score (R ``prop.test(correct=FALSE)``), exact Clopper–Pearson (R
``binom.test``) and Jeffreys (``qbeta``). Direct standardisation weights stratum-specific
prevalences by a standard population; its interval is the Fay–Feuer gamma interval
(``epitools::ageadjust.direct``), which treats case counts as Poisson and is therefore
conservative for proportions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import DataError, InvalidParameterError
from calcstats._validation import (
    COLUMN,
    COLUMNS,
    CONF_LEVEL,
    NONE,
    Interval,
    Options,
    require_columns,
    validate_params,
)
from calcstats.describe._checks import as_binary, as_list, check_frame, group_keys
from calcstats.describe._intervals import (
    METHOD_LABELS,
    PROPORTION_METHODS,
    fay_feuer_interval,
    proportion_interval,
)
from calcstats.labels import Labels
from calcstats.results import EstimateResult

__all__ = ["PrevalenceResult", "prevalence"]


class PrevalenceResult(EstimateResult):
    """Prevalence by group (the result of :func:`prevalence`).

    ``tidy()`` columns are the ``by`` columns, then ``n, cases, estimate, conf_low,
    conf_high`` (proportions); ``to_table()`` gives the publication table (percentages,
    see :mod:`calcstats.tables`).

    Attributes
    ----------
    outcome : str
        The binary outcome column.
    interval : str
        The interval: ``"wilson"``, ``"exact"``, ``"jeffreys"`` or, for a directly
        standardised prevalence, ``"fay-feuer"``.
    standardize : str or None
        The column the prevalence was directly standardised over (None: crude).
    by, method, conf_level, labels, suppress_below
        As :class:`~calcstats.results.EstimateResult`.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        by: Sequence[str],
        method: str,
        conf_level: float,
        outcome: str,
        interval: str,
        standardize: str | None = None,
        labels: Labels | Mapping[str, str] | None = None,
        suppress_below: int | None = None,
    ) -> None:
        super().__init__(
            frame,
            by=by,
            method=method,
            conf_level=conf_level,
            labels=labels,
            suppress_below=suppress_below,
        )
        self.outcome = outcome
        self.interval = interval
        self.standardize = standardize


@validate_params(
    {
        "outcome": [COLUMN],
        "by": [COLUMNS, NONE],
        "method": [Options(*PROPORTION_METHODS)],
        "conf_level": [CONF_LEVEL],
        "suppress_below": [Interval(2, None, integer=True), NONE],
    }
)
def prevalence(
    data: pd.DataFrame,
    *,
    outcome: str,
    by: str | Sequence[str] | None = None,
    method: str = "wilson",
    conf_level: float = 0.95,
    standardize: Mapping[str, Any] | None = None,
    suppress_below: int | None = None,
    labels: Labels | Mapping[str, str] | None = None,
) -> PrevalenceResult:
    """Prevalence of a binary outcome, overall or by group, with a confidence interval.

    Parameters
    ----------
    data : DataFrame
        One row per patient.
    outcome : str
        Binary column (0/1 or bool). Missing values are an error (drop them explicitly).
    by : str or list of str, optional
        Grouping column(s); one row of results per combination present in the data
        (ordered Categoricals keep their order).
    method : {"wilson", "exact", "jeffreys"}
        Wilson score interval without continuity correction (R ``prop.test(correct=FALSE)``),
        exact Clopper–Pearson (R ``binom.test``), or Jeffreys (Beta(x+½, n−x+½) quantiles,
        limits 0 at x = 0 and 1 at x = n as Brown, Cai & DasGupta 2001).
    conf_level : float
        Confidence level, default 0.95.
    standardize : dict, optional
        Direct standardisation: ``{"by": "age_group", "weights": {"<40": 0.3, ...}}`` where
        ``weights`` maps every level of the standardising column to its standard-population
        size or share (normalised to sum 1). ``estimate`` is then the standardised
        prevalence and the interval the Fay–Feuer gamma interval; ``n`` and ``cases`` stay
        crude counts. Every level with weight must be present in each group. The
        standardised interval is always Fay–Feuer; ``method`` applies to crude prevalences.
    suppress_below : int, optional
        In ``to_table()``, hide counts 1..k−1 (with secondary suppression).
    labels : Labels or dict, optional
        Display labels of the columns and levels (kept as ``result.labels`` and used by
        ``to_table()`` over the schema's defaults).

    Returns
    -------
    PrevalenceResult
        ``.tidy()`` → by columns, ``n, cases, estimate, conf_low, conf_high`` (proportions);
        ``.to_table()`` → publication Table (percentages).

    Examples
    --------
    >>> import pandas as pd, calcstats as cs
    >>> df = pd.DataFrame({"calc": [1, 0, 0, 1, 1, 0], "sex": list("FFFMMM")})
    >>> res = cs.prevalence(df, outcome="calc", by="sex", method="exact")
    >>> res.tidy()["cases"].tolist()
    [1, 2]
    >>> res.to_table().cells[0][:3]
    ('Female', '3', '1')
    """
    data = check_frame(data, func="prevalence")
    labels = Labels.coerce(labels)
    level = float(conf_level)
    by_cols = as_list(by)
    require_columns(data, {"outcome": outcome}, function="prevalence")
    y = as_binary(data, outcome, argument="outcome")
    keys = group_keys(data, by_cols, func="prevalence")
    work = keys.assign(_y=y)
    common: dict[str, Any] = {
        "by": by_cols,
        "conf_level": level,
        "outcome": outcome,
        "labels": labels,
        "suppress_below": suppress_below,
    }
    if standardize is not None:
        frame, std_col = _standardized(work, data, by_cols, standardize, level)
        text = (
            f"Prevalence of {outcome} directly standardised by {std_col} to the given "
            f"standard population, with {level:.0%} Fay–Feuer gamma interval."
        )
        return PrevalenceResult(
            frame, method=text, interval="fay-feuer", standardize=std_col, **common
        )
    if by_cols:
        agg = work.groupby(by_cols, observed=True, sort=True)["_y"].agg(["size", "sum"])
        frame = agg.reset_index().rename(columns={"size": "n", "sum": "cases"})
    else:
        frame = pd.DataFrame({"n": [len(y)], "cases": [int(y.sum())]})
    frame = frame.astype({"n": np.int64, "cases": np.int64})
    lo, hi = proportion_interval(
        frame["cases"].to_numpy(), frame["n"].to_numpy(), method=method, conf_level=level
    )
    frame["estimate"] = frame["cases"] / frame["n"]
    frame["conf_low"] = lo
    frame["conf_high"] = hi
    text = f"Prevalence of {outcome} with {level:.0%} {METHOD_LABELS[method]}."
    return PrevalenceResult(frame, method=text, interval=method, **common)


def _standardized(
    work: pd.DataFrame,
    data: pd.DataFrame,
    by_cols: list[str],
    spec: Mapping[str, Any],
    level: float,
) -> tuple[pd.DataFrame, str]:
    """Directly standardised prevalences per group and the standardising column."""
    if not isinstance(spec, Mapping) or set(spec) != {"by", "weights"}:
        raise InvalidParameterError(
            "The 'standardize' parameter of prevalence must be a dict {'by': <column>, "
            f"'weights': {{level: weight, ...}}}} or None. Got {spec!r}."
        )
    std_col = spec["by"]
    require_columns(data, {"standardize['by']": std_col}, function="prevalence")
    if std_col in by_cols:
        raise InvalidParameterError(
            f"The 'standardize' parameter of prevalence must name a column other than the "
            f"`by` columns. Got {{'by': {std_col!r}}}, which is also in by={by_cols!r}."
        )
    weights = pd.Series(dict(spec["weights"]), dtype=float)
    if (weights < 0).any() or weights.sum() <= 0:
        raise DataError("standardize['weights'] must be non-negative with a positive sum.")
    strata = data[std_col]
    unknown = set(pd.unique(strata.dropna())) - set(weights.index)
    if unknown or strata.isna().any():
        raise DataError(
            f"standardize: column {std_col!r} has level(s) without a standard weight: "
            f"{sorted(map(str, unknown)) or ['<missing>']}. Give every level a weight."
        )
    work = work.assign(_s=strata.to_numpy())
    groups = work.groupby(by_cols, observed=True, sort=True) if by_cols else [((), work)]
    rows = []
    for key, g in groups:
        cnt = g.groupby("_s", observed=True)["_y"].agg(["size", "sum"])
        cnt = cnt.reindex(weights.index)
        missing = cnt.index[cnt["size"].isna() & (weights > 0).to_numpy()]
        if len(missing):
            raise DataError(
                f"standardize: group {key!r} has no rows in stratum/strata "
                f"{list(map(str, missing))} of {std_col!r}; a directly standardised "
                "prevalence needs every weighted stratum. Merge strata or drop the group."
            )
        keep = weights > 0
        est, lo, hi = fay_feuer_interval(
            cnt["sum"][keep].to_numpy(),
            cnt["size"][keep].to_numpy(),
            weights[keep].to_numpy(),
            conf_level=level,
        )
        key = key if isinstance(key, tuple) else (key,)
        rows.append((*key, len(g), int(g["_y"].sum()), est, lo, hi))
    frame = pd.DataFrame(
        rows, columns=[*by_cols, "n", "cases", "estimate", "conf_low", "conf_high"]
    )
    return frame, std_col
