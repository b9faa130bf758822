"""Tests for calcstats.plot._style: the local publication style and text measuring."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import pytest

from calcstats.plot import theme
from calcstats.plot._style import publication, publication_params, text_width, wrap


def test_publication_is_local():
    before = dict(mpl.rcParams)
    with publication() as rc:
        assert mpl.rcParams["font.size"] == 8.0 == rc["font.size"]
        assert mpl.rcParams["axes.spines.top"] is False
        assert mpl.rcParams["legend.frameon"] is False
        assert mpl.rcParams["pdf.fonttype"] == 42
    after = dict(mpl.rcParams)
    assert [k for k in before if before[k] != after[k]] == []


def test_a_theme_and_the_users_settings_win():
    with theme("nature"):
        assert "font.size" not in publication_params()
        with publication():
            assert mpl.rcParams["font.size"] == 7.0
            assert mpl.rcParams["xtick.labelsize"] == 6.0
    with mpl.rc_context({"font.size": 11.0, "axes.linewidth": 2.0}):
        with publication():
            assert mpl.rcParams["font.size"] == 11.0
            assert mpl.rcParams["xtick.labelsize"] == 10.0  # follows the user's size
            assert mpl.rcParams["axes.linewidth"] == 2.0
            assert mpl.rcParams["axes.spines.right"] is False  # still at default: filled in


def test_fonts_are_fixed_when_the_text_is_made():
    """A figure made in the style and drawn outside it keeps its fonts (and its layout)."""
    with publication():
        fig, ax = plt.subplots()
        label = ax.set_xlabel("Time (years)")
        family = mpl.rcParams["font.family"]
    assert "sans-serif" not in family and family  # concrete, installed font names
    assert label.get_fontfamily() == family
    with publication():
        inside = text_width("Primary sclerosing cholangitis", fig, fontsize=7)
    fig.canvas.draw()
    drawn = label.get_window_extent().width
    with publication():
        expected = text_width("Time (years)", fig, fontsize=8) * fig.dpi
    assert drawn == pytest.approx(expected, rel=0.02)
    assert inside > 0


def test_text_width_and_wrap():
    fig = plt.figure()
    one = text_width("cholangitis", fig, fontsize=8)
    assert text_width("cholangitis", fig, fontsize=16) == pytest.approx(2 * one, rel=0.05)
    assert text_width("", fig) == 0.0
    text = "Primary sclerosing cholangitis"
    assert wrap(text, 10.0, fig, fontsize=8) == text
    lines = wrap(text, one * 1.05, fig, fontsize=8).split("\n")
    assert lines == ["Primary", "sclerosing", "cholangitis"]  # words are never split
    assert all(text_width(s, fig, fontsize=8) <= one * 1.05 for s in lines)
    assert wrap("a\nb c", 10.0, fig) == "a\nb c"  # existing breaks kept


def test_no_survival_figure_touches_global_rcparams():
    import numpy as np

    import calcstats as cs

    d = cs.datasets.load_pbc()
    d = d.assign(years=d["time"] / 365.25, died=(d["status"] == 2).astype(int))
    lm = cs.landmark(d, time="years", event="died", at=2)
    km = cs.kaplan_meier(d, time="years", event="died", by="sex")
    cif = cs.cumulative_incidence(d, time="years", event="status", cause=2, by="sex")
    before = dict(mpl.rcParams)
    cs.plot.survival(km, cumulative_events=True)
    cs.plot.risk_table(km, times=np.arange(0, 12, 3.0))
    cs.plot.cumulative_incidence_causes(cif, stacked=True)
    cs.plot.landmark(
        lm, before=km, after=cs.kaplan_meier(lm.table, time="years", event="died", by="sex")
    )
    after = dict(mpl.rcParams)
    assert [k for k in before if before[k] != after[k]] == []
    plt.close("all")
