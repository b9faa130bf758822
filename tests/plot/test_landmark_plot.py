"""Tests for calcstats.plot.landmark (curves to the landmark, restarted at it)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from geometry import THEMES, WIDTHS_MM, check_figure, themed

import calcstats as cs
from calcstats import CalcstatsError, CalcstatsWarning
from calcstats.plot import landmark

YEARS = cs.Labels(units={"years": "years"})


@pytest.fixture(scope="module")
def pbc():
    d = cs.datasets.load_pbc()
    return d.assign(
        years=d["time"] / 365.25,
        died=(d["status"] == 2).astype(int),
        edema_any=np.where(d["edema"] > 0, "Edema", "No edema"),
    )


@pytest.fixture(scope="module")
def parts(pbc):
    lm = cs.landmark(pbc, time="years", event="died", at=2)
    before = cs.kaplan_meier(pbc, time="years", event="died", by="edema_any", labels=YEARS)
    after = cs.kaplan_meier(lm.table, time="years", event="died", by="edema_any", labels=YEARS)
    return lm, before, after


def _line(ax, gid):
    (line,) = [ln for ln in ax.get_lines() if ln.get_gid() == gid]
    return line


def test_curves_before_and_restarted_after(parts):
    lm, before, after = parts
    fig = landmark(lm, before=before, after=after)
    ax = fig.axes[0]
    x, y = _line(ax, "curve-0").get_data()  # edema, whole cohort, up to the landmark
    assert x.max() == 2.0
    part = before.tidy().query("edema_any == 'Edema' and time <= 2")
    np.testing.assert_allclose(y[1:-1], part["estimate"])
    x, y = _line(ax, "after-curve-0").get_data()  # landmark cohort, restarted at 1
    assert x[0] == 2.0 and y[0] == 1.0
    np.testing.assert_allclose(x[1:-1] - 2.0, after.tidy().query("edema_any == 'Edema'")["time"])
    assert _line(ax, "landmark").get_xdata()[0] == 2.0
    assert 2.0 in list(ax.get_xticks())  # the landmark is a column of the table


def test_risk_table_switches_cohort_at_the_landmark(parts):
    lm, before, after = parts
    fig = landmark(lm, before=before, after=after, risk_times=[0, 1, 2, 6])
    cells = [t.get_text() for t in fig.axes[1].texts if t.get_gid() == "risk-0"]
    early = before.risk_table([0, 1]).query("edema_any == 'Edema'")["n_risk"]
    late = after.risk_table([0, 4]).query("edema_any == 'Edema'")["n_risk"]
    assert cells == [str(int(v)) for v in [*early, *late]]
    # the landmark's column counts the patients who entered the landmark cohort
    entered = int((lm.table["edema_any"] == "Edema").sum())
    assert cells[2] == str(entered)


def test_tests_are_written_for_each_part(pbc, parts):
    lm, before, after = parts
    t1 = cs.logrank(pbc, time="years", event="died", by="edema_any")
    t2 = cs.logrank(lm.table, time="years", event="died", by="edema_any")
    ax = landmark(lm, before=before, after=after, tests=(t1, t2), risk_table=False)
    (text,) = [t.get_text() for t in ax.texts if t.get_gid() == "test"]
    assert text.splitlines()[0].startswith("Before landmark: Log-rank test p ")
    assert text.splitlines()[1].startswith("After landmark: Log-rank test p ")


def test_cumulative_incidence_restarts_at_zero(pbc):
    lm = cs.landmark(pbc, time="years", event="status", at=3)
    before = cs.cumulative_incidence(pbc, time="years", event="status", cause=2, by="edema_any")
    after = cs.cumulative_incidence(lm.table, time="years", event="status", cause=2, by="edema_any")
    ax = landmark(lm, before=before, after=after).axes[0]
    x, y = _line(ax, "after-curve-1").get_data()
    assert x[0] == 3.0 and y[0] == 0.0
    assert ax.get_ylabel() == "Cumulative incidence"


def test_errors(pbc, parts):
    lm, before, after = parts
    with pytest.raises(CalcstatsError, match=r"LandmarkData of cs\.landmark"):
        landmark(before, before=before, after=after)
    by_sex = cs.kaplan_meier(lm.table, time="years", event="died", by="sex")
    with pytest.raises(CalcstatsError, match="same groups"):
        landmark(lm, before=before, after=by_sex)
    cif = cs.cumulative_incidence(lm.table, time="years", event="status", cause=2, by="edema_any")
    with pytest.raises(CalcstatsError, match="estimate both the same way"):
        landmark(lm, before=before, after=cif)
    with pytest.warns(CalcstatsWarning, match="estimate after= on the LandmarkData's table"):
        landmark(lm, before=before, after=before)
    with pytest.raises(CalcstatsError, match="'tests' parameter"):
        landmark(lm, before=before, after=after, tests=(None,))


@pytest.mark.parametrize("theme_name", THEMES)
@pytest.mark.parametrize("width_mm", WIDTHS_MM)
def test_geometry(pbc, parts, width_mm, theme_name):
    lm, before, after = parts
    t1 = cs.logrank(pbc, time="years", event="died", by="edema_any")
    with themed(theme_name):
        fig = landmark(lm, before=before, after=after, tests=(t1, None), width_mm=width_mm)
    check_figure(fig)
    plt.close(fig)
