"""New calcification on follow-up imaging: the simulator's truth, and the methods against it.

``simulate_cohort(new_calcification_rate=, new_calcification_hr=, perfect_detection=)``:
patients without calcification at baseline form one at an exponential time (rate times
the hazard ratio with cirrhosis at baseline), ``truth.patients["new_calcification_years"]``.
Cirrhotic patients are imaged every 6 months and the others every 1 or 3 years, so taking
the first study that shows the calcification as its onset is biased; the interval-censored
analysis is not.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import calcstats as cs

RATE, HR = 0.15, 2.0


def test_hazard_ratio_scales_the_onset_of_cirrhotic_patients_only():
    base = cs.simulate_cohort(1500, seed=5, new_calcification_rate=RATE).truth.patients
    sim = cs.simulate_cohort(1500, seed=5, new_calcification_rate=RATE, new_calcification_hr=3.0)
    onset = sim.truth.patients["new_calcification_years"].to_numpy()
    cirrhotic = sim.patients["cirrhosis_at_baseline"].to_numpy(dtype=bool)
    before = base["new_calcification_years"].to_numpy()
    assert np.array_equal(onset[~cirrhotic], before[~cirrhotic])
    both = cirrhotic & np.isfinite(before)
    assert both.sum() > 20
    assert onset[both] == pytest.approx(before[both] / 3.0, rel=1e-12)
    assert sim.truth.params["new_calcification_hr"] == 3.0


def test_perfect_detection_sees_every_baseline_calcification_at_index():
    kw = {"n": 1500, "seed": 9}
    missed = cs.simulate_cohort(**kw).truth.patients
    seen = cs.simulate_cohort(**kw, perfect_detection=True).truth.patients
    calcified = seen["true_calcification"].to_numpy(dtype=bool)
    assert (seen.loc[calcified, "calcification_recorded_years"] == 0).all()
    assert (missed.loc[calcified, "calcification_recorded_years"] > 0).sum() > 10


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"new_calcification_hr": 0},
            "The 'new_calcification_hr' parameter of simulate_cohort must be a number > 0",
        ),
        (
            {"perfect_detection": "yes"},
            "The 'perfect_detection' parameter of simulate_cohort must be True or False. "
            "Got 'yes'.",
        ),
    ],
)
def test_bad_simulator_options(kwargs, message):
    with pytest.raises(cs.InvalidParameterError) as err:
        cs.simulate_cohort(100, seed=1, **kwargs)
    assert message in str(err.value)


def test_truth_gives_the_onset_distribution_and_its_coefficients():
    truth = cs.simulate_cohort(
        100, seed=1, new_calcification_rate=RATE, new_calcification_hr=HR
    ).truth
    surv = truth.new_calcification_survival([1.0, 4.0])
    assert surv["survival"].to_numpy() == pytest.approx(
        np.exp(-RATE * np.array([1, 4, HR, HR * 4]))
    )
    aft = truth.new_calcification_coefficients()
    assert aft.to_dict() == pytest.approx(
        {"Intercept": -np.log(RATE), "cirrhosis_at_baseline": -np.log(HR), "scale": 1.0}
    )
    ph = truth.new_calcification_coefficients("ph")
    assert ph["cirrhosis_at_baseline"] == pytest.approx(np.log(HR))


@pytest.fixture(scope="module")
def onset():
    """2,500 patients, every lesion seen when imaged; about 1,400 at risk, 700 onsets seen."""
    sim = cs.simulate_cohort(
        2500, seed=26, new_calcification_rate=RATE, new_calcification_hr=HR, perfect_detection=True
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cs.DataWarning)  # prevalent cases left out
        table = sim.interval_table("calcification")
    return sim.truth, table


def test_interval_censored_model_recovers_the_truth_and_right_endpoint_does_not(onset):
    """95% intervals of the interval-censored Weibull PH fit cover the true log rate, log
    hazard ratio and shape 1; right-endpoint imputation misses the rate, inflates the
    shape to about 1.5 and the hazard ratio of the often-imaged group."""
    truth, table = onset
    cmp = cs.compare_interval_methods(
        table, "cirrhosis_at_baseline", left="left", right="right", model="ph"
    )
    true = truth.new_calcification_coefficients("ph")
    fit = cmp.interval.tidy(exponentiate=False).set_index("term")
    for term in ("Intercept", "cirrhosis_at_baseline"):
        assert fit.loc[term, "conf_low"] < true[term] < fit.loc[term, "conf_high"], term
    assert abs(np.log(cmp.interval.shape)) < 1.96 * cmp.interval.log_scale_se
    imputed = cmp.right_endpoint.tidy(exponentiate=False).set_index("term")
    assert imputed.loc["Intercept", "conf_high"] < true["Intercept"]
    assert cmp.right_endpoint.shape > 1.3
    assert imputed.loc["cirrhosis_at_baseline", "estimate"] > true["cirrhosis_at_baseline"] + 0.15


def test_turnbull_recovers_the_onset_distribution_and_right_endpoint_km_does_not(onset):
    """Tolerance 0.1 for the NPMLE (it converges at rate n^(1/3); about 1,300 patients
    here); the Kaplan-Meier of first positive studies is 0.1 to 0.2 too high at 2-3 years."""
    truth, table = onset
    rows = table[table["cirrhosis_at_baseline"] == 0]
    times = [2.0, 3.0, 5.0]
    true = truth.new_calcification_survival(times)
    true = true.loc[true["cirrhosis_at_baseline"] == 0, "survival"].to_numpy()
    tb = cs.turnbull(rows, left="left", right="right")
    assert np.abs(tb.at(times)["estimate"].to_numpy() - true).max() < 0.1
    seen = np.isfinite(rows["right"])
    imputed = rows.assign(time=np.where(seen, rows["right"], rows["left"]), event=seen.astype(int))
    km = cs.kaplan_meier(imputed, time="time", event="event").at(times)["estimate"].to_numpy()
    assert (km[:2] - true[:2]).min() > 0.1
