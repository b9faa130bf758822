"""Sampling helpers of the simulator."""

from __future__ import annotations

import numpy as np

from calcstats.simulate._draw import categorical_codes, fixed_width_ids, piecewise_exponential


def test_piecewise_exponential_inverts_the_cumulative_hazard():
    e = np.array([0.5, 1.5, 3.0, 0.0, 2.0])
    brk = np.array([1.0, 1.0, 1.0, 1.0, np.inf])
    t = piecewise_exponential(e, [brk], [np.full(5, 1.0), np.full(5, 0.5)])
    # H(t) = t on [0, 1), then 1 + 0.5 (t - 1)
    assert np.allclose(t, [0.5, 2.0, 5.0, 0.0, 2.0])
    # zero hazard after the break: never
    t = piecewise_exponential(
        np.array([0.5, 2.0]), [np.array([1.0, 1.0])], [np.ones(2), np.zeros(2)]
    )
    assert t[0] == 0.5 and np.isinf(t[1])


def test_piecewise_exponential_has_the_right_distribution():
    rng = np.random.default_rng(1)
    n = 200_000
    b1, b2 = np.full(n, 0.7), np.full(n, 1.5)
    t = piecewise_exponential(
        rng.exponential(size=n), [b1, b2], [np.full(n, 0.4), np.full(n, 2.0), np.full(n, 0.1)]
    )
    for x in (0.3, 1.0, 2.5):
        h = 0.4 * min(x, 0.7) + 2.0 * max(min(x, 1.5) - 0.7, 0) + 0.1 * max(x - 1.5, 0)
        assert abs((t > x).mean() - np.exp(-h)) < 0.005


def test_fixed_width_ids_and_categorical_codes():
    ids = fixed_width_ids("P", 12_345, 6)
    assert ids[0] == "P000001" and ids[-1] == "P012345" and len(set(ids)) == 12_345
    assert list(fixed_width_ids("S", 2, 9)) == ["S000000001", "S000000002"]
    codes = categorical_codes(np.random.default_rng(2), {"a": 0.2, "b": 0.8}, 100_000)
    assert abs(codes.mean() - 0.8) < 0.01
