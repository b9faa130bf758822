"""Connections: calcstats' own DuckDB connection, and the name of any ibis backend.

calcstats opens its own DuckDB connection for a folder of parquet/CSV files or a
``.duckdb`` file, with a memory limit and a spill directory (:class:`EngineOptions`): the
source is only read (a ``.duckdb`` file is attached read-only), and the converted,
validated tables are written to a working database in the spill directory, which is
deleted when the connection is closed or the process ends. A connection the user passes
(DuckDB, pyspark, any ibis backend) is used as it is.

calcstats' own connection plans joins as they are written (:data:`PLAN_SETTINGS`): the
right-hand table of a join is the one held in memory (calcstats writes the smaller table
there), rather than the side DuckDB guesses smaller. DuckDB has no distinct counts for the
columns of a parquet file and guesses joins of ids to return billions of rows, then holds
the large table in memory: at ten million patients such a plan spills gigabytes to disk.
The connection does not keep insertion order (no query relies on it; every pull that needs
an order sorts), which lets DuckDB write and aggregate in parallel with less memory.
"""

from __future__ import annotations

import atexit
import os
import shutil
import uuid
import weakref
from typing import Any

from calcstats._errors import SchemaError
from calcstats.engine._options import EngineOptions, require_ibis

__all__ = ["PLAN_SETTINGS", "backend_name", "duckdb_connection", "is_connection", "materialise"]

#: Settings of calcstats' own DuckDB connection besides the memory ones: joins planned
#: as written (see the module docstring), no insertion order kept, and no FSST string
#: compression in the working database (its analysis costs more than it saves for tables
#: written once and read a few times).
PLAN_SETTINGS: dict[str, Any] = {
    "disabled_optimizers": "join_order,build_side_probe_side",
    "preserve_insertion_order": False,
    "disabled_compression_methods": "fsst",
}


def is_connection(obj: object) -> bool:
    """Whether ``obj`` is an ibis backend connection."""
    try:
        from ibis.backends import BaseBackend
    except ImportError:
        return False
    return isinstance(obj, BaseBackend)


def backend_name(con: Any) -> str:
    """``"duckdb"``, ``"pyspark"``, ... (the ibis backend's name)."""
    return str(getattr(con, "name", type(con).__module__.split(".")[-1]))


def duckdb_connection(options: EngineOptions) -> Any:
    """A new DuckDB connection (ibis) with the memory limit, threads and spill directory.

    The connection spills into a new subdirectory of the spill directory, removed with
    the connection; the working database is ``options.database`` or a file there. Joins
    are planned as written (:data:`PLAN_SETTINGS`).

    Examples
    --------
    >>> con = duckdb_connection(EngineOptions.of({"memory_limit": "1GB", "threads": 1}))
    >>> con.raw_sql("SELECT current_setting('threads')").fetchone()[0]
    1
    >>> con.raw_sql("SELECT current_setting('disabled_optimizers')").fetchone()[0]
    'join_order,build_side_probe_side'
    """
    ibis = require_ibis("engine='duckdb'")
    try:
        import duckdb  # noqa: F401
    except ImportError as exc:  # pragma: no cover - ibis[duckdb] installs it
        raise SchemaError(
            "engine='duckdb' needs the duckdb package: pip install 'calcstats[duckdb]'."
        ) from exc
    # each connection spills into its own subdirectory (several sessions may share one
    # temp_directory), removed with the connection
    work = os.path.join(options.spill_directory, f"{os.getpid()}-{uuid.uuid4().hex[:12]}")
    os.makedirs(work, exist_ok=True)
    path = options.database or os.path.join(work, "work.duckdb")
    config: dict[str, Any] = {
        "memory_limit": options.memory_limit,
        "temp_directory": work,
        **PLAN_SETTINGS,
    }
    if options.threads is not None:
        config["threads"] = options.threads
    try:
        con = ibis.duckdb.connect(database=path, **config)
    except Exception as exc:  # DuckDB's own message (a bad memory_limit, a locked file)
        shutil.rmtree(work, ignore_errors=True)
        raise SchemaError(f"could not open DuckDB with engine_options {config}: {exc}") from exc
    weakref.finalize(con, shutil.rmtree, work, True)
    atexit.register(shutil.rmtree, work, True)
    return con


def materialise(con: Any, expr: Any, name: str, *, owned: bool, temp: bool = False) -> Any:
    """Compute ``expr`` once and keep it in the engine.

    In calcstats' own DuckDB connection the result is a table of the working database
    (on disk, compressed, read through DuckDB's buffer pool), or with ``temp`` a
    temporary table (not compressed: written several times faster, held in memory and
    spilled to the temporary directory only when memory runs short; for a narrow table
    used a few times and dropped); in Spark a locally checkpointed DataFrame under a
    temporary view; in other connections ibis' ``cache()``.
    """
    if owned and temp:  # (ibis overwrites a temporary table by copying it)
        con.raw_sql(f'DROP TABLE IF EXISTS temp.main."{name}"')
        return con.create_table(name, expr, temp=True)
    if owned:
        return con.create_table(name, expr, overwrite=True)
    if backend_name(con) == "pyspark":
        # a checkpoint, not ``cache()``: a cached Spark view keeps the plan that built it,
        # which names the temporary views of in-memory tables (mapping tables) that ibis
        # may drop later; a local checkpoint keeps only the rows
        con._run_pre_execute_hooks(expr)
        df = con._session.sql(con.compile(expr)).localCheckpoint(eager=True)
        df.createOrReplaceTempView(name)
        return con.table(name)
    return expr.cache()
