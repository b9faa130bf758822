"""Aggregate queries shared by the statistics: grouped sums, levels, first offending rows.

Everything here returns small pandas objects (one row per group, per level, per distinct
time); the rows of the table never leave the engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from calcstats.engine._table import EngineTable

__all__ = ["first_rows", "grouped", "level_order", "levels", "scalars"]


def grouped(expr: Any, keys: Sequence[str], metrics: Mapping[str, Any]) -> pd.DataFrame:
    """``metrics`` per combination of ``keys`` (sorted by the keys), or one row without keys.

    Examples
    --------
    >>> import ibis, pandas as pd
    >>> t = ibis.memtable(pd.DataFrame({"g": ["b", "a", "b"], "x": [1.0, 2.0, 3.0]}))
    >>> grouped(t, ["g"], {"s": t.x.sum()}).to_dict("list")
    {'g': ['a', 'b'], 's': [2.0, 4.0]}
    """
    if keys:
        out = expr.group_by(list(keys)).agg(**metrics).order_by(list(keys)).to_pandas()
    else:
        out = expr.aggregate(**metrics).to_pandas()
    return _no_decimals(out.reset_index(drop=True), keys)


def _no_decimals(frame: pd.DataFrame, keep: Sequence[str] = ()) -> pd.DataFrame:
    """Numbers an engine returned as decimals (Spark types unsuffixed literals as
    DECIMAL) as floats."""
    for c in frame.columns:
        if (
            c not in keep
            and frame[c].dtype == object
            and len(frame)
            and any(isinstance(v, Decimal) for v in frame[c].head(10))
        ):
            frame[c] = pd.to_numeric(
                frame[c].map(lambda v: float(v) if isinstance(v, Decimal) else v)
            )
    return frame


def scalars(expr: Any, metrics: Mapping[str, Any]) -> dict[str, Any]:
    """One aggregate query, as a dict of Python values (None for missing)."""
    row = expr.aggregate(**metrics).to_pandas().iloc[0]
    return {
        k: (
            None
            if pd.isna(v)
            else v.item()
            if isinstance(v, np.generic)
            else float(v)
            if isinstance(v, Decimal)
            else v
        )
        for k, v in row.items()
    }


def level_order(values: Sequence[Any], kind: Any = None) -> list[Any]:
    """Levels in the pandas path's order: a Categorical's own, else sorted
    (``pandas.factorize(..., sort=True)``)."""
    if isinstance(kind, tuple) and kind[0] == "category":
        present = set(values)
        return [v for v in kind[1] if v in present]
    _, uniques = pd.factorize(pd.Series(list(values), dtype=object), sort=True)
    return list(uniques)


def levels(table: EngineTable, column: str) -> list[Any]:
    """Distinct non-missing values of ``column`` in the pandas path's order."""
    e = table.expr
    got = e.filter(e[column].notnull()).select(column).distinct().to_pandas()[column]
    vals = got.tolist()
    if table.kinds.get(column) == "bool" or e.schema()[column].is_boolean():
        vals = [bool(v) for v in vals]
    return level_order(vals, table.kinds.get(column))


def first_rows(
    table: EngineTable, predicate: Any, columns: Sequence[str] = (), limit: int = 5
) -> pd.DataFrame:
    """The first rows (in the table's order) where ``predicate`` holds: ``row`` is the
    0-based position in ``table.to_pandas()`` (missing when the table has no order)."""
    import ibis

    full = table.full
    if table.order:
        full = full.mutate(__pos=ibis.row_number().over(order_by=table.order))
    else:
        full = full.mutate(__pos=ibis.null().cast("int64"))
    sel = full.filter(predicate(full) if callable(predicate) else predicate)
    out = sel.select("__pos", *columns)
    if table.order:
        out = out.order_by("__pos")
    out = out.limit(limit).to_pandas().rename(columns={"__pos": "row"})
    return out
