"""kaplan_meier against R survfit (tests/reference/survival_curves.R) and invariants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import calcstats as cs
from calcstats._errors import (
    CalcstatsError,
    CalcstatsWarning,
    DataError,
    InvalidParameterError,
    SchemaError,
)
from calcstats.survival import _km
from tests.survival.conftest import num

CURVE_TOL = 1e-6  # curves: absolute 1e-6 (same algorithm as R)
COLS = ["time", "n_risk", "n_event", "n_censor", "estimate", "std_error", "conf_low", "conf_high"]
R_COLS = ["time", "n_risk", "n_event", "n_censor", "surv", "std_err", "lower", "upper"]


def _compare(ours: pd.DataFrame, r: dict) -> None:
    assert len(ours) == len(r["time"])
    for c, rc in zip(COLS, R_COLS, strict=True):
        np.testing.assert_allclose(
            ours[c].to_numpy(float),
            num(r[rc]),
            rtol=0,
            atol=CURVE_TOL,
            equal_nan=True,
            err_msg=c,
        )


@pytest.mark.parametrize("conf_type", ["log-log", "log", "plain"])
def test_pbc_by_edema_matches_survfit(pbc, ref, conf_type):
    r = ref["km"][f"pbc_edema_{conf_type}"]
    km = cs.kaplan_meier(pbc, time="years", event="death", by="edema", conf_type=conf_type)
    tidy = km.tidy()
    assert list(tidy.columns) == ["edema", *COLS]
    _compare(tidy, r["curve"])
    at = km.at([0.05, 1, 2.5, 5, 10])
    _compare(at[at["estimate"].notna()], r["at"])  # R leaves out times beyond follow-up
    med = km.median()
    for ours, theirs in [("median", "median"), ("conf_low", "lower"), ("conf_high", "upper")]:
        np.testing.assert_allclose(med[ours], num(r["median"][theirs]), atol=1e-9, equal_nan=True)


@pytest.mark.parametrize("conf_type", ["log-log", "log", "plain"])
def test_tied_data_by_group_matches_survfit(small, ref, conf_type):
    r = ref["km"][f"small_g_{conf_type}"]
    km = cs.kaplan_meier(small, time="time", event="status", cause=1, by="g", conf_type=conf_type)
    _compare(km.tidy(), r["curve"])
    _compare(km.at([0.5, 2, 3.5, 7]), r["at"])
    med = km.median()
    np.testing.assert_allclose(med["median"], num(r["median"]["median"]), atol=1e-9)
    np.testing.assert_allclose(med["conf_low"], num(r["median"]["lower"]), atol=1e-9)
    np.testing.assert_allclose(
        med["conf_high"], num(r["median"]["upper"]), atol=1e-9, equal_nan=True
    )


def test_noninteger_weights_robust_se_match_survfit(small, ref):
    # R's default for non-integer weights: infinitesimal-jackknife SE of S
    r = ref["km"]["small_weighted"]
    km = cs.kaplan_meier(small, time="time", event="event1", by="g", weights="w")
    assert "robust" in km.method
    _compare(km.tidy(), r["curve"])
    med = km.median()
    for ours, theirs in [("median", "median"), ("conf_low", "lower"), ("conf_high", "upper")]:
        np.testing.assert_allclose(med[ours], num(r["median"][theirs]), atol=1e-9, equal_nan=True)


def test_integer_weights_greenwood_match_survfit(small, ref):
    r = ref["km"]["small_weighted_int"]
    km = cs.kaplan_meier(
        small.assign(w2=(2 * small["w"]).round()), time="time", event="event1", by="g", weights="w2"
    )
    assert "Greenwood" in km.method
    _compare(km.tidy(), r["curve"])
    np.testing.assert_allclose(km.median()["median"], num(r["median"]["median"]), atol=1e-9)


def test_median_averaging_rule_and_zero_survival(ref):
    r = ref["km"]["half"]
    df = pd.DataFrame(r["data"])
    km = cs.kaplan_meier(df, time="time", event="status", conf_type="log")
    _compare(km.tidy(), r["curve"])  # S = 0 at the end: std_error NaN as in R
    med = km.median().iloc[0]
    assert med["median"] == pytest.approx(4.0)  # S = 0.5 on [3, 5): midpoint
    assert med["conf_low"] == pytest.approx(num([r["median"]["lower"]])[0])
    assert np.isnan(med["conf_high"])


def test_pbc_reference_values(pbc, pbc_reference):
    r = pbc_reference["km_death"]
    km = cs.kaplan_meier(pbc, time="years", event="status", cause=2)
    at = km.at(r["time"])
    np.testing.assert_allclose(at["estimate"], r["surv"], rtol=1e-9)
    np.testing.assert_allclose(at["std_error"], r["std_err"], rtol=1e-9)
    np.testing.assert_allclose(at["conf_low"], r["lower"], rtol=1e-9)
    np.testing.assert_allclose(at["conf_high"], r["upper"], rtol=1e-9)
    np.testing.assert_allclose(at["n_risk"], r["n_risk"])
    med = km.median().iloc[0]
    assert med["median"] == pytest.approx(r["median"], rel=1e-9)
    assert med["conf_low"] == pytest.approx(r["median_lower"], rel=1e-9)
    assert med["conf_high"] == pytest.approx(r["median_upper"], rel=1e-9)


def test_risk_table_cumulative_counts(small):
    km = cs.kaplan_meier(small, time="time", event="event1", by="g")
    rt = km.risk_table([0, 3, 9])
    assert list(rt.columns) == ["g", "time", "n_risk", "n_event", "n_censor"]
    for g, sub in small.groupby("g"):
        row = rt[(rt["g"] == g) & (rt["time"] == 3)].iloc[0]
        assert row["n_risk"] == (sub["time"] >= 3).sum()
        assert row["n_event"] == ((sub["time"] <= 3) & (sub["event1"] == 1)).sum()
        assert row["n_censor"] == ((sub["time"] <= 3) & (sub["event1"] == 0)).sum()
        last = rt[(rt["g"] == g) & (rt["time"] == 9)].iloc[0]
        assert last["n_risk"] == 0 and last["n_event"] + last["n_censor"] == len(sub)
    assert isinstance(km, cs.KaplanMeierResult) and isinstance(km, cs.CurveResult)
    assert km.by == ["g"] and km.conf_type == "log-log" and km.cause is None
    assert km.conf_level == 0.95 and km.start_value == 1.0 and not km.increasing
    assert km.time_column == "time" and km.event_column == "event1"
    np.testing.assert_array_equal(km.n, small.groupby("g").size().to_numpy())
    np.testing.assert_array_equal(km.n_events, small.groupby("g")["event1"].sum().to_numpy())
    assert "Kaplan–Meier survival: 3 curve(s), 95% CI (log-log)" in repr(km)
    assert "<table" in km._repr_html_()


def test_at_beyond_follow_up_is_nan(small):
    km = cs.kaplan_meier(small, time="time", event="event1")
    at = km.at([100])
    assert np.isnan(at["estimate"].iloc[0]) and at["n_risk"].iloc[0] == 0


def test_multiple_by_columns(small):
    km = cs.kaplan_meier(small, time="time", event="event1", by=["g", "s"])
    tidy = km.tidy()
    assert list(tidy.columns[:2]) == ["g", "s"]
    one = cs.kaplan_meier(
        small[(small.g == "b") & (small.s == "y")], time="time", event="event1"
    ).tidy()
    sub = tidy[(tidy.g == "b") & (tidy.s == "y")]
    np.testing.assert_allclose(sub["estimate"], one["estimate"], atol=1e-12)


# ---- bad input ------------------------------------------------------------------------
def test_bad_input_messages(small):
    bad = small.copy()
    bad.loc[3, "time"] = -1
    with pytest.raises(DataError, match=r"'time'.*negative"):
        cs.kaplan_meier(bad, time="time", event="event1")
    bad = small.copy()
    bad.loc[5, "time"] = np.nan
    with pytest.raises(DataError, match=r"'time'.*missing"):
        cs.kaplan_meier(bad, time="time", event="event1")
    with pytest.raises(DataError, match="cause="):
        cs.kaplan_meier(small, time="time", event="status")
    with pytest.raises(DataError, match="cause=7 does not occur"):
        cs.kaplan_meier(small, time="time", event="status", cause=7)
    with pytest.raises(SchemaError, match="by='nope' is not a column of the data"):
        cs.kaplan_meier(small, time="time", event="event1", by="nope")
    with pytest.raises(InvalidParameterError) as err:
        cs.kaplan_meier(small, time="time", event="event1", conf_type="arcsin")
    assert str(err.value) == (
        "The 'conf_type' parameter of kaplan_meier must be one of 'log-log', 'log', 'plain'. "
        "Got 'arcsin'."
    )
    with pytest.raises(InvalidParameterError, match=r"Use 0\.95, not 95"):
        cs.kaplan_meier(small, time="time", event="event1", conf_level=95)
    with pytest.raises(InvalidParameterError, match="'cause' parameter of kaplan_meier"):
        cs.kaplan_meier(small, time="time", event="status", cause=0)
    with pytest.raises(InvalidParameterError, match="'labels' parameter"):
        cs.kaplan_meier(small, time="time", event="event1", labels=["Group"])
    bad = small.copy()
    bad["g"] = bad["g"].astype(object)
    bad.loc[0, "g"] = None
    with pytest.raises(DataError, match=r"by column 'g'.*missing"):
        cs.kaplan_meier(bad, time="time", event="event1", by="g")


def test_all_censored_warns(small):
    df = small.assign(event1=0)
    with pytest.warns(CalcstatsWarning, match="no events"):
        km = cs.kaplan_meier(df, time="time", event="event1")
    assert (km.tidy()["estimate"] == 1).all()


def test_bool_event(small):
    a = cs.kaplan_meier(small.assign(e=small["event1"].astype(bool)), time="time", event="e")
    b = cs.kaplan_meier(small, time="time", event="event1")
    pd.testing.assert_frame_equal(a.tidy(), b.tidy())


# ---- properties -----------------------------------------------------------------------
data_strategy = st.lists(
    st.tuples(st.integers(0, 15), st.booleans(), st.sampled_from(["a", "b"])),
    min_size=1,
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(rows=data_strategy, seed=st.integers(0, 10_000))
def test_km_bounded_monotone_and_order_invariant(rows, seed):
    df = pd.DataFrame(rows, columns=["t", "d", "g"]).assign(d=lambda x: x.d.astype(int))
    if df["d"].sum() == 0:
        df.loc[0, "d"] = 1
    with pd.option_context("mode.chained_assignment", "raise"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CalcstatsWarning)
            km = cs.kaplan_meier(df, time="t", event="d", by="g")
            shuffled = cs.kaplan_meier(
                df.sample(frac=1, random_state=seed), time="t", event="d", by="g"
            )
    tidy = km.tidy()
    est = tidy["estimate"].to_numpy()
    assert ((est >= 0) & (est <= 1)).all()
    for _, sub in tidy.groupby("g"):
        assert (np.diff(sub["estimate"].to_numpy()) <= 1e-15).all()
    pd.testing.assert_frame_equal(tidy, shuffled.tidy())


def test_conf_level_90_matches_survfit(pbc, ref):
    r = ref["km"]["pbc_edema_90"]
    km = cs.kaplan_meier(pbc, time="years", event="death", by="edema", conf_level=0.9)
    _compare(km.tidy(), r["curve"])
    med = km.median()
    np.testing.assert_allclose(
        med["conf_low"], num(r["median"]["lower"]), atol=1e-9, equal_nan=True
    )
    np.testing.assert_allclose(
        med["conf_high"], num(r["median"]["upper"]), atol=1e-9, equal_nan=True
    )


def test_integer_weights_equal_replicated_rows(small):
    w = (small.index % 3 + 1).to_numpy()
    weighted = cs.kaplan_meier(small.assign(w=w), time="time", event="event1", by="g", weights="w")
    expanded = cs.kaplan_meier(
        small.loc[small.index.repeat(w)], time="time", event="event1", by="g"
    )
    pd.testing.assert_frame_equal(weighted.tidy(), expanded.tidy(), atol=1e-12)


def test_running_out_of_memory_is_a_calcstats_error(small, monkeypatch):
    def boom(*args, **kwargs):
        raise MemoryError("Unable to allocate 38.1 GiB for an array with shape (5120000000,)")

    monkeypatch.setattr(_km, "tabulate", boom)
    with pytest.raises(
        CalcstatsError, match=r"kaplan_meier ran out of memory \(Unable to allocate 38"
    ) as exc:
        cs.kaplan_meier(small, time="time", event="event1", by="g")
    assert "analyse fewer rows or fewer groups" in str(exc.value)
    assert isinstance(exc.value, MemoryError)


# ---- case weights and labels ------------------------------------------------------------
def test_zero_weight_row_is_set_aside_and_counted(small):
    # a zero weight means "not in the analysis": the curve is that of the other rows
    w = (small.index % 3 + 1).to_numpy(dtype=float)
    w[[4, 17, 30]] = 0.0
    weighted = cs.kaplan_meier(small.assign(w=w), time="time", event="event1", by="g", weights="w")
    kept = small.assign(w=w).loc[w > 0]
    dropped = cs.kaplan_meier(kept, time="time", event="event1", by="g", weights="w")
    pd.testing.assert_frame_equal(weighted.tidy(), dropped.tidy())
    pd.testing.assert_frame_equal(weighted.median(), dropped.median())
    assert weighted.n_zero_weight == 3 and dropped.n_zero_weight == 0
    # n counts the rows with a positive weight; n_events the weighted events (as survfit)
    np.testing.assert_array_equal(weighted.n, kept.groupby("g").size().to_numpy())
    np.testing.assert_allclose(
        weighted.n_events, (kept["w"] * kept["event1"]).groupby(kept["g"]).sum().to_numpy()
    )
    assert weighted.median()["n"].tolist() == kept.groupby("g").size().tolist()


def test_negative_or_missing_weight_is_an_error_naming_the_rows(small):
    bad = small.assign(w=1.0)
    bad.loc[7, "w"] = -2.0
    with pytest.raises(DataError, match=r"weights column 'w' must hold finite numbers >= 0.*7"):
        cs.kaplan_meier(bad, time="time", event="event1", weights="w")
    bad.loc[7, "w"] = np.nan
    with pytest.raises(DataError, match=r"weights column 'w' has 1 missing value"):
        cs.kaplan_meier(bad, time="time", event="event1", weights="w")


def test_labels_are_kept_on_the_result(small):
    lab = cs.Labels(levels={"g": {"a": "Arm A"}}, units={"time": "months"})
    km = cs.kaplan_meier(small, time="time", event="event1", by="g", labels=lab)
    assert km.labels == lab
    km = cs.kaplan_meier(small, time="time", event="event1", labels={"time": "Follow-up"})
    assert km.labels.variable("time") == "Follow-up"
    assert cs.kaplan_meier(small, time="time", event="event1").labels == cs.Labels()


def test_times_of_at_and_risk_table_are_checked(small):
    km = cs.kaplan_meier(small, time="time", event="event1")
    with pytest.raises(InvalidParameterError, match=r"'times' parameter of at .* Got \[-1\]"):
        km.at([-1])
    with pytest.raises(InvalidParameterError, match="'times' parameter of risk_table"):
        km.risk_table(["soon"])
    row = km.at([3]).iloc[0]
    assert km.inline(3) == (
        f"{100 * row['estimate']:.1f}% (95% CI {100 * row['conf_low']:.1f}–"
        f"{100 * row['conf_high']:.1f}%)"
    )
