"""Generalised linear models fitted by Fisher scoring on the centred, scaled design.

Why our own fitter rather than statsmodels' ``GLM``: statsmodels works on the raw design,
so its tests and log-likelihood change when a covariate is multiplied by 1e8 or shifted
by 1e12 (and its rank check then reports a false "linear combination"); and it cannot run
on sufficient statistics computed elsewhere. Here every GLM is one call of the shared
Newton loop (:func:`calcstats._newton.maximise`) on ``Z = (X − centre) / scale``
(:class:`calcstats._design.Scaling`): the same stopping rule and monotone-likelihood check
as Cox and Fine–Gray, and the same iterations whether the cross-products ``Zᵀ W Z`` come
from NumPy (here) or from an aggregate query inside a database engine.

The information is the expected (Fisher) information, as R's ``glm`` reports it; for the
canonical links (logit, log for Poisson) it equals the observed information. Families and
log-likelihoods follow R: ``binomial`` (logit and log links), ``poisson`` (log), and the
negative binomial with fixed theta (log link, as ``MASS::glm.nb``'s inner fit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from calcstats._design import Scaling
from calcstats._newton import Evaluation, NewtonResult, maximise, solve_psd

__all__ = ["Family", "GlmFit", "fit_glm", "sandwich"]


@dataclass(frozen=True)
class Family:
    """A GLM family and link.

    Parameters
    ----------
    name : {"binomial", "poisson", "negbin"}
    link : {"logit", "log"}
    theta : float
        Negative binomial shape (``Var = μ + μ²/θ``).
    """

    name: str
    link: str
    theta: float = float("inf")

    def mean(self, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``μ = h(η)`` and ``dμ/dη``."""
        if self.link == "logit":
            mu = special.expit(eta)
            return mu, mu * (1 - mu)
        with np.errstate(over="ignore"):
            mu = np.exp(eta)
        return mu, mu

    def variance(self, mu: np.ndarray) -> np.ndarray:
        if self.name == "binomial":
            return mu * (1 - mu)
        if self.name == "negbin":
            return mu + mu * mu / self.theta
        return mu

    def loglik(self, y: np.ndarray, eta: np.ndarray, mu: np.ndarray, w: np.ndarray) -> float:
        """Log-likelihood (R's ``logLik``; binomial for 0/1 outcomes with prior weights)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.name == "binomial":
                if self.link == "logit":
                    ll = y * eta - np.logaddexp(0.0, eta)
                else:
                    if np.any(mu >= 1):
                        return float("-inf")
                    ll = special.xlogy(y, mu) + special.xlog1py(1 - y, -mu)
            elif self.name == "poisson":
                ll = special.xlogy(y, mu) - mu - special.gammaln(y + 1)
            else:
                t = self.theta
                ll = (
                    special.gammaln(t + y)
                    - special.gammaln(t)
                    - special.gammaln(y + 1)
                    + t * np.log(t)
                    + special.xlogy(y, mu)
                    - (t + y) * np.log(t + mu)
                )
        total = float(np.sum(w * ll))
        return total if np.isfinite(total) else float("-inf")


@dataclass
class GlmFit:
    """A fitted GLM (original units of the design).

    Attributes
    ----------
    coef : numpy.ndarray
        Coefficients on the link scale.
    cov : numpy.ndarray
        Model-based covariance (inverse expected information).
    loglik : float
    mu, eta : numpy.ndarray
        Fitted means and linear predictors (offset included).
    converged : bool
    iterations : int
    diverging : numpy.ndarray
        Coefficients whose estimate runs off to ±∞ (monotone likelihood).
    direction : numpy.ndarray
        +1 / −1: towards which infinity a diverging coefficient runs.
    """

    coef: np.ndarray
    cov: np.ndarray
    loglik: float
    mu: np.ndarray
    eta: np.ndarray
    converged: bool
    iterations: int
    diverging: np.ndarray
    direction: np.ndarray
    family: Family
    scaling: Scaling
    cov_scaled: np.ndarray

    def robust_cov(
        self,
        X: np.ndarray,
        y: np.ndarray,
        weights: np.ndarray | None,
        groups: np.ndarray | None = None,
        *,
        adjust: float = 1.0,
    ) -> np.ndarray:
        """Sandwich covariance (HC0, or clustered with ``groups``), computed on the centred,
        scaled design and mapped back (exact under affine rescaling of a covariate)."""
        Z = self.scaling.apply(X)
        s = score_contributions(self, Z, y, weights)
        return self.scaling.cov(sandwich(self.cov_scaled, s, groups, adjust=adjust))


def fit_glm(
    X: np.ndarray,
    y: np.ndarray,
    *,
    family: Family,
    weights: np.ndarray | None = None,
    offset: np.ndarray | None = None,
    intercept: int | None,
    centre: bool = True,
    start: np.ndarray | None = None,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> GlmFit:
    """Fit a GLM by Fisher scoring (Newton with the expected information).

    Parameters
    ----------
    X : numpy.ndarray
        ``n × p`` design in original units.
    y : numpy.ndarray
        Outcome (0/1 for binomial, counts for Poisson / negative binomial).
    family : Family
    weights : numpy.ndarray, optional
        Prior weights (rows with weight 0 contribute nothing).
    offset : numpy.ndarray, optional
        Offset on the link scale (``log`` person-time).
    intercept : int or None
        Position of the intercept column.
    centre : bool
        Centre the columns for fitting (the model has an intercept).
    start : numpy.ndarray, optional
        Starting coefficients in original units; by default the intercept starts at the
        link of the mean outcome and the slopes at 0.

    Returns
    -------
    GlmFit

    Examples
    --------
    >>> import numpy as np
    >>> X = np.column_stack([np.ones(6), [0, 0, 0, 1, 1, 1]])
    >>> f = fit_glm(X, np.array([0, 1, 0, 1, 1, 0.]), family=Family("binomial", "logit"),
    ...             intercept=0)
    >>> np.round(f.coef, 4).tolist()
    [-0.6931, 1.3863]
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = X.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    off = np.zeros(n) if offset is None else np.asarray(offset, dtype=float)
    sc = Scaling.of(X, intercept=intercept, centre=centre and intercept is not None, weights=w)
    Z = sc.apply(X)
    if start is None:
        gamma0 = np.zeros(p)
        if intercept is not None:
            gamma0[intercept] = _start_intercept(y, w, off, family)
    else:
        gamma0 = np.linalg.solve(sc.back, np.asarray(start, dtype=float))

    def evaluate(g: np.ndarray) -> Evaluation:
        eta = Z @ g + off
        mu, dmu = family.mean(eta)
        ll = family.loglik(y, eta, mu, w)
        if not np.isfinite(ll):
            return Evaluation(ll, np.zeros(p), np.eye(p))
        var = family.variance(mu)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(var > 0, w * (y - mu) * dmu / var, 0.0)
            wt = np.where(var > 0, w * dmu * dmu / var, 0.0)
        return Evaluation(ll, Z.T @ r, (Z.T * wt) @ Z)

    res: NewtonResult = maximise(
        evaluate, gamma0, max_iter=max_iter, tol=tol, back=sc.back, what=f"the {family.name} model"
    )
    coef = sc.coef(res.beta)
    cov_s = _inverse(res.last.info)
    cov = sc.cov(cov_s)
    eta = X @ coef + off
    mu, _ = family.mean(eta)
    return GlmFit(
        coef=coef,
        cov=cov,
        loglik=res.last.loglik,
        mu=mu,
        eta=eta,
        converged=res.converged,
        iterations=res.iterations,
        diverging=res.diverging,
        direction=res.direction,
        family=family,
        scaling=sc,
        cov_scaled=cov_s,
    )


