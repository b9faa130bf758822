"""The (left, right] input rules of turnbull, parametric_survival, compare_interval_methods."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import calcstats as cs

FUNCTIONS = {
    "turnbull": lambda d, **kw: cs.turnbull(d, left="l", right="r", **kw),
    "parametric_survival": lambda d, **kw: cs.parametric_survival(
        d, "1", left="l", right="r", **kw
    ),
    "compare_interval_methods": lambda d, **kw: cs.compare_interval_methods(
        d, "1", left="l", right="r", **kw
    ),
}


def _data() -> pd.DataFrame:
    return pd.DataFrame(
        {"l": [0.0, 1.0, 2.0, 1.5, 3.0, 0.5], "r": [1.0, 3.0, np.nan, 2.5, np.inf, 2.0]},
        index=[10, 11, 12, 13, 14, 15],
    )


@pytest.mark.parametrize("function", list(FUNCTIONS))
def test_missing_left_asks_for_an_explicit_zero(function):
    d = _data()
    d.loc[13, "l"] = np.nan
    with pytest.raises(cs.DataError) as err:
        FUNCTIONS[function](d)
    msg = str(err.value)
    assert f"{function}(): left column 'l' has 1 missing value(s) (first at row 13)" in msg
    assert "Write 0 where the event happened before the first assessment" in msg


@pytest.mark.parametrize("function", list(FUNCTIONS))
def test_right_before_left_names_the_row_and_values(function):
    d = _data()
    d.loc[15, "r"] = 0.25
    with pytest.raises(cs.DataError) as err:
        FUNCTIONS[function](d)
    assert "1 row(s) have 'r' < 'l' (first at row 15: left 0.5, right 0.25)" in str(err.value)


@pytest.mark.parametrize("value", [-1.0, np.inf])
def test_left_must_be_finite_and_not_negative(value):
    d = _data()
    d.loc[11, "l"] = value
    with pytest.raises(cs.DataError, match=r"negative or infinite \(first: .* at row 11\)"):
        cs.turnbull(d, left="l", right="r")


def test_columns_must_be_numeric_and_distinct():
    d = _data().assign(s=lambda x: x["l"].astype(str))
    with pytest.raises(cs.SchemaError, match="left column 's' must be numeric"):
        cs.turnbull(d, left="s", right="r")
    with pytest.raises(cs.SchemaError, match="left= and right= both name 'l'"):
        cs.turnbull(d, left="l", right="l")
    with pytest.raises(cs.SchemaError, match="right"):
        cs.turnbull(d, left="l", right="missing_column")


def test_missing_and_infinite_right_are_both_right_censored():
    d = _data()
    a = cs.turnbull(d, left="l", right="r").tidy()
    d2 = d.assign(r=d["r"].fillna(np.inf))
    b = cs.turnbull(d2, left="l", right="r").tidy()
    pd.testing.assert_frame_equal(a, b)
    fit = cs.parametric_survival(d, "1", left="l", right="r")
    assert fit.counts == {"n_interval": 4, "n_left_zero": 1, "n_exact": 0, "n_right_censored": 2}
