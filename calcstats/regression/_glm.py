"""Generalised linear models: logistic, log-binomial, Poisson, negative binomial, linear.

Fitting is statsmodels' IRLS (``GLM``) and ``OLS``/``WLS``; this module adds what a paper
needs: exponentiated tidy output, missing-row accounting, separation and convergence
checks, the log-binomial → modified-Poisson fallback, and MASS::glm.nb's theta.

Standard errors
---------------
* ``robust=True`` (Poisson): sandwich HC0, as R ``sandwich::vcovHC(fit, type="HC0")``.
* ``cluster=``: cluster-robust sandwich as R ``sandwich::vcovCL(fit, cluster=)`` with its
  defaults: ``cadjust=TRUE`` (factor ``G/(G-1)``) and ``type="HC1"`` for ``lm`` (extra
  ``(n-1)/(n-k)``, as Stata's ``vce(cluster)``) but ``type="HC0"`` for ``glm`` (no extra
  factor). So ``linear`` uses ``G/(G-1)*(n-1)/(n-k)`` and the GLMs ``G/(G-1)``.
* ``weights=``: prior weights as R ``glm(weights=)`` / ``lm(weights=)``.

Negative binomial regression lives in ``_negbin.py``.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.tools.sm_exceptions import ConvergenceWarning as SMConvergenceWarning
from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

from calcstats._errors import (
    CalcstatsError,
    ConvergenceWarning,
    DataError,
    SeparationWarning,
    SparseDataWarning,
)
from calcstats._result import check_conf_level
from calcstats.regression._design import Design, build_design
from calcstats.regression._results import (
    LinearResult,
    LogBinomialResult,
    LogisticResult,
    PoissonResult,
    RegressionResult,
)

__all__ = ["linear", "log_binomial", "logistic", "poisson"]


# ---------------------------------------------------------------------------------------
def _check_binary(design: Design, name: str) -> None:
    y = design.y.to_numpy(dtype=float)
    bad = ~np.isin(y, (0.0, 1.0))
    if bad.any():
        vals = sorted(set(np.unique(y[bad]).tolist()))[:5]
        raise DataError(
            f"{name}(): outcome {design.outcome!r} must be 0/1 (or True/False); found values "
            f"{vals}. Recode it, e.g. 'I(stage == 4) ~ ...'."
        )
    if y.min() == y.max():
        raise DataError(
            f"{name}(): outcome {design.outcome!r} takes the single value {y[0]:g} in all "
            f"{len(y)} analysed rows; there is nothing to model."
        )


def _check_counts(design: Design, name: str) -> None:
    y = design.y.to_numpy(dtype=float)
    if np.any(y < 0) or np.any(np.abs(y - np.round(y)) > 1e-8):
        raise DataError(
            f"{name}(): outcome {design.outcome!r} must hold non-negative counts."
        )


def _cov_spec(design: Design, robust: bool) -> tuple[str, dict[str, Any], str]:
    if design.groups is not None:
        kw = {"groups": design.groups, "use_correction": True, "df_correction": True}
        n_g = int(design.groups.max()) + 1
        if n_g < 2:
            raise DataError("cluster= needs at least two clusters in the analysed rows.")
        return "cluster", kw, f"cluster-robust ({n_g} clusters)"
    if robust:
        return "HC0", {}, "robust (HC0)"
    return "nonrobust", {}, "model-based"


def _glm_fit(
    design: Design,
    family: Any,
    *,
    robust: bool = False,
    start: np.ndarray | None = None,
    offset: np.ndarray | None = None,
) -> tuple[Any, str, list[str]]:
    cov_type, cov_kw, se_type = _cov_spec(design, robust)
    caught: list[str] = []
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        model = sm.GLM(
            design.y,
            design.X,
            family=family,
            offset=design.offset if offset is None else offset,
            var_weights=design.weights,
        )
        res = model.fit(start_params=start, maxiter=100, tol=1e-10, cov_type=cov_type,
                        cov_kwds=cov_kw or None)
    if cov_type == "cluster":
        # statsmodels applies G/(G-1)*(n-1)/(n-k); vcovCL on a glm uses G/(G-1) only
        n, k = design.X.shape
        res.calcstats_cov_scale = (n - k) / (n - 1)
        se_type += "; G/(G-1) adjustment (vcovCL HC0)"
    for w in rec:
        if issubclass(w.category, PerfectSeparationWarning):
            caught.append("separation")
        elif issubclass(w.category, SMConvergenceWarning):
            caught.append("convergence")
        elif issubclass(w.category, RuntimeWarning):
            caught.append("numerical")
    if not res.converged:
        caught.append("convergence")
    return res, se_type, caught


def _weighted_sum(design: Design, v: np.ndarray) -> float:
    return float(np.sum(v if design.weights is None else design.weights * v))


def _events(design: Design) -> int | None:
    return round(_weighted_sum(design, design.y.to_numpy(dtype=float)))


def _wrap(
    cls: type[RegressionResult],
    design: Design,
    res: Any,
    *,
    method: str,
    se_type: str,
    loglik: float,
    conf_level: float,
    refit: Any,
    n_params: int | None = None,
    df_resid: float | None = None,
    extra: dict[str, Any] | None = None,
    events: bool = True,
) -> RegressionResult:
    names = list(design.X.columns)
    params = pd.Series(np.asarray(res.params, dtype=float), index=names)
    scale = getattr(res, "calcstats_cov_scale", 1.0)
    cov = pd.DataFrame(scale * np.asarray(res.cov_params(), dtype=float), index=names,
                       columns=names)
    return cls(
        params,
        cov,
        design=design,
        model=res,
        method=method,
        loglik=loglik,
        n_events=_events(design) if events else None,
        n_params=n_params,
        df_resid=df_resid,
        se_type=se_type,
        conf_level=conf_level,
        refit=refit,
        extra=extra,
    )


def _subset(design: Design, cols: list[str]) -> Design:
    return replace(design, X=design.X[cols])


# ---------------------------------------------------------------------------------------
def _separation_check(design: Design, res: Any, caught: list[str]) -> None:
    p = np.asarray(res.fittedvalues, dtype=float)
    extreme = (p < 1e-8) | (p > 1 - 1e-8)
    huge = np.asarray(res.bse, dtype=float) > 1e3 * np.maximum(1.0, np.abs(res.params).median())
    big_coef = np.abs(np.asarray(res.params, dtype=float)) > 15
    if "separation" in caught or (extreme.any() and (huge.any() or big_coef.any())):
        terms = [c for c, h, b in zip(design.X.columns, huge, big_coef, strict=True) if h or b]
        warnings.warn(
            f"logistic(): (quasi-)complete separation in {design.formula!r}: "
            f"{int(extreme.sum())} rows have fitted probability 0 or 1 and the maximum-"
            f"likelihood estimates of {terms or 'some terms'} are infinite (the printed values "
            "are arbitrary). Use method='firth' for finite, bias-reduced estimates with profile-"
            "likelihood intervals, or merge sparse levels.",
            SeparationWarning,
            stacklevel=3,
        )


def _unbounded_check(design: Design, res: Any, name: str, category: type[Warning]) -> None:
    """Warn when an estimate runs off to infinity (e.g. a level with zero events)."""
    b = np.abs(np.asarray(res.params, dtype=float))
    se = np.asarray(res.bse, dtype=float)
    bad = (se > 1e3 * max(1.0, float(np.median(b)))) | (b > 20) | ~np.isfinite(se)
    if bad.any():
        terms = [c for c, x in zip(design.X.columns, bad, strict=True) if x]
        warnings.warn(
            f"{name}(): the estimates of {terms} in {design.formula!r} are unbounded (maximum "
            "likelihood at infinity, e.g. a level with no events or all events); their values "
            "and SEs are arbitrary. Merge sparse levels or remove the term"
            + (", or use logistic(method='firth')." if category is SeparationWarning else "."),
            category,
            stacklevel=4,
        )


def _fit_logistic_ml(design: Design, conf_level: float, *, warn: bool = True) -> RegressionResult:
    res, se_type, caught = _glm_fit(design, sm.families.Binomial())
    if warn:
        _separation_check(design, res, caught)
        if "convergence" in caught and "separation" not in caught:
            warnings.warn(
                f"logistic(): IRLS did not converge for {design.formula!r}; estimates are "
                "unreliable. Check for separation or rescale covariates; method='firth' helps "
                "with sparse data.",
                ConvergenceWarning,
                stacklevel=3,
            )
    return _wrap(
        LogisticResult, design, res, method="logistic regression (ML)", se_type=se_type,
        loglik=float(res.llf), conf_level=conf_level,
        refit=lambda cols: _fit_logistic_ml(_subset(design, cols), conf_level, warn=False),
    )


def logistic(
    data: pd.DataFrame,
    formula: str,
    *,
    method: str = "ml",
    weights: str | None = None,
    cluster: str | None = None,
    conf_level: float = 0.95,
    ci_method: str = "wald",
) -> RegressionResult:
    """Logistic regression: odds ratios for a binary outcome.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per subject.
    formula : str
        statsmodels/patsy formula, e.g. ``"any_calc ~ C(etiology, Treatment('pbc')) + age"``.
        The outcome must be 0/1 or boolean (``I(stage == 4)`` works).
    method : {"ml", "firth"}
        ``"ml"`` maximum likelihood (R ``glm(family=binomial)``); ``"firth"`` Firth's
        penalised likelihood with profile penalised-likelihood CIs and penalised LR p-values,
        as R ``logistf``. Separation under ``"ml"`` gives a SeparationWarning.
    weights : str, optional
        Column of prior weights (R ``glm(weights=)``).
    cluster : str, optional
        Column identifying clusters for cluster-robust SEs (R ``sandwich::vcovCL``).
    conf_level : float
        Confidence level of the intervals.
    ci_method : {"wald", "profile"}
        Wald intervals (as Stata, ``confint.default``) or profile-likelihood intervals (as R
        ``confint(glm)``, which gtsummary/broom show); not with ``cluster=``. Firth always
        uses profile penalised-likelihood intervals.

    Returns
    -------
    LogisticResult
        ``tidy()`` gives odds ratios by default; ``glance()`` n, events, logLik, AIC.

    Examples
    --------
    >>> import calcstats as cs
    >>> pbc = cs.datasets.load_pbc()
    >>> fit = cs.logistic(pbc, "I(stage == 4) ~ age + sex + albumin")
    >>> fit.tidy()  # doctest: +SKIP
    """
    conf_level = check_conf_level(conf_level)
    if method not in ("ml", "firth"):
        raise CalcstatsError(f"method must be 'ml' or 'firth', got {method!r}.")
    if ci_method not in ("wald", "profile"):
        raise CalcstatsError(f"ci_method must be 'wald' or 'profile', got {ci_method!r}.")
    design = build_design(data, formula, weights=weights, cluster=cluster, model_name="logistic")
    _check_binary(design, "logistic")
    if method == "firth":
        if cluster is not None:
            raise CalcstatsError(
                "cluster= is not available with method='firth' (profile-likelihood intervals "
                "assume independent rows); use method='ml' with cluster=."
            )
        from calcstats.regression._firth import fit_firth

        return fit_firth(design, conf_level)
    fit = _fit_logistic_ml(design, conf_level)
    return _with_ci_method(fit, ci_method, sm.families.Binomial())


def _with_ci_method(fit: RegressionResult, ci_method: str, family: Any) -> RegressionResult:
    if ci_method not in ("wald", "profile"):
        raise CalcstatsError(f"ci_method must be 'wald' or 'profile', got {ci_method!r}.")
    if ci_method == "profile":
        if fit.se_type != "model-based":
            raise CalcstatsError(
                "ci_method='profile' needs model-based standard errors; with robust or "
                "cluster-robust SEs use ci_method='wald'."
            )
        from calcstats.regression._profile import profile_intervals

        fit._profile_fn = lambda level: profile_intervals(fit, family, level)
        fit.se_type = "model-based; profile-likelihood CI"
    return fit


# ---------------------------------------------------------------------------------------
def _fit_poisson(
    design: Design, conf_level: float, robust: bool, *, cls: type = PoissonResult,
    method: str | None = None, warn: bool = True,
) -> RegressionResult:
    res, se_type, caught = _glm_fit(design, sm.families.Poisson(), robust=robust)
    if "convergence" in caught:
        warnings.warn(
            f"poisson(): IRLS did not converge for {design.formula!r}; estimates unreliable.",
            ConvergenceWarning,
            stacklevel=3,
        )
    if warn:
        _unbounded_check(design, res, "poisson" if cls is PoissonResult else "log_binomial",
                         SparseDataWarning if cls is PoissonResult else SeparationWarning)
    if method is None:
        method = "modified Poisson (robust HC0)" if robust else "Poisson regression"
        if design.offset is not None:
            method += " with log person-time offset"
    return _wrap(
        cls, design, res, method=method, se_type=se_type, loglik=float(res.llf),
        conf_level=conf_level,
        refit=lambda cols: _fit_poisson(_subset(design, cols), conf_level, robust, cls=cls,
                                        method=method, warn=False),
    )


def poisson(
    data: pd.DataFrame,
    formula: str,
    *,
    exposure: str | None = None,
    robust: bool = False,
    weights: str | None = None,
    cluster: str | None = None,
    conf_level: float = 0.95,
    ci_method: str = "wald",
) -> RegressionResult:
    """Poisson regression: incidence rate ratios (or risk ratios with ``robust=True``).

    Parameters
    ----------
    data : pandas.DataFrame
    formula : str
        ``"events ~ x + C(group)"``; outcome a non-negative count (or 0/1).
    exposure : str, optional
        Column of person-time; enters as ``offset(log(exposure))`` so estimates are rate
        ratios.
    robust : bool
        Sandwich HC0 standard errors (R ``sandwich::vcovHC(type="HC0")``); with a 0/1
        outcome this is Zou's modified Poisson estimate of risk ratios.
    weights, cluster, conf_level, ci_method
        As in :func:`logistic` (profile intervals need model-based SEs).

    Examples
    --------
    >>> import pandas as pd, calcstats as cs
    >>> d = pd.DataFrame({"y": [2, 3, 6, 7, 8, 9], "x": [0, 0, 0, 1, 1, 1],
    ...                   "py": [10.0, 12, 15, 10, 11, 9]})
    >>> round(float(cs.poisson(d, "y ~ x", exposure="py").tidy()["estimate"][1]), 3)
    2.691
    """
    conf_level = check_conf_level(conf_level)
    design = build_design(data, formula, weights=weights, cluster=cluster, exposure=exposure,
                          model_name="poisson")
    _check_counts(design, "poisson")
    fit = _fit_poisson(design, conf_level, robust)
    return _with_ci_method(fit, ci_method, sm.families.Poisson())


# ---------------------------------------------------------------------------------------
def log_binomial(
    data: pd.DataFrame,
    formula: str,
    *,
    weights: str | None = None,
    cluster: str | None = None,
    conf_level: float = 0.95,
) -> RegressionResult:
    """Log-binomial regression: risk ratios for a binary outcome.

    Fitted as R ``glm(family=binomial(link="log"), start=c(log(mean(y)), 0, ...))``. When
    IRLS does not converge or a fitted probability reaches 1, a ConvergenceWarning is
    issued and the model is refitted as modified Poisson (Poisson with HC0 sandwich SE,
    Zou 2004); ``glance()["method"]`` records which model was used.

    Examples
    --------
    >>> import pandas as pd, calcstats as cs
    >>> d = pd.DataFrame({"y": [1, 0, 0, 0, 1, 1, 0, 1], "x": [0, 0, 0, 0, 1, 1, 1, 1]})
    >>> round(float(cs.log_binomial(d, "y ~ x").tidy()["estimate"][1]), 2)
    3.0
    """
    conf_level = check_conf_level(conf_level)
    design = build_design(data, formula, weights=weights, cluster=cluster,
                          model_name="log_binomial")
    _check_binary(design, "log_binomial")
    return _fit_log_binomial(design, conf_level)


def _fit_log_binomial(design: Design, conf_level: float, *, warn: bool = True):
    y = design.y.to_numpy(dtype=float)
    start = np.zeros(design.X.shape[1])
    if "Intercept" in design.X.columns:
        ybar = _weighted_sum(design, y) / _weighted_sum(design, np.ones_like(y))
        start[list(design.X.columns).index("Intercept")] = np.log(ybar)
    problem = None
    try:
        res, se_type, caught = _glm_fit(
            design, sm.families.Binomial(link=sm.families.links.Log()), start=start
        )
        mu = np.asarray(res.fittedvalues, dtype=float)
        if "convergence" in caught or not np.all(np.isfinite(res.params)):
            problem = "IRLS did not converge"
        elif np.nanmax(mu) >= 1 - 1e-8:
            problem = f"{int(np.sum(mu >= 1 - 1e-8))} fitted probabilities reached 1"
        elif not np.all(np.isfinite(res.bse)):
            problem = "the information matrix is singular"
    except (ValueError, np.linalg.LinAlgError, FloatingPointError) as err:
        problem = f"the fit failed ({err})"
    if problem is None:
        if warn:
            _unbounded_check(design, res, "log_binomial", SeparationWarning)
        return _wrap(
            LogBinomialResult, design, res, method="log-binomial regression", se_type=se_type,
            loglik=float(res.llf), conf_level=conf_level,
            refit=lambda cols: _fit_log_binomial(_subset(design, cols), conf_level, warn=False),
        )
    if warn:
        warnings.warn(
            f"log_binomial(): {problem} for {design.formula!r}; risk ratios were estimated by "
            "modified Poisson regression (Poisson GLM with robust HC0 SE, Zou 2004) instead. "
            "glance()['method'] records this.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return _fit_poisson(
        design, conf_level, True, cls=LogBinomialResult,
        method=f"modified Poisson (robust HC0) — log-binomial fallback: {problem}", warn=warn,
    )


# ---------------------------------------------------------------------------------------
# ---------------------------------------------------------------------------------------
def _fit_linear(design: Design, conf_level: float) -> RegressionResult:
    cov_type, cov_kw, se_type = _cov_spec(design, False)
    if design.weights is None:
        model = sm.OLS(design.y, design.X)
    else:
        model = sm.WLS(design.y, design.X, weights=design.weights)
    res = model.fit(cov_type=cov_type, cov_kwds=cov_kw or None)
    if cov_type == "cluster":
        se_type += "; G/(G-1)*(n-1)/(n-k) adjustment (vcovCL HC1)"
    return _wrap(
        LinearResult, design, res, method="linear regression (least squares)", se_type=se_type,
        loglik=float(res.llf), conf_level=conf_level, n_params=design.X.shape[1] + 1,
        df_resid=float(res.df_resid), events=False,
        refit=lambda cols: _fit_linear(_subset(design, cols), conf_level),
        extra={"glance": {"r_squared": float(res.rsquared),
                          "adj_r_squared": float(res.rsquared_adj),
                          "sigma": float(np.sqrt(res.scale))}},
    )


def linear(
    data: pd.DataFrame,
    formula: str,
    *,
    weights: str | None = None,
    cluster: str | None = None,
    conf_level: float = 0.95,
) -> RegressionResult:
    """Linear regression (R ``lm``): t-based tests and intervals on n - k residual df.

    With ``cluster=`` the cluster-robust SEs use the ``G/(G-1)*(n-1)/(n-k)`` factor
    (``sandwich::vcovCL``) and t intervals on the residual df (as ``lmtest::coeftest``).
    AIC counts sigma as a parameter (as R ``AIC(lm)``).

    Examples
    --------
    >>> import pandas as pd, calcstats as cs
    >>> d = pd.DataFrame({"y": [1.0, 2.1, 2.9, 4.2, 5.0], "x": [1, 2, 3, 4, 5]})
    >>> round(float(cs.linear(d, "y ~ x").params["x"]), 2)
    1.01
    """
    conf_level = check_conf_level(conf_level)
    design = build_design(data, formula, weights=weights, cluster=cluster, model_name="linear")
    y = design.y.to_numpy(dtype=float)
    if not np.all(np.isfinite(y)):
        raise DataError(f"linear(): outcome {design.outcome!r} must be numeric and finite.")
    return _fit_linear(design, conf_level)
