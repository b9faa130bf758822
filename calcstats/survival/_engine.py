"""Survival curves and k-sample tests of engine tables, from per-time counts.

Kaplan–Meier, Aalen–Johansen, the log-rank and Gray's test need, per stratum, group and
distinct time, the number of rows and the (weighted) counts of each event code. One
aggregate query computes them in the engine; the rest is the pandas path's own
arithmetic on those counts:

* ``kaplan_meier`` and ``cumulative_incidence`` build the pandas path's
  :class:`~calcstats.survival._tabulate.RiskTable` from the counts and apply
  :func:`~calcstats.survival._km.km_arrays` / :func:`~calcstats.survival._cif.aalen_johansen`
  and :func:`~calcstats.survival._curves.confint`;
* ``logrank`` and ``gray_test`` run the pandas path's per-stratum sums
  (``_stratum_sums``, ``_gray_stratum``) on :class:`CountedEventTimes`, which answers
  like :class:`~calcstats.survival._tabulate.EventTimes` from the counts.

So the results equal the pandas path's (to rounding of sums of weights). Each public
estimator dispatches here when its data is an :class:`~calcstats.engine.EngineTable`.
"""

from __future__ import annotations

import types
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from calcstats._engine_input import EngineInput, engine_input
from calcstats._errors import CalcstatsWarning, DataError
from calcstats._result import TestResult, check_conf_level
from calcstats.engine import EngineTable
from calcstats.engine._aggregate import grouped
from calcstats.survival import _gray, _logrank
from calcstats.survival._cif import aalen_johansen
from calcstats.survival._curves import SurvivalCurve, check_conf_type, confint
from calcstats.survival._km import km_arrays
from calcstats.survival._tabulate import RiskTable

__all__ = [
    "CountedEventTimes",
    "cumulative_incidence",
    "gray_test",
    "kaplan_meier",
    "logrank",
    "risk_table",
]


# ------------------------------------------------------------------------- counts
def _cells(
    ei: EngineInput, sums: dict[str, Callable[[Any], Any]], keys: Sequence[str] = ("__g", "__t")
) -> pd.DataFrame:
    """One row per (keys) cell with ``__n`` (rows) and each of ``sums``."""
    e = ei.expr
    metrics = {"__n": e.count().cast("float64")}
    metrics.update({k: f(e).cast("float64").sum() for k, f in sums.items()})
    return grouped(e, list(keys), metrics)


def risk_table(cells: pd.DataFrame, n_groups: int, columns: Sequence[str]) -> RiskTable:
    """The pandas path's :func:`~calcstats.survival._tabulate.tabulate` result from the
    per (group, time) sums of ``columns`` (the first gives the numbers at risk)."""
    g = cells["__g"].to_numpy(dtype=np.int64)
    t = cells["__t"].to_numpy(dtype=float)
    sums = cells[list(columns)].to_numpy(dtype=float)
    bounds = np.searchsorted(g, np.arange(n_groups + 1))
    w = sums[:, 0]
    csum = np.cumsum(w)
    total_to_end = np.empty(n_groups)
    for i in range(n_groups):
        lo, hi = bounds[i], bounds[i + 1]
        total_to_end[i] = csum[hi - 1] if hi > lo else 0.0
    n_risk = total_to_end[g] - (csum - w)
    return RiskTable(group=g, time=t, sums=sums, n_risk=n_risk, bounds=bounds)


def _warn_no_events(ei: EngineInput, events: np.ndarray, what: str) -> None:
    """The pandas path's ``warn_no_events`` from per-group event counts."""
    if not np.any(events > 0):
        warnings.warn(
            f"no events in column {ei.event_column!r} ({what}): every observation is "
            "censored, so the curve stays at its starting value.",
            CalcstatsWarning,
            stacklevel=4,
        )
        return
    if ei.n_groups > 1:
        for gi in np.flatnonzero(events == 0):
            label = ", ".join(f"{k}={v!r}" for k, v in ei.groups.iloc[gi].items())
            warnings.warn(
                f"group {label} has no events in column {ei.event_column!r} ({what}).",
                CalcstatsWarning,
                stacklevel=4,
            )


