"""Incidence rates and rate ratios of engine tables: events and person-time by aggregate.

The checks, the time bands (Stata ``stsplit``: bands (lo, hi], an open last band), the
exact Poisson and rate-ratio intervals and the result classes are those of
:mod:`calcstats.describe._incidence`; the events and person-time per group and band are
one aggregate query (a ``UNION ALL`` over the bands).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import CalcstatsError, DataError
from calcstats.describe._checks import as_list, check_columns
from calcstats.describe._incidence import (
    IncidenceRateResult,
    RateRatioResult,
    _level_str,
)
from calcstats.describe._intervals import (
    poisson_exact_interval,
    rate_ratio_exact,
    rate_ratio_wald,
)
from calcstats.describe._result import check_suppress
from calcstats.engine import EngineTable
from calcstats.engine._aggregate import first_rows, level_order, scalars
from calcstats.results import check_conf_level

__all__ = ["incidence_rate", "rate_ratio"]


def _bands(bands: Sequence[float]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Band edges and labels as :func:`calcstats.describe._incidence._split_bands`."""
    try:
        cuts = np.asarray(sorted(set(float(b) for b in bands)), dtype=float)
    except (TypeError, ValueError):
        raise CalcstatsError(f"bands must be a list of numbers, got {bands!r}.") from None
    if cuts.size == 0 or (cuts < 0).any() or not np.isfinite(cuts).all():
        raise CalcstatsError(f"bands must be finite, non-negative cut points, got {bands!r}.")
    if cuts[0] > 0:
        cuts = np.concatenate([[0.0], cuts])
    edges = np.concatenate([cuts, [np.inf]])
    lo, hi = edges[:-1], edges[1:]
    labels = [f"{a:g}–{b:g}" if np.isfinite(b) else f"≥{a:g}" for a, b in zip(lo, hi, strict=True)]
    return lo, hi, labels


def _checked(
    table: EngineTable, *, time: str, event: str, cause: int | None, by_cols: list[str]
) -> tuple[Any, Any, int | None]:
    """Time and event indicator expressions (the rules of ``check_time`` and
    ``event_indicator``), after the ``by`` checks."""
    shape = pd.DataFrame(columns=table.columns)
    check_columns(shape, [time], argument="time")
    check_columns(shape, [event], argument="event")
    check_columns(shape, by_cols, argument="by")
    e = table.full
    schema = e.schema()
    for arg, col in [("time", time), ("event", event), *[("by", c) for c in by_cols]]:
        x = e[col]
        miss = x.isnull() | x.isnan() if schema[col].is_floating() else x.isnull()
        n_miss = int(scalars(e, {"m": miss.cast("int64").sum()})["m"] or 0)
        if n_miss:
            raise DataError(
                f"{arg}: column {col!r} has {n_miss} missing value(s); rows with a missing "
                f"{arg} cannot be counted. Drop or impute them explicitly first, e.g. "
                f"data.dropna(subset=[{col!r}])."
            )
    for col in by_cols:
        kind = table.kinds.get(col)
        if isinstance(kind, tuple):
            present = set(e.select(col).distinct().to_pandas()[col])
            empty = [c for c in kind[1] if c not in present]
            if empty:
                raise DataError(
                    f"by: column {col!r} has level(s) {[str(x) for x in empty]} with no "
                    f"rows (empty group). Drop them with "
                    f"data[{col!r}].cat.remove_unused_categories(), or merge levels."
                )
    if not schema[time].is_numeric() or schema[time].is_boolean():
        raise DataError(
            f"time={time!r} must be numeric person-time (e.g. years), got dtype "
            f"{schema[time]}. Convert dates to durations first, e.g. with "
            "cohort.survival_table()."
        )
    t = e[time].cast("float64")
    got = scalars(e, {"neg": (t < 0).cast("int64").sum(), "inf": t.isinf().cast("int64").sum()})
    if got["neg"]:
        first = first_rows(table, lambda s: s[time].cast("float64") < 0, [time], limit=1)
        row = first["row"].iloc[0]
        raise DataError(
            f"time={time!r} has {got['neg']} negative value(s) (first at row "
            f"{'?' if pd.isna(row) else int(row)}: {float(first[time].iloc[0]):g}); "
            "person-time cannot be negative. Check the start/end dates of those rows."
        )
    if got["inf"]:
        raise DataError(f"time={time!r} has infinite values; person-time must be finite.")
    if schema[event].is_boolean():
        if cause not in (None, 1):
            raise DataError(f"cause={cause!r} given, but event={event!r} is boolean.")
        return t, e[event].cast("int64"), None
    if not schema[event].is_numeric():
        raise DataError(
            f"event={event!r} must hold 0/1 or integer codes (0 = censored, 1..k = cause), "
            f"got dtype {schema[event]}."
        )
    v = e[event].cast("float64")
    bad = e.filter((v < 0) | (v != v.round())).select(__v=v).distinct().limit(5).to_pandas()
    if len(bad):
        raise DataError(
            f"event={event!r} must hold 0/1 or integer codes (0 = censored, 1..k = "
            f"cause k); found {', '.join(repr(b) for b in bad['__v'].tolist())}."
        )
    codes = v.cast("int64")
    top = int(scalars(e, {"mx": codes.max()})["mx"] or 0)
    if cause is None:
        if top > 1:
            cause = 1
        else:
            return t, codes, None
    if not isinstance(cause, (int, np.integer)) or cause < 1:
        raise DataError(f"cause must be a positive integer event code, got {cause!r}.")
    n_cause = int(scalars(e, {"n": (codes == int(cause)).cast("int64").sum()})["n"] or 0)
    if not n_cause:
        present = sorted(set(e.select(__c=codes).distinct().to_pandas()["__c"]) - {0})
        raise DataError(
            f"cause={cause!r}: no row of event={event!r} has that code; codes present: {present}."
        )
    return t, (codes == int(cause)).cast("int64"), int(cause)


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


