"""The input check of the multi-state functions (``state_probabilities``,
``multistate_cox``).

The data are in the long "sojourn" layout of :meth:`Cohort.multistate_table`, which is
also R's ``Surv(start, stop, to_state)`` with ``id=`` and ``istate=``: one row per patient
per interval ``(start, stop]``, ``from_state`` the state occupied during the interval and
``to_state`` the state entered at ``stop`` or ``"censored"``. A patient's intervals may be
split further (time-varying covariates): a ``"censored"`` row followed by a row in the same
state.

The time columns, weights and groups go through the shared survival check
(:func:`calcstats._survival_input.survival_input`); then, per patient, sorted by
``start``:

* no gap and no overlap between consecutive rows (``start`` = previous ``stop``);
* ``from_state`` chains: the state entered at the previous ``stop`` (or, after a
  ``"censored"`` row, the previous ``from_state``);
* ``to_state`` differs from ``from_state`` (a row without a transition is
  ``"censored"``);
* weights and ``by`` groups constant within the patient (the patient is one cluster).

Every error names the patient and the rows (index labels) and says how to fix them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from calcstats._errors import DataError
from calcstats._survival_input import as_names, survival_input
from calcstats._validation import require_columns
from calcstats.labels import Labels

__all__ = ["CENSORED", "MultiStateInput", "multistate_input", "order_states", "state_order"]

#: The ``to_state`` value of a row that ends without a transition.
CENSORED = "censored"


@dataclass
class MultiStateInput:
    """Checked multi-state rows, sorted by group, patient and start.

    Attributes
    ----------
    data : pandas.DataFrame
        The analysed rows in sorted order (original index labels).
    states : tuple of str
        The states, in display order (codes are positions in this tuple).
    subject : numpy.ndarray
        0-based patient code per row (consecutive within a group).
    start, stop : numpy.ndarray
    from_code, to_code : numpy.ndarray
        State codes; ``to_code`` is -1 for a censored row.
    weights : numpy.ndarray
        Case weights (ones without ``weights=``).
    group : numpy.ndarray
        0-based group per row; ``groups`` one row per group with the ``by`` values.
    columns : dict
        The input column of each role.
    """

    data: pd.DataFrame
    states: tuple[str, ...]
    subject: np.ndarray
    start: np.ndarray
    stop: np.ndarray
    from_code: np.ndarray
    to_code: np.ndarray
    weights: np.ndarray
    weighted: bool
    group: np.ndarray
    groups: pd.DataFrame
    by: list[str]
    columns: dict[str, str | None]
    n_zero_weight: int = 0
    #: engine path: a row stands for ``count`` patients with the same path (rows, states
    #: and times so far), ``weights`` / ``weights2`` are the sums of their weights and
    #: squared weights and ``parent`` the previous row of the path (-1 at the first);
    #: None: one row per patient's sojourn (rows sorted by patient, then start)
    count: np.ndarray | None = None
    weights2: np.ndarray | None = None
    parent: np.ndarray | None = None

    @property
    def n_groups(self) -> int:
        return len(self.groups)

    def rows_of(self, g: int) -> slice:
        """The rows of group ``g`` (contiguous)."""
        idx = np.flatnonzero(self.group == g)
        return slice(int(idx[0]), int(idx[-1]) + 1) if idx.size else slice(0, 0)

    def row_counts(self) -> np.ndarray:
        """Patients each row stands for."""
        return np.ones(self.subject.size) if self.count is None else self.count

    def parents(self) -> np.ndarray:
        """The previous row of each row's path (-1 at a patient's first)."""
        if self.parent is not None:
            return self.parent
        parent = np.arange(self.subject.size) - 1
        if parent.size:
            parent[0] = -1
            new = (self.subject[1:] != self.subject[:-1]) | (self.group[1:] != self.group[:-1])
            parent[1:][new] = -1
        return parent

    def n_patients(self, g: int) -> int:
        """Patients in group ``g``."""
        sl = self.rows_of(g)
        return int(self.row_counts()[sl][self.parents()[sl] < 0].sum())

    def curve_rows(self, g: int) -> dict[str, np.ndarray]:
        """The rows of group ``g`` as :func:`~calcstats.survival._multistate_aj.
        aalen_johansen_ms` takes them."""
        sl = self.rows_of(g)
        out = {
            "subject": self.subject[sl],
            "start": self.start[sl],
            "stop": self.stop[sl],
            "s": self.from_code[sl],
            "d": self.to_code[sl],
            "w": self.weights[sl],
        }
        if self.parent is not None:
            parent = self.parent[sl]
            out["parent"] = np.where(parent >= 0, parent - sl.start, -1)
            out["count"] = self.row_counts()[sl]
            out["w2"] = self.weights2[sl] if self.weights2 is not None else out["w"] ** 2
        return out


def _label(data: pd.DataFrame, pos: np.ndarray | list[int], k: int = 3) -> str:
    labels = [data.index[p] for p in list(pos)[:k]]
    labels = [x.item() if isinstance(x, np.generic) else x for x in labels]
    return ", ".join(repr(x) for x in labels)


def _text_column(data: pd.DataFrame, column: str, role: str, function: str) -> np.ndarray:
    col = data[column]
    bad = np.flatnonzero(col.isna().to_numpy())
    if bad.size:
        raise DataError(
            f"{function}(): {role} column {column!r} has {bad.size} missing value(s) (rows "
            f"{_label(data, bad)}); every row needs a state ({CENSORED!r} for a row that ends "
            "without a transition)."
        )
    return col.astype(str).to_numpy(dtype=object)


def state_order(
    from_values: np.ndarray,
    to_values: np.ndarray,
    first_row: np.ndarray,
    stop: np.ndarray,
    *,
    categories: Sequence[str] | None,
    labels: Labels,
) -> tuple[str, ...]:
    """The states in display order.

    A categorical ``from_state``/``to_state`` keeps its categories' order. Otherwise the
    states that are only ever occupied at entry come first, then the states that are
    entered and left again, then the absorbing ones (entered, never left); within each
    kind the order of the ``from_state`` level labels (:class:`~calcstats.Labels`, which
    lists the liver states in progression order), then the time at which the state is
    first entered.
    """
    entered = set(to_values[to_values != CENSORED].tolist())
    moved = to_values != CENSORED
    first_entry = pd.Series(stop[moved]).groupby(to_values[moved]).min().to_dict()
    return order_states(
        occupied=set(from_values.tolist()),
        first_entry={k: first_entry[k] for k in entered},
        initial=set(from_values[first_row].tolist()),
        categories=categories,
        labels=labels,
    )


def order_states(
    *,
    occupied: set[str],
    first_entry: Mapping[str, float],
    initial: set[str],
    categories: Sequence[str] | None,
    labels: Labels,
) -> tuple[str, ...]:
    """:func:`state_order` from the states occupied, the time each state is first entered
    and the states occupied at a patient's first row (what an engine aggregates)."""
    entered = set(first_entry)
    present = occupied | entered
    if categories is not None:
        return tuple(c for c in categories if c in present and c != CENSORED)

    def kind(state: str) -> int:
        if state not in entered:
            return 0
        return 1 if state in occupied else 2

    listed = [str(k) for k in labels.levels.get("from_state", {})]
    rank = {name: i for i, name in enumerate(listed)}
    return tuple(
        sorted(
            present,
            key=lambda s: (
                kind(s),
                rank.get(s, len(rank)),
                first_entry.get(s, -1.0),
                s not in initial,
                s,
            ),
        )
    )


