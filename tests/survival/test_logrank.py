"""logrank against R survdiff (and a by-hand trend test in R), plus bad input."""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import calcstats as cs
from calcstats._errors import (
    CalcstatsError,
    CalcstatsWarning,
    DataError,
    DataWarning,
    InvalidParameterError,
)
from calcstats.results import TestResult
from calcstats.survival import _logrank

REL = 1e-6  # test statistics: relative 1e-6 (same algorithm as survdiff)


@pytest.fixture(scope="module")
def frames(pbc, small):
    return {
        "pbc": pbc,
        "trial": pbc[pbc["trt"].notna()],
        "staged": pbc[pbc["stage"].notna()],
        "small": small,
    }


CASES = {
    "pbc_trt": ("trial", "death", {"by": "trt"}),
    "pbc_stage": ("staged", "death", {"by": "stage"}),
    "pbc_edema": ("pbc", "death", {"by": "edema"}),
    "pbc_edema_rho1": ("pbc", "death", {"by": "edema", "weights": ("fh", 1, 0)}),
    "pbc_trt_strata_sex": ("trial", "death", {"by": "trt", "strata": "sex"}),
    "small_g": ("small", "event1", {"by": "g"}),
    "small_g_strata": ("small", "event1", {"by": "g", "strata": "s"}),
    "small_g_strata_rho1": ("small", "event1", {"by": "g", "strata": "s", "weights": ("fh", 1, 0)}),
    "trend_pbc_stage": ("staged", "death", {"by": "stage", "trend": True, "scores": [1, 2, 3, 4]}),
    "trend_pbc_edema_values": ("pbc", "death", {"by": "edema", "trend": True}),
    "trend_small_strata_order": ("small", "event1", {"by": "g", "strata": "s", "trend": True}),
    "trend_small_strata_score": ("small", "event1", {"by": "score", "strata": "s", "trend": True}),
}


@pytest.mark.parametrize("key", list(CASES))
def test_matches_survdiff(frames, ref, key):
    frame, event, kw = CASES[key]
    r = ref["logrank"][key]
    res = cs.logrank(frames[frame], time="time", event=event, **kw)
    assert res.statistic == pytest.approx(r["chisq"], rel=REL)
    assert res.df == r["df"]
    assert res.p_value == pytest.approx(r["p"], rel=REL)
    if "observed" in r:
        per_group = res.tidy(details=True)
        np.testing.assert_allclose(per_group["observed"], r["observed"], rtol=REL)
        np.testing.assert_allclose(per_group["expected"], r["expected"], rtol=REL)
        np.testing.assert_allclose(per_group["n"], r["n"])
        np.testing.assert_allclose(res.variance, np.array(r["var"]), rtol=REL, atol=1e-12)
    tidy = res.tidy()
    assert list(tidy.columns) == ["statistic", "df", "p_value", "method"]


def test_pbc_reference(pbc, pbc_reference):
    trial = pbc[pbc["trt"].notna()]
    res = cs.logrank(trial, time="time", event="status", cause=2, by="trt")
    assert res.statistic == pytest.approx(pbc_reference["logrank_trt"]["chisq"], rel=REL)
    res = cs.logrank(pbc[pbc["stage"].notna()], time="time", event="status", cause=2, by="stage")
    assert res.statistic == pytest.approx(pbc_reference["logrank_stage_4groups"]["chisq"], rel=REL)
    assert res.p_value == pytest.approx(pbc_reference["logrank_stage_4groups"]["p"], rel=REL)


def test_details_columns_attributes_and_repr(small):
    res = cs.logrank(small, time="time", event="status", cause=1, by="g", strata="s")
    assert isinstance(res, cs.LogrankResult) and isinstance(res, TestResult)
    assert list(res.tidy(details=True).columns) == [
        "g",
        "n",
        "observed",
        "expected",
        "o_minus_e",
        "oe2_over_e",
        "oe2_over_v",
    ]
    assert res.tidy(details=True)["o_minus_e"].sum() == pytest.approx(0, abs=1e-9)
    assert res.method == "Stratified log-rank test"
    assert "Stratified log-rank" in repr(res)
    assert res.by == ["g"] and res.groups["g"].tolist() == ["a", "b", "c"]
    assert res.variance.shape == (3, 3) and res.n_strata == 2
    assert (res.rho, res.gamma, res.trend, res.scores) == (0.0, 0.0, False, None)
    trend = cs.logrank(small, time="time", event="event1", by="score", trend=True)
    assert trend.trend and trend.scores.tolist() == [0.0, 1.0, 3.0]  # the values of by
    assert trend.df == 1 and trend.method == "Log-rank test for trend"
    lab = cs.Labels(variables={"g": "Group"})
    assert cs.logrank(small, time="time", event="event1", by="g", labels=lab).labels == lab