def incidence_rate(
    data: EngineTable,
    *,
    time: str,
    event: str,
    by: str | Sequence[str] | None = None,
    per: float = 1000,
    conf_level: float = 0.95,
    bands: Sequence[float] | None = None,
    cause: int | None = None,
    suppress_below: int | None = None,
) -> IncidenceRateResult:
    """:func:`calcstats.incidence_rate` of an engine table (same arguments and result)."""
    import ibis

    data = data.cached()
    level = check_conf_level(conf_level)
    check_suppress(suppress_below)
    if not np.isscalar(per) or not float(per) > 0:
        raise CalcstatsError(f"per must be a positive number (e.g. 1000), got {per!r}.")
    if len(data) == 0:
        raise DataError(
            "incidence_rate() received an empty DataFrame (0 rows); nothing to describe."
        )
    by_cols = as_list(by)
    t, d, used_cause = _checked(data, time=time, event=event, cause=cause, by_cols=by_cols)
    e = data.full
    base = e.select(*by_cols, __t=t, __d=d)
    if bands is not None:
        lo, hi, labels = _bands(bands)
        parts = []
        for j, (a, b) in enumerate(zip(lo, hi, strict=True)):
            pt = (
                ibis.greatest(ibis.least(base["__t"], float(b)), float(a)) - float(a)
                if np.isfinite(b)
                else ibis.greatest(base["__t"], float(a)) - float(a)
            )
            inband = (
                (base["__t"] > float(a)) & (base["__t"] <= float(b))
                if np.isfinite(b)
                else base["__t"] > float(a)
            )
            if j == 0:
                inband = inband | (base["__t"] == 0)
            part = base.select(
                *by_cols,
                __band=ibis.literal(j).cast("int64"),
                __pt=pt,
                __ev=(inband & (base["__d"] == 1)).cast("int64"),
            )
            parts.append(part.filter(part["__pt"] > 0))
        rows = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
        gcols = [*by_cols, "__band"]
        agg = (
            rows.group_by(gcols)
            .agg(events=rows["__ev"].sum(), person_time=rows["__pt"].sum())
            .to_pandas()
        )
        agg = _sort_groups(agg, data, by_cols, band=True)
        agg.insert(
            len(by_cols),
            "band",
            pd.Categorical([labels[i] for i in agg["__band"]], categories=labels, ordered=True),
        )
        frame = agg.drop(columns="__band")
        gcols = [*by_cols, "band"]
    elif by_cols:
        agg = (
            base.group_by(by_cols)
            .agg(events=base["__d"].sum(), person_time=base["__t"].sum())
            .to_pandas()
        )
        frame = _sort_groups(agg, data, by_cols)
        gcols = by_cols
    else:
        got = scalars(base, {"events": base["__d"].sum(), "person_time": base["__t"].sum()})
        frame = pd.DataFrame(
            {"events": [int(got["events"] or 0)], "person_time": [float(got["person_time"] or 0.0)]}
        )
        gcols = []
    frame["events"] = frame["events"].astype(np.int64)
    frame["person_time"] = frame["person_time"].astype(float)
    if (frame["person_time"] <= 0).any():
        if gcols:
            bad = frame.loc[frame["person_time"] <= 0, gcols].to_dict("records")
            where, fix = f"in group(s) {bad}", "Check the time column or drop those groups."
        else:
            where, fix = f"in {time!r}", "Check the time column."
        raise DataError(
            f"incidence_rate: zero total person-time {where}; a rate needs positive "
            f"follow-up. {fix}"
        )
    lo_ci, hi_ci = poisson_exact_interval(frame["events"].to_numpy(), conf_level=level)
    scale = float(per) / frame["person_time"].to_numpy()
    frame["rate"] = frame["events"].to_numpy() * scale
    frame["conf_low"] = lo_ci * scale
    frame["conf_high"] = hi_ci * scale
    what = f"{event} = {used_cause}" if used_cause is not None else f"{event} events"
    text = (
        f"Rate of {what} per {float(per):,g} units of person-time (time column '{time}'; "
        f"per {float(per):,g} person-years when '{time}' is in years), with "
        f"{level:.0%} exact Poisson (Garwood) confidence interval."
    )
    if bands is not None:
        text += " Follow-up split into time bands (lo, hi] as Stata stsplit."
    return IncidenceRateResult(
        frame,
        by=gcols,
        method=text,
        conf_level=level,
        suppress_below=suppress_below,
        extra={"per": float(per), "cause": used_cause},
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
) -> RateRatioResult:
    """:func:`calcstats.rate_ratio` of an engine table (same arguments and result)."""
    level = check_conf_level(conf_level)
    if method not in ("exact", "wald"):
        raise CalcstatsError(f"method={method!r} is not supported; use 'exact' or 'wald'.")
    if not isinstance(by, str):
        raise CalcstatsError(f"rate_ratio takes one `by` column (a string), got {by!r}.")
    rates = incidence_rate(data, time=time, event=event, by=by, cause=cause, conf_level=level)
    counts = rates.tidy()[[by, "events", "person_time"]]
    levels = list(counts[by])
    if reference is None:
        ref_i = 0
    else:
        matches = [
            i
            for i, v in enumerate(levels)
            if v == reference or str(v) == str(reference) or _level_str(v) == str(reference)
        ]
        if not matches:
            raise DataError(
                f"reference={reference!r} is not a level of {by!r} present in the data; "
                f"levels: {[str(v) for v in levels]}."
            )
        ref_i = matches[0]
    if len(levels) < 2:
        raise DataError(f"rate_ratio needs at least two levels of {by!r}; found only {levels!r}.")
    x0 = float(counts["events"].iloc[ref_i])
    t0 = float(counts["person_time"].iloc[ref_i])
    fun = rate_ratio_exact if method == "exact" else rate_ratio_wald
    rows = []
    for i in range(len(levels)):
        if i == ref_i:
            rows.append((1.0, np.nan, np.nan, np.nan, True))
            continue
        x1 = float(counts["events"].iloc[i])
        t1 = float(counts["person_time"].iloc[i])
        rows.append((*fun(x1, t1, x0, t0, conf_level=level), False))
    est = pd.DataFrame(rows, columns=["estimate", "conf_low", "conf_high", "p_value", "reference"])
    frame = pd.concat([counts.reset_index(drop=True), est], axis=1)
    label = (
        "exact conditional (binomial) interval and p-value"
        if method == "exact"
        else "Wald interval on the log scale and z-test"
    )
    text = (
        f"Incidence rate ratio of {event} by {by} versus {by} = {levels[ref_i]}, with "
        f"{level:.0%} {label}."
    )
    return RateRatioResult(
        frame,
        by=[by],
        method=text,
        conf_level=level,
        extra={"reference": levels[ref_i], "method": method},
    )
