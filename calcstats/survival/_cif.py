"""Aalen–Johansen cumulative incidence with competing risks, as R's multi-state ``survfit``.

Tied times are handled exactly (all events at a time enter one transition matrix; no
jitter, unlike lifelines' ``AalenJohansenFitter``). The standard errors are the
infinitesimal-jackknife ones R's ``survfit(Surv(time, factor(status)) ~ g)`` reports:
the variance of a state probability is the sum over subjects of its squared influence
(derivative with respect to the subject's case weight).

Computing the n x T influence matrix would cost O(n T) memory; instead this module uses
two facts. Subjects still at risk share one influence vector ``A(t)``, which has a closed
form (``A_0 = S * Greenwood sum``; ``A_k = cumsum dLambda_k (A_0(t-) - S(t-)/n)``). After a
subject leaves the risk set its influence evolves linearly, ``u(t) = alpha + beta g(t)``
with ``g = (S, F_1, ..., F_K)``, so the exited subjects' sum of squares is a quadratic in
``g(t)`` whose coefficients are cumulative sums. Everything is O(T K) numpy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from calcstats._memory import CURVE_MEMORY_ADVICE, memory_guard
from calcstats._survival_input import OutcomeSummary, survival_input, warn_no_events
from calcstats._validation import (
    COLUMN,
    COLUMNS,
    CONF_LEVEL,
    NONE,
    Interval,
    Options,
    validate_params,
)
from calcstats.labels import Labels
from calcstats.results import CONF_TYPES, CumulativeIncidenceResult, confint
from calcstats.survival._tabulate import RiskTable, tabulate

__all__ = ["aalen_johansen", "cif_result", "cumulative_incidence"]


def aalen_johansen(
    n_risk: np.ndarray,
    n_cause: np.ndarray,
    n_censor: np.ndarray,
    squared: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """State probabilities and their infinitesimal-jackknife variances for one group.

    Parameters
    ----------
    n_risk : (T,) numbers at risk at each distinct time.
    n_cause : (T, K) events of each cause at each time.
    n_censor : (T,) censorings at each time.
    squared : optional (risk, cause, censor) sums of squared case weights, shaped as
        above. With case weights the counts are weight sums and the variance is
        ``sum_i (w_i u_i)^2`` (R's robust variance).

    Returns
    -------
    p, var : (T, K + 1) arrays; column 0 is the event-free probability (overall
        survival), column k the cumulative incidence of cause k.
    """
    n = n_risk.astype(float)
    dk = n_cause.astype(float)
    d = dk.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        haz_k = dk / n[:, None]
        haz = d / n
        surv = np.cumprod(1.0 - haz)
        s_prev = np.concatenate([[1.0], surv[:-1]])
        cif = np.cumsum(s_prev[:, None] * haz_k, axis=0)
        greenwood = np.cumsum(np.where(n > d, d / (n * (n - d)), 0.0))
        a0 = surv * greenwood
        a0 = np.where(n > d, a0, s_prev / n)  # everyone at risk fails: no one left after
        a0_prev = np.concatenate([[0.0], a0[:-1]])
        ak = np.cumsum(haz_k * (a0_prev - s_prev / n)[:, None], axis=0)
        g = np.column_stack([surv, cif])  # (T, K+1)
        a = np.column_stack([a0, ak])  # influence of a subject still at risk
        safe_s = np.where(surv > 0, surv, 1.0)
        # exits at time j: censored (vector A) and failures from cause k (vector B_k)
        beta_a = np.where(surv > 0, a0 / safe_s, 0.0)
        alpha_a = a - beta_a[:, None] * g
        step = s_prev / n
        k = dk.shape[1]
        if squared is None:
            risk2, dk2, cens2 = n, dk, n_censor
        else:
            risk2, dk2, cens2 = (np.asarray(x, dtype=float) for x in squared)
        sum_a2 = cens2[:, None] * alpha_a**2
        sum_ab = cens2[:, None] * alpha_a * beta_a[:, None]
        sum_b2 = cens2 * beta_a**2
        for c in range(k):
            b = a.copy()
            b[:, 0] -= step
            b[:, c + 1] += step
            beta_b = np.where(surv > 0, b[:, 0] / safe_s, 0.0)
            alpha_b = b - beta_b[:, None] * g
            wgt = dk2[:, c]
            sum_a2 += wgt[:, None] * alpha_b**2
            sum_ab += wgt[:, None] * alpha_b * beta_b[:, None]
            sum_b2 += wgt * beta_b**2
        q = np.cumsum(sum_a2, axis=0)
        r = np.cumsum(sum_ab, axis=0)
        p = np.cumsum(sum_b2)
        remaining = risk2 - dk2.sum(axis=1) - cens2
        var = q + 2 * r * g + p[:, None] * g**2 + remaining[:, None] * a**2
    return g, np.maximum(var, 0.0)


@validate_params(
    {
        "time": [COLUMN],
        "event": [COLUMN],
        "cause": [Interval(1, None, integer=True)],
        "by": [COLUMNS, NONE],
        "weights": [COLUMN, NONE],
        "conf_type": [Options(*CONF_TYPES)],
        "conf_level": [CONF_LEVEL],
    },
    engine="calcstats.survival._engine:cumulative_incidence",
)
def cumulative_incidence(
    data: pd.DataFrame,
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
    """Aalen–Johansen cumulative incidence of one cause in the presence of competing causes.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per subject.
    time : str
        Column of follow-up times (>= 0).
    event : str
        Column of integer codes: 0 = censored, 1..k = cause of the event.
    cause : int
        Code of the cause whose incidence is reported by ``tidy``/``at``/``median``; all
        causes are estimated (see ``state_probabilities``).
    by : str or list of str, optional
        Grouping column(s); one curve per level combination.
    weights : str, optional
        Column of non-negative case weights (counts become weight sums — R's multi-state
        ``survfit`` prints unweighted counts instead; the estimates and standard errors
        are R's, the infinitesimal-jackknife ``sum_i (w_i u_i)^2``). Rows with weight 0
        are set aside (the curve is that of the other rows) and counted in
        ``n_zero_weight``; ``n`` counts the rows with a positive weight.
    conf_type : {"log-log", "log", "plain"}
        Transform for the pointwise intervals, applied to the cumulative incidence as R's
        ``survfit`` does for multi-state curves (R's default is "log").
    conf_level : float
        Confidence level.
    labels : Labels or dict, optional
        Display labels the result keeps for its tables and plots.

    Returns
    -------
    CumulativeIncidenceResult
        ``std_error`` is R's infinitesimal-jackknife standard error; ``n_event`` counts
        events of ``cause`` and ``n_censor`` censorings (code 0).
        ``state_probabilities()`` has the event-free probability and every cause's
        incidence; they sum to 1 at every time.

    Examples
    --------
    >>> import pandas as pd
    >>> import calcstats as cs
    >>> df = pd.DataFrame({"t": [1, 2, 2, 3, 4, 5], "status": [1, 2, 0, 1, 0, 2]})
    >>> cif = cs.cumulative_incidence(df, time="t", event="status", cause=1)
    >>> cif.at([3.5])[["time", "estimate"]].round(4)
       time  estimate
    0   3.5    0.3889
    """
    labels = Labels.coerce(labels)
    with memory_guard("cumulative_incidence", CURVE_MEMORY_ADVICE):
        sd = survival_input(
            data,
            time=time,
            event=event,
            cause=cause,
            by=by,
            weights=weights,
            competing=True,
            function="cumulative_incidence",
        )
        assert sd.cause is not None  # cause= is an int here (default 1), checked by the input
        cause = int(sd.cause)
        causes = np.unique(sd.codes[sd.codes > 0])
        warn_no_events(sd, sd.event, f"cumulative_incidence, cause {cause}")
        w = sd.weights
        indicators = [(sd.codes == 0).astype(float)] + [
            (sd.codes == c).astype(float) for c in causes
        ]
        quantities: list[np.ndarray | None] = (
            [None, *indicators]
            if w is None
            else [w, *(w * x for x in indicators), w * w, *(w * w * x for x in indicators)]
        )
        rt = tabulate(sd.time, sd.group, sd.n_groups, quantities)
        col = int(np.flatnonzero(causes == cause)[0]) + 1
        n = np.bincount(sd.group, minlength=sd.n_groups).astype(float)
        n_events = np.bincount(
            sd.group, weights=sd.event if w is None else sd.event * w, minlength=sd.n_groups
        )
        rows = None
        if w is not None:  # the numbers of rows, for risk tables under weighted curves
            rows = tabulate(sd.time, sd.group, sd.n_groups, [None, indicators[col], indicators[0]])
        return cif_result(
            sd,
            rt,
            causes=causes,
            rows=rows,
            n=n,
            n_events=n_events,
            conf_type=conf_type,
            conf_level=float(conf_level),
            labels=labels,
        )


def cif_result(
    si: OutcomeSummary,
    rt: RiskTable,
    *,
    causes: np.ndarray,
    rows: RiskTable | None,
    n: np.ndarray,
    n_events: np.ndarray,
    conf_type: str,
    conf_level: float,
    labels: Labels,
) -> CumulativeIncidenceResult:
    """The cumulative incidence result from per (group, distinct time) sums.

    ``rt.sums`` holds the (weighted) rows, censorings and events of each of ``causes``,
    then, with case weights, the same sums of squared weights; ``rows`` holds the numbers
    of rows, events of ``si.cause`` and censorings when case weights were used (None
    without). The pandas path tabulates the rows, the engine path aggregates them in the
    engine; both end here.
    """
    assert si.cause is not None  # checked by the input
    cause = int(si.cause)
    k = causes.size
    n_censor = rt.sums[:, 1]
    n_cause = rt.sums[:, 2 : 2 + k]
    probs = np.empty((rt.time.size, k + 1))
    var = np.empty_like(probs)
    for g in range(si.n_groups):
        sl = rt.rows(g)
        squared = None
        if rows is not None:
            n2 = rt.sums[sl, 2 + k]
            risk2 = np.cumsum(n2[::-1])[::-1]
            squared = (risk2, rt.sums[sl, 4 + k :], rt.sums[sl, 3 + k])
        probs[sl], var[sl] = aalen_johansen(
            rt.n_risk[sl], n_cause[sl], n_censor[sl], squared=squared
        )
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
    unweighted = None
    if rows is not None:
        unweighted = pd.DataFrame(
            {"n_risk": rows.n_risk, "n_event": rows.sums[:, 1], "n_censor": rows.sums[:, 2]}
        )
    return CumulativeIncidenceResult(
        curve,
        cause=cause,
        states=states,
        groups=si.groups,
        by=si.by,
        conf_type=conf_type,
        conf_level=conf_level,
        n=n,
        n_events=n_events,
        n_zero_weight=si.n_zero_weight,
        time_column=si.time_column,
        event_column=si.event_column,
        method="Aalen–Johansen, infinitesimal-jackknife standard errors",
        labels=labels,
        weighted=rows is not None,
        unweighted=unweighted,
    )
