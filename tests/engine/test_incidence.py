"""Incidence rates and rate ratios in the engine."""

from __future__ import annotations

import pytest
from conftest import assert_same

import calcstats as cs
from calcstats.describe import _engine as eng


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"by": "sex"},
        {"by": ["sex", "calcification_burden"]},
        {"bands": [1, 5, 10]},
        {"by": "etiology", "bands": [0, 2, 5]},
        {"cause": 3, "by": "any_calcification", "per": 100},
    ],
)
def test_incidence_rate(survival_pair, kw):
    ps, es = survival_pair
    kw = {"cause": 1} | kw
    ref = cs.incidence_rate(ps, time="time", event="status", **kw)
    got = eng.incidence_rate(es, time="time", event="status", **kw)
    assert_same(ref.tidy(), got.tidy())
    assert got.tidy().dtypes.equals(ref.tidy().dtypes)
    assert got.method == ref.method


@pytest.mark.parametrize(
    "kw",
    [
        {"by": "sex"},
        {"by": "calcification_burden", "reference": "1", "method": "wald"},
        {"by": "etiology", "reference": "psc"},
    ],
)
def test_rate_ratio(survival_pair, kw):
    ps, es = survival_pair
    ref = cs.rate_ratio(ps, time="time", event="status", cause=1, **kw)
    got = eng.rate_ratio(es, time="time", event="status", cause=1, **kw)
    assert_same(ref.tidy(), got.tidy())
    assert got.method == ref.method


def test_incidence_errors(survival_pair):
    _, es = survival_pair
    with pytest.raises(cs.DataError, match="cause=9: no row"):
        eng.incidence_rate(es, time="time", event="status", cause=9)
    with pytest.raises(cs.CalcstatsError, match="bands must be finite"):
        eng.incidence_rate(es, time="time", event="status", cause=1, bands=[-1])
