"""Engine options and the pull limits of statistics without an aggregate form."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

import calcstats as cs
from calcstats.engine import EngineLimitError, EngineOptions, EngineWarning
from calcstats.engine._pull import pull_rows


def test_defaults_are_documented_values():
    opts = EngineOptions()
    assert (opts.memory_limit, opts.pull_limit, opts.sample_size) == ("2GB", 2_000_000, 200_000)
    assert opts.spill_directory.endswith("calcstats-duckdb")


def test_options_from_a_dict_are_checked():
    assert EngineOptions.of({"threads": 3}).threads == 3
    with pytest.raises(cs.SchemaError, match="unknown option\\(s\\) \\['memry_limit'\\]"):
        EngineOptions.of({"memry_limit": "1GB"})
    with pytest.raises(cs.SchemaError, match="'threads'\\] must be a positive whole number"):
        EngineOptions.of({"threads": 0})
    with pytest.raises(cs.SchemaError, match="must be a dict"):
        EngineOptions.of("4GB")


def _table(n: int):
    return ibis.memtable(pd.DataFrame({"x": range(n)}))


def test_pull_under_the_limit_warns_with_the_row_count():
    with pytest.warns(
        EngineWarning,
        match="concordance: no aggregate form in the engine; 1,500 rows were pulled into pandas",
    ):
        rows, sampled = pull_rows(
            _table(1500), ["x"], options=EngineOptions(), what="concordance", sample=True
        )
    assert len(rows) == 1500 and not sampled


def test_past_the_limit_a_sample_or_a_refusal():
    opts = EngineOptions.of({"pull_limit": 100, "sample_size": 200, "seed": 7})
    with pytest.warns(EngineWarning, match="simple random sample of .* of the 5,000 rows"):
        rows, sampled = pull_rows(
            _table(5000), ["x"], options=opts, what="concordance", sample=True
        )
    assert sampled and 100 < len(rows) < 350
    with pytest.raises(EngineLimitError, match="5,000 rows exceed engine_options pull_limit = 100"):
        pull_rows(_table(5000), ["x"], options=opts, what="MICE", sample=False)
