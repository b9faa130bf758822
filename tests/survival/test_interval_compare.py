"""cs.compare_interval_methods against R (tests/reference/interval.R, sim_imputation block).

The R script fits survreg to the simulated data three ways: interval-censored, with every
interval replaced by its midpoint, and by its right end. Tolerance 1e-6, as for
parametric_survival.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from interval_refs import data, reference, terms

import calcstats as cs

TOL = 1e-6


@pytest.fixture(scope="module")
def comparison() -> cs.IntervalComparisonResult:
    return cs.compare_interval_methods(data("ic_sim"), "x + z", left="left", right="right")


@pytest.mark.parametrize("method", ["interval", "midpoint", "right_endpoint"])
def test_each_fit_matches_survreg(comparison, method):
    ref = reference()["sim_imputation"][method]
    fit = comparison.fits[method]
    assert np.abs(fit.params - terms(ref["coefficients"])).max() < TOL
    assert fit.scale == pytest.approx(ref["scale"], abs=TOL)
    if "loglik" in ref:  # the imputed fits: exact and right-censored rows only
        assert fit.loglik == pytest.approx(ref["loglik"], abs=TOL)
        assert fit.counts["n_interval"] == 0


def test_right_endpoint_imputation_shows_its_bias(comparison):
    """Truth: intercept 1.0, scale 2/3 (README of the reference data)."""
    truth = reference()["sim_imputation"]["true_parameters"]
    g = comparison.glance().set_index("method")
    assert abs(g.loc["interval", "scale"] - truth["scale"]) < 0.06
    assert g.loc["right_endpoint", "scale"] < 0.5  # far too peaked
    coef = comparison.tidy(exponentiate=False).set_index(["method", "term"])["estimate"]
    assert coef[("right_endpoint", "Intercept")] - coef[("interval", "Intercept")] > 0.08
    assert abs(coef[("midpoint", "Intercept")] - coef[("interval", "Intercept")]) < 0.01


def test_tidy_and_glance_layout(comparison):
    tidy = comparison.tidy()
    assert list(tidy.columns) == [
        "method",
        "term",
        "estimate",
        "std_error",
        "statistic",
        "p_value",
        "conf_low",
        "conf_high",
    ]
    assert tidy["method"].tolist() == ["interval"] * 3 + ["midpoint"] * 3 + ["right_endpoint"] * 3
    assert tidy["estimate"].to_numpy() == pytest.approx(
        np.exp(comparison.tidy(exponentiate=False)["estimate"].to_numpy())
    )
    assert comparison.glance()["method"].tolist() == ["interval", "midpoint", "right_endpoint"]
    assert comparison.ratio_measure == "TR"
    assert "midpoint" in repr(comparison) and "(scale)" in repr(comparison)


def test_ph_model_and_labels():
    cmp = cs.compare_interval_methods(
        data("ic_sim"), "x", left="left", right="right", model="ph", labels={"x": "Yearly visits"}
    )
    assert cmp.ratio_measure == "HR"
    assert all(f.parametrization == "ph" for f in cmp.fits.values())
    assert cmp.labels.variable("x") == "Yearly visits"


def test_bad_options():
    with pytest.raises(cs.InvalidParameterError, match="can be 'ph' only with distribution"):
        cs.compare_interval_methods(
            data("ic_sim"), "x", left="left", right="right", model="ph", distribution="loglogistic"
        )
    with pytest.raises(cs.InvalidParameterError, match="'distribution' parameter"):
        cs.compare_interval_methods(
            data("ic_sim"), "x", left="left", right="right", distribution="exponential"
        )


def test_exact_and_censored_rows_are_not_imputed():
    d = pd.DataFrame(
        {
            "l": [0.0, 1.0, 2.0, 2.5, 3.0, 1.0, 0.5, 4.0],
            "r": [2.0, 1.0, np.inf, 4.5, 3.0, 5.0, 1.5, np.inf],
        }
    )
    cmp = cs.compare_interval_methods(d, "1", left="l", right="r")
    mid, right = cmp.midpoint.input, cmp.right_endpoint.input
    assert mid.left.tolist() == [1.0, 1.0, 2.0, 3.5, 3.0, 3.0, 1.0, 4.0]
    assert right.left.tolist() == [2.0, 1.0, 2.0, 4.5, 3.0, 5.0, 1.5, 4.0]
    assert np.isinf(mid.right[[2, 7]]).all() and np.isinf(right.right[[2, 7]]).all()