def _categories(data: pd.DataFrame, from_state: str, to_state: str) -> list[str] | None:
    cats: list[str] = []
    for c in (from_state, to_state):
        if isinstance(data[c].dtype, pd.CategoricalDtype):
            cats += [str(x) for x in data[c].cat.categories if str(x) not in cats]
    return cats or None


def multistate_input(
    data: pd.DataFrame,
    *,
    from_state: str,
    to_state: str,
    start: str,
    stop: str,
    patient_id: str,
    function: str,
    by: str | Sequence[str] | None = None,
    weights: str | None = None,
    labels: Labels | Mapping[str, str] | None = None,
) -> MultiStateInput:
    """Check multi-state rows and return them sorted, with state codes.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"patient_id": [1, 1, 2], "from_state": ["a", "b", "a"],
    ...                   "to_state": ["b", "censored", "censored"],
    ...                   "start": [0.0, 1.0, 0.0], "stop": [1.0, 2.0, 3.0]})
    >>> mi = multistate_input(d, from_state="from_state", to_state="to_state",
    ...                       start="start", stop="stop", patient_id="patient_id",
    ...                       function="state_probabilities")
    >>> mi.states, mi.to_code.tolist()
    (('a', 'b'), [1, -1, -1])
    """
    by_names = as_names(by, "by", function)
    require_columns(
        data,
        {
            "from_state": from_state,
            "to_state": to_state,
            "start": start,
            "stop": stop,
            "patient_id": patient_id,
            "by": by_names,
            "weights": weights,
        },
        function=function,
    )
    ids = data[patient_id]
    if ids.isna().any():
        bad = np.flatnonzero(ids.isna().to_numpy())
        raise DataError(
            f"{function}(): patient_id column {patient_id!r} has {bad.size} missing value(s) "
            f"(rows {_label(data, bad)}); every row must name its patient."
        )
    frm = _text_column(data, from_state, "from_state", function)
    to = _text_column(data, to_state, "to_state", function)
    bad = np.flatnonzero(frm == CENSORED)
    if bad.size:
        raise DataError(
            f"{function}(): from_state is {CENSORED!r} on {bad.size} row(s) (rows "
            f"{_label(data, bad)}); from_state is the state occupied during the interval."
        )
    same = np.flatnonzero(frm == to)
    if same.size:
        raise DataError(
            f"{function}(): to_state equals from_state ({frm[same[0]]!r}) on {same.size} "
            f"row(s) (rows {_label(data, same)}); a row that ends without a transition has "
            f"to_state {CENSORED!r}."
        )
    frame = pd.DataFrame({"_event": (to != CENSORED).astype(np.int64)}, index=data.index)
    work = (
        pd.concat([data, frame], axis=1)
        if "_event" not in data.columns
        else data.assign(_event=frame["_event"])
    )
    si = survival_input(
        work,
        time=stop,
        event="_event",
        start=start,
        weights=weights,
        by=by_names or None,
        cluster=patient_id,
        function=function,
        competing=True,
    )
    kept = np.arange(len(data))
    if si.n_zero_weight:
        kept = np.flatnonzero(data[str(weights)].to_numpy(dtype=float) != 0)
    frm, to = frm[kept], to[kept]
    sub = si.data
    pid = pd.factorize(sub[patient_id])[0]
    assert si.start is not None  # start= is required here
    order = np.lexsort((si.start, pid, si.group))
    pid, group = pid[order], si.group[order]
    st, sp = si.start[order], si.time[order]
    frm, to = frm[order], to[order]
    w = si.weights[order] if si.weights is not None else np.ones(len(order))
    sub = sub.iloc[order]
    same_pat = pid[1:] == pid[:-1]
    multi = pd.Series(group).groupby(pid).nunique().to_numpy() > 1
    if multi.any():
        p = int(np.flatnonzero(multi)[0])
        rows = np.flatnonzero(pid == p)
        raise DataError(
            f"{function}(): patient {sub[patient_id].iloc[rows[0]]!r} is in more than one "
            f"group of by={by_names} (rows {_label(sub, rows)}); the groups must be fixed per "
            "patient (e.g. baseline covariates)."
        )
    _check_patients(sub, pid, st, sp, frm, to, w, weights, patient_id, function)
    cats = _categories(data, from_state, to_state)
    first = np.ones(len(pid), dtype=bool)
    first[1:] = ~same_pat
    states = state_order(
        frm, to, first, sp, categories=cats, labels=Labels.default() | Labels.coerce(labels)
    )
    if cats is not None:
        missing = sorted((set(frm) | set(to[to != CENSORED])) - set(states))
        if missing:
            raise DataError(
                f"{function}(): state(s) {missing} are not categories of the from_state / "
                "to_state columns; add them to the categories."
            )
    from_code = pd.Index(states).get_indexer(frm).astype(np.int64)
    to_code = pd.Index(states).get_indexer(to).astype(np.int64)  # "censored": -1
    # consecutive patient codes within each group
    subj = np.concatenate([[0], np.cumsum(pid[1:] != pid[:-1])]).astype(np.int64)
    return MultiStateInput(
        data=sub,
        states=states,
        subject=subj,
        start=st,
        stop=sp,
        from_code=from_code,
        to_code=to_code,
        weights=w,
        weighted=weights is not None,
        group=group,
        groups=si.groups,
        by=by_names,
        columns={
            "from_state": from_state,
            "to_state": to_state,
            "start": start,
            "stop": stop,
            "patient_id": patient_id,
            "weights": weights,
        },
        n_zero_weight=si.n_zero_weight,
    )


