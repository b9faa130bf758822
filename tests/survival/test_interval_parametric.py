"""cs.parametric_survival against R's survreg (tests/reference/interval.R → interval.json).

Tolerance 1e-6 (absolute) for coefficients, log(scale), the covariance including
Log(scale), the log-likelihood and the Weibull PH reparametrisation; the fits agree to
about 1e-7 or better. bcdeter has five rows with left = 0 and two exact rows; lung is
right-censored (fitted with lifelines' ``fit``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from interval_refs import MODEL_IDS, MODELS, TREAT, data, matrix, model_ref, terms
from lifelines import LogLogisticAFTFitter, LogNormalAFTFitter, WeibullAFTFitter

import calcstats as cs

TOL = 1e-6
DISTRIBUTIONS = ["weibull", "lognormal", "loglogistic"]


@pytest.mark.parametrize("dist", DISTRIBUTIONS)
@pytest.mark.parametrize(("name", "formula", "ours"), MODELS, ids=MODEL_IDS)
def test_matches_survreg(name, formula, ours, dist):
    ref = model_ref(name, formula, dist)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning on these data
        fit = cs.parametric_survival(
            data(name), ours, left="left", right="right", distribution=dist
        )
    coef = terms(ref["coefficients"])
    assert list(fit.params.index) == list(coef.index)
    assert np.abs(fit.params - coef).max() < TOL
    assert fit.log_scale == pytest.approx(ref["log_scale"], abs=TOL)
    assert fit.scale == pytest.approx(ref["scale"], abs=TOL)
    assert fit.loglik == pytest.approx(ref["loglik"], abs=TOL)
    assert np.abs(fit.full_cov.to_numpy() - matrix(ref["vcov"])).max() < TOL
    assert list(fit.full_cov.index) == [*coef.index, "Log(scale)"]
    se = terms(ref["se"])
    assert np.abs(fit.bse - se[fit.bse.index]).max() < TOL
    assert fit.log_scale_se == pytest.approx(se["Log(scale)"], abs=TOL)
    g = fit.glance().iloc[0]
    assert g["log_likelihood"] == pytest.approx(ref["loglik"], abs=TOL)
    assert g["scale"] == pytest.approx(ref["scale"], abs=TOL)
    assert g["n"] == ref["n"] and bool(g["converged"])
    assert g["aic"] == pytest.approx(-2 * ref["loglik"] + 2 * (len(coef) + 1), abs=1e-5)


@pytest.mark.parametrize(("name", "formula", "ours"), MODELS[1:], ids=MODEL_IDS[1:])
def test_weibull_ph_matches_the_reparametrised_survreg(name, formula, ours):
    ph = model_ref(name, formula, "weibull")["weibull_ph"]
    fit = cs.parametric_survival(data(name), ours, left="left", right="right", model="ph")
    log_hr = terms(ph["log_hr"])
    assert np.abs(fit.params[log_hr.index] - log_hr).max() < TOL
    assert np.abs(fit.bse[log_hr.index] - terms(ph["log_hr_se"])).max() < TOL
    assert fit.params["Intercept"] == pytest.approx(ph["log_lambda"], abs=TOL)
    assert fit.bse["Intercept"] == pytest.approx(ph["log_lambda_se"], abs=TOL)
    assert fit.shape == pytest.approx(ph["shape"], abs=TOL)
    assert fit.log_scale_se == pytest.approx(ph["log_shape_se"], abs=TOL)
    assert np.abs(fit.full_cov.to_numpy() - matrix(ph["vcov"])).max() < TOL
    assert fit.full_cov.index[-1] == "Log(shape)"
    tidy = fit.tidy().set_index("term")
    assert fit.ratio_measure == "HR"
    assert np.abs(tidy.loc[log_hr.index, "estimate"] - np.exp(log_hr)).max() < 1e-5


def test_tidy_gives_time_ratios_with_terms_named_as_everywhere():
    fit = cs.parametric_survival(data("bcdeter"), "C(treat)", left="left", right="right")
    tidy = fit.tidy()
    assert tidy["term"].tolist() == ["Intercept", TREAT]
    assert fit.ratio_measure == "TR"
    assert tidy["estimate"].to_numpy() == pytest.approx(np.exp(fit.params.to_numpy()))
    raw = fit.tidy(exponentiate=False)
    assert raw["conf_low"].to_numpy() == pytest.approx(
        fit.params.to_numpy() - 1.959963984540054 * fit.bse.to_numpy()
    )
    assert fit.term_tests()["term"].tolist() == ["C(treat)"]
    assert fit.inline(TREAT).startswith("TR 0.57 (95% CI 0.41–0.79; p ")


def test_the_engine_is_lifelines():
    fits = {
        d: cs.parametric_survival(
            data("ic_sim"), "x + z", left="left", right="right", distribution=d
        )
        for d in DISTRIBUTIONS
    }
    assert isinstance(fits["weibull"].model, WeibullAFTFitter)
    assert isinstance(fits["lognormal"].model, LogNormalAFTFitter)
    assert isinstance(fits["loglogistic"].model, LogLogisticAFTFitter)


def test_left_zero_gives_the_left_censored_likelihood_for_every_distribution():
    """survreg fails on left = 0; the R script recodes it to NA (left-censored)."""
    d = data("bcdeter")
    assert (d["left"] == 0).sum() == 5
    for dist in DISTRIBUTIONS:
        fit = cs.parametric_survival(d, "1", left="left", right="right", distribution=dist)
        assert fit.loglik == pytest.approx(model_ref("bcdeter", "~1", dist)["loglik"], abs=TOL)
        assert fit.counts["n_left_zero"] == 5


def test_fit_does_not_depend_on_the_units_of_a_covariate():
    d = data("ic_sim").assign(z2=lambda x: 1e6 * x["z"] + 1e9)
    a = cs.parametric_survival(d, "x + z", left="left", right="right")
    b = cs.parametric_survival(d, "x + z2", left="left", right="right")
    assert b.loglik == pytest.approx(a.loglik, abs=1e-7)
    assert b.params["z2"] * 1e6 == pytest.approx(a.params["z"], abs=1e-6)
    assert b.scale == pytest.approx(a.scale, abs=1e-7)


def test_rows_with_missing_covariates_are_dropped_with_a_warning():
    d = data("ic_sim")
    d.loc[[3, 7], "z"] = np.nan
    with pytest.warns(cs.DataWarning, match=r"2 of 300 rows dropped .* z \(2\)"):
        fit = cs.parametric_survival(d, "x + z", left="left", right="right")
    assert fit.nobs == 298
    assert fit.glance()["n_dropped"].iloc[0] == 2


def test_labels_are_kept():
    fit = cs.parametric_survival(
        data("ic_sim"), "x", left="left", right="right", labels={"x": "Sparse visits"}
    )
    assert fit.labels.variable("x") == "Sparse visits"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"distribution": "gamma"},
            cs.InvalidParameterError,
            "The 'distribution' parameter of parametric_survival must be one of 'weibull', "
            "'lognormal', 'loglogistic'. Got 'gamma'.",
        ),
        (
            {"model": "po"},
            cs.InvalidParameterError,
            "The 'model' parameter of parametric_survival must be one of 'aft', 'ph'. Got 'po'.",
        ),
        (
            {"model": "ph", "distribution": "lognormal"},
            cs.InvalidParameterError,
            "can be 'ph' only with distribution='weibull'",
        ),
        ({"conf_level": 0}, cs.InvalidParameterError, "conf_level"),
    ],
)
def test_bad_options(kwargs, error, message):
    with pytest.raises(error) as err:
        cs.parametric_survival(data("ic_sim"), "x", left="left", right="right", **kwargs)
    assert message in str(err.value)


def test_data_it_cannot_fit_are_refused_with_the_reason():
    d = pd.DataFrame({"l": [1.0, 2.0, 3.0], "r": [np.inf] * 3, "x": [0, 1, 0]})
    with pytest.raises(cs.DataError, match="no event was seen"):
        cs.parametric_survival(d, "x", left="l", right="r")
    d2 = pd.DataFrame({"l": [0.0, 2.0, 3.0, 1.0], "r": [0.0, 2.0, np.inf, 4.0]})
    with pytest.raises(cs.DataError, match=r"1 exact event time\(s\) of 0 \(first at row 0\)"):
        cs.parametric_survival(d2, "1", left="l", right="r")


def test_monotone_likelihood_is_reported_not_printed_as_a_number():
    """Every event in the x = 1 rows, none in x = 0: the MLE of x does not exist."""
    d = pd.DataFrame(
        {
            "l": [1.0, 2, 3, 4, 1, 2, 3, 4],
            "r": [2, 3, 4, 5] + [np.inf] * 4,
            "x": [1, 1, 1, 1, 0, 0, 0, 0],
        }
    )
    with pytest.warns(cs.ConvergenceWarning, match=r"does not exist for .*x \(monotone"):
        fit = cs.parametric_survival(d, "x", left="l", right="r")
    assert "every row in this level has the event" in fit.nonestimable["x"]
    assert fit.tidy().set_index("term").loc["x"].drop("term", errors="ignore").isna().all()
    assert not fit.converged and not fit.glance()["converged"].iloc[0]
