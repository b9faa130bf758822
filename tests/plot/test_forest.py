"""Tests for calcstats.plot.forest."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from geometry import THEMES, WIDTHS_MM, check_figure, themed

import calcstats as cs
from calcstats import InvalidParameterError, SchemaError
from calcstats.plot import forest
from calcstats.tables import format_ci


@pytest.fixture(scope="module")
def fits():
    d = cs.datasets.load_pbc().dropna(subset=["stage"])
    d = d.assign(
        st4=(d["stage"] == 4).astype(int),
        edema_c=d["edema"].map({0: "none", 0.5: "treated", 1: "resistant"}),
    )
    crude = cs.logistic(d, "st4 ~ C(edema_c, Treatment('none'))")
    adj = cs.logistic(d, "st4 ~ age + C(edema_c, Treatment('none')) + np.log(bili)")
    return crude, adj


@pytest.fixture(scope="module")
def pbc():
    return cs.datasets.load_pbc()


@pytest.fixture(scope="module")
def cox_fg(pbc):
    kw = {"time": "time", "event": "status", "cause": 2}
    formula = "trt + age + C(edema) + np.log(bili) + albumin"
    d = pbc.dropna(subset=["trt"])
    return cs.cox(d, formula, **kw), cs.fine_gray(d, formula, **kw)


def _gid(ax, gid):
    return [c for c in ax.get_children() if c.get_gid() == gid]


def _texts(ax, gid):
    return [t.get_text() for t in ax.texts if t.get_gid() == gid]


def _flat(texts):
    return [" ".join(t.split()) for t in texts]


def test_points_and_text_equal_estimates(fits):
    crude, adj = fits
    fig = forest([crude, adj], model_names=["Crude", "Adjusted"])
    assert len(fig.axes) == 2
    labels = _texts(fig.axes[0], "label")
    assert labels == ["Edema c", "none", "resistant", "treated", "Age", "Bili (log)"]
    assert _texts(fig.axes[1], "label") == []  # one label column per row of panels
    for ax, fit, name in zip(fig.axes, (crude, adj), ("Crude", "Adjusted"), strict=True):
        assert ax.get_title(loc="left") == name
        tidy = fit.tidy().set_index("term").drop(index="Intercept")
        (points,) = _gid(ax, "estimate")
        np.testing.assert_allclose(np.sort(points.get_xdata()), np.sort(tidy["estimate"]))
        texts = _texts(ax, "estimate-text")
        assert "1 (reference)" in texts
        for _, r in tidy.iterrows():
            assert format_ci(r["estimate"], r["conf_low"], r["conf_high"]) in texts
        (ci,) = _gid(ax, "ci")
        segs = np.array([s[:, 0] for s in ci.get_segments()])
        np.testing.assert_allclose(
            np.sort(segs[:, 1]), np.sort(np.clip(tidy["conf_high"], *ax.get_xlim()))
        )
    # the crude model has no 'age' row text
    assert len(_texts(fig.axes[0], "estimate-text")) == 3
    plt.close(fig)


def test_formula_order_and_the_measure_of_each_model(cox_fg):
    cox, fg = cox_fg
    fig = forest(
        [cox, fg],
        labels=cs.Labels(
            variables={"trt": "Treatment", "edema": "Edema"}, levels={"edema": {0.0: "None"}}
        ),
    )
    labels = _texts(fig.axes[0], "label")
    assert labels == ["Treatment", "Age", "Edema", "None", "0.5", "1", "Bili (log)", "Albumin"]
    # the exposure written first is the top row
    (lab,) = [t for t in fig.axes[0].texts if t.get_text() == "Treatment"]
    assert lab.xy[1] == min(t.xy[1] for t in fig.axes[0].texts if t.get_gid() == "label")
    assert fig.axes[0].get_xlabel() == "Hazard ratio"
    assert fig.axes[1].get_xlabel() == "Subdistribution hazard ratio"
    heads = [_texts(ax, "head")[0] for ax in fig.axes]
    assert heads == ["HR (95% CI)", "sHR (95% CI)"]
    plt.close(fig)


@pytest.mark.parametrize(
    ("fit", "short", "axis"),
    [
        (lambda d: cs.logistic(d, "hepato ~ age + sex"), "OR", "Odds ratio"),
        (lambda d: cs.poisson(d, "ascites ~ age + sex"), "IRR", "Rate ratio"),
        (lambda d: cs.log_binomial(d, "hepato ~ age + sex"), "RR", "Risk ratio"),
    ],
)
def test_measure_named_by_model_type(pbc, fit, short, axis):
    ax = forest(fit(pbc.dropna(subset=["trt"]))).axes[0]
    assert _texts(ax, "head")[0] == f"{short} (95% CI)" and ax.get_xlabel() == axis
    plt.close(ax.figure)


def test_one_model_on_the_callers_axes(pbc):
    fit = cs.cox(pbc, "C(edema) + np.log(bili)", time="time", event="status", cause=2)
    fig, ax = plt.subplots(layout="constrained")
    out = forest(
        fit, ax=ax, labels={"edema": "Edema", "np.log(bili)": "Bilirubin (log)"}, conf_level=0.9
    )
    assert out is ax and len(fig.axes) == 1
    assert _texts(ax, "label") == ["Edema", "0", "0.5", "1", "Bilirubin (log)"]
    tidy = fit.tidy(conf_level=0.9).set_index("term")
    (points,) = _gid(ax, "estimate")
    np.testing.assert_allclose(points.get_xdata(), tidy["estimate"])
    shown = _texts(ax, "estimate-text")
    assert shown[0] == "1 (reference)"
    assert shown[1:] == [format_ci(r.estimate, r.conf_low, r.conf_high) for r in tidy.itertuples()]
    assert _texts(ax, "head")[0] == "HR (90% CI)"
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "Hazard ratio"
    check_figure(fig)
    plt.close(fig)


@pytest.fixture(scope="module")
def monotone():
    rng = np.random.default_rng(2)
    n = 300
    g = np.where(np.arange(n) < 20, "rare", np.where(np.arange(n) < 160, "a", "b"))
    status = rng.choice([0, 1], n, p=[0.4, 0.6])
    status[g == "rare"] = 0
    d = pd.DataFrame(
        {"grp": g, "x": rng.normal(size=n), "time": rng.exponential(1, n), "status": status}
    )
    with pytest.warns(cs.ConvergenceWarning):
        return cs.cox(d, "C(grp) + x", time="time", event="status")


def test_not_estimable_shows_a_dash_and_a_footnote_in_words(monotone):
    fig, ax = plt.subplots(layout="constrained")
    forest(monotone, ax=ax, labels={"grp": "Group"})
    labels, shown = _texts(ax, "label"), _texts(ax, "estimate-text")
    assert labels == ["Group", "a", "b", "rare", "X"]
    assert shown == ["1 (reference)", shown[1], "—", shown[3]] and shown[1] != "—"
    (note,) = _flat(_texts(ax, "footnote"))
    assert note.startswith("— Group = rare: not estimable (") and "C(" not in note
    check_figure(fig)  # the footnote is inside the figure
    plt.close(fig)


@pytest.mark.parametrize("width_mm", WIDTHS_MM)
def test_footnote_of_a_figure_is_inside_it(monotone, width_mm):
    fig = forest(monotone, labels={"grp": "Group"}, width_mm=width_mm)
    (note,) = [t for t in fig.texts if t.get_gid() == "footnote"]
    assert " ".join(note.get_text().split()).startswith("— Group = rare: not estimable (")
    check_figure(fig)
    plt.close(fig)


def test_linear_models_draw_on_a_linear_axis_around_zero(pbc):
    lin = cs.linear(pbc, "np.log(bili) ~ age + C(edema)")
    fig, ax = plt.subplots()
    forest(lin, ax=ax)
    assert ax.get_xscale() == "linear" and ax.get_xlabel() == "Estimate"
    (ref,) = [c for c in ax.collections if c.get_linestyle()[0][1] is not None]
    assert ref.get_segments()[0][0, 0] == 0
    (points,) = _gid(ax, "estimate")
    tidy = lin.tidy().set_index("term").drop(index="Intercept")
    np.testing.assert_allclose(points.get_xdata(), tidy["estimate"])  # not exponentiated
    plt.close(fig)


def test_frame_input_with_groups():
    sub = pd.DataFrame(
        {
            "group": ["Sex", "Sex", "Age", "Age"],
            "label": ["Female", "Male", "<50", ">=50"],
            "estimate": [1.4, 1.9, 0.8, 2.5],
            "conf_low": [1.1, 1.2, 0.3, 1.5],
            "conf_high": [1.8, 3.0, 2.1, 4.2],
            "p_value": [0.01, 0.004, 0.6, 1e-4],
        }
    )
    fig = forest(sub, measure="Hazard ratio")
    ax = fig.axes[0]
    assert _texts(ax, "label") == ["Sex", "Female", "Male", "Age", "<50", ">=50"]
    assert _texts(ax, "p-text") == ["0.010", "0.004", "0.60", "<0.001"]
    assert ax.get_xlabel() == "Hazard ratio"
    assert _texts(ax, "head")[0] == "HR (95% CI)"
    plt.close(fig)


def test_forest_errors(fits):
    with pytest.raises(SchemaError, match="label \\(or term\\), estimate"):
        forest(pd.DataFrame({"x": [1]}))
    with pytest.raises(SchemaError, match="expects a fitted model"):
        forest([object()])
    with pytest.raises(InvalidParameterError, match=r"'model_names' parameter.*1 names for 2"):
        forest(list(fits), model_names=["one"])
    with pytest.raises(InvalidParameterError, match=r"'labels' parameter of forest.*model_names="):
        forest(list(fits), labels=["Crude", "Adjusted"])
    with pytest.raises(TypeError, match="term_labels"):
        forest(fits[0], term_labels={"age": "Age"})
    with pytest.raises(InvalidParameterError, match="'terms' parameter of forest names 'nope'"):
        forest(fits[0], terms=["nope"])
    with pytest.raises(InvalidParameterError, match="'show_p' parameter of forest"):
        forest(fits[0], show_p="yes")
    with pytest.raises(InvalidParameterError, match="'width_mm' parameter of forest"):
        forest(fits[0], width_mm=8.5)
    fig, ax = plt.subplots()
    with pytest.raises(InvalidParameterError, match="'ax' parameter of forest takes one model"):
        forest(list(fits), ax=ax)
    plt.close(fig)


def test_terms_select_and_order_rows(fits):
    fig = forest(fits[1], terms=["np.log(bili)", "edema_c"])
    assert _texts(fig.axes[0], "label") == [
        "Bili (log)",
        "Edema c",
        "none",
        "resistant",
        "treated",
    ]
    plt.close(fig)


def test_ticks_are_thinned_until_their_labels_fit():
    wide = pd.DataFrame(
        {
            "label": ["A", "B"],
            "estimate": [0.05, 20.0],
            "conf_low": [0.01, 8.0],
            "conf_high": [0.2, 60.0],
        }
    )
    fig = forest(wide, measure="Odds ratio", width_mm=85)
    ax = fig.axes[0]
    ticks = list(ax.get_xticks())
    assert 1.0 in ticks and len(ticks) < len(
        [t for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50) if t <= 60]
    )
    check_figure(fig)
    plt.close(fig)


def test_long_labels_wrap_instead_of_being_cut(cox_fg):
    long = "D-penicillamine versus placebo in the randomised treatment arm"
    fig = forest(cox_fg[0], labels={"trt": long}, width_mm=85)
    (label,) = [t for t in _texts(fig.axes[0], "label") if t.startswith("D-")]
    assert "\n" in label and " ".join(label.split()) == long
    check_figure(fig)
    plt.close(fig)


def test_models_that_do_not_fit_side_by_side_are_stacked(cox_fg):
    narrow = forest(list(cox_fg), width_mm=85)
    wide = forest(list(cox_fg), width_mm=180)
    y_narrow = [ax.get_position().y0 for ax in narrow.axes]
    y_wide = [ax.get_position().y0 for ax in wide.axes]
    assert y_narrow[0] > y_narrow[1]  # one under the other
    assert y_wide[0] == pytest.approx(y_wide[1])  # side by side
    assert _texts(narrow.axes[1], "label") != []  # each row of panels has its labels
    plt.close("all")


@pytest.mark.parametrize("width_mm", WIDTHS_MM)
@pytest.mark.parametrize("theme_name", THEMES)
def test_geometry(cox_fg, width_mm, theme_name):
    with themed(theme_name):
        fig = forest(list(cox_fg), model_names=["Cox", "Fine–Gray"], width_mm=width_mm)
        one = forest(cox_fg[0], width_mm=width_mm)
    for f in (fig, one):
        assert f.get_size_inches()[0] * 25.4 == pytest.approx(width_mm)
        check_figure(f)
    plt.close("all")


def test_forest_baseline(fits, match_baseline, baseline_style):
    fig = forest(
        list(fits),
        model_names=["Crude", "Adjusted"],
        labels={"edema_c": "Edema", "age": "Age (per year)", "np.log(bili)": "log bilirubin"},
    )
    match_baseline(fig, "forest")


def test_rows_keep_their_height_when_saved_at_another_width(cox_fg):
    from calcstats.plot._style import relayout

    fig = forest(cox_fg[0], width_mm=85)
    height = fig.axes[0].get_position().height * fig.get_size_inches()[1]
    fig.set_size_inches(180 / 25.4, fig.get_size_inches()[1] * 180 / 85)  # aspect kept
    assert relayout(fig, keep_height=False)
    new = fig.axes[0].get_position().height * fig.get_size_inches()[1]
    assert new == pytest.approx(height, rel=0.02)
    check_figure(fig)
    plt.close(fig)
