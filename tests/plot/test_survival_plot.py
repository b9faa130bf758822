"""Tests for calcstats.plot.survival (Kaplan–Meier / CIF figures with risk tables)."""

from __future__ import annotations

import warnings

import matplotlib as mpl
import matplotlib.axes
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from geometry import THEMES, WIDTHS_MM, check_figure, themed

import calcstats as cs
from calcstats import CalcstatsError, InvalidParameterError
from calcstats.plot import risk_table, survival
from calcstats.results import TestResult


@pytest.fixture(scope="module")
def pbc():
    d = cs.datasets.load_pbc()
    return d.assign(
        years=d["time"] / 365.25,
        died=(d["status"] == 2).astype(int),
        edema_any=np.where(d["edema"] > 0, "Edema", "No edema"),
        male=(d["sex"] == "m").astype(int),
    )


@pytest.fixture(scope="module")
def km(pbc):
    return cs.kaplan_meier(pbc, time="years", event="died", by="edema_any")


@pytest.fixture(scope="module")
def big():
    """4,000 patients with heavy censoring: marks would merge into a bar."""
    rng = np.random.default_rng(7)
    n = 4000
    g = rng.integers(0, 2, n)
    t, c = rng.exponential(8 / (1 + g), n), rng.uniform(0, 10, n)
    return pd.DataFrame(
        {"time": np.minimum(t, c), "event": (t <= c).astype(int), "any_calcification": g}
    )


def _by_gid(ax, prefix):
    return {a.get_gid(): a for a in ax.get_children() if str(a.get_gid()).startswith(prefix)}


def _cells(ax, gid):
    return [t.get_text() for t in ax.texts if t.get_gid() == gid]


def test_steps_equal_estimates(km):
    ax = survival(km, risk_table=False, width_mm=180)
    tidy = km.tidy()
    for i, level in enumerate(["Edema", "No edema"]):
        x, y = _by_gid(ax, "curve-")[f"curve-{i}"].get_data()
        part = tidy.loc[tidy["edema_any"] == level]
        np.testing.assert_allclose(x[1:-1], part["time"])  # exact: drawn from the result
        np.testing.assert_allclose(y[1:-1], part["estimate"])
        assert x[0] == 0 and y[0] == 1.0
        marks = _by_gid(ax, "censor-")[f"censor-{i}"]
        censored = part.loc[part["n_censor"] > 0]
        # every mark sits at a censoring time, on the curve
        idx = np.searchsorted(censored["time"].to_numpy(), marks.get_xdata())
        np.testing.assert_allclose(censored["time"].to_numpy()[idx], marks.get_xdata())
        np.testing.assert_allclose(censored["estimate"].to_numpy()[idx], marks.get_ydata())
        # thinned, never lost: every censoring lies within 3 pt of a mark drawn
        fig = ax.figure
        fig.canvas.draw()
        to_pt = 72 / fig.dpi
        drawn = ax.transData.transform(np.column_stack(marks.get_data())) * to_pt
        every = ax.transData.transform(censored[["time", "estimate"]].to_numpy()) * to_pt
        nearest = np.min(np.hypot(*(every[:, None, :] - drawn[None, :, :]).transpose(2, 0, 1)), 1)
        assert nearest.max() < 3.0


def test_censor_marks_thinned_for_large_n(big):
    km = cs.kaplan_meier(big, time="time", event="event", by="any_calcification")
    fig = survival(km, width_mm=85)
    ax = fig.axes[0]
    fig.canvas.draw()
    for i in range(2):
        marks = _by_gid(ax, "censor-")[f"censor-{i}"]
        n_censored = int(
            (
                km.tidy().groupby("any_calcification")["n_censor"].apply(lambda s: (s > 0).sum())
            ).iloc[i]
        )
        xy = np.column_stack(marks.get_data())
        pts = ax.transData.transform(xy) * 72 / fig.dpi
        gaps = np.hypot(*np.diff(pts, axis=0).T)
        assert len(xy) < n_censored / 3  # ~1,000 censorings, far fewer marks
        assert gaps.min() >= 3.0 - 1e-6  # never nearer than 3 pt: a dashed line stays dashed
    # at double-column width there is room for more marks
    wide = survival(km, width_mm=180).axes[0]
    assert len(_by_gid(wide, "censor-")["censor-0"].get_xdata()) > len(
        _by_gid(ax, "censor-")["censor-0"].get_xdata()
    )


def test_band_equals_bounds(km):
    ax = survival(km, risk_table=False)
    band = _by_gid(ax, "band-")["band-0"]
    part = km.tidy().query("edema_any == 'Edema'")
    verts = band.get_paths()[0].vertices
    for v in (part["conf_low"].dropna().min(), part["conf_high"].dropna().max()):
        assert np.isclose(verts[:, 1], v).any()


