"""A small valid cohort (raw tables, as a user would export them) for the ingest tests."""

from __future__ import annotations

import pandas as pd


def valid_tables() -> dict[str, pd.DataFrame]:
    """Three patients, four studies, three findings, four events; all rules hold.

    p2 has cirrhosis diagnosed before the index date (and cirrhosis_at_baseline True);
    p3 had a liver transplant, then died on the last follow-up date.
    """
    patients = pd.DataFrame(
        {
            "patient_id": ["p1", "p2", "p3"],
            "sex": ["F", "M", "F"],
            "age_at_index": [54.0, 61.0, 45.0],
            "index_date": ["2015-03-01", "2016-07-12", "2014-01-10"],
            "etiology": ["pbc", "psc", "other"],
            "cirrhosis_at_baseline": [False, True, False],
            "last_followup_date": ["2020-01-01", "2021-05-30", "2019-12-31"],
            "bilirubin_mg_dl": [0.8, 2.5, 1.1],
            "albumin_g_dl": [3.9, 3.1, 4.0],
            "diabetes": [False, True, False],
        }
    )
    imaging = pd.DataFrame(
        {
            "study_id": ["s1", "s2", "s3", "s4"],
            "patient_id": ["p1", "p1", "p2", "p3"],
            "study_date": ["2015-03-01", "2017-01-01", "2016-07-12", "2014-01-10"],
            "modality": ["CT", "US", "MRI", "CT"],
        }
    )
    findings = pd.DataFrame(
        {
            "finding_id": ["f1", "f2", "f3"],
            "study_id": ["s1", "s1", "s3"],
            "patient_id": ["p1", "p1", "p2"],
            "segment": ["VII", "II", "IVa"],
            "size_mm": [3.0, 5.0, 2.0],
            "morphology": ["punctate", "coarse", "rim"],
        }
    )
    events = pd.DataFrame(
        {
            "patient_id": ["p2", "p1", "p3", "p3"],
            "event": ["cirrhosis", "varices", "liver_transplant", "death"],
            "event_date": ["2016-01-01", "2018-05-01", "2018-01-01", "2019-12-31"],
        }
    )
    return {"patients": patients, "imaging": imaging, "findings": findings, "events": events}


def set_value(tables: dict, table: str, row: int, column: str, value) -> dict:
    """Set one cell (object dtype so any value fits)."""
    df = tables[table].copy()
    if column not in df.columns:
        df[column] = pd.Series([None] * len(df), dtype=object)
    df[column] = df[column].astype(object)
    df.loc[row, column] = value
    tables[table] = df
    return tables


def add_row(tables: dict, table: str, **values) -> dict:
    """Append one row."""
    tables[table] = pd.concat([tables[table], pd.DataFrame([values])], ignore_index=True)
    return tables
