"""The per-table checks of engine validation (mixed into ``EngineChecker``).

One query per table: the table joined with its duplicate-key counts and its patients'
per-patient values (``EngineChecker.per_patient``), every rule a flag column; the flagged
rows come back and become problems with the pandas path's messages
(:mod:`calcstats.cohort._cross`, :mod:`calcstats.cohort._validate`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from calcstats.cohort._cross import _d
from calcstats.cohort._schema import BASELINE_FLAGS, NATIVE_LIVER_OUTCOMES, TERMINAL_EVENTS

__all__ = ["TableChecks"]


def _dates(values: Any) -> np.ndarray:
    return pd.to_datetime(pd.Series(values, dtype=object)).to_numpy(dtype="datetime64[ns]")


def _after(name: str, what: str) -> Any:
    """``what`` + a date column of the flagged rows, for messages."""
    return lambda s: [f"{what} {d}" for d in _d(_dates(s[name]))]


class TableChecks:
    """The checks of the four tables; the host provides ``t``, ``has``, ``n_rows``,
    ``_per`` (the per-patient table or None), ``with_patient``, ``_pull``, ``_add``,
    ``_missing_flags``, ``_range_flags``, ``_join_dup_key``, ``_add_orphans`` and
    ``_add_missing_and_ranges``."""

    t: dict[str, Any]
    _per: Any
    unique_keys: set[str]

    def _orphan(
        self, t: Any, flags: dict, extra: dict, table: str, *, suspects: bool = False
    ) -> None:
        """The orphan flag; with ``suspects``, ``t`` joined only the suspect patients,
        among them every id without a patients row."""
        if not self.has(table, "patient_id") or not self.n_rows[table]:
            return
        orphan = t.patient_id.notnull()
        if suspects and "__exists" in t.columns:
            orphan = orphan & t["__pp"].notnull() & t["__exists"].isnull()
        elif "__exists" in t.columns:  # else the patients table has no ids: every id is unknown
            orphan = orphan & t["__exists"].isnull()
        flags["__r_orphan"] = orphan
        extra["__v_pid"] = t.patient_id

    # --------------------------------------------------------------------- patients
    def check_patients(
        self, skip: Mapping[str, list[str]], age_flag: str | None, dated: bool
    ) -> None:
        import ibis

        t = self.t["patients"]
        if self._per is not None:
            # the per-patient table counts each id's patients rows: more than one is a
            # duplicate id
            t = self.with_patient(t, suspects=True)
            t = t.mutate(__dn=ibis.cases((t["__np"] > 1, t["__np"]), else_=ibis.null("int64")))
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
        events = (
            self.n_rows["events"]
            and self._per is not None
            and self.has("events", "patient_id", "event", "event_date")
        )
        baseline = [f for f in BASELINE_FLAGS if f"__first_{f}" in t.columns] if events else []
        if dated:
            fu, idx = t.last_followup_date, t.index_date
            flags["__r_fu_before"] = fu.notnull() & idx.notnull() & (fu < idx)
            extra.update(__v_fu=fu, __v_idx=idx)
            if self._per is not None:
                flags["__r_fu_death"] = fu.notnull() & t["__death"].notnull() & (fu > t["__death"])
                extra["__v_death"] = t["__death"]
            for flag in baseline:
                first = t[f"__first_{flag}"]
                pre = first.notnull() & t["__p_idx"].notnull() & (first <= t["__p_idx"])
                flags[f"__r_pre_{flag}"] = t.patient_id.notnull() & pre & ~t[flag]
                flags[f"__r_later_{flag}"] = (
                    t[flag] & first.notnull() & idx.notnull() & (first > idx)
                )
                extra[f"__v_{flag}"] = t[flag]
                extra[f"__v_first_{flag}"] = first
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
            _after("__v_idx", "is before the index date"),
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
            _after("__v_death", "is after the death on"),
            "set last_followup_date to the date of death",
        )

    # ---------------------------------------------------------------------- imaging
    def check_imaging(self, skip: Mapping[str, list[str]], dated: bool) -> None:
        t = self._join_dup_key(self.t["imaging"], "imaging", "study_id")
        if self._per is not None and self.has("imaging", "patient_id"):
            t = self.with_patient(t)
        missing = self._missing_flags(t, "imaging", skip)
        flags = {k: v[0] for k, v in missing.items()}
        extra = {"patient_id": t.patient_id} if "patient_id" in t.columns else {}
        if "__dn" in t.columns:
            flags["__r_dup"] = t["__dn"].notnull()
            extra["__v_key"] = t.study_id
        self._orphan(t, flags, extra, "imaging")
        if (
            dated
            and self.n_rows["imaging"]
            and "__exists" in t.columns
            and self.has("imaging", "study_date")
        ):
            good = t["__exists"].notnull() & t.study_date.notnull()
            flags["__r_after_fu"] = good & t["__p_fu"].notnull() & (t.study_date > t["__p_fu"])
            flags["__r_after_death"] = good & t["__death"].notnull() & (t.study_date > t["__death"])
            extra.update(__v_date=t.study_date, __v_fu=t["__p_fu"], __v_death=t["__death"])
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
            _after("__v_fu", "is after the last follow-up date"),
            "set last_followup_date on or after the patient's last imaging study",
        )
        self._add(
            "imaging",
            rows,
            "__r_after_death",
            "study_date",
            lambda s: _dates(s["__v_date"]),
            "study_after_death",
            _after("__v_death", "is after the death on"),
            "correct the study date or the death date",
        )

    # --------------------------------------------------------------------- findings
    def check_findings(self, skip: Mapping[str, list[str]]) -> None:
        import ibis

        t = self._join_dup_key(self.t["findings"], "findings", "finding_id")
        img = self.t["imaging"]
        studies = (
            self.n_rows["findings"]
            and self.has("findings", "study_id")
            and self.has("imaging", "study_id")
        )
        # A finding filed under its study's patient has a known patient when no imaging
        # row is an orphan: then only the findings of an unknown study, of a study
        # without patient or of another patient's study are looked up in the patients
        # table (after the query, few), and the check joins no per-patient table.
        through = (
            studies
            and self._per is not None
            and self.has("findings", "patient_id")
            and self.has("imaging", "patient_id")
            and not self._found("imaging", "orphan_row")
        )
        if self._per is not None and self.has("findings", "patient_id") and not through:
            t = self.with_patient(t)
        if studies:
            owner = (
                img.patient_id if self.has("imaging", "patient_id") else ibis.null().cast("string")
            )
            if "imaging" in self.unique_keys:  # each study id once: its row is its first
                s = img.filter(img.study_id.notnull()).select(__sid=img.study_id, __owner=owner)
            else:
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
        if through:
            pid = t.patient_id
            flags["__r_orphan_maybe"] = pid.notnull() & (
                t["__owner"].isnull() | (t["__owner"] != pid)
            )
            extra["__v_pid"] = pid
        else:
            self._orphan(t, flags, extra, "findings")
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
        if through:
            rows["__r_orphan"] = self._unknown_patients(rows, "__r_orphan_maybe")
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

    # ----------------------------------------------------------------------- events
    def check_events(self, skip: Mapping[str, list[str]], dated: bool) -> None:
        import ibis

        base = self.t["events"]
        full = self.has("events", "patient_id", "event", "event_date")
        t = base
        if full and self.n_rows["events"] >= 2:
            cols = [c for c in base.columns if not c.startswith("__")]
            w = ibis.window(group_by=[t[c] for c in cols], order_by=t["__key"])
            t = t.mutate(__dup_first=t["__row"].first().over(w), __dup_rn=ibis.row_number().over(w))
        suspects = self._per is not None and self.has("events", "patient_id")
        if suspects:
            t = self.with_patient(t, suspects=True)
        missing = self._missing_flags(t, "events", skip)
        flags = {k: v[0] for k, v in missing.items()}
        extra = {"patient_id": t.patient_id} if "patient_id" in t.columns else {}
        if "__dup_rn" in t.columns:
            flags["__r_duprow"] = t["__dup_rn"] > 0
            extra.update(__v_first=t["__dup_first"], __v_event=t.event, __v_date=t.event_date)
        self._orphan(t, flags, extra, "events", suspects=suspects)
        if dated and full and self.n_rows["events"] and "__exists" in t.columns:
            date, ev = t.event_date, t.event
            has_date = t["__exists"].notnull() & date.notnull()
            flags["__r_before_index"] = (
                has_date
                & ev.isin(sorted(TERMINAL_EVENTS))
                & t["__p_idx"].notnull()
                & (date < t["__p_idx"])
            )
            flags["__r_after_fu"] = has_date & t["__p_fu"].notnull() & (date > t["__p_fu"])
            flags["__r_after_death"] = (
                has_date & t["__death"].notnull() & (date > t["__death"]) & (ev != "death")
            )
            flags["__r_multi_death"] = (ev == "death") & t.patient_id.notnull() & (t["__nd"] > 1)
            flags["__r_post_tx"] = (
                has_date
                & ev.isin(sorted(NATIVE_LIVER_OUTCOMES))
                & t["__trans"].notnull()
                & (date > t["__trans"])
            )
            extra.update(
                __v_event=ev,
                __v_date=date,
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

        def event_and(name: str, what: str) -> Any:
            return lambda s: [
                f"({k}) {what} {d}"
                for k, d in zip(s["__v_event"], _d(_dates(s[name])), strict=True)
            ]

        self._add(
            "events",
            rows,
            "__r_before_index",
            "event_date",
            lambda s: _dates(s["__v_date"]),
            "event_before_index",
            event_and("__v_idx", "is before the index date"),
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
            event_and("__v_fu", "is after the last follow-up date"),
            "set last_followup_date on or after the patient's last event",
        )
        self._add(
            "events",
            rows,
            "__r_after_death",
            "event_date",
            lambda s: _dates(s["__v_date"]),
            "event_after_death",
            event_and("__v_death", "is after the death on"),
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
