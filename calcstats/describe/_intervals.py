"""Confidence intervals for proportions, Poisson counts, rate ratios and standardised rates.

All functions are vectorised over numpy arrays and follow R exactly:

* ``wilson``: score interval without continuity correction = ``prop.test(x, n, correct=FALSE)``.
* ``exact``: Clopper–Pearson = ``binom.test(x, n)``.
* ``jeffreys``: equal-tailed Beta(x + 1/2, n - x + 1/2) quantiles (``qbeta``) with the
  boundary rule of Brown, Cai & DasGupta (2001): lower limit 0 when x = 0 and upper
  limit 1 when x = n (otherwise the interval would exclude the observed proportion).
* Poisson counts: Garwood exact interval = ``poisson.test(x, T)``.
* Rate ratio: conditional binomial interval and p-value = ``poisson.test(c(x1, x2), c(T1, T2))``.
* Directly standardised rates: Fay & Feuer (1997) gamma interval =
  ``epitools::ageadjust.direct``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from calcstats._errors import CalcstatsError

__all__ = [
    "PROPORTION_METHODS",
    "fay_feuer_interval",
    "poisson_exact_interval",
    "proportion_interval",
    "rate_ratio_exact",
    "rate_ratio_wald",
]

PROPORTION_METHODS = ("wilson", "exact", "jeffreys")
METHOD_LABELS = {
    "wilson": "Wilson score interval",
    "exact": "exact Clopper–Pearson interval",
    "jeffreys": "Jeffreys interval",
}


def _z(conf_level: float) -> float:
    return float(stats.norm.ppf(0.5 + conf_level / 2))


def proportion_interval(
    x: np.ndarray, n: np.ndarray, *, method: str, conf_level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Return (low, high) for binomial proportions ``x / n`` (NaN where n = 0)."""
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    a = 1.0 - conf_level
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "wilson":
            z = _z(conf_level)
            p = x / n
            denom = 1.0 + z * z / n
            centre = (p + z * z / (2 * n)) / denom
            half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
            low = np.where(x == 0, 0.0, centre - half)
            high = np.where(x == n, 1.0, centre + half)
        elif method == "exact":
            low = np.where(x == 0, 0.0, stats.beta.ppf(a / 2, x, n - x + 1))
            high = np.where(x == n, 1.0, stats.beta.ppf(1 - a / 2, x + 1, n - x))
        elif method == "jeffreys":
            low = np.where(x == 0, 0.0, stats.beta.ppf(a / 2, x + 0.5, n - x + 0.5))
            high = np.where(x == n, 1.0, stats.beta.ppf(1 - a / 2, x + 0.5, n - x + 0.5))
        else:
            raise CalcstatsError(
                f"method={method!r} is not a proportion interval; use one of "
                f"{', '.join(map(repr, PROPORTION_METHODS))}."
            )
    bad = n <= 0
    return np.where(bad, np.nan, low), np.where(bad, np.nan, high)


def poisson_exact_interval(x: np.ndarray, *, conf_level: float) -> tuple[np.ndarray, np.ndarray]:
    """Garwood exact interval for a Poisson count ``x`` (as ``poisson.test``)."""
    x = np.asarray(x, dtype=float)
    a = 1.0 - conf_level
    low = np.where(x == 0, 0.0, stats.gamma.ppf(a / 2, np.maximum(x, 1e-300)))
    high = stats.gamma.ppf(1 - a / 2, x + 1)
    return low, high


def rate_ratio_exact(
    x1: float, t1: float, x0: float, t0: float, *, conf_level: float
) -> tuple[float, float, float, float]:
    """Exact conditional rate ratio (x1/t1)/(x0/t0): (estimate, low, high, p_value).

    Conditional on x1 + x0, x1 is binomial with p = RR t1 / (RR t1 + t0); the interval is
    the Clopper–Pearson interval for p mapped to the ratio scale and the p-value is the
    two-sided binomial test of p = t1 / (t1 + t0) (R's ``poisson.test``).
    """
    n = round(x1 + x0)
    if n == 0 or t1 <= 0 or t0 <= 0:
        return (np.nan, np.nan, np.nan, np.nan)
    with np.errstate(divide="ignore"):
        est = (x1 / t1) / (x0 / t0) if x0 > 0 else np.inf
    plo, phi = proportion_interval(
        np.array([x1]), np.array([n]), method="exact", conf_level=conf_level
    )
    scale = t0 / t1
    with np.errstate(divide="ignore"):
        low = float(plo[0] / (1 - plo[0]) * scale)
        high = float(phi[0] / (1 - phi[0]) * scale) if phi[0] < 1 else np.inf
    p = stats.binomtest(round(x1), n, t1 / (t1 + t0)).pvalue
    return float(est), low, high, float(p)


def rate_ratio_wald(
    x1: float, t1: float, x0: float, t0: float, *, conf_level: float
) -> tuple[float, float, float, float]:
    """Wald rate ratio on the log scale, SE = sqrt(1/x1 + 1/x0): (estimate, low, high, p)."""
    if x1 <= 0 or x0 <= 0 or t1 <= 0 or t0 <= 0:
        return (np.nan, np.nan, np.nan, np.nan)
    log_rr = np.log((x1 / t1) / (x0 / t0))
    se = np.sqrt(1 / x1 + 1 / x0)
    z = _z(conf_level)
    p = 2 * stats.norm.sf(abs(log_rr / se))
    return (
        float(np.exp(log_rr)),
        float(np.exp(log_rr - z * se)),
        float(np.exp(log_rr + z * se)),
        float(p),
    )


def fay_feuer_interval(
    counts: np.ndarray, denominators: np.ndarray, std_weights: np.ndarray, *, conf_level: float
) -> tuple[float, float, float]:
    """Directly standardised rate and its Fay–Feuer gamma interval: (estimate, low, high).

    ``std_weights`` are the standard-population weights (normalised here). Counts are
    treated as Poisson (Fay & Feuer 1997; ``epitools::ageadjust.direct``).
    """
    counts = np.asarray(counts, dtype=float)
    den = np.asarray(denominators, dtype=float)
    w = np.asarray(std_weights, dtype=float)
    w = w / w.sum()
    a = 1.0 - conf_level
    rate = counts / den
    dsr = float(np.sum(w * rate))
    var = float(np.sum(w**2 * counts / den**2))
    wm = float(np.max(w / den))
    if var > 0:
        low = float(stats.gamma.ppf(a / 2, dsr**2 / var, scale=var / dsr))
    else:
        low = 0.0
    shape_u = (dsr + wm) ** 2 / (var + wm**2)
    high = float(stats.gamma.ppf(1 - a / 2, shape_u, scale=(var + wm**2) / (dsr + wm)))
    return dsr, low, high
