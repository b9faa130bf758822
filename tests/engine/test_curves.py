"""Kaplan–Meier, Aalen–Johansen, log-rank and Gray's test of an engine table, from
per-time counts in the engine: the pandas path's results (class, numbers to 1e-9, tables,
messages)."""

from __future__ import annotations

import ibis
import numpy as np
import pytest

import calcstats as cs

from .conftest import assert_same, quiet


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
    got = cs.kaplan_meier(es, time="time", event="status", **kw)
    assert type(got) is cs.KaplanMeierResult
    assert_same(ref.tidy(), got.tidy())
    assert_same(ref.median(), got.median())
    assert_same(ref.risk_table([0, 2, 5]), got.risk_table([0, 2, 5]))
    assert got.method == ref.method
    assert got.inline(3, group=_first_group(ref)) == ref.inline(3, group=_first_group(ref))
    assert_same(ref.to_table().to_frame(), got.to_table().to_frame())


def _first_group(result):
    return result.groups.iloc[0].to_dict() if result.by else None


def test_kaplan_meier_with_inverse_probability_weights(survival_pair):
    ps, es = survival_pair
    ps = ps.assign(w=np.where(ps["sex"] == "F", 1.5, 0.7))
    es = es.with_expr(es.full.mutate(w=ibis.cases((es.full.sex == "F", 1.5), else_=0.7)))
    ref = cs.kaplan_meier(ps, time="time", event="status", cause=1, weights="w")
    got = cs.kaplan_meier(es, time="time", event="status", cause=1, weights="w")
    assert "robust" in got.method and got.method == ref.method
    assert_same(ref.tidy(), got.tidy())
    assert_same(ref.risk_table([1, 4], unweighted=True), got.risk_table([1, 4], unweighted=True))


def test_cumulative_incidence_with_weights(survival_pair):
    ps, es = survival_pair
    ps = ps.assign(w=np.where(ps["sex"] == "F", 1.5, 0.7))
    es = es.with_expr(es.full.mutate(w=ibis.cases((es.full.sex == "F", 1.5), else_=0.7)))
    kw = {"time": "time", "event": "status", "cause": 1, "by": "any_calcification", "weights": "w"}
    ref = cs.cumulative_incidence(ps, **kw)
    got = cs.cumulative_incidence(es, **kw)
    assert_same(ref.tidy(), got.tidy())
    assert_same(ref.state_probabilities(), got.state_probabilities())
    assert_same(ref.risk_table([1, 4], unweighted=True), got.risk_table([1, 4], unweighted=True))
    np.testing.assert_allclose(got.n_events, ref.n_events, rtol=1e-12)


@pytest.mark.parametrize("kw", [{"cause": 1}, {"cause": 3, "by": "etiology"}])
def test_cumulative_incidence(survival_pair, kw):
    ps, es = survival_pair
    ref = cs.cumulative_incidence(ps, time="time", event="status", **kw)
    got = cs.cumulative_incidence(es, time="time", event="status", **kw)
    assert type(got) is cs.CumulativeIncidenceResult
    assert_same(ref.tidy(), got.tidy())
    assert_same(ref.state_probabilities(), got.state_probabilities())
    assert_same(ref.median(), got.median())


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
    got = cs.logrank(es, time="time", event="status", cause=1, **kw)
    assert type(got) is cs.LogrankResult
    assert (got.df, got.method, got.inline()) == (ref.df, ref.method, ref.inline())
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
    got = cs.gray_test(es, time="time", event="status", cause=1, **kw)
    assert type(got) is cs.GrayTestResult
    assert (got.df, got.method) == (ref.df, ref.method)
    np.testing.assert_allclose(got.statistic, ref.statistic, rtol=1e-9)
    assert_same(ref.details, got.details)
    assert_same(ref.scores, got.scores)


def test_groups_without_events_warn_as_in_pandas(survival_pair):
    ps, es = survival_pair
    _, w_ref = quiet(
        cs.kaplan_meier, ps, time="time", event="status", cause=2, by="calcification_burden"
    )
    _, w_got = quiet(
        cs.kaplan_meier, es, time="time", event="status", cause=2, by="calcification_burden"
    )
    assert (
        w_got
        == w_ref
        == ["group calcification_burden='>5' has no events in column 'status' (kaplan_meier)."]
    )


@pytest.mark.parametrize(
    ("fn", "kw"),
    [
        (cs.kaplan_meier, {"event": "status"}),  # codes above 1 without cause=
        (cs.kaplan_meier, {"event": "status", "cause": 1, "time": "tme"}),
        (cs.cumulative_incidence, {"event": "status", "cause": 7}),
        (cs.logrank, {"event": "status", "cause": 1, "by": "sex", "scores": [1, 2]}),
        (cs.gray_test, {"event": "status", "by": "site_x"}),
    ],
)
def test_input_errors_are_the_pandas_path_errors(survival_pair, fn, kw):
    ps, es = survival_pair
    kw = {"time": "time"} | kw
    with pytest.raises(cs.CalcstatsError) as ref:
        fn(ps, **kw)
    with pytest.raises(cs.CalcstatsError) as got:
        fn(es, **kw)
    assert type(got.value) is type(ref.value)
    assert str(got.value) == str(ref.value)


def test_options_are_checked_before_the_engine_runs(survival_pair):
    _, es = survival_pair
    with pytest.raises(cs.InvalidParameterError, match="'conf_type' parameter of kaplan_meier"):
        cs.kaplan_meier(es, time="time", event="status", cause=1, conf_type="bogus")
