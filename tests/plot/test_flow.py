"""Tests for the STROBE flow diagram."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from geometry import THEMES, WIDTHS_MM, check_figure, themed

from calcstats import CalcstatsError, CalcstatsWarning
from calcstats.plot import flow_diagram


@pytest.fixture
def flow() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "step": [0, 1, 2, 3, 4],
            "reason": [
                "Patients in source tables",
                "event dated before index date",
                "unknown etiology",
                "age under 18",
                "no imaging within 30 days of index",
            ],
            "rule": [None, "event_before_index", "vocabulary", None, None],
            "n_before": [2512, 2512, 2505, 2500, 2461],
            "n_excluded": [0, 7, 5, 39, 12],
            "n_after": [2512, 2505, 2500, 2461, 2449],
        }
    )


def _texts(fig) -> list[str]:
    return [t.get_text().replace("\u00a0", " ") for t in fig.axes[0].texts]


def test_flow_counts_in_boxes(flow):
    fig = flow_diagram(flow)
    texts = _texts(fig)
    assert "Patients in source tables\n(n = 2,512)" in texts
    assert "Patients analysed\n(n = 2,449)" in texts
    side = [t for t in texts if t.startswith("Excluded")]
    assert side[0].startswith("Excluded at data validation (n = 12)")
    flat = " ".join(side[0].split())  # boxes wrap to their width
    assert "• event dated before index date (n = 7)" in flat
    assert "• unknown etiology (n = 5)" in flat
    assert side[1] == "Excluded (n = 39)\nage under 18"
    assert len(side) == 3


def test_flow_accepts_object_with_flow(flow):
    class FakeFlow:
        def to_frame(self):
            return flow

    class FakeCohort:
        pass

    cohort = FakeCohort()
    cohort.flow = FakeFlow()
    assert "Patients analysed\n(n = 2,449)" in _texts(flow_diagram(cohort))


def test_flow_errors():
    with pytest.raises(CalcstatsError, match="expects a Cohort"):
        flow_diagram(pd.DataFrame({"a": [1]}))


def test_flow_baseline(flow, match_baseline, baseline_style):
    match_baseline(flow_diagram(flow), "flow_diagram")


def test_flow_from_real_cohort_groups_validation_rules():
    import calcstats as cs

    p = pd.DataFrame(
        {
            "patient_id": ["a", "b", "c", "d", "e"],
            "sex": ["F", "M", "F", "F", "M"],
            "age_at_index": [50, 60, 70, 80, 15],
            "index_date": ["2020-01-01", "2020-02-01", "2020-03-01", "2020-13-01", "2020-01-01"],
            "etiology": ["pbc", "psc", "pbc", "foo", "psc"],
            "cirrhosis_at_baseline": [False, False, False, False, False],
            "last_followup_date": [
                "2022-01-01",
                "2023-01-01",
                "2021-01-01",
                "2022-01-01",
                "2022-01-01",
            ],
        }
    )
    cohort = cs.read_cohort(patients=p, on_error="exclude")
    cohort = cohort.exclude("age_at_index < 18", reason="age under 18")
    texts = _texts(flow_diagram(cohort))
    side = [" ".join(t.split()) for t in texts if t.startswith("Excluded")]
    assert side[0].startswith("Excluded at data validation (n = 1)")
    assert side[1] == "Excluded (n = 1) age under 18"
    assert "Patients analysed\n(n = 3)" in texts


@pytest.fixture(scope="module")
def raw_cohort():
    import warnings

    import calcstats as cs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cs.datasets.load_example_cohort(raw=True)


@pytest.mark.parametrize("width_mm", WIDTHS_MM)
@pytest.mark.parametrize("theme_name", THEMES)
def test_flow_geometry(raw_cohort, width_mm, theme_name):
    with themed(theme_name):
        fig = flow_diagram(raw_cohort, width_mm=width_mm)
    assert fig.get_size_inches()[0] * 25.4 == pytest.approx(width_mm)
    check_figure(fig)
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    for text in [t for t in ax.texts if t.get_gid()]:  # every text lies inside its box
        (box,) = [p for p in ax.patches if p.get_gid() == text.get_gid()]
        inner = text.get_window_extent(renderer)
        outer = box.get_window_extent(renderer)
        assert outer.x0 <= inner.x0 and inner.x1 <= outer.x1
        assert outer.y0 <= inner.y0 and inner.y1 <= outer.y1
    plt.close(fig)


def test_flow_on_the_callers_axes(flow):
    fig, ax = plt.subplots(figsize=(180 / 25.4, 5))
    assert flow_diagram(flow, ax=ax) is ax
    check_figure(fig)
    _, ax2 = plt.subplots(figsize=(180 / 25.4, 1))
    with pytest.warns(CalcstatsWarning, match=r"the diagram needs \d\.\d\d in of height"):
        flow_diagram(flow, ax=ax2)
    plt.close("all")


def test_flow_laid_out_again_at_another_width(raw_cohort):
    from calcstats.plot._style import relayout

    fig = flow_diagram(raw_cohort, width_mm=180)
    fig.set_size_inches(85 / 25.4, fig.get_size_inches()[1])  # as save_figure(width_mm=85)
    assert relayout(fig, keep_height=False)
    assert fig.get_size_inches()[0] * 25.4 == pytest.approx(85)
    check_figure(fig)
    plt.close(fig)