def _per_group(cells: pd.DataFrame, column: str, k: int) -> np.ndarray:
    return np.bincount(
        cells["__g"].to_numpy(dtype=np.int64),
        weights=cells[column].to_numpy(dtype=float),
        minlength=k,
    )


# ------------------------------------------------------------------------ curves
def kaplan_meier(
    data: EngineTable,
    *,
    time: str,
    event: str,
    cause: int | None = None,
    by: str | Sequence[str] | None = None,
    weights: str | None = None,
    conf_type: str = "log-log",
    conf_level: float = 0.95,
) -> SurvivalCurve:
    """:func:`calcstats.kaplan_meier` of an engine table (same arguments and result)."""
    conf_level = check_conf_level(conf_level)
    conf_type = check_conf_type(conf_type)
    ei = engine_input(
        data, time=time, event=event, cause=cause, by=by, weights=weights, function="kaplan_meier"
    )
    sums = {"__d": lambda e: e["__ev"]}
    if weights is not None:
        sums = {
            "__sw": lambda e: e["__w"],
            "__swd": lambda e: e["__w"] * e["__ev"],
            "__sw2": lambda e: e["__w"] * e["__w"],
            "__sw2d": lambda e: e["__w"] * e["__w"] * e["__ev"],
            "__frac": lambda e: (e["__w"] != e["__w"].floor()).cast("float64"),
        }
    cells = _cells(ei, sums)
    k = ei.n_groups
    if weights is None:
        rt = risk_table(cells, k, ["__n", "__d"])
        robust = False
        n = _per_group(cells, "__n", k)
        n_events = _per_group(cells, "__d", k)
    else:
        robust = bool(cells["__frac"].sum() > 0)
        cols = ["__sw", "__swd", "__sw2", "__sw2d"] if robust else ["__sw", "__swd"]
        rt = risk_table(cells, k, cols)
        n = _per_group(cells, "__sw", k)
        n_events = _per_group(cells, "__swd", k)
    _warn_no_events(ei, _per_group(cells, "__d" if weights is None else "__swd", k), "kaplan_meier")
    n_all, n_ev = rt.sums[:, 0], rt.sums[:, 1]
    surv = np.empty(n_all.size)
    var_log = np.empty(n_all.size)
    se_surv = np.empty(n_all.size)
    for g in range(k):
        rows = rt.rows(g)
        if not robust:
            surv[rows], var_log[rows] = km_arrays(rt.n_risk[rows], n_ev[rows])
            continue
        n2, d2 = rt.sums[rows, 2], rt.sums[rows, 3]
        risk2 = np.cumsum(n2[::-1])[::-1]
        nr, ne = rt.n_risk[rows], n_ev[rows]
        probs, var = aalen_johansen(
            nr, ne[:, None], n_all[rows] - ne, squared=(risk2, d2[:, None], n2 - d2)
        )
        surv[rows], se_surv[rows] = probs[:, 0], np.sqrt(var[:, 0])
    if robust:
        low, high = confint(surv, se_surv, logse=False, conf_type=conf_type, conf_level=conf_level)
        method = "Kaplan–Meier, robust (infinitesimal-jackknife) standard errors"
    else:
        se_log = np.sqrt(var_log)
        with np.errstate(invalid="ignore"):
            se_surv = np.where(np.isinf(se_log), np.nan, surv * se_log)
        low, high = confint(surv, se_log, logse=True, conf_type=conf_type, conf_level=conf_level)
        method = "Kaplan–Meier, Greenwood standard errors"
    curve = pd.DataFrame(
        {
            "_group": rt.group,
            "time": rt.time,
            "n_risk": rt.n_risk,
            "n_event": n_ev,
            "n_censor": n_all - n_ev,
            "estimate": surv,
            "std_error": se_surv,
            "conf_low": low,
            "conf_high": high,
        }
    )
    return SurvivalCurve(
        curve,
        groups=ei.groups,
        by=ei.by,
        kind="km",
        cause=cause,
        conf_type=conf_type,
        conf_level=conf_level,
        n=n,
        n_events=n_events,
        time_column=ei.time_column,
        event_column=ei.event_column,
        method=method,
    )


