"""cohort.interval_table / interval_at_risk: onset brackets from assessments."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import calcstats as cs

Y = 365.25


def _cohort() -> cs.Cohort:
    ids = list("ABCDEFG")
    patients = pd.DataFrame(
        {
            "patient_id": ids,
            "sex": ["F", "M"] * 3 + ["F"],
            "age_at_index": [50.0] * 7,
            "index_date": ["2020-01-01"] * 7,
            "etiology": ["pbc"] * 7,
            "cirrhosis_at_baseline": [False] * 6 + [True],
            "last_followup_date": ["2026-01-01"] * 7,
        }
    )
    studies = [  # patient, date, positive
        ("A", "2020-01-01", False),
        ("A", "2021-01-01", False),
        ("A", "2022-01-01", True),
        ("A", "2023-01-01", False),  # a negative study after the first positive: not used
        ("B", "2020-01-01", False),
        ("B", "2021-07-02", False),
        ("C", "2020-01-01", True),
        ("C", "2021-01-01", True),  # prevalent
        ("D", "2020-01-01", False),  # never imaged again
        ("E", "2020-01-01", False),
        ("E", "2021-01-01", False),
        ("E", "2021-01-01", True),
        ("F", "2020-01-01", False),
        ("F", "2021-01-01", False),
        ("F", "2022-06-01", True),  # after the transplant: another liver
        ("G", "2020-01-01", False),
        ("G", "2020-07-01", True),
    ]
    imaging = pd.DataFrame(
        {
            "study_id": [f"s{i}" for i in range(len(studies))],
            "patient_id": [p for p, _, _ in studies],
            "study_date": [d for _, d, _ in studies],
            "modality": ["US"] * len(studies),
        }
    )
    pos = [i for i, (_, _, positive) in enumerate(studies) if positive]
    findings = pd.DataFrame(
        {
            "finding_id": [f"f{i}" for i in pos],
            "study_id": [f"s{i}" for i in pos],
            "patient_id": [studies[i][0] for i in pos],
            "segment": ["VI"] * len(pos),
            "size_mm": [4.0] * len(pos),
            "morphology": ["punctate"] * len(pos),
        }
    )
    events = pd.DataFrame(
        {
            "patient_id": ["F", "B"],
            "event": ["liver_transplant", "cirrhosis"],
            "event_date": ["2022-01-01", "2023-03-01"],
        }
    )
    return cs.read_cohort(patients=patients, imaging=imaging, findings=findings, events=events)


def test_calcification_brackets_and_exclusions():
    cohort = _cohort()
    with pytest.warns(cs.DataWarning) as rec:
        it = cohort.interval_table("calcification")
    msg = str(rec[0].message)
    assert msg.startswith("interval_table: 2 patient(s) left out (")
    assert (
        "prevalent case: calcification on an imaging study dated on or before index_date: 1" in msg
    )
    assert "no imaging study after index_date: 1" in msg
    assert "cohort.interval_at_risk('calcification')" in msg
    got = it.set_index("patient_id")[["left", "right"]]
    expected = pd.DataFrame(
        {  # E: a negative and a positive study on one day: (0, 366 d]
            "left": [366 / Y, 548 / Y, 0.0, 366 / Y, 0.0],
            "right": [731 / Y, np.inf, 366 / Y, np.inf, 182 / Y],
        },
        index=pd.Index(list("ABEFG"), name="patient_id"),
    )
    pd.testing.assert_frame_equal(got, expected)
    assert list(it.columns[:3]) == ["patient_id", "left", "right"]
    assert {"sex", "age_at_index", "etiology", "any_calcification"} <= set(it.columns)
    assert it["cirrhosis_at_baseline"].tolist() == [0, 0, 0, 0, 1]  # 0/1, as patient_table


def test_interval_at_risk_records_who_was_left_out_in_the_flow():
    cohort = _cohort()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the record does not warn
        ar = cohort.interval_at_risk("calcification")
    assert ar.excluded.set_index("patient_id")["reason"].to_dict() == {
        "C": "prevalent case: calcification on an imaging study dated on or before index_date",
        "D": "no imaging study after index_date",
    }
    steps = ar.flow.to_frame()
    assert steps["n_excluded"].tolist() == [0, 1, 1]
    assert steps["reason"].iloc[1].endswith("(not at risk of calcification)")
    assert ar.flow.n_out == len(ar.table) == 5


def _assessments() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": ["A", "A", "B", "B", "C", "E"],
            "assessment_date": pd.to_datetime(
                ["2021-01-01", "2022-02-01", "2021-01-01", "2022-06-01", "2020-01-01", "2020-06-01"]
            ),
            "positive": [False, True, False, False, True, False],
        }
    )


def test_event_outcome_from_an_assessments_table():
    cohort = _cohort()
    ar = cohort.interval_at_risk("cirrhosis", assessments=_assessments())
    got = ar.table.set_index("patient_id")[["left", "right"]]
    # A: negative 2021, positive 2022-02-01; B: last negative 2022-06-01, event 2023-03-01
    # E: one negative assessment, never positive; F: no assessment: left out
    assert got.index.tolist() == ["A", "B", "E"]
    assert got.loc["A"].tolist() == pytest.approx([366 / Y, 762 / Y])
    assert got.loc["B"].tolist() == pytest.approx([882 / Y, 1155 / Y])
    assert got.loc["E"].tolist() == [152 / Y, np.inf]
    reasons = ar.excluded.set_index("patient_id")["reason"]
    assert reasons["C"] == (
        "prevalent case: cirrhosis (positive assessment or event) dated on or before index_date"
    )
    assert reasons["G"] == "prevalent case: cirrhosis_at_baseline is true"
    assert reasons["D"] == reasons["F"] == "no assessment after index_date"


def test_the_tables_feed_the_interval_functions():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cs.DataWarning)
        it = _cohort().interval_table()
    tb = cs.turnbull(it, left="left", right="right")
    assert tb.n.tolist() == [5] and tb.n_events.tolist() == [3]


@pytest.mark.parametrize(
    ("outcome", "assessments", "error", "message"),
    [
        (
            "cirrhosis",
            None,
            cs.SchemaError,
            "'cirrhosis' is an event; give the dates it was looked for as assessments=",
        ),
        (
            "calcification",
            "table",
            cs.SchemaError,
            "for 'calcification' the imaging and findings tables are the assessments",
        ),
        ("cirrosis", "table", cs.SchemaError, "unknown event name(s) 'cirrosis'"),
    ],
)
def test_outcome_and_assessments_must_fit_together(outcome, assessments, error, message):
    table = _assessments() if assessments == "table" else None
    with pytest.raises(error) as err:
        _cohort().interval_table(outcome, assessments=table)
    assert message in str(err.value)


def test_assessments_table_is_checked():
    cohort = _cohort()
    bad = _assessments().drop(columns="positive")
    with pytest.raises(cs.SchemaError, match=r"lacks column\(s\) \['positive'\]"):
        cohort.interval_table("cirrhosis", assessments=bad)
    bad = _assessments().assign(assessment_date=lambda d: d["assessment_date"].astype(str))
    with pytest.raises(cs.SchemaError, match="must hold dates"):
        cohort.interval_table("cirrhosis", assessments=bad)
    bad = _assessments().astype({"positive": object})
    bad.loc[2, "positive"] = "yes"
    with pytest.raises(cs.DataError, match="found 'yes' in row 2"):
        cohort.interval_table("cirrhosis", assessments=bad)
    bad = _assessments()
    bad.loc[1, "patient_id"] = "Z"
    with pytest.raises(cs.DataError, match=r"patient_id that is not in the patients table"):
        cohort.interval_table("cirrhosis", assessments=bad)
    bad = _assessments()
    bad.loc[3, "assessment_date"] = pd.NaT
    with pytest.raises(cs.DataError, match=r"missing in 1 row\(s\) \(first rows \[3\]\)"):
        cohort.interval_table("cirrhosis", assessments=bad)
