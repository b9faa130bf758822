"""Incidence rates and rate ratios of engine tables: events and person-time by aggregate.

The checks (the grouping columns as :func:`~calcstats.describe._checks.group_keys`, the
time and event columns by the shared survival rules of
:func:`calcstats._engine_input.engine_input`), the time bands (Stata ``stsplit``: bands
(lo, hi], an open last band; :func:`~calcstats.describe._bands.band_edges`) and what
follows the counts (:func:`~calcstats.describe._incidence.rate_result`,
:func:`~calcstats.describe._incidence.rate_ratio_result`) are the pandas path's; the
events and person-time per group and band are one aggregate query (a ``UNION ALL`` over
the bands). With ``standardize=`` the query also groups by the standardising column and the
directly standardised rates come from the pandas path's
:func:`~calcstats.describe._standardize.standardized_rates`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from calcstats._engine_input import engine_input
from calcstats._validation import require_columns
from calcstats.describe._bands import band_edges
from calcstats.describe._checks import (
    as_list,
    empty_error,
    empty_levels_error,
    missing_error,
)
from calcstats.describe._incidence import (
    IncidenceRateResult,
    RateRatioResult,
    rate_ratio_result,
    rate_result,
)
from calcstats.describe._standardize import check_standardize
from calcstats.engine import EngineTable
from calcstats.engine._aggregate import level_order, scalars
from calcstats.labels import Labels

__all__ = ["check_groups", "incidence_rate", "rate_ratio"]


def check_groups(
    table: EngineTable,
    by: list[str],
    *,
    argument: str = "by",
    func: str,
    empty_levels: bool = True,
) -> None:
    """:func:`~calcstats.describe._checks.group_keys` of an engine table: the columns
    exist, have no missing values and (Categoricals, unless ``empty_levels=False``) no
    level without rows."""
    require_columns(pd.DataFrame(columns=table.columns), {argument: by}, function=func)
    if not by:
        return
    e = table.full
    schema = e.schema()

    def missing(col: str) -> Any:
        x = e[col]
        return (x.isnull() | x.isnan()) if schema[col].is_floating() else x.isnull()

    got = scalars(e, {f"m{i}": missing(c).cast("int64").sum() for i, c in enumerate(by)})
    for i, col in enumerate(by):
        if got[f"m{i}"]:
            raise missing_error(col, int(got[f"m{i}"]), argument=argument)
    for col in by if empty_levels else []:
        kind = table.kinds.get(col)
        if isinstance(kind, tuple):
            present = set(e.select(col).distinct().to_pandas()[col])
            empty = [c for c in kind[1] if c not in present]
            if empty:
                raise empty_levels_error(col, empty, argument=argument)


def _sort_groups(
    frame: pd.DataFrame, table: EngineTable, cols: list[str], *, band: bool = False
) -> pd.DataFrame:
    """Rows in pandas' ``groupby(sort=True)`` order (a Categorical's own order), then by
    band."""
    keys = []
    for c in cols:
        levels = level_order(list(dict.fromkeys(frame[c].tolist())), table.kinds.get(c))
        rank = {v: i for i, v in enumerate(levels)}
        keys.append(frame[c].map(rank).to_numpy())
    if band:
        keys.append(frame["__band"].to_numpy())
    order = np.lexsort(keys[::-1]) if keys else np.arange(len(frame))
    out = frame.iloc[order].reset_index(drop=True)
    for c in cols:
        kind = table.kinds.get(c)
        if isinstance(kind, tuple):
            out[c] = pd.Categorical(out[c], categories=list(kind[1]), ordered=True)
    return out


def _counts(
    table: EngineTable,
    *,
    time: str,
    event: str,
    by_cols: list[str],
    bands: Sequence[float] | None,
    cause: int | None,
    function: str,
    stratum: str | None = None,
) -> tuple[pd.DataFrame, list[str], list[float] | None, int | None]:
    """Events and person-time per group (and band) by one aggregate query: the frame,
    its group columns, the band cut points and the cause counted. With ``stratum`` (the
    standardising column, checked here for missing values) the frame has a row per
    (group, band, stratum) and the column after the group columns."""
    import ibis

    check_groups(table, by_cols, func=function)
    group_cols = by_cols
    if stratum is not None:
        check_groups(
            table, [stratum], argument="standardize['by']", func=function, empty_levels=False
        )
        group_cols = [*by_cols, stratum]
    ei = engine_input(table, time=time, event=event, cause=cause, function=function)
    e = ei.expr
    base = e.select(*group_cols, __t=e["__t"], __d=e["__ev"].cast("int64"))
    if bands is None:
        if not group_cols:
            got = scalars(base, {"events": base["__d"].sum(), "person_time": base["__t"].sum()})
            frame = pd.DataFrame(
                {"events": [int(got["events"] or 0)], "person_time": [float(got["person_time"])]}
            )
            return frame, [], None, ei.cause
        agg = base.group_by(group_cols).agg(events=base["__d"].sum(), person_time=base["__t"].sum())
        return _sort_groups(agg.to_pandas(), table, group_cols), by_cols, None, ei.cause
    lo, hi, labels, cuts = band_edges(bands)
    parts = []
    for j, (a, b) in enumerate(zip(lo, hi, strict=True)):
        t = base["__t"]
        finite = bool(np.isfinite(b))
        upto = ibis.least(t, float(b)) if finite else t
        pt = ibis.greatest(upto, float(a))
        inband = ((t > float(a)) & (t <= float(b))) if finite else (t > float(a))
        if j == 0:
            inband = inband | (t == 0)
        part = base.select(
            *group_cols,
            __band=ibis.literal(j).cast("int64"),
            __pt=pt - float(a),
            __ev=(inband & (base["__d"] == 1)).cast("int64"),
        )
        parts.append(part.filter(part["__pt"] > 0))
    rows = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
    gcols = [*group_cols, "__band"]
    agg = rows.group_by(gcols).agg(events=rows["__ev"].sum(), person_time=rows["__pt"].sum())
    frame = _sort_groups(agg.to_pandas(), table, group_cols, band=True)
    frame.insert(
        len(by_cols),
        "band",
        pd.Categorical([labels[i] for i in frame["__band"]], categories=labels, ordered=True),
    )
    return frame.drop(columns="__band"), [*by_cols, "band"], cuts, ei.cause


def incidence_rate(
    data: EngineTable,
    *,
    time: str,
    event: str,
    by: str | Sequence[str] | None = None,
    per: float = 1000,
    conf_level: float = 0.95,
    bands: Sequence[float] | None = None,
    standardize: Mapping[str, Any] | None = None,
    cause: int | None = None,
    suppress_below: int | None = None,
    labels: Labels | Mapping[str, str] | None = None,
) -> IncidenceRateResult:
    """:func:`calcstats.incidence_rate` of an engine table (same arguments and result;
    with ``standardize`` the events and person-time per (group, band, stratum) come from
    the engine and the standardised rates from the pandas path's
    :func:`~calcstats.describe._standardize.standardized_rates`)."""
    data = data.cached()
    if len(data) == 0:
        raise empty_error("incidence_rate")
    by_cols = as_list(by)
    std = None
    if standardize is not None:
        std = check_standardize(
            standardize,
            pd.Index(data.columns),
            by_cols,
            bands=bands is not None,
            function="incidence_rate",
        )
    frame, gcols, cuts, used = _counts(
        data,
        time=time,
        event=event,
        by_cols=by_cols,
        bands=bands,
        cause=cause,
        function="incidence_rate",
        stratum=std[0] if std is not None else None,
    )
    return rate_result(
        frame,
        gcols=gcols,
        time=time,
        event=event,
        per=float(per),
        level=float(conf_level),
        cuts=cuts,
        cause=used,
        suppress_below=suppress_below,
        labels=Labels.coerce(labels),
        function="incidence_rate",
        standardize=std,
    )


def rate_ratio(
    data: EngineTable,
    *,
    time: str,
    event: str,
    by: str,
    reference: object = None,
    method: str = "exact",
    conf_level: float = 0.95,
    cause: int | None = None,
    labels: Labels | Mapping[str, str] | None = None,
) -> RateRatioResult:
    """:func:`calcstats.rate_ratio` of an engine table (same arguments and result)."""
    data = data.cached()
    if len(data) == 0:
        raise empty_error("rate_ratio")
    labels = Labels.coerce(labels)
    level = float(conf_level)
    frame, gcols, _, used = _counts(
        data, time=time, event=event, by_cols=[by], bands=None, cause=cause, function="rate_ratio"
    )
    rates = rate_result(
        frame,
        gcols=gcols,
        time=time,
        event=event,
        per=1.0,
        level=level,
        cuts=None,
        cause=used,
        suppress_below=None,
        labels=labels,
        function="rate_ratio",
    )
    return rate_ratio_result(
        rates, by=by, reference=reference, method=method, level=level, labels=labels
    )
