"""state_probabilities against R survival 3.5-3 (tests/reference/multistate.R): mgus2,
myeloid and a simulated illness-death data set, overall and by group, with and without
the variance of the starting distribution, with case weights, and restricted mean time
in state."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from tests.survival.conftest import REFERENCE, num

DATA = REFERENCE / "multistate_data"
SETS = {
    "mgus2": ("mgus2_ms.csv", "sex"),
    "myeloid": ("myeloid_ms.csv", "trt"),
    "illness_death_sim": ("illness_death_sim.csv", "x"),
}
TOL = 1e-10


@pytest.fixture(scope="module")
def R() -> dict:
    return json.loads((REFERENCE / "multistate.json").read_text())


def load(name: str) -> pd.DataFrame:
    d = pd.read_csv(DATA / SETS[name][0])
    if name == "mgus2":  # every mgus2 fit in R uses the complete cases
        d = d[d["mspike"].notna()]
    return d


def matrix(values) -> np.ndarray:
    return np.array([num(row) for row in values])


def wide(frame: pd.DataFrame, states: list[str], column: str = "estimate") -> np.ndarray:
    """(time x state) matrix of one group's long output, columns in R's state order."""
    return frame.pivot(index="time", columns="state", values=column)[states].to_numpy()


def group_rows(frame: pd.DataFrame, by: str | None, name: str) -> pd.DataFrame:
    if by is None:
        return frame
    level = name.split("=", 1)[1]
    return frame.loc[frame[by].astype(str) == level]


@pytest.mark.parametrize("name", list(SETS))
@pytest.mark.parametrize("grouped", [False, True])
def test_probabilities_standard_errors_and_limits_match_survfit(R, name, grouped):
    d = load(name)
    by = SETS[name][1] if grouped else None
    ref = R[name]["survfit"]["by_group" if grouped else "overall"]
    states = ref["states"]
    sp = cs.state_probabilities(d, by=by, p0_variance=False)
    assert list(sp.states) == states  # the display order is R's here
    tidy = sp.tidy()
    for stratum in ref["strata"]:
        mine = group_rows(tidy, by, stratum["name"])
        assert np.array_equal(np.unique(mine["time"]), num(stratum["time"]))
        for col, key in (
            ("estimate", "pstate"),
            ("std_error", "std.err"),
            ("conf_low", "lower"),
            ("conf_high", "upper"),
        ):
            got, want = wide(mine, states, col), matrix(stratum[key])
            assert np.array_equal(np.isnan(got), np.isnan(want)), (stratum["name"], col)
            np.testing.assert_allclose(got, want, atol=TOL, rtol=0, err_msg=col)
        np.testing.assert_allclose(mine.groupby("time")["estimate"].sum(), 1.0, atol=1e-12)


@pytest.mark.parametrize("name", list(SETS))
@pytest.mark.parametrize("grouped", [False, True])
def test_p0_variance_matches_influence_true(R, name, grouped):
    d = load(name)
    by = SETS[name][1] if grouped else None
    ref = R[name]["survfit"]["by_group" if grouped else "overall"]
    states = ref["states"]
    sp = cs.state_probabilities(d, by=by)  # default: p0_variance=True
    assert sp.p0_variance
    tidy = sp.tidy()
    at0 = sp.at([0.0])
    for stratum in ref["influence_true"]["strata"]:
        mine = group_rows(tidy, by, stratum["name"])
        np.testing.assert_allclose(
            wide(mine, states, "std_error"), matrix(stratum["std.err"]), atol=TOL, rtol=0
        )
        first = group_rows(at0, by, stratum["name"]).set_index("state").loc[states]
        np.testing.assert_allclose(first["estimate"], num(stratum["p0"]), atol=TOL, rtol=0)
        np.testing.assert_allclose(first["std_error"], num(stratum["sp0"]), atol=TOL, rtol=0)


def test_the_two_variances_differ_only_when_patients_start_in_different_states(R):
    sim = R["illness_death_sim"]["survfit"]["overall"]
    assert sim["influence_true"]["maxdiff_std.err_vs_default"] > 0.01
    d = load("illness_death_sim")
    a = cs.state_probabilities(d, p0_variance=False).tidy()["std_error"]
    b = cs.state_probabilities(d, p0_variance=True).tidy()["std_error"]
    assert np.max(np.abs(a - b)) == pytest.approx(
        sim["influence_true"]["maxdiff_std.err_vs_default"], abs=1e-10
    )
    d = load("mgus2")  # everyone starts in 'mgus': p0 has no variance
    a = cs.state_probabilities(d, p0_variance=False).tidy()["std_error"]
    b = cs.state_probabilities(d, p0_variance=True).tidy()["std_error"]
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", list(SETS))
def test_counts_and_cumulative_hazards_match_survfit(R, name):
    ref = R[name]["survfit"]["overall"]
    states, stratum = ref["states"], ref["strata"][0]
    sp = cs.state_probabilities(load(name))
    times = num(stratum["time"])
    rt = sp.risk_table(times)
    np.testing.assert_array_equal(wide(rt, states, "n_risk"), matrix(stratum["n.risk"]))
    np.testing.assert_array_equal(
        np.diff(wide(rt, states, "n_event"), axis=0, prepend=0), matrix(stratum["n.event"])
    )
    ch = sp.cumulative_hazards()
    want = matrix(stratum["cumhaz"])
    for k, col in enumerate(ref["cumhaz.colnames"]):
        a, b = (states[int(i) - 1] for i in col.split("."))
        mine = ch.loc[(ch["from_state"] == a) & (ch["to_state"] == b)]
        np.testing.assert_allclose(mine["cumulative_hazard"], want[:, k], atol=TOL, rtol=0)
    assert len(ch.groupby(["from_state", "to_state"], observed=True)) == len(ref["cumhaz.colnames"])


@pytest.mark.parametrize("name", list(SETS))
@pytest.mark.parametrize("grouped", [False, True])
def test_time_in_state_matches_rmean_with_influence(R, name, grouped):
    d = load(name)
    by = SETS[name][1] if grouped else None
    ref = R[name]["survfit"]["by_group" if grouped else "overall"]
    sp = cs.state_probabilities(d, by=by)
    for rm in ref["rmean"]:
        table = matrix(rm["table_influence"])
        cols = rm["colnames_influence"]
        res = sp.time_in_state(rm["tau"]).tidy()
        for row, label in enumerate(rm["rownames"]):
            if grouped:
                group, state = (s.strip() for s in label.split(","))
                mine = group_rows(res, by, group)
            else:
                state, mine = label, res
            mine = mine.loc[mine["state"] == state].iloc[0]
            assert mine["estimate"] == pytest.approx(table[row, cols.index("rmean")], abs=1e-9)
            assert mine["std_error"] == pytest.approx(
                table[row, cols.index("se(rmean)")], abs=1e-10
            )
        per_group = (
            res.groupby(by, observed=True)["estimate"].sum() if grouped else res["estimate"].sum()
        )
        np.testing.assert_allclose(per_group, rm["tau"], rtol=1e-12)


@pytest.mark.parametrize("kind", ["integer", "fractional"])
def test_case_weights_match_survfit(R, kind):
    ref = R["illness_death_sim"]["weights"]
    d = load("illness_death_sim")
    d["w"] = 1 + d["patient_id"] % 3 if kind == "integer" else 0.5 + (d["patient_id"] % 7) / 4
    states = ref[kind]["states"]
    sp = cs.state_probabilities(d, weights="w", p0_variance=False)
    tidy = sp.tidy()
    stratum = ref[kind]["strata"][0]
    np.testing.assert_allclose(wide(tidy, states), matrix(stratum["pstate"]), atol=TOL, rtol=0)
    np.testing.assert_allclose(
        wide(tidy, states, "std_error"), matrix(stratum["std.err"]), atol=TOL, rtol=0
    )
    if kind == "integer":
        sp1 = cs.state_probabilities(d, weights="w")
        np.testing.assert_allclose(
            wide(sp1.tidy(), states, "std_error"),
            matrix(ref["integer_influence_true"]["strata"][0]["std.err"]),
            atol=TOL,
            rtol=0,
        )
        # R 3.5-3's se(rmean) leaves the weights out; ours weighs each patient's influence
        rm = ref["integer_rmean_tau5"]
        res = sp1.time_in_state(5).tidy().set_index("state").loc[rm["rownames"]]
        np.testing.assert_allclose(res["estimate"], matrix(rm["table"])[:, 2], atol=1e-12)
        np.testing.assert_allclose(res["std_error"], num(rm["se_rmean_weighted_IJ"]), atol=TOL)
        assert not np.allclose(res["std_error"], matrix(rm["table"])[:, 3])
