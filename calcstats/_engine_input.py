"""The time/event/cause input check of :mod:`calcstats._survival_input`, for engine tables.

The same rules and messages as :func:`calcstats._survival_input.survival_input`, checked by
aggregate queries (a count per rule; the first offending rows only when a rule fails).
``row`` in a message is the 0-based position of the row in ``table.to_pandas()``. The
result, :class:`EngineInput`, holds no rows: it describes the analysed rows (an ibis
expression with the outcome as internal columns ``__t``, ``__start``, ``__code``,
``__ev``, ``__w``, group and stratum codes ``__g``, ``__st``) and the group and stratum
labels, for the aggregate queries of the statistics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import DataError, InvalidParameterError, SchemaError
from calcstats._validation import require_columns
from calcstats.engine import EngineTable
from calcstats.engine._aggregate import first_rows, grouped, level_order, scalars
from calcstats.engine._dispatch import rows_stay

__all__ = ["EngineInput", "check_weight_values", "engine_input", "group_codes"]


@dataclass
class EngineInput:
    """The analysed rows of a survival analysis on an engine table (no rows pulled)."""

    table: EngineTable
    expr: Any
    n: int
    cause: int | None
    codes: list[int]
    groups: pd.DataFrame
    by: list[str]
    strata: pd.DataFrame
    strata_columns: list[str]
    weighted: bool
    columns: dict[str, str | None] = field(default_factory=dict)
    n_zero_weight: int = 0

    @property
    def data(self) -> pd.DataFrame:
        """The analysed rows have no engine form (``expr`` is the engine table)."""
        raise rows_stay("The survival data")

    @property
    def n_groups(self) -> int:
        return len(self.groups)

    @property
    def n_strata(self) -> int:
        return len(self.strata)

    @property
    def time_column(self) -> str:
        return str(self.columns["time"])

    @property
    def event_column(self) -> str:
        return str(self.columns["event"])


def _names(value: str | Sequence[str] | None, what: str, function: str) -> list[str]:
    from calcstats._survival_input import as_names

    return as_names(value, what, function)


def _fail_first(table: EngineTable, pred: Any, column: str) -> tuple[str, Any]:
    """``(row text, value)`` of the first row where ``pred`` holds."""
    got = first_rows(table, pred, [column], limit=1)
    row = got["row"].iloc[0]
    return ("?" if pd.isna(row) else repr(int(row))), got[column].iloc[0]


def _missing(x: Any) -> Any:
    v = x.cast("float64")
    return v.isnull() | v.isnan()


def _numeric_metrics(e: Any, column: str, role: str, function: str, times: bool) -> dict[str, Any]:
    """Counts of the rows breaking the numeric rules of a column (one aggregate each)."""
    dtype = e.schema()[column]
    if not (dtype.is_numeric() or dtype.is_boolean()):
        raise SchemaError(
            f"{function}(): {role} column {column!r} must be numeric, found dtype {dtype}; "
            "convert it (e.g. pd.to_numeric) before the analysis."
        )
    x = e[column].cast("float64")
    miss = _missing(e[column])
    out = {f"{column}:miss": miss.cast("int64").sum()}
    if times:
        out[f"{column}:inf"] = (~miss & x.isinf()).cast("int64").sum()
        out[f"{column}:neg"] = (~miss & (x < 0)).cast("int64").sum()
    return out


def _numeric_raise(
    table: EngineTable, facts: dict[str, Any], column: str, role: str, function: str, times: bool
) -> None:
    """The pandas path's error for the first numeric rule ``column`` breaks."""

    def pred_of(kind: str):
        def pred(t: Any) -> Any:
            v = t[column].cast("float64")
            m = v.isnull() | v.isnan()
            return m if kind == "miss" else (~m & v.isinf()) if kind == "inf" else (~m & (v < 0))

        return pred

    if facts.get(f"{column}:miss"):
        row, _ = _fail_first(table, pred_of("miss"), column)
        raise DataError(
            f"{function}(): {role} column {column!r} has {facts[f'{column}:miss']} missing "
            f"value(s) (first at row {row}); drop or impute these rows before the analysis."
        )
    if times and facts.get(f"{column}:inf"):
        row, _ = _fail_first(table, pred_of("inf"), column)
        raise DataError(
            f"{function}(): {role} column {column!r} has {facts[f'{column}:inf']} infinite "
            f"value(s) (first at row {row}); follow-up times must be finite."
        )
    if times and facts.get(f"{column}:neg"):
        row, v = _fail_first(table, pred_of("neg"), column)
        raise DataError(
            f"{function}(): {role} column {column!r} has {facts[f'{column}:neg']} negative "
            f"value(s) (first: {float(v):g} at row {row}); times count from the index date "
            "and must be >= 0 — check the dates they were computed from."
        )


