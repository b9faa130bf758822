"""Robustness of the regression models to how analysts' data frames arrive."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats._errors import CalcstatsError, ConvergenceError, DataError, SchemaError


def test_object_column_of_numbers_is_refused_not_dummy_coded(pbc):
    # patsy would code an object column as one dummy per distinct value (308 for age)
    d = pbc.dropna(subset=["trt"]).assign(age=lambda x: x["age"].astype(object))
    with pytest.raises(SchemaError, match=r"'age'.*dtype object.*pd\.to_numeric"):
        cs.logistic(d, "dead ~ age + C(trt)")
    with pytest.raises(SchemaError, match=r"'dead'.*dtype object"):
        cs.poisson(
            d.assign(dead=d["dead"].astype(object), age=d["age"].astype(float)),
            "dead ~ age",
            exposure="years",
        )


def test_object_column_of_text_still_categorical(pbc):
    d = pbc.dropna(subset=["trt"]).assign(arm=lambda x: x["trt"].map({1: "a", 2: "b"}))
    fit = cs.logistic(d, "dead ~ arm")
    assert list(fit.params.index) == ["Intercept", "arm[T.b]"]


def test_negative_binomial_theta_diverging_after_first_nb_fit(pbc):
    # theta from the Poisson fit is finite (~6e6) but ∞ once mu is the NB fit's: this
    # used to reach statsmodels with alpha = 1/inf and fail with ZeroDivisionError
    d = pbc.dropna(subset=["trt"]).iloc[5:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ConvergenceError, match=r"no overdispersion.*poisson"):
            cs.negative_binomial(d, "dead ~ C(trt)", exposure="years")


def test_dotted_and_spaced_names_quoted(pbc):
    d = pbc.dropna(subset=["trt"]).rename(columns={"age": "age.y", "dead": "dead flag"})
    fit = cs.logistic(d, 'Q("dead flag") ~ Q("age.y")')
    ref = cs.logistic(pbc.dropna(subset=["trt"]), "dead ~ age")
    assert fit.params.iloc[1] == pytest.approx(ref.params.iloc[1], rel=1e-12)
    assert list(fit.tidy().columns) == list(ref.tidy().columns)


def test_nullable_dtypes_match_numpy_dtypes(pbc):
    d = pbc.dropna(subset=["trt"])
    n = d.assign(
        dead=d["dead"].astype("Int64"),
        age=d["age"].astype("Float64"),
        sex=d["sex"].astype("string"),
    )
    a = cs.logistic(d, "dead ~ age + sex").tidy()
    b = cs.logistic(n, "dead ~ age + sex").tidy()
    pd.testing.assert_frame_equal(a, b, rtol=1e-10)


def test_tidy_options(pbc):
    fit = cs.logistic(pbc.dropna(subset=["trt"]), "dead ~ age")
    with pytest.raises(CalcstatsError, match="exponentiate must be True, False or None"):
        fit.tidy(exponentiate="False")  # a truthy string used to exponentiate
    log_scale = fit.tidy(exponentiate=False)
    odds = fit.tidy()
    assert list(log_scale.columns) == list(odds.columns)
    assert odds["estimate"].iloc[1] == pytest.approx(np.exp(log_scale["estimate"].iloc[1]))
    narrow = fit.tidy(conf_level=0.9)
    assert list(narrow.columns) == list(odds.columns)
    assert narrow["conf_low"].iloc[1] > odds["conf_low"].iloc[1]
    assert narrow["conf_high"].iloc[1] < odds["conf_high"].iloc[1]
    refit = cs.logistic(pbc.dropna(subset=["trt"]), "dead ~ age", conf_level=0.9).tidy()
    pd.testing.assert_frame_equal(narrow, refit)


def test_single_level_term_and_dates_are_refused(pbc):
    d = pbc.dropna(subset=["trt"])
    # a one-level factor used to vanish from the model (only the intercept was fitted)
    with pytest.raises(DataError, match=r"term\(s\) 'site'.*single value"):
        cs.logistic(d.assign(site="A"), "dead ~ site")
    with pytest.raises(SchemaError, match=r"'entry'.*dates.*derived"):
        cs.logistic(
            d.assign(entry=pd.Timestamp("2020-01-01") + pd.to_timedelta(d["id"], "D")),
            "dead ~ entry",
        )


def test_numpy_functions_without_prefix_as_in_survival_formulas(pbc):
    d = pbc.dropna(subset=["trt"])
    bare = cs.logistic(d, "dead ~ age + log(bili)")
    prefixed = cs.logistic(d, "dead ~ age + np.log(bili)")
    assert list(bare.params.index) == ["Intercept", "age", "log(bili)"]
    np.testing.assert_allclose(bare.params.to_numpy(), prefixed.params.to_numpy(), rtol=1e-12)
    v1 = cs.vif(d, "~ age + log(bili) + albumin")
    v2 = cs.vif(d, "~ age + np.log(bili) + albumin")
    np.testing.assert_allclose(v1["vif"].to_numpy(), v2["vif"].to_numpy(), rtol=1e-12)
