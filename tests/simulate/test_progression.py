"""simulate_cohort's multi-state liver progression: known transition hazards, recovered by
multistate_cox on cohort.multistate_table(); calcification acting on chosen transitions."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import calcstats as cs
from calcstats._errors import CalcstatsError, DataWarning

HRS = {"no_cirrhosis -> cirrhosis": 1.5, "cirrhosis -> decompensation": 2.0}


@pytest.fixture(scope="module")
def sim() -> cs.Cohort:
    # baseline exposure only (no follow-up imaging): the any_calcification models are true
    return cs.simulate_cohort(20_000, seed=3, followup_imaging=False, calcification_hr=HRS)


@pytest.fixture(scope="module")
def ms(sim):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return sim.multistate_table()


@pytest.mark.parametrize(
    ("origin", "target"),
    [
        ("no_cirrhosis", "cirrhosis"),
        ("cirrhosis", "decompensation"),
        ("no_cirrhosis", "decompensation"),
        ("no_cirrhosis", "liver_transplant"),
        ("decompensation", "liver_transplant"),
    ],
)
def test_multistate_cox_recovers_the_true_transition_hazard_ratios(sim, ms, origin, target):
    truth = sim.truth
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cs.ConvergenceWarning)  # rare etiologies
        fit = cs.multistate_cox(
            ms, truth.transition_formula(origin, target), transitions=[f"{origin} -> {target}"]
        )
    td = fit.tidy().set_index("term")
    true = truth.transition_hazard_ratios(origin, target)
    assert set(td.index) == set(true.index)
    for term in ("any_calcification", "age_at_index", "sex[T.M]"):
        if term in true.index:
            assert td.loc[term, "conf_low"] <= true[term] <= td.loc[term, "conf_high"], term
    if origin == "cirrhosis":  # the chosen effect is found, and it is not the null
        assert td.loc["any_calcification", "conf_low"] > 1.2


def test_calcification_acts_only_on_the_chosen_transitions(sim, ms):
    assert sim.truth.params["calcification_hr"] == 1.5
    assert sim.truth.params["calcification_transition_hr"] == HRS
    assert sim.truth.hazard_ratios("cirrhosis")["any_calcification"] == 1.5
    fit = cs.multistate_cox(
        ms, "any_calcification + age_at_index", transitions=["no_cirrhosis -> decompensation"]
    )
    row = fit.tidy().set_index("term").loc["any_calcification"]
    assert (
        sim.truth.transition_hazard_ratios("no_cirrhosis", "decompensation")["any_calcification"]
        == 1.0
    )
    assert row["conf_low"] <= 1.0 <= row["conf_high"]


def test_decompensation_can_come_without_recorded_cirrhosis(sim):
    # non-cirrhotic portal hypertension: the table's contradiction rule is exercised
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        ar = sim.multistate_at_risk()
    counts = ar.counts().set_index("rule")
    assert counts.loc["skipped state: direct transition", "n_patients"] > 100
    direct = ar.table[
        (ar.table["from_state"] == "no_cirrhosis") & (ar.table["to_state"] == "decompensation")
    ]
    assert len(direct) == counts.loc["skipped state: direct transition", "n_events"]


def test_the_decompensation_hazard_rises_tenfold_in_cirrhosis(ms):
    # shared coefficients are identical in both transitions; the baseline hazards differ
    # by the state effect exp(2.303) = 10: compare the crude rates per person-year
    rows = ms.assign(py=ms["stop"] - ms["start"])
    rate = {}
    for state in ("no_cirrhosis", "cirrhosis"):
        sub = rows[rows["from_state"] == state]
        rate[state] = (sub["to_state"] == "decompensation").sum() / sub["py"].sum()
    assert 5 < rate["cirrhosis"] / rate["no_cirrhosis"] < 20


def test_truth_names_and_refusals():
    truth = cs.simulate_cohort(300, seed=2).truth
    assert truth.transition_formula("no_cirrhosis", "cirrhosis") == truth.formula("cirrhosis")
    assert truth.transition_formula("decompensation", "liver_transplant") == (
        "any_calcification + age_at_index"
    )
    assert truth.transition_formula("cirrhosis", "decompensation", time_varying=True).startswith(
        "calcification + "
    )
    with pytest.raises(CalcstatsError, match="background mortality"):
        truth.transition_hazard_ratios("cirrhosis", "death")
    with pytest.raises(CalcstatsError, match="not a transition"):
        truth.transition_formula("decompensation", "cirrhosis")
    with pytest.raises(CalcstatsError, match="transition_hazard_ratios"):
        truth.hazard_ratios("decompensation")


def test_truth_json_keeps_the_transition_models(tmp_path):
    truth = cs.simulate_cohort(300, seed=4, calcification_hr=HRS).truth
    data = json.loads(truth.to_json(tmp_path / "truth.json"))
    assert (
        data["transitions"]["cirrhosis -> decompensation"]["hazard_ratios"]["any_calcification"]
        == 2.0
    )
    back = cs.Truth.from_dict(data)
    np.testing.assert_allclose(
        back.transition_hazard_ratios("cirrhosis", "decompensation"),
        truth.transition_hazard_ratios("cirrhosis", "decompensation"),
    )


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ({"cirrhosis -> death": 2.0}, "background mortality"),
        ({"cirrhosis -> hcc": 2.0}, "Got the key 'cirrhosis -> hcc'"),
        ({"no_cirrhosis -> cirrhosis": -1.0}, "calcification_hr"),
        ("strong", "calcification_hr"),
    ],
)
def test_bad_calcification_hr_is_refused(value, match):
    with pytest.raises(cs.InvalidParameterError, match=match):
        cs.simulate_cohort(10, seed=1, calcification_hr=value)
