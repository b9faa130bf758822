"""Survival curves and k-sample tests of engine tables, from per-time counts.

Kaplan–Meier, Aalen–Johansen, the log-rank and Gray's test need, per stratum, group and
distinct time, the number of rows and the (weighted) counts of each event code. One
aggregate query computes them in the engine; the rest is the pandas path's own code on
those counts:

* ``kaplan_meier`` and ``cumulative_incidence`` build the pandas path's
  :class:`~calcstats.survival._tabulate.RiskTable` from the counts and finish with
  :func:`~calcstats.survival._km.km_result` / :func:`~calcstats.survival._cif.cif_result`;
* ``logrank`` and ``gray_test`` feed the pandas path's per-stratum sums
  (``_stratum_sums``, ``_gray_stratum``) a
  :class:`~calcstats.survival._tabulate.CountedEventTimes` and finish with
  :func:`~calcstats.survival._logrank.logrank_result` /
  :func:`~calcstats.survival._gray.gray_result`.

So the results are the pandas path's classes with its numbers (to rounding of sums taken
in another order). The public functions run these when their data is an
:class:`~calcstats.engine.EngineTable` (:mod:`calcstats.engine._dispatch`), after the same
option checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from calcstats._engine_input import EngineInput, engine_input
from calcstats._errors import DataError
from calcstats._survival_input import warn_group_events
from calcstats.engine import EngineTable
from calcstats.engine._aggregate import grouped
from calcstats.labels import Labels
from calcstats.results import (
    CumulativeIncidenceResult,
    GrayTestResult,
    KaplanMeierResult,
    LogrankResult,
)
from calcstats.survival import _gray, _logrank
from calcstats.survival._cif import cif_result
from calcstats.survival._km import km_result
from calcstats.survival._tabulate import CountedEventTimes, RiskTable

__all__ = ["cumulative_incidence", "gray_test", "kaplan_meier", "logrank"]

Sums = dict[str, Callable[[Any], Any]]


# ------------------------------------------------------------------------- counts
def _cells(ei: EngineInput, sums: Sums, keys: Sequence[str] = ("__g", "__t")) -> pd.DataFrame:
    """One row per (keys) cell, sorted by the keys, with ``__n`` (rows) and each of
    ``sums`` (one aggregate query)."""
    e = ei.expr
    metrics = {"__n": e.count().cast("float64")}
    metrics.update({k: f(e).cast("float64").sum() for k, f in sums.items()})
    return grouped(e, list(keys), metrics)


def _table(cells: pd.DataFrame, n_groups: int, columns: Sequence[str]) -> RiskTable:
    """The pandas path's tabulation from the cells (the first column gives the numbers at
    risk)."""
    return RiskTable.from_cells(
        cells["__g"].to_numpy(dtype=np.int64),
        cells["__t"].to_numpy(dtype=float),
        cells[list(columns)].to_numpy(dtype=float),
        n_groups,
    )


def _per_group(cells: pd.DataFrame, column: str, k: int) -> np.ndarray:
    return np.bincount(
        cells["__g"].to_numpy(dtype=np.int64),
        weights=cells[column].to_numpy(dtype=float),
        minlength=k,
    )


def _code(c: int) -> Callable[[Any], Any]:
    return lambda e: e["__code"] == c


def _weighted_code(c: int, power: int) -> Callable[[Any], Any]:
    if power == 1:
        return lambda e: (e["__code"] == c).cast("float64") * e["__w"]
    return lambda e: (e["__code"] == c).cast("float64") * (e["__w"] * e["__w"])


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
    labels: Labels | dict[str, str] | None = None,
) -> KaplanMeierResult:
    """:func:`calcstats.kaplan_meier` of an engine table (same arguments and result)."""
    labels = Labels.coerce(labels)
    ei = engine_input(
        data, time=time, event=event, cause=cause, by=by, weights=weights, function="kaplan_meier"
    )
    sums: Sums = {"__d": lambda e: e["__ev"]}
    if weights is not None:
        sums.update(
            __sw=lambda e: e["__w"],
            __swd=lambda e: e["__w"] * e["__ev"],
            __sw2=lambda e: e["__w"] * e["__w"],
            __sw2d=lambda e: e["__w"] * e["__w"] * e["__ev"],
            __frac=lambda e: (e["__w"] != e["__w"].floor()).cast("float64"),
        )
    cells = _cells(ei, sums)
    k = ei.n_groups
    warn_group_events(ei, _per_group(cells, "__d", k), "kaplan_meier")
    robust = weights is not None and bool(cells["__frac"].sum() > 0)
    if weights is None:
        rt = _table(cells, k, ["__n", "__d"])
    else:
        rt = _table(cells, k, ["__sw", "__swd", "__sw2", "__sw2d"] if robust else ["__sw", "__swd"])
    return km_result(
        ei,
        rt,
        robust=robust,
        rows=None if weights is None else _table(cells, k, ["__n", "__d"]),
        n=_per_group(cells, "__n", k),
        n_events=_per_group(cells, "__d" if weights is None else "__swd", k),
        conf_type=conf_type,
        conf_level=float(conf_level),
        labels=labels,
    )


def cumulative_incidence(
    data: EngineTable,
    *,
    time: str,
    event: str,
    cause: int = 1,
    by: str | Sequence[str] | None = None,
    weights: str | None = None,
    conf_type: str = "log-log",
    conf_level: float = 0.95,
    labels: Labels | dict[str, str] | None = None,
) -> CumulativeIncidenceResult:
    """:func:`calcstats.cumulative_incidence` of an engine table (same arguments and
    result)."""
    labels = Labels.coerce(labels)
    ei = engine_input(
        data,
        time=time,
        event=event,
        cause=cause,
        by=by,
        weights=weights,
        competing=True,
        function="cumulative_incidence",
    )
    assert ei.cause is not None  # cause= is an int here, checked by the input
    causes = np.array([c for c in ei.codes if c > 0])
    codes = [0, *(int(c) for c in causes)]
    sums: Sums = {f"__c{c}": _code(c) for c in codes}
    if weights is not None:
        sums.update(__w1=lambda e: e["__w"], __w2=lambda e: e["__w"] * e["__w"])
        sums.update({f"__w1_c{c}": _weighted_code(c, 1) for c in codes})
        sums.update({f"__w2_c{c}": _weighted_code(c, 2) for c in codes})
    cells = _cells(ei, sums)
    k = ei.n_groups
    own = f"__c{ei.cause}"
    warn_group_events(ei, _per_group(cells, own, k), f"cumulative_incidence, cause {ei.cause}")
    if weights is None:
        rt = _table(cells, k, ["__n", *(f"__c{c}" for c in codes)])
    else:
        rt = _table(
            cells,
            k,
            ["__w1", *(f"__w1_c{c}" for c in codes), "__w2", *(f"__w2_c{c}" for c in codes)],
        )
    return cif_result(
        ei,
        rt,
        causes=causes,
        rows=None if weights is None else _table(cells, k, ["__n", own, "__c0"]),
        n=_per_group(cells, "__n", k),
        n_events=_per_group(cells, own if weights is None else f"__w1_c{ei.cause}", k),
        conf_type=conf_type,
        conf_level=float(conf_level),
        labels=labels,
    )


# ------------------------------------------------------------------- k-sample tests
def _strata_cells(ei: EngineInput, sums: Sums) -> list[pd.DataFrame]:
    cells = _cells(ei, sums, keys=("__st", "__g", "__t"))
    st = cells["__st"].to_numpy(dtype=np.int64)
    return [cells.loc[st == s].reset_index(drop=True) for s in range(ei.n_strata)]


def _counted(cells: pd.DataFrame, events: list[np.ndarray], k: int) -> CountedEventTimes:
    return CountedEventTimes(
        cells["__g"].to_numpy(dtype=np.int64),
        cells["__t"].to_numpy(dtype=float),
        cells["__n"].to_numpy(dtype=float),
        events,
        k,
    )


def _numeric_by(ei: EngineInput) -> bool:
    """Whether ``by`` is one numeric column (its values are the default trend scores)."""
    if len(ei.by) != 1:
        return False
    dtype = ei.expr.schema()[ei.by[0]]
    kind = ei.table.kinds.get(ei.by[0])
    return bool(dtype.is_numeric() and not dtype.is_boolean() and not isinstance(kind, tuple))


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
    labels: Labels | dict[str, str] | None = None,
) -> LogrankResult:
    """:func:`calcstats.logrank` of an engine table (same arguments and result)."""
    labels = Labels.coerce(labels)
    _logrank.check_scores(scores, trend)
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
    warn_group_events(ei, events, "logrank")
    sums = (
        _logrank._stratum_sums(_counted(c, [c["__d"].to_numpy(dtype=float)], k), k, rho, gamma)
        for c in parts
    )
    return _logrank.logrank_result(
        ei,
        sums,
        n=sum((_per_group(c, "__n", k) for c in parts), np.zeros(k)),
        total=float(ei.n),
        rho=rho,
        gamma=gamma,
        trend=bool(trend),
        scores=scores,
        numeric_by=_numeric_by(ei),
        labels=labels,
    )


def gray_test(
    data: EngineTable,
    *,
    time: str,
    event: str,
    cause: int = 1,
    by: str | Sequence[str],
    strata: str | Sequence[str] | None = None,
    rho: float = 0.0,
    labels: Labels | dict[str, str] | None = None,
) -> GrayTestResult:
    """:func:`calcstats.gray_test` of an engine table (same arguments and result)."""
    labels = Labels.coerce(labels)
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
    assert ei.cause is not None  # cause= is an int here, checked by the input
    k = ei.n_groups
    if k < 2:
        raise DataError(
            f"gray_test compares groups, but by={by!r} has a single level "
            f"({ei.groups.iloc[0].to_dict()}); give a column with two or more groups."
        )
    causes = [c for c in ei.codes if c > 0]
    parts = _strata_cells(ei, {f"__c{c}": _code(c) for c in causes})
    own = sum((_per_group(c, f"__c{ei.cause}", k) for c in parts), np.zeros(k))
    warn_group_events(ei, own, f"gray_test, cause {ei.cause}")

    def sums(c: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for cells in parts:
            mine = cells[f"__c{c}"].to_numpy(dtype=float)
            other = sum(
                (cells[f"__c{o}"].to_numpy(dtype=float) for o in causes if o != c),
                np.zeros(len(cells)),
            )
            yield _gray._gray_stratum(_counted(cells, [mine, other], k), k, float(rho))

    return _gray.gray_result(ei, causes, sums, n=ei.n, rho=float(rho), labels=labels)
