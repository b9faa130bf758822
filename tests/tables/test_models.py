"""regression_table, univariable and ModelResult.to_table(): layout, labels, reference rows,
N/events, numbers from tidy(), footnotes in words, option checks; survival models
(cause-specific Cox and Fine–Gray side by side, counting-process N, pooled Cox fits,
univariable survival screens)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import calcstats as cs
from calcstats import DataWarning, InvalidParameterError, SchemaError
from calcstats.regression import linear, logistic, poisson, pool
from calcstats.tables import Table, format_ci, format_p, regression_table, univariable

ADJ = "C(edema) + age + np.log(bili)"


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
    t = regression_table(
        crude,
        adj,
        model_names=["Crude", "Adjusted"],
        labels={"edema": "Edema", "age": "Age, years"},
    )
    assert isinstance(t, Table)
    body = t.body
    # the headings print once per model; the body's keys carry the model name
    assert t.columns == (
        "Characteristic",
        "N",
        "Events",
        "OR (95% CI)",
        "p-value",
        "OR (95% CI)",
        "p-value",
    )
    assert list(body.columns) == [
        "Characteristic",
        "N",
        "Events",
        "Crude: OR (95% CI)",
        "Crude: p-value",
        "Adjusted: OR (95% CI)",
        "Adjusted: p-value",
    ]
    assert [s[0] for s in t.spanners] == ["Crude", "Adjusted"]
    assert not any("\u00a0" in h for h in t.columns)
    labels = list(body["Characteristic"])
    assert labels == ["Edema", "0", "0.5", "1", "Age, years", "Sex", "f", "m"]
    assert list(t.indent) == [0, 1, 1, 1, 0, 0, 1, 1]
    b = body.set_index("Characteristic")
    assert b.loc["0", "Crude: OR (95% CI)"] == "1.00 (ref)"
    assert b.loc["m", "Adjusted: OR (95% CI)"] == "1.00 (ref)"
    assert b.loc["Age, years", "Crude: OR (95% CI)"] == ""  # not in the crude model
    # numbers are exactly tidy() formatted
    row = adj.tidy().set_index("term").loc["C(edema)[T.1.0]"]
    assert b.loc["1", "Adjusted: OR (95% CI)"] == format_ci(
        row["estimate"], row["conf_low"], row["conf_high"], digits=2
    )
    assert b.loc["1", "Adjusted: p-value"] == format_p(row["p_value"])
    # global p on the header row of a 3-level factor, none for 2-level sex
    gp = adj.term_tests().set_index("term").loc["C(edema)", "p_value"]
    assert b.loc["Edema", "Adjusted: p-value"] == format_p(gp)
    assert b.loc["Sex", "Adjusted: p-value"] == ""
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
    assert notes[0] == "Crude: Logistic regression (ML); edema, unadjusted; n = 412, 144 events."
    assert notes[1] == (
        "Adjusted: Logistic regression (ML); edema adjusted for age and sex; n = 412, 144 events."
    )
    assert "jointly (Wald chi-square)" in notes[-1]
    for note in notes:
        assert "~" not in note and "C(" not in note and "I(" not in note


def test_rows_follow_the_formula_and_labels_set_levels_and_their_order(pbc):
    fit = cs.cox(pbc, "age + C(edema) + np.log(bili)", time="time", event="status", cause=2)
    lab = cs.Labels(
        variables={"edema": "Oedema"},
        levels={"edema": {1.0: "Severe", 0.0: "None", 0.5: "Treated"}},
    )
    t = regression_table(fit, labels=lab | {"np.log(bili)": "Bilirubin, log"})
    b = t.body
    assert list(b["Characteristic"]) == [
        "Age",
        "Oedema",
        "Severe",
        "None",
        "Treated",
        "Bilirubin, log",
    ]
    assert b.loc[3, "HR (95% CI)"] == "1.00 (ref)"  # the reference stays the reference
    assert b.loc[2, "N"] == str(int((pbc["edema"] == 1).sum()))


def test_result_labels_are_used_and_table_labels_win(pbc):
    fit = cs.cox(pbc, "C(edema)", time="time", event="status", cause=2, labels={"edema": "Oedema"})
    assert fit.to_table().body.loc[0, "Characteristic"] == "Oedema"
    t = fit.to_table(labels={"edema": "Edema (any)"})
    assert t.body.loc[0, "Characteristic"] == "Edema (any)"


def test_to_table_dispatches_to_the_model_table(fits):
    t = fits[1].to_table(model_names=["Adjusted"], title="Table 3", digits=3)
    ref = regression_table(fits[1], model_names=["Adjusted"], title="Table 3", digits=3)
    assert t.body.equals(ref.body) and t.title == "Table 3"
    assert t.spanners == ref.spanners and t.footnotes == ref.footnotes
    assert t.body.loc[2, "Adjusted: OR (95% CI)"].count(".") == 3  # three decimals each


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
    assert tl.footnotes[0] == "Linear regression (least squares); edema adjusted for age; n = 418."


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
    assert log.body.loc[3, "log OR (95% CI)"] == format_ci(
        b["estimate"], b["conf_low"], b["conf_high"]
    )


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
    with pytest.raises(
        InvalidParameterError, match=r"'labels' parameter of regression_table.*model_names="
    ):
        regression_table(*fits, labels=["Crude", "Adjusted"])
    with pytest.raises(TypeError, match="variable_labels"):
        regression_table(fits[0], variable_labels={"edema": "Edema"})
    with pytest.raises(
        InvalidParameterError,
        match=r"The 'reference' parameter of regression_table must be one of "
        r"'ref', 'dash'\. Got 'bogus'\.",
    ):
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
        t = univariable(
            pbc, "I(stage == 4)", ["age", "C(edema)", "np.log(chol)"], labels={"edema": "Edema"}
        )
        chol = logistic(pbc, "I(stage == 4) ~ np.log(chol)")
    b = t.body.set_index("Characteristic")
    assert list(t.body["Characteristic"]) == ["Age", "Edema", "0", "0.5", "1", "Chol (log)"]
    assert b.loc["Age", "N"] == "412"
    assert b.loc["Chol (log)", "N"] == str(chol.nobs) == "284"  # its own missing rows
    r = chol.tidy().set_index("term").loc["np.log(chol)"]
    assert b.loc["Chol (log)", "OR (95% CI)"] == format_ci(
        r["estimate"], r["conf_low"], r["conf_high"]
    )
    assert b.loc["0", "OR (95% CI)"] == "1.00 (ref)"
    assert t.footnotes[0].startswith(
        "One univariable model per characteristic: logistic regression (ML);"
    )
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
        r["estimate"], r["conf_low"], r["conf_high"]
    )
    with pytest.raises(
        InvalidParameterError,
        match="The 'model' parameter of univariable must be one of 'logistic'",
    ):
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
    d = (
        pbc[["age", "edema", "bili", "chol", "stage"]]
        .assign(
            stage4=lambda x: np.where(x["stage"].isna(), np.nan, (x["stage"] == 4).astype(float)),
            edema=lambda x: x["edema"].astype(str),
        )
        .drop(columns="stage")
    )
    imp = cs.mice(d, m=3, seed=2, maxit=2, progress=False)
    pooled = cs.pool(imp.fit(lambda x: logistic(x, "stage4 ~ C(edema) + np.log(chol)")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        cc = logistic(d, "stage4 ~ C(edema) + np.log(chol)")
    t = regression_table(cc, pooled, model_names=["Complete cases", "Multiple imputation"])
    b = t.body.set_index("Characteristic")
    row = pooled.tidy().set_index("term").loc["np.log(chol)"]
    assert b.loc["Chol (log)", "Multiple imputation: OR (95% CI)"] == format_ci(
        row["estimate"], row["conf_low"], row["conf_high"]
    )
    assert b.loc["0.0", "Multiple imputation: OR (95% CI)"] == "1.00 (ref)"
    # N per level from the first model with the term: the complete cases here ...
    assert b.loc[["0.0", "0.5", "1.0"], "N"].astype(int).sum() == cc.nobs < 418
    # ... and the first imputed data set (all 418 rows) for the pooled model alone
    alone = regression_table(pooled).body.set_index("Characteristic")
    assert alone.loc[["0.0", "0.5", "1.0"], "N"].astype(int).sum() == pooled.nobs == 418
    assert alone.loc["0.5", "N"] == str(int((d["edema"] == "0.5").sum()))
    # no joint test after pooling: "—" and a footnote saying so
    assert b.loc["Edema", "Multiple imputation: p-value"] == "—"
    notes = " ".join(t.footnotes)
    assert "Rubin's rules over 3 imputations" in notes
    assert (
        "Multiple imputation: — global p-value of Edema: not available after pooling "
        "over imputations."
    ) in notes


# ---- survival models -------------------------------------------------------------------
@pytest.fixture(scope="module")
def four(pbc):
    kw = {"time": "time", "event": "status", "cause": 2}
    return (
        cs.cox(pbc, "C(edema)", **kw),
        cs.cox(pbc, ADJ, **kw),
        cs.fine_gray(pbc, "C(edema)", **kw),
        cs.fine_gray(pbc, ADJ, **kw),
    )


def _wald(result, cols):
    """Independent joint Wald chi-square of ``cols``: (statistic, p)."""
    b = result.params[cols].to_numpy()
    V = result.cov.loc[cols, cols].to_numpy()
    w = float(b @ np.linalg.inv(V) @ b)
    return w, float(stats.chi2.sf(w, len(cols)))


def test_cox_and_fine_gray_crude_adjusted(pbc, four):
    t = regression_table(
        *four,
        model_names=["CS crude", "CS adjusted", "FG crude", "FG adjusted"],
        labels={"edema": "Edema", "np.log(bili)": "log bilirubin"},
    )
    b = t.body
    assert t.columns == (
        "Characteristic",
        "N",
        "Events",
        *("HR (95% CI)", "p-value") * 2,
        *("sHR (95% CI)", "p-value") * 2,
    )
    names = ["CS crude", "CS adjusted", "FG crude", "FG adjusted"]
    assert list(b.columns)[3:] == [
        f"{name}: {what}"
        for name, measure in zip(names, ["HR", "HR", "sHR", "sHR"], strict=True)
        for what in (f"{measure} (95% CI)", "p-value")
    ]
    assert list(b["Characteristic"]) == ["Edema", "0", "0.5", "1", "Age", "log bilirubin"]
    assert list(t.indent) == [0, 1, 1, 1, 0, 0]
    # N and events (deaths, status == 2) per edema level, counted from the data
    for i, lev in ((1, 0.0), (2, 0.5), (3, 1.0)):
        sub = pbc[pbc["edema"] == lev]
        assert b.loc[i, "N"] == str(len(sub))
        assert b.loc[i, "Events"] == str(int((sub["status"] == 2).sum()))
    assert list(b.loc[4:5, "N"]) == [str(len(pbc))] * 2
    assert list(b.loc[4:5, "Events"]) == [str(int((pbc["status"] == 2).sum()))] * 2
    rows = {"C(edema)[T.0.5]": 2, "C(edema)[T.1.0]": 3, "age": 4, "np.log(bili)": 5}
    for k, fit in enumerate(four):
        measure = "HR" if k < 2 else "sHR"
        est_col = f"{names[k]}: {measure} (95% CI)"
        p_col = f"{names[k]}: p-value"
        td = fit.tidy().set_index("term")
        assert set(td.index) <= set(rows)
        for term, i in rows.items():
            if term in td.index:
                r = td.loc[term]
                assert b.loc[i, est_col] == format_ci(
                    r["estimate"], r["conf_low"], r["conf_high"], digits=2
                )
                assert b.loc[i, p_col] == format_p(r["p_value"], digits=3)
            else:
                assert b.loc[i, est_col] == "" and b.loc[i, p_col] == ""
        # reference row and the global (2-df Wald) p-value of edema on its header row
        assert b.loc[1, est_col] == "1.00 (ref)" and b.loc[1, p_col] == ""
        _, p = _wald(fit, ["C(edema)[T.0.5]", "C(edema)[T.1.0]"])
        assert b.loc[0, p_col] == format_p(p, digits=3) and b.loc[0, est_col] == ""
    raw = t.to_frame()
    assert len(raw) == 2 + 4 + 2 + 4
    fg = raw[raw["model"] == "FG adjusted"].set_index("term")
    np.testing.assert_allclose(
        fg["estimate"], four[3].tidy().set_index("term")["estimate"], rtol=1e-12
    )
    n_comp = int((pbc["status"] == 1).sum())
    assert t.footnotes[:4] == (
        "CS crude: Cox proportional-hazards model (Efron ties); edema, unadjusted; n = 418, "
        "161 events.",
        "CS adjusted: Cox proportional-hazards model (Efron ties); edema adjusted for age and "
        "log bilirubin; n = 418, 161 events.",
        "FG crude: Fine–Gray subdistribution hazards model; edema, unadjusted; n = 418, 161 "
        f"events ({n_comp} competing events).",
        "FG adjusted: Fine–Gray subdistribution hazards model; edema adjusted for age and log "
        f"bilirubin; n = 418, 161 events ({n_comp} competing events).",
    )
    notes = " ".join(t.footnotes)
    assert "Surv(" not in notes and "crr(" not in notes and "~" not in notes


def test_global_wald_statistic_independent(four):
    """term_tests() (what the table prints) equals b'V^-1 b computed here (1e-10 relative)."""
    for fit in four:
        tests = fit.term_tests().set_index("term")
        w, p = _wald(fit, ["C(edema)[T.0.5]", "C(edema)[T.1.0]"])
        np.testing.assert_allclose(tests.loc["C(edema)", "statistic"], w, rtol=1e-10)
        np.testing.assert_allclose(tests.loc["C(edema)", "p_value"], p, rtol=1e-10)
        assert tests.loc["C(edema)", "df"] == 2
        if "age" in tests.index:
            z = fit.params["age"] / fit.bse["age"]
            np.testing.assert_allclose(tests.loc["age", "statistic"], z**2, rtol=1e-10)
    # one-term crude Cox: the term test is the model's overall Wald test
    np.testing.assert_allclose(
        four[0].term_tests()["statistic"].iloc[0], four[0].glance()["wald_statistic"][0], rtol=1e-10
    )


