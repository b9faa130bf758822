"""Tests for calcstats.plot.survival (Kaplan–Meier / CIF figures with risk tables)."""

from __future__ import annotations

import numpy as np
import pytest

import calcstats as cs
from calcstats import CalcstatsError
from calcstats.plot import survival
from calcstats.results import TestResult


@pytest.fixture(scope="module")
def pbc():
    d = cs.datasets.load_pbc()
    return d.assign(
        years=d["time"] / 365.25,
        died=(d["status"] == 2).astype(int),
        edema_any=np.where(d["edema"] > 0, "Edema", "No edema"),
    )


@pytest.fixture(scope="module")
def km(pbc):
    return cs.kaplan_meier(pbc, time="years", event="died", by="edema_any")


def _by_gid(ax, prefix):
    return {a.get_gid(): a for a in ax.get_children() if str(a.get_gid()).startswith(prefix)}


def test_steps_equal_estimates(km):
    fig = survival(km, risk_table=False).figure
    ax = fig.axes[0]
    tidy = km.tidy()
    for i, level in enumerate(["Edema", "No edema"]):
        line = _by_gid(ax, "curve-")[f"curve-{i}"]
        x, y = line.get_data()
        part = tidy.loc[tidy["edema_any"] == level]
        np.testing.assert_allclose(x[1:-1], part["time"])  # exact: drawn from the result
        np.testing.assert_allclose(y[1:-1], part["estimate"])
        assert x[0] == 0 and y[0] == 1.0
        cens = _by_gid(ax, "censor-")[f"censor-{i}"]
        n_cens = int((part["n_censor"] > 0).sum())
        assert len(cens.get_xdata()) == n_cens


def test_band_equals_bounds(km):
    ax = survival(km, risk_table=False)
    band = _by_gid(ax, "band-")["band-0"]
    tidy = km.tidy()
    part = tidy.loc[tidy["edema_any"] == "Edema"]
    verts = band.get_paths()[0].vertices
    lows = part["conf_low"].dropna().to_numpy()
    highs = part["conf_high"].dropna().to_numpy()
    for v in (lows.min(), highs.max()):
        assert np.isclose(verts[:, 1], v).any()


def test_risk_table_text_equals_counts(km):
    times = [0, 2, 4, 6, 8, 10]
    fig = survival(km, risk_times=times, risk_events=True)
    ax_rt = fig.axes[1]
    counts = km.risk_table(times)
    for i, level in enumerate(["Edema", "No edema"]):
        texts = [t.get_text() for t in ax_rt.texts if t.get_gid() == f"risk-{i}"]
        part = counts.loc[counts["edema_any"] == level]
        expected = [f"{int(r)} ({int(e)})" for r, e in zip(part["n_risk"], part["n_event"],
                                                            strict=True)]
        assert texts == expected
    assert [t.get_text() for t in ax_rt.get_yticklabels()] == ["Edema", "No edema"]


def test_test_annotation_and_median(km):
    test = TestResult(25.0, 1, 2e-7, method="Log-rank test")
    ax = survival(km, risk_table=False, test=test, median_lines=True)
    txt = [t.get_text() for t in ax.texts if t.get_gid() == "test"]
    assert txt == ["Log-rank test p < 0.001"]
    med = km.median()["median"].to_numpy()
    drawn = _by_gid(ax, "median-")
    assert drawn["median-0"].get_xdata()[1] == pytest.approx(med[0])


def test_errors(km):
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    with pytest.raises(CalcstatsError, match="risk table needs its own axes"):
        survival(km, ax=ax)
    with pytest.raises(CalcstatsError, match="expects a result of kaplan_meier"):
        survival(object())
    with pytest.raises(CalcstatsError, match="labels has 1 entries"):
        survival(km, labels=["only one"])


def test_km_baseline(km, match_baseline, baseline_style):
    fig = survival(km, risk_times=[0, 3, 6, 9, 12], median_lines=True)
    match_baseline(fig, "km_risk_table")


def test_cif_baseline(pbc, match_baseline, baseline_style):
    cif = cs.cumulative_incidence(pbc, time="years", event="status", cause=2, by="edema_any")
    match_baseline(survival(cif, risk_times=[0, 3, 6, 9, 12]), "cif_risk_table")


def test_adjusted_curves_table(pbc):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = cs.cox(pbc, "C(edema_any) + age", time="years", event="died")
        adj = cs.adjusted_curves(fit, pbc, variable="edema_any")
    ax = survival(adj, risk_table=False)
    assert ax.get_ylabel() == "Survival probability"  # decreasing curves: survival
    line = _by_gid(ax, "curve-")["curve-0"]
    part = adj.loc[adj["edema_any"] == "Edema"].sort_values("time")
    np.testing.assert_allclose(line.get_data()[1][1:-1], part["estimate"])
    assert not _by_gid(ax, "censor-")
    with pytest.raises(CalcstatsError, match="no numbers at risk"):
        survival(adj)
    with pytest.raises(CalcstatsError, match="missing \\['conf_low'"):
        survival(adj.drop(columns=["conf_low"]), risk_table=False)