def cumulative_incidence(
    data: EngineTable,
    *,
    time: str,
    event: str,
    cause: int = 1,
    by: str | Sequence[str] | None = None,
    conf_type: str = "log-log",
    conf_level: float = 0.95,
) -> SurvivalCurve:
    """:func:`calcstats.cumulative_incidence` of an engine table (same arguments and
    result)."""
    conf_level = check_conf_level(conf_level)
    conf_type = check_conf_type(conf_type)
    ei = engine_input(
        data,
        time=time,
        event=event,
        cause=cause,
        by=by,
        competing=True,
        function="cumulative_incidence",
    )
    causes = np.array([c for c in ei.codes if c > 0])
    sums = {"__c0": lambda e: e["__code"] == 0}
    sums.update({f"__c{c}": (lambda e, c=int(c): e["__code"] == c) for c in causes})
    cells = _cells(ei, sums)
    k = ei.n_groups
    _warn_no_events(ei, _per_group(cells, f"__c{cause}", k), f"cumulative_incidence, cause {cause}")
    rt = risk_table(cells, k, ["__n", "__c0", *[f"__c{c}" for c in causes]])
    n_censor = rt.sums[:, 1]
    n_cause = rt.sums[:, 2:]
    probs = np.empty((rt.time.size, causes.size + 1))
    var = np.empty_like(probs)
    for g in range(k):
        rows = rt.rows(g)
        probs[rows], var[rows] = aalen_johansen(rt.n_risk[rows], n_cause[rows], n_censor[rows])
    se = np.sqrt(var)
    col = int(np.flatnonzero(causes == cause)[0]) + 1
    est = probs[:, col]
    low, high = confint(est, se[:, col], logse=False, conf_type=conf_type, conf_level=conf_level)
    curve = pd.DataFrame(
        {
            "_group": rt.group,
            "time": rt.time,
            "n_risk": rt.n_risk,
            "n_event": n_cause[:, col - 1],
            "n_censor": n_censor,
            "estimate": est,
            "std_error": se[:, col],
            "conf_low": low,
            "conf_high": high,
        }
    )
    names = ["event_free"] + [f"cause_{c}" for c in causes]
    states = pd.DataFrame(
        {
            "_group": np.repeat(rt.group, len(names)),
            "time": np.repeat(rt.time, len(names)),
            "state": pd.Categorical.from_codes(
                np.tile(np.arange(len(names)), rt.time.size), categories=names
            ),
            "estimate": probs.reshape(-1),
            "std_error": se.reshape(-1),
        }
    )
    return SurvivalCurve(
        curve,
        groups=ei.groups,
        by=ei.by,
        kind="cif",
        cause=cause,
        conf_type=conf_type,
        conf_level=conf_level,
        n=_per_group(cells, "__n", k),
        n_events=_per_group(cells, f"__c{cause}", k),
        time_column=ei.time_column,
        event_column=ei.event_column,
        states=states,
        method="Aalen–Johansen, infinitesimal-jackknife standard errors",
    )


