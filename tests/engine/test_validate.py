"""Validation and the flow in the engine: the same problems and the same flow as pandas."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats.datasets._example import RAW_DATE_FORMAT, _folder

from .conftest import quiet

COLS = ["table", "row", "patient_id", "column", "value", "rule", "message", "line"]
TABLES = ("patients", "imaging", "findings", "events")


def _folder_problems(folder, **kwargs):
    with pytest.raises(cs.CohortValidationError) as err:
        quiet(cs.read_cohort, folder, **kwargs)
    return err.value.problems


def _same_cohort(folder, **kwargs):
    """Both paths with on_error='exclude': flows, warnings and tables must agree."""
    ref, w_ref = quiet(cs.read_cohort, folder, on_error="exclude", **kwargs)
    got, w_got = quiet(cs.read_cohort, folder, on_error="exclude", engine="duckdb", **kwargs)
    pd.testing.assert_frame_equal(ref.flow.to_frame(detail=True), got.flow.to_frame(detail=True))
    assert w_ref == w_got
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(ref, name), getattr(got, name).to_pandas())
    return ref, got


def test_raw_example_gives_the_same_problems_lines_included():
    folder = _folder("example_cohort_raw")
    cmap = json.loads((folder / "column_map.json").read_text(encoding="utf-8"))
    opts = {"column_map": cmap, "date_format": RAW_DATE_FORMAT}
    ref = _folder_problems(folder, **opts)
    got = _folder_problems(folder, engine="duckdb", **opts)
    assert len(ref) == 26
    pd.testing.assert_frame_equal(ref[COLS], got[COLS])
    row = got.loc[got["rule"] == "unknown_value"].iloc[0]
    assert row["message"].startswith(
        "patients row 282, line 284 of patients.csv (patient P000283): etiology = 'Clonorchiasis'"
    )


def test_raw_example_gives_the_same_flow_and_tables():
    folder = _folder("example_cohort_raw")
    cmap = json.loads((folder / "column_map.json").read_text(encoding="utf-8"))
    _ref, got = _same_cohort(folder, column_map=cmap, date_format=RAW_DATE_FORMAT)
    assert got.flow.n_out == 2486
    assert [s.rule for s in got.flow.steps[1:4]] == [
        "missing_value",
        "invalid_date",
        "unknown_value",
    ]


# ------------------------------------------------------------------ random corruptions
_BAD = {
    "date": ["31/02/2015", "2015-13-01", "", "not a date", "1899-01-01", "03/04/2015"],
    "vocab": ["unheard-of", "", "  PSC  ", "primary biliary cholangitis"],
    "float": ["-3", "abc", "", "inf", "1e3"],
    "bool": ["perhaps", "", "Y", "0"],
    "id": ["", "ZZZ-404"],
}


def _kinds(table: str) -> dict[str, str]:
    from calcstats.cohort._schema import TABLES as SPEC

    kinds = {}
    for c in SPEC[table].columns:
        kinds[c.name] = {
            "vocab": "vocab",
            "date": "date",
            "float": "float",
            "bool": "bool",
            "id": "id",
            "str": "vocab",
        }[c.kind]
    return kinds


def _corrupt(cohort, seed: int, folder) -> None:
    """A 300-patient extract of the example cohort as text, with random bad cells, a
    duplicated id, a repeated event row, an event after death and an orphan row."""
    rng = np.random.default_rng(seed)
    keep = cohort.patients["patient_id"].iloc[:300]
    frames = {}
    for name in TABLES:
        df = getattr(cohort, name)
        df = df.loc[df["patient_id"].isin(keep)].reset_index(drop=True)
        out = df.astype(object).where(df.notna(), None)
        for c in df.columns:
            if df[c].dtype.kind == "M":
                out[c] = df[c].dt.strftime("%Y-%m-%d").where(df[c].notna(), None)
        frames[name] = out.astype(str).where(out.notna(), "")
    for name, df in frames.items():
        kinds = _kinds(name)
        for _ in range(int(rng.integers(3, 7))):
            col = str(rng.choice([c for c in df.columns if c in kinds]))
            row = int(rng.integers(0, len(df)))
            df.loc[row, col] = str(rng.choice(_BAD[kinds[col]]))
    p, e = frames["patients"], frames["events"]
    p.loc[len(p)] = p.loc[int(rng.integers(0, len(p)))]  # duplicate patient row
    e.loc[len(e)] = e.loc[int(rng.integers(0, len(e)))]  # repeated event
    dead = e.index[e["event"] == "death"]
    if len(dead):
        who = e.loc[dead[0], "patient_id"]
        e.loc[len(e)] = {"patient_id": who, "event": "hcc", "event_date": "2099-01-01"}
    e.loc[len(e)] = {"patient_id": "P-ORPHAN", "event": "hcc", "event_date": "2015-01-01"}
    folder.mkdir()
    for name, df in frames.items():
        df.to_csv(folder / f"{name}.csv", index=False)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_corruptions_give_the_same_problems_and_flow(pandas_cohort, tmp_path, seed):
    folder = tmp_path / f"c{seed}"
    _corrupt(pandas_cohort, seed, folder)
    ref = _folder_problems(folder)
    got = _folder_problems(folder, engine="duckdb")
    assert len(ref) >= 8
    pd.testing.assert_frame_equal(ref[COLS], got[COLS])
    try:
        _same_cohort(folder)
    except cs.CohortValidationError as err:  # a whole-column problem: raised by both
        with pytest.raises(cs.CohortValidationError) as again:
            quiet(cs.read_cohort, folder, on_error="exclude", engine="duckdb")
        pd.testing.assert_frame_equal(err.problems[COLS], again.value.problems[COLS])


@pytest.mark.parametrize(
    "query",
    [
        "age_at_index < 40 and sex == 'M'",
        "any_calcification == 0",
        "etiology.isin(['pbc', 'psc']) | bmi > 30",
        "not (bmi <= 25)",
        "diabetes == True or diabetes.isna()",
        "index_date < '2012-01-01'",
        "etiology != 'pbc' and 18 <= age_at_index < 65",
        "bmi * 2 > 60 and etiology not in ['other']",
    ],
)
def test_exclude_gives_the_same_flow_and_tables(pandas_cohort, duck_cohort, query):
    ref = pandas_cohort.exclude(query, reason="by query")
    got = duck_cohort.exclude(query, reason="by query")
    pd.testing.assert_frame_equal(ref.flow.to_frame(detail=True), got.flow.to_frame(detail=True))
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(ref, name), getattr(got, name).to_pandas())


def test_exclude_refuses_what_it_cannot_translate(duck_cohort):
    with pytest.raises(cs.CalcstatsError, match="does not translate"):
        duck_cohort.exclude("age_at_index.between(1, 3)", reason="x")
    with pytest.raises(cs.CalcstatsError, match="takes a query string"):
        duck_cohort.exclude(np.zeros(2500, dtype=bool), reason="x")
    with pytest.raises(cs.CalcstatsError, match="names \\['weight_kg'\\]"):
        duck_cohort.exclude("weight_kg > 3", reason="x")


def test_ids_differing_only_by_case_warn_and_name_the_patient(pandas_cohort):
    keep = pandas_cohort.patients["patient_id"].head(50)
    tables = {name: getattr(pandas_cohort, name) for name in TABLES}
    tables = {
        name: df.loc[df["patient_id"].isin(keep)].reset_index(drop=True)
        for name, df in tables.items()
    }
    tables["events"].loc[len(tables["events"])] = {
        "patient_id": keep.iloc[0].lower(),
        "event": "hcc",
        "event_date": pd.Timestamp("2018-01-01"),
    }
    ref, w_ref = quiet(_problems, tables)
    got, w_got = quiet(_problems, tables, engine="duckdb")
    pd.testing.assert_frame_equal(ref[COLS[:-1]], got[COLS[:-1]])
    assert "the ids differ only by letter case" in got["message"].iloc[0]
    assert w_got == w_ref
    assert any("1 group(s) of ids differ only by letter case" in w for w in w_got)


def _problems(tables, **kwargs):
    try:
        cs.read_cohort(**tables, **kwargs)
    except cs.CohortValidationError as err:
        return err.problems
    raise AssertionError("no problem found")


def test_ids_with_surrounding_whitespace_are_trimmed_as_in_pandas(pandas_cohort):
    """An id written with a tab or spaces around it is the same id, and a blank id is
    missing, in both paths (the engine trims only the columns that need it)."""
    keep = pandas_cohort.patients["patient_id"].head(40)
    tables = {name: getattr(pandas_cohort, name) for name in TABLES}
    tables = {
        name: df.loc[df["patient_id"].isin(keep)].reset_index(drop=True)
        for name, df in tables.items()
    }
    img, fnd = tables["imaging"], tables["findings"]
    img["patient_id"] = img["patient_id"].astype(object)
    img.loc[0, "patient_id"] = img.loc[0, "patient_id"] + "\t"
    img.loc[1, "study_id"] = "  " + img.loc[1, "study_id"]
    fnd["finding_id"] = fnd["finding_id"].astype(object)
    fnd.loc[2, "finding_id"] = "\x0b" + fnd.loc[2, "finding_id"] + "\r"
    ref = cs.read_cohort(**tables)
    got = cs.read_cohort(**tables, engine="duckdb")
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(ref, name), getattr(got, name).to_pandas())
    assert got.imaging.to_pandas().loc[0, "patient_id"] == keep.iloc[0]
    fnd.loc[3, "finding_id"] = " \t "
    ref = _problems(tables)
    got = _problems(tables, engine="duckdb")
    pd.testing.assert_frame_equal(ref[COLS[:-1]], got[COLS[:-1]])
    assert list(got["rule"]) == ["missing_value"] and got["column"].iloc[0] == "finding_id"


def _linked_problems(pandas_cohort, imaging_orphan: bool) -> dict[str, pd.DataFrame]:
    """60 patients with the id problems that link the tables: a finding id used twice, a
    finding of an unknown study, a finding of a study without patient, a finding filed
    under the wrong patient; with ``imaging_orphan``, a study id used twice (its second
    row under another patient) and a study and its finding of a patient not in the
    patients table, else a finding of such a patient under a known study."""
    keep = pandas_cohort.patients["patient_id"].head(60)
    tables = {name: getattr(pandas_cohort, name) for name in TABLES}
    tables = {
        name: df.loc[df["patient_id"].isin(keep)]
        .reset_index(drop=True)
        .astype({"patient_id": object})
        for name, df in tables.items()
    }
    img, fnd = tables["imaging"], tables["findings"]
    fnd["finding_id"] = fnd["finding_id"].astype(object)
    fnd["study_id"] = fnd["study_id"].astype(object)
    img["study_id"] = img["study_id"].astype(object)
    twin = img.loc[[5]].assign(patient_id=keep.iloc[7])
    orphan = img.loc[[8]].assign(patient_id="P-GONE", study_id="S-GONE")
    img = pd.concat([img, twin, orphan] if imaging_orphan else [img], ignore_index=True)
    blank = img.index[img["study_id"] == fnd.loc[10, "study_id"]][0]
    img.loc[blank, "patient_id"] = None  # the study of finding 10 has no patient
    extra = fnd.loc[[0, 1, 2]].copy()
    extra["finding_id"] = [fnd.loc[3, "finding_id"], "F-X1", "F-X2"]
    extra["study_id"] = [
        fnd.loc[3, "study_id"],
        "S-NOWHERE",
        "S-GONE" if imaging_orphan else fnd.loc[6, "study_id"],
    ]
    extra["patient_id"] = [fnd.loc[3, "patient_id"], fnd.loc[1, "patient_id"], "P-GONE"]
    fnd = pd.concat([fnd, extra], ignore_index=True)
    other = fnd.index[fnd["patient_id"] != fnd.loc[4, "patient_id"]][0]
    fnd.loc[4, "patient_id"] = fnd.loc[other, "patient_id"]
    tables["imaging"], tables["findings"] = img, fnd
    return tables


@pytest.mark.parametrize("imaging_orphan", [True, False])
def test_id_problems_linking_the_tables_as_in_pandas(pandas_cohort, imaging_orphan):
    tables = _linked_problems(pandas_cohort, imaging_orphan)
    if not imaging_orphan:
        fnd = tables["findings"]
        fnd.loc[len(fnd) - 2, "patient_id"] = "P-NOBODY"  # unknown study and patient
    ref = _problems(tables)
    got = _problems(tables, engine="duckdb")
    pd.testing.assert_frame_equal(ref[COLS[:-1]], got[COLS[:-1]])
    rules = set(got["rule"])
    assert {"duplicate_id", "unknown_study", "study_patient_mismatch", "orphan_row"} <= rules
    ref, w_ref = quiet(cs.read_cohort, **tables, on_error="exclude")
    got, w_got = quiet(cs.read_cohort, **tables, on_error="exclude", engine="duckdb")
    pd.testing.assert_frame_equal(ref.flow.to_frame(detail=True), got.flow.to_frame(detail=True))
    assert w_ref == w_got
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(ref, name), getattr(got, name).to_pandas())


def test_rules_comparing_a_patients_rows_as_in_pandas(pandas_cohort):
    """Rules that compare a patient's rows, in cases where no other rule flags the
    patient: an event after death without a follow-up date, and cirrhosis at baseline
    recorded while the first cirrhosis event comes after the index date."""
    keep = pandas_cohort.patients["patient_id"].head(30)
    tables = {name: getattr(pandas_cohort, name) for name in TABLES}
    tables = {
        name: df.loc[df["patient_id"].isin(keep)].reset_index(drop=True)
        for name, df in tables.items()
    }
    p, e = tables["patients"], tables["events"]
    a, b = keep.iloc[3], keep.iloc[4]
    e = e.loc[~e["patient_id"].isin([a, b])].reset_index(drop=True)
    idx = p.set_index("patient_id")["index_date"]
    p.loc[p["patient_id"] == a, "last_followup_date"] = pd.NaT
    p.loc[p["patient_id"] == b, "cirrhosis_at_baseline"] = True
    day = pd.Timedelta(days=1)
    e.loc[len(e)] = {"patient_id": a, "event": "death", "event_date": idx[a] + 100 * day}
    e.loc[len(e)] = {"patient_id": a, "event": "hcc", "event_date": idx[a] + 200 * day}
    e.loc[len(e)] = {"patient_id": b, "event": "cirrhosis", "event_date": idx[b] + 50 * day}
    tables["patients"], tables["events"] = p, e
    ref = _problems(tables)
    got = _problems(tables, engine="duckdb")
    pd.testing.assert_frame_equal(ref[COLS[:-1]], got[COLS[:-1]])
    assert {"event_after_death", "baseline_flag_inconsistent"} <= set(got["rule"])