def test_cif_y_limit_holds_upper_band(pbc):
    cif = cs.cumulative_incidence(pbc, time="years", event="status", cause=2, by="male")
    ax = survival(cif).axes[0]
    top = cif.tidy()["conf_high"].max()
    assert ax.get_ylim()[1] >= top  # the men's upper band (~0.87) is not cut
    assert ax.get_ylim()[1] <= min(1.0, top * 1.1)


def test_risk_table_text_equals_counts(km):
    times = [0, 2, 4, 6, 8, 10]
    fig = survival(km, risk_times=times, risk_events=True, width_mm=180)
    ax_rt = fig.axes[1]
    counts = km.risk_table(times)
    for i, level in enumerate(["Edema", "No edema"]):
        part = counts.loc[counts["edema_any"] == level]
        expected = [
            f"{int(r)} ({int(e)})" for r, e in zip(part["n_risk"], part["n_event"], strict=True)
        ]
        assert _cells(ax_rt, f"risk-{i}") == expected
    assert [t.get_text() for t in ax_rt.get_yticklabels()] == ["Edema", "No edema"]
    assert _cells(ax_rt, "risktitle") == ["Number at risk (cumulative events)"]
    # the columns sit under the curve axes' times
    xs = [t.get_position()[0] for t in ax_rt.texts if t.get_gid() == "risk-0"]
    assert xs == times


def test_default_columns_are_the_ticks_that_fit(km):
    for width in WIDTHS_MM:
        fig = survival(km, width_mm=width)
        ax, ax_rt = fig.axes[:2]
        lo, hi = ax.get_xlim()
        ticks = [t for t in ax.get_xticks() if lo <= t <= hi]
        xs = [t.get_position()[0] for t in ax_rt.texts if t.get_gid() == "risk-1"]
        assert xs == ticks
    # counts of thousands need wider columns: fewer of them at 85 mm than at 180 mm
    assert len(xs) >= 6


def test_cumulative_events_table(pbc):
    cif = cs.cumulative_incidence(pbc, time="years", event="status", cause=2, by="edema_any")
    fig = survival(cif, cumulative_events=True, risk_times=[0, 4, 8])
    ax_rt, ax_ev = fig.axes[1:3]
    counts = cif.risk_table([0, 4, 8])
    edema = counts.query("edema_any == 'Edema'")
    assert _cells(ax_rt, "risk-0") == [str(int(v)) for v in edema["n_risk"]]
    assert _cells(ax_ev, "events-0") == [str(int(v)) for v in edema["n_event"]]
    assert _cells(ax_ev, "eventstitle") == ["Cumulative number of events"]
    # the two tables' names line up
    renderer = fig.canvas.get_renderer()
    lefts = [a.get_yticklabels()[0].get_window_extent(renderer).x0 for a in (ax_rt, ax_ev)]
    assert lefts[0] == pytest.approx(lefts[1], abs=0.5)


def test_weighted_curves_show_actual_numbers_at_risk(pbc):
    d = pbc.assign(w=np.where(pbc["sex"] == "f", 0.62, 2.7))
    km = cs.kaplan_meier(d, time="years", event="died", by="edema_any", weights="w")
    times = [0, 5, 10]
    fig = survival(km, risk_times=times, risk_events=True)
    ax_rt = fig.axes[1]
    actual = km.risk_table(times, unweighted=True).query("edema_any == 'Edema'")
    plain = cs.kaplan_meier(pbc, time="years", event="died", by="edema_any").risk_table(times)
    np.testing.assert_array_equal(
        actual[["n_risk", "n_event"]].to_numpy(),
        plain.query("edema_any == 'Edema'")[["n_risk", "n_event"]].to_numpy(),
    )
    assert _cells(ax_rt, "risk-0") == [
        f"{int(r)} ({int(e)})" for r, e in zip(actual["n_risk"], actual["n_event"], strict=True)
    ]
    assert _cells(ax_rt, "risktitle") == ["Number at risk (cumulative events), unweighted"]
    # the weighted counts (R's n.risk) stay in tidy() and risk_table()
    assert km.risk_table([0]).query("edema_any == 'Edema'")["n_risk"].item() != 64
    # the same for cumulative incidence: patients, events of the cause, censorings
    cols = ["n_risk", "n_event", "n_censor"]
    cif = cs.cumulative_incidence(d, time="years", event="status", cause=2, by="sex", weights="w")
    plain = cs.cumulative_incidence(pbc, time="years", event="status", cause=2, by="sex")
    np.testing.assert_array_equal(
        cif.risk_table(times, unweighted=True)[cols].to_numpy(),
        plain.risk_table(times)[cols].to_numpy(),
    )
    fig = survival(cif, risk_times=times, cumulative_events=True)
    women = plain.risk_table(times).query("sex == 'f'")
    assert _cells(fig.axes[2], "events-0") == [str(int(v)) for v in women["n_event"]]
    assert _cells(fig.axes[2], "eventstitle") == ["Cumulative number of events, unweighted"]


