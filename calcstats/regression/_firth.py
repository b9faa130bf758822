"""Firth's penalised-likelihood logistic regression (as R ``logistf``).

statsmodels has no Firth logistic regression, so it is implemented here following
Heinze & Schemper (2002) and logistf: maximise ``l(b) + 0.5 log|X'WX|`` by Newton steps
on the modified score ``X'(w(y - p) + h(1/2 - p))`` (``h`` the hat-matrix diagonal), with
step halving and a maximum step of 5. Fixing some coefficients (profile likelihood,
penalised LR tests) updates only the free ones with the free block of the information,
while the penalty keeps the full design — exactly logistf's restricted fit.

* Confidence intervals: profile penalised likelihood, the ``b_j`` with
  ``2 (l*max - l*_profile(b_j)) = chi2_1(conf_level)``.
* p-values: penalised likelihood ratio, ``2 (l*max - l*(b_j = 0))`` on 1 df.
* ``std_error``: ``sqrt(diag((X'WX)^-1))`` at the estimate (as logistf prints).
* ``tidy()["statistic"]`` is the penalised LR chi-square (1 df), not a z value.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, special, stats

from calcstats._design import Scaling
from calcstats._errors import ConvergenceError, ConvergenceWarning, user_stacklevel
from calcstats._newton import Evaluation, maximise
from calcstats.regression._frame import ModelFrame
from calcstats.regression._profile import profile_limit
from calcstats.regression._results import LogisticResult

__all__ = ["FirthLogisticResult", "fit_firth"]


class _FirthProblem:
    """Firth's penalised likelihood on the centred, scaled design.

    Coefficients go in and out in the original units; the Newton loop runs on
    ``Z = (X − centre) / scale`` (so an epoch-seconds covariate is as easy as age). A
    restricted fit that holds some original coefficients fixed (profile likelihood,
    penalised LR tests) maximises over the affine subspace ``γ = γ₀ + N δ`` of the scaled
    coefficients that satisfies the restriction, with the full design in the penalty, as
    logistf's restricted fit.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, w: np.ndarray, intercept: int | None) -> None:
        self.X, self.y, self.w = X, y, w
        self.intercept = intercept
        self.sc = Scaling.of(X, intercept=intercept, centre=intercept is not None, weights=w)
        self.Z = self.sc.apply(X)
        # Z = X T, so log|Z'WZ| = log|X'WX| + 2 log|det T|: report the penalty of X
        self._logdet_t = float(np.linalg.slogdet(self.sc.back)[1])
        self._anchor = np.zeros(X.shape[1])  # scaled estimate of the last full fit

    def _evaluate(self, g: np.ndarray) -> Evaluation:
        Z = self.Z
        eta = Z @ g
        p = special.expit(eta)
        W = self.w * p * (1 - p)
        info = (Z * W[:, None]).T @ Z
        sign, logdet = np.linalg.slogdet(info)
        if sign <= 0:
            return Evaluation(float("-inf"), np.zeros(len(g)), info)
        ll = float(
            np.sum(self.w * (self.y * eta - np.logaddexp(0, eta)))
            + 0.5 * (logdet - 2.0 * self._logdet_t)
        )
        cov = np.linalg.inv(info)
        ZW = Z * np.sqrt(W)[:, None]
        h = np.einsum("ij,jk,ik->i", ZW, cov, ZW)
        score = Z.T @ (self.w * (self.y - p) + h * (0.5 - p))
        return Evaluation(ll, score, info)

    def pen_loglik(self, b: np.ndarray) -> float:
        return self._evaluate(np.linalg.solve(self.sc.back, b)).loglik

    def fit(
        self,
        start: np.ndarray,
        fixed: np.ndarray | None = None,
        *,
        maxit: int = 200,
        tol: float = 1e-10,
    ) -> tuple[np.ndarray, float, bool]:
        """Maximise the penalised log-likelihood; ``fixed`` is a bool mask of original
        coefficients held at their values in ``start``."""
        T = self.sc.back
        g_start = np.linalg.solve(T, np.asarray(start, dtype=float))
        if fixed is None or not np.any(fixed):
            res = maximise(
                self._evaluate,
                g_start,
                max_iter=maxit,
                tol=tol * 1e-2,
                max_step=5.0,
                what="Firth's logistic regression",
            )
            self._anchor = res.beta
            return self.sc.coef(res.beta), res.last.loglik, res.converged
        mask = np.asarray(fixed, dtype=bool)
        A = T[mask]
        null = linalg.null_space(A)
        # start from the full fit moved onto the restriction (a raw start such as "slope 0,
        # intercept as fitted" can put η at ±1e9 when a covariate is far from 0)
        target = np.asarray(start, dtype=float)[mask]
        g0 = self._anchor + np.linalg.lstsq(A, target - A @ self._anchor, rcond=None)[0]

        def restricted(d: np.ndarray) -> Evaluation:
            ev = self._evaluate(g0 + null @ d)
            return Evaluation(ev.loglik, null.T @ ev.score, null.T @ ev.info @ null)

        res = maximise(
            restricted,
            np.zeros(null.shape[1]),
            max_iter=maxit,
            tol=tol * 1e-2,
            max_step=5.0,
            what="Firth's logistic regression",
        )
        return self.sc.coef(g0 + null @ res.beta), res.last.loglik, res.converged


