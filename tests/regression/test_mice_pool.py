"""mice() and pool(): pooling arithmetic against R mice::pool on the SAME completed data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from calcstats import CalcstatsError, DataError
from calcstats.regression import linear, logistic, mice, pool
from calcstats.results import ModelResult

FORMULA = "stage4 ~ age + C(sex, Treatment('m')) + np.log(bili) + albumin + np.log(chol)"
R_NAMES = [
    "Intercept",
    "age",
    "C(sex, Treatment('m'))[T.f]",
    "np.log(bili)",
    "albumin",
    "np.log(chol)",
]


def test_pool_matches_r_mice_pool(ref):
    r = ref["mice_pool"]
    long = pd.DataFrame(r["completed"])
    fits = [logistic(d, FORMULA) for _, d in long.groupby(".imp")]
    dfcom = r["dfcom"][0] if isinstance(r["dfcom"], list) else r["dfcom"]
    pooled = pool(fits, dfcom=dfcom)
    det = pooled.details().set_index("term").loc[R_NAMES]
    np.testing.assert_allclose(det["estimate"], r["estimate"], rtol=1e-5)  # coefs 1e-5
    np.testing.assert_allclose(det["ubar"], r["ubar"], rtol=1e-4)  # variances 1e-4
    np.testing.assert_allclose(det["b"], r["b"], rtol=1e-4)
    np.testing.assert_allclose(det["t"], r["t"], rtol=1e-4)
    np.testing.assert_allclose(det["riv"], r["riv"], rtol=1e-4)
    np.testing.assert_allclose(det["lambda"], r["lambda"], rtol=1e-4)
    np.testing.assert_allclose(det["df"], r["df"], rtol=1e-4)  # Barnard-Rubin df
    np.testing.assert_allclose(det["fmi"], r["fmi"], rtol=1e-4)
    t = pooled.tidy(exponentiate=False).set_index("term").loc[R_NAMES]
    q = stats.t.ppf(0.975, det["df"])
    np.testing.assert_allclose(t["conf_low"], det["estimate"] - q * np.sqrt(det["t"]), rtol=1e-10)
    assert pooled.ratio_measure == "OR" and pooled.glance()["m"][0] == 5
    assert "Rubin" in repr(pooled)


class FakeCox(ModelResult):
    ratio_measure = "HR"
    method = "fake Cox"


def test_pool_generic_model_result_by_hand():
    est = [0.50, 0.62, 0.55, 0.70]
    se = [0.10, 0.11, 0.09, 0.12]
    fits = [
        FakeCox(pd.Series({"x": b, "z": -b}), np.diag([s**2, (2 * s) ** 2]))
        for b, s in zip(est, se, strict=True)
    ]
    p = pool(fits)
    m = 4
    qbar = np.mean(est)
    ubar = np.mean(np.square(se))
    b = np.var(est, ddof=1)
    t = ubar + (1 + 1 / m) * b
    lam = (1 + 1 / m) * b / t
    df = (m - 1) / lam**2  # dfcom infinite for z-based models
    d = p.details().set_index("term").loc["x"]
    assert d["estimate"] == pytest.approx(qbar, rel=1e-12)
    assert d["t"] == pytest.approx(t, rel=1e-12)
    assert d["df"] == pytest.approx(df, rel=1e-12)
    assert np.isinf(d["dfcom"])
    row = p.tidy().set_index("term").loc["x"]  # HR scale by default
    q = stats.t.ppf(0.975, df)
    assert row["estimate"] == pytest.approx(np.exp(qbar), rel=1e-12)
    assert row["conf_high"] == pytest.approx(np.exp(qbar + q * np.sqrt(t)), rel=1e-12)
    assert row["p_value"] == pytest.approx(2 * stats.t.sf(qbar / np.sqrt(t), df), rel=1e-10)
    # finite dfcom: Barnard-Rubin
    p2 = pool(fits, dfcom=50)
    dobs = 51 / 53 * 50 * (1 - lam)
    assert p2.details().set_index("term").loc["x", "df"] == pytest.approx(
        df * dobs / (df + dobs), rel=1e-12
    )


def test_pool_identical_datasets_gives_complete_data_result(pbc):
    fit = linear(pbc.dropna(subset=["bili"]), "np.log(bili) ~ age")
    p = pool([fit, fit, fit])
    np.testing.assert_allclose(p.params, fit.params, rtol=1e-12)
    np.testing.assert_allclose(p.bse, fit.bse, rtol=1e-12)
    # B = 0: df = dfobs = (dfcom+1)/(dfcom+3)*dfcom with dfcom from df_resid
    dfc = fit.df_resid
    assert p.details()["df"].iloc[0] == pytest.approx((dfc + 1) / (dfc + 3) * dfc, rel=1e-12)


def test_pool_rejects_mismatched_terms():
    a = ModelResult(pd.Series({"x": 1.0}), pd.Series({"x": 0.1}))
    b = ModelResult(pd.Series({"y": 1.0}), pd.Series({"y": 0.1}))
    with pytest.raises(CalcstatsError, match="same model"):
        pool([a, b])
    with pytest.raises(CalcstatsError, match="at least 2"):
        pool([a])


@pytest.fixture(scope="module")
def incomplete():
    rng = np.random.default_rng(5)
    n = 300
    x = rng.normal(size=n)
    g = np.where(x + rng.normal(size=n) > 0, "hi", "lo")
    e = rng.choice(["a", "b", "c"], size=n)
    y = 1.0 + 2.0 * x + (g == "hi") * 0.5 + rng.normal(scale=0.5, size=n)
    d = pd.DataFrame({"y": y, "x": x, "g": g, "e": pd.Categorical(e)})
    d.loc[rng.random(n) < 0.25, "x"] = np.nan
    d.loc[rng.random(n) < 0.15, "g"] = None
    d.loc[rng.random(n) < 0.15, "e"] = np.nan
    return d


def test_mice_completes_reproducibly(incomplete):
    a = mice(incomplete, m=3, seed=11, maxit=3, progress=False)
    b = mice(incomplete, m=3, seed=11, maxit=3, progress=False)
    c = mice(incomplete, m=3, seed=12, maxit=3, progress=False)
    assert a.method == {"y": "", "x": "pmm", "g": "logreg", "e": "polyreg"}
    for da, db in zip(a.datasets, b.datasets, strict=True):
        pd.testing.assert_frame_equal(da, db)
        assert da.isna().sum().sum() == 0
        # observed values untouched; pmm imputes observed values only
        obs = incomplete["x"].notna()
        np.testing.assert_array_equal(da.loc[obs, "x"], incomplete.loc[obs, "x"])
        assert set(da.loc[~obs, "x"]) <= set(incomplete.loc[obs, "x"])
        assert set(da["g"]) <= {"hi", "lo"}
        assert isinstance(da["e"].dtype, pd.CategoricalDtype)
    assert not a.datasets[0].equals(c.datasets[0])
    assert "pmm" in repr(a)


def test_mice_recovers_regression(incomplete):
    imp = mice(incomplete, m=10, seed=3, maxit=5, progress=False)
    pooled = pool(imp.fit(lambda d: linear(d, "y ~ x + C(g)")))
    t = pooled.tidy().set_index("term")
    # truth: slope 2, effect of g=lo vs hi -0.5
    assert t.loc["x", "conf_low"] < 2.0 < t.loc["x", "conf_high"]
    assert t.loc["C(g)[T.lo]", "conf_low"] < -0.5 < t.loc["C(g)[T.lo]", "conf_high"]
    assert (pooled.details()["fmi"] > 0).all()


def test_mice_progress_and_errors(incomplete, capsys):
    mice(incomplete, m=2, seed=1, maxit=1, progress=True)
    assert "imputation 2/2" in capsys.readouterr().err
    mice(incomplete, m=2, seed=1, maxit=1, progress=False)
    assert capsys.readouterr().err == ""
    with pytest.raises(DataError, match="id or"):
        mice(incomplete.assign(pid=[f"p{i}" for i in range(len(incomplete))]), m=1)
    with pytest.raises(DataError, match="method ''"):
        mice(incomplete, m=1, method={"x": ""})


def test_pool_real_cox_and_fine_gray(pbc):
    import calcstats as cs

    d = pbc[["time", "status", "age", "bili", "chol"]].assign(logbili=np.log(pbc["bili"]))
    imp = mice(d, m=3, seed=4, maxit=2, progress=False)

    def prep(x):
        return x.assign(lchol=np.log(x["chol"]))

    for fn in (cs.cox, cs.fine_gray):
        fits = imp.fit(
            lambda x, fn=fn: fn(
                prep(x), "age + logbili + lchol", time="time", event="status", cause=2
            )
        )
        p = pool(fits)
        Q = np.vstack([f.params for f in fits])
        U = np.vstack([f.bse**2 for f in fits])
        np.testing.assert_allclose(p.params, Q.mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(
            p.bse**2, U.mean(axis=0) + (1 + 1 / 3) * Q.var(axis=0, ddof=1), rtol=1e-12
        )
        assert np.isinf(p.details()["dfcom"]).all()
        t = p.tidy()
        np.testing.assert_allclose(t["estimate"], np.exp(Q.mean(axis=0)), rtol=1e-12)


def test_mice_agrees_with_r_mice_on_pbc(pbc, ref):
    # different random draws from R's mice, so only agreement within Monte-Carlo error is
    # expected: every pooled coefficient within 0.5 pooled SE of R's (m=5, seed 2026)
    r = ref["mice_pool"]
    md = pbc[["age", "sex", "bili", "albumin", "chol", "copper", "trig", "platelet"]].copy()
    md["stage4"] = np.where(pbc["stage"].isna(), np.nan, (pbc["stage"] == 4).astype(float))
    imp = mice(md, m=10, seed=3, progress=False)
    assert imp.method["chol"] == "pmm" and imp.method["age"] == ""
    p = pool(imp.fit(lambda d: logistic(d, FORMULA)))
    z = (p.params[R_NAMES].to_numpy() - np.array(r["estimate"])) / np.sqrt(r["t"])
    assert np.all(np.abs(z) < 0.5), z


def test_mice_keeps_nullable_integer_columns():
    import calcstats as cs

    d = cs.datasets.load_pbc()[["age", "sex", "bili", "chol", "trt"]]
    imp = mice(d, m=1, seed=1, maxit=2, progress=False)
    out = imp.datasets[0]
    assert str(out["trt"].dtype) == "Int64" and set(out["trt"]) == {1, 2}
    assert out["chol"].notna().all() and str(out["chol"].dtype) == "Int64"
