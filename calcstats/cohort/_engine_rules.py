"""Engine validation: the rules of :mod:`calcstats.cohort._validate` as engine queries.

Each table is checked in one query: every rule is a flag column computed in the engine
(joins against per-patient aggregates for the date-order rules), and only the flagged rows
come back, with the values their messages quote. The messages are built by the pandas
path's functions and templates (:func:`~calcstats.cohort._problems.problem_frame`,
``_orphan_texts``), so the same data give the same problems.

"First patients row of a patient", "first death of a patient" and the other per-patient
values are defined as in :class:`~calcstats.cohort._cross.CrossRules` (first row by source
order, earliest dated event of any row with that ``patient_id``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import DataWarning
from calcstats.cohort._cross import _d, _orphan_texts
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

__all__ = ["EngineChecker", "derive_age"]

_KEYS = {"patients": "patient_id", "imaging": "study_id", "findings": "finding_id"}


def _dates(values: Any) -> np.ndarray:
    return pd.to_datetime(pd.Series(values, dtype=object)).to_numpy(dtype="datetime64[ns]")


def derive_age(p: Any) -> tuple[Any, Any | None]:
    """``age_at_index`` from ``birth_date`` where needed (the pandas path's ``_age``).

    Returns the patients table (with the derived or filled-in age) and the mismatch flag
    expression (None when there is nothing to compare).
    """
    import ibis

    cols = p.columns
    if "birth_date" not in cols or "index_date" not in cols:
        return p, None
    derived = p.index_date.delta(p.birth_date, unit="day").cast("float64") / 365.25
    if "age_at_index" not in cols:
        names = list(cols)
        names.insert(2, "age_at_index")
        p = p.mutate(age_at_index=derived).select(names)
        return p, None
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


class EngineChecker:
    """Runs the validation rules on converted engine tables and collects the problems.

    Parameters
    ----------
    t : dict
        The converted tables (``patients``, ``imaging``, ``findings``, ``events``).
    absent : dict
        Required columns missing from each table.
    """

    def __init__(self, t: Mapping[str, Any], absent: Mapping[str, set[str]]) -> None:
        self.t = dict(t)
        self.absent = absent
        self.problems: list[pd.DataFrame] = []
        self.n_rows = {name: int(expr.count().execute()) for name, expr in self.t.items()}

    def has(self, table: str, *cols: str) -> bool:
        return all(c not in self.absent[table] and c in self.t[table].columns for c in cols)

    # --------------------------------------------------------------- per-patient values
    def _first_rows(self) -> Any:
        """The first patients row of each patient id: ``__fpid, __p_idx, __p_fu``."""
        import ibis

        p = self.t["patients"]
        first = p.filter(p.patient_id.notnull()).mutate(
            __rn=ibis.row_number().over(group_by=p.patient_id, order_by=p["__key"])
        )
        first = first.filter(first["__rn"] == 0)
        null = ibis.null().cast("date")
        return first.select(
            __fpid=first.patient_id,
            __p_idx=first.index_date if self.has("patients", "index_date") else null,
            __p_fu=first.last_followup_date if self.has("patients", "last_followup_date") else null,
        )

    def _first_event(self, event: str, name: str) -> Any | None:
        """Earliest date of ``event`` per patient id: ``<name>_pid, <name>``."""
        e = self.t["events"]
        if not self.has("events", "patient_id", "event", "event_date"):
            return None
        sel = e.filter((e.event == event) & e.event_date.notnull() & e.patient_id.notnull())
        return sel.group_by(**{f"{name}_pid": sel.patient_id}).agg(**{name: sel.event_date.min()})

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

    def _join_dup_key(self, t: Any, table: str) -> Any:
        """``t`` with ``__dn``: the number of rows sharing the row's key (when > 1)."""
        key = _KEYS[table]
        if not self.has(table, key):
            return t
        base = self.t[table]
        nn = base.filter(base[key].notnull())
        counts = nn.group_by(__dk=nn[key]).agg(__dn=nn.count())
        counts = counts.filter(counts["__dn"] > 1)
        return t.left_join(counts, t[key] == counts["__dk"])

    def _join_known(self, t: Any, table: str) -> Any:
        """``t`` with ``__op``: the row's patient_id when it is in the patients table."""
        if not self.has(table, "patient_id") or not self.n_rows[table]:
            return t
        p = self.t["patients"]
        known = p.filter(p.patient_id.notnull()).select(__op=p.patient_id).distinct()
        return t.left_join(known, t.patient_id == known["__op"])

    # -------------------------------------------------------------------------- run
    def run(self, skip: Mapping[str, Mapping[str, list[str]]], age_flag: str | None) -> None:
        """Check every rule and collect the problems."""
        dated = self.has("patients", "index_date", "last_followup_date")
        self._patients(skip["patients"], age_flag, dated)
        self._imaging(skip["imaging"], dated)
        self._findings(skip["findings"])
        self._events(skip["events"], dated)
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

    # ------------------------------------------------------------------------ tables
    def _patients(self, skip, age_flag, dated) -> None:
        t = self._join_dup_key(self.t["patients"], "patients")
        death = self._first_event("death", "__death")
        if dated and death is not None:
            t = t.left_join(death, t.patient_id == death["__death_pid"])
        baseline = []
        if (
            dated
            and self.n_rows["events"]
            and self.has("events", "patient_id", "event", "event_date")
        ):
            t, baseline = self._join_baseline(t)
        missing = self._missing_flags(t, "patients", skip)
        ranges = self._range_flags(t, "patients")
        flags = {k: v[0] for k, v in {**missing, **ranges}.items()}
        extra = {"patient_id": t.patient_id} if "patient_id" in t.columns else {}
        extra.update({f"__v_{v[1]}": t[v[1]] for v in ranges.values()})
        if age_flag is not None:
            flags["__r_age"] = t[age_flag]
            extra.update(__v_age=t.age_at_index, __v_derived=t["__derived_age"])
        if "__dn" in t.columns:
            flags["__r_dup"] = t["__dn"].notnull()
            extra["__v_key"] = t.patient_id
        if dated:
            flags["__r_fu_before"] = (
                t.index_date.notnull()
                & t.last_followup_date.notnull()
                & (t.last_followup_date < t.index_date)
            )
            extra.update(__v_fu=t.last_followup_date, __v_idx=t.index_date)
            if death is not None:
                flags["__r_fu_death"] = (
                    t.last_followup_date.notnull()
                    & t["__death"].notnull()
                    & (t.last_followup_date > t["__death"])
                )
                extra["__v_death"] = t["__death"]
        for flag in baseline:
            flags[f"__r_pre_{flag}"] = (
                t.patient_id.notnull() & t[f"__pre_{flag}"].notnull() & (~t[flag])
            )
            flags[f"__r_later_{flag}"] = (
                t[flag]
                & t[f"__first_{flag}"].notnull()
                & t.index_date.notnull()
                & (t[f"__first_{flag}"] > t.index_date)
            )
            extra[f"__v_{flag}"] = t[flag]
            extra[f"__v_first_{flag}"] = t[f"__first_{flag}"]
            extra["__v_idx"] = t.index_date
        rows = self._pull(t, flags, extra)
        if not len(rows):
            return
        self._add_missing_and_ranges("patients", rows, missing, ranges)
        if age_flag is not None:
            self._add(
                "patients",
                rows,
                "__r_age",
                "age_at_index",
                lambda s: s["__v_age"].to_numpy(float),
                "age_birth_date_mismatch",
                lambda s: [
                    f"disagrees with birth_date (which gives {v:.1f} years)"
                    for v in s["__v_derived"].to_numpy(float)
                ],
                "correct age_at_index or birth_date, or give only one of them",
            )
        self._add(
            "patients",
            rows,
            "__r_dup",
            "patient_id",
            lambda s: s["__v_key"].to_numpy(object),
            "duplicate_id",
            "appears in more than one patients row",
            "give each row its own patient_id",
        )
        self._add(
            "patients",
            rows,
            "__r_fu_before",
            "last_followup_date",
            lambda s: _dates(s["__v_fu"]),
            "followup_before_index",
            lambda s: [f"is before the index date {d}" for d in _d(_dates(s["__v_idx"]))],
            "correct last_followup_date or index_date",
        )
        for flag in baseline:
            event = BASELINE_FLAGS[flag]
            self._add(
                "patients",
                rows,
                f"__r_pre_{flag}",
                flag,
                lambda s, f=flag: s[f"__v_{f}"].to_numpy(object),
                "baseline_flag_inconsistent",
                f"but the events table has {event} dated on or before the index date",
                f"set {flag} to True, or correct the {event} event's date",
            )
            self._add(
                "patients",
                rows,
                f"__r_later_{flag}",
                flag,
                lambda s, f=flag: s[f"__v_{f}"].to_numpy(object),
                "baseline_flag_inconsistent",
                lambda s, f=flag, e=event: [
                    f"but the events table first records {e} on {a}, after the index date {b}"
                    for a, b in zip(
                        _d(_dates(s[f"__v_first_{f}"])), _d(_dates(s["__v_idx"])), strict=True
                    )
                ],
                f"set {flag} to False if {event} was diagnosed during follow-up, or "
                f"correct the {event} event's date",
            )
        self._add(
            "patients",
            rows,
            "__r_fu_death",
            "last_followup_date",
            lambda s: _dates(s["__v_fu"]),
            "followup_after_death",
            lambda s: [f"is after the death on {d}" for d in _d(_dates(s["__v_death"]))],
            "set last_followup_date to the date of death",
        )

    def _join_baseline(self, t: Any) -> tuple[Any, list[str]]:
        """``t`` with, per baseline flag, ``__pre_<flag>`` (the patient has the event dated
        on or before the index date of their first patients row) and ``__first_<flag>``."""
        e = self.t["events"]
        first = self._first_rows()
        done = []
        for flag, event in BASELINE_FLAGS.items():
            if flag not in t.columns or not self.has("patients", flag):
                continue
            ev = e.filter((e.event == event) & e.event_date.notnull())
            ev = ev.inner_join(first, ev.patient_id == first["__fpid"])
            pre = ev.filter(ev["__p_idx"].notnull() & (ev.event_date <= ev["__p_idx"]))
            pre = pre.select(**{f"__pre_{flag}": pre.patient_id}).distinct()
            t = t.left_join(pre, t.patient_id == pre[f"__pre_{flag}"])
            fe = self._first_event(event, f"__first_{flag}")
            t = t.left_join(fe, t.patient_id == fe[f"__first_{flag}_pid"])
            done.append(flag)
        return t, done

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

    def _imaging(self, skip, dated) -> None:
        t = self._join_known(self._join_dup_key(self.t["imaging"], "imaging"), "imaging")
        death = self._first_event("death", "__death")
        check_dates = (
            dated and self.n_rows["imaging"] and self.has("imaging", "patient_id", "study_date")
        )
        if check_dates:
            first = self._first_rows()
            t = t.left_join(first, t.patient_id == first["__fpid"])
            if death is not None:
                t = t.left_join(death, t.patient_id == death["__death_pid"])
        missing = self._missing_flags(t, "imaging", skip)
        flags = {k: v[0] for k, v in missing.items()}
        extra = {"patient_id": t.patient_id} if "patient_id" in t.columns else {}
        if "__dn" in t.columns:
            flags["__r_dup"] = t["__dn"].notnull()
            extra["__v_key"] = t.study_id
        if "__op" in t.columns:
            flags["__r_orphan"] = t.patient_id.notnull() & t["__op"].isnull()
            extra["__v_pid"] = t.patient_id
        if check_dates:
            good = t["__fpid"].notnull() & t.study_date.notnull()
            flags["__r_after_fu"] = good & t["__p_fu"].notnull() & (t.study_date > t["__p_fu"])
            extra.update(__v_date=t.study_date, __v_fu=t["__p_fu"])
            if death is not None:
                flags["__r_after_death"] = (
                    good & t["__death"].notnull() & (t.study_date > t["__death"])
                )
                extra["__v_death"] = t["__death"]
        rows = self._pull(t, flags, extra)
        if not len(rows):
            return
        self._add_missing_and_ranges("imaging", rows, missing, {})
        self._add(
            "imaging",
            rows,
            "__r_dup",
            "study_id",
            lambda s: s["__v_key"].to_numpy(object),
            "duplicate_id",
            "appears in more than one imaging row",
            "give each row its own study_id",
        )
        self._add_orphans("imaging", rows)
        self._add(
            "imaging",
            rows,
            "__r_after_fu",
            "study_date",
            lambda s: _dates(s["__v_date"]),
            "study_after_followup",
            lambda s: [f"is after the last follow-up date {d}" for d in _d(_dates(s["__v_fu"]))],
            "set last_followup_date on or after the patient's last imaging study",
        )
        self._add(
            "imaging",
            rows,
            "__r_after_death",
            "study_date",
            lambda s: _dates(s["__v_date"]),
            "study_after_death",
            lambda s: [f"is after the death on {d}" for d in _d(_dates(s["__v_death"]))],
            "correct the study date or the death date",
        )

    def _findings(self, skip) -> None:
        import ibis

        t = self._join_known(self._join_dup_key(self.t["findings"], "findings"), "findings")
        img = self.t["imaging"]
        studies = (
            self.n_rows["findings"]
            and self.has("findings", "study_id")
            and self.has("imaging", "study_id")
        )
        if studies:
            owner = (
                img.patient_id if self.has("imaging", "patient_id") else ibis.null().cast("string")
            )
            s = img.filter(img.study_id.notnull()).mutate(
                __rn=ibis.row_number().over(group_by=img.study_id, order_by=img["__key"]),
                __owner=owner,
            )
            s = s.filter(s["__rn"] == 0).select(__sid=s.study_id, __owner=s["__owner"])
            t = t.left_join(s, t.study_id == s["__sid"])
        missing = self._missing_flags(t, "findings", skip)
        ranges = self._range_flags(t, "findings")
        flags = {k: v[0] for k, v in {**missing, **ranges}.items()}
        extra = {"patient_id": t.patient_id} if "patient_id" in t.columns else {}
        extra.update({f"__v_{v[1]}": t[v[1]] for v in ranges.values()})
        if "__dn" in t.columns:
            flags["__r_dup"] = t["__dn"].notnull()
            extra["__v_key"] = t.finding_id
        if "__op" in t.columns:
            flags["__r_orphan"] = t.patient_id.notnull() & t["__op"].isnull()
            extra["__v_pid"] = t.patient_id
        if studies:
            flags["__r_unknown_study"] = t.study_id.notnull() & t["__sid"].isnull()
            extra["__v_sid"] = t.study_id
            if self.has("imaging", "patient_id") and self.has("findings", "patient_id"):
                flags["__r_mismatch"] = (
                    t["__sid"].notnull()
                    & t["__owner"].notnull()
                    & t.patient_id.notnull()
                    & (t["__owner"] != t.patient_id)
                )
                extra["__v_owner"] = t["__owner"]
        rows = self._pull(t, flags, extra)
        if not len(rows):
            return
        self._add_missing_and_ranges("findings", rows, missing, ranges)
        self._add(
            "findings",
            rows,
            "__r_dup",
            "finding_id",
            lambda s: s["__v_key"].to_numpy(object),
            "duplicate_id",
            "appears in more than one findings row",
            "give each row its own finding_id",
        )
        self._add_orphans("findings", rows)
        self._add(
            "findings",
            rows,
            "__r_unknown_study",
            "study_id",
            lambda s: s["__v_sid"].to_numpy(object),
            "unknown_study",
            "is not a study_id of the imaging table",
            "add the study to the imaging table or correct the study_id",
        )
        self._add(
            "findings",
            rows,
            "__r_mismatch",
            "study_id",
            lambda s: s["__v_sid"].to_numpy(object),
            "study_patient_mismatch",
            lambda s: [
                f"belongs to patient {o}, not to this finding's patient" for o in s["__v_owner"]
            ],
            "correct the finding's patient_id or study_id",
        )

    def _events(self, skip, dated) -> None:
        import ibis

        base = self.t["events"]
        full = self.has("events", "patient_id", "event", "event_date")
        t = self._join_known(base, "events")
        if full and self.n_rows["events"] >= 2:
            cols = [c for c in base.columns if not c.startswith("__")]
            w = ibis.window(group_by=[t[c] for c in cols], order_by=t["__key"])
            t = t.mutate(__dup_first=t["__row"].first().over(w), __dup_rn=ibis.row_number().over(w))
        check_dates = dated and full and self.n_rows["events"]
        death = self._first_event("death", "__death")
        trans = self._first_event("liver_transplant", "__trans")
        if check_dates:
            first = self._first_rows()
            t = t.left_join(first, t.patient_id == first["__fpid"])
            t = t.left_join(death, t.patient_id == death["__death_pid"])
            t = t.left_join(trans, t.patient_id == trans["__trans_pid"])
            nd = base.filter((base.event == "death") & base.patient_id.notnull())
            nd = nd.group_by(__dpid=nd.patient_id).agg(__nd=nd.count())
            t = t.left_join(nd, t.patient_id == nd["__dpid"])
        missing = self._missing_flags(t, "events", skip)
        flags = {k: v[0] for k, v in missing.items()}
        extra = {"patient_id": t.patient_id} if "patient_id" in t.columns else {}
        if "__dup_rn" in t.columns:
            flags["__r_duprow"] = t["__dup_rn"] > 0
            extra.update(__v_first=t["__dup_first"], __v_event=t.event, __v_date=t.event_date)
        if "__op" in t.columns:
            flags["__r_orphan"] = t.patient_id.notnull() & t["__op"].isnull()
            extra["__v_pid"] = t.patient_id
        if check_dates:
            has_date = t["__fpid"].notnull() & t.event_date.notnull()
            terminal = t.event.isin(sorted(TERMINAL_EVENTS))
            native = t.event.isin(sorted(NATIVE_LIVER_OUTCOMES))
            flags["__r_before_index"] = (
                has_date & terminal & t["__p_idx"].notnull() & (t.event_date < t["__p_idx"])
            )
            flags["__r_after_fu"] = has_date & t["__p_fu"].notnull() & (t.event_date > t["__p_fu"])
            flags["__r_after_death"] = (
                has_date
                & t["__death"].notnull()
                & (t.event_date > t["__death"])
                & (t.event != "death")
            )
            flags["__r_multi_death"] = (
                (t.event == "death") & t.patient_id.notnull() & (t["__nd"] > 1)
            )
            flags["__r_post_tx"] = (
                has_date & native & t["__trans"].notnull() & (t.event_date > t["__trans"])
            )
            extra.update(
                __v_event=t.event,
                __v_date=t.event_date,
                __v_idx=t["__p_idx"],
                __v_fu=t["__p_fu"],
                __v_death=t["__death"],
                __v_trans=t["__trans"],
            )
        rows = self._pull(t, flags, extra)
        if not len(rows):
            return
        self._add_missing_and_ranges("events", rows, missing, {})
        self._add(
            "events",
            rows,
            "__r_duprow",
            "event",
            lambda s: s["__v_event"].to_numpy(object),
            "duplicate_row",
            lambda s: [
                f"dated {w} repeats events row {'?' if pd.isna(f) else int(f)} exactly"
                for w, f in zip(_d(_dates(s["__v_date"])), s["__v_first"], strict=True)
            ],
            "remove the repeated row: each event of a patient is entered once",
        )
        self._add_orphans("events", rows)
        self._add(
            "events",
            rows,
            "__r_before_index",
            "event_date",
            lambda s: _dates(s["__v_date"]),
            "event_before_index",
            lambda s: [
                f"({k}) is before the index date {d}"
                for k, d in zip(s["__v_event"], _d(_dates(s["__v_idx"])), strict=True)
            ],
            "correct the event or index date; a patient cannot die or receive a "
            "transplant before the index imaging study",
        )
        self._add(
            "events",
            rows,
            "__r_after_fu",
            "event_date",
            lambda s: _dates(s["__v_date"]),
            "event_after_followup",
            lambda s: [
                f"({k}) is after the last follow-up date {d}"
                for k, d in zip(s["__v_event"], _d(_dates(s["__v_fu"])), strict=True)
            ],
            "set last_followup_date on or after the patient's last event",
        )
        self._add(
            "events",
            rows,
            "__r_after_death",
            "event_date",
            lambda s: _dates(s["__v_date"]),
            "event_after_death",
            lambda s: [
                f"({k}) is after the death on {d}"
                for k, d in zip(s["__v_event"], _d(_dates(s["__v_death"])), strict=True)
            ],
            "correct the event date or the death date; nothing follows death",
        )
        self._add(
            "events",
            rows,
            "__r_multi_death",
            "event",
            lambda s: s["__v_event"].to_numpy(object),
            "multiple_deaths",
            "is one of several death events of this patient",
            "keep exactly one death event per patient",
        )
        self._add(
            "events",
            rows,
            "__r_post_tx",
            "event",
            lambda s: s["__v_event"].to_numpy(object),
            "outcome_after_transplant",
            lambda s: [
                f"is a native-liver outcome dated {a}, after the liver transplant on {b}"
                for a, b in zip(_d(_dates(s["__v_date"])), _d(_dates(s["__v_trans"])), strict=True)
            ],
            "remove the event or correct its date; after a transplant the native liver is gone",
        )

    # --------------------------------------------------------------------- warnings
    def case_clashes(self) -> None:
        """DataWarnings naming ids that differ only by letter case (the pandas text)."""
        groups = {
            "patient_id": [(t, "patient_id") for t in TABLE_NAMES],
            "study_id": [("imaging", "study_id"), ("findings", "study_id")],
            "finding_id": [("findings", "finding_id")],
        }
        for key, parts in groups.items():
            ids = [
                self.t[t].select(__id=self.t[t][c])
                for t, c in parts
                if self.has(t, c) and c in self.t[t].columns
            ]
            if not ids:
                continue
            u = ids[0].union(*ids[1:], distinct=True) if len(ids) > 1 else ids[0].distinct()
            u = u.filter(u["__id"].notnull())
            low = u.mutate(__low=u["__id"].lower())
            clash = low.group_by("__low").agg(__n=low.count()).filter(lambda s: s["__n"] > 1)
            n_groups = int(clash.count().execute())
            if not n_groups:
                continue
            shown_low = clash.order_by("__low").limit(5)
            members = low.inner_join(shown_low, "__low").select("__low", "__id").to_pandas()
            grouped = members.groupby("__low", sort=True)["__id"].agg(sorted)
            shown = "; ".join(" / ".join(map(repr, g)) for g in grouped)
            more = f" and {n_groups - 5} more" if n_groups > 5 else ""
            warnings.warn(
                f"{key}: {n_groups} group(s) of ids differ only by letter case ({shown}"
                f"{more}); calcstats treats them as different ids. If they are the same "
                f"{key.removesuffix('_id')}, write the id the same way in every table.",
                DataWarning,
                stacklevel=5,
            )
