"""k-sample log-rank tests: stratified, for trend, with Fleming–Harrington weights.

Numbers as R's ``survival::survdiff`` (which has no trend test and only the
``rho`` weight ``S(t-)^rho``); lifelines' ``multivariate_logrank_test`` has neither
strata nor a trend test, so the risk sets are tabulated here with numpy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from calcstats._errors import DataError
from calcstats._result import TestResult
from calcstats.survival._input import event_indicator, prepare, warn_no_events
from calcstats.survival._tabulate import time_codes

__all__ = ["logrank"]


def _weights_spec(weights: object) -> tuple[float, float]:
    if weights is None or weights == "logrank":
        return 0.0, 0.0
    if (
        isinstance(weights, tuple)
        and len(weights) == 3
        and weights[0] == "fh"
        and all(isinstance(x, int | float) and x >= 0 for x in weights[1:])
    ):
        return float(weights[1]), float(weights[2])
    raise DataError(
        f"weights must be None (log-rank) or ('fh', rho, gamma) with rho, gamma >= 0, got "
        f"{weights!r}; ('fh', 1, 0) is survdiff(rho = 1), the Peto–Peto test."
    )


def _stratum_sums(
    t: np.ndarray, d: np.ndarray, g: np.ndarray, k: int, rho: float, gamma: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted observed, expected and covariance of one stratum (survdiff's sums)."""
    utime, inv = time_codes(t)
    cells = inv * k + g
    size = utime.size * k
    count = np.bincount(cells, minlength=size).reshape(utime.size, k).astype(float)
    dead = np.bincount(cells, weights=d, minlength=size).reshape(utime.size, k)
    n_g = np.cumsum(count[::-1], axis=0)[::-1]
    n = n_g.sum(axis=1)
    dd = dead.sum(axis=1)
    surv = np.cumprod(1.0 - dd / n)
    s_prev = np.concatenate([[1.0], surv[:-1]])
    w = s_prev**rho * (1.0 - s_prev) ** gamma
    ev = dd > 0
    w, n, dd, n_g, dead = w[ev], n[ev], dd[ev], n_g[ev], dead[ev]
    observed = (w[:, None] * dead).sum(axis=0)
    expected = (w[:, None] * dd[:, None] * n_g / n[:, None]).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        kt = np.where(n > 1, w**2 * dd * (n - dd) / (n * (n - 1)), 0.0)
    frac = n_g / n[:, None]
    var = np.diag((kt[:, None] * n_g).sum(axis=0)) - (kt[:, None, None] * n_g[:, :, None]
                                                     * frac[:, None, :]).sum(axis=0)
    return observed, expected, var


def logrank(
    data: pd.DataFrame,
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
    """Log-rank test comparing the survival of k groups (R's ``survdiff``).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per subject.
    time, event : str
        Follow-up time and event columns (event 0/1, or codes with ``cause``).
    cause : int, optional
        Event code of interest; other codes count as censored.
    by : str or list of str
        Group column(s).
    strata : str or list of str, optional
        Stratification: observed minus expected and its variance are summed over
        strata, each with its own risk sets (``survdiff(... + strata(s))``).
    trend : bool
        Test for trend across ordered groups: ``(s'(O-E))^2 / s'Vs`` on 1 df.
    scores : sequence of float, optional
        Group scores for the trend test, in group order. Default: the values of ``by``
        when it is one numeric column, otherwise 1, 2, ..., k.
    weights : None or ("fh", rho, gamma)
        Fleming–Harrington weights ``S(t-)^rho (1 - S(t-))^gamma`` with ``S`` the pooled
        Kaplan–Meier within the stratum. None is the log-rank test; ``("fh", 1, 0)`` is
        ``survdiff(rho = 1)`` (Peto–Peto).

    Returns
    -------
    TestResult
        ``statistic`` (chi-square), ``df``, ``p_value``, ``tidy()``, and ``table``: per
        group ``n, observed, expected, o_minus_e, oe2_over_e, oe2_over_v`` (observed and
        expected are weighted sums when ``weights`` is set, as in ``survdiff``).

    Examples
    --------
    >>> import pandas as pd
    >>> import calcstats as cs
    >>> df = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6, 7, 8], "d": [1, 1, 0, 1, 1, 0, 1, 1],
    ...                    "arm": ["a", "b"] * 4})
    >>> round(cs.logrank(df, time="t", event="d", by="arm").statistic, 4)
    0.3651
    """
    if by is None:
        raise DataError("logrank needs by= (the column of the groups to compare).")
    rho, gamma = _weights_spec(weights)
    sd = prepare(data, time=time, event=event, by=by, strata=strata)
    d = event_indicator(sd, cause)
    k = sd.n_groups
    if k < 2:
        raise DataError(
            f"logrank compares groups, but by={by!r} has a single level "
            f"({sd.groups.iloc[0].to_dict()}); give a column with two or more groups."
        )
    if not np.any(d > 0):
        raise DataError(
            f"no events in column {event!r}: every observation is censored, so the "
            "log-rank test is undefined."
        )
    warn_no_events(sd, d, "logrank")
    observed = np.zeros(k)
    expected = np.zeros(k)
    var = np.zeros((k, k))
    for s in range(sd.n_strata):
        rows = sd.stratum == s
        o, e, v = _stratum_sums(sd.time[rows], d[rows], sd.group[rows], k, rho, gamma)
        observed += o
        expected += e
        var += v
    oe = observed - expected
    if trend:
        sc = _scores(sd, data, scores)
        u = float(sc @ oe)
        v = float(sc @ var @ sc)
        stat, df = u * u / v, 1
    else:
        keep = expected > 0
        if keep.sum() < 2:
            raise DataError(
                "fewer than two groups have any subject at risk at an event time (groups "
                f"with none: {sd.groups[~keep].to_dict('records')}); the groups' follow-up "
                "does not overlap, so there is nothing to compare."
            )
        oe_k = oe[keep][1:]
        stat = float(oe_k @ np.linalg.solve(var[np.ix_(keep, keep)][1:, 1:], oe_k))
        df = int(keep.sum()) - 1
    p = float(stats.chi2.sf(stat, df))
    table = sd.groups.copy()
    table["n"] = np.bincount(sd.group, minlength=k).astype(float)
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
    if sd.n_strata > 1:
        name = "stratified " + name
    name = name[0].upper() + name[1:]
    return TestResult(
        stat, df, p, method=name, table=table,
        extra={"variance": var, "rho": rho, "gamma": gamma, "n_strata": sd.n_strata,
               "scores": _scores(sd, data, scores) if trend else None},
    )


def _scores(sd, data: pd.DataFrame, scores: Sequence[float] | None) -> np.ndarray:
    k = sd.n_groups
    if scores is not None:
        sc = np.asarray(scores, dtype=float)
        if sc.shape != (k,) or not np.isfinite(sc).all():
            raise DataError(
                f"scores must give one finite number per group ({k} groups, in the order "
                f"{sd.groups.to_dict('records')}), got {scores!r}."
            )
        return sc
    if len(sd.by) == 1 and pd.api.types.is_numeric_dtype(data[sd.by[0]]) and not (
        pd.api.types.is_bool_dtype(data[sd.by[0]])
    ):
        return sd.groups[sd.by[0]].to_numpy(dtype=float)
    return np.arange(1, k + 1, dtype=float)