def test_test_annotation_and_median(km):
    test = TestResult(25.0, 1, 2e-7, method="Log-rank test")
    ax = survival(km, risk_table=False, test=test, median_lines=True)
    assert _cells(ax, "test") == ["Log-rank test p < 0.001"]
    med = km.median()["median"].to_numpy()
    assert _by_gid(ax, "median-")["median-0"].get_xdata()[1] == pytest.approx(med[0])


def test_errors(km):
    _, ax = plt.subplots()
    with pytest.raises(CalcstatsError, match="risk table needs its own axes"):
        survival(km, ax=ax, risk_table=True)
    with pytest.raises(CalcstatsError, match="risk table needs its own axes"):
        survival(km, ax=ax, cumulative_events=True)
    assert survival(km, ax=ax) is ax  # with ax= the default is no risk table
    with pytest.raises(CalcstatsError, match=r"draws a KaplanMeierResult .* got object"):
        survival(object())
    with pytest.raises(CalcstatsError, match=r"not DataFrames.*cs\.kaplan_meier"):
        survival(km.tidy())
    with pytest.raises(InvalidParameterError, match="'labels' parameter"):
        survival(km, labels=["only one"])
    with pytest.raises(InvalidParameterError, match="'risk_table' parameter of survival"):
        survival(km, risk_table="yes")
    with pytest.raises(InvalidParameterError, match="'width_mm' parameter of survival"):
        survival(km, width_mm=0)
    with pytest.raises(InvalidParameterError, match="'ylim' parameter of survival"):
        survival(km, ylim=(1, 0))


def test_labels_name_axes_and_groups(pbc):
    km = cs.kaplan_meier(
        pbc, time="years", event="died", by="sex", labels=cs.Labels(levels={"sex": {"f": "Women"}})
    )
    ax = survival(km, risk_table=False)
    # no unit known for a user's column: "Time", never the column name or a guessed unit
    assert ax.get_xlabel() == "Time" and ax.get_ylabel() == "Survival probability"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Women", "m"]
    # the plot's labels win over the result's; level labels set the order
    lab = cs.Labels(
        variables={"years": "Time since diagnosis"},
        units={"years": "years"},
        levels={"sex": {"m": "Men", "f": "Women"}},
    )
    fig = survival(km, labels=lab, risk_times=[0, 5, 10])
    assert fig.axes[0].get_xlabel() == "Time since diagnosis (years)"
    assert [t.get_text() for t in fig.axes[1].get_yticklabels()] == ["Men", "Women"]
    men = km.risk_table([0, 5, 10]).query("sex == 'm'")["n_risk"].astype(int).astype(str)
    assert _cells(fig.axes[1], "risk-0") == list(men)
    _, y = fig.axes[0].get_lines()[0].get_data()  # the first curve drawn is the men's
    np.testing.assert_allclose(y[1:-1], km.tidy().query("sex == 'm'")["estimate"])
    # a unit alone: "Time (years)"
    ax = survival(km, risk_table=False, labels=cs.Labels(units={"years": "years"}))
    assert ax.get_xlabel() == "Time (years)"


def test_binary_groups_read_no_yes_under_the_variable(pbc, big):
    cif = cs.cumulative_incidence(pbc, time="years", event="status", cause=2, by="male")
    fig = survival(cif)
    legend = fig.axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["No", "Yes"]
    assert legend.get_title().get_text() == "Male"
    assert [t.get_text() for t in fig.axes[1].get_yticklabels()] == ["No", "Yes"]
    # a canonical column: its schema label
    km = cs.kaplan_meier(big, time="time", event="event", by="any_calcification")
    legend = survival(km, risk_table=False).get_legend()
    assert legend.get_title().get_text() == "Any calcification"
    # level labels win, and then no title is needed
    lab = cs.Labels(levels={"male": {0: "Women", 1: "Men"}})
    legend = survival(cif, labels=lab, risk_table=False).get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["Women", "Men"]
    assert legend.get_title().get_text() == ""


