"""Gray's k-sample test for cumulative incidence curves (Gray 1988), as ``cmprsk::cuminc``.

No Python library implements it. For each group the score compares the group's
subdistribution hazard of the cause with the pooled one, weighted by ``(1 - F(t-))^rho``
(``rho = 0`` is cuminc's default); the variance is Gray's asymptotic estimator, which
accumulates, over the failure times, terms from the failures of the cause and from the
competing failures. Here the sums over failure times are done at once with numpy
(arrays of failure times x groups x groups) instead of a loop over times, so the cost is
one sort plus O(T k^2).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from calcstats._errors import DataError
from calcstats._result import TestResult
from calcstats.survival._input import check_cause, prepare, warn_no_events
from calcstats.survival._tabulate import time_codes

__all__ = ["gray_test"]


def _weighted_cross(m: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``sum_t sum_k w[t, k] m[t, i, k] m[t, j, k]`` as one matrix product."""
    k = m.shape[1]
    x = m.transpose(0, 2, 1).reshape(-1, k)
    return x.T @ (x * w.reshape(-1)[:, None])


def _gray_stratum(
    t: np.ndarray, m: np.ndarray, g: np.ndarray, k: int, rho: float
) -> tuple[np.ndarray, np.ndarray]:
    """Scores (k,) and their covariance (k, k) for one stratum.

    ``m`` is 0 (censored), 1 (cause of interest) or 2 (other cause).
    """
    utime, inv = time_codes(t)
    size = utime.size * k
    cells = inv * k + g
    count = np.bincount(cells, minlength=size).reshape(-1, k).astype(float)
    d1 = np.bincount(cells, weights=(m == 1), minlength=size).reshape(-1, k)
    d2 = np.bincount(cells, weights=(m == 2), minlength=size).reshape(-1, k)
    rs = np.cumsum(count[::-1], axis=0)[::-1]
    fail = (d1 + d2).sum(axis=1) > 0
    rs, d1, d2 = rs[fail], d1[fail], d2[fail]
    nd1 = d1.sum(axis=1)
    at_risk = rs > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(at_risk, (rs - d1 - d2) / rs, 1.0)
        skm = np.cumprod(factor, axis=0)  # right-continuous KM per group
        skmm = np.vstack([np.ones((1, k)), skm[:-1]])  # left-continuous
        inc = np.where(at_risk, skmm * d1 / rs, 0.0)
        f1 = np.cumsum(inc, axis=0)
        f1m = f1 - inc
        t1 = np.where(at_risk, rs / skmm, 0.0)
        tr = t1.sum(axis=1)
        tq = np.where(at_risk, rs * (1 - f1m) / skmm, 0.0).sum(axis=1)
        f = np.cumsum(nd1 / tr)
        fm = f - nd1 / tr
        fb = (1 - fm) ** rho
        # a_t = fb (diag(t1) - t1 t1' / tr)
        a = -(fb / tr)[:, None, None] * t1[:, :, None] * t1[:, None, :]
        idx = np.arange(k)
        a[:, idx, idx] += fb[:, None] * t1
        c = np.cumsum(a * (nd1 / (tr * (1 - fm)))[:, None, None], axis=0)
        score = (fb[:, None] * np.where(
            at_risk, d1 - nd1[:, None] * rs * (1 - f1m) / (skmm * tq[:, None]), 0.0
        )).sum(axis=0)
        # failures from the cause of interest
        has1 = (nd1 > 0)[:, None] & at_risk
        t4 = np.where(skm > 0, 1 - (1 - f)[:, None] / skm, 1.0)
        t5 = np.where(nd1[:, None] > 1, 1 - (nd1[:, None] - 1) / (tr[:, None] * skmm - 1), 1.0)
        t3 = np.where(has1, t5 * skmm * nd1[:, None] / (tr[:, None] * rs), 0.0)
        m1 = a - t4[:, None, :] * c  # (T, i, k)
        var = _weighted_cross(m1, t3)
        v2 = (m1 * (t4 * t3)[:, None, :]).sum(axis=0)
        v3 = (t4 * t4 * t3).sum(axis=0)
        # failures from the other causes
        has2 = (skm > 0) & (d2 > 0)
        t4b = np.where(has2, (1 - f)[:, None] / np.where(skm > 0, skm, 1.0), 0.0)
        t5b = np.where(d2 > 1, 1 - (d2 - 1) / (rs - 1), 1.0)
        t3b = np.where(has2, t5b * skmm**2 * d2 / rs**2, 0.0)
        m2 = t4b[:, None, :] * c
        var += _weighted_cross(m2, t3b)
        v2 -= (m2 * (t4b * t3b)[:, None, :]).sum(axis=0)
        v3 += (t4b * t4b * t3b).sum(axis=0)
    cf = c[-1]
    var += (cf * v3[None, :]) @ cf.T + cf @ v2.T + v2 @ cf.T
    return score, var


