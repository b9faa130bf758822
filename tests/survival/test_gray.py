"""gray_test against cmprsk::cuminc's Tests (tests/reference/survival_curves.R)."""

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
from calcstats.survival import _gray
from tests.survival.conftest import num

REL = 1e-6  # test statistics: relative 1e-6


@pytest.fixture(scope="module")
def frames(pbc, small):
    return {"pbc": pbc, "trial": pbc[pbc["trt"].notna()], "small": small}


CASES = {
    "pbc_edema": ("pbc", {"by": "edema"}),
    "pbc_edema_strata_sex": ("pbc", {"by": "edema", "strata": "sex"}),
    "pbc_edema_rho1": ("pbc", {"by": "edema", "rho": 1}),
    "small_g": ("small", {"by": "g"}),
    "small_g_strata": ("small", {"by": "g", "strata": "s"}),
    "pbc_trt": ("trial", {"by": "trt"}),
}


@pytest.mark.parametrize("key", list(CASES))
@pytest.mark.parametrize("cause", [1, 2])
def test_matches_cuminc(frames, ref, key, cause):
    frame, kw = CASES[key]
    r = ref["gray"][key]
    i = r["cause"].index(str(cause))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalcstatsWarning)  # edema = 1 has no transplants
        res = cs.gray_test(frames[frame], time="time", event="status", cause=cause, **kw)
    assert res.statistic == pytest.approx(r["stat"][i], rel=REL)
    assert res.df == r["df"][i]
    p_r = num(r["p"])[i]
    if p_r > 1e-10:  # cuminc prints 1 - pchisq, which loses tiny p-values
        assert res.p_value == pytest.approx(p_r, rel=REL)
    np.testing.assert_allclose(res.tidy(details=True)["statistic"], r["stat"], rtol=REL)


def test_pbc_reference(pbc, pbc_reference):
    r = pbc_reference["gray_edema"]
    res = cs.gray_test(
        pbc.assign(any_edema=pbc["edema"] > 0), time="time", event="status", cause=2, by="any_edema"
    )
    np.testing.assert_allclose(res.tidy(details=True)["statistic"], r["stat"], rtol=REL)
    assert res.statistic == pytest.approx(r["stat"][1], rel=REL)
    assert res.p_value == pytest.approx(r["p"][1], rel=1e-4)  # R: 1 - pchisq near 5e-14


def test_result_attributes(small):
    res = cs.gray_test(
        small, time="time", event="status", cause=2, by="g", rho=1, labels={"g": "Group"}
    )
    assert isinstance(res, cs.GrayTestResult)
    assert (res.cause, res.rho, res.n_strata, res.by) == (2, 1.0, 1, ["g"])
    assert list(res.tidy(details=True).columns) == ["cause", "statistic", "df", "p_value"]
    assert res.tidy(details=True)["cause"].tolist() == [1, 2]
    assert res.tidy(details=True).set_index("cause").loc[2, "statistic"] == res.statistic
    assert list(res.scores.columns) == ["g", "score"] and res.variance.shape == (3, 3)
    assert res.labels.variable("g") == "Group"
    assert list(res.tidy().columns) == ["statistic", "df", "p_value", "method"]


def test_scores_sum_to_zero_and_order_invariance(small):
    res = cs.gray_test(small, time="time", event="status", cause=1, by="g", strata="s")
    assert res.scores["score"].sum() == pytest.approx(0, abs=1e-10)
    again = cs.gray_test(
        small.sample(frac=1, random_state=1),
        time="time",
        event="status",
        cause=1,
        by="g",
        strata="s",
    )
    assert again.statistic == pytest.approx(res.statistic, rel=1e-12)
    assert res.method.startswith("Stratified Gray's test (cause 1")


def test_no_competing_events_close_to_logrank(small):
    # with a single cause Gray's test compares ordinary hazards: near the log-rank test
    df = small.assign(status=small["event1"])
    g = cs.gray_test(df, time="time", event="status", by="g")
    lr = cs.logrank(df, time="time", event="status", by="g")
    assert g.statistic == pytest.approx(lr.statistic, rel=0.15)


def test_bad_input(small):
    with pytest.raises(DataError, match="single level"):
        cs.gray_test(small.assign(one=1), time="time", event="status", by="one")
    with pytest.raises(DataError, match="cause=5 does not occur"):
        cs.gray_test(small, time="time", event="status", cause=5, by="g")
    with pytest.raises(InvalidParameterError) as err:
        cs.gray_test(small, time="time", event="status", by="g", rho=-1)
    assert str(err.value) == "The 'rho' parameter of gray_test must be a number >= 0. Got -1."
    with pytest.raises(InvalidParameterError, match="'by' parameter of gray_test"):
        cs.gray_test(small, time="time", event="status", by=None)
    df = small.copy()
    df.loc[(df["g"] == "c") & (df["status"] == 1), "status"] = 0
    with pytest.warns(CalcstatsWarning, match="group g='c' has no events"):
        cs.gray_test(df, time="time", event="status", cause=1, by="g")


