"""Weighted outcome models against R: GLM sandwich SEs (sandwich::vcovHC HC0, survey::svyglm),
weighted Cox robust SEs (coxph robust / cluster = id), weighted Fine–Gray (finegray + coxph).

Weights are the ATE weights of the reference (non-integer, so R's robust variances apply).
"""

from __future__ import annotations

import numpy as np
import pytest

import calcstats as cs
from calcstats._errors import InvalidParameterError
from calcstats.survival._finegray import _FG, _fit

from .causal_data import num

GLMS = [
    ("gaussian", cs.linear, "re78 ~ treat"),
    ("logistic", cs.logistic, "any_re78 ~ treat + age"),
    ("poisson", cs.poisson, "re78_k ~ treat"),
]


@pytest.fixture
def lal_w(lalonde, ref):
    return lalonde.assign(
        w=ref["weights_lalonde"]["ATE"],
        any_re78=(lalonde["re78"] > 0).astype(float),
        re78_k=np.round(lalonde["re78"] / 1000),
    )  # R's round: half to even


@pytest.fixture
def sim_w(sim, ref):
    return sim.assign(w=ref["weights_sim"]["ATE"])


# ---- GLMs -------------------------------------------------------------------------------
@pytest.mark.parametrize(("block", "fit", "formula"), GLMS)
def test_weighted_glm_hc0_matches_sandwich_vcovhc(block, fit, formula, lal_w, ref):
    r = ref["weighted_glm_lalonde"][block]
    res = fit(lal_w, formula, weights="w", robust=True)
    assert [c.replace("Intercept", "(Intercept)") for c in res.params.index] == r["coef_names"]
    np.testing.assert_allclose(res.params, r["coefficients"], rtol=1e-9)
    np.testing.assert_allclose(res.bse, r["se_HC0"], rtol=1e-9)
    np.testing.assert_allclose(res.cov.to_numpy(), np.array(r["vcov_HC0"]), rtol=1e-8)
    assert res.se_type == "robust (HC0)"


@pytest.mark.parametrize(("block", "fit", "formula"), GLMS)
def test_svyglm_variance_is_n_over_n_minus_1_times_hc0(block, fit, formula, lal_w, ref):
    """survey::svyglm(design = svydesign(ids = ~1, weights = ~w)) = n/(n-1) x HC0."""
    r = ref["weighted_glm_lalonde"][block]
    res = fit(lal_w, formula, weights="w", robust=True)
    n = res.nobs
    assert n / (n - 1) == pytest.approx(r["n_over_n_minus_1"])
    np.testing.assert_allclose(
        res.cov.to_numpy() * n / (n - 1), np.array(r["vcov_svyglm"]), rtol=1e-7
    )
    np.testing.assert_allclose(res.params, r["svyglm_coefficients"], rtol=1e-9)


def test_weights_change_glm_numbers_as_r_says(lal_w, ref):
    r = ref["weighted_glm_lalonde"]["gaussian"]
    weighted = cs.linear(lal_w, "re78 ~ treat", weights="w")
    plain = cs.linear(lal_w, "re78 ~ treat")
    np.testing.assert_allclose(weighted.bse, r["lm_se_model"], rtol=1e-9)  # lm(weights = w)
    assert abs(plain.params["treat"] - weighted.params["treat"]) > 100
    assert weighted.params["treat"] == pytest.approx(r["coefficients"][1], rel=1e-9)


# ---- Cox --------------------------------------------------------------------------------
COX = [
    ("treat_efron_robust", "treat", "efron", {}),
    ("treat_efron_cluster_id", "treat", "efron", {"cluster": "id"}),
    ("treat_breslow_robust", "treat", "breslow", {"robust": True}),
    ("treat_age_sex_efron_robust", "treat + age + sex", "efron", {"robust": True}),
    ("treat_age_sex_efron_cluster_id", "treat + age + sex", "efron", {"cluster": "id"}),
    ("treat_age_sex_breslow_robust", "treat + age + sex", "breslow", {}),
]


@pytest.mark.parametrize(("block", "formula", "ties", "kwargs"), COX)
def test_weighted_cox_robust_se_matches_coxph(block, formula, ties, kwargs, sim_w, ref):
    r = ref["cox_weighted_sim"][block]
    res = cs.cox(sim_w, formula, time="time", event="event1", weights="w", ties=ties, **kwargs)
    assert res.robust
    np.testing.assert_allclose(res.params, r["coefficients"], rtol=1e-10)
    np.testing.assert_allclose(res.bse, r["se_robust"], rtol=1e-9)
    np.testing.assert_allclose(res.naive_bse, r["se_naive"], rtol=1e-9)
    assert res.loglik == pytest.approx(r["loglik"][1], rel=1e-12)
    assert res.model.loglik0 == pytest.approx(r["loglik"][0], rel=1e-12)


def test_weights_change_the_cox_estimate_as_r_says(sim_w, ref):
    crude = cs.cox(sim_w, "treat", time="time", event="event1")
    r = ref["cox_weighted_sim"]["treat_unweighted_efron"]
    assert crude.params["treat"] == pytest.approx(r["coefficients"][0], rel=1e-10)
    assert crude.bse["treat"] == pytest.approx(r["se"][0], rel=1e-9)
    weighted = cs.cox(sim_w, "treat", time="time", event="event1", weights="w")
    assert abs(weighted.params["treat"] - crude.params["treat"]) > 0.05


