"""Publication table of :func:`calcstats.compare_interval_methods` (registered on import).

One row per coefficient (the intercept left out) and a last row with the scale; one
column per analysis: interval-censored likelihood, midpoint and right-endpoint imputation.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from calcstats._format import format_ci, format_number
from calcstats.labels import Labels
from calcstats.results import table_of
from calcstats.survival._interval_compare import (
    METHOD_LABELS,
    METHODS,
    IntervalComparisonResult,
)
from calcstats.tables._table import Table

__all__ = ["interval_comparison_table"]


@table_of.register(IntervalComparisonResult)
def interval_comparison_table(
    result: IntervalComparisonResult,
    *,
    labels: Labels | dict[str, Any] | None = None,
    title: str | None = None,
    digits: int = 2,
    conf_level: float | None = None,
) -> Table:
    """The three fits side by side: ratio (CI) per term and method, then the scale.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> import calcstats as cs
    >>> d = pd.DataFrame({"left": [0, 1, 2, 1, 3, 0, 2, 4], "x": [0, 0, 1, 1, 1, 0, 1, 0],
    ...                   "right": [1, 3, np.inf, 2, np.inf, 2, 5, 6]})
    >>> t = cs.compare_interval_methods(d, "x", left="left", right="right").to_table()
    >>> t.columns
    ('Term', 'Interval-censored', 'Midpoint imputation', 'Right-endpoint imputation')
    >>> t.cells[0]
    ('X', '1.73 (0.44–6.81)', '1.64 (0.49–5.51)', '1.29 (0.53–3.13)')
    """
    lab = Labels.default() | result.labels | Labels.coerce(labels)
    tidy = result.tidy(conf_level=conf_level)
    tidy = tidy[tidy["term"] != "Intercept"]
    level = result.conf_level if conf_level is None else conf_level
    terms = [t for t in result.interval.params.index if t != "Intercept"]
    names = []
    for term in terms:
        var, lev = lab.term(term)
        names.append(var if lev is None else f"{var}: {lev}")
    body: dict[str, list[str]] = {"Term": [*names, "Scale"]}
    for m in METHODS:
        part = tidy[tidy["method"] == m].set_index("term").reindex(terms)
        cells = list(
            format_ci(part["estimate"], part["conf_low"], part["conf_high"], digits=digits)
        )
        cells.append(format_number(result.fits[m].scale, digits=3))
        body[METHOD_LABELS[m]] = cells
    measure = "Time ratio" if result.ratio_measure == "TR" else "Hazard ratio"
    return Table(
        pd.DataFrame(body),
        title=title or f"{measure} ({level:.0%} CI) by method",
        footnotes=[
            result.method,
            "Imputed fits treat each interval-censored event as "
            "exactly observed at the midpoint or the right end of its interval.",
            "Scale: the scale parameter of each fit (log-time scale).",
        ],
        raw=tidy.reset_index(drop=True),
    )