def test_missing_values_and_integer_levels(pbc):
    """N/events per trt level count the analysed (complete) rows of the model with trt."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        crude = cs.cox(pbc, "C(edema)", time="time", event="status", cause=2)
        adj = cs.cox(pbc, "C(edema) + C(trt)", time="time", event="status", cause=2)
    t = regression_table(crude, adj, model_names=["Crude", "Adjusted"])
    b = t.body
    assert list(b["Characteristic"]) == ["Edema", "0", "0.5", "1", "Trt", "1", "2"]
    trial = pbc[pbc["trt"].notna()]
    for row, lev in ((5, 1), (6, 2)):
        sub = trial[trial["trt"] == lev]
        assert b.loc[row, "N"] == str(len(sub))
        assert b.loc[row, "Events"] == str(int((sub["status"] == 2).sum()))
    assert b.loc[5, "Adjusted: HR (95% CI)"] == "1.00 (ref)"
    assert b.loc[5, "Crude: HR (95% CI)"] == ""  # trt is not in the crude model
    r = adj.tidy().set_index("term").loc["C(trt)[T.2]"]
    assert b.loc[6, "Adjusted: HR (95% CI)"] == format_ci(
        r["estimate"], r["conf_low"], r["conf_high"]
    )
    # edema rows come from the first model (all 418 rows)
    assert b.loc[1, "N"] == str(int((pbc["edema"] == 0).sum()))


def test_mixing_logistic_and_cox(pbc):
    """Kinds mix: each model keeps its own measure; N/Events from the first model."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        lo = logistic(pbc, "I(stage == 4) ~ C(edema) + age")
    cx = cs.cox(pbc, "C(edema) + age", time="time", event="status", cause=2)
    t = regression_table(lo, cx, model_names=["Stage 4", "Death"])
    b = t.body
    assert t.columns[3:] == ("OR (95% CI)", "p-value", "HR (95% CI)", "p-value")
    r = cx.tidy().set_index("term").loc["age"]
    row = b.index[b["Characteristic"] == "Age"][0]
    assert b.loc[row, "Death: HR (95% CI)"] == format_ci(
        r["estimate"], r["conf_low"], r["conf_high"]
    )
    assert b.loc[row, "N"] == str(lo.nobs) and lo.nobs != cx.nobs
    assert b.loc[1, "Events"] == str(int(((pbc["stage"] == 4) & (pbc["edema"] == 0)).sum()))


