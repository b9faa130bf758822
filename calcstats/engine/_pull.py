"""Rows pulled into pandas for statistics without an aggregate form, within limits.

Harrell's concordance, robust (sandwich) variances with clusters, MICE and the like need
the rows themselves. :func:`pull_rows` brings them into pandas with an
:class:`EngineWarning` stating how many rows; past ``pull_limit`` it either draws a
simple random sample of ``sample_size`` rows (seeded, for statistics documented as
estimable from a sample, e.g. the concordance) or refuses with :class:`EngineLimitError`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import pandas as pd

from calcstats._errors import user_stacklevel
from calcstats.engine._options import EngineLimitError, EngineOptions, EngineWarning

__all__ = ["pull_rows"]


def pull_rows(
    expr: Any,
    columns: Mapping[str, Any] | list[str],
    *,
    options: EngineOptions,
    what: str,
    sample: bool,
    n: int | None = None,
) -> tuple[pd.DataFrame, bool]:
    """``columns`` of ``expr`` as a DataFrame, and whether it is a sample.

    Parameters
    ----------
    expr : ibis.Table
    columns : list of names, or dict of name → expression
    options : EngineOptions
        ``pull_limit``, ``sample_size`` and ``seed``.
    what : str
        The statistic, for the warning and the error (``"cox concordance"``).
    sample : bool
        Whether a sample may stand in past ``pull_limit``.
    n : int, optional
        The number of rows, when known.
    """
    sel = expr.select(**columns) if isinstance(columns, Mapping) else expr.select(*columns)
    total = int(sel.count().execute()) if n is None else int(n)
    if total <= options.pull_limit:
        warnings.warn(
            f"{what}: no aggregate form in the engine; {total:,} rows were pulled into pandas "
            f"(engine_options pull_limit = {options.pull_limit:,}).",
            EngineWarning,
            stacklevel=user_stacklevel(),
        )
        return sel.to_pandas(), False
    if not sample:
        raise EngineLimitError(
            f"{what} needs the rows themselves (it has no aggregate form), and the "
            f"{total:,} rows exceed engine_options pull_limit = {options.pull_limit:,}. "
            "Raise the limit (read_cohort(..., engine_options={'pull_limit': ...})) if the "
            "rows fit in memory, or analyse a subset."
        )
    fraction = min(1.0, options.sample_size / total)
    got = sel.sample(fraction, seed=options.seed).to_pandas()
    warnings.warn(
        f"{what}: no aggregate form in the engine; computed on a simple random sample of "
        f"{len(got):,} of the {total:,} rows (engine_options sample_size = "
        f"{options.sample_size:,}, seed {options.seed}), since all rows exceed pull_limit "
        f"= {options.pull_limit:,}.",
        EngineWarning,
        stacklevel=user_stacklevel(),
    )
    return got, True
