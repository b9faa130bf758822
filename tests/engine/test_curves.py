"""Kaplan–Meier, Aalen–Johansen, log-rank and Gray's test from per-time counts in the
engine: the pandas path's numbers to 1e-9."""

from __future__ import annotations

import ibis
import numpy as np
import pytest
from conftest import assert_same, quiet

import calcstats as cs
from calcstats.survival import _engine as eng


@pytest.mark.parametrize(
    "kw",
    [
        {"cause": 1},
        {"cause": 1, "by": "sex"},
        {"cause": 3, "by": ["sex", "any_calcification"]},
        {"cause": 3, "by": "calcification_burden", "conf_type": "plain", "conf_level": 0.9},
    ],
)
def test_kaplan_meier(survival_pair, kw):
    ps, es = survival_pair
    ref = cs.kaplan_meier(ps, time="time", event="status", **kw)
    got = eng.kaplan_meier(es, time="time", event="status", **kw)
    assert_same(ref.tidy(), got.tidy())
    assert_same(ref.median(), got.median())
    assert got.method == ref.method


def test_kaplan_meier_with_inverse_probability_weights(survival_pair):
    ps, es = survival_pair
    ps = ps.assign(w=np.where(ps["sex"] == "F", 1.5, 0.7))
    es = es.with_expr(es.full.mutate(w=ibis.cases((es.full.sex == "F", 1.5), else_=0.7)))
    ref = cs.kaplan_meier(ps, time="time", event="status", cause=1, weights="w")
    got = eng.kaplan_meier(es, time="time", event="status", cause=1, weights="w")
    assert "robust" in got.method and got.method == ref.method
    assert_same(ref.tidy(), got.tidy())


@pytest.mark.parametrize("kw", [{"cause": 1}, {"cause": 3, "by": "etiology"}])
def test_cumulative_incidence(survival_pair, kw):
    ps, es = survival_pair
    ref = cs.cumulative_incidence(ps, time="time", event="status", **kw)
    got = eng.cumulative_incidence(es, time="time", event="status", **kw)
    assert_same(ref.tidy(), got.tidy())
    assert_same(ref.state_probabilities(), got.state_probabilities())


@pytest.mark.parametrize(
    "kw",
    [
        {"by": "any_calcification"},
        {"by": "calcification_burden"},
        {"by": "calcification_burden", "trend": True},
        {"by": "sex", "strata": "etiology"},
        {"by": "any_calcification", "weights": ("fh", 1, 0)},
    ],
)
def test_logrank(survival_pair, kw):
    ps, es = survival_pair
    ref = cs.logrank(ps, time="time", event="status", cause=1, **kw)
    got = eng.logrank(es, time="time", event="status", cause=1, **kw)
    assert (got.df, got.method) == (ref.df, ref.method)
    np.testing.assert_allclose(
        [got.statistic, got.p_value], [ref.statistic, ref.p_value], rtol=1e-9
    )
    assert_same(ref.details, got.details)


@pytest.mark.parametrize(
    "kw",
    [
        {"by": "any_calcification"},
        {"by": "calcification_burden"},
        {"by": "sex", "strata": "any_calcification", "rho": 1.0},
    ],
)
def test_gray_test(survival_pair, kw):
    ps, es = survival_pair
    ref = cs.gray_test(ps, time="time", event="status", cause=1, **kw)
    got = eng.gray_test(es, time="time", event="status", cause=1, **kw)
    assert (got.df, got.method) == (ref.df, ref.method)
    np.testing.assert_allclose(got.statistic, ref.statistic, rtol=1e-9)
    assert_same(ref.details, got.details)


def test_groups_without_events_warn_as_in_pandas(survival_pair):
    ps, es = survival_pair
    _, w_ref = quiet(
        cs.kaplan_meier, ps, time="time", event="status", cause=2, by="calcification_burden"
    )
    _, w_got = quiet(
        eng.kaplan_meier, es, time="time", event="status", cause=2, by="calcification_burden"
    )
    assert (
        w_got
        == w_ref
        == ["group calcification_burden='>5' has no events in column 'status' (kaplan_meier)."]
    )


def test_input_errors_name_the_column(survival_pair):
    _, es = survival_pair
    with pytest.raises(cs.DataError, match="holds event codes \\[0, 1, 2, 3\\]"):
        eng.kaplan_meier(es, time="time", event="status")
    with pytest.raises(cs.SchemaError, match="'tme'"):
        eng.kaplan_meier(es, time="tme", event="status", cause=1)
    with pytest.raises(cs.DataError, match="cause=7 does not occur"):
        eng.cumulative_incidence(es, time="time", event="status", cause=7)
