"""cs.cox against R's coxph (tests/reference/survival_models.R → survival_models.json)."""

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
from calcstats.survival._concordance import concordance_counts

REF = Path(__file__).parent.parent / "reference"
ROOT = Path(__file__).parent.parent.parent
MAYO = "age + edema + log(bili) + log(albumin) + log(protime)"


@pytest.fixture(scope="module")
def mref() -> dict:
    return json.loads((REF / "survival_models.json").read_text())


@pytest.fixture(scope="module")
def pbc_all() -> pd.DataFrame:
    return pd.read_csv(ROOT / "data" / "pbc.csv")


@pytest.fixture(scope="module")
def pbc312(pbc_all) -> pd.DataFrame:
    d = pbc_all[pbc_all["trt"].notna()].copy()
    d["death"] = (d["status"] == 2).astype(int)
    d["clus"] = d["id"] % 40
    d["w"] = 1 + (d["id"] % 3) / 2
    return d


@pytest.fixture(scope="module")
def split() -> pd.DataFrame:
    return pd.read_csv(REF / "survival_models_data" / "pbc_split.csv")


@pytest.fixture(scope="module")
def ties() -> pd.DataFrame:
    return pd.read_csv(REF / "survival_models_data" / "heavy_ties.csv")


def _r_names(terms):
    return [
        t.replace("C(g)[T.", "g")
        .replace("C(stage)[T.", "factor(stage)")
        .replace(".0]", "")
        .replace("]", "")
        for t in terms
    ]


def _check(fit, r, *, coef_rtol=1e-6, se_rtol=1e-6):
    names = _r_names(fit.params.index)
    coef = pd.Series(fit.params.to_numpy(), index=names)[r["term"]].to_numpy()
    se = pd.Series(fit.bse.to_numpy(), index=names)[r["term"]].to_numpy()
    np.testing.assert_allclose(coef, r["coef"], rtol=coef_rtol)  # coefficients: 1e-6 rel (DESIGN)
    np.testing.assert_allclose(se, r["se"], rtol=se_rtol)  # SEs: 1e-6 rel
    g = fit.glance().iloc[0]
    np.testing.assert_allclose(g["log_likelihood"], r["loglik"][1], rtol=1e-8)
    np.testing.assert_allclose(g["concordance"], r["concordance"], rtol=1e-8)
    np.testing.assert_allclose(g["lr_statistic"], r["lr"], rtol=1e-6)
    np.testing.assert_allclose(g["wald_statistic"], r["wald"], rtol=1e-6)
    np.testing.assert_allclose(g["score_statistic"], r["score"], rtol=1e-6)
    assert g["n"] == r["n"] and g["n_events"] == r["nevent"]


