"""Tests for calcstats.plot.love: the points are the balance table's SMDs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

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
    assert list(y) == sorted(y, reverse=True)  # first row at the top
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
    by_row = x[np.argsort(-y)]
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
    with pytest.raises(CalcstatsError, match=r"expects the result of cs\.balance"):
        cs.plot.love(pd.DataFrame())
    with pytest.raises(InvalidParameterError, match="'order' parameter of love"):
        cs.plot.love(bal, order="size")
