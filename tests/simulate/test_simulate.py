"""simulate_cohort: determinism, validity, clinical structure, missingness, known truth."""

from __future__ import annotations

import hashlib
import json
import warnings

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats._errors import CalcstatsError, ConvergenceWarning, DataWarning
from calcstats.simulate import _params as P
from calcstats.simulate._simulate import _simulate_tables

TABLES = ("patients", "imaging", "findings", "events")
COMPETING = ("liver_transplant", "death")


def _digest(cohort) -> dict[str, str]:
    return {
        t: hashlib.sha256(getattr(cohort, t).to_csv(index=False).encode()).hexdigest()
        for t in TABLES
    }


def _survival_table(cohort, outcome):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        try:
            return cohort.survival_table(outcome, competing=COMPETING)
        except ImportError:  # Cohort method not wired to _analysis_time yet
            from calcstats.cohort._analysis_time import survival_table

            return survival_table(cohort, outcome, competing=COMPETING)


def _counting_process_table(cohort, outcome):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        try:
            return cohort.counting_process_table(outcome, competing=COMPETING)
        except ImportError:  # Cohort method not wired to _analysis_time yet
            from calcstats.cohort._analysis_time import counting_process_table

            return counting_process_table(cohort, outcome, competing=COMPETING)


def _binomial_ok(k: int, n: int, p: float, z: float = 4.0) -> bool:
    """k successes of n within z binomial standard errors of n * p."""
    return abs(k - n * p) <= z * np.sqrt(n * p * (1 - p)) + 1


@pytest.fixture(scope="module")
def big() -> cs.Cohort:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)  # no implausible values either
        return cs.simulate_cohort(20_000, seed=11)


# ------------------------------------------------------------------------- determinism
def test_same_seed_gives_identical_tables_byte_for_byte():
    a = cs.simulate_cohort(1500, seed=42, preset="east_asia")
    b = cs.simulate_cohort(1500, seed=42, preset="east_asia")
    assert _digest(a) == _digest(b)
    assert a.truth.to_json() == b.truth.to_json()
    c = cs.simulate_cohort(1500, seed=43, preset="east_asia")
    assert _digest(c)["patients"] != _digest(a)["patients"]


def test_seed_none_records_the_seed_it_drew():
    a = cs.simulate_cohort(200)
    b = cs.simulate_cohort(200, seed=a.truth.params["seed"])
    assert _digest(a) == _digest(b)


# ---------------------------------------------------------------------------- validity
@pytest.mark.parametrize(
    "preset", ["western_tertiary", "east_asia", "parasite_endemic", "paediatric"]
)
def test_every_preset_passes_validation_without_exclusions(preset):
    tables, _ = _simulate_tables(3000, seed=7, preset=preset)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        cohort = cs.read_cohort(**tables, on_error="raise")
    assert len(cohort.patients) == 3000
    assert cohort.flow.to_frame()["n_excluded"].fillna(0).sum() == 0
    assert set(cohort.patients["etiology"]) <= set(P.PRESET_MIX[preset])
    if preset == "paediatric":
        assert cohort.patients["age_at_index"].max() < 18
    else:
        assert cohort.patients["age_at_index"].min() >= 18
    ev = cohort.events.merge(cohort.patients[["patient_id", "index_date", "last_followup_date"]])
    assert (ev["event_date"] > ev["index_date"]).all()
    assert (ev["event_date"] <= ev["last_followup_date"]).all()
    assert (cohort.events["event"] == "death").groupby(cohort.events["patient_id"]).sum().max() <= 1


def test_patients_with_and_without_calcification_and_new_calcification(big):
    pt = big.patient_table()
    share = pt["any_calcification"].mean()
    assert 0.2 < share < 0.6
    # calcification first recorded on a follow-up study for some patients
    first = big.truth.patients["calcification_recorded_years"]
    later = np.isfinite(first) & (first > 0)
    assert later.sum() > 100
    assert (np.isfinite(big.truth.patients["new_calcification_years"])).sum() > 100


# --------------------------------------------------------------- clinical structure
def test_calcification_prevalence_differs_by_etiology_as_parameters_say(big):
    lat = big.truth.patients.merge(big.patients[["patient_id", "etiology"]])
    for etiology, grp in lat.groupby("etiology"):
        k, n = int(grp["true_calcification"].sum()), len(grp)
        assert _binomial_ok(k, n, P.P_CALC[etiology]), (etiology, k, n)
    # among truly calcified patients the mix is the preset's
    calc = lat.loc[lat["true_calcification"], "etiology"].value_counts()
    mix = P.PRESET_MIX["western_tertiary"]
    total = sum(mix.values())
    for etiology, share in mix.items():
        assert _binomial_ok(int(calc.get(etiology, 0)), int(calc.sum()), share / total)
    pt = big.patient_table().set_index("etiology")["any_calcification"]
    assert pt.loc["idiopathic"].mean() > 0.75 > 0.15 > pt.loc["pbc"].mean()


