"""cs.propensity: scores, weights of each estimand, stabilising, trimming, ESS, positivity.

R reference: tests/reference/weighting.R (glm with epsilon 1e-14; weights by formula)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats._errors import ConvergenceError, DataError, InvalidParameterError

from .causal_data import LALONDE_PS, SIM_PS

CASES = [("lalonde", LALONDE_PS), ("sim", SIM_PS)]
VARIANTS = [
    ("", {}),
    ("_stabilized", {"stabilize": True}),
    ("_trim99", {"trim": 0.99}),
    ("_cap10", {"trim": 10}),
]


@pytest.fixture
def data(request, lalonde, sim):
    return {"lalonde": lalonde, "sim": sim}[request.param]


@pytest.mark.parametrize(("data", "formula"), CASES, indirect=["data"])
def test_scores_and_model_match_r_glm(data, formula, ref, fit_ps):
    key = "lalonde" if "educ" in formula else "sim"
    r = ref[f"ps_{key}"]
    ps = fit_ps(data, formula)
    assert ps.model.params.to_numpy() == pytest.approx(r["coefficients"], rel=1e-10)
    assert ps.model.bse.to_numpy() == pytest.approx(r["se"], rel=1e-8)
    assert ps.scores.to_numpy() == pytest.approx(r["ps"], abs=1e-12)
    assert ps.linear_predictor.to_numpy() == pytest.approx(r["linear_predictor"], abs=1e-11)
    assert ps.scores.index.equals(data.index)
    assert ps.treatment == "treat"


@pytest.mark.parametrize("estimand", ["ATE", "ATT", "ATC", "ATO"])
@pytest.mark.parametrize(("data", "formula"), CASES, indirect=["data"])
def test_weights_and_kish_ess_match_r_for_every_estimand(data, formula, estimand, ref, fit_ps):
    key = "lalonde" if "educ" in formula else "sim"
    W = ref[f"weights_{key}"]
    ps = fit_ps(data, formula, estimand)
    for suffix, kw in VARIANTS:
        wt = ps.weighting(**kw)
        assert wt.weights.to_numpy() == pytest.approx(W[estimand + suffix], rel=1e-12)
        ess = W["kish_ess"][estimand + suffix]
        assert wt.ess["treated"] == pytest.approx(ess["treated"], rel=1e-12)
        assert wt.ess["control"] == pytest.approx(ess["control"], rel=1e-12)
        summ = wt.summary().set_index("group")
        assert summ.loc["treated", "sum_weights"] == pytest.approx(ess["sum_w_treated"])
        assert summ.loc["control", "sum_weights"] == pytest.approx(ess["sum_w_control"])
    assert ps.weights().to_numpy() == pytest.approx(W[estimand], rel=1e-12)
    assert ps.ess["treated"] == pytest.approx(W["kish_ess"][estimand]["treated"], rel=1e-12)


def test_stabilised_then_trimmed_ate_weights_match_r(lalonde, ref, fit_ps):
    W = ref["weights_lalonde"]
    ps = fit_ps(lalonde, LALONDE_PS)
    wt = ps.weighting(stabilize=True, trim=0.99)
    assert wt.weights.to_numpy() == pytest.approx(W["ATE_stabilized_trim99"], rel=1e-12)
    assert wt.trim.cap == pytest.approx(W["trim99_caps"]["ATE_stabilized_trim99"], rel=1e-12)
    assert wt.stabilization == pytest.approx(
        (W["stabilization_factors"]["treated"], W["stabilization_factors"]["control"])
    )
    capped = ps.weights(stabilize=True, trim=10)
    assert capped.to_numpy() == pytest.approx(W["ATE_stabilized_cap10"], rel=1e-12)


def test_trim_record_says_what_was_done(lalonde, ref, fit_ps):
    W = ref["weights_lalonde"]
    ps = fit_ps(lalonde, LALONDE_PS)
    raw = np.asarray(W["ATE"])
    t = np.asarray(W["treat"])
    rec = ps.weighting(trim=0.99).trim
    cap = W["trim99_caps"]["ATE_trim99"]
    assert rec.rule == "quantile" and rec.quantile == 0.99
    assert rec.cap == pytest.approx(cap, rel=1e-12)
    assert rec.n_trimmed == int((raw > cap).sum()) == 7
    assert (rec.n_trimmed_treated, rec.n_trimmed_control) == (
        int(((raw > cap) & (t == 1)).sum()),
        int(((raw > cap) & (t == 0)).sum()),
    )
    assert rec.max_before == pytest.approx(raw.max())
    assert rec.describe().startswith(
        "Weights above the 99th percentile (12.6) were set to it: 7 units (7 treated, 0 controls)"
    )
    fixed = ps.weighting(trim=10).trim
    assert (fixed.rule, fixed.cap, fixed.quantile, fixed.n_trimmed) == ("cap", 10.0, None, 10)
    assert ps.weighting().trim is None
    assert "Weights above 10 were set to it" in ps.weighting(trim=10).describe()


def test_ato_weights_balance_the_weight_sums(sim, fit_ps):
    # a property of overlap weights with a logistic PS (sum of w equal in both groups)
    s = fit_ps(sim, SIM_PS, "ATO").weighting().summary().set_index("group")["sum_weights"]
    assert s["treated"] == pytest.approx(s["control"], rel=1e-10)


def test_positivity_warns_on_lalonde_ate_and_names_the_rule(lalonde):
    with pytest.warns(
        cs.DataWarning,
        match=r"3 unit\(s\) have an ATE weight above 20 "
        r"\(largest 40\.1\)",
    ) as rec:
        ps = cs.propensity(lalonde, LALONDE_PS, estimand="ATE")
    assert "cs.plot.overlap" in str(rec[0].message)
    pos = ps.positivity
    assert pos.doubtful and pos.n_large_weights == 3
    assert pos.max_weight == pytest.approx(40.0772938120701)
    assert pos.support == pytest.approx((0.0249517845363808, 0.789172834445513))
    assert (pos.n_outside_treated, pos.n_outside_control) == (8, 57)
    assert pos.share_outside == pytest.approx(65 / 614)
    assert len(pos.reasons) == 2  # large weights and 10.6% outside the common support


def test_positivity_is_estimand_aware(lalonde, sim):
    with warnings.catch_warnings():
        warnings.simplefilter("error", cs.DataWarning)
        att = cs.propensity(lalonde, LALONDE_PS, estimand="ATT")  # 8/185 treated outside
        ato = cs.propensity(lalonde, LALONDE_PS, estimand="ATO")  # overlap weights: no rule
        good = cs.propensity(sim, SIM_PS)
    assert not att.positivity.doubtful
    assert att.positivity.share_outside == pytest.approx(8 / 185)
    assert not ato.positivity.doubtful and not good.positivity.doubtful
    assert good.positivity.max_weight == pytest.approx(6.22025561929286)


def test_rows_the_model_cannot_use_get_nan_scores_and_are_counted(sim):
    d = sim.copy()
    d.loc[[3, 10], "age"] = np.nan
    with pytest.warns(cs.DataWarning, match="age"):
        ps = cs.propensity(d, SIM_PS)
    assert ps.n_dropped == 2
    assert ps.scores.loc[[3, 10]].isna().all() and ps.weights().loc[[3, 10]].isna().all()
    assert ps.scores.drop([3, 10]).notna().all()
    assert ps.tidy()["n"].sum() == 598


def test_splines_and_factors_work_in_the_ps_model(sim):
    ps = cs.propensity(sim, "treat ~ cr(age, df=3) + C(etiology) + sex")
    assert "C(etiology)[T.b]" in ps.model.params.index
    assert len([c for c in ps.model.params.index if c.startswith("cr(")]) == 3
    assert ps.scores.between(0, 1).all()


def test_tidy_summarises_each_group(sim, ref, fit_ps):
    tidy = fit_ps(sim, SIM_PS).tidy().set_index("group")
    assert tidy.loc["treated", "n"] == ref["data_summary"]["sim"]["n_treated"]
    assert tidy.loc["control", "weight_max"] <= tidy.loc["treated", "weight_max"] + 10
    assert tidy.loc["treated", "ess"] == pytest.approx(
        ref["weights_sim"]["kish_ess"]["ATE"]["treated"]
    )
    assert "logistic regression" in repr(fit_ps(sim, SIM_PS))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"estimand": "ATX"},
            "The 'estimand' parameter of propensity must be one of 'ATE', "
            "'ATT', 'ATC', 'ATO'. Got 'ATX'.",
        ),
    ],
)
def test_bad_options_raise_the_parameter_error(sim, kwargs, message):
    with pytest.raises(
        InvalidParameterError,
        match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\."),
    ):
        cs.propensity(sim, SIM_PS, **kwargs)


def test_bad_trim_and_stabilize_raise_clear_errors(sim, fit_ps):
    ps = fit_ps(sim, SIM_PS)
    with pytest.raises(
        InvalidParameterError,
        match=r"'trim' parameter of weights must be "
        r"None, a number in \[0\.5, 1\) or a number >= 1\. Got 0\.2",
    ):
        ps.weights(trim=0.2)
    with pytest.raises(InvalidParameterError, match="'stabilize' parameter"):
        ps.weights(stabilize="yes")


def test_treatment_must_be_binary(sim):
    with pytest.raises(DataError, match="must be 0/1"):
        cs.propensity(sim, "status ~ age")


def test_separated_ps_model_is_an_error_not_scores_of_zero(sim):
    d = sim.assign(perfect=(sim["treat"] == 1).astype(float) + 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ConvergenceError, match="did not converge or has non-estimable"):
            cs.propensity(d, "treat ~ age + perfect")


def test_weights_series_can_be_assigned_to_the_data(sim, fit_ps):
    ps = fit_ps(sim, SIM_PS, "ATT")
    d = sim.assign(w=ps.weights())
    assert isinstance(d["w"], pd.Series) and d["w"].name == "w"
    assert (d.loc[d["treat"] == 1, "w"] == 1).all()
