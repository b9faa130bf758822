"""Tests for the STROBE flow diagram."""

from __future__ import annotations

import pandas as pd
import pytest

from calcstats import CalcstatsError
from calcstats.plot import flow_diagram


@pytest.fixture
def flow() -> pd.DataFrame:
    return pd.DataFrame({
        "step": [0, 1, 2, 3, 4],
        "reason": ["Patients in source tables", "event dated before index date",
                   "unknown etiology", "age under 18", "no imaging within 30 days of index"],
        "rule": [None, "event_before_index", "vocabulary", None, None],
        "n_before": [2512, 2512, 2505, 2500, 2461],
        "n_excluded": [0, 7, 5, 39, 12],
        "n_after": [2512, 2505, 2500, 2461, 2449],
    })


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

    p = pd.DataFrame({
        "patient_id": ["a", "b", "c", "d", "e"],
        "sex": ["F", "M", "F", "F", "M"],
        "age_at_index": [50, 60, 70, 80, 15],
        "index_date": ["2020-01-01", "2020-02-01", "2020-03-01", "2020-13-01", "2020-01-01"],
        "etiology": ["pbc", "psc", "pbc", "foo", "psc"],
        "cirrhosis_at_baseline": [False, False, False, False, False],
        "last_followup_date": ["2022-01-01", "2023-01-01", "2021-01-01", "2022-01-01",
                               "2022-01-01"],
    })
    cohort = cs.read_cohort(patients=p, on_error="exclude")
    cohort = cohort.exclude("age_at_index < 18", reason="age under 18")
    texts = _texts(flow_diagram(cohort))
    side = [" ".join(t.split()) for t in texts if t.startswith("Excluded")]
    assert side[0].startswith("Excluded at data validation (n = 1)")
    assert side[1] == "Excluded (n = 1) age under 18"
    assert "Patients analysed\n(n = 3)" in texts
