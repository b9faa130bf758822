"""The cross-table rules of cohort validation (mixed into the validator's checker).

Foreign keys (orphan rows, unknown studies, a finding's study of another patient) and the
date order of each patient's history: follow-up not before index, nothing after death, at
most one death, no native-liver outcome after liver transplant, baseline flags consistent
with the events (see :mod:`calcstats.cohort._validate` for the list of rules). Every rule
is vectorised over integer patient codes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from calcstats.cohort._schema import BASELINE_FLAGS, NATIVE_LIVER_OUTCOMES, TERMINAL_EVENTS

__all__ = ["CrossRules"]


def _d(values: np.ndarray) -> np.ndarray:
    """Dates as YYYY-MM-DD text (for messages)."""
    return pd.Series(values).dt.strftime("%Y-%m-%d").to_numpy(dtype=object)


def _zero_key(ids: pd.Series) -> pd.Series:
    """Ids without leading zeros ("007" and "7" give "7"; "000" gives "0")."""
    key = ids.astype(str).str.lstrip("0")
    return key.where(key != "", "0")


def _orphan_texts(orphans: np.ndarray, patient_ids: pd.Series) -> list[str]:
    """Orphan-row texts; name the patients id an orphan matches up to leading zeros or case."""
    text = "is not in the patients table"
    known = patient_ids.dropna()

    def nearest(key) -> np.ndarray:
        near = pd.Series(known.to_numpy(dtype=object), index=key(known))
        near = near[~near.index.duplicated()]
        return near.reindex(key(pd.Series(orphans, dtype=object)).to_numpy()).to_numpy(dtype=object)

    zeros = nearest(_zero_key)
    case = nearest(lambda ids: ids.astype(str).str.casefold())
    return [
        f"{text}, which has {z!r}: leading zeros were probably lost (e.g. by Excel) in one "
        "table; give the ids the same form in every table (read id columns as text)"
        if not pd.isna(z)
        else f"{text}, which has {c!r}: the ids differ only by letter case, and calcstats treats "
        "them as different patients; write the id the same way in every table"
        if not pd.isna(c)
        else text
        for z, c in zip(zeros, case, strict=True)
    ]


class CrossRules:
    """Cross-table rules; the host class provides ``t``, ``has``, ``add``, ``pc``, ``sc``,
    ``k`` and ``ks`` (patient and study codes shared by every table)."""

    t: dict[str, pd.DataFrame]
    pc: dict[str, np.ndarray]
    sc: dict[str, np.ndarray]
    k: int
    ks: int

    if TYPE_CHECKING:

        def has(self, table: str, *cols: str) -> bool: ...

        def add(
            self,
            table: str,
            mask: ArrayLike,
            column: str | None,
            values: object,
            rule: str,
            what: str | np.ndarray | Callable[..., Any],
            fix: str | np.ndarray,
        ) -> None: ...

    @staticmethod
    def _first_row(codes: np.ndarray, k: int) -> np.ndarray:
        """Row of the first occurrence of each code (-1 when absent)."""
        first = np.full(k, -1, dtype=np.int64)
        rows = np.flatnonzero(codes >= 0)[::-1]
        first[codes[rows]] = rows
        return first

    # ------------------------------------------------------------------ cross-table rules
    def cross(self) -> None:
        pts, img, fnd, ev = (self.t[n] for n in ("patients", "imaging", "findings", "events"))
        k = self.k
        pfirst = self._first_row(self.pc["patients"], k)
        pos: dict[str, np.ndarray] = {}
        for table, df in (("imaging", img), ("findings", fnd), ("events", ev)):
            if not self.has(table, "patient_id") or not len(df):
                continue
            codes = self.pc[table]
            p = np.where(codes >= 0, pfirst[np.maximum(codes, 0)], -1)
            orphan = (p < 0) & (codes >= 0)
            ids = df["patient_id"].to_numpy(dtype=object)
            self.add(
                table,
                orphan,
                "patient_id",
                ids,
                "orphan_row",
                (lambda i, ids=ids: _orphan_texts(ids[i], pts["patient_id"]))
                if orphan.any() and self.has("patients", "patient_id")
                else "is not in the patients table",
                "add the patient to the patients table or remove the row",
            )
            pos[table] = p
        # findings -> imaging
        if len(fnd) and self.has("findings", "study_id") and self.has("imaging", "study_id"):
            sfirst = self._first_row(self.sc["imaging"], self.ks)
            fcodes = self.sc["findings"]
            spos = np.where(fcodes >= 0, sfirst[np.maximum(fcodes, 0)], -1)
            sid = fnd["study_id"].to_numpy(dtype=object)
            self.add(
                "findings",
                (spos < 0) & (fcodes >= 0),
                "study_id",
                sid,
                "unknown_study",
                "is not a study_id of the imaging table",
                "add the study to the imaging table or correct the study_id",
            )
            if self.has("imaging", "patient_id") and self.has("findings", "patient_id"):
                owner_code = np.where(
                    spos >= 0, self.pc["imaging"][np.maximum(spos, 0)] if len(img) else -1, -1
                )
                fpc = self.pc["findings"]
                mism = (spos >= 0) & (owner_code >= 0) & (fpc >= 0) & (owner_code != fpc)
                owner = img["patient_id"].to_numpy(dtype=object)
                self.add(
                    "findings",
                    mism,
                    "study_id",
                    sid,
                    "study_patient_mismatch",
                    lambda i: [
                        f"belongs to patient {o}, not to this finding's patient"
                        for o in owner[spos[i]]
                    ],
                    "correct the finding's patient_id or study_id",
                )
        if not self.has("patients", "index_date", "last_followup_date"):
            return
        idx_all = pts["index_date"].to_numpy()
        fu_all = pts["last_followup_date"].to_numpy()
        bad = ~np.isnat(idx_all) & ~np.isnat(fu_all) & (fu_all < idx_all)
        self.add(
            "patients",
            bad,
            "last_followup_date",
            fu_all,
            "followup_before_index",
            lambda i: [f"is before the index date {d}" for d in _d(idx_all[i])],
            "correct last_followup_date or index_date",
        )
        nat = np.datetime64("NaT", "ns")

        def per_row(values: np.ndarray, p: np.ndarray) -> np.ndarray:
            return (
                np.where(p >= 0, values[np.maximum(p, 0)], nat)
                if len(values)
                else np.full(len(p), nat)
            )

        death = self._first_event("death")
        trans = self._first_event("liver_transplant")
        # events
        if "events" in pos and self.has("events", "event", "event_date"):
            p = pos["events"]
            codes = self.pc["events"]
            e_date = ev["event_date"].to_numpy()
            e = ev["event"].to_numpy(dtype=object)
            has_date = (p >= 0) & ~np.isnat(e_date)
            p_idx, p_fu = per_row(idx_all, p), per_row(fu_all, p)
            terminal = np.isin(e, list(TERMINAL_EVENTS))
            before = has_date & terminal & ~np.isnat(p_idx) & (e_date < p_idx)
            self.add(
                "events",
                before,
                "event_date",
                e_date,
                "event_before_index",
                lambda i: [
                    f"({k}) is before the index date {d}"
                    for k, d in zip(e[i], _d(p_idx[i]), strict=True)
                ],
                "correct the event or index date; a patient cannot die or receive a "
                "transplant before the index imaging study",
            )
            after = has_date & ~np.isnat(p_fu) & (e_date > p_fu)
            self.add(
                "events",
                after,
                "event_date",
                e_date,
                "event_after_followup",
                lambda i: [
                    f"({k}) is after the last follow-up date {d}"
                    for k, d in zip(e[i], _d(p_fu[i]), strict=True)
                ],
                "set last_followup_date on or after the patient's last event",
            )
            d_date = per_row(death, codes)
            after_death = has_date & ~np.isnat(d_date) & (e_date > d_date) & (e != "death")
            self.add(
                "events",
                after_death,
                "event_date",
                e_date,
                "event_after_death",
                lambda i: [
                    f"({k}) is after the death on {d}"
                    for k, d in zip(e[i], _d(d_date[i]), strict=True)
                ],
                "correct the event date or the death date; nothing follows death",
            )
            is_death = (e == "death") & (codes >= 0)
            n_death = np.bincount(codes[is_death], minlength=k)
            self.add(
                "events",
                is_death & (n_death[np.maximum(codes, 0)] > 1),
                "event",
                e,
                "multiple_deaths",
                "is one of several death events of this patient",
                "keep exactly one death event per patient",
            )
            t_date = per_row(trans, codes)
            native = np.isin(e, list(NATIVE_LIVER_OUTCOMES))
            post_tx = has_date & native & ~np.isnat(t_date) & (e_date > t_date)
            self.add(
                "events",
                post_tx,
                "event",
                e,
                "outcome_after_transplant",
                lambda i: [
                    f"is a native-liver outcome dated {a}, after the liver transplant on {b}"
                    for a, b in zip(_d(e_date[i]), _d(t_date[i]), strict=True)
                ],
                "remove the event or correct its date; after a transplant the native liver is gone",
            )
            for flag, event in BASELINE_FLAGS.items():
                if flag not in pts.columns or not self.has("patients", flag):
                    continue
                pre = has_date & (e == event) & ~np.isnat(p_idx) & (e_date <= p_idx)
                has_pre = np.zeros(k, dtype=bool)
                has_pre[codes[pre]] = True
                pcodes = self.pc["patients"]
                fl = pts[flag]
                bad = (
                    (pcodes >= 0)
                    & has_pre[np.maximum(pcodes, 0)]
                    & fl.eq(False).fillna(False).to_numpy(dtype=bool)
                )
                self.add(
                    "patients",
                    bad,
                    flag,
                    fl.to_numpy(dtype=object),
                    "baseline_flag_inconsistent",
                    f"but the events table has {event} dated on or before the index date",
                    f"set {flag} to True, or correct the {event} event's date",
                )
                first = per_row(self._first_event(event), pcodes)
                later = (
                    fl.eq(True).fillna(False).to_numpy(dtype=bool)
                    & ~np.isnat(first)
                    & ~np.isnat(idx_all)
                    & (first > idx_all)
                )
                self.add(
                    "patients",
                    later,
                    flag,
                    fl.to_numpy(dtype=object),
                    "baseline_flag_inconsistent",
                    lambda i, first=first, event=event: [
                        f"but the events table first records {event} on {a}, after the "
                        f"index date {b}"
                        for a, b in zip(_d(first[i]), _d(idx_all[i]), strict=True)
                    ],
                    f"set {flag} to False if {event} was diagnosed during follow-up, or "
                    f"correct the {event} event's date",
                )
        # imaging dates
        if "imaging" in pos and self.has("imaging", "study_date"):
            p = pos["imaging"]
            s_date = img["study_date"].to_numpy()
            p_fu = per_row(fu_all, p)
            good = (p >= 0) & ~np.isnat(s_date)
            self.add(
                "imaging",
                good & ~np.isnat(p_fu) & (s_date > p_fu),
                "study_date",
                s_date,
                "study_after_followup",
                lambda i: [f"is after the last follow-up date {d}" for d in _d(p_fu[i])],
                "set last_followup_date on or after the patient's last imaging study",
            )
            d_img = per_row(death, self.pc["imaging"])
            self.add(
                "imaging",
                good & ~np.isnat(d_img) & (s_date > d_img),
                "study_date",
                s_date,
                "study_after_death",
                lambda i: [f"is after the death on {d}" for d in _d(d_img[i])],
                "correct the study date or the death date",
            )
        d_pt = per_row(death, self.pc["patients"])
        self.add(
            "patients",
            ~np.isnat(fu_all) & ~np.isnat(d_pt) & (fu_all > d_pt),
            "last_followup_date",
            fu_all,
            "followup_after_death",
            lambda i: [f"is after the death on {d}" for d in _d(d_pt[i])],
            "set last_followup_date to the date of death",
        )

    def _first_event(self, event: str) -> np.ndarray:
        """Earliest date of ``event`` per patient code (NaT when none)."""
        ev = self.t["events"]
        out = np.full(self.k, np.iinfo(np.int64).max, dtype=np.int64)
        if len(ev) and self.has("events", "patient_id", "event", "event_date"):
            codes = self.pc["events"]
            dates = ev["event_date"].to_numpy().astype("datetime64[ns]")
            sel = (ev["event"] == event).to_numpy() & ~np.isnat(dates) & (codes >= 0)
            np.minimum.at(out, codes[sel], dates[sel].view(np.int64))
        res = out.view("datetime64[ns]").copy()
        res[out == np.iinfo(np.int64).max] = np.datetime64("NaT")
        return res
