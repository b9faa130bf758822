"""Generalised linear models: logistic, log-binomial, Poisson, linear.

Fitting is :func:`calcstats.regression._glmfit.fit_glm` (Fisher scoring on the centred,
scaled design, shared with the engine path) and least squares by QR on the same scaled
design; this module adds what a paper needs: exponentiated tidy output, missing-row
accounting, monotone-likelihood (separation) checks, the log-binomial → modified-Poisson
fallback. Negative binomial regression lives in ``_negbin.py``.

Standard errors
---------------
* ``robust=True``: sandwich HC0, as R ``sandwich::vcovHC(fit, type="HC0")``.
* ``cluster=``: cluster-robust sandwich as R ``sandwich::vcovCL(fit, cluster=)`` with its
  defaults: ``cadjust=TRUE`` (factor ``G/(G-1)``) and ``type="HC1"`` for ``lm`` (extra
  ``(n-1)/(n-k)``, as Stata's ``vce(cluster)``) but ``type="HC0"`` for ``glm`` (no extra
  factor). So ``linear`` uses ``G/(G-1)*(n-1)/(n-k)`` and the GLMs ``G/(G-1)``.
* ``weights=``: prior weights as R ``glm(weights=)`` / ``lm(weights=)``; zero weights set
  the row aside (see :mod:`calcstats._validation`).
"""

from __future__ import annotations

import warnings
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from calcstats._errors import (
    CalcstatsError,
    ConvergenceWarning,
    DataError,
    SeparationWarning,
    SparseDataWarning,
    user_stacklevel,
)
from calcstats._newton import divergence_report
from calcstats._validation import BOOLEAN, COLUMN, CONF_LEVEL, NONE, Options, validate_params
from calcstats.regression._frame import ModelFrame, model_frame
from calcstats.regression._glmfit import Family, GlmFit, fit_glm, sandwich
from calcstats.regression._results import (
    LinearResult,
    LogBinomialResult,
    LogisticResult,
    PoissonResult,
    RegressionResult,
)

__all__ = ["linear", "log_binomial", "logistic", "poisson"]

LOGIT = Family("binomial", "logit")
LOGBIN = Family("binomial", "log")
POISSON = Family("poisson", "log")


# ---------------------------------------------------------------------------------------
def _check_binary(mf: ModelFrame, name: str) -> None:
    y = mf.y
    bad = ~np.isin(y, (0.0, 1.0))
    if bad.any():
        vals = sorted(set(np.unique(y[bad]).tolist()))[:5]
        raise DataError(
            f"{name}(): outcome {mf.outcome!r} must be 0/1 (or True/False); found values "
            f"{vals}. Recode it, e.g. 'I(stage == 4) ~ ...'."
        )
    if y.min() == y.max():
        raise DataError(
            f"{name}(): outcome {mf.outcome!r} takes the single value {y[0]:g} in all "
            f"{len(y)} analysed rows; there is nothing to model."
        )


def _check_counts(mf: ModelFrame, name: str) -> None:
    y = mf.y
    if np.any(y < 0) or np.any(np.abs(y - np.round(y)) > 1e-8):
        raise DataError(f"{name}(): outcome {mf.outcome!r} must hold non-negative counts.")


def _covariance(mf: ModelFrame, fit: GlmFit, robust: bool) -> tuple[np.ndarray, str]:
    """Model-based, HC0 or cluster-robust (vcovCL HC0 with G/(G-1)) covariance."""
    if mf.groups is not None:
        n_g = int(mf.groups.max()) + 1
        if n_g < 2:
            raise DataError("cluster= needs at least two clusters in the analysed rows.")
        cov = fit.robust_cov(mf.X, mf.y, mf.weights, mf.groups, adjust=n_g / (n_g - 1))
        return cov, f"cluster-robust ({n_g} clusters); G/(G-1) adjustment (vcovCL HC0)"
    if robust:
        return fit.robust_cov(mf.X, mf.y, mf.weights), "robust (HC0)"
    return fit.cov, "model-based"


def _weighted_sum(mf: ModelFrame, v: np.ndarray) -> float:
    return float(np.sum(v if mf.weights is None else mf.weights * v))


def _events(mf: ModelFrame) -> int:
    return round(_weighted_sum(mf, mf.y))


