"""Reading cohort tables: files or DataFrames → canonical names, types and values.

``read_cohort`` reads, renames (``column_map``), normalises values (case, surrounding
spaces, documented synonyms from :mod:`calcstats.cohort._schema`), converts types
strictly (an unparseable number, boolean or date is a problem, never a silent NaN/NaT),
then validates (:mod:`calcstats.cohort._validate`) and either raises every problem at once
or excludes the affected patients, recording each exclusion in the flow.

Conversions work on the distinct values of a column (``pandas.factorize``), so a column
of a million dates with a few thousand distinct values is parsed a few thousand times.

``column_map`` is checked in :mod:`calcstats.cohort._column_map`; value conversion (types,
synonyms) is in :mod:`calcstats.cohort._convert`, dates in :mod:`calcstats.cohort._dates`;
raising or excluding in :mod:`calcstats.cohort._build`. A table read from a CSV or xlsx
file remembers its file (:class:`Source`) so that a problem row also gives its line.
"""

from __future__ import annotations

import csv
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import (
    CalcstatsError,
    DataWarning,
    InvalidParameterError,
    SchemaError,
    user_stacklevel,
)
from calcstats._validation import Options, check_param
from calcstats.cohort._column_map import canonical_name, rename, split_column_map
from calcstats.cohort._schema import TABLES, Vocabularies

__all__ = ["EXTENSIONS", "TABLE_NAMES", "Source", "read_cohort", "read_tables"]

EXTENSIONS = (".csv", ".parquet", ".xlsx", ".dta", ".sas7bdat")
TABLE_NAMES = tuple(TABLES)
# pandas' default NA strings without "None" (a valid alcohol_use value).
NA_STRINGS = [
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "n/a",
    "nan",
    "null",
]


# --------------------------------------------------------------------------- reading files
def _find_file(folder: Path, name: str) -> Path | None:
    """The file of one table: ``name`` + a supported extension, matched ignoring case.

    A file named like the table but with another extension (``events.xls``) is an error,
    never a silently absent table.
    """
    candidates = [
        p for p in folder.iterdir() if p.is_file() and p.name.lower().split(".", 1)[0] == name
    ]
    found = [p for p in candidates if p.name.lower() in {name + ext for ext in EXTENSIONS}]
    other = [p for p in candidates if p not in found]
    if other and not found:
        raise SchemaError(
            f"folder {str(folder)!r} holds {[p.name for p in other]} for the {name} table, but "
            f"calcstats reads only {', '.join(EXTENSIONS)} files; save the table as one of "
            "these (e.g. .xlsx or CSV UTF-8), or read it yourself and pass a DataFrame."
        )
    if len(found) > 1:
        raise SchemaError(
            f"folder {str(folder)!r} holds several files for the {name} table: "
            f"{[p.name for p in found]}; keep exactly one."
        )
    return found[0] if found else None


def _text_columns(columns: list[str], table: str, mapping: Mapping[str, str]) -> list[str]:
    """User columns whose canonical column is read as text (ids, dates, vocabularies)."""
    spec = TABLES[table]
    out = []
    for col in columns:
        canon = spec.column(canonical_name(col, table, mapping))
        if canon is not None and canon.kind != "float":
            out.append(col)
    return out


