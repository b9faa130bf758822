"""Risk-set tabulation: the distinct times found once, then counts per (group, time).

This is the vectorised core of the curve estimators and tests: the distinct times are
found once (a hash, then a sort of the distinct values only), ``np.bincount`` sums the
per-row quantities for each (group, time) cell and a reverse cumulative sum within each
group gives the numbers at risk.

The k-sample tests need the numbers at risk of every group at every event time, a dense
(event times x groups) table; :class:`EventTimes` hands it out in blocks of event times,
so that memory stays of the order of the rows however many groups and times there are.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["CountedEventTimes", "EventTimes", "RiskTable", "tabulate", "time_codes"]

_DENSE_LIMIT = 20_000_000


def time_codes(time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct times and each row's index into them (as ``np.unique``).

    Hashes first (``pd.factorize``, O(n)) and sorts only the distinct values, which is
    several times faster than ``np.unique``'s full sort when times are tied.
    """
    codes, uniques = pd.factorize(time, sort=False)
    uniques = np.asarray(uniques, dtype=float)
    order = np.argsort(uniques, kind="stable")
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    return uniques[order], rank[codes]


@dataclass
class RiskTable:
    """Per (group, distinct time) sums, sorted by group then time.

    ``sums`` has one row per cell and one column per input quantity; ``n_risk`` is the
    (weighted) number with time >= the cell's time in that group; ``bounds[g]:bounds[g+1]``
    are the rows of group ``g``.
    """

    group: np.ndarray
    time: np.ndarray
    sums: np.ndarray
    n_risk: np.ndarray
    bounds: np.ndarray

    def rows(self, g: int) -> slice:
        return slice(int(self.bounds[g]), int(self.bounds[g + 1]))

    @classmethod
    def from_cells(
        cls, group: np.ndarray, time: np.ndarray, sums: np.ndarray, n_groups: int
    ) -> RiskTable:
        """The table of per (group, distinct time) sums, sorted by group then time (as
        :func:`tabulate` makes them, or as an engine's ``GROUP BY`` returns them); the
        first column gives the numbers at risk."""
        group = np.asarray(group, dtype=np.int64)
        bounds = np.searchsorted(group, np.arange(n_groups + 1))
        # reverse cumulative sum of the first quantity within each group
        w = sums[:, 0]
        csum = np.cumsum(w)
        total_to_end = np.empty(n_groups)
        for i in range(n_groups):
            lo, hi = bounds[i], bounds[i + 1]
            total_to_end[i] = csum[hi - 1] if hi > lo else 0.0
        n_risk = total_to_end[group] - (csum - w)
        return cls(group=group, time=time, sums=sums, n_risk=n_risk, bounds=bounds)


