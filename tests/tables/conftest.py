"""Fixtures for the tables tests: a small hand-made Table 1."""

from __future__ import annotations

import pandas as pd
import pytest

from calcstats.tables import Table


def _make_table(**overrides) -> Table:
    body = pd.DataFrame(
        {
            "Characteristic": ["Age, years", "Etiology", "PBC", "PSC & other_", "Missing"],
            "Yes": ["54.1 (10.2)", "", "40 (40.0%)", "<5", "1 (1.0)"],
            "No": ["51.3 (11.0)", "", "55 (55.0%)", "*", "0 (0.0)"],
            "Overall": ["52.0 (10.8)", "", "95 (47.5%)", "62 (31.0)", "1 (0.5)"],
            "p-value": ["<0.001", "0.43", "", "", ""],
        }
    )
    raw = pd.DataFrame({"variable": ["age"], "mean_yes": [54.123], "mean_no": [51.3]})
    kwargs = dict(
        title="Table 1. Baseline characteristics",
        indent=[0, 0, 1, 1, 2],
        spanners=[("Calcification", ["Yes", "No"])],
        footnotes=["Mean (SD); n (%).", "p: t-test; chi-square test."],
        raw=raw,
    )
    kwargs.update(overrides)
    return Table(body, **kwargs)


@pytest.fixture
def make_table():
    """Builder of the sample table; keyword arguments override Table's options."""
    return _make_table


@pytest.fixture
def table() -> Table:
    return _make_table()
