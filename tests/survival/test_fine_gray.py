"""cs.fine_gray against cmprsk::crr (tests/reference/survival_models.R → .json)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import calcstats as cs

REF = Path(__file__).parent.parent / "reference"
ROOT = Path(__file__).parent.parent.parent
FORM = "age + log(bili) + log(albumin) + log(protime) + edema"


@pytest.fixture(scope="module")
def mref() -> dict:
    return json.loads((REF / "survival_models.json").read_text())


@pytest.fixture(scope="module")
def pbc_cc() -> pd.DataFrame:
    d = pd.read_csv(ROOT / "data" / "pbc.csv")
    return d.dropna(subset=["age", "bili", "albumin", "protime", "edema"])


@pytest.fixture(scope="module")
def competing() -> pd.DataFrame:
    return pd.read_csv(REF / "survival_models_data" / "competing_ties.csv")


@pytest.fixture(scope="module")
def fg_death(pbc_cc):
    return cs.fine_gray(pbc_cc, FORM, time="time", event="status", cause=2)


def test_pbc_death_matches_crr(fg_death, mref, pbc_reference):
    r = mref["fg_pbc_death"]
    np.testing.assert_allclose(fg_death.params, r["coef"], rtol=1e-4)  # coef: 1e-4 rel
    np.testing.assert_allclose(fg_death.bse, r["se"], rtol=1e-4)  # crr robust SE: 1e-4
    np.testing.assert_allclose(fg_death.loglik, r["loglik"], rtol=1e-8)
    ref = pbc_reference["finegray_death"]
    np.testing.assert_allclose(fg_death.params, ref["coef"], rtol=1e-4)
    np.testing.assert_allclose(fg_death.bse, ref["se"], rtol=1e-4)
    g = fg_death.glance().iloc[0]
    assert g["n"] == ref["n"] == 416
    assert fg_death.ratio_measure == "sHR"
    t = fg_death.tidy()
    np.testing.assert_allclose(t["estimate"], np.exp(r["coef"]), rtol=1e-4)


def test_predict_matches_predict_crr(fg_death, mref):
    r = mref["fg_pbc_death"]
    nc = np.array(r["newcov"])
    nd = pd.DataFrame(
        {
            "age": nc[:, 0],
            "bili": np.exp(nc[:, 1]),
            "albumin": np.exp(nc[:, 2]),
            "protime": np.exp(nc[:, 3]),
            "edema": nc[:, 4],
        }
    )
    at = fg_death.predict(nd, times=r["times"])
    assert list(at.columns) == ["row", "time", "estimate"]
    got = at.pivot(index="time", columns="row", values="estimate").to_numpy()
    np.testing.assert_allclose(got, np.array(r["cif"]), rtol=1e-4)  # CIF: 1e-4 rel
    full = fg_death.predict(nd.iloc[:1])
    np.testing.assert_array_equal(full["time"], r["jump_times"])
    np.testing.assert_allclose(full["estimate"], r["cif_row1"], rtol=1e-4)
    assert np.all(np.diff(full["estimate"]) >= 0)


@pytest.mark.parametrize(("key", "cause"), [("fg_ties", 1), ("fg_ties_cause2", 2)])
def test_tied_competing_data(competing, mref, key, cause):
    r = mref[key]
    fit = cs.fine_gray(competing, "x + b", time="time", event="status", cause=cause)
    np.testing.assert_allclose(fit.params, r["coef"], rtol=1e-4)  # 1e-4 rel
    np.testing.assert_allclose(fit.bse, r["se"], rtol=1e-4)
    if key == "fg_ties":
        pr = fit.predict(pd.DataFrame({"x": [0.0, 1.0], "b": [0, 1]}))
        got = pr.pivot(index="time", columns="row", values="estimate").to_numpy()
        np.testing.assert_allclose(got, np.array(r["cif"]), rtol=1e-4)


def test_transplant_cause(pbc_cc, mref):
    r = mref["fg_pbc_transplant"]
    fit = cs.fine_gray(pbc_cc, "age + log(bili)", time="time", event="status", cause=1)
    np.testing.assert_allclose(fit.params, r["coef"], rtol=1e-4)
    np.testing.assert_allclose(fit.bse, r["se"], rtol=1e-4)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_row_order_and_sign_invariance(seed):
    rng = np.random.default_rng(seed)
    n = 120
    d = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "time": rng.integers(1, 15, n).astype(float),
            "status": rng.choice([0, 1, 2], n, p=[0.3, 0.4, 0.3]),
        }
    )
    d.loc[:2, "status"] = [1, 2, 0]
    d["neg_x"] = -d["x"]
    a = cs.fine_gray(d, "x", time="time", event="status")
    b = cs.fine_gray(d.sample(frac=1, random_state=seed), "x", time="time", event="status")
    c = cs.fine_gray(d, "neg_x", time="time", event="status")
    np.testing.assert_allclose(a.params, b.params, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(a.bse, b.bse, rtol=1e-8)
    np.testing.assert_allclose(a.tidy()["estimate"], 1 / c.tidy()["estimate"], rtol=1e-8)


def test_bad_input(pbc_cc):
    with pytest.raises(cs.DataError, match="cause=5 does not occur"):
        cs.fine_gray(pbc_cc, "age", time="time", event="status", cause=5)
    neg = pbc_cc.assign(time=-pbc_cc["time"])
    with pytest.raises(cs.DataError, match="negative"):
        cs.fine_gray(neg, "age", time="time", event="status", cause=2)
    with pytest.raises(cs.DataError, match="'k' in 'age \\+ k' is constant"):
        cs.fine_gray(pbc_cc.assign(k=1), "age + k", time="time", event="status", cause=2)
    with pytest.raises(cs.SchemaError, match="not a column"):
        cs.fine_gray(pbc_cc, "agee", time="time", event="status", cause=2)
    with pytest.raises(cs.DataError, match="times must be"):
        cs.fine_gray(pbc_cc, "age", time="time", event="status", cause=2).predict(
            pbc_cc.head(1), times=[-1.0]
        )


def test_missing_rows_are_counted():
    d = pd.read_csv(ROOT / "data" / "pbc.csv")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fit = cs.fine_gray(d, "age + chol", time="time", event="status", cause=2)
    assert any(issubclass(x.category, cs.DataWarning) and "chol" in str(x.message) for x in w)
    g = fit.glance().iloc[0]
    assert g["n"] + g["n_dropped"] == len(d) and g["n_dropped"] > 0


def test_non_convergence_warns(pbc_cc):
    with pytest.warns(cs.ConvergenceWarning, match="did not converge"):
        cs.fine_gray(pbc_cc, FORM, time="time", event="status", cause=2, max_iter=1)
