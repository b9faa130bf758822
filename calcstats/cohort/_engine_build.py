"""From engine tables to an engine cohort: the pandas path's raise-or-exclude, in the engine.

The order of :mod:`calcstats.cohort._build`: convert, derive ages, check every rule, then
raise :class:`CohortValidationError` or, with ``on_error="exclude"``, charge each problem
to the patient it belongs to (its own ``patient_id`` or, through ``study_id``, the patient
of its study), leave charged patients out with all their rows in the flow step of their
first rule, drop rows of no cohort patient (counted as rows), and warn about implausible
values. Exclusions are anti-joins on the patient ids and on the rows' internal keys, so
the excluded rows never leave the engine; only the problem rows come back to Python.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import CohortValidationError, DataWarning
from calcstats.cohort._build import step_reason
from calcstats.cohort._cross import _d
from calcstats.cohort._engine_convert import convert_table
from calcstats.cohort._engine_rules import EngineChecker, derive_age
from calcstats.cohort._engine_rules import isin_values as _isin
from calcstats.cohort._engine_source import EngineSource
from calcstats.cohort._flow import Flow, FlowStep
from calcstats.cohort._problems import relocate
from calcstats.cohort._read import TABLE_NAMES
from calcstats.cohort._schema import PLAUSIBLE_RANGES, TABLES, Vocabularies
from calcstats.cohort._validate import COLUMN_NOTES, RULES
from calcstats.engine import materialise
from calcstats.engine._aggregate import scalars

__all__ = ["engine_validate_and_build"]


def _sort(allp: pd.DataFrame) -> pd.DataFrame:
    order = {r: i for i, r in enumerate(RULES)}
    torder = {t: i for i, t in enumerate(TABLE_NAMES)}
    key = pd.DataFrame(
        {
            "r": allp["rule"].map(order),
            "t": allp["table"].map(torder),
            "row": allp["row"].astype("Float64").fillna(-1).astype(np.int64),
        }
    )
    return allp.iloc[np.lexsort((key["row"], key["t"], key["r"]))].reset_index(drop=True)


# --------------------------------------------------------------------- charging
def _charges(t: dict[str, Any], allp: pd.DataFrame) -> tuple[list[tuple], list[str | None]]:
    """Per problem: the cohort patients it is charged to, and the key that found them."""
    keyed = allp["__key"].notna().to_numpy()
    own = allp["patient_id"].to_numpy(dtype=object)
    p = t["patients"]
    cand = sorted({x for x, k in zip(own, keyed, strict=True) if k and x is not None})
    in_cohort: set[str] = set()
    if cand:
        got = p.filter(_isin(p.patient_id, cand)).select("patient_id").distinct().to_pandas()
        in_cohort = set(got["patient_id"])
    # study ids of the unresolved imaging/findings problem rows
    sid: dict[tuple[str, Any], Any] = {}
    for table in ("imaging", "findings"):
        rows = allp.loc[
            keyed
            & (allp["table"] == table).to_numpy()
            & ~allp["patient_id"].isin(in_cohort).to_numpy()
        ]
        if not len(rows) or "study_id" not in t[table].columns:
            continue
        keys = rows["__key"].astype(np.int64).tolist()
        got = (
            t[table].filter(_isin(t[table]["__key"], keys)).select("__key", "study_id").to_pandas()
        )
        sid.update({(table, k): s for k, s in zip(got["__key"], got["study_id"], strict=True)})
    owner: dict[Any, Any] = {}
    by_study: dict[Any, tuple] = {}
    f_sids = sorted({s for (tb, _), s in sid.items() if tb == "findings" and s is not None})
    i_sids = sorted({s for (tb, _), s in sid.items() if tb == "imaging" and s is not None})
    known = p.filter(p.patient_id.notnull()).select(__pp=p.patient_id).distinct()
    if f_sids and "patient_id" in t["imaging"].columns:
        img = t["imaging"]
        sel = img.filter(_isin(img.study_id, f_sids)).semi_join(
            known, img.patient_id == known["__pp"]
        )
        got = sel.select("__key", "study_id", "patient_id").order_by("__key").to_pandas()
        for s_, p_ in zip(got["study_id"], got["patient_id"], strict=True):
            owner.setdefault(s_, p_)
    if i_sids and "patient_id" in t["findings"].columns:
        fnd = t["findings"]
        sel = fnd.filter(_isin(fnd.study_id, i_sids)).semi_join(
            known, fnd.patient_id == known["__pp"]
        )
        got = sel.select("__key", "study_id", "patient_id").order_by("__key").to_pandas()
        for s_, grp in got.groupby("study_id", sort=False)["patient_id"]:
            by_study[s_] = tuple(pd.unique(grp))
    charged: list[tuple] = []
    via: list[str | None] = []
    for table, key, pid in zip(allp["table"], allp["__key"], own, strict=True):
        if pd.isna(key):
            charged.append(())
            via.append(None)
            continue
        if pid is not None and pid in in_cohort:
            charged.append((pid,))
            via.append(None)
            continue
        s = sid.get((table, key))
        found: tuple = ()
        if s is not None and table == "findings" and s in owner:
            found = (owner[s],)
        elif s is not None and table == "imaging" and s in by_study:
            found = by_study[s]
        charged.append(found)
        via.append(f"found through study_id {s}" if found else None)
    return charged, via


def _locate(
    t: dict[str, Any], allp: pd.DataFrame, files: dict[str, Any]
) -> tuple[pd.DataFrame, list[tuple]]:
    """Patients found through a key and CSV lines filled in (the pandas ``_locate``)."""
    charged, via = _charges(t, allp)
    own_blank = allp["patient_id"].isna().to_numpy()
    pid = [c[0] if blank and c else None for c, blank in zip(charged, own_blank, strict=True)]
    via = [v if p is not None else None for v, p in zip(via, pid, strict=True)]
    where: list[str | None] = [None] * len(allp)
    line = pd.array([None] * len(allp), dtype="Int64")
    for table, source in files.items():
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
    # rows whose position the engine cannot tell: "<table>: ..." gets the patient too
    msgs = out["message"].to_numpy(dtype=object).copy()
    pids = out["patient_id"].to_numpy(dtype=object).copy()
    for i, (table, row, key) in enumerate(zip(out["table"], out["row"], out["__key"], strict=True)):
        if pd.isna(row) and not pd.isna(key) and pid[i] is not None:
            head = f"{table}: "
            if str(msgs[i]).startswith(head):
                msgs[i] = f"{table} (patient {pid[i]}, {via[i]}): " + msgs[i][len(head) :]
                pids[i] = pid[i]
    out["message"], out["patient_id"] = msgs, pids
    out["line"] = line
    return out, charged


def _exclude(
    t: dict[str, Any], allp: pd.DataFrame, charged: list[tuple], flow: Flow
) -> tuple[dict[str, Any], Flow]:
    """Anti-join charged patients and uncharged problem rows; one flow step per rule."""
    import ibis

    first_rule: dict[str, str] = {}
    row_rule: dict[tuple[str, int], str] = {}
    charged_rows: set[tuple[str, int]] = set()
    for table, key, rule, who in zip(
        allp["table"], allp["__key"], allp["rule"], charged, strict=True
    ):
        if pd.isna(key):
            continue
        row_rule.setdefault((table, int(key)), rule)
        for p in who:
            first_rule.setdefault(p, rule)
        if who:
            charged_rows.add((table, int(key)))
    uncharged = {k: r for k, r in row_rule.items() if k not in charged_rows}
    gone = pd.DataFrame({"__gone": pd.Series(sorted(first_rule), dtype=object)})
    p = t["patients"]
    kept = p.filter(p.patient_id.notnull()).select(__kp=p.patient_id).distinct()
    if len(gone):
        g = ibis.memtable(gone, schema={"__gone": "string"})
        kept = kept.anti_join(g, kept["__kp"] == g["__gone"])
    out = {}
    for name, expr in t.items():
        keys = sorted(k for (tb, k) in row_rule if tb == name)
        if keys:
            kt = ibis.memtable(pd.DataFrame({"__dropkey": np.asarray(keys, dtype=np.int64)}))
            expr = expr.anti_join(kt, expr["__key"] == kt["__dropkey"])
        if "patient_id" in expr.columns:
            expr = expr.semi_join(kept, expr.patient_id == kept["__kp"])
        out[name] = expr
    for rule, reason in RULES.items():
        pids = [q for q, r in first_rule.items() if r == rule]
        n_rows = sum(1 for r in uncharged.values() if r == rule)
        if not pids and not n_rows:
            continue
        flow = flow.add(step_reason(reason, n_rows), pids, rule=rule, n_rows_excluded=n_rows)
    return out, flow


# ------------------------------------------------------------------ plausibility
def _odd_tests(table: str, columns: list[str]) -> list[tuple[str, Any, str]]:
    """(column, test on a table, what) of the pandas path's plausibility warnings."""
    import ibis

    today = ibis.date(pd.Timestamp.today().normalize().date())
    out: list[tuple[str, Any, str]] = []
    for (tab, col), (lo, hi) in PLAUSIBLE_RANGES.items():
        if tab == table and col in columns:
            out.append(
                (
                    col,
                    lambda t, c=col, lo=lo, hi=hi: t[c].notnull() & ((t[c] < lo) | (t[c] > hi)),
                    f"outside the plausible range {lo:g}–{hi:g}",
                )
            )
    for c in TABLES[table].columns:
        if c.kind == "date" and c.name in columns:
            out.append(
                (
                    c.name,
                    lambda t, n=c.name: (
                        t[n].notnull() & ((t[n] < ibis.date("1900-01-01")) | (t[n] > today))
                    ),
                    "before 1900 or in the future",
                )
            )
    return out


