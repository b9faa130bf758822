"""The common contract of every public estimator (in the spirit of scikit-learn's
``check_estimator``): one parametrised test file runs each one through the same checks.

Each entry is ``(name, fit)``, where ``fit(data, **options)`` calls the estimator on the
shared example data. The checks: tidy columns, ``conf_level`` honoured, ``exponentiate``
rules, repr/HTML, ``to_table()``, row-order invariance, the input not mutated, and a bad
option raising :class:`~calcstats.InvalidParameterError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats.results import TIDY_COLUMNS


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(2026)
    n = 300
    g = rng.choice(["a", "b", "c"], n)
    x = rng.normal(size=n)
    lp = 0.5 * x + np.where(g == "b", 0.4, 0.0)
    t = rng.exponential(np.exp(-lp))
    c = rng.exponential(1.5, n)
    cause = rng.choice([1, 2], n, p=[0.7, 0.3])
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "g": g,
            "x": x,
            "grp": rng.choice(["u", "v"], n),
            "time": np.minimum(t, c),
            "status": np.where(t <= c, cause, 0),
            "death": (t <= c).astype(int),
            "y": rng.binomial(1, 1 / (1 + np.exp(-lp))),
            "cnt": rng.poisson(np.exp(lp)),
            "cont": lp + rng.normal(size=n),
            "py": rng.uniform(0.5, 2, n),
            "rare": rng.binomial(1, 0.12 * np.exp(0.3 * x).clip(max=6)),
        }
    )


ModelFit = Callable[..., cs.ModelResult]

MODELS: list[tuple[str, ModelFit]] = [
    ("cox", lambda d, **k: cs.cox(d, "x + C(g)", time="time", event="death", **k)),
    (
        "fine_gray",
        lambda d, **k: cs.fine_gray(d, "x + C(g)", time="time", event="status", cause=1, **k),
    ),
    ("logistic", lambda d, **k: cs.logistic(d, "y ~ x + C(g)", **k)),
    ("poisson", lambda d, **k: cs.poisson(d, "cnt ~ x + C(g)", exposure="py", **k)),
    ("log_binomial", lambda d, **k: cs.log_binomial(d, "rare ~ x", **k)),
    ("negative_binomial", lambda d, **k: cs.negative_binomial(d, "cnt ~ x + C(g)", **k)),
    ("linear", lambda d, **k: cs.linear(d, "cont ~ x + C(g)", **k)),
]


def _ids(entries: list[tuple[str, Any]]) -> list[str]:
    return [name for name, _ in entries]


@pytest.mark.parametrize(("name", "fit"), MODELS, ids=_ids(MODELS))
def test_model_contract(data, name, fit):
    before = data.copy(deep=True)
    res = fit(data)
    pd.testing.assert_frame_equal(data, before)  # the input is not mutated
    assert isinstance(res, cs.ModelResult)
    t = res.tidy()
    assert list(t.columns) == TIDY_COLUMNS
    assert t["term"].tolist() == list(res.params.index)
    # exponentiate: ratio models default to the ratio scale, linear models do not
    raw = res.tidy(exponentiate=False)
    if res.ratio_measure is not None:
        np.testing.assert_allclose(t["estimate"], np.exp(raw["estimate"]))
    else:
        np.testing.assert_allclose(t["estimate"], raw["estimate"])
    with pytest.raises(cs.CalcstatsError):
        res.tidy(exponentiate="False")
    # conf_level is honoured, at fit time and in tidy()
    narrow = res.tidy(exponentiate=False, conf_level=0.8)
    assert (narrow["conf_high"] - narrow["conf_low"] < raw["conf_high"] - raw["conf_low"]).all()
    res90 = fit(data, conf_level=0.9)
    np.testing.assert_allclose(
        res90.tidy(exponentiate=False)["conf_low"],
        res.tidy(exponentiate=False, conf_level=0.9)["conf_low"],
    )
    # glance, covariance, per-term tests, inline
    g = res.glance()
    assert len(g) == 1 and bool(g["converged"][0]) and g["n"][0] == res.nobs
    assert res.cov.shape == (len(res.params), len(res.params))
    tt = res.term_tests()
    assert list(tt.columns) == ["term", "df", "statistic", "p_value", "method"]
    assert "Intercept" not in set(tt["term"])
    assert "CI" in res.inline(res.params.index[-1])
    # display
    assert res.method and res.method in repr(res)
    assert "<" in res._repr_html_()
    assert isinstance(res.to_table(), cs.Table)
    # rows in another order: the same fit
    shuffled = fit(data.sample(frac=1.0, random_state=3))
    np.testing.assert_allclose(shuffled.params, res.params, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(shuffled.bse, res.bse, rtol=1e-6)
    # a bad option is an InvalidParameterError that names the parameter and the function
    with pytest.raises(cs.InvalidParameterError, match="'conf_level' parameter of"):
        fit(data, conf_level=95)


# ---- every other result type: tidy, to_table, repr, conf_level, bad options -------------
Fit = Callable[..., cs.Result]

OTHERS: list[tuple[str, Fit, str]] = [
    # (name, fit(data, **options), the tidy column that must hold the estimates)
    (
        "kaplan_meier",
        lambda d, **k: cs.kaplan_meier(d, time="time", event="death", by="grp", **k),
        "estimate",
    ),
    (
        "cumulative_incidence",
        lambda d, **k: cs.cumulative_incidence(
            d, time="time", event="status", cause=1, by="grp", **k
        ),
        "estimate",
    ),
    (
        "rmst",
        lambda d, **k: cs.rmst(d, time="time", event="death", tau=1.0, by="grp", **k),
        "estimate",
    ),
    ("prevalence", lambda d, **k: cs.prevalence(d, outcome="y", by="grp", **k), "estimate"),
    (
        "incidence_rate",
        lambda d, **k: cs.incidence_rate(d, time="time", event="death", by="grp", **k),
        "rate",
    ),
    (
        "rate_ratio",
        lambda d, **k: cs.rate_ratio(d, time="time", event="death", by="grp", reference="u", **k),
        "estimate",
    ),
    (
        "mantel_haenszel",
        lambda d, **k: cs.mantel_haenszel(d, exposure="y", outcome="death", strata="grp", **k),
        "estimate",
    ),
    (
        "adjusted_curves",
        lambda d, **k: cs.adjusted_curves(
            cs.cox(d, "x + C(grp)", time="time", event="death"),
            d,
            variable="grp",
            times=[0.5, 1.0],
            **k,
        ),
        "estimate",
    ),
]

TESTS: list[tuple[str, Fit, dict[str, Any]]] = [
    # (name, fit, a bad option)
    (
        "logrank",
        lambda d, **k: cs.logrank(d, time="time", event="death", by="grp", **k),
        {"trend": "yes"},
    ),
    (
        "gray_test",
        lambda d, **k: cs.gray_test(d, time="time", event="status", cause=1, by="grp", **k),
        {"rho": -1},
    ),
]


@pytest.mark.parametrize(("name", "fit", "column"), OTHERS, ids=[n for n, _, _ in OTHERS])
def test_estimate_and_curve_contract(data, name, fit, column):
    before = data.copy(deep=True)
    res = fit(data)
    pd.testing.assert_frame_equal(data, before)
    assert isinstance(res, cs.Result)
    t = res.tidy()
    assert column in t.columns and np.isfinite(t[column]).any()
    assert "conf_low" in t.columns and "conf_high" in t.columns
    # conf_level honoured
    wide = fit(data, conf_level=0.99).tidy()
    width = (t["conf_high"] - t["conf_low"]).to_numpy()
    wider = (wide["conf_high"] - wide["conf_low"]).to_numpy()
    ok = np.isfinite(width) & np.isfinite(wider) & (width > 0)
    assert ok.any() and (wider[ok] > width[ok]).all()
    # display and the publication table
    assert res.method and isinstance(repr(res), str) and "<" in res._repr_html_()
    table = res.to_table()
    assert isinstance(table, cs.Table) and len(table.body) > 0
    # rows in another order: the same numbers
    again = fit(data.sample(frac=1.0, random_state=5)).tidy()
    pd.testing.assert_frame_equal(
        again.reset_index(drop=True), t.reset_index(drop=True), check_exact=False, rtol=1e-10
    )
    with pytest.raises(cs.InvalidParameterError, match="'conf_level' parameter of"):
        fit(data, conf_level=95)


@pytest.mark.parametrize(("name", "fit", "bad"), TESTS, ids=[n for n, _, _ in TESTS])
def test_test_contract(data, name, fit, bad):
    res = fit(data)
    assert isinstance(res, cs.TestResult)
    assert list(res.tidy().columns) == ["statistic", "df", "p_value", "method"]
    assert 0 <= res.p_value <= 1 and res.df >= 1
    assert res.inline().startswith("χ²(")
    assert isinstance(res.to_table(), cs.Table)
    again = fit(data.sample(frac=1.0, random_state=5))
    assert again.statistic == pytest.approx(res.statistic, rel=1e-10)
    with pytest.raises(cs.InvalidParameterError, match=f"parameter of {name}"):
        fit(data, **bad)
