"""k-sample log-rank tests: stratified, for trend, with Fleming–Harrington weights.

Numbers as R's ``survival::survdiff`` (which has no trend test and only the
``rho`` weight ``S(t-)^rho``); lifelines' ``multivariate_logrank_test`` has neither
strata nor a trend test, so the risk sets are tabulated here with numpy, in blocks of
event times (memory of the order of the rows plus k^2 for k groups).

Where survdiff stops because the variance matrix is singular ("system is exactly
singular"), the test uses a generalised inverse with the degrees of freedom reduced to
the rank (the quadratic form u' V^- u does not depend on the choice of generalised
inverse, since u lies in the column space of V), with a warning; a variance of rank 0
is an error.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from calcstats._errors import DataError, DataWarning, InvalidParameterError
from calcstats._memory import check_memory, memory_guard
from calcstats._survival_input import (
    OutcomeSummary,
    survival_input,
    user_stacklevel,
    warn_no_events,
)
from calcstats._validation import BOOLEAN, COLUMN, COLUMNS, NONE, NUMBERS, validate_params
from calcstats.labels import Labels
from calcstats.results import LogrankResult
from calcstats.survival._tabulate import CountedEventTimes, EventTimes

__all__ = ["check_scores", "chi_square", "logrank", "logrank_result", "too_many_groups"]


_NO_INFORMATION = (
    "No event time has subjects of two "
    "or more groups at risk with at least one of them surviving it (e.g. at each event "
    "time everyone at risk had the event), so the data hold no information to compare "
    "the groups; R's survdiff stops here with 'system is exactly singular'. Check the "
    "time and event columns."
)


_MEMORY_ADVICE = (
    "compare fewer groups or strata, or analyse fewer rows (memory grows with the rows "
    "and with the square of the number of groups)."
)


def too_many_groups(by: object, k: int) -> str:
    """Advice for a memory error caused by the number of groups."""
    return (
        f"by={by!r} has {k:,} groups and the memory grows with their square. Compare "
        "fewer groups: a column with this many levels is usually an identifier or a "
        "continuous measurement, so cut it into a few categories (e.g. with pandas.cut)."
    )


def _strata_rows(stratum: np.ndarray, n_strata: int) -> list[np.ndarray]:
    """Row indices of each stratum (one stable sort instead of a mask per stratum)."""
    order = np.argsort(stratum, kind="stable")
    return np.split(order, np.searchsorted(stratum[order], np.arange(1, n_strata)))


class _FlemingHarrington:
    """Constraint of ``weights=``: None, "logrank" or ("fh", rho, gamma), rho, gamma >= 0."""

    def accepts(self, value: object) -> bool:
        if value is None or (isinstance(value, str) and value == "logrank"):
            return True
        return (
            isinstance(value, tuple)
            and len(value) == 3
            and isinstance(value[0], str)
            and value[0] == "fh"
            and all(
                isinstance(x, int | float) and not isinstance(x, bool) and x >= 0 for x in value[1:]
            )
        )

    def describe(self) -> str:
        return (
            "None (log-rank) or ('fh', rho, gamma) with rho, gamma >= 0 — ('fh', 1, 0) "
            "is survdiff(rho = 1), the Peto–Peto test"
        )


def check_scores(scores: Sequence[float] | None, trend: bool) -> None:
    """``scores`` go with ``trend=True`` only."""
    if scores is not None and not trend:
        raise InvalidParameterError(
            "The 'scores' parameter of logrank is used by the test for trend only; pass "
            f"trend=True with it, or leave it out. Got scores={scores!r} with trend=False."
        )


def _weights_spec(weights: object) -> tuple[float, float]:
    if isinstance(weights, tuple):
        return float(weights[1]), float(weights[2])
    return 0.0, 0.0


def _block_size(n_groups: int) -> int:
    """Event times per block: about 8 MB per (block x groups) array."""
    return max(64, 1_000_000 // max(n_groups, 1))


def _stratum_sums(
    et: EventTimes | CountedEventTimes, k: int, rho: float, gamma: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted observed, expected and covariance of one stratum (survdiff's sums).

    With ``n_t`` the groups' numbers at risk at event time ``t`` (a k-vector),
    ``V = sum_t c_t (diag(n_t) - n_t n_t' / N_t)``; the sums over event times are matrix
    products over blocks of event times, so no (times x groups x groups) array is formed.
    ``et`` is tabulated from the rows (pandas) or from per-time counts (an engine).
    """
    n, dd = et.n_risk, et.events[:, 0]
    surv = np.cumprod(1.0 - dd / n)
    s_prev = np.concatenate([[1.0], surv[:-1]])
    w = s_prev**rho * (1.0 - s_prev) ** gamma
    with np.errstate(divide="ignore", invalid="ignore"):
        kt = np.where(n > 1, w**2 * dd * (n - dd) / (n * (n - 1)), 0.0)
    observed = np.zeros(k)
    expected = np.zeros(k)
    diag = np.zeros(k)
    cross = np.zeros((k, k))
    for lo, hi, n_g, (dead,) in et.blocks(_block_size(k)):
        observed += w[lo:hi] @ dead
        expected += (w * dd / n)[lo:hi] @ n_g
        diag += kt[lo:hi] @ n_g
        cross += (n_g * (kt / n)[lo:hi, None]).T @ n_g
    return observed, expected, np.diag(diag) - cross


