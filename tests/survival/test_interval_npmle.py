"""The Turnbull NPMLE: lifelines' EM polished to the optimum, on any interval data.

The optimum of this concave problem is characterised by the Kuhn–Tucker conditions, which
the tests check from scratch with a dense membership matrix: ``g_j / N = 1`` where the
mass is positive and ``g_j / N <= 1`` elsewhere, ``g_j = sum_i A_ij / (A_i p)``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calcstats.survival._interval_npmle import npmle


def _kkt(left: np.ndarray, right: np.ndarray, fit) -> tuple[float, float, float]:
    """(max |g/N - 1| on the support, max g/N - 1 off it, log-likelihood), from scratch."""
    a = np.zeros((left.size, fit.mass.size))
    for j, (lo, hi, point) in enumerate(zip(fit.left, fit.right, fit.point, strict=True)):
        if point:  # {t} lies in (l, r] when l < t <= r, and in the exact row {t}
            inside = ((left < lo) & (lo <= right)) | ((left == lo) & (right == lo))
        else:  # (lo, hi] lies in (l, r] when l <= lo and hi <= r
            inside = (left <= lo) & (hi <= right) & (left < right)
        a[:, j] = inside
    assert (a.sum(axis=1) > 0).all()  # every row contains an innermost interval
    prob = a @ fit.mass
    g = (a / prob[:, None]).sum(axis=0) / left.size
    on = fit.mass > 0
    off = (g[~on] - 1).max() if (~on).any() else -np.inf
    return float(np.abs(g[on] - 1).max()), float(off), float(np.log(prob).sum())


def _visits(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    t = rng.weibull(rng.uniform(0.5, 3), n) * rng.uniform(0.5, 5)
    visits = np.round(np.cumsum(rng.uniform(0.3, 1.7, (n, 12)), axis=1), rng.integers(0, 3))
    left, right = np.zeros(n), np.full(n, np.inf)
    for i in range(n):
        v = visits[i][visits[i] <= rng.uniform(1, 10)]
        left[i] = v[v < t[i]].max(initial=0.0)
        after = v[v >= t[i]]
        right[i] = after.min() if after.size else np.inf
    exact = rng.random(n) < 0.1
    right[exact] = np.where(np.isfinite(right[exact]), right[exact], left[exact] + 1)
    left[exact] = right[exact]
    return left, right


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 80))
def test_polished_masses_meet_the_kuhn_tucker_conditions(seed, n):
    left, right = _visits(np.random.default_rng(seed), n)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = npmle(left, right)
    assert fit.converged
    assert fit.mass.sum() == pytest.approx(1.0, abs=1e-12)
    assert (fit.mass >= 0).all()
    on_support, off_support, loglik = _kkt(left, right, fit)
    assert on_support < 1e-9
    assert off_support < 1e-8
    assert fit.loglik == pytest.approx(loglik, abs=1e-9)
    assert np.all(np.diff(fit.surv) <= 1e-15)


def test_ties_follow_the_interval2_convention():
    # exact 2 and (1, 2]: the point {2} carries both; (2, 5] starts after it
    left = np.array([2.0, 1.0, 2.0, 0.0])
    right = np.array([2.0, 2.0, 5.0, np.inf])
    fit = npmle(left, right)
    assert fit.left.tolist() == [2.0, 2.0]
    assert fit.right.tolist() == [2.0, 5.0]
    assert fit.point.tolist() == [True, False]
    assert fit.mass.tolist() == pytest.approx([2 / 3, 1 / 3], abs=1e-12)  # max p1^2 p2


def test_a_single_innermost_interval():
    fit = npmle(np.array([0.0, 0.0]), np.array([3.0, np.inf]))
    assert fit.mass.tolist() == [1.0]
    assert (fit.left.tolist(), fit.right.tolist()) == ([0.0], [3.0])
    assert fit.converged


def test_polish_improves_on_lifelines_em():
    """lifelines' EM at tol=1e-7 stops measurably short of the optimum on the reference sim."""
    from interval_refs import curve_ref, data

    d = data("ic_sim")
    fit = npmle(d["left"].to_numpy(), d["right"].fillna(np.inf).to_numpy())
    ref = curve_ref("ic_sim", "~1", "all")["npmle"]
    assert fit.em_gap > 1e-4  # what lifelines alone would have reported
    assert np.abs(fit.surv - ref["surv"]).max() < 1e-12
    assert fit.iterations < 50