def check_weight_values(table: EngineTable, e: Any, weights: str, function: str) -> tuple[Any, int]:
    """The value rules of :func:`~calcstats._validation.check_weights` (finite, >= 0,
    some positive; weights present) by one aggregate query: ``e`` without the rows of
    weight 0, and their number."""
    w = e[weights].cast("float64")
    got = scalars(
        e,
        {
            "bad": (w.isinf() | (w < 0)).cast("int64").sum(),
            "pos": (w > 0).cast("int64").sum(),
            "zero": (w == 0).cast("int64").sum(),
        },
    )
    if got["bad"]:
        bad = first_rows(
            table,
            lambda t: t[weights].cast("float64").isinf() | (t[weights].cast("float64") < 0),
            [weights],
            limit=5,
        )
        raise DataError(
            f"{function}(): weights column {weights!r} must hold finite numbers >= 0; "
            f"{got['bad']} row(s) do not (rows {bad['row'].tolist()}: "
            f"{[float(v) for v in bad[weights]]}). Fix or drop those rows."
        )
    if not got["pos"]:
        raise DataError(
            f"{function}(): every weight in {weights!r} is zero, so no row contributes; "
            "check the weight column."
        )
    n_zero = int(got["zero"] or 0)
    if n_zero:
        e = e.filter(e[weights].cast("float64") > 0)
    return e, n_zero


def group_codes(
    table: EngineTable, expr: Any, names: list[str], what: str, function: str, code: str
) -> tuple[Any, pd.DataFrame]:
    """``expr`` with the 0-based code of each row's level combination (sorted levels, a
    Categorical's own order; combinations present only) as ``code``, and the labels."""
    import ibis

    if not names:
        return expr.mutate(**{code: ibis.literal(0).cast("int64")}), pd.DataFrame(index=range(1))
    combos = grouped(expr, names, {"__n": expr.count()}).drop(columns="__n")
    order = []
    for name in names:
        vals = combos[name].tolist()
        if expr.schema()[name].is_boolean():
            vals = [bool(v) for v in vals]
            combos[name] = vals
        levels = level_order(list(dict.fromkeys(vals)), table.kinds.get(name))
        rank = {v: i for i, v in enumerate(levels)}
        order.append(np.array([rank[v] for v in vals]))
    idx = np.lexsort(order[::-1])
    labels = combos.iloc[idx].reset_index(drop=True)
    keyed = labels.assign(**{code: np.arange(len(labels), dtype=np.int64)})
    schema = {n: expr.schema()[n] for n in names} | {code: "int64"}
    mt = ibis.memtable(
        keyed.rename(columns={n: f"__lv_{n}" for n in names}),
        schema={(f"__lv_{k}" if k in names else k): v for k, v in schema.items()},
    )
    cond = [expr[n] == mt[f"__lv_{n}"] for n in names]
    joined = expr.inner_join(mt, cond).drop(*[f"__lv_{n}" for n in names])
    for n in names:
        kind = table.kinds.get(n)
        if isinstance(kind, tuple):
            labels[n] = pd.Categorical(labels[n], categories=list(kind[1]), ordered=True)
    return joined, labels


