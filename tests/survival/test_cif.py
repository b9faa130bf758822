"""cumulative_incidence against R's multi-state survfit and invariants."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import calcstats as cs
from calcstats._errors import CalcstatsError, CalcstatsWarning, DataError, InvalidParameterError
from calcstats.survival import _cif
from tests.survival.conftest import num

CURVE_TOL = 1e-6  # curves and their SEs/limits: absolute 1e-6


def _mat(values) -> np.ndarray:
    return np.array([num(row) for row in values])


# edema = 1 has no transplants (cause 1): the warning is expected there
@pytest.mark.filterwarnings("ignore:group edema=1.0 has no events")
@pytest.mark.parametrize("conf_type", ["log-log", "log", "plain"])
@pytest.mark.parametrize(
    ("key", "frame", "time", "by"),
    [("pbc_edema", "pbc", "years", "edema"), ("small_g", "small", "time", "g")],
)
def test_matches_multistate_survfit(request, ref, conf_type, key, frame, time, by):
    data = request.getfixturevalue(frame)
    r = ref["aj"][f"{key}_{conf_type}"]
    pstate, se = _mat(r["pstate"]), _mat(r["std_err"])
    lower, upper = _mat(r["lower"]), _mat(r["upper"])
    for cause in (1, 2):
        cif = cs.cumulative_incidence(
            data, time=time, event="status", cause=cause, by=by, conf_type=conf_type
        )
        tidy = cif.tidy()
        assert list(tidy.columns) == [
            by,
            "time",
            "n_risk",
            "n_event",
            "n_censor",
            "estimate",
            "std_error",
            "conf_low",
            "conf_high",
        ]
        np.testing.assert_allclose(tidy["time"], num(r["time"]), atol=1e-12)
        np.testing.assert_allclose(tidy["n_risk"], num(r["n_risk"]), atol=1e-12)
        col = cause  # R's columns: (s0), 1, 2
        np.testing.assert_allclose(tidy["estimate"], pstate[:, col], atol=CURVE_TOL)
        np.testing.assert_allclose(tidy["std_error"], se[:, col], atol=CURVE_TOL)
        np.testing.assert_allclose(tidy["conf_low"], lower[:, col], atol=CURVE_TOL, equal_nan=True)
        np.testing.assert_allclose(tidy["conf_high"], upper[:, col], atol=CURVE_TOL, equal_nan=True)
    states = cif.state_probabilities()
    free = states[states["state"] == "event_free"]
    np.testing.assert_allclose(free["estimate"], pstate[:, 0], atol=CURVE_TOL)
    np.testing.assert_allclose(free["std_error"], se[:, 0], atol=CURVE_TOL)


def test_pbc_reference_values(pbc, pbc_reference):
    r = pbc_reference["aj_cif"]
    cif = cs.cumulative_incidence(pbc, time="years", event="status", cause=2)
    sp = cif.state_probabilities()
    for i, t in enumerate(r["time"]):
        at_t = sp[sp["time"] <= t].groupby("state", observed=True)["estimate"].last()
        np.testing.assert_allclose(
            [at_t["event_free"], at_t["cause_1"], at_t["cause_2"]], r["pstate"][i], rtol=1e-9
        )
    np.testing.assert_allclose(
        cif.at(r["time"])["estimate"], [p[2] for p in r["pstate"]], rtol=1e-9
    )


def test_equals_one_minus_km_without_competing_events(small):
    df = small.assign(status=small["event1"])
    cif = cs.cumulative_incidence(df, time="time", event="status", cause=1, by="g")
    km = cs.kaplan_meier(df, time="time", event="status", by="g")
    np.testing.assert_allclose(cif.tidy()["estimate"], 1 - km.tidy()["estimate"], atol=1e-12)


def test_attributes_risk_table_and_median(small):
    cif = cs.cumulative_incidence(small, time="time", event="status", cause=2, by="g")
    assert isinstance(cif, cs.CumulativeIncidenceResult) and isinstance(cif, cs.CurveResult)
    assert cif.cause == 2 and cif.start_value == 0.0 and cif.increasing
    assert cif.measure == "Cumulative incidence" and cif.n_zero_weight == 0
    rt = cif.risk_table([0, 4])
    sub = small[small.g == "a"]
    row = rt[(rt.g == "a") & (rt.time == 4)].iloc[0]
    assert row["n_event"] == ((sub.time <= 4) & (sub.status == 2)).sum()
    assert row["n_censor"] == ((sub.time <= 4) & (sub.status == 0)).sum()
    # median of a CIF: first time the incidence reaches 0.5 (never here)
    assert cif.median()["median"].isna().all()
    one = pd.DataFrame({"t": [1, 2, 3, 4], "status": [1, 1, 2, 1]})
    med = cs.cumulative_incidence(one, time="t", event="status", cause=1).median()
    # F = .25, .5, .5, .75 at t = 1..4: 1 - F is 0.5 exactly on [2, 4), R's rule averages
    assert med["median"].iloc[0] == 3.0
    assert "Cumulative incidence of cause 2: 3 curve(s)" in repr(cif)


def test_bad_input(small):
    with pytest.raises(DataError, match="cause=3 does not occur"):
        cs.cumulative_incidence(small, time="time", event="status", cause=3)
    with pytest.raises(InvalidParameterError, match="'cause' parameter of cumulative_incidence"):
        cs.cumulative_incidence(small, time="time", event="status", cause=0)
    with pytest.raises(InvalidParameterError) as err:
        cs.cumulative_incidence(small, time="time", event="status", conf_type="logit")
    assert str(err.value) == (
        "The 'conf_type' parameter of cumulative_incidence must be one of 'log-log', 'log', "
        "'plain'. Got 'logit'."
    )
    bad = small.assign(status=small["status"] + 0.5)
    with pytest.raises(DataError, match="integer event codes"):
        cs.cumulative_incidence(bad, time="time", event="status")
    with pytest.raises(CalcstatsWarning, match="no events"):
        with warnings.catch_warnings():
            warnings.simplefilter("error", CalcstatsWarning)
            cs.cumulative_incidence(
                small[small.status != 1]
                .assign(status=0)
                .pipe(lambda d: pd.concat([d, d.iloc[:1].assign(status=1, time=99)])),
                time="time",
                event="status",
                cause=1,
                by="g",
            )


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 10), st.integers(0, 3)), min_size=2, max_size=50),
    seed=st.integers(0, 1000),
)
def test_states_sum_to_one_and_order_invariant(rows, seed):
    df = pd.DataFrame(rows, columns=["t", "status"])
    if not (df["status"] == 1).any():
        df.loc[0, "status"] = 1
    cif = cs.cumulative_incidence(df, time="t", event="status", cause=1)
    sp = cif.state_probabilities()
    total = sp.groupby("time")["estimate"].sum()
    np.testing.assert_allclose(total, 1.0, atol=1e-12)
    assert (sp["estimate"] >= -1e-15).all()
    km = cs.kaplan_meier(df.assign(any=(df.status > 0).astype(int)), time="t", event="any")
    free = sp[sp.state == "event_free"]["estimate"].to_numpy()
    np.testing.assert_allclose(free, km.tidy()["estimate"], atol=1e-12)
    shuffled = cs.cumulative_incidence(
        df.sample(frac=1, random_state=seed), time="t", event="status", cause=1
    )
    pd.testing.assert_frame_equal(cif.tidy(), shuffled.tidy())


def test_conf_level_90_matches_survfit(small, ref):
    r = ref["aj"]["small_g_90"]
    cif = cs.cumulative_incidence(
        small, time="time", event="status", cause=2, by="g", conf_level=0.9
    )
    tidy = cif.tidy()
    np.testing.assert_allclose(
        tidy["conf_low"], _mat(r["lower"])[:, 2], atol=CURVE_TOL, equal_nan=True
    )
    np.testing.assert_allclose(
        tidy["conf_high"], _mat(r["upper"])[:, 2], atol=CURVE_TOL, equal_nan=True
    )


def test_running_out_of_memory_is_a_calcstats_error(small, monkeypatch):
    def boom(*args, **kwargs):
        raise MemoryError("Unable to allocate 38.1 GiB for an array with shape (5120000000,)")

    monkeypatch.setattr(_cif, "tabulate", boom)
    with pytest.raises(
        CalcstatsError, match=r"cumulative_incidence ran out of memory \(Unable to allocate 38"
    ) as exc:
        cs.cumulative_incidence(small, time="time", event="status", cause=1, by="g")
    assert "analyse fewer rows or fewer groups" in str(exc.value)
    assert isinstance(exc.value, MemoryError)


# ---- case weights ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def wref() -> dict:
    """Values printed by tests/reference/survival_weighted.R."""
    path = Path(__file__).parent.parent / "reference" / "survival_weighted.json"
    return json.loads(path.read_text())


@pytest.mark.parametrize("key", ["small_g_w", "small_g_w_int"])
def test_weighted_matches_survfit(small, wref, key):
    r = wref["aj"][key]
    data = small.assign(w_int=(2 * small["w"]).round())
    weights = "w" if key == "small_g_w" else "w_int"
    pstate, se = _mat(r["pstate"]), _mat(r["std_err"])
    lower, upper = _mat(r["lower"]), _mat(r["upper"])
    for cause in (1, 2):
        cif = cs.cumulative_incidence(
            data, time="time", event="status", cause=cause, by="g", weights=weights
        )
        tidy = cif.tidy()
        np.testing.assert_allclose(tidy["time"], num(r["time"]), atol=1e-12)
        # R's multi-state survfit prints unweighted counts; calcstats' counts are the
        # weight sums the estimate is made of (as R's single-state survfit)
        np.testing.assert_allclose(tidy["estimate"], pstate[:, cause], atol=CURVE_TOL)
        np.testing.assert_allclose(tidy["std_error"], se[:, cause], atol=CURVE_TOL)
        np.testing.assert_allclose(
            tidy["conf_low"], lower[:, cause], atol=CURVE_TOL, equal_nan=True
        )
        np.testing.assert_allclose(
            tidy["conf_high"], upper[:, cause], atol=CURVE_TOL, equal_nan=True
        )
    free = cif.state_probabilities().query("state == 'event_free'")
    np.testing.assert_allclose(free["std_error"], se[:, 0], atol=CURVE_TOL)


def test_zero_weight_row_is_set_aside_and_counted(small):
    w = np.where(np.isin(np.arange(len(small)), [2, 11, 40, 41]), 0.0, small["w"])
    data = small.assign(w=w)
    weighted = cs.cumulative_incidence(
        data, time="time", event="status", cause=1, by="g", weights="w"
    )
    kept = data[data["w"] > 0]
    dropped = cs.cumulative_incidence(
        kept, time="time", event="status", cause=1, by="g", weights="w"
    )
    pd.testing.assert_frame_equal(weighted.tidy(), dropped.tidy())
    pd.testing.assert_frame_equal(weighted.state_probabilities(), dropped.state_probabilities())
    assert weighted.n_zero_weight == 4
    np.testing.assert_array_equal(weighted.n, kept.groupby("g").size().to_numpy())


def test_integer_weights_estimate_equals_replicated_rows(small):
    w = (small.index % 3 + 1).to_numpy()
    weighted = cs.cumulative_incidence(
        small.assign(w=w), time="time", event="status", cause=2, by="g", weights="w"
    )
    expanded = cs.cumulative_incidence(
        small.loc[small.index.repeat(w)], time="time", event="status", cause=2, by="g"
    )
    cols = ["g", "time", "n_risk", "n_event", "n_censor", "estimate"]
    pd.testing.assert_frame_equal(weighted.tidy()[cols], expanded.tidy()[cols], atol=1e-12)
