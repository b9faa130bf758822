"""``turnbull``: the nonparametric survival curve of interval-censored data.

The estimate
------------
The Turnbull NPMLE puts probability masses on the innermost intervals of the data (see
:mod:`calcstats.survival._interval_npmle`: lifelines' EM, polished to the optimum). The
masses say how much probability falls in each innermost interval, not where inside it, so
the curve is built as a right-continuous step function that drops by a mass at the
**right end** of its interval: ``S(t) = 1 - sum(p_j : right_j <= t)``, exact wherever the
NPMLE is unique (outside the innermost intervals) and an upper bound inside them.
``intervals()`` gives both ends. R's ``survfit`` draws the drop at the midpoint instead;
the two agree at every time outside the innermost intervals.

The variance (computed here, not by lifelines or ``kaplan_meier``)
--------------------------------------------------------------------
lifelines gives no variance for this estimator (its bootstrap is commented out), so the
standard error is R's: ``survfit(Surv(left, right, type = "interval2"))`` reports the
infinitesimal-jackknife (IJ) standard error of S(t), on the survival scale, of the final
weighted Kaplan–Meier fit of its EM. That fit is to pseudo data: every exact row (an
event, weight 1), every right-censored row (censored at ``left``, weight 1) and one event
row per innermost interval whose weight is the expected number of interval-censored
events in it. Each pseudo row is its own cluster:
``var S(t) = sum_r (w_r dS(t)/dw_r)^2``. At the NPMLE this Kaplan–Meier reproduces the
NPMLE (self-consistency), so the estimate and its standard error come from one
computation. It treats the expected events of all interval-censored rows at one interval
as one observation and ignores the uncertainty of their split, exactly as R does.
:func:`calcstats.kaplan_meier` uses this IJ variance only for non-integer weights (R's
rule for right-censored data), while the Turnbull variance is the IJ one always, so the
small pseudo-data Kaplan–Meier is computed here. Reproducing R's numbers exactly needs R's
own (unconverged) pseudo data: fed R's ``n.event`` and ``n.censor``, this computation
gives R's ``std.err`` to rounding (tests/survival/test_interval_turnbull.py); at the
converged NPMLE the standard errors differ from R's by what R's 5e-5 stopping rule leaves.
The pointwise intervals are R's: log-type by default,
``S exp(-z se / S) .. S exp(z se / S)``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import DataWarning, user_stacklevel
from calcstats._validation import COLUMN, COLUMNS, CONF_LEVEL, NONE, Options, validate_params
from calcstats.labels import Labels
from calcstats.results import CONF_TYPES, CurveResult, confint
from calcstats.survival._interval_input import IntervalInput, interval_input
from calcstats.survival._interval_npmle import NPMLE, npmle

__all__ = ["TurnbullResult", "pseudo_km", "turnbull"]


def pseudo_km(time: np.ndarray, event: np.ndarray, weight: np.ndarray) -> pd.DataFrame:
    """Weighted Kaplan–Meier with the infinitesimal-jackknife SE of S, one cluster per row.

    Returns one row per distinct time: ``time, n_risk, n_event, n_censor, estimate,
    std_error`` (``std_error`` of S itself). Where the curve reaches 0 the SE is 0.

    Examples
    --------
    >>> import numpy as np
    >>> km = pseudo_km(np.array([1.0, 2, 2, 3]), np.array([1, 1, 0, 0]), np.ones(4))
    >>> km[["time", "n_risk", "estimate"]].to_numpy().tolist()
    [[1.0, 4.0, 0.75], [2.0, 3.0, 0.5], [3.0, 1.0, 0.5]]
    """
    u, inv = np.unique(time, return_inverse=True)
    d = np.bincount(inv, weights=weight * event, minlength=u.size)
    tot = np.bincount(inv, weights=weight, minlength=u.size)
    n_risk = np.cumsum(tot[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1.0 - d / n_risk)
        gap = n_risk - d
        c = np.cumsum(np.where(d > 0, d / (n_risk * gap), 0.0))
        g = c[inv] - event / gap[inv]  # d log S / d w_r of a row, once it has left the risk set
        w2 = weight * weight
        later = np.append(
            np.cumsum(np.bincount(inv, weights=w2, minlength=u.size)[::-1])[::-1][1:], 0.0
        )  # sum of w^2 over rows still at risk after u_m
        done = np.cumsum(np.bincount(inv, weights=w2 * g * g, minlength=u.size))
        var = surv * surv * (c * c * later + done)
        se = np.where(surv > 0, np.sqrt(var), 0.0)
    return pd.DataFrame(
        {
            "time": u,
            "n_risk": n_risk,
            "n_event": d,
            "n_censor": tot - d,
            "estimate": surv,
            "std_error": se,
        }
    )


def _pseudo_data(
    ii: IntervalInput, rows: np.ndarray, fit: NPMLE
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The final weighted Kaplan–Meier data of the EM (module docstring)."""
    left, right = ii.left[rows], ii.right[rows]
    exact, censored = left == right, np.isinf(right)
    inner = ~exact & ~censored
    cum = np.concatenate([[0.0], np.cumsum(fit.mass)])
    first, last = fit.obs_first[inner], fit.obs_last[inner]
    share = 1.0 / (cum[last + 1] - cum[first])  # each row's expected event spread over p
    acc = np.zeros(fit.mass.size + 1)
    np.add.at(acc, first, share)
    np.add.at(acc, last + 1, -share)
    expected = fit.mass * np.cumsum(acc)[:-1]
    jump = expected > 0
    times = np.concatenate([left[exact], left[censored], fit.right[jump]])
    events = np.concatenate(
        [np.ones(int(exact.sum())), np.zeros(int(censored.sum())), np.ones(int(jump.sum()))]
    )
    weights = np.concatenate([np.ones(int(exact.sum()) + int(censored.sum())), expected[jump]])
    return times, events, weights