@pytest.mark.parametrize(("rho", "gamma"), [(0, 1), (1, 1), (0.5, 2)])
def test_fleming_harrington_matches_lifelines(small, rho, gamma):
    from lifelines.statistics import logrank_test

    two = small[small["g"] != "c"]
    a, b = two[two.g == "a"], two[two.g == "b"]
    lf = logrank_test(
        a.time, b.time, a.event1, b.event1, weightings="fleming-harrington", p=rho, q=gamma
    )
    ours = cs.logrank(two, time="time", event="event1", by="g", weights=("fh", rho, gamma))
    assert ours.statistic == pytest.approx(lf.test_statistic, rel=REL)
    assert "Fleming" in ours.method


def test_two_group_trend_equals_logrank(small):
    two = small[small["g"] != "c"]
    a = cs.logrank(two, time="time", event="event1", by="g")
    b = cs.logrank(two, time="time", event="event1", by="g", trend=True)
    assert a.statistic == pytest.approx(b.statistic, rel=1e-12)


def test_row_order_invariance(small):
    a = cs.logrank(small, time="time", event="event1", by="g", strata="s")
    b = cs.logrank(
        small.sample(frac=1, random_state=3), time="time", event="event1", by="g", strata="s"
    )
    assert a.statistic == pytest.approx(b.statistic, rel=1e-12)


def test_bad_input(small):
    with pytest.raises(DataError, match="single level"):
        cs.logrank(small.assign(one="x"), time="time", event="event1", by="one")
    with pytest.raises(DataError, match="every observation is censored"):
        cs.logrank(small.assign(event1=0), time="time", event="event1", by="g")
    with pytest.raises(InvalidParameterError) as err:
        cs.logrank(small, time="time", event="event1", by="g", weights="wilcoxon")
    assert str(err.value).startswith(
        "The 'weights' parameter of logrank must be None (log-rank) or ('fh', rho, gamma) "
        "with rho, gamma >= 0"
    )
    with pytest.raises(
        InvalidParameterError, match="'scores' parameter of logrank must give one number per group"
    ):
        cs.logrank(small, time="time", event="event1", by="g", trend=True, scores=[1, 2])
    with pytest.raises(InvalidParameterError, match="used by the test for trend only"):
        cs.logrank(small, time="time", event="event1", by="g", scores=[1, 2, 3])
    with pytest.raises(InvalidParameterError, match="'trend' parameter of logrank"):
        cs.logrank(small, time="time", event="event1", by="g", trend="yes")
    with pytest.raises(InvalidParameterError, match="'by' parameter of logrank"):
        cs.logrank(small, time="time", event="event1", by=None)
    with pytest.raises(DataError, match="cause="):
        cs.logrank(small, time="time", event="status", by="g")
    df = small.copy()
    df.loc[df["g"] == "c", "event1"] = 0
    with pytest.warns(CalcstatsWarning, match="group g='c' has no events"):
        res = cs.logrank(df, time="time", event="event1", by="g")
    assert res.tidy(details=True).loc[2, "observed"] == 0


