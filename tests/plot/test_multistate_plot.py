"""plot.state_probabilities and plot.transitions: what is drawn (areas, lines, bands,
numbers at risk, boxes, arrows, counts), labels instead of codes, and two baseline images."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats._errors import CalcstatsError, DataWarning
from tests.survival.conftest import REFERENCE


@pytest.fixture(scope="module")
def ms() -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return cs.datasets.load_example_cohort().multistate_table()


@pytest.fixture(scope="module")
def sp(ms):
    return cs.state_probabilities(ms, by="any_calcification")


def texts(fig, prefix: str) -> list:
    return [
        t for ax in fig.axes for t in ax.texts if t.get_gid() and t.get_gid().startswith(prefix)
    ]


def test_stacked_areas_panels_labels_and_numbers_at_risk(sp):
    fig = cs.plot.state_probabilities(sp, risk_times=[0, 5, 10])
    main = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in main] == ["Any calcification: No", "Any calcification: Yes"]
    areas = [c.get_gid() for c in main[0].collections]
    assert areas == [f"area-{s}" for s in sp.states]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert sorted(legend) == sorted(
        ["No cirrhosis", "Cirrhosis", "Decompensation", "Liver transplant", "Death"]
    )
    assert main[0].get_xlabel() == "" and "Time (years)" in [a.get_xlabel() for a in fig.axes]
    # the risk table of the second panel shows risk_table()'s numbers, per live state
    rt = sp.risk_table([0, 5, 10])
    want = rt.loc[(rt["any_calcification"] == 1) & (rt["state"] == "cirrhosis"), "n_risk"]
    shown = [t for t in texts(fig, "risk-cirrhosis") if t.axes is fig.axes[3]]
    assert [int(t.get_text()) for t in shown] == want.astype(int).tolist()
    assert not texts(fig, "risk-death")  # absorbing: nobody is at risk there
    labels = [t.get_text() for t in fig.axes[1].get_yticklabels()]
    assert labels == ["No cirrhosis", "Cirrhosis", "Decompensation"]


def test_lines_with_bands_for_chosen_states(sp):
    fig = cs.plot.state_probabilities(
        sp, kind="lines", states=["cirrhosis", "death"], risk_table=False, percent=True
    )
    ax = fig.axes[0]
    assert [ln.get_gid() for ln in ax.lines] == ["line-cirrhosis", "line-death"]
    assert [c.get_gid() for c in ax.collections] == ["band-cirrhosis", "band-death"]
    assert fig.axes[0].get_ylim() == fig.axes[1].get_ylim()  # one scale for all panels
    last = sp.tidy().query("state == 'death' and any_calcification == 0")["estimate"].iloc[-1]
    assert ax.lines[1].get_ydata()[-1] == pytest.approx(last)
    with pytest.raises(CalcstatsError, match="stacked plot shows every state"):
        cs.plot.state_probabilities(sp, states=["death"])
    with pytest.raises(CalcstatsError, match="not states"):
        cs.plot.state_probabilities(sp, kind="lines", states=["dead"])
    with pytest.raises(CalcstatsError, match="'kind' parameter"):
        cs.plot.state_probabilities(sp, kind="bars")
    with pytest.raises(CalcstatsError, match="expects a result"):
        cs.plot.state_probabilities(pd.DataFrame())


def test_user_labels_win(sp):
    lab = cs.Labels(
        levels={
            "from_state": {"cirrhosis": "Compensated cirrhosis"},
            "any_calcification": {0: "Not calcified", 1: "Calcified"},
        },
        variables={"any_calcification": "Liver"},
    )
    fig = cs.plot.state_probabilities(sp, labels=lab, risk_table=False)
    assert "Compensated cirrhosis" in [t.get_text() for t in fig.legends[0].get_texts()]
    assert fig.axes[1].get_title() == "Liver: Calcified"


def test_state_diagram_boxes_arrows_and_counts(ms):
    fig = cs.plot.transitions(ms)
    ax = fig.axes[0]
    boxes = [p.get_gid() for p in ax.patches if p.get_gid().startswith("box-")]
    assert boxes == [
        f"box-{s}"
        for s in ("no_cirrhosis", "cirrhosis", "decompensation", "liver_transplant", "death")
    ]
    moves = (
        ms.loc[ms["to_state"] != "censored"]
        .groupby(["from_state", "to_state"], observed=True)
        .size()
    )
    arrows = {p.get_gid() for p in ax.patches if p.get_gid().startswith("arrow-")}
    assert arrows == {f"arrow-{a}-{b}" for a, b in moves.index}
    for (a, b), n in moves.items():
        (label,) = [t for t in ax.texts if t.get_gid() == f"n-{a}-{b}"]
        assert label.get_text() == f"{n:,}"
    names = [t.get_text() for t in ax.texts if t.get_gid().startswith("label-")]
    assert "No cirrhosis" in names and "no_cirrhosis" not in names
    count = next(t.get_text() for t in ax.texts if t.get_gid() == "count-death")
    assert count == f"n = {moves.xs('death', level='to_state').sum():,}"


def test_diagram_from_a_result_and_custom_positions():
    d = pd.read_csv(REFERENCE / "multistate_data" / "illness_death_sim.csv")
    sp = cs.state_probabilities(d, by="x")
    fig = cs.plot.transitions(sp, positions={"healthy": (0, 0), "ill": (2, 0), "dead": (1, -1.2)})
    ax = fig.axes[0]
    (lab,) = [t for t in ax.texts if t.get_gid() == "n-healthy-ill"]
    assert lab.get_text() == str(((d["from_state"] == "healthy") & (d["to_state"] == "ill")).sum())
    with pytest.raises(CalcstatsError, match="no entry for state"):
        cs.plot.transitions(sp, positions={"healthy": (0, 0)})
    renamed = d.rename(columns={"patient_id": "id"})
    fig = cs.plot.transitions(renamed, patient_id="id", censored=False)
    assert not [t for t in fig.axes[0].texts if "censored" in t.get_text()]


def test_baseline_images(ms, match_baseline, baseline_style):
    sp = cs.state_probabilities(ms)
    match_baseline(
        cs.plot.state_probabilities(sp, risk_times=[0, 3, 6, 9, 12]), "state_probabilities_stacked"
    )
    match_baseline(cs.plot.transitions(ms), "transitions_diagram")
    assert np.isfinite(sp.tidy()["estimate"]).all()
