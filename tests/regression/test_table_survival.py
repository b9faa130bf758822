"""regression_table with survival results: cause-specific Cox and Fine–Gray side by side."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import calcstats as cs
from calcstats import CalcstatsError, DataWarning, SchemaError
from calcstats.regression import logistic, pool, regression_table, univariable
from calcstats.regression._table_view import table_view
from calcstats.tables import format_ci, format_p

NBSP = "\u00a0"
ADJ = "C(edema) + age + np.log(bili)"


@pytest.fixture(scope="module")
def pbc() -> pd.DataFrame:
    return cs.datasets.load_pbc()


@pytest.fixture(scope="module")
def four(pbc):
    kw = {"time": "time", "event": "status", "cause": 2}
    return (cs.cox(pbc, "C(edema)", **kw), cs.cox(pbc, ADJ, **kw),
            cs.fine_gray(pbc, "C(edema)", **kw), cs.fine_gray(pbc, ADJ, **kw))


def _wald(result, cols):
    """Independent joint Wald chi-square of ``cols``: (statistic, p)."""
    b = result.params[cols].to_numpy()
    V = result.cov.loc[cols, cols].to_numpy()
    w = float(b @ np.linalg.inv(V) @ b)
    return w, float(stats.chi2.sf(w, len(cols)))


def _cols(k: int) -> tuple[str, str]:
    return "HR (95% CI)" + NBSP * k, "p-value" + NBSP * k


def test_cox_and_fine_gray_crude_adjusted(pbc, four):
    t = regression_table(*four, labels=["CS crude", "CS adjusted", "FG crude", "FG adjusted"],
                         variable_labels={"edema": "Edema", "np.log(bili)": "log bilirubin"})
    b = t.body
    assert list(b.columns) == ["Characteristic", "N", "Events",
                               "HR (95% CI)", "p-value", "HR (95% CI)" + NBSP, "p-value" + NBSP,
                               "sHR (95% CI)" + NBSP * 2, "p-value" + NBSP * 2,
                               "sHR (95% CI)" + NBSP * 3, "p-value" + NBSP * 3]
    assert list(b["Characteristic"]) == ["Edema", "0.0", "0.5", "1.0", "age", "log bilirubin"]
    assert list(t.indent) == [0, 1, 1, 1, 0, 0]
    # N and events (deaths, status == 2) per edema level, counted from the data
    for i, lev in ((1, 0.0), (2, 0.5), (3, 1.0)):
        sub = pbc[pbc["edema"] == lev]
        assert b.loc[i, "N"] == str(len(sub))
        assert b.loc[i, "Events"] == str(int((sub["status"] == 2).sum()))
    assert list(b.loc[4:5, "N"]) == [str(len(pbc))] * 2
    assert list(b.loc[4:5, "Events"]) == [str(int((pbc["status"] == 2).sum()))] * 2
    rows = {"C(edema)[T.0.5]": 2, "C(edema)[T.1.0]": 3, "age": 4, "np.log(bili)": 5}
    for k, fit in enumerate(four):
        measure = "HR" if k < 2 else "sHR"
        est_col = f"{measure} (95% CI)" + NBSP * k
        p_col = "p-value" + NBSP * k
        td = fit.tidy().set_index("term")
        assert set(td.index) <= set(rows)
        for term, i in rows.items():
            if term in td.index:
                r = td.loc[term]
                assert b.loc[i, est_col] == format_ci(r["estimate"], r["conf_low"],
                                                      r["conf_high"], digits=2)
                assert b.loc[i, p_col] == format_p(r["p_value"], digits=3)
            else:
                assert b.loc[i, est_col] == "" and b.loc[i, p_col] == ""
        # reference row and the global (2-df Wald) p-value of edema on its header row
        assert b.loc[1, est_col] == "1.00 (ref)" and b.loc[1, p_col] == ""
        _, p = _wald(fit, ["C(edema)[T.0.5]", "C(edema)[T.1.0]"])
        assert b.loc[0, p_col] == format_p(p, digits=3) and b.loc[0, est_col] == ""
    raw = t.to_frame()
    assert len(raw) == 2 + 4 + 2 + 4
    fg = raw[raw["model"] == "FG adjusted"].set_index("term")
    np.testing.assert_allclose(fg["estimate"], four[3].tidy().set_index("term")["estimate"],
                               rtol=1e-12)
    notes = " ".join(t.footnotes)
    assert "Surv(time, status == 2) ~ C(edema) + age + np.log(bili)" in notes
    assert "crr(time, status, failcode = 2) ~ C(edema)" in notes
    n_comp = int((pbc["status"] == 1).sum())
    assert f"({n_comp} competing events)" in notes


def test_global_wald_statistic_independent(four):
    """The adapter's Wald statistic equals b'V^-1 b computed here (to 1e-10 relative)."""
    for fit in four:
        tests = table_view(fit).term_tests("wald").set_index("term")
        w, p = _wald(fit, ["C(edema)[T.0.5]", "C(edema)[T.1.0]"])
        np.testing.assert_allclose(tests.loc["C(edema)", "statistic"], w, rtol=1e-10)
        np.testing.assert_allclose(tests.loc["C(edema)", "p_value"], p, rtol=1e-10)
        assert tests.loc["C(edema)", "df"] == 2
        if "age" in tests.index:
            z = fit.params["age"] / fit.bse["age"]
            np.testing.assert_allclose(tests.loc["age", "statistic"], z**2, rtol=1e-10)
    # one-term crude Cox: the term test is the model's overall Wald test
    np.testing.assert_allclose(table_view(four[0]).term_tests("wald")["statistic"].iloc[0],
                               four[0].glance()["wald_statistic"][0], rtol=1e-10)


def test_missing_values_and_integer_levels(pbc):
    """N/events per trt level count the analysed (complete) rows of the model with trt."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        crude = cs.cox(pbc, "C(edema)", time="time", event="status", cause=2)
        adj = cs.cox(pbc, "C(edema) + C(trt)", time="time", event="status", cause=2)
    t = regression_table(crude, adj, labels=["Crude", "Adjusted"])
    b = t.body.set_index("Characteristic")
    trial = pbc[pbc["trt"].notna()]
    for lev in (1, 2):
        sub = trial[trial["trt"] == lev]
        assert b.loc[str(lev), "N"] == str(len(sub))
        assert b.loc[str(lev), "Events"] == str(int((sub["status"] == 2).sum()))
    assert b.loc["1", "HR (95% CI)" + NBSP] == "1.00 (ref)"
    r = adj.tidy().set_index("term").loc["C(trt)[T.2]"]
    assert b.loc["2", "HR (95% CI)" + NBSP] == format_ci(r["estimate"], r["conf_low"],
                                                         r["conf_high"])
    # edema rows come from the first model (all 418 rows)
    assert b.loc["0.0", "N"] == str(int((pbc["edema"] == 0).sum()))