def test_morphology_and_segments_follow_the_etiology():
    sim = cs.simulate_cohort(6000, seed=3, preset="parasite_endemic")
    les = sim.truth.lesions.merge(sim.truth.patients[["patient_id", "true_etiology"]])
    share = pd.crosstab(les["true_etiology"], les["morphology"], normalize="index")
    assert share.loc["echinococcosis", "rim"] > 0.6
    assert share.loc["granulomatous", "punctate"] > 0.65
    assert share.loc["schistosomiasis", "network"] == 1.0
    assert share.loc["hepatolithiasis", "ductal"] > 0.6
    seg = les.loc[les["true_etiology"] == "granulomatous", "segment"].value_counts(normalize=True)
    assert seg.idxmax() == "VIII" and abs(seg["VIII"] - 0.26) < 0.03
    hyd = les.loc[les["true_etiology"] == "echinococcosis", "segment"]
    assert abs(hyd.isin(P.RIGHT_SEGMENTS).mean() - 0.7) < 0.04
    # observed findings on the index studies keep these patterns
    f = sim.findings.merge(sim.patients[["patient_id", "etiology"]])
    assert (f.loc[f["etiology"] == "echinococcosis", "morphology"] == "rim").mean() > 0.55


def test_detection_is_better_on_ct_than_ultrasound(big):
    idx = big.imaging.merge(big.patients[["patient_id", "index_date"]])
    idx = idx[idx["study_date"] == idx["index_date"]]
    seen = big.findings.groupby("study_id").size()
    idx = idx.assign(n_seen=idx["study_id"].map(seen).fillna(0))
    lat = big.truth.patients.set_index("patient_id")["true_n_calcifications"]
    idx = idx.assign(n_true=idx["patient_id"].map(lat))
    rate = idx[idx["n_true"] > 0].groupby("modality")[["n_seen", "n_true"]].sum()
    rate = rate["n_seen"] / rate["n_true"]
    assert rate["CT"] > rate["US"] > rate["MRI"]


def test_follow_up_settings():
    sim = cs.simulate_cohort(
        2000,
        seed=5,
        loss_to_followup=0.0,
        accrual_years=4.0,
        followup_years=2.0,
        start_date="2015-01-01",
        followup_imaging=False,
    )
    pt = sim.patients
    assert pt["index_date"].min() >= pd.Timestamp("2015-01-01")
    assert pt["index_date"].max() < pd.Timestamp("2019-01-01")
    cutoff = pd.Timestamp("2015-01-01") + pd.Timedelta(days=int(6 * 365.25))
    alive = ~pt["patient_id"].isin(sim.events.loc[sim.events["event"] == "death", "patient_id"])
    assert (pt.loc[alive, "last_followup_date"] == cutoff).all()
    assert len(sim.imaging) == 2000  # index studies only
    lossy = cs.simulate_cohort(
        2000,
        seed=5,
        loss_to_followup=0.5,
        accrual_years=4.0,
        followup_years=2.0,
        start_date="2015-01-01",
    )
    assert (lossy.patients["last_followup_date"] < cutoff).mean() > 0.5


# ------------------------------------------------------------------------- missingness
def test_missingness_rates_as_configured():
    sim = cs.simulate_cohort(20_000, seed=8, missing_rate=0.1, alp_missing=0.0)
    for col in P.OPTIONAL_COLUMNS:
        k = int(sim.patients[col].isna().sum())
        assert _binomial_ok(k, 20_000, 0.1), (col, k)
    none = cs.simulate_cohort(3000, seed=8, missing_rate=0.0, alp_missing=0.0)
    assert not none.patients[list(P.OPTIONAL_COLUMNS)].isna().any().any()
    some = cs.simulate_cohort(3000, seed=8, missing_rate={"bmi": 0.5}, alp_missing=0.0)
    assert _binomial_ok(int(some.patients["bmi"].isna().sum()), 3000, 0.5)
    assert not some.patients["inr"].isna().any()


def test_alp_missing_at_random_given_bilirubin():
    sim = cs.simulate_cohort(20_000, seed=9, missing_rate=0.0, alp_missing=0.3)
    pt = sim.patients
    miss = pt["alp_u_l"].isna()
    assert abs(miss.mean() - 0.3) < 0.015
    normal = pt["bilirubin_mg_dl"] <= 1.2
    ratio = miss[normal].mean() / miss[~normal].mean()
    assert 2.5 < ratio < 3.5  # three times likelier when bilirubin is normal