def engine_input(
    table: EngineTable,
    *,
    time: str,
    event: str,
    function: str,
    cause: int | None = None,
    start: str | None = None,
    weights: str | None = None,
    by: str | Sequence[str] | None = None,
    strata: str | Sequence[str] | None = None,
    competing: bool = False,
) -> EngineInput:
    """Check the outcome columns of an engine table (the rules of ``survival_input``)."""
    import ibis

    by_names = _names(by, "by", function)
    strata_names = _names(strata, "strata", function)
    table = table.cached()
    require_columns(
        pd.DataFrame(columns=table.columns),
        {
            "time": time,
            "event": event,
            "start": start,
            "weights": weights,
            "by": by_names,
            "strata": strata_names,
        },
        function=function,
    )
    e = table.full
    n_zero = 0
    if weights is not None:
        # the order and messages of survival_input: missing weights, then check_weights
        dtype = e.schema()[weights]

        def missing(t: Any) -> Any:
            x = t[weights]
            return (x.isnull() | x.isnan()) if dtype.is_floating() else x.isnull()

        n_miss = int(scalars(e, {"m": missing(e).cast("int64").sum()})["m"] or 0)
        if n_miss:
            row, _ = _fail_first(table, missing, weights)
            raise DataError(
                f"{function}(): weights column {weights!r} has {n_miss} missing value(s) "
                f"(first at row {row}); give every row a weight."
            )
        if not (dtype.is_numeric() or dtype.is_boolean()):
            raise SchemaError(
                f"{function}(): weights column {weights!r} must be numeric; found dtype "
                f"{dtype}. Convert it with pd.to_numeric."
            )
        e, n_zero = check_weight_values(table, e, weights, function)
    # every rule of the outcome, group and strata columns in one aggregate query
    metrics: dict[str, Any] = {"n": e.count()}
    metrics.update(_numeric_metrics(e, time, "time", function, times=True))
    if start is not None:
        metrics.update(_numeric_metrics(e, start, "start", function, times=True))
        metrics["start>=time"] = (e[start] >= e[time]).fill_null(False).cast("int64").sum()
    metrics.update(_numeric_metrics(e, event, "event", function, times=False))
    ev = e[event].cast("float64")
    metrics["event:code"] = ((ev != ev.round()) | (ev < 0)).fill_null(False).cast("int64").sum()
    for name in [*by_names, *strata_names]:
        metrics[f"{name}:null"] = e[name].isnull().cast("int64").sum()
    facts = scalars(e, metrics)
    n = int(facts["n"])
    if n == 0:
        raise DataError(f"{function}(): the data have no rows; nothing to analyse.")
    _numeric_raise(table, facts, time, "time", function, times=True)
    if start is not None:
        _numeric_raise(table, facts, start, "start", function, times=True)
        if facts["start>=time"]:
            row, _ = _fail_first(table, lambda t: t[start] >= t[time], time)
            raise DataError(
                f"{function}(): {facts['start>=time']} row(s) have {start!r} >= {time!r} "
                f"(first at row {row}); each interval must have start < stop."
            )
    _numeric_raise(table, facts, event, "event", function, times=False)
    if facts["event:code"]:
        row, v = _fail_first(
            table,
            lambda t: (
                (t[event].cast("float64") != t[event].cast("float64").round())
                | (t[event].cast("float64") < 0)
            ),
            event,
        )
        raise DataError(
            f"{function}(): event column {event!r} must hold 0 (censored) and positive "
            f"integer event codes (or True/False), found {float(v):g} at row {row}."
        )
    for what, names in (("by", by_names), ("strata", strata_names)):
        for name in names:
            if facts[f"{name}:null"]:
                row, _ = _fail_first(table, lambda t, nm=name: t[nm].isnull(), name)
                raise DataError(
                    f"{function}(): {what} column {name!r} has {facts[f'{name}:null']} "
                    f"missing value(s) (first at row {row}); drop these rows or give them "
                    "their own level."
                )
    code = e[event].cast("float64").cast("int64")
    present = sorted(int(c) for c in e.select(__c=code).distinct().to_pandas()["__c"])
    if cause is None:
        if not competing and any(c > 1 for c in present):
            raise DataError(
                f"{function}(): event column {event!r} holds event codes {present}: more "
                "than one event type. Pass cause= (the code of the event of interest; other "
                "codes count as censored), or use cumulative_incidence for competing risks."
            )
        indicator = (code == 1) if not competing else (code > 0)
    else:
        if isinstance(cause, bool) or not isinstance(cause, int | np.integer):
            raise InvalidParameterError(
                f"The 'cause' parameter of {function} must be a positive integer event "
                f"code. Got {cause!r}."
            )
        if int(cause) < 1:
            raise InvalidParameterError(
                f"The 'cause' parameter of {function} must be a positive integer event code "
                f"(0 is the censoring code). Got {cause!r}."
            )
        if int(cause) not in present:
            raise DataError(
                f"{function}(): cause={int(cause)} does not occur in event column {event!r} "
                f"(codes present: {present}); pick one of the event codes in the data."
            )
        cause = int(cause)
        indicator = code == cause
    cols = {
        "__t": e[time].cast("float64"),
        "__code": code,
        "__ev": indicator.cast("float64"),
        "__w": e[weights].cast("float64")
        if weights is not None
        else ibis.literal(1).cast("float64"),
    }
    if start is not None:
        cols["__start"] = e[start].cast("float64")
    e = e.mutate(**cols)
    e, groups = group_codes(table, e, by_names, "by", function, "__g")
    e, strata_labels = group_codes(table, e, strata_names, "strata", function, "__st")
    return EngineInput(
        table=table,
        expr=e,
        n=n,
        cause=cause,
        codes=present,
        groups=groups,
        by=by_names,
        strata=strata_labels,
        strata_columns=strata_names,
        weighted=weights is not None,
        columns={"time": time, "event": event, "start": start, "weights": weights},
        n_zero_weight=n_zero,
    )
