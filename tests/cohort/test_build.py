"""on_error="exclude" keeps the cohort whole: problems are charged to their patient.

A row whose patient is found through a key is that patient's problem; a dropped row takes
its dependents; what is left validates again and builds every analysis table; every
patient and row left out is in ``cohort.flow``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from cohort_tables import add_row, set_value, valid_tables
from hypothesis import example, given, settings
from hypothesis import strategies as st

import calcstats as cs
from calcstats._errors import DataWarning


def _step(cohort, rule):
    f = cohort.flow.to_frame(detail=True)
    return f.loc[f["rule"] == rule].iloc[0]


def _revalidate(cohort):
    return cs.read_cohort(
        patients=cohort.patients,
        imaging=cohort.imaging,
        findings=cohort.findings,
        events=cohort.events,
    )


def _blank_finding_on_p3():
    # p3's study s4 holds a calcification whose patient_id cell was left blank
    return add_row(
        valid_tables(),
        "findings",
        finding_id="f4",
        study_id="s4",
        patient_id="  ",
        segment="V",
        size_mm=4.0,
        morphology="rim",
    )


def test_finding_with_blank_patient_id_names_the_patient_of_its_study():
    with pytest.raises(cs.CohortValidationError) as err:
        cs.read_cohort(**_blank_finding_on_p3())
    p = err.value.problems
    assert p[["table", "row", "patient_id", "column", "rule"]].values.tolist() == [
        ["findings", 3, "p3", "patient_id", "missing_value"]
    ]
    assert (
        p["message"]
        .item()
        .startswith(
            "findings row 3 (patient p3, found through study_id s4): patient_id = None is blank"
        )
    )


def test_finding_with_blank_patient_id_excludes_that_patient():
    # before: the row was dropped and p3 stayed in the analysis as "uncalcified"
    cohort = cs.read_cohort(**_blank_finding_on_p3(), on_error="exclude")
    assert cohort.patients["patient_id"].tolist() == ["p1", "p2"]
    step = _step(cohort, "missing_value")
    assert step["excluded_ids"] == ("p3",) and step["n_rows_excluded"] == 0
    assert step["reason"] == "Required value missing"
    assert "p3" not in set(cohort.patient_table()["patient_id"])
    assert len(_revalidate(cohort).patients) == 2


def test_imaging_study_with_blank_patient_id_is_charged_through_its_findings():
    t = set_value(valid_tables(), "imaging", 0, "patient_id", None)  # s1 holds p1's findings
    with pytest.raises(cs.CohortValidationError) as err:
        cs.read_cohort(**t)
    msg = err.value.problems["message"].item()
    assert msg.startswith("imaging row 0 (patient p1, found through study_id s1)")
    cohort = cs.read_cohort(**t, on_error="exclude")
    assert _step(cohort, "missing_value")["excluded_ids"] == ("p1",)
    assert "s1" not in set(cohort.imaging["study_id"])
    assert "s1" not in set(cohort.findings["study_id"])  # the study's findings go with it


def test_finding_of_an_unknown_patient_on_a_cohort_study_excludes_the_study_patient():
    t = add_row(
        valid_tables(),
        "findings",
        finding_id="f9",
        study_id="s4",
        patient_id="p9",
        segment="II",
        size_mm=2.0,
        morphology="punctate",
    )
    cohort = cs.read_cohort(**t, on_error="exclude")
    assert _step(cohort, "orphan_row")["excluded_ids"] == ("p3",)
    assert cohort.flow.excluded_ids == ("p3",)
    assert len(_revalidate(cohort).patients) == 2


def test_a_dropped_study_takes_its_findings_and_rows_of_no_patient_are_counted():
    t = set_value(valid_tables(), "imaging", 0, "modality", "PET")  # p1's study s1
    t = add_row(
        t, "imaging", study_id="s9", patient_id="p9", study_date="2015-01-01", modality="CT"
    )
    t = add_row(
        t,
        "findings",
        finding_id="f9",
        study_id="s9",
        patient_id="p9",
        segment="V",
        size_mm=2.0,
        morphology="rim",
    )
    t = add_row(t, "events", patient_id=" ", event="varices", event_date="2016-01-01")
    cohort = cs.read_cohort(**t, on_error="exclude")
    assert cohort.patients["patient_id"].tolist() == ["p2", "p3"]
    assert set(cohort.findings["study_id"]) == {"s3"}
    assert _step(cohort, "unknown_value")["excluded_ids"] == ("p1",)
    orphans = _step(cohort, "orphan_row")
    assert orphans["n_excluded"] == 0 and orphans["n_rows_excluded"] == 2
    assert _step(cohort, "missing_value")["n_rows_excluded"] == 1
    assert _step(cohort, "missing_value")["reason"].endswith("(1 row, no patient)")


def test_repeated_event_row_is_a_problem_not_silently_kept():
    t = add_row(valid_tables(), "events", patient_id="p1", event="Varices", event_date="2018-05-01")
    with pytest.raises(cs.CohortValidationError) as err:
        cs.read_cohort(**t)
    p = err.value.problems
    assert p[["table", "row", "patient_id", "rule"]].values.tolist() == [
        ["events", 4, "p1", "duplicate_row"]
    ]
    assert (
        "events row 4 (patient p1): event = 'varices' dated 2018-05-01 repeats events row 1 exactly"
    ) in p["message"].item()
    cohort = cs.read_cohort(**t, on_error="exclude")
    step = _step(cohort, "duplicate_row")
    assert step["excluded_ids"] == ("p1",) and step["reason"] == "Event row repeated exactly"


def test_column_mixing_date_orders_in_exclude_mode_warns_and_excludes_ambiguous_rows():
    t = valid_tables()
    t["events"]["event_date"] = ["03/04/2016", "05/13/2018", "13/01/2018", "31/12/2019"]
    with pytest.raises(cs.CohortValidationError) as err:
        cs.read_cohort(**t)
    p = err.value.problems
    summary = p.loc[p["rule"] == "mixed_date_format"]
    assert summary[["table", "column"]].values.tolist() == [["events", "event_date"]]
    assert summary["row"].isna().all()
    assert p.loc[p["rule"] == "ambiguous_date", "patient_id"].tolist() == ["p2"]
    with pytest.warns(DataWarning, match="column event_date mixes day-first and month-first"):
        cohort = cs.read_cohort(**t, on_error="exclude")
    assert cohort.flow.excluded_ids == ("p2",)
    assert cohort.events["event_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2018-05-13",
        "2018-01-13",
        "2019-12-31",
    ]


# ------------------------------------------------------------- property: random corruption
IDS = [f"q{i}" for i in range(6)]


def _base(n: int) -> dict[str, pd.DataFrame]:
    """n patients, two studies each, some findings and events; every rule holds."""
    ids = IDS[:n]
    died = [i % 4 == 3 for i in range(n)]
    patients = pd.DataFrame(
        {
            "patient_id": ids,
            "sex": ["F", "M"] * (n // 2) + ["F"] * (n % 2),
            "age_at_index": [30.0 + 5 * i for i in range(n)],
            "index_date": ["2010-01-01"] * n,
            "etiology": ["pbc", "psc", "other"] * (n // 3) + ["pbc", "psc"][: n % 3],
            "cirrhosis_at_baseline": [False] * n,
            "last_followup_date": ["2019-06-01" if d else "2020-01-01" for d in died],
        },
        dtype=object,
    )
    imaging = pd.DataFrame(
        {
            "study_id": [f"s{i}{k}" for i in range(n) for k in "ab"],
            "patient_id": [p for p in ids for _ in "ab"],
            "study_date": ["2010-01-01", "2012-01-01"] * n,
            "modality": ["CT", "US"] * n,
        },
        dtype=object,
    )
    fnd = [(f"f{i}a", f"s{i}a", ids[i]) for i in range(0, n, 2)]
    fnd += [(f"f{i}b", f"s{i}b", ids[i]) for i in range(0, n, 3)]
    findings = pd.DataFrame(
        {
            "finding_id": [f[0] for f in fnd],
            "study_id": [f[1] for f in fnd],
            "patient_id": [f[2] for f in fnd],
            "segment": ["VII"] * len(fnd),
            "size_mm": [3.0] * len(fnd),
            "morphology": ["punctate"] * len(fnd),
        },
        dtype=object,
    )
    ev = [(ids[i], "cirrhosis", "2015-01-01") for i in range(1, n, 2)]
    ev += [(ids[i], "death", "2019-06-01") for i in range(n) if died[i]]
    events = pd.DataFrame(ev or None, columns=["patient_id", "event", "event_date"], dtype=object)
    return {"patients": patients, "imaging": imaging, "findings": findings, "events": events}


def _add(t, table, **values):
    t[table] = pd.concat([t[table], pd.DataFrame([values], dtype=object)], ignore_index=True)


def _set(t, table, mask, column, value):
    df = t[table].copy()
    if mask.any():
        df.loc[mask, column] = value
    t[table] = df


def _corrupt(t: dict, kind: str, i: int, n: int) -> None:
    q, other = IDS[i % n], IDS[(i + 1) % n]
    s_a = f"s{i % n}a"
    pts, img = t["patients"]["patient_id"] == q, t["imaging"]["study_id"] == s_a
    finding = {"segment": "V", "size_mm": 2.0, "morphology": "rim"}
    if kind == "blank_finding_pid":
        _add(t, "findings", finding_id=f"x{i}", study_id=s_a, patient_id="  ", **finding)
    elif kind == "blank_study_pid":
        _set(t, "imaging", img, "patient_id", None)
    elif kind == "blank_event_pid":
        _add(t, "events", patient_id="", event="varices", event_date="2016-01-01")
    elif kind == "blank_patient_pid":
        _set(t, "patients", pts, "patient_id", " ")
    elif kind == "blank_ids_of_finding":
        _add(t, "findings", finding_id=" ", study_id="", patient_id=q, **finding)
    elif kind == "bad_date":
        _set(t, "patients", pts, "index_date", "2010-02-30")
    elif kind == "impossible_day_month":
        _set(t, "imaging", img, "study_date", "31/31/2010")
    elif kind == "ambiguous_date":
        _set(t, "imaging", t["imaging"]["study_id"] == f"s{i % n}b", "study_date", "03/04/2012")
    elif kind == "month_first_date":
        _set(t, "imaging", t["imaging"]["study_id"] == f"s{i % n}b", "study_date", "01/13/2012")
    elif kind == "orphan_event":
        _add(t, "events", patient_id=f"ghost{i}", event="death", event_date="2016-05-05")
    elif kind == "orphan_study":
        _add(
            t,
            "imaging",
            study_id=f"g{i}",
            patient_id=f"ghost{i}",
            study_date="2015-01-01",
            modality="CT",
        )
        _add(
            t, "findings", finding_id=f"gf{i}", study_id=f"g{i}", patient_id=f"ghost{i}", **finding
        )
    elif kind == "orphan_finding_on_cohort_study":
        _add(t, "findings", finding_id=f"o{i}", study_id=s_a, patient_id=f"ghost{i}", **finding)
    elif kind == "negative_size":
        _add(
            t,
            "findings",
            finding_id=f"n{i}",
            study_id=s_a,
            patient_id=q,
            segment="II",
            size_mm=-1.0,
            morphology="rim",
        )
    elif kind == "age_150":
        _set(t, "patients", pts, "age_at_index", 150.0)
    elif kind == "duplicate_patient":
        t["patients"] = pd.concat([t["patients"], t["patients"].loc[pts]], ignore_index=True)
    elif kind == "duplicate_study_id":
        _add(t, "imaging", study_id=s_a, patient_id=other, study_date="2013-01-01", modality="MRI")
    elif kind == "duplicate_finding_id":
        _add(
            t,
            "findings",
            finding_id=f"f{i % n}a",
            study_id=f"s{(i + 1) % n}a",
            patient_id=other,
            **finding,
        )
    elif kind == "repeated_event":
        for _ in range(2):
            _add(t, "events", patient_id=q, event="varices", event_date="2016-02-02")
    elif kind == "bad_vocabulary":
        _set(t, "patients", pts, "sex", "X")
        _add(t, "events", patient_id=other, event="stroke", event_date="2016-01-01")
    elif kind == "bad_modality":
        _set(t, "imaging", img, "modality", "PET-CT")
    elif kind == "unknown_study":
        _add(t, "findings", finding_id=f"u{i}", study_id="s_missing", patient_id=q, **finding)
    elif kind == "finding_of_other_patient":
        _add(t, "findings", finding_id=f"m{i}", study_id=s_a, patient_id=other, **finding)
    elif kind == "events_after_death":
        _add(t, "events", patient_id=q, event="death", event_date="2016-01-01")
        _add(t, "events", patient_id=q, event="ascites", event_date="2017-01-01")
    elif kind == "transplant_then_hcc":
        _add(t, "events", patient_id=q, event="liver_transplant", event_date="2014-01-01")
        _add(t, "events", patient_id=q, event="hcc", event_date="2015-01-01")
    elif kind == "death_before_index":
        _add(t, "events", patient_id=q, event="death", event_date="2009-01-01")
    elif kind == "followup_before_index":
        _set(t, "patients", pts, "last_followup_date", "2005-01-01")
    elif kind == "flag_true_but_diagnosed_later":
        _set(t, "patients", pts, "cirrhosis_at_baseline", True)
        _add(t, "events", patient_id=q, event="cirrhosis", event_date="2016-06-01")
    elif kind == "flag_false_but_diagnosed_before":
        _add(t, "events", patient_id=q, event="cirrhosis", event_date="2009-06-01")
    elif kind == "id_in_other_case":
        _add(t, "events", patient_id=q.upper(), event="varices", event_date="2016-01-01")
    elif kind == "padded_ids":
        _set(t, "imaging", t["imaging"]["patient_id"] == q, "patient_id", f"  {q} ")
    elif kind == "missing_etiology":
        _set(t, "patients", pts, "etiology", None)


KINDS = [
    "blank_finding_pid",
    "blank_study_pid",
    "blank_event_pid",
    "blank_patient_pid",
    "blank_ids_of_finding",
    "bad_date",
    "impossible_day_month",
    "ambiguous_date",
    "month_first_date",
    "orphan_event",
    "orphan_study",
    "orphan_finding_on_cohort_study",
    "negative_size",
    "age_150",
    "duplicate_patient",
    "duplicate_study_id",
    "duplicate_finding_id",
    "repeated_event",
    "bad_vocabulary",
    "bad_modality",
    "unknown_study",
    "finding_of_other_patient",
    "events_after_death",
    "transplant_then_hcc",
    "death_before_index",
    "followup_before_index",
    "flag_true_but_diagnosed_later",
    "flag_false_but_diagnosed_before",
    "id_in_other_case",
    "padded_ids",
    "missing_etiology",
]


def _text_id(v):
    return None if v is None or pd.isna(v) or not str(v).strip() else str(v).strip()


def _owners(t: dict) -> dict[str, list[set]]:
    """The cohort patient(s) each raw row belongs to: its own id, else through study_id."""
    ids = {x for x in map(_text_id, t["patients"]["patient_id"]) if x is not None}
    img_pid = [_text_id(v) for v in t["imaging"]["patient_id"]]
    img_sid = [_text_id(v) for v in t["imaging"]["study_id"]]
    f_pid = [_text_id(v) for v in t["findings"]["patient_id"]]
    f_sid = [_text_id(v) for v in t["findings"]["study_id"]]
    study_owner: dict = {}
    for s, p in zip(img_sid, img_pid, strict=True):
        if s is not None and p in ids:
            study_owner.setdefault(s, p)
    out = {}
    for name, df in t.items():
        own = [_text_id(v) for v in df["patient_id"]]
        rows = []
        for r, p in enumerate(own):
            if p in ids:
                rows.append({p})
            elif name == "findings":
                rows.append({study_owner[f_sid[r]]} if f_sid[r] in study_owner else set())
            elif name == "imaging":
                rows.append(
                    {
                        fp
                        for fp, fs in zip(f_pid, f_sid, strict=True)
                        if fs is not None and fs == img_sid[r] and fp in ids
                    }
                )
            else:
                rows.append(set())
        out[name] = rows
    return out


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 6),
    corruptions=st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 5)), max_size=6),
)
@example(n=3, corruptions=[("blank_finding_pid", 0)])
@example(n=2, corruptions=[("blank_study_pid", 0), ("orphan_finding_on_cohort_study", 1)])
@example(
    n=4, corruptions=[("duplicate_study_id", 1), ("blank_study_pid", 1), ("blank_patient_pid", 2)]
)
@example(
    n=4, corruptions=[("ambiguous_date", 0), ("month_first_date", 1), ("impossible_day_month", 2)]
)
def test_exclude_leaves_a_valid_whole_cohort_and_accounts_for_everything(n, corruptions):
    t = _base(n)
    for kind, i in corruptions:
        _corrupt(t, kind, i, n)
    raw = {k: v.copy() for k, v in t.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        cohort = cs.read_cohort(**t, on_error="exclude")
        # what is left validates again, with no problem, and builds every analysis table
        again = _revalidate(cohort)
        pt = cohort.patient_table()
        lt = cohort.lesion_table()
        st_ = cohort.survival_table(outcome="cirrhosis", competing=["liver_transplant", "death"])
    assert len(again.patients) == len(cohort.patients)
    assert pt["patient_id"].tolist() == cohort.patients["patient_id"].tolist()
    assert len(lt) == len(cohort.findings)
    ar = cohort.at_risk("cirrhosis", competing=["liver_transplant", "death"])
    assert (
        len(st_) + len(ar.excluded)
        == len(cohort.patients)
        == ar.flow.n_in - sum(s.n_excluded for s in cohort.flow.steps)
    )
    # the flow: patients in = patients out + every exclusion, each patient once
    flow = cohort.flow
    all_ids = {x for x in map(_text_id, raw["patients"]["patient_id"]) if x is not None}
    excluded = list(flow.excluded_ids)
    kept = set(cohort.patients["patient_id"])
    assert flow.n_in == len(all_ids)
    assert flow.n_in == flow.n_out + sum(s.n_excluded for s in flow.steps)
    assert len(excluded) == len(set(excluded)) and flow.n_out == len(cohort.patients)
    assert kept.isdisjoint(excluded) and kept | set(excluded) == all_ids
    assert all(s.reason for s in flow.steps[1:]) and all(
        s.n_excluded or s.n_rows_excluded for s in flow.steps[1:]
    )
    # a kept patient is whole; every other row is an excluded patient's or counted as a row
    owners = _owners(raw)
    n_unowned = 0
    for name in ("patients", "imaging", "findings", "events"):
        rows = owners[name]
        out = getattr(cohort, name)
        assert len(out) == sum(1 for o in rows if o and o <= kept), name
        n_unowned += sum(1 for o in rows if not o)
        assert not any(o & kept and not o <= kept for o in rows), name
    assert n_unowned == sum(s.n_rows_excluded for s in flow.steps)


def test_property_corruptions_cover_the_listed_kinds():
    """Each corruption kind changes the tables (so the property test exercises it)."""
    for kind in KINDS:
        t = _base(4)
        before = {k: v.copy() for k, v in t.items()}
        _corrupt(t, kind, 0, 4)
        assert any(not before[k].equals(t[k]) for k in t), kind
    assert np.all(
        [
            k in KINDS
            for k in (
                "blank_finding_pid",
                "orphan_event",
                "bad_date",
                "duplicate_study_id",
                "events_after_death",
            )
        ]
    )
