"""Tests for calcstats.plot.love: the points are the balance table's SMDs."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from geometry import THEMES, WIDTHS_MM, check_figure, themed

import calcstats as cs
from calcstats import CalcstatsError
from calcstats._errors import InvalidParameterError


@pytest.fixture(scope="module")
def pbc():
    return cs.datasets.load_pbc().dropna(subset=["trt"])


@pytest.fixture(scope="module")
def bal(pbc):
    ps = cs.propensity(pbc, "hepato ~ age + sex + albumin")
    return cs.balance(
        pbc,
        treatment="hepato",
        covariates=["age", "sex", "albumin"],
        weights=ps.weights(),
        labels={"albumin": "Serum albumin"},
    )


def _gid(ax, gid):
    return [c for c in ax.get_children() if c.get_gid() == gid]


def test_points_are_the_absolute_smds_in_table_order(bal):
    fig = cs.plot.love(bal)
    ax = fig.axes[0]
    tidy = bal.tidy()
    (before,) = _gid(ax, "unweighted")
    (after,) = _gid(ax, "weighted")
    y = before.get_offsets()[:, 1]
    np.testing.assert_allclose(before.get_offsets()[:, 0], tidy["smd_unweighted"].abs())
    np.testing.assert_allclose(after.get_offsets()[:, 0], tidy["smd_weighted"].abs())
    assert list(y) == sorted(y) and ax.yaxis_inverted()  # first row at the top
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert names[0].startswith("Age")  # ticks listed from the top row
    assert names[-1] == "Serum albumin"  # the result's labels
    (line,) = _gid(ax, "threshold")
    assert line.get_xdata()[0] == pytest.approx(0.1)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Unweighted", "Weighted"]


def test_signed_order_threshold_and_labels_options(bal):
    fig = cs.plot.love(
        bal, absolute=False, order="unweighted", threshold=0.2, labels={"albumin": "Albumin (g/dL)"}
    )
    ax = fig.axes[0]
    (before,) = _gid(ax, "unweighted")
    x = before.get_offsets()[:, 0]
    y = before.get_offsets()[:, 1]
    by_row = x[np.argsort(y)]  # top row first
    assert list(np.abs(by_row)) == sorted(np.abs(by_row), reverse=True)
    assert (x < 0).any()
    assert sorted(line.get_xdata()[0] for line in _gid(ax, "threshold")) == [-0.2, 0.2]
    assert any("Albumin (g/dL)" in t.get_text() for t in ax.get_yticklabels())
    assert "Standardised mean difference (pooled SD)" == ax.get_xlabel()


def test_unweighted_balance_draws_one_set_of_points(pbc):
    b = cs.balance(pbc, treatment="hepato", covariates=["age"])
    ax = cs.plot.love(b).axes[0]
    assert _gid(ax, "weighted") == [] and len(_gid(ax, "unweighted")) == 1
    with pytest.raises(CalcstatsError, match="order='weighted' needs"):
        cs.plot.love(b, order="weighted")


def test_wrong_input(bal):
    with pytest.raises(CalcstatsError, match=r"draws a BalanceResult, not a DataFrame"):
        cs.plot.love(pd.DataFrame())
    with pytest.raises(InvalidParameterError, match="'order' parameter of love"):
        cs.plot.love(bal, order="size")


def test_refuses_what_is_not_a_balance(pbc):
    ps = cs.propensity(pbc, "hepato ~ age + sex")
    with pytest.raises(CalcstatsError, match=r"cs\.balance\(data, treatment='hepato'"):
        cs.plot.love(ps)
    with pytest.raises(CalcstatsError, match=r"match_result\.balance\(covariates\)"):
        cs.plot.love(cs.match(pbc, ps))


def test_on_the_callers_axes_returns_it(bal):
    fig, ax = plt.subplots(layout="constrained")
    assert cs.plot.love(bal, ax=ax) is ax
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Unweighted", "Weighted"]
    plt.close(fig)


@pytest.mark.parametrize("width_mm", WIDTHS_MM)
@pytest.mark.parametrize("theme_name", THEMES)
def test_geometry(pbc, width_mm, theme_name):
    ps = cs.propensity(pbc, "hepato ~ age + sex + albumin + C(edema)")
    bal = cs.balance(
        pbc,
        treatment="hepato",
        covariates=["age", "sex", "albumin", "edema"],
        weights=ps.weights(),
        labels={"albumin": "Serum albumin concentration at the baseline visit (g/dL)"},
    )
    with themed(theme_name):
        fig = cs.plot.love(bal, width_mm=width_mm)
    assert fig.get_size_inches()[0] * 25.4 == pytest.approx(width_mm)
    drawn = check_figure(fig)
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent()
    assert legend.y0 >= ax.get_window_extent().y1 - 1  # above the points, not on them
    widest = max(d.bbox.width for d in drawn if d.kind.startswith("ytick"))
    assert widest <= 0.4 * fig.bbox.width  # the long label wrapped
    plt.close(fig)
