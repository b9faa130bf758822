"""GLMs against R (tests/reference/regression.R → regression.json)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from calcstats import ConvergenceWarning, DataError, DataWarning, SchemaError
from calcstats.regression import linear, log_binomial, logistic, negative_binomial, poisson

from .conftest import compare

LOGIT = "I(stage == 4) ~ age + C(sex, Treatment('m')) + np.log(bili) + albumin"
SEX = "C(sex, Treatment('m'))[T.f]"
LOGIT_MAP = {"(Intercept)": "Intercept", "sexf": SEX, "log(bili)": "np.log(bili)"}
EDEMA_MAP = {
    "(Intercept)": "Intercept",
    "edema_f0.5": "C(edema)[T.0.5]",
    "edema_f1": "C(edema)[T.1.0]",
    "log(bili)": "np.log(bili)",
    "sexf": SEX,
}


def fit_quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return fn(*args, **kw)


def test_logistic_matches_glm(pbc, ref):
    with pytest.warns(DataWarning, match="6 of 418 rows dropped"):
        fit = logistic(pbc, LOGIT)
    r = ref["logit"]
    compare(fit, r, LOGIT_MAP)  # coef 1e-5, SE 1e-4 relative
    assert fit.nobs == r["n"] == 412
    assert fit.loglik == pytest.approx(r["loglik"], rel=1e-8)
    g = fit.glance().iloc[0]
    assert g["aic"] == pytest.approx(r["aic"], rel=1e-8)
    assert g["n_dropped"] == 6 and g["n_events"] == 144
    t = fit.tidy()
    assert list(t.columns) == [
        "term",
        "estimate",
        "std_error",
        "statistic",
        "p_value",
        "conf_low",
        "conf_high",
    ]
    row = t.set_index("term").loc["age"]
    b, se = r["coef"][1], r["se"][1]
    assert row["estimate"] == pytest.approx(np.exp(b), rel=1e-5)
    assert row["conf_low"] == pytest.approx(np.exp(b - 1.959963984540054 * se), rel=1e-5)
    assert fit.tidy(exponentiate=False).set_index("term").loc["age", "estimate"] == (
        pytest.approx(b, rel=1e-5)
    )
    assert "OR" in repr(fit) and "<b>" in fit._repr_html_()


def test_logistic_weights_and_cluster(pbc, ref):
    fw = fit_quiet(logistic, pbc, LOGIT, weights="w")
    compare(fw, ref["logit_weights"], LOGIT_MAP)  # 1e-5 / 1e-4
    assert fw.loglik == pytest.approx(ref["logit_weights"]["loglik"], rel=1e-8)
    fc = fit_quiet(logistic, pbc, LOGIT, cluster="clust")
    compare(fc, ref["logit_cluster"], LOGIT_MAP)  # vcovCL HC1 + cadjust, SE to 1e-4
    assert "cluster-robust (25 clusters" in fc.glance()["se_type"][0]


def test_term_tests_and_lr(pbc, ref):
    from calcstats.regression import lr_test

    full = fit_quiet(logistic, pbc, "I(stage == 4) ~ age + C(edema) + np.log(bili)")
    r = ref["logit_edema"]
    compare(full, r, EDEMA_MAP)
    wald = full.term_tests().set_index("term")
    assert wald.loc["C(edema)", "df"] == 2
    assert wald.loc["C(edema)", "statistic"] == pytest.approx(r["wald_edema"], rel=1e-6)
    lr = full.term_tests(method="lr").set_index("term")
    np.testing.assert_allclose(
        lr.loc[["age", "C(edema)", "np.log(bili)"], "statistic"], r["drop1_lrt"], rtol=1e-6
    )
    np.testing.assert_allclose(
        lr.loc[["age", "C(edema)", "np.log(bili)"], "p_value"], r["drop1_p"], rtol=1e-5
    )
    reduced = logistic(full.design.frame, "I(stage == 4) ~ age + np.log(bili)")
    res = lr_test(reduced, full)
    assert res.statistic == pytest.approx(ref["lr_edema"]["stat"], rel=1e-6)
    assert res.df == 2


def test_lr_test_rejects_different_rows(pbc):
    from calcstats import CalcstatsError
    from calcstats.regression import lr_test

    full = fit_quiet(logistic, pbc, "I(stage == 4) ~ age + np.log(bili)")
    other = logistic(pbc.dropna(subset=["stage"]).iloc[:300], "I(stage == 4) ~ age")
    with pytest.raises(CalcstatsError, match="same rows"):
        lr_test(other, full)


def test_poisson_offset_and_modified(pbc, ref):
    fo = poisson(pbc, "dead ~ age + C(edema)", exposure="years")
    compare(fo, ref["poisson_offset"], EDEMA_MAP)
    assert fo.loglik == pytest.approx(ref["poisson_offset"]["loglik"], rel=1e-8)
    assert fo.ratio_measure == "IRR"
    fr = poisson(pbc, "dead ~ age + C(edema)", robust=True)
    compare(fr, ref["modified_poisson"], EDEMA_MAP)  # sandwich HC0, SE 1e-4
    assert fr.glance()["se_type"][0] == "robust (HC0)"


def test_log_binomial_matches_r(pbc, ref):
    fit = fit_quiet(log_binomial, pbc, "dead ~ C(sex, Treatment('m')) + hepato")
    compare(fit, ref["log_binomial"], {"(Intercept)": "Intercept", "sexf": SEX})
    assert fit.loglik == pytest.approx(ref["log_binomial"]["loglik"], rel=1e-7)
    assert fit.ratio_measure == "RR" and fit.method == "log-binomial regression"


def test_log_binomial_falls_back_to_modified_poisson(pbc, ref):
    # edema = 1 in men: fitted risk reaches 1 -> no interior MLE
    with pytest.warns(ConvergenceWarning, match="modified Poisson"):
        fit = log_binomial(pbc, "dead ~ age + C(edema)")
    assert "modified Poisson" in fit.glance()["method"][0]
    compare(fit, ref["modified_poisson"], EDEMA_MAP)


def test_negative_binomial_matches_glm_nb(pbc, ref):
    d = pbc.dropna(subset=["copper"])
    fit = negative_binomial(d, "copper ~ age + C(sex, Treatment('m')) + np.log(bili)")
    r = ref["negbin"]
    compare(fit, r, LOGIT_MAP)
    assert fit.theta == pytest.approx(r["theta"], rel=1e-5)
    assert fit.theta_se == pytest.approx(r["theta_se"], rel=1e-4)
    assert fit.loglik == pytest.approx(r["loglik"], rel=1e-8)
    assert fit.aic == pytest.approx(r["aic"], rel=1e-8)


def test_negative_binomial_offset_simulated(ref):
    r = ref["negbin_sim"]
    d = pd.DataFrame(r["data"])
    fit = negative_binomial(d, "y ~ x + z", exposure="t")
    compare(fit, r, {"(Intercept)": "Intercept"})
    assert fit.theta == pytest.approx(r["theta"], rel=1e-5)


def test_linear_matches_lm(pbc, ref):
    f = "np.log(bili) ~ age + C(sex, Treatment('m')) + C(edema) + albumin"
    fit = fit_quiet(linear, pbc, f)
    r = ref["linear"]
    compare(fit, r, EDEMA_MAP)
    assert fit.df_resid == r["df_resid"]
    assert fit.loglik == pytest.approx(r["loglik"], rel=1e-8)
    assert fit.aic == pytest.approx(r["aic"], rel=1e-8)
    g = fit.glance().iloc[0]
    assert g["sigma"] == pytest.approx(r["sigma"], rel=1e-8)
    assert g["r_squared"] == pytest.approx(r["r2"], rel=1e-8)
    assert pd.isna(g["n_events"])
    F = fit.term_tests().set_index("term").loc["C(edema)"]
    assert F["statistic"] == pytest.approx(ref["linear_edema_F"]["F"], rel=1e-6)
    assert F["p_value"] == pytest.approx(ref["linear_edema_F"]["p"], rel=1e-5)
    fw = fit_quiet(linear, pbc, f, weights="w")
    compare(fw, ref["linear_weights"], EDEMA_MAP)
    assert fw.loglik == pytest.approx(ref["linear_weights"]["loglik"], rel=1e-8)
    fc = fit_quiet(linear, pbc, f, cluster="clust")
    compare(fc, ref["linear_cluster"], EDEMA_MAP)


# ---- bad input -------------------------------------------------------------------------
def test_missing_reference_level_is_an_error(pbc):
    with pytest.raises(DataError, match="'x' does not occur"):
        fit_quiet(logistic, pbc, "I(stage == 4) ~ C(sex, Treatment('x'))")


def test_constant_covariate_is_an_error(pbc):
    pbc["one"] = 1.0
    with pytest.raises(DataError, match=r"'one'.*constant"):
        fit_quiet(logistic, pbc, "I(stage == 4) ~ age + one")


def test_unused_category_is_dropped_as_in_r(pbc):
    # R's model.frame drops unused factor levels (drop.unused.levels = TRUE); so do all
    # calcstats models: the empty level gives no column, as in cox and fine_gray
    d = pbc.assign(
        grp=pd.Categorical(
            np.where(pbc["age"] > 50, "old", "young"), categories=["old", "young", "none"]
        )
    )
    fit = fit_quiet(logistic, d, "I(stage == 4) ~ C(grp)")
    assert list(fit.params.index) == ["Intercept", "C(grp)[T.young]"]


def test_collinear_covariates_error(pbc):
    pbc["age2"] = 2 * pbc["age"]
    with pytest.raises(DataError, match="rank deficient"):
        fit_quiet(logistic, pbc, "I(stage == 4) ~ age + age2")


def test_unknown_column_and_non_binary_outcome(pbc):
    with pytest.raises(SchemaError, match="nosuch"):
        logistic(pbc, "dead ~ nosuch")
    with pytest.raises(DataError, match="must be 0/1"):
        fit_quiet(logistic, pbc, "stage ~ age")
    with pytest.raises(SchemaError, match="weights='nosuch' is not a column"):
        logistic(pbc, "dead ~ age", weights="nosuch")


def test_missing_outcome_inside_expression_is_dropped(pbc):
    # I(stage == 4) is False when stage is NaN; the row must still count as missing
    with pytest.warns(DataWarning, match="6 of 418"):
        fit = logistic(pbc, "I(stage == 4) ~ age")
    assert fit.nobs == 412


def test_separation_warns_and_suggests_firth(ref):
    from calcstats import SeparationWarning

    d = pd.DataFrame(ref["firth"]["data"])
    with pytest.warns(SeparationWarning, match="method='firth'"):
        logistic(d, "y ~ x + z")


def test_spline_and_interaction_formulas(pbc):
    fit = fit_quiet(
        logistic, pbc, "I(stage == 4) ~ cr(age, df=3, constraints='center') + np.log(bili) * C(sex)"
    )
    assert any(t.startswith("cr(age") for t in fit.params.index)
    assert "np.log(bili):C(sex)[T.m]" in fit.params.index
    tt = fit.term_tests().set_index("term")
    assert tt.loc["cr(age, df=3, constraints='center')", "df"] == 3


def test_row_order_invariance(pbc):
    a = fit_quiet(poisson, pbc, "dead ~ age + C(edema)", exposure="years")
    b = fit_quiet(
        poisson, pbc.sample(frac=1, random_state=3), "dead ~ age + C(edema)", exposure="years"
    )
    np.testing.assert_allclose(a.params, b.params, rtol=1e-9)


def test_effect_by_matches_linear_combination(pbc, ref):
    from calcstats.regression import effect_by

    fit = fit_quiet(logistic, pbc, "I(stage == 4) ~ np.log(bili) * C(sex, Treatment('m')) + age")
    r = ref["effect_by"]
    out = effect_by(fit, "np.log(bili)", "sex", exponentiate=False)
    assert list(out["level"]) == r["level"] == ["m", "f"]
    np.testing.assert_allclose(out["estimate"], r["est"], rtol=1e-5)
    np.testing.assert_allclose(out["std_error"], r["se"], rtol=1e-4)
    ex = effect_by(fit, "bili", "sex")
    np.testing.assert_allclose(ex["estimate"], np.exp(r["est"]), rtol=1e-5)
    assert (ex["conf_low"] < ex["estimate"]).all()
    from calcstats import CalcstatsError

    with pytest.raises(CalcstatsError, match=r"no .* interaction"):
        effect_by(fit, "age", "sex")


def test_effect_by_categorical_exposure(pbc):
    from calcstats.regression import effect_by

    fit = fit_quiet(logistic, pbc, "I(stage == 4) ~ C(edema) * C(sex) + age")
    out = effect_by(fit, "edema", "sex", exponentiate=False)
    assert list(out["level"]) == ["f", "f", "m", "m"]
    b = fit.params
    row = out[(out["level"] == "m") & (out["exposure"] == "C(edema)[T.1.0]")].iloc[0]
    assert row["estimate"] == pytest.approx(
        b["C(edema)[T.1.0]"] + b["C(edema)[T.1.0]:C(sex)[T.m]"], rel=1e-12
    )
    cols = ["C(edema)[T.1.0]", "C(edema)[T.1.0]:C(sex)[T.m]"]
    V = fit.cov.loc[cols, cols].to_numpy()
    assert row["std_error"] == pytest.approx(np.sqrt(V.sum()), rel=1e-12)
    ref_row = out[(out["level"] == "f") & (out["exposure"] == "C(edema)[T.0.5]")].iloc[0]
    assert ref_row["estimate"] == pytest.approx(b["C(edema)[T.0.5]"], rel=1e-12)


def test_numeric_modifier_needs_at(pbc):
    from calcstats import CalcstatsError
    from calcstats.regression import effect_by

    fit = fit_quiet(logistic, pbc, "I(stage == 4) ~ np.log(bili) * age")
    with pytest.raises(CalcstatsError, match="at="):
        effect_by(fit, "np.log(bili)", "age")
    out = effect_by(fit, "np.log(bili)", "age", at=[40, 60], exponentiate=False)
    b = fit.params
    assert out["estimate"].iloc[1] == pytest.approx(
        b["np.log(bili)"] + 60 * b["np.log(bili):age"], rel=1e-12
    )


def test_flipping_a_covariate_inverts_the_ratio(pbc):
    # property: OR(-x) = 1/OR(x), IRR likewise; SE unchanged
    d = pbc.assign(nage=-pbc["age"])
    a = fit_quiet(logistic, d, "I(stage == 4) ~ age + np.log(bili)")
    b = fit_quiet(logistic, d, "I(stage == 4) ~ nage + np.log(bili)")
    ta, tb = a.tidy().set_index("term"), b.tidy().set_index("term")
    assert tb.loc["nage", "estimate"] == pytest.approx(1 / ta.loc["age", "estimate"], rel=1e-8)
    assert tb.loc["nage", "std_error"] == pytest.approx(ta.loc["age", "std_error"], rel=1e-8)
    assert tb.loc["nage", "conf_low"] == pytest.approx(1 / ta.loc["age", "conf_high"], rel=1e-8)


@pytest.fixture()
def zero_level():
    rng = np.random.default_rng(1)
    n = 300
    d = pd.DataFrame(
        {"g": rng.choice(["a", "b", "c"], n), "x": rng.normal(size=n), "py": rng.uniform(1, 3, n)}
    )
    d["y"] = rng.binomial(1, 0.3, n)
    d.loc[d["g"] == "c", "y"] = 0
    d["cnt"] = rng.poisson(2 * d["py"])
    d.loc[d["g"] == "c", "cnt"] = 0
    return d


def test_level_without_events_is_never_silent(zero_level):
    from calcstats import ConvergenceError, SeparationWarning, SparseDataWarning

    d = zero_level
    level = r"C\(g\)\[T.c\] \(monotone likelihood: the estimate runs off to −∞; no events"
    with pytest.warns(SeparationWarning, match=level):
        fl = logistic(d, "y ~ C(g) + x")
    with pytest.warns(SparseDataWarning, match=level):
        fp = poisson(d, "cnt ~ C(g) + x", exposure="py")
    for fit in (fl, fp):
        # the user sees NaN for the level, finite values for the others, converged False
        t = fit.tidy().set_index("term")
        assert t.loc["C(g)[T.c]"].drop("std_error").isna().all()
        assert np.isfinite(t.loc["C(g)[T.b]", "estimate"]) and np.isfinite(t.loc["x", "p_value"])
        assert not fit.glance()["converged"][0]
        assert "no events in this level" in fit.nonestimable["C(g)[T.c]"]
        assert "not estimable" in fit.inline("C(g)[T.c]")
    # the other estimates equal the fit without the empty level's rows (R's answer)
    sub = fit_quiet(logistic, d[d["g"] != "c"], "y ~ C(g) + x")
    np.testing.assert_allclose(
        fl.params[["C(g)[T.b]", "x"]], sub.params[["C(g)[T.b]", "x"]], rtol=1e-6
    )
    with (
        pytest.warns(ConvergenceWarning, match="modified Poisson"),
        pytest.warns(SeparationWarning, match=level),
    ):
        fb = log_binomial(d, "y ~ C(g) + x")
    assert np.isnan(fb.tidy().set_index("term").loc["C(g)[T.c]", "estimate"])
    with pytest.raises(ConvergenceError, match=r"no overdispersion.*use poisson"):
        negative_binomial(d, "cnt ~ C(g) + x", exposure="py")
    # Firth gives a finite estimate for the empty level
    fit = logistic(d, "y ~ C(g) + x", method="firth")
    assert np.isfinite(fit.params["C(g)[T.c]"]) and fit.params["C(g)[T.c]"] < -2


def test_weighted_poisson_and_negative_binomial(pbc, ref):
    fp = poisson(pbc, "dead ~ age + C(edema)", exposure="years", weights="w")
    compare(fp, ref["poisson_weights"], EDEMA_MAP)  # coef 1e-5, SE 1e-4
    assert fp.loglik == pytest.approx(ref["poisson_weights"]["loglik"], rel=1e-8)
    d = pbc.dropna(subset=["copper"])
    fn = negative_binomial(d, "copper ~ age + C(sex, Treatment('m')) + np.log(bili)", weights="w")
    r = ref["negbin_weights"]
    compare(fn, r, LOGIT_MAP)
    assert fn.theta == pytest.approx(r["theta"], rel=1e-5)
    assert fn.loglik == pytest.approx(r["loglik"], rel=1e-8)


def test_quoted_level_is_not_a_column(pbc):
    # 'm' is a level in Treatment('m'); a column called m with missing values is not used
    d = pbc.assign(m=np.nan)
    fit = fit_quiet(logistic, d, "I(stage == 4) ~ C(sex, Treatment('m'))")
    assert fit.nobs == 412


def test_profile_likelihood_intervals_match_confint(pbc, ref):
    fit = fit_quiet(logistic, pbc, LOGIT, ci_method="profile")
    r = ref["logit_profile"]
    t = fit.tidy(exponentiate=False).set_index("term").loc[[LOGIT_MAP.get(x, x) for x in r["term"]]]
    # R interpolates the profile with a spline: agreement to 1e-4 relative
    np.testing.assert_allclose(t["conf_low"], r["lower"], rtol=1e-4)
    np.testing.assert_allclose(t["conf_high"], r["upper"], rtol=1e-4)
    assert "profile" in fit.glance()["se_type"][0]
    fp = poisson(pbc, "dead ~ age + C(edema)", exposure="years", ci_method="profile")
    rp = ref["poisson_profile"]
    tp = (
        fp.tidy(exponentiate=False).set_index("term").loc[[EDEMA_MAP.get(x, x) for x in rp["term"]]]
    )
    np.testing.assert_allclose(tp["conf_low"], rp["lower"], rtol=1e-4)
    np.testing.assert_allclose(tp["conf_high"], rp["upper"], rtol=1e-4)
    from calcstats import CalcstatsError

    with pytest.raises(CalcstatsError, match="model-based"):
        poisson(pbc, "dead ~ age", robust=True, ci_method="profile")
    with pytest.raises(CalcstatsError, match="ci_method"):
        logistic(pbc, "dead ~ age", ci_method="exact")


def test_extension_dtypes_and_bool_outcome(pbc):
    # pandas nullable boolean / string / Int64 columns (pandas 3 defaults) work like numpy ones
    d = pbc.assign(
        b=pd.array(np.where(pbc["stage"].isna(), None, pbc["stage"] == 4), dtype="boolean"),
        sx=pbc["sex"].astype("string"),
        ag=pbc["age"].round().astype("Int64"),
    )
    ref_fit = fit_quiet(
        logistic, pbc.assign(ag=pbc["age"].round()), "I(stage == 4) ~ ag + C(sex, Treatment('m'))"
    )
    fit = fit_quiet(logistic, d, "b ~ ag + C(sx, Treatment('m'))")
    np.testing.assert_allclose(fit.params.to_numpy(), ref_fit.params.to_numpy(), rtol=1e-10)
    assert fit.nobs == 412
    from calcstats.regression import auc

    other = fit_quiet(auc, fit, data=d.iloc[:200])
    assert 0.5 < other.estimate < 1


def test_spline_means_the_same_as_in_cox(pbc):
    # cr() is centred in every model (it was rank deficient in logistic, fine in cox)
    a = fit_quiet(logistic, pbc, "I(stage == 4) ~ cr(age, df=4)")
    b = fit_quiet(logistic, pbc, "I(stage == 4) ~ cr(age, df=4, constraints='center')")
    np.testing.assert_allclose(a.params, b.params, rtol=1e-10)
    assert len(a.params) == 5
