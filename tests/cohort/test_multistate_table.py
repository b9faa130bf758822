"""cohort.multistate_table / multistate_at_risk: the documented rules, each checked on a
small cohort, and the record that counts every patient left out and every event
adjusted."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats._errors import DataWarning, SchemaError
from calcstats.cohort._multistate_table import multistate_at_risk, multistate_table

INDEX = pd.Timestamp("2020-01-01")
YEAR = 365.25


def cohort(
    events: list[tuple[str, str, str]],
    *,
    baseline: dict[str, bool] | None = None,
    followup: dict[str, str] | None = None,
) -> SimpleNamespace:
    ids = sorted({e[0] for e in events} | set(baseline or {}) | set(followup or {}))
    base = baseline or {}
    fu = followup or {}
    patients = pd.DataFrame(
        {
            "patient_id": ids,
            "index_date": [INDEX] * len(ids),
            "cirrhosis_at_baseline": [base.get(i, False) for i in ids],
            "last_followup_date": pd.to_datetime([fu.get(i, "2030-01-01") for i in ids]),
            "age_at_index": np.arange(len(ids)) + 40.0,
        }
    )
    ev = pd.DataFrame(events, columns=["patient_id", "event", "event_date"])
    ev["event_date"] = pd.to_datetime(ev["event_date"])
    empty = SimpleNamespace(
        imaging=pd.DataFrame(
            {
                "study_id": pd.Series([], dtype=object),
                "patient_id": pd.Series([], dtype=object),
                "study_date": pd.Series([], dtype="datetime64[ns]"),
                "modality": pd.Series([], dtype=object),
            }
        ),
        findings=pd.DataFrame(
            {
                c: pd.Series([], dtype=object)
                for c in ("finding_id", "study_id", "patient_id", "segment", "morphology")
            }
        ).assign(size_mm=pd.Series([], dtype=float)),
    )
    return SimpleNamespace(
        patients=patients, events=ev, imaging=empty.imaging, findings=empty.findings
    )


def days(date: str) -> float:
    return (pd.Timestamp(date) - INDEX).days / YEAR


def rows(table: pd.DataFrame, pid: str) -> list[tuple]:
    sub = table.loc[table["patient_id"] == pid]
    return [
        (str(a), str(b), round(c, 6), round(d, 6))
        for a, b, c, d in zip(
            sub["from_state"], sub["to_state"], sub["start"], sub["stop"], strict=True
        )
    ]


def test_progression_entry_state_and_censoring():
    c = cohort(
        [
            ("a", "cirrhosis", "2021-01-01"),
            ("a", "ascites", "2022-01-01"),
            ("a", "death", "2023-01-01"),
            ("b", "cirrhosis", "2019-06-01"),
            ("c", "encephalopathy", "2024-01-01"),
        ],
        baseline={"b": True, "d": False},
        followup={"c": "2026-01-01"},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        table = multistate_table(c)
    assert list(table.columns[:5]) == ["patient_id", "from_state", "to_state", "start", "stop"]
    assert "age_at_index" in table.columns
    assert rows(table, "a") == [
        ("no_cirrhosis", "cirrhosis", 0.0, round(days("2021-01-01"), 6)),
        ("cirrhosis", "decompensation", round(days("2021-01-01"), 6), round(days("2022-01-01"), 6)),
        ("decompensation", "death", round(days("2022-01-01"), 6), round(days("2023-01-01"), 6)),
    ]
    # cirrhotic at index: enters in cirrhosis; censored at last follow-up
    assert rows(table, "b") == [("cirrhosis", "censored", 0.0, round(days("2030-01-01"), 6))]
    assert rows(table, "d") == [("no_cirrhosis", "censored", 0.0, round(days("2030-01-01"), 6))]
    assert list(table["from_state"].cat.categories) == [
        "no_cirrhosis",
        "cirrhosis",
        "decompensation",
        "liver_transplant",
        "death",
        "censored",
    ]


def test_skipped_state_direct_or_exclude_and_counted():
    c = cohort([("a", "variceal_bleeding", "2021-01-01"), ("b", "cirrhosis", "2021-01-01")])
    with pytest.warns(DataWarning, match=r"skipped state: direct transition: 1"):
        table = multistate_table(c)
    assert rows(table, "a")[0][:2] == ("no_cirrhosis", "decompensation")
    ar = multistate_at_risk(c)
    adj = ar.adjustments
    assert adj[["patient_id", "event", "state", "rule"]].values.tolist() == [
        ["a", "variceal_bleeding", "decompensation", "skipped state: direct transition"]
    ]
    assert adj["time"].iloc[0] == pytest.approx(days("2021-01-01"))
    ex = multistate_at_risk(c, on_contradiction="exclude")
    assert ex.excluded.values.tolist() == [
        ["a", "contradicting events: a state skipped or no longer reachable"]
    ]
    assert set(ex.table["patient_id"]) == {"b"}


def test_event_for_a_state_already_passed_is_not_used():
    c = cohort([("a", "ascites", "2021-01-01"), ("a", "cirrhosis", "2022-01-01")])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        ar = multistate_at_risk(c)
    assert [r[:2] for r in rows(ar.table, "a")] == [
        ("no_cirrhosis", "decompensation"),
        ("decompensation", "censored"),
    ]
    assert set(ar.adjustments["rule"]) == {
        "skipped state: direct transition",
        "state no longer reachable: not used",
    }


def test_same_day_events_follow_the_state_order_and_move_back_a_tenth_of_a_day():
    c = cohort(
        [
            ("a", "death", "2021-01-01"),
            ("a", "cirrhosis", "2021-01-01"),
            ("a", "ascites", "2021-01-01"),
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        ar = multistate_at_risk(c)
    d = (pd.Timestamp("2021-01-01") - INDEX).days
    assert rows(ar.table, "a") == [
        ("no_cirrhosis", "cirrhosis", 0.0, round((d - 0.2) / YEAR, 6)),
        ("cirrhosis", "decompensation", round((d - 0.2) / YEAR, 6), round((d - 0.1) / YEAR, 6)),
        ("decompensation", "death", round((d - 0.1) / YEAR, 6), round(d / YEAR, 6)),
    ]
    moved = ar.adjustments.loc[ar.adjustments["rule"].str.startswith("same day")]
    assert moved["rule"].tolist() == [
        "same day: moved back 0.2 day",
        "same day: moved back 0.1 day",
    ]


def test_left_out_patients_absorbing_at_index_or_no_follow_up_and_the_flow():
    c = cohort(
        [("a", "liver_transplant", "2019-12-01"), ("b", "cirrhosis", "2021-01-01")],
        baseline={"z": False},
        followup={"z": "2020-01-01"},
    )
    c.flow = cs.Flow.start(["a", "b", "z"])
    with pytest.warns(DataWarning, match="2 patient"):
        multistate_table(c)
    ar = multistate_at_risk(c)
    assert dict(ar.excluded.values.tolist()) == {
        "a": "not at risk: liver_transplant on or before index_date",
        "z": "no follow-up: last_followup_date equals index_date",
    }
    assert ar.flow.n_out == 1 == ar.table["patient_id"].nunique()


def test_events_after_an_absorbing_state_or_last_follow_up():
    c = cohort(
        [
            ("a", "liver_transplant", "2021-01-01"),
            ("a", "death", "2022-01-01"),
            ("b", "death", "2031-01-01"),
            ("e", "death", "2030-01-01"),
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        ar = multistate_at_risk(c)
    assert rows(ar.table, "a")[-1][1] == "liver_transplant"
    assert ar.adjustments["rule"].tolist() == ["after an absorbing state: not used"]
    assert rows(ar.table, "b")[-1][1] == "censored"  # death after follow-up: not used
    # an event on the last follow-up day counts and no zero-length row follows
    assert rows(ar.table, "e") == [("no_cirrhosis", "death", 0.0, round(days("2030-01-01"), 6))]


def test_user_states_with_hcc():
    states = cs.StateSpace(
        {"no_cirrhosis": [], "cirrhosis": ["cirrhosis"], "hcc": ["hcc"], "death": ["death"]},
        transitions=[
            ("no_cirrhosis", "cirrhosis"),
            ("cirrhosis", "hcc"),
            ("no_cirrhosis", "hcc"),
            ("no_cirrhosis", "death"),
            ("cirrhosis", "death"),
            ("hcc", "death"),
        ],
        baseline={"cirrhosis": "cirrhosis_at_baseline"},
    )
    c = cohort(
        [
            ("a", "cirrhosis", "2021-01-01"),
            ("a", "hcc", "2022-01-01"),
            ("a", "ascites", "2022-06-01"),
            ("b", "hcc", "2021-01-01"),
        ]
    )
    table = multistate_table(c, states)
    assert [r[:2] for r in rows(table, "a")] == [
        ("no_cirrhosis", "cirrhosis"),
        ("cirrhosis", "hcc"),
        ("hcc", "censored"),
    ]
    assert [r[:2] for r in rows(table, "b")] == [("no_cirrhosis", "hcc"), ("hcc", "censored")]
    assert cs.state_probabilities(table).states == ("no_cirrhosis", "cirrhosis", "hcc")


def test_the_decompensation_mapping_is_data():
    states = {
        "no_cirrhosis": [],
        "cirrhosis": ["cirrhosis"],
        "decompensation": ["ascites"],
        "death": ["death"],
    }
    c = cohort(
        [
            ("a", "cirrhosis", "2021-01-01"),
            ("a", "encephalopathy", "2021-06-01"),
            ("a", "ascites", "2022-01-01"),
        ]
    )
    table = multistate_table(c, states)
    assert rows(table, "a")[1][3] == round(days("2022-01-01"), 6)  # ascites, not HE


@pytest.mark.parametrize(
    ("states", "match"),
    [
        ({"a": []}, "at least two states"),
        ({"no_cirrhosis": [], "x": ["flying"]}, "unknown event name"),
        ({"no_cirrhosis": [], "a": ["death"], "b": ["death"]}, "enters both"),
        ({"no_cirrhosis": [], "b": []}, "no events that enter it"),
    ],
)
def test_bad_state_spaces(states, match):
    c = cohort([("a", "cirrhosis", "2021-01-01")])
    with pytest.raises(SchemaError, match=match):
        multistate_table(c, states)


def test_bad_transition_and_option():
    with pytest.raises(SchemaError, match="out of an absorbing state"):
        cs.StateSpace({"a": [], "death": ["death"]}, transitions=[("death", "a")])
    with pytest.raises(SchemaError, match="on_contradiction"):
        multistate_table(cohort([("a", "cirrhosis", "2021-01-01")]), on_contradiction="drop")


def test_example_cohort_through_the_cohort_methods():
    ex = cs.datasets.load_example_cohort()
    with pytest.warns(DataWarning, match="multistate_at_risk"):
        ms = ex.multistate_table()
    ar = ex.multistate_at_risk()
    pd.testing.assert_frame_equal(ms, ar.table)
    assert ms["patient_id"].nunique() == len(ex.patients) - len(ar.excluded)
    # every sojourn starts where the previous one stopped
    same = ms["patient_id"].to_numpy()[1:] == ms["patient_id"].to_numpy()[:-1]
    assert np.all(ms["start"].to_numpy()[1:][same] == ms["stop"].to_numpy()[:-1][same])
    counts = ar.counts()
    assert set(counts.columns) == {"rule", "n_events", "n_patients"}
    # the same patients are at risk of cirrhosis as in survival_table's cirrhosis rows
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        st = ex.survival_table("cirrhosis", competing=("liver_transplant", "death"))
    first = ms.loc[ms["from_state"] == "no_cirrhosis"]
    assert set(first["patient_id"]) == set(st["patient_id"])