CASES = {
    "mayo_efron": ("pbc312", MAYO, {"time": "time", "event": "death"}),
    "mayo_breslow": ("pbc312", MAYO, {"time": "time", "event": "death", "ties": "breslow"}),
    "mayo_strata": (
        "pbc312",
        "age + log(bili) + log(albumin) + log(protime)",
        {"time": "time", "event": "death", "strata": "edema"},
    ),
    "mayo_cluster": ("pbc312", MAYO, {"time": "time", "event": "death", "cluster": "clus"}),
    "mayo_weights": ("pbc312", MAYO, {"time": "time", "event": "death", "weights": "w"}),
    "stage_factor": (
        "pbc_all",
        "C(stage) + age + log(bili)",
        {"time": "time", "event": "status", "cause": 2},
    ),
    "transplant_cause": (
        "pbc_all",
        "age + log(bili)",
        {"time": "time", "event": "status", "cause": 1},
    ),
    "split_same": ("split", MAYO, {"time": "time", "event": "death", "start": "tstart"}),
    "split_tv": (
        "split",
        "age + edema + log(bili) + late_bili",
        {"time": "time", "event": "death", "start": "tstart", "cluster": "id"},
    ),
    "split_tv_breslow_strata": (
        "split",
        "age + log(bili) + late_bili",
        {
            "time": "time",
            "event": "death",
            "start": "tstart",
            "ties": "breslow",
            "weights": "w",
            "strata": "edema",
        },
    ),
    "ties_efron": ("ties", "x + b + C(g)", {"time": "time", "event": "status"}),
    "ties_breslow": (
        "ties",
        "x + b + C(g)",
        {"time": "time", "event": "status", "ties": "breslow"},
    ),
    "ties_all": (
        "ties",
        "x + b + C(g)",
        {"time": "time", "event": "status", "strata": "s", "weights": "w", "cluster": "cl"},
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_matches_coxph(case, mref, request):
    data_name, formula, kw = CASES[case]
    data = request.getfixturevalue(data_name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cs.DataWarning)  # stage has 6 missing: recorded
        fit = cs.cox(data, formula, **kw)
    _check(fit, mref[case])


def test_pbc_reference_json(pbc312, pbc_reference):
    for key, ties in [("cox_mayo_efron", "efron"), ("cox_mayo_breslow", "breslow")]:
        fit = cs.cox(pbc312, MAYO, time="time", event="death", ties=ties)
        np.testing.assert_allclose(fit.params, pbc_reference[key]["coef"], rtol=1e-6)
        np.testing.assert_allclose(fit.bse, pbc_reference[key]["se"], rtol=1e-6)
    assert fit.ratio_measure == "HR"


def test_tidy_and_glance(pbc312, mref):
    fit = cs.cox(pbc312, MAYO, time="time", event="death", conf_level=0.9)
    t = fit.tidy()
    assert list(t.columns) == [
        "term",
        "estimate",
        "std_error",
        "statistic",
        "p_value",
        "conf_low",
        "conf_high",
    ]
    np.testing.assert_allclose(t["estimate"], np.exp(mref["mayo_efron"]["coef"]), rtol=1e-6)
    z = 1.6448536269514722
    np.testing.assert_allclose(t["conf_low"], np.exp(fit.params - z * fit.bse), rtol=1e-10)
    g = fit.glance()
    for col in [
        "n",
        "n_events",
        "log_likelihood",
        "aic",
        "concordance",
        "lr_p_value",
        "wald_p_value",
        "score_p_value",
        "method",
    ]:
        assert col in g.columns
    assert "Efron" in repr(fit)
    assert fit.model.converged


def test_missing_rows_warn_and_counted(pbc_all):
    with pytest.warns(cs.DataWarning, match=r"6 of 418 rows .* stage \(6\)"):
        fit = cs.cox(pbc_all, "C(stage) + age", time="time", event="status", cause=2)
    g = fit.glance().iloc[0]
    assert g["n"] == 412 and g["n_dropped"] == 6


def test_hr_of_negated_covariate_is_inverse(pbc312):
    d = pbc312.assign(neg_age=-pbc312["age"])
    a = cs.cox(d, "age + log(bili)", time="time", event="death")
    b = cs.cox(d, "neg_age + log(bili)", time="time", event="death")
    np.testing.assert_allclose(a.tidy()["estimate"][0], 1 / b.tidy()["estimate"][0], rtol=1e-9)
    np.testing.assert_allclose(a.bse.iloc[0], b.bse.iloc[0], rtol=1e-9)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), ties=st.sampled_from(["efron", "breslow"]))
