"""The Turnbull NPMLE of one group: lifelines' EM, then a Newton polish to the optimum.

Innermost intervals
-------------------
The convention is R's ``Surv(left, right, type = "interval2")``: an interval row is
``(left, right]``, an exact row the point ``{t}``, a right-censored row ``(left, inf)``.
lifelines' ``KaplanMeierFitter.fit_interval_censoring`` works with *closed* intervals, so
every distinct time ``v_k`` is sent as the integer ``2k`` and an open left end ``(v_k`` as
``2k + 1``: the closed integer intervals ``[2k_l + 1, 2k_r]`` and ``[2k, 2k]`` then
contain exactly the innermost intervals that ``(v_l, v_r]`` and ``{v_k}`` contain, with no
small offset to choose (adding ``1e-5`` to ``left``, as lifelines' docstring suggests, is
wrong wherever two times are closer than that). The innermost (Turnbull) intervals are a
low end immediately followed by a high end in the sorted list of ends; each observation
contains a contiguous run of them.

Why a polish after lifelines
----------------------------
lifelines runs the self-consistency EM (with a line search) until the log-likelihood
changes by less than ``tol`` per iteration. That change is of the *total* log-likelihood,
so the same ``tol`` means a different precision at 100 and at 10,000 rows; we give every
row the weight ``1/n`` (the masses do not change) so that ``tol=1e-7`` applies to the mean
log-likelihood. The EM converges sublinearly where a mass tends to zero, and a small change
per iteration does not mean the masses are near the optimum: on the simulated data of
``tests/reference/interval.R`` lifelines stops 2.5e-4 (in S) from the NPMLE with the total
log-likelihood at ``tol=1e-7``, and still 1.2e-5 away at ``tol=1e-11`` after 22 s; on
1,600 simulated patients it needs 5,000 iterations (30 s) for ``tol=1e-7`` and is then
2e-3 away. lifelines' other options do not help (``optimize=True`` diverges and
``fit_method="scipy"`` stops at a wrong point on these data). So the masses lifelines
returns start a projected Newton method on the log-likelihood under ``sum(p) = 1`` and
``p >= 0`` (see :func:`_polish`), which converges quadratically in a few steps. It stops
when the Kuhn–Tucker conditions, which characterise the maximum of this concave problem,
hold: ``g_j / N = 1`` on the support and ``g_j / N <= 1`` elsewhere, where
``g_j = sum_i w_i A_ij / (A_i p)`` and ``N = sum_i w_i``. The result agrees with the
high-precision NPMLE of ``tests/reference/interval.json`` to about 1e-13.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from lifelines import KaplanMeierFitter

from calcstats._errors import ConvergenceWarning, user_stacklevel

__all__ = ["NPMLE", "npmle"]

#: lifelines' EM tolerance (change of the log-likelihood per iteration)
EM_TOL = 1e-7
_KKT_TOL = 1e-9
_MAX_NEWTON = 500


@dataclass
class NPMLE:
    """The Turnbull NPMLE of one group.

    Attributes
    ----------
    left, right : numpy.ndarray
        Innermost intervals ``(left, right]`` (``right`` may be ``inf``), or the points
        ``{left}`` where ``point`` is true, in increasing order.
    point : numpy.ndarray
        Degenerate innermost intervals (exactly observed event times).
    mass : numpy.ndarray
        Probability of each innermost interval (sums to 1).
    loglik : float
        Log-likelihood of the data at the masses.
    converged : bool
        The Kuhn–Tucker conditions hold (``kkt`` below ``1e-9``).
    kkt : float
        Largest violation: ``|g_j/N - 1|`` on the support, ``g_j/N - 1`` elsewhere.
    em_gap : float
        Largest difference in S between lifelines' EM result and the polished masses.
    iterations : int
        Newton iterations of the polish.
    obs_first, obs_last : numpy.ndarray
        Per input row, the first and last innermost interval it contains.
    """

    left: np.ndarray
    right: np.ndarray
    point: np.ndarray
    mass: np.ndarray
    loglik: float
    converged: bool
    kkt: float
    em_gap: float
    iterations: int
    obs_first: np.ndarray
    obs_last: np.ndarray

    @property
    def surv(self) -> np.ndarray:
        """S at the right end of each innermost interval (after its mass)."""
        return np.clip(1.0 - np.cumsum(self.mass), 0.0, 1.0)

    @property
    def surv_left(self) -> np.ndarray:
        """S at the left end of each innermost interval (before its mass)."""
        return np.clip(1.0 - np.concatenate([[0.0], np.cumsum(self.mass)[:-1]]), 0.0, 1.0)


def _ranks(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integer ends of the closed intervals lifelines sees (see the module docstring)."""
    finite = np.isfinite(right)
    values = np.unique(np.concatenate([left, right[finite]]))
    kl = np.searchsorted(values, left)
    kr = np.searchsorted(values, np.where(finite, right, values[0]))
    exact = left == right
    lo = np.where(exact, 2 * kl, 2 * kl + 1).astype(float)
    hi = np.where(finite, 2.0 * kr, np.inf)
    return lo, hi, values