def _csv_encoding(path: Path) -> str:
    """UTF-16 when the file starts with its byte-order mark, else UTF-8 (with or without BOM)."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return "utf-8-sig"


@dataclass(frozen=True)
class Source:
    """The file a table was read from, to give a problem row's line in it.

    ``kind`` is ``"csv"`` or ``"xlsx"`` (other formats have no spreadsheet lines);
    ``n_read`` is the number of data rows the reader returned.
    """

    path: Path
    kind: str
    n_read: int
    encoding: str = "utf-8"
    sep: str = ","

    def lines(self) -> np.ndarray | None:
        """The line (CSV) or sheet row (xlsx) of each data row; the header is line 1.

        None when the file cannot be matched row for row (then no line is given rather
        than a wrong one).
        """
        if self.kind == "xlsx":  # the reader keeps blank rows inside the sheet
            return np.arange(self.n_read, dtype=np.int64) + 2
        if self.kind != "csv":
            return None
        starts: list[int] = []
        try:
            with open(self.path, newline="", encoding=self.encoding) as fh:
                reader = csv.reader(fh, delimiter=self.sep)
                prev, header = 0, False
                for record in reader:
                    start, prev = prev + 1, reader.line_num
                    if not record or (len(record) == 1 and not record[0].strip()):
                        continue  # a blank line: pandas skips it
                    if header:
                        starts.append(start)
                    header = True
        except (csv.Error, OSError, UnicodeError):
            return None
        return np.asarray(starts, dtype=np.int64) if len(starts) == self.n_read else None

    def where(self, line: int) -> str:
        """``"line 17 of patients.csv"`` or ``"Excel row 17 of patients.xlsx"``."""
        what = "Excel row" if self.kind == "xlsx" else "line"
        return f"{what} {line} of {self.path.name}"


def _read_csv(path: Path, table: str, mapping: Mapping[str, str]) -> tuple[pd.DataFrame, Source]:
    """A CSV file: comma, semicolon or tab separated; UTF-8, UTF-16 or Windows-1252 text.

    A semicolon-separated file (what Excel writes where the decimal mark is a comma) is read
    with ``decimal=","``; a file that is not valid UTF-8 is read as Windows-1252 (the usual
    encoding of Excel exports in Western Europe) with a DataWarning.
    """
    encoding = _csv_encoding(path)
    for attempt in (encoding, "cp1252", "latin-1"):
        try:
            df, sep = _read_csv_as(path, table, mapping, attempt)
        except UnicodeDecodeError:
            continue
        if attempt != encoding:
            warnings.warn(
                f"{str(path)!r} is not UTF-8 text; calcstats read it as {attempt} (Windows "
                "Western European). Check that accented values read correctly; save the file "
                "as 'CSV UTF-8' to silence this warning.",
                DataWarning,
                stacklevel=user_stacklevel(),
            )
        return df, Source(path, "csv", len(df), attempt, sep)
    raise SchemaError(f"could not decode {str(path)!r}; save it as 'CSV UTF-8'.")


def _read_csv_as(path: Path, table: str, mapping: Mapping[str, str], encoding: str):
    opts: dict[str, Any] = {"encoding": encoding}
    header = pd.read_csv(path, nrows=0, **opts).columns.tolist()
    if len(header) == 1:
        name = str(header[0])
        seps = [sep for sep in (";", "\t", "|") if sep in name]
        if seps:
            sep = max(seps, key=name.count)
            opts.update(sep=sep, decimal="," if sep == ";" else ".")
            header = pd.read_csv(path, nrows=0, **opts).columns.tolist()
    text = _text_columns(header, table, mapping)
    df = pd.read_csv(
        path, dtype=dict.fromkeys(text, str), keep_default_na=False, na_values=NA_STRINGS, **opts
    )
    return df, opts.get("sep", ",")


def _read_xlsx(path: Path, table: str) -> pd.DataFrame:
    """The sheet named like the table, else the only sheet, else the first (with a warning)."""
    with pd.ExcelFile(path) as book:
        sheets = book.sheet_names
        named = [s for s in sheets if str(s).strip().lower() == table]
        sheet = named[0] if named else sheets[0]
        if not named and len(sheets) > 1:
            warnings.warn(
                f"{str(path)!r} has {len(sheets)} sheets {sheets}; calcstats read the first, "
                f"{sheet!r}. Name the sheet {table!r} or keep one sheet per file.",
                DataWarning,
                stacklevel=user_stacklevel(),
            )
        return book.parse(sheet)


def _read_file(path: Path, table: str, mapping: Mapping[str, str]) -> tuple[pd.DataFrame, Source]:
    ext = path.suffix.lower()
    try:
        if ext == ".csv":
            return _read_csv(path, table, mapping)
        if ext == ".xlsx":
            df = _read_xlsx(path, table)
            return df, Source(path, "xlsx", len(df))
        return (df := _read_other(path, ext)), Source(path, ext.lstrip("."), len(df))
    except CalcstatsError:
        raise
    except Exception as exc:  # the reader's own error, re-raised with the file named
        raise SchemaError(f"could not read the {table} table from {str(path)!r}: {exc}") from exc


def _read_other(path: Path, ext: str) -> pd.DataFrame:
    if ext == ".parquet":
        return pd.read_parquet(path)
    if ext == ".dta":
        return pd.read_stata(path)
    if ext == ".sas7bdat":
        try:
            import pyreadstat
        except ImportError as exc:
            raise CalcstatsError(
                f"Reading {str(path)!r} (a SAS .sas7bdat file) needs the optional package "
                "pyreadstat, which is not installed. Install it with "
                "`pip install 'calcstats[sas]'` (or `pip install pyreadstat`), or export "
                "the table to .csv, .parquet, .xlsx or .dta."
            ) from exc
        df, _ = pyreadstat.read_sas7bdat(str(path))
        return df
    raise SchemaError(f"{str(path)!r}: unsupported file type {ext!r}; use one of {EXTENSIONS}.")


def _index_to_columns(df: pd.DataFrame, table: str, mapping: Mapping[str, str]) -> pd.DataFrame:
    """Move named index levels that are columns of the table (``patient_id``) into columns."""
    names = [n for n in df.index.names if n is not None and n not in df.columns]
    spec = TABLES[table]
    if names and all(spec.column(canonical_name(n, table, mapping)) is not None for n in names):
        return df.reset_index()
    return df


def read_tables(
    path: str | os.PathLike | None,
    frames: Mapping[str, pd.DataFrame | None],
    column_map: Mapping[str, Any] | None,
) -> tuple[dict[str, pd.DataFrame | None], dict[str, Source]]:
    """Raw tables (renamed to canonical names; None where absent) and the files read."""
    maps, flat = split_column_map(column_map)
    given = {k: v for k, v in frames.items() if v is not None}
    raw: dict[str, pd.DataFrame | None] = dict.fromkeys(TABLE_NAMES)
    sources: dict[str, Source] = {}
    if path is not None:
        if given:
            raise SchemaError(
                "pass either a folder (path) or DataFrames (patients=, imaging=, ...), not both."
            )
        folder = Path(path)
        if not folder.is_dir():
            raise SchemaError(
                f"{str(folder)!r} is not a folder; read_cohort expects a folder holding "
                f"patients/imaging/findings/events files ({', '.join(EXTENSIONS)})."
            )
        for name in TABLE_NAMES:
            f = _find_file(folder, name)
            if f is not None:
                raw[name], sources[name] = _read_file(f, name, maps[name])
        if raw["patients"] is None:
            raise SchemaError(
                f"folder {str(folder)!r} has no patients table: add patients.csv (or "
                f".parquet, .xlsx, .dta, .sas7bdat). Files found: "
                f"{sorted(p.name for p in folder.iterdir())[:20]}."
            )
    else:
        if frames.get("patients") is None:
            raise SchemaError(
                "read_cohort needs a folder or at least the patients table: "
                "read_cohort('folder/') or read_cohort(patients=df, ...)."
            )
        for name, df in given.items():
            if not isinstance(df, pd.DataFrame):
                raise SchemaError(f"{name}= must be a pandas DataFrame, got {type(df).__name__}.")
            raw[name] = _index_to_columns(df, name, maps[name])
    if flat and column_map:
        present = set()
        for df in raw.values():
            if df is not None:
                present.update(df.columns)
        unused = [k for k in maps["patients"] if k not in present]
        if unused:
            raise SchemaError(
                f"column_map names column(s) {unused} found in none of the tables; check the "
                "spelling (column names are case-sensitive in column_map)."
            )
    tables = {
        name: None
        if df is None
        else _drop_empty_rows(rename(df, name, maps[name], strict=not flat), name)
        for name, df in raw.items()
    }
    return tables, sources


def _empty_rows(df: pd.DataFrame) -> np.ndarray:
    """Rows whose every cell is NA or blank text; columns with cheap NA checks go first."""
    from calcstats.cohort._text import blank

    empty = np.ones(len(df), dtype=bool)
    cols = [df.iloc[:, i] for i in range(df.shape[1])]
    for col in sorted(cols, key=lambda c: c.dtype == object):
        if not empty.any():
            break
        empty[empty] = blank(col[empty])
    return empty


def _drop_empty_rows(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Drop the completely empty rows at the end of a table, with a DataWarning.

    A CSV exported from a spreadsheet often ends with lines of bare commas; they hold
    nothing to validate (pandas' Excel reader already skips them). Empty rows between data
    rows are kept (reported as missing values) so that row numbers in problems stay those
    of the table given.
    """
    if not len(df) or not len(df.columns) or not _empty_rows(df.iloc[-1:]).all():
        return df
    empty = _empty_rows(df)
    n_keep = len(df) - int(np.argmin(empty[::-1])) if not empty.all() else 0
    rows = np.arange(n_keep, len(df))
    warnings.warn(
        f"{table}: {len(rows)} completely empty row(s) at the end of the table ignored "
        f"(rows {rows[0]}–{rows[-1]}).",
        DataWarning,
        stacklevel=user_stacklevel(),
    )
    return df.iloc[:n_keep].reset_index(drop=True)