def _split(pbc: pd.DataFrame, at: float) -> pd.DataFrame:
    """Counting-process rows: split follow-up at ``at`` days; bilirubin doubles after it."""
    d = pbc[["id", "time", "status", "age", "bili"]].copy()
    early = d[d["time"] > at].assign(start=0.0, stop=at, status=0)
    late = d[d["time"] > at].assign(
        start=at, stop=lambda x: x["time"].astype(float), bili=lambda x: 2 * x["bili"]
    )
    once = d[d["time"] <= at].assign(start=0.0, stop=lambda x: x["time"].astype(float))
    out = pd.concat([early, late, once], ignore_index=True)
    out["high"] = (out["bili"] > 2).astype(int)
    return out


def test_counting_process_n_patients_or_intervals(pbc):
    cp = _split(pbc, 1000.0)
    kw = {"time": "stop", "start": "start", "event": "status", "cause": 2}
    by_id = cs.cox(cp, "C(high) + age", cluster="id", **kw)
    b = regression_table(by_id).body.set_index("Characteristic")
    for lev in (0, 1):
        sub = cp[cp["high"] == lev]
        assert b.loc[str(lev), "N"] == str(sub["id"].nunique())
        assert b.loc[str(lev), "Events"] == str(int((sub["status"] == 2).sum()))
    assert b.loc["Age", "N"] == str(pbc["id"].nunique())
    notes = " ".join(regression_table(by_id, labels={"id": "patient number"}).footnotes)
    assert "N = patients (distinct patient number)" in notes
    assert f"{len(cp)} (start, stop] intervals in all" in notes
    no_id = cs.cox(cp, "C(high) + age", **kw)
    t2 = regression_table(no_id)
    b2 = t2.body.set_index("Characteristic")
    assert b2.loc["1", "N"] == str(int((cp["high"] == 1).sum()))
    assert b2.loc["Age", "N"] == str(len(cp))
    assert "N = (start, stop] intervals, not patients" in " ".join(t2.footnotes)


