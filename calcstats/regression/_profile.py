"""Profile-likelihood confidence intervals for GLM coefficients (``ci_method="profile"``).

R's ``confint()`` on a glm (MASS's ``confint.glm``; what gtsummary/broom show) profiles the
likelihood on a grid and interpolates with a spline; here each limit is the exact root of
``2 (l(b_hat) - l_profile(b_j)) = chi2_1(conf_level)``, where ``l_profile`` refits the
model with ``b_j`` fixed (as an offset). The two agree to the accuracy of R's
interpolation (about 1e-4 relative).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import optimize, stats

from calcstats.regression._glmfit import Family, fit_glm

__all__ = ["profile_intervals", "profile_limit"]


def profile_intervals(
    result: Any, family: Family, conf_level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Profile-likelihood limits of every coefficient of a GLM result."""
    mf = result.frame
    X, y = mf.X, mf.y
    base_off = np.zeros(len(y)) if mf.offset is None else mf.offset
    q = stats.chi2.ppf(conf_level, 1)
    bh = result.params.to_numpy()
    se = result.bse.to_numpy()
    lmax = float(result.loglik)
    intercept = mf.design.intercept
    low, high = np.empty(len(bh)), np.empty(len(bh))
    for j in range(len(bh)):
        others = np.delete(X, j, axis=1)
        icpt = None if intercept is None or intercept == j else (intercept - (intercept > j))

        def dev(
            v: float, j: int = j, others: np.ndarray = others, icpt: int | None = icpt
        ) -> float:
            off = base_off + v * X[:, j]
            fit = fit_glm(
                others,
                y,
                family=family,
                weights=mf.weights,
                offset=off,
                intercept=icpt,
                centre=icpt is not None,
                tol=1e-12,
            )
            return 2.0 * (lmax - fit.loglik) - q

        low[j] = profile_limit(dev, bh[j], se[j], side=-1)
        high[j] = profile_limit(dev, bh[j], se[j], side=1)
    return low, high


def profile_limit(
    dev: Callable[[float], float],
    estimate: float,
    se: float,
    *,
    side: int,
    min_width: float = 1e-6,
    max_doublings: int = 40,
    reset: Callable[[], None] | None = None,
) -> float:
    """One profile-likelihood limit: the root of ``dev`` on one side of the estimate.

    ``dev(v)`` is the likelihood-ratio statistic minus its chi-square quantile: negative at
    the estimate and growing away from it. The search steps out from the estimate by the
    standard error, doubling until ``dev`` turns positive, then solves with Brent's method.
    Returns ``±inf`` when no sign change is found (an unbounded limit, e.g. separation).
    ``reset`` is called before each search (to restart warm-started profile fits).
    """
    if reset is not None:
        reset()
    width = max(se, min_width)
    edge = estimate + side * width
    for _ in range(max_doublings):
        if dev(edge) > 0:
            break
        width *= 2
        edge = estimate + side * width
    else:
        return side * np.inf
    if reset is not None:
        reset()
    a, c = sorted((estimate, edge))
    return optimize.brentq(dev, a, c, xtol=1e-10, rtol=1e-12)