def chi_square(u: np.ndarray, v: np.ndarray, *, zero: float = 0.0) -> tuple[float, int, bool]:
    """``u' V^- u``, the rank of ``V`` (symmetric) and whether ``V`` is indefinite.

    Full rank: ``solve``, as R's ``survdiff`` and ``cmprsk::cuminc``. Rank-deficient: a
    generalised inverse (Moore–Penrose, of the matrix scaled to unit diagonal) with the
    degrees of freedom reduced to the rank (the directions without information are
    dropped; the chi-square on the remaining ones is the test on the groups that can be
    compared, e.g. survdiff on the informative strata alone). The rank
    counts the scaled matrix's eigenvalues larger in size than ``1e-8`` times the largest,
    so it does not depend on the scale of the groups; rows with zero variance do not
    count. ``indefinite`` flags a clearly negative eigenvalue (or a zero variance with
    non-zero covariances): a variance estimate that is not a variance. A matrix whose
    entries are all at most ``zero`` in size is rank 0 (an exact zero left as rounding
    error, e.g. -2.2e-16: its sign, and so the answer, would depend on the group labels).
    """
    if not (np.isfinite(u).all() and np.isfinite(v).all()):
        raise DataError(
            "the variance matrix of the test has non-finite entries; the data are too "
            "degenerate for the test (please report this data set to the calcstats team)."
        )
    if v.size and np.abs(v).max() <= zero:
        return 0.0, 0, False
    scale = np.sqrt(np.abs(np.diag(v)))
    live = scale > 0
    indefinite = bool(np.any(v[np.ix_(~live, live)]))
    if not live.any():
        return 0.0, 0, indefinite
    ul, s = u[live], scale[live]
    vals, vecs = np.linalg.eigh(v[np.ix_(live, live)] / np.outer(s, s))
    tol = 1e-8 * np.abs(vals).max()
    ok = np.abs(vals) > tol
    indefinite |= bool(np.any(vals < -tol))
    rank = int(ok.sum())
    if rank == u.size:
        return float(u @ np.linalg.solve(v, u)), rank, indefinite
    z = vecs[:, ok].T @ (ul / s)
    return float(z @ (z / vals[ok])), rank, indefinite