def test_mixing_logistic_and_cox(pbc):
    """Kinds mix: each model keeps its own measure; N/Events from the first model."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        lo = logistic(pbc, "I(stage == 4) ~ C(edema) + age")
    cx = cs.cox(pbc, "C(edema) + age", time="time", event="status", cause=2)
    t = regression_table(lo, cx, labels=["Stage 4", "Death"])
    b = t.body
    assert "OR (95% CI)" in b.columns and "HR (95% CI)" + NBSP in b.columns
    r = cx.tidy().set_index("term").loc["age"]
    row = b.index[b["Characteristic"] == "age"][0]
    assert b.loc[row, "HR (95% CI)" + NBSP] == format_ci(r["estimate"], r["conf_low"],
                                                        r["conf_high"])
    assert b.loc[row, "N"] == str(lo.nobs) and lo.nobs != cx.nobs
    assert b.loc[1, "Events"] == str(int(((pbc["stage"] == 4) & (pbc["edema"] == 0)).sum()))


def _split(pbc: pd.DataFrame, at: float) -> pd.DataFrame:
    """Counting-process rows: split follow-up at ``at`` days; bilirubin doubles after it."""
    d = pbc[["id", "time", "status", "age", "bili"]].copy()
    early = d[d["time"] > at].assign(start=0.0, stop=at, status=0)
    late = d[d["time"] > at].assign(start=at, stop=lambda x: x["time"].astype(float),
                                    bili=lambda x: 2 * x["bili"])
    once = d[d["time"] <= at].assign(start=0.0, stop=lambda x: x["time"].astype(float))
    out = pd.concat([early, late, once], ignore_index=True)
    out["high"] = (out["bili"] > 2).astype(int)
    return out


def test_counting_process_n_patients_or_intervals(pbc):
    cp = _split(pbc, 1000.0)
    kw = {"time": "stop", "start": "start", "event": "status", "cause": 2}
    by_id = cs.cox(cp, "C(high) + age", cluster="id", **kw)
    b = regression_table(by_id).body.set_index("Characteristic")
    for lev in (0, 1):
        sub = cp[cp["high"] == lev]
        assert b.loc[str(lev), "N"] == str(sub["id"].nunique())
        assert b.loc[str(lev), "Events"] == str(int((sub["status"] == 2).sum()))
    assert b.loc["age", "N"] == str(pbc["id"].nunique())
    notes = " ".join(regression_table(by_id).footnotes)
    assert "N = patients (distinct id)" in notes and f"{len(cp)} (start, stop] intervals" in notes
    no_id = cs.cox(cp, "C(high) + age", **kw)
    t2 = regression_table(no_id)
    b2 = t2.body.set_index("Characteristic")
    assert b2.loc["1", "N"] == str(int((cp["high"] == 1).sum()))
    assert b2.loc["age", "N"] == str(len(cp))
    assert "N = (start, stop] intervals, not patients" in " ".join(t2.footnotes)


def test_pooled_cox_results(pbc):
    rng = np.random.default_rng(1)
    fits = []
    for _ in range(3):
        d = pbc.assign(age=pbc["age"] + rng.normal(0, 1, len(pbc)))
        fits.append(cs.cox(d, ADJ, time="time", event="status", cause=2))
    pooled = pool(fits)
    t = regression_table(pooled, fits[0], labels=["Pooled", "First"])
    b = t.body
    r = pooled.tidy().set_index("term").loc["age"]
    row = b.index[b["Characteristic"] == "age"][0]
    assert b.loc[row, "HR (95% CI)"] == format_ci(r["estimate"], r["conf_low"], r["conf_high"])
    assert b.loc[0, "p-value"] == ""                 # no global p for pooled results
    assert b.loc[0, "p-value" + NBSP] != ""
    assert "pooled over 3 imputed data sets" in " ".join(t.footnotes)


def test_errors(four):
    with pytest.raises(CalcstatsError, match=r"global_p='lr'.*CoxResult"):
        regression_table(four[1], global_p="lr")
    with pytest.raises(SchemaError, match="argument 2 is a dict"):
        regression_table(four[0], {"coef": 1})
    t = regression_table(four[2], global_p=False, reference="dash")
    assert t.body.loc[0, "p-value"] == "" and t.body.loc[1, "sHR (95% CI)"] == "—"


def test_global_wald_matches_r(four):
    """Edema's 2-df Wald test vs coxph / crr (tests/reference/table_survival.R): 1e-5 rel."""
    path = Path(__file__).resolve().parents[1] / "reference" / "table_survival.json"
    ref = json.loads(path.read_text())
    for fit, key in zip(four, ("cox_crude", "cox_adjusted", "crr_crude", "crr_adjusted"),
                        strict=True):
        r = ref[key]
        np.testing.assert_allclose(fit.params.to_numpy(), r["coef"], rtol=1e-5)
        tests = table_view(fit).term_tests("wald").set_index("term")
        np.testing.assert_allclose(tests.loc["C(edema)", "statistic"], r["statistic"], rtol=1e-5)
        np.testing.assert_allclose(tests.loc["C(edema)", "p_value"], r["p_value"], rtol=1e-4)


