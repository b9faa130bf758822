"""gray_test against cmprsk::cuminc's Tests (tests/reference/survival_curves.R)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import calcstats as cs
from calcstats._errors import CalcstatsWarning, DataError
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
    np.testing.assert_allclose(res.table["statistic"], r["stat"], rtol=REL)


def test_pbc_reference(pbc, pbc_reference):
    r = pbc_reference["gray_edema"]
    res = cs.gray_test(pbc.assign(any_edema=pbc["edema"] > 0), time="time", event="status",
                       cause=2, by="any_edema")
    np.testing.assert_allclose(res.table["statistic"], r["stat"], rtol=REL)
    assert res.statistic == pytest.approx(r["stat"][1], rel=REL)
    assert res.p_value == pytest.approx(r["p"][1], rel=1e-4)  # R: 1 - pchisq near 5e-14


def test_scores_sum_to_zero_and_order_invariance(small):
    res = cs.gray_test(small, time="time", event="status", cause=1, by="g", strata="s")
    assert res.extra["scores"]["score"].sum() == pytest.approx(0, abs=1e-10)
    again = cs.gray_test(small.sample(frac=1, random_state=1), time="time", event="status",
                         cause=1, by="g", strata="s")
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
    df = small.copy()
    df.loc[(df["g"] == "c") & (df["status"] == 1), "status"] = 0
    with pytest.warns(CalcstatsWarning, match="group g='c' has no events"):
        cs.gray_test(df, time="time", event="status", cause=1, by="g")
