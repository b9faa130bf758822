"""Converting table values to canonical types and vocabularies, strictly.

Every conversion returns the converted values and a mask of values that were given but
could not be converted (a problem, never a silent NaN/NaT). Conversions work on the
distinct values of a column (``pandas.factorize``) or on pyarrow string kernels, so a
column of a million dates with a few thousand distinct values is parsed a few thousand
times.

Dates
-----
Accepted per value: ISO ``2021-03-04`` (with or without a time, which is dropped, and a
UTC offset such as ``2021-03-04T00:00:00+01:00``, which keeps the local date 2021-03-04),
``2021/03/04``, ``20210304``, ``4 Mar 2021`` / ``March 4, 2021`` / ``04MAR2021``,
``04.03.2021`` (day first), ``04/03/2021`` or ``04-03-2021`` (day or month first: given by
``date_format="dmy"`` or ``"mdy"``, else inferred from the column when some value has a
first part above 12 (day first) or a second part above 12 (month first); a value that is
still ambiguous is a problem), Excel serial day numbers 10000–99999 (1927–2173) and native
date types of parquet, Excel, Stata and SAS files (a time-zone-aware timestamp gives its
local calendar date: 2020-03-01 00:30+01:00 is 2020-03-01, not the UTC date).
``date_format`` may also be an explicit ``strftime`` format, tried first. Two-digit years
are never guessed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from calcstats._errors import SchemaError
from calcstats.cohort._problems import problem_frame
from calcstats.cohort._schema import (
    BOOLEAN_FALSE,
    BOOLEAN_TRUE,
    TABLES,
    Column,
    Vocabularies,
    normalise_key,
    parse_segment,
)

__all__ = ["coerce_table", "parse_dates"]


def _arrow_text(s: pd.Series):
    """The column as a pyarrow string array when every value is text or missing."""
    if s.dtype != object:
        return None
    try:
        return pa.array(s.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None


def _blank(s: pd.Series) -> np.ndarray:
    """Missing values: NA, or text that is empty after stripping."""
    miss = s.isna().to_numpy()
    if s.dtype == object:
        arr = _arrow_text(s)
        if arr is not None:
            empty = pc.fill_null(pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(arr)), 0), False)
            return miss | empty.to_numpy(zero_copy_only=False)
        codes, uniques = pd.factorize(s)
        ublank = np.array([isinstance(u, str) and not u.strip() for u in uniques], dtype=bool)
        if len(uniques):
            miss = miss | ((codes >= 0) & ublank[np.maximum(codes, 0)])
    return miss


def _excel_serial(x: np.ndarray) -> np.ndarray:
    """Excel serial day numbers (10000–99999) → datetime64[ns]; NaT elsewhere."""
    x = np.asarray(x, dtype=float)
    ok = np.isfinite(x) & (x >= 10000) & (x < 100000)
    out = np.full(len(x), np.datetime64("NaT"), dtype="datetime64[ns]")
    days = np.floor(x[ok]).astype(np.int64)
    out[ok] = np.datetime64("1899-12-30", "ns") + days.astype("timedelta64[D]")
    return out


def _to_dt(strings: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(strings, format=fmt, errors="coerce")


def _parse_unique_dates(
    uniq: pd.Series, date_format: str | None
) -> tuple[np.ndarray, np.ndarray]:
    """Parse distinct date texts; returns datetime64[ns] values and an ambiguity mask."""
    n = len(uniq)
    out = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    ambiguous = np.zeros(n, dtype=bool)
    s = uniq.reset_index(drop=True)
    is_str = s.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    # native datetime-like objects and numbers (e.g. from Excel) first
    for i in np.flatnonzero(~is_str):
        v = s.iloc[i]
        if isinstance(v, bool | np.bool_):
            continue
        if isinstance(v, int | float | np.integer | np.floating):
            out.iloc[i] = _excel_serial(np.array([v]))[0]
            continue
        try:
            ts = pd.Timestamp(v)
        except (TypeError, ValueError):
            continue
        if ts is not pd.NaT and ts.tzinfo is not None:
            ts = ts.tz_localize(None)  # the calendar date where it was recorded
        out.iloc[i] = ts
    txt = s.where(is_str, "").astype(str).str.strip()
    todo = pd.Series(is_str, index=txt.index) & out.isna()

    def fill(mask: pd.Series, values: pd.Series) -> None:
        m = mask & todo & values.notna()
        out.loc[m] = values[m]
        todo.loc[m] = False

    if date_format and "%" in date_format:
        fill(todo, _to_dt(txt.where(todo), date_format))
    # the date part of an ISO timestamp: a UTC offset ("Z", "+01:00") keeps the local date
    iso = txt.str.match(
        r"^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
    if (iso & todo).any():
        fill(iso, pd.to_datetime(txt.where(iso & todo).str[:10].str.replace(
            r"^(\d{4})-(\d{1,2})-(\d{1,2}).*$", r"\1-\2-\3", regex=True),
            format="%Y-%m-%d", errors="coerce"))
    ymd_slash = txt.str.match(r"^\d{4}/\d{1,2}/\d{1,2}$")
    if (ymd_slash & todo).any():
        fill(ymd_slash, _to_dt(txt.where(ymd_slash & todo), "%Y/%m/%d"))
    compact = txt.str.match(r"^\d{8}$")
    if (compact & todo).any():
        fill(compact, _to_dt(txt.where(compact & todo), "%Y%m%d"))
    serial = txt.str.match(r"^\d{5}(\.\d+)?$")
    if (serial & todo).any():
        vals = pd.to_numeric(txt.where(serial & todo), errors="coerce").to_numpy()
        fill(serial, pd.Series(_excel_serial(vals), index=txt.index))
    parts = txt.str.extract(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})$")
    dmy_like = parts[0].notna() & todo
    if dmy_like.any():
        a = pd.to_numeric(parts[0], errors="coerce")
        b = pd.to_numeric(parts[2], errors="coerce")
        dots = parts[1] == "."
        if date_format in ("dmy", "mdy"):
            day_first = pd.Series(date_format == "dmy", index=txt.index)
        elif date_format is None or "%" in date_format:
            evidence_d = bool(((a > 12) & dmy_like & ~dots).any())
            evidence_m = bool(((b > 12) & dmy_like & ~dots).any())
            day_first = pd.Series(dots.to_numpy(), index=txt.index) | (
                (a > 12) | (evidence_d and not evidence_m)
            )
            month_first = ~dots & ((b > 12) | (evidence_m and not evidence_d))
            amb = dmy_like & ~day_first & ~month_first & (a != b)
            ambiguous = amb.to_numpy(dtype=bool)
            dmy_like = dmy_like & ~amb
        else:
            raise SchemaError(
                f"date_format must be 'dmy', 'mdy' or a strftime format such as '%d/%m/%Y'; "
                f"got {date_format!r}."
            )
        day = a.where(day_first, b)
        month = b.where(day_first, a)
        iso_txt = (parts[3] + "-" + month.astype("Int64").astype(str) + "-"
                   + day.astype("Int64").astype(str))
        fill(dmy_like, _to_dt(iso_txt.where(dmy_like), "%Y-%m-%d"))
    if todo.any():
        words = txt.str.replace(",", " ", regex=False).str.replace(
            r"[\s\-]+", " ", regex=True).str.strip()
        for fmt in ("%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%d%b%Y"):
            if not todo.any():
                break
            fill(todo, _to_dt(words.where(todo), fmt))
    return out.dt.normalize().to_numpy(dtype="datetime64[ns]"), ambiguous


def parse_dates(
    s: pd.Series, *, date_format: str | None = None
) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Parse a column of dates strictly.

    Returns
    -------
    (dates, invalid, ambiguous)
        ``dates`` is datetime64[ns] (NaT where missing or invalid); ``invalid`` marks
        values given but not readable as a date; ``ambiguous`` marks day/month-ambiguous
        values (also NaT).

    Examples
    --------
    >>> d, bad, amb = parse_dates(pd.Series(["2021-03-04", "4 Mar 2021", "31/12/2020", "x"]))
    >>> d.dt.strftime("%Y-%m-%d").tolist()[:3], bad.tolist()
    (['2021-03-04', '2021-03-04', '2020-12-31'], [False, False, False, True])
    """
    n = len(s)
    if pd.api.types.is_datetime64_any_dtype(s):
        vals = s
        if getattr(s.dt, "tz", None) is not None:
            vals = s.dt.tz_localize(None)  # local calendar date, not the UTC one
        return (vals.dt.normalize().astype("datetime64[ns]").reset_index(drop=True),
                np.zeros(n, dtype=bool), np.zeros(n, dtype=bool))
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        vals = _excel_serial(s.to_numpy(dtype=float, na_value=np.nan))
        dates = pd.Series(vals, dtype="datetime64[ns]")
        return dates, s.notna().to_numpy() & dates.isna().to_numpy(), np.zeros(n, dtype=bool)
    codes, uniques = pd.factorize(s)
    missing = _blank_codes(codes, uniques)
    parsed, amb_u = _parse_unique_dates(pd.Series(uniques, dtype=object), date_format)
    safe = np.maximum(codes, 0)
    vals = parsed[safe] if len(parsed) else np.full(n, np.datetime64("NaT"), "datetime64[ns]")
    vals = np.where(codes >= 0, vals, np.datetime64("NaT"))
    amb = (codes >= 0) & (amb_u[safe] if len(amb_u) else False)
    dates = pd.Series(vals.astype("datetime64[ns]"))
    invalid = ~missing & dates.isna().to_numpy() & ~amb
    return dates, invalid, amb


