"""Numerically sound GLMs: invariance to affine rescaling, clear limits, zero weights."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import calcstats as cs


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 300
    x = rng.normal(size=n)
    g = rng.choice(["a", "b", "c"], n)
    eta = -0.3 + 0.8 * x + np.where(g == "b", 0.5, 0.0)
    return pd.DataFrame(
        {
            "x": x,
            "g": g,
            "py": rng.uniform(0.5, 2, n),
            "y": rng.binomial(1, 1 / (1 + np.exp(-eta))),
            "cnt": rng.poisson(np.exp(eta)),
            "cont": eta + rng.normal(size=n),
            "w": rng.uniform(0.5, 2, n),
        }
    )


def _fits(d: pd.DataFrame, term: str) -> dict[str, cs.RegressionResult]:
    f = f"~ {term} + C(g)"
    return {
        "logistic": cs.logistic(d, "y " + f),
        "poisson": cs.poisson(d, "cnt " + f, exposure="py"),
        "linear": cs.linear(d, "cont " + f),
        "weighted": cs.logistic(d, "y " + f, weights="w", robust=True),
    }


@given(k=st.integers(min_value=-8, max_value=8), shift=st.sampled_from([0.0, 1e7, -3e4, 1e4]))
@example(k=8, shift=1e4)  # y ~ 1e8*x + 1e12
@example(k=0, shift=1e7)  # y ~ x + 1e7
@example(k=-8, shift=0.0)
def test_glm_invariant_to_affine_rescaling(data, k, shift):
    """y ~ x and y ~ 10^k (x + shift): same p-values, log-likelihood and fitted values.

    The shift is relative to the scale (the covariate must survive its own float64
    rounding: 1e-7*x + 1e12 keeps no digit of x, whatever the library does).
    """
    base = _fits(data, "x")
    d = data.assign(xs=(data["x"] + shift) * 10.0**k)
    scaled = _fits(d, "xs")
    for name, a in base.items():
        b = scaled[name]
        assert b.loglik == pytest.approx(a.loglik, rel=1e-8), name
        ta = a.tidy().set_index("term")
        tb = b.tidy().set_index("term")
        assert tb.loc["xs", "p_value"] == pytest.approx(ta.loc["x", "p_value"], rel=1e-6)
        assert tb.loc["xs", "statistic"] == pytest.approx(ta.loc["x", "statistic"], rel=1e-7)
        assert b.params["xs"] * 10.0**k == pytest.approx(a.params["x"], rel=1e-7)
        fa = a.frame.X @ a.params.to_numpy()
        fb = b.frame.X @ b.params.to_numpy()
        np.testing.assert_allclose(fb, fa, rtol=1e-7, atol=1e-7)


def test_shifted_covariate_is_not_called_collinear(data):
    """The old rank check called x + 1e7 'a linear combination' of the intercept."""
    d = data.assign(big=data["x"] + 1e7)
    fit = cs.logistic(d, "y ~ big")
    ref = cs.logistic(data, "y ~ x")
    assert fit.params["big"] == pytest.approx(ref.params["x"], rel=1e-8)
    assert fit.tidy()["p_value"][1] == pytest.approx(ref.tidy()["p_value"][1], rel=1e-7)


def test_firth_with_epoch_seconds_covariate(data):
    """Dates as epoch seconds (~1.7e9) used to end in a bare LinAlgError."""
    d = data.assign(when=1.7e9 + 86400.0 * np.arange(len(data)))
    fit = cs.logistic(d, "y ~ when + x", method="firth")
    days = cs.logistic(
        d.assign(day=np.arange(len(data), dtype=float)), "y ~ day + x", method="firth"
    )
    assert fit.params["when"] * 86400 == pytest.approx(days.params["day"], rel=1e-6)
    assert fit.converged and np.isfinite(fit.tidy()["conf_low"]).all()


def test_linear_with_too_few_rows_is_a_clear_error():
    d = pd.DataFrame({"y": [1.0, 2.0, 3.0], "a": [1.0, 2.0, 4.0], "b": [0.0, 1.0, 0.5]})
    with pytest.raises(cs.DataError, match="3 coefficients but only 3 analysed rows"):
        cs.linear(d, "y ~ a + b")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy RuntimeWarnings either
        fit = cs.linear(d.iloc[:3].assign(y=[1.0, 2.5, 2.9]), "y ~ a")
    assert np.isfinite(fit.bse).all()


def test_zero_weights_set_the_row_aside_everywhere(data):
    """A zero weight means 'not in the analysis': identical to dropping the row; nobs counts
    positive weights; glance reports how many were set aside."""
    d = data.assign(w0=np.where(np.arange(len(data)) < 40, 0.0, data["w"]))
    kept = d.iloc[40:]
    pairs = [
        (
            cs.logistic(d, "y ~ x + C(g)", weights="w0"),
            cs.logistic(kept, "y ~ x + C(g)", weights="w0"),
        ),
        (
            cs.poisson(d, "cnt ~ x", exposure="py", weights="w0"),
            cs.poisson(kept, "cnt ~ x", exposure="py", weights="w0"),
        ),
        (cs.linear(d, "cont ~ x", weights="w0"), cs.linear(kept, "cont ~ x", weights="w0")),
    ]
    for zero, dropped in pairs:
        np.testing.assert_allclose(zero.params, dropped.params, rtol=1e-10)
        np.testing.assert_allclose(zero.bse, dropped.bse, rtol=1e-10)
        assert zero.nobs == len(kept) == dropped.nobs
        assert zero.glance()["n_zero_weight"][0] == 40
    with pytest.raises(cs.DataError, match=r"finite numbers >= 0; 1 row\(s\) do not \(rows \[3\]"):
        cs.logistic(d.assign(w0=np.where(np.arange(len(d)) == 3, -1.0, 1.0)), "y ~ x", weights="w0")


def test_one_lr_test_for_glms_and_cox():
    import calcstats as cs

    pbc = cs.datasets.load_pbc().dropna(subset=["bili", "albumin"])
    full = cs.cox(pbc, "age + log(bili) + albumin", time="time", event="status", cause=2)
    red = cs.cox(pbc, "age + log(bili)", time="time", event="status", cause=2)
    t = cs.lr_test(red, full)
    assert t.df == 1
    assert t.statistic == pytest.approx(2 * (full.loglik - red.loglik), rel=1e-12)
    other = cs.cox(pbc.iloc[10:], "age + log(bili)", time="time", event="status", cause=2)
    with pytest.raises(cs.CalcstatsError, match="not fitted on the same rows"):
        cs.lr_test(other, full)


def test_bad_options_raise_one_error_type(data):
    cases = [
        (lambda: cs.logistic(data, "y ~ x", method="exact"), "'method' parameter of logistic"),
        (lambda: cs.logistic(data, "y ~ x", conf_level=95), "Use 0.95, not 95"),
        (lambda: cs.poisson(data, "cnt ~ x", robust="yes"), "'robust' parameter of poisson"),
        (lambda: cs.linear(data, "cont ~ x", ci_method="profile"), "unexpected keyword"),
        (lambda: cs.negative_binomial(data, "cnt ~ x", conf_level=0), "conf_level"),
        (lambda: cs.evalue(2.0, measure="RD"), "'measure' parameter of evalue"),
        (lambda: cs.mice(data, m=0), "'m' parameter of mice must be an integer >= 1"),
        (lambda: cs.pool([], dfcom=-1), "'dfcom' parameter of pool"),
    ]
    for call, message in cases:
        with pytest.raises((cs.InvalidParameterError, TypeError), match=message):
            call()
    with pytest.raises(cs.InvalidParameterError) as err:
        cs.logistic(data, "y ~ x", ci_method="bogus")
    assert isinstance(err.value, ValueError) and isinstance(err.value, cs.CalcstatsError)
