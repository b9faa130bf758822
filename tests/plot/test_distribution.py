"""Tests for calcstats.plot.distribution (box / violin / strip plots drawn by seaborn)."""

from __future__ import annotations

from contextlib import nullcontext

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from geometry import THEMES, WIDTHS_MM, check_figure, themed

import calcstats as cs
from calcstats import DataError, DataWarning, InvalidParameterError, SchemaError


@pytest.fixture(scope="module")
def pt():
    return cs.datasets.load_example_cohort().patient_table()


@pytest.fixture
def small():
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "age_at_index": rng.normal(55, 10, 60).round(1),
            "sex": np.repeat(["M", "F"], 30),
            "bili": rng.lognormal(0, 1, 60),
        }
    )


def _names(ax, axis="x"):
    ticks = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    return [" ".join(t.get_text().split()) for t in ticks]


def test_box_medians_are_the_group_medians_and_ticks_name_the_groups(small):
    ax = cs.plot.distribution(small, variable="age_at_index", by="sex")
    # schema level labels, in the schema's order (Female first), with the n drawn
    assert _names(ax) == ["Female (n = 30)", "Male (n = 30)"]
    assert ax.get_ylabel() == "Age at index (years)" and ax.get_xlabel() == "Sex"
    medians = small.groupby("sex")["age_at_index"].median()
    flat = [ln for ln in ax.lines if len(ln.get_ydata()) == 2 and np.ptp(ln.get_ydata()) == 0]
    for x, code in enumerate(["F", "M"]):
        inside = [ln for ln in flat if np.all(np.abs(np.asarray(ln.get_xdata()) - x) < 0.35)]
        assert any(np.isclose(ln.get_ydata()[0], medians[code]) for ln in inside)
    plt.close(ax.figure)


def test_strip_draws_every_value(small):
    ax = cs.plot.distribution(small, variable="age_at_index", by="sex", kind="strip")
    drawn = sorted(v for c in ax.collections for v in c.get_offsets()[:, 1])
    np.testing.assert_allclose(drawn, np.sort(small["age_at_index"]))
    plt.close(ax.figure)


def test_violin_with_points_and_labels_order_the_groups(small):
    lab = cs.Labels(
        variables={"bili": "Bilirubin"},
        units={"bili": "mg/dL"},
        levels={"sex": {"M": "Men", "F": "Women"}},
    )
    ax = cs.plot.distribution(
        small,
        variable="bili",
        by="sex",
        kind="violin",
        points=True,
        log_scale=True,
        labels=lab,
    )
    assert _names(ax) == ["Men (n = 30)", "Women (n = 30)"]  # level labels set the order
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "Bilirubin (mg/dL)"
    assert all("10^" not in t.get_text() for t in ax.get_yticklabels())  # plain numbers
    n_points = sum(len(c.get_offsets()) for c in ax.collections if c.get_offsets().shape[0] > 1)
    assert n_points == len(small)
    plt.close(ax.figure)


def test_without_groups_one_distribution(small):
    ax = cs.plot.distribution(small, variable="age_at_index")
    assert _names(ax) == ["All (n = 60)"]
    plt.close(ax.figure)


def test_missing_rows_are_counted_not_dropped_quietly(small):
    d = small.copy()
    d.loc[[0, 1], "age_at_index"] = np.nan
    d.loc[5, "sex"] = None
    with pytest.warns(
        DataWarning,
        match=r"3 of 60 rows not drawn \('age_at_index' missing "
        r"in 2, 'sex' missing in 1\)",
    ):
        ax = cs.plot.distribution(d, variable="age_at_index", by="sex")
    assert sum(int(s.split("n = ")[1].rstrip(")")) for s in _names(ax)) == 57
    plt.close(ax.figure)


def test_errors(small):
    with pytest.raises(SchemaError, match=r"variable='agee' is not a column .*: age_at_index, sex"):
        cs.plot.distribution(small, variable="agee")
    with pytest.raises(DataError, match=r"variable='sex' is not numeric .*cs\.table_one"):
        cs.plot.distribution(small, variable="sex")
    with pytest.raises(DataError, match=r"log_scale=True needs positive values.*1 row"):
        cs.plot.distribution(
            small.assign(bili=small["bili"].where(small.index != 3, 0)),
            variable="bili",
            log_scale=True,
        )
    with pytest.raises(InvalidParameterError, match="'kind' parameter of distribution"):
        cs.plot.distribution(small, variable="bili", kind="histogram")


def test_long_names_turn_the_boxes_horizontal(pt):
    ax = cs.plot.distribution(pt, variable="age_at_index", by="etiology", width_mm=85)
    names = _names(ax, "y")
    assert names[0].startswith("Primary biliary cholangitis") and len(names) == 11
    assert ax.get_xlabel() == "Age at index (years)"
    check_figure(ax.figure)
    plt.close(ax.figure)


def test_vertical_names_that_do_not_fit_are_rotated(pt):
    ax = cs.plot.distribution(pt, variable="age_at_index", by="etiology", orient="v")
    assert {t.get_rotation() for t in ax.get_xticklabels()} == {90.0}
    check_figure(ax.figure)
    plt.close(ax.figure)


def test_on_the_callers_axes(small):
    fig, axes = plt.subplots(1, 2, layout="constrained", figsize=(180 / 25.4, 2.5))
    for ax, kind in zip(axes, ("box", "violin"), strict=True):
        assert (
            cs.plot.distribution(small, variable="age_at_index", by="sex", kind=kind, ax=ax) is ax
        )
    check_figure(fig)
    plt.close(fig)


@pytest.mark.parametrize("width_mm", WIDTHS_MM)
@pytest.mark.parametrize("theme_name", THEMES)
@pytest.mark.parametrize(
    ("variable", "by", "kind"),
    [
        ("bilirubin_mg_dl", "etiology", "box"),
        ("age_at_index", "calcification_burden", "violin"),
        ("age_at_index", "sex", "strip"),
    ],
)
def test_geometry(pt, width_mm, theme_name, variable, by, kind):
    missing = pt[variable].isna().any()
    warns = pytest.warns(DataWarning, match="rows not drawn") if missing else nullcontext()
    with themed(theme_name), warns:
        ax = cs.plot.distribution(
            pt,
            variable=variable,
            by=by,
            kind=kind,
            width_mm=width_mm,
            log_scale=variable == "bilirubin_mg_dl",
        )
    fig = ax.figure
    assert fig.get_size_inches()[0] * 25.4 == pytest.approx(width_mm)
    drawn = check_figure(fig)
    text = " ".join(" ".join(d.text.split()) for d in drawn)
    assert by not in text.split() and variable not in text  # labels, not column names
    plt.close(fig)
