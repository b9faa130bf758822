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
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import ArrayLike

from calcstats._errors import DataWarning, user_stacklevel
from calcstats.cohort._convert import coerce_table
from calcstats.cohort._cross import CrossRules, _d
from calcstats.cohort._problems import empty_problems, problem_frame
from calcstats.cohort._read import TABLE_NAMES
from calcstats.cohort._schema import (
    HARD_RANGES,
    TABLES,
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
_ID_LINKS: Mapping[str, str] = {
    "patient_id": "a patient",
    "study_id": "an imaging study",
    "finding_id": "its calcification",
}


class _Checker(CrossRules):
    """Holds the converted tables and collects problems."""

    def __init__(self, frames: dict[str, pd.DataFrame], absent: dict[str, set[str]]):
        self.t = frames
        self.absent = absent
        self.problems: list[pd.DataFrame] = []

    def has(self, table: str, *cols: str) -> bool:
        return all(c not in self.absent[table] for c in cols)

    def add(
        self,
        table: str,
        mask: ArrayLike,
        column: str | None,
        values: object,
        rule: str,
        what: str | np.ndarray | Callable[..., Any],
        fix: str | np.ndarray,
    ) -> None:
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
    def missing_values(self, skip: dict[str, dict[str, np.ndarray]]) -> None:
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
                self.add(
                    table, miss, col, np.full(len(df), None, object), "missing_value", what, fix
                )

    def ranges(self) -> None:
        for (table, col), (lo, hi, lo_inc, hi_inc) in HARD_RANGES.items():
            df = self.t[table]
            if col not in df.columns or not self.has(table, col):
                continue
            x = df[col].to_numpy(dtype=float)
            ok_lo = x >= lo if lo_inc else x > lo
            ok_hi = x <= hi if hi_inc else x < hi
            bad = ~np.isnan(x) & (~(ok_lo & ok_hi) | np.isinf(x))  # inf is never measured
            rng = (
                f"finite and {'≥' if lo_inc else '>'} {lo:g}"
                if np.isinf(hi)
                else f"in [{lo:g}, {hi:g}]"
            )
            self.add(
                table,
                bad,
                col,
                x,
                "out_of_range",
                f"is impossible: it must be {rng}",
                "correct the value (check its unit) or leave it empty if unknown",
            )

    def _codes(self, parts: list[tuple[str, str]]) -> tuple[dict[str, np.ndarray], int]:
        """Integer codes of one key shared by several tables (-1 = missing), one hash pass."""
        arrays = [
            self.t[t][c].to_numpy(dtype=object)
            if self.has(t, c) and c in self.t[t]
            else np.full(len(self.t[t]), None, dtype=object)
            for t, c in parts
        ]
        codes, uniques = pd.factorize(np.concatenate(arrays) if arrays else np.array([]))
        out, at = {}, 0
        for (t, _), a in zip(parts, arrays, strict=True):
            out[t] = codes[at : at + len(a)]
            at += len(a)
        self.uniques[parts[0][1]] = uniques
        return out, len(uniques)

    def unique_keys(self) -> None:
        self.uniques: dict[str, np.ndarray] = {}
        self.pc, self.k = self._codes([(t, "patient_id") for t in TABLE_NAMES])
        self.sc, self.ks = self._codes([("imaging", "study_id"), ("findings", "study_id")])
        fc, kf = self._codes([("findings", "finding_id")])
        for table, key, codes, k in (
            ("patients", "patient_id", self.pc["patients"], self.k),
            ("imaging", "study_id", self.sc["imaging"], self.ks),
            ("findings", "finding_id", fc["findings"], kf),
        ):
            if not self.has(table, key) or not len(codes):
                continue
            ok = codes >= 0
            counts = np.bincount(codes[ok], minlength=k)
            dup = ok & (counts[np.maximum(codes, 0)] > 1)
            self.add(
                table,
                dup,
                key,
                self.t[table][key].to_numpy(dtype=object),
                "duplicate_id",
                f"appears in more than one {table} row",
                f"give each row its own {key}",
            )

    def duplicate_rows(self) -> None:
        """Events rows that repeat an earlier events row exactly."""
        ev = self.t["events"]
        if len(ev) < 2 or not self.has("events", "patient_id", "event", "event_date"):
            return
        try:
            codes = ev.groupby(list(ev.columns), dropna=False, sort=False).ngroup()
        except TypeError:  # an extra column of unhashable values: compare the schema columns
            codes = ev.groupby(
                ["patient_id", "event", "event_date"], dropna=False, sort=False
            ).ngroup()
        codes = codes.to_numpy()
        first = self._first_row(codes, int(codes.max()) + 1)[codes]
        dup = first != np.arange(len(ev))
        when = ev["event_date"].to_numpy()
        self.add(
            "events",
            dup,
            "event",
            ev["event"].to_numpy(dtype=object),
            "duplicate_row",
            lambda i: [
                f"dated {w} repeats events row {f} exactly"
                for w, f in zip(_d(when[i]), first[i], strict=True)
            ],
            "remove the repeated row: each event of a patient is entered once",
        )

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
                stacklevel=user_stacklevel(),
            )


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
    checker.add(
        "patients",
        bad,
        "age_at_index",
        age,
        "age_birth_date_mismatch",
        lambda i: [f"disagrees with birth_date (which gives {v:.1f} years)" for v in derived[i]],
        "correct age_at_index or birth_date, or give only one of them",
    )
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
        key = pd.DataFrame(
            {
                "r": allp["rule"].map(order),
                "t": allp["table"].map(torder),
                "row": allp["row"].fillna(-1).astype(np.int64),
            }
        )
        allp = allp.iloc[np.lexsort((key["row"], key["t"], key["r"]))].reset_index(drop=True)
    return frames, allp