def _to_float(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    if pd.api.types.is_bool_dtype(s):
        return pd.Series(np.full(len(s), np.nan)), s.notna().to_numpy()
    if pd.api.types.is_numeric_dtype(s):
        return (pd.Series(s.to_numpy(dtype=float, na_value=np.nan, copy=True)),
                np.zeros(len(s), bool))
    missing = _blank(s)
    vals = pd.to_numeric(s.astype(str).str.strip().where(~missing), errors="coerce")
    vals = pd.Series(vals.to_numpy(dtype=float, na_value=np.nan))
    return vals, ~missing & vals.isna().to_numpy()


def _blank_codes(codes: np.ndarray, uniques: object) -> np.ndarray:
    """Missing values from a factorization: NA (code -1) or blank text."""
    ublank = np.array([isinstance(u, str) and not u.strip() for u in uniques] + [True],
                      dtype=bool)
    return ublank[np.where(codes >= 0, codes, len(ublank) - 1)]


def _map_uniques(s: pd.Series, fn) -> tuple[np.ndarray, np.ndarray]:
    """Apply ``fn`` (value → canonical or None) to distinct values; (result, unmapped)."""
    codes, uniques = pd.factorize(s)
    mapped = np.array([fn(u) for u in uniques] + [None], dtype=object)
    at = np.where(codes >= 0, codes, len(uniques))
    res = mapped[at]
    missing = _blank_codes(codes, uniques)
    bad = ~missing & np.array([m is None for m in mapped], dtype=bool)[at]
    res = np.where(missing, None, res)
    return res, bad


def _to_bool(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    def fn(v: object) -> bool | None:
        if isinstance(v, bool | np.bool_):
            return bool(v)
        if isinstance(v, int | float | np.integer | np.floating) and v in (0, 1):
            return bool(v)
        key = normalise_key(v)
        if key in BOOLEAN_TRUE:
            return True
        if key in BOOLEAN_FALSE:
            return False
        return None

    res, bad = _map_uniques(s, fn)
    return pd.Series(res, dtype="boolean"), bad


def _to_vocab(s: pd.Series, name: str, vocab: Vocabularies) -> tuple[pd.Series, np.ndarray]:
    lookup = vocab.lookup(name)

    def fn(v: object) -> str | None:
        if name == "segment":
            seg = parse_segment(v)
            if seg is not None and seg in vocab[name]:
                return seg
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        return lookup.get(normalise_key(v))

    res, bad = _map_uniques(s, fn)
    return pd.Series(res, dtype=object), bad


def _id_text(v: object) -> str:
    """One id as text; an integral number gives the same text in any column type (1.0 → "1")."""
    if isinstance(v, float | np.floating) and np.isfinite(v) and float(v).is_integer():
        return str(int(v))
    return str(v).strip()


def _to_id(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    if pd.api.types.is_float_dtype(s):
        vals = s.to_numpy(dtype=float, na_value=np.nan)
        finite = np.isfinite(vals)
        if (np.floor(vals[finite]) == vals[finite]).all():
            txt = pd.Series(vals).astype("Int64").astype(str)
        else:
            txt = s.astype(str)
        out = np.where(finite, txt.to_numpy(dtype=object), None)
        return pd.Series(out, dtype=object), np.zeros(len(s), dtype=bool)
    if s.dtype != object:
        out = s.astype(str).to_numpy(dtype=object)
        out = np.where(s.isna().to_numpy(), None, out)
        return pd.Series(out, dtype=object), np.zeros(len(s), dtype=bool)
    arr = _arrow_text(s)
    if arr is not None:
        trimmed = pc.utf8_trim_whitespace(arr)
        empty = pc.equal(pc.utf8_length(trimmed), 0)
        changed = pc.any(pc.not_equal(pc.utf8_length(trimmed), pc.utf8_length(arr))).as_py()
        if not changed and not pc.any(empty).as_py():
            # nothing to strip: keep the original strings (no copy of a million objects)
            out = s.to_numpy(dtype=object, copy=True)
            if arr.null_count:
                out = np.where(s.isna().to_numpy(), None, out)
            return pd.Series(out, dtype=object), np.zeros(len(s), dtype=bool)
        trimmed = pc.if_else(empty, pa.scalar(None, pa.string()), trimmed)
        out = trimmed.to_numpy(zero_copy_only=False)
        return pd.Series(out, dtype=object), np.zeros(len(s), dtype=bool)
    missing = _blank(s)
    codes, uniques = pd.factorize(s)
    conv = np.array([_id_text(u) for u in uniques] + [None], dtype=object)
    txt = conv[np.where(codes >= 0, codes, len(uniques))]
    return pd.Series(np.where(missing, None, txt), dtype=object), np.zeros(len(s), dtype=bool)


_KIND_TEXT = {
    "float": ("invalid_number", "is not a number",
              "write a plain number (decimal point, no units) or leave the cell empty"),
    "bool": ("invalid_boolean", "is not a yes/no value",
             "use true/false, yes/no, y/n or 1/0"),
    "date": ("invalid_date", "is not a date calcstats can read",
             "write the date as YYYY-MM-DD (ISO 8601)"),
}


def coerce_table(
    table: str,
    df: pd.DataFrame | None,
    vocab: Vocabularies,
    date_format: str | None,
) -> tuple[pd.DataFrame, list[pd.DataFrame], set[str]]:
    """Canonical names, types and values for one table.

    Returns the converted frame (canonical columns first, then extra columns; index =
    row as read), the problems found while converting, and the set of required columns
    that are absent (present in the frame as all-missing placeholders).
    """
    spec = TABLES[table]
    if df is None:
        df = pd.DataFrame({c.name: pd.Series([], dtype=object) for c in spec.columns
                           if c.required})
    problems: list[pd.DataFrame] = []
    absent: set[str] = set()
    n = len(df)
    rows = np.arange(n)
    pid_col = None
    if "patient_id" in df.columns:
        pid_col, _ = _to_id(df["patient_id"])
    out: dict[str, pd.Series] = {}
    for col in spec.columns:
        if col.name not in df.columns:
            if col.required and not (table == "patients" and col.name == "age_at_index"
                                     and "birth_date" in df.columns):
                absent.add(col.name)
                problems.append(problem_frame(
                    table, None, None, col.name, None, "missing_column",
                    f"has no required column {col.name!r} (columns present: "
                    f"{list(df.columns)})",
                    f"add the column, or map your column to it with "
                    f"column_map={{'your_name': {col.name!r}}}"))
            continue
        raw = df[col.name]
        converted, bad, amb = _convert(col, raw, vocab, date_format, pid_col)
        out[col.name] = converted
        if bad.any():
            rule, what, fix = _rule_text(col, table, vocab)
            idx = np.flatnonzero(bad)
            problems.append(problem_frame(
                table, rows[idx], None if pid_col is None else pid_col.to_numpy()[idx],
                col.name, raw.to_numpy(dtype=object)[idx], rule, what, fix))
        if amb is not None and amb.any():
            idx = np.flatnonzero(amb)
            problems.append(problem_frame(
                table, rows[idx], None if pid_col is None else pid_col.to_numpy()[idx],
                col.name, raw.to_numpy(dtype=object)[idx], "ambiguous_date",
                "could be day/month or month/day",
                "pass date_format='dmy' or 'mdy' to read_cohort, or write YYYY-MM-DD"))
    cols: dict[str, object] = {}
    for c in spec.columns:
        if c.name in out:
            cols[c.name] = out[c.name].to_numpy()
        elif c.name in absent:
            cols[c.name] = np.full(n, None, dtype=object)
    for c in df.columns:
        if c not in spec.names:
            cols[c] = df[c].to_numpy(copy=True)  # never share memory with the input
    return pd.DataFrame(cols, index=pd.RangeIndex(n), copy=False), problems, absent


def _convert(col: Column, raw: pd.Series, vocab: Vocabularies, date_format: str | None,
             pid: pd.Series | None = None):
    raw = raw.reset_index(drop=True)
    if col.kind == "id":
        if col.name == "patient_id" and pid is not None:
            return pid, np.zeros(len(raw), dtype=bool), None
        s, bad = _to_id(raw)
        return s, bad, None
    if col.kind == "str":
        missing = _blank(raw)
        txt = raw.astype(object).where(~missing, None)
        if raw.dtype == object:
            codes, uniques = pd.factorize(txt)
            conv = np.array([_id_text(u) for u in uniques] + [None], dtype=object)
            txt = pd.Series(conv[np.where(codes >= 0, codes, len(uniques))])
        return txt, np.zeros(len(raw), dtype=bool), None
    if col.kind == "float":
        s, bad = _to_float(raw)
        return s, bad, None
    if col.kind == "bool":
        s, bad = _to_bool(raw)
        return s, bad, None
    if col.kind == "date":
        return parse_dates(raw, date_format=date_format)
    s, bad = _to_vocab(raw, col.vocab or col.name, vocab)
    return s, bad, None


def _rule_text(col: Column, table: str, vocab: Vocabularies) -> tuple[str, str, str]:
    if col.kind == "vocab":
        name = col.vocab or col.name
        allowed = list(vocab[name])
        return ("unknown_value", f"is not in the {name} vocabulary {allowed}",
                f"use one of the allowed values, or extend the vocabulary with "
                f"read_cohort(..., vocabularies={{{name!r}: ['your_value']}})")
    return _KIND_TEXT[col.kind]
