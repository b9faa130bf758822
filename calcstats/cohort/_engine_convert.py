"""Engine conversion: canonical types and vocabularies, by the pandas path's own rules.

Text values are converted the way :mod:`calcstats.cohort._convert` converts them, by the
same functions: the distinct values of a column are pulled from the engine (a column of
twenty million dates has a few thousand), converted in Python by ``_to_bool``,
``_to_vocab``, ``_to_float`` and ``read_dates``, and joined back as a small mapping table.
So a value is valid, missing, ambiguous or invalid (with the same reason) in the engine
exactly when it is in pandas. Ids and free text are trimmed and blanks made missing in
the engine itself; numbers and dates stored as such are cast.

Each converted table keeps, next to the canonical columns (schema order, then the extra
columns as read), the internal ``__key`` and ``__row`` and one ``__bad_<column>`` flag per
column whose values can be unreadable; the validation rules read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import SchemaError
from calcstats.cohort._convert import _KIND_TEXT, _rule_text, _to_bool, _to_float, _to_vocab
from calcstats.cohort._dates import _ORDER, read_dates
from calcstats.cohort._problems import problem_frame
from calcstats.cohort._schema import TABLES, Column, Vocabularies

__all__ = ["CASE_COLUMNS", "MAP_LIMIT", "ConvertedTable", "convert_table", "engine_problems"]

#: Most distinct values of a column converted through a mapping table.
MAP_LIMIT = 1_000_000
_INTERNAL = ("__key", "__row")


@dataclass
class ConvertedTable:
    """A table in canonical names and types, with its conversion problems."""

    expr: Any
    absent: set[str]
    problems: list[pd.DataFrame] = field(default_factory=list)
    kinds: dict[str, Any] = field(default_factory=dict)
    #: id column → (all lower case, all upper case)
    case: dict[str, tuple[bool, bool]] = field(default_factory=dict)


def engine_problems(
    table: str, rows: pd.DataFrame, column: str | None, values: Any, rule: str, what: Any, fix: str
) -> pd.DataFrame:
    """Problems of engine rows (``rows`` has ``__key``, ``__row`` and ``patient_id``).

    Rows whose position is known get the pandas path's message (:func:`problem_frame`);
    rows whose position the engine cannot tell (Spark, views) get ``row`` missing and a
    message that names the patient instead of the row. ``__key`` is kept to exclude them.
    """
    n = len(rows)
    if n == 0:
        return problem_frame(table, [], [], column, [], rule, "", fix).assign(__key=[])
    pos = rows["__row"].to_numpy(dtype=float)
    known = ~np.isnan(pos)
    if np.ndim(values):
        vals = np.asarray(values)
        vals = vals if vals.dtype.kind == "M" else vals.astype(object)
    else:
        vals = np.full(n, values, object)
    whats = np.broadcast_to(np.asarray(what, dtype=object), (n,))
    pids = rows["patient_id"].to_numpy(dtype=object) if "patient_id" in rows else [None] * n
    pids = np.asarray(pids, dtype=object)
    parts = []
    if known.any():
        idx = np.flatnonzero(known)
        parts.append(
            problem_frame(
                table,
                pos[idx].astype(np.int64),
                pids[idx],
                column,
                vals[idx],
                rule,
                whats[idx],
                fix,
            ).assign(__key=rows["__key"].to_numpy()[idx])
        )
    if (~known).any():
        idx = np.flatnonzero(~known)
        p = problem_frame(
            table,
            np.zeros(len(idx), dtype=np.int64),
            pids[idx],
            column,
            vals[idx],
            rule,
            whats[idx],
            fix,
        )
        p["row"] = pd.array([None] * len(idx), dtype="Int64")
        p["message"] = [m.replace(f"{table} row 0", table, 1) for m in p["message"]]
        parts.append(p.assign(__key=rows["__key"].to_numpy()[idx]))
    return pd.concat(parts, ignore_index=True)


# ------------------------------------------------------------------------- helpers
def _empty_raw(table: str) -> Any:
    import ibis

    cols = {c.name: pd.Series([], dtype=object) for c in TABLES[table].columns if c.required}
    df = pd.DataFrame(cols)
    schema = {c: "string" for c in cols} | {"__key": "int64", "__row": "int64"}
    df["__key"] = pd.Series([], dtype=np.int64)
    df["__row"] = pd.Series([], dtype=np.int64)
    return ibis.memtable(df, schema=schema)


def _blank_to_null(x: Any) -> Any:
    s = x.strip()
    return s.nullif("")


def _identity(mapping: pd.DataFrame, dtype: Any) -> bool:
    """Whether a column's values are all canonical already (text, none unreadable)."""
    if not dtype.is_string() or mapping["b"].any() or "parsed" in mapping.columns:
        return False
    v = mapping["v"].to_numpy(dtype=object)
    return bool(np.all(v == mapping["k"].to_numpy(dtype=object)))


