"""Kaplan–Meier survival curves with Greenwood standard errors, as R's ``survfit``.

Written with numpy rather than lifelines because lifelines' ``KaplanMeierFitter`` fits one
group at a time through pandas and is several times slower than R at millions of rows;
here the times are sorted once and every count comes from ``np.bincount``/``cumsum``
(see ``_tabulate.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from calcstats._memory import CURVE_MEMORY_ADVICE, memory_guard
from calcstats._survival_input import (
    OutcomeSummary,
    SurvivalInput,
    survival_input,
    warn_no_events,
)
from calcstats._validation import COLUMN, COLUMNS, CONF_LEVEL, NONE, Options, validate_params
from calcstats.labels import Labels
from calcstats.results import CONF_TYPES, KaplanMeierResult, confint
from calcstats.survival._cif import aalen_johansen
from calcstats.survival._tabulate import RiskTable, tabulate

__all__ = ["kaplan_meier", "km_arrays", "km_result"]


def km_arrays(n_risk: np.ndarray, n_event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan–Meier estimate and Greenwood variance of log S at each time of one group.

    Where everyone at risk has the event the estimate drops to 0 and the variance of
    log S is infinite, so its standard error is NaN, as in R.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1.0 - n_event / n_risk)
        term = np.where(n_risk > n_event, n_event / (n_risk * (n_risk - n_event)), np.inf)
    return surv, np.cumsum(term)


@validate_params(
    {
        "time": [COLUMN],
        "event": [COLUMN],
        "by": [COLUMNS, NONE],
        "weights": [COLUMN, NONE],
        "conf_type": [Options(*CONF_TYPES)],
        "conf_level": [CONF_LEVEL],
    },
    engine="calcstats.survival._engine:kaplan_meier",
)
def kaplan_meier(
    data: pd.DataFrame,
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
    """Kaplan–Meier estimate of the survival function, per group.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per subject.
    time : str
        Column of follow-up times (>= 0).
    event : str
        Column holding 0/1 (or bool) for one outcome, or integer codes 0 = censored,
        1..k = event types; with codes above 1 pass ``cause``.
    cause : int, optional
        Code of the event of interest; other codes count as censored (cause-specific).
    by : str or list of str, optional
        Grouping column(s); one curve per level combination (R's sorted factor order).
    weights : str, optional
        Column of non-negative case weights; counts become weight sums. As R's
        ``survfit``: with integer (frequency) weights the variance is Greenwood's with
        weighted counts; when any weight is non-integer (e.g. inverse-probability
        weights) it is the robust infinitesimal-jackknife variance
        ``sum_i (w_i dS/dw_i)^2``, and the intervals use that SE of S. Rows with weight
        0 are set aside (the curve is that of the other rows) and counted in
        ``n_zero_weight``; ``n`` counts the rows with a positive weight.
    conf_type : {"log-log", "log", "plain"}
        Transform for the pointwise intervals. The default "log-log" keeps the limits in
        [0, 1]; note that R's ``survfit`` defaults to "log".
    conf_level : float
        Confidence level of the intervals.
    labels : Labels or dict, optional
        Display labels the result keeps for its tables and plots (e.g. level labels of
        ``by``, the unit of ``time``).

    Returns
    -------
    KaplanMeierResult
        ``.tidy()`` (the curve with Greenwood ``std_error`` on the probability scale, as
        ``summary.survfit``), ``.at(times)``, ``.median()``, ``.risk_table(times)``,
        ``.inline(time)``; ``n``, ``n_events`` per group and ``n_zero_weight``.

    Examples
    --------
    >>> import pandas as pd
    >>> import calcstats as cs
    >>> df = pd.DataFrame({"t": [1, 2, 2, 3, 4, 5], "d": [1, 1, 0, 1, 0, 1]})
    >>> km = cs.kaplan_meier(df, time="t", event="d")
    >>> km.at([2.5])[["time", "n_risk", "estimate"]].round(4)
       time  n_risk  estimate
    0   2.5     3.0    0.6667
    """
    labels = Labels.coerce(labels)
    with memory_guard("kaplan_meier", CURVE_MEMORY_ADVICE):
        si = survival_input(
            data,
            time=time,
            event=event,
            cause=cause,
            by=by,
            weights=weights,
            function="kaplan_meier",
        )
        warn_no_events(si, si.event, "kaplan_meier")
        return _fit(si, conf_type=conf_type, conf_level=float(conf_level), labels=labels)


def _fit(
    sd: SurvivalInput, *, conf_type: str, conf_level: float, labels: Labels
) -> KaplanMeierResult:
    d = sd.event
    w = sd.weights
    robust = w is not None and bool(np.any(w != np.floor(w)))
    if w is None:
        rt = tabulate(sd.time, sd.group, sd.n_groups, [None, d])
    elif not robust:
        rt = tabulate(sd.time, sd.group, sd.n_groups, [w, w * d])
    else:
        w2 = w * w
        rt = tabulate(sd.time, sd.group, sd.n_groups, [w, w * d, w2, w2 * d])
    n = np.bincount(sd.group, minlength=sd.n_groups).astype(float)
    n_events = np.bincount(sd.group, weights=d if w is None else d * w, minlength=sd.n_groups)
    # the numbers of rows, for risk tables under weighted curves
    rows = None if w is None else tabulate(sd.time, sd.group, sd.n_groups, [None, d])
    return km_result(
        sd,
        rt,
        robust=robust,
        rows=rows,
        n=n,
        n_events=n_events,
        conf_type=conf_type,
        conf_level=conf_level,
        labels=labels,
    )


def km_result(
    si: OutcomeSummary,
    rt: RiskTable,
    *,
    robust: bool,
    rows: RiskTable | None,
    n: np.ndarray,
    n_events: np.ndarray,
    conf_type: str,
    conf_level: float,
    labels: Labels,
) -> KaplanMeierResult:
    """The Kaplan–Meier result from per (group, distinct time) sums.

    ``rt.sums`` holds the (weighted) rows and events, then, for ``robust`` (non-integer
    case weights), the squared-weight sums of both; ``rows`` holds the numbers of rows and
    events when case weights were used (None without). The pandas path tabulates the rows,
    the engine path aggregates them in the engine; both end here.
    """
    n_all, n_ev = rt.sums[:, 0], rt.sums[:, 1]
    surv = np.empty(n_all.size)
    var_log = np.empty(n_all.size)
    se_surv = np.empty(n_all.size)
    for g in range(si.n_groups):
        sl = rt.rows(g)
        if not robust:
            surv[sl], var_log[sl] = km_arrays(rt.n_risk[sl], n_ev[sl])
            continue
        n2, d2 = rt.sums[sl, 2], rt.sums[sl, 3]
        risk2 = np.cumsum(n2[::-1])[::-1]
        nr, ne = rt.n_risk[sl], n_ev[sl]
        probs, var = aalen_johansen(
            nr, ne[:, None], n_all[sl] - ne, squared=(risk2, d2[:, None], n2 - d2)
        )
        surv[sl], se_surv[sl] = probs[:, 0], np.sqrt(var[:, 0])
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
    unweighted = None
    if rows is not None:
        unweighted = pd.DataFrame(
            {
                "n_risk": rows.n_risk,
                "n_event": rows.sums[:, 1],
                "n_censor": rows.sums[:, 0] - rows.sums[:, 1],
            }
        )
    return KaplanMeierResult(
        curve,
        cause=si.cause,
        groups=si.groups,
        by=si.by,
        conf_type=conf_type,
        conf_level=conf_level,
        n=n,
        n_events=n_events,
        n_zero_weight=si.n_zero_weight,
        time_column=si.time_column,
        event_column=si.event_column,
        method=method,
        labels=labels,
        weighted=rows is not None,
        unweighted=unweighted,
    )