def _check_patients(
    sub: pd.DataFrame,
    pid: np.ndarray,
    st: np.ndarray,
    sp: np.ndarray,
    frm: np.ndarray,
    to: np.ndarray,
    w: np.ndarray,
    weights: str | None,
    patient_id: str,
    function: str,
) -> None:
    """Gaps, overlaps, chaining and per-patient weights (rows sorted by patient, start)."""
    if len(pid) < 2:
        return
    same = pid[1:] == pid[:-1]

    def fail(mask: np.ndarray, what: str, fix: str) -> None:
        k = int(np.flatnonzero(mask)[0])
        who = sub[patient_id].iloc[k + 1]
        who = who.item() if isinstance(who, np.generic) else who
        n_pat = int(np.unique(pid[1:][mask]).size)
        raise DataError(
            f"{function}(): {what} for patient {who!r} (rows {_label(sub, [k, k + 1])})"
            + (f" and {n_pat - 1} other patient(s)" if n_pat > 1 else "")
            + f"; {fix}"
        )

    overlap = same & (st[1:] < sp[:-1])
    if overlap.any():
        k = int(np.flatnonzero(overlap)[0])
        fail(
            overlap,
            f"the interval ({st[k + 1]:g}, {sp[k + 1]:g}] overlaps the previous "
            f"one ({st[k]:g}, {sp[k]:g}]",
            "a patient is in one state at a time: remove duplicated rows or correct the times.",
        )
    gap = same & (st[1:] > sp[:-1])
    if gap.any():
        k = int(np.flatnonzero(gap)[0])
        fail(
            gap,
            f"there is a gap between stop {sp[k]:g} and the next start {st[k + 1]:g}",
            "each row must start where the patient's previous row stopped (a patient not "
            "under observation has no rows after that time).",
        )
    expected = np.where(to[:-1] == CENSORED, frm[:-1], to[:-1])
    chain = same & (frm[1:] != expected)
    if chain.any():
        k = int(np.flatnonzero(chain)[0])
        fail(
            chain,
            f"from_state is {frm[k + 1]!r} but the previous row "
            + (
                f"ended in {to[k]!r}"
                if to[k] != CENSORED
                else f"was in {frm[k]!r} and ended censored"
            ),
            "from_state must be the state entered at the end of the previous row (or the "
            "previous from_state after a censored row).",
        )
    if weights is not None:
        varies = same & (w[1:] != w[:-1])
        if varies.any():
            fail(
                varies,
                f"the weight changes ({w[:-1][varies][0]:g} to {w[1:][varies][0]:g})",
                "a patient is one cluster: give all rows of a patient the same weight.",
            )
