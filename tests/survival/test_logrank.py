"""logrank against R survdiff (and a by-hand trend test in R), plus bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import calcstats as cs
from calcstats._errors import CalcstatsWarning, DataError

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
    "small_g_strata_rho1": ("small", "event1", {"by": "g", "strata": "s",
                                                "weights": ("fh", 1, 0)}),
    "trend_pbc_stage": ("staged", "death", {"by": "stage", "trend": True,
                                            "scores": [1, 2, 3, 4]}),
    "trend_pbc_edema_values": ("pbc", "death", {"by": "edema", "trend": True}),
    "trend_small_strata_order": ("small", "event1", {"by": "g", "strata": "s", "trend": True}),
    "trend_small_strata_score": ("small", "event1", {"by": "score", "strata": "s",
                                                     "trend": True}),
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
        np.testing.assert_allclose(res.table["observed"], r["observed"], rtol=REL)
        np.testing.assert_allclose(res.table["expected"], r["expected"], rtol=REL)
        np.testing.assert_allclose(res.table["n"], r["n"])
        np.testing.assert_allclose(res.extra["variance"], np.array(r["var"]), rtol=REL,
                                   atol=1e-12)
    tidy = res.tidy()
    assert list(tidy.columns) == ["statistic", "df", "p_value", "method"]


def test_pbc_reference(pbc, pbc_reference):
    trial = pbc[pbc["trt"].notna()]
    res = cs.logrank(trial, time="time", event="status", cause=2, by="trt")
    assert res.statistic == pytest.approx(pbc_reference["logrank_trt"]["chisq"], rel=REL)
    res = cs.logrank(pbc[pbc["stage"].notna()], time="time", event="status", cause=2,
                     by="stage")
    assert res.statistic == pytest.approx(pbc_reference["logrank_stage_4groups"]["chisq"],
                                          rel=REL)
    assert res.p_value == pytest.approx(pbc_reference["logrank_stage_4groups"]["p"], rel=REL)


def test_table_columns_and_repr(small):
    res = cs.logrank(small, time="time", event="status", cause=1, by="g", strata="s")
    assert list(res.table.columns) == ["g", "n", "observed", "expected", "o_minus_e",
                                       "oe2_over_e", "oe2_over_v"]
    assert res.table["o_minus_e"].sum() == pytest.approx(0, abs=1e-9)
    assert res.method == "Stratified log-rank test"
    assert "Stratified log-rank" in repr(res)


@pytest.mark.parametrize(("rho", "gamma"), [(0, 1), (1, 1), (0.5, 2)])
def test_fleming_harrington_matches_lifelines(small, rho, gamma):
    from lifelines.statistics import logrank_test

    two = small[small["g"] != "c"]
    a, b = two[two.g == "a"], two[two.g == "b"]
    lf = logrank_test(a.time, b.time, a.event1, b.event1,
                      weightings="fleming-harrington", p=rho, q=gamma)
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
    b = cs.logrank(small.sample(frac=1, random_state=3), time="time", event="event1", by="g",
                   strata="s")
    assert a.statistic == pytest.approx(b.statistic, rel=1e-12)


def test_bad_input(small):
    with pytest.raises(DataError, match="single level"):
        cs.logrank(small.assign(one="x"), time="time", event="event1", by="one")
    with pytest.raises(DataError, match="every observation is censored"):
        cs.logrank(small.assign(event1=0), time="time", event="event1", by="g")
    with pytest.raises(DataError, match="fh"):
        cs.logrank(small, time="time", event="event1", by="g", weights="wilcoxon")
    with pytest.raises(DataError, match="scores"):
        cs.logrank(small, time="time", event="event1", by="g", trend=True, scores=[1, 2])
    with pytest.raises(DataError, match="cause="):
        cs.logrank(small, time="time", event="status", by="g")
    df = small.copy()
    df.loc[df["g"] == "c", "event1"] = 0
    with pytest.warns(CalcstatsWarning, match="group g='c' has no events"):
        res = cs.logrank(df, time="time", event="event1", by="g")
    assert res.table.loc[2, "observed"] == 0
    assert isinstance(res.table, pd.DataFrame)


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(1, 12), st.integers(0, 1), st.sampled_from("abc")),
                  min_size=6, max_size=60),
)
def test_invariant_to_group_labels(rows):
    df = pd.DataFrame(rows, columns=["t", "d", "g"])
    if df["g"].nunique() < 2 or df["d"].sum() == 0:
        return
    relabel = df.assign(g=df["g"].map({"a": "z", "b": "y", "c": "x"}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalcstatsWarning)
        try:
            a = cs.logrank(df, time="t", event="d", by="g")
        except DataError:  # no two groups share an event time: both must refuse
            with pytest.raises(DataError, match="fewer than two groups"):
                cs.logrank(relabel, time="t", event="d", by="g")
            return
        b = cs.logrank(relabel, time="t", event="d", by="g")
    assert a.statistic == pytest.approx(b.statistic, rel=1e-9, abs=1e-12)
    assert a.df == b.df
