"""Incidence rates and rate ratios of engine tables: events and person-time by aggregate,
the pandas path's results."""

from __future__ import annotations

import ibis
import pytest

import calcstats as cs

from .conftest import assert_same


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
    got = cs.incidence_rate(es, time="time", event="status", **kw)
    assert type(got) is cs.IncidenceRateResult
    assert_same(ref.tidy(), got.tidy())
    assert got.tidy().dtypes.equals(ref.tidy().dtypes)
    for attr in ("method", "bands", "cause", "per"):
        assert getattr(got, attr) == getattr(ref, attr)
    assert_same(ref.to_table().to_frame(), got.to_table().to_frame())


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
    got = cs.rate_ratio(es, time="time", event="status", cause=1, **kw)
    assert type(got) is cs.RateRatioResult
    assert_same(ref.tidy(), got.tidy())
    assert_same(ref.counts(), got.counts())
    assert (got.method, got.reference) == (ref.method, ref.reference)
    assert_same(ref.to_table().to_frame(), got.to_table().to_frame())


@pytest.mark.parametrize(
    ("fn", "kw"),
    [
        (cs.incidence_rate, {"cause": 9}),
        (cs.incidence_rate, {"cause": 1, "by": "sexx"}),
        (cs.incidence_rate, {}),  # codes above 1 without cause=
        (cs.incidence_rate, {"cause": 1, "bands": [-1]}),
        (cs.rate_ratio, {"cause": 1, "by": "sex", "reference": "X"}),
        (cs.rate_ratio, {"cause": 1, "by": "sex", "method": "score"}),
    ],
)
def test_errors_are_the_pandas_path_errors(survival_pair, fn, kw):
    ps, es = survival_pair
    if fn is cs.rate_ratio:
        kw = {"by": "sex"} | kw
    with pytest.raises(cs.CalcstatsError) as ref:
        fn(ps, time="time", event="status", **kw)
    with pytest.raises(cs.CalcstatsError) as got:
        fn(es, time="time", event="status", **kw)
    assert type(got.value) is type(ref.value)
    assert str(got.value) == str(ref.value)


def test_missing_group_values_are_the_pandas_path_error(survival_pair):
    ps, es = survival_pair
    ps = ps.assign(site=ps["site"].where(ps.index % 7 != 0))
    es = es.with_expr(es.full.mutate(site=ibis.null().cast("string")))
    with pytest.raises(cs.DataError, match="by: column 'site' has"):
        cs.incidence_rate(ps, time="time", event="status", cause=1, by="site")
    with pytest.raises(cs.DataError, match=f"by: column 'site' has {len(ps)} missing value"):
        cs.incidence_rate(es, time="time", event="status", cause=1, by="site")


@pytest.mark.parametrize(
    "kw",
    [
        {"standardize": {"by": "site", "weights": {"site_A": 5, "site_B": 3, "site_C": 2}}},
        {
            "by": "etiology",
            "standardize": {"by": "sex", "weights": {"F": 0.5, "M": 0.5}},
            "cause": 3,
        },
        {
            "by": ["sex", "calcification_burden"],
            "standardize": {"by": "site", "weights": {"site_A": 1, "site_B": 1, "site_C": 0}},
            "conf_level": 0.9,
        },
        {
            "by": "any_calcification",
            "bands": [2, 5],
            "standardize": {"by": "sex", "weights": {"F": 0.52, "M": 0.48}},
        },
        {
            "by": "sex",
            "standardize": {
                "by": "calcification_burden",
                "weights": {"none": 60, "1": 20, "2-5": 15, ">5": 5},
            },
            "cause": 3,
        },
    ],
)
def test_standardised_incidence_rate(survival_pair, kw):
    """Direct standardisation from the engine's per-(group, band, stratum) counts equals
    the pandas path to 1e-9 (assert_same's relative tolerance)."""
    ps, es = survival_pair
    kw = {"cause": 1} | kw
    ref = cs.incidence_rate(ps, time="time", event="status", **kw)
    got = cs.incidence_rate(es, time="time", event="status", **kw)
    assert type(got) is cs.IncidenceRateResult
    assert_same(ref.tidy(), got.tidy(), rtol=1e-9)
    assert got.tidy().dtypes.equals(ref.tidy().dtypes)
    for attr in ("method", "bands", "cause", "per", "standardize"):
        assert getattr(got, attr) == getattr(ref, attr)
    assert ref.standardize == kw["standardize"]["by"]
    # standardised, not crude: the rate is not events / person-time
    crude = ref.tidy()["events"] / ref.tidy()["person_time"] * 1000
    assert not (abs(ref.tidy()["rate"] - crude) < 1e-9 * crude).all()
    assert_same(ref.to_table().to_frame(), got.to_table().to_frame())


@pytest.mark.parametrize(
    "std",
    [
        {"by": "site", "weights": {"site_A": 1, "site_B": 1}},  # site_C has no weight
        {"by": "sexx", "weights": {"F": 1}},
        {"by": "etiology", "weights": {"x": 1}},  # also a by column
        {"by": "site", "weights": {"site_A": -1}},
        {"by": "diabetes", "weights": {0: 1, 1: 1}},  # missing values
        {"by": "calcification_burden", "weights": {"none": 1, "1": 1, "2-5": 1, ">5": 1}},
    ],
)
def test_standardise_errors_are_the_pandas_path_errors(survival_pair, std):
    ps, es = survival_pair
    kw = {"cause": 1, "by": ["etiology", "sex"], "standardize": std}
    with pytest.raises(cs.CalcstatsError) as ref:
        cs.incidence_rate(ps, time="time", event="status", **kw)
    with pytest.raises(cs.CalcstatsError) as got:
        cs.incidence_rate(es, time="time", event="status", **kw)
    assert type(got.value) is type(ref.value)
    assert str(got.value) == str(ref.value)
