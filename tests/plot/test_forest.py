"""Tests for calcstats.plot.forest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats import CalcstatsError
from calcstats.plot import forest
from calcstats.tables import format_ci


@pytest.fixture(scope="module")
def fits():
    d = cs.datasets.load_pbc().dropna(subset=["stage"])
    d = d.assign(st4=(d["stage"] == 4).astype(int),
                 edema_c=d["edema"].map({0: "none", 0.5: "treated", 1: "resistant"}))
    crude = cs.logistic(d, "st4 ~ C(edema_c, Treatment('none'))")
    adj = cs.logistic(d, "st4 ~ age + C(edema_c, Treatment('none')) + np.log(bili)")
    return crude, adj


def _gid(ax, gid):
    return [c for c in ax.get_children() if c.get_gid() == gid]


def test_points_and_text_equal_estimates(fits):
    crude, adj = fits
    fig = forest([crude, adj], labels=["Crude", "Adjusted"])
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert labels == ["edema_c", "none", "resistant", "treated", "age", "np.log(bili)"]
    for k, fit in enumerate((crude, adj)):
        ax, ax_txt = fig.axes[1 + 2 * k], fig.axes[2 + 2 * k]
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
        np.testing.assert_allclose(np.sort(segs[:, 1]),
                                   np.sort(np.clip(tidy["conf_high"], *ax.get_xlim())))
    # the crude model has no 'age' row text
    crude_txt = [t.get_text() for t in fig.axes[2].texts if t.get_gid() == "estimate-text"]
    assert len(crude_txt) == 3


def test_frame_input_with_groups():
    sub = pd.DataFrame({"group": ["Sex", "Sex", "Age", "Age"],
                        "label": ["Female", "Male", "<50", ">=50"],
                        "estimate": [1.4, 1.9, 0.8, 2.5], "conf_low": [1.1, 1.2, 0.3, 1.5],
                        "conf_high": [1.8, 3.0, 2.1, 4.2], "p_value": [0.01, 0.004, 0.6, 1e-4]})
    fig = forest(sub, measure="Hazard ratio")
    assert [t.get_text() for t in fig.axes[0].texts] == ["Sex", "Female", "Male", "Age", "<50",
                                                        ">=50"]
    p = [t.get_text() for t in fig.axes[2].texts if t.get_gid() == "p-text"]
    assert p == ["0.010", "0.004", "0.60", "<0.001"]
    assert fig.axes[1].get_xlabel() == "Hazard ratio"


def test_forest_errors(fits):
    with pytest.raises(CalcstatsError, match="label \\(or term\\), estimate"):
        forest(pd.DataFrame({"x": [1]}))
    with pytest.raises(CalcstatsError, match="expects fitted calcstats results"):
        forest([object()])
    with pytest.raises(CalcstatsError, match="labels has 1 entries for 2"):
        forest(list(fits), labels=["one"])
    with pytest.raises(CalcstatsError, match="not in the model"):
        forest(fits[0], terms=["nope"])


def test_forest_baseline(fits, match_baseline, baseline_style):
    fig = forest(list(fits), labels=["Crude", "Adjusted"],
                 term_labels={"edema_c": "Edema", "age": "Age (per year)",
                              "np.log(bili)": "log bilirubin"})
    match_baseline(fig, "forest")