# ---------------------------------------------------------------------------- read_cohort
ENGINES = ("pandas", "duckdb")


def _which_engine(source: Any, engine: str | None, options: Any, tables: Any) -> str | None:
    """The engine that reads ``source``: ``"pandas"``, ``"duckdb"`` or None (a connection's
    own backend)."""
    from calcstats.engine import is_connection

    if engine is not None and (not isinstance(engine, str) or engine not in ENGINES):
        if not (is_connection(source) and isinstance(engine, str)):
            raise SchemaError(
                f"engine must be one of {ENGINES} (or left out for a connection, whose "
                f"backend is the engine); got {engine!r}."
            )
    if is_connection(source):
        if engine == "pandas":
            raise SchemaError(
                "engine='pandas' cannot read a connection; leave engine out to compute in "
                "the connection's engine, or read the tables into DataFrames yourself."
            )
        return engine
    is_db = (
        source is not None
        and not isinstance(source, pd.DataFrame)
        and Path(os.fspath(source)).suffix.lower() in (".duckdb", ".ddb")
    )
    if engine is None:
        engine = "duckdb" if is_db else "pandas"
    if engine == "pandas":
        if is_db:
            raise SchemaError(
                f"{str(source)!r} is a DuckDB database: read it with engine='duckdb' (the "
                "default for .duckdb files)."
            )
        given = [
            name for name, v in (("engine_options", options), ("tables", tables)) if v is not None
        ]
        if given:
            raise SchemaError(
                f"{' and '.join(given)} apply to engine sources only; pass engine='duckdb' "
                "(or a .duckdb file or a connection), or leave them out."
            )
    return engine