# Rows of the two examples hypothesis found: everyone at risk dies at the only event
# time (a bare LinAlgError before), and a group censored before any event.
EVERYONE_DIES = [(1, 0, "a")] * 4 + [(2, 1, "a"), (2, 1, "b")]
NO_OVERLAP = [(5, 1, "a")] * 3 + [(1, 0, "b")] * 3


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(1, 12), st.integers(0, 1), st.sampled_from("abc")),
        min_size=6,
        max_size=60,
    ),
)
@example(rows=EVERYONE_DIES)
@example(rows=NO_OVERLAP)
def test_invariant_to_group_labels(rows):
    df = pd.DataFrame(rows, columns=["t", "d", "g"])
    if df["g"].nunique() < 2 or df["d"].sum() == 0:
        return
    relabel = df.assign(g=df["g"].map({"a": "z", "b": "y", "c": "x"}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalcstatsWarning)
        try:
            a = cs.logrank(df, time="t", event="d", by="g")
        except DataError as exc:  # no information to compare the groups: both must refuse
            with pytest.raises(DataError) as again:
                cs.logrank(relabel, time="t", event="d", by="g")
            assert str(again.value)[:30] == str(exc)[:30]  # the same reason
            return
        b = cs.logrank(relabel, time="t", event="d", by="g")
    assert a.statistic == pytest.approx(b.statistic, rel=1e-9, abs=1e-12)
    assert a.df == b.df
    assert 1 <= a.df <= df["g"].nunique() - 1


def test_everyone_at_risk_dies_is_a_clear_error(degenerate):
    r = degenerate["everyone_dies"]
    df = pd.DataFrame(r["data"])
    assert "singular" in r["survdiff_error"]  # R refuses too
    with pytest.raises(DataError, match="variance of observed minus expected is zero") as exc:
        cs.logrank(df, time="time", event="status", by="g")
    assert "everyone at risk had the event" in str(exc.value)
    with pytest.raises(DataError, match="trend test is undefined"):
        cs.logrank(df, time="time", event="status", by="g", trend=True)
    # what R's survdiff.fit computes before it stops: O = E and V = 0
    assert r["parts"]["observed"] == r["parts"]["expected"] == [1, 1]
    assert not np.any(r["parts"]["var"])


def test_group_censored_before_any_event_matches_survdiff(degenerate):
    r = degenerate["single_censored_group"]["logrank"]
    df = pd.DataFrame(degenerate["single_censored_group"]["data"])
    with pytest.warns(CalcstatsWarning, match="group g='c' has no events"):
        res = cs.logrank(df, time="time", event="status", by="g")
    assert res.statistic == pytest.approx(r["chisq"], rel=REL)
    assert res.df == r["df"] == 1
    assert res.p_value == pytest.approx(r["p"], rel=REL)
    np.testing.assert_allclose(res.tidy(details=True)["expected"], r["expected"], rtol=REL)
    np.testing.assert_allclose(res.variance, np.array(r["var"]), rtol=REL, atol=1e-12)


def test_rank_deficient_variance_uses_generalised_inverse(degenerate):
    r = degenerate["stratified_overlap"]
    df = pd.DataFrame(r["data"])
    assert "singular" in r["survdiff_error"]
    with pytest.warns(DataWarning, match="rank 1, less than 2") as rec:
        res = cs.logrank(df, time="time", event="status", by="g", strata="s")
    assert "generalised inverse on 1 degrees of freedom" in str(rec[0].message)
    assert rec[0].filename == __file__  # the warning points at the user's call
    assert res.statistic == pytest.approx(r["ginv"]["chisq"], rel=REL)
    assert res.df == r["ginv"]["df"] == 1
    assert res.p_value == pytest.approx(r["ginv"]["p"], rel=REL)
    # stratum x carries no information: the test is survdiff on stratum y alone
    assert res.statistic == pytest.approx(r["logrank_stratum_y"]["chisq"], rel=REL)
    assert "generalised inverse, 1 df" in res.method
    np.testing.assert_allclose(res.tidy(details=True)["expected"], r["parts"]["expected"], rtol=REL)
    np.testing.assert_allclose(res.variance, np.array(r["parts"]["var"]), rtol=REL, atol=1e-12)


def test_trend_without_information_is_a_clear_error(degenerate):
    df = pd.DataFrame(degenerate["stratified_overlap"]["data"])
    # only b and c are compared at shared event times, and they get the same score
    with pytest.raises(DataError, match="compared at shared event times have equal scores"):
        cs.logrank(
            df, time="time", event="status", by="g", strata="s", trend=True, scores=[1, 2, 2]
        )
    with pytest.raises(DataError, match="scores are all equal"):
        cs.logrank(
            df, time="time", event="status", by="g", strata="s", trend=True, scores=[3, 3, 3]
        )
    res = cs.logrank(
        df, time="time", event="status", by="g", strata="s", trend=True, scores=[1, 2, 3]
    )
    y = cs.logrank(df[df["s"] == "y"], time="time", event="status", by="g")
    assert res.statistic == pytest.approx(y.statistic, rel=1e-12)


def _many_groups(rows: int, groups: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "t": np.round(rng.exponential(10, rows), 3),
            "status": rng.integers(0, 3, rows),
            "g": rng.integers(0, groups, rows),
        }
    )


@pytest.mark.slow
def test_memory_grows_with_rows_not_event_times_times_groups_squared():
    # 100 groups, ~5,000 distinct event times: an (event times x groups x groups) array
    # alone would be 400 MB
    df = _many_groups(10_000, 100)
    tracemalloc.start()
    try:
        res = cs.logrank(df, time="t", event="status", cause=1, by="g")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 60e6
    assert res.df == 99


def test_too_many_groups_for_the_machine_says_what_to_do():
    n = 100_000  # one group per subject: 100,000 x 100,000 matrices
    df = pd.DataFrame({"t": np.arange(n) + 1.0, "d": 1, "patient_id": np.arange(n)})
    with pytest.raises(CalcstatsError, match="logrank with 100,000 groups would need") as exc:
        cs.logrank(df, time="t", event="d", by="patient_id")
    assert isinstance(exc.value, MemoryError)  # `except MemoryError` still catches it
    assert "by='patient_id' has 100,000 groups" in str(exc.value)
    assert "pandas.cut" in str(exc.value)


def test_running_out_of_memory_is_a_calcstats_error(small, monkeypatch):
    def boom(*args, **kwargs):
        raise MemoryError("Unable to allocate 7.45 GiB for an array with shape (50000, 200, 200)")

    monkeypatch.setattr(_logrank, "_stratum_sums", boom)
    with pytest.raises(CalcstatsError, match="logrank ran out of memory") as exc:
        cs.logrank(small, time="time", event="event1", by="g")
    assert "Unable to allocate 7.45 GiB" in str(exc.value)
    assert "compare fewer groups or strata" in str(exc.value)
    assert isinstance(exc.value.__cause__, MemoryError)
