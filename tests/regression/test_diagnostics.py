"""Diagnostics against R (VIF by hand, pROC DeLong, Hosmer-Lemeshow by hand, val.prob)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from calcstats import CalcstatsError, DataWarning
from calcstats.regression import auc, calibration, hosmer_lemeshow, linear, logistic, vif

LOGIT = "I(stage == 4) ~ age + C(sex, Treatment('m')) + np.log(bili) + albumin"


@pytest.fixture()
def logit_fit(pbc):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return logistic(pbc, LOGIT)


def test_vif_matches_r(pbc, ref):
    f = "np.log(bili) ~ age + C(sex, Treatment('m')) + C(edema) + albumin"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        fit = linear(pbc, f)
    got = vif(fit).set_index("term")["vif"]
    names = ["age", "C(sex, Treatment('m'))[T.f]", "C(edema)[T.0.5]", "C(edema)[T.1.0]", "albumin"]
    np.testing.assert_allclose(got[names], ref["vif"]["vif"], rtol=1e-8)
    d = pbc.dropna(subset=["bili", "albumin"])
    got2 = vif(d, "~ age + C(sex, Treatment('m')) + C(edema) + albumin").set_index("term")
    np.testing.assert_allclose(got2.loc[names, "vif"], ref["vif"]["vif"], rtol=1e-8)


def test_auc_delong_matches_proc(logit_fit, ref):
    a = auc(logit_fit)
    r = ref["auc"]
    assert a.estimate == pytest.approx(r["auc"], rel=1e-10)
    assert a.std_error**2 == pytest.approx(r["var"], rel=1e-8)
    assert a.conf_low == pytest.approx(r["lower"], rel=1e-8)
    assert a.conf_high == pytest.approx(r["upper"], rel=1e-8)
    assert "DeLong" in repr(a)


def test_hosmer_lemeshow_matches_r(logit_fit, ref):
    hl = hosmer_lemeshow(logit_fit)
    r = ref["hosmer_lemeshow"]
    assert hl.statistic == pytest.approx(r["stat"], rel=1e-8)
    assert hl.df == 8
    assert hl.p_value == pytest.approx(r["p"], rel=1e-7)
    np.testing.assert_array_equal(hl.tidy(details=True)["observed"], r["observed"])
    np.testing.assert_array_equal(hl.tidy(details=True)["n"], r["n"])
    np.testing.assert_allclose(hl.tidy(details=True)["expected"], r["expected"], rtol=1e-8)


def test_calibration_matches_val_prob_convention(pbc, ref):
    dev = pbc[pbc["trt"].notna()]
    val = pbc[pbc["trt"].isna() & pbc["stage"].notna()]
    fit = logistic(dev, "I(stage == 4) ~ age + np.log(bili) + albumin")
    cal = calibration(fit, data=val).tidy().set_index("term")
    r = ref["calibration"]
    assert cal.loc["intercept", "estimate"] == pytest.approx(r["intercept"], rel=1e-6)
    assert cal.loc["intercept", "std_error"] == pytest.approx(r["intercept_se"], rel=1e-5)
    assert cal.loc["slope", "estimate"] == pytest.approx(r["slope"], rel=1e-6)
    assert cal.loc["slope", "std_error"] == pytest.approx(r["slope_se"], rel=1e-5)
    # on the development data ML logistic is calibrated by construction
    own = calibration(fit).tidy().set_index("term")["estimate"]
    assert own["intercept"] == pytest.approx(0, abs=1e-8)
    assert own["slope"] == pytest.approx(1, rel=1e-8)


def test_diagnostics_reject_wrong_models(pbc):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        lin = linear(pbc, "np.log(bili) ~ age")
    with pytest.raises(CalcstatsError, match="binary-outcome"):
        auc(lin)
    with pytest.raises(CalcstatsError, match="groups"):
        hosmer_lemeshow(lin, groups=1)
    with pytest.raises(CalcstatsError, match="two covariate"):
        vif(pd.DataFrame({"a": [1.0, 2.0, 3.0]}), "~ a")


def test_glance_concordance_equals_auc(logit_fit, ref):
    assert logit_fit.glance()["concordance"][0] == pytest.approx(ref["auc"]["auc"], rel=1e-10)
