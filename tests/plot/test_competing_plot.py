"""Tests for calcstats.plot.cumulative_incidence_causes (every cause in one figure)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from geometry import THEMES, WIDTHS_MM, check_figure, themed

import calcstats as cs
from calcstats import CalcstatsError, InvalidParameterError
from calcstats.plot import cumulative_incidence_causes

LAB = cs.Labels(
    levels={"status": {1: "Liver transplant", 2: "Death"}, "sex": {"f": "Women", "m": "Men"}},
    units={"years": "years"},
)


@pytest.fixture(scope="module")
def pbc():
    d = cs.datasets.load_pbc()
    return d.assign(years=d["time"] / 365.25)


@pytest.fixture(scope="module")
def cif(pbc):
    return cs.cumulative_incidence(pbc, time="years", event="status", cause=2, by="sex", labels=LAB)


def _line(ax, gid):
    (line,) = [ln for ln in ax.get_lines() if ln.get_gid() == gid]
    return line


def test_one_line_per_cause_per_group(cif):
    fig = cumulative_incidence_causes(cif)
    assert [ax.get_title() for ax in fig.axes] == ["Women", "Men"]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["Liver transplant", "Death"]
    states = cif.state_probabilities()
    for ax, sex in zip(fig.axes, ["f", "m"], strict=True):
        for code in (1, 2):
            x, y = _line(ax, f"cause-{code}").get_data()
            part = states.loc[(states["sex"] == sex) & (states["state"] == f"cause_{code}")]
            np.testing.assert_allclose(x[1:-1], part["time"])
            np.testing.assert_allclose(y[1:-1], part["estimate"])
    # the cause the result was asked for matches its own curve
    death = cif.tidy().query("sex == 'f'")["estimate"].to_numpy()
    np.testing.assert_allclose(_line(fig.axes[0], "cause-2").get_ydata()[1:-1], death)
    assert fig.axes[0].get_xlabel() == "Time (years)"
    assert fig.axes[0].get_ylabel() == "Cumulative incidence"
    top = states.query("state != 'event_free'")["estimate"].max()
    assert top <= fig.axes[0].get_ylim()[1] <= top * 1.1


def test_stacked_areas_sum_to_any_event(cif):
    fig = cumulative_incidence_causes(cif, stacked=True)
    states = cif.state_probabilities().query("sex == 'm'")
    ax = fig.axes[1]
    (death,) = [c for c in ax.collections if c.get_gid() == "cause-2"]
    top = death.get_paths()[0].vertices[:, 1].max()
    any_event = 1 - states.query("state == 'event_free'")["estimate"].min()
    assert top == pytest.approx(any_event)


def test_unlabelled_causes_and_one_group(pbc):
    cif = cs.cumulative_incidence(pbc, time="years", event="status", cause=2)
    ax = cumulative_incidence_causes(cif, causes=[2, 1], percent=True)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Cause 2", "Cause 1"]
    assert ax.get_xlabel() == "Time"
    _, given = plt.subplots()
    assert cumulative_incidence_causes(cif, ax=given) is given


def test_errors(pbc, cif):
    km = cs.kaplan_meier(pbc, time="years", event="status", cause=2)
    with pytest.raises(CalcstatsError, match="draws a CumulativeIncidenceResult"):
        cumulative_incidence_causes(km)
    with pytest.raises(InvalidParameterError, match=r"cause\(s\) \[3\] are not in the result"):
        cumulative_incidence_causes(cif, causes=[3])
    _, ax = plt.subplots()
    with pytest.raises(CalcstatsError, match="one panel per group"):
        cumulative_incidence_causes(cif, ax=ax)
    with pytest.raises(InvalidParameterError, match="'stacked' parameter"):
        cumulative_incidence_causes(cif, stacked="yes")


def test_panels_wrap_in_balanced_rows(pbc):
    cif = cs.cumulative_incidence(
        pbc.dropna(subset=["stage"]), time="years", event="status", cause=2, by="stage"
    )
    fig = cumulative_incidence_causes(cif, width_mm=180)  # 4 panels fit in a row
    assert {ax.get_subplotspec().get_gridspec().ncols for ax in fig.axes} == {4}
    fig = cumulative_incidence_causes(cif, width_mm=85)  # 2 × 2
    assert [ax.get_title() for ax in fig.axes] == ["Stage: 1", "Stage: 2", "Stage: 3", "Stage: 4"]
    assert {ax.get_subplotspec().get_gridspec().nrows for ax in fig.axes} == {2}
    assert [bool(ax.get_xlabel()) for ax in fig.axes] == [False, False, True, True]


@pytest.mark.parametrize("theme_name", THEMES)
@pytest.mark.parametrize("width_mm", WIDTHS_MM)
@pytest.mark.parametrize("stacked", [False, True])
def test_geometry(pbc, cif, width_mm, theme_name, stacked):
    stages = cs.cumulative_incidence(
        pbc.dropna(subset=["stage"]),
        time="years",
        event="status",
        cause=2,
        by="stage",
        labels=LAB,
    )
    with themed(theme_name):
        figs = [
            cumulative_incidence_causes(cif, stacked=stacked, width_mm=width_mm, title="By sex"),
            cumulative_incidence_causes(stages, stacked=stacked, width_mm=width_mm),
        ]
    for fig in figs:
        check_figure(fig)
        plt.close(fig)
