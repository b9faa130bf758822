"""Robustness of the descriptive functions to how analysts' data frames arrive."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats._errors import DataError
from calcstats.describe import _table_one_stats


def test_table_one_object_columns_of_numbers_are_numbers(trial):
    # used to be summarised as a 300-level categorical and crash in the exact test
    obj = trial.assign(age=trial["age"].astype(object), death=trial["death"].astype(object))
    got = cs.table_one(obj, by="treated", variables=["age", "death"]).to_frame()
    ref = cs.table_one(trial, by="treated", variables=["age", "death"]).to_frame()
    pd.testing.assert_frame_equal(got, ref)
    assert obj["age"].dtype == object  # the caller's frame is untouched


def test_sparse_many_level_exact_test_gives_a_float(monkeypatch):
    # scipy 1.17 returns a 1-element array p-value for this table
    monkeypatch.setattr(_table_one_stats, "FISHER_RESAMPLES", 999)
    tab = np.zeros((60, 2), dtype=np.int64)
    tab[:30, 0] = 1
    tab[30:, 1] = 1
    tab[0, 1] = tab[59, 0] = 1
    p, key = _table_one_stats.categorical_test(tab)
    assert key == "fisher_mc"
    assert isinstance(p, float) and 0 < p <= 1


def test_negative_person_time_message_shows_plain_values(trial):
    d = trial.assign(years=trial["years"].where(trial.index != 2, -1.0))
    with pytest.raises(DataError, match=r"first: -1 at row 2\)") as err:
        cs.incidence_rate(d, time="years", event="death")
    assert "np." not in str(err.value)


def test_zero_person_time_without_by_names_the_column(trial):
    with pytest.raises(DataError, match=r"zero total person-time in 'years'") as err:
        cs.incidence_rate(trial.assign(years=0.0), time="years", event="death")
    assert "[]" not in str(err.value)
