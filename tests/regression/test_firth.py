"""Firth logistic regression against a direct optimisation of the penalised likelihood."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special

from calcstats.regression import logistic


@pytest.fixture(scope="module")
def firth_data(ref):
    return pd.DataFrame(ref["firth"]["data"])


def test_firth_matches_r_direct_optimisation(firth_data, ref):
    r = ref["firth"]
    fit = logistic(firth_data, "y ~ x + z", method="firth")
    t = fit.tidy(exponentiate=False)
    # R optim() BFGS with reltol 1e-14: estimates to 1e-5 relative
    np.testing.assert_allclose(t["estimate"], r["coef"], rtol=1e-5)
    # profile penalised-likelihood limits (R uniroot tol 1e-10) to 1e-5 relative
    np.testing.assert_allclose(t["conf_low"], r["lower"], rtol=1e-5)
    np.testing.assert_allclose(t["conf_high"], r["upper"], rtol=1e-5)
    # penalised LR p-values to 1e-4 relative
    np.testing.assert_allclose(t["p_value"], r["p"], rtol=1e-4)
    assert fit.loglik == pytest.approx(r["pen_loglik"], rel=1e-9)
    assert np.isfinite(t["estimate"]).all()  # finite despite separation on x
    assert "Firth" in fit.glance()["method"][0]


def test_firth_matches_scipy_penalised_likelihood(firth_data):
    fit = logistic(firth_data, "y ~ x + z", method="firth")
    X = fit.design.X.to_numpy()
    y = fit.design.y.to_numpy()

    def negpll(b):
        eta = X @ b
        p = special.expit(eta)
        info = (X * (p * (1 - p))[:, None]).T @ X
        return -(np.sum(y * eta - np.logaddexp(0, eta)) + 0.5 * np.linalg.slogdet(info)[1])

    opt = optimize.minimize(negpll, np.zeros(3), method="BFGS", options={"gtol": 1e-10})
    np.testing.assert_allclose(fit.params, opt.x, rtol=1e-5)  # 1e-5 relative


def test_firth_without_separation_close_to_ml(pbc):
    import warnings

    from calcstats import DataWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        ml = logistic(pbc, "I(stage == 4) ~ age + np.log(bili)")
        fi = logistic(pbc, "I(stage == 4) ~ age + np.log(bili)", method="firth")
    # Firth shrinks towards 0 by O(1/n): close to ML on 412 rows, but not identical
    np.testing.assert_allclose(fi.params, ml.params, rtol=0.05)
    assert not np.allclose(fi.params, ml.params, rtol=1e-6)
    # a 90% interval is inside the 95% interval
    t90 = fi.tidy(conf_level=0.90)
    t95 = fi.tidy()
    assert (t90["conf_low"] > t95["conf_low"]).all() and (t90["conf_high"] < t95["conf_high"]).all()


def test_firth_weights_equal_replication(firth_data):
    d = firth_data.assign(w=np.where(np.arange(len(firth_data)) % 2 == 0, 2.0, 1.0))
    rep = pd.concat([d, d[d["w"] == 2.0]], ignore_index=True)
    a = logistic(d, "y ~ x + z", method="firth", weights="w")
    b = logistic(rep, "y ~ x + z", method="firth")
    np.testing.assert_allclose(a.params, b.params, rtol=1e-7)
