"""Interval-censored analysis tables: when an event is seen only at an assessment.

New calcification is seen only when the liver is imaged: its onset lies between the last
study without it and the first study with it. ``interval_table`` gives, per patient at
risk, that interval in years from the index date, for :func:`calcstats.turnbull`,
:func:`calcstats.parametric_survival` and :func:`calcstats.compare_interval_methods`.

Rules
-----
* **Assessments.** For ``outcome="calcification"`` every imaging study is an assessment,
  positive when it has at least one finding. Studies dated on or after a patient's first
  ``liver_transplant`` are not used (the native liver is gone). For any other outcome (an
  event name, e.g. ``"cirrhosis"`` or ``"varices"``) give ``assessments=``, a table with
  one row per assessment of that outcome:

  - ``patient_id`` — a patient of the cohort;
  - ``assessment_date`` — the date (datetime64);
  - ``positive`` — True/False (or 1/0): was the outcome present?

  The outcome's dates in the events table count as positive assessments too.
* **Intervals.** ``right`` is the first positive assessment after the index date (years
  from index; ``inf`` when never positive), ``left`` the last negative assessment after
  the index date and before ``right`` (0 when there is none: the index assessment was the
  last negative one). Negative assessments after the first positive one are not used.
* **Left out** (first reason that applies; :meth:`Cohort.interval_at_risk` lists them and
  adds them to the participant flow, and a :class:`~calcstats.DataWarning` gives the
  counts):

  1. a positive assessment dated on or before ``index_date`` — a prevalent case;
  2. for ``"cirrhosis"``: ``cirrhosis_at_baseline`` is true — also prevalent;
  3. no assessment after ``index_date`` — nothing is known about the patient after time 0.

Times are in years of 365.25 days, as in :meth:`Cohort.survival_table`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import DataError, DataWarning, SchemaError, user_stacklevel
from calcstats.cohort._analysis_base import (
    NS_PER_DAY,
    finding_study_positions,
    get_table,
    index_days,
    nanoseconds,
    patient_positions,
)
from calcstats.cohort._analysis_patient import patient_table
from calcstats.cohort._analysis_time import _check_names, _first_dates

__all__ = ["ASSESSMENT_COLUMNS", "IntervalAtRisk", "interval_at_risk", "interval_table"]

#: Columns of the ``assessments=`` table.
ASSESSMENT_COLUMNS = ("patient_id", "assessment_date", "positive")
_DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class IntervalAtRisk:
    """The patients at risk of an interval-censored outcome and who was left out.

    Attributes
    ----------
    table : pandas.DataFrame
        The interval table (as :meth:`Cohort.interval_table`).
    excluded : pandas.DataFrame
        ``patient_id, reason`` of every patient left out, first reason that applies.
    flow : Flow
        The cohort's participant flow plus one step per reason.
    """

    table: pd.DataFrame
    excluded: pd.DataFrame
    flow: Any


def _label(value: Any) -> str:
    """A row label as the user would type it (``2``, not ``np.int64(2)``)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _imaging_assessments(
    cohort: Any, patients: pd.DataFrame, index_ns: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(patient position, days from index, positive) of every usable imaging study."""
    imaging = get_table(cohort, "imaging")
    findings = get_table(cohort, "findings")
    pos = patient_positions(patients, imaging["patient_id"], "imaging")
    ns, nat = nanoseconds(imaging["study_date"])
    if nat.any():
        ids = imaging["study_id"].to_numpy()[nat][:5].tolist()
        raise DataError(
            f"imaging.study_date is missing for {int(nat.sum())} study(ies), e.g. "
            f"{ids}; every study needs a date."
        )
    days = (ns - index_ns[pos]) / NS_PER_DAY
    positive = np.zeros(len(imaging), dtype=bool)
    positive[finding_study_positions(imaging, findings)] = True
    events = get_table(cohort, "events")
    transplant = _first_dates(patients, events, ("liver_transplant",), index_ns)[:, 0]
    keep = days < transplant[pos]
    return pos[keep], days[keep], positive[keep]


def _table_assessments(
    cohort: Any,
    patients: pd.DataFrame,
    index_ns: np.ndarray,
    outcome: str,
    assessments: Any,
    caller: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(patient position, days from index, positive) of the assessments and the events."""
    if not isinstance(assessments, pd.DataFrame):
        raise SchemaError(
            f"{caller}: assessments must be a pandas DataFrame with columns "
            f"{list(ASSESSMENT_COLUMNS)}, got {type(assessments).__name__}."
        )
    missing = [c for c in ASSESSMENT_COLUMNS if c not in assessments.columns]
    if missing:
        raise SchemaError(
            f"{caller}: the assessments table lacks column(s) {missing}; it needs "
            f"{list(ASSESSMENT_COLUMNS)} (one row per assessment of {outcome!r})."
        )
    date = assessments["assessment_date"]
    if not pd.api.types.is_datetime64_any_dtype(date):
        raise SchemaError(
            f"{caller}: assessments.assessment_date must hold dates (datetime64), "
            f"found dtype {date.dtype}; convert it with pd.to_datetime."
        )
    ns, nat = nanoseconds(date)
    if nat.any():
        rows = np.flatnonzero(nat)[:5].tolist()
        raise DataError(
            f"{caller}: assessments.assessment_date is missing in "
            f"{int(nat.sum())} row(s) (first rows {rows}); every assessment needs "
            "a date."
        )
    flag = assessments["positive"]
    values = pd.unique(flag.dropna())
    if flag.isna().any() or not set(values.tolist()) <= {0, 1}:  # True == 1, False == 0
        bad = flag[flag.isna() | ~flag.isin([0, 1])]
        raise DataError(
            f"{caller}: assessments.positive must be True/False (or 1/0) in every "
            f"row; found {bad.iloc[0]!r} in row {_label(bad.index[0])}."
        )
    pos = patient_positions(patients, assessments["patient_id"], "assessments")
    days = (ns - index_ns[pos]) / NS_PER_DAY
    events = get_table(cohort, "events")
    rows = events[events["event"] == outcome]
    epos = patient_positions(patients, rows["patient_id"], "events")
    ens, enat = nanoseconds(rows["event_date"])
    if enat.any():
        raise DataError(
            f"events.event_date is missing for {int(enat.sum())} {outcome!r} "
            "event(s); every event needs a date."
        )
    edays = (ens - index_ns[epos]) / NS_PER_DAY
    return (
        np.concatenate([pos, epos]),
        np.concatenate([days, edays]),
        np.concatenate([flag.to_numpy(dtype=bool), np.ones(len(rows), dtype=bool)]),
    )


def _intervals(
    cohort: Any, outcome: Any, assessments: Any, caller: str
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, pd.DataFrame]:
    patients = get_table(cohort, "patients")
    index_ns = index_days(patients)
    if outcome == "calcification":
        if assessments is not None:
            raise SchemaError(
                f"{caller}: for 'calcification' the imaging and findings tables are the "
                "assessments; assessments= is for an event outcome (e.g. 'cirrhosis')."
            )
        what = "calcification on an imaging study"
        pos, days, positive = _imaging_assessments(cohort, patients, index_ns)
        none_after = "no imaging study after index_date"
    else:
        events = get_table(cohort, "events")
        outcome, _ = _check_names(cohort, events, outcome, (), caller)
        if assessments is None:
            raise SchemaError(
                f"{caller}: {outcome!r} is an event; give the dates it was looked for as "
                f"assessments= (a table with columns {list(ASSESSMENT_COLUMNS)}), or use "
                "outcome='calcification' (assessed on imaging)."
            )
        what = f"{outcome} (positive assessment or event)"
        pos, days, positive = _table_assessments(
            cohort, patients, index_ns, outcome, assessments, caller
        )
        none_after = "no assessment after index_date"
    n = len(patients)
    prevalent = np.zeros(n, dtype=bool)
    prevalent[pos[positive & (days <= 0)]] = True
    right = np.full(n, np.inf)
    after = days > 0
    np.minimum.at(right, pos[positive & after], days[positive & after])
    neg = ~positive & after & (days < right[pos])
    left = np.zeros(n)
    np.maximum.at(left, pos[neg], days[neg])
    assessed = np.zeros(n, dtype=bool)
    assessed[pos[after]] = True

    reason = np.full(n, None, dtype=object)

    def flag(mask: np.ndarray, text: str) -> None:
        reason[mask & (reason == None)] = text  # noqa: E711 (elementwise on object array)

    flag(prevalent, f"prevalent case: {what} dated on or before index_date")
    if outcome == "cirrhosis":
        if "cirrhosis_at_baseline" not in patients.columns:
            raise SchemaError(
                f"{caller}: the patients table lacks cirrhosis_at_baseline, "
                "needed to leave out prevalent cirrhosis."
            )
        base = patients["cirrhosis_at_baseline"]
        if base.isna().any():
            ids = patients["patient_id"].to_numpy()[base.isna().to_numpy()][:5].tolist()
            raise DataError(
                f"{caller}: cirrhosis_at_baseline is missing for "
                f"{int(base.isna().sum())} patient(s), e.g. {ids}."
            )
        flag(base.astype(bool).to_numpy(), "prevalent case: cirrhosis_at_baseline is true")
    flag(~assessed, none_after)
    keep = reason == None  # noqa: E711
    excluded = pd.DataFrame(
        {
            "patient_id": patients["patient_id"].to_numpy()[~keep],
            "reason": reason[~keep].astype(str),
        }
    )
    return patients, keep, left[keep], right[keep], excluded


def _build(
    cohort: Any, outcome: Any, assessments: Any, caller: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    patients, keep, left, right, excluded = _intervals(cohort, outcome, assessments, caller)
    taken = [c for c in ("left", "right") if c in patients.columns]
    if taken:
        raise SchemaError(
            f"{caller}: the patients table already has column(s) {taken}; rename them."
        )
    covariates = patient_table(cohort).loc[keep].reset_index(drop=True)
    table = pd.concat(
        [
            covariates[["patient_id"]],
            pd.DataFrame({"left": left / _DAYS_PER_YEAR, "right": right / _DAYS_PER_YEAR}),
            covariates.drop(columns="patient_id"),
        ],
        axis=1,
    )
    return table, excluded


def interval_table(
    cohort: Any,
    outcome: str = "calcification",
    *,
    assessments: pd.DataFrame | None = None,
    warn: bool = True,
) -> pd.DataFrame:
    """One row per patient at risk: ``patient_id, left, right`` and the covariates.

    Parameters
    ----------
    cohort : Cohort
        Any object with the canonical ``patients``, ``imaging``, ``findings`` and
        ``events`` tables.
    outcome : str
        ``"calcification"`` (new calcification on follow-up imaging), or an event name
        with ``assessments``.
    assessments : pandas.DataFrame, optional
        For an event outcome: ``patient_id, assessment_date, positive`` (module docstring).

    Returns
    -------
    pandas.DataFrame
        ``patient_id``, ``left`` and ``right`` (years from index: the outcome began in
        ``(left, right]``; ``right`` is ``inf`` when it was never seen), then the
        :func:`patient_table` columns (binary columns as 0/1).

    Warns
    -----
    DataWarning
        When patients are left out (prevalent at index, no assessment after index).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> import pandas as pd
    >>> from calcstats.cohort._interval_table import interval_table
    >>> d = pd.Timestamp("2020-01-01")
    >>> c = SimpleNamespace(
    ...     patients=pd.DataFrame({"patient_id": ["a", "b"], "index_date": [d, d],
    ...                            "last_followup_date": [pd.Timestamp("2024-01-01")] * 2}),
    ...     imaging=pd.DataFrame({"study_id": ["s1", "s2", "s3", "s4"],
    ...                           "patient_id": ["a", "a", "a", "b"],
    ...                           "study_date": pd.to_datetime(["2020-01-01", "2021-01-01",
    ...                                                         "2022-01-01", "2022-07-02"]),
    ...                           "modality": ["CT"] * 4}),
    ...     findings=pd.DataFrame({"finding_id": ["f1"], "study_id": ["s3"],
    ...                            "patient_id": ["a"], "segment": ["VI"],
    ...                            "size_mm": [4.0], "morphology": ["punctate"]}),
    ...     events=pd.DataFrame({"patient_id": [], "event": [], "event_date":
    ...                          pd.to_datetime([])}))
    >>> interval_table(c)[["patient_id", "left", "right"]].round(3)
      patient_id   left  right
    0          a  1.002  2.001
    1          b  2.500    inf
    """
    table, excluded = _build(cohort, outcome, assessments, "interval_table")
    if warn and len(excluded):
        counts = excluded["reason"].value_counts(sort=False)
        detail = "; ".join(f"{r}: {c}" for r, c in counts.items())
        warnings.warn(
            f"interval_table: {len(excluded)} patient(s) left out ({detail}). "
            f"cohort.interval_at_risk({outcome!r}) lists them and adds them to the "
            "participant flow.",
            DataWarning,
            stacklevel=user_stacklevel(),
        )
    return table


def interval_at_risk(
    cohort: Any,
    outcome: str = "calcification",
    *,
    assessments: pd.DataFrame | None = None,
) -> IntervalAtRisk:
    """The interval table with its record of exclusions and the extended flow.

    Examples
    --------
    >>> import calcstats as cs
    >>> sim = cs.simulate_cohort(400, seed=3)
    >>> ar = sim.interval_at_risk("calcification")
    >>> ar.flow.n_out == len(ar.table)
    True
    """
    table, excluded = _build(cohort, outcome, assessments, "interval_at_risk")
    flow = getattr(cohort, "flow", None)
    if flow is not None:
        for reason, ids in excluded.groupby("reason", sort=False)["patient_id"]:
            flow = flow.add(f"{reason} (not at risk of {outcome})", ids.tolist(), rule="at_risk")
    return IntervalAtRisk(table=table, excluded=excluded.reset_index(drop=True), flow=flow)