def _innermost(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Innermost intervals ``[a, b]`` in rank space: a low end followed by a high end."""
    ends = np.concatenate([lo, hi])
    is_high = np.concatenate([np.zeros(lo.size, bool), np.ones(hi.size, bool)])
    order = np.lexsort((is_high, ends))  # ties: low ends first, as lifelines sorts them
    ends, is_high = ends[order], is_high[order]
    pair = ~is_high[:-1] & is_high[1:]
    return ends[:-1][pair], ends[1:][pair]


class _Likelihood:
    """Log-likelihood, gradient and Hessian of the masses for grouped observations."""

    def __init__(self, first: np.ndarray, last: np.ndarray, n_int: int) -> None:
        key = first * (n_int + 1) + last
        uniq, inverse = np.unique(key, return_inverse=True)
        self.first, self.last = uniq // (n_int + 1), uniq % (n_int + 1)
        self.w = np.bincount(inverse).astype(float)
        self.n = float(self.w.sum())
        self.t = n_int

    def prob(self, p: np.ndarray) -> np.ndarray:
        cum = np.concatenate([[0.0], np.cumsum(p)])
        return cum[self.last + 1] - cum[self.first]

    def loglik(self, p: np.ndarray) -> float:
        q = self.prob(p)
        if np.any(q <= 0):
            return -np.inf
        return float(np.sum(self.w * np.log(q)))

    def gradient(self, p: np.ndarray) -> np.ndarray:
        c = self.w / self.prob(p)
        acc = np.zeros(self.t + 1)
        np.add.at(acc, self.first, c)
        np.add.at(acc, self.last + 1, -c)
        return np.cumsum(acc)[: self.t]

    def hessian(self, p: np.ndarray, support: np.ndarray) -> np.ndarray:
        """``-sum_i w_i A_ij A_ik / (A_i p)^2`` for ``j, k`` in ``support`` (sorted)."""
        c2 = self.w / self.prob(p) ** 2
        pos_first = np.searchsorted(support, self.first, side="left")
        pos_last = np.searchsorted(support, self.last, side="right") - 1
        keep = pos_first <= pos_last
        s = support.size
        m = np.zeros((s, s))
        np.add.at(m, (pos_first[keep], pos_last[keep]), c2[keep])
        # C[a, b] = sum of m[f, l] over f <= a, l >= b: observations spanning a..b
        c = np.cumsum(np.cumsum(m[:, ::-1], axis=1)[:, ::-1], axis=0)
        upper = np.triu(c)
        return -(upper + upper.T - np.diag(np.diag(c)))


def _polish(lik: _Likelihood, p: np.ndarray) -> tuple[np.ndarray, float, int]:
    """Projected Newton ascent from ``p``; returns masses, KKT violation, iterations.

    Each step is Newton's on the free masses under ``sum(p) = 1``, followed by a search
    along the projected path ``max(p + a d, 0)`` (halving ``a``), so that every mass the
    step drives below zero leaves the support at once. Masses near zero whose gradient
    pushes them down move to zero along the path (Bertsekas' projected Newton); an
    interval whose gradient exceeds the multiplier re-enters with a small mass.
    """
    p = np.where(p > 1e-12, p, 0.0)
    p = p / p.sum()
    kkt = np.inf
    it = 0
    stalled = False
    while it < _MAX_NEWTON:
        it += 1
        g = lik.gradient(p) / lik.n
        on = p > 0
        viol_on = float(np.abs(g[on] - 1.0).max())
        viol_off = float((g[~on] - 1.0).max()) if (~on).any() else -np.inf
        kkt = max(viol_on, viol_off)
        if viol_on <= 1e-12 and viol_off <= _KKT_TOL:
            break
        if viol_off > _KKT_TOL and (viol_on < min(1e-6, viol_off) or stalled):
            enter = ~on & (g - 1.0 > _KKT_TOL)  # would raise the likelihood: back in
            p[enter] = 1e-10
            p = p / p.sum()
            on = p > 0
        eps = min(1e-3, kkt)
        hold = on & (p <= eps) & (g < 1.0)
        free = np.flatnonzero(on & ~hold)
        s = free.size
        kmat = np.zeros((s + 1, s + 1))
        kmat[:s, :s] = lik.hessian(p, free) / lik.n
        kmat[:s, s] = kmat[s, :s] = 1.0
        rhs = np.concatenate([-g[free], [0.0]])
        try:
            d = np.linalg.solve(kmat, rhs)[:s]
        except np.linalg.LinAlgError:  # masses not identifiable: the least-squares step
            d = np.linalg.lstsq(kmat, rhs, rcond=None)[0][:s]
        base = lik.loglik(p)
        # near the optimum the gain is below the rounding of the log-likelihood
        slack = 1e-13 * max(1.0, abs(base)) if viol_on < 1e-6 else 0.0
        alpha, step = 1.0, None
        while alpha > 1e-12:
            trial = p.copy()
            trial[hold] = (1.0 - alpha) * p[hold]
            trial[free] = np.maximum(p[free] + alpha * d, 0.0)
            trial = trial / trial.sum()
            value = lik.loglik(trial)
            if value > base or (alpha == 1.0 and value >= base - slack):
                step = trial
                break
            alpha /= 2
        if step is None:  # no ascent left on this support
            if stalled or viol_off <= _KKT_TOL:
                break
            stalled = True
            continue
        stalled = False
        p = step
    return p, float(kkt), it


def npmle(left: np.ndarray, right: np.ndarray) -> NPMLE:
    """The Turnbull NPMLE of one group of ``(left, right]`` rows (module docstring)."""
    lo, hi, values = _ranks(left, right)
    a, b = _innermost(lo, hi)
    obs_first = np.searchsorted(a, lo, side="left")
    obs_last = np.searchsorted(b, hi, side="right") - 1
    n_int = a.size
    lik = _Likelihood(obs_first, obs_last, n_int)
    if n_int == 1:
        p_em = p = np.ones(1)
        kkt, it = 0.0, 0
    else:
        after = b[:-1] + 1.0  # just after each finite right end: S after that interval
        kmf = KaplanMeierFitter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # lifelines' own notes; convergence is checked here
            kmf.fit_interval_censoring(
                lo, hi, timeline=after, tol=EM_TOL, weights=np.full(lo.size, 1.0 / lo.size)
            )
        s_after = np.clip(kmf.survival_function_.to_numpy(dtype=float)[:, -1], 0.0, 1.0)
        s_after = np.minimum.accumulate(s_after)
        p_em = -np.diff(np.concatenate([[1.0], s_after, [0.0]]))
        p_em = np.maximum(p_em, 0.0)
        p, kkt, it = _polish(lik, p_em / p_em.sum())
    converged = kkt <= _KKT_TOL
    if not converged:
        warnings.warn(
            f"turnbull: the NPMLE did not reach the Kuhn–Tucker conditions (largest violation "
            f"{kkt:.2g} after {it} Newton steps); the curve may be off by about that much.",
            ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )

    def value(r: np.ndarray) -> np.ndarray:
        return np.where(
            np.isfinite(r), values[(np.where(np.isfinite(r), r, 0) // 2).astype(np.int64)], np.inf
        )

    gap = float(np.abs(np.cumsum(p_em) - np.cumsum(p)).max())
    return NPMLE(
        left=value(a),
        right=value(b),
        point=(a % 2 == 0),
        mass=p,
        loglik=lik.loglik(p),
        converged=converged,
        kkt=kkt,
        em_gap=gap,
        iterations=it,
        obs_first=obs_first,
        obs_last=obs_last,
    )
