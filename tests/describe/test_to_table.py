"""Publication tables of the descriptive estimators, their suppression, and invariants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import calcstats as cs
from calcstats.describe._intervals import poisson_exact_interval, proportion_interval


def test_prevalence_table(pbc):
    res = cs.prevalence(pbc, outcome="edema_any", by="sex", method="exact")
    t = res.to_table()
    assert t.columns == ("sex", "N", "Cases", "Prevalence, % (95% CI)")
    tidy = res.tidy()
    f = tidy.iloc[0]
    assert t.cells[0] == ("f", "374", "56",
                          f"{100 * f['estimate']:.1f} ({100 * f['conf_low']:.1f}–"
                          f"{100 * f['conf_high']:.1f})")
    pd.testing.assert_frame_equal(t.to_frame(), tidy)
    assert "Clopper–Pearson" in t.footnotes[0]


def test_prevalence_suppression_protects_n(pbc):
    df = pbc.assign(g=np.where(pbc.index < 20, "small", "large"))
    res = cs.prevalence(df, outcome="edema_any", by="g", suppress_below=10)
    tidy = res.tidy()
    t = res.to_table()
    small = next(r for r in t.cells if r[0] == "small")
    cases_small = int(tidy.loc[tidy["g"] == "small", "cases"].iloc[0])
    assert 1 <= cases_small < 10
    assert small[2] == "<10" and small[3] == "*"
    # with the column of cases holding one hidden cell, the other row's cases hide too
    large = next(r for r in t.cells if r[0] == "large")
    assert large[2] in ("*", "<10") and large[3] == "*"
    assert any("<10: count between 1 and 9" in f for f in t.footnotes)
    # without suppression everything shows
    assert cs.prevalence(df, outcome="edema_any", by="g").to_table().cells[1][2] == str(
        cases_small)


def test_incidence_table_and_suppression(pbc):
    res = cs.incidence_rate(pbc, time="years", event="death", bands=[0, 1, 5, 10],
                            suppress_below=10)
    t = res.to_table()
    assert t.columns == ("band", "Events", "Person-time", "Rate per 1,000 (95% CI)")
    last = t.cells[-1]
    assert last[0] == "≥10" and last[1] == "<10" and last[2] == "*" and last[3] == "*"
    assert t.cells[0][1] == "30"


def test_rate_ratio_table(trial):
    t = cs.rate_ratio(trial, time="years", event="death", by="trt").to_table()
    assert t.cells[0][3] == "1 (reference)"
    assert t.columns[-1] == "p-value"
    assert list(t.to_frame().columns) == ["trt", "estimate", "conf_low", "conf_high", "p_value"]


def test_mh_table(trial):
    res = cs.mantel_haenszel(trial, exposure="treated", outcome="death", strata="stage")
    t = res.to_table()
    labels = [r[0] for r in t.cells]
    assert labels == ["stage = 1", "stage = 2", "stage = 3", "stage = 4", "Crude",
                      "Mantel–Haenszel pooled"]
    assert any("Breslow–Day" in f for f in t.footnotes)
    raw = t.to_frame()
    assert raw["estimate"].iloc[-1] == pytest.approx(res.estimate)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 500), frac=st.floats(0, 1),
       level=st.sampled_from([0.8, 0.9, 0.95, 0.99]),
       method=st.sampled_from(["wilson", "exact", "jeffreys"]))
def test_proportion_interval_properties(n, frac, level, method):
    x = np.array([round(frac * n)])
    lo, hi = proportion_interval(x, np.array([n]), method=method, conf_level=level)
    p = x[0] / n
    assert 0 <= lo[0] <= p <= hi[0] <= 1
    lo2, hi2 = proportion_interval(x, np.array([n]), method=method, conf_level=0.5)
    assert lo[0] <= lo2[0] + 1e-12 and hi2[0] <= hi[0] + 1e-12  # wider at higher level


@settings(max_examples=40, deadline=None)
@given(x=st.integers(0, 2000))
def test_poisson_interval_brackets_count(x):
    lo, hi = poisson_exact_interval(np.array([x]), conf_level=0.95)
    assert lo[0] <= x <= hi[0]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), cuts=st.lists(st.floats(0.1, 8), min_size=1, max_size=4))
def test_bands_partition_follow_up(seed, cuts):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"t": rng.exponential(3, 60), "d": rng.integers(0, 2, 60)})
    full = cs.incidence_rate(df, time="t", event="d").tidy()
    split = cs.incidence_rate(df, time="t", event="d", bands=cuts).tidy()
    assert split["events"].sum() == full["events"][0]
    assert split["person_time"].sum() == pytest.approx(full["person_time"][0], rel=1e-10)
