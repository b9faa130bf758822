"""On the simulator with no effect of calcification (calcification_hr=1), weighting removes
the confounding by etiology that the crude hazard ratio shows."""

from __future__ import annotations

import warnings

import pytest

import calcstats as cs

COMPETING = ("liver_transplant", "death")
SEEDS = range(8)


def _survival_table(seed: int):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cs.DataWarning)  # simulated implausible values
        sim = cs.simulate_cohort(10_000, seed=seed, calcification_hr=1, followup_imaging=False)
        st = sim.survival_table("cirrhosis", competing=COMPETING)
    return sim, st


@pytest.mark.parametrize("seed", SEEDS)
def test_iptw_hazard_ratio_covers_one_where_the_crude_one_does_not(seed):
    sim, st = _survival_table(seed)
    assert sim.truth.hazard_ratios("cirrhosis")["any_calcification"] == 1.0
    crude = cs.cox(st, "any_calcification", time="time", event="status", cause=1)
    crude = crude.tidy().iloc[0]
    assert crude["conf_high"] < 1.0  # confounded by etiology
    ps = cs.propensity(st, "any_calcification ~ C(etiology) + age_at_index + sex")
    assert not ps.positivity.doubtful
    bal = cs.balance(
        st,
        treatment="any_calcification",
        covariates=["etiology", "age_at_index", "sex"],
        weights=ps.weights(),
    )
    assert bal.glance()["max_abs_smd_weighted"].iloc[0] < 0.05
    iptw = cs.cox(
        st.assign(w=ps.weights()),
        "any_calcification",
        time="time",
        event="status",
        cause=1,
        weights="w",
    )
    assert iptw.robust
    row = iptw.tidy().iloc[0]
    assert row["conf_low"] <= 1.0 <= row["conf_high"]
