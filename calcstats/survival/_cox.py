"""Cox proportional-hazards regression, matching R's ``survival::coxph``.

The fit is our own Newton–Raphson (see :mod:`calcstats.survival._coxfit` for why and how):
Efron or Breslow ties, strata, case weights, (start, stop] counting-process data, the
robust (cluster) sandwich variance of ``coxph(cluster=)``, cause-specific hazards for
competing-risk codes, and Harrell's concordance as R reports it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from calcstats._design import Design
from calcstats._errors import DataError, InvalidParameterError
from calcstats._newton import divergence_report
from calcstats._survival_input import SurvivalInput, model_input
from calcstats._validation import (
    BOOLEAN,
    COLUMN,
    COLUMNS,
    CONF_LEVEL,
    NONE,
    Options,
    validate_params,
)
from calcstats.labels import Labels
from calcstats.results import ModelResult, PHTestResult, RowUnits
from calcstats.survival._concordance import concordance_counts
from calcstats.survival._coxfit import CoxFit, fit_cox, prepare, score_residuals

__all__ = ["CoxResult", "cox", "robust_variance"]


class CoxResult(ModelResult):
    """Result of :func:`cox`.

    Attributes
    ----------
    params : pandas.Series
        Log hazard ratios.
    cov : pandas.DataFrame
        Variance–covariance matrix used for the SEs (robust with ``cluster`` or
        non-integer weights).
    naive_bse : pandas.Series
        Model-based SEs (equal to ``bse`` without a robust variance).
    model : CoxFit
        The fit object: ``coef``, ``var`` (model-based), ``loglik``, ``loglik0``,
        ``iterations``, ``linear_predictor``.
    design : Design
        The design matrix and formula coding (used by ``partial_effect``, ``adjusted_curves``).
    input : SurvivalInput
        The analysed outcome: times, status, weights, strata, clusters.
    ties : {"efron", "breslow"}
    robust : bool
        Whether ``cov`` is the robust (sandwich) variance.
    """

    ratio_measure = "HR"

    def __init__(
        self,
        params: pd.Series,
        *,
        fit: CoxFit,
        design: Design,
        si: SurvivalInput,
        cov: np.ndarray,
        ties: str,
        robust: bool,
        conf_level: float,
        nonestimable: dict[str, str],
        labels: Labels | Mapping[str, str] | None,
    ) -> None:
        super().__init__(
            params,
            cov,
            model=fit,
            conf_level=conf_level,
            nobs=si.n,
            n_events=int(si.event.sum()),
            loglik=fit.loglik,
            converged=fit.converged,
            nonestimable=nonestimable,
            terms=design.terms,
        )
        self.naive_bse = pd.Series(np.sqrt(np.diag(fit.var)), index=list(params.index))
        self.design: Design = design
        self.input = si
        self.ties = ties
        self.robust = robust
        self.labels = Labels.coerce(labels)
        self.method = f"Cox proportional-hazards model ({ties.capitalize()} ties" + (
            ", robust SE)" if robust else ")"
        )

    @property
    def formula(self) -> str:
        return self.design.formula

    def events_per_row(self) -> np.ndarray:
        """The event of interest (the ``cause``, when given) per analysed row, 0/1."""
        return np.asarray(self.input.event, dtype=float)

    def row_units(self) -> RowUnits | None:
        """Counting-process fits (``start=``): rows are intervals, of ``cluster=`` patients."""
        if self.input.start is None:
            return None
        return RowUnits(ids=self.input.cluster, id_column=self.input.columns.get("cluster"))

    @cached_property
    def concordance(self) -> float:
        """Harrell's C as R's ``coxph`` reports it (within strata, weighted)."""
        si = self.input
        return concordance_counts(
            si.time,
            si.event.astype(bool),
            self.model.linear_predictor,
            weights=si.weights,
            strata=si.stratum if si.strata_columns else None,
            start=si.start,
        )["concordance"]

    def _glance_extra(self) -> dict[str, Any]:
        p = len(self.params)
        lr = 2 * (self.model.loglik - self.model.loglik0)
        b = self.params.to_numpy()
        wald = float(b @ np.linalg.lstsq(self.cov.to_numpy(), b, rcond=None)[0])
        sc = self.model.score_test
        return {
            "concordance": self.concordance,
            "lr_statistic": lr,
            "lr_df": p,
            "lr_p_value": float(stats.chi2.sf(lr, p)),
            "wald_statistic": wald,
            "wald_df": p,
            "wald_p_value": float(stats.chi2.sf(wald, p)),
            "score_statistic": sc,
            "score_df": p,
            "score_p_value": float(stats.chi2.sf(sc, p)),
            "n_dropped": self.design.n_dropped,
            "n_zero_weight": self.input.n_zero_weight,
            "robust": self.robust,
        }

    # ---- diagnostics ----------------------------------------------------------------
    def check_ph(self, transform: str = "km", *, global_test: bool = True) -> PHTestResult:
        """Test proportional hazards as R's ``cox.zph`` (survival >= 3).

        Returns
        -------
        PHTestResult
            A :class:`~calcstats.TestResult` (the GLOBAL test) whose ``tidy(details=True)``
            has one row per term; ``residuals`` (scaled Schoenfeld) and ``smooth(term)``
            feed :func:`calcstats.plot.ph_diagnostics`.
        """
        from calcstats.survival._zph import check_ph

        return check_ph(self, transform=transform, global_test=global_test)

    def linear_predictor(self, newdata: pd.DataFrame | None = None) -> np.ndarray:
        """x·β (uncentred) for the fitted rows or for ``newdata``."""
        if newdata is None:
            return self.model.linear_predictor
        return self.design.new_data(newdata) @ self.params.to_numpy()


def robust_variance(robust: bool | None, *, cluster: str | None, fractional: bool) -> bool:
    """Whether ``cox`` reports the robust variance: as ``coxph``, by default with
    ``cluster=`` or non-integer (``fractional``) case weights; ``robust=False`` with
    ``cluster=`` is an error."""
    if robust is None:
        return cluster is not None or fractional
    if not robust and cluster is not None:
        raise InvalidParameterError(
            "cox(): robust=False cannot be combined with cluster= (a cluster only enters "
            "the robust variance); drop cluster= or leave robust at None."
        )
    return bool(robust)


@validate_params(
    {
        "time": [COLUMN],
        "event": [COLUMN],
        "ties": [Options("efron", "breslow")],
        "strata": [COLUMNS, NONE],
        "cluster": [COLUMN, NONE],
        "weights": [COLUMN, NONE],
        "start": [COLUMN, NONE],
        "robust": [BOOLEAN, NONE],
        "conf_level": [CONF_LEVEL],
    },
    engine="calcstats.survival._engine_cox:cox",
)
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
    robust: bool | None = None,
    conf_level: float = 0.95,
    labels: Labels | dict[str, str] | None = None,
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
    robust : bool, optional
        Robust (sandwich) variance, ``crossprod`` of the weighted dfbeta residuals
        summed within ``cluster`` (each row its own cluster without one), as
        ``coxph(..., robust = TRUE)``. None (default) follows R: robust with
        ``cluster=`` or non-integer weights, model-based otherwise. ``robust=False``
        with ``cluster=`` is an error; with non-integer weights it treats them as
        frequency weights (R's ``naive.var``), which is wrong for
        inverse-probability weights.
    conf_level : float
        Confidence level of the intervals.
    labels : Labels or dict, optional
        Display labels the result keeps for its tables and plots.

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
    design, si = model_input(
        data,
        formula,
        time=time,
        event=event,
        cause=cause,
        start=start,
        weights=weights,
        strata=strata,
        cluster=cluster,
        function="cox",
    )
    if not si.event.any():
        raise DataError(
            f"cox(): no events in {event!r}"
            + (f" for cause {cause}" if cause is not None else "")
            + f" among the {si.n} rows used: a Cox model needs at least one event."
        )
    status = si.event.astype(bool)
    wt = si.weights
    cd = prepare(
        design.matrix,
        si.time,
        status,
        start=si.start,
        weights=wt,
        strata=si.stratum if si.strata_columns else None,
        ties=ties,
    )
    fit = fit_cox(cd)
    nonest: dict[str, str] = {}
    if fit.diverging.any():
        nonest = divergence_report(
            design.columns,
            fit.diverging,
            fit.direction,
            model_name="cox",
            X=cd.X + cd.means,
            events=cd.status,
        )
    if not fit.converged:
        nonest = {c: "the fit did not converge" for c in design.columns}
    cov = fit.var
    robust = robust_variance(
        robust, cluster=cluster, fractional=wt is not None and bool(np.any(wt != np.floor(wt)))
    )
    if robust:
        resid = score_residuals(fit)
        w = np.ones(si.n) if wt is None else wt
        dfbeta = (resid * w[:, None]) @ fit.var
        codes = si.cluster if si.cluster is not None else np.arange(si.n)
        agg = np.zeros((int(codes.max()) + 1, dfbeta.shape[1]))
        np.add.at(agg, codes, dfbeta)
        cov = agg.T @ agg
    return CoxResult(
        pd.Series(fit.coef, index=design.columns),
        fit=fit,
        design=design,
        si=si,
        cov=cov,
        ties=ties,
        robust=robust,
        conf_level=conf_level,
        nonestimable=nonest,
        labels=labels,
    )
