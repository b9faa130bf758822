"""table_one's Monte-Carlo Fisher test: bounded memory, R's p-value, clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import calcstats as cs
from calcstats._errors import CalcstatsError
from calcstats.describe import _table_one_stats


def _sparse(n_levels: int, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 3 * n_levels
    return pd.DataFrame(
        {"arm": rng.integers(0, 2, n), "site": [f"s{i:04d}" for i in rng.integers(0, n_levels, n)]}
    )


def test_simulated_tables_come_in_bounded_chunks(trial, ref, monkeypatch):
    sizes, cells = [], []
    real = stats.random_table

    class Spy:
        def __init__(self, row, col, **kwargs):
            cells.append(len(row) * len(col))
            self._dist = real(row, col, **kwargs)

        def rvs(self, size):
            sizes.append(size)
            return self._dist.rvs(size=size)

    monkeypatch.setattr(_table_one_stats.stats, "random_table", Spy)
    monkeypatch.setattr(_table_one_stats, "FISHER_CHUNK_CELLS", 6_000)
    t = cs.table_one(trial.iloc[:40], by="trt", variables=["stage"], categorical=["stage"])
    stage = t.to_frame().query("variable == 'stage'").iloc[0]
    assert stage["test"].startswith("Fisher's exact test (Monte-Carlo")
    # at most 6,000 cells of simulated tables in memory at once, 99,999 tables in all
    assert cells == [6] and max(sizes) == 1_000 and sum(sizes) == 99_999
    # R fisher.test (exact): agreement within Monte-Carlo error (SE <= 0.0016)
    assert stage["p_value"] == pytest.approx(ref["t1_small_p_stage_fisher"], abs=0.005)


def test_monte_carlo_fisher_matches_r_on_a_3x3_table():
    # R 4.2.2: fisher.test(matrix(c(1,0,3,2,5,0,0,1,7), 3, byrow = TRUE))$p.value
    r_exact = 0.001010342
    tab = np.array([[1, 0, 3], [2, 5, 0], [0, 1, 7]])
    assert _table_one_stats.fisher_monte_carlo(tab) == pytest.approx(r_exact, abs=3e-4)


def test_too_large_table_is_an_error_that_says_what_to_do():
    df = _sparse(600)  # ~600 sites x 2 arms, expected counts below 5
    with pytest.raises(CalcstatsError) as err:
        cs.table_one(df, by="arm", variables=["site"], smd=False)
    msg = str(err.value)
    assert "Fisher test of 'site'" in msg and "× 2 table" in msg
    assert "Merge rare levels" in msg and "pvalues=False" in msg
    t = cs.table_one(df, by="arm", variables=["site"], pvalues=False, smd=False)
    assert "p-value" not in t.columns and t.n_rows > 500


def test_out_of_memory_is_a_calcstats_error(monkeypatch):
    class Exhausted:
        def __init__(self, *args, **kwargs):
            pass

        def rvs(self, size):
            raise MemoryError

    monkeypatch.setattr(_table_one_stats.stats, "random_table", Exhausted)
    with pytest.raises(CalcstatsError, match=r"out of memory.*'site'.*pvalues=False"):
        cs.table_one(_sparse(20), by="arm", variables=["site"])
