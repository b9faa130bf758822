"""calcstats.engine: cohorts and statistics inside DuckDB, Spark and other ibis backends.

The engine layer holds what the statistics need from data that do not fit in pandas:
connections (:func:`duckdb_connection` with a memory limit and a spill directory), the
engine-backed table (:class:`EngineTable`), query strings translated to engine predicates
(:func:`translate_query`) and the aggregate queries of the statistics: per-time counts for
curves and log-rank tests, group moments and exact quantiles, per-event-time risk-set sums
for each Cox Newton step and cross-products for each GLM step. Only small aggregates come
back to Python; the Newton loop (:func:`calcstats._newton.maximise`) and the formulas are
those of the pandas path.
"""

from calcstats.engine._connect import (
    backend_name,
    duckdb_connection,
    is_connection,
    materialise,
)
from calcstats.engine._options import (
    DEFAULT_MEMORY_LIMIT,
    EngineLimitError,
    EngineOptions,
    EngineUnsupportedError,
    EngineWarning,
    require_ibis,
)
from calcstats.engine._query import query_columns, translate_query
from calcstats.engine._table import EngineTable, is_engine_table, restore_dtypes

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "EngineLimitError",
    "EngineOptions",
    "EngineTable",
    "EngineUnsupportedError",
    "EngineWarning",
    "backend_name",
    "duckdb_connection",
    "is_connection",
    "is_engine_table",
    "materialise",
    "query_columns",
    "require_ibis",
    "restore_dtypes",
    "translate_query",
]
