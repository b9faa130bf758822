"""The vectorised matrix recurrences under the multi-state estimator equal plain loops."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from calcstats.survival._multistate_scan import ProductTree, affine_scan, congruence_scan


@settings(max_examples=30, deadline=None)
@given(
    m=st.integers(1, 700),
    d=st.integers(1, 5),
    block=st.sampled_from([4, 16, 256]),
    seed=st.integers(0, 2**16),
)
def test_scans_and_range_products_equal_loops(m, d, block, seed):
    rng = np.random.default_rng(seed)
    G = rng.uniform(-0.6, 0.6, (m, d, d)) / d + np.eye(d)
    B = rng.normal(size=(m, 2, d))
    K = rng.normal(size=(m, d, d))
    y0, m0 = rng.normal(size=(2, d)), rng.normal(size=(d, d))
    y, M = y0, m0
    want_y, want_m = [], []
    for j in range(m):
        y = y @ G[j] + B[j]
        M = G[j].T @ M @ G[j] + K[j]
        want_y.append(y)
        want_m.append(M)
    np.testing.assert_allclose(
        affine_scan(G, B, y0, block=block), np.array(want_y), rtol=1e-9, atol=1e-9
    )
    np.testing.assert_allclose(
        congruence_scan(G, K, m0, block=block), np.array(want_m), rtol=1e-8, atol=1e-8
    )
    lo = rng.integers(0, m + 1, 40)
    hi = rng.integers(0, m + 1, 40)
    v = rng.normal(size=(40, d))
    got = ProductTree(G).apply(v, lo, hi, chunk=7)
    for k in range(40):
        ref = v[k].copy()
        for j in range(lo[k], hi[k]):
            ref = ref @ G[j]
        np.testing.assert_allclose(got[k], ref, rtol=1e-9, atol=1e-9)


def test_empty_sequences():
    G = np.zeros((0, 2, 2))
    assert affine_scan(G, np.zeros((0, 1, 2)), np.ones((1, 2))).shape == (0, 1, 2)
    assert congruence_scan(G, np.zeros((0, 2, 2)), np.eye(2)).shape == (0, 2, 2)
