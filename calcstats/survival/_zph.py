"""Proportional-hazards check of a Cox fit, as R's ``cox.zph`` (survival >= 3).

The test is the score test for adding ``g(t)·x`` terms to the fitted model, evaluated at
``(β̂, 0)`` without iterating (Grambsch & Therneau with the exact information matrix, the
algorithm of survival 3): per formula term (a factor or spline term is one multi-df test)
and GLOBAL. ``g`` is the left-continuous Kaplan–Meier transform ``1 − S(t−)``, centred at
its mean over the events. Scaled Schoenfeld residuals and the natural-spline smooth with
its ±2 SE band are those ``plot.cox.zph`` draws, so a plot only has to draw them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from calcstats._errors import DataError
from calcstats._validation import BOOLEAN, Options, validate_params
from calcstats.results import PHTestResult
from calcstats.survival._coxfit import _iterate, schoenfeld

if TYPE_CHECKING:
    from calcstats.survival._cox import CoxResult

__all__ = ["check_ph"]


def _km_transform(stop, start, status) -> np.ndarray:
    """1 − S(t−) at each row's stop time, from the (unweighted, unstratified) KM."""
    ev_times, d = np.unique(stop[status], return_counts=True)
    n_stop = np.searchsorted(np.sort(stop), ev_times, side="left")
    at_risk = len(stop) - n_stop
    if start is not None:
        at_risk = at_risk - (len(start) - np.searchsorted(np.sort(start), ev_times, "left"))
    surv = np.cumprod(1 - d / at_risk)
    k = np.searchsorted(ev_times, stop, side="left")  # event times strictly before t
    return 1 - np.concatenate(([1.0], surv))[k]


def _solve(a: np.ndarray, b: np.ndarray, what: str) -> np.ndarray:
    """``solve(a, b)``, or a DataError saying which part of the check is singular."""
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        raise DataError(
            f"check_ph: the information matrix of {what} is singular, so the "
            "proportional-hazards test cannot be computed (a covariate, or its product "
            "with the transformed time, has no variation among the subjects at risk at "
            "the event times). R's cox.zph stops here with 'system is exactly singular'; "
            "try another transform= or leave the term out of the check."
        ) from None