#: Id columns whose letter case decides whether the case-clash check of their key runs:
#: the ids the check reads (patients' and events' patient ids, the imaging study ids,
#: the finding ids); other id columns add only ids the check finds as problems.
CASE_COLUMNS = {
    "patients": ("patient_id",),
    "imaging": ("study_id",),
    "findings": ("finding_id",),
    "events": ("patient_id",),
}
#: The characters the engine trims (Python's ``string.whitespace``).
_WHITESPACE = " \t\n\r\x0b\x0c"


def _text_facts(raw: Any, names: list[str], case: list[str]) -> dict[str, dict[str, bool]]:
    """Per text column (one aggregate query): does it need trimming (a value starting or
    ending with whitespace, or blank; else it is used as it is, the pandas path's fast
    path for ids), and for the columns in ``case``, is it all lower case or all upper
    case (then no two of its values differ only by case).

    The whitespace test reads the first character's code point and the last characters
    (``endswith``), much cheaper than trimming every value; it finds exactly the values
    trimming would change.
    """
    if not names:
        return {}
    metrics = {}
    for i, n in enumerate(names):
        x = raw[n]
        edge = x.ascii_str().isin([ord(ch) for ch in _WHITESPACE])
        for ch in _WHITESPACE:
            edge = edge | x.endswith(ch)
        metrics[f"t{i}"] = (edge | (x == "")).fill_null(False).cast("int64").sum()
        if n in case:
            metrics[f"l{i}"] = (x != x.lower()).fill_null(False).cast("int64").sum()
            metrics[f"u{i}"] = (x != x.upper()).fill_null(False).cast("int64").sum()
    got = raw.aggregate(**metrics).to_pandas().iloc[0]
    return {
        n: {
            "trim": bool(got[f"t{i}"]),
            "lower": n in case and not got[f"l{i}"],
            "upper": n in case and not got[f"u{i}"],
        }
        for i, n in enumerate(names)
    }


def _as_text(x: Any, dtype: Any) -> Any:
    """An id or text column as text: trimmed, blank → missing, integral numbers as ints."""
    import ibis

    if dtype.is_string():
        return _blank_to_null(x)
    if dtype.is_floating():
        finite = x.notnull() & ~x.isnan() & ~x.isinf()
        whole = x == x.floor()
        return ibis.cases(
            (finite & whole, x.cast("int64").cast("string")),
            (finite, x.cast("string")),
            else_=ibis.null().cast("string"),
        )
    return x.cast("string")


def _float(x: Any, dtype: Any) -> tuple[Any, Any | None]:
    import ibis

    if dtype.is_boolean():
        return ibis.null().cast("float64"), x.notnull()
    value = x.cast("float64")
    return ibis.cases((value.isnan(), ibis.null().cast("float64")), else_=value), None


@dataclass
class _Plan:
    column: Column
    mapping: pd.DataFrame | None = None  # k (raw), v (converted), b (bad), w (why)
    counts: pd.DataFrame | None = None  # k, n (rows), first (__row of first row)


