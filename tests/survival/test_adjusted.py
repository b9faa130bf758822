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
    return pbc_all[pbc_all["trt"].notna()].assign(
        death=lambda d: (d["status"] == 2).astype(int))


@pytest.fixture(scope="module")
def mayo_fit(pbc312):
    return cs.cox(pbc312, MAYO, time="time", event="death")


def test_one_subject_equals_survfit_coxph(mayo_fit, pbc312, aref):
    r = aref["mayo_one"]
    row = pbc312.iloc[[4]]
    a = cs.adjusted_curves(mayo_fit, row, variable="age", values=[row["age"].iloc[0]],
                           times=r["times"])
    # survfit.coxph(fit, newdata = one row): curve and SE of S(t), 1e-8 relative
    np.testing.assert_allclose(a["estimate"], np.ravel(r["surv"]), rtol=1e-8)
    np.testing.assert_allclose(a["std_error"], np.ravel(r["std_err"]), rtol=1e-6)
    assert list(a.columns) == ["age", "time", "estimate", "std_error", "conf_low", "conf_high"]
    assert np.all((a["conf_low"] <= a["estimate"]) & (a["estimate"] <= a["conf_high"]))


def test_stratified_breslow_one_subject(pbc312, aref):
    fit = cs.cox(pbc312, "age + log(bili)", time="time", event="death", strata="edema",
                 ties="breslow")
    r = aref["strata_one"]
    row = pbc312[pbc312["edema"] == 0.5].iloc[[1]]
    a = cs.adjusted_curves(fit, row, variable="age", values=[row["age"].iloc[0]],
                           times=r["times"])
    np.testing.assert_allclose(a["estimate"], np.ravel(r["surv"]), rtol=1e-8)
    np.testing.assert_allclose(a["std_error"], np.ravel(r["std_err"]), rtol=1e-6)


def test_standardised_curve_is_mean_of_survfit_curves(mayo_fit, pbc312, aref):
    r = aref["mayo_three"]
    rows = pbc312.iloc[[0, 9, 99]]
    # edema set to each subject's own value is the identity: use a value present in all
    same = rows.assign(edema=0.0)
    a = cs.adjusted_curves(mayo_fit, same, variable="edema", values=[0.0], times=r["times"])
    ind = cs.adjusted_curves(mayo_fit, rows, variable="age", values=None, times=r["times"])
    assert set(ind["age"]) == set(rows["age"])
    surv = np.array(r["surv"])                  # times × 3 subjects (their own covariates)
    own = []
    for i in range(3):
        one = rows.iloc[[i]]
        own.append(cs.adjusted_curves(mayo_fit, one, variable="age",
                                      values=[one["age"].iloc[0]],
                                      times=r["times"])["estimate"].to_numpy())
    np.testing.assert_allclose(np.column_stack(own), surv, rtol=1e-8)
    assert np.all(np.diff(a["estimate"]) <= 1e-12)


def test_exposure_contrast_and_ci(pbc312, mayo_fit):
    a = cs.adjusted_curves(mayo_fit, pbc312, variable="edema", values=[0.0, 1.0],
                           times=[1000, 2000, 3000])
    s0 = a[a["edema"] == 0.0]["estimate"].to_numpy()
    s1 = a[a["edema"] == 1.0]["estimate"].to_numpy()
    assert np.all(s1 < s0)                      # HR(edema) > 1
    assert np.all(a["std_error"] > 0)
    for ct in ("log", "plain"):
        b = cs.adjusted_curves(mayo_fit, pbc312, variable="edema", values=[0.0],
                               times=[2000], conf_type=ct)
        assert b["conf_low"].iloc[0] < b["estimate"].iloc[0] < b["conf_high"].iloc[0]


