"""predict_probabilities against R's survfit(coxfit, newdata=) for multi-state coxph
(matrix exponential or I + dA, R's Efron increment after an Efron fit) and the patient
bootstrap intervals."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from tests.survival.conftest import REFERENCE
from tests.survival.test_multistate_cox import SETS, load

CASES = {  # R's key -> (our fit options, our prediction options)
    "unshared": ({}, {}),
    "unshared_stype1": ({}, {"method": "product_limit"}),
    "unshared_breslow_fit": ({"ties": "breslow"}, {}),
    "shared_common": ("shared", {}),
}


@pytest.fixture(scope="module")
def R() -> dict:
    return json.loads((REFERENCE / "multistate.json").read_text())


def profile(R: dict, name: str) -> dict:
    return {
        k: (v[0] if isinstance(v, list) else v) for k, v in R[name]["predict"]["profile"].items()
    }


@pytest.mark.parametrize("name", list(SETS))
@pytest.mark.parametrize("case", list(CASES))
def test_predicted_probabilities_match_survfit(R, name, case):
    ref = R[name]["predict"][case]
    fit_kw, pred_kw = CASES[case]
    _, rhs, shared, _ = SETS[name]
    fit_kw = {"shared": shared} if fit_kw == "shared" else fit_kw
    fit = cs.multistate_cox(load(name), rhs, **fit_kw)
    pred = fit.predict_probabilities(profile(R, name), **pred_kw)
    states = ref["states"]
    wide = pred.tidy().pivot(index="time", columns="state", values="estimate")[states]
    np.testing.assert_array_equal(wide.index, ref["time"])
    tol = 1e-7 if name == "myeloid" else 1e-9  # R's Newton-Raphson tolerance (see cox tests)
    np.testing.assert_allclose(wide.to_numpy(), np.array(ref["pstate"]), atol=tol, rtol=0)
    if case != "unshared_stype1":  # I + dA with the diagonal cut at 0 (R) can exceed 1
        np.testing.assert_allclose(wide.sum(axis=1), 1.0, atol=1e-12)
    ch = pred.cumulative_hazards().pivot(
        index="time", columns="transition", values="cumulative_hazard"
    )
    cols = [
        f"{states[int(a) - 1]} -> {states[int(b) - 1]}"
        for a, b in (c.split(":") for c in ref["cumhaz.colnames"])
    ]
    np.testing.assert_allclose(
        ch[cols].to_numpy(), np.array(ref["cumhaz"]), atol=100 * tol, rtol=1e-7
    )
    assert "std_error" not in pred.tidy().columns  # R gives none either
    assert "no standard errors" in pred.method


def test_the_r_efron_increment_is_not_the_classic_one(R):
    # R's own check: the classic Efron increment would be off by ~5e-3
    check = R["illness_death_sim"]["predict"]["manual_check"]
    assert check["maxdiff_default_vs_efron_R_expm"] < 1e-12
    assert check["maxdiff_default_vs_efron_classic_expm"] > 1e-3


def test_times_before_the_first_and_after_the_last_event(R):
    fit = cs.multistate_cox(load("illness_death_sim"), "x + z")
    pred = fit.predict_probabilities({"x": 1, "z": 0.5}, times=[0, 1, 99]).tidy()
    at0 = pred.loc[pred["time"] == 0].set_index("state")["estimate"]
    np.testing.assert_allclose(at0[["healthy", "ill", "dead"]], [0.8375, 0.1625, 0.0])
    assert pred.loc[pred["time"] == 99, "estimate"].isna().all()
    assert pred.loc[pred["time"] == 1, "estimate"].sum() == pytest.approx(1.0)


def test_bootstrap_intervals_are_reproducible_and_bracket_the_estimate():
    fit = cs.multistate_cox(load("illness_death_sim"), "x + z")
    a = fit.predict_probabilities({"x": 1, "z": 0.5}, times=[1, 3], n_boot=60, seed=7)
    b = fit.predict_probabilities({"x": 1, "z": 0.5}, times=[1, 3], n_boot=60, seed=7)
    pd.testing.assert_frame_equal(a.tidy(), b.tidy())
    t = a.tidy()
    assert list(t.columns) == ["time", "state", "estimate", "std_error", "conf_low", "conf_high"]
    assert (
        (t["conf_low"] <= t["estimate"] + 1e-12) & (t["estimate"] <= t["conf_high"] + 1e-12)
    ).all()
    assert (t["std_error"] > 0.005).all() and (t["std_error"] < 0.1).all()
    assert a.n_boot == 60 and a.n_boot_failed == 0
    plain = fit.predict_probabilities({"x": 1, "z": 0.5}, times=[1, 3]).tidy()
    np.testing.assert_array_equal(plain["estimate"], t["estimate"])


def test_bootstrap_se_is_close_to_the_spread_of_repeated_samples():
    """Known truth: exponential illness-death hazards (no covariates). The bootstrap SD of
    the predicted probability is close to the SD over independent samples."""
    rng = np.random.default_rng(5)

    def sample(n: int) -> pd.DataFrame:
        t12, t13, t23 = (rng.exponential(1 / r, n) for r in (0.3, 0.1, 0.4))
        cens = rng.uniform(2, 6, n)
        rows = []
        for i in range(n):
            if min(t12[i], t13[i]) >= cens[i]:
                rows.append((i, "h", "censored", 0.0, cens[i]))
            elif t13[i] < t12[i]:
                rows.append((i, "h", "d", 0.0, t13[i]))
            else:
                end = t12[i] + t23[i]
                rows += [
                    (i, "h", "i", 0.0, t12[i]),
                    (i, "i", "d" if end < cens[i] else "censored", t12[i], min(end, cens[i])),
                ]
        return pd.DataFrame(
            rows, columns=["patient_id", "from_state", "to_state", "start", "stop"]
        ).assign(one=1.0)

    estimates = []
    for _ in range(40):
        d = sample(150)
        fit = cs.multistate_cox(d.assign(x=rng.normal(size=len(d))), "x")
        estimates.append(
            fit.predict_probabilities({"x": 0.0}, times=[2.0])
            .tidy()
            .set_index("state")
            .loc["i", "estimate"]
        )
    d = sample(150)
    fit = cs.multistate_cox(d.assign(x=rng.normal(size=len(d))), "x")
    boot = fit.predict_probabilities({"x": 0.0}, times=[2.0], n_boot=200, seed=1).tidy()
    se = boot.set_index("state").loc["i", "std_error"]
    assert 0.6 < se / np.std(estimates, ddof=1) < 1.6


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "pade"}, "'method' parameter"),
        ({"n_boot": -1}, "n_boot"),
        ({"n_boot": 1.5}, "n_boot"),
        ({"times": [-1]}, "times must be"),
    ],
)
def test_bad_prediction_options(kwargs, match):
    fit = cs.multistate_cox(load("illness_death_sim"), "x + z")
    with pytest.raises(cs.CalcstatsError, match=match):
        fit.predict_probabilities({"x": 1, "z": 0}, **kwargs)
    with pytest.raises(cs.SchemaError, match="lacks the model variable"):
        fit.predict_probabilities({"x": 1})
