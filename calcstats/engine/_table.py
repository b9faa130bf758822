"""The engine-backed table: an ibis expression that stays in the engine until asked.

``cohort.patient_table()``, ``survival_table()`` and ``counting_process_table()`` of an
engine cohort return an :class:`EngineTable`: the same columns as the pandas path, nothing
computed until a statistic aggregates it or :meth:`EngineTable.to_pandas` pulls it. The
statistics recognise it with :func:`is_engine_table` and run their aggregate queries on
:attr:`EngineTable.expr`.

Columns whose name starts with ``__`` are internal (the source row that orders the
table, keys); they are neither listed in :attr:`columns` nor pulled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import SchemaError
from calcstats.engine._options import EngineOptions

__all__ = ["EngineTable", "is_engine_table", "restore_dtypes"]

#: pandas dtype of each canonical kind when a table is pulled
_KINDS = ("date", "bool", "boolean", "int", "float", "text", "category")


def is_engine_table(obj: object) -> bool:
    """Whether ``obj`` is an engine-backed table (or exposes one as ``engine_table``)."""
    return isinstance(obj, EngineTable)


def restore_dtypes(df: pd.DataFrame, kinds: Mapping[str, Any]) -> pd.DataFrame:
    """Give pulled columns the dtypes of the pandas path.

    ``kinds`` maps a column to ``"date"`` (datetime64[ns]), ``"bool"`` (bool, or the
    nullable ``boolean`` with missing values), ``"boolean"`` (always ``boolean``),
    ``"int"`` (int64 / ``Int64``), ``"float"``,
    ``"text"`` (object, None for missing) or ``("category", levels)`` (ordered;
    ``("category", levels, False)`` unordered).
    """
    out: dict[str, Any] = {}
    for name in df.columns:
        s = df[name]
        kind = kinds.get(name)
        if kind is None:
            out[name] = s
            continue
        if isinstance(kind, tuple) and kind[0] == "category":
            ordered = bool(kind[2]) if len(kind) > 2 else True
            out[name] = pd.Categorical(
                s.to_numpy(dtype=object), categories=list(kind[1]), ordered=ordered
            )
        elif kind == "date":
            out[name] = pd.to_datetime(s).astype("datetime64[ns]").to_numpy()
        elif kind == "bool":
            col = s.astype("boolean")
            out[name] = col.to_numpy(dtype=bool) if not col.isna().any() else col.array
        elif kind == "boolean":
            out[name] = s.astype("boolean").array
        elif kind == "int":
            col = s.astype("Int64")
            out[name] = col.to_numpy(dtype=np.int64) if not col.isna().any() else col.array
        elif kind == "float":
            out[name] = s.to_numpy(dtype=float, na_value=np.nan)
        elif kind == "text":
            vals = s.to_numpy(dtype=object)
            out[name] = np.where(pd.isna(vals), None, vals)
        else:  # pragma: no cover - guarded by the callers
            raise SchemaError(f"unknown column kind {kind!r}; one of {_KINDS}.")
    return pd.DataFrame(out, index=pd.RangeIndex(len(df)), copy=False)


class EngineTable:
    """A table computed inside an engine (DuckDB, Spark, ...), pulled only on request.

    Parameters
    ----------
    expr : ibis.Table
        The table, possibly with internal ``__``-prefixed columns.
    engine : str
        The backend's name (``"duckdb"``, ``"pyspark"``, ...).
    options : EngineOptions
        Limits of pulls and samples.
    kinds : dict, optional
        Column → kind, to give pulled columns the pandas path's dtypes
        (see :func:`restore_dtypes`).
    order : list of str, optional
        Columns (internal ones allowed) that give the row order of :meth:`to_pandas`.
    name : str, optional
        What the table is, for messages (``"survival table"``).

    Examples
    --------
    >>> import ibis, pandas as pd
    >>> t = EngineTable(ibis.memtable(pd.DataFrame({"__row": [1, 0], "x": [2.0, 1.0]})),
    ...                 engine="duckdb", options=EngineOptions(), order=["__row"])
    >>> t.columns, len(t), t.to_pandas()["x"].tolist()
    (['x'], 2, [1.0, 2.0])
    """

    def __init__(
        self,
        expr: Any,
        *,
        engine: str,
        options: EngineOptions,
        kinds: Mapping[str, Any] | None = None,
        order: Sequence[str] = (),
        name: str = "table",
        store: Callable[[Any], Any] | None = None,
    ) -> None:
        self._full = expr
        self.engine = engine
        self.options = options
        self.kinds = dict(kinds or {})
        self.order = list(order)
        self.name = name
        self._n: int | None = None
        self._store = store
        self._stored = False

    @classmethod
    def from_ibis(
        cls,
        expr: Any,
        *,
        options: Mapping[str, Any] | EngineOptions | None = None,
        name: str = "table",
    ) -> EngineTable:
        """An engine table over any ibis table (a warehouse table, a view, a query).

        Its rows have no order of their own, so messages give no row positions.

        Examples
        --------
        >>> import ibis, pandas as pd
        >>> t = EngineTable.from_ibis(ibis.duckdb.connect().create_table(
        ...     "st", pd.DataFrame({"time": [1.0, 2.0], "status": [1, 0]})))
        >>> t.engine, t.columns
        ('duckdb', ['time', 'status'])
        """
        from calcstats.engine._connect import backend_name

        return cls(
            expr,
            engine=backend_name(expr.get_backend()),
            options=EngineOptions.of(options),
            name=name,
        )

    # ------------------------------------------------------------------ the table
    @property
    def columns(self) -> list[str]:
        """Visible column names, in the pandas path's order."""
        return [c for c in self._full.columns if not c.startswith("__")]

    @property
    def expr(self) -> Any:
        """The ibis table of the visible columns (for aggregate queries)."""
        return self._full.select(self.columns)

    @property
    def full(self) -> Any:
        """The ibis table with the internal columns."""
        return self._full

    def with_expr(
        self, expr: Any, *, kinds: Mapping[str, Any] | None = None, name: str | None = None
    ) -> EngineTable:
        """A new table on another expression with these settings."""
        return EngineTable(
            expr,
            engine=self.engine,
            options=self.options,
            kinds=self.kinds if kinds is None else kinds,
            order=[c for c in self.order if c in expr.columns],
            name=self.name if name is None else name,
            store=self._store,
        )

    def store(self, expr: Any) -> Any:
        """``expr`` computed once and kept in the engine (see :meth:`cached`)."""
        if self._store is not None:
            return self._store(expr)
        import uuid

        from calcstats.engine._connect import materialise

        return materialise(
            expr.get_backend(), expr, f"__calcstats_t_{uuid.uuid4().hex[:12]}", owned=False
        )

    def cached(self) -> EngineTable:
        """This table, computed once and kept in the engine.

        An analysis table is a chain of joins and window functions; a statistic that
        queries it several times (a Newton step per query) computes it once. The first
        call stores the table (a table of calcstats' working database, or ibis'
        ``cache()`` in a user's connection); later calls return it.
        """
        if not self._stored:
            self._full = self.store(self._full)
            self._stored = True
        return self

    def __len__(self) -> int:
        if self._n is None:
            self._n = int(self._full.count().execute())
        return self._n

    @property
    def shape(self) -> tuple[int, int]:
        return len(self), len(self.columns)

    def __contains__(self, column: object) -> bool:
        return column in self.columns

    def to_pandas(self, *, limit: int | None = None) -> pd.DataFrame:
        """The table as a pandas DataFrame, with the dtypes of the pandas path.

        Parameters
        ----------
        limit : int, optional
            Pull only the first ``limit`` rows (in table order).
        """
        expr = self._full
        if self.order:
            expr = expr.order_by(self.order)
        if limit is not None:
            expr = expr.limit(int(limit))
        df = expr.select(self.columns).to_pandas()
        return restore_dtypes(df, self.kinds)

    def head(self, n: int = 5) -> pd.DataFrame:
        """The first ``n`` rows as a DataFrame."""
        return self.to_pandas(limit=n)

    def __repr__(self) -> str:
        cols = ", ".join(self.columns[:8]) + (", ..." if len(self.columns) > 8 else "")
        return f"EngineTable({self.name}, engine={self.engine!r}, columns=[{cols}])"


def engine_of(obj: object) -> tuple[str, EngineOptions] | None:
    """(engine name, options) of an engine table, else None."""
    if isinstance(obj, EngineTable):
        return obj.engine, obj.options
    return None