def _distinct(raw: Any, name: str) -> pd.DataFrame:
    """Distinct non-missing values of a column with their row count and first row."""
    t = raw.filter(raw[name].notnull())
    agg = t.group_by(name).agg(n=t.count(), first=t["__row"].min(), key=t["__key"].min())
    out = agg.limit(MAP_LIMIT + 1).to_pandas()
    if len(out) > MAP_LIMIT:
        raise SchemaError(
            f"column {name} has more than {MAP_LIMIT:,} distinct values, too many to read "
            "as this column's type; store it with its own type (a parquet DATE, a number, "
            "a boolean) or fix its values."
        )
    return out.sort_values("key", kind="stable").reset_index(drop=True).rename(columns={name: "k"})


def _mapping(
    col: Column, counts: pd.DataFrame, vocab: Vocabularies, date_format: str | None
) -> pd.DataFrame:
    """The pandas path's conversion of each distinct value."""
    s = pd.Series(counts["k"].to_numpy(dtype=object), dtype=object)
    why = np.full(len(s), None, dtype=object)
    if col.kind == "date":
        parsed = read_dates(s, date_format=date_format)
        value = parsed.dates.to_numpy(dtype="datetime64[ns]")
        bad = parsed.invalid | parsed.ambiguous
        why = np.where(
            parsed.invalid, parsed.why, np.where(parsed.ambiguous, "__ambiguous__", None)
        )
    elif col.kind == "bool":
        conv, bad = _to_bool(s)
        value = conv.to_numpy(dtype=object)
    elif col.kind == "float":
        conv, bad = _to_float(s)
        value = conv.to_numpy(dtype=float)
    else:
        conv, bad = _to_vocab(s, col.vocab or col.name, vocab)
        value = conv.to_numpy(dtype=object)
    out = pd.DataFrame(
        {
            "k": counts["k"].to_numpy(),
            "v": value,
            "b": np.asarray(bad, bool),
            "w": pd.Series(why, dtype=object),
        }
    )
    if col.kind == "bool":
        out["v"] = pd.array(value, dtype="boolean")
    if col.kind == "date":
        out["parsed"] = [parsed] * len(out)
    return out


