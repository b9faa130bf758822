"""Tests for calcstats.plot.survival (Kaplan–Meier / CIF figures with risk tables)."""

from __future__ import annotations

import matplotlib.axes
import numpy as np
import pytest

import calcstats as cs
from calcstats import CalcstatsError, InvalidParameterError
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
        expected = [
            f"{int(r)} ({int(e)})" for r, e in zip(part["n_risk"], part["n_event"], strict=True)
        ]
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
        survival(km, ax=ax, risk_table=True)
    assert survival(km, ax=ax) is ax  # with ax= the default is no risk table
    with pytest.raises(CalcstatsError, match=r"draws a KaplanMeierResult .* got object"):
        survival(object())
    with pytest.raises(CalcstatsError, match=r"not DataFrames.*cs\.kaplan_meier"):
        survival(km.tidy())
    with pytest.raises(InvalidParameterError, match="'labels' parameter"):
        survival(km, labels=["only one"])
    with pytest.raises(InvalidParameterError, match="'risk_table' parameter of survival"):
        survival(km, risk_table="yes")


def test_labels_name_axes_and_groups(pbc):
    km = cs.kaplan_meier(
        pbc, time="years", event="died", by="sex", labels=cs.Labels(levels={"sex": {"f": "Women"}})
    )
    ax = survival(km, risk_table=False)
    # no unit known for a user's column: the label says what it is, not a guessed unit
    assert ax.get_xlabel() == "Years" and ax.get_ylabel() == "Survival probability"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Women", "m"]
    # the plot's labels win over the result's; level labels set the order
    lab = cs.Labels(
        variables={"years": "Time since diagnosis"},
        units={"years": "years"},
        levels={"sex": {"m": "Men", "f": "Women"}},
    )
    fig = survival(km, labels=lab, risk_times=[0, 5, 10])
    assert fig.axes[1].get_xlabel() == "Time since diagnosis (years)"
    assert [t.get_text() for t in fig.axes[1].get_yticklabels()] == ["Men", "Women"]
    men = km.risk_table([0, 5, 10]).query("sex == 'm'")["n_risk"].astype(int).astype(str)
    assert [t.get_text() for t in fig.axes[1].texts if t.get_gid() == "risk-0"] == list(men)
    _, y = fig.axes[0].get_lines()[0].get_data()  # the first curve drawn is the men's
    np.testing.assert_allclose(y[1:-1], km.tidy().query("sex == 'm'")["estimate"])


# the time axis of the flagship figures, from labels (a plain DataFrame has no time unit)
YEARS = cs.Labels(variables={"years": "Time"}, units={"years": "years"})


def test_km_baseline(km, match_baseline, baseline_style):
    fig = survival(km, risk_times=[0, 3, 6, 9, 12], median_lines=True, labels=YEARS)
    assert fig.axes[1].get_xlabel() == "Time (years)"
    match_baseline(fig, "km_risk_table")


def test_cif_baseline(pbc, match_baseline, baseline_style):
    cif = cs.cumulative_incidence(
        pbc, time="years", event="status", cause=2, by="edema_any", labels=YEARS
    )
    match_baseline(survival(cif, risk_times=[0, 3, 6, 9, 12]), "cif_risk_table")


def test_adjusted_curves(pbc):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = cs.cox(pbc, "C(edema_any) + age", time="years", event="died")
        adj = cs.adjusted_curves(fit, pbc, variable="edema_any")
    ax = survival(adj)  # model-based: no risk table by default, no censor marks
    assert isinstance(ax, matplotlib.axes.Axes)
    assert ax.get_ylabel() == "Survival probability"  # what the result says it estimates
    line = _by_gid(ax, "curve-")["curve-0"]
    part = adj.tidy().query("edema_any == 'Edema'")
    np.testing.assert_allclose(line.get_data()[1][1:-1], part["estimate"])
    assert not _by_gid(ax, "censor-")
    with pytest.raises(InvalidParameterError, match="has no numbers at risk"):
        survival(adj, risk_table=True)


def test_adjusted_cumulative_incidence_rises(pbc):
    d = pbc.dropna(subset=["bili"])
    fg = cs.fine_gray(d, "age + C(edema_any)", time="years", event="status", cause=2)
    adj = cs.adjusted_curves(fg, d, variable="edema_any", times=[0, 2, 4, 6], n_boot=20)
    ax = survival(adj, median_lines=True, test=TestResult(1.0, 1, 0.3, method="Test"))
    assert ax.get_ylabel() == "Cumulative incidence"
    assert not _by_gid(ax, "median-")  # no median lines for a rising curve
    (txt,) = [t for t in ax.texts if t.get_gid() == "test"]
    assert txt.get_position()[1] > 0.5  # the p-value sits at the top, away from the curves