def test_no_information_is_a_clear_error(degenerate):
    r = degenerate["everyone_dies"]
    assert r["cuminc"]["stat"] == -1  # cmprsk's "singular" marker, printed as a statistic
    with pytest.raises(DataError, match="variance of the scores is zero") as exc:
        cs.gray_test(pd.DataFrame(r["data"]), time="time", event="status", by="g")
    assert "cmprsk::cuminc reports stat = -1" in str(exc.value)


def test_group_without_anyone_at_risk_drops_a_degree_of_freedom(degenerate):
    r = degenerate["single_censored_group"]
    assert num(r["cuminc"]["stat"])[0] == -1
    df = pd.DataFrame(r["data"])
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        res = cs.gray_test(df, time="time", event="status", by="g")
    rank = [w for w in rec if issubclass(w.category, DataWarning) and "rank 1" in str(w.message)]
    assert len(rank) == 1 and "g='c'" in str(rank[0].message)
    assert rank[0].filename == __file__
    # group c carries nothing: the test is cuminc without it
    ref = r["cuminc_without_c"]
    assert res.statistic == pytest.approx(ref["stat"], rel=REL)
    assert res.df == ref["df"] == 1
    assert res.p_value == pytest.approx(ref["p"], rel=REL)
    assert "generalised inverse, 1 df" in res.method


def test_stratum_without_information_matches_the_other_stratum(degenerate):
    r = degenerate["stratified_overlap"]
    df = pd.DataFrame(r["data"])
    with pytest.warns(DataWarning, match="rank 1, less than the 3 groups minus one"):
        res = cs.gray_test(df, time="time", event="status", by="g", strata="s")
    ref = r["cuminc_stratum_y"]
    assert res.statistic == pytest.approx(ref["stat"], rel=REL)
    assert res.df == ref["df"] == 1
    assert res.p_value == pytest.approx(ref["p"], rel=REL)


def test_untestable_other_cause_is_reported_not_invented(degenerate):
    r = degenerate["one_cause_degenerate"]
    df = pd.DataFrame(r["data"])
    with pytest.warns(CalcstatsWarning, match="group g='a' has no events"):
        res = cs.gray_test(df, time="time", event="status", cause=2, by="g")
    assert res.statistic == pytest.approx(r["cuminc"]["stat"][1], rel=REL)
    assert res.p_value == pytest.approx(r["cuminc"]["p"][1], rel=REL)
    assert r["cuminc"]["stat"][0] == -1
    row = res.tidy(details=True).set_index("cause").loc[1]
    assert np.isnan(row["statistic"]) and row["df"] == 0 and np.isnan(row["p_value"])
    with (
        pytest.raises(DataError, match="Gray's test for cause 1 is undefined"),
        pytest.warns(CalcstatsWarning, match="group g='b' has no events"),
    ):
        cs.gray_test(df, time="time", event="status", cause=1, by="g")


@pytest.mark.parametrize("key", ["pbc_edema_strata_sex", "pbc_edema_rho1", "small_g_strata"])
def test_many_group_algorithm_matches_cuminc(frames, ref, key, monkeypatch):
    # with many groups the variance is accumulated without per-time k x k matrices; run the
    # R cases through that path too, in blocks of 3 failure times (state carried across)
    monkeypatch.setattr(_gray, "_DENSE_GROUPS", 0)
    monkeypatch.setattr(_gray, "_block_size", lambda k, dense: 3)
    frame, kw = CASES[key]
    r = ref["gray"][key]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalcstatsWarning)
        res = cs.gray_test(frames[frame], time="time", event="status", cause=1, **kw)
    np.testing.assert_allclose(res.tidy(details=True)["statistic"], r["stat"], rtol=REL)


def _many_groups(rows: int, groups: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "t": np.round(rng.exponential(10, rows), 3),
            "status": rng.integers(0, 3, rows),
            "g": rng.integers(0, groups, rows),
        }
    )


def test_same_answer_with_few_or_many_groups_algorithm(monkeypatch):
    df = _many_groups(1_500, 20)
    res = cs.gray_test(df, time="t", event="status", by="g")
    monkeypatch.setattr(_gray, "_DENSE_GROUPS", 100)
    dense = cs.gray_test(df, time="t", event="status", by="g")
    np.testing.assert_allclose(
        res.tidy(details=True)["statistic"], dense.tidy(details=True)["statistic"], rtol=1e-10
    )
    np.testing.assert_allclose(res.variance, dense.variance, rtol=1e-9, atol=1e-12)
    assert res.df == 19


