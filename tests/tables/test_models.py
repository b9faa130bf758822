"""regression_table, univariable and ModelResult.to_table(): layout, labels, reference rows,
N/events, numbers from tidy(), footnotes in words, option checks."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats import DataWarning, InvalidParameterError, SchemaError
from calcstats.regression import linear, logistic, poisson
from calcstats.tables import Table, format_ci, format_p, regression_table, univariable

NBSP = "\u00a0"


@pytest.fixture(scope="module")
def pbc() -> pd.DataFrame:
    return cs.datasets.load_pbc()


@pytest.fixture(scope="module")
def fits(pbc):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        crude = logistic(pbc, "I(stage == 4) ~ C(edema)")
        adj = logistic(pbc, "I(stage == 4) ~ C(edema) + age + C(sex, Treatment('m'))")
    return crude, adj


def test_crude_and_adjusted_side_by_side(fits):
    crude, adj = fits
    t = regression_table(crude, adj, model_names=["Crude", "Adjusted"],
                         labels={"edema": "Edema", "age": "Age, years"})
    assert isinstance(t, Table)
    body = t.body
    assert list(body.columns) == ["Characteristic", "N", "Events", "OR (95% CI)", "p-value",
                                  "OR (95% CI)" + NBSP, "p-value" + NBSP]
    assert [s[0] for s in t.spanners] == ["Crude", "Adjusted"]
    labels = list(body["Characteristic"])
    assert labels == ["Edema", "0", "0.5", "1", "Age, years", "Sex", "f", "m"]
    assert list(t.indent) == [0, 1, 1, 1, 0, 0, 1, 1]
    b = body.set_index("Characteristic")
    assert b.loc["0", "OR (95% CI)"] == "1.00 (ref)"
    assert b.loc["m", "OR (95% CI)" + NBSP] == "1.00 (ref)"
    assert b.loc["Age, years", "OR (95% CI)"] == ""  # not in the crude model
    # numbers are exactly tidy() formatted
    row = adj.tidy().set_index("term").loc["C(edema)[T.1.0]"]
    assert b.loc["1", "OR (95% CI)" + NBSP] == format_ci(row["estimate"], row["conf_low"],
                                                         row["conf_high"], digits=2)
    assert b.loc["1", "p-value" + NBSP] == format_p(row["p_value"])
    # global p on the header row of a 3-level factor, none for 2-level sex
    gp = adj.term_tests().set_index("term").loc["C(edema)", "p_value"]
    assert b.loc["Edema", "p-value" + NBSP] == format_p(gp)
    assert b.loc["Sex", "p-value" + NBSP] == ""
    # N and events per level add up to the model's
    lv = b.loc[["0", "0.5", "1"]]
    assert lv["N"].astype(int).sum() == crude.nobs == 412
    assert lv["Events"].astype(int).sum() == crude.n_events == 144
    raw = t.to_frame()
    assert set(raw["model"]) == {"Crude", "Adjusted"}
    assert "Intercept" in set(raw["term"])  # raw numbers keep everything
    assert "OR (95% CI)" in t.to_markdown() and "<table" in t.to_html()


def test_footnotes_describe_the_models_in_words_not_code(fits):
    t = regression_table(*fits, model_names=["Crude", "Adjusted"], labels={"age": "Age"})
    notes = list(t.footnotes)
    assert notes[0] == "Crude: Logistic regression (ML); n = 412, 144 events; Edema, unadjusted."
    assert notes[1] == ("Adjusted: Logistic regression (ML); n = 412, 144 events; Edema "
                        "adjusted for Age and Sex.")
    assert "jointly (Wald chi-square)" in notes[-1]
    for note in notes:
        assert "~" not in note and "C(" not in note and "I(" not in note


def test_rows_follow_the_formula_and_labels_set_levels_and_their_order(pbc):
    fit = cs.cox(pbc, "age + C(edema) + np.log(bili)", time="time", event="status", cause=2)
    lab = cs.Labels(variables={"edema": "Oedema"},
                    levels={"edema": {1.0: "Severe", 0.0: "None", 0.5: "Treated"}})
    t = regression_table(fit, labels=lab | {"np.log(bili)": "Bilirubin, log"})
    b = t.body
    assert list(b["Characteristic"]) == ["Age", "Oedema", "Severe", "None", "Treated",
                                         "Bilirubin, log"]
    assert b.loc[3, "HR (95% CI)"] == "1.00 (ref)"  # the reference stays the reference
    assert b.loc[2, "N"] == str(int((pbc["edema"] == 1).sum()))


def test_result_labels_are_used_and_table_labels_win(pbc):
    fit = cs.cox(pbc, "C(edema)", time="time", event="status", cause=2,
                 labels={"edema": "Oedema"})
    assert fit.to_table().body.loc[0, "Characteristic"] == "Oedema"
    t = fit.to_table(labels={"edema": "Edema (any)"})
    assert t.body.loc[0, "Characteristic"] == "Edema (any)"


def test_to_table_dispatches_to_the_model_table(fits):
    t = fits[1].to_table(model_names=["Adjusted"], title="Table 3", digits=3)
    ref = regression_table(fits[1], model_names=["Adjusted"], title="Table 3", digits=3)
    assert t.body.equals(ref.body) and t.title == "Table 3"
    assert t.spanners == ref.spanners and t.footnotes == ref.footnotes
    assert t.body.loc[2, "OR (95% CI)"].count(".") == 3  # three decimals each


def test_reference_dash_and_linear(pbc, fits):
    t = regression_table(fits[0], reference="dash")
    assert t.body.set_index("Characteristic").loc["0", "OR (95% CI)"] == "—"
    assert t.spanners == ()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        lin = linear(pbc, "np.log(bili) ~ C(edema) + age")
    tl = regression_table(lin)
    assert "Beta (95% CI)" in tl.body.columns and "Events" not in tl.body.columns
    assert tl.body.set_index("Characteristic").loc["0", "Beta (95% CI)"] == "—"
    assert tl.footnotes[0].startswith("Linear regression (least squares); n = 418; Edema")


def test_intercept_conf_level_and_log_scale(fits):
    t = regression_table(fits[0], intercept=True, conf_level=0.9)
    assert "Intercept" in list(t.body["Characteristic"])
    assert "OR (90% CI)" in t.body.columns
    raw = t.to_frame().set_index("term")
    r = fits[0].tidy(conf_level=0.9).set_index("term")
    np.testing.assert_allclose(raw["conf_low"], r["conf_low"], rtol=1e-12)
    log = regression_table(fits[0], exponentiate=False)
    assert "log OR (95% CI)" in log.body.columns
    b = fits[0].tidy(exponentiate=False).set_index("term").loc["C(edema)[T.1.0]"]
    assert log.body.loc[3, "log OR (95% CI)"] == format_ci(b["estimate"], b["conf_low"],
                                                           b["conf_high"])


def test_global_p_lr_for_regression_models(fits):
    t = regression_table(fits[1], global_p="lr")
    lr = fits[1].term_tests(method="lr").set_index("term").loc["C(edema)", "p_value"]
    assert t.body.loc[0, "p-value"] == format_p(lr)
    assert "jointly (likelihood ratio)" in t.footnotes[-1]
    t = regression_table(fits[1], global_p=False)
    assert t.body.loc[0, "p-value"] == ""


def test_option_errors_name_the_parameter(fits):
    with pytest.raises(InvalidParameterError, match=r"'model_names' parameter.*1 names for 2"):
        regression_table(*fits, model_names=["one"])
    with pytest.raises(SchemaError, match="argument 2 is a str, not a fitted calcstats model"):
        regression_table(fits[0], "nope")
    with pytest.raises(InvalidParameterError, match="at least one"):
        regression_table()
    # labels= used to take the model names: the message points to model_names=
    with pytest.raises(InvalidParameterError,
                       match=r"'labels' parameter of regression_table.*model_names="):
        regression_table(*fits, labels=["Crude", "Adjusted"])
    with pytest.raises(TypeError, match="variable_labels"):
        regression_table(fits[0], variable_labels={"edema": "Edema"})
    with pytest.raises(InvalidParameterError,
                       match=r"The 'reference' parameter of regression_table must be one of "
                             r"'ref', 'dash'\. Got 'bogus'\."):
        regression_table(fits[0], reference="bogus")
    with pytest.raises(InvalidParameterError, match="'global_p' parameter"):
        regression_table(fits[0], global_p="score")
    with pytest.raises(InvalidParameterError, match=r"'conf_level' parameter.*Use 0\.95"):
        regression_table(fits[0], conf_level=95)
    with pytest.raises(InvalidParameterError, match="'digits' parameter"):
        regression_table(fits[0], digits=-1)


def test_univariable_screen(pbc):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        t = univariable(pbc, "I(stage == 4)", ["age", "C(edema)", "np.log(chol)"],
                        labels={"edema": "Edema"})
        chol = logistic(pbc, "I(stage == 4) ~ np.log(chol)")
    b = t.body.set_index("Characteristic")
    assert list(t.body["Characteristic"]) == ["Age", "Edema", "0", "0.5", "1", "Chol (log)"]
    assert b.loc["Age", "N"] == "412"
    assert b.loc["Chol (log)", "N"] == str(chol.nobs) == "284"  # its own missing rows
    r = chol.tidy().set_index("term").loc["np.log(chol)"]
    assert b.loc["Chol (log)", "OR (95% CI)"] == format_ci(r["estimate"], r["conf_low"],
                                                            r["conf_high"])
    assert b.loc["0", "OR (95% CI)"] == "1.00 (ref)"
    assert t.footnotes[0].startswith("Univariable models (logistic regression (ML))")
    assert any("differ" in f for f in t.footnotes)
    raw = t.to_frame()
    assert list(raw["covariate"].unique()) == ["age", "C(edema)", "np.log(chol)"]
    assert "Intercept" not in set(raw["term"])


def test_univariable_poisson_with_kwargs(pbc):
    pbc = pbc.assign(years=pbc["time"] / 365.25, dead=(pbc["status"] == 2).astype(int))
    t = univariable(pbc, "dead", ["age", "C(edema)"], model="poisson", exposure="years")
    assert "IRR (95% CI)" in t.body.columns
    fit = poisson(pbc, "dead ~ age", exposure="years")
    r = fit.tidy().set_index("term").loc["age"]
    assert t.body.set_index("Characteristic").loc["Age", "IRR (95% CI)"] == format_ci(
        r["estimate"], r["conf_low"], r["conf_high"])
    with pytest.raises(InvalidParameterError,
                       match="The 'model' parameter of univariable must be one of 'logistic'"):
        univariable(pbc, "dead", ["age"], model="probit")
    with pytest.raises(InvalidParameterError, match=r"'covariates' parameter.*list of str"):
        univariable(pbc, "dead", "age")
    with pytest.raises(InvalidParameterError, match="at least one term"):
        univariable(pbc, "dead", [])
    with pytest.raises(TypeError, match="variable_labels= was removed; pass labels="):
        univariable(pbc, "dead", ["age"], variable_labels={"age": "Age"})
    with pytest.raises(SchemaError, match="returned a dict for 'age'"):
        univariable(pbc, "dead", ["age"], model=lambda d, f, **kw: {"coef": 1})


def test_table_body_is_plain_strings(fits):
    t = regression_table(*fits)
    assert all(isinstance(v, str) for v in pd.DataFrame(t.body).to_numpy().ravel())


def test_regression_table_with_pooled_result(pbc):
    d = pbc[["age", "edema", "bili", "chol", "stage"]].assign(
        stage4=lambda x: np.where(x["stage"].isna(), np.nan, (x["stage"] == 4).astype(float)),
        edema=lambda x: x["edema"].astype(str)).drop(columns="stage")
    imp = cs.mice(d, m=3, seed=2, maxit=2, progress=False)
    pooled = cs.pool(imp.fit(lambda x: logistic(x, "stage4 ~ C(edema) + np.log(chol)")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        cc = logistic(d, "stage4 ~ C(edema) + np.log(chol)")
    t = regression_table(cc, pooled, model_names=["Complete cases", "Multiple imputation"])
    b = t.body.set_index("Characteristic")
    row = pooled.tidy().set_index("term").loc["np.log(chol)"]
    assert b.loc["Chol (log)", "OR (95% CI)" + NBSP] == format_ci(
        row["estimate"], row["conf_low"], row["conf_high"])
    assert b.loc["0.0", "OR (95% CI)" + NBSP] == "1.00 (ref)"
    # N per level from the first model with the term: the complete cases here ...
    assert b.loc[["0.0", "0.5", "1.0"], "N"].astype(int).sum() == cc.nobs < 418
    # ... and the first imputed data set (all 418 rows) for the pooled model alone
    alone = regression_table(pooled).body.set_index("Characteristic")
    assert alone.loc[["0.0", "0.5", "1.0"], "N"].astype(int).sum() == pooled.nobs == 418
    assert alone.loc["0.5", "N"] == str(int((d["edema"] == "0.5").sum()))
    # no joint test after pooling: "—" and a footnote saying so
    assert b.loc["Edema", "p-value" + NBSP] == "—"
    notes = " ".join(t.footnotes)
    assert "Rubin's rules over 3 imputations" in notes
    assert ("Multiple imputation: — global p-value of Edema: not available after pooling "
            "over imputations.") in notes
