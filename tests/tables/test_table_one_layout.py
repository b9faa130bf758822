"""The layout of Table 1 as a reader sees it: the statistic of each continuous row (its
label and the footnote agree), decimals per variable, thousands separators, and the
errors of statistic= and digits=."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats import InvalidParameterError, SchemaError


@pytest.fixture(scope="module")
def big() -> pd.DataFrame:
    """2,400 patients: counts above a thousand, labs with different spreads."""
    rng = np.random.default_rng(5)
    n = 2400
    return pd.DataFrame(
        {
            "group": rng.choice(["a", "b"], n, p=[0.6, 0.4]),
            "sex": rng.choice(["F", "M"], n),
            "age_at_index": rng.normal(55, 12, n),
            "bilirubin_mg_dl": rng.lognormal(-0.4, 0.5, n),
            "platelets_10e9_l": rng.normal(250, 60, n),
            "inr": rng.normal(1.0, 0.05, n),
        }
    )


def _row(t, label):
    return next(r for r in t.cells if r[0] == label)


def test_statistic_per_variable_names_the_row_and_the_footnote(big):
    t = cs.table_one(
        big,
        by="group",
        variables=["age_at_index", "bilirubin_mg_dl", "platelets_10e9_l"],
        statistic={"bilirubin_mg_dl": "median [IQR]", "platelets_10e9_l": "median (Q1, Q3)"},
    )
    labels = [r[0] for r in t.cells]
    assert labels[1:] == [
        "Age at index (years), mean (SD)",
        "Bilirubin (mg/dL), median [IQR]",
        "Platelets (×10⁹/L), median (Q1, Q3)",
    ]
    raw = t.to_frame().query("group == 'Overall'").set_index("variable")
    bili, plt = raw.loc["bilirubin_mg_dl"], raw.loc["platelets_10e9_l"]
    overall = 1  # the Overall column
    assert _row(t, labels[2])[overall] == (
        f"{bili['median']:.2f} [{bili['q1']:.2f}, {bili['q3']:.2f}]"
    )
    assert _row(t, labels[3])[overall] == (
        f"{plt['median']:.1f} ({plt['q1']:.1f}, {plt['q3']:.1f})"  # IQR 1-100: 1 decimal
    )
    assert re.fullmatch(r"\d+\.\d \(\d+\.\d\)", _row(t, labels[1])[overall])
    # the footnote names the same statistics, in the order of the rows
    assert t.footnotes[0] == "Values are mean (SD); median [IQR]; median (Q1, Q3)."
    assert t.footnotes[1] == "IQR, interquartile range, given as [first quartile, third quartile]."
    # a median row is tested with a rank test, as nonnormal=
    tests = [f for f in t.footnotes if "Wilcoxon" in f or "Welch" in f]
    assert len(tests) == 2
    assert _row(t, labels[3])[-2].endswith(next(f for f in tests if "Wilcoxon" in f)[0])


def test_nonnormal_rows_and_footnote_agree(big):
    t = cs.table_one(big, by="group", variables=["inr", "sex"], nonnormal=["inr"])
    assert [r[0] for r in t.cells][1] == "INR, median [IQR]"
    assert t.footnotes[0] == "Values are median [IQR]; n (%) of patients with data."
    assert "median [Q1, Q3]" not in " ".join(t.footnotes)


def test_one_statistic_for_every_continuous_variable(big):
    t = cs.table_one(big, variables=["age_at_index", "inr", "sex"], statistic="median (Q1, Q3)")
    assert [r[0] for r in t.cells][1:3] == [
        "Age at index (years), median (Q1, Q3)",
        "INR, median (Q1, Q3)",
    ]
    assert t.footnotes[0] == "Values are median (Q1, Q3); n (%) of patients with data."
    with pytest.raises(InvalidParameterError, match="nonnormal= lists \\['inr'\\]"):
        cs.table_one(big, variables=["inr"], nonnormal=["inr"], statistic="mean (SD)")


def test_digits_per_variable(big):
    t = cs.table_one(
        big,
        by="group",
        variables=["age_at_index", "inr", "sex"],
        digits={"age_at_index": 0, "inr": 3, "sex": 0},
    )
    age, inr = t.cells[1], t.cells[2]
    assert all(re.fullmatch(r"\d+ \(\d+\)", c) for c in age[1:4])
    assert all(re.fullmatch(r"\d\.\d{3} \(0\.\d{3}\)", c) for c in inr[1:4])
    female = _row(t, "Female")
    assert all(re.fullmatch(r"\d,\d{3} \(\d+\)|\d+ \(\d+\)", c) for c in female[1:4])
    every = cs.table_one(big, by="group", variables=["age_at_index", "sex"], digits=2)
    assert re.fullmatch(r"\d+\.\d{2} \(\d+\.\d{2}\)", every.cells[1][1])
    assert re.fullmatch(r"[\d,]+ \(\d+\.\d{2}\)", _row(every, "Female")[1])


def test_counts_print_with_thousands_separators(big):
    t = cs.table_one(big, by="group", variables=["sex"])
    n = big["group"].value_counts()
    assert t.cells[0] == ("n", f"{len(big):,}", f"{n['a']:,}", f"{n['b']:,}", "", "")
    assert "," in _row(t, "Female")[1]
    # no count anywhere in the table without its separator
    for row in t.cells:
        for cell in row[1:]:
            assert not re.search(r"(?<![\d.,])\d{4,}", cell), cell


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"statistic": {"bilirubin": "median [IQR]"}},
            SchemaError,
            "statistic= names 'bilirubin', which is not a variable of the table "
            "('age_at_index', 'bilirubin_mg_dl', 'sex'). Did you mean 'bilirubin_mg_dl'?",
        ),
        (
            {"statistic": {"sex": "mean (SD)"}},
            InvalidParameterError,
            "statistic= gives 'mean (SD)' for 'sex', which is categorical",
        ),
        (
            {"statistic": {"sex": "median [IQR]"}},
            InvalidParameterError,
            "statistic= asks for a median of 'sex', which is categorical",
        ),
        (
            {"statistic": "median"},
            InvalidParameterError,
            "The 'statistic' parameter of table_one must be one of 'mean (SD)', "
            "'median [IQR]', 'median (Q1, Q3)'. Got 'median'.",
        ),
        (
            {"statistic": {"age_at_index": "mean"}},
            InvalidParameterError,
            "The 'statistic' parameter of table_one for 'age_at_index' must be one of",
        ),
        (
            {"nonnormal": ["age_at_index"], "statistic": {"age_at_index": "mean (SD)"}},
            InvalidParameterError,
            "asks for 'mean (SD)' of ['age_at_index'], which nonnormal= lists",
        ),
        (
            {"digits": {"age": 1}},
            SchemaError,
            "digits= names 'age', which is not a variable of the table",
        ),
        (
            {"digits": -1},
            InvalidParameterError,
            "The 'digits' parameter of table_one must be a whole number of decimals from 0 "
            "to 6. Got -1.",
        ),
        (
            {"digits": {"sex": 1.5}},
            InvalidParameterError,
            "The 'digits' parameter of table_one for 'sex' must be a whole number",
        ),
    ],
)
def test_statistic_and_digits_errors(big, kwargs, error, message):
    with pytest.raises(error) as err:
        cs.table_one(big, variables=["age_at_index", "bilirubin_mg_dl", "sex"], **kwargs)
    assert message in str(err.value)