class FirthLogisticResult(LogisticResult):
    """Firth logistic regression: profile penalised-likelihood CIs and penalised LR tests."""

    loglik: float  # the penalised log-likelihood, always set by the fit

    def __init__(self, *args: Any, problem: _FirthProblem, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.penalized = True
        self._problem = problem
        self._ci_cache: dict[float, tuple[np.ndarray, np.ndarray]] = {}
        self._lr: tuple[np.ndarray, np.ndarray] | None = None

    def _glance_extra(self) -> dict[str, Any]:
        return {**super()._glance_extra(), "penalized": True}

    def _profile(self, j: int, value: float, start: np.ndarray) -> tuple[float, np.ndarray]:
        fixed = np.zeros(len(self.params), dtype=bool)
        fixed[j] = True
        b0 = start.copy()
        b0[j] = value
        try:
            b, ll, _ = self._problem.fit(b0, fixed)
        except ConvergenceError:  # so far out that every fitted probability is 0 or 1
            return float("-inf"), start
        return ll, b

    def _test(self) -> tuple[np.ndarray, np.ndarray]:
        if self._lr is None:
            bh = self.params.to_numpy()
            chi = np.empty(len(bh))
            for j in range(len(bh)):
                ll0, _ = self._profile(j, 0.0, bh)
                chi[j] = max(2.0 * (self.loglik - ll0), 0.0)
            self._lr = (chi, stats.chi2.sf(chi, 1))
        return self._lr

    def _conf_int(self, conf_level: float) -> tuple[np.ndarray, np.ndarray]:
        if conf_level in self._ci_cache:
            return self._ci_cache[conf_level]
        q = stats.chi2.ppf(conf_level, 1)
        bh = self.params.to_numpy()
        se = self.bse.to_numpy()
        low, high = np.empty(len(bh)), np.empty(len(bh))
        for j in range(len(bh)):
            start = {"b": bh}

            def f(v: float, j: int = j, start: dict = start) -> float:
                ll, b = self._profile(j, v, start["b"])
                start["b"] = b
                return min(2.0 * (self.loglik - ll) - q, 1e12)

            def restart(start: dict = start) -> None:
                start["b"] = bh

            for side, out in ((-1, low), (1, high)):
                out[j] = profile_limit(
                    f, bh[j], se[j], side=side, min_width=1e-3, max_doublings=60, reset=restart
                )
        self._ci_cache[conf_level] = (low, high)
        return low, high


def fit_firth(mf: ModelFrame, conf_level: float) -> FirthLogisticResult:
    """Fit Firth logistic regression on a prepared model frame."""
    X, y = mf.X, mf.y
    w = np.ones_like(y) if mf.weights is None else mf.weights
    prob = _FirthProblem(X, y, w, mf.design.intercept)
    b, ll, ok = prob.fit(np.zeros(X.shape[1]))
    if not ok:
        warnings.warn(
            f"logistic(method='firth'): Newton iterations did not converge for "
            f"{mf.formula!r}; no estimate is reported ('—').",
            ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )
    p = special.expit(X @ b)
    sc = prob.sc
    Z = prob.Z
    info = (Z * (w * p * (1 - p))[:, None]).T @ Z
    names = mf.design.columns
    cov = sc.cov(np.linalg.inv(info))
    params = pd.Series(b, index=names)

    def refit(keep: list[str]) -> Any:
        fixed = np.array([c not in keep for c in names])
        b0 = b.copy()
        b0[fixed] = 0.0
        _, ll0, _ = prob.fit(b0, fixed)
        return type("Restricted", (), {"loglik": ll0})()

    return FirthLogisticResult(
        params,
        cov,
        frame=mf,
        model={"coef": b, "penalized_loglik": ll, "converged": ok},
        method="Firth penalised-likelihood logistic regression",
        loglik=ll,
        n_events=round(float(np.sum(w * y))),
        se_type="model-based; profile penalised-likelihood CI; penalised LR p",
        conf_level=conf_level,
        refit=refit,
        converged=ok,
        nonestimable=None if ok else {c: "the fit did not converge" for c in names},
        problem=prob,
    )
