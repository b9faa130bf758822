"""Confidence intervals of the descriptive estimators: invariants over many inputs (the
R comparisons are in test_prevalence.py and test_incidence.py)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from calcstats.describe._intervals import poisson_exact_interval, proportion_interval


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 500),
    frac=st.floats(0, 1),
    level=st.sampled_from([0.8, 0.9, 0.95, 0.99]),
    method=st.sampled_from(["wilson", "exact", "jeffreys"]),
)
def test_proportion_interval_properties(n, frac, level, method):
    x = np.array([round(frac * n)])
    lo, hi = proportion_interval(x, np.array([n]), method=method, conf_level=level)
    p = x[0] / n
    assert 0 <= lo[0] <= p <= hi[0] <= 1
    lo2, hi2 = proportion_interval(x, np.array([n]), method=method, conf_level=0.5)
    assert lo[0] <= lo2[0] + 1e-12 and hi2[0] <= hi[0] + 1e-12  # wider at higher level


@settings(max_examples=40, deadline=None)
@given(x=st.integers(0, 2000))
def test_poisson_interval_brackets_count(x):
    lo, hi = poisson_exact_interval(np.array([x]), conf_level=0.95)
    assert lo[0] <= x <= hi[0]
