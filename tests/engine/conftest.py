"""Fixtures of the engine tests: the example cohort read by pandas and by DuckDB, and the
comparison used throughout (the same numbers to 1e-9, relative)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats.datasets._example import _folder

pytest.importorskip("ibis")
pytest.importorskip("duckdb")

COMPETING = ("liver_transplant", "death")


def assert_same(a: pd.DataFrame, b: pd.DataFrame, *, rtol: float = 1e-9) -> None:
    """Same shape, labels and missing cells; numbers equal to ``rtol`` (relative, with an
    absolute floor of ``rtol`` for numbers near 0)."""
    a = a.reset_index(drop=True)
    b = b.reset_index(drop=True)
    assert list(a.columns) == list(b.columns)
    assert a.shape == b.shape
    for col in a.columns:
        x, y = a[col], b[col]
        if pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x):
            xv = x.to_numpy(dtype=float, na_value=np.nan)
            yv = y.to_numpy(dtype=float, na_value=np.nan)
            assert np.array_equal(np.isnan(xv), np.isnan(yv)), col
            ok = ~np.isnan(xv)
            np.testing.assert_allclose(yv[ok], xv[ok], rtol=rtol, atol=rtol, err_msg=col)
        else:
            assert x.astype(str).tolist() == y.astype(str).tolist(), col


def quiet(fn, *args, **kwargs):
    """Call ``fn`` and return (result, warning messages), DeprecationWarnings aside."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn(*args, **kwargs)
    return out, [str(w.message) for w in caught if not issubclass(w.category, DeprecationWarning)]


@pytest.fixture(scope="session")
def example_folder():
    return _folder("example_cohort")


@pytest.fixture(scope="session")
def pandas_cohort(example_folder):
    return cs.read_cohort(example_folder)


@pytest.fixture(scope="session")
def duck_cohort(example_folder):
    return cs.read_cohort(
        example_folder, engine="duckdb", engine_options={"memory_limit": "1GB", "threads": 2}
    )


@pytest.fixture(scope="session")
def survival_pair(pandas_cohort, duck_cohort):
    """(pandas, engine) survival tables of cirrhosis with transplant and death competing."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ps = pandas_cohort.survival_table("cirrhosis", competing=COMPETING)
        es = duck_cohort.survival_table("cirrhosis", competing=COMPETING)
    return ps, es


@pytest.fixture(scope="session")
def patient_pair(pandas_cohort, duck_cohort):
    return pandas_cohort.patient_table(), duck_cohort.patient_table()
