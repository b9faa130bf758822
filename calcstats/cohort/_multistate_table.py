"""Multi-state analysis table: one row per patient per sojourn in a disease state.

The states and their allowed transitions are a :class:`StateSpace`. The default,
:meth:`StateSpace.liver`, is the liver progression

    no_cirrhosis → cirrhosis → decompensation,  liver_transplant and death absorbing and
    reachable from every live state,

where ``cirrhosis`` is entered on the first ``cirrhosis`` event (or is the state at index
when ``cirrhosis_at_baseline`` is true) and ``decompensation`` on the first of
``ascites``, ``variceal_bleeding``, ``encephalopathy`` or ``decompensation``. The mapping
from events to states is data: pass your own (e.g. with ``hcc`` as a state).

Rules (time zero is ``index_date``, times in years of 365.25 days, as the other analysis
tables):

1. **Entry state.** The patient enters in the last-declared state whose event is dated on
   or before ``index_date`` (or whose baseline flag is true), else the initial state. A
   patient whose entry state would be absorbing (transplanted or dead on or before index)
   is left out, as is a patient without follow-up (``last_followup_date`` equal to
   ``index_date``); both are listed in the record and added to the flow.
2. **Transitions.** After index, the first date of each state's events, in date order,
   moves the patient along the declared transitions. Follow-up ends at the first absorbing
   state or at ``last_followup_date`` (the last row is then ``"censored"``; an event on the
   last follow-up day counts and no zero-length row follows it). Events after
   ``last_followup_date`` or after an absorbing state are not used.
3. **Contradicting events** (counted in the record, never dropped silently):

   * an event that *skips* a declared state (decompensation without a recorded cirrhosis):
     with ``on_contradiction="direct"`` (default) the patient moves directly
     (``no_cirrhosis → decompensation``), a transition outside the declared structure
     that the table shows as it happened; with ``"exclude"`` the patient is left out
     (flow step);
   * an event for a state the patient cannot reach any more (cirrhosis first recorded
     after decompensation): the event is not used (``"direct"``) or the patient is left
     out (``"exclude"``).
4. **Same-day events** are taken in the declared order of the states (progression before
   the absorbing states), and each earlier transition of the day is moved back by 0.1 day
   (0.1/365.25 years) so that no sojourn has zero length: R survival's convention of
   pushing the intermediate event back a tenth of the time unit (mgus2 vignette: "we push
   the progression time back by .1 month when there is a tie").
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import DataWarning, SchemaError, user_stacklevel
from calcstats.cohort._analysis_base import (
    NS_PER_DAY,
    binary_to_int,
    get_table,
    index_days,
)
from calcstats.cohort._analysis_patient import patient_table
from calcstats.cohort._analysis_time import _event_vocabulary, _first_dates
from calcstats.cohort._schema import TERMINAL_EVENTS

__all__ = [
    "RULES",
    "MultiStateAtRisk",
    "StateSpace",
    "multistate_at_risk",
    "multistate_table",
    "warn_left_out",
]

_DAYS_PER_YEAR = 365.25
_SAME_DAY_SHIFT = 0.1  # days
#: What the rules do with an event, in the order they are tried (module notes, rule 3)
RULES = (
    "after an absorbing state: not used",
    "already in the state at index: not used",
    "skipped state: direct transition",
    "state no longer reachable: not used",
)
#: Why a patient is left out of the table
CONTRADICTION = "contradicting events: a state skipped or no longer reachable"
NO_FOLLOW_UP = "no follow-up: last_followup_date equals index_date"
DECOMPENSATION_EVENTS = ("ascites", "variceal_bleeding", "encephalopathy", "decompensation")


@dataclass(frozen=True)
class StateSpace:
    """Disease states, the events that enter them and the allowed transitions.

    Parameters
    ----------
    states : dict
        State → event name(s) that enter it, in declared order (the progression order;
        it also orders same-day events). The initial state has no events.
    transitions : list of (from, to), optional
        Allowed transitions. Default: each live state to the next live state in declared
        order, and every live state to every absorbing state.
    absorbing : list of str, optional
        States without exit. Default: the states entered only by ``death`` or
        ``liver_transplant``.
    initial : str, optional
        The state of a patient with no state event at index (default: the first state).
    baseline : dict, optional
        State → boolean column of the patients table that puts a patient in that state at
        index, e.g. ``{"cirrhosis": "cirrhosis_at_baseline"}``.

    Examples
    --------
    >>> sp = StateSpace({"no_cirrhosis": [], "cirrhosis": ["cirrhosis"], "hcc": ["hcc"],
    ...                  "death": ["death"]},
    ...                 transitions=[("no_cirrhosis", "cirrhosis"), ("cirrhosis", "hcc"),
    ...                              ("no_cirrhosis", "death"), ("cirrhosis", "death"),
    ...                              ("hcc", "death")])
    >>> sp.absorbing, sp.initial
    (('death',), 'no_cirrhosis')
    """

    states: Mapping[str, tuple[str, ...]]
    transitions: tuple[tuple[str, str], ...]
    absorbing: tuple[str, ...]
    initial: str
    baseline: Mapping[str, str]

    def __init__(
        self,
        states: Mapping[str, Sequence[str] | str],
        transitions: Sequence[tuple[str, str]] | None = None,
        *,
        absorbing: Sequence[str] | None = None,
        initial: str | None = None,
        baseline: Mapping[str, str] | None = None,
    ) -> None:
        if not isinstance(states, Mapping) or len(states) < 2:
            raise SchemaError(
                "StateSpace: states must be a dict of at least two states, "
                "state name → event name(s) that enter it."
            )
        mapping: dict[str, tuple[str, ...]] = {}
        for name, events in states.items():
            if not isinstance(name, str) or not name or name == "censored":
                raise SchemaError(f"StateSpace: {name!r} is not a valid state name.")
            ev = (events,) if isinstance(events, str) else tuple(events)
            if not all(isinstance(e, str) for e in ev):
                raise SchemaError(f"StateSpace: the events of {name!r} must be event names.")
            mapping[name] = ev
        owner: dict[str, str] = {}
        for name, ev in mapping.items():
            for e in ev:
                if e in owner:
                    raise SchemaError(
                        f"StateSpace: event {e!r} enters both {owner[e]!r} and "
                        f"{name!r}; an event enters one state."
                    )
                owner[e] = name
        names = list(mapping)
        init = names[0] if initial is None else initial
        if init not in mapping:
            raise SchemaError(f"StateSpace: initial state {init!r} is not a state.")
        if absorbing is None:
            absorbing = [s for s in names if mapping[s] and set(mapping[s]) <= TERMINAL_EVENTS]
        absorbing = tuple(absorbing)
        for s in absorbing:
            if s not in mapping:
                raise SchemaError(f"StateSpace: absorbing state {s!r} is not a state.")
        if init in absorbing:
            raise SchemaError("StateSpace: the initial state cannot be absorbing.")
        live = [s for s in names if s not in absorbing]
        if transitions is None:
            pairs = list(pairwise(live))
            pairs += [(a, b) for a in live for b in absorbing]
        else:
            pairs = []
            for t in transitions:
                if not (isinstance(t, tuple | list) and len(t) == 2):
                    raise SchemaError(f"StateSpace: transition {t!r} must be a (from, to) pair.")
                a, b = str(t[0]), str(t[1])
                for s in (a, b):
                    if s not in mapping:
                        raise SchemaError(
                            f"StateSpace: transition {a!r} -> {b!r} names "
                            f"{s!r}, which is not a state ({', '.join(names)})."
                        )
                if a == b or a in absorbing:
                    raise SchemaError(
                        f"StateSpace: transition {a!r} -> {b!r} is not allowed "
                        "(self-transition or out of an absorbing state)."
                    )
                pairs.append((a, b))
        for s in names:
            if s != init and not mapping[s] and not (baseline and s in baseline):
                raise SchemaError(f"StateSpace: state {s!r} has no events that enter it.")
        base = dict(baseline or {})
        for s in base:
            if s not in mapping or s in absorbing:
                raise SchemaError(
                    f"StateSpace: baseline flag for {s!r}, which is not a live state."
                )
        object.__setattr__(self, "states", dict(mapping))
        object.__setattr__(self, "transitions", tuple(dict.fromkeys(pairs)))
        object.__setattr__(self, "absorbing", absorbing)
        object.__setattr__(self, "initial", init)
        object.__setattr__(self, "baseline", base)

    @classmethod
    def liver(cls) -> StateSpace:
        """The default: no_cirrhosis → cirrhosis → decompensation, transplant and death
        absorbing from every live state (see the module documentation)."""
        return cls(
            {
                "no_cirrhosis": (),
                "cirrhosis": ("cirrhosis",),
                "decompensation": DECOMPENSATION_EVENTS,
                "liver_transplant": ("liver_transplant",),
                "death": ("death",),
            },
            baseline={"cirrhosis": "cirrhosis_at_baseline"},
        )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.states)

    def reachable(self) -> np.ndarray:
        """Boolean matrix: state j can be reached from state i along declared transitions."""
        names = self.names
        n = len(names)
        reach = np.zeros((n, n), dtype=bool)
        for a, b in self.transitions:
            reach[names.index(a), names.index(b)] = True
        for k in range(n):
            reach |= reach[:, [k]] & reach[[k], :]
        return reach

    @classmethod
    def coerce(cls, states: Any) -> StateSpace:
        if states is None:
            return cls.liver()
        if isinstance(states, StateSpace):
            return states
        if isinstance(states, Mapping):
            return cls(states)
        raise SchemaError(
            "states must be None (the liver default), a StateSpace or a dict "
            f"state → events; got {type(states).__name__}."
        )


@dataclass(frozen=True)
class MultiStateAtRisk:
    """The multi-state table with its record: who was left out, which events were
    adjusted, and the flow (:meth:`Cohort.multistate_at_risk`).

    Attributes
    ----------
    table : pandas.DataFrame
        As :meth:`Cohort.multistate_table`.
    excluded : pandas.DataFrame
        ``patient_id, reason`` of every patient left out.
    adjustments : pandas.DataFrame
        ``patient_id, event, state, time, rule`` of every event the rules changed:
        ``"skipped state: direct transition"``, ``"state no longer reachable: not used"``,
        ``"same day: moved back 0.1 day"``, ``"after an absorbing state: not used"``.
    flow : Flow
        The cohort's flow plus one step per reason for leaving patients out.
    states : StateSpace
    """

    table: pd.DataFrame
    excluded: pd.DataFrame
    adjustments: pd.DataFrame
    flow: Any
    states: StateSpace

    def counts(self) -> pd.DataFrame:
        """``rule, n_events, n_patients`` of the adjustments."""
        g = self.adjustments.groupby("rule", sort=False)
        return pd.DataFrame(
            {"n_events": g.size(), "n_patients": g["patient_id"].nunique()}
        ).reset_index()


@dataclass
class _Built:
    table: pd.DataFrame
    excluded: pd.DataFrame
    adjustments: pd.DataFrame


def _state_days(
    cohort: Any,
    patients: pd.DataFrame,
    events: pd.DataFrame,
    space: StateSpace,
    index_ns: np.ndarray,
    caller: str,
) -> tuple[np.ndarray, np.ndarray]:
    """(n, S) days from index to each state's first event (inf: none) and the position of
    the event giving it (in the state's event list)."""
    valid = _event_vocabulary(cohort, events)
    names = space.names
    used = [e for s in names for e in space.states[s]]
    unknown = [e for e in used if e not in valid]
    if unknown:
        raise SchemaError(
            f"{caller}: unknown event name(s) {', '.join(map(repr, unknown))} in the states; "
            f"valid event names are: {', '.join(valid)}. Extend the vocabulary with "
            "read_cohort(vocabularies={'event': [...]}) for a new event."
        )
    first = _first_dates(patients, events, used, index_ns) if used else np.zeros((len(patients), 0))
    day = np.full((len(patients), len(names)), np.inf)
    which = np.zeros((len(patients), len(names)), dtype=np.int64)
    col = 0
    for i, s in enumerate(names):
        k = len(space.states[s])
        if k:
            block = first[:, col : col + k]
            day[:, i] = block.min(axis=1)
            which[:, i] = block.argmin(axis=1)
            col += k
    return day, which


def _transitions(
    space: StateSpace,
    day: np.ndarray,
    fu: np.ndarray,
    entry: np.ndarray,
    keep: np.ndarray,
    on_contradiction: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[tuple]]:
    """Accepted transitions (patient, day, to-state) in order, the state reached, whether
    follow-up ended in an absorbing state, patients with contradictions, and the
    adjustments (patient, state, day, rule)."""
    names = space.names
    S = len(names)
    allowed = np.zeros((S, S), dtype=bool)
    for a, b in space.transitions:
        allowed[names.index(a), names.index(b)] = True
    reach = space.reachable()
    absorbing = np.isin(np.arange(S), [names.index(s) for s in space.absorbing])
    p, s = np.nonzero((day > 0) & (day <= fu[:, None]) & keep[:, None])
    d = day[p, s]
    order = np.lexsort((s, d, p))
    p, s, d = p[order], s[order], d[order]
    rank = np.arange(p.size) - np.searchsorted(p, p, side="left")
    current = entry.copy()
    ended = np.zeros(len(entry), dtype=bool)
    bad = np.zeros(len(entry), dtype=bool)
    accept = np.zeros(p.size, dtype=bool)
    notes: list[tuple] = []
    for r in range(int(rank.max()) + 1 if rank.size else 0):
        idx = np.flatnonzero(rank == r)
        pp, ss = p[idx], s[idx]
        cur = current[pp]
        after = ended[pp]
        same = ~after & (ss == cur)
        ok = ~after & ~same & allowed[cur, ss]
        skip = ~after & ~same & ~ok & reach[cur, ss]
        lost = ~after & ~same & ~ok & ~skip
        for mask, rule in zip((after, same, skip, lost), RULES, strict=True):
            notes += [
                (int(a), int(b), float(c), rule)
                for a, b, c in zip(pp[mask], ss[mask], d[idx][mask], strict=True)
            ]
        if on_contradiction == "exclude":
            bad[pp[skip | lost]] = True
            go = ok
        else:
            go = ok | skip
        accept[idx[go]] = True
        current[pp[go]] = ss[go]
        ended[pp[go]] |= absorbing[ss[go]]
    return (np.column_stack([p[accept], s[accept]]), d[accept], current, ended, bad, notes)


def _build(cohort: Any, states: Any, on_contradiction: str, caller: str) -> _Built:
    if on_contradiction not in ("direct", "exclude"):
        raise SchemaError(
            f"{caller}: on_contradiction must be 'direct' or 'exclude', got {on_contradiction!r}."
        )
    space = StateSpace.coerce(states)
    names = space.names
    patients = get_table(cohort, "patients", extra=("last_followup_date",))
    events = get_table(cohort, "events")
    missing = [c for c in space.baseline.values() if c not in patients.columns]
    if missing:
        raise SchemaError(
            f"{caller}: the patients table lacks the baseline column(s) "
            f"{missing} named in the states."
        )
    index_ns = index_days(patients)
    fu = (index_days(patients, "last_followup_date") - index_ns) / NS_PER_DAY
    if (fu < 0).any():
        ids = patients["patient_id"].to_numpy()[fu < 0][:5].tolist()
        raise SchemaError(
            f"{caller}: last_followup_date is before index_date for "
            f"{int((fu < 0).sum())} patient(s), e.g. {ids}; correct the dates."
        )
    day, which = _state_days(cohort, patients, events, space, index_ns, caller)
    n = len(patients)
    at_index = day <= 0
    for s, column in space.baseline.items():
        flag = patients[column]
        if flag.isna().any():
            ids = patients["patient_id"].to_numpy()[flag.isna().to_numpy()][:5].tolist()
            raise SchemaError(
                f"{caller}: {column} is missing for {int(flag.isna().sum())} "
                f"patient(s), e.g. {ids}; it sets the state at index."
            )
        at_index[:, names.index(s)] |= flag.astype(bool).to_numpy()
    reason = np.full(n, None, dtype=object)
    for s in space.absorbing:
        hit = at_index[:, names.index(s)] & (reason == None)  # noqa: E711
        reason[hit] = f"not at risk: {s} on or before index_date"
    reason[(fu <= 0) & (reason == None)] = NO_FOLLOW_UP  # noqa: E711
    live = np.array([s not in space.absorbing for s in names])
    marked = at_index & live[None, :]
    pos = np.where(marked, np.arange(len(names))[None, :], -1).max(axis=1)
    entry = np.where(pos >= 0, pos, names.index(space.initial))
    keep = reason == None  # noqa: E711
    acc, acc_day, current, ended, bad, notes = _transitions(
        space, day, fu, entry, keep, on_contradiction
    )
    if on_contradiction == "exclude":
        reason[bad & keep] = CONTRADICTION
        keep = reason == None  # noqa: E711
        good = keep[acc[:, 0]]
        acc, acc_day = acc[good], acc_day[good]
    ap, asta = acc[:, 0], acc[:, 1]
    # same-day transitions: each earlier one of the day moves back by 0.1 day
    same_later = np.zeros(ap.size)
    for k in range(1, len(names)):
        nxt = np.zeros(ap.size, dtype=bool)
        nxt[:-k] = (ap[k:] == ap[:-k]) & (acc_day[k:] == acc_day[:-k])
        same_later += nxt
    t_acc = (acc_day - _SAME_DAY_SHIFT * same_later) / _DAYS_PER_YEAR
    shifted = np.flatnonzero(same_later > 0)
    notes += [
        (
            int(ap[i]),
            int(asta[i]),
            float(acc_day[i]),
            f"same day: moved back {_SAME_DAY_SHIFT * same_later[i]:g} day",
        )
        for i in shifted
    ]
    first_of = np.ones(ap.size, dtype=bool)
    first_of[1:] = ap[1:] != ap[:-1]
    prev_state = np.where(first_of, entry[ap], np.roll(asta, 1))
    prev_time = np.where(first_of, 0.0, np.roll(t_acc, 1))
    fu_years = fu / _DAYS_PER_YEAR
    kept = np.flatnonzero(keep)
    last_time = np.zeros(n)
    last_idx = np.flatnonzero(np.append(ap[1:] != ap[:-1], True)) if ap.size else ap
    last_time[ap[last_idx]] = t_acc[last_idx]
    cens = kept[~ended[kept] & (fu_years[kept] > last_time[kept])]
    pid = np.concatenate([ap, cens])
    from_s = np.concatenate([prev_state, current[cens]])
    to_s = np.concatenate([asta, np.full(cens.size, len(names))])
    start = np.concatenate([prev_time, last_time[cens]])
    stop = np.concatenate([t_acc, fu_years[cens]])
    order = np.lexsort((start, pid))
    pid, from_s, to_s, start, stop = (x[order] for x in (pid, from_s, to_s, start, stop))
    cats = [*names, "censored"]
    covariates = patient_table(cohort)
    taken = [c for c in ("from_state", "to_state", "start", "stop") if c in covariates.columns]
    if taken:
        raise SchemaError(
            f"{caller}: the patients table already has column(s) {taken}; rename them."
        )
    cov = binary_to_int(covariates).iloc[pid].reset_index(drop=True)
    table = pd.concat(
        [
            pd.DataFrame(
                {
                    "patient_id": cov["patient_id"],
                    "from_state": pd.Categorical.from_codes(from_s, categories=cats),
                    "to_state": pd.Categorical.from_codes(to_s, categories=cats),
                    "start": start,
                    "stop": stop,
                }
            ),
            cov.drop(columns="patient_id"),
        ],
        axis=1,
    )
    ids = patients["patient_id"].to_numpy()
    excluded = pd.DataFrame({"patient_id": ids[~keep], "reason": reason[~keep].astype(str)})
    event_name = [space.states[names[b]][which[a, b]] for a, b, _, _ in notes]
    adjustments = pd.DataFrame(
        {
            "patient_id": [ids[a] for a, _, _, _ in notes],
            "event": event_name,
            "state": [names[b] for _, b, _, _ in notes],
            "time": [c / _DAYS_PER_YEAR for _, _, c, _ in notes],
            "rule": [r for _, _, _, r in notes],
        },
        columns=["patient_id", "event", "state", "time", "rule"],
    )
    if len(adjustments):
        in_table = np.isin(adjustments["patient_id"].to_numpy(), ids[keep])
        adjustments = adjustments.loc[in_table].reset_index(drop=True)
    return _Built(table, excluded, adjustments)


def _warn(built: _Built, caller: str) -> None:
    excluded = built.excluded["reason"].value_counts(sort=False)
    adjusted = built.adjustments["rule"].value_counts(sort=False)
    warn_left_out(list(excluded.items()), list(adjusted.items()), caller)


def warn_left_out(
    excluded: Sequence[tuple[str, int]], adjusted: Sequence[tuple[str, int]], caller: str
) -> None:
    """Warn of the patients left out and the events handled by the rules: (reason, count)
    and (rule, count) in the order they first occur."""
    parts = []
    if excluded:
        parts.append(
            f"{sum(n for _, n in excluded)} patient(s) left out ("
            + "; ".join(f"{r}: {c}" for r, c in excluded)
            + ")"
        )
    if adjusted:
        parts.append(
            f"{sum(n for _, n in adjusted)} event(s) handled by the multi-state rules ("
            + "; ".join(f"{r}: {c}" for r, c in adjusted)
            + ")"
        )
    if parts:
        warnings.warn(
            f"{caller}: " + "; ".join(parts) + ". cohort.multistate_at_risk() lists "
            "them (and adds the patients left out to the flow).",
            DataWarning,
            stacklevel=user_stacklevel(),
        )


def multistate_table(
    cohort: Any, states: Any = None, *, on_contradiction: str = "direct"
) -> pd.DataFrame:
    """One row per patient per sojourn: ``patient_id, from_state, to_state, start, stop``
    (years from index) and the patient table's covariates.

    Parameters
    ----------
    cohort : Cohort
    states : StateSpace or dict, optional
        The states (default :meth:`StateSpace.liver`); a dict state → events uses the
        default transitions of :class:`StateSpace`.
    on_contradiction : {"direct", "exclude"}
        What to do with events that skip a declared state or come for a state the patient
        can no longer reach (module documentation, rule 3).

    Returns
    -------
    pandas.DataFrame
        ``from_state`` and ``to_state`` are Categoricals in the declared state order
        (``to_state`` ``"censored"`` when follow-up ends without a transition); rows are
        ordered by patient (as in the patients table) and time.

    Warns
    -----
    DataWarning
        When patients are left out or events handled by the rules
        (:meth:`Cohort.multistate_at_risk` lists them).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> import pandas as pd
    >>> d = pd.Timestamp("2020-01-01")
    >>> c = SimpleNamespace(
    ...     patients=pd.DataFrame({"patient_id": ["a", "b"], "index_date": [d, d],
    ...                            "cirrhosis_at_baseline": [False, True],
    ...                            "last_followup_date": pd.to_datetime(["2024-01-01",
    ...                                                                  "2023-01-01"])}),
    ...     imaging=pd.DataFrame({"study_id": ["s1"], "patient_id": ["a"],
    ...                           "study_date": [d], "modality": ["CT"]}),
    ...     findings=pd.DataFrame({"finding_id": ["f1"], "study_id": ["s1"],
    ...                            "patient_id": ["a"], "segment": ["VI"],
    ...                            "size_mm": [8.0], "morphology": ["rim"]}),
    ...     events=pd.DataFrame({"patient_id": ["a", "a", "b"],
    ...                          "event": ["cirrhosis", "ascites", "death"],
    ...                          "event_date": pd.to_datetime(["2021-01-01", "2022-07-01",
    ...                                                        "2022-01-01"])}))
    >>> multistate_table(c).iloc[:, :5].round(3)
      patient_id      from_state        to_state  start   stop
    0          a    no_cirrhosis       cirrhosis  0.000  1.002
    1          a       cirrhosis  decompensation  1.002  2.497
    2          a  decompensation        censored  2.497  4.000
    3          b       cirrhosis           death  0.000  2.001
    """
    built = _build(cohort, states, on_contradiction, "multistate_table")
    _warn(built, "multistate_table")
    return built.table


def multistate_at_risk(
    cohort: Any, states: Any = None, *, on_contradiction: str = "direct"
) -> MultiStateAtRisk:
    """The multi-state table with its record (:class:`MultiStateAtRisk`)."""
    built = _build(cohort, states, on_contradiction, "multistate_at_risk")
    flow = getattr(cohort, "flow", None)
    if flow is not None:
        for reason, ids in built.excluded.groupby("reason", sort=False)["patient_id"]:
            flow = flow.add(f"{reason} (multi-state table)", ids.tolist(), rule="multistate")
    return MultiStateAtRisk(
        table=built.table,
        excluded=built.excluded.reset_index(drop=True),
        adjustments=built.adjustments,
        flow=flow,
        states=StateSpace.coerce(states),
    )