def _plausibility(tables: dict[str, Any]) -> None:
    """The pandas path's DataWarnings (rows are positions in the final tables)."""
    import ibis

    for table in TABLE_NAMES:
        expr = tables[table]
        tests = _odd_tests(table, list(expr.columns))
        if not tests:
            continue
        counts = (
            expr.aggregate(
                **{f"n{i}": test(expr).cast("int64").sum() for i, (_, test, _) in enumerate(tests)}
            )
            .to_pandas()
            .iloc[0]
        )
        for i, (col, test, what) in enumerate(tests):
            n = int(counts[f"n{i}"] or 0)
            if not n:
                continue
            ranked = expr.mutate(__pos=ibis.row_number().over(order_by=expr["__key"]))
            ex = ranked.filter(test(ranked))
            cols = {"__pos": ex["__pos"], "__val": ex[col]}
            if "patient_id" in expr.columns:
                cols["patient_id"] = ex.patient_id
            first = ex.select(**cols).order_by("__pos").limit(3).to_pandas()
            shown = first["__val"].to_numpy()
            if expr.schema()[col].is_temporal():
                shown = _d(pd.to_datetime(first["__val"]).to_numpy(dtype="datetime64[ns]"))
            pid = first["patient_id"].to_numpy(dtype=object) if "patient_id" in first else []
            text = ", ".join(
                f"row {r} patient {p}: {v}"
                for r, p, v in zip(first["__pos"], pid, shown, strict=False)
            )
            warnings.warn(
                f"{table}.{col}: {n} value(s) {what} ({text}{', ...' if n > 3 else ''}). "
                "They are kept; check the values and their units.",
                DataWarning,
                stacklevel=4,
            )