def test_numeric_codes_name_their_variable(pbc):
    km = cs.kaplan_meier(pbc.dropna(subset=["stage"]), time="years", event="died", by="stage")
    ax = survival(km, risk_table=False)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Stage: 1",
        "Stage: 2",
        "Stage: 3",
        "Stage: 4",
    ]


def test_legend_inside_for_few_groups_above_for_many(pbc):
    km = cs.kaplan_meier(pbc.dropna(subset=["stage"]), time="years", event="died", by="stage")
    fig = survival(km)
    ax = fig.axes[0]
    box = ax.get_legend().get_window_extent(fig.canvas.get_renderer())
    assert box.y1 <= ax.bbox.y1 + 1  # four groups: inside the axes
    d = pbc.assign(age_group=pd.qcut(pbc["age"], 5, labels=["30s", "40s", "50s", "60s", "70s"]))
    km5 = cs.kaplan_meier(d, time="years", event="died", by="age_group")
    fig = survival(km5, title="By age")
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    box = ax.get_legend().get_window_extent(renderer)
    assert box.y0 >= ax.bbox.y1  # five groups: above the axes, in columns
    assert ax.title.get_window_extent(renderer).y0 >= box.y1  # the title above the legend
    check_figure(fig)


def test_global_rcparams_untouched_and_style_applied(km):
    before = dict(mpl.rcParams)
    fig = survival(km, width_mm=85)
    after = dict(mpl.rcParams)
    assert [k for k in before if before[k] != after[k]] == []
    ax = fig.axes[0]
    assert not ax.spines["top"].get_visible() and not ax.spines["right"].get_visible()
    assert ax.xaxis.get_ticklabels()[0].get_fontsize() == 7.0
    assert ax.xaxis.label.get_fontsize() == 8.0
    assert ax.get_legend().get_frame_on() is False
    # drawn outside the style, the tick labels keep it
    fig.canvas.draw()
    assert {t.get_fontsize() for t in ax.xaxis.get_ticklabels()} == {7.0}


def test_theme_wins_over_the_default_style(km):
    with cs.plot.theme("nature"):
        fig = survival(km)
    assert fig.axes[0].xaxis.get_ticklabels()[0].get_fontsize() == 6.0
    assert fig.axes[0].xaxis.label.get_fontsize() == 7.0
    with mpl.rc_context({"font.size": 12, "lines.linewidth": 2.5}):  # a user's own, too
        ax = survival(km, risk_table=False)
    assert ax.xaxis.label.get_fontsize() == 12.0
    assert ax.xaxis.get_ticklabels()[0].get_fontsize() == 11.0  # follows font.size
    assert ax.get_lines()[0].get_linewidth() == 2.5


def test_size_in_millimetres(km):
    for width in WIDTHS_MM:
        fig = survival(km, width_mm=width)
        assert fig.get_figwidth() * 25.4 == pytest.approx(width)
    fig = survival(km, width_mm=85, height_mm=90)
    assert fig.get_figheight() * 25.4 == pytest.approx(90)
    check_figure(fig)


def test_save_figure_lays_out_again_at_another_width(km, tmp_path):
    fig = survival(km, width_mm=180)
    cs.plot.save_figure(fig, tmp_path / "km", width_mm=85, formats=("png",))
    assert fig.get_figwidth() * 25.4 == pytest.approx(85)
    check_figure(fig)
    fresh = survival(km, width_mm=85)
    assert fig.get_figheight() == pytest.approx(fresh.get_figheight(), rel=0.02)
    cells = [t.get_position()[0] for t in fig.axes[1].texts if t.get_gid() == "risk-0"]
    assert cells == [t.get_position()[0] for t in fresh.axes[1].texts if t.get_gid() == "risk-0"]


def test_axes_level_composition(km):
    """The seaborn pattern: curves on one axes, the table on another sharing its x."""
    fig = plt.figure(figsize=(4, 4), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[4, 1])
    assert survival(km, ax=top) is top
    assert risk_table(km, ax=bottom) is bottom
    lo, hi = top.get_xlim()
    ticks = [t for t in top.get_xticks() if lo <= t <= hi]
    assert [t.get_position()[0] for t in bottom.texts if t.get_gid() == "risk-0"] == ticks
    check_figure(fig)


def test_adjusted_curves(pbc):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = cs.cox(pbc, "C(edema_any) + age", time="years", event="died")
        adj = cs.adjusted_curves(fit, pbc, variable="edema_any")
    ax = survival(adj)  # model-based: no risk table by default, no censor marks
    assert isinstance(ax, matplotlib.axes.Axes)
    assert ax.get_ylabel() == "Survival probability"  # what the result says it estimates
    part = adj.tidy().query("edema_any == 'Edema'")
    np.testing.assert_allclose(
        _by_gid(ax, "curve-")["curve-0"].get_data()[1][1:-1], part["estimate"]
    )
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