def tabulate(
    time: np.ndarray, group: np.ndarray, n_groups: int, quantities: list[np.ndarray | None]
) -> RiskTable:
    """Sum ``quantities`` (per-row arrays; None = a count of rows) by group and distinct time.

    The first quantity is the one whose reverse cumulative sum gives ``n_risk`` (the row
    weights, or None for plain counts).
    """
    utime, inv = time_codes(time)
    n_u = utime.size
    if n_groups == 1:
        key = inv
        size = n_u
    else:
        key = group.astype(np.int64) * n_u + inv
        size = n_groups * n_u
    if size <= max(_DENSE_LIMIT, 4 * time.size):
        present = np.bincount(key, minlength=size) > 0
        cells = np.flatnonzero(present)
        sums = np.empty((cells.size, len(quantities)))
        for j, q in enumerate(quantities):
            full = (
                np.bincount(key, weights=q, minlength=size)
                if q is not None
                else (np.bincount(key, minlength=size).astype(float))
            )
            sums[:, j] = full[cells]
    else:
        cells, kinv = np.unique(key, return_inverse=True)
        kinv = kinv.reshape(-1)
        sums = np.empty((cells.size, len(quantities)))
        for j, q in enumerate(quantities):
            sums[:, j] = np.bincount(kinv, weights=q, minlength=cells.size)
    g = (cells // n_u).astype(np.int64) if n_groups > 1 else np.zeros(cells.size, np.int64)
    t = utime[cells % n_u] if n_groups > 1 else utime[cells]
    return RiskTable.from_cells(g, t, sums, n_groups)


class EventTimes:
    """Numbers at risk and event counts per group at the distinct event times.

    Parameters
    ----------
    time : (n,) follow-up times.
    group : (n,) 0-based group codes, ``0 <= group < n_groups``.
    n_groups : int
    events : list of (n,) arrays >= 0
        Per-row event quantities (e.g. 0/1 indicators of a cause); a time is an event
        time when any of them is positive there.

    Attributes
    ----------
    times : (T,) sorted distinct event times.
    n_risk : (T,) pooled numbers at risk (time >= the event time).
    events : (T, len(events)) pooled sums of each quantity at each event time.

    Examples
    --------
    >>> import numpy as np
    >>> et = EventTimes(np.array([1.0, 2, 2, 3]), np.array([0, 1, 0, 1]), 2,
    ...                 [np.array([1.0, 1, 0, 0])])
    >>> et.times, et.n_risk
    (array([1., 2.]), array([4., 3.]))
    >>> [(lo, hi, n.tolist(), d[0].tolist()) for lo, hi, n, d in et.blocks(8)]
    [(0, 2, [[2.0, 2.0], [1.0, 2.0]], [[1.0, 0.0], [0.0, 1.0]])]
    """

    def __init__(
        self, time: np.ndarray, group: np.ndarray, n_groups: int, events: list[np.ndarray]
    ) -> None:
        n = time.size
        is_event = np.zeros(n, dtype=bool)
        for q in events:
            is_event |= q > 0
        self.times = np.unique(time[is_event])
        t_count = self.times.size
        # index of the last event time <= each row's time (-1: none); a row is at risk
        # at event time j exactly when j <= last
        last = np.searchsorted(self.times, time, side="right") - 1
        self._order = np.argsort(last, kind="stable")
        self._last = last[self._order]
        self._group = group[self._order].astype(np.int64)
        self._values = [np.asarray(q, dtype=float)[self._order] for q in events]
        self.n_groups = n_groups
        self._n_group = np.bincount(group, minlength=n_groups).astype(float)
        leaving = np.bincount(last + 1, minlength=t_count + 1)
        self.n_risk = (n - np.cumsum(leaving)[:t_count]).astype(float)
        ev_rows = self._last >= 0
        self.events = (
            np.column_stack(
                [
                    np.bincount(self._last[ev_rows], weights=v[ev_rows], minlength=t_count)
                    for v in self._values
                ]
            )
            if events
            else np.zeros((t_count, 0))
        )

    def blocks(self, size: int) -> Iterator[tuple[int, int, np.ndarray, list[np.ndarray]]]:
        """Yield ``(lo, hi, n_risk, events)`` for event times ``lo:hi``, ``size`` at a time.

        ``n_risk`` is (hi - lo, n_groups); ``events`` one such array per event quantity.
        """
        k = self.n_groups
        size = max(1, int(size))
        cut = np.searchsorted(self._last, np.arange(0, self.times.size + size, size))
        gone = np.bincount(self._group[: cut[0]], minlength=k).astype(float)
        for b, lo in enumerate(range(0, self.times.size, size)):
            hi = min(lo + size, self.times.size)
            rows = slice(cut[b], cut[b + 1])
            cell = (self._last[rows] - lo) * k + self._group[rows]
            m = (hi - lo) * k
            leaving = np.bincount(cell, minlength=m).reshape(hi - lo, k).astype(float)
            n_risk = self._n_group - gone - (np.cumsum(leaving, axis=0) - leaving)
            events = [
                np.bincount(cell, weights=v[rows], minlength=m).reshape(hi - lo, k)
                for v in self._values
            ]
            gone += leaving.sum(axis=0)
            yield lo, hi, n_risk, events


class CountedEventTimes:
    """:class:`EventTimes` of one stratum from per (group, distinct time) counts.

    The engine path's input to the k-sample tests: the same ``times``, ``n_risk``,
    ``events``, ``n_groups`` and :meth:`blocks` as :class:`EventTimes`, computed from the
    rows and event sums of each (group, time) cell instead of from the rows.

    Parameters
    ----------
    group, time : numpy.ndarray
        The (group, distinct time) cells, sorted by group then time.
    rows : numpy.ndarray
        Rows in each cell.
    events : list of numpy.ndarray
        Per cell, the sum of each event quantity.
    n_groups : int

    Examples
    --------
    >>> import numpy as np
    >>> et = CountedEventTimes(np.array([0, 0, 1, 1]), np.array([1.0, 2, 2, 3]),
    ...                        np.array([1.0, 1, 1, 1]), [np.array([1.0, 0, 1, 0])], 2)
    >>> et.times, et.n_risk
    (array([1., 2.]), array([4., 3.]))
    >>> [(lo, hi, n.tolist(), d[0].tolist()) for lo, hi, n, d in et.blocks(8)]
    [(0, 2, [[2.0, 2.0], [1.0, 2.0]], [[1.0, 0.0], [0.0, 1.0]])]
    """

    def __init__(
        self,
        group: np.ndarray,
        time: np.ndarray,
        rows: np.ndarray,
        events: list[np.ndarray],
        n_groups: int,
    ) -> None:
        is_event = np.zeros(time.size, dtype=bool)
        for q in events:
            is_event |= q > 0
        self.times = np.unique(time[is_event])
        self.n_groups = n_groups
        t_count = self.times.size
        self._risk = np.zeros((t_count, n_groups))
        self._events = [np.zeros((t_count, n_groups)) for _ in events]
        for g in range(n_groups):
            sel = group == g
            tg, ng = time[sel], rows[sel]
            if not tg.size or not t_count:
                continue
            after = np.concatenate([np.cumsum(ng[::-1])[::-1], [0.0]])
            self._risk[:, g] = after[np.searchsorted(tg, self.times, side="left")]
            pos = np.searchsorted(self.times, tg)
            hit = (pos < t_count) & (self.times[np.minimum(pos, t_count - 1)] == tg)
            for j, q in enumerate(events):
                self._events[j][pos[hit], g] = q[sel][hit]
        self.n_risk = self._risk.sum(axis=1)
        self.events = (
            np.column_stack([e.sum(axis=1) for e in self._events])
            if events
            else np.zeros((t_count, 0))
        )

    def blocks(self, size: int) -> Iterator[tuple[int, int, np.ndarray, list[np.ndarray]]]:
        """Yield ``(lo, hi, n_risk, events)`` for event times ``lo:hi`` (as EventTimes)."""
        size = max(1, int(size))
        for lo in range(0, self.times.size, size):
            hi = min(lo + size, self.times.size)
            yield lo, hi, self._risk[lo:hi], [e[lo:hi] for e in self._events]
