"""From validated tables to a Cohort: raise every problem, or exclude and account for it.

:func:`validate_and_build` converts and checks the tables
(:func:`calcstats.cohort._validate.validate_tables`), locates each problem (the patient it
belongs to, found through a key when its own ``patient_id`` is blank or unknown; the line of
the file it was read from), then raises :class:`CohortValidationError` or, with
``on_error="exclude"``, leaves out what the problems touch:

1. A problem is charged to the patient it belongs to: the row's own ``patient_id`` when that
   patient is in the patients table; otherwise the patient found through a key: a finding's
   study (``study_id`` → ``imaging.patient_id``), an imaging study's findings (``study_id``
   → ``findings.patient_id``). A finding with a blank ``patient_id`` on a study of P3 is P3's:
   the problem row names P3, and P3 is left out (kept, P3 would look uncalcified).
2. A charged patient is left out with every row of theirs, in the flow step of the first
   rule (``RULES`` order) charged to them.
3. A problem row charged to no patient (an orphan, a blank id no key resolves) is dropped
   and counted as a row (``n_rows_excluded``) in the flow step of its first rule.
4. A dropped row takes its dependents: the findings of a dropped imaging study go with it.
   This follows from 1 and 2 with the rules: a finding on a study of patient P is either
   P's (left out with P), another cohort patient's (``study_patient_mismatch``, charged to
   that patient), or no cohort patient's (a problem row of its own, dropped).
5. A problem about a whole column (``missing_column``) cannot be fixed by leaving patients
   out and is raised; a column mixing day-first and month-first dates
   (``mixed_date_format``) is repeated as a DataWarning, its rows being problems of their own.

So the returned cohort validates again with no problem, and ``flow.n_in`` equals
``flow.n_out`` plus every excluded patient.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from calcstats._errors import CohortValidationError, DataWarning, user_stacklevel
from calcstats.cohort._cross import _d
from calcstats.cohort._flow import Flow
from calcstats.cohort._problems import relocate
from calcstats.cohort._read import TABLE_NAMES, Source
from calcstats.cohort._schema import PLAUSIBLE_RANGES, TABLES, Vocabularies
from calcstats.cohort._validate import COLUMN_NOTES, RULES, validate_tables

__all__ = ["validate_and_build"]


def step_reason(reason: str, n_rows: int) -> str:
    """A flow step's reason, with the rows it dropped that belong to no cohort patient
    (counted as rows, never as patients).

    Examples
    --------
    >>> step_reason("Rows of a patient missing from the patients table", 1)
    'Rows of a patient missing from the patients table (1 row, no patient)'
    """
    if not n_rows:
        return reason
    return f"{reason} ({n_rows:,} row{'s' if n_rows != 1 else ''}, no patient)"


def _ids(df: pd.DataFrame, column: str) -> np.ndarray:
    if column in df.columns:
        return df[column].to_numpy(dtype=object)
    return np.full(len(df), None, dtype=object)


def _charges(frames: dict[str, pd.DataFrame], allp: pd.DataFrame, cohort: pd.Index):
    """Per problem: the cohort patients it is charged to, and the key that found them."""
    img, fnd = frames["imaging"], frames["findings"]
    owner = pd.Series(_ids(img, "patient_id"), index=_ids(img, "study_id"))
    owner = owner[owner.isin(cohort) & owner.index.notna()]
    owner = owner[~owner.index.duplicated()]
    fpat = pd.Series(_ids(fnd, "patient_id"), index=_ids(fnd, "study_id"))
    fpat = fpat[fpat.isin(cohort) & fpat.index.notna()]
    by_study = fpat.groupby(level=0, sort=False).agg(lambda s: tuple(pd.unique(s)))
    charged: list[tuple] = []
    via: list[str | None] = []
    for table, row in zip(allp["table"], allp["row"], strict=True):
        if pd.isna(row):
            charged.append(())
            via.append(None)
            continue
        df = frames[table]
        own = df["patient_id"].iat[row] if "patient_id" in df.columns else None
        if own is not None and own in cohort:
            charged.append((own,))
            via.append(None)
            continue
        sid = df["study_id"].iat[row] if table in ("imaging", "findings") else None
        found: tuple = ()
        if sid is not None and table == "findings" and sid in owner.index:
            found = (owner[sid],)
        elif sid is not None and table == "imaging" and sid in by_study.index:
            found = by_study[sid]
        charged.append(found)
        via.append(f"found through study_id {sid}" if found else None)
    return charged, via


def _locate(allp: pd.DataFrame, frames, cohort: pd.Index, sources: Mapping[str, Source]):
    """Fill in the patient found through a key and the file line; returns (problems, charged)."""
    charged, via = _charges(frames, allp, cohort)
    own_blank = allp["patient_id"].isna().to_numpy()
    pid = [c[0] if blank and c else None for c, blank in zip(charged, own_blank, strict=True)]
    via = [v if p is not None else None for v, p in zip(via, pid, strict=True)]
    where: list[str | None] = [None] * len(allp)
    line = pd.array([None] * len(allp), dtype="Int64")
    for table, source in sources.items():
        on = (allp["table"] == table).to_numpy() & allp["row"].notna().to_numpy()
        lines = source.lines() if on.any() else None
        if lines is None:
            continue
        rows = allp["row"].to_numpy(dtype="float")[on].astype(np.int64)
        ok = rows < len(lines)
        at = np.flatnonzero(on)[ok]
        line[at] = lines[rows[ok]]
        for i, ln in zip(at, lines[rows[ok]], strict=True):
            where[i] = source.where(int(ln))
    out = relocate(allp, patient_ids=pid, via=via, where=where)
    out["line"] = line
    return out, charged


def _exclude(frames, allp: pd.DataFrame, charged: list[tuple], flow: Flow, cohort: pd.Index):
    """Leave out charged patients and uncharged problem rows (with dependents); log the flow."""
    first_rule: dict[str, str] = {}  # patient -> first rule charged (allp is sorted by rule)
    row_rule: dict[tuple[str, int], str] = {}  # problem row -> its first rule
    charged_rows: set[tuple[str, int]] = set()
    for table, row, rule, who in zip(
        allp["table"], allp["row"], allp["rule"], charged, strict=True
    ):
        if pd.isna(row):
            continue
        row_rule.setdefault((table, int(row)), rule)
        for p in who:
            first_rule.setdefault(p, rule)
        if who:
            charged_rows.add((table, int(row)))
    # rows of no cohort patient: dropped and counted as rows
    uncharged = {k: r for k, r in row_rule.items() if k not in charged_rows}
    kept = cohort.difference(pd.Index(list(first_rule)))
    keep = {}
    for name, df in frames.items():
        k = np.ones(len(df), dtype=bool)
        k[np.asarray([r for (t, r) in row_rule if t == name], dtype=np.int64)] = False
        if "patient_id" in df.columns:
            k &= df["patient_id"].isin(kept).to_numpy()
        keep[name] = k
    for rule, reason in RULES.items():
        pids = [p for p, r in first_rule.items() if r == rule]
        n_rows = sum(1 for r in uncharged.values() if r == rule)
        if not pids and not n_rows:
            continue
        flow = flow.add(step_reason(reason, n_rows), pids, rule=rule, n_rows_excluded=n_rows)
    return {name: df.loc[keep[name]] for name, df in frames.items()}, flow


def _plausibility(tables: dict[str, pd.DataFrame]) -> None:
    today = np.datetime64(pd.Timestamp.today().normalize().to_datetime64(), "ns")
    for (table, col), (lo, hi) in PLAUSIBLE_RANGES.items():
        df = tables[table]
        if col not in df.columns or not len(df):
            continue
        x = df[col].to_numpy(dtype=float)
        odd = ~np.isnan(x) & ((x < lo) | (x > hi))
        if odd.any():
            _warn(df, table, col, odd, x, f"outside the plausible range {lo:g}–{hi:g}")
    for table, spec in TABLES.items():
        df = tables[table]
        for c in spec.columns:
            if c.kind == "date" and c.name in df.columns and len(df):
                x = df[c.name].to_numpy()
                odd = ~np.isnat(x) & ((x < np.datetime64("1900-01-01", "ns")) | (x > today))
                if odd.any():
                    _warn(df, table, c.name, odd, x, "before 1900 or in the future")


def _warn(df, table, col, mask, values, what) -> None:
    idx = np.flatnonzero(mask)
    pid = df["patient_id"].to_numpy(dtype=object)[idx[:3]] if "patient_id" in df else []
    shown = np.asarray(values)[idx[:3]]
    if shown.dtype.kind == "M":
        shown = _d(shown)
    ex = ", ".join(
        f"row {r} patient {p}: {v}" for r, p, v in zip(idx[:3], pid, shown, strict=False)
    )
    warnings.warn(
        f"{table}.{col}: {len(idx)} value(s) {what} ({ex}{', ...' if len(idx) > 3 else ''}). "
        "They are kept; check the values and their units.",
        DataWarning,
        stacklevel=user_stacklevel(),
    )


def _final_dtypes(table: str, df: pd.DataFrame) -> pd.DataFrame:
    cols: dict[str, object] = {}
    for name in df.columns:
        c = TABLES[table].column(name)
        s = df[name]
        if c is None:
            cols[name] = s.to_numpy()
        elif c.kind == "bool":
            col = s.astype("boolean")
            cols[name] = col.to_numpy(dtype=bool) if not col.isna().any() else col.array
        elif c.kind == "date":
            cols[name] = s.to_numpy(dtype="datetime64[ns]")
        elif c.kind == "float":
            cols[name] = s.to_numpy(dtype=float)
        else:
            cols[name] = s.to_numpy(dtype=object)
    return pd.DataFrame(cols, index=pd.RangeIndex(len(df)), copy=False)


def validate_and_build(
    raw: dict[str, pd.DataFrame | None],
    *,
    vocab: Vocabularies,
    on_error: str,
    date_format: str | None,
    sources: Mapping[str, Source] | None = None,
):
    """Convert, validate, then raise or exclude; returns a Cohort."""
    from calcstats.cohort._cohort import Cohort

    frames, allp = validate_tables(raw, vocab=vocab, date_format=date_format)
    ids = frames["patients"]["patient_id"].dropna()
    cohort = pd.Index(pd.unique(ids.to_numpy(dtype=object)))
    flow = Flow.start(cohort)
    if len(allp):
        allp, charged = _locate(allp, frames, cohort, sources or {})
        structural = allp["row"].isna().to_numpy() & ~allp["rule"].isin(COLUMN_NOTES).to_numpy()
        if on_error == "raise" or structural.any():
            raise CohortValidationError(allp)
        for msg in allp.loc[allp["rule"].isin(COLUMN_NOTES), "message"]:
            warnings.warn(
                msg + " (the affected rows are excluded one by one).",
                DataWarning,
                stacklevel=user_stacklevel(),
            )
        frames, flow = _exclude(frames, allp, charged, flow, cohort)
    tables = {n: _final_dtypes(n, frames[n]) for n in TABLE_NAMES}
    _plausibility(tables)
    return Cohort(
        tables["patients"],
        tables["imaging"],
        tables["findings"],
        tables["events"],
        flow=flow,
        vocabularies=vocab,
    )
