"""Time-to-event analysis tables: ``survival_table`` and ``counting_process_table``.

Time scale and status
---------------------
Time zero is the patient's ``index_date``; ``time`` is in years of 365.25 days. Follow-up
ends at the first of: the outcome, any competing event, ``last_followup_date`` and (in
``survival_table``) ``horizon`` years. ``status`` is 0 (censored), 1 (the outcome) or
2, 3, ... (the competing events in the order given). An event dated on the last
follow-up day or exactly at the horizon counts as an event.

Same-day ties: when the outcome and a competing event share the first event date, the
outcome wins (status 1); between competing events the one listed first wins. This is the
usual convention when competing-risks data are coded with one status per patient (as
analysed by R's survival/cmprsk or Stata's stcrreg): the event of interest was observed,
and with dates only to the day the competing event cannot be shown to have come first.
List the competing events in the order of precedence you want.
Events dated after ``last_followup_date`` (impossible in a validated cohort) are not
used: follow-up ended before them.

Patients left out (never silently: a :class:`~calcstats.DataWarning` gives the counts and
:meth:`Cohort.at_risk` lists them with the reason, first reason that applies, and adds
them to the participant flow):

1. the outcome is dated on or before ``index_date`` — a prevalent, not an incident, case;
2. for the outcome ``"cirrhosis"``: ``cirrhosis_at_baseline`` is true — also prevalent;
3. a competing event is dated on or before ``index_date`` — not at risk of the outcome
   (e.g. transplanted before index);
4. follow-up time is zero (``last_followup_date`` equals ``index_date``) — such a patient
   contributes nothing to any estimate, and a zero-length interval is invalid in
   counting-process form.

Counting-process form
---------------------
``counting_process_table`` splits each patient's follow-up ``(0, time]`` where the
exposure starts, so that exposure is time-varying and no person-time before exposure is
counted as exposed (no immortal-time bias). For ``exposure="calcification"`` the
exposure starts on the date of the first imaging study (any study, follow-up studies
included) with at least one finding; for an event name it starts on the first date of
that event. Exposure starting on or before index gives exposure 1 from time 0. An
exposure starting after the end of follow-up, or on its last day, does not split: an
event on the day exposure is first seen belongs to the earlier, unexposed interval
(intervals are ``(start, stop]``). The outcome status is carried by the last interval
only, and no interval has zero length, so the intervals of a patient add up (to rounding) to
their ``survival_table`` time.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import DataError, DataWarning, SchemaError, user_stacklevel
from calcstats.cohort._analysis_base import (
    NS_PER_DAY,
    binary_to_int,
    finding_study_positions,
    get_table,
    index_days,
    nanoseconds,
    patient_positions,
)
from calcstats.cohort._analysis_patient import patient_table
from calcstats.cohort._schema import VOCABULARIES

__all__ = ["AtRisk", "at_risk", "counting_process_table", "survival_table"]

_DAYS_PER_YEAR = 365.25


@dataclass
class _FollowUp:
    patients: pd.DataFrame
    keep: np.ndarray  # bool per patient
    days: np.ndarray  # follow-up days per kept patient
    status: np.ndarray  # int64 per kept patient
    excluded: pd.DataFrame
    labels: dict[int, str]
    index_ns: np.ndarray  # per patient


def _event_vocabulary(cohort: Any, events: pd.DataFrame) -> list[str]:
    vocab = getattr(cohort, "vocabularies", None)
    values: Sequence[str] = VOCABULARIES["event"]
    try:
        if vocab is not None and "event" in vocab:
            values = tuple(vocab["event"])
    except TypeError:  # not a mapping-like vocabularies object: use the default
        values = VOCABULARIES["event"]
    observed = events["event"].dropna().astype(str).unique().tolist()
    return sorted(set(values) | set(observed))


def _check_names(
    cohort: Any, events: pd.DataFrame, outcome: Any, competing: Any, caller: str
) -> tuple[str, tuple[str, ...]]:
    if not isinstance(outcome, str):
        raise SchemaError(f"{caller}: outcome must be an event name (str), got {outcome!r}.")
    if isinstance(competing, str):
        competing = (competing,)
    if isinstance(competing, Set | Mapping) and len(competing) > 1:
        raise SchemaError(
            f"{caller}: competing must be a list or tuple, not a {type(competing).__name__}: "
            "status codes 2, 3, ... follow its order, which a set does not keep; write e.g. "
            f"competing={sorted(map(str, competing))!r}."
        )
    try:
        competing = tuple(competing)
    except TypeError:
        raise SchemaError(
            f"{caller}: competing must be a sequence of event names, got {competing!r}."
        ) from None
    for name in competing:
        if not isinstance(name, str):
            raise SchemaError(f"{caller}: competing must hold event names (str), got {name!r}.")
    valid = _event_vocabulary(cohort, events)
    unknown = [n for n in (outcome, *competing) if n not in valid]
    if unknown:
        raise SchemaError(
            f"{caller}: unknown event name(s) {', '.join(map(repr, unknown))}; valid event "
            f"names are: {', '.join(valid)}. Extend the vocabulary with "
            "read_cohort(vocabularies={'event': [...]}) for a new event."
        )
    if outcome in competing:
        raise SchemaError(
            f"{caller}: the outcome {outcome!r} cannot also be a competing event; remove it "
            "from competing."
        )
    dup = sorted({n for n in competing if competing.count(n) > 1})
    if dup:
        raise SchemaError(f"{caller}: competing lists {dup} more than once; list each once.")
    return outcome, competing


def _check_horizon(horizon: Any) -> float | None:
    if horizon is None:
        return None
    if isinstance(horizon, bool) or not isinstance(horizon, Real):
        raise DataError(f"horizon must be a number of years or None, got {horizon!r}.")
    value = float(horizon)
    if not np.isfinite(value) or value <= 0:
        raise DataError(f"horizon must be a positive, finite number of years; got {horizon!r}.")
    return value


def _first_dates(
    patients: pd.DataFrame, events: pd.DataFrame, names: Sequence[str], index_ns: np.ndarray
) -> np.ndarray:
    """(n_patients, len(names)) days from index to the first of each event (inf: none)."""
    first = np.full((len(patients), len(names)), np.inf)
    rows = events[events["event"].isin(list(names))]
    if len(rows) == 0:
        return first
    pos = patient_positions(patients, rows["patient_id"], "events")
    ns, nat = nanoseconds(rows["event_date"])
    if nat.any():
        ids = rows["patient_id"].to_numpy()[nat][:5].tolist()
        raise DataError(
            f"events.event_date is missing for {int(nat.sum())} event(s) used here, e.g. for "
            f"patients {ids}; every event needs a date."
        )
    days = (ns - index_ns[pos]) / NS_PER_DAY
    cause = pd.Index(list(names)).get_indexer(rows["event"])
    np.minimum.at(first, (pos, cause), days)
    return first


def _follow_up(
    cohort: Any, outcome: Any, competing: Any, horizon: Any, caller: str
) -> _FollowUp:
    patients = get_table(cohort, "patients", extra=("last_followup_date",))
    events = get_table(cohort, "events")
    outcome, competing = _check_names(cohort, events, outcome, competing, caller)
    horizon = _check_horizon(horizon)
    if outcome == "cirrhosis" and "cirrhosis_at_baseline" not in patients.columns:
        raise SchemaError(
            f"{caller}: the patients table lacks cirrhosis_at_baseline, needed to leave out "
            "prevalent cirrhosis for the outcome 'cirrhosis'."
        )

    index_ns = index_days(patients)
    fu_days = (index_days(patients, "last_followup_date") - index_ns) / NS_PER_DAY
    if (fu_days < 0).any():
        ids = patients["patient_id"].to_numpy()[fu_days < 0][:5].tolist()
        raise DataError(
            f"last_followup_date is before index_date for {int((fu_days < 0).sum())} "
            f"patient(s), e.g. {ids}; correct the dates (read_cohort() reports these)."
        )
    names = (outcome, *competing)
    first = _first_dates(patients, events, names, index_ns)

    n = len(patients)
    reason = np.full(n, None, dtype=object)

    def flag(mask: np.ndarray, text: str) -> None:
        reason[mask & (reason == None)] = text  # noqa: E711 (elementwise on object array)

    flag(first[:, 0] <= 0, f"prevalent case: {outcome} dated on or before index_date")
    if outcome == "cirrhosis":
        base = patients["cirrhosis_at_baseline"]
        if base.isna().any():
            ids = patients["patient_id"].to_numpy()[base.isna().to_numpy()][:5].tolist()
            raise DataError(
                f"{caller}: cirrhosis_at_baseline is missing for {int(base.isna().sum())} "
                f"patient(s), e.g. {ids}; it is needed to leave out prevalent cirrhosis."
            )
        flag(base.astype(bool).to_numpy(), "prevalent case: cirrhosis_at_baseline is true")
    for k, name in enumerate(competing, start=1):
        flag(first[:, k] <= 0, f"not at risk: competing event {name} dated on or before "
                               "index_date")

    event_days = first.min(axis=1)
    which = first.argmin(axis=1)  # first column among ties: outcome, then competing order
    happened = event_days <= fu_days
    days = np.where(happened, event_days, fu_days)
    status = np.where(happened, which + 1, 0).astype(np.int64)
    if horizon is not None:
        beyond = days > horizon * _DAYS_PER_YEAR
        days = np.where(beyond, horizon * _DAYS_PER_YEAR, days)
        status[beyond] = 0
    flag(days <= 0, "no follow-up: last_followup_date equals index_date")

    keep = reason == None  # noqa: E711
    excluded = pd.DataFrame(
        {
            "patient_id": patients["patient_id"].to_numpy()[~keep],
            "reason": reason[~keep].astype(str),
        }
    )
    labels = {0: "censored", **{k + 1: name for k, name in enumerate(names)}}
    return _FollowUp(patients, keep, days[keep], status[keep], excluded, labels, index_ns)


def _warn_excluded(excluded: pd.DataFrame, caller: str, outcome: str,
                   competing: Sequence[str]) -> None:
    if len(excluded) == 0:
        return
    counts = excluded["reason"].value_counts(sort=False)
    detail = "; ".join(f"{r}: {c}" for r, c in counts.items())
    comp = f", competing={tuple(competing)!r}" if competing else ""
    warnings.warn(
        f"{caller}: {len(excluded)} patient(s) left out ({detail}). "
        f"cohort.at_risk({outcome!r}{comp}) lists them and adds them to the participant "
        "flow.",
        DataWarning,
        stacklevel=user_stacklevel(),
    )


@dataclass(frozen=True)
class AtRisk:
    """The patients at risk of an outcome: the survival table and who was left out.

    Attributes
    ----------
    table : pandas.DataFrame
        The survival table (as :meth:`Cohort.survival_table`).
    excluded : pandas.DataFrame
        ``patient_id, reason`` of every patient left out (prevalent at index, no
        follow-up, ...), first reason that applies.
    flow : Flow
        The cohort's participant flow plus one step per reason (for
        :func:`calcstats.plot.flow_diagram`).
    status : dict
        Status code → event name (0 ``"censored"``, 1 the outcome, 2.. competing).
    """

    table: pd.DataFrame
    excluded: pd.DataFrame
    flow: Any
    status: dict[int, str]


def survival_table(
    cohort: Any,
    outcome: str,
    *,
    competing: Sequence[str] = (),
    horizon: float | None = None,
    warn: bool = True,
) -> pd.DataFrame:
    """One row per patient at risk: the patient table plus ``time`` and ``status``.

    Parameters
    ----------
    cohort : Cohort
        Any object with the canonical ``patients``, ``imaging``, ``findings`` and
        ``events`` tables (usually from :func:`calcstats.read_cohort`).
    outcome : str
        Event name of the outcome (from the event vocabulary, e.g. ``"cirrhosis"``).
    competing : sequence of str, default ()
        Competing event names; the first gets status 2, the next 3, and so on.
    horizon : float, optional
        Administrative censoring after this many years.

    Returns
    -------
    pandas.DataFrame
        The :func:`patient_table` columns of the patients at risk, in their row order,
        plus ``time`` (years from index, days / 365.25) and ``status`` (0 censored,
        1 outcome, 2.. competing). :func:`at_risk` lists the patients left out
        (``patient_id, reason``) and maps the codes to event names.
        The rules (ties, prevalent cases) are in the module documentation.

    Warns
    -----
    DataWarning
        When patients are left out (prevalent cases, not at risk, no follow-up).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> import pandas as pd
    >>> from calcstats.cohort._analysis import survival_table
    >>> d = pd.Timestamp("2020-01-01")
    >>> c = SimpleNamespace(
    ...     patients=pd.DataFrame({"patient_id": ["a", "b"], "index_date": [d, d],
    ...                            "last_followup_date": pd.to_datetime(["2024-01-01",
    ...                                                                  "2023-01-01"])}),
    ...     imaging=pd.DataFrame({"study_id": ["s1"], "patient_id": ["a"],
    ...                           "study_date": [d], "modality": ["CT"]}),
    ...     findings=pd.DataFrame({"finding_id": ["f1"], "study_id": ["s1"],
    ...                            "patient_id": ["a"], "segment": ["VI"],
    ...                            "size_mm": [8.0], "morphology": ["rim"]}),
    ...     events=pd.DataFrame({"patient_id": ["a"], "event": ["death"],
    ...                          "event_date": pd.to_datetime(["2021-01-01"])}))
    >>> st = survival_table(c, "hcc", competing=("death",))
    >>> st[["patient_id", "any_calcification", "time", "status"]].round(3)
      patient_id  any_calcification   time  status
    0          a                  1  1.002       2
    1          b                  0  3.001       0
    """
    caller = "survival_table"
    fu = _follow_up(cohort, outcome, competing, horizon, caller)
    table = patient_table(cohort)
    taken = [c for c in ("time", "status") if c in table.columns]
    if taken:
        raise SchemaError(
            f"{caller}: the patients table already has column(s) {taken}; rename them."
        )
    table = table.loc[fu.keep].reset_index(drop=True)
    table["time"] = fu.days / _DAYS_PER_YEAR
    if horizon is not None:
        table.loc[fu.days >= float(horizon) * _DAYS_PER_YEAR, "time"] = float(horizon)
    table["status"] = fu.status
    if warn:
        _warn_excluded(fu.excluded, caller, outcome, tuple(competing))
    return table


def at_risk(
    cohort: Any,
    outcome: str,
    *,
    competing: Sequence[str] = (),
    horizon: float | None = None,
) -> AtRisk:
    """The survival table with its record of exclusions and the extended flow.

    Examples
    --------
    >>> import calcstats as cs
    >>> cohort = cs.datasets.load_example_cohort()
    >>> ar = cohort.at_risk("cirrhosis", competing=("liver_transplant", "death"))
    >>> ar.excluded["reason"].value_counts().to_dict()
    {'prevalent case: cirrhosis_at_baseline is true': 258}
    >>> ar.flow.n_out == len(ar.table)
    True
    """
    fu = _follow_up(cohort, outcome, competing, horizon, "at_risk")
    table = survival_table(cohort, outcome, competing=competing, horizon=horizon, warn=False)
    flow = getattr(cohort, "flow", None)
    if flow is not None:
        for reason, ids in fu.excluded.groupby("reason", sort=False)["patient_id"]:
            flow = flow.add(f"{reason} (not at risk of {outcome})", ids.tolist(),
                            rule="at_risk")
    return AtRisk(table=table, excluded=fu.excluded.reset_index(drop=True), flow=flow,
                  status=dict(fu.labels))


def _exposure_days(
    cohort: Any, patients: pd.DataFrame, exposure: str, index_ns: np.ndarray
) -> np.ndarray:
    """Days from index to the start of exposure per patient (inf: never exposed)."""
    if exposure == "calcification":
        imaging = get_table(cohort, "imaging")
        findings = get_table(cohort, "findings")
        s_pos = finding_study_positions(imaging, findings)
        f_pat = patient_positions(patients, findings["patient_id"], "findings")
        study_ns, nat = nanoseconds(imaging["study_date"])
        if nat[s_pos].any():
            raise DataError(
                "imaging.study_date is missing for a study with findings; every study "
                "needs a date."
            )
        days = (study_ns[s_pos] - index_ns[f_pat]) / NS_PER_DAY
        first = np.full(len(patients), np.inf)
        np.minimum.at(first, f_pat, days)
        return first
    events = get_table(cohort, "events")
    return _first_dates(patients, events, (exposure,), index_ns)[:, 0]


def counting_process_table(
    cohort: Any,
    outcome: str,
    *,
    exposure: str = "calcification",
    competing: Sequence[str] = (),
) -> pd.DataFrame:
    """Follow-up in ``(start, stop]`` intervals, split where the exposure starts.

    Parameters
    ----------
    cohort : Cohort
        Any object with the canonical ``patients``, ``imaging``, ``findings`` and
        ``events`` tables.
    outcome : str
        Event name of the outcome.
    exposure : str, default "calcification"
        ``"calcification"`` (first imaging study with any finding) or an event name
        (its first date), e.g. ``"varices"``. The exposure may be neither the outcome
        nor a competing event.
    competing : sequence of str, default ()
        Competing event names (status 2, 3, ... in this order).

    Returns
    -------
    pandas.DataFrame
        One or two rows per patient at risk, ordered by patient (as in the patients
        table) then ``start``: ``patient_id, start, stop`` (years from index),
        ``status`` (0 except on a patient's last interval, where it is as in
        :func:`survival_table`), a 0/1 column named after ``exposure``, then the
        patients' baseline covariates (boolean columns as int 0/1). The same patients as
        in :func:`survival_table` are left out, listed by :func:`at_risk`.

    Warns
    -----
    DataWarning
        When patients are left out.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> import pandas as pd
    >>> from calcstats.cohort._analysis import counting_process_table
    >>> d = pd.Timestamp("2020-01-01")
    >>> c = SimpleNamespace(
    ...     patients=pd.DataFrame({"patient_id": ["a"], "index_date": [d],
    ...                            "last_followup_date": [pd.Timestamp("2024-01-01")]}),
    ...     imaging=pd.DataFrame({"study_id": ["s1", "s2"], "patient_id": ["a", "a"],
    ...                           "study_date": [d, pd.Timestamp("2022-01-01")],
    ...                           "modality": ["CT", "CT"]}),
    ...     findings=pd.DataFrame({"finding_id": ["f1"], "study_id": ["s2"],
    ...                            "patient_id": ["a"], "segment": ["VI"],
    ...                            "size_mm": [8.0], "morphology": ["rim"]}),
    ...     events=pd.DataFrame({"patient_id": ["a"], "event": ["hcc"],
    ...                          "event_date": pd.to_datetime(["2023-01-01"])}))
    >>> counting_process_table(c, "hcc").iloc[:, :5].round(3)
      patient_id  start   stop  status  calcification
    0          a  0.000  2.001       0              0
    1          a  2.001  3.001       1              1
    """
    caller = "counting_process_table"
    if not isinstance(exposure, str):
        raise SchemaError(f"{caller}: exposure must be a name (str), got {exposure!r}.")
    fu = _follow_up(cohort, outcome, competing, None, caller)
    if exposure != "calcification":
        events = get_table(cohort, "events")
        valid = _event_vocabulary(cohort, events)
        if exposure not in valid:
            raise SchemaError(
                f"{caller}: unknown exposure {exposure!r}; use 'calcification' or an event "
                f"name: {', '.join(valid)}."
            )
        if exposure in fu.labels.values():
            raise SchemaError(
                f"{caller}: the exposure {exposure!r} is also the outcome or a competing "
                "event; choose a different exposure."
            )
    patients = fu.patients
    taken = [c for c in ("start", "stop", "status", exposure) if c in patients.columns]
    if taken:
        raise SchemaError(
            f"{caller}: the patients table already has column(s) {taken}; rename them."
        )

    exp_days = _exposure_days(cohort, patients, exposure, fu.index_ns)[fu.keep]
    pos = np.flatnonzero(fu.keep)
    end = fu.days
    split = (exp_days > 0) & (exp_days < end)

    first_stop = np.where(split, exp_days, end)
    start = np.concatenate([np.zeros(len(pos)), exp_days[split]])
    stop = np.concatenate([first_stop, end[split]])
    status = np.concatenate([np.where(split, 0, fu.status), fu.status[split]])
    exposed = np.concatenate([(exp_days <= 0).astype(np.int64),
                              np.ones(int(split.sum()), dtype=np.int64)])
    rows = np.concatenate([pos, pos[split]])
    order = np.argsort(rows, kind="stable")  # a patient's first interval comes first
    rows = rows[order]

    covariates = binary_to_int(patients).iloc[rows].reset_index(drop=True)
    table = pd.DataFrame(
        {
            "patient_id": covariates["patient_id"],
            "start": start[order] / _DAYS_PER_YEAR,
            "stop": stop[order] / _DAYS_PER_YEAR,
            "status": status[order].astype(np.int64),
            exposure: exposed[order],
        }
    )
    table = pd.concat([table, covariates.drop(columns="patient_id")], axis=1)
    _warn_excluded(fu.excluded, caller, outcome, tuple(competing))
    return table
