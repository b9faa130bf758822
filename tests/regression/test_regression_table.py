"""regression_table and univariable: layout, reference rows, N/events, numbers from tidy()."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from calcstats import CalcstatsError, DataWarning, SchemaError
from calcstats.regression import linear, logistic, poisson, regression_table, univariable
from calcstats.tables import Table, format_ci, format_p

NBSP = "\u00a0"


@pytest.fixture()
def fits(pbc):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        crude = logistic(pbc, "I(stage == 4) ~ C(edema)")
        adj = logistic(pbc, "I(stage == 4) ~ C(edema) + age + C(sex, Treatment('m'))")
    return crude, adj


def test_crude_and_adjusted_side_by_side(fits):
    crude, adj = fits
    t = regression_table(crude, adj, labels=["Crude", "Adjusted"],
                         variable_labels={"edema": "Edema", "age": "Age, years"})
    assert isinstance(t, Table)
    body = t.body
    assert list(body.columns) == ["Characteristic", "N", "Events", "OR (95% CI)", "p-value",
                                  "OR (95% CI)" + NBSP, "p-value" + NBSP]
    assert [s[0] for s in t.spanners] == ["Crude", "Adjusted"]
    labels = list(body["Characteristic"])
    assert labels[:4] == ["Edema", "0.0", "0.5", "1.0"]
    assert labels.index("Age, years") < labels.index("sex")  # formula order kept
    assert list(t.indent[:4]) == [0, 1, 1, 1]
    b = body.set_index("Characteristic")
    assert b.loc["0.0", "OR (95% CI)"] == "1.00 (ref)"
    assert b.loc["m", "OR (95% CI)" + NBSP] == "1.00 (ref)"
    assert b.loc["Age, years", "OR (95% CI)"] == ""  # not in the crude model
    # numbers are exactly tidy() formatted
    row = adj.tidy().set_index("term").loc["C(edema)[T.1.0]"]
    assert b.loc["1.0", "OR (95% CI)" + NBSP] == format_ci(row["estimate"], row["conf_low"],
                                                           row["conf_high"], digits=2)
    assert b.loc["1.0", "p-value" + NBSP] == format_p(row["p_value"])
    # global p on the header row of a 3-level factor, none for 2-level sex
    gp = adj.term_tests().set_index("term").loc["C(edema)", "p_value"]
    assert b.loc["Edema", "p-value" + NBSP] == format_p(gp)
    assert b.loc["sex", "p-value" + NBSP] == ""
    # N and events per level add up to the model's
    lv = b.loc[["0.0", "0.5", "1.0"]]
    assert lv["N"].astype(int).sum() == crude.nobs == 412
    assert lv["Events"].astype(int).sum() == crude.n_events == 144
    raw = t.to_frame()
    assert set(raw["model"]) == {"Crude", "Adjusted"}
    assert "Intercept" in set(raw["term"])  # raw numbers keep everything
    assert "OR (95% CI)" in t.to_markdown() and "<table" in t.to_html()


def test_reference_dash_and_linear(pbc, fits):
    t = regression_table(fits[0], reference="dash")
    assert t.body.set_index("Characteristic").loc["0.0", "OR (95% CI)"] == "—"
    assert t.spanners == ()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        lin = linear(pbc, "np.log(bili) ~ C(edema) + age")
    tl = regression_table(lin)
    assert "Beta (95% CI)" in tl.body.columns and "Events" not in tl.body.columns
    assert tl.body.set_index("Characteristic").loc["0.0", "Beta (95% CI)"] == "—"


def test_regression_table_intercept_and_conf_level(fits):
    t = regression_table(fits[0], intercept=True, conf_level=0.9)
    assert "Intercept" in list(t.body["Characteristic"])
    assert "OR (90% CI)" in t.body.columns


def test_regression_table_errors(fits):
    with pytest.raises(CalcstatsError, match="labels"):
        regression_table(*fits, labels=["one"])
    with pytest.raises(SchemaError, match="not a calcstats"):
        regression_table(fits[0], "nope")
    with pytest.raises(CalcstatsError, match="at least one"):
        regression_table()


def test_univariable_screen(pbc):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        t = univariable(pbc, "I(stage == 4)", ["age", "C(edema)", "np.log(chol)"],
                        variable_labels={"edema": "Edema"})
        chol = logistic(pbc, "I(stage == 4) ~ np.log(chol)")
    b = t.body.set_index("Characteristic")
    assert b.loc["age", "N"] == "412"
    assert b.loc["np.log(chol)", "N"] == str(chol.nobs) == "284"  # its own missing rows
    r = chol.tidy().set_index("term").loc["np.log(chol)"]
    assert b.loc["np.log(chol)", "OR (95% CI)"] == format_ci(r["estimate"], r["conf_low"],
                                                              r["conf_high"])
    assert b.loc["0.0", "OR (95% CI)"] == "1.00 (ref)"
    assert any("differ" in f for f in t.footnotes)
    raw = t.to_frame()
    assert list(raw["covariate"].unique()) == ["age", "C(edema)", "np.log(chol)"]


def test_univariable_poisson_with_kwargs(pbc):
    pbc = pbc.assign(years=pbc["time"] / 365.25)
    t = univariable(pbc, "dead", ["age", "C(edema)"], model="poisson", exposure="years")
    assert "IRR (95% CI)" in t.body.columns
    fit = poisson(pbc, "dead ~ age", exposure="years")
    r = fit.tidy().set_index("term").loc["age"]
    assert t.body.set_index("Characteristic").loc["age", "IRR (95% CI)"] == format_ci(
        r["estimate"], r["conf_low"], r["conf_high"])
    with pytest.raises(CalcstatsError, match="model must be"):
        univariable(pbc, "dead", ["age"], model="probit")
    with pytest.raises(CalcstatsError, match="non-empty list"):
        univariable(pbc, "dead", "age")


def test_table_from_dataframe_body_is_plain_strings(fits):
    t = regression_table(*fits)
    assert all(isinstance(v, str) for v in pd.DataFrame(t.body).to_numpy().ravel())


def test_regression_table_with_pooled_result(pbc):
    from calcstats.regression import mice, pool

    d = pbc[["age", "edema", "bili", "chol", "stage"]].assign(
        stage4=lambda x: np.where(x["stage"].isna(), np.nan, (x["stage"] == 4).astype(float)),
        edema=lambda x: x["edema"].astype(str)).drop(columns="stage")
    imp = mice(d, m=3, seed=2, maxit=2, progress=False)
    pooled = pool(imp.fit(lambda x: logistic(x, "stage4 ~ C(edema) + np.log(chol)")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        cc = logistic(d, "stage4 ~ C(edema) + np.log(chol)")
    t = regression_table(cc, pooled, labels=["Complete cases", "Multiple imputation"])
    b = t.body.set_index("Characteristic")
    row = pooled.tidy().set_index("term").loc["np.log(chol)"]
    assert b.loc["np.log(chol)", "OR (95% CI)" + NBSP] == format_ci(
        row["estimate"], row["conf_low"], row["conf_high"])
    assert b.loc["0.0", "OR (95% CI)" + NBSP] == "1.00 (ref)"
    assert any("pooled over 3" in f for f in t.footnotes)
