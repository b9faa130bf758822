"""Engine sources: the four raw tables as engine tables, renamed, each row with a key.

``read_cohort(source, engine=...)`` reads from

* a folder of parquet or CSV files, read by calcstats' own DuckDB connection (parquet files
  are scanned in place; CSV files are loaded into the working database first);
* a ``.duckdb`` file, attached read-only to calcstats' own DuckDB connection;
* an ibis connection (DuckDB, pyspark, ...): tables (temporary views included) are found
  by name in its current database;
* DataFrames (``patients=...``) with ``engine="duckdb"``, copied into DuckDB.

``tables=`` maps canonical names to the source's (``{"patients": "person"}``). Columns are
renamed by the pandas path's rules (:mod:`calcstats.cohort._column_map`). Every raw row
gets two internal columns: ``__key``, a unique row key used to drop rows, and ``__row``,
its 0-based position in the source where the engine can tell it (a parquet file's row
number, a CSV line's order, a DuckDB table's ``rowid``), else missing (Spark, views).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import SchemaError
from calcstats.cohort._column_map import rename, split_column_map
from calcstats.cohort._read import (
    NA_STRINGS,
    TABLE_NAMES,
    Source,
    _csv_encoding,
    _find_file,
)
from calcstats.engine import EngineOptions, backend_name, duckdb_connection, is_connection

__all__ = ["EngineSource", "open_source"]

#: Extensions an engine reads from a folder.
ENGINE_EXTENSIONS = (".parquet", ".csv")


@dataclass
class EngineSource:
    """The raw tables of an engine cohort (None where absent) and their connection."""

    con: Any
    engine: str
    options: EngineOptions
    tables: dict[str, Any | None]
    #: whether ``__row`` is the position of each row in its source, per table
    rows_known: dict[str, bool] = field(default_factory=dict)
    owned: bool = False
    #: CSV files read (to give a problem row's line, as the pandas path does)
    files: dict[str, Source] = field(default_factory=dict)


def _sql_text(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


# --------------------------------------------------------------------------- files
def _csv_header(path: Path) -> tuple[list[str], str, str]:
    """Header names, separator and encoding of a CSV file (the pandas path's rules)."""
    encoding = _csv_encoding(path)
    with open(path, newline="", encoding=encoding, errors="replace") as fh:
        first = fh.readline()
    sep = ","
    names = next(csv.reader([first], delimiter=sep), [])
    if len(names) == 1:
        seps = [s for s in (";", "\t", "|") if s in names[0]]
        if seps:
            sep = max(seps, key=names[0].count)
            names = next(csv.reader([first], delimiter=sep), [])
    return [n.strip("\ufeff") for n in names], sep, encoding


def _load_csv(con: Any, path: Path, table: str, mapping: Mapping[str, str], alias: str) -> Source:
    """Load a CSV file into the working database in file order (``rowid`` = row)."""
    from calcstats.cohort._read import _text_columns

    names, sep, encoding = _csv_header(path)
    text = _text_columns(names, table, mapping)
    types = ", ".join(f"{_sql_text(c)}: 'VARCHAR'" for c in text)
    nulls = ", ".join(_sql_text(s) for s in NA_STRINGS)
    opts = [
        f"delim={_sql_text(sep)}",
        "header=true",
        f"nullstr=[{nulls}]",
        "auto_detect=true",
        "sample_size=-1",
    ]
    if types:
        opts.append(f"types={{{types}}}")
    if sep == ";":
        opts.append("decimal_separator=','")
    if encoding == "utf-16":
        opts.append("encoding='utf-16'")
    sql = (
        f"CREATE OR REPLACE TABLE {_ident(alias)} AS SELECT * FROM "
        f"read_csv({_sql_text(str(path))}, {', '.join(opts)})"
    )
    try:
        # rowid is the line order only when the load keeps insertion order
        con.raw_sql("SET preserve_insertion_order = true")
        con.raw_sql(sql)
    except Exception as exc:  # DuckDB's reader error, with the file named
        raise SchemaError(
            f"could not read the {table} table from {str(path)!r} with DuckDB: {exc}"
        ) from exc
    finally:
        con.raw_sql("SET preserve_insertion_order = false")
    n = con.raw_sql(f"SELECT count(*) FROM {_ident(alias)}").fetchone()[0]
    return Source(path, "csv", int(n), encoding, sep)


def _folder_tables(
    con: Any, folder: Path, maps: Mapping[str, Mapping[str, str]], names: Mapping[str, str]
) -> tuple[dict, dict, dict]:
    raw: dict[str, Any | None] = dict.fromkeys(TABLE_NAMES)
    known: dict[str, bool] = {}
    files: dict[str, Source] = {}
    for table in TABLE_NAMES:
        f = _find_file(folder, names.get(table, table).lower())
        if f is None and table in names:
            raise SchemaError(
                f"tables= maps the {table} table to {names[table]!r}, which is not a table "
                f"or view of folder {str(folder)!r} (no {names[table]}.parquet or .csv)."
            )
        if f is None:
            continue
        ext = f.suffix.lower()
        if ext not in ENGINE_EXTENSIONS:
            raise SchemaError(
                f"{str(f)!r}: the DuckDB engine reads parquet and CSV files "
                f"({', '.join(ENGINE_EXTENSIONS)}); convert the {table} table to parquet, or "
                "read the folder with engine='pandas'."
            )
        alias = f"__calcstats_raw_{table}"
        if ext == ".parquet":
            sql = (
                f"SELECT * EXCLUDE (file_row_number), file_row_number AS __row, "
                f"file_row_number AS __key FROM read_parquet({_sql_text(str(f))}, "
                "file_row_number = true)"
            )
            con.raw_sql(f"CREATE OR REPLACE VIEW {_ident(alias)} AS {sql}")
        else:
            files[table] = _load_csv(con, f, table, maps[table], alias + "_csv")
            con.raw_sql(
                f"CREATE OR REPLACE VIEW {_ident(alias)} AS SELECT *, rowid AS __row, "
                f"rowid AS __key FROM {_ident(alias + '_csv')}"
            )
        raw[table] = con.table(alias)
        known[table] = True
    if raw["patients"] is None:
        raise SchemaError(
            f"folder {str(folder)!r} has no patients table: add patients.parquet (or .csv). "
            f"Files found: {sorted(p.name for p in folder.iterdir())[:20]}."
        )
    return raw, known, files


# ------------------------------------------------------------------- databases
def _find_name(
    available: list[str], wanted: str, table: str, where: str, explicit: bool
) -> str | None:
    exact = [n for n in available if n == wanted]
    if exact:
        return exact[0]
    folded = [n for n in available if n.lower() == wanted.lower()]
    if len(folded) == 1:
        return folded[0]
    if len(folded) > 1:
        raise SchemaError(
            f"{where} holds several tables named like {wanted!r}: {folded}; "
            f"name the {table} table with tables={{{table!r}: ...}}."
        )
    if explicit:
        raise SchemaError(
            f"tables= maps the {table} table to {wanted!r}, which is not a table or view of "
            f"{where}; tables there: {sorted(available)[:30]}."
        )
    return None


def _keyed(con: Any, engine: str, expr: Any, alias: str) -> Any:
    """``expr`` with a unique ``__key`` and a missing ``__row``, materialised once."""
    import ibis

    if engine == "pyspark":
        from pyspark.sql import functions as f_

        session = con._session
        df = session.table(expr.get_name()) if hasattr(expr, "get_name") else None
        if df is None:  # pragma: no cover - tables from a pyspark connection have names
            raise SchemaError("the pyspark table has no name to read it by.")
        df = df.withColumn("__key", f_.monotonically_increasing_id())
        df = df.withColumn("__row", f_.lit(None).cast("long"))
        df.localCheckpoint(eager=True).createOrReplaceTempView(alias)  # stable keys
        return con.table(alias)
    keyed = expr.mutate(__key=ibis.row_number().over(), __row=ibis.null().cast("int64"))
    return keyed.cache()


def _duckdb_base_table(con: Any, qualified: str) -> tuple[Any, bool] | None:
    """A DuckDB base table with ``rowid`` as key (and as row when rowids are contiguous)."""
    try:
        n, top = con.raw_sql(f"SELECT count(*), max(rowid) FROM {qualified}").fetchone()
    except Exception:  # a view has no rowid
        return None
    row = "rowid" if top is None or int(top) + 1 == int(n) else "NULL::BIGINT"
    return con.sql(f"SELECT *, rowid AS __key, {row} AS __row FROM {qualified}"), row == "rowid"


def _database_tables(
    con: Any, engine: str, names: Mapping[str, str], where: str, database: str | None = None
) -> tuple[dict, dict]:
    if database is not None:
        available = [
            r[0]
            for r in con.raw_sql(
                "SELECT table_name FROM information_schema.tables WHERE table_catalog = "
                f"{_sql_text(database)}"
            ).fetchall()
        ]
    else:
        available = list(con.list_tables())
    raw: dict[str, Any | None] = dict.fromkeys(TABLE_NAMES)
    known: dict[str, bool] = {}
    for table in TABLE_NAMES:
        name = _find_name(available, names.get(table, table), table, where, table in names)
        if name is None:
            continue
        alias = f"__calcstats_raw_{table}"
        if engine == "duckdb":
            qualified = f"{_ident(database)}.{_ident(name)}" if database else _ident(name)
            found = _duckdb_base_table(con, qualified)
            if found is not None:
                raw[table], known[table] = found
                continue
            expr = con.sql(f"SELECT * FROM {qualified}")
        else:
            expr = con.table(name)
        raw[table] = _keyed(con, engine, expr, alias)
        known[table] = False
    if raw["patients"] is None:
        raise SchemaError(
            f"{where} has no patients table (tables and views: {sorted(available)[:30]}); "
            "name it patients, or map it with tables={'patients': 'your_table'}."
        )
    return raw, known


# -------------------------------------------------------------------- DataFrames
def _arrow_ready(df: pd.DataFrame) -> pd.DataFrame:
    """Object columns DuckDB cannot type (numbers mixed with text) as text (ids' rules)."""
    import pyarrow as pa

    from calcstats.cohort._convert import _id_text

    out = {}
    for name in df.columns:
        s = df[name]
        if s.dtype == object:
            try:
                pa.array(s.to_numpy(dtype=object), from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                codes, uniques = pd.factorize(s)
                conv = np.array([_id_text(u) for u in uniques] + [None], dtype=object)
                s = pd.Series(conv[np.where(codes >= 0, codes, len(uniques))], dtype=object)
        out[name] = s.to_numpy()
    return pd.DataFrame(out, copy=False)


def _frame_tables(con: Any, frames: Mapping[str, pd.DataFrame]) -> tuple[dict, dict]:
    from calcstats.cohort._read import _index_to_columns

    raw: dict[str, Any | None] = dict.fromkeys(TABLE_NAMES)
    for table, df in frames.items():
        if df is None:
            continue
        if not isinstance(df, pd.DataFrame):
            raise SchemaError(f"{table}= must be a pandas DataFrame, got {type(df).__name__}.")
        df = _index_to_columns(df, table, {}).reset_index(drop=True)
        df = _arrow_ready(df)
        df["__row"] = np.arange(len(df), dtype=np.int64)
        df["__key"] = df["__row"]
        raw[table] = con.create_table(f"__calcstats_raw_{table}", df, overwrite=True)
    return raw, dict.fromkeys([t for t in raw if raw[t] is not None], True)


# ------------------------------------------------------------------------ rename
def _renamed(raw: dict[str, Any | None], column_map: Mapping[str, Any] | None) -> dict:
    """Canonical column names (the pandas path's ``rename`` applied to the headers)."""
    maps, flat = split_column_map(column_map)
    out: dict[str, Any | None] = {}
    present: set[str] = set()
    for table, expr in raw.items():
        if expr is None:
            out[table] = None
            continue
        cols = [c for c in expr.columns if c not in ("__key", "__row")]
        bad = [c for c in cols if c.startswith("__")]
        if bad:
            raise SchemaError(
                f"the {table} table has column(s) {bad}; names starting with '__' are "
                "calcstats' internal columns in the engine path: rename them."
            )
        present.update(cols)
        new = list(rename(pd.DataFrame(columns=cols), table, maps[table], strict=not flat).columns)
        out[table] = expr.rename(dict(zip(new, cols, strict=True))) if new != cols else expr
    if flat and column_map:
        unused = [k for k in maps["patients"] if k not in present]
        if unused:
            raise SchemaError(
                f"column_map names column(s) {unused} found in none of the tables; check the "
                "spelling (column names are case-sensitive in column_map)."
            )
    return out


def open_source(
    source: Any,
    *,
    engine: str | None,
    options: EngineOptions,
    frames: Mapping[str, pd.DataFrame | None],
    column_map: Mapping[str, Any] | None,
    tables: Mapping[str, str] | None,
) -> EngineSource:
    """Open ``source`` in its engine and return the renamed raw tables."""
    names = _check_tables(tables)
    given = {k: v for k, v in frames.items() if v is not None}
    if is_connection(source):
        if given:
            raise SchemaError("pass either a connection or DataFrames (patients=...), not both.")
        name = backend_name(source)
        if engine not in (None, name):
            raise SchemaError(
                f"engine={engine!r} does not match the connection, a {name} connection; leave "
                "engine out (it is taken from the connection)."
            )
        raw, known = _database_tables(source, name, names, f"the {name} connection")
        return EngineSource(source, name, options, _renamed(raw, column_map), known)
    if engine != "duckdb":
        raise SchemaError(
            f"engine={engine!r} is not available for this source; use engine='duckdb' (a "
            "folder of parquet/CSV files, a .duckdb file or DataFrames) or pass an ibis "
            "connection (DuckDB, pyspark, ...)."
        )
    con = duckdb_connection(options)
    if source is None:
        if frames.get("patients") is None:
            raise SchemaError(
                "read_cohort needs a folder, a .duckdb file, a connection or at least the "
                "patients table (patients=df)."
            )
        raw, known = _frame_tables(con, frames)
        return EngineSource(con, "duckdb", options, _renamed(raw, column_map), known, True)
    if given:
        raise SchemaError("pass either a source or DataFrames (patients=, ...), not both.")
    path = Path(os.fspath(source))
    if path.is_dir():
        maps, _ = split_column_map(column_map)
        raw, known, files = _folder_tables(con, path, maps, names)
        return EngineSource(con, "duckdb", options, _renamed(raw, column_map), known, True, files)
    elif path.is_file() and path.suffix.lower() in (".duckdb", ".ddb"):
        con.raw_sql(f"ATTACH {_sql_text(str(path))} AS __calcstats_source (READ_ONLY)")
        raw, known = _database_tables(
            con, "duckdb", names, f"DuckDB file {str(path)!r}", database="__calcstats_source"
        )
    else:
        raise SchemaError(
            f"{str(path)!r} is neither a folder nor a DuckDB file (.duckdb); read_cohort "
            "reads a folder of parquet/CSV files, a .duckdb file or an ibis connection."
        )
    return EngineSource(con, "duckdb", options, _renamed(raw, column_map), known, True)


def _check_tables(tables: Mapping[str, str] | None) -> dict[str, str]:
    if tables is None:
        return {}
    if not isinstance(tables, Mapping):
        raise SchemaError(
            "tables= must map calcstats table names to yours, e.g. {'patients': 'person'}; "
            f"got {type(tables).__name__}."
        )
    unknown = sorted(set(tables) - set(TABLE_NAMES))
    if unknown:
        raise SchemaError(
            f"tables= names unknown table(s) {unknown}; the tables are {list(TABLE_NAMES)}."
        )
    bad = {k: v for k, v in tables.items() if not isinstance(v, str) or not v.strip()}
    if bad:
        raise SchemaError(f"tables= must map each table to a table name (text); got {bad}.")
    return dict(tables)