def test_invariant_to_row_order(seed, ties):
    rng = np.random.default_rng(seed)
    n = 80
    d = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "z": rng.integers(0, 3, n),
            "time": rng.integers(1, 12, n).astype(float),
            "event": rng.integers(0, 2, n),
            "s": rng.integers(0, 2, n),
        }
    )
    d.loc[0, "event"] = 1
    a = cs.cox(d, "x + z", time="time", event="event", ties=ties, strata="s")
    b = cs.cox(
        d.sample(frac=1, random_state=seed),
        "x + z",
        time="time",
        event="event",
        ties=ties,
        strata="s",
    )
    np.testing.assert_allclose(a.params, b.params, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(a.bse, b.bse, rtol=1e-8)
    np.testing.assert_allclose(a.concordance, b.concordance, rtol=1e-12)


def test_concordance_brute_force():
    rng = np.random.default_rng(3)
    n = 150
    t = rng.integers(1, 30, n).astype(float)
    e = rng.random(n) < 0.6
    sc = rng.integers(0, 10, n).astype(float)
    w = rng.random(n) + 0.5
    s = rng.integers(0, 2, n)
    start = np.maximum(0, t - rng.integers(1, 20, n))
    for st_ in (None, start):
        conc = disc = tied = 0.0
        for i in np.flatnonzero(e):
            for j in range(n):
                if j == i or s[j] != s[i]:
                    continue
                at_risk = t[j] > t[i] or (t[j] == t[i] and not e[j])
                if st_ is not None:
                    at_risk = at_risk and st_[j] < t[i]
                if at_risk:
                    ww = w[i] * w[j]
                    conc += ww * (sc[j] < sc[i])
                    disc += ww * (sc[j] > sc[i])
                    tied += ww * (sc[j] == sc[i])
        got = concordance_counts(t, e, sc, weights=w, strata=s, start=st_)
        np.testing.assert_allclose(
            [got["concordant"], got["discordant"], got["tied_x"]], [conc, disc, tied], rtol=1e-10
        )


def test_bad_input(pbc312):
    d = pbc312.copy()
    with pytest.raises(cs.SchemaError, match=r"[Dd]id you mean"):
        cs.cox(d, "agee", time="time", event="death")
    with pytest.raises(cs.SchemaError, match="time='tim' is not a column"):
        cs.cox(d, "age", time="tim", event="death")
    neg = d.assign(time=d["time"].where(d.index != d.index[0], -1.0))
    with pytest.raises(cs.DataError, match="negative"):
        cs.cox(neg, "age", time="time", event="death")
    with pytest.raises(cs.DataError, match="no events"):
        cs.cox(d.assign(death=0), "age", time="time", event="death")
    with pytest.raises(cs.DataError, match="'k' in 'age \\+ k' is constant"):
        cs.cox(d.assign(k=1.0), "age + k", time="time", event="death")
    with pytest.raises(cs.DataError, match="more than one event type"):
        cs.cox(d, "age", time="time", event="status")
    with pytest.raises(cs.DataError, match="cause=3 does not occur"):
        cs.cox(d, "age", time="time", event="status", cause=3)
    with pytest.raises(cs.DataError, match=r"rank deficient.*age2.*linear combination"):
        cs.cox(d.assign(age2=2 * d["age"] + 1), "age + age2", time="time", event="death")
    with pytest.raises(cs.SchemaError, match="left-hand side"):
        cs.cox(d, "time ~ age", time="time", event="death")
    with pytest.raises(
        cs.InvalidParameterError,
        match="The 'ties' parameter of cox must be one of 'efron', 'breslow'",
    ):
        cs.cox(d, "age", time="time", event="death", ties="exact")
    with pytest.raises(cs.DataError, match="start < stop"):
        cs.cox(d.assign(t0=d["time"]), "age", time="time", event="death", start="t0")
    with pytest.raises(cs.DataError, match="every weight in 'w' is zero"):
        cs.cox(d.assign(w=0.0), "age", time="time", event="death", weights="w")
    with pytest.raises(cs.DataError, match=r"finite numbers >= 0.*-1.0"):
        cs.cox(d.assign(w=-1.0), "age", time="time", event="death", weights="w")


def test_monotone_likelihood_warns():
    rng = np.random.default_rng(1)
    n = 60
    x = np.r_[np.zeros(30), np.ones(30)]
    time = np.r_[rng.uniform(5, 10, 30), rng.uniform(0, 4, 30)]
    # every event happens in group x = 1 and all x = 1 subjects fail before any x = 0 one
    d = pd.DataFrame({"x": x, "z": rng.normal(size=n), "time": time, "event": (x == 1).astype(int)})
    with pytest.warns(cs.ConvergenceWarning, match=r"does not exist for x .*\+∞"):
        fit = cs.cox(d, "x + z", time="time", event="event")
    t = fit.tidy().set_index("term")
    assert np.isnan(t.loc["x", ["estimate", "conf_low", "conf_high", "p_value"]]).all()
    assert np.isfinite(t.loc["z", "estimate"])
    assert not fit.glance()["converged"][0] and "x" in fit.nonestimable