# --------------------------------------------------------------------------- main
def convert_table(
    table: str, raw: Any | None, vocab: Vocabularies, date_format: str | None
) -> ConvertedTable:
    """Canonical columns of one raw engine table, and the problems of its values."""
    import ibis

    spec = TABLES[table]
    if raw is None:
        raw = _empty_raw(table)
    schema = raw.schema()
    user_cols = [c for c in raw.columns if c not in _INTERNAL]
    absent: set[str] = set()
    problems: list[pd.DataFrame] = []
    plans: list[_Plan] = []
    for col in spec.columns:
        if col.name not in user_cols:
            if col.required and not (
                table == "patients" and col.name == "age_at_index" and "birth_date" in user_cols
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
                        f"has no required column {col.name!r} (columns present: {user_cols})",
                        f"add the column, or map your column to it with "
                        f"column_map={{'your_name': {col.name!r}}}",
                    ).assign(__key=[None])
                )
            continue
        dtype = schema[col.name]
        plan = _Plan(col)
        needs_map = (
            (col.kind == "date" and not dtype.is_temporal())
            or (col.kind == "bool" and not dtype.is_boolean())
            or (col.kind == "float" and not (dtype.is_numeric() or dtype.is_boolean()))
            or col.kind == "vocab"
        )
        if needs_map:
            plan.counts = _distinct(raw, col.name)
            plan.mapping = _mapping(col, plan.counts, vocab, date_format)
            if _identity(plan.mapping, dtype):  # values already canonical: no join
                plan.mapping = plan.counts = None
        plans.append(plan)
    facts = _text_facts(
        raw,
        [
            p.column.name
            for p in plans
            if p.column.kind in ("id", "str") and schema[p.column.name].is_string()
        ],
        list(CASE_COLUMNS[table]),
    )
    trimmed = {n for n, f in facts.items() if f["trim"]}
    case = {
        p.column.name: (facts[p.column.name]["lower"], facts[p.column.name]["upper"])
        if p.column.name in facts
        else (True, True)
        for p in plans
        if p.column.kind == "id" and p.column.name in CASE_COLUMNS[table]
    }
    # join the mapping tables (one per converted column)
    j = raw
    for i, plan in enumerate(plans):
        if plan.mapping is None:
            continue
        m = plan.mapping[["k", "v", "b", "w"]].rename(columns=lambda c, i=i: f"__m{i}_{c}")
        if plan.column.kind == "date":
            m[f"__m{i}_v"] = m[f"__m{i}_v"].astype("datetime64[ns]")
        mschema = {
            f"__m{i}_k": schema[plan.column.name],
            f"__m{i}_v": _ibis_type(plan.column),
            f"__m{i}_b": "boolean",
            f"__m{i}_w": "string",
        }
        mt = ibis.memtable(m, schema=mschema)
        j = j.left_join(mt, j[plan.column.name] == mt[f"__m{i}_k"]).drop(f"__m{i}_k")
    # canonical values and bad flags
    values: dict[str, Any] = {}
    flags: dict[str, Any] = {}
    why: dict[str, Any] = {}

    def text(name: str) -> Any:
        return (
            _as_text(j[name], schema[name])
            if name in trimmed or not schema[name].is_string()
            else j[name]
        )

    pid = text("patient_id") if "patient_id" in user_cols else None
    for i, plan in enumerate(plans):
        c, x = plan.column, j[plan.column.name]
        dtype = schema[c.name]
        if plan.mapping is not None:
            v = j[f"__m{i}_v"]
            values[c.name] = v.cast("date") if c.kind == "date" else v
            flags[c.name] = j[f"__m{i}_b"].fill_null(False)
            why[c.name] = j[f"__m{i}_w"]
        elif c.kind in ("id", "str"):
            values[c.name] = pid if c.name == "patient_id" else text(c.name)
        elif c.kind == "float":
            values[c.name], bad = _float(x, dtype)
            if bad is not None:
                flags[c.name] = bad
        elif c.kind == "date":
            values[c.name] = x.cast("date")
        elif c.kind == "vocab":  # every value already canonical
            values[c.name] = x.cast("string")
        else:  # boolean stored as boolean
            values[c.name] = x
    extras = [c for c in user_cols if c not in spec.names]
    ordered = {c.name: values[c.name] for c in spec.columns if c.name in values}
    out = j.select(
        **ordered,
        **{c: j[c] for c in extras},
        **{f"__bad_{c}": f for c, f in flags.items()},
        **{f"__why_{c}": w for c, w in why.items()},
        __key=j["__key"],
        __row=j["__row"],
    )
    for plan in plans:
        if plan.mapping is not None and plan.mapping["b"].any():
            problems.extend(_value_problems(table, out, raw, plan, vocab))
        elif plan.mapping is None and plan.column.name in flags:
            problems.extend(_flag_problems(table, out, raw, plan.column))
        if plan.column.kind == "date" and plan.mapping is not None:
            mixed = _mixed_date_problem(table, plan, date_format)
            if mixed is not None:
                problems.append(mixed.assign(__key=[None]))
    kinds = {c.name: _kind(c) for c in spec.columns if c.name in ordered}
    return ConvertedTable(out, absent, problems, kinds, case)


def _ibis_type(col: Column) -> str:
    return {"date": "timestamp", "bool": "boolean", "float": "float64"}.get(col.kind, "string")


def _kind(col: Column) -> str:
    return {"date": "date", "bool": "bool", "float": "float"}.get(col.kind, "text")


def _bad_rows(out: Any, raw: Any, name: str) -> pd.DataFrame:
    bad = out.filter(out[f"__bad_{name}"])
    cols = {"__key": bad["__key"], "__row": bad["__row"]}
    if "patient_id" in out.columns:
        cols["patient_id"] = bad["patient_id"]
    if f"__why_{name}" in out.columns:
        cols["why"] = bad[f"__why_{name}"]
    rows = bad.select(**cols).order_by("__key").to_pandas()
    # the raw values as given
    keyed = (
        raw.select("__key", name).filter(raw["__key"].isin(rows["__key"].tolist()))
        if len(rows) <= 10_000
        else raw.select("__key", name).semi_join(bad.select("__key"), "__key")
    )
    given = keyed.to_pandas().set_index("__key")[name]
    rows["raw"] = given.reindex(rows["__key"].to_numpy()).to_numpy(dtype=object)
    return rows


