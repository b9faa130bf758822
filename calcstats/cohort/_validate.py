"""Validation of the cohort tables: every rule, all problems collected in one pass.

The rules (``RULES``, in the order used for the participant flow):

- ``missing_column``: a required column is absent (cannot be fixed by excluding patients).
- ``missing_value``: a required cell is empty.
- ``invalid_number`` / ``invalid_boolean`` / ``invalid_date`` / ``ambiguous_date`` /
  ``unknown_value``: a value of the wrong type or outside its vocabulary (an impossible date
  says which part is impossible: ``month 15 ... with date_format='dmy'``).
- ``mixed_date_format``: one problem for a column that mixes day-first and month-first
  dates (its rows are also reported one by one); see :mod:`calcstats.cohort._dates`.
- ``out_of_range``: an impossible value (``HARD_RANGES``: size_mm > 0, age 0–120, ...).
- ``age_birth_date_mismatch``: age_at_index and birth_date disagree by more than a year.
- ``duplicate_id``: patient_id, study_id or finding_id not unique.
- ``duplicate_row``: an events row that repeats an earlier events row exactly (every
  column equal after normalisation); each repetition is reported, never silently kept.
- ``orphan_row``: an imaging, findings or events row whose patient_id is not in patients.
- ``unknown_study``: a finding whose study_id is not in imaging.
- ``study_patient_mismatch``: a finding whose study belongs to another patient.
- ``followup_before_index``: last_followup_date before index_date.
- ``event_before_index``: death or liver transplant dated before the index date (other
  events before the index date are prevalent conditions and allowed; they must agree with
  the baseline flags, below).
- ``event_after_death`` / ``study_after_death`` / ``followup_after_death``: anything dated
  after the death.
- ``multiple_deaths``: more than one death event.
- ``outcome_after_transplant``: a native-liver outcome after liver_transplant.
- ``event_after_followup`` / ``study_after_followup``: dated after last_followup_date.
- ``baseline_flag_inconsistent``: a cirrhosis event on or before the index date while
  cirrhosis_at_baseline is False, or cirrhosis_at_baseline True while the first cirrhosis
  event is dated after the index date.

Ids that differ only by letter case (``p1`` and ``P1``) are different ids; they give a
:class:`DataWarning` naming them (an orphan row whose id matches a patient up to case
says so in its message).

Implausible but possible values (``PLAUSIBLE_RANGES``, dates before 1900 or in the future)
give one :class:`DataWarning` per column and are kept.

Every rule is vectorised (``Index.get_indexer``, ``groupby``, boolean masks); no Python
loop runs over the rows of a table, so a million patients validate in seconds.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from calcstats._errors import DataWarning
from calcstats.cohort._convert import coerce_table
from calcstats.cohort._problems import empty_problems, problem_frame
from calcstats.cohort._read import TABLE_NAMES
from calcstats.cohort._schema import (
    BASELINE_FLAGS,
    HARD_RANGES,
    NATIVE_LIVER_OUTCOMES,
    TABLES,
    TERMINAL_EVENTS,
    Vocabularies,
)

__all__ = ["COLUMN_NOTES", "RULES", "validate_tables"]

#: rule → reason shown in the participant flow (the order is the flow's order).
RULES: Mapping[str, str] = {
    "missing_column": "Required column missing",
    "missing_value": "Required value missing",
    "invalid_number": "Value is not a number",
    "invalid_boolean": "Value is not yes/no",
    "invalid_date": "Unreadable date",
    "ambiguous_date": "Ambiguous day/month date",
    "mixed_date_format": "Column mixes day-first and month-first dates",
    "unknown_value": "Value outside its vocabulary",
    "out_of_range": "Impossible value (out of range)",
    "age_birth_date_mismatch": "Age at index disagrees with birth date",
    "duplicate_id": "Duplicate identifier",
    "duplicate_row": "Event row repeated exactly",
    "orphan_row": "Rows whose patient_id is not in the patients table",
    "unknown_study": "Finding refers to an unknown imaging study",
    "study_patient_mismatch": "Finding's study belongs to another patient",
    "followup_before_index": "Last follow-up before index date",
    "event_before_index": "Death or transplant before index date",
    "event_after_death": "Event after death",
    "study_after_death": "Imaging study after death",
    "followup_after_death": "Last follow-up after death",
    "multiple_deaths": "More than one death",
    "outcome_after_transplant": "Native-liver outcome after liver transplant",
    "event_after_followup": "Event after last follow-up",
    "study_after_followup": "Imaging study after last follow-up",
    "baseline_flag_inconsistent": "Baseline flag contradicts the events",
}

#: Rules about a whole column, not a row: excluding patients cannot fix them, so
#: ``on_error="exclude"`` raises them; except those in ``COLUMN_NOTES``, whose rows are also
#: reported one by one (then excluded) and which are repeated as a DataWarning.
COLUMN_NOTES = frozenset({"mixed_date_format"})


#: id column -> what a row without it cannot be linked to (for messages)
_ID_LINKS: Mapping[str, str] = {"patient_id": "a patient", "study_id": "an imaging study",
                                "finding_id": "its calcification"}


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
        return near.reindex(key(pd.Series(orphans, dtype=object)).to_numpy()).to_numpy(
            dtype=object)

    zeros = nearest(_zero_key)
    case = nearest(lambda ids: ids.astype(str).str.casefold())
    return [
        f"{text}, which has {z!r}: leading zeros were probably lost (e.g. by Excel) in one "
        "table; give the ids the same form in every table (read id columns as text)"
        if not pd.isna(z) else
        f"{text}, which has {c!r}: the ids differ only by letter case, and calcstats treats "
        "them as different patients; write the id the same way in every table"
        if not pd.isna(c) else text
        for z, c in zip(zeros, case, strict=True)
    ]


class _Checker:
    """Holds the converted tables and collects problems."""

    def __init__(self, frames: dict[str, pd.DataFrame], absent: dict[str, set[str]]):
        self.t = frames
        self.absent = absent
        self.problems: list[pd.DataFrame] = []

    def has(self, table: str, *cols: str) -> bool:
        return all(c not in self.absent[table] for c in cols)

    def add(self, table, mask, column, values, rule, what, fix) -> None:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        df = self.t[table]
        idx = np.flatnonzero(mask)
        pid = df["patient_id"].to_numpy(dtype=object)[idx] if "patient_id" in df else None
        vals = np.asarray(values)
        vals = vals[idx] if vals.ndim and len(vals) == len(mask) else vals
        if callable(what):
            w = np.asarray(what(idx), dtype=object)
        else:
            w = np.asarray(what, dtype=object)
            w = w[idx] if w.ndim and len(w) == len(mask) else w
        self.problems.append(problem_frame(table, idx, pid, column, vals, rule, w, fix))

    # ------------------------------------------------------------------ single-table rules
    def missing_values(self, skip: dict[str, np.ndarray]) -> None:
        for table in TABLE_NAMES:
            df = self.t[table]
            for col in TABLES[table].required:
                if col not in df.columns or col in self.absent[table]:
                    continue
                flagged = skip[table].get(col)
                miss = df[col].isna().to_numpy()
                if flagged is not None:
                    miss &= ~flagged
                if col in _ID_LINKS:
                    what = f"is blank: every {table} row needs a {col} (ids link the tables)"
                    fix = f"fill in the {col}; without it the row is not linked to {_ID_LINKS[col]}"
                else:
                    what, fix = "is empty but required", f"fill in {col} for this row"
                self.add(table, miss, col, np.full(len(df), None, object), "missing_value",
                         what, fix)

    def ranges(self) -> None:
        for (table, col), (lo, hi, lo_inc, hi_inc) in HARD_RANGES.items():
            df = self.t[table]
            if col not in df.columns or not self.has(table, col):
                continue
            x = df[col].to_numpy(dtype=float)
            ok_lo = x >= lo if lo_inc else x > lo
            ok_hi = x <= hi if hi_inc else x < hi
            bad = ~np.isnan(x) & (~(ok_lo & ok_hi) | np.isinf(x))  # inf is never measured
            rng = (f"finite and {'≥' if lo_inc else '>'} {lo:g}" if np.isinf(hi)
                   else f"in [{lo:g}, {hi:g}]")
            self.add(table, bad, col, x, "out_of_range", f"is impossible: it must be {rng}",
                     "correct the value (check its unit) or leave it empty if unknown")

    def _codes(self, parts: list[tuple[str, str]]) -> tuple[dict[str, np.ndarray], int]:
        """Integer codes of one key shared by several tables (-1 = missing), one hash pass."""
        arrays = [self.t[t][c].to_numpy(dtype=object) if self.has(t, c) and c in self.t[t]
                  else np.full(len(self.t[t]), None, dtype=object) for t, c in parts]
        codes, uniques = pd.factorize(np.concatenate(arrays) if arrays else np.array([]))
        out, at = {}, 0
        for (t, _), a in zip(parts, arrays, strict=True):
            out[t] = codes[at: at + len(a)]
            at += len(a)
        self.uniques[parts[0][1]] = uniques
        return out, len(uniques)

    def unique_keys(self) -> None:
        self.uniques: dict[str, np.ndarray] = {}
        self.pc, self.k = self._codes([(t, "patient_id") for t in TABLE_NAMES])
        self.sc, self.ks = self._codes([("imaging", "study_id"), ("findings", "study_id")])
        fc, kf = self._codes([("findings", "finding_id")])
        for table, key, codes, k in (("patients", "patient_id", self.pc["patients"], self.k),
                                     ("imaging", "study_id", self.sc["imaging"], self.ks),
                                     ("findings", "finding_id", fc["findings"], kf)):
            if not self.has(table, key) or not len(codes):
                continue
            ok = codes >= 0
            counts = np.bincount(codes[ok], minlength=k)
            dup = ok & (counts[np.maximum(codes, 0)] > 1)
            self.add(table, dup, key, self.t[table][key].to_numpy(dtype=object),
                     "duplicate_id", f"appears in more than one {table} row",
                     f"give each row its own {key}")

    def duplicate_rows(self) -> None:
        """Events rows that repeat an earlier events row exactly."""
        ev = self.t["events"]
        if len(ev) < 2 or not self.has("events", "patient_id", "event", "event_date"):
            return
        try:
            codes = ev.groupby(list(ev.columns), dropna=False, sort=False).ngroup()
        except TypeError:  # an extra column of unhashable values: compare the schema columns
            codes = ev.groupby(["patient_id", "event", "event_date"], dropna=False,
                               sort=False).ngroup()
        codes = codes.to_numpy()
        first = self._first_row(codes, int(codes.max()) + 1)[codes]
        dup = first != np.arange(len(ev))
        when = ev["event_date"].to_numpy()
        self.add("events", dup, "event", ev["event"].to_numpy(dtype=object), "duplicate_row",
                 lambda i: [f"dated {w} repeats events row {f} exactly" for w, f in
                            zip(_d(when[i]), first[i], strict=True)],
                 "remove the repeated row: each event of a patient is entered once")

    def case_clashes(self) -> None:
        """A DataWarning naming ids that differ only by letter case (after unique_keys)."""
        for key, ids in self.uniques.items():
            try:
                arr = pa.array(ids, type=pa.string())
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                continue  # not all text (numeric ids have no letter case)
            low = pc.utf8_lower(arr)
            if pc.count_distinct(low).as_py() == len(arr):
                continue
            folded = pd.Series(low.to_numpy(zero_copy_only=False))
            clash = folded.duplicated(keep=False).to_numpy()
            groups = pd.Series(ids[clash]).groupby(folded[clash].to_numpy()).agg(sorted)
            shown = "; ".join(" / ".join(map(repr, g)) for g in groups.iloc[:5])
            more = f" and {len(groups) - 5} more" if len(groups) > 5 else ""
            warnings.warn(
                f"{key}: {len(groups)} group(s) of ids differ only by letter case ({shown}"
                f"{more}); calcstats treats them as different ids. If they are the same "
                f"{key.removesuffix('_id')}, write the id the same way in every table.",
                DataWarning,
                stacklevel=5,
            )

    @staticmethod
    def _first_row(codes: np.ndarray, k: int) -> np.ndarray:
        """Row of the first occurrence of each code (-1 when absent)."""
        first = np.full(k, -1, dtype=np.int64)
        rows = np.flatnonzero(codes >= 0)[::-1]
        first[codes[rows]] = rows
        return first

    # ------------------------------------------------------------------ cross-table rules
    def cross(self) -> None:
        pts, img, fnd, ev = (self.t[n] for n in TABLE_NAMES)
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
            self.add(table, orphan, "patient_id", ids, "orphan_row",
                     (lambda i, ids=ids: _orphan_texts(ids[i], pts["patient_id"]))
                     if orphan.any() and self.has("patients", "patient_id")
                     else "is not in the patients table",
                     "add the patient to the patients table or remove the row")
            pos[table] = p
        # findings -> imaging
        if len(fnd) and self.has("findings", "study_id") and self.has("imaging", "study_id"):
            sfirst = self._first_row(self.sc["imaging"], self.ks)
            fcodes = self.sc["findings"]
            spos = np.where(fcodes >= 0, sfirst[np.maximum(fcodes, 0)], -1)
            sid = fnd["study_id"].to_numpy(dtype=object)
            self.add("findings", (spos < 0) & (fcodes >= 0), "study_id", sid, "unknown_study",
                     "is not a study_id of the imaging table",
                     "add the study to the imaging table or correct the study_id")
            if self.has("imaging", "patient_id") and self.has("findings", "patient_id"):
                owner_code = np.where(spos >= 0, self.pc["imaging"][np.maximum(spos, 0)]
                                      if len(img) else -1, -1)
                fpc = self.pc["findings"]
                mism = (spos >= 0) & (owner_code >= 0) & (fpc >= 0) & (owner_code != fpc)
                owner = img["patient_id"].to_numpy(dtype=object)
                self.add("findings", mism, "study_id", sid, "study_patient_mismatch",
                         lambda i: [f"belongs to patient {o}, not to this finding's patient"
                                    for o in owner[spos[i]]],
                         "correct the finding's patient_id or study_id")
        if not self.has("patients", "index_date", "last_followup_date"):
            return
        idx_all = pts["index_date"].to_numpy()
        fu_all = pts["last_followup_date"].to_numpy()
        bad = ~np.isnat(idx_all) & ~np.isnat(fu_all) & (fu_all < idx_all)
        self.add("patients", bad, "last_followup_date", fu_all, "followup_before_index",
                 lambda i: [f"is before the index date {d}" for d in _d(idx_all[i])],
                 "correct last_followup_date or index_date")
        nat = np.datetime64("NaT", "ns")

        def per_row(values: np.ndarray, p: np.ndarray) -> np.ndarray:
            return np.where(p >= 0, values[np.maximum(p, 0)], nat) if len(values) else \
                np.full(len(p), nat)

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
            self.add("events", before, "event_date", e_date, "event_before_index",
                     lambda i: [f"({k}) is before the index date {d}" for k, d in
                                zip(e[i], _d(p_idx[i]), strict=True)],
                     "correct the event or index date; a patient cannot die or receive a "
                     "transplant before the index imaging study")
            after = has_date & ~np.isnat(p_fu) & (e_date > p_fu)
            self.add("events", after, "event_date", e_date, "event_after_followup",
                     lambda i: [f"({k}) is after the last follow-up date {d}" for k, d in
                                zip(e[i], _d(p_fu[i]), strict=True)],
                     "set last_followup_date on or after the patient's last event")
            d_date = per_row(death, codes)
            after_death = has_date & ~np.isnat(d_date) & (e_date > d_date) & (e != "death")
            self.add("events", after_death, "event_date", e_date, "event_after_death",
                     lambda i: [f"({k}) is after the death on {d}" for k, d in
                                zip(e[i], _d(d_date[i]), strict=True)],
                     "correct the event date or the death date; nothing follows death")
            is_death = (e == "death") & (codes >= 0)
            n_death = np.bincount(codes[is_death], minlength=k)
            self.add("events", is_death & (n_death[np.maximum(codes, 0)] > 1), "event", e,
                     "multiple_deaths", "is one of several death events of this patient",
                     "keep exactly one death event per patient")
            t_date = per_row(trans, codes)
            native = np.isin(e, list(NATIVE_LIVER_OUTCOMES))
            post_tx = has_date & native & ~np.isnat(t_date) & (e_date > t_date)
            self.add("events", post_tx, "event", e, "outcome_after_transplant",
                     lambda i: [f"is a native-liver outcome dated {a}, after the liver "
                                f"transplant on {b}" for a, b in
                                zip(_d(e_date[i]), _d(t_date[i]), strict=True)],
                     "remove the event or correct its date; after a transplant the native "
                     "liver is gone")
            for flag, event in BASELINE_FLAGS.items():
                if flag not in pts.columns or not self.has("patients", flag):
                    continue
                pre = has_date & (e == event) & ~np.isnat(p_idx) & (e_date <= p_idx)
                has_pre = np.zeros(k, dtype=bool)
                has_pre[codes[pre]] = True
                pcodes = self.pc["patients"]
                fl = pts[flag]
                bad = ((pcodes >= 0) & has_pre[np.maximum(pcodes, 0)]
                       & (fl == False).fillna(False).to_numpy(dtype=bool))  # noqa: E712
                self.add("patients", bad, flag, fl.to_numpy(dtype=object),
                         "baseline_flag_inconsistent",
                         f"but the events table has {event} dated on or before the index date",
                         f"set {flag} to True, or correct the {event} event's date")
                first = per_row(self._first_event(event), pcodes)
                later = ((fl == True).fillna(False).to_numpy(dtype=bool)  # noqa: E712
                         & ~np.isnat(first) & ~np.isnat(idx_all) & (first > idx_all))
                self.add("patients", later, flag, fl.to_numpy(dtype=object),
                         "baseline_flag_inconsistent",
                         lambda i, first=first, event=event: [
                             f"but the events table first records {event} on {a}, after the "
                             f"index date {b}" for a, b in
                             zip(_d(first[i]), _d(idx_all[i]), strict=True)],
                         f"set {flag} to False if {event} was diagnosed during follow-up, or "
                         f"correct the {event} event's date")
        # imaging dates
        if "imaging" in pos and self.has("imaging", "study_date"):
            p = pos["imaging"]
            s_date = img["study_date"].to_numpy()
            p_fu = per_row(fu_all, p)
            good = (p >= 0) & ~np.isnat(s_date)
            self.add("imaging", good & ~np.isnat(p_fu) & (s_date > p_fu), "study_date",
                     s_date, "study_after_followup",
                     lambda i: [f"is after the last follow-up date {d}" for d in _d(p_fu[i])],
                     "set last_followup_date on or after the patient's last imaging study")
            d_img = per_row(death, self.pc["imaging"])
            self.add("imaging", good & ~np.isnat(d_img) & (s_date > d_img), "study_date",
                     s_date, "study_after_death",
                     lambda i: [f"is after the death on {d}" for d in _d(d_img[i])],
                     "correct the study date or the death date")
        d_pt = per_row(death, self.pc["patients"])
        self.add("patients", ~np.isnat(fu_all) & ~np.isnat(d_pt) & (fu_all > d_pt),
                 "last_followup_date", fu_all, "followup_after_death",
                 lambda i: [f"is after the death on {d}" for d in _d(d_pt[i])],
                 "set last_followup_date to the date of death")

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


def _age(frame: pd.DataFrame, checker: _Checker) -> None:
    """Derive age_at_index from birth_date where needed; flag disagreements."""
    if "birth_date" not in frame.columns or "index_date" not in frame.columns:
        return
    derived = ((frame["index_date"] - frame["birth_date"]).dt.days / 365.25).to_numpy()
    if "age_at_index" not in frame.columns:
        frame.insert(2, "age_at_index", derived)
        return
    age = frame["age_at_index"].to_numpy(dtype=float)
    both = ~np.isnan(age) & ~np.isnan(derived)
    bad = both & (np.abs(age - derived) > 1.0)
    checker.add("patients", bad, "age_at_index", age, "age_birth_date_mismatch",
                lambda i: [f"disagrees with birth_date (which gives {v:.1f} years)"
                          for v in derived[i]],
                "correct age_at_index or birth_date, or give only one of them")
    frame["age_at_index"] = np.where(np.isnan(age), derived, age)


def validate_tables(
    raw: dict[str, pd.DataFrame | None], *, vocab: Vocabularies, date_format: str | None
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Convert the raw tables and check every rule.

    Returns the converted tables (index = row as read) and all problems, sorted by rule
    (``RULES`` order), table and row. ``raw`` is emptied as its tables are converted (lower
    peak memory).
    """
    frames: dict[str, pd.DataFrame] = {}
    absent: dict[str, set[str]] = {}
    problems: list[pd.DataFrame] = []
    skip: dict[str, dict[str, np.ndarray]] = {}
    for name in TABLE_NAMES:
        frame, probs, miss = coerce_table(name, raw[name], vocab, date_format)
        frames[name], absent[name] = frame, miss
        raw[name] = None  # release the table as read
        problems.extend(probs)
        # cells already reported as unreadable are not also "missing"
        flagged = {c: np.zeros(len(frame), dtype=bool) for c in frame.columns}
        for p in probs:
            if len(p) and p["row"].notna().all():
                col = p["column"].iloc[0]
                flagged[col][p["row"].to_numpy(dtype=np.int64)] = True
        skip[name] = flagged
    checker = _Checker(frames, absent)
    checker.problems = problems
    _age(frames["patients"], checker)
    sp = skip["patients"]
    if "birth_date" in sp:  # an age derived from an unreadable date is not also "missing"
        cause = sp["birth_date"] | sp.get("index_date", np.zeros(len(sp["birth_date"]), bool))
        sp["age_at_index"] = sp.get("age_at_index", np.zeros_like(cause)) | cause
    checker.missing_values(skip)
    checker.ranges()
    checker.unique_keys()
    checker.duplicate_rows()
    checker.case_clashes()
    checker.cross()
    found = [p for p in checker.problems if len(p)]
    allp = pd.concat(found, ignore_index=True) if found else empty_problems()
    if len(allp):
        order = {r: i for i, r in enumerate(RULES)}
        torder = {t: i for i, t in enumerate(TABLE_NAMES)}
        key = pd.DataFrame({"r": allp["rule"].map(order), "t": allp["table"].map(torder),
                            "row": allp["row"].fillna(-1).astype(np.int64)})
        allp = allp.iloc[np.lexsort((key["row"], key["t"], key["r"]))].reset_index(drop=True)
    return frames, allp
