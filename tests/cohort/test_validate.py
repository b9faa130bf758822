"""Validation rules: one malformed table per case, each problem located exactly."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from cohort_tables import add_row, set_value, valid_tables

import calcstats as cs
from calcstats._errors import PROBLEM_COLUMNS
from calcstats.cohort._validate import RULES


def _drop(table, column):
    def f(t):
        t[table] = t[table].drop(columns=[column])
        return t

    return f


def _set(table, row, column, value):
    return lambda t: set_value(t, table, row, column, value)


def _add(table, **values):
    return lambda t: add_row(t, table, **values)


# (id, mutation, table, patient_id, column, rule)
CASES = [
    ("no-sex-column", _drop("patients", "sex"), "patients", None, "sex", "missing_column"),
    (
        "no-event-date-column",
        _drop("events", "event_date"),
        "events",
        None,
        "event_date",
        "missing_column",
    ),
    ("no-size-column", _drop("findings", "size_mm"), "findings", None, "size_mm", "missing_column"),
    (
        "no-age-nor-birth-date",
        _drop("patients", "age_at_index"),
        "patients",
        None,
        "age_at_index",
        "missing_column",
    ),
    (
        "empty-etiology",
        _set("patients", 1, "etiology", None),
        "patients",
        "p2",
        "etiology",
        "missing_value",
    ),
    (
        "blank-study-date",
        _set("imaging", 1, "study_date", "  "),
        "imaging",
        "p1",
        "study_date",
        "missing_value",
    ),
    (
        "nan-morphology",
        _set("findings", 2, "morphology", np.nan),
        "findings",
        "p2",
        "morphology",
        "missing_value",
    ),
    (
        "missing-patient-id",
        _set("events", 1, "patient_id", None),
        "events",
        None,
        "patient_id",
        "missing_value",
    ),
    (
        "age-text",
        _set("patients", 0, "age_at_index", "fifty"),
        "patients",
        "p1",
        "age_at_index",
        "invalid_number",
    ),
    (
        "size-with-unit",
        _set("findings", 0, "size_mm", "3 mm"),
        "findings",
        "p1",
        "size_mm",
        "invalid_number",
    ),
    (
        "bilirubin-text",
        _set("patients", 2, "bilirubin_mg_dl", "high"),
        "patients",
        "p3",
        "bilirubin_mg_dl",
        "invalid_number",
    ),
    (
        "cirrhosis-maybe",
        _set("patients", 0, "cirrhosis_at_baseline", "maybe"),
        "patients",
        "p1",
        "cirrhosis_at_baseline",
        "invalid_boolean",
    ),
    (
        "diabetes-2",
        _set("patients", 2, "diabetes", 2),
        "patients",
        "p3",
        "diabetes",
        "invalid_boolean",
    ),
    (
        "feb-30",
        _set("patients", 0, "index_date", "2015-02-30"),
        "patients",
        "p1",
        "index_date",
        "invalid_date",
    ),
    (
        "event-date-word",
        _set("events", 1, "event_date", "yesterday"),
        "events",
        "p1",
        "event_date",
        "invalid_date",
    ),
    (
        "two-digit-year",
        _set("imaging", 2, "study_date", "12/07/16"),
        "imaging",
        "p2",
        "study_date",
        "invalid_date",
    ),
    (
        "ambiguous-day-month",
        _set("patients", 0, "last_followup_date", "03/04/2020"),
        "patients",
        "p1",
        "last_followup_date",
        "ambiguous_date",
    ),
    ("sex-x", _set("patients", 1, "sex", "X"), "patients", "p2", "sex", "unknown_value"),
    (
        "etiology-caroli",
        _set("patients", 2, "etiology", "caroli"),
        "patients",
        "p3",
        "etiology",
        "unknown_value",
    ),
    (
        "modality-pet",
        _set("imaging", 0, "modality", "PET"),
        "imaging",
        "p1",
        "modality",
        "unknown_value",
    ),
    (
        "segment-ix",
        _set("findings", 0, "segment", "IX"),
        "findings",
        "p1",
        "segment",
        "unknown_value",
    ),
    (
        "morphology-spiky",
        _set("findings", 2, "morphology", "spiky"),
        "findings",
        "p2",
        "morphology",
        "unknown_value",
    ),
    (
        "event-stroke",
        _set("events", 1, "event", "stroke"),
        "events",
        "p1",
        "event",
        "unknown_value",
    ),
    (
        "alcohol-lots",
        _set("patients", 0, "alcohol_use", "lots"),
        "patients",
        "p1",
        "alcohol_use",
        "unknown_value",
    ),
    (
        "age-130",
        _set("patients", 0, "age_at_index", 130),
        "patients",
        "p1",
        "age_at_index",
        "out_of_range",
    ),
    (
        "age-negative",
        _set("patients", 1, "age_at_index", -1),
        "patients",
        "p2",
        "age_at_index",
        "out_of_range",
    ),
    ("size-zero", _set("findings", 0, "size_mm", 0), "findings", "p1", "size_mm", "out_of_range"),
    (
        "albumin-zero",
        _set("patients", 1, "albumin_g_dl", 0),
        "patients",
        "p2",
        "albumin_g_dl",
        "out_of_range",
    ),
    (
        "birth-date-disagrees",
        _set("patients", 0, "birth_date", "1950-01-01"),
        "patients",
        "p1",
        "age_at_index",
        "age_birth_date_mismatch",
    ),
    (
        "duplicate-patient",
        _add(
            "patients",
            patient_id="p3",
            sex="F",
            age_at_index=45.0,
            index_date="2014-01-10",
            etiology="other",
            cirrhosis_at_baseline=False,
            last_followup_date="2019-12-31",
        ),
        "patients",
        "p3",
        "patient_id",
        "duplicate_id",
    ),
    (
        "duplicate-study",
        _set("imaging", 1, "study_id", "s1"),
        "imaging",
        "p1",
        "study_id",
        "duplicate_id",
    ),
    (
        "duplicate-finding",
        _set("findings", 1, "finding_id", "f1"),
        "findings",
        "p1",
        "finding_id",
        "duplicate_id",
    ),
    (
        "orphan-event",
        _add("events", patient_id="p9", event="death", event_date="2019-01-01"),
        "events",
        "p9",
        "patient_id",
        "orphan_row",
    ),
    (
        "orphan-study",
        _add("imaging", study_id="s9", patient_id="p9", study_date="2015-01-01", modality="CT"),
        "imaging",
        "p9",
        "patient_id",
        "orphan_row",
    ),
    (
        "orphan-finding",
        _add(
            "findings",
            finding_id="f9",
            study_id="s9",
            patient_id="p9",
            segment="V",
            size_mm=2.0,
            morphology="rim",
        ),
        "findings",
        "p9",
        "patient_id",
        "orphan_row",
    ),
    (
        "unknown-study",
        _set("findings", 0, "study_id", "s99"),
        "findings",
        "p1",
        "study_id",
        "unknown_study",
    ),
    (
        "study-of-other-patient",
        _set("findings", 2, "patient_id", "p1"),
        "findings",
        "p1",
        "study_id",
        "study_patient_mismatch",
    ),
    (
        "followup-before-index",
        _set("patients", 1, "last_followup_date", "2010-01-01"),
        "patients",
        "p2",
        "last_followup_date",
        "followup_before_index",
    ),
    (
        "death-before-index",
        _set("events", 3, "event_date", "2013-01-01"),
        "events",
        "p3",
        "event_date",
        "event_before_index",
    ),
    (
        "event-after-followup",
        _set("events", 1, "event_date", "2021-01-01"),
        "events",
        "p1",
        "event_date",
        "event_after_followup",
    ),
    (
        "study-after-followup",
        _set("imaging", 1, "study_date", "2021-01-01"),
        "imaging",
        "p1",
        "study_date",
        "study_after_followup",
    ),
    (
        "hcc-after-transplant",
        _add("events", patient_id="p3", event="hcc", event_date="2019-12-31"),
        "events",
        "p3",
        "event",
        "outcome_after_transplant",
    ),
    (
        "hcc-after-death",
        lambda t: set_value(
            add_row(t, "events", patient_id="p3", event="death", event_date="2019-06-01"),
            "events",
            3,
            "event",
            "varices",
        ),
        "events",
        "p3",
        "event_date",
        "event_after_death",
    ),
    (
        "study-after-death",
        _add("imaging", study_id="s5", patient_id="p3", study_date="2020-01-05", modality="US"),
        "imaging",
        "p3",
        "study_date",
        "study_after_death",
    ),
    (
        "followup-after-death",
        _set("patients", 2, "last_followup_date", "2020-06-01"),
        "patients",
        "p3",
        "last_followup_date",
        "followup_after_death",
    ),
    (
        "two-deaths",
        _add("events", patient_id="p3", event="death", event_date="2019-12-30"),
        "events",
        "p3",
        "event",
        "multiple_deaths",
    ),
    (
        "ascites-after-transplant",
        _add("events", patient_id="p3", event="ascites", event_date="2018-06-01"),
        "events",
        "p3",
        "event",
        "outcome_after_transplant",
    ),
    (
        "cirrhosis-flag-false",
        _set("patients", 1, "cirrhosis_at_baseline", False),
        "patients",
        "p2",
        "cirrhosis_at_baseline",
        "baseline_flag_inconsistent",
    ),
    (
        "cirrhosis-event-at-index",
        _add("events", patient_id="p1", event="cirrhosis", event_date="2015-03-01"),
        "patients",
        "p1",
        "cirrhosis_at_baseline",
        "baseline_flag_inconsistent",
    ),
    (
        "cirrhosis-flag-true-but-diagnosed-later",
        lambda t: set_value(
            add_row(t, "events", patient_id="p1", event="cirrhosis", event_date="2017-01-01"),
            "patients",
            0,
            "cirrhosis_at_baseline",
            True,
        ),
        "patients",
        "p1",
        "cirrhosis_at_baseline",
        "baseline_flag_inconsistent",
    ),
    (
        "event-entered-twice",
        _add("events", patient_id="p1", event="varices", event_date="2018-05-01"),
        "events",
        "p1",
        "event",
        "duplicate_row",
    ),
    (
        "day-first-and-month-first-dates",
        lambda t: set_value(
            set_value(t, "events", 1, "event_date", "05/13/2018"),
            "events",
            2,
            "event_date",
            "13/01/2018",
        ),
        "events",
        None,
        "event_date",
        "mixed_date_format",
    ),
]


def test_valid_tables_read_without_problems():
    cohort = cs.read_cohort(**valid_tables())
    assert len(cohort.patients) == 3 and len(cohort.events) == 4


def test_at_least_30_cases_and_every_rule_covered():
    assert len(CASES) >= 30
    assert {c[5] for c in CASES} == set(RULES)


@pytest.mark.parametrize(
    ("mutate", "table", "pid", "column", "rule"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rule_names_table_patient_column(mutate, table, pid, column, rule):
    tables = mutate(valid_tables())
    with pytest.raises(cs.CohortValidationError) as info:
        cs.read_cohort(**tables)
    p = info.value.problems
    assert list(p.columns) == [*PROBLEM_COLUMNS, "line"]
    hit = p[(p["rule"] == rule) & (p["table"] == table) & (p["column"] == column)]
    if pid is None:
        hit = hit[hit["patient_id"].isna()]
    else:
        hit = hit[hit["patient_id"] == pid]
    assert len(hit) >= 1, p.to_string()
    msg = hit["message"].iloc[0]
    assert table in msg and column in msg and "Fix:" in msg
    if pid is not None:
        assert f"patient {pid}" in msg
    if rule not in ("missing_column", "mixed_date_format"):
        row = int(hit["row"].iloc[0])
        # the row is the 0-based position in the table as given
        tables_row = tables[table].iloc[row]
        if "patient_id" in tables[table].columns and pid is not None:
            assert tables_row["patient_id"] == pid
        assert f"row {row}" in msg


def test_problem_row_is_position_as_read():
    t = set_value(valid_tables(), "findings", 2, "size_mm", -4)
    with pytest.raises(cs.CohortValidationError) as info:
        cs.read_cohort(**t)
    p = info.value.problems
    assert p.loc[0, "row"] == 2 and p.loc[0, "value"] == "-4.0"


def test_many_problems_reported_at_once():
    t = valid_tables()
    t = set_value(t, "patients", 0, "sex", "unknown")
    t = set_value(t, "patients", 1, "index_date", "2016-13-45")
    t = set_value(t, "findings", 0, "size_mm", -1)
    t = set_value(t, "imaging", 3, "modality", "PET-CT")
    t = add_row(t, "events", patient_id="zz", event="death", event_date="2019-01-01")
    t = add_row(t, "events", patient_id="p3", event="death", event_date="2019-11-30")
    t = set_value(t, "patients", 1, "cirrhosis_at_baseline", "perhaps")
    with pytest.raises(cs.CohortValidationError) as info:
        cs.read_cohort(**t)
    err = info.value
    rules = set(err.problems["rule"])
    assert {
        "unknown_value",
        "invalid_date",
        "out_of_range",
        "orphan_row",
        "multiple_deaths",
        "invalid_boolean",
    } <= rules
    assert len(err.problems) >= 8
    text = str(err)
    assert "unknown_value: 2" in text and "orphan_row: 1" in text
    assert "on_error='exclude'" in text


def test_invalid_cell_is_not_also_reported_missing():
    t = set_value(valid_tables(), "patients", 0, "index_date", "not a date")
    with pytest.raises(cs.CohortValidationError) as info:
        cs.read_cohort(**t)
    p = info.value.problems
    assert list(p["rule"]) == ["invalid_date"]


def test_events_before_index_allowed_for_prevalent_conditions():
    t = add_row(valid_tables(), "events", patient_id="p2", event="varices", event_date="2015-01-01")
    cohort = cs.read_cohort(**t)
    assert len(cohort.events) == 5


def test_implausible_values_warn_and_are_kept():
    t = set_value(valid_tables(), "patients", 1, "bilirubin_mg_dl", 40.0)
    t = set_value(t, "patients", 2, "age_at_index", 104.0)
    t["events"] = t["events"].iloc[:0]
    t["patients"] = t["patients"].assign(cirrhosis_at_baseline=[False, False, False])
    with pytest.warns(cs.DataWarning) as rec:
        cohort = cs.read_cohort(**t)
    texts = [str(w.message) for w in rec]
    assert any("bilirubin_mg_dl: 1 value" in m and "patient p2" in m for m in texts)
    assert any("age_at_index: 1 value" in m and "patient p3" in m for m in texts)
    assert cohort.patients.loc[1, "bilirubin_mg_dl"] == 40.0
    assert cohort.patients.loc[2, "age_at_index"] == 104.0


def test_valid_data_gives_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cs.read_cohort(**valid_tables())


def test_exclude_drops_patients_and_records_first_rule():
    t = valid_tables()
    t = set_value(t, "patients", 0, "sex", "?")  # p1: unknown_value
    t = set_value(t, "patients", 0, "age_at_index", 150)  # p1 again: out_of_range
    t = set_value(t, "findings", 2, "size_mm", 0)  # p2: out_of_range
    t = add_row(t, "events", patient_id="ghost", event="death", event_date="2019-01-01")
    t = add_row(t, "events", patient_id="ghost2", event="death", event_date="2019-01-01")
    cohort = cs.read_cohort(**t, on_error="exclude")
    assert cohort.patients["patient_id"].tolist() == ["p3"]
    assert set(cohort.imaging["patient_id"]) == {"p3"}
    assert cohort.findings.empty
    assert set(cohort.events["patient_id"]) == {"p3"}
    f = cohort.flow.to_frame(detail=True)
    assert f["n_before"].iloc[0] == 3 and f["n_after"].iloc[-1] == 1
    by_rule = f.set_index("rule")
    assert by_rule.loc["unknown_value", "excluded_ids"] == ("p1",)
    assert by_rule.loc["out_of_range", "excluded_ids"] == ("p2",)
    assert by_rule.loc["orphan_row", "n_excluded"] == 0
    assert by_rule.loc["orphan_row", "n_rows_excluded"] == 2
    assert by_rule.loc["orphan_row", "reason"] == (
        "Rows of a patient missing from the patients table (2 rows, no patient)"
    )
    assert f["n_excluded"].sum() + cohort.flow.n_out == cohort.flow.n_in


def test_exclude_row_without_patient_id_dropped_as_row():
    t = set_value(valid_tables(), "events", 1, "patient_id", None)
    cohort = cs.read_cohort(**t, on_error="exclude")
    assert len(cohort.patients) == 3 and len(cohort.events) == 3
    f = cohort.flow.to_frame(detail=True)
    assert f.loc[f["rule"] == "missing_value", "n_rows_excluded"].item() == 1


def test_exclude_cannot_fix_missing_column():
    t = valid_tables()
    t["patients"] = t["patients"].drop(columns=["etiology"])
    with pytest.raises(cs.CohortValidationError, match="missing_column"):
        cs.read_cohort(**t, on_error="exclude")


def test_exclude_result_passes_validation_again():
    t = set_value(valid_tables(), "events", 3, "event_date", "2013-01-01")
    cohort = cs.read_cohort(**t, on_error="exclude")
    again = cs.read_cohort(
        patients=cohort.patients,
        imaging=cohort.imaging,
        findings=cohort.findings,
        events=cohort.events,
    )
    assert len(again.patients) == 2


def test_bad_on_error():
    with pytest.raises(
        cs.InvalidParameterError,
        match=r"'on_error' parameter of read_cohort must be one of 'raise', 'exclude'\. Got 'warn'",
    ):
        cs.read_cohort(**valid_tables(), on_error="warn")


def test_problems_frame_dtypes():
    t = set_value(valid_tables(), "patients", 0, "sex", "?")
    with pytest.raises(cs.CohortValidationError) as info:
        cs.read_cohort(**t)
    p = info.value.problems
    assert isinstance(p, pd.DataFrame) and p["row"].dtype == "Int64"


def test_example_raw_export_every_injected_problem_found():
    """data/example_cohort_raw holds a messy export with a list of injected problems."""
    import json
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "data" / "example_cohort_raw"
    if not (folder / "injected_problems.csv").exists():
        pytest.skip("example cohort not generated")
    cmap = json.loads((folder / "column_map.json").read_text())
    with pytest.raises(cs.CohortValidationError) as info:
        cs.read_cohort(folder, column_map=cmap, date_format="dmy")
    p = info.value.problems
    # (a flag contradicting an event is reported on the patients row holding the flag)
    found = set(zip(p["patient_id"], p["rule"], strict=True))
    injected = pd.read_csv(folder / "injected_problems.csv")
    for row in injected.itertuples():
        assert (row.patient_id, row.rule) in found, row
    # excluding leaves out exactly the patients with injected problems
    c = cs.read_cohort(folder, column_map=cmap, date_format="dmy", on_error="exclude")
    in_cohort = set(injected["patient_id"]) - {"P999999"}
    assert set(c.flow.excluded_ids) == in_cohort


def test_ids_differing_only_by_case_give_a_warning_naming_them():
    t = valid_tables()
    t = add_row(
        t,
        "patients",
        patient_id="P1",
        sex="M",
        age_at_index=50.0,
        index_date="2015-01-01",
        etiology="pbc",
        cirrhosis_at_baseline=False,
        last_followup_date="2020-01-01",
    )
    with pytest.warns(
        cs.DataWarning,
        match=r"patient_id: 1 group\(s\) of ids differ only by "
        r"letter case \('P1' / 'p1'\)",
    ):
        c = cs.read_cohort(**t)
    assert c.patients["patient_id"].tolist() == ["p1", "p2", "p3", "P1"]


def test_orphan_id_matching_a_patient_up_to_case_says_so():
    t = set_value(valid_tables(), "events", 1, "patient_id", "P1")
    with pytest.warns(cs.DataWarning, match="differ only by letter case"):
        with pytest.raises(cs.CohortValidationError) as err:
            cs.read_cohort(**t)
    msg = err.value.problems["message"].item()
    assert (
        "patient_id = 'P1' is not in the patients table, which has 'p1': the ids differ "
        "only by letter case"
    ) in msg


def test_cirrhosis_at_baseline_with_cirrhosis_first_diagnosed_after_index():
    t = set_value(valid_tables(), "patients", 0, "cirrhosis_at_baseline", True)
    t = add_row(t, "events", patient_id="p1", event="cirrhosis", event_date="2017-01-01")
    with pytest.raises(cs.CohortValidationError) as err:
        cs.read_cohort(**t)
    p = err.value.problems
    assert p[["table", "row", "patient_id", "column", "rule"]].values.tolist() == [
        ["patients", 0, "p1", "cirrhosis_at_baseline", "baseline_flag_inconsistent"]
    ]
    assert (
        "cirrhosis_at_baseline = 'True' but the events table first records cirrhosis on "
        "2017-01-01, after the index date 2015-03-01. Fix: set cirrhosis_at_baseline to "
        "False if cirrhosis was diagnosed during follow-up"
    ) in p["message"].item()
    cohort = cs.read_cohort(**t, on_error="exclude")
    assert cohort.flow.steps[-1].reason == "Baseline flag contradicts the events"
    assert cohort.flow.steps[-1].excluded_ids == ("p1",)


def test_cirrhosis_at_baseline_with_a_cirrhosis_event_before_index_is_consistent():
    # p2: cirrhosis diagnosed before index, flag True; a later re-entry is not "first" after
    t = add_row(
        valid_tables(), "events", patient_id="p2", event="cirrhosis", event_date="2018-01-01"
    )
    assert len(cs.read_cohort(**t).events) == 5


@pytest.mark.parametrize(
    ("table", "row", "column", "pid"),
    [
        ("patients", 1, "patient_id", None),
        ("imaging", 2, "study_id", "p2"),
        ("findings", 0, "finding_id", "p1"),
    ],
)
def test_blank_or_whitespace_ids_are_problems(table, row, column, pid):
    t = set_value(valid_tables(), table, row, column, " \t ")
    with pytest.raises(cs.CohortValidationError) as err:
        cs.read_cohort(**t)
    p = err.value.problems
    hit = p.loc[(p["table"] == table) & (p["column"] == column)]
    assert hit[["row", "rule"]].values.tolist() == [[row, "missing_value"]]
    assert hit["patient_id"].item() == pid or (pid is None and pd.isna(hit["patient_id"].item()))
    assert f"{column} = None is blank: every {table} row needs a {column}" in (
        hit["message"].item()
    )