def _value_problems(
    table: str, out: Any, raw: Any, plan: _Plan, vocab: Vocabularies
) -> list[pd.DataFrame]:
    c = plan.column
    rows = _bad_rows(out, raw, c.name)
    if c.kind != "date":
        rule, what, fix = _rule_text(c, table, vocab)
        return [
            engine_problems(
                table, rows, c.name, rows["raw"].to_numpy(dtype=object), rule, what, fix
            )
        ]
    rule, generic, fix = _KIND_TEXT["date"]
    amb = rows["why"].to_numpy(dtype=object) == "__ambiguous__"
    found = []
    inv = rows.loc[~amb]
    if len(inv):
        what = [generic if w is None or pd.isna(w) else f"is impossible: {w}" for w in inv["why"]]
        found.append(
            engine_problems(
                table,
                inv,
                c.name,
                inv["raw"].to_numpy(dtype=object),
                rule,
                np.array(what, dtype=object),
                fix,
            )
        )
    am = rows.loc[amb]
    if len(am):
        found.append(
            engine_problems(
                table,
                am,
                c.name,
                am["raw"].to_numpy(dtype=object),
                "ambiguous_date",
                "could be day/month or month/day",
                "pass date_format='dmy' or 'mdy' to read_cohort, or write YYYY-MM-DD",
            )
        )
    return found


def _flag_problems(table: str, out: Any, raw: Any, col: Column) -> list[pd.DataFrame]:
    rows = _bad_rows(out, raw, col.name)
    if not len(rows):
        return []
    rule, what, fix = _KIND_TEXT[col.kind]
    return [
        engine_problems(table, rows, col.name, rows["raw"].to_numpy(dtype=object), rule, what, fix)
    ]


def _example(counts: pd.DataFrame, mask: np.ndarray) -> str:
    """``row 12 '25/12/2020'``: the first row holding a value flagged in ``mask``."""
    sel = counts.loc[mask]
    i = int(np.argmin(sel["first"].to_numpy(dtype=float)))
    first = sel["first"].iloc[i]
    where = "row ?" if pd.isna(first) else f"row {int(first)}"
    return f"{where} {str(sel['k'].iloc[i]).strip()!r}"


def _mixed_date_problem(table: str, plan: _Plan, date_format: str | None) -> pd.DataFrame | None:
    """The pandas path's ``mixed_date_problem`` with row counts of the distinct values."""
    counts, mapping = plan.counts, plan.mapping
    assert counts is not None and mapping is not None
    if not len(mapping):
        return None
    parsed = mapping["parsed"].iloc[0]
    n = counts["n"].to_numpy(dtype=np.int64)
    d, m = parsed.only_dmy, parsed.only_mdy
    column = plan.column.name
    if date_format in _ORDER:
        against = m if date_format == "dmy" else d
        if not against.any():
            return None
        other = "mdy" if date_format == "dmy" else "dmy"
        what = (
            f"column {column} has {int(n[against].sum())} value(s) that are impossible with "
            f"date_format={date_format!r} ({_ORDER[date_format]}) but valid as "
            f"{_ORDER[other]} (e.g. {_example(counts, against)}): the column seems to mix "
            f"day-first and month-first dates, so its other values, read as "
            f"{_ORDER[date_format]}, may be wrong"
        )
        fix = (
            "check the column where it was exported and write every date as YYYY-MM-DD; "
            f"if the whole column is {_ORDER[other]}, pass date_format={other!r}"
        )
    else:
        if not (d.any() and m.any()):
            return None
        what = (
            f"column {column} mixes day-first and month-first dates: {int(n[d].sum())} "
            f"value(s) can only be day/month/year (e.g. {_example(counts, d)}) and "
            f"{int(n[m].sum())} only month/day/year (e.g. {_example(counts, m)}); each is "
            f"read in the only order possible, and the {int(n[parsed.ambiguous].sum())} "
            "value(s) that could be either are reported as ambiguous_date"
        )
        fix = (
            "write every date as YYYY-MM-DD, or correct the values written in the other "
            "order at their source"
        )
    return problem_frame(table, None, None, column, None, "mixed_date_format", what, fix)