def gray_test(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    cause: int = 1,
    by: str | Sequence[str],
    strata: str | Sequence[str] | None = None,
    rho: float = 0.0,
) -> TestResult:
    """Gray's test that the cumulative incidence of a cause is equal across groups.

    Reproduces ``cmprsk::cuminc(time, status, group, strata, rho)$Tests``.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per subject.
    time : str
        Follow-up time column.
    event : str
        Integer codes: 0 = censored, 1..k = cause of the event.
    cause : int
        Cause whose cumulative incidence is compared; every other non-zero code is a
        competing event.
    by : str or list of str
        Group column(s).
    strata : str or list of str, optional
        Scores and variances are summed over strata (``cuminc(strata=)``).
    rho : float
        Power of the weight ``(1 - F(t-))^rho``; 0 (the default, as cuminc) weights
        every failure time equally.

    Returns
    -------
    TestResult
        ``statistic`` (chi-square on k - 1 df), ``df``, ``p_value`` for ``cause``;
        ``table`` holds the test for every cause in the data (``cause, statistic, df,
        p_value``), as cuminc prints it.

    Examples
    --------
    >>> import pandas as pd
    >>> import calcstats as cs
    >>> df = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    ...                    "status": [1, 2, 1, 0, 1, 1, 2, 0, 1, 2],
    ...                    "arm": ["a", "b"] * 5})
    >>> round(cs.gray_test(df, time="t", event="status", cause=1, by="arm").statistic, 4)
    2.2686
    """
    if by is None:
        raise DataError("gray_test needs by= (the column of the groups to compare).")
    sd = prepare(data, time=time, event=event, by=by, strata=strata)
    cause = check_cause(sd, cause)
    if not isinstance(rho, int | float) or rho < 0:
        raise DataError(f"rho must be a number >= 0, got {rho!r}.")
    k = sd.n_groups
    if k < 2:
        raise DataError(
            f"gray_test compares groups, but by={by!r} has a single level "
            f"({sd.groups.iloc[0].to_dict()}); give a column with two or more groups."
        )
    warn_no_events(sd, (sd.codes == cause).astype(float), f"gray_test, cause {cause}")
    rows = []
    fits = {}
    for c in np.unique(sd.codes[sd.codes > 0]):
        m = np.where(sd.codes == c, 1, np.where(sd.codes > 0, 2, 0))
        score = np.zeros(k)
        var = np.zeros((k, k))
        for s in range(sd.n_strata):
            sel = sd.stratum == s
            sc, v = _gray_stratum(sd.time[sel], m[sel], sd.group[sel], k, float(rho))
            score += sc
            var += v
        u, vv = score[:-1], var[:-1, :-1]
        stat = float(u @ np.linalg.pinv(vv) @ u)
        df = k - 1
        p = float(stats.chi2.sf(stat, df))
        rows.append({"cause": int(c), "statistic": stat, "df": float(df), "p_value": p})
        fits[int(c)] = (stat, df, p, score, var)
    stat, df, p, score, var = fits[cause]
    name = f"Gray's test (cause {cause}" + (f", rho = {rho:g}" if rho else "") + ")"
    if sd.n_strata > 1:
        name = "Stratified " + name
    return TestResult(
        stat, df, p, method=name, table=pd.DataFrame(rows),
        extra={"scores": pd.concat([sd.groups, pd.DataFrame({"score": score})], axis=1),
               "variance": var},
    )
