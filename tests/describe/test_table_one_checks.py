"""table_one refuses values it cannot describe: text in numeric columns, infinite values,
mistyped labels. Each error names the column, the rows and the values, and the fix."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats._errors import DataError, SchemaError


@pytest.fixture()
def cohort() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 80
    return pd.DataFrame(
        {
            "calc": np.repeat([0, 1], n // 2),
            "age": rng.normal(55, 12, n).round(1),
            "bilirubin": rng.lognormal(0, 0.6, n).round(2),
            "sex": rng.choice(["f", "m"], n),
        },
        index=pd.Index([f"P{i:03d}" for i in range(n)], name="patient_id"),
    )


def test_text_cells_in_a_numeric_column_are_reported_with_rows_and_values(cohort):
    age = cohort["age"].astype(object)
    age.loc[["P003", "P017", "P041"]] = ["unknown", "n/a", "unknown"]
    with pytest.raises(DataError) as err:
        cs.table_one(cohort.assign(age=age), by="calc", variables=["age", "sex"])
    msg = str(err.value)
    assert "column 'age' holds numbers, but 3 of its 80 non-missing values are text" in msg
    assert "row 'P003': 'unknown', row 'P017': 'n/a', row 'P041': 'unknown'" in msg
    assert "pd.to_numeric(data['age'], errors='coerce')" in msg
    assert "categorical=" in msg
    # before: described as a 78-level category; the fix from the message works
    fixed = cohort.assign(age=pd.to_numeric(age, errors="coerce"))
    t = cs.table_one(fixed, by="calc", variables=["age"])
    labels = [r[0] for r in t.cells]
    assert labels == ["n", "Age, mean (SD)", "Missing"]
    assert t.cells[2][1] == "3"


def test_text_cells_are_reported_with_default_variables_and_from_csv(cohort):
    # a CSV export where 'age' has "unknown" cells: pandas reads the column as text
    raw = cohort.assign(age=cohort["age"].astype(object))
    raw.iloc[5:12, raw.columns.get_loc("age")] = "unknown"
    df = pd.read_csv(io.StringIO(raw.to_csv()), index_col="patient_id")
    assert df["age"].map(type).eq(str).all()
    # before: a text column with > 20 levels was silently left out of the default table
    with pytest.raises(DataError, match=r"row 'P005': 'unknown'.* and 2 more row\(s\)"):
        cs.table_one(df, by="calc")


def test_text_with_few_distinct_values_stays_categorical(cohort):
    stage = pd.Series(
        np.resize(["1", "2", "3", "4", "unknown"], len(cohort)), index=cohort.index, dtype=object
    )
    t = cs.table_one(cohort.assign(stage=stage), by="calc", variables=["stage"])
    assert [r[0] for r in t.cells][2:] == ["1", "2", "3", "4", "unknown"]
    # and a numeric column with text may be asked for as categories
    age = cohort["age"].astype(object)
    age.iloc[0] = "unknown"
    t = cs.table_one(cohort.assign(age=age), by="calc", variables=["age"], categorical=["age"])
    assert "unknown" in [r[0] for r in t.cells]


def test_infinite_values_are_reported(cohort):
    bili = cohort["bilirubin"].copy()
    bili.loc["P010"], bili.loc["P020"] = np.inf, -np.inf
    for kw in ({}, {"nonnormal": ["bilirubin"]}):
        with pytest.raises(DataError) as err:
            cs.table_one(cohort.assign(bilirubin=bili), by="calc", **kw)
        msg = str(err.value)
        assert "column 'bilirubin' has 2 infinite value(s) (row 'P010': inf, row 'P020': -inf)" in (
            msg
        )
        assert ".replace([np.inf, -np.inf], np.nan)" in msg


def test_mistyped_label_key_is_an_error_with_a_suggestion(cohort):
    with pytest.raises(
        SchemaError, match=r"key 'bilirubn' is not a column.*Did you mean 'bilirubin'"
    ):
        cs.table_one(cohort, by="calc", labels={"age": "Age, years", "bilirubn": "Bilirubin"})
    with pytest.raises(SchemaError, match="Did you mean 'calc'"):
        cs.table_one(cohort, by="calc", labels={"calcc": "Calcification"})
    # one labels dict for several tables: keys for other columns, or far from any
    # variable, are fine
    t = cs.table_one(
        cohort,
        by="calc",
        variables=["age"],
        labels={"age": "Age, years", "sex": "Sex", "time_to_cirrhosis": "Years"},
    )
    assert t.cells[1][0] == "Age, years, mean (SD)"
    # a Labels is checked the same way (its variable labels)
    with pytest.raises(SchemaError, match="Did you mean 'bilirubin'"):
        cs.table_one(cohort, by="calc", labels=cs.Labels(variables={"bilirubn": "Bilirubin"}))
