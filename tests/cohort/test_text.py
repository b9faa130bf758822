"""Text in any pandas dtype is read like an object column: stripped, blank = missing."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest
from cohort_tables import valid_tables

import calcstats as cs

TEXT_DTYPES = [
    pytest.param("string[python]", id="string-python"),
    pytest.param("string[pyarrow]", id="string-pyarrow"),
    pytest.param(pd.ArrowDtype(pa.string()), id="arrow-string"),
    pytest.param(pd.ArrowDtype(pa.large_string()), id="arrow-large-string"),
    pytest.param("category", id="category"),
]


def _as(tables: dict, dtype) -> dict:
    """Every text column of every table in ``dtype`` (numbers and booleans kept)."""
    out = {}
    for name, df in tables.items():
        df = df.copy()
        for col in df.columns:
            if df[col].dtype == object:
                df[col] = df[col].astype(dtype)
        out[name] = df
    return out


@pytest.mark.parametrize("dtype", TEXT_DTYPES)
def test_text_dtypes_read_like_object_columns(dtype):
    t = valid_tables()
    t["patients"]["sex"] = [" F ", "M\t", "F"]
    t["patients"]["etiology"] = ["  pbc", "PSC ", "other"]
    t["imaging"]["patient_id"] = [" p1", "p1 ", "p2", " p3 "]
    t["events"]["event_date"] = [" 2016-01-01", "2018-05-01 ", "2018-01-01", "2019-12-31"]
    expected = cs.read_cohort(**valid_tables())
    got = cs.read_cohort(**_as(t, dtype))
    for name in ("patients", "imaging", "findings", "events"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(expected, name))


@pytest.mark.parametrize("dtype", TEXT_DTYPES)
def test_blank_text_is_missing_in_every_text_dtype(dtype):
    t = valid_tables()
    t["patients"]["etiology"] = ["pbc", "   ", "other"]
    t["findings"]["study_id"] = ["s1", " ", "s3"]
    t["events"]["patient_id"] = ["p2", "p1", "\t", "p3"]
    with pytest.raises(cs.CohortValidationError) as err:
        cs.read_cohort(**_as(t, dtype))
    p = err.value.problems
    got = p[["table", "row", "column", "rule"]].values.tolist()
    assert ["patients", 1, "etiology", "missing_value"] in got
    assert ["findings", 1, "study_id", "missing_value"] in got
    assert ["events", 2, "patient_id", "missing_value"] in got
    msg = p.loc[(p["table"] == "findings") & (p["column"] == "study_id"), "message"].item()
    assert "findings row 1 (patient p1): study_id = None is blank" in msg


def test_arrow_backed_numbers_booleans_and_dates():
    t = valid_tables()
    p = t["patients"]
    p["age_at_index"] = p["age_at_index"].astype(pd.ArrowDtype(pa.float64()))
    p["diabetes"] = p["diabetes"].astype(pd.ArrowDtype(pa.bool_()))
    p["index_date"] = pd.to_datetime(p["index_date"]).astype(pd.ArrowDtype(pa.date32()))
    p["last_followup_date"] = pd.to_datetime(p["last_followup_date"]).astype(
        pd.ArrowDtype(pa.timestamp("ns", tz="Europe/Paris"))
    )
    t["imaging"]["patient_id"] = t["imaging"]["patient_id"].astype("category")
    got = cs.read_cohort(**t)
    expected = cs.read_cohort(**valid_tables())
    pd.testing.assert_frame_equal(got.patients, expected.patients)
    pd.testing.assert_frame_equal(got.imaging, expected.imaging)


def test_extra_columns_keep_their_dtype():
    t = valid_tables()
    t["patients"]["stage"] = pd.Categorical(
        ["early", "late", "early"], categories=["early", "late"], ordered=True
    )
    c = cs.read_cohort(**t)
    assert c.patients["stage"].tolist() == ["early", "late", "early"]
