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

from calcstats._errors import CalcstatsError, DataError
from calcstats.describe._checks import as_binary, as_list, check_columns, check_frame
from calcstats.describe._intervals import (
    METHOD_LABELS,
    PROPORTION_METHODS,
    fay_feuer_interval,
    proportion_interval,
)
from calcstats.describe._result import (
    DescriptiveResult,
    check_suppress,
    group_keys,
    suppress_rows,
)
from calcstats.results import check_conf_level

__all__ = ["PrevalenceResult", "prevalence"]


class PrevalenceResult(DescriptiveResult):
    """Prevalence by group: ``tidy()`` columns are the ``by`` columns, then
    ``n, cases, estimate, conf_low, conf_high``."""

    title = "Prevalence"

    def _suppress(self, body: pd.DataFrame, frame: pd.DataFrame, k: int):
        counts = np.column_stack([frame["cases"], frame["n"] - frame["cases"]])
        return suppress_rows(body, counts, ["Cases", None], k, total_column="N",
                             n_label_columns=max(1, len(self.by)))

    def _display(self, frame: pd.DataFrame, *, digits: int) -> pd.DataFrame:
        body = self._label_frame(frame)
        pct = self.conf_level * 100
        body["N"] = frame["n"].map(lambda v: f"{v:,.0f}")
        body["Cases"] = frame["cases"].map(lambda v: f"{v:,.0f}")
        est = frame["estimate"] * 100
        lo, hi = frame["conf_low"] * 100, frame["conf_high"] * 100
        body[f"Prevalence, % ({pct:g}% CI)"] = [
            _fmt_ci(e, a, b, digits - 1) for e, a, b in zip(est, lo, hi, strict=True)
        ]
        return body


def _fmt_ci(est: float, low: float, high: float, digits: int) -> str:
    from calcstats.tables import format_ci

    return format_ci(est, low, high, digits=max(digits, 0))


def prevalence(
    data: pd.DataFrame,
    *,
    outcome: str,
    by: str | Sequence[str] | None = None,
    method: str = "wilson",
    conf_level: float = 0.95,
    standardize: Mapping[str, Any] | None = None,
    suppress_below: int | None = None,
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

    Returns
    -------
    PrevalenceResult
        ``.tidy()`` → by columns, ``n, cases, estimate, conf_low, conf_high`` (proportions);
        ``.to_table()`` → publication Table (percentages).

    Examples
    --------
    >>> import pandas as pd, calcstats as cs
    >>> df = pd.DataFrame({"calc": [1, 0, 0, 1, 1, 0], "sex": list("FFFMMM")})
    >>> cs.prevalence(df, outcome="calc", by="sex", method="exact").tidy()["cases"].tolist()
    [1, 2]
    """
    data = check_frame(data, func="prevalence")
    level = check_conf_level(conf_level)
    check_suppress(suppress_below)
    if method not in PROPORTION_METHODS:
        raise CalcstatsError(
            f"method={method!r} is not supported; use one of "
            f"{', '.join(map(repr, PROPORTION_METHODS))}."
        )
    by_cols = as_list(by)
    check_columns(data, [outcome], argument="outcome")
    y = as_binary(data, outcome, argument="outcome")
    keys = group_keys(data, by_cols)
    work = keys.assign(_y=y)
    if standardize is not None:
        return _standardized(work, data, by_cols, standardize, level, outcome, suppress_below)
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
    return PrevalenceResult(
        frame, by=by_cols, method=text, conf_level=level, suppress_below=suppress_below,
        extra={"outcome": outcome, "interval": method},
    )


def _standardized(
    work: pd.DataFrame,
    data: pd.DataFrame,
    by_cols: list[str],
    spec: Mapping[str, Any],
    level: float,
    outcome: str,
    suppress_below: int | None,
) -> PrevalenceResult:
    if not isinstance(spec, Mapping) or set(spec) != {"by", "weights"}:
        raise CalcstatsError(
            "standardize must be a dict {'by': <column>, 'weights': {level: weight, ...}}, "
            f"got {spec!r}."
        )
    std_col = spec["by"]
    check_columns(data, [std_col], argument="standardize['by']")
    if std_col in by_cols:
        raise CalcstatsError(f"standardize['by']={std_col!r} cannot also be a `by` column.")
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
            cnt["sum"][keep].to_numpy(), cnt["size"][keep].to_numpy(),
            weights[keep].to_numpy(), conf_level=level,
        )
        key = key if isinstance(key, tuple) else (key,)
        rows.append((*key, len(g), int(g["_y"].sum()), est, lo, hi))
    frame = pd.DataFrame(rows, columns=[*by_cols, "n", "cases", "estimate", "conf_low",
                                        "conf_high"])
    text = (
        f"Prevalence of {outcome} directly standardised "
        f"by {std_col} to the given standard population, with {level:.0%} Fay–Feuer gamma "
        "interval."
    )
    return PrevalenceResult(
        frame, by=by_cols, method=text, conf_level=level, suppress_below=suppress_below,
        extra={"outcome": outcome, "standardize": std_col, "interval": "fay-feuer"},
    )