def test_etiology_unknown_rate_relabels_granulomatous_as_idiopathic():
    sim = cs.simulate_cohort(10_000, seed=4, etiology_unknown_rate=0.2)
    lat = sim.truth.patients.merge(sim.patients[["patient_id", "etiology"]])
    gran = lat[lat["true_etiology"] == "granulomatous"]
    k = int((gran["etiology"] == "idiopathic").sum())
    assert _binomial_ok(k, len(gran), 0.2)
    assert (
        lat.loc[lat["true_etiology"] != "granulomatous", "etiology"]
        == lat.loc[lat["true_etiology"] != "granulomatous", "true_etiology"]
    ).all()


# --------------------------------------------------------------------------- the truth
def test_truth_formula_and_hazard_ratio_names_match_cox_terms(big):
    truth = big.truth
    assert truth.formula("cirrhosis") == "any_calcification + C(etiology) + age_at_index + sex"
    assert truth.formula("hcc").endswith("+ cirrhosis_at_baseline")
    assert truth.formula("cirrhosis", time_varying=True).startswith("calcification + ")
    st = _survival_table(big, "hcc")
    fit = cs.cox(st, truth.formula("hcc"), time="time", event="status", cause=1)
    assert set(fit.tidy()["term"]) == set(truth.hazard_ratios("hcc").index)
    hr = truth.hazard_ratios("cirrhosis")
    assert hr["C(etiology)[T.pbc]"] == pytest.approx(0.04 / 0.002)
    assert hr["sex[T.M]"] == pytest.approx(np.exp(0.262))
    assert truth.hazard_ratios("cirrhosis", reference="pbc")["C(etiology)[T.psc]"] == 0.75
    with pytest.raises(CalcstatsError, match="illness-death"):
        truth.formula("death")
    with pytest.raises(CalcstatsError, match="reference"):
        truth.hazard_ratios("hcc", reference="alcohol")


def test_truth_to_json_round_trip(tmp_path, big):
    text = big.truth.to_json(tmp_path / "truth.json")
    back = json.loads((tmp_path / "truth.json").read_text())
    assert back == json.loads(text)
    assert back["params"]["seed"] == 11
    assert back["models"]["cirrhosis"]["hazard_ratios"]["any_calcification"] == 1.0
    assert back["latent_summary"]["n_true_calcification"] == int(
        big.truth.patients["true_calcification"].sum()
    )


def test_cox_recovers_the_true_hazard_ratios_with_nominal_coverage():
    """20 seeds × 3,000 patients; 95% CIs of all terms of the true cirrhosis model."""
    covered, total, calc_cover = 0, 0, 0
    for seed in range(20):
        sim = cs.simulate_cohort(
            3000, seed=seed, preset="east_asia", calcification_hr=1.5, followup_imaging=False
        )
        st = _survival_table(sim, "cirrhosis")
        with warnings.catch_warnings():
            # rare etiologies with no event have infinite estimates; left out below
            warnings.simplefilter("ignore", ConvergenceWarning)
            td = cs.cox(
                st, sim.truth.formula("cirrhosis"), time="time", event="status", cause=1
            ).tidy()
        td = td[td["std_error"] < 5]
        true = sim.truth.hazard_ratios("cirrhosis").reindex(td["term"]).to_numpy()
        hit = (td["conf_low"].to_numpy() <= true) & (true <= td["conf_high"].to_numpy())
        covered += int(hit.sum())
        total += hit.size
        calc_cover += int(hit[(td["term"] == "any_calcification").to_numpy()][0])
    # pooled coverage within 3 binomial SEs of 95% (terms within a fit are correlated, so
    # this is approximate); the calcification term alone: P(X <= 15 | 20, 0.95) < 2%
    se = np.sqrt(0.95 * 0.05 / total)
    assert abs(covered / total - 0.95) <= 3 * se, covered / total
    assert calc_cover >= 16
    assert total > 200


def test_crude_hr_is_confounded_and_adjusted_hr_is_not(big):
    st = _survival_table(big, "cirrhosis")
    crude = cs.cox(st, "any_calcification", time="time", event="status", cause=1).tidy()
    adj = cs.cox(st, big.truth.formula("cirrhosis"), time="time", event="status", cause=1)
    adj = adj.tidy().set_index("term").loc["any_calcification"]
    assert crude["conf_high"].iloc[0] < 1.0  # confounded by etiology (true HR is 1)
    assert adj["conf_low"] <= 1.0 <= adj["conf_high"]