def _fit(mf: ModelFrame, family: Family, *, start: np.ndarray | None = None) -> GlmFit:
    return fit_glm(
        mf.X,
        mf.y,
        family=family,
        weights=mf.weights,
        offset=mf.offset,
        intercept=mf.design.intercept,
        centre=mf.design.shift_invariant,
        start=start,
    )


_R = TypeVar("_R", bound=RegressionResult)


def _result(
    cls: type[_R],
    mf: ModelFrame,
    fit: GlmFit,
    *,
    name: str,
    method: str,
    robust: bool,
    conf_level: float,
    refit: Any,
    category: type[Warning],
    warn: bool,
) -> _R:
    cov, se_type = _covariance(mf, fit, robust)
    names = mf.design.columns
    nonest: dict[str, str] = {}
    if fit.diverging.any():
        events = mf.y > 0 if fit.family.name != "binomial" else mf.y == 1
        if warn:
            nonest = divergence_report(
                names,
                fit.diverging,
                fit.direction,
                model_name=name,
                X=mf.X,
                events=events,
                category=category,
            )
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                nonest = divergence_report(
                    names, fit.diverging, fit.direction, model_name=name, X=mf.X, events=events
                )
    if not fit.converged and warn:
        warnings.warn(
            f"{name}(): the fit of {mf.formula!r} did not converge in {fit.iterations} "
            "iterations; no estimate is reported ('—'). Check for separation or sparse "
            "levels, or simplify the model.",
            ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )
    if not fit.converged:
        nonest = {c: "the fit did not converge" for c in names}
    return cls(
        pd.Series(fit.coef, index=names),
        cov,
        frame=mf,
        model=fit,
        method=method,
        loglik=fit.loglik,
        n_events=_events(mf),
        se_type=se_type,
        conf_level=conf_level,
        refit=refit,
        converged=fit.converged,
        nonestimable=nonest,
    )


# ---------------------------------------------------------------------------------------
def cols_not(mf: ModelFrame, keep: list[str]) -> list[str]:
    """The design columns not in ``keep``."""
    return [c for c in mf.design.columns if c not in keep]


