"""Negative binomial (NB2) regression as R ``MASS::glm.nb``.

statsmodels' discrete ``NegativeBinomial`` estimates alpha jointly and its SEs include
alpha; MASS::glm.nb alternates theta ML and a GLM with theta fixed and reports the GLM's
SEs. We follow glm.nb so that numbers match R (checked in tests/reference/regression.R).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import special

from calcstats._errors import (
    ConvergenceError,
    ConvergenceWarning,
    SparseDataWarning,
    user_stacklevel,
)
from calcstats._validation import COLUMN, CONF_LEVEL, NONE, validate_params
from calcstats.regression._frame import ModelFrame, model_frame
from calcstats.regression._glm import POISSON, _check_counts, _fit, _result, cols_not
from calcstats.regression._glmfit import Family
from calcstats.regression._results import NegativeBinomialResult, RegressionResult

__all__ = ["negative_binomial"]


def _nb_loglik(y: np.ndarray, mu: np.ndarray, theta: float, w: np.ndarray) -> float:
    ll = (
        special.gammaln(theta + y)
        - special.gammaln(theta)
        - special.gammaln(y + 1)
        + theta * np.log(theta)
        + special.xlogy(y, mu)
        - (theta + y) * np.log(theta + mu)
    )
    return float(np.sum(w * ll))


def _theta_ml(y: np.ndarray, mu: np.ndarray, w: np.ndarray) -> float:
    """ML estimate of theta given mu: Newton iterations from the moment estimate, as
    MASS::theta.ml (run to 1e-12 instead of its 1.2e-4 so results are reproducible)."""
    t = float(np.sum(w) / np.sum(w * (y / mu - 1) ** 2))
    for _ in range(100):
        score = np.sum(
            w
            * (
                special.digamma(t + y)
                - special.digamma(t)
                + np.log(t)
                + 1
                - np.log(t + mu)
                - (y + t) / (mu + t)
            )
        )
        info = np.sum(
            w
            * (
                -special.polygamma(1, t + y)
                + special.polygamma(1, t)
                - 1 / t
                + 2 / (mu + t)
                - (y + t) / (mu + t) ** 2
            )
        )
        delta = score / info
        t = abs(t + delta)
        if not np.isfinite(t) or t > 1e8:
            return float("inf")
        if abs(delta) < 1e-12 * max(1.0, t):
            break
    return t


def _fit_nb(mf: ModelFrame, conf_level: float, *, warn: bool = True) -> RegressionResult:
    y = mf.y
    w = np.ones_like(y) if mf.weights is None else mf.weights
    fit = _fit(mf, POISSON)
    no_overdispersion = ConvergenceError(
        f"negative_binomial(): no overdispersion in {mf.formula!r} (theta → ∞); "
        "use poisson() instead."
    )
    theta = _theta_ml(y, fit.mu, w)
    if not np.isfinite(theta):
        raise no_overdispersion
    ll_old = np.inf
    for _ in range(100):
        fit = _fit(mf, Family("negbin", "log", theta), start=fit.coef)
        theta_new = _theta_ml(y, fit.mu, w)
        if not np.isfinite(theta_new):  # theta drifts to ∞ once mu is the NB fit's
            raise no_overdispersion
        ll = _nb_loglik(y, fit.mu, theta_new, w)
        done = abs(ll - ll_old) / max(abs(ll), 1.0) < 1e-12 and abs(theta_new - theta) < 1e-8 * (
            1 + theta
        )
        theta, ll_old = theta_new, ll
        if done:
            break
    else:
        warnings.warn(
            "negative_binomial(): alternating theta/GLM iterations did not converge.",
            ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )
    fit = _fit(mf, Family("negbin", "log", theta), start=fit.coef)
    fit.loglik = _nb_loglik(y, fit.mu, theta, w)
    mu = fit.mu
    # SE of theta from the observed information of the profile (as MASS: 1/sqrt(I))
    t = theta
    info = np.sum(
        w
        * (
            -special.polygamma(1, t + y)
            + special.polygamma(1, t)
            - 1 / t
            + 2 / (mu + t)
            - (y + t) / (mu + t) ** 2
        )
    )
    se_theta = float(1 / np.sqrt(info)) if info > 0 else float("nan")
    res = _result(
        NegativeBinomialResult,
        mf,
        fit,
        name="negative_binomial",
        method="negative binomial regression (NB2, theta by ML)",
        robust=False,
        conf_level=conf_level,
        category=SparseDataWarning,
        warn=warn,
        refit=lambda keep: _fit_nb(mf.without(cols_not(mf, keep)), conf_level, warn=False),
    )
    res.n_params = mf.X.shape[1] + 1
    assert isinstance(res, NegativeBinomialResult)
    res.theta, res.theta_se = theta, se_theta
    return res


@validate_params(
    {
        "exposure": [COLUMN, NONE],
        "weights": [COLUMN, NONE],
        "cluster": [COLUMN, NONE],
        "conf_level": [CONF_LEVEL],
    }
)
def negative_binomial(
    data: pd.DataFrame,
    formula: str,
    *,
    exposure: str | None = None,
    weights: str | None = None,
    cluster: str | None = None,
    conf_level: float = 0.95,
) -> RegressionResult:
    """Negative binomial (NB2) regression for overdispersed counts, as R ``MASS::glm.nb``.

    theta (``Var = mu + mu^2/theta``) is estimated by maximum likelihood, alternating with
    the GLM fit; coefficient SEs are those of the GLM with theta fixed (as glm.nb).
    ``glance()`` has ``theta`` and ``theta_se``; AIC counts theta as a parameter.

    Examples
    --------
    >>> import numpy as np, pandas as pd, calcstats as cs
    >>> rng = np.random.default_rng(1)
    >>> x = rng.integers(0, 2, 300)
    >>> d = pd.DataFrame({"x": x, "y": rng.negative_binomial(2, 2 / (2 + np.exp(0.5 + 0.7 * x)))})
    >>> fit = cs.negative_binomial(d, "y ~ x")
    >>> bool(fit.theta > 0)
    True
    """
    mf = model_frame(
        data,
        formula,
        weights=weights,
        cluster=cluster,
        exposure=exposure,
        model_name="negative_binomial",
    )
    _check_counts(mf, "negative_binomial")
    return _fit_nb(mf, conf_level)