@pytest.mark.slow
def test_memory_grows_with_rows_not_failure_times_times_groups_squared():
    df = _many_groups(10_000, 100)  # ~7,000 failure times x 100 x 100 would be 560 MB
    tracemalloc.start()
    try:
        res = cs.gray_test(df, time="t", event="status", by="g")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 60e6
    assert res.df == 99


def test_too_many_groups_for_the_machine_says_what_to_do():
    n = 100_000
    df = pd.DataFrame({"t": np.arange(n) + 1.0, "d": 1, "patient_id": np.arange(n)})
    with pytest.raises(CalcstatsError, match="gray_test with 100,000 groups would need") as exc:
        cs.gray_test(df, time="t", event="d", by="patient_id")
    assert "by='patient_id' has 100,000 groups" in str(exc.value)


def test_running_out_of_memory_is_a_calcstats_error(small, monkeypatch):
    def boom(*args, **kwargs):
        raise MemoryError("Unable to allocate 16.0 GiB")

    monkeypatch.setattr(_gray, "_gray_stratum", boom)
    with pytest.raises(CalcstatsError, match=r"gray_test ran out of memory \(Unable to alloc"):
        cs.gray_test(small, time="time", event="status", by="g")


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(1, 8), st.integers(0, 2), st.sampled_from("abc")),
        min_size=4,
        max_size=40,
    ),
)
@example(rows=[(1, 0, "a")] * 4 + [(2, 1, "a"), (2, 1, "b")])  # rank 0 (cuminc: -1)
@example(rows=[(1, 0, "c"), (2, 1, "a"), (3, 1, "b"), (4, 0, "a"), (5, 1, "b")])
# cause 1's variance is an exact zero left as -2.2e-16: rank 1 or 0 depending on labels
@example(rows=[(1, 0, "a")] * 6 + [(1, 0, "b"), (1, 2, "a"), (2, 1, "a")])
# pooled F reaches 1 while only b is at risk: NaN variance (silently) before
@example(rows=[(1, 0, "a"), (1, 1, "a"), (1, 1, "a"), (1, 1, "a"), (2, 1, "b"), (3, 1, "b")])
def test_refuses_or_answers_the_same_under_relabelling(rows):
    df = pd.DataFrame(rows, columns=["t", "status", "g"])
    if df["g"].nunique() < 2 or not (df["status"] == 1).any():
        return
    relabel = df.assign(g=df["g"].map({"a": "z", "b": "y", "c": "x"}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalcstatsWarning)
        try:
            a = cs.gray_test(df, time="t", event="status", by="g")
        except DataError as exc:
            assert "variance of the scores is zero" in str(exc)
            with pytest.raises(DataError, match="variance of the scores is zero"):
                cs.gray_test(relabel, time="t", event="status", by="g")
            return
        b = cs.gray_test(relabel, time="t", event="status", by="g")
    assert 1 <= a.df <= df["g"].nunique() - 1
    assert np.isfinite(a.variance).all()
    assert a.df == b.df
    assert a.statistic == pytest.approx(b.statistic, rel=1e-7, abs=1e-9)
    assert 0 <= a.p_value <= 1


def test_variance_that_is_not_a_variance_is_flagged(degenerate):
    r = degenerate["indefinite_variance"]
    df = pd.DataFrame(r["data"])
    with pytest.warns(DataWarning, match="not positive semi-definite") as rec:
        res = cs.gray_test(df, time="time", event="status", by="g", strata="s")
    msg = next(str(w.message) for w in rec if "semi-definite" in str(w.message))
    assert "g='g0'" in msg and "do not trust the p-value" in msg
    # the statistic is cuminc's (solve on the full-rank matrix), on k - 1 df
    np.testing.assert_allclose(res.tidy(details=True)["statistic"], r["cuminc"]["stat"], rtol=REL)
    assert res.df == r["cuminc"]["df"][0] == 3


@pytest.mark.parametrize("first", ["a", "b"])
def test_pooled_incidence_reaching_one_does_not_depend_on_group_order(degenerate, first):
    r = degenerate["pooled_incidence_one"]
    df = pd.DataFrame(r["data"])
    if first == "b":  # cuminc fails with b first (NaN in its variance)
        assert "NaN" in r["cuminc_b_first_error"]
        df = df.assign(g=df["g"].map({"a": "z", "b": "b"}))
    res = cs.gray_test(df, time="time", event="status", by="g")
    assert res.statistic == pytest.approx(r["cuminc"]["stat"], rel=REL)
    assert res.p_value == pytest.approx(r["cuminc"]["p"], rel=REL)
    assert np.isfinite(res.variance).all()
