"""Tests for the Couinaud segment map and its summary."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba

from calcstats import CalcstatsError, SchemaError
from calcstats.describe._segments import segment_summary
from calcstats.plot import segment_map


@pytest.fixture
def findings() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    segs = rng.choice(["I", "II", "III", "IVa", "IVb", "V", "VI", "VII", "VIII"], size=200,
                      p=[0.04, 0.08, 0.10, 0.07, 0.07, 0.12, 0.09, 0.17, 0.26])
    return pd.DataFrame({"patient_id": rng.integers(0, 120, 200).astype(str), "segment": segs,
                         "size_mm": np.round(rng.gamma(2.0, 3.0, 200), 1)})


def test_segment_summary_stats(findings):
    counts = segment_summary(findings, stat="count").set_index("segment")
    assert counts["value"].sum() == len(findings)
    assert counts.loc["IV", "value"] == (findings["segment"].isin(["IVa", "IVb"])).sum()
    prev = segment_summary(findings, stat="prevalence", n_patients=300).set_index("segment")
    seg7 = findings.loc[findings["segment"] == "VII", "patient_id"].nunique()
    assert prev.loc["VII", "value"] == pytest.approx(seg7 / 300)
    med = segment_summary(findings, stat="median_size", collapse_iv=False).set_index("segment")
    assert med.loc["IVb", "value"] == findings.loc[findings["segment"] == "IVb", "size_mm"].median()
    assert np.isnan(med.loc["IV", "value"])  # no finding labelled plain IV


def test_segment_summary_errors(findings):
    with pytest.raises(CalcstatsError, match="needs the number of patients"):
        segment_summary(findings, stat="prevalence")
    with pytest.raises(CalcstatsError, match="stat must be one of"):
        segment_summary(findings, stat="mean")
    with pytest.raises(SchemaError, match="lacks column"):
        segment_summary(findings.drop(columns="segment"))
    bad = findings.assign(segment="IX")
    with pytest.raises(CalcstatsError, match=r"\['IX'\]"):
        segment_summary(bad)


def test_segment_map_colours_follow_values(findings):
    fig, ax = plt.subplots()
    segment_map(findings, stat="count", collapse_iv=False, cmap="Greys", ax=ax)
    summary = segment_summary(findings, stat="count", collapse_iv=False).set_index("segment")
    patches = {p.get_gid(): p for p in ax.patches if p.get_gid()}
    cmap = plt.get_cmap("Greys")
    vmax = summary["value"].max()
    for seg in ["I", "II", "III", "IVa", "IVb", "V", "VI", "VII", "VIII"]:
        expected = cmap(summary.loc[seg, "value"] / vmax)
        assert patches[f"segment-{seg}"].get_facecolor() == pytest.approx(to_rgba(expected))
    texts = [t.get_text() for t in ax.texts]
    assert str(int(summary.loc["VIII", "value"])) in texts
    assert len(fig.axes) == 2  # the map and its colour bar


def test_segment_map_collapsed_iv_uses_pooled_value(findings):
    ax = segment_map(findings, stat="count", colorbar=False)
    patches = {p.get_gid(): p for p in ax.patches if p.get_gid()}
    assert patches["segment-IVa"].get_facecolor() == patches["segment-IVb"].get_facecolor()
    texts = [t.get_text() for t in ax.texts]
    assert "IV" in texts and "IVa" not in texts


def test_segment_map_baseline(findings, match_baseline, baseline_style):
    fig, axes = plt.subplots(1, 2, figsize=(7.2, 3.0))
    segment_map(findings, stat="prevalence", n_patients=300, ax=axes[0], title="Prevalence")
    segment_map(findings, stat="median_size", collapse_iv=False, ax=axes[1], title="Median size")
    match_baseline(fig, "segment_map")
