"""Cox proportional-hazards regression, matching R's ``survival::coxph``.

The fit is our own Newton–Raphson (see :mod:`calcstats.survival._coxfit` for why and how):
Efron or Breslow ties, strata, case weights, (start, stop] counting-process data, the
robust (cluster) sandwich variance of ``coxph(cluster=)``, cause-specific hazards for
competing-risk codes, and Harrell's concordance as R reports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from calcstats._design import Design, build_design
from calcstats._errors import DataError, SchemaError
from calcstats._newton import divergence_report
from calcstats._result import ModelResult, check_conf_level
from calcstats._validation import check_weights
from calcstats.survival._concordance import concordance_counts
from calcstats.survival._coxfit import CoxFit, fit_cox, prepare, score_residuals
from calcstats.survival._model_input import (
    as_list,
    check_columns,
    event_codes,
    group_codes,
    time_values,
)

__all__ = ["CoxResult", "cox"]


class CoxResult(ModelResult):
    """Result of :func:`cox`.

    Attributes
    ----------
    params, bse : pandas.Series
        Log hazard ratios and their standard errors (robust when ``cluster`` was given).
    model : CoxFit
        The fit object: ``coef``, ``var`` (model-based), ``loglik``, ``loglik0``,
        ``iterations``, ``linear_predictor``.
    cov : pandas.DataFrame
        Variance–covariance matrix used for the SEs (robust with ``cluster``).
    naive_bse : pandas.Series
        Model-based SEs (equal to ``bse`` without ``cluster``).
    design : Design
        The design matrix and formula coding (used by ``partial_effect``, ``adjusted_curves``).
    """

    ratio_measure = "HR"

    def __init__(self, params: pd.Series, *, fit: CoxFit, design: Design,
                 cov: np.ndarray, info: dict[str, Any], conf_level: float,
                 nonestimable: dict[str, str]) -> None:
        super().__init__(params, cov, model=fit, conf_level=conf_level, nobs=info["n"],
                         n_events=info["n_events"], loglik=fit.loglik,
                         converged=fit.converged, nonestimable=nonestimable,
                         terms=design.terms)
        names = list(params.index)
        self.naive_bse = pd.Series(np.sqrt(np.diag(fit.var)), index=names)
        self.design = design
        self.info = info
        self.method = f"Cox proportional hazards ({info['ties'].capitalize()} ties" + (
            ", robust SE)" if info["robust"] else ")")

    # ---- tests --------------------------------------------------------------------
    @property
    def lr_test(self) -> tuple[float, int, float]:
        """Likelihood-ratio test of all coefficients: (statistic, df, p)."""
        stat = 2 * (self.model.loglik - self.model.loglik0)
        df = len(self.params)
        return stat, df, float(stats.chi2.sf(stat, df))

    @property
    def wald_test(self) -> tuple[float, int, float]:
        """Wald test of all coefficients with the reported (robust if clustered) variance."""
        b = self.params.to_numpy()
        stat = float(b @ np.linalg.lstsq(self.cov.to_numpy(), b, rcond=None)[0])
        return stat, len(b), float(stats.chi2.sf(stat, len(b)))

    @property
    def score_test(self) -> tuple[float, int, float]:
        """Score (log-rank) test at β = 0, model-based."""
        stat = self.model.score_test
        return stat, len(self.params), float(stats.chi2.sf(stat, len(self.params)))

    @cached_property
    def concordance(self) -> float:
        """Harrell's C as R's ``coxph`` reports it (within strata, weighted)."""
        i = self.info
        return concordance_counts(i["stop"], i["status"], self.model.linear_predictor,
                                  weights=i["weights"], strata=i["strata"],
                                  start=i["start"])["concordance"]

    def _glance_extra(self) -> dict[str, Any]:
        lr, wald, sc = self.lr_test, self.wald_test, self.score_test
        return {
            "concordance": self.concordance,
            "lr_statistic": lr[0], "lr_df": lr[1], "lr_p_value": lr[2],
            "wald_statistic": wald[0], "wald_df": wald[1], "wald_p_value": wald[2],
            "score_statistic": sc[0], "score_df": sc[1], "score_p_value": sc[2],
            "n_dropped": self.info["n_dropped"],
            "n_zero_weight": self.info["n_zero_weight"],
            "robust": self.info["robust"],
        }

    # ---- diagnostics ----------------------------------------------------------------
    def check_ph(self, transform: str = "km", *, global_test: bool = True):
        """Test proportional hazards as R's ``cox.zph`` (survival >= 3).

        Returns a ``PHCheck`` (calcstats.survival._zph) with ``.table`` (term, chisq, df,
        p_value; last row GLOBAL), ``.residuals`` (scaled Schoenfeld residuals) and
        ``.smooth(term)``.
        """
        from calcstats.survival._zph import check_ph

        return check_ph(self, transform=transform, global_test=global_test)

    def linear_predictor(self, newdata: pd.DataFrame | None = None) -> np.ndarray:
        """x·β (uncentred) for the fitted rows or for ``newdata``."""
        if newdata is None:
            return self.model.linear_predictor
        return self.design.new_data(newdata) @ self.params.to_numpy()


def cox(
    data: pd.DataFrame,
    formula: str,
    *,
    time: str,
    event: str,
    cause: int | None = None,
    ties: str = "efron",
    strata: str | Sequence[str] | None = None,
    cluster: str | None = None,
    weights: str | None = None,
    start: str | None = None,
    conf_level: float = 0.95,
) -> CoxResult:
    """Fit a Cox proportional-hazards model (as R's ``coxph``).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per subject, or per (start, stop] interval when ``start`` is given.
    formula : str
        Right-hand side in patsy syntax: ``"age + C(etiology) + log(bili)"``,
        ``"cr(age, df=4)"`` (natural spline), ``"x1:x2"`` (interaction).
    time : str
        Follow-up time column (the stop time with ``start``).
    event : str
        0/1 (or bool) event column, or integer codes 0 = censored, 1..k = cause k.
    cause : int, optional
        With cause codes: the event of interest; other causes count as censored
        (cause-specific hazard).
    ties : {"efron", "breslow"}
        Approximation for tied event times (R's default is Efron).
    strata : str or list of str, optional
        Columns defining strata with separate baseline hazards (as ``strata()`` in R).
    cluster : str, optional
        Cluster (e.g. patient) column: SEs become the robust sandwich SEs of
        ``coxph(..., cluster=)``; needed with several rows per patient.
    weights : str, optional
        Case-weight column (positive), as ``coxph(weights=)``. As in R, non-integer
        weights (e.g. inverse-probability weights) give robust (sandwich) SEs.
    start : str, optional
        Interval start column for counting-process data (``Surv(start, stop, event)``),
        e.g. from ``cohort.counting_process_table``: a row is at risk on (start, time].
    conf_level : float
        Confidence level of the intervals.

    Returns
    -------
    CoxResult
        ``tidy()`` (HR by default), ``glance()`` (n, n_events, log-likelihood, AIC,
        concordance, likelihood-ratio / Wald / score tests), ``check_ph()``.

    Examples
    --------
    >>> import calcstats as cs
    >>> pbc = cs.datasets.load_pbc()
    >>> fit = cs.cox(pbc, "age + log(bili)", time="time", event="status", cause=2)
    >>> print(fit.tidy()[["term", "estimate"]].round(3).to_string(index=False))
         term  estimate
          age     1.045
    log(bili)     2.759
    """
    level = check_conf_level(conf_level)
    if ties not in ("efron", "breslow"):
        raise SchemaError(f"ties must be 'efron' or 'breslow', got {ties!r}.")
    strata_cols = as_list(strata)
    outcome = [time, event, *([start] if start else [])]
    others = [*strata_cols, *([cluster] if cluster else []), *([weights] if weights else [])]
    check_columns(data, [*outcome, *others])
    n_zero = 0
    if weights:
        present = data[weights].notna()
        w_all = check_weights(data.loc[present, weights], column=weights, function="cox")
        zero = np.zeros(len(data), dtype=bool)
        zero[np.flatnonzero(present.to_numpy())] = w_all == 0
        n_zero = int(zero.sum())
        if n_zero:
            data = data.loc[~zero]
    design = build_design(data, formula, response=False, intercept=False,
                          extra=[*outcome, *others], model_name="cox")
    sub = data.iloc[design.rows]
    stop = time_values(sub, time)
    st = time_values(sub, start, what="start") if start else None
    if st is not None:
        bad = st >= stop
        if bad.any():
            raise DataError(
                f"{int(bad.sum())} row(s) have {start!r} >= {time!r} (e.g. rows "
                f"{sub.index[np.flatnonzero(bad)[:3]].tolist()}); each interval must have "
                "start < stop."
            )
    status = event_codes(sub, event, cause)
    if not status.any():
        raise DataError(
            f"no events in {event!r}"
            + (f" for cause {cause}" if cause is not None else "")
            + f" among the {len(sub)} rows used: a Cox model needs at least one event."
        )
    wt = sub[weights].to_numpy(dtype=float) if weights else None
    scodes, slabels = group_codes(sub, strata_cols) if strata_cols else (None, None)
    X = design.matrix
    cd = prepare(X, stop, status, start=st, weights=wt, strata=scodes, ties=ties)
    fit = fit_cox(cd)
    nonest: dict[str, str] = {}
    if fit.diverging.any():
        raw_sorted = cd.X + cd.means
        nonest = divergence_report(design.columns, fit.diverging, fit.direction,
                                   model_name="cox", X=raw_sorted, events=cd.status)
    if not fit.converged:
        nonest = {c: "the fit did not converge" for c in design.columns}
    cov = fit.var
    # as coxph: robust variance with cluster=, or with non-integer case weights
    robust = bool(cluster) or (wt is not None and bool(np.any(wt != np.floor(wt))))
    if robust:
        resid = score_residuals(fit)
        w = np.ones(len(stop)) if wt is None else wt
        dfbeta = (resid * w[:, None]) @ fit.var
        if cluster:
            codes, _ = pd.factorize(sub[cluster])
        else:
            codes = np.arange(len(stop))
        agg = np.zeros((codes.max() + 1, dfbeta.shape[1]))
        np.add.at(agg, codes, dfbeta)
        cov = agg.T @ agg
    params = pd.Series(fit.coef, index=design.columns)
    info = {
        "n": len(stop), "n_events": int(status.sum()), "n_dropped": design.n_dropped,
        "n_zero_weight": n_zero,
        "ties": ties, "cluster": cluster, "robust": robust, "stop": stop, "start": st,
        "status": status,
        "weights": wt, "strata": scodes, "strata_cols": strata_cols, "time": time,
        "event": event, "cause": cause, "start_col": start, "weights_col": weights,
        "strata_labels": slabels, "data": sub, "formula": formula,
    }
    return CoxResult(params, fit=fit, design=design, cov=cov, info=info,
                     conf_level=level, nonestimable=nonest)
