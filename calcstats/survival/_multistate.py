"""State-occupation probabilities of a multi-state model (Aalen–Johansen), as R's
``survfit(Surv(start, stop, to_state) ~ by, id=patient_id, istate=from_state)``.

Conventions (R survival 3.5-3, read from its source and checked against it to 1e-12 on
three data sets; ``tests/reference/multistate_README.md``):

* a row is at risk on ``(start, stop]``; a row censored at ``t`` is at risk at ``t``; all
  transitions at one time form one matrix ``I + dA`` (ties are exact, never broken);
* the starting distribution ``p0`` is the (weighted) share of each state among the rows at
  risk at the first transition time of the group;
* standard errors are infinitesimal-jackknife (robust) SEs on the probability scale, each
  patient one cluster; ``p0_variance=True`` (the default, as R ≥ 3.6 and R 3.5-3's
  ``influence=TRUE``) includes the variance of the estimated ``p0``, ``False`` reproduces
  R 3.5-3's default ``std.err``. The two agree when everyone starts in one state;
* intervals: R's default ``conf_type="log"`` on the probability scale.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from calcstats._errors import DataWarning, user_stacklevel
from calcstats._memory import CURVE_MEMORY_ADVICE, check_memory, memory_guard
from calcstats._validation import (
    BOOLEAN,
    COLUMN,
    COLUMNS,
    CONF_LEVEL,
    NONE,
    Options,
    validate_params,
)
from calcstats.labels import Labels
from calcstats.results import CONF_TYPES
from calcstats.survival._ms_result import StateProbabilitiesResult
from calcstats.survival._multistate_aj import aalen_johansen_ms
from calcstats.survival._multistate_input import CENSORED, MultiStateInput, multistate_input

__all__ = ["probabilities_of", "state_probabilities", "transition_counts"]


def _counts(mi: MultiStateInput) -> pd.DataFrame:
    """Observed (from, to) row counts per group, ``"censored"`` included."""
    S = len(mi.states)
    to = np.where(mi.to_code >= 0, mi.to_code, S)
    key = (mi.group * S + mi.from_code) * (S + 1) + to
    n = np.bincount(key, weights=mi.row_counts(), minlength=mi.n_groups * S * (S + 1))
    n = np.round(n).astype(np.int64)
    g, rest = np.divmod(np.flatnonzero(n), S * (S + 1))
    fr, t = np.divmod(rest, S + 1)
    names = [*mi.states, CENSORED]
    out = pd.DataFrame(
        {
            "from_state": pd.Categorical.from_codes(fr, categories=names),
            "to_state": pd.Categorical.from_codes(t, categories=names),
            "n": n[n > 0],
        }
    )
    if mi.by:
        out = pd.concat([mi.groups.iloc[g].reset_index(drop=True), out], axis=1)
    return out


def _state_counts(mi: MultiStateInput) -> pd.DataFrame:
    """Per group and state: patients starting there, transitions into it, patients ever in it."""
    S = len(mi.states)
    G = mi.n_groups
    n = mi.row_counts()
    parent = mi.parents()
    first = parent < 0
    n_start = np.bincount(mi.group[first] * S + mi.from_code[first], n[first], minlength=G * S)
    mv = mi.to_code >= 0
    n_enter = np.bincount(mi.group[mv] * S + mi.to_code[mv], n[mv], minlength=G * S)
    # the states of each row's path so far; a patient is counted at the first row of its
    # path that reaches a state
    seen = np.zeros((n.size, S), dtype=bool)
    now = np.zeros((n.size, S), dtype=bool)
    rows = np.arange(n.size)
    now[rows, mi.from_code] = True
    now[rows[mv], mi.to_code[mv]] = True
    todo = np.ones(n.size, dtype=bool)
    while todo.any():  # parents first: a row is done once its parent is
        ready = todo & ((parent < 0) | ~todo[np.maximum(parent, 0)])
        idx = np.flatnonzero(ready)
        par = parent[idx]
        seen[idx] = now[idx] | np.where((par >= 0)[:, None], seen[np.maximum(par, 0)], False)
        todo[idx] = False
    before = np.where((parent >= 0)[:, None], seen[np.maximum(parent, 0)], False)
    new = seen & ~before
    n_ever = (new * n[:, None]).reshape(n.size, S)
    per_group = np.zeros((G, S))
    np.add.at(per_group, mi.group, n_ever)
    out = pd.DataFrame(
        {
            "state": pd.Categorical.from_codes(np.tile(np.arange(S), G), categories=mi.states),
            "n_start": np.round(n_start).astype(np.int64),
            "n_entered": np.round(n_enter).astype(np.int64),
            "n_patients": np.round(per_group.reshape(-1)).astype(np.int64),
        }
    )
    if mi.by:
        out = pd.concat(
            [mi.groups.iloc[np.repeat(np.arange(G), S)].reset_index(drop=True), out], axis=1
        )
    return out


@validate_params(
    {
        "by": [COLUMNS, NONE],
        "from_state": [COLUMN],
        "to_state": [COLUMN],
        "start": [COLUMN],
        "stop": [COLUMN],
        "patient_id": [COLUMN],
    }
)
def transition_counts(
    data: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    from_state: str = "from_state",
    to_state: str = "to_state",
    start: str = "start",
    stop: str = "stop",
    patient_id: str = "patient_id",
    labels: Labels | dict[str, str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, tuple[str, ...]]:
    """Transition counts, state counts and the state order of multi-state rows, checked
    as in :func:`state_probabilities` (``labels`` only orders the states).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame, tuple of str)
        ``[by], from_state, to_state, n`` (rows; ``to_state`` "censored" included),
        ``[by], state, n_start, n_entered, n_patients`` and the states in display order.

    Examples
    --------
    >>> import pandas as pd
    >>> ms = pd.DataFrame({"patient_id": [1, 1, 2], "from_state": ["a", "b", "a"],
    ...                    "to_state": ["b", "censored", "censored"],
    ...                    "start": [0.0, 1.0, 0.0], "stop": [1.0, 2.0, 3.0]})
    >>> counts, states, order = transition_counts(ms)
    >>> counts.to_dict("list")
    {'from_state': ['a', 'a', 'b'], 'to_state': ['b', 'censored', 'censored'], 'n': [1, 1, 1]}
    """
    mi = multistate_input(
        data,
        from_state=from_state,
        to_state=to_state,
        start=start,
        stop=stop,
        patient_id=patient_id,
        by=by,
        function="transition_counts",
        labels=Labels.coerce(labels),
    )
    return _counts(mi), _state_counts(mi), mi.states


@validate_params(
    {
        "by": [COLUMNS, NONE],
        "conf_level": [CONF_LEVEL],
        "conf_type": [Options(*CONF_TYPES)],
        "from_state": [COLUMN],
        "to_state": [COLUMN],
        "start": [COLUMN],
        "stop": [COLUMN],
        "patient_id": [COLUMN],
        "weights": [COLUMN, NONE],
        "p0_variance": [BOOLEAN],
    },
    engine="calcstats.survival._engine_multistate:state_probabilities",
)
def state_probabilities(
    data: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    conf_level: float = 0.95,
    conf_type: str = "log",
    from_state: str = "from_state",
    to_state: str = "to_state",
    start: str = "start",
    stop: str = "stop",
    patient_id: str = "patient_id",
    weights: str | None = None,
    p0_variance: bool = True,
    labels: Labels | dict[str, str] | None = None,
) -> StateProbabilitiesResult:
    """Aalen–Johansen probabilities of being in each state over time, for any structure.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient per sojourn ``(start, stop]`` (e.g.
        :meth:`Cohort.multistate_table`): the state occupied, the state entered at
        ``stop`` or ``"censored"``. Rows may be split further (a ``"censored"`` row
        followed by one in the same state). Checked per patient: no gaps or overlaps,
        ``from_state`` continues from the previous row.
    by : str or list of str, optional
        Grouping column(s), fixed within a patient: one set of curves per group.
    conf_level : float
        Confidence level of the pointwise intervals.
    conf_type : {"log", "log-log", "plain"}
        Transform of the intervals (R's multi-state default is "log").
    from_state, to_state, start, stop, patient_id : str
        Column names (default: the names of :meth:`Cohort.multistate_table`).
    weights : str, optional
        Case weights, constant within a patient.
    p0_variance : bool, default True
        Include the variance of the estimated starting distribution in the standard
        errors (R's ``influence=TRUE``; the default of R ≥ 3.6). ``False`` gives
        R 3.5-3's default ``std.err``. Both are the same when all patients start in
        one state.
    labels : Labels or dict, optional
        Display labels kept for tables and plots.

    Returns
    -------
    StateProbabilitiesResult
        ``tidy()`` ([by], time, state, estimate, std_error, conf_low, conf_high),
        ``at(times)``, ``time_in_state(tau)``, ``cumulative_hazards()``,
        ``risk_table(times)``, ``transition_counts()``.

    Examples
    --------
    >>> import pandas as pd
    >>> import calcstats as cs
    >>> ms = pd.DataFrame({
    ...     "patient_id": [1, 1, 2, 3, 3, 4],
    ...     "from_state": ["healthy", "ill", "healthy", "healthy", "ill", "healthy"],
    ...     "to_state": ["ill", "dead", "censored", "ill", "censored", "dead"],
    ...     "start": [0.0, 1.0, 0.0, 0.0, 2.0, 0.0], "stop": [1.0, 4.0, 3.0, 2.0, 5.0, 2.5]})
    >>> sp = cs.state_probabilities(ms)
    >>> sp.at([3]).round(3)[["time", "state", "estimate", "std_error"]]
       time    state  estimate  std_error
    0   3.0  healthy      0.25      0.217
    1   3.0      ill      0.50      0.250
    2   3.0     dead      0.25      0.217
    """
    mi = multistate_input(
        data,
        from_state=from_state,
        to_state=to_state,
        start=start,
        stop=stop,
        patient_id=patient_id,
        by=by,
        weights=weights,
        function="state_probabilities",
        labels=Labels.coerce(labels),
    )
    return probabilities_of(
        mi,
        conf_level=float(conf_level),
        conf_type=conf_type,
        p0_variance=p0_variance,
        labels=labels,
    )


def probabilities_of(
    mi: MultiStateInput,
    *,
    conf_level: float,
    conf_type: str,
    p0_variance: bool,
    labels: Labels | dict[str, str] | None,
) -> StateProbabilitiesResult:
    """The state probabilities of checked multi-state rows (a DataFrame's, or an engine
    table's rows aggregated by path)."""
    with memory_guard("state_probabilities", CURVE_MEMORY_ADVICE):
        S = len(mi.states)
        n_times = np.unique(mi.stop).size
        check_memory(
            8.0 * n_times * S * S * 24 + 8.0 * mi.stop.size * S * 12,
            what=f"state_probabilities with {n_times:,} distinct times and {S} states",
            advice=CURVE_MEMORY_ADVICE,
        )
        curves = []
        for g in range(mi.n_groups):
            sl = mi.rows_of(g)
            if not np.any(mi.to_code[sl] >= 0):
                name = "" if not mi.by else f" in group {mi.groups.iloc[g].to_dict()}"
                warnings.warn(
                    f"state_probabilities(): no transition{name}; the state "
                    "probabilities stay at the starting distribution.",
                    DataWarning,
                    stacklevel=user_stacklevel(),
                )
            rows = mi.curve_rows(g)
            curves.append(aalen_johansen_ms(**rows, n_states=S, p0_variance=p0_variance))
    p0_text = (
        "including" if p0_variance else "not including"
    ) + " the variance of the starting distribution"
    return StateProbabilitiesResult(
        curves,
        data=mi,
        conf_type=conf_type,
        conf_level=conf_level,
        p0_variance=p0_variance,
        labels=labels,
        method=f"Aalen–Johansen state probabilities, infinitesimal-jackknife standard errors "
        f"({p0_text}), {conf_type} intervals",
    )
