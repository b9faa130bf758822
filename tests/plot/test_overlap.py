"""Tests for calcstats.plot.overlap: mirrored histograms of the propensity scores."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from geometry import THEMES, WIDTHS_MM, check_figure, themed

import calcstats as cs
from calcstats import CalcstatsError


@pytest.fixture(scope="module")
def ps():
    pbc = cs.datasets.load_pbc().dropna(subset=["trt"])
    return cs.propensity(
        pbc,
        "hepato ~ age + sex + albumin",
        labels=cs.Labels(levels={"hepato": {1: "Hepatomegaly", 0: "No hepatomegaly"}}),
    )


def _bars(ax, gid):
    return [p for p in ax.patches if p.get_gid() == gid]


def test_bars_count_each_group_treated_up_controls_down(ps):
    ax = cs.plot.overlap(ps, bins=20).axes[0]
    up = [p.get_height() for p in _bars(ax, "treated")]
    down = [p.get_height() for p in _bars(ax, "control")]
    assert len(up) == len(down) == 20
    assert sum(up) == (ps.treated == 1).sum() and min(up) >= 0
    assert -sum(down) == (ps.treated == 0).sum() and max(down) <= 0
    support = sorted(line.get_xdata()[0] for line in ax.get_lines() if line.get_gid() == "support")
    assert support == pytest.approx(list(ps.positivity.support))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Hepatomegaly", "No hepatomegaly"]
    assert all(not t.get_text().startswith("-") for t in ax.get_yticklabels())


def test_weighted_bars_sum_to_the_weight_sums(ps):
    ax = cs.plot.overlap(ps, weighted=True, support=False).axes[0]
    w = ps.weights()
    up = sum(p.get_height() for p in _bars(ax, "treated"))
    assert up == pytest.approx(w[ps.treated == 1].sum())
    assert not [line for line in ax.get_lines() if line.get_gid() == "support"]
    assert ax.get_ylabel() == "Weighted number of patients"


def test_default_group_names_and_wrong_input():
    d = pd.DataFrame({"t": np.tile([0, 1], 20), "x": np.arange(40.0) % 7})
    ax = cs.plot.overlap(cs.propensity(d, "t ~ x")).axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Treated", "Control"]
    with pytest.raises(CalcstatsError, match=r"draws a PropensityResult.*got DataFrame"):
        cs.plot.overlap(d)


def test_refuses_what_is_not_a_propensity_result(ps):
    bal = cs.balance(pd.DataFrame({"t": [0, 1] * 5, "x": range(10)}), treatment="t", covariates="x")
    with pytest.raises(CalcstatsError, match=r"draws a PropensityResult.*got BalanceResult"):
        cs.plot.overlap(bal)


def test_on_the_callers_axes_returns_it(ps):
    fig, ax = plt.subplots(layout="constrained")
    assert cs.plot.overlap(ps, ax=ax) is ax
    plt.close(fig)


@pytest.mark.parametrize("width_mm", WIDTHS_MM)
@pytest.mark.parametrize("theme_name", THEMES)
def test_geometry(ps, width_mm, theme_name):
    with themed(theme_name):
        fig = cs.plot.overlap(ps, width_mm=width_mm)
    assert fig.get_size_inches()[0] * 25.4 == pytest.approx(width_mm)
    check_figure(fig)
    ax = fig.axes[0]
    assert ax.get_legend().get_window_extent().y0 >= ax.get_window_extent().y1 - 1
    plt.close(fig)
