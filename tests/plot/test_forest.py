"""Tests for calcstats.plot.forest."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

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


def _gid(ax, gid):
    return [c for c in ax.get_children() if c.get_gid() == gid]


def _texts(ax, gid):
    return [
        t.get_text() for t in ax.get_children() if hasattr(t, "get_text") and t.get_gid() == gid
    ]


def test_points_and_text_equal_estimates(fits):
    crude, adj = fits
    fig = forest([crude, adj], model_names=["Crude", "Adjusted"])
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert labels == ["Edema c", "none", "resistant", "treated", "Age", "Bili (log)"]
    for k, fit in enumerate((crude, adj)):
        ax, ax_txt = fig.axes[1 + 2 * k], fig.axes[2 + 2 * k]
        assert ax.get_title() == ["Crude", "Adjusted"][k]
        tidy = fit.tidy().set_index("term")
        tidy = tidy.drop(index="Intercept")
        (points,) = _gid(ax, "estimate")
        np.testing.assert_allclose(np.sort(points.get_xdata()), np.sort(tidy["estimate"]))
        texts = [t.get_text() for t in ax_txt.texts if t.get_gid() == "estimate-text"]
        assert "1 (reference)" in texts
        for _, r in tidy.iterrows():
            assert format_ci(r["estimate"], r["conf_low"], r["conf_high"]) in texts
        (ci,) = _gid(ax, "ci")
        segs = np.array([s[:, 0] for s in ci.get_segments()])
        np.testing.assert_allclose(
            np.sort(segs[:, 1]), np.sort(np.clip(tidy["conf_high"], *ax.get_xlim()))
        )
    # the crude model has no 'age' row text
    crude_txt = [t.get_text() for t in fig.axes[2].texts if t.get_gid() == "estimate-text"]
    assert len(crude_txt) == 3
    plt.close(fig)


def test_formula_order_and_the_measure_of_each_model(pbc):
    kw = {"time": "time", "event": "status", "cause": 2}
    cox = cs.cox(pbc, "age + C(edema)", **kw)
    fg = cs.fine_gray(pbc, "age + C(edema)", **kw)
    fig = forest(
        [cox, fg], labels=cs.Labels(variables={"edema": "Edema"}, levels={"edema": {0.0: "None"}})
    )
    assert [t.get_text() for t in fig.axes[0].texts] == ["Age", "Edema", "None", "0.5", "1"]
    assert fig.axes[1].get_xlabel() == "Hazard ratio"
    assert fig.axes[3].get_xlabel() == "Subdistribution hazard ratio"
    heads = [
        t.get_text()
        for t in fig.axes[2].texts + fig.axes[4].texts
        if t.get_fontweight() == "bold" and "CI" in t.get_text()
    ]
    assert heads == ["HR (95% CI)", "sHR (95% CI)"]
    plt.close(fig)


def test_one_model_on_the_callers_axes(pbc):
    fit = cs.cox(pbc, "C(edema) + np.log(bili)", time="time", event="status", cause=2)
    fig, ax = plt.subplots()
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
    assert "HR (90% CI)" in [t.get_text() for t in ax.texts]
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "Hazard ratio"
    plt.close(fig)


def test_not_estimable_shows_a_dash_and_a_footnote_in_words():
    rng = np.random.default_rng(2)
    n = 300
    g = np.where(np.arange(n) < 20, "rare", np.where(np.arange(n) < 160, "a", "b"))
    status = rng.choice([0, 1], n, p=[0.4, 0.6])
    status[g == "rare"] = 0
    d = pd.DataFrame(
        {"grp": g, "x": rng.normal(size=n), "time": rng.exponential(1, n), "status": status}
    )
    with pytest.warns(cs.ConvergenceWarning):
        fit = cs.cox(d, "C(grp) + x", time="time", event="status")
    fig, ax = plt.subplots()
    forest(fit, ax=ax, labels={"grp": "Group"})
    labels, shown = _texts(ax, "label"), _texts(ax, "estimate-text")
    assert labels == ["Group", "a", "b", "rare", "X"]
    assert shown == ["1 (reference)", shown[1], "—", shown[3]] and shown[1] != "—"
    (note,) = _texts(ax, "footnote")
    assert note.startswith("— Group = rare: not estimable (") and "C(" not in note
    plt.close(fig)


def test_linear_models_draw_on_a_linear_axis_around_zero(pbc):
    lin = cs.linear(pbc, "np.log(bili) ~ age + C(edema)")
    fig, ax = plt.subplots()
    forest(lin, ax=ax)
    assert ax.get_xscale() == "linear" and ax.get_xlabel() == "Estimate"
    (ref,) = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert ref.get_xdata()[0] == 0
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
    assert [t.get_text() for t in fig.axes[0].texts] == [
        "Sex",
        "Female",
        "Male",
        "Age",
        "<50",
        ">=50",
    ]
    p = [t.get_text() for t in fig.axes[2].texts if t.get_gid() == "p-text"]
    assert p == ["0.010", "0.004", "0.60", "<0.001"]
    assert fig.axes[1].get_xlabel() == "Hazard ratio"
    assert "HR (95% CI)" in [t.get_text() for t in fig.axes[2].texts]
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
    fig, ax = plt.subplots()
    with pytest.raises(InvalidParameterError, match="'ax' parameter of forest takes one model"):
        forest(list(fits), ax=ax)
    plt.close(fig)


def test_terms_select_and_order_rows(fits):
    fig = forest(fits[1], terms=["np.log(bili)", "edema_c"])
    assert [t.get_text() for t in fig.axes[0].texts] == [
        "Bili (log)",
        "Edema c",
        "none",
        "resistant",
        "treated",
    ]
    plt.close(fig)


def test_forest_baseline(fits, match_baseline, baseline_style):
    fig = forest(
        list(fits),
        model_names=["Crude", "Adjusted"],
        labels={"edema_c": "Edema", "age": "Age (per year)", "np.log(bili)": "log bilirubin"},
    )
    match_baseline(fig, "forest")
