"""incidence_rate() and rate_ratio() against R poisson.test (one- and two-sample)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import calcstats as cs
from calcstats._errors import DataError, InvalidParameterError, SchemaError

REL = 1e-6


def _check_rate(row, r):
    assert row["events"] == r["events"]
    assert row["person_time"] == pytest.approx(r["person_time"], rel=1e-10)
    assert [row["rate"], row["conf_low"], row["conf_high"]] == pytest.approx(
        [r["rate"], r["lower"], r["upper"]], rel=REL
    )


def test_overall_death_rate(pbc, ref):
    res = cs.incidence_rate(pbc, time="years", event="status", cause=2).tidy()
    assert list(res.columns) == ["events", "person_time", "rate", "conf_low", "conf_high"]
    _check_rate(res.iloc[0], ref["ir_overall"])
    # same as a 0/1 event column
    res01 = cs.incidence_rate(pbc, time="years", event="death").tidy()
    pd.testing.assert_frame_equal(res, res01)


def test_cause_1_counts_transplants(pbc, ref):
    res = cs.incidence_rate(pbc, time="years", event="status", cause=1, per=100)
    _check_rate(res.tidy().iloc[0], ref["ir_transplant"])
    assert (res.cause, res.per, res.time, res.event) == (1, 100.0, "years", "status")
    assert "status = 1" in res.method


def test_several_event_codes_need_a_cause(pbc):
    # codes 0/1/2 (censored, transplant, death): as kaplan_meier and cox, no silent cause 1
    for call in (cs.incidence_rate, cs.rate_ratio):
        kw = {"by": "sex"} if call is cs.rate_ratio else {}
        with pytest.raises(DataError) as err:
            call(pbc, time="years", event="status", **kw)
        msg = str(err.value)
        assert f"{call.__name__}(): event column 'status' holds event codes [0, 1, 2]" in msg
        assert "Pass cause=" in msg
    with pytest.raises(DataError, match="event codes"):
        cs.kaplan_meier(pbc, time="years", event="status")


def test_result_is_an_estimate_result_with_typed_fields(pbc):
    res = cs.incidence_rate(
        pbc, time="years", event="death", by="sex", bands=[1, 5], labels={"sex": "Sex of patient"}
    )
    assert isinstance(res, cs.IncidenceRateResult)
    from calcstats.results import EstimateResult

    assert isinstance(res, EstimateResult)
    assert res.by == ["sex", "band"] and res.bands == [0.0, 1.0, 5.0]
    assert res.cause is None and res.per == 1000.0 and res.conf_level == 0.95
    assert res.labels.variable("sex") == "Sex of patient"
    assert not hasattr(res, "extra")


def test_by_group(trial, ref):
    res = cs.incidence_rate(trial, time="years", event="death", by="trt").tidy()
    assert list(res.columns)[:2] == ["trt", "events"]
    for _, row in res.iterrows():
        _check_rate(row, ref["ir_by_trt"][str(int(row["trt"]))])


def test_bands_as_stsplit(pbc, ref):
    res = cs.incidence_rate(pbc, time="years", event="death", bands=[0, 1, 5, 10]).tidy()
    assert list(res["band"]) == ["0–1", "1–5", "5–10", "≥10"]
    for (_, row), r in zip(res.iterrows(), ref["ir_bands"], strict=True):
        _check_rate(row, r)
    # bands partition the total follow-up and events
    total = cs.incidence_rate(pbc, time="years", event="death").tidy()
    assert res["events"].sum() == total["events"][0]
    assert res["person_time"].sum() == pytest.approx(total["person_time"][0], rel=1e-12)


def test_bands_by_sex(pbc, ref):
    res = cs.incidence_rate(pbc, time="years", event="death", by="sex", bands=[1, 5, 10]).tidy()
    fem = res[res["sex"] == "f"].reset_index(drop=True)
    for (_, row), r in zip(fem.iterrows(), ref["ir_bands_female"], strict=True):
        _check_rate(row, r)


def test_event_at_cut_point_belongs_to_band_ending_there():
    df = pd.DataFrame({"t": [1.0, 2.0], "d": [1, 0]})
    res = cs.incidence_rate(df, time="t", event="d", bands=[0, 1]).tidy()
    assert list(res["events"]) == [1, 0]
    assert list(res["person_time"]) == [2.0, 1.0]


def test_rate_errors(pbc):
    with pytest.raises(DataError, match="negative"):
        cs.incidence_rate(pbc.assign(years=pbc["years"] - 1), time="years", event="death")
    with pytest.raises(SchemaError, match="Did you mean 'years'"):
        cs.incidence_rate(pbc, time="yeras", event="death")
    with pytest.raises(DataError, match="cause=7 does not occur"):
        cs.incidence_rate(pbc, time="years", event="status", cause=7)
    with pytest.raises(DataError, match="positive integer event codes"):
        cs.incidence_rate(pbc.assign(e=pbc["status"] - 0.5), time="years", event="e")
    with pytest.raises(DataError, match="missing value"):
        cs.incidence_rate(
            pbc.assign(years=pbc["years"].where(pbc.index != 3)), time="years", event="death"
        )
    with pytest.raises(DataError, match="zero total person-time"):
        cs.incidence_rate(pbc.assign(years=0.0), time="years", event="death")
    with pytest.raises(DataError, match="missing value"):
        cs.incidence_rate(pbc, time="years", event="death", by="trt")


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("per", 0, "The 'per' parameter of incidence_rate must be a number > 0. Got 0."),
        (
            "conf_level",
            95,
            "The 'conf_level' parameter of incidence_rate must be a number in "
            "(0, 1). Got 95. Use 0.95, not 95.",
        ),
        (
            "cause",
            0,
            "The 'cause' parameter of incidence_rate must be an integer >= 1 or None. Got 0.",
        ),
        (
            "bands",
            "yearly",
            "The 'bands' parameter of incidence_rate must be a number or a "
            "list of finite numbers or None. Got 'yearly'.",
        ),
        (
            "bands",
            [-1, 2],
            "The 'bands' parameter of incidence_rate must be a list of cut points >= 0",
        ),
        (
            "suppress_below",
            1,
            "The 'suppress_below' parameter of incidence_rate must be an "
            "integer >= 2 or None. Got 1.",
        ),
        (
            "by",
            3,
            "The 'by' parameter of incidence_rate must be a column name or a list of "
            "column names or None. Got 3.",
        ),
        ("labels", ["sex"], "The 'labels' parameter must be a calcstats.Labels"),
    ],
)
def test_incidence_options_are_checked(pbc, option, value, message):
    with pytest.raises(InvalidParameterError) as err:
        cs.incidence_rate(pbc, time="years", event="death", **{option: value})
    assert str(err.value).startswith(message)


@pytest.mark.parametrize("method", ["exact", "wald"])
def test_rate_ratio_trt(trial, ref, method):
    res = cs.rate_ratio(trial, time="years", event="death", by="trt", method=method).tidy()
    assert list(res.columns) == ["trt", "estimate", "conf_low", "conf_high", "p_value"]
    assert res["estimate"][0] == 1 and np.isnan(res["p_value"][0])
    r = ref["rr_trt"][method]
    row = res.iloc[1]
    assert [row["estimate"], row["conf_low"], row["conf_high"], row["p_value"]] == (
        pytest.approx([r["estimate"], r["lower"], r["upper"], r["p"]], rel=REL)
    )


def test_rate_ratio_level_and_epitools(trial, ref):
    res = cs.rate_ratio(trial, time="years", event="death", by="trt", conf_level=0.9).tidy()
    r = ref["rr_trt_90"]["exact"]
    assert [res["conf_low"][1], res["conf_high"][1]] == pytest.approx(
        [r["lower"], r["upper"]], rel=REL
    )
    wald = cs.rate_ratio(trial, time="years", event="death", by="trt", method="wald").tidy()
    assert wald.iloc[1, 1:4].tolist() == pytest.approx(ref["rr_trt_epitools_wald"], rel=REL)


def test_rate_ratio_three_levels_and_reference(pbc, ref):
    res = cs.rate_ratio(
        pbc, time="years", event="status", cause=2, by="edema", reference="0"
    ).tidy()
    for lev in ["0.5", "1"]:
        row = res[res["edema"] == float(lev)].iloc[0]
        r = ref["rr_edema"][lev]["exact"]
        assert [row["estimate"], row["conf_low"], row["conf_high"], row["p_value"]] == (
            pytest.approx([r["estimate"], r["lower"], r["upper"], r["p"]], rel=REL)
        )
    # reversing the reference inverts the ratio
    rev = cs.rate_ratio(pbc, time="years", event="death", by="edema", reference=1).tidy()
    assert rev.loc[rev["edema"] == 0, "estimate"].iloc[0] == pytest.approx(
        1 / ref["rr_edema"]["1"]["exact"]["estimate"], rel=1e-10
    )


def test_rate_ratio_result(trial):
    res = cs.rate_ratio(
        trial,
        time="years",
        event="death",
        by="trt",
        reference="2",
        method="wald",
        labels=cs.Labels(levels={"trt": {1: "D-penicillamine"}}),
    )
    assert isinstance(res, cs.RateRatioResult)
    assert res.reference == 2.0 and res.interval == "wald" and res.cause is None
    counts = res.counts()
    assert list(counts.columns) == ["trt", "events", "person_time", "reference"]
    assert counts["reference"].tolist() == [False, True]
    assert counts["events"].sum() == trial["death"].sum()
    assert res.labels.level("trt", 1) == "D-penicillamine"


def test_rate_ratio_errors(trial):
    with pytest.raises(DataError, match="reference=3"):
        cs.rate_ratio(trial, time="years", event="death", by="trt", reference=3)
    with pytest.raises(DataError, match="at least two levels"):
        cs.rate_ratio(trial[trial["trt"] == 1], time="years", event="death", by="trt")
    with pytest.raises(
        InvalidParameterError,
        match=(
            r"^The 'method' parameter of rate_ratio must be one of 'exact', 'wald'\. "
            r"Got 'score'\.$"
        ),
    ):
        cs.rate_ratio(trial, time="years", event="death", by="trt", method="score")
    with pytest.raises(
        InvalidParameterError, match="The 'by' parameter of rate_ratio must be a column name"
    ):
        cs.rate_ratio(trial, time="years", event="death", by=["trt", "sex"])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), cuts=st.lists(st.floats(0.1, 8), min_size=1, max_size=4))
def test_bands_partition_follow_up(seed, cuts):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"t": rng.exponential(3, 60), "d": rng.integers(0, 2, 60)})
    full = cs.incidence_rate(df, time="t", event="d").tidy()
    split = cs.incidence_rate(df, time="t", event="d", bands=cuts).tidy()
    assert split["events"].sum() == full["events"][0]
    assert split["person_time"].sum() == pytest.approx(full["person_time"][0], rel=1e-10)