def test_fine_gray_adjusted_cif(pbc_all):
    d = pbc_all.dropna(subset=["bili"])
    fg = cs.fine_gray(d, "age + log(bili) + edema", time="time", event="status", cause=2)
    a = cs.adjusted_curves(fg, d, variable="edema", values=[0.0, 1.0], times=[1000, 3000],
                           n_boot=40, seed=1)
    # the standardised CIF is the mean of predict()'s CIFs over the rows
    manual = []
    for v in (0.0, 1.0):
        pr = fg.predict(d.assign(edema=v), times=[1000, 3000])
        manual.extend(pr.groupby("time")["estimate"].mean().to_numpy())
    np.testing.assert_allclose(a["estimate"], manual, rtol=1e-10)
    assert np.all(a["conf_low"] <= a["estimate"] + 0.02)
    assert np.all(a["conf_high"] >= a["estimate"] - 0.02)
    assert np.all(a["std_error"] > 0)
    b = cs.adjusted_curves(fg, d, variable="edema", values=[0.0], times=[1000], n_boot=40,
                           seed=1)
    np.testing.assert_allclose(b["conf_low"], a["conf_low"].iloc[:1])   # seeded: reproducible


def test_partial_effect_linear_and_categorical(pbc312, pbc_all, mayo_fit):
    pe = cs.partial_effect(mayo_fit, "age", values=[40, 50, 60], reference=50)
    assert list(pe.columns) == ["value", "estimate", "conf_low", "conf_high"]
    b, se = mayo_fit.params["age"], mayo_fit.bse["age"]
    np.testing.assert_allclose(pe["estimate"], np.exp(b * np.array([-10, 0, 10])), rtol=1e-12)
    z = 1.959963984540054
    np.testing.assert_allclose(pe["conf_high"].iloc[2], np.exp(10 * b + z * 10 * se), rtol=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cs.DataWarning)
        fs = cs.cox(pbc_all, "C(stage) + age", time="time", event="status", cause=2)
    pe = cs.partial_effect(fs, "stage")
    np.testing.assert_allclose(pe["estimate"].iloc[1:], fs.tidy()["estimate"].iloc[:3],
                               rtol=1e-12)


def test_partial_effect_spline(pbc312):
    fit = cs.cox(pbc312, "cr(age, df=3) + log(bili)", time="time", event="death")
    pe = cs.partial_effect(fit, "age")
    assert len(pe) == 50
    ref = float(np.median(pbc312["age"]))
    at_ref = cs.partial_effect(fit, "age", values=[ref])
    np.testing.assert_allclose(at_ref["estimate"], 1.0)
    assert np.all((pe["conf_low"] <= pe["estimate"]) & (pe["estimate"] <= pe["conf_high"]))
    with pytest.raises(cs.SchemaError, match="not a variable"):
        cs.partial_effect(fit, "bilirubin")


def test_landmark():
    d = pd.DataFrame({"time": [1.0, 2.0, 3.0, 5.0], "status": [1, 0, 1, 0], "x": [1, 2, 3, 4]})
    lm = cs.landmark(d, time="time", event="status", at=2.0)
    assert lm["time"].tolist() == [1.0, 3.0] and lm["x"].tolist() == [3, 4]
    assert lm.attrs["landmark"] == {"at": 2.0, "n_in": 2, "n_excluded": 2, "n_events_before": 1}
    cp = pd.DataFrame({"start": [0.0, 1.5, 0.0], "stop": [1.5, 4.0, 1.0], "ev": [0, 1, 1]})
    lm2 = cs.landmark(cp, time="stop", event="ev", at=2.0, start="start")
    assert lm2["start"].tolist() == [0.0] and lm2["stop"].tolist() == [2.0]
    with pytest.raises(cs.DataError, match="no subject"):
        cs.landmark(d, time="time", event="status", at=10)
    with pytest.raises(cs.DataError, match=">= 0"):
        cs.landmark(d, time="time", event="status", at=-1)
    assert len(d) == 4                                 # input untouched


def test_bad_arguments(mayo_fit, pbc312):
    with pytest.raises(cs.SchemaError, match="conf_type"):
        cs.adjusted_curves(mayo_fit, pbc312, variable="edema", conf_type="arcsine")
    with pytest.raises(cs.SchemaError, match="not a variable"):
        cs.adjusted_curves(mayo_fit, pbc312, variable="sex")
    with pytest.raises(cs.DataError, match="times"):
        cs.adjusted_curves(mayo_fit, pbc312, variable="edema", times=[-1])