@validate_params(
    {
        "method": [Options("ml", "firth")],
        "ci_method": [Options("wald", "profile")],
        "robust": [BOOLEAN],
        "weights": [COLUMN, NONE],
        "cluster": [COLUMN, NONE],
        "conf_level": [CONF_LEVEL],
    },
    engine="calcstats.regression._engine:logistic",
)
def logistic(
    data: pd.DataFrame,
    formula: str,
    *,
    method: str = "ml",
    weights: str | None = None,
    cluster: str | None = None,
    robust: bool = False,
    conf_level: float = 0.95,
    ci_method: str = "wald",
) -> LogisticResult:
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
    robust : bool
        Sandwich HC0 standard errors (R ``sandwich::vcovHC(type="HC0")``), e.g. with
        inverse-probability weights.
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
    >>> pbc = cs.datasets.load_pbc().dropna(subset=["stage"])
    >>> fit = cs.logistic(pbc, "I(stage == 4) ~ age + sex + albumin")
    >>> fit.tidy()[["term", "estimate", "conf_low", "conf_high"]].round(2)
            term  estimate  conf_low  conf_high
    0  Intercept     35.27      3.29     378.11
    1        age      1.04      1.01       1.06
    2   sex[T.m]      1.06      0.51       2.18
    3    albumin      0.17      0.10       0.31
    """
    mf = model_frame(data, formula, weights=weights, cluster=cluster, model_name="logistic")
    _check_binary(mf, "logistic")
    if method == "firth":
        if cluster is not None or robust:
            raise CalcstatsError(
                "cluster= and robust=True are not available with method='firth' (profile-"
                "likelihood intervals assume independent rows); use method='ml' with them."
            )
        from calcstats.regression._firth import fit_firth

        return fit_firth(mf, conf_level)
    fit = _fit_logistic(mf, conf_level, robust)
    return _with_ci_method(fit, ci_method, LOGIT)


def _fit_logistic(
    mf: ModelFrame, conf_level: float, robust: bool, *, warn: bool = True
) -> LogisticResult:
    fit = _fit(mf, LOGIT)
    return _result(
        LogisticResult,
        mf,
        fit,
        name="logistic",
        method="logistic regression (ML)",
        robust=robust,
        conf_level=conf_level,
        category=SeparationWarning,
        warn=warn,
        refit=lambda keep: _fit_logistic(
            mf.without(cols_not(mf, keep)), conf_level, robust, warn=False
        ),
    )


def _with_ci_method(fit: _R, ci_method: str, family: Family) -> _R:
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
    mf: ModelFrame,
    conf_level: float,
    robust: bool,
    *,
    cls: type = PoissonResult,
    method: str | None = None,
    warn: bool = True,
) -> RegressionResult:
    fit = _fit(mf, POISSON)
    if method is None:
        method = "modified Poisson (robust HC0)" if robust else "Poisson regression"
        if mf.offset is not None:
            method += " with log person-time offset"
    name = "poisson" if cls is PoissonResult else "log_binomial"
    return _result(
        cls,
        mf,
        fit,
        name=name,
        method=method,
        robust=robust,
        conf_level=conf_level,
        category=SparseDataWarning if cls is PoissonResult else SeparationWarning,
        warn=warn,
        refit=lambda keep: _fit_poisson(
            mf.without(cols_not(mf, keep)), conf_level, robust, cls=cls, method=method, warn=False
        ),
    )


@validate_params(
    {
        "exposure": [COLUMN, NONE],
        "robust": [BOOLEAN],
        "ci_method": [Options("wald", "profile")],
        "weights": [COLUMN, NONE],
        "cluster": [COLUMN, NONE],
        "conf_level": [CONF_LEVEL],
    },
    engine="calcstats.regression._engine:poisson",
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
    mf = model_frame(
        data, formula, weights=weights, cluster=cluster, exposure=exposure, model_name="poisson"
    )
    _check_counts(mf, "poisson")
    fit = _fit_poisson(mf, conf_level, robust)
    return _with_ci_method(fit, ci_method, POISSON)


# ---------------------------------------------------------------------------------------
@validate_params({"weights": [COLUMN, NONE], "cluster": [COLUMN, NONE], "conf_level": [CONF_LEVEL]})
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
    the fit does not converge or a fitted probability reaches 1, a ConvergenceWarning is
    issued and the model is refitted as modified Poisson (Poisson with HC0 sandwich SE,
    Zou 2004); ``glance()["method"]`` records which model was used.

    Examples
    --------
    >>> import pandas as pd, calcstats as cs
    >>> d = pd.DataFrame({"y": [1, 0, 0, 0, 1, 1, 0, 1], "x": [0, 0, 0, 0, 1, 1, 1, 1]})
    >>> round(float(cs.log_binomial(d, "y ~ x").tidy()["estimate"][1]), 2)
    3.0
    """
    mf = model_frame(data, formula, weights=weights, cluster=cluster, model_name="log_binomial")
    _check_binary(mf, "log_binomial")
    return _fit_log_binomial(mf, conf_level)


def _fit_log_binomial(mf: ModelFrame, conf_level: float, *, warn: bool = True) -> RegressionResult:
    problem = None
    fit = _fit(mf, LOGBIN)
    if not fit.converged:
        problem = "the fit did not converge"
    elif fit.diverging.any():
        problem = "an estimate runs off to infinity"
    elif np.nanmax(fit.mu) >= 1 - 1e-8:
        problem = f"{int(np.sum(fit.mu >= 1 - 1e-8))} fitted probabilities reached 1"
    if problem is None:
        return _result(
            LogBinomialResult,
            mf,
            fit,
            name="log_binomial",
            method="log-binomial regression",
            robust=False,
            conf_level=conf_level,
            category=SeparationWarning,
            warn=warn,
            refit=lambda keep: _fit_log_binomial(
                mf.without(cols_not(mf, keep)), conf_level, warn=False
            ),
        )
    if warn:
        warnings.warn(
            f"log_binomial(): {problem} for {mf.formula!r}; risk ratios were estimated by "
            "modified Poisson regression (Poisson GLM with robust HC0 SE, Zou 2004) instead. "
            "glance()['method'] records this.",
            ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )
    return _fit_poisson(
        mf,
        conf_level,
        True,
        cls=LogBinomialResult,
        method=f"modified Poisson (robust HC0) — log-binomial fallback: {problem}",
        warn=warn,
    )