def test_univariable_cox_and_fine_gray(pbc):
    """One survival model per covariate; numbers equal the separate fits' tidy()."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        t = univariable(pbc, "status", ["age", "C(edema)", "np.log(chol)"], model="cox",
                        time="time", cause=2, variable_labels={"edema": "Edema"})
        chol = cs.cox(pbc, "np.log(chol)", time="time", event="status", cause=2)
    b = t.body
    assert list(b["Characteristic"]) == ["age", "Edema", "0.0", "0.5", "1.0", "np.log(chol)"]
    r = chol.tidy().set_index("term").loc["np.log(chol)"]
    assert b.loc[5, "HR (95% CI)"] == format_ci(r["estimate"], r["conf_low"], r["conf_high"])
    assert b.loc[5, "N"] == str(int(pbc["chol"].notna().sum()))
    assert b.loc[5, "Events"] == str(int((pbc.loc[pbc["chol"].notna(), "status"] == 2).sum()))
    crude = cs.cox(pbc, "C(edema)", time="time", event="status", cause=2)
    assert b.loc[1, "p-value"] == format_p(_wald(crude, ["C(edema)[T.0.5]",
                                                         "C(edema)[T.1.0]"])[1])
    assert b.loc[2, "HR (95% CI)"] == "1.00 (ref)"
    fg = univariable(pbc, None, ["age"], model="fine_gray", time="time", event="status", cause=2)
    r = cs.fine_gray(pbc, "age", time="time", event="status", cause=2).tidy().iloc[0]
    assert "sHR (95% CI)" in fg.body.columns
    assert fg.body.loc[0, "sHR (95% CI)"] == format_ci(r["estimate"], r["conf_low"],
                                                       r["conf_high"])
    with pytest.raises(CalcstatsError, match="time="):
        univariable(pbc, "status", ["age"], model="cox", cause=2)
    with pytest.raises(CalcstatsError, match="differ"):
        univariable(pbc, "status", ["age"], model="cox", time="time", event="trt")
    with pytest.raises(CalcstatsError, match="needs the event column"):
        univariable(pbc, None, ["age"], model="fine_gray", time="time")