def read_cohort(
    source: str | os.PathLike | Any | None = None,
    *,
    patients: pd.DataFrame | None = None,
    imaging: pd.DataFrame | None = None,
    findings: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    column_map: Mapping[str, Any] | None = None,
    on_error: str = "raise",
    vocabularies: Mapping[str, Any] | None = None,
    date_format: str | None = None,
    engine: str | None = None,
    engine_options: Mapping[str, Any] | None = None,
    tables: Mapping[str, str] | None = None,
):
    """Read, normalise and validate a cohort.

    Parameters
    ----------
    source : str, path-like or ibis connection, optional
        A folder holding ``patients`` and optionally ``imaging``, ``findings`` and
        ``events`` files (``.csv``, ``.parquet``, ``.xlsx``, ``.dta``, ``.sas7bdat``; SAS
        needs the optional package pyreadstat). CSV files may be comma, semicolon (then
        with decimal commas) or tab separated, in UTF-8, UTF-16 or Windows-1252 (with a
        DataWarning). Or a DuckDB database file (``.duckdb``), or an ibis connection
        (DuckDB, pyspark, ...) whose current database holds the tables: these are read by
        an engine (see ``engine``).
    patients, imaging, findings, events : pandas.DataFrame, optional
        The tables as DataFrames (instead of ``path``). Absent imaging/findings/events
        give empty tables (no imaging, no calcification, no events).
    column_map : dict, optional
        Renames your columns to canonical names: one flat dict for all tables
        (``{"PatID": "patient_id"}``) or one per table (``{"patients": {...}}``). Column
        names that equal a canonical name up to case, surrounding spaces and spaces or
        hyphens for underscores (``"Patient ID"``) are matched without a map. A target
        that looks like a misspelt canonical name (``"patiend_id"``) is a SchemaError with
        suggestions; other targets name extra columns, kept as covariates.
    on_error : {"raise", "exclude"}, default "raise"
        ``"raise"``: any problem raises :class:`CohortValidationError` listing all of them.
        ``"exclude"``: leave out the affected patients with all their rows; each rule that
        excluded patients is a step of ``cohort.flow`` (a patient is excluded once, at its
        first rule). A row is its patient's when its ``patient_id`` is blank or unknown but
        a key finds the patient (a finding's ``study_id`` → ``imaging.patient_id``): a
        finding with a blank patient_id on a study of P3 excludes P3. Rows belonging to
        no patient of the cohort (orphans, blank ids no key resolves) are dropped and
        counted as rows in the flow. The result validates again with no problem; a
        missing required column is raised even here.
    vocabularies : dict, optional
        Extra vocabulary values (``{"etiology": ["caroli"]}``) or synonyms
        (``{"event": {"sbp": "ascites"}}``).
    date_format : {"dmy", "mdy"} or str, optional
        Resolves ``01/02/2020``-style dates (day or month first), or an explicit strftime
        format tried before the built-in ones. A date impossible in the chosen order says
        so (``month 15 does not exist with date_format='dmy' ...; did you mean 'mdy'?``),
        and a column that mixes both orders gets one ``mixed_date_format`` problem.
    engine : {"pandas", "duckdb"}, optional
        Where the cohort is held. ``"pandas"`` (the default for a folder and DataFrames)
        reads everything into memory. ``"duckdb"`` (the default for a ``.duckdb`` file;
        also for a folder of parquet/CSV files or for DataFrames) keeps the tables in
        DuckDB: validation, the flow, the analysis tables and the aggregate statistics run
        there, with memory bounded by ``engine_options``. A connection's engine is its
        backend (``"duckdb"``, ``"pyspark"``, ...). ``cohort.engine`` reports it. See the
        "Large cohorts" page of the documentation.
    engine_options : dict, optional
        Settings of calcstats' own DuckDB connection and of pulls into pandas
        (:class:`calcstats.engine.EngineOptions`): ``memory_limit`` (default
        ``"2GB"``; DuckDB spills to disk above it), ``threads``, ``temp_directory``
        (spill files and the working database; default ``<tmp>/calcstats-duckdb``),
        ``database``, ``pull_limit``, ``sample_size``, ``seed``.
    tables : dict, optional
        Names of the tables in the source when they are not ``patients``, ``imaging``,
        ``findings``, ``events`` (matched ignoring case, temporary views included):
        ``{"patients": "person", "events": "condition_events"}``. Engine sources only.

    Returns
    -------
    Cohort or EngineCohort
        An :class:`~calcstats.cohort.EngineCohort` when an engine reads the cohort.

    Raises
    ------
    CohortValidationError
        With ``.problems`` (table, row, patient_id, column, value, rule, message, line):
        ``row`` is the 0-based position in the table as read; ``line`` the line of the
        CSV file (header = line 1) or the sheet row of the xlsx file, missing for
        DataFrames and other formats. Each message names the same place.
    SchemaError
        When the tables cannot be read or mapped at all.

    Examples
    --------
    >>> import pandas as pd
    >>> import calcstats as cs
    >>> pts = pd.DataFrame({"PatID": ["p1", "p2"], "sex": ["female", "M"],
    ...     "age_at_index": [54, 61], "index_date": ["2015-03-01", "2016-07-12"],
    ...     "etiology": ["PBC", "hepatolithiasis"], "cirrhosis_at_baseline": ["no", "yes"],
    ...     "last_followup_date": ["2020-01-01", "2021-05-30"]})
    >>> cohort = cs.read_cohort(patients=pts, column_map={"PatID": "patient_id"})
    >>> cohort.patients["sex"].tolist(), cohort.patients["etiology"].tolist()
    (['F', 'M'], ['pbc', 'hepatolithiasis'])
    """
    from calcstats.cohort._build import validate_and_build

    if date_format is not None and (
        not isinstance(date_format, str)
        or (date_format not in ("dmy", "mdy") and "%" not in date_format)
    ):
        raise InvalidParameterError(
            "The 'date_format' parameter of read_cohort must be 'dmy', 'mdy' or a strftime "
            f"format such as '%d/%m/%Y'. Got {date_format!r}."
        )
    check_param(on_error, [Options("raise", "exclude")], name="on_error", function="read_cohort")
    vocab = Vocabularies().extend(vocabularies)
    engine = _which_engine(source, engine, engine_options, tables)
    if engine != "pandas":
        from calcstats.cohort._engine_build import engine_validate_and_build
        from calcstats.cohort._engine_source import open_source
        from calcstats.engine import EngineOptions

        src = open_source(
            source,
            engine=engine,
            options=EngineOptions.of(engine_options),
            frames={
                "patients": patients,
                "imaging": imaging,
                "findings": findings,
                "events": events,
            },
            column_map=column_map,
            tables=tables,
        )
        return engine_validate_and_build(
            src, vocab=vocab, on_error=on_error, date_format=date_format
        )
    raw, sources = read_tables(
        source,
        {"patients": patients, "imaging": imaging, "findings": findings, "events": events},
        column_map,
    )
    return validate_and_build(
        raw, vocab=vocab, on_error=on_error, date_format=date_format, sources=sources
    )
