"""adjusted_curves, partial_effect and landmark."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import calcstats as cs

REF = Path(__file__).parent.parent / "reference"
ROOT = Path(__file__).parent.parent.parent
MAYO = "age + edema + log(bili) + log(albumin) + log(protime)"


@pytest.fixture(scope="module")
def aref() -> dict:
    return json.loads((REF / "survival_models.json").read_text())["adjusted"]


@pytest.fixture(scope="module")
def pbc_all() -> pd.DataFrame:
    return pd.read_csv(ROOT / "data" / "pbc.csv")


@pytest.fixture(scope="module")
def pbc312(pbc_all) -> pd.DataFrame:
    return pbc_all[pbc_all["trt"].notna()].assign(death=lambda d: (d["status"] == 2).astype(int))


@pytest.fixture(scope="module")
def mayo_fit(pbc312):
    return cs.cox(pbc312, MAYO, time="time", event="death")


def test_one_subject_equals_survfit_coxph(mayo_fit, pbc312, aref):
    r = aref["mayo_one"]
    row = pbc312.iloc[[4]]
    res = cs.adjusted_curves(
        mayo_fit, row, variable="age", values=[row["age"].iloc[0]], times=r["times"]
    )
    a = res.tidy()
    # survfit.coxph(fit, newdata = one row): curve and SE of S(t), 1e-8 relative
    np.testing.assert_allclose(a["estimate"], np.ravel(r["surv"]), rtol=1e-8)
    np.testing.assert_allclose(a["std_error"], np.ravel(r["std_err"]), rtol=1e-6)
    assert list(a.columns) == ["age", "time", "estimate", "std_error", "conf_low", "conf_high"]
    assert np.all((a["conf_low"] <= a["estimate"]) & (a["estimate"] <= a["conf_high"]))


def test_stratified_breslow_one_subject(pbc312, aref):
    fit = cs.cox(
        pbc312, "age + log(bili)", time="time", event="death", strata="edema", ties="breslow"
    )
    r = aref["strata_one"]
    row = pbc312[pbc312["edema"] == 0.5].iloc[[1]]
    a = cs.adjusted_curves(
        fit, row, variable="age", values=[row["age"].iloc[0]], times=r["times"]
    ).tidy()
    np.testing.assert_allclose(a["estimate"], np.ravel(r["surv"]), rtol=1e-8)
    np.testing.assert_allclose(a["std_error"], np.ravel(r["std_err"]), rtol=1e-6)


def test_standardised_curve_is_mean_of_survfit_curves(mayo_fit, pbc312, aref):
    r = aref["mayo_three"]
    rows = pbc312.iloc[[0, 9, 99]]
    # edema set to each subject's own value is the identity: use a value present in all
    same = rows.assign(edema=0.0)
    a = cs.adjusted_curves(mayo_fit, same, variable="edema", values=[0.0], times=r["times"]).tidy()
    ind = cs.adjusted_curves(mayo_fit, rows, variable="age", values=None, times=r["times"]).tidy()
    assert set(ind["age"]) == set(rows["age"])
    surv = np.array(r["surv"])  # times × 3 subjects (their own covariates)
    own = []
    for i in range(3):
        one = rows.iloc[[i]]
        own.append(
            cs.adjusted_curves(
                mayo_fit, one, variable="age", values=[one["age"].iloc[0]], times=r["times"]
            )
            .tidy()["estimate"]
            .to_numpy()
        )
    np.testing.assert_allclose(np.column_stack(own), surv, rtol=1e-8)
    assert np.all(np.diff(a["estimate"]) <= 1e-12)


def test_exposure_contrast_and_ci(pbc312, mayo_fit):
    res = cs.adjusted_curves(
        mayo_fit, pbc312, variable="edema", values=[0.0, 1.0], times=[1000, 2000, 3000]
    )
    assert isinstance(res, cs.AdjustedCurvesResult) and isinstance(res, cs.CurveResult)
    assert res.estimand == "survival" and res.start_value == 1.0 and not res.increasing
    assert not res.has_counts and res.measure == "Survival probability"
    assert res.variable == "edema" and res.values == [0.0, 1.0] and res.by == ["edema"]
    assert res.n_standardised == len(pbc312) and res.n_boot is None
    assert res.time_column == "time" and res.conf_type == "log-log"
    with pytest.raises(cs.CalcstatsError, match="no numbers at risk"):
        res.risk_table([1000])
    at = res.at([1500])
    assert list(at.columns) == ["edema", "time", "estimate", "std_error", "conf_low", "conf_high"]
    np.testing.assert_allclose(at["estimate"], res.tidy().query("time == 1000")["estimate"])
    assert list(res.median().columns) == ["edema", "median", "conf_low", "conf_high"]
    a = res.tidy()
    s0 = a[a["edema"] == 0.0]["estimate"].to_numpy()
    s1 = a[a["edema"] == 1.0]["estimate"].to_numpy()
    assert np.all(s1 < s0)  # HR(edema) > 1
    assert np.all(a["std_error"] > 0)
    for ct in ("log", "plain"):
        b = cs.adjusted_curves(
            mayo_fit, pbc312, variable="edema", values=[0.0], times=[2000], conf_type=ct
        ).tidy()
        assert b["conf_low"].iloc[0] < b["estimate"].iloc[0] < b["conf_high"].iloc[0]


def test_fine_gray_adjusted_cif(pbc_all):
    d = pbc_all.dropna(subset=["bili"])
    fg = cs.fine_gray(d, "age + log(bili) + edema", time="time", event="status", cause=2)
    res = cs.adjusted_curves(
        fg, d, variable="edema", values=[0.0, 1.0], times=[1000, 3000], n_boot=40, seed=1
    )
    assert res.estimand == "cumulative incidence" and res.increasing
    assert res.start_value == 0.0 and res.measure == "Cumulative incidence"
    assert res.n_boot == 40 and res.conf_type == "bootstrap percentile"
    a = res.tidy()
    # the standardised CIF is the mean of predict()'s CIFs over the rows
    manual = []
    for v in (0.0, 1.0):
        pr = fg.predict(d.assign(edema=v), times=[1000, 3000])
        manual.extend(pr.groupby("time")["estimate"].mean().to_numpy())
    np.testing.assert_allclose(a["estimate"], manual, rtol=1e-10)
    assert np.all(a["conf_low"] <= a["estimate"] + 0.02)
    assert np.all(a["conf_high"] >= a["estimate"] - 0.02)
    assert np.all(a["std_error"] > 0)
    b = cs.adjusted_curves(
        fg, d, variable="edema", values=[0.0], times=[1000], n_boot=40, seed=1
    ).tidy()
    np.testing.assert_allclose(b["conf_low"], a["conf_low"].iloc[:1])  # seeded: reproducible


def test_partial_effect_linear_and_categorical(pbc312, pbc_all, mayo_fit):
    res = cs.partial_effect(mayo_fit, "age", values=[40, 50, 60], reference=50)
    assert isinstance(res, cs.PartialEffectResult)
    assert (res.variable, res.reference, res.measure) == ("age", 50, "HR")
    assert set(res.held_at) == {"edema", "bili", "albumin", "protime"}
    assert res.conf_level == mayo_fit.conf_level
    pe = res.tidy()
    assert list(pe.columns) == ["value", "estimate", "conf_low", "conf_high"]
    b, se = mayo_fit.params["age"], mayo_fit.bse["age"]
    np.testing.assert_allclose(pe["estimate"], np.exp(b * np.array([-10, 0, 10])), rtol=1e-12)
    z = 1.959963984540054
    np.testing.assert_allclose(pe["conf_high"].iloc[2], np.exp(10 * b + z * 10 * se), rtol=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cs.DataWarning)
        fs = cs.cox(pbc_all, "C(stage) + age", time="time", event="status", cause=2)
    pe = cs.partial_effect(fs, "stage").tidy()
    np.testing.assert_allclose(pe["estimate"].iloc[1:], fs.tidy()["estimate"].iloc[:3], rtol=1e-12)


def test_partial_effect_spline(pbc312):
    fit = cs.cox(pbc312, "cr(age, df=3) + log(bili)", time="time", event="death")
    pe = cs.partial_effect(fit, "age").tidy()
    assert len(pe) == 50
    ref = float(np.median(pbc312["age"]))
    at_ref = cs.partial_effect(fit, "age", values=[ref]).tidy()
    np.testing.assert_allclose(at_ref["estimate"], 1.0)
    assert np.all((pe["conf_low"] <= pe["estimate"]) & (pe["estimate"] <= pe["conf_high"]))
    with pytest.raises(cs.SchemaError, match="not a variable"):
        cs.partial_effect(fit, "bilirubin")


def test_landmark():
    d = pd.DataFrame(
        {"time": [1.0, 2.0, 3.0, 5.0], "status": [1, 0, 1, 0], "x": [1, 2, 3, 4]},
        index=[10, 11, 12, 13],
    )
    lm = cs.landmark(d, time="time", event="status", at=2.0)
    assert isinstance(lm, cs.LandmarkData) and lm.at == 2.0
    assert lm.table["time"].tolist() == [1.0, 3.0] and lm.table["x"].tolist() == [3, 4]
    assert lm.table.index.tolist() == [12, 13] and lm.table.attrs == {}
    assert (lm.n_in, lm.n_excluded, lm.n_events_before) == (2, 2, 1)
    assert lm.excluded.to_dict("list") == {
        "row": [10, 11],
        "time": [1.0, 2.0],
        "event": [1, 0],
        "reason": ["event at or before the landmark", "censored at or before the landmark"],
    }
    cp = pd.DataFrame({"start": [0.0, 1.5, 0.0], "stop": [1.5, 4.0, 1.0], "ev": [0, 1, 1]})
    lm2 = cs.landmark(cp, time="stop", event="ev", at=2.0, start="start")
    assert lm2.table["start"].tolist() == [0.0] and lm2.table["stop"].tolist() == [2.0]
    assert lm2.excluded["reason"].tolist() == [
        "interval ends at or before the landmark",
        "event at or before the landmark",
    ]
    with pytest.raises(cs.DataError, match="no subject"):
        cs.landmark(d, time="time", event="status", at=10)
    with pytest.raises(cs.InvalidParameterError) as err:
        cs.landmark(d, time="time", event="status", at=-1)
    assert str(err.value) == "The 'at' parameter of landmark must be a number >= 0. Got -1."
    with pytest.raises(cs.DataError, match=r"time column 'time' has 1 missing value"):
        cs.landmark(d.assign(time=[1.0, np.nan, 3.0, 5.0]), time="time", event="status", at=2)
    assert len(d) == 4  # input untouched


def test_bad_arguments(mayo_fit, pbc312):
    with pytest.raises(cs.InvalidParameterError) as err:
        cs.adjusted_curves(mayo_fit, pbc312, variable="edema", conf_type="arcsine")
    assert str(err.value) == (
        "The 'conf_type' parameter of adjusted_curves must be one of 'log-log', 'log', "
        "'plain'. Got 'arcsine'."
    )
    with pytest.raises(cs.SchemaError, match="not a variable"):
        cs.adjusted_curves(mayo_fit, pbc312, variable="sex")
    with pytest.raises(cs.InvalidParameterError, match="'times' parameter of adjusted_curves"):
        cs.adjusted_curves(mayo_fit, pbc312, variable="edema", times=[-1])
    with pytest.raises(cs.InvalidParameterError, match="'n_boot' parameter of adjusted_curves"):
        cs.adjusted_curves(mayo_fit, pbc312, variable="edema", n_boot=5)
    with pytest.raises(
        cs.InvalidParameterError,
        match=r"'result' parameter of adjusted_curves "
        r"must be a result of cs\.cox",
    ):
        cs.adjusted_curves(
            cs.kaplan_meier(pbc312, time="time", event="death"), pbc312, variable="edema"
        )
    with pytest.raises(cs.InvalidParameterError, match="'conf_level' parameter of partial_effect"):
        cs.partial_effect(mayo_fit, "age", conf_level=95)


def test_labels_merge_over_the_fit(pbc312):
    fit = cs.cox(pbc312, "age + edema", time="time", event="death", labels={"age": "Age at entry"})
    pe = cs.partial_effect(fit, "age", labels={"edema": "Oedema"})
    assert pe.labels.variable("age") == "Age at entry"
    assert pe.labels.variable("edema") == "Oedema"
    adj = cs.adjusted_curves(fit, pbc312, variable="edema", times=[1000])
    assert adj.labels == fit.labels
