"""Participant flow and Cohort.exclude: every patient accounted for exactly once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cohort_tables import valid_tables
from hypothesis import given, settings
from hypothesis import strategies as st

import calcstats as cs
from calcstats.cohort import Cohort, Flow
from calcstats.cohort._flow import FlowStep


def test_flow_frame_columns_and_steps():
    f = Flow.start(["a", "b", "c", "c"]).add("too young", ["b"], rule="user")
    frame = f.to_frame()
    assert list(frame.columns) == [
        "step",
        "reason",
        "n_before",
        "n_excluded",
        "n_after",
        "excluded_ids",
    ]
    assert frame["n_after"].tolist() == [3, 2]
    assert frame["excluded_ids"].iloc[1] == ("b",)
    assert list(f.to_frame(detail=True).columns)[-2:] == ["rule", "n_rows_excluded"]
    assert f.n_in == 3 and f.n_out == 2 and f.excluded_ids == ("b",)
    assert "too young: -1 -> 2" in repr(f)


def test_flow_rejects_double_exclusion_and_bad_counts():
    f = Flow.start(["a", "b"]).add("x", ["a"])
    with pytest.raises(cs.CalcstatsError, match="already excluded"):
        f.add("y", ["a"])
    with pytest.raises(cs.CalcstatsError, match="n_after"):
        FlowStep("bad", 5, 1, 3, ("a",))
    with pytest.raises(cs.CalcstatsError, match="excluded ids"):
        FlowStep("bad", 5, 2, 3, ("a",))
    s0 = FlowStep("Patients in source tables", 2, 0, 2)
    with pytest.raises(cs.CalcstatsError, match="previous step"):
        Flow((s0, FlowStep("y", 3, 1, 2, ("a",))))


def _cohort():
    return cs.read_cohort(**valid_tables())


def test_exclude_query_returns_new_cohort_and_drops_rows():
    c = _cohort()
    c2 = c.exclude("age_at_index > 50", reason="over 50")
    assert c2.patients["patient_id"].tolist() == ["p3"]
    assert set(c2.imaging["patient_id"]) == {"p3"}
    assert c2.findings.empty
    assert set(c2.events["patient_id"]) == {"p3"}
    # the original is unchanged
    assert len(c.patients) == 3 and len(c.findings) == 3 and len(c.flow.steps) == 1
    step = c2.flow.steps[-1]
    assert (step.reason, step.n_before, step.n_excluded, step.n_after, step.rule) == (
        "over 50",
        3,
        2,
        1,
        "user",
    )
    assert step.excluded_ids == ("p1", "p2")
    assert isinstance(c2.patients.index, pd.RangeIndex)


def test_exclude_mask_and_callable():
    c = _cohort()
    by_mask = c.exclude(c.patients["sex"] == "M", reason="men")
    by_fn = c.exclude(lambda p: p["sex"] == "M", reason="men")
    by_array = c.exclude(np.array([False, True, False]), reason="men")
    for x in (by_mask, by_fn, by_array):
        assert x.patients["patient_id"].tolist() == ["p1", "p3"]


def test_exclude_missing_value_in_query_keeps_patient():
    t = valid_tables()
    t["patients"]["bmi"] = [np.nan, 35.0, 22.0]
    c = cs.read_cohort(**t).exclude("bmi > 30", reason="obese")
    assert c.patients["patient_id"].tolist() == ["p1", "p3"]


def test_exclude_errors():
    c = _cohort()
    with pytest.raises(cs.CalcstatsError, match="reason"):
        c.exclude("age_at_index > 50", reason=" ")
    with pytest.raises(cs.CalcstatsError, match="missing value"):
        c.exclude(pd.Series([True, None, False], dtype="boolean"), reason="x")
    with pytest.raises(cs.CalcstatsError, match="shape"):
        c.exclude(np.array([True, False]), reason="x")
    with pytest.raises(cs.CalcstatsError, match="index"):
        c.exclude(pd.Series([True, False, True], index=[5, 6, 7]), reason="x")
    with pytest.raises(cs.CalcstatsError, match="True/False"):
        c.exclude(pd.Series([1.5, 0.0, 2.0]), reason="x")
    with pytest.raises(cs.CalcstatsError, match="could not evaluate"):
        c.exclude("age_at_index >>> 3", reason="x")
    with pytest.raises(cs.CalcstatsError, match="query string"):
        c.exclude(42, reason="x")


def test_exclude_on_patient_table_column():
    pytest.importorskip("calcstats.cohort._analysis")
    c = _cohort()
    c2 = c.exclude("any_calcification == 0", reason="no calcification")
    assert c2.patients["patient_id"].tolist() == ["p1", "p2"]


def test_exclude_keeps_truth_and_vocabularies():
    c = _cohort()
    sim = Cohort(
        c.patients,
        c.imaging,
        c.findings,
        c.events,
        flow=c.flow,
        vocabularies=c.vocabularies,
        truth="TRUTH",
    )
    c2 = sim.exclude("sex == 'M'", reason="men")
    assert c2.truth == "TRUTH" and c2.vocabularies is c.vocabularies
    assert "simulated" in repr(c2)


def test_cohort_constructor_checks():
    c = _cohort()
    with pytest.raises(cs.SchemaError, match="lacks canonical column"):
        Cohort(c.patients.drop(columns=["sex"]))
    with pytest.raises(cs.CalcstatsError, match="flow ends with"):
        Cohort(c.patients, flow=Flow.start(["a"]))
    bare = Cohort(c.patients)
    assert bare.events.empty and bare.flow.n_in == 3


def test_repr_and_html():
    c = _cohort().exclude("sex == 'M'", reason="men")
    assert repr(c) == (
        "Cohort(2 patients, 3 imaging studies, 2 findings, 3 events; 1 excluded in 1 flow step(s))"
    )
    h = c._repr_html_()
    assert "<table>" in h and "men" in h and "Patients in source tables" in h


# ---------------------------------------------------------------- property: the invariant
def _corrupt(tables, pid, kind):
    p = tables["patients"]
    i = int(np.flatnonzero(p["patient_id"].to_numpy() == pid)[0])
    if kind == "sex":
        p.loc[i, "sex"] = "?"
    elif kind == "age":
        p.loc[i, "age_at_index"] = 200.0
    elif kind == "date":
        p.loc[i, "index_date"] = "not a date"
    elif kind == "followup":
        p.loc[i, "last_followup_date"] = "1990-01-01"
    elif kind == "double_death":
        tables["events"] = pd.concat(
            [
                tables["events"],
                pd.DataFrame(
                    {
                        "patient_id": [pid, pid],
                        "event": ["death", "death"],
                        "event_date": ["2019-06-01", "2019-06-02"],
                    }
                ),
            ],
            ignore_index=True,
        )
    elif kind == "size":
        tables["findings"] = pd.concat(
            [
                tables["findings"],
                pd.DataFrame(
                    {
                        "finding_id": [f"bad_{pid}"],
                        "study_id": [f"s_{pid}"],
                        "patient_id": [pid],
                        "segment": ["V"],
                        "size_mm": [-1.0],
                        "morphology": ["rim"],
                    }
                ),
            ],
            ignore_index=True,
        )


def _tables(n):
    ids = [f"q{i}" for i in range(n)]
    return {
        "patients": pd.DataFrame(
            {
                "patient_id": ids,
                "sex": ["F", "M"] * (n // 2) + ["F"] * (n % 2),
                "age_at_index": np.linspace(20, 80, n),
                "index_date": ["2010-01-01"] * n,
                "etiology": ["pbc"] * n,
                "cirrhosis_at_baseline": [False] * n,
                "last_followup_date": ["2020-01-01"] * n,
            }
        ),
        "imaging": pd.DataFrame(
            {
                "study_id": [f"s_{i}" for i in ids],
                "patient_id": ids,
                "study_date": ["2010-01-01"] * n,
                "modality": ["CT"] * n,
            }
        ),
        "findings": pd.DataFrame(
            {
                "finding_id": [f"f_{i}" for i in ids],
                "study_id": [f"s_{i}" for i in ids],
                "patient_id": ids,
                "segment": ["VII"] * n,
                "size_mm": [3.0] * n,
                "morphology": ["punctate"] * n,
            }
        ),
        "events": pd.DataFrame(
            {"patient_id": ids, "event": ["varices"] * n, "event_date": ["2015-01-01"] * n}
        ),
    }


KINDS = ["sex", "age", "date", "followup", "double_death", "size"]


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=12),
    corrupt=st.lists(st.tuples(st.integers(0, 11), st.sampled_from(KINDS)), max_size=10),
    n_orphans=st.integers(0, 3),
    user_masks=st.lists(st.lists(st.booleans(), min_size=12, max_size=12), max_size=3),
)
def test_exclude_invariant(n, corrupt, n_orphans, user_masks):
    tables = _tables(n)
    bad = set()
    for i, kind in corrupt:
        if i < n:
            _corrupt(tables, f"q{i}", kind)
            bad.add(f"q{i}")
    if n_orphans:
        tables["events"] = pd.concat(
            [
                tables["events"],
                pd.DataFrame(
                    {
                        "patient_id": [f"ghost{k}" for k in range(n_orphans)],
                        "event": ["death"] * n_orphans,
                        "event_date": ["2015-01-01"] * n_orphans,
                    }
                ),
            ],
            ignore_index=True,
        )
    cohort = cs.read_cohort(**tables, on_error="exclude")
    for mask in user_masks:
        m = np.array(mask[: len(cohort.patients)], dtype=bool)
        cohort = cohort.exclude(m, reason="user step")
    flow = cohort.flow
    all_ids = {f"q{i}" for i in range(n)}
    excluded = list(flow.excluded_ids)
    remaining = set(cohort.patients["patient_id"])
    # patients in = patients out + every excluded patient, each excluded exactly once
    assert flow.n_in == n
    assert flow.n_in == flow.n_out + sum(s.n_excluded for s in flow.steps)
    assert len(excluded) == len(set(excluded))
    assert remaining.isdisjoint(excluded) and remaining | set(excluded) == all_ids
    assert flow.n_out == len(cohort.patients)
    assert bad <= set(excluded)
    assert sum(s.n_rows_excluded for s in flow.steps) == n_orphans
    for name in ("imaging", "findings", "events"):
        assert set(getattr(cohort, name)["patient_id"]) <= remaining
    # what is left is valid
    cs.read_cohort(
        patients=cohort.patients,
        imaging=cohort.imaging,
        findings=cohort.findings,
        events=cohort.events,
    )


def test_exclude_query_on_a_yes_no_column_with_missing_values_keeps_those_patients():
    # before: "diabetes == True" with a missing diabetes raised "the mask has 1 missing value"
    t = valid_tables()
    t["patients"]["diabetes"] = [True, None, False]
    t["patients"]["bmi"] = [np.nan, 35.0, 22.0]
    c = cs.read_cohort(**t)
    assert c.exclude("diabetes == True", reason="x").flow.steps[-1].excluded_ids == ("p1",)
    assert c.exclude("not diabetes", reason="x").flow.steps[-1].excluded_ids == ("p3",)
    # a comparison with a missing number is unknown too, also for !=
    assert c.exclude("bmi != 30", reason="x").flow.steps[-1].excluded_ids == ("p2", "p3")
    # deciding explicitly, as the docstring says
    both = c.exclude("diabetes == True or diabetes.isna()", reason="diabetes or unknown")
    assert both.patients["patient_id"].tolist() == ["p3"]
    assert both.flow.steps[-1].excluded_ids == ("p1", "p2")