def test_pooled_cox_results(pbc):
    rng = np.random.default_rng(1)
    fits = []
    for _ in range(3):
        d = pbc.assign(age=pbc["age"] + rng.normal(0, 1, len(pbc)))
        fits.append(cs.cox(d, ADJ, time="time", event="status", cause=2))
    pooled = pool(fits)
    t = regression_table(pooled, fits[0], model_names=["Pooled", "First"])
    b = t.body
    r = pooled.tidy().set_index("term").loc["age"]
    row = b.index[b["Characteristic"] == "Age"][0]
    assert b.loc[row, "Pooled: HR (95% CI)"] == format_ci(
        r["estimate"], r["conf_low"], r["conf_high"]
    )
    assert b.loc[0, "Pooled: p-value"] == "—"  # no joint test after pooling
    assert b.loc[0, "First: p-value"] == format_p(
        fits[0].term_tests().set_index("term").loc["C(edema)", "p_value"]
    )
    # per-level N and events of the pooled model: the first data set's
    assert b.loc[3, "Events"] == str(int(((pbc["edema"] == 1) & (pbc["status"] == 2)).sum()))
    notes = " ".join(t.footnotes)
    assert "Pooled: Rubin's rules over 3 imputations (Cox proportional-hazards model" in notes


def test_errors(four):
    with pytest.raises(
        InvalidParameterError,
        match=r"'global_p' parameter of regression_table is 'lr', which the "
        r"CoxResult cannot give.*global_p='wald'",
    ):
        regression_table(four[1], global_p="lr")
    with pytest.raises(SchemaError, match="argument 2 is a dict"):
        regression_table(four[0], {"coef": 1})
    t = regression_table(four[2], global_p=False, reference="dash")
    assert t.body.loc[0, "p-value"] == "" and t.body.loc[1, "sHR (95% CI)"] == "—"


