"""Tests for the Couinaud segment map and the summary it draws."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from geometry import THEMES, WIDTHS_MM, check_figure, themed
from matplotlib.colors import to_rgba

import calcstats as cs
from calcstats import CalcstatsError, DataError, InvalidParameterError, SchemaError
from calcstats.plot import segment_map
from calcstats.results import EstimateResult


@pytest.fixture
def findings() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    segs = rng.choice(
        ["I", "II", "III", "IVa", "IVb", "V", "VI", "VII", "VIII"],
        size=200,
        p=[0.04, 0.08, 0.10, 0.07, 0.07, 0.12, 0.09, 0.17, 0.26],
    )
    return pd.DataFrame(
        {
            "patient_id": rng.integers(0, 120, 200).astype(str),
            "segment": segs,
            "size_mm": np.round(rng.gamma(2.0, 3.0, 200), 1),
        }
    )


def test_segment_summary_stats(findings):
    res = cs.segment_summary(findings, stat="count")
    assert isinstance(res, cs.SegmentSummary) and isinstance(res, EstimateResult)
    assert (res.stat, res.denominator, res.collapse_iv, res.baseline_only) == (
        "count",
        None,
        True,
        None,
    )
    counts = res.tidy().set_index("segment")
    assert list(res.tidy().columns) == ["segment", "value", "n_findings", "n_patients"]
    assert counts["value"].sum() == len(findings)
    assert counts.loc["IV", "value"] == (findings["segment"].isin(["IVa", "IVb"])).sum()
    prev = cs.segment_summary(findings, stat="prevalence", n_patients=300)
    assert (prev.stat, prev.denominator) == ("prevalence", 300)
    seg7 = findings.loc[findings["segment"] == "VII", "patient_id"].nunique()
    assert prev.values()["VII"] == pytest.approx(seg7 / 300)
    assert "denominator 300 patients" in prev.method
    med = cs.segment_summary(findings, stat="median_size", collapse_iv=False)
    values = med.values()
    assert values["IVb"] == findings.loc[findings["segment"] == "IVb", "size_mm"].median()
    assert np.isnan(values["IV"])  # no finding labelled plain IV
    assert not hasattr(med.tidy(), "attrs") or med.tidy().attrs == {}


def test_segment_summary_of_a_cohort_uses_baseline_studies():
    cohort = cs.datasets.load_example_cohort()
    res = cs.segment_summary(cohort, stat="prevalence")
    assert res.denominator == len(cohort.patients) and res.baseline_only is True
    baseline = cohort.findings.merge(cohort.imaging[["study_id", "study_date"]]).merge(
        cohort.patients[["patient_id", "index_date"]]
    )
    baseline = baseline[baseline["study_date"] <= baseline["index_date"]]
    seg = baseline["segment"].replace({"IVa": "IV", "IVb": "IV"})
    expected = baseline[seg == "VIII"]["patient_id"].nunique() / len(cohort.patients)
    assert res.values()["VIII"] == pytest.approx(expected)
    every = cs.segment_summary(cohort, stat="count", baseline_only=False)
    assert every.tidy()["n_findings"].sum() == len(cohort.findings)


def test_segment_summary_errors(findings):
    with pytest.raises(CalcstatsError, match="needs the number of patients"):
        cs.segment_summary(findings, stat="prevalence")
    with pytest.raises(
        InvalidParameterError,
        match=(
            r"^The 'stat' parameter of segment_summary must be one of 'count', 'prevalence', "
            r"'median_size'\. Got 'mean'\.$"
        ),
    ):
        cs.segment_summary(findings, stat="mean")
    with pytest.raises(
        InvalidParameterError,
        match=re.escape(
            "The 'n_patients' parameter of segment_summary must be an integer >= 1 or None. Got 0."
        ),
    ):
        cs.segment_summary(findings, stat="prevalence", n_patients=0)
    with pytest.raises(InvalidParameterError, match="The 'collapse_iv' parameter"):
        cs.segment_summary(findings, collapse_iv="no")
    with pytest.raises(SchemaError, match="lacks column"):
        cs.segment_summary(findings.drop(columns="segment"))
    with pytest.raises(SchemaError, match="expects a Cohort or a findings DataFrame, got list"):
        cs.segment_summary([1, 2])
    bad = findings.assign(segment="IX")
    with pytest.raises(DataError, match=r"\['IX'\]"):
        cs.segment_summary(bad)


def test_segment_map_colours_follow_values(findings):
    fig, ax = plt.subplots()
    summary = cs.segment_summary(findings, stat="count", collapse_iv=False)
    assert segment_map(summary, cmap="Greys", ax=ax) is ax
    values = summary.values()
    patches = {p.get_gid(): p for p in ax.patches if p.get_gid()}
    cmap = plt.get_cmap("Greys")
    vmax = max(values.values())
    for seg in ["I", "II", "III", "IVa", "IVb", "V", "VI", "VII", "VIII"]:
        expected = cmap(values[seg] / vmax)
        assert patches[f"segment-{seg}"].get_facecolor() == pytest.approx(to_rgba(expected))
    texts = [t.get_text() for t in ax.texts]
    assert str(int(values["VIII"])) in texts
    assert len(fig.axes) == 2  # the map and its colour bar
    assert fig.axes[1].get_xlabel() == "Calcifications (n)"
    plt.close(fig)


def test_segment_map_collapsed_iv_uses_pooled_value(findings):
    fig, ax = plt.subplots()
    segment_map(cs.segment_summary(findings, stat="count"), colorbar=False, ax=ax)
    patches = {p.get_gid(): p for p in ax.patches if p.get_gid()}
    assert patches["segment-IVa"].get_facecolor() == patches["segment-IVb"].get_facecolor()
    texts = [t.get_text() for t in ax.texts]
    assert "IV" in texts and "IVa" not in texts
    plt.close(fig)


def test_segment_map_labels_name_the_colour_bar(findings):
    fig, ax = plt.subplots()
    summary = cs.segment_summary(
        findings, stat="prevalence", n_patients=300, labels={"prevalence": "Patients (%)"}
    )
    segment_map(summary, ax=ax)
    assert fig.axes[1].get_xlabel() == "Patients (%)"
    fig2, ax2 = plt.subplots()
    segment_map(summary, ax=ax2, labels={"prevalence": "Share of patients (%)"})
    assert fig2.axes[1].get_xlabel() == "Share of patients (%)"
    plt.close(fig)
    plt.close(fig2)


def test_segment_map_draws_only_a_summary(findings):
    with pytest.raises(SchemaError) as err:
        segment_map(findings)
    assert str(err.value) == (
        "segment_map draws a SegmentSummary, the result of cs.segment_summary(); got "
        "DataFrame. Summarise the findings first, e.g. "
        "cs.plot.segment_map(cs.segment_summary(cohort, stat='prevalence'))."
    )
    table = cs.segment_summary(findings).tidy()  # a summary's numbers, not the result
    with pytest.raises(SchemaError, match="got DataFrame"):
        segment_map(table)
    summary = cs.segment_summary(findings)
    with pytest.raises(
        InvalidParameterError,
        match="The 'cmap' parameter of segment_map must be a matplotlib colour map name",
    ):
        segment_map(summary, cmap="no-such-map")
    with pytest.raises(
        InvalidParameterError,
        match=re.escape(
            "The 'vmax' parameter of segment_map must be a number or None. Got 'high'."
        ),
    ):
        segment_map(summary, vmax="high")


def test_segment_map_baseline(findings, match_baseline, baseline_style):
    fig, axes = plt.subplots(1, 2, figsize=(180 / 25.4, 70 / 25.4), layout="constrained")
    segment_map(
        cs.segment_summary(findings, stat="prevalence", n_patients=300),
        ax=axes[0],
        title="Prevalence",
    )
    segment_map(
        cs.segment_summary(findings, stat="median_size", collapse_iv=False),
        ax=axes[1],
        title="Median size",
    )
    match_baseline(fig, "segment_map")


@pytest.fixture(scope="module")
def example_cohort():
    return cs.datasets.load_example_cohort()


@pytest.mark.parametrize("width_mm", WIDTHS_MM)
@pytest.mark.parametrize("theme_name", THEMES)
@pytest.mark.parametrize("stat", ["prevalence", "median_size"])
def test_segment_map_geometry(example_cohort, width_mm, theme_name, stat):
    summary = cs.segment_summary(example_cohort, stat=stat)
    with themed(theme_name):
        ax = segment_map(summary, width_mm=width_mm, title="Baseline calcifications")
    fig = ax.figure
    assert fig.get_size_inches()[0] * 25.4 == pytest.approx(width_mm)
    drawn = check_figure(fig)
    shown = [d.text for d in drawn]
    assert {"VII", "VIII", "IV", "II", "III", "V", "VI"} <= set(shown)
    assert fig.axes[1].get_xlabel() in shown  # the colour bar's label
    plt.close(fig)


def test_two_maps_side_by_side_in_a_double_column(example_cohort):
    fig, axes = plt.subplots(1, 2, figsize=(180 / 25.4, 3.0), layout="constrained")
    for ax, stat in zip(axes, ("prevalence", "median_size"), strict=True):
        assert segment_map(cs.segment_summary(example_cohort, stat=stat), ax=ax) is ax
    assert [a.get_xlabel() for a in fig.axes[2:]] == [
        "Patients with calcification (%)",
        "Median size (mm)",
    ]
    check_figure(fig)
    plt.close(fig)
