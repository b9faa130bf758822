"""Tests for plot.prevalence and plot.dose_response."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from geometry import THEMES, WIDTHS_MM, check_figure, themed

import calcstats as cs
from calcstats import CalcstatsError, InvalidParameterError
from calcstats.plot import dose_response, prevalence


@pytest.fixture(scope="module")
def prev():
    rng = np.random.default_rng(5)
    et = rng.choice(["pbc", "psc", "schistosomiasis", "masld"], 400)
    p = pd.Series({"pbc": 0.2, "psc": 0.3, "schistosomiasis": 0.7, "masld": 0.02})
    d = pd.DataFrame({"etiology": et, "calc": (rng.random(400) < p[et].to_numpy()).astype(int)})
    return cs.prevalence(d, outcome="calc", by="etiology")


def _gid(ax, gid):
    return [c for c in ax.get_children() if c.get_gid() == gid]


def test_prevalence_rows_equal_estimates(prev):
    ax = prevalence(prev)
    tidy = prev.tidy().sort_values("estimate", ascending=False)  # highest on top
    (pts,) = _gid(ax, "estimate")
    np.testing.assert_allclose(pts.get_xdata(), 100 * tidy["estimate"])
    assert list(pts.get_ydata()) == sorted(pts.get_ydata())
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # the first row is drawn at the top
    # canonical column: the schema's level labels ("MASLD", not "masld")
    default = cs.Labels.default()
    assert [" ".join(t.get_text().split()) for t in ax.get_yticklabels()] == [
        default.level("etiology", v) for v in tidy["etiology"]
    ]
    assert "Schistosomiasis" in [t.get_text() for t in ax.get_yticklabels()]
    counts = [t.get_text() for t in ax.texts if t.get_gid() == "counts"]
    assert counts == [f"{c}/{n}" for c, n in zip(tidy["cases"], tidy["n"], strict=True)]
    (ci,) = _gid(ax, "ci")
    segs = np.array([s[:, 0] for s in ci.get_segments()])
    np.testing.assert_allclose(segs[:, 0], 100 * tidy["conf_low"])
    np.testing.assert_allclose(segs[:, 1], 100 * tidy["conf_high"])
    assert ax.get_xlabel() == "Prevalence (%, 95% CI)"


def test_prevalence_hides_small_counts():
    d = pd.DataFrame({"calc": [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1, 0], "g": ["a"] * 4 + ["b"] * 8})
    res = cs.prevalence(d, outcome="calc", by="g", suppress_below=3)
    ax = prevalence(res, sort=False)
    counts = [t.get_text() for t in ax.texts if t.get_gid() == "counts"]
    assert counts[0] == "<3/4"


def test_prevalence_level_labels_name_and_order_the_groups(prev):
    lab = cs.Labels(levels={"etiology": {"psc": "PSC", "pbc": "PBC"}})
    ax = prevalence(prev, labels=lab, sort=False)
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert names[:2] == ["PSC", "PBC"]  # level labels set the display order
    assert "Primary biliary cholangitis" not in names


@pytest.fixture(scope="module")
def example_prev():
    pt = cs.datasets.load_example_cohort().patient_table()
    return cs.prevalence(pt, outcome="any_calcification", by="etiology", method="wilson")


@pytest.mark.parametrize("width_mm", WIDTHS_MM)
@pytest.mark.parametrize("theme_name", THEMES)
def test_prevalence_geometry_no_label_or_count_clipped(example_prev, width_mm, theme_name):
    """The flagship Figure 2: every etiology label and count lies inside the figure."""
    with themed(theme_name):
        ax = prevalence(example_prev, width_mm=width_mm)
    fig = ax.figure
    assert fig.get_size_inches()[0] * 25.4 == pytest.approx(width_mm)
    drawn = check_figure(fig)
    shown = {" ".join(d.text.split()) for d in drawn}
    default = cs.Labels.default()
    for code in example_prev.tidy()["etiology"]:
        assert default.level("etiology", code) in shown
    assert "cases/n" in shown
    if width_mm == 85:  # long labels wrap rather than widen the label column beyond 40%
        widest = max(d.bbox.width for d in drawn if d.kind.startswith("ytick"))
        assert widest <= 0.4 * fig.bbox.width
    plt.close(fig)


def test_prevalence_on_the_callers_axes(prev):
    fig, ax = plt.subplots(layout="constrained", figsize=(4, 3))
    assert prevalence(prev, ax=ax) is ax and fig.get_size_inches()[1] == 3
    check_figure(fig)
    plt.close(fig)


def test_prevalence_errors(prev):
    with pytest.raises(InvalidParameterError, match="'sort' parameter of prevalence"):
        prevalence(prev, sort="estimate")
    with pytest.raises(CalcstatsError, match="compute it with by="):
        prevalence(cs.prevalence(pd.DataFrame({"c": [0, 1]}), outcome="c"))
    with pytest.raises(CalcstatsError, match="not a DataFrame"):
        prevalence(prev.tidy())
    with pytest.raises(CalcstatsError, match=r"draws a PrevalenceResult.*got EstimateResult"):
        prevalence(
            cs.results.EstimateResult(prev.tidy(), by=["etiology"], method="m", conf_level=0.95)
        )


@pytest.fixture(scope="module")
def effect():
    pbc = cs.datasets.load_pbc()
    fit = cs.cox(pbc, "cr(age, df=3) + np.log(bili)", time="time", event="status", cause=2)
    return cs.partial_effect(fit, "age", reference=50)


def test_dose_response_draws_effect(effect):
    ax = dose_response(effect, rug=[35, 40, 60])
    tidy = effect.tidy()
    (line,) = _gid(ax, "estimate")
    np.testing.assert_allclose(line.get_xdata(), tidy["value"])
    np.testing.assert_allclose(line.get_ydata(), tidy["estimate"])
    assert ax.get_yscale() == "log"
    (ref,) = _gid(ax, "reference")
    assert ref.get_xdata()[0] == 50.0 and ref.get_ydata()[0] == 1.0
    (rug,) = _gid(ax, "rug")
    assert rug.get_xdata().tolist() == [35, 40, 60]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Age", "Hazard ratio")


def test_dose_response_labels_and_measure():
    pbc = cs.datasets.load_pbc()
    fg = cs.fine_gray(
        pbc,
        "age + np.log(bili)",
        time="time",
        event="status",
        cause=2,
        labels=cs.Labels(variables={"age": "Age at entry"}, units={"age": "years"}),
    )
    ax = dose_response(cs.partial_effect(fg, "age", values=[40, 50, 60], reference=50))
    assert ax.get_xlabel() == "Age at entry (years)"
    assert ax.get_ylabel() == "Subdistribution hazard ratio"
    ax = dose_response(
        cs.partial_effect(fg, "age", values=[40, 60]), labels={"age": "Age"}, ylabel="sHR"
    )
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Age (years)", "sHR")


def test_dose_response_refuses_tables(effect):
    with pytest.raises(CalcstatsError, match=r"not a DataFrame .*cs\.partial_effect"):
        dose_response(effect.tidy())
    with pytest.raises(CalcstatsError, match=r"draws a PartialEffectResult .*got list"):
        dose_response([1, 2])
    with pytest.raises(InvalidParameterError, match="'log_scale' parameter of dose_response"):
        dose_response(effect, log_scale="yes")


@pytest.mark.parametrize("width_mm", WIDTHS_MM)
@pytest.mark.parametrize("theme_name", THEMES)
def test_dose_response_geometry(effect, width_mm, theme_name):
    with themed(theme_name):
        ax = dose_response(effect, width_mm=width_mm)
    assert ax.figure.get_size_inches()[0] * 25.4 == pytest.approx(width_mm)
    check_figure(ax.figure)
    plt.close(ax.figure)