class TurnbullResult(CurveResult):
    """Turnbull (NPMLE) survival curves of interval-censored data (:func:`turnbull`).

    A :class:`~calcstats.CurveResult` that starts at 1 and falls, so it plots and tabulates
    like a Kaplan–Meier curve. ``tidy()`` has one row per time where the curve drops (the
    right end of an innermost interval with mass, or an exact event time) or a row is
    right-censored; ``n_risk``, ``n_event`` and ``n_censor`` are the weighted counts of the
    pseudo data (fractional, as R's ``survfit``) and ``std_error`` the infinitesimal-
    jackknife SE of S.

    Attributes
    ----------
    fits : list of NPMLE
        Per group: innermost intervals, masses, log-likelihood, convergence record.
    left_column, right_column : str
        The input columns.
    loglik : numpy.ndarray
        Log-likelihood of each group's NPMLE.
    converged : bool
        Every group's NPMLE met the Kuhn–Tucker conditions.
    """

    start_value = 1.0
    increasing = False
    measure = "Survival probability"

    def __init__(
        self,
        curve: pd.DataFrame,
        *,
        fits: list[NPMLE],
        left_column: str,
        right_column: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(curve, time_column=left_column, event_column=right_column, **kwargs)
        self.fits = fits
        self.left_column = left_column
        self.right_column = right_column
        self.loglik = np.array([f.loglik for f in fits])
        self.converged = all(f.converged for f in fits)

    def intervals(self) -> pd.DataFrame:
        """The innermost intervals and their masses, per group.

        Returns
        -------
        pandas.DataFrame
            One column per ``by`` variable, then ``left, right, point, mass, surv_left,
            surv``: the interval ``(left, right]`` (the time ``left`` where ``point``), its
            probability, and S just before and after it. Intervals with zero mass are
            kept (they are where the NPMLE is known to have no mass).
        """
        frames = [
            pd.DataFrame(
                {
                    "_group": i,
                    "left": f.left,
                    "right": f.right,
                    "point": f.point,
                    "mass": f.mass,
                    "surv_left": f.surv_left,
                    "surv": f.surv,
                }
            )
            for i, f in enumerate(self.fits)
        ]
        return self._with_groups(pd.concat(frames, ignore_index=True))


@validate_params(
    {
        "left": [COLUMN],
        "right": [COLUMN],
        "by": [COLUMNS, NONE],
        "conf_type": [Options(*CONF_TYPES)],
        "conf_level": [CONF_LEVEL],
    }
)
def turnbull(
    data: pd.DataFrame,
    *,
    left: str,
    right: str,
    by: str | Sequence[str] | None = None,
    conf_type: str = "log",
    conf_level: float = 0.95,
    labels: Labels | dict[str, Any] | None = None,
) -> TurnbullResult:
    """Turnbull's nonparametric survival curve for interval-censored data, per group.

    The NPMLE of R's ``survfit(Surv(left, right, type = "interval2") ~ by)``, computed by
    lifelines (``KaplanMeierFitter.fit_interval_censoring``) and polished to the exact
    optimum; standard errors as R's (module docstring).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per subject, e.g. ``cohort.interval_table("calcification")``.
    left, right : str
        The event happened in ``(left, right]``: ``left`` is the last assessment without
        it (0: before the first one), ``right`` the first with it (missing or ``inf``:
        never seen, right-censored). ``left == right`` is an exactly observed time.
    by : str or list of str, optional
        Grouping column(s); one curve per level combination (sorted levels).
    conf_type : {"log", "log-log", "plain"}
        Transform of the pointwise intervals; "log" is R's ``survfit`` default.
    conf_level : float
        Confidence level of the intervals.
    labels : Labels or dict, optional
        Display labels the result keeps for its tables and plots.

    Returns
    -------
    TurnbullResult
        ``tidy()``, ``at(times)``, ``median()``, ``intervals()`` (masses).

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> import calcstats as cs
    >>> d = pd.DataFrame({"left": [0, 1, 2, 1, 3, 0], "right": [1, 3, np.inf, 2, np.inf, 2]})
    >>> tb = cs.turnbull(d, left="left", right="right")
    >>> tb.intervals()[["left", "right", "mass"]].round(4)
       left  right    mass
    0   0.0    1.0  0.2222
    1   1.0    2.0  0.4444
    2   2.0    3.0  0.0000
    3   3.0    inf  0.3333
    >>> tb.at([0.5, 1, 2.5])[["estimate", "std_error"]].round(4)
       estimate  std_error
    0    1.0000     0.0000
    1    0.7778     0.2058
    2    0.3333     0.2283
    """
    ii = interval_input(data, left=left, right=right, by=by, function="turnbull")
    frames, fits = [], []
    n = np.zeros(len(ii.groups))
    n_events = np.zeros(len(ii.groups))
    for g in range(len(ii.groups)):
        rows = np.flatnonzero(ii.group == g)
        n[g] = rows.size
        n_events[g] = float(np.isfinite(ii.right[rows]).sum())
        if n_events[g] == 0:
            where = (
                ""
                if not ii.by
                else " in group " + ", ".join(f"{c}={ii.groups.iloc[g][c]!r}" for c in ii.by)
            )
            warnings.warn(
                f"turnbull: no event was seen{where} (every row is right-censored); "
                "the curve stays at 1.",
                DataWarning,
                stacklevel=user_stacklevel(),
            )
        fit = npmle(ii.left[rows], ii.right[rows])
        fits.append(fit)
        km = pseudo_km(*_pseudo_data(ii, rows, fit))
        low, high = confint(
            km["estimate"].to_numpy(),
            km["std_error"].to_numpy(),
            logse=False,
            conf_type=conf_type,
            conf_level=conf_level,
        )
        frames.append(km.assign(conf_low=low, conf_high=high, _group=g))
    curve = pd.concat(frames, ignore_index=True)
    method = (
        "Turnbull nonparametric maximum likelihood estimate (interval-censored); "
        f"infinitesimal-jackknife standard errors as R's survfit, {conf_type} intervals"
    )
    return TurnbullResult(
        curve,
        fits=fits,
        left_column=left,
        right_column=right,
        groups=ii.groups,
        by=ii.by,
        conf_type=conf_type,
        conf_level=float(conf_level),
        n=n,
        n_events=n_events,
        method=method,
        labels=labels,
    )