def _start_intercept(y: np.ndarray, w: np.ndarray, off: np.ndarray, family: Family) -> float:
    ybar = float(np.sum(w * y) / np.sum(w)) if np.sum(w) > 0 else 0.5
    if family.link == "logit":
        ybar = min(max(ybar, 1e-3), 1 - 1e-3)
        return float(np.log(ybar / (1 - ybar)))
    ybar = max(ybar, 1e-3)
    if family.name == "binomial":  # log link: R's start=c(log(mean(y)), 0, ...)
        return float(np.log(min(ybar, 1 - 1e-3)))
    return float(np.log(ybar) - np.average(off, weights=w if np.sum(w) > 0 else None))


def _inverse(info: np.ndarray) -> np.ndarray:
    p = info.shape[0]
    if p == 0:
        return np.zeros((0, 0))
    try:
        return np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(info)


def score_contributions(
    fit: GlmFit, X: np.ndarray, y: np.ndarray, weights: np.ndarray | None
) -> np.ndarray:
    """Per-row score ``w (y − μ) h'(η) / V(μ) · x`` (R ``sandwich::estfun`` for a glm)."""
    w = np.ones(len(y)) if weights is None else weights
    mu, dmu = fit.family.mean(fit.eta)
    var = fit.family.variance(mu)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(var > 0, w * (y - mu) * dmu / var, 0.0)
    return X * r[:, None]


def sandwich(
    bread: np.ndarray, scores: np.ndarray, groups: np.ndarray | None = None, *, adjust: float = 1.0
) -> np.ndarray:
    """``B (Σ sᵢ sᵢᵀ) B`` with the per-row (or per-cluster summed) scores ``sᵢ``.

    ``groups`` (integer codes 0..G−1) sums the scores within clusters first; ``adjust``
    multiplies the result (``G/(G−1)`` for ``vcovCL``).
    """
    s = scores
    if groups is not None:
        agg = np.zeros((int(groups.max()) + 1, s.shape[1]))
        np.add.at(agg, groups, s)
        s = agg
    meat = s.T @ s
    return adjust * (bread @ meat @ bread)


def solve_information(info: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Newton step on a (possibly singular) information matrix."""
    return solve_psd(info, score)
