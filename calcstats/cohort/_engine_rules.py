"""Engine validation: the rules of :mod:`calcstats.cohort._validate` as engine queries.

Each table is checked in one query: every rule is a flag column computed in the engine,
and only the flagged rows come back, with the values their messages quote. The per-patient
values the date-order rules need are computed once into a small table (see
:meth:`EngineChecker.per_patient`), defined as in :class:`~calcstats.cohort._cross.CrossRules`:
the index and follow-up dates of a patient's first patients row (source order), and the
earliest dated death, transplant and baseline-flag event of any events row with that
``patient_id``. The messages are built by the pandas path's functions and templates
(:func:`~calcstats.cohort._problems.problem_frame`, ``_orphan_texts``), so the same data
give the same problems. The per-table checks are in :mod:`calcstats.cohort._engine_checks`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import DataWarning
from calcstats.cohort._cross import _orphan_texts
from calcstats.cohort._engine_checks import TableChecks
from calcstats.cohort._engine_convert import engine_problems
from calcstats.cohort._read import TABLE_NAMES
from calcstats.cohort._schema import (
    BASELINE_FLAGS,
    HARD_RANGES,
    NATIVE_LIVER_OUTCOMES,
    TABLES,
    TERMINAL_EVENTS,
)
from calcstats.cohort._validate import _ID_LINKS

__all__ = ["EngineChecker", "derive_age", "isin_values"]

_LOOKUP_IN_LIST = 5_000  # ids listed in a query; more go through a joined table


def isin_values(col: Any, values: Any) -> Any:
    """``col`` in ``values`` (a literal list when short, else a joined memtable)."""
    import ibis

    values = list(values)
    if len(values) <= _LOOKUP_IN_LIST:
        return col.isin(values)
    mt = ibis.memtable(pd.DataFrame({"__v": pd.Series(values, dtype=object)}))
    return col.isin(mt["__v"])


def derive_age(p: Any) -> tuple[Any, str | None]:
    """``age_at_index`` from ``birth_date`` where needed (the pandas path's ``_age``).

    Returns the patients table (with the derived or filled-in age) and the name of the
    mismatch flag column (None when there is nothing to compare).
    """
    import ibis

    cols = p.columns
    if "birth_date" not in cols or "index_date" not in cols:
        return p, None
    derived = p.index_date.delta(p.birth_date, unit="day").cast("float64") / 365.25
    if "age_at_index" not in cols:
        names = list(cols)
        names.insert(2, "age_at_index")
        return p.mutate(age_at_index=derived).select(names), None
    p = p.mutate(__derived_age=derived)
    bad = (
        p.age_at_index.notnull()
        & p["__derived_age"].notnull()
        & ((p.age_at_index - p["__derived_age"]).abs() > 1.0)
    )
    p = p.mutate(
        __r_age_mismatch=bad.fill_null(False),
        age_at_index=ibis.coalesce(p.age_at_index, p["__derived_age"]),
    )
    return p, "__r_age_mismatch"


class EngineChecker(TableChecks):
    """Runs the validation rules on converted engine tables and collects the problems.

    Parameters
    ----------
    t : dict
        The converted tables (``patients``, ``imaging``, ``findings``, ``events``).
    absent : dict
        Required columns missing from each table.
    store : callable
        Computes a table once and keeps it in the engine (the per-patient table).
    """

    def __init__(self, t: Mapping[str, Any], absent: Mapping[str, set[str]], store: Any) -> None:
        import ibis

        self.t = dict(t)
        self.absent = absent
        self.store = store
        self.problems: list[pd.DataFrame] = []
        #: tables whose key was found to be unique (no duplicate_id problem)
        self.unique_keys: set[str] = set()
        counts = [
            self.t[n].aggregate(__n=self.t[n].count()).mutate(__t=ibis.literal(i))
            for i, n in enumerate(TABLE_NAMES)
        ]
        got = counts[0].union(*counts[1:]).to_pandas()
        self.n_rows = {
            TABLE_NAMES[int(i)]: int(n) for i, n in zip(got["__t"], got["__n"], strict=True)
        }

    def has(self, table: str, *cols: str) -> bool:
        return all(c not in self.absent[table] and c in self.t[table].columns for c in cols)

    # --------------------------------------------------------------- per-patient values
    def per_patient(self) -> Any:
        """One row per patient id (of the patients or events tables), stored once:
        ``__pp`` the id, ``__exists`` (1 when it has a patients row), ``__p_idx`` and
        ``__p_fu`` (its first patients row's dates), ``__np`` (its patients rows: more than
        one is a duplicate id), ``__death``, ``__trans`` (earliest dated death and
        transplant), ``__nd`` (death rows), ``__first_<flag>`` (earliest dated event of
        each baseline flag) and ``__suspect``.

        ``__suspect`` marks the patients whose patients or events rows can break a rule
        that compares them with the patient's other rows: an id in several patients rows
        or in none, several deaths, or a patient whose first patients row, latest events
        and earliest terminal event (from the same aggregation) are out of order. The
        other patients' rows cannot, so the patients and events checks join only the
        suspects (in clean data none).
        """
        import ibis

        p = self.t["patients"]
        null_date = ibis.null().cast("date")
        w = ibis.window(group_by=p.patient_id, order_by=p["__key"])
        first = p.filter(p.patient_id.notnull()).mutate(
            __rn=ibis.row_number().over(w), __np=p.patient_id.count().over(w)
        )
        first = first.filter(first["__rn"] == 0)
        flags = [f for f in BASELINE_FLAGS if self.has("patients", f)]
        first = first.select(
            __fp=first.patient_id,
            __exists=ibis.literal(1).cast("int64"),
            __np=first["__np"],
            __p_idx=first.index_date if self.has("patients", "index_date") else null_date,
            __p_fu=first.last_followup_date
            if self.has("patients", "last_followup_date")
            else null_date,
            **{f"__p_{f}": first[f] for f in flags},
        )
        if not self.has("events", "patient_id", "event", "event_date"):
            return self.store(
                first.select(
                    __pp=first["__fp"],
                    __exists=first["__exists"],
                    __np=first["__np"],
                    __p_idx=first["__p_idx"],
                    __p_fu=first["__p_fu"],
                    __death=null_date,
                    __trans=null_date,
                    __nd=ibis.literal(0).cast("int64"),
                    **{f"__first_{f}": null_date for f in flags},
                    __suspect=first["__np"] > 1,
                )
            )
        e = self.t["events"]
        e = e.filter(e.patient_id.notnull())
        dated = e.event_date

        def first_of(name: str) -> Any:
            return dated.min(where=e.event == name)

        agg = e.group_by(__ep=e.patient_id).agg(
            __death=first_of("death"),
            __trans=first_of("liver_transplant"),
            __nd=(e.event == "death").fill_null(False).cast("int64").sum(),
            **{f"__first_{f}": first_of(BASELINE_FLAGS[f]) for f in flags},
            __last=dated.max(),
            __last_alive=dated.max(where=e.event != "death"),
            __first_terminal=dated.min(where=e.event.isin(sorted(TERMINAL_EVENTS))),
            __last_native=dated.max(where=e.event.isin(sorted(NATIVE_LIVER_OUTCOMES))),
        )
        j = first.outer_join(agg, first["__fp"] == agg["__ep"])
        idx, fu, death = j["__p_idx"], j["__p_fu"], j["__death"]
        out_of_order = [
            j["__last"] > fu,
            j["__last_alive"] > death,
            j["__first_terminal"] < idx,
            j["__last_native"] > j["__trans"],
            fu > death,
        ]
        for f in flags:
            out_of_order.append((j[f"__first_{f}"] <= idx) & ~j[f"__p_{f}"])
            out_of_order.append(j[f"__p_{f}"] & (j[f"__first_{f}"] > idx))
        suspect = (j["__np"].fill_null(0) != 1) | (j["__nd"].fill_null(0) > 1)
        for cond in out_of_order:
            suspect = suspect | cond.fill_null(False)
        return self.store(
            j.select(
                __pp=ibis.coalesce(j["__fp"], j["__ep"]),
                __exists=j["__exists"],
                __np=j["__np"].fill_null(0),
                __p_idx=idx,
                __p_fu=fu,
                __death=death,
                __trans=j["__trans"],
                __nd=j["__nd"].fill_null(0),
                **{f"__first_{f}": j[f"__first_{f}"] for f in flags},
                __suspect=suspect,
            )
        )

    @property
    def per(self) -> Any:
        """The stored per-patient table (None when the patients table has no ids)."""
        return self._per

    def with_patient(self, t: Any, *, suspects: bool = False) -> Any:
        """``t`` with its patient's per-patient values (NULL for an unknown patient), or
        with ``suspects`` those of the suspect patients only (NULL for the others)."""
        per = self._per
        if suspects:
            per = per.filter(per["__suspect"])
        return t.left_join(per, t.patient_id == per["__pp"])

    # ------------------------------------------------------------------------ helpers
    def _missing_flags(self, t: Any, table: str, skip: Mapping[str, list[str]]) -> dict[str, tuple]:
        """Rule flags of missing required values: name → (flag, column, what, fix)."""
        out = {}
        for col in TABLES[table].required:
            if col not in t.columns or col in self.absent[table]:
                continue
            miss = t[col].isnull()
            for flag in skip.get(col, []):
                miss = miss & ~t[flag]
            if col in _ID_LINKS:
                what = f"is blank: every {table} row needs a {col} (ids link the tables)"
                fix = f"fill in the {col}; without it the row is not linked to {_ID_LINKS[col]}"
            else:
                what, fix = "is empty but required", f"fill in {col} for this row"
            out[f"__r_missing_{col}"] = (miss, col, what, fix)
        return out

    def _range_flags(self, t: Any, table: str) -> dict[str, tuple]:
        out = {}
        for (tab, col), (lo, hi, lo_inc, hi_inc) in HARD_RANGES.items():
            if tab != table or col not in t.columns or not self.has(table, col):
                continue
            x = t[col]
            ok_lo = x >= lo if lo_inc else x > lo
            ok_hi = x <= hi if hi_inc else x < hi
            bad = x.notnull() & (~(ok_lo & ok_hi) | x.isinf())
            rng = (
                f"finite and {'≥' if lo_inc else '>'} {lo:g}"
                if np.isinf(hi)
                else f"in [{lo:g}, {hi:g}]"
            )
            out[f"__r_range_{col}"] = (
                bad,
                col,
                f"is impossible: it must be {rng}",
                "correct the value (check its unit) or leave it empty if unknown",
            )
        return out

    def _join_dup_key(self, t: Any, table: str, key: str) -> Any:
        """``t`` with ``__dn``: the number of rows sharing the row's key (when > 1).

        One aggregate query first counts the distinct hashes of the keys: as many as
        keys proves every key distinct (equal keys hash equally), and the check query
        then joins nothing. Otherwise (a duplicate, or two keys with one hash) the keys
        seen more than once are joined.
        """
        if not self.has(table, key) or not self.n_rows[table]:
            return t
        base = self.t[table]
        nn = base.filter(base[key].notnull())
        got = nn.aggregate(__n=nn.count(), __h=nn[key].hash().nunique()).to_pandas()
        if int(got["__n"].iloc[0]) == int(got["__h"].iloc[0]):
            self.unique_keys.add(table)
            return t
        counts = nn.group_by(__dk=nn[key]).agg(__dn=nn.count())
        counts = counts.filter(counts["__dn"] > 1)
        return t.left_join(counts, t[key] == counts["__dk"])

    # -------------------------------------------------------------------------- run
    def run(self, skip: Mapping[str, Mapping[str, list[str]]], age_flag: str | None) -> None:
        """Check every rule and collect the problems."""
        dated = self.has("patients", "index_date", "last_followup_date")
        self._per = self.per_patient() if self.has("patients", "patient_id") else None
        self.check_patients(skip["patients"], age_flag, dated)
        self.check_imaging(skip["imaging"], dated)
        self.check_findings(skip["findings"])
        self.check_events(skip["events"], dated)
        self.case_clashes()

    def _pull(self, t: Any, flags: Mapping[str, Any], extra: Mapping[str, Any]) -> pd.DataFrame:
        """The flagged rows with their flags and the columns their messages quote."""
        import ibis

        if not flags:
            return pd.DataFrame()
        cols = {"__key": t["__key"], "__row": t["__row"], **extra}
        cols.update({k: v.fill_null(False) for k, v in flags.items()})
        sel = t.select(**cols)
        anyflag = ibis.or_(*[sel[k] for k in flags])
        return sel.filter(anyflag).order_by("__key").to_pandas()

    def _add(
        self,
        table: str,
        rows: pd.DataFrame,
        flag: str,
        column: str | None,
        values: Any,
        rule: str,
        what: Any,
        fix: str,
    ) -> None:
        if not len(rows) or flag not in rows.columns:
            return
        mask = rows[flag].to_numpy(dtype=bool)
        if not mask.any():
            return
        sub = rows.loc[mask].reset_index(drop=True)
        vals = values(sub) if callable(values) else values
        w = what(sub) if callable(what) else what
        self.problems.append(engine_problems(table, sub, column, vals, rule, w, fix))

    def _add_missing_and_ranges(
        self,
        table: str,
        rows: pd.DataFrame,
        missing: Mapping[str, tuple],
        ranges: Mapping[str, tuple],
    ) -> None:
        for flag, (_, col, what, fix) in missing.items():
            self._add(table, rows, flag, col, None, "missing_value", what, fix)
        for flag, (_, col, what, fix) in ranges.items():
            self._add(
                table,
                rows,
                flag,
                col,
                lambda s, c=col: s[f"__v_{c}"].to_numpy(float),
                "out_of_range",
                what,
                fix,
            )

    def _found(self, table: str, rule: str) -> bool:
        """Whether a problem of ``rule`` in ``table`` was found so far."""
        return any(
            bool(((p["table"] == table) & (p["rule"] == rule)).any())
            for p in self.problems
            if len(p)
        )

    def _unknown_patients(self, rows: pd.DataFrame, flag: str) -> np.ndarray:
        """Which pulled rows flagged ``flag`` have a ``__v_pid`` that is no patient's id
        (one lookup of those ids in the per-patient table)."""
        maybe = rows[flag].to_numpy(dtype=bool)
        out = np.zeros(len(rows), dtype=bool)
        if not maybe.any():
            return out
        pids = rows["__v_pid"].to_numpy(dtype=object)[maybe]
        per = self._per
        known = per.filter(per["__exists"].notnull() & isin_values(per["__pp"], pd.unique(pids)))
        found = set(known.select("__pp").to_pandas()["__pp"])
        out[maybe] = [p not in found for p in pids]
        return out

    def _add_orphans(self, table: str, rows: pd.DataFrame) -> None:
        if "__r_orphan" not in rows.columns or not rows["__r_orphan"].any():
            return
        ids = rows.loc[rows["__r_orphan"], "__v_pid"].to_numpy(dtype=object)
        if self.has("patients", "patient_id"):
            texts = _orphan_texts(ids, self._near_patients(ids))
            lookup = dict(zip(ids, texts, strict=True))
            what: Any = lambda s: [lookup[i] for i in s["__v_pid"]]  # noqa: E731
        else:
            what = "is not in the patients table"
        self._add(
            table,
            rows,
            "__r_orphan",
            "patient_id",
            lambda s: s["__v_pid"].to_numpy(object),
            "orphan_row",
            what,
            "add the patient to the patients table or remove the row",
        )

    def _near_patients(self, ids: np.ndarray) -> pd.Series:
        """Patient ids equal to an orphan id up to leading zeros or letter case (in order)."""
        import ibis

        p = self.t["patients"]
        ids = pd.unique(pd.Series(ids, dtype=object).astype(str))
        zeros = [k if k else "0" for k in (s.lstrip("0") for s in ids)]
        lower = [s.casefold() for s in ids]
        stripped = p.patient_id.re_replace("^0+", "")
        zkey = ibis.cases((stripped == "", "0"), else_=stripped)
        near = p.filter(zkey.isin(zeros) | p.patient_id.lower().isin(lower))
        got = near.select("__key", "patient_id").order_by("__key").to_pandas()
        return got["patient_id"].astype(object)

    # --------------------------------------------------------------------- warnings
    def case_clashes(self) -> None:
        """DataWarnings naming ids that differ only by letter case (the pandas text).

        The ids of a key are every table's: patient ids are those of the per-patient table
        plus the orphans found, study ids the imaging table's plus the unknown studies
        found. A key whose ids read are all lower case (or all upper case), with no orphan
        or unknown study found, has no clash and costs no query.
        """
        import ibis

        groups = {
            "patient_id": [(t, "patient_id") for t in TABLE_NAMES],
            "study_id": [("imaging", "study_id"), ("findings", "study_id")],
            "finding_id": [("findings", "finding_id")],
        }
        case = getattr(self, "case", {})
        extra = {
            "patient_id": self._problem_values("orphan_row"),
            "study_id": self._problem_values("unknown_study"),
            "finding_id": [],
        }
        parts = []
        for i, (key, cols) in enumerate(groups.items()):
            present = [(t, c) for t, c in cols if self.has(t, c)]
            if key == "patient_id" and self._per is not None:
                sources = [self._per.select(__id=self._per["__pp"])]
                read = [tc for tc in present if tc[0] in ("patients", "events")]
            elif key == "study_id" and self.has("imaging", "study_id"):
                sources = [self.t["imaging"].select(__id=self.t["imaging"]["study_id"])]
                read = [("imaging", "study_id")]
            else:
                sources = [self.t[t].select(__id=self.t[t][c]) for t, c in present]
                read = present
            # the ids read are all lower case (or all upper case): no clash among them
            facts = [case.get(tc, (False, False)) for tc in read]
            if not read or all(f[0] for f in facts) or all(f[1] for f in facts):
                if not extra[key]:
                    continue
            if extra[key]:
                sources.append(
                    ibis.memtable(pd.DataFrame({"__id": extra[key]}), schema={"__id": "string"})
                )
            u = (
                sources[0].union(*sources[1:], distinct=True)
                if len(sources) > 1
                else sources[0].distinct()
            )
            u = u.filter(u["__id"].notnull())
            low = u.mutate(__low=u["__id"].lower(), __k=ibis.literal(i).cast("int64"))
            clash = low.group_by("__low").agg(__n=low.count())
            clash = clash.filter(clash["__n"] > 1).select(__cl=clash["__low"])
            parts.append(low.semi_join(clash, low["__low"] == clash["__cl"]))
        if not parts:
            return
        every = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
        got = every.to_pandas()
        for i, key in enumerate(groups):
            mine = got.loc[got["__k"] == i]
            if not len(mine):
                continue
            grouped = mine.groupby("__low", sort=True)["__id"].agg(sorted)
            shown = "; ".join(" / ".join(map(repr, g)) for g in grouped.iloc[:5])
            n_groups = len(grouped)
            more = f" and {n_groups - 5} more" if n_groups > 5 else ""
            warnings.warn(
                f"{key}: {n_groups} group(s) of ids differ only by letter case ({shown}"
                f"{more}); calcstats treats them as different ids. If they are the same "
                f"{key.removesuffix('_id')}, write the id the same way in every table.",
                DataWarning,
                stacklevel=5,
            )

    def _problem_values(self, rule: str) -> list[str]:
        """The distinct values of the problems of ``rule`` found so far."""
        vals = [p.loc[p["rule"] == rule, "value"] for p in self.problems if len(p)]
        got = pd.concat(vals).dropna().unique().tolist() if vals else []
        return [str(v) for v in got]