def test_cox_robust_argument_with_integer_weights(sim_w, ref):
    r = ref["cox_integer_weights_sim"]
    d = sim_w.assign(w_int=r["w_int"])
    robust = cs.cox(d, "treat + age", time="time", event="event1", weights="w_int", robust=True)
    np.testing.assert_allclose(robust.bse, r["robust_true"]["se_robust"], rtol=1e-9)
    default = cs.cox(d, "treat + age", time="time", event="event1", weights="w_int")
    assert not default.robust  # integer weights: frequency weights, as coxph
    np.testing.assert_allclose(default.bse, r["default"]["se"], rtol=1e-9)
    assert "robust SE" in robust.method and "robust" not in default.method


def test_cox_robust_false_with_cluster_is_refused(sim_w):
    with pytest.raises(InvalidParameterError, match="robust=False cannot be combined"):
        cs.cox(sim_w, "treat", time="time", event="event1", cluster="id", robust=False)
    with pytest.raises(InvalidParameterError, match="'robust' parameter of cox"):
        cs.cox(sim_w, "treat", time="time", event="event1", robust="yes")


# ---- Fine–Gray ----------------------------------------------------------------------------
def test_weighted_fine_gray_without_censoring_matches_finegray_coxph(sim_w, ref):
    r = ref["finegray_weighted_sim"]
    res = cs.fine_gray(sim_w, "treat", time="time_nc", event="status_nc", weights="w")
    for block in ("weights_fgwt_correct", "weights_fgwt_correct_breslow", "hand_equivalent_cox"):
        np.testing.assert_allclose(res.params, r[block]["coefficients"], rtol=1e-9)
        np.testing.assert_allclose(res.bse, r[block]["se_robust"], rtol=1e-8)
    assert res.loglik == pytest.approx(r["weights_fgwt_correct_breslow"]["loglik"][1], rel=1e-10)
    assert res.weighted and "unweighted censoring distribution" in res.method


def test_fine_gray_with_squared_weights_reproduces_the_double_counting_pitfall(sim_w, ref):
    """coxph(weights = fgwt * w) on finegray(weights = w) data uses w²."""
    r = ref["finegray_weighted_sim"]["as_requested_weights_fgwt_times_w"]
    res = cs.fine_gray(
        sim_w.assign(w2=sim_w["w"] ** 2), "treat", time="time_nc", event="status_nc", weights="w2"
    )
    np.testing.assert_allclose(res.params, r["coefficients"], rtol=1e-9)


def test_unweighted_fine_gray_still_matches_crr(sim_w, ref):
    r = ref["finegray_weighted_sim"]["crr_unweighted"]
    res = cs.fine_gray(sim_w, "treat", time="time_nc", event="status_nc")
    np.testing.assert_allclose(res.params, r["coefficients"], rtol=1e-5)  # crr's tolerance
    np.testing.assert_allclose(res.bse, r["se"], rtol=1e-6)


@pytest.mark.parametrize("block", ["treat", "treat_age_sex"])
def test_weighted_fine_gray_with_censoring_matches_finegray_point_estimate(block, sim_w, ref):
    """Same estimate as finegray(weights = w) + coxph(weights = fgwt) (unweighted G).

    The two differ by ~1e-6: at time 6.5506 a competing event and a censoring are tied,
    and crr's G(t−) (used here) and finegray's G treat that tie differently; the unweighted
    fits differ by the same amount (crr vs finegray in the reference)."""
    r = ref["finegray_weighted_censored_sim"][block]
    formula = "treat" if block == "treat" else "treat + age + sex"
    res = cs.fine_gray(sim_w, formula, time="time", event="status", weights="w")
    np.testing.assert_allclose(res.params, r["coefficients"], rtol=2e-5, atol=2e-6)
    # without the term for the estimated G, the sandwich is coxph's robust variance
    fg = _FG(res.input.time, res.code, res.design.matrix, weights=res.input.weights)
    eta = fg.eta_residuals(res.params.to_numpy(), censoring=False)
    hinv = np.linalg.inv(res.model.info)
    se = np.sqrt(np.diag(hinv @ eta.T @ eta @ hinv))
    np.testing.assert_allclose(se, num(r["se_robust"]), rtol=2e-5)
    # the reported SE includes the G term, as crr: close to, but not equal to, coxph's
    np.testing.assert_allclose(res.bse, se, rtol=0.02)
    assert not np.allclose(res.bse, se, rtol=1e-6)


def test_fine_gray_weights_of_two_change_nothing(sim_w):
    a = cs.fine_gray(sim_w, "treat + age", time="time", event="status")
    b = cs.fine_gray(
        sim_w.assign(two=2.0), "treat + age", time="time", event="status", weights="two"
    )
    np.testing.assert_allclose(b.params, a.params, rtol=1e-10)
    np.testing.assert_allclose(b.bse, a.bse, rtol=1e-10)  # the G term scales with the rest


def test_fine_gray_score_part_is_the_exact_derivative_in_the_weights(sim_w):
    """d beta / d w_i (G fixed) = H^-1 x the i-th weighted score residual, by differences."""
    d = sim_w.iloc[:90]
    res = cs.fine_gray(d, "treat + age", time="time", event="status", weights="w")
    t, code, X, w = res.input.time, res.code, res.design.matrix, res.input.weights
    fg = _FG(t, code, X, weights=w)
    infl = fg.eta_residuals(res.params.to_numpy(), censoring=False) @ np.linalg.inv(res.model.info)
    order = np.argsort(t, kind="stable")
    eps = 1e-6
    for i in range(0, 90, 9):
        wi = w.copy()
        wi[i] *= 1 + eps
        b = _fit(_FG(t, code, X, weights=wi), res.design.columns).coef
        pos = int(np.flatnonzero(order == i)[0])  # residual rows are in time order
        np.testing.assert_allclose(
            (b - res.params.to_numpy()) / eps, infl[pos], rtol=1e-4, atol=1e-7
        )
