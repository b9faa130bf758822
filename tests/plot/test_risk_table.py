"""Tests for calcstats.plot.risk_table (the axes-level numbers-at-risk table)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from geometry import THEMES, WIDTHS_MM, check_figure, themed

import calcstats as cs
from calcstats import CalcstatsWarning, InvalidParameterError
from calcstats.plot import risk_table


@pytest.fixture(scope="module")
def pbc():
    d = cs.datasets.load_pbc()
    return d.assign(years=d["time"] / 365.25, died=(d["status"] == 2).astype(int))


@pytest.fixture(scope="module")
def km(pbc):
    return cs.kaplan_meier(
        pbc,
        time="years",
        event="died",
        by="sex",
        labels=cs.Labels(levels={"sex": {"f": "Women", "m": "Men"}}),
    )


def _cells(ax, gid):
    return [t.get_text() for t in ax.texts if t.get_gid() == gid]


@pytest.mark.parametrize(
    ("what", "gid", "column", "title"),
    [
        ("at_risk", "risk", "n_risk", "Number at risk"),
        ("events", "events", "n_event", "Cumulative number of events"),
        ("censored", "censored", "n_censor", "Cumulative number censored"),
    ],
)
def test_cells_are_the_counts(km, what, gid, column, title):
    times = [0, 3, 6, 9]
    ax = risk_table(km, times=times, what=what)
    counts = km.risk_table(times)
    for i, sex in enumerate(["f", "m"]):
        assert _cells(ax, f"{gid}-{i}") == [
            f"{int(v):,}" for v in counts.loc[counts["sex"] == sex, column]
        ]
    assert _cells(ax, f"{gid}title") == [title]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Women", "Men"]
    assert [t.get_position()[0] for t in ax.texts if t.get_gid() == f"{gid}-0"] == times


def test_thousands_have_separators():
    rng = np.random.default_rng(3)
    d = {"t": rng.exponential(5, 3000), "e": rng.integers(0, 2, 3000)}
    km = cs.kaplan_meier(__import__("pandas").DataFrame(d), time="t", event="e")
    ax = risk_table(km, times=[0, 5])
    assert _cells(ax, "risk-0")[0] == "3,000"
    assert [t.get_text() for t in ax.get_yticklabels()] == [""]  # one curve: no name


def test_default_times_are_the_shared_axes_ticks(km):
    fig = plt.figure(figsize=(3.35, 3.2), layout="constrained")
    top = fig.add_subplot(2, 1, 1)
    cs.plot.survival(km, ax=top)
    bottom = fig.add_subplot(2, 1, 2, sharex=top)
    risk_table(km, ax=bottom)
    lo, hi = top.get_xlim()
    ticks = [t for t in top.get_xticks() if lo <= t <= hi]
    assert [t.get_position()[0] for t in bottom.texts if t.get_gid() == "risk-0"] == ticks


def test_crowded_columns_shrink_then_warn(km):
    ax = risk_table(km, times=np.arange(0, 13, 1.0), width_mm=85)
    sizes = {t.get_fontsize() for t in ax.texts if t.get_gid() == "risk-0"}
    assert sizes == {6.5}  # shrunk from 7 pt, just enough to fit
    with pytest.warns(CalcstatsWarning, match="touch even at 6 pt"):
        risk_table(km, times=np.arange(0, 13, 0.25), width_mm=85)


def test_light_colours_are_darkened_for_text(km):
    ax = risk_table(km, times=[0, 5], colors=["#F0E442", "#000000"])
    (yellow,) = {t.get_color() for t in ax.texts if t.get_gid() == "risk-0"}
    r, g, b = yellow
    assert max(r, g, b) < 0.8  # Okabe–Ito yellow is unreadable as small text on white


def test_errors(pbc, km):
    with pytest.raises(InvalidParameterError, match="'what' parameter of risk_table"):
        risk_table(km, what="deaths")
    with pytest.raises(InvalidParameterError, match="'times' parameter of risk_table"):
        risk_table(km, times=["a"])
    fit = cs.cox(pbc, "age", time="years", event="died")
    adj = cs.adjusted_curves(fit, pbc.assign(sex=pbc["sex"]), variable="age", values=[40, 60])
    with pytest.raises(InvalidParameterError, match="has no numbers at risk"):
        risk_table(adj)


@pytest.mark.parametrize("theme_name", THEMES)
@pytest.mark.parametrize("width_mm", WIDTHS_MM)
def test_geometry(km, width_mm, theme_name):
    with themed(theme_name):
        ax = risk_table(km, what="at_risk", width_mm=width_mm)
    check_figure(ax.figure)
    plt.close(ax.figure)