def test_time_varying_exposure_recovers_the_effect():
    sim = cs.simulate_cohort(
        20_000, seed=5, preset="east_asia", calcification_hr=2.0, new_calcification_rate=0.1
    )
    cp = _counting_process_table(sim, "cirrhosis")
    st = _survival_table(sim, "cirrhosis")
    tv = (
        cs.cox(
            cp,
            sim.truth.formula("cirrhosis", time_varying=True),
            start="start",
            time="stop",
            event="status",
            cause=1,
        )
        .tidy()
        .set_index("term")
    )
    base = (
        cs.cox(st, sim.truth.formula("cirrhosis"), time="time", event="status", cause=1)
        .tidy()
        .set_index("term")
    )
    assert tv.loc["calcification", "conf_low"] <= 2.0 <= tv.loc["calcification", "conf_high"]
    # fixing exposure at baseline misclassifies later calcification: attenuated
    assert base.loc["any_calcification", "estimate"] < tv.loc["calcification", "estimate"]


# ------------------------------------------------------------------------ bad arguments
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": 0}, "The 'n' parameter of simulate_cohort must be an integer >= 1"),
        ({"n": 10, "preset": "mars"}, "'preset' parameter of simulate_cohort must be one of"),
        ({"n": 10, "calcification_hr": 0}, "calcification_hr"),
        ({"n": 10, "missing_rate": {"height": 0.1}}, "Got the key\\(s\\) 'height'"),
        ({"n": 10, "missing_rate": 1.5}, "missing_rate"),
        ({"n": 10, "seed": -1}, "seed"),
        ({"n": 10, "start_date": "not a date"}, "start_date"),
        ({"n": 10, "followup_imaging": "yes"}, "followup_imaging"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, match):
    with pytest.raises(cs.InvalidParameterError, match=match):
        cs.simulate_cohort(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n": 1, "seed": 1},
        {"n": 2, "seed": 2, "preset": "paediatric"},
        {"n": 300, "seed": 3, "followup_years": 0.01, "accrual_years": 0.01},
        {"n": 300, "seed": 4, "loss_to_followup": 10.0},
        {"n": 300, "seed": 5, "new_calcification_rate": 10.0},
        {"n": 300, "seed": 6, "missing_rate": 1.0, "alp_missing": 1.0},
        {"n": 300, "seed": 7, "calcification_hr": 50.0},
        {"n": 300, "seed": 9, "etiology_unknown_rate": 1.0},
    ],
)
def test_extreme_options_still_give_valid_cohorts(kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        sim = cs.simulate_cohort(**kwargs)
    assert len(sim.patients) == kwargs["n"]
    assert len(sim.truth.patients) == kwargs["n"]


def test_recorded_events_are_the_latent_times(big):
    ev = big.events.merge(big.patients[["patient_id", "index_date"]])
    lat = big.truth.patients.set_index("patient_id")
    for event, column in (
        ("cirrhosis", "latent_cirrhosis_years"),
        ("liver_transplant", "latent_liver_transplant_years"),
        ("death", "latent_death_years"),
    ):
        sub = ev[ev["event"] == event]
        days = (sub["event_date"] - sub["index_date"]).dt.days.to_numpy()
        expected = np.ceil(lat.loc[sub["patient_id"], column].to_numpy() * 365.25)
        assert len(sub) > 20 and np.array_equal(days, np.maximum(expected, 1)), event
    # nobody cirrhotic at baseline gets an incident cirrhosis event
    cirr0 = big.patients.loc[big.patients["cirrhosis_at_baseline"], "patient_id"]
    assert not ev.loc[ev["event"] == "cirrhosis", "patient_id"].isin(cirr0).any()


def test_decompensation_has_no_single_model_from_index(big):
    # its hazard rises tenfold once cirrhosis develops: the truth is per transition
    # (tests/simulate/test_progression.py)
    with pytest.raises(CalcstatsError, match="transition_hazard_ratios"):
        big.truth.formula("decompensation")
    st = _survival_table(big, "decompensation")
    td = cs.cox(
        st,
        "any_calcification + C(etiology) + age_at_index + sex + cirrhosis_at_baseline",
        time="time",
        event="status",
        cause=1,
    ).tidy()
    baseline = td.set_index("term").loc["cirrhosis_at_baseline"]
    state_hr = float(np.exp(P.HAZARDS["decompensation"]["log_cirrhosis"]))
    # incident cirrhosis raises the hazard of the baseline non-cirrhotic: attenuated
    assert baseline["conf_high"] < state_hr
