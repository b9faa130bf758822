"""Converting table values to canonical types and vocabularies, strictly.

Every conversion returns the converted values and a mask of values that were given but
could not be converted (a problem, never a silent NaN/NaT). Conversions work on the
distinct values of a column (``pandas.factorize``) or on pyarrow string kernels, so a
column of a million dates with a few thousand distinct values is parsed a few thousand
times.

Text in any pandas dtype (``string``, ``category``, Arrow-backed) is first turned into an
``object`` column (:func:`calcstats.cohort._text.plain`), so surrounding whitespace is
stripped and blank text is missing whatever the dtype. Dates are read by
:mod:`calcstats.cohort._dates`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from calcstats.cohort._dates import mixed_date_problem, parse_dates, read_dates
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
from calcstats.cohort._text import arrow_text, blank, blank_codes, plain

__all__ = ["coerce_table", "parse_dates"]


def _to_float(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    if pd.api.types.is_bool_dtype(s):
        return pd.Series(np.full(len(s), np.nan)), s.notna().to_numpy()
    if pd.api.types.is_numeric_dtype(s):
        return (
            pd.Series(s.to_numpy(dtype=float, na_value=np.nan, copy=True)),
            np.zeros(len(s), bool),
        )
    missing = blank(s)
    vals = pd.to_numeric(s.astype(str).str.strip().where(~missing), errors="coerce")
    vals = pd.Series(vals.to_numpy(dtype=float, na_value=np.nan))
    return vals, ~missing & vals.isna().to_numpy()


def _map_uniques(s: pd.Series, fn) -> tuple[np.ndarray, np.ndarray]:
    """Apply ``fn`` (value → canonical or None) to distinct values; (result, unmapped)."""
    codes, uniques = pd.factorize(s)
    mapped = np.array([fn(u) for u in uniques] + [None], dtype=object)
    at = np.where(codes >= 0, codes, len(uniques))
    res = mapped[at]
    missing = blank_codes(codes, uniques)
    bad = ~missing & np.array([m is None for m in mapped], dtype=bool)[at]
    res = np.where(missing, np.array(None), res)
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
    arr = arrow_text(s)
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
    missing = blank(s)
    codes, uniques = pd.factorize(s)
    conv = np.array([_id_text(u) for u in uniques] + [None], dtype=object)
    txt = conv[np.where(codes >= 0, codes, len(uniques))]
    out = pd.Series(np.where(missing, np.array(None), txt), dtype=object)
    return out, np.zeros(len(s), dtype=bool)


_KIND_TEXT = {
    "float": (
        "invalid_number",
        "is not a number",
        "write a plain number (decimal point, no units) or leave the cell empty",
    ),
    "bool": ("invalid_boolean", "is not a yes/no value", "use true/false, yes/no, y/n or 1/0"),
    "date": (
        "invalid_date",
        "is not a date calcstats can read",
        "write the date as YYYY-MM-DD (ISO 8601)",
    ),
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
        df = pd.DataFrame({c.name: pd.Series([], dtype=object) for c in spec.columns if c.required})
    problems: list[pd.DataFrame] = []
    absent: set[str] = set()
    n = len(df)
    rows = np.arange(n)
    pid_col = None
    if "patient_id" in df.columns:
        pid_col, _ = _to_id(plain(df["patient_id"]).reset_index(drop=True))
    pids = None if pid_col is None else pid_col.to_numpy()
    out: dict[str, pd.Series] = {}
    for col in spec.columns:
        if col.name not in df.columns:
            if col.required and not (
                table == "patients" and col.name == "age_at_index" and "birth_date" in df.columns
            ):
                absent.add(col.name)
                problems.append(
                    problem_frame(
                        table,
                        None,
                        None,
                        col.name,
                        None,
                        "missing_column",
                        f"has no required column {col.name!r} (columns present: "
                        f"{list(df.columns)})",
                        f"add the column, or map your column to it with "
                        f"column_map={{'your_name': {col.name!r}}}",
                    )
                )
            continue
        raw = plain(df[col.name]).reset_index(drop=True)
        if col.kind == "date":
            problems.extend(_date_problems(table, col.name, raw, date_format, pids, out))
            continue
        converted, bad = _convert(col, raw, vocab, pid_col)
        out[col.name] = converted
        if bad.any():
            rule, what, fix = _rule_text(col, table, vocab)
            idx = np.flatnonzero(bad)
            problems.append(
                problem_frame(
                    table,
                    rows[idx],
                    None if pids is None else pids[idx],
                    col.name,
                    raw.to_numpy(dtype=object)[idx],
                    rule,
                    what,
                    fix,
                )
            )
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


def _date_problems(
    table: str,
    name: str,
    raw: pd.Series,
    date_format: str | None,
    pids: np.ndarray | None,
    out: dict[str, pd.Series],
) -> list[pd.DataFrame]:
    """Read one date column into ``out``; problems of its values (and of the column)."""
    parsed = read_dates(raw, date_format=date_format)
    out[name] = parsed.dates
    found = []
    rule, generic, fix = _KIND_TEXT["date"]
    if parsed.invalid.any():
        idx = np.flatnonzero(parsed.invalid)
        what = [generic if w is None else f"is impossible: {w}" for w in parsed.why[idx]]
        found.append(
            problem_frame(
                table,
                idx,
                None if pids is None else pids[idx],
                name,
                raw.to_numpy(dtype=object)[idx],
                rule,
                np.array(what, dtype=object),
                fix,
            )
        )
    if parsed.ambiguous.any():
        idx = np.flatnonzero(parsed.ambiguous)
        found.append(
            problem_frame(
                table,
                idx,
                None if pids is None else pids[idx],
                name,
                raw.to_numpy(dtype=object)[idx],
                "ambiguous_date",
                "could be day/month or month/day",
                "pass date_format='dmy' or 'mdy' to read_cohort, or write YYYY-MM-DD",
            )
        )
    mixed = mixed_date_problem(table, name, raw, parsed, date_format)
    if mixed is not None:
        found.append(mixed)
    return found


def _convert(col: Column, raw: pd.Series, vocab: Vocabularies, pid: pd.Series | None = None):
    if col.kind == "id":
        if col.name == "patient_id" and pid is not None:
            return pid, np.zeros(len(raw), dtype=bool)
        return _to_id(raw)
    if col.kind == "str":
        missing = blank(raw)
        txt = raw.astype(object).where(~missing, None)
        if raw.dtype == object:
            codes, uniques = pd.factorize(txt)
            conv = np.array([_id_text(u) for u in uniques] + [None], dtype=object)
            txt = pd.Series(conv[np.where(codes >= 0, codes, len(uniques))])
        return txt, np.zeros(len(raw), dtype=bool)
    if col.kind == "float":
        return _to_float(raw)
    if col.kind == "bool":
        return _to_bool(raw)
    return _to_vocab(raw, col.vocab or col.name, vocab)


def _rule_text(col: Column, table: str, vocab: Vocabularies) -> tuple[str, str, str]:
    if col.kind == "vocab":
        name = col.vocab or col.name
        allowed = list(vocab[name])
        return (
            "unknown_value",
            f"is not in the {name} vocabulary {allowed}",
            f"use one of the allowed values, or extend the vocabulary with "
            f"read_cohort(..., vocabularies={{{name!r}: ['your_value']}})",
        )
    return _KIND_TEXT[col.kind]
