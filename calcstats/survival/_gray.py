"""Gray's k-sample test for cumulative incidence curves (Gray 1988), as ``cmprsk::cuminc``.

No Python library implements it. For each group the score compares the group's
subdistribution hazard of the cause with the pooled one, weighted by ``(1 - F(t-))^rho``
(``rho = 0`` is cuminc's default); the variance is Gray's asymptotic estimator, which
accumulates, over the failure times, terms from the failures of the cause and from the
competing failures. cmprsk's Fortran loops over times with k x k x k work per time; here
the sums over failure times are matrix products over blocks of failure times, and with
many groups the per-time k x k matrices are never formed: memory is of the order of the
rows plus k^2, and time ``T k^2`` for T failure times and k groups.

A singular variance (e.g. a group with nobody at risk at any failure time) gets a
generalised inverse with the degrees of freedom reduced to its rank, where cuminc prints
``stat = -1``; a variance of rank 0 is an error.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from calcstats._errors import DataError, DataWarning
from calcstats._memory import check_memory, memory_guard
from calcstats._survival_input import (
    OutcomeSummary,
    survival_input,
    user_stacklevel,
    warn_no_events,
)
from calcstats._validation import COLUMN, COLUMNS, NONE, Interval, validate_params
from calcstats.labels import Labels
from calcstats.results import GrayTestResult
from calcstats.survival._logrank import (
    _MEMORY_ADVICE,
    _strata_rows,
    chi_square,
    too_many_groups,
)
from calcstats.survival._tabulate import CountedEventTimes, EventTimes

__all__ = ["gray_result", "gray_test"]


def _suffix(x: np.ndarray) -> np.ndarray:
    """Inclusive sums from each row to the last row of the block."""
    return np.cumsum(x[::-1], axis=0)[::-1]


class _RunningOuter:
    """``C_t = C_0 + sum_{s <= t} gamma_s u_s u_s'`` over one block of times at a time.

    The variance needs, over the times of a block, ``sum_t diag(q_t) C_t``, the vectors
    ``C_t y_t`` and ``sum_t C_t diag(w_t) C_t``. With few groups the block's ``C_t`` are
    stored (times x k x k, the plain sums); with many, only ``C_0`` (k x k) and the
    block's rows are kept and the sums are matrix products of (times x k) and
    (times x times) arrays, so time grows as ``T k^2`` rather than ``T k^3``.
    """

    def __init__(self, k: int, dense: bool) -> None:
        self.c0 = np.zeros((k, k))
        self.dense = dense

    def start(self, u: np.ndarray, gamma: np.ndarray) -> None:
        self.u = u
        self.gu = u * gamma[:, None]
        if self.dense:
            self.ct = self.c0 + np.cumsum(self.gu[:, :, None] * u[:, None, :], axis=0)

    def diag_sum(self, q: np.ndarray) -> np.ndarray:
        """``sum_t diag(q_t) C_t``."""
        if self.dense:
            return (q[:, :, None] * self.ct).sum(axis=0)
        return q.sum(axis=0)[:, None] * self.c0 + (self.gu * _suffix(q)).T @ self.u

    def apply(self, y: np.ndarray) -> np.ndarray:
        """Rows ``C_t y_t``."""
        if self.dense:
            return np.einsum("tij,tj->ti", self.ct, y)
        return y @ self.c0 + np.tril(y @ self.u.T) @ self.gu

    def sandwich(self, w: np.ndarray) -> np.ndarray:
        """``sum_t C_t diag(w_t) C_t``."""
        k = self.c0.shape[0]
        if self.dense:
            x = self.ct.transpose(0, 2, 1).reshape(-1, k)
            return x.T @ (x * w.reshape(-1)[:, None])
        ws = _suffix(w)
        e = (self.gu * ws).T @ self.u
        m = self.u @ (self.u * ws).T  # m[s, r] = sum_k u_s u_r ws_r, used for s <= r
        n = np.triu(m) + np.triu(m, 1).T
        return (
            (self.c0 * w.sum(axis=0)) @ self.c0
            + self.c0 @ e
            + e.T @ self.c0
            + (self.gu.T @ n @ self.gu)
        )

    def finish(self) -> None:
        self.c0 += self.gu.T @ self.u


_DENSE_GROUPS = 12  # up to this many groups the block's C_t are stored (k^3 per time is cheap)


def _block_size(k: int, dense: bool) -> int:
    """Failure times per block: ~4 MB per (times x k x k) array, or about k (the cost per
    failure time, ~ block x k + k^2 + k^3 / block, is least for a block of about k)."""
    return max(16, 500_000 // (k * k)) if dense else max(128, min(512, k))


def _gray_stratum(
    et: EventTimes | CountedEventTimes, k: int, rho: float
) -> tuple[np.ndarray, np.ndarray]:
    """Scores (k,) and their covariance (k, k) for one stratum (cmprsk's ``crst``).

    ``et`` holds two event quantities: failures from the cause of interest and from the
    other causes (tabulated from the rows, or from an engine's per-time counts). Per
    failure time the
    Fortran accumulates, with ``a_t = fb (diag(u) - u u' / tr)`` (``u`` the groups'
    ``n_risk / S(t-)``) and ``c_t = sum_{s <= t} h_s a_s``,

    ``V = sum_t [a W1 a - a W2 c - c W2 a + c W3 c]``, ``v2 = sum_t [a W2 - c W3]``,
    ``v3 = sum_t w3`` and finally ``V += c v3 c + c v2' + v2 c``,

    with diagonal weights ``W`` from the cause-of-interest (``t3, t4``) and competing
    (``t3b, t4b``) failures. Writing ``c_t = diag(D_t) - C_t`` with ``C_t`` a running sum
    of outer products, every term is a product of (times x groups) arrays or one of
    :class:`_RunningOuter`'s sums, over blocks of failure times.
    """
    dense = k <= _DENSE_GROUPS
    run = _RunningOuter(k, dense)
    skmm0, f1_0, d0 = np.ones(k), np.zeros(k), np.zeros(k)
    f0 = 0.0
    score = np.zeros(k)
    var = np.zeros((k, k))
    v2 = np.zeros((k, k))
    v3 = np.zeros(k)
    for lo, _, rs, (d1, d2) in et.blocks(_block_size(k, dense)):
        nd1 = d1.sum(axis=1)
        at_risk = rs > 0
        compared = (at_risk.sum(axis=1) > 1) & (nd1 > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(at_risk, (rs - d1 - d2) / rs, 1.0)
            skm = skmm0 * np.cumprod(factor, axis=0)  # right-continuous KM per group
            skmm = np.vstack([skmm0, skm[:-1]])  # left-continuous
            inc = np.where(at_risk, skmm * d1 / rs, 0.0)
            f1 = f1_0 + np.cumsum(inc, axis=0)
            f1m = f1 - inc
            u = np.where(at_risk, rs / skmm, 0.0)
            tr = u.sum(axis=1)
            tq = np.where(at_risk, rs * (1 - f1m) / skmm, 0.0).sum(axis=1)
            f = f0 + np.cumsum(nd1 / tr)
            fm = f - nd1 / tr
            fb = (1 - fm) ** rho
            # a_t = 0 where a single group is at risk, so its term in c_t is 0; cmprsk
            # computes 0 * h there, which is 0/0 once the pooled F has reached 1 (NaN in
            # the variance, or an error, depending on the order of the groups)
            h = np.where(compared, nd1 / (tr * (1 - fm)), 0.0)
            alpha = fb / tr
            score += (
                fb[:, None]
                * np.where(at_risk, d1 - nd1[:, None] * rs * (1 - f1m) / (skmm * tq[:, None]), 0.0)
            ).sum(axis=0)
            # failures from the cause of interest (t3, t4) and from the others (t3b, t4b)
            has1 = (nd1 > 0)[:, None] & at_risk
            t4 = np.where(skm > 0, 1 - (1 - f)[:, None] / skm, 1.0)
            t5 = np.where(nd1[:, None] > 1, 1 - (nd1[:, None] - 1) / (tr[:, None] * skmm - 1), 1.0)
            t3 = np.where(has1, t5 * skmm * nd1[:, None] / (tr[:, None] * rs), 0.0)
            has2 = (skm > 0) & (d2 > 0)
            t4b = np.where(has2, (1 - f)[:, None] / np.where(skm > 0, skm, 1.0), 0.0)
            t5b = np.where(d2 > 1, 1 - (d2 - 1) / (rs - 1), 1.0)
            t3b = np.where(has2, t5b * skmm**2 * d2 / rs**2, 0.0)
        if np.any(compared & ~(fm < 1)):
            at = et.times[lo + int(np.flatnonzero(compared & ~(fm < 1))[0])]
            raise DataError(
                f"Gray's test is undefined: at time {at:g} two or more groups are still at "
                "risk, but the pooled cumulative incidence of the cause has already reached "
                "1, so the pooled subdistribution hazard is undefined."
            )
        w1, w2, w3 = t3, t3 * t4, t4 * t4 * t3 + t4b * t4b * t3b
        dt = d0 + np.cumsum((h * fb)[:, None] * u, axis=0)  # diagonal part of c_t
        run.start(u, h * alpha)
        au = u * alpha[:, None]
        uw2 = u * w2
        # sum_t a W1 a
        x = au * (fb[:, None] * u * w1)
        var += np.diag((fb[:, None] ** 2 * u * u * w1).sum(axis=0)) - x.T @ u - u.T @ x
        var += (au * (alpha * (u * u * w1).sum(axis=1))[:, None]).T @ u
        # sum_t a W2 c (added with its transpose)
        b = np.diag((fb[:, None] * uw2 * dt).sum(axis=0)) - au.T @ (uw2 * dt)
        b += au.T @ run.apply(uw2) - run.diag_sum(fb[:, None] * uw2)
        var -= b + b.T
        # sum_t c W3 c
        g = run.diag_sum(dt * w3)
        var += np.diag((dt * dt * w3).sum(axis=0)) - g - g.T + run.sandwich(w3)
        # v2 = sum_t a W2 - c W3, v3 = sum_t w3
        v2 += np.diag((fb[:, None] * uw2).sum(axis=0)) - au.T @ uw2
        v2 += run.diag_sum(w3).T - np.diag((dt * w3).sum(axis=0))
        v3 += w3.sum(axis=0)
        run.finish()
        skmm0, f1_0, d0, f0 = skm[-1], f1[-1], dt[-1], float(f[-1])
    cf = np.diag(d0) - run.c0
    var += (cf * v3[None, :]) @ cf.T + cf @ v2.T + v2 @ cf.T
    return score, var


def _warn_indefinite(groups: pd.DataFrame, n: int, var: np.ndarray, cause: int) -> None:
    neg = np.flatnonzero(np.diag(var) < 0)
    which = "; ".join(
        ", ".join(f"{col}={val!r}" for col, val in groups.iloc[i].items()) + f": {var[i, i]:.3g}"
        for i in neg
    )
    warnings.warn(
        f"gray_test, cause {cause}: the estimated variance matrix of the scores is not "
        "positive semi-definite"
        + (f" (negative variances, {which})" if len(neg) else "")
        + f", which happens when the sample is very small ({n} rows). The "
        "statistic is computed as cmprsk::cuminc computes it, but Gray's asymptotic "
        "variance is unreliable here: do not trust the p-value.",
        DataWarning,
        stacklevel=user_stacklevel(),
    )


def _warn_rank(groups: pd.DataFrame, var: np.ndarray, cause: int, rank: int) -> None:
    k = len(groups)
    empty = np.flatnonzero(np.diag(var) <= 0)
    labels = ", ".join(
        ", ".join(f"{col}={val!r}" for col, val in groups.iloc[i].items()) for i in empty
    )
    why = (
        f"groups with no variance (nobody at risk at a failure time, or only where "
        f"everyone at risk failed): {labels}"
        if len(empty)
        else "the groups' information overlaps, e.g. groups at risk only at failure times "
        "where everyone at risk failed"
    )
    warnings.warn(
        f"gray_test, cause {cause}: the variance matrix of the scores has rank {rank}, less "
        f"than the {k} groups minus one ({why}). The test uses a generalised inverse on "
        f"{rank} degrees of freedom; cmprsk::cuminc reports stat = -1 here.",
        DataWarning,
        stacklevel=user_stacklevel(),
    )


@validate_params(
    {
        "time": [COLUMN],
        "event": [COLUMN],
        "cause": [Interval(1, None, integer=True)],
        "by": [COLUMNS],
        "strata": [COLUMNS, NONE],
        "rho": [Interval(0, None)],
    },
    engine="calcstats.survival._engine:gray_test",
)
def gray_test(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    cause: int = 1,
    by: str | Sequence[str],
    strata: str | Sequence[str] | None = None,
    rho: float = 0.0,
    labels: Labels | dict[str, str] | None = None,
) -> GrayTestResult:
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
    labels : Labels or dict, optional
        Display labels the result keeps for its tables and plots.

    Returns
    -------
    GrayTestResult
        ``statistic`` (chi-square on k - 1 df), ``df``, ``p_value`` for ``cause``;
        ``tidy(details=True)`` holds the test for every cause in the data (``cause,
        statistic, df, p_value``), as cuminc prints it; a cause that cannot be tested
        (variance of rank 0, where cuminc prints ``stat = -1``) has ``df`` 0 and NaN
        statistic and p-value. ``scores`` (per group) and ``variance`` are those of
        ``cause``.

    Raises
    ------
    DataError
        When the variance of the scores for ``cause`` is zero: no failure time compares
        two groups with someone surviving it, so there is nothing to test.

    Warns
    -----
    DataWarning
        When the variance matrix is singular but not zero (e.g. a group with nobody at
        risk at any failure time): a generalised inverse is used and ``df`` is its rank.

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
    labels = Labels.coerce(labels)
    with memory_guard("gray_test", _MEMORY_ADVICE):
        sd = survival_input(
            data,
            time=time,
            event=event,
            cause=cause,
            by=by,
            strata=strata,
            competing=True,
            function="gray_test",
        )
        assert sd.cause is not None  # cause= is an int here (default 1), checked by the input
        cause = int(sd.cause)
        k = sd.n_groups
        if k < 2:
            raise DataError(
                f"gray_test compares groups, but by={by!r} has a single level "
                f"({sd.groups.iloc[0].to_dict()}); give a column with two or more groups."
            )
        warn_no_events(sd, sd.event, f"gray_test, cause {cause}")
        dense = k <= _DENSE_GROUPS
        block = _block_size(k, dense)
        check_memory(
            8.0
            * (
                16 * k * k
                + 12 * sd.time.size
                + 40 * block * k
                + (4 * block * k * k if dense else 3 * block * block)
            ),
            what=f"gray_test with {k:,} groups",
            advice=too_many_groups(by, k),
        )
        strata_rows = _strata_rows(sd.stratum, sd.n_strata)

        def sums(c: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
            m = np.where(sd.codes == c, 1, np.where(sd.codes > 0, 2, 0))
            for sel in strata_rows:
                quantities = [(m[sel] == 1).astype(float), (m[sel] == 2).astype(float)]
                et = EventTimes(sd.time[sel], sd.group[sel], k, quantities)
                yield _gray_stratum(et, k, float(rho))

        causes = [int(c) for c in np.unique(sd.codes[sd.codes > 0])]
        return gray_result(sd, causes, sums, n=sd.n, rho=float(rho), labels=labels)


def gray_result(
    si: OutcomeSummary,
    causes: Sequence[int],
    sums: Callable[[int], Iterable[tuple[np.ndarray, np.ndarray]]],
    *,
    n: int,
    rho: float,
    labels: Labels,
) -> GrayTestResult:
    """Gray's test of every cause from each stratum's :func:`_gray_stratum` (``sums(c)``
    yields them for cause ``c``), as the pandas and the engine path compute them; ``n`` is
    the rows analysed."""
    assert si.cause is not None  # checked by the input
    cause = int(si.cause)
    k = si.n_groups
    rows = []
    fits = {}
    for c in causes:
        score = np.zeros(k)
        var = np.zeros((k, k))
        for sc, v in sums(c):
            score += sc
            var += v
        # cuminc's statistic: the scores of the first k - 1 groups
        # rounding error of sums of O(n) terms of size <= 1 stays far below 1e-12 n
        stat, df, indefinite = chi_square(score[:-1], var[:-1, :-1], zero=1e-12 * max(1.0, n))
        if indefinite:
            _warn_indefinite(si.groups, n, var, c)
        if df == 0:
            stat = p = np.nan
        else:
            p = float(stats.chi2.sf(stat, df))
        if 0 < df < k - 1:
            _warn_rank(si.groups, var, c, df)
        rows.append({"cause": c, "statistic": stat, "df": float(df), "p_value": p})
        fits[c] = (stat, df, p, score, var)
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
    if si.n_strata > 1:
        name = "Stratified " + name
    return GrayTestResult(
        stat,
        df,
        p,
        method=name,
        cause=cause,
        details=pd.DataFrame(rows),
        scores=pd.concat([si.groups, pd.DataFrame({"score": score})], axis=1),
        variance=var,
        by=si.by,
        groups=si.groups,
        rho=rho,
        n_strata=si.n_strata,
        labels=labels,
    )