def test_global_wald_matches_r(four):
    """Edema's 2-df Wald test vs coxph / crr (tests/reference/table_survival.R): 1e-5 rel."""
    path = Path(__file__).resolve().parents[1] / "reference" / "table_survival.json"
    ref = json.loads(path.read_text())
    for fit, key in zip(
        four, ("cox_crude", "cox_adjusted", "crr_crude", "crr_adjusted"), strict=True
    ):
        r = ref[key]
        np.testing.assert_allclose(fit.params.to_numpy(), r["coef"], rtol=1e-5)
        tests = fit.term_tests().set_index("term")
        np.testing.assert_allclose(tests.loc["C(edema)", "statistic"], r["statistic"], rtol=1e-5)
        np.testing.assert_allclose(tests.loc["C(edema)", "p_value"], r["p_value"], rtol=1e-4)


def test_univariable_cox_and_fine_gray(pbc):
    """One survival model per covariate; numbers equal the separate fits' tidy()."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        t = univariable(
            pbc,
            "status",
            ["age", "C(edema)", "np.log(chol)"],
            model="cox",
            time="time",
            cause=2,
            labels={"edema": "Edema"},
        )
        chol = cs.cox(pbc, "np.log(chol)", time="time", event="status", cause=2)
    b = t.body
    assert list(b["Characteristic"]) == ["Age", "Edema", "0", "0.5", "1", "Chol (log)"]
    r = chol.tidy().set_index("term").loc["np.log(chol)"]
    assert b.loc[5, "HR (95% CI)"] == format_ci(r["estimate"], r["conf_low"], r["conf_high"])
    assert b.loc[5, "N"] == str(int(pbc["chol"].notna().sum()))
    assert b.loc[5, "Events"] == str(int((pbc.loc[pbc["chol"].notna(), "status"] == 2).sum()))
    crude = cs.cox(pbc, "C(edema)", time="time", event="status", cause=2)
    assert b.loc[1, "p-value"] == format_p(_wald(crude, ["C(edema)[T.0.5]", "C(edema)[T.1.0]"])[1])
    assert b.loc[2, "HR (95% CI)"] == "1.00 (ref)"
    fg = univariable(pbc, None, ["age"], model="fine_gray", time="time", event="status", cause=2)
    r = cs.fine_gray(pbc, "age", time="time", event="status", cause=2).tidy().iloc[0]
    assert "sHR (95% CI)" in fg.body.columns
    assert fg.body.loc[0, "sHR (95% CI)"] == format_ci(r["estimate"], r["conf_low"], r["conf_high"])
    with pytest.raises(InvalidParameterError, match="needs time="):
        univariable(pbc, "status", ["age"], model="cox", cause=2)
    with pytest.raises(InvalidParameterError, match="outcome='status' and event='trt' differ"):
        univariable(pbc, "status", ["age"], model="cox", time="time", event="trt")
    with pytest.raises(InvalidParameterError, match="needs the event column"):
        univariable(pbc, None, ["age"], model="fine_gray", time="time")


def test_non_estimable_level_prints_a_dash_and_says_why_in_words():
    rng = np.random.default_rng(2)
    n = 300
    g = np.where(np.arange(n) < 20, "rare", np.where(np.arange(n) < 160, "a", "b"))
    status = rng.choice([0, 1], n, p=[0.4, 0.6])
    status[g == "rare"] = 0  # no event in the level: the estimate runs off to -inf
    d = pd.DataFrame(
        {"grp": g, "x": rng.normal(size=n), "time": rng.exponential(1, n), "status": status}
    )
    with pytest.warns(cs.ConvergenceWarning, match="no events"):
        fit = cs.cox(d, "C(grp) + x", time="time", event="status")
    t = regression_table(fit, labels={"grp": "Group"})
    b = t.body
    assert list(b["Characteristic"]) == ["Group", "a", "b", "rare", "X"]
    assert list(b.loc[3, ["N", "Events", "HR (95% CI)", "p-value"]]) == ["20", "0", "—", "—"]
    assert b.loc[0, "p-value"] == "—"  # no joint test with an infinite coefficient
    note = next(f for f in t.footnotes if "not estimable" in f)
    assert note.startswith("— Group = rare: not estimable (")
    assert "C(" not in note


def test_the_model_interface_the_tables_read(pbc):
    """events_per_row() sums to n_events for event models and is None for linear models;
    row_units() is None unless rows are counting-process intervals."""
    kw = {"time": "time", "event": "status", "cause": 2}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        event_models = [
            cs.cox(pbc, "age", **kw),
            cs.fine_gray(pbc, "age", **kw),
            logistic(pbc, "I(stage == 4) ~ age"),
        ]
        lin = linear(pbc, "np.log(bili) ~ age")
    for fit in event_models:
        ev = fit.events_per_row()
        assert len(ev) == len(fit.design.X) == fit.nobs
        assert ev.sum() == fit.n_events
        assert fit.row_units() is None
    assert event_models[1].events_per_row().sum() == int((pbc["status"] == 2).sum())
    assert lin.events_per_row() is None
    with pytest.raises(InvalidParameterError, match=r"'method' parameter of CoxResult\.term_tests"):
        event_models[0].term_tests(method="lr")
