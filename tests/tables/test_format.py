"""Tests of calcstats._format."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from calcstats import CalcstatsError
from calcstats._errors import InvalidParameterError
from calcstats.tables import format_ci, format_number, format_p


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (0.0, "<0.001"),
        (0.00049, "<0.001"),
        (0.000999, "<0.001"),
        (0.001, "0.001"),
        (0.0432, "0.043"),
        (0.0996, "0.10"),
        (0.1, "0.10"),
        (0.5, "0.50"),
        (0.994, "0.99"),
        (0.996, ">0.99"),
        (1.0, ">0.99"),
    ],
)
def test_format_p_journal_rule(p, expected):
    assert format_p(p) == expected


def test_format_p_digits_4():
    assert format_p(0.00005, digits=4) == "<0.0001"
    assert format_p(0.01234, digits=4) == "0.0123"
    assert format_p(0.5, digits=4) == "0.500"
    assert format_p(0.9999, digits=4) == ">0.999"


def test_format_p_missing_and_bad():
    assert format_p(float("nan")) == ""
    assert format_p(None) == ""
    assert format_p(pd.NA) == ""
    with pytest.raises(CalcstatsError, match="between 0 and 1"):
        format_p(1.5)
    with pytest.raises(CalcstatsError, match="between 0 and 1"):
        format_p(-0.1)
    with pytest.raises(
        InvalidParameterError, match=r"'digits' parameter of format_p must be an integer >= 2"
    ):
        format_p(0.5, digits=1)
    with pytest.raises(CalcstatsError, match="number"):
        format_p("a")


def test_format_p_series_keeps_index():
    s = pd.Series([0.0001, 0.2, np.nan], index=["a", "b", "c"])
    out = format_p(s)
    assert list(out) == ["<0.001", "0.20", ""]
    assert list(out.index) == ["a", "b", "c"]
    assert format_p([0.5, 0.01]) == ["0.50", "0.010"]


def test_format_ci():
    assert format_ci(1.2345, 0.98, 1.5432) == "1.23 (0.98–1.54)"
    assert format_ci(1.2345, 0.98, 1.5432, digits=1) == "1.2 (1.0–1.5)"
    assert format_ci(-0.12, -0.3, 0.05) == "-0.12 (-0.30 to 0.05)"
    assert format_ci(2.0, 0.5, math.inf) == "2.00 (0.50–Inf)"
    assert format_ci(2.0, np.nan, 3.0) == "2.00 (NA–3.00)"
    assert format_ci(np.nan, 1.0, 3.0) == ""
    # a bound that rounds to -0.00 is not negative
    assert format_ci(0.1, -0.001, 0.2) == "0.10 (0.00–0.20)"


def test_format_ci_vectorised():
    est = pd.Series([1.0, 2.0], index=[5, 6])
    out = format_ci(est, np.array([0.5, 1.5]), [1.5, 2.5], digits=1)
    assert list(out) == ["1.0 (0.5–1.5)", "2.0 (1.5–2.5)"]
    assert list(out.index) == [5, 6]
    with pytest.raises(CalcstatsError, match="different lengths"):
        format_ci([1.0, 2.0], [0.5], [1.5, 2.5])


def test_format_number():
    assert format_number(3.14159, digits=2) == "3.14"
    assert format_number(3.15) == "3.1"  # binary value 3.149999..., as R sprintf("%.1f")
    assert format_number(2.5, digits=0) == "2"  # as C printf: round half to even
    assert format_number(-0.04) == "0.0"
    assert format_number(-1.26) == "-1.3"
    assert format_number(12345.678, digits=1, big_mark=",") == "12,345.7"
    assert format_number(-1234567, digits=0, big_mark=" ") == "-1 234 567"
    assert format_number(np.int64(7), digits=0) == "7"
    assert format_number(None) == ""
    assert format_number(math.inf) == "Inf"
    with pytest.raises(
        InvalidParameterError,
        match=r"'digits' parameter of format_number must be an integer >= 0. Got 1.5",
    ):
        format_number(1.0, digits=1.5)
    with pytest.raises(CalcstatsError, match="boolean"):
        format_number(True)
