"""cs.balance: SMDs and variance ratios with cobalt's conventions, against R by formula."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats._errors import DataError, InvalidParameterError, SchemaError

from .causal_data import LALONDE_COVS, SIM_COVS, num

COLUMNS = [
    ("mean_treated_unweighted", "mean_treated_unweighted"),
    ("mean_control_unweighted", "mean_control_unweighted"),
    ("mean_treated_weighted", "mean_treated_weighted"),
    ("mean_control_weighted", "mean_control_weighted"),
    ("sd_denominator", "sd_denominator"),
    ("smd_unweighted", "smd_unweighted"),
    ("smd_weighted", "smd_weighted"),
    ("variance_ratio_unweighted", "vr_unweighted"),
    ("variance_ratio_weighted", "vr_weighted"),
]


@pytest.mark.parametrize("key", ["lalonde_ATE", "lalonde_ATT", "sim_ATE", "sim_ATT"])
def test_balance_table_matches_r(key, ref, lalonde, sim):
    name, estimand = key.split("_")
    data, covs = (lalonde, LALONDE_COVS) if name == "lalonde" else (sim, SIM_COVS)
    data = data.assign(w=ref[f"weights_{name}"][estimand])
    if name == "sim":  # plain strings: levels sorted, as R's factor()
        data = data.astype({"sex": str, "etiology": str})
    res = cs.balance(data, treatment="treat", covariates=covs, weights="w", estimand=estimand)
    tidy = res.tidy()
    r = pd.DataFrame(ref["balance"][key])
    assert tidy["variable"].tolist() == r["variable"].tolist()
    assert [lv if lv is not None else None for lv in tidy["level"]] == r["level"].tolist()
    assert tidy["type"].tolist() == r["type"].tolist()
    for ours, theirs in COLUMNS:
        np.testing.assert_allclose(
            tidy[ours].to_numpy(float), num(r[theirs]), rtol=1e-12, atol=1e-12, err_msg=ours
        )
    assert tidy["balanced"].tolist() == (np.abs(num(r["smd_weighted"])) < 0.1).tolist()
    sanity = ref["balance"]["sanity"]
    g = res.glance().iloc[0]
    if key == "lalonde_ATE":
        assert g["max_abs_smd_unweighted"] == pytest.approx(
            sanity["lalonde_ATE_max_abs_smd_unweighted"]
        )
        assert g["max_abs_smd_weighted"] == pytest.approx(
            sanity["lalonde_ATE_max_abs_smd_weighted"]
        )


def test_tidy_leads_with_the_documented_columns(sim):
    tidy = cs.balance(sim, treatment="treat", covariates=SIM_COVS).tidy()
    assert tidy.columns[:7].tolist() == [
        "variable",
        "level",
        "smd_unweighted",
        "smd_weighted",
        "variance_ratio_unweighted",
        "variance_ratio_weighted",
        "balanced",
    ]


def test_without_weights_the_weighted_columns_are_empty_and_the_flag_uses_unweighted(sim, ref):
    n = ref["data_summary"]["sim"]
    res = cs.balance(sim, treatment="treat", covariates=SIM_COVS, threshold=0.2)
    tidy = res.tidy()
    assert tidy["smd_weighted"].isna().all() and tidy["variance_ratio_weighted"].isna().all()
    assert tidy["balanced"].tolist() == (tidy["smd_unweighted"].abs() < 0.2).tolist()
    assert not res.weighted
    assert res.ess.to_dict() == {"treated": n["n_treated"], "control": n["n_control"]}
    assert np.isnan(res.glance()["max_abs_smd_weighted"].iloc[0])


def test_weights_as_series_array_or_column_agree_and_scale_does_not_matter(sim, fit_ps):
    ps = fit_ps(sim, "treat ~ age + sex + etiology")
    w = ps.weights()
    a = cs.balance(sim, treatment="treat", covariates=SIM_COVS, weights=w).tidy()
    b = cs.balance(sim, treatment="treat", covariates=SIM_COVS, weights=(3 * w).to_numpy()).tidy()
    c = cs.balance(sim.assign(w=w), treatment="treat", covariates=SIM_COVS, weights="w").tidy()
    for col in ("smd_weighted", "variance_ratio_weighted"):
        np.testing.assert_allclose(a[col], b[col], rtol=1e-12)
        np.testing.assert_allclose(a[col], c[col], rtol=1e-12)


def test_weighting_moves_the_smds_towards_zero_on_the_confounded_cohort(sim, ref):
    res = cs.balance(sim, treatment="treat", covariates=SIM_COVS, weights=ref["weights_sim"]["ATE"])
    g = res.glance().iloc[0]
    assert g["max_abs_smd_unweighted"] == pytest.approx(0.554, abs=5e-4)
    assert g["max_abs_smd_weighted"] == pytest.approx(0.048, abs=5e-4)
    assert g["n_imbalanced"] == 0
    assert res.ess["treated"] == pytest.approx(ref["weights_sim"]["kish_ess"]["ATE"]["treated"])


def test_ate_and_att_denominators_differ_as_documented(sim):
    ate = cs.balance(sim, treatment="treat", covariates="age").tidy().iloc[0]
    att = cs.balance(sim, treatment="treat", covariates="age", estimand="ATT").tidy().iloc[0]
    s1 = sim.loc[sim["treat"] == 1, "age"].std()
    s0 = sim.loc[sim["treat"] == 0, "age"].std()
    assert ate["sd_denominator"] == pytest.approx(np.sqrt((s1**2 + s0**2) / 2))
    assert att["sd_denominator"] == pytest.approx(s1)
    atc = cs.balance(sim, treatment="treat", covariates="age", estimand="ATC").tidy().iloc[0]
    assert atc["sd_denominator"] == pytest.approx(s0)


def test_boolean_and_categorical_covariates(sim):
    d = sim.assign(
        male=sim["sex"] == "M", etiology=pd.Categorical(sim["etiology"], categories=["c", "b", "a"])
    )
    tidy = cs.balance(d, treatment="treat", covariates=["male", "etiology"]).tidy()
    assert tidy["type"].tolist() == ["binary", "factor_level", "factor_level", "factor_level"]
    assert tidy["level"].tolist()[1:] == ["c", "b", "a"]  # the Categorical's order
    p1 = d.loc[d["treat"] == 1, "male"].mean()
    p0 = d.loc[d["treat"] == 0, "male"].mean()
    expected = (p1 - p0) / np.sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2)
    assert tidy["smd_unweighted"].iloc[0] == pytest.approx(expected)
    assert tidy["variance_ratio_unweighted"].iloc[1:].isna().all()


def test_constant_covariate_gives_zero_not_nan(sim):
    tidy = cs.balance(sim.assign(one=1.0), treatment="treat", covariates="one").tidy()
    assert tidy["smd_unweighted"].iloc[0] == 0.0


def test_missing_covariate_is_an_error_that_names_rows(sim):
    d = sim.copy()
    d.loc[[5, 9], "age"] = np.nan
    with pytest.raises(
        DataError,
        match=r"covariate 'age' is missing in 2 row\(s\) \(rows "
        r"\[5, 9\]\)",
    ):
        cs.balance(d, treatment="treat", covariates=SIM_COVS)


def test_missing_weights_point_to_the_rows_without_a_score(sim):
    w = np.ones(len(sim))
    w[7] = np.nan
    with pytest.raises(
        DataError,
        match=r"1 weight\(s\) are missing \(rows \[7\]\).*"
        r"ps\.scores\.notna",
    ):
        cs.balance(sim, treatment="treat", covariates=SIM_COVS, weights=w)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"treatment": "status"}, DataError, "must be 0/1"),
        ({"treatment": "treatment"}, SchemaError, "Did you mean 'treat'"),
        ({"covariates": ["age", "treat"]}, SchemaError, "also in covariates"),
        ({"weights": [1.0, 2.0]}, DataError, "2 values for 600 rows"),
        ({"weights": -np.ones(600)}, DataError, "finite numbers >= 0"),
        ({"estimand": "ATM"}, InvalidParameterError, "'estimand' parameter of balance"),
        ({"threshold": 0}, InvalidParameterError, "'threshold' parameter of balance"),
    ],
)
def test_bad_input_raises_clear_errors(sim, kwargs, error, match):
    args = {"treatment": "treat", "covariates": SIM_COVS} | kwargs
    with pytest.raises(error, match=match):
        cs.balance(sim, **args)


def test_series_weights_with_another_index_are_refused(sim):
    w = pd.Series(np.ones(600), index=np.arange(600) + 1)
    with pytest.raises(DataError, match="different index"):
        cs.balance(sim, treatment="treat", covariates=SIM_COVS, weights=w)


def test_differs_from_table_one_weighted_smd_by_its_denominator(sim, ref):
    """table_one's weighted SMD uses weighted SDs; balance keeps the unweighted ones."""
    w = np.asarray(ref["weights_sim"]["ATE"])
    res = cs.balance(sim, treatment="treat", covariates="age", weights=w).tidy().iloc[0]
    t = sim["treat"].to_numpy() == 1
    x = sim["age"].to_numpy()

    def wvar(x, w):
        m = np.average(x, weights=w)
        return np.sum(w * (x - m) ** 2) / (w.sum() - np.sum(w**2) / w.sum())

    weighted_sd = np.sqrt((wvar(x[t], w[t]) + wvar(x[~t], w[~t])) / 2)
    diff = res["mean_treated_weighted"] - res["mean_control_weighted"]
    assert res["smd_weighted"] == pytest.approx(diff / res["sd_denominator"])
    assert res["sd_denominator"] != pytest.approx(weighted_sd, rel=1e-3)
