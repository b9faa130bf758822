"""CoxResult.check_ph against R's cox.zph(transform="km") and plot.cox.zph's smooth."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats._errors import CalcstatsError, DataError, InvalidParameterError

REF = Path(__file__).parent.parent / "reference"
ROOT = Path(__file__).parent.parent.parent
MAYO = "age + edema + log(bili) + log(albumin) + log(protime)"


@pytest.fixture(scope="module")
def mref() -> dict:
    return json.loads((REF / "survival_models.json").read_text())


@pytest.fixture(scope="module")
def fits() -> dict:
    p0 = pd.read_csv(ROOT / "data" / "pbc.csv")
    pbc = p0[p0["trt"].notna()].assign(death=lambda d: (d["status"] == 2).astype(int))
    ht = pd.read_csv(REF / "survival_models_data" / "heavy_ties.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cs.DataWarning)
        return {
            "zph_mayo": (cs.cox(pbc, MAYO, time="time", event="death"), "log(bili)"),
            "zph_stage": (
                cs.cox(p0, "C(stage) + age + log(bili)", time="time", event="status", cause=2),
                "age",
            ),
            "zph_ties_strata": (
                cs.cox(ht, "x + b + C(g)", time="time", event="status", strata="s"),
                "x",
            ),
        }


def _rterm(t: str) -> str:
    return {"C(stage)": "factor(stage)", "C(g)": "g"}.get(t, t)


@pytest.mark.parametrize("case", ["zph_mayo", "zph_stage", "zph_ties_strata"])
def test_matches_cox_zph(case, fits, mref):
    fit, term = fits[case]
    r = mref[case]
    z = fit.check_ph(transform="km")
    terms = z.tidy(details=True)
    assert terms["term"].tolist() == z.terms  # one row per formula term; GLOBAL is the test
    tab = terms.assign(term=terms["term"].map(_rterm)).set_index("term").loc[r["term"][:-1]]
    assert r["term"][-1] == "GLOBAL"
    np.testing.assert_allclose(tab["statistic"], r["chisq"][:-1], rtol=1e-6)  # 1e-6 rel
    np.testing.assert_array_equal(tab["df"], r["df"][:-1])
    np.testing.assert_allclose(tab["p_value"], r["p"][:-1], rtol=1e-5)
    assert z.statistic == pytest.approx(r["chisq"][-1], rel=1e-6)
    assert z.df == r["df"][-1]
    assert z.p_value == pytest.approx(r["p"][-1], rel=1e-5)
    res = z.residuals
    np.testing.assert_allclose(res["time"], r["time"], rtol=0, atol=0)
    np.testing.assert_allclose(res["x"], r["x"], atol=1e-12)
    ry = pd.DataFrame(r["y"])
    for i, t in enumerate(r["term"][:-1]):
        ours = next(k for k in z.terms if _rterm(k) == t)
        np.testing.assert_allclose(res[z.columns[ours]], ry.iloc[:, i], rtol=1e-7, atol=1e-9)
    sm = z.smooth(term, df=4)
    assert list(sm.columns) == ["x", "fit", "conf_low", "conf_high"]
    np.testing.assert_allclose(sm["x"], r["smooth_x"], atol=1e-12)
    np.testing.assert_allclose(sm["fit"], r["smooth_fit"], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(sm["conf_low"], r["smooth_low"], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(sm["conf_high"], r["smooth_high"], rtol=1e-7, atol=1e-9)


def test_pbc_reference_global(fits, pbc_reference):
    fit = fits["zph_mayo"][0]
    z = fit.check_ph()
    ref = pbc_reference["cox_zph_km"]["chisq"]
    np.testing.assert_allclose(z.tidy(details=True)["statistic"], ref[:-1], rtol=1e-6)
    assert z.statistic == pytest.approx(ref[-1], rel=1e-6)
    assert isinstance(z, cs.PHTestResult) and z.transform == "km"
    assert list(z.tidy().columns) == ["statistic", "df", "p_value", "method"]
    assert "GLOBAL: statistic = " in repr(z)
    assert z.inline().startswith("χ²(5) = ")
    # the coefficient each term's residuals scatter around, and the time column
    np.testing.assert_allclose(z.coefficients.to_numpy(), fit.params.to_numpy())
    assert z.time_column == "time"


def test_bad_arguments(fits):
    fit = fits["zph_mayo"][0]
    with pytest.raises(InvalidParameterError) as err:
        fit.check_ph(transform="weird")
    assert str(err.value) == (
        "The 'transform' parameter of check_ph must be one of 'km', 'identity', 'log', "
        "'rank'. Got 'weird'."
    )
    with pytest.raises(
        InvalidParameterError,
        match="'term' parameter of smooth must be one of the terms 'age', 'edema'",
    ):
        fit.check_ph().smooth("bili")
    with pytest.raises(InvalidParameterError, match="'df' parameter of smooth"):
        fit.check_ph().smooth("age", df=1)


def test_no_global_and_other_transforms(fits):
    fit = fits["zph_mayo"][0]
    z = fit.check_ph(global_test=False)
    assert np.isnan(z.statistic) and z.df is None and np.isnan(z.p_value)
    pd.testing.assert_frame_equal(z.tidy(details=True), fit.check_ph().tidy(details=True))
    with pytest.raises(CalcstatsError, match="no GLOBAL test to report"):
        z.inline()
    for tr in ("identity", "log", "rank"):
        t = fit.check_ph(transform=tr).tidy(details=True)
        assert np.all(np.isfinite(t["statistic"])) and np.all(t["statistic"] >= 0)


def test_multi_column_term_has_no_single_coefficient(fits):
    fit, _ = fits["zph_stage"]
    z = fit.check_ph()
    assert np.isnan(z.coefficients["C(stage)"])
    assert z.coefficients["age"] == pytest.approx(fit.params["age"])


def test_all_events_at_one_time_is_a_clear_error(degenerate):
    r = degenerate["zph_one_event_time"]
    assert "singular" in r["cox_zph_error"]  # R refuses too
    fit = cs.cox(pd.DataFrame(r["data"]), "x", time="time", event="status")
    assert fit.params.iloc[0] == pytest.approx(r["coef"], rel=1e-6)
    with pytest.raises(DataError, match="all 10 events are at the same time"):
        fit.check_ph()


def test_singular_test_matrix_names_the_term(fits, monkeypatch):
    fit, _ = fits["zph_mayo"]

    def singular(a, b):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(np.linalg, "solve", singular)
    with pytest.raises(DataError, match="information matrix of term 'age' is singular"):
        fit.check_ph()
