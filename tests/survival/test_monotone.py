"""A level with no events: never a finite-looking number, in cox and fine_gray alike."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

import calcstats as cs


def _data(n_level: int, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 400
    g = np.array(["a"] * (n - n_level) + ["rare"] * n_level)
    g[: (n - n_level) // 2] = "b"
    x = rng.normal(size=n)
    t = rng.exponential(np.exp(-0.3 * x))
    status = rng.choice([0, 1, 2], n, p=[0.3, 0.45, 0.25])
    status[g == "rare"] = rng.choice([0, 2], n_level)  # the level has no cause-1 event
    return pd.DataFrame({"g": g, "x": x, "time": t, "status": status})


@pytest.mark.parametrize("n_level", [3, 20, 120])
def test_level_without_events_is_reported_whatever_its_frequency(n_level):
    d = _data(n_level)
    term = "C(g)[T.rare]"
    for fit_fn in (cs.fine_gray, cs.cox):
        with pytest.warns(cs.ConvergenceWarning, match=r"C\(g\)\[T\.rare\].*no events"):
            fit = fit_fn(d, "C(g) + x", time="time", event="status", cause=1)
        row = fit.tidy().set_index("term").loc[term]
        assert row[["estimate", "conf_low", "conf_high", "p_value", "statistic"]].isna().all()
        assert np.isfinite(fit.tidy().set_index("term").loc["x", "estimate"])
        assert not fit.glance()["converged"][0]
        assert fit.inline(term).startswith(f"{fit.ratio_measure} not estimable")
        tab = cs.regression_table(fit)
        body = tab.body
        rare = body[body["Characteristic"].str.strip() == "rare"].iloc[0]
        assert rare.iloc[3] == "—" and rare.iloc[4] == "—"
        assert any("not estimable" in note and "no events" in note for note in tab.footnotes)
        g_row = body[body["Characteristic"].str.strip() == "G"].iloc[0]
        assert g_row.iloc[4] == "—"  # no global test with an infinite coefficient


def test_finite_estimates_are_not_flagged():
    d = _data(40)
    d.loc[d["g"] == "rare", "status"] = 1  # events in the level: finite
    fit = cs.fine_gray(d, "C(g) + x", time="time", event="status", cause=1)
    assert fit.converged and not fit.nonestimable
    assert np.isfinite(fit.tidy()["estimate"]).all()


def test_forest_shows_a_dash_and_says_why():
    d = _data(20)
    with pytest.warns(cs.ConvergenceWarning):
        fit = cs.fine_gray(d, "C(g) + x", time="time", event="status", cause=1)
    fig = cs.plot.forest(fit)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "—" in texts
    notes = [t.get_text() for t in fig.texts if t.get_gid() == "footnote"]
    assert notes and "G = rare: not estimable" in notes[0]
    matplotlib.pyplot.close(fig)