# ---------------------------------------------------------------------------------------
def _fit_linear(mf: ModelFrame, conf_level: float, robust: bool) -> RegressionResult:
    """Least squares by QR on the centred, scaled design (as R ``lm``)."""
    X, y = mf.X, mf.y
    n, k = X.shape
    w = np.ones(n) if mf.weights is None else mf.weights
    sc = mf.design.scaling(weights=w)
    sw = np.sqrt(w)
    Z = sc.apply(X) * sw[:, None]
    q, r = np.linalg.qr(Z)
    gamma = np.linalg.solve(r, q.T @ (y * sw))
    rinv = np.linalg.inv(r)
    coef = sc.coef(gamma)
    Zu = sc.apply(X)
    resid = y - Zu @ gamma
    fitted = y - resid
    rss = float(np.sum(w * resid**2))
    df_resid = float(n - k)
    sigma2 = rss / df_resid
    bread = rinv @ rinv.T  # (Z'WZ)^-1 on the scaled design; mapped back below
    if mf.groups is not None:
        n_g = int(mf.groups.max()) + 1
        if n_g < 2:
            raise DataError("cluster= needs at least two clusters in the analysed rows.")
        s = Zu * (w * resid)[:, None]
        cov = sc.cov(sandwich(bread, s, mf.groups, adjust=n_g / (n_g - 1) * (n - 1) / (n - k)))
        se_type = f"cluster-robust ({n_g} clusters); G/(G-1)*(n-1)/(n-k) adjustment (vcovCL HC1)"
    elif robust:
        cov, se_type = sc.cov(sandwich(bread, Zu * (w * resid)[:, None])), "robust (HC0)"
    else:
        cov, se_type = sc.cov(sigma2 * bread), "model-based"
    loglik = float(
        0.5 * np.sum(np.log(w)) - n / 2 * (np.log(2 * np.pi) + 1 - np.log(n) + np.log(rss))
    )
    has_int = mf.design.intercept is not None
    centre = np.sum(w * fitted) / np.sum(w) if has_int else 0.0
    mss = float(np.sum(w * (fitted - centre) ** 2))
    r2 = mss / (mss + rss) if mss + rss > 0 else float("nan")
    res = LinearResult(
        pd.Series(coef, index=mf.design.columns),
        cov,
        frame=mf,
        model={"coef": coef, "fitted": fitted, "residuals": resid, "scaling": sc},
        method="linear regression (least squares)",
        loglik=loglik,
        n_events=None,
        n_params=k + 1,
        df_resid=df_resid,
        se_type=se_type,
        conf_level=conf_level,
        refit=lambda keep: _fit_linear(mf.without(cols_not(mf, keep)), conf_level, robust),
    )
    res.r_squared = r2
    res.adj_r_squared = 1 - (1 - r2) * ((n - int(has_int)) / df_resid)
    res.sigma = float(np.sqrt(sigma2))
    return res


@validate_params(
    {
        "robust": [BOOLEAN],
        "weights": [COLUMN, NONE],
        "cluster": [COLUMN, NONE],
        "conf_level": [CONF_LEVEL],
    }
)
def linear(
    data: pd.DataFrame,
    formula: str,
    *,
    weights: str | None = None,
    cluster: str | None = None,
    robust: bool = False,
    conf_level: float = 0.95,
) -> RegressionResult:
    """Linear regression (R ``lm``): t-based tests and intervals on n - k residual df.

    With ``cluster=`` the cluster-robust SEs use the ``G/(G-1)*(n-1)/(n-k)`` factor
    (``sandwich::vcovCL``) and t intervals on the residual df (as ``lmtest::coeftest``);
    ``robust=True`` gives HC0 sandwich SEs (``sandwich::vcovHC(type="HC0")``). AIC counts
    sigma as a parameter (as R ``AIC(lm)``).

    Examples
    --------
    >>> import pandas as pd, calcstats as cs
    >>> d = pd.DataFrame({"y": [1.0, 2.1, 2.9, 4.2, 5.0], "x": [1, 2, 3, 4, 5]})
    >>> round(float(cs.linear(d, "y ~ x").params["x"]), 2)
    1.01
    """
    mf = model_frame(data, formula, weights=weights, cluster=cluster, model_name="linear")
    n, k = mf.X.shape
    if n <= k:
        raise DataError(
            f"linear(): {formula!r} has {k} coefficients but only {n} analysed rows, so no "
            "residual degrees of freedom are left to estimate the error variance; use more "
            "rows or fewer terms."
        )
    return _fit_linear(mf, conf_level, robust)
