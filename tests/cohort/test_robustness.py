"""Regression tests from an adversarial review of the cohort ingest (real hospital exports)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from cohort_tables import valid_tables

import calcstats as cs
from calcstats._errors import DataWarning, InvalidParameterError, SchemaError
from calcstats.cohort._convert import parse_dates


@pytest.mark.parametrize("zone", ["Europe/Paris", "Asia/Tokyo", "America/New_York"])
def test_tz_aware_dates_keep_their_local_calendar_date(zone):
    # local midnight in a zone east of UTC is the previous day in UTC: the date must not shift
    stamps = [pd.Timestamp("2015-03-01", tz=zone), pd.Timestamp("2016-07-12 00:30", tz=zone)]
    col = pd.Series(pd.DatetimeIndex(stamps))
    d, bad, _ = parse_dates(col)
    assert d.tolist() == [pd.Timestamp("2015-03-01"), pd.Timestamp("2016-07-12")]
    assert not bad.any()
    d, bad, _ = parse_dates(pd.Series(stamps, dtype=object))
    assert d.tolist() == [pd.Timestamp("2015-03-01"), pd.Timestamp("2016-07-12")]
    t = valid_tables()
    t["patients"]["index_date"] = pd.Series(
        [pd.Timestamp(x, tz=zone) for x in t["patients"]["index_date"]], dtype=object
    )
    c = cs.read_cohort(**t)
    assert c.patients["index_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2015-03-01",
        "2016-07-12",
        "2014-01-10",
    ]


def test_integral_float_ids_in_text_column_match_integer_ids():
    # Excel/pandas give 1.0 for an id cell in a column that also holds text ids
    t = valid_tables()
    t["patients"]["patient_id"] = pd.Series([1.0, "p2", "p3"], dtype=object)
    t["imaging"]["patient_id"] = pd.Series([1, 1, "p2", "p3"], dtype=object)
    t["findings"]["patient_id"] = pd.Series([np.int64(1), 1, "p2"], dtype=object)
    t["events"]["patient_id"] = ["p2", "1", "p3", "p3"]
    c = cs.read_cohort(**t)
    assert c.patients["patient_id"].tolist() == ["1", "p2", "p3"]
    assert c.findings["patient_id"].tolist() == ["1", "1", "p2"]
    assert c.patient_table().loc[0, "n_calcifications"] == 2


def _write_patients(tmp_path, **to_csv):
    t = valid_tables()
    t["patients"]["site"] = ["Besançon", "Créteil", "Nîmes"]
    t["patients"]["bilirubin_mg_dl"] = [0.8, 2.5, 1.25]
    t["patients"].to_csv(tmp_path / "patients.csv", index=False, **to_csv)


@pytest.mark.parametrize(
    "opts",
    [
        {"sep": ";", "decimal": ","},
        {"sep": ";"},
        {"sep": "\t"},
        {"sep": "|"},
        {"encoding": "utf-16"},
        {"encoding": "utf-8-sig"},
    ],
)
def test_csv_separators_and_unicode_encodings(tmp_path, opts):
    _write_patients(tmp_path, **opts)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = cs.read_cohort(tmp_path).patients
    assert p["patient_id"].tolist() == ["p1", "p2", "p3"]
    assert p["bilirubin_mg_dl"].tolist() == [0.8, 2.5, 1.25]
    assert p["site"].tolist() == ["Besançon", "Créteil", "Nîmes"]


def test_windows_1252_csv_is_read_with_a_warning(tmp_path):
    _write_patients(tmp_path, encoding="cp1252", sep=";", decimal=",")
    with pytest.warns(DataWarning, match="not UTF-8"):
        p = cs.read_cohort(tmp_path).patients
    assert p["site"].tolist() == ["Besançon", "Créteil", "Nîmes"]
    assert p["bilirubin_mg_dl"].tolist() == [0.8, 2.5, 1.25]


def test_orphan_ids_that_lost_leading_zeros_are_named(tmp_path):
    # patients saved from Excel (001 -> 1), events exported as text ("001")
    t = valid_tables()
    t["patients"]["patient_id"] = [1, 2, 3]
    t["patients"].to_excel(tmp_path / "patients.xlsx", index=False)
    ev = t["events"].assign(patient_id=["002", "001", "003", "p9"])
    ev.to_csv(tmp_path / "events.csv", index=False)
    with pytest.raises(cs.CohortValidationError) as err:
        cs.read_cohort(tmp_path)
    pr = err.value.problems
    assert pr["rule"].unique().tolist() == ["orphan_row"]
    assert pr["value"].tolist() == ["002", "001", "003", "p9"]
    assert pr["message"].str.contains("leading zeros").tolist() == [True, True, True, False]
    assert "which has '2'" in pr["message"].iloc[0]
    # ids given the same form in every table read fine, leading zeros kept
    ev.iloc[:3].to_csv(tmp_path / "events.csv", index=False)
    t["patients"].assign(patient_id=["001", "002", "003"]).to_csv(
        tmp_path / "patients.csv", index=False
    )
    (tmp_path / "patients.xlsx").unlink()
    c = cs.read_cohort(tmp_path)
    assert c.patients["patient_id"].tolist() == ["001", "002", "003"]
    assert c.events["patient_id"].tolist() == ["002", "001", "003"]


@pytest.mark.parametrize(
    "stamp", ["T00:00:00Z", "T00:30:00+01:00", "T23:00:00-0500", " 00:00:00.000", "T08:15"]
)
def test_iso_timestamps_with_utc_offsets_keep_the_written_date(stamp):
    t = valid_tables()
    t["patients"]["index_date"] = [x + stamp for x in t["patients"]["index_date"]]
    c = cs.read_cohort(**t)
    assert c.patients["index_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2015-03-01",
        "2016-07-12",
        "2014-01-10",
    ]


@pytest.mark.parametrize(
    "cmap", [{"PatSex": None}, {"PatSex": 3}, {"PatSex": " "}, {"patients": {"PatSex": None}}]
)
def test_column_map_targets_must_be_names(cmap):
    t = valid_tables()
    t["patients"] = t["patients"].rename(columns={"sex": "PatSex"})
    with pytest.raises(SchemaError, match="non-empty string"):
        cs.read_cohort(**t, column_map=cmap)


def test_header_names_with_spaces_or_hyphens_match_canonical_names(tmp_path):
    t = valid_tables()
    t["patients"] = t["patients"].rename(
        columns={
            "patient_id": "Patient ID",
            "age_at_index": "Age at index",
            "last_followup_date": "Last-Followup-Date",
        }
    )
    c = cs.read_cohort(**t)
    assert c.patients["patient_id"].tolist() == ["p1", "p2", "p3"]
    assert c.patients["age_at_index"].tolist() == [54.0, 61.0, 45.0]
    t["patients"].to_csv(tmp_path / "patients.csv", index=False)
    assert cs.read_cohort(tmp_path).patients["last_followup_date"].notna().all()


def test_patient_id_held_in_the_dataframe_index():
    t = valid_tables()
    t["patients"] = t["patients"].set_index("patient_id")
    t["events"] = t["events"].set_index(["patient_id", "event"])
    c = cs.read_cohort(**t)
    assert c.patients["patient_id"].tolist() == ["p1", "p2", "p3"]
    assert c.events["event"].tolist() == ["cirrhosis", "varices", "liver_transplant", "death"]
    # an unnamed or non-schema index is not a column
    t = valid_tables()
    t["patients"].index = pd.Index(["a", "b", "c"], name="row_label")
    assert "row_label" not in cs.read_cohort(**t).patients.columns


@pytest.mark.parametrize("fmt", ["xyz", "DMY ", 5])
def test_unknown_date_format_is_rejected_even_without_ambiguous_dates(fmt):
    with pytest.raises(
        InvalidParameterError, match="'date_format' parameter of read_cohort must be"
    ):
        cs.read_cohort(**valid_tables(), date_format=fmt)


def test_cli_rejects_unknown_date_format(tmp_path, capsys):
    from calcstats.__main__ import main

    for name, df in valid_tables().items():
        df.to_csv(tmp_path / f"{name}.csv", index=False)
    assert main(["validate", str(tmp_path)]) == 0
    assert main(["validate", str(tmp_path), "--date-format", "xyz"]) == 2
    assert "'date_format' parameter of read_cohort must be" in capsys.readouterr().err


def test_competing_as_a_set_is_rejected_because_status_codes_follow_its_order():
    c = cs.read_cohort(**valid_tables())
    with pytest.raises(InvalidParameterError, match="list or tuple"):
        c.survival_table(outcome="cirrhosis", competing={"death", "liver_transplant"})
    with pytest.raises(InvalidParameterError, match="list or tuple"):
        c.counting_process_table(outcome="cirrhosis", competing={"death": 1, "liver_transplant": 2})
    # one competing event has one order
    st = c.survival_table(outcome="varices", competing={"death"})
    assert st["status"].tolist() == [1, 0, 2]


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        ("findings", "size_mm", np.inf),
        ("findings", "size_mm", "inf"),
        ("patients", "bilirubin_mg_dl", np.inf),
        ("patients", "bmi", "Infinity"),
        ("patients", "age_at_index", -np.inf),
    ],
)
def test_infinite_measurements_are_impossible(table, column, value):
    t = valid_tables()
    t[table][column] = t[table][column].astype(object) if column in t[table] else None
    t[table].loc[0, column] = value
    with pytest.raises(cs.CohortValidationError) as err:
        cs.read_cohort(**t)
    pr = err.value.problems
    assert pr[["table", "row", "column", "rule"]].values.tolist() == [
        [table, 0, column, "out_of_range"]
    ]


def test_table_files_are_found_ignoring_case_and_other_formats_are_not_silently_absent(tmp_path):
    t = valid_tables()
    t["patients"].to_csv(tmp_path / "Patients.CSV", index=False)
    t["events"].to_csv(tmp_path / "EVENTS.csv", index=False)
    c = cs.read_cohort(tmp_path)
    assert len(c.patients) == 3 and len(c.events) == 4
    # an events table in a format calcstats does not read must not vanish silently
    (tmp_path / "EVENTS.csv").rename(tmp_path / "events.xls")
    with pytest.raises(SchemaError, match=r"events\.xls"):
        cs.read_cohort(tmp_path)
    # a backup next to the real file is ignored
    t["events"].to_csv(tmp_path / "events.csv", index=False)
    assert len(cs.read_cohort(tmp_path).events) == 4
    (tmp_path / "patients.xlsx").write_bytes(b"")
    with pytest.raises(SchemaError, match="several files for the patients table"):
        cs.read_cohort(tmp_path)


def _with_blank_rows(df: pd.DataFrame, at: list[int]) -> pd.DataFrame:
    rows = [r for _, r in df.astype(object).iterrows()]
    for i in at:
        rows.insert(i, pd.Series([None] + [" "] * (df.shape[1] - 1), index=df.columns))
    return pd.DataFrame(rows).reset_index(drop=True)


def test_trailing_empty_rows_are_ignored_with_a_warning(tmp_path):
    t = valid_tables()
    t["events"] = _with_blank_rows(t["events"], [4, 5])
    with pytest.warns(DataWarning, match=r"events: 2 completely empty row\(s\) at the end"):
        c = cs.read_cohort(**t)
    assert len(c.events) == 4
    # a CSV ending in lines of commas
    t = valid_tables()
    for name, df in t.items():
        df.to_csv(tmp_path / f"{name}.csv", index=False)
    with open(tmp_path / "patients.csv", "a") as fh:
        fh.write(",,,,,,,,,\n,,,,,,,,,\n")
    with pytest.warns(DataWarning, match="patients: 2 completely empty"):
        assert len(cs.read_cohort(tmp_path).patients) == 3


def test_empty_rows_between_data_rows_are_problems_at_their_row():
    t = valid_tables()
    t["events"] = _with_blank_rows(t["events"], [1])
    with pytest.raises(cs.CohortValidationError) as err:
        cs.read_cohort(**t)
    pr = err.value.problems
    assert set(pr["row"]) == {1} and set(pr["rule"]) == {"missing_value"}


def test_excel_workbooks_with_several_sheets(tmp_path):
    t = valid_tables()
    notes = pd.DataFrame({"note": ["exported 2024-01-02"]})
    with pd.ExcelWriter(tmp_path / "patients.xlsx") as xw:
        notes.to_excel(xw, sheet_name="README", index=False)
        t["patients"].to_excel(xw, sheet_name="Patients", index=False)
    assert cs.read_cohort(tmp_path).patients["patient_id"].tolist() == ["p1", "p2", "p3"]
    with pd.ExcelWriter(tmp_path / "patients.xlsx") as xw:
        t["patients"].to_excel(xw, sheet_name="data", index=False)
        notes.to_excel(xw, sheet_name="README", index=False)
    with pytest.warns(DataWarning, match="has 2 sheets"):
        assert len(cs.read_cohort(tmp_path).patients) == 3


def test_exclude_with_a_failing_function_names_it():
    c = cs.read_cohort(**valid_tables())
    with pytest.raises(cs.CalcstatsError, match="raised AttributeError") as err:
        c.exclude(lambda p: p.agee > 18, reason="adults")
    assert isinstance(err.value.__cause__, AttributeError)
    assert c.exclude(lambda p: p["age_at_index"] > 50, reason="over 50").patients[
        "patient_id"
    ].tolist() == ["p3"]