@validate_params(
    {
        "time": [COLUMN],
        "event": [COLUMN],
        "by": [COLUMNS],
        "strata": [COLUMNS, NONE],
        "trend": [BOOLEAN],
        "scores": [NUMBERS, NONE],
        "weights": [_FlemingHarrington()],
    },
    engine="calcstats.survival._engine:logrank",
)
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
    labels: Labels | dict[str, str] | None = None,
) -> LogrankResult:
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
    labels : Labels or dict, optional
        Display labels the result keeps for its tables and plots.

    Returns
    -------
    LogrankResult
        ``statistic`` (chi-square), ``df``, ``p_value``, ``tidy()``;
        ``tidy(details=True)`` per group ``n, observed, expected, o_minus_e, oe2_over_e,
        oe2_over_v`` (observed and expected are weighted sums when ``weights`` is set, as
        in ``survdiff``); ``variance`` (the k x k matrix of observed minus expected).

    Raises
    ------
    DataError
        When the data hold no information to compare the groups (the variance of
        observed minus expected is zero, e.g. everyone at risk dies at each event time).

    Warns
    -----
    DataWarning
        When the variance matrix is singular but not zero: the statistic then uses a
        generalised inverse and ``df`` is its rank (less than the groups minus one).

    Examples
    --------
    >>> import pandas as pd
    >>> import calcstats as cs
    >>> df = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6, 7, 8], "d": [1, 1, 0, 1, 1, 0, 1, 1],
    ...                    "arm": ["a", "b"] * 4})
    >>> round(cs.logrank(df, time="t", event="d", by="arm").statistic, 4)
    0.3651
    """
    labels = Labels.coerce(labels)
    check_scores(scores, trend)
    with memory_guard("logrank", _MEMORY_ADVICE):
        rho, gamma = _weights_spec(weights)
        sd = survival_input(
            data, time=time, event=event, cause=cause, by=by, strata=strata, function="logrank"
        )
        d = sd.event
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
        check_memory(
            8.0 * (4 * k * k + 12 * sd.time.size + 8 * k * _block_size(k)),
            what=f"logrank with {k:,} groups",
            advice=too_many_groups(by, k),
        )
        sums = (
            _stratum_sums(EventTimes(sd.time[rows], sd.group[rows], k, [d[rows]]), k, rho, gamma)
            for rows in _strata_rows(sd.stratum, sd.n_strata)
        )
        by0 = sd.data[sd.by[0]] if len(sd.by) == 1 else None
        numeric_by = (
            by0 is not None
            and pd.api.types.is_numeric_dtype(by0)
            and not pd.api.types.is_bool_dtype(by0)
        )
        return logrank_result(
            sd,
            sums,
            n=np.bincount(sd.group, minlength=k).astype(float),
            total=float(sd.n if sd.weights is None else np.sum(sd.weights)),
            rho=rho,
            gamma=gamma,
            trend=bool(trend),
            scores=scores,
            numeric_by=numeric_by,
            labels=labels,
        )


def logrank_result(
    si: OutcomeSummary,
    sums: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]],
    *,
    n: np.ndarray,
    total: float,
    rho: float,
    gamma: float,
    trend: bool,
    scores: Sequence[float] | None,
    numeric_by: bool,
    labels: Labels,
) -> LogrankResult:
    """The log-rank result from each stratum's :func:`_stratum_sums` (pandas and engine).

    ``n`` is the rows per group, ``total`` the rows (or weight sum) analysed and
    ``numeric_by`` whether ``by`` is one numeric column (its values are then the default
    trend scores).
    """
    k = si.n_groups
    observed = np.zeros(k)
    expected = np.zeros(k)
    var = np.zeros((k, k))
    for o, e, v in sums:
        observed += o
        expected += e
        var += v
    oe = observed - expected
    sc = _scores(si, numeric_by, scores) if trend else None
    stat, df, note = _statistic(si.groups, total, oe, expected, var, scores=sc)
    p = float(stats.chi2.sf(stat, df))
    table = si.groups.copy()
    table["n"] = n
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
    if si.n_strata > 1:
        name = "stratified " + name
    if note:
        name += f" ({note})"
    name = name[0].upper() + name[1:]
    return LogrankResult(
        stat,
        df,
        p,
        method=name,
        details=table,
        variance=var,
        by=si.by,
        groups=si.groups,
        rho=rho,
        gamma=gamma,
        n_strata=si.n_strata,
        trend=trend,
        scores=sc,
        labels=labels,
    )


def _statistic(
    groups: pd.DataFrame,
    total: float,
    oe: np.ndarray,
    expected: np.ndarray,
    var: np.ndarray,
    *,
    scores: np.ndarray | None,
) -> tuple[float, int, str]:
    """Chi-square, degrees of freedom and a note for the method (empty unless singular).

    With ``scores`` (the trend test) the statistic is ``(s'(O-E))^2 / s'Vs`` on 1 df.
    """
    if scores is not None:
        sc = scores
        u = float(sc @ oe)
        v = float(sc @ var @ sc)
        if v > 1e-10 * float(sc**2 @ np.abs(np.diag(var))):
            return u * u / v, 1, ""
        if np.ptp(sc) == 0:
            why = "The scores are all equal; give scores that differ between groups."
        elif not np.any(var):
            why = _NO_INFORMATION
        else:
            why = (
                "The groups compared at shared event times have equal scores; give "
                "scores that differ between them."
            )
        raise DataError(
            "the trend test is undefined: the variance of the score-weighted observed minus "
            f"expected is zero (scores {sc.tolist()}). {why}"
        )
    keep = expected > 0
    if keep.sum() < 2:
        raise DataError(
            "fewer than two groups have any subject at risk at an event time (groups with "
            f"none: {groups[~keep].to_dict('records')}); the groups' follow-up does not "
            "overlap, so there is nothing to compare."
        )
    oe_k = oe[keep][1:]
    full = oe_k.size
    # V is a sum of PSD terms; rounding error stays far below 1e-12 of the weight total
    stat, df, _ = chi_square(oe_k, var[np.ix_(keep, keep)][1:, 1:], zero=1e-12 * max(1.0, total))
    if df == 0:
        raise DataError(
            "the log-rank test is undefined: the variance of observed minus expected is "
            f"zero. {_NO_INFORMATION}"
        )
    if df == full:
        return stat, df, ""
    warnings.warn(
        f"logrank: the variance matrix of observed minus expected has rank {df}, less than "
        f"{full} (the {full + 1} groups with subjects at risk at an event time, minus one): "
        "the groups' information overlaps, e.g. a group is at risk only at event times "
        "where everyone at risk had the event. The test uses a generalised inverse on "
        f"{df} degrees of freedom; R's survdiff stops with 'system is exactly singular'.",
        DataWarning,
        stacklevel=user_stacklevel(),
    )
    return stat, df, f"variance of rank {df} < {full + 1} groups - 1: generalised inverse, {df} df"


def _scores(si: OutcomeSummary, numeric_by: bool, scores: Sequence[float] | None) -> np.ndarray:
    k = si.n_groups
    if scores is not None:
        sc = np.atleast_1d(np.asarray(scores, dtype=float))
        if sc.shape != (k,):
            raise InvalidParameterError(
                f"The 'scores' parameter of logrank must give one number per group ({k} "
                f"groups, in the order {si.groups.to_dict('records')}). Got {scores!r}."
            )
        return sc
    if numeric_by:
        return si.groups[si.by[0]].to_numpy(dtype=float)
    return np.arange(1, k + 1, dtype=float)