# --------------------------------------------------------------------------- main
def engine_validate_and_build(
    src: EngineSource, *, vocab: Vocabularies, on_error: str, date_format: str | None
) -> Any:
    """Convert, validate, then raise or exclude; returns an :class:`EngineCohort`."""
    from calcstats.cohort._engine_cohort import EngineCohort

    converted = {n: convert_table(n, src.tables[n], vocab, date_format) for n in TABLE_NAMES}
    p_expr, age_flag = derive_age(converted["patients"].expr)
    t: dict[str, Any] = {}
    for name in TABLE_NAMES:
        expr = p_expr if name == "patients" else converted[name].expr
        # calcstats' own DuckDB reads the converted tables straight from the source (a
        # projection of the parquet scan, joins with small mapping tables): cheaper than
        # writing them once more; a user's connection (Spark) computes them once
        t[name] = (
            expr
            if src.owned
            else materialise(src.con, expr, f"__calcstats_conv_{name}", owned=False)
        )
    absent = {n: converted[n].absent for n in TABLE_NAMES}
    skip: dict[str, dict[str, list[str]]] = {}
    for name in TABLE_NAMES:
        cols = t[name].columns
        skip[name] = {c[len("__bad_") :]: [c] for c in cols if c.startswith("__bad_")}
    if "birth_date" in t["patients"].columns:
        cause = [f for f in ("__bad_birth_date", "__bad_index_date") if f in t["patients"].columns]
        skip["patients"]["age_at_index"] = skip["patients"].get("age_at_index", []) + cause
    checker = EngineChecker(
        t,
        absent,
        store=lambda e: materialise(
            src.con, e, "__calcstats_per_patient", owned=src.owned, temp=True
        ),
    )
    checker.problems = [p for n in TABLE_NAMES for p in converted[n].problems]
    checker.case = {(n, c): v for n in TABLE_NAMES for c, v in converted[n].case.items()}
    checker.run(skip, age_flag)
    found = [p for p in checker.problems if len(p)]
    per = checker.per
    if per is not None:  # one row per patient id: those with a patients row
        n_in = int(per.filter(per["__exists"].notnull()).count().execute())
    else:
        p = t["patients"]
        n_in = int(p.filter(p.patient_id.notnull()).patient_id.nunique().execute())
    if per is not None and src.owned:  # a temporary table: its memory back to DuckDB
        src.con.raw_sql('DROP TABLE IF EXISTS temp.main."__calcstats_per_patient"')
    flow = Flow((FlowStep("Patients in source tables", n_in, 0, n_in),))
    final = t
    if found:
        allp = _sort(pd.concat(found, ignore_index=True))
        allp, charged = _locate(t, allp, src.files)
        structural = allp["__key"].isna().to_numpy() & ~allp["rule"].isin(COLUMN_NOTES).to_numpy()
        public = allp.drop(columns="__key")
        if on_error == "raise" or structural.any():
            raise CohortValidationError(public)
        for msg in public.loc[public["rule"].isin(COLUMN_NOTES), "message"]:
            warnings.warn(
                msg + " (the affected rows are excluded one by one).", DataWarning, stacklevel=3
            )
        final, flow = _exclude(t, allp, charged, flow)
    tables = {}
    kinds = {}
    for name in TABLE_NAMES:
        expr = final[name]
        keep = [c for c in expr.columns if not c.startswith("__")]
        tables[name] = expr.select(*keep, "__key", "__row")
        kinds[name] = {**converted[name].kinds}
        if name == "patients" and "age_at_index" in keep:
            kinds[name]["age_at_index"] = "float"
        # a yes/no column with missing values stays nullable (as the pandas path's dtype)
        flags = [c for c, k in kinds[name].items() if k == "bool" and c in keep]
        if flags:
            got = scalars(expr, {c: expr[c].isnull().cast("int64").sum() for c in flags})
            kinds[name].update({c: "boolean" for c in flags if got[c]})
    _plausibility(tables)
    return EngineCohort(
        src.con,
        engine=src.engine,
        options=src.options,
        tables=tables,
        kinds=kinds,
        flow=flow,
        vocabularies=vocab,
        owned=src.owned,
    )