# ------------------------------------------------------------------ event times
class CountedEventTimes:
    """:class:`~calcstats.survival._tabulate.EventTimes` of one stratum, from counts.

    Parameters
    ----------
    group, time : numpy.ndarray
        The (group, distinct time) cells, sorted by group then time.
    rows : numpy.ndarray
        Rows in each cell.
    events : list of numpy.ndarray
        Per cell, the sum of each event quantity.
    n_groups : int
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
        k = n_groups
        self._risk = np.zeros((t_count, k))
        self._events = [np.zeros((t_count, k)) for _ in events]
        for g in range(k):
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


def _on_counts(func: Callable[..., Any], et: CountedEventTimes) -> Callable[..., Any]:
    """``func`` (a pandas-path per-stratum sum whose first step is ``et = EventTimes(...)``)
    running on ``et`` instead: the same code, fed the engine's counts.

    The function object is rebuilt with ``EventTimes`` bound to ``et`` in its globals; the
    module it comes from is not changed. (With an ``et=`` argument on the pandas
    functions, see the engine documentation, this bridge goes away.)
    """
    glb = dict(func.__globals__)
    glb["EventTimes"] = lambda *args, **kwargs: et
    return types.FunctionType(
        func.__code__, glb, func.__name__, func.__defaults__, func.__closure__
    )


#: the per-row arguments of the pandas functions, unused once ``EventTimes`` is bound
_NO_ROWS = np.zeros(0)


def _strata_cells(ei: EngineInput, sums: dict[str, Callable[[Any], Any]]) -> list[pd.DataFrame]:
    cells = _cells(ei, sums, keys=("__st", "__g", "__t"))
    st = cells["__st"].to_numpy(dtype=np.int64)
    return [cells.loc[st == s].reset_index(drop=True) for s in range(ei.n_strata)]


def _counted(cells: pd.DataFrame, columns: Sequence[str], k: int) -> CountedEventTimes:
    return CountedEventTimes(
        cells["__g"].to_numpy(dtype=np.int64),
        cells["__t"].to_numpy(dtype=float),
        cells["__n"].to_numpy(dtype=float),
        [cells[c].to_numpy(dtype=float) for c in columns],
        k,
    )


def logrank(
    data: EngineTable,
    *,
    time: str,
    event: str,
    cause: int | None = None,
    by: str | Sequence[str],
    strata: str | Sequence[str] | None = None,
    trend: bool = False,
    scores: Sequence[float] | None = None,
    weights: tuple[str, float, float] | None = None,
) -> TestResult:
    """:func:`calcstats.logrank` of an engine table (same arguments and result)."""
    if by is None:
        raise DataError("logrank needs by= (the column of the groups to compare).")
    rho, gamma = _logrank._weights_spec(weights)
    ei = engine_input(
        data, time=time, event=event, cause=cause, by=by, strata=strata, function="logrank"
    )
    k = ei.n_groups
    if k < 2:
        raise DataError(
            f"logrank compares groups, but by={by!r} has a single level "
            f"({ei.groups.iloc[0].to_dict()}); give a column with two or more groups."
        )
    parts = _strata_cells(ei, {"__d": lambda e: e["__ev"]})
    events = sum((_per_group(c, "__d", k) for c in parts), np.zeros(k))
    if not np.any(events > 0):
        raise DataError(
            f"no events in column {event!r}: every observation is censored, so the "
            "log-rank test is undefined."
        )
    _warn_no_events(ei, events, "logrank")
    observed, expected, var = np.zeros(k), np.zeros(k), np.zeros((k, k))
    for cells in parts:
        et = _counted(cells, ["__d"], k)
        o, e, v = _on_counts(_logrank._stratum_sums, et)(
            _NO_ROWS, _NO_ROWS, _NO_ROWS, k, rho, gamma
        )
        observed += o
        expected += e
        var += v
    oe = observed - expected
    frame = _ScoresFrame(ei)
    stat, df, note = _logrank._statistic(
        frame, frame.data, oe, expected, var, trend=trend, scores=scores
    )
    p = float(stats.chi2.sf(stat, df))
    table = ei.groups.copy()
    table["n"] = sum((_per_group(c, "__n", k) for c in parts), np.zeros(k))
    table["observed"] = observed
    table["expected"] = expected
    table["o_minus_e"] = oe
    with np.errstate(divide="ignore", invalid="ignore"):
        table["oe2_over_e"] = oe**2 / expected
        table["oe2_over_v"] = oe**2 / np.diag(var)
    name = "log-rank test"
    if (rho, gamma) != (0.0, 0.0):
        name = f"Fleming–Harrington (rho = {rho:g}, gamma = {gamma:g}) test"
    if trend:
        name += " for trend"
    if ei.n_strata > 1:
        name = "stratified " + name
    if note:
        name += f" ({note})"
    name = name[0].upper() + name[1:]
    return TestResult(
        stat,
        df,
        p,
        method=name,
        table=table,
        extra={
            "variance": var,
            "rho": rho,
            "gamma": gamma,
            "n_strata": ei.n_strata,
            "scores": _logrank._scores(frame, frame.data, scores) if trend else None,
        },
    )


class _ScoresFrame:
    """What ``_logrank._statistic`` and ``_scores`` read of the input: ``n_groups``,
    ``by``, ``groups`` and the dtype of the ``by`` column (an empty frame of that dtype)."""

    def __init__(self, ei: EngineInput) -> None:
        self.n_groups = ei.n_groups
        self.by = ei.by
        self.groups = ei.groups
        self.data = ei.groups.iloc[:0].copy()


def gray_test(
    data: EngineTable,
    *,
    time: str,
    event: str,
    cause: int = 1,
    by: str | Sequence[str],
    strata: str | Sequence[str] | None = None,
    rho: float = 0.0,
) -> TestResult:
    """:func:`calcstats.gray_test` of an engine table (same arguments and result)."""
    if by is None:
        raise DataError("gray_test needs by= (the column of the groups to compare).")
    ei = engine_input(
        data,
        time=time,
        event=event,
        cause=cause,
        by=by,
        strata=strata,
        competing=True,
        function="gray_test",
    )
    if not isinstance(rho, int | float) or rho < 0:
        raise DataError(f"rho must be a number >= 0, got {rho!r}.")
    k = ei.n_groups
    if k < 2:
        raise DataError(
            f"gray_test compares groups, but by={by!r} has a single level "
            f"({ei.groups.iloc[0].to_dict()}); give a column with two or more groups."
        )
    causes = [c for c in ei.codes if c > 0]
    sums = {f"__c{c}": (lambda e, c=c: e["__code"] == c) for c in causes}
    parts = _strata_cells(ei, sums)
    _warn_no_events(
        ei,
        sum((_per_group(c, f"__c{cause}", k) for c in parts), np.zeros(k)),
        f"gray_test, cause {cause}",
    )
    holder = _GrayInput(ei)
    rows, fits = [], {}
    for c in causes:
        score, var = np.zeros(k), np.zeros((k, k))
        for cells in parts:
            own = cells[f"__c{c}"].to_numpy(dtype=float)
            other = sum(
                (cells[f"__c{o}"].to_numpy(dtype=float) for o in causes if o != c),
                np.zeros(len(cells)),
            )
            et = CountedEventTimes(
                cells["__g"].to_numpy(dtype=np.int64),
                cells["__t"].to_numpy(dtype=float),
                cells["__n"].to_numpy(dtype=float),
                [own, other],
                k,
            )
            sc, v = _on_counts(_gray._gray_stratum, et)(_NO_ROWS, _NO_ROWS, _NO_ROWS, k, float(rho))
            score += sc
            var += v
        stat, df, indefinite = _logrank.chi_square(score[:-1], var[:-1, :-1])
        if indefinite:
            _gray._warn_indefinite(holder, var, int(c))
        if df == 0:
            stat = p = np.nan
        else:
            p = float(stats.chi2.sf(stat, df))
        if 0 < df < k - 1:
            _gray._warn_rank(holder, var, int(c), df)
        rows.append({"cause": int(c), "statistic": stat, "df": float(df), "p_value": p})
        fits[int(c)] = (stat, df, p, score, var)
    stat, df, p, score, var = fits[cause]
    if df == 0:
        raise DataError(
            f"Gray's test for cause {cause} is undefined: the variance of the scores is "
            "zero. No failure time has subjects of two or more groups at risk with at "
            "least one of them surviving it (e.g. at each failure time everyone at risk "
            "failed), so the data hold no information to compare the groups; "
            "cmprsk::cuminc reports stat = -1 here. Check the time and event columns."
        )
    name = f"Gray's test (cause {cause}" + (f", rho = {rho:g}" if rho else "")
    if df < k - 1:
        name += f"; variance of rank {df} < {k} groups - 1: generalised inverse, {df} df"
    name += ")"
    if ei.n_strata > 1:
        name = "Stratified " + name
    return TestResult(
        stat,
        df,
        p,
        method=name,
        table=pd.DataFrame(rows),
        extra={
            "scores": pd.concat([ei.groups, pd.DataFrame({"score": score})], axis=1),
            "variance": var,
        },
    )


class _GrayInput:
    """What ``_gray``'s warnings read of the input: ``groups``, ``n_groups``, ``time``."""

    def __init__(self, ei: EngineInput) -> None:
        self.groups = ei.groups
        self.n_groups = ei.n_groups
        self.time = range(ei.n)  # only its length is read
