"""``parametric_survival``: Weibull, log-normal and log-logistic models, fitted by lifelines.

The engine is lifelines: ``WeibullAFTFitter``, ``LogNormalAFTFitter`` and
``LogLogisticAFTFitter``, with ``fit_interval_censoring`` when some row is
interval-censored and ``fit`` when every row is exact or right-censored. calcstats adds
what lifelines leaves to the user, and nothing else:

* **The design** comes from the one formula builder (:func:`calcstats._design.
  build_design`), centred and scaled for the fit (:class:`calcstats._design.Scaling`) and
  mapped back, so terms are named as everywhere (``Intercept``, ``age``,
  ``C(etiology)[T.psc]``) and the fit does not depend on a covariate's units.
* **Tolerances.** lifelines' defaults stop early (log-logistic coefficients about 5e-4
  from the maximum, log-normal 2e-6); the fits here use SLSQP, lifelines' own optimiser
  for the Weibull and log-logistic models, with ``ftol=1e-14`` for all three, which agree
  with R's ``survreg`` to about 1e-7 on the reference data (tests/reference/interval.R).
  The log-normal model's default BFGS fails with "precision loss" on about one data set
  in fifteen once its ``gtol`` is tight enough, SLSQP on none of sixty.
* **left = 0.** lifelines evaluates ``log(left)`` and its log-normal fitter fails on a
  zero lower bound. A row ``(0, right]`` contributes ``F(right) - F(0) = F(right)``: it is
  sent as ``(tiny, right]`` with ``tiny`` the smallest normal double (2.2e-308), where
  ``F`` is 0 in double precision for any scale below ~50 (log-time spread of 700/scale
  standard units), so the likelihood is R's left-censored one (what the R script does by
  recoding left = 0 as missing).
* **survreg's parameters.** lifelines' primary coefficients (``lambda_``, ``mu_``,
  ``alpha_``) are survreg's; survreg's scale is ``exp(-rho_)`` (Weibull),
  ``exp(sigma_)`` (log-normal) and ``exp(-beta_)`` (log-logistic). ``full_cov`` is the
  covariance of the coefficients and ``Log(scale)``, as ``vcov(survreg)``, mapped from
  lifelines' ``variance_matrix_`` (the inverse of its exact Hessian).
* **Weibull PH.** ``model="ph"`` reports ``h(t|x) = lambda k t^(k-1) exp(x'b)`` with
  ``b = -coef / scale`` (log hazard ratios; the intercept row is ``log lambda``) and shape
  ``k = 1 / scale``, standard errors by the delta method from ``full_cov``.
* **Log-likelihood** is lifelines', on the time scale as survreg's: interval rows
  ``log(F(R) - F(L))``, right-censored ``log S(L)``, exact ``log f(t)``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from lifelines import LogLogisticAFTFitter, LogNormalAFTFitter, WeibullAFTFitter
from lifelines.exceptions import ConvergenceError as LifelinesConvergenceError

from calcstats._design import Design, build_design
from calcstats._errors import ConvergenceError, DataError, InvalidParameterError
from calcstats._newton import divergence_report
from calcstats._survival_input import _row
from calcstats._validation import COLUMN, CONF_LEVEL, Options, validate_params
from calcstats.labels import Labels
from calcstats.results import ModelResult
from calcstats.survival._interval_input import IntervalInput, interval_input

__all__ = ["DISTRIBUTIONS", "ParametricSurvivalResult", "fit_parametric", "parametric_survival"]

DISTRIBUTIONS = ("weibull", "lognormal", "loglogistic")
_FITTERS = {
    "weibull": WeibullAFTFitter,
    "lognormal": LogNormalAFTFitter,
    "loglogistic": LogLogisticAFTFitter,
}
#: log(survreg scale) = sign * lifelines' ancillary intercept
_SIGN = {"weibull": -1.0, "lognormal": 1.0, "loglogistic": -1.0}
#: SLSQP's stopping rule (lifelines' defaults: 1e-10 Weibull, 1e-6 log-logistic; log-normal
#: uses BFGS with gtol=1e-5, which stops 2e-6 short and fails at tighter gtol)
_OPTIONS = {"ftol": 1e-14, "maxiter": 2000}
_NAMES = {"weibull": "Weibull", "lognormal": "log-normal", "loglogistic": "log-logistic"}
_TINY = float(np.finfo(float).tiny)
#: SE of a coefficient of the centred and scaled design beyond which it has diverged
_DIVERGED_SE = 1e3


class ParametricSurvivalResult(ModelResult):
    """Result of :func:`parametric_survival`.

    ``tidy()`` gives time ratios (``exp(coef)``, AFT) or hazard ratios (Weibull PH) by
    default; ``glance()`` adds ``scale`` (survreg's), ``log_scale``, ``log_scale_se``,
    ``shape`` (Weibull) and the numbers of rows by kind.

    Attributes
    ----------
    params : pandas.Series
        AFT: survreg's coefficients (log time ratios). PH: ``log lambda`` (``Intercept``)
        and log hazard ratios.
    cov : pandas.DataFrame
        Covariance of ``params``.
    full_cov : pandas.DataFrame
        Covariance of ``params`` and ``Log(scale)`` (AFT, as ``vcov(survreg)``) or
        ``Log(shape)`` (PH).
    scale, log_scale, log_scale_se : float
        survreg's scale, its log and the SE of the log.
    shape : float
        Weibull shape ``1 / scale`` (NaN for the other distributions).
    distribution : {"weibull", "lognormal", "loglogistic"}
    parametrization : {"aft", "ph"}
    model : lifelines fitter
        The fitted lifelines object (on the centred and scaled design).
    design : Design
        The design matrix and formula coding.
    input : IntervalInput
        The analysed outcome.
    counts : dict
        ``n_interval``, ``n_left_zero``, ``n_exact``, ``n_right_censored``.
    """

    def __init__(
        self,
        params: pd.Series,
        *,
        full_cov: pd.DataFrame,
        fitter: Any,
        design: Design,
        ii: IntervalInput,
        distribution: str,
        parametrization: str,
        nonestimable: dict[str, str],
        log_scale: float,
        conf_level: float,
        labels: Labels | Mapping[str, str] | None,
        method: str,
    ) -> None:
        p = len(params)
        counts = ii.counts()
        super().__init__(
            params,
            full_cov.iloc[:p, :p].to_numpy(),
            model=fitter,
            conf_level=conf_level,
            nobs=counts["n"],
            n_events=counts["n"] - counts["n_right_censored"],
            loglik=float(fitter.log_likelihood_),
            n_params=p + 1,
            terms=design.terms,
            nonestimable=nonestimable,
        )
        self.full_cov = full_cov
        self.distribution = distribution
        self.parametrization = parametrization
        self.ratio_measure = "HR" if parametrization == "ph" else "TR"
        self.log_scale = float(log_scale)
        self.scale = float(np.exp(log_scale))
        self.log_scale_se = float(np.sqrt(full_cov.iloc[p, p]))
        self.shape = 1.0 / self.scale if distribution == "weibull" else float("nan")
        self.design: Design = design
        self.input = ii
        self.counts = {k: v for k, v in counts.items() if k != "n"}
        self.labels = Labels.coerce(labels)
        self.method = method

    @property
    def formula(self) -> str:
        return self.design.formula

    def _glance_extra(self) -> dict[str, Any]:
        return {
            "distribution": self.distribution,
            "model": self.parametrization,
            "scale": self.scale,
            "log_scale": self.log_scale,
            "log_scale_se": self.log_scale_se,
            "shape": self.shape,
            **self.counts,
            "n_dropped": self.design.n_dropped,
        }


def _lifelines_fit(
    distribution: str, Z: np.ndarray, names: list[str], lo: np.ndarray, hi: np.ndarray
) -> Any:
    """Fit lifelines' AFT model on the design ``Z`` (columns already include the intercept)."""
    cols = [f"z{i:04d}" for i in range(Z.shape[1])]  # lifelines sorts column names
    frame = pd.DataFrame(Z, columns=cols)
    fitter = _FITTERS[distribution](fit_intercept=False)
    fitter._scipy_fit_method = "SLSQP"  # already lifelines' choice for two of the three
    interval = bool(np.any((lo != hi) & np.isfinite(hi)))
    lower = np.where(lo > 0, lo, _TINY)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # lifelines' advisory notes (scaling, separation)
            if interval:
                frame["_lower"], frame["_upper"] = lower, hi
                fitter.fit_interval_censoring(frame, "_lower", "_upper", fit_options=_OPTIONS)
            else:
                frame["_time"], frame["_event"] = lower, np.isfinite(hi).astype(int)
                fitter.fit(frame, "_time", "_event", fit_options=_OPTIONS)
    except LifelinesConvergenceError as exc:
        why = [ln.strip() for ln in str(exc).splitlines() if ln.strip().startswith("message:")]
        raise ConvergenceError(
            f"parametric_survival(): lifelines' {type(fitter).__name__} did not converge on "
            f"the terms {names}" + (f" ({why[0]})" if why else "") + ". Check for a term "
            "that separates the events (every event in one level), or drop terms."
        ) from None
    return fitter


def fit_parametric(
    design: Design,
    ii: IntervalInput,
    *,
    distribution: str,
    model: str,
    conf_level: float,
    labels: Labels | dict[str, Any] | None,
    note: str = "",
) -> ParametricSurvivalResult:
    """Fit one model on a built design and its checked outcome (rows aligned)."""
    if not np.isfinite(ii.right).any():
        raise DataError(
            "parametric_survival(): no event was seen (every row is right-censored); the "
            "model has nothing to estimate."
        )
    zero = np.flatnonzero((ii.left == ii.right) & (ii.right == 0))
    if zero.size:
        raise DataError(
            f"parametric_survival(): {zero.size} exact event time(s) of 0 (first at row "
            f"{_row(ii.data, zero[0])}); a log-time model needs positive event times. An "
            "event before the first assessment is the interval (0, right]."
        )
    sc = design.scaling()
    names = design.columns
    fitter = _lifelines_fit(distribution, sc.apply(design.matrix), names, ii.left, ii.right)
    params, variance = fitter.params_, fitter.variance_matrix_
    prim, anc = fitter._primary_parameter_name, fitter._ancillary_parameter_name
    cols = [f"z{i:04d}" for i in range(len(names))]
    keys = [(prim, c) for c in cols] + [(anc, "Intercept")]
    gamma = params.loc[keys[:-1]].to_numpy(dtype=float)
    v = variance.loc[keys, keys].to_numpy(dtype=float)
    p = len(names)
    sign = _SIGN[distribution]
    back = np.zeros((p + 1, p + 1))
    back[:p, :p] = sc.back
    back[p, p] = sign
    beta = sc.back @ gamma
    log_scale = sign * float(params.loc[(anc, "Intercept")])
    full = back @ v @ back.T
    if model == "ph":
        sigma = np.exp(log_scale)
        jac = np.zeros((p + 1, p + 1))
        jac[:p, :p] = np.eye(p) * (-1.0 / sigma)
        jac[:p, p] = beta / sigma
        jac[p, p] = -1.0
        est = -beta / sigma
        full = jac @ full @ jac.T
        last = "Log(shape)"
    else:
        est = beta
        last = "Log(scale)"
    full_cov = pd.DataFrame(full, index=[*names, last], columns=[*names, last])
    # a monotone likelihood (e.g. every event in one level) leaves lifelines at a point
    # where the standardised coefficient has an SE in the thousands; such terms are NaN
    with np.errstate(invalid="ignore"):
        se_std = np.sqrt(np.diag(v)[:p])
    diverging = ~np.isfinite(se_std) | (se_std > _DIVERGED_SE)
    nonestimable = {}
    if diverging.any():
        nonestimable = divergence_report(
            names,
            diverging,
            np.sign(est),
            model_name="parametric_survival",
            X=design.matrix,
            events=np.isfinite(ii.right).astype(float),
        )
    form = "proportional hazards" if model == "ph" else "accelerated failure time"
    kind = "interval-censored" if ii.interval.any() else "right-censored"
    method = (
        f"{_NAMES[distribution]} {form} model, {kind} data (lifelines, maximum likelihood){note}"
    )
    return ParametricSurvivalResult(
        pd.Series(est, index=names),
        full_cov=full_cov,
        fitter=fitter,
        design=design,
        ii=ii,
        distribution=distribution,
        parametrization=model,
        nonestimable=nonestimable,
        log_scale=log_scale,
        conf_level=conf_level,
        labels=labels,
        method=method,
    )


def check_model(distribution: str, model: str, function: str) -> None:
    if model == "ph" and distribution != "weibull":
        raise InvalidParameterError(
            f"The 'model' parameter of {function} can be 'ph' only with "
            f"distribution='weibull' (the one distribution that is both an accelerated "
            f"failure time and a proportional-hazards model). Got model='ph' with "
            f"distribution={distribution!r}; use model='aft'."
        )


def model_frame(
    data: pd.DataFrame, formula: str, *, left: str, right: str, function: str
) -> tuple[Design, IntervalInput]:
    """Outcome check on every row, then the design (rows with missing covariates dropped
    with a :class:`~calcstats.DataWarning`), then the outcome of the analysed rows."""
    ii = interval_input(data, left=left, right=right, function=function)
    design = build_design(data, formula, response=False, intercept=True, model_name=function)
    return design, ii.subset(design.rows)


@validate_params(
    {
        "left": [COLUMN],
        "right": [COLUMN],
        "distribution": [Options(*DISTRIBUTIONS)],
        "model": [Options("aft", "ph")],
        "conf_level": [CONF_LEVEL],
    }
)
def parametric_survival(
    data: pd.DataFrame,
    formula: str,
    *,
    left: str,
    right: str,
    distribution: str = "weibull",
    model: str = "aft",
    conf_level: float = 0.95,
    labels: Labels | dict[str, Any] | None = None,
) -> ParametricSurvivalResult:
    """Parametric survival regression on interval- or right-censored data (survreg).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per subject, e.g. ``cohort.interval_table("calcification")``.
    formula : str
        Right-hand side, as in :func:`calcstats.cox` (``"age_at_index + C(etiology)"``,
        ``"1"`` for no covariate); the model has an intercept.
    left, right : str
        The event happened in ``(left, right]`` (``left`` 0: before the first assessment;
        ``right`` missing or ``inf``: right-censored; ``left == right``: exact). For
        right-censored data give ``left`` = follow-up time and ``right`` = the same time for
        an event, ``inf`` otherwise.
    distribution : {"weibull", "lognormal", "loglogistic"}
        Distribution of the event time (of ``log T`` minus the linear predictor: extreme
        value, normal, logistic).
    model : {"aft", "ph"}
        Accelerated failure time (coefficients are log time ratios, as survreg), or
        proportional hazards (Weibull only: log hazard ratios ``-coef / scale``).
    conf_level : float
        Confidence level of the intervals.
    labels : Labels or dict, optional
        Display labels the result keeps for its tables and plots.

    Returns
    -------
    ParametricSurvivalResult
        ``tidy()`` (time ratios, or hazard ratios with ``model="ph"``), ``glance()``
        (log-likelihood on the time scale, ``scale``, ...), ``full_cov``.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> import calcstats as cs
    >>> d = pd.DataFrame({"left": [0, 1, 2, 1, 3, 0, 2, 4], "x": [0, 0, 1, 1, 1, 0, 1, 0],
    ...                   "right": [1, 3, np.inf, 2, np.inf, 2, 5, 6]})
    >>> fit = cs.parametric_survival(d, "x", left="left", right="right")
    >>> print(fit.tidy()[["term", "estimate"]].round(3).to_string(index=False))
         term  estimate
    Intercept     2.362
            x     1.729
    >>> round(fit.scale, 4), round(fit.loglik, 4)
    (0.6889, -8.5667)
    """
    function = "parametric_survival"
    check_model(distribution, model, function)
    design, ii = model_frame(data, formula, left=left, right=right, function=function)
    return fit_parametric(
        design,
        ii,
        distribution=distribution,
        model=model,
        conf_level=float(conf_level),
        labels=labels,
    )
