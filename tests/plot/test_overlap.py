"""Tests for calcstats.plot.overlap: mirrored histograms of the propensity scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

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
    with pytest.raises(CalcstatsError, match=r"expects the result of cs\.propensity"):
        cs.plot.overlap(d)