# ---- geometry: every figure type at 85 and 180 mm, with and without a theme -----------
def _figures(pbc, big):
    cohort = cs.datasets.load_example_cohort()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        st = cohort.survival_table(outcome="cirrhosis", competing=("liver_transplant", "death"))
        by_etiology = cs.kaplan_meier(
            st, time="time", event="status", cause=1, by="etiology", labels=cs.Labels.cohort()
        )
    km = cs.kaplan_meier(
        pbc, time="years", event="died", by="edema_any", labels=cs.Labels(units={"years": "years"})
    )
    lr = cs.logrank(pbc, time="years", event="died", by="edema_any")
    cif = cs.cumulative_incidence(pbc, time="years", event="status", cause=2, by="male")
    weighted = cs.kaplan_meier(
        pbc.assign(w=np.where(pbc["sex"] == "f", 0.62, 2.7)),
        time="years",
        event="died",
        by="edema_any",
        weights="w",
    )
    many = cs.kaplan_meier(big, time="time", event="event", by="any_calcification")
    days = cs.kaplan_meier(pbc, time="time", event="died", by="edema_any")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = cs.cox(pbc, "C(edema_any) + age", time="years", event="died")
        adjusted = cs.adjusted_curves(fit, pbc, variable="edema_any")
    return {
        "adjusted": lambda w: survival(adjusted, width_mm=w, percent=True),
        "km": lambda w: survival(km, test=lr, median_lines=True, width_mm=w),
        "cif_cumulative_events": lambda w: survival(
            cif, cumulative_events=True, percent=True, width_mm=w
        ),
        "weighted_with_events": lambda w: survival(weighted, risk_events=True, width_mm=w),
        "eleven_groups": lambda w: survival(by_etiology, width_mm=w),
        "4000_patients": lambda w: survival(many, width_mm=w),
        "days_with_events": lambda w: survival(days, risk_events=True, width_mm=w),
        "single_curve": lambda w: survival(
            cs.kaplan_meier(pbc, time="years", event="died"), width_mm=w, title="All"
        ),
    }


@pytest.fixture(scope="module")
def figures(pbc, big):
    return _figures(pbc, big)


@pytest.mark.parametrize("theme_name", THEMES)
@pytest.mark.parametrize("width_mm", WIDTHS_MM)
@pytest.mark.parametrize(
    "kind",
    [
        "km",
        "cif_cumulative_events",
        "weighted_with_events",
        "eleven_groups",
        "4000_patients",
        "days_with_events",
        "single_curve",
    ],
)
def test_geometry(figures, kind, width_mm, theme_name):
    with themed(theme_name):
        fig = figures[kind](width_mm)
    fig = fig if isinstance(fig, mpl.figure.Figure) else fig.figure
    assert fig.get_figwidth() * 25.4 == pytest.approx(width_mm)
    check_figure(fig)
    plt.close(fig)


def test_geometry_finds_clipping_and_overlap():
    """The harness itself: a clipped label and overlapping texts are reported."""
    from geometry import figure_problems

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.set_xlabel("x\n\n\n\n\n\n\n\n\nlabel")  # pushed below the figure
    ax.text(0.5, 0.5, "first")
    ax.text(0.5, 0.5, "second")
    problems = figure_problems(fig)
    assert any("outside the figure" in p and "label" in p for p in problems)
    assert any("texts overlap" in p and "'first'" in p and "'second'" in p for p in problems)
    ax.set_xticks([0, 0.01], labels=["0.010.05", "0.2"])
    assert any(p.startswith("tick labels overlap") for p in figure_problems(fig))
    with pytest.raises(AssertionError, match="geometric problem"):
        check_figure(fig)


# the time axis of the flagship figures, from labels (a plain DataFrame has no time unit)
YEARS = cs.Labels(units={"years": "years"})


def test_km_baseline(km, match_baseline, baseline_style):
    fig = survival(km, risk_times=[0, 3, 6, 9, 12], median_lines=True, labels=YEARS)
    assert fig.axes[0].get_xlabel() == "Time (years)"
    match_baseline(fig, "km_risk_table")


def test_cif_baseline(pbc, match_baseline, baseline_style):
    cif = cs.cumulative_incidence(
        pbc, time="years", event="status", cause=2, by="edema_any", labels=YEARS
    )
    match_baseline(survival(cif, risk_times=[0, 3, 6, 9, 12]), "cif_risk_table")