@validate_params(
    {"transform": [Options("km", "identity", "log", "rank")], "global_test": [BOOLEAN]}
)
def check_ph(result: CoxResult, *, transform: str = "km", global_test: bool = True) -> PHTestResult:
    """See :meth:`CoxResult.check_ph`."""
    fit = result.model
    cd = fit.data
    si = result.input
    stop, start, status = si.time, si.start, si.event.astype(bool)
    if transform == "km":
        tt = _km_transform(stop, start, status)
    elif transform == "identity":
        tt = stop.copy()
    elif transform == "log":
        tt = np.log(stop)
    else:  # "rank"
        tt = stats.rankdata(stop)
    if np.ptp(tt[status]) == 0:  # the transforms are increasing: one event time
        raise DataError(
            f"check_ph: the proportional-hazards test is undefined: all "
            f"{int(status.sum())} events are at the same time ({stop[status][0]:g}), so there "
            "is no trend in time to test. R's cox.zph stops here with 'system is exactly "
            "singular'."
        )
    g_row = tt - tt[status].mean()
    er, grp = cd.ev_rows, cd.ev_group
    g_group = np.zeros(cd.n_groups)
    g_group[grp] = g_row[cd.perm[er]]
    beta = fit.coef
    p = len(beta)
    it = _iterate(cd, beta, entries=True)
    imat1 = it.imat
    imat2 = _iterate(cd, beta, multipliers=g_group).imat
    imat3 = _iterate(cd, beta, multipliers=g_group**2).imat
    X = cd.X
    u2 = (g_group[grp] * cd.wt[er]) @ X[er] - (g_group[grp] * it.mw) @ it.abar
    big = np.block([[imat1, imat2], [imat2.T, imat3]])
    names = result.design.columns
    terms = {t: [names.index(c) for c in cs] for t, cs in result.design.terms.items()}
    rows = []
    for name, cols in terms.items():
        kk = [*range(p), *(p + j for j in cols)]
        u = np.concatenate([np.zeros(p), u2[cols]])
        chisq = float(u @ _solve(big[np.ix_(kk, kk)], u, f"term {name!r}"))
        rows.append((name, chisq, float(len(cols))))
    table = pd.DataFrame(rows, columns=["term", "statistic", "df"])
    table["p_value"] = stats.chi2.sf(table["statistic"], table["df"])
    if global_test:
        u = np.concatenate([np.zeros(p), u2])
        g_stat, g_df = float(u @ _solve(big, u, "the GLOBAL test")), float(p)
        g_p = float(stats.chi2.sf(g_stat, g_df))
    else:
        g_stat, g_df, g_p = float("nan"), None, float("nan")

    # scaled Schoenfeld residuals (plot.cox.zph)
    sres, ev_rows = schoenfeld(fit)
    strata = si.stratum if si.strata_columns else None
    s_ev = np.zeros(len(ev_rows), dtype=np.int64) if strata is None else strata[ev_rows]
    n_strata = int(s_ev.max()) + 1 if strata is None else int(strata.max()) + 1
    used = np.zeros((n_strata, p))
    s_all = np.zeros(len(stop), dtype=np.int64) if strata is None else strata
    deaths_per = np.bincount(s_ev, minlength=n_strata)
    for s in range(n_strata):
        xs = result.design.matrix[s_all == s]
        varies = (xs.max(axis=0) - xs.min(axis=0)) > 0 if len(xs) else np.zeros(p, bool)
        used[s] = np.where(varies, deaths_per[s], 0)
    for cols in terms.values():
        if len(cols) > 1:
            used[:, cols] = used[:, cols].max(axis=1, keepdims=True)
    wtmat = np.zeros((p, p))
    for s in range(n_strata):
        wtmat += np.minimum.outer(used[s], used[s])
    vmean = imat1 / np.where(wtmat == 0, 1, wtmat)
    names = list(terms)
    temp = np.zeros((p, len(names)))
    for i, cols in enumerate(terms.values()):
        temp[cols, i] = 1.0 if len(cols) == 1 else beta[cols]
    sres = sres @ temp
    vmean = temp.T @ vmean @ temp
    used_t = used[:, [cols[0] for cols in terms.values()]]
    scaled = np.full_like(sres, np.nan)
    for s in range(n_strata):
        k = np.flatnonzero(used_t[s] > 0)
        j = np.flatnonzero(s_ev == s)
        if len(k) and len(j):
            scaled[np.ix_(j, k)] = _solve(
                vmean[np.ix_(k, k)], sres[np.ix_(j, k)].T, "the scaled Schoenfeld residuals"
            ).T
    for i, cols in enumerate(terms.values()):
        scaled[:, i] += beta[cols[0]] if len(cols) == 1 else 1.0
    # R's order: by stratum and time (ties: row order; reversed for (start, stop] data)
    rowpos = ev_rows if start is None else -ev_rows
    order = np.lexsort((rowpos, stop[ev_rows], s_ev))
    res = pd.DataFrame({"time": stop[ev_rows][order], "x": tt[ev_rows][order]})
    columns = {n: (f"beta({n})" if n in ("time", "x", "stratum") else n) for n in names}
    for i, name in enumerate(names):
        res[columns[name]] = scaled[order, i]
    if strata is not None:
        res.insert(0, "stratum", s_ev[order])
    var = pd.DataFrame(
        _solve(vmean, np.eye(len(names)), "the residual variance"), index=names, columns=names
    )
    coefficients = pd.Series(
        [float(beta[c[0]]) if len(c) == 1 else np.nan for c in terms.values()],
        index=names,
        dtype=float,
    )
    return PHTestResult(
        g_stat,
        g_df,
        g_p,
        method=f"Proportional-hazards test (cox.zph, transform = {transform!r}; GLOBAL)",
        details=table,
        residuals=res.reset_index(drop=True),
        columns=columns,
        coefficients=coefficients,
        variance=var,
        transform=transform,
        time_column=si.time_column,
        labels=result.labels,
    )
