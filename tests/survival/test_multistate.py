"""state_probabilities from the user's side: reductions to cumulative_incidence and
kaplan_meier, properties (sum to one, row order, patient-id type), results API and the
input checks. R agreement: test_multistate_reference.py."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import calcstats as cs
from calcstats._errors import DataError, DataWarning, InvalidParameterError, SchemaError
from tests.survival.conftest import REFERENCE

SIM = REFERENCE / "multistate_data" / "illness_death_sim.csv"


@pytest.fixture(scope="module")
def sim() -> pd.DataFrame:
    return pd.read_csv(SIM)


@pytest.fixture(scope="module")
def pbc() -> pd.DataFrame:
    d = cs.datasets.load_pbc()
    return d.assign(years=d["time"] / 365.25)


def competing_rows(pbc: pd.DataFrame) -> pd.DataFrame:
    """pbc as one sojourn per patient: event_free -> transplant (1) / death (2)."""
    to = np.select([pbc["status"] == 1, pbc["status"] == 2], ["cause_1", "cause_2"], "censored")
    return pd.DataFrame(
        {
            "patient_id": pbc["id"],
            "from_state": "event_free",
            "to_state": to,
            "start": 0.0,
            "stop": pbc["years"],
        }
    )


# ---------------------------------------------------------------------------- reductions
def test_one_transient_state_equals_cumulative_incidence(pbc):
    sp = cs.state_probabilities(competing_rows(pbc)).tidy()
    cif = cs.cumulative_incidence(pbc, time="years", event="status", cause=2, conf_type="log")
    ref = cif.state_probabilities()
    for state in ("event_free", "cause_1", "cause_2"):
        mine = sp.loc[sp["state"] == state].reset_index(drop=True)
        theirs = ref.loc[ref["state"] == state].reset_index(drop=True)
        np.testing.assert_array_equal(mine["time"], theirs["time"])
        np.testing.assert_allclose(mine["estimate"], theirs["estimate"], atol=1e-14, rtol=0)
        np.testing.assert_allclose(mine["std_error"], theirs["std_error"], atol=1e-14, rtol=0)
    death = sp.loc[sp["state"] == "cause_2"].reset_index(drop=True)
    curve = cif.tidy()
    np.testing.assert_allclose(death["conf_low"], curve["conf_low"], atol=1e-13, rtol=0)
    np.testing.assert_allclose(death["conf_high"], curve["conf_high"], atol=1e-13, rtol=0)


def test_one_absorbing_state_equals_kaplan_meier(pbc):
    rows = competing_rows(pbc).assign(
        to_state=np.where(pbc["status"] == 2, "dead", "censored"), from_state="alive"
    )
    sp = cs.state_probabilities(rows).tidy()
    km = cs.kaplan_meier(
        pbc.assign(died=(pbc["status"] == 2).astype(int)),
        time="years",
        event="died",
        conf_type="log",
    ).tidy()
    alive = sp.loc[sp["state"] == "alive"].reset_index(drop=True)
    np.testing.assert_array_equal(alive["time"], km["time"])
    for col in ("estimate", "std_error", "conf_low", "conf_high"):
        np.testing.assert_allclose(alive[col], km[col], atol=1e-13, rtol=0, err_msg=col)


# ----------------------------------------------------------------------------- properties
@st.composite
def illness_death(draw):
    """Random illness-death rows with ties, delayed state entry and split rows."""
    n = draw(st.integers(3, 25))
    rows = []
    for i in range(n):
        t1 = draw(st.integers(1, 8))
        kind = draw(st.sampled_from(["censor", "ill", "dead", "ill-dead", "split"]))
        start_ill = draw(st.booleans()) and kind == "censor"
        first = "ill" if start_ill else "healthy"
        if kind == "censor":
            rows.append((i, first, "censored", 0, t1))
        elif kind == "dead":
            rows.append((i, "healthy", "dead", 0, t1))
        elif kind == "split":
            rows += [(i, "healthy", "censored", 0, t1), (i, "healthy", "ill", t1, t1 + 2)]
        else:
            t2 = t1 + draw(st.integers(1, 5))
            rows += [
                (i, "healthy", "ill", 0, t1),
                (i, "ill", "dead" if kind == "ill-dead" else "censored", t1, t2),
            ]
    frame = pd.DataFrame(
        rows, columns=["patient_id", "from_state", "to_state", "start", "stop"]
    ).astype({"start": float, "stop": float})
    if not (frame["to_state"].isin(["ill", "dead"])).any():
        frame.loc[0, ["to_state"]] = (
            "dead" if frame.loc[0, "from_state"] == "healthy" else "censored"
        )
    return frame


@settings(max_examples=40, deadline=None)
@given(frame=illness_death(), seed=st.integers(0, 2**16))
def test_probabilities_sum_to_one_and_ignore_row_order_and_id_type(frame, seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        base = cs.state_probabilities(frame).tidy()
        shuffled = frame.sample(frac=1, random_state=seed)
        shuffled = shuffled.assign(patient_id="p" + shuffled["patient_id"].astype(str))
        other = cs.state_probabilities(shuffled).tidy()
    np.testing.assert_allclose(base.groupby("time")["estimate"].sum(), 1.0, atol=1e-12)
    assert ((base["estimate"] >= -1e-12) & (base["estimate"] <= 1 + 1e-12)).all()
    pd.testing.assert_frame_equal(base[["time", "state"]], other[["time", "state"]])
    np.testing.assert_allclose(base["estimate"], other["estimate"], rtol=0, atol=1e-13)
    # a variance that is exactly 0 comes out as rounding noise (~1e-17) of sums that
    # cancel: its square root is below 1e-7
    np.testing.assert_allclose(base["std_error"], other["std_error"], rtol=0, atol=1e-7)


def test_split_rows_give_the_same_curves(sim):
    # cutting every sojourn at t=3 changes nothing (the patient is one cluster)
    cut = 3.0
    rows = []
    for r in sim.itertuples(index=False):
        if r.start < cut < r.stop:
            rows.append(r._replace(to_state="censored", stop=cut))
            rows.append(r._replace(start=cut))
        else:
            rows.append(r)
    split = pd.DataFrame(rows)
    assert len(split) > len(sim)
    a = cs.state_probabilities(sim).tidy()
    b = cs.state_probabilities(split).tidy()
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=0, atol=1e-13)


def test_column_names_are_arguments(sim):
    renamed = sim.rename(
        columns={
            "patient_id": "id",
            "from_state": "a",
            "to_state": "b",
            "start": "t0",
            "stop": "t1",
        }
    )
    a = cs.state_probabilities(sim).tidy()
    b = cs.state_probabilities(
        renamed, patient_id="id", from_state="a", to_state="b", start="t0", stop="t1"
    ).tidy()
    pd.testing.assert_frame_equal(a, b)


# ----------------------------------------------------------------------------- results
def test_at_before_first_and_after_last_time(sim):
    sp = cs.state_probabilities(sim)
    at = sp.at([0.0, 0.05, 100.0]).set_index(["time", "state"])["estimate"]
    assert at[(0.0, "healthy")] == pytest.approx(0.8375)  # p0: 335 of 400 start healthy
    assert at[(0.05, "ill")] == pytest.approx(0.1625)
    assert np.isnan(at[(100.0, "dead")])
    with pytest.raises(DataError, match="times must be"):
        sp.at([-1.0])


def test_risk_table_cumulative_hazards_and_transition_counts(sim):
    sp = cs.state_probabilities(sim)
    rt = sp.risk_table([0, 2]).set_index(["time", "state"])
    assert rt.loc[(0, "healthy"), "n_risk"] == 335  # at risk just after 0
    assert rt.loc[(0, "dead"), "n_risk"] == 0
    counts = sp.transition_counts().set_index(["from_state", "to_state"])["n"]
    assert (
        counts[("healthy", "ill")]
        == ((sim["from_state"] == "healthy") & (sim["to_state"] == "ill")).sum()
    )
    assert counts.sum() == len(sim)
    ch = sp.cumulative_hazards()
    hi = ch.loc[(ch["from_state"] == "healthy") & (ch["to_state"] == "ill")]
    first = hi.loc[hi["n_event"] > 0].iloc[0]
    assert first["cumulative_hazard"] == pytest.approx(first["n_event"] / first["n_risk"])


def test_time_in_state_adds_up_to_tau_and_refuses_bad_tau(sim):
    res = cs.state_probabilities(sim, by="x").time_in_state(4)
    tidy = res.tidy()
    assert list(tidy.columns) == [
        "x",
        "state",
        "tau",
        "estimate",
        "std_error",
        "conf_low",
        "conf_high",
    ]
    np.testing.assert_allclose(tidy.groupby("x")["estimate"].sum(), 4.0)
    assert (tidy["conf_low"] >= 0).all() and (tidy["conf_high"] <= 4).all()
    assert res.tau == 4.0 and res.p0_variance
    with pytest.raises(DataError, match="tau"):
        cs.state_probabilities(sim).time_in_state(0)


def test_inline_and_repr(sim):
    sp = cs.state_probabilities(sim, by="x")
    text = sp.inline(2, "ill", group={"x": 1})
    assert text.startswith("3") and "95% CI" in text
    with pytest.raises(cs.CalcstatsError, match="say which"):
        sp.inline(2, "ill")
    with pytest.raises(cs.CalcstatsError, match="not a state"):
        sp.inline(2, "sick", group={"x": 1})
    assert "State probabilities" in repr(sp)
    assert "including the variance of the starting distribution" in sp.method


def test_groups_without_transitions_warn():
    rows = pd.DataFrame(
        {
            "patient_id": [1, 2, 3, 4],
            "from_state": "a",
            "to_state": ["b", "censored", "censored", "censored"],
            "start": 0.0,
            "stop": [1.0, 2.0, 2.0, 3.0],
            "g": ["x", "x", "y", "y"],
        }
    )
    with pytest.warns(DataWarning, match=r"no transition in group \{'g': 'y'\}"):
        sp = cs.state_probabilities(rows, by="g")
    y = sp.tidy().loc[lambda d: d["g"] == "y"]
    assert (y.loc[y["state"] == "a", "estimate"] == 1.0).all()
    assert (y["std_error"] == 0).all()


# ------------------------------------------------------------------------------ checks
def base_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": [1, 1, 2],
            "from_state": ["a", "b", "a"],
            "to_state": ["b", "censored", "censored"],
            "start": [0.0, 1.0, 0.0],
            "stop": [1.0, 2.0, 3.0],
            "w": [1, 1, 2],
        }
    )


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (
            {"start": [0.0, 1.5, 0.0]},
            DataError,
            r"gap between stop 1 and the next start 1.5"
            r" for patient 1 \(rows 0, 1\)",
        ),
        ({"start": [0.0, 0.5, 0.0]}, DataError, r"overlaps the previous one.*patient 1"),
        (
            {"from_state": ["a", "c", "a"]},
            DataError,
            r"from_state is 'c' but the previous "
            r"row ended in 'b'.*patient 1",
        ),
        ({"to_state": ["a", "censored", "censored"]}, DataError, "to_state equals from_state"),
        ({"from_state": ["a", "b", None]}, DataError, r"missing value.*rows 2"),
        ({"from_state": ["censored", "b", "a"]}, DataError, "from_state is 'censored'"),
        ({"w": [1, 2, 1]}, DataError, "weight changes.*patient 1"),
        ({"stop": [1.0, 0.5, 3.0]}, DataError, "'start' >= 'stop' \\(first at row 1\\)"),
        ({"start": [0.0, 1.0, -1.0]}, DataError, "negative"),
    ],
)
def test_bad_rows_are_named(change, error, match):
    rows = base_rows().assign(**change)
    with pytest.raises(error, match=match):
        cs.state_probabilities(rows, weights="w")


def test_missing_columns_and_bad_options():
    with pytest.raises(SchemaError, match="patient_id='id' is not a column"):
        cs.state_probabilities(base_rows(), patient_id="id")
    with pytest.raises(InvalidParameterError, match="conf_type"):
        cs.state_probabilities(base_rows(), conf_type="logit")
    with pytest.raises(InvalidParameterError, match="p0_variance"):
        cs.state_probabilities(base_rows(), p0_variance="yes")
    rows = base_rows().assign(g=["x", "y", "x"])
    with pytest.raises(DataError, match="more than one group"):
        cs.state_probabilities(rows, by="g")


def test_zero_weight_patients_are_set_aside(sim):
    w = np.where(sim["patient_id"] % 5 == 0, 0.0, 1.0)
    a = cs.state_probabilities(sim.assign(w=w), weights="w").tidy()
    b = cs.state_probabilities(sim.loc[w > 0]).tidy()
    pd.testing.assert_frame_equal(a, b, check_exact=False, atol=1e-13, rtol=0)


def test_categorical_states_keep_their_order(sim):
    order = ["dead", "ill", "healthy"]
    cat = sim.assign(
        from_state=pd.Categorical(sim["from_state"], categories=order),
        to_state=pd.Categorical(sim["to_state"], categories=[*order, "censored"]),
    )
    assert cs.state_probabilities(cat).states == ("dead", "ill", "healthy")
    assert cs.state_probabilities(sim).states == ("healthy", "ill", "dead")
