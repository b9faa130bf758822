"""Query strings translated to engine predicates: the pandas path's rows, missing-value
rules included."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats.cohort._cohort import _nullable
from calcstats.engine import query_columns, translate_query

FRAME = pd.DataFrame(
    {
        "age": [15.0, np.nan, 40.0, 70.0, 33.0],
        "sex": ["M", None, "F", "F", "M"],
        "flag": pd.array([True, None, False, True, False], dtype="boolean"),
        "n": [0, 1, 2, 3, 4],
        "day": pd.to_datetime(["2010-01-01", None, "2015-06-30", "2020-01-01", "2012-12-31"]),
    }
)


def _pandas(query: str) -> list[bool]:
    res = _nullable(FRAME).eval(query)
    if res.dtype == object or isinstance(res.dtype, pd.BooleanDtype):
        res = res.fillna(False)
    return res.astype(bool).tolist()


@pytest.mark.parametrize(
    "query",
    [
        "age < 18",
        "age != 40",
        "sex != 'F'",
        "sex == 'M' and age > 20",
        "not (age >= 30)",
        "flag == True",
        "flag == True or flag.isna()",
        "~flag",
        "age.isna() | sex.isna()",
        "sex.isin(['F'])",
        "sex in ['M', 'F']",
        "sex not in ['M']",
        "18 <= age < 65",
        "age * 2 - 1 > 60",
        "n >= 2 & age > 30",
        "day < '2013-01-01'",
        "day != '2010-01-01'",
        "-age < -30",
        "flag",
    ],
)
def test_translated_query_selects_the_pandas_rows(query):
    t = ibis.memtable(
        FRAME.assign(flag=FRAME["flag"].astype(object)),
        schema={"age": "float64", "sex": "string", "flag": "boolean", "n": "int64", "day": "date"},
    )
    got = t.mutate(__sel=translate_query(query, t)).order_by("n")["__sel"].to_pandas()
    assert got.tolist() == _pandas(query)


def test_query_columns():
    assert query_columns("age < 18 & sex.isin(['M']) | flag") == ["age", "sex", "flag"]


@pytest.mark.parametrize(
    ("query", "match"),
    [
        ("age.between(1, 2)", "does not translate"),
        ("age < ", "cannot parse"),
        ("weight > 3", "not a column"),
        ("sex + 1 > 2", "arithmetic on a column that is not numeric"),
        ("age == None", "isna"),
    ],
)
def test_untranslatable_queries_say_what_is_supported(query, match):
    t = ibis.memtable(FRAME[["age", "sex"]])
    with pytest.raises(cs.CalcstatsError, match=match):
        translate_query(query, t)
