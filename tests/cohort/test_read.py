"""read_cohort: files and DataFrames, column_map, normalisation, strict dates, vocabularies."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from cohort_tables import set_value, valid_tables

import calcstats as cs
from calcstats.cohort._convert import parse_dates
from calcstats.cohort._schema import Vocabularies, parse_segment

CANONICAL_DTYPES = {
    "patients": {
        "patient_id": object,
        "sex": object,
        "age_at_index": float,
        "index_date": "datetime64[ns]",
        "etiology": object,
        "cirrhosis_at_baseline": bool,
        "last_followup_date": "datetime64[ns]",
    },
    "imaging": {
        "study_id": object,
        "patient_id": object,
        "study_date": "datetime64[ns]",
        "modality": object,
    },
    "findings": {
        "finding_id": object,
        "study_id": object,
        "patient_id": object,
        "segment": object,
        "size_mm": float,
        "morphology": object,
    },
    "events": {"patient_id": object, "event": object, "event_date": "datetime64[ns]"},
}


def _check_canonical(cohort):
    for table, dtypes in CANONICAL_DTYPES.items():
        df = getattr(cohort, table)
        assert isinstance(df.index, pd.RangeIndex)
        assert list(df.columns[: len(dtypes)]) == list(dtypes)
        for col, dt in dtypes.items():
            assert df[col].dtype == np.dtype(dt), (table, col, df[col].dtype)


def test_dataframes_give_canonical_tables():
    cohort = cs.read_cohort(**valid_tables())
    _check_canonical(cohort)
    assert cohort.patients["index_date"].iloc[0] == pd.Timestamp("2015-03-01")
    assert cohort.patients["diabetes"].dtype == bool
    assert cohort.flow.to_frame()["reason"].iloc[0] == "Patients in source tables"
    assert cohort.truth is None
    assert set(cohort.vocabularies.keys()) >= {
        "etiology",
        "event",
        "morphology",
        "modality",
        "segment",
        "sex",
    }


def test_absent_tables_are_empty_canonical_frames():
    cohort = cs.read_cohort(patients=valid_tables()["patients"])
    for table in ("imaging", "findings", "events"):
        df = getattr(cohort, table)
        assert df.empty
        assert list(df.columns) == list(CANONICAL_DTYPES[table])
    assert cohort.events["event_date"].dtype == "datetime64[ns]"


def test_extra_columns_are_kept():
    t = valid_tables()
    t["patients"]["smoking"] = ["never", "current", "former"]
    cohort = cs.read_cohort(**t)
    assert cohort.patients["smoking"].tolist() == ["never", "current", "former"]


def test_column_map_flat_and_per_table():
    t = valid_tables()
    t["patients"] = t["patients"].rename(columns={"patient_id": "PatID", "sex": "Gender"})
    t["events"] = t["events"].rename(columns={"patient_id": "PatID", "event_date": "Date"})
    cohort = cs.read_cohort(
        **t, column_map={"PatID": "patient_id", "Gender": "sex", "Date": "event_date"}
    )
    assert cohort.patients["patient_id"].tolist() == ["p1", "p2", "p3"]
    per_table = {
        "patients": {"PatID": "patient_id", "Gender": "sex"},
        "events": {"PatID": "patient_id", "Date": "event_date"},
    }
    cohort2 = cs.read_cohort(**t, column_map=per_table)
    pd.testing.assert_frame_equal(cohort.events, cohort2.events)


def test_column_map_errors():
    t = valid_tables()
    with pytest.raises(cs.SchemaError, match="found in none of the tables"):
        cs.read_cohort(**t, column_map={"PatientNumber": "patient_id"})
    with pytest.raises(cs.SchemaError, match="does not have"):
        cs.read_cohort(**t, column_map={"events": {"When": "event_date"}})
    with pytest.raises(cs.SchemaError, match="duplicate column"):
        cs.read_cohort(**t, column_map={"events": {"event": "event_date"}})
    with pytest.raises(cs.SchemaError, match="unknown"):
        cs.read_cohort(**t, column_map={"labs": {"x": "y"}})


def test_canonical_names_matched_regardless_of_case():
    t = valid_tables()
    t["patients"] = t["patients"].rename(columns={"patient_id": " Patient_ID ", "sex": "SEX"})
    cohort = cs.read_cohort(**t)
    assert "patient_id" in cohort.patients and "sex" in cohort.patients


def test_synonyms_and_case_are_normalised():
    t = valid_tables()
    t["patients"]["sex"] = [" female", "Male", "woman"]
    t["patients"]["etiology"] = ["Primary Biliary Cholangitis", "PSC", "  other "]
    t["patients"]["cirrhosis_at_baseline"] = ["No", "Y", "0"]
    t["patients"]["diabetes"] = ["false", "TRUE", "n"]
    t["imaging"]["modality"] = ["ct scan", "Ultrasound", "mri", "US"]
    t["findings"]["segment"] = ["seg 7", "2", "IV a"]
    t["findings"]["morphology"] = ["Punctate", "coarse nodular", "eggshell"]
    t["events"]["event"] = ["Cirrhosis", "oesophageal varices", "OLT", "Died"]
    c = cs.read_cohort(**t)
    assert c.patients["sex"].tolist() == ["F", "M", "F"]
    assert c.patients["etiology"].tolist() == ["pbc", "psc", "other"]
    assert c.patients["cirrhosis_at_baseline"].tolist() == [False, True, False]
    assert c.patients["diabetes"].tolist() == [False, True, False]
    assert c.imaging["modality"].tolist() == ["CT", "US", "MRI", "US"]
    assert c.findings["segment"].tolist() == ["VII", "II", "IVa"]
    assert c.findings["morphology"].tolist() == ["punctate", "coarse", "rim"]
    assert c.events["event"].tolist() == ["cirrhosis", "varices", "liver_transplant", "death"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4a", "IVa"),
        ("IV a", "IVa"),
        ("seg 7", "VII"),
        ("7", "VII"),
        ("S8", "VIII"),
        ("segment IVb", "IVb"),
        ("i", "I"),
        (4, "IV"),
        ("4.0", "IV"),
        ("IX", None),
        ("9", None),
        ("7a", None),
        ("left", None),
    ],
)
def test_parse_segment(text, expected):
    assert parse_segment(text) == expected


def test_numeric_codes_and_ids_become_text():
    t = valid_tables()
    t["patients"]["patient_id"] = [1, 2, 3]
    t["imaging"]["patient_id"] = [1.0, 1.0, 2.0, 3.0]
    t["findings"]["patient_id"] = ["1", "1", " 2 "]
    t["events"]["patient_id"] = [2, 1, 3, 3]
    c = cs.read_cohort(**t)
    assert c.patients["patient_id"].tolist() == ["1", "2", "3"]
    assert c.imaging["patient_id"].tolist() == ["1", "1", "2", "3"]
    assert c.findings["patient_id"].tolist() == ["1", "1", "2"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-03-04", "2021-03-04"),
        ("2021-3-4", "2021-03-04"),
        ("2021-03-04 13:45:00", "2021-03-04"),
        ("2021-03-04T13:45", "2021-03-04"),
        ("2021/03/04", "2021-03-04"),
        ("20210304", "2021-03-04"),
        ("4 Mar 2021", "2021-03-04"),
        ("March 4, 2021", "2021-03-04"),
        ("04MAR2021", "2021-03-04"),
        ("4-Mar-2021", "2021-03-04"),
        ("04.03.2021", "2021-03-04"),
        ("25/12/2020", "2020-12-25"),
        ("12/25/2020", "2020-12-25"),
        ("44259", "2021-03-04"),
        (" 2021-03-04 ", "2021-03-04"),
    ],
)
def test_date_formats(text, expected):
    d, bad, amb = parse_dates(pd.Series([text], dtype=object))
    assert not bad[0] and not amb[0]
    assert d.iloc[0] == pd.Timestamp(expected)


@pytest.mark.parametrize(
    "text",
    [
        "2021-02-29",
        "21-03-04",
        "04/03/21",
        "2021",
        "March 2021",
        "31/31/2020",
        "yesterday",
        "1234",
        "2021-03-04x",
    ],
)
def test_unreadable_dates_are_problems(text):
    d, bad, _ = parse_dates(pd.Series([text], dtype=object))
    assert bad[0] and pd.isna(d.iloc[0])


def test_ambiguous_dates_need_date_format():
    s = pd.Series(["03/04/2020", "05/06/2021"], dtype=object)
    d, bad, amb = parse_dates(s)
    assert amb.all() and not bad.any()
    d, bad, amb = parse_dates(s, date_format="dmy")
    assert d.tolist() == [pd.Timestamp("2020-04-03"), pd.Timestamp("2021-06-05")]
    d, bad, amb = parse_dates(s, date_format="mdy")
    assert d.tolist() == [pd.Timestamp("2020-03-04"), pd.Timestamp("2021-05-06")]
    d, bad, amb = parse_dates(s, date_format="%d/%m/%Y")
    assert d.iloc[0] == pd.Timestamp("2020-04-03") and not amb.any()
    # a column whose other values show the order (a first part > 12) is resolved
    d, bad, amb = parse_dates(pd.Series(["03/04/2020", "25/12/2020"], dtype=object))
    assert d.iloc[0] == pd.Timestamp("2020-04-03") and not amb.any()
    with pytest.raises(cs.SchemaError, match="date_format"):
        parse_dates(s, date_format="ymd")


def test_date_format_passed_through_read_cohort():
    t = valid_tables()
    t["patients"]["index_date"] = ["01/03/2015", "12/07/2016", "10/01/2014"]
    with pytest.raises(cs.CohortValidationError, match="ambiguous_date"):
        cs.read_cohort(**t)
    c = cs.read_cohort(**t, date_format="dmy")
    assert c.patients["index_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2015-03-01",
        "2016-07-12",
        "2014-01-10",
    ]


def test_native_and_excel_dates():
    s = pd.Series([pd.Timestamp("2020-01-02 10:00"), 44259.0, None], dtype=object)
    d, bad, amb = parse_dates(s)
    assert not amb.any()
    assert d.iloc[0] == pd.Timestamp("2020-01-02") and d.iloc[1] == pd.Timestamp("2021-03-04")
    assert pd.isna(d.iloc[2]) and not bad.any()
    num = pd.Series([44259, 2021, np.nan])
    d, bad, _ = parse_dates(num)
    assert d.iloc[0] == pd.Timestamp("2021-03-04") and bad.tolist() == [False, True, False]
    tz = pd.Series(pd.to_datetime(["2020-01-02 23:00"]).tz_localize("UTC"))
    d, _, _ = parse_dates(tz)
    assert d.dtype == "datetime64[ns]" and d.iloc[0] == pd.Timestamp("2020-01-02")


def test_birth_date_instead_of_age():
    t = valid_tables()
    t["patients"] = (
        t["patients"]
        .drop(columns=["age_at_index"])
        .assign(birth_date=["1961-03-01", "1955-07-12", "1969-01-10"])
    )
    c = cs.read_cohort(**t)
    assert c.patients["age_at_index"].round(1).tolist() == [54.0, 61.0, 45.0]


def test_vocabulary_extension():
    t = set_value(valid_tables(), "patients", 2, "etiology", "Caroli")
    with pytest.raises(cs.CohortValidationError, match="vocabularies="):
        cs.read_cohort(**t)
    c = cs.read_cohort(**t, vocabularies={"etiology": ["caroli"]})
    assert c.patients["etiology"].iloc[2] == "caroli"
    assert "caroli" in c.vocabularies["etiology"]
    t = set_value(valid_tables(), "events", 1, "event", "SBP")
    c = cs.read_cohort(**t, vocabularies={"event": {"sbp": "ascites"}})
    assert c.events["event"].iloc[1] == "ascites"
    # the defaults are not changed by an extension
    assert "caroli" not in Vocabularies()["etiology"]


def test_vocabulary_errors():
    with pytest.raises(cs.SchemaError, match="unknown vocabulary"):
        cs.read_cohort(**valid_tables(), vocabularies={"etiologies": ["x"]})
    with pytest.raises(cs.SchemaError, match="not the string"):
        cs.read_cohort(**valid_tables(), vocabularies={"etiology": "caroli"})


def test_input_errors():
    with pytest.raises(cs.SchemaError, match="patients table"):
        cs.read_cohort(events=valid_tables()["events"])
    with pytest.raises(cs.SchemaError, match="not both"):
        cs.read_cohort("x", patients=valid_tables()["patients"])
    with pytest.raises(cs.SchemaError, match="not a folder"):
        cs.read_cohort("/nonexistent/folder")
    with pytest.raises(cs.SchemaError, match="must be a pandas DataFrame"):
        cs.read_cohort(patients=[1, 2])


def _write(tables, folder, fmt):
    folder.mkdir(exist_ok=True)
    for name, df in tables.items():
        path = folder / f"{name}.{fmt}"
        if fmt == "csv":
            df.to_csv(path, index=False)
        elif fmt == "parquet":
            df.to_parquet(path, index=False)
        elif fmt == "xlsx":
            df.to_excel(path, index=False)
        elif fmt == "dta":
            out = df.copy()
            for c in out.columns:
                if out[c].dtype == bool:
                    out[c] = out[c].astype(np.int8)
                if c.endswith("_date"):
                    out[c] = pd.to_datetime(out[c])
            dates = {c: "td" for c in out.columns if c.endswith("_date")}
            out.to_stata(path, write_index=False, convert_dates=dates)


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx", "dta"])
def test_file_formats_round_trip(tmp_path, fmt):
    tables = valid_tables()
    _write(tables, tmp_path / fmt, fmt)
    from_files = cs.read_cohort(tmp_path / fmt)
    from_frames = cs.read_cohort(**tables)
    _check_canonical(from_files)
    for name in ("patients", "imaging", "findings", "events"):
        pd.testing.assert_frame_equal(
            getattr(from_files, name), getattr(from_frames, name), check_dtype=True
        )


def test_csv_keeps_leading_zeros_and_none_text(tmp_path):
    t = valid_tables()
    t["patients"]["patient_id"] = ["007", "008", "009"]
    t["patients"]["alcohol_use"] = ["None", "heavy", "moderate"]
    for name in ("imaging", "findings", "events"):
        t[name]["patient_id"] = t[name]["patient_id"].map({"p1": "007", "p2": "008", "p3": "009"})
    _write(t, tmp_path, "csv")
    c = cs.read_cohort(tmp_path)
    assert c.patients["patient_id"].tolist() == ["007", "008", "009"]
    assert c.patients["alcohol_use"].tolist() == ["none", "heavy", "moderate"]


def test_folder_errors(tmp_path):
    with pytest.raises(cs.SchemaError, match="no patients table"):
        cs.read_cohort(tmp_path)
    t = valid_tables()
    t["patients"].to_csv(tmp_path / "patients.csv", index=False)
    t["patients"].to_parquet(tmp_path / "patients.parquet")
    with pytest.raises(cs.SchemaError, match="several files"):
        cs.read_cohort(tmp_path)


def test_folder_with_only_patients(tmp_path):
    valid_tables()["patients"].to_csv(tmp_path / "patients.csv", index=False)
    c = cs.read_cohort(tmp_path)
    assert len(c.patients) == 3 and c.events.empty


def test_sas_without_pyreadstat_gives_clear_message(tmp_path, monkeypatch):
    (tmp_path / "patients.sas7bdat").write_bytes(b"not really sas")
    monkeypatch.setitem(sys.modules, "pyreadstat", None)
    with pytest.raises(cs.CalcstatsError, match=r"pip install 'calcstats\[sas\]'"):
        cs.read_cohort(tmp_path)


def test_unreadable_file_names_the_file(tmp_path):
    (tmp_path / "patients.parquet").write_bytes(b"garbage")
    with pytest.raises(cs.SchemaError, match=r"patients\.parquet"):
        cs.read_cohort(tmp_path)


def test_sas7bdat_read(tmp_path):
    """patients.sas7bdat was written by R haven (tests/cohort/data/make_sas_fixture.R)."""
    pytest.importorskip("pyreadstat")
    import shutil
    from pathlib import Path

    shutil.copy(Path(__file__).parent / "data" / "patients.sas7bdat", tmp_path)
    from_sas = cs.read_cohort(tmp_path)
    expected = cs.read_cohort(patients=valid_tables()["patients"].iloc[:, :7])
    pd.testing.assert_frame_equal(from_sas.patients, expected.patients)


def test_cohort_does_not_share_memory_with_input():
    t = valid_tables()
    t["patients"]["note"] = ["a", "b", "c"]
    c = cs.read_cohort(**t)
    t["patients"].loc[0, "patient_id"] = "changed"
    t["patients"].loc[0, "note"] = "changed"
    t["patients"].loc[0, "age_at_index"] = 99.0
    assert c.patients.loc[0, "patient_id"] == "p1" and c.patients.loc[0, "note"] == "a"
    assert c.patients.loc[0, "age_at_index"] == 54.0


# --------------------------------------------------------------- column_map targets
@pytest.mark.parametrize(
    ("cmap", "expected"),
    [
        (
            {"PatID": "patiend_id"},
            r"maps 'PatID' to 'patiend_id', which is not a calcstats column "
            r"name: did you mean 'patient_id'\?",
        ),
        (
            {"patients": {"PatID": "patient_idd"}},
            r"column_map for the patients table maps 'PatID' "
            r"to 'patient_idd'.*did you mean 'patient_id'",
        ),
        (
            {"events": {"When": "study_date"}},
            r"'study_date', a column of the imaging table, not "
            r"of the events table",
        ),
    ],
)
def test_column_map_target_that_is_not_a_calcstats_name_is_an_error(cmap, expected):
    t = valid_tables()
    t["patients"] = t["patients"].rename(columns={"patient_id": "PatID"})
    t["events"] = t["events"].rename(columns={"event_date": "When"})
    with pytest.raises(cs.SchemaError, match=expected) as err:
        cs.read_cohort(**t, column_map=cmap)
    assert "known names are [" in str(err.value) or "columns are [" in str(err.value)


def test_column_map_targets_written_like_headers_and_extra_names_are_accepted():
    t = valid_tables()
    t["patients"] = t["patients"].rename(columns={"patient_id": "PatID", "site": "Hosp"})
    t["patients"]["Smoker"] = ["never", "current", "former"]
    c = cs.read_cohort(**t, column_map={"PatID": "Patient ID", "Smoker": "smoking_status"})
    assert c.patients["patient_id"].tolist() == ["p1", "p2", "p3"]
    assert c.patients["smoking_status"].tolist() == ["never", "current", "former"]


# ------------------------------------------------------------- line numbers of files
def test_problems_give_the_line_of_a_csv_file(tmp_path):
    t = valid_tables()
    t["patients"]["site"] = ["Hôpital\nNord", "Sud", "Est"]  # a quoted field over two lines
    t["patients"].loc[2, "sex"] = "X"
    for name, df in t.items():
        df.to_csv(tmp_path / f"{name}.csv", index=False)
    text = (tmp_path / "patients.csv").read_text()
    head, rest = text.split("\n", 1)
    (tmp_path / "patients.csv").write_text(head + "\n\n" + rest)  # a blank line: skipped
    with pytest.raises(cs.CohortValidationError) as err:
        cs.read_cohort(tmp_path)
    p = err.value.problems
    assert p[["table", "row", "line", "rule"]].values.tolist() == [
        ["patients", 2, 6, "unknown_value"]
    ]
    assert p["message"].item().startswith("patients row 2, line 6 of patients.csv (patient p3): ")
    assert (tmp_path / "patients.csv").read_text().splitlines()[5].startswith("p3,X,")


def test_problems_give_the_sheet_row_of_an_xlsx_file(tmp_path):
    t = valid_tables()
    for name, df in t.items():
        df.to_excel(tmp_path / f"{name}.xlsx", index=False)
    ev = t["events"].copy()
    ev.loc[1, "event_date"] = "2018-02-30"
    ev.to_excel(tmp_path / "events.xlsx", index=False)
    with pytest.raises(cs.CohortValidationError) as err:
        cs.read_cohort(tmp_path)
    p = err.value.problems
    assert p[["table", "row", "line"]].values.tolist() == [["events", 1, 3]]
    assert (
        p["message"]
        .item()
        .startswith(
            "events row 1, Excel row 3 of events.xlsx (patient p1): event_date = '2018-02-30'"
        )
    )


def test_problems_of_dataframes_and_parquet_have_no_line(tmp_path):
    t = set_value(valid_tables(), "patients", 1, "sex", "X")
    with pytest.raises(cs.CohortValidationError) as err:
        cs.read_cohort(**t)
    assert err.value.problems["line"].isna().all()
    assert err.value.problems["message"].item().startswith("patients row 1 (patient p2): ")
    t["patients"].to_parquet(tmp_path / "patients.parquet")
    with pytest.raises(cs.CohortValidationError) as err:
        cs.read_cohort(tmp_path)
    assert err.value.problems["line"].isna().all()
