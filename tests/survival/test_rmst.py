"""rmst against R's print.survfit(rmean=) and contrasts computed by hand in R."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats._errors import CalcstatsError, DataError, DataWarning, InvalidParameterError
from calcstats.survival import _rmst

REL = 1e-6  # estimates, SEs, limits and p-values: relative 1e-6

CASES = {
    "pbc_all_10": ("pbc", "years", "death", {}),
    "pbc_trt_10": ("trial", "years", "death", {"by": "trt"}),
    "pbc_edema_5": ("pbc", "years", "death", {"by": "edema"}),
    "small_g_6.5": ("small", "time", "event1", {"by": "g"}),
}


@pytest.fixture(scope="module")
def frames(pbc, small):
    return {"pbc": pbc, "trial": pbc[pbc["trt"].notna()], "small": small}


@pytest.mark.parametrize("key", list(CASES))
def test_matches_print_survfit_rmean(frames, ref, key):
    frame, time, event, kw = CASES[key]
    r = ref["rmst"][key]
    res = cs.rmst(frames[frame], time=time, event=event, tau=r["tau"], **kw)
    tidy = res.tidy()
    assert list(tidy.columns) == [
        *([kw["by"]] if kw else []),
        "estimate",
        "std_error",
        "conf_low",
        "conf_high",
    ]
    np.testing.assert_allclose(tidy["estimate"], np.atleast_1d(r["rmean"]), rtol=REL)
    np.testing.assert_allclose(tidy["std_error"], np.atleast_1d(r["se"]), rtol=REL)
    if "diff" in r:
        d = res.contrast("difference").tidy()
        np.testing.assert_allclose(d["estimate"], r["diff"], rtol=REL)
        np.testing.assert_allclose(d["std_error"], r["diff_se"], rtol=REL)
        np.testing.assert_allclose(d["conf_low"], r["diff_lower"], rtol=REL)
        np.testing.assert_allclose(d["conf_high"], r["diff_upper"], rtol=REL)
        np.testing.assert_allclose(d["p_value"], r["diff_p"], rtol=REL)
        q = res.contrast("ratio").tidy()
        np.testing.assert_allclose(q["estimate"], r["ratio"], rtol=REL)
        np.testing.assert_allclose(q["conf_low"], r["ratio_lower"], rtol=REL)
        np.testing.assert_allclose(q["conf_high"], r["ratio_upper"], rtol=REL)
        np.testing.assert_allclose(q["p_value"], r["ratio_p"], rtol=REL)


def test_pbc_reference(pbc, pbc_reference):
    r = pbc_reference["rmst_10y"]
    tidy = cs.rmst(pbc, time="years", event="status", cause=2, tau=10).tidy()
    assert tidy["estimate"].iloc[0] == pytest.approx(r["rmst"], rel=REL)
    assert tidy["std_error"].iloc[0] == pytest.approx(r["se"], rel=REL)


def test_se_is_not_that_of_min_t_tau(pbc):
    """With censoring the correct SE differs from the naive SD(min(T, tau))/sqrt(n)."""
    res = cs.rmst(pbc, time="years", event="death", tau=10).tidy()
    naive = np.minimum(pbc["years"], 10).std(ddof=1) / np.sqrt(len(pbc))
    assert abs(res["std_error"].iloc[0] - naive) / naive > 0.05


def test_no_censoring_equals_mean_of_min(small):
    df = small.assign(d=1)
    res = cs.rmst(df, time="time", event="d", tau=5).tidy()
    assert res["estimate"].iloc[0] == pytest.approx(np.minimum(df["time"], 5).mean(), rel=1e-12)


def test_result_types_and_contrast_columns(small):
    res = cs.rmst(small, time="time", event="event1", tau=6, by="g")
    assert isinstance(res, cs.RMSTResult) and res.tau == 6.0 and res.by == ["g"]
    assert res.groups["g"].tolist() == ["a", "b", "c"]
    np.testing.assert_array_equal(res.n, small.groupby("g").size().to_numpy())
    con = res.contrast("ratio", reference="b")
    assert isinstance(con, cs.RMSTContrastResult)
    assert con.measure == "ratio" and con.reference == {"g": "b"} and con.tau == 6.0
    tidy = con.tidy()
    assert list(tidy.columns) == [
        "g",
        "contrast",
        "estimate",
        "std_error",
        "conf_low",
        "conf_high",
        "p_value",
    ]
    assert tidy["g"].tolist() == ["a", "c"]
    assert tidy["contrast"].tolist() == ["g=a / g=b", "g=c / g=b"]
    est = res.tidy().set_index("g")["estimate"]
    np.testing.assert_allclose(tidy["estimate"], est[["a", "c"]] / est["b"], rtol=1e-12)


def test_to_table_and_repr(small):
    res = cs.rmst(small, time="time", event="event1", tau=6, by="g")
    table = res.to_table()
    assert "Difference (95% CI)" in table.body.columns and len(table.body) == 3
    pd.testing.assert_frame_equal(table.to_frame(), res.tidy())
    assert "Restricted mean" in repr(res) and "<table" in res._repr_html_()


def test_bad_input(small):
    with pytest.raises(DataError, match="beyond the last follow-up"):
        cs.rmst(small, time="time", event="event1", tau=50, by="g")
    with pytest.raises(InvalidParameterError) as err:
        cs.rmst(small, time="time", event="event1", tau=-1)
    assert str(err.value) == "The 'tau' parameter of rmst must be a number > 0. Got -1."
    with pytest.raises(InvalidParameterError, match="'tau' parameter of rmst"):
        cs.rmst(small, time="time", event="event1", tau="5 years")
    res = cs.rmst(small, time="time", event="event1", tau=3)
    with pytest.raises(DataError, match="two groups"):
        res.contrast()
    res = cs.rmst(small, time="time", event="event1", tau=3, by="g")
    with pytest.raises(InvalidParameterError, match="'measure' parameter of contrast"):
        res.contrast("odds")
    with pytest.raises(InvalidParameterError, match=r"naming one of the groups \(g=a; g=b; "):
        res.contrast(reference="z")
    assert res.contrast(reference="c").tidy()["g"].tolist() == ["a", "b"]


def test_contrast_with_zero_standard_error_has_no_interval_or_p(degenerate):
    r = degenerate["rmst_no_events_before_tau"]
    res = cs.rmst(pd.DataFrame(r["data"]), time="time", event="status", tau=r["tau"], by="g")
    np.testing.assert_allclose(res.tidy()["estimate"], r["rmean"], rtol=REL)
    np.testing.assert_allclose(res.tidy()["std_error"], r["se"], atol=1e-12)  # R: 0
    for measure in ("difference", "ratio"):
        with pytest.warns(DataWarning, match="standard error 0") as rec:
            con = res.contrast(measure).tidy()
        assert rec[0].filename == __file__
        assert con["std_error"].tolist() == [0.0]
        assert con[["conf_low", "conf_high", "p_value"]].isna().all(axis=None)
    assert "NA" in str(res.to_table())  # shown, not invented


def test_ratio_with_a_zero_rmst_is_refused():
    df = pd.DataFrame(
        {"t": [0, 0, 2, 5, 6, 8], "d": [1, 1, 1, 0, 1, 1], "g": ["a", "a", "b", "b", "b", "b"]}
    )
    res = cs.rmst(df, time="t", event="d", tau=4, by="g")
    assert res.tidy()["estimate"].tolist() == [0.0, 3.5]
    with pytest.raises(DataError, match="RMST of group g=a is 0"):
        res.contrast("ratio")
    assert res.contrast("difference").tidy()["estimate"].tolist() == [3.5]


def test_running_out_of_memory_is_a_calcstats_error(small, monkeypatch):
    def boom(*args, **kwargs):
        raise MemoryError("Unable to allocate 38.1 GiB for an array with shape (5120000000,)")

    monkeypatch.setattr(_rmst, "tabulate", boom)
    with pytest.raises(
        CalcstatsError, match=r"rmst ran out of memory \(Unable to allocate 38"
    ) as exc:
        cs.rmst(small, time="time", event="event1", tau=5, by="g")
    assert "analyse fewer rows or fewer groups" in str(exc.value)
    assert isinstance(exc.value, MemoryError)


# ---- case weights ----------------------------------------------------------------------
@pytest.mark.parametrize("key", ["small_g_w", "small_g_w_int"])
def test_weighted_matches_r(small, key):
    """Non-integer weights: the IJ SE (R residuals(type="rmst")); integer: print.survfit."""
    path = Path(__file__).parent.parent / "reference" / "survival_weighted.json"
    r = json.loads(path.read_text())["rmst"][key]
    data = small.assign(w_int=(2 * small["w"]).round())
    res = cs.rmst(
        data,
        time="time",
        event="event1",
        tau=r["tau"],
        by="g",
        weights="w" if key == "small_g_w" else "w_int",
    )
    np.testing.assert_allclose(res.tidy()["estimate"], r["rmean"], rtol=REL)
    np.testing.assert_allclose(res.tidy()["std_error"], r["se"], rtol=REL)


def test_zero_weight_row_is_set_aside_and_counted(small):
    w = np.where(np.isin(np.arange(len(small)), [0, 5, 9]), 0.0, small["w"])
    data = small.assign(w=w)
    weighted = cs.rmst(data, time="time", event="event1", tau=6, by="g", weights="w")
    kept = data[data["w"] > 0]
    dropped = cs.rmst(kept, time="time", event="event1", tau=6, by="g", weights="w")
    pd.testing.assert_frame_equal(weighted.tidy(), dropped.tidy())
    assert weighted.n_zero_weight == 3 and dropped.n_zero_weight == 0
    np.testing.assert_array_equal(weighted.n, kept.groupby("g").size().to_numpy())
