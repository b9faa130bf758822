"""The one (left, right] input check of the interval-censored functions.

:func:`calcstats.turnbull`, :func:`calcstats.parametric_survival` and
:func:`calcstats.compare_interval_methods` read their outcome here, by the convention of R's
``Surv(left, right, type = "interval2")``:

* ``left < right``: the event happened in ``(left, right]`` (after the last assessment
  without it, at or before the first one with it);
* ``left == 0``: the event happened before the first assessment, ``(0, right]``;
* ``right`` missing or ``inf``: right-censored, the event had not happened by ``left``;
* ``left == right``: an exactly observed event time.

``left`` must be present, finite and ``>= 0`` on every row (R reads a missing ``left`` as
left-censored; calcstats asks for an explicit 0 instead), and ``right >= left``. Every
violation is an error naming the column, the row and the value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from calcstats._errors import DataError, SchemaError
from calcstats._survival_input import _factorize, _row, as_names
from calcstats._validation import require_columns

__all__ = ["IntervalInput", "interval_input"]


@dataclass
class IntervalInput:
    """Validated ``(left, right]`` outcome of the analysed rows.

    Attributes
    ----------
    data : pandas.DataFrame
        The analysed rows (original index labels).
    left, right : numpy.ndarray
        Interval ends; ``right`` is ``inf`` for a right-censored row.
    group, groups, by : numpy.ndarray, pandas.DataFrame, list of str
        0-based group index per row, the group labels (one row per group, sorted levels)
        and the grouping columns.
    columns : dict
        The input column of each role (``left``, ``right``).
    """

    data: pd.DataFrame
    left: np.ndarray
    right: np.ndarray
    group: np.ndarray
    groups: pd.DataFrame
    by: list[str]
    columns: dict[str, str] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.left)

    @property
    def exact(self) -> np.ndarray:
        """Rows with an exactly observed event (``left == right``)."""
        return self.left == self.right

    @property
    def right_censored(self) -> np.ndarray:
        """Rows whose event had not happened by ``left`` (``right`` infinite)."""
        return np.isinf(self.right)

    @property
    def interval(self) -> np.ndarray:
        """Rows with the event in ``(left, right]``, ``right`` finite."""
        return ~self.exact & ~self.right_censored

    def counts(self, rows: np.ndarray | None = None) -> dict[str, int]:
        """Numbers of rows by kind (all rows, or the selected ``rows``)."""
        sel = np.ones(self.n, dtype=bool) if rows is None else rows
        return {
            "n": int(sel.sum()),
            "n_interval": int((self.interval & sel).sum()),
            "n_left_zero": int((self.interval & (self.left == 0) & sel).sum()),
            "n_exact": int((self.exact & sel).sum()),
            "n_right_censored": int((self.right_censored & sel).sum()),
        }

    def subset(self, rows: np.ndarray) -> IntervalInput:
        """The same input restricted to ``rows`` (positions); groups are not recomputed."""
        return IntervalInput(
            data=self.data.iloc[rows],
            left=self.left[rows],
            right=self.right[rows],
            group=self.group[rows],
            groups=self.groups,
            by=self.by,
            columns=self.columns,
        )


def _values(data: pd.DataFrame, column: str, role: str, function: str) -> np.ndarray:
    col = data[column]
    if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
        raise SchemaError(
            f"{function}(): {role} column {column!r} must be numeric (years, months, ...), "
            f"found dtype {col.dtype}; convert it (e.g. pd.to_numeric) first."
        )
    return col.to_numpy(dtype=float, na_value=np.nan)


def interval_input(
    data: pd.DataFrame,
    *,
    left: str,
    right: str,
    function: str,
    by: str | Sequence[str] | None = None,
) -> IntervalInput:
    """Check the ``left`` and ``right`` columns and return them as arrays.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> d = pd.DataFrame({"l": [0.0, 1, 2], "r": [1.5, np.nan, 2]})
    >>> ii = interval_input(d, left="l", right="r", function="turnbull")
    >>> ii.right.tolist()
    [1.5, inf, 2.0]
    >>> ii.counts()["n_interval"], ii.counts()["n_exact"], ii.counts()["n_right_censored"]
    (1, 1, 1)
    """
    by_names = as_names(by, "by", function)
    require_columns(data, {"left": left, "right": right, "by": by_names}, function=function)
    if left == right:
        raise SchemaError(
            f"{function}(): left= and right= both name {left!r}; give the last assessment "
            "without the event and the first one with it as two columns."
        )
    if len(data) == 0:
        raise DataError(f"{function}(): the data have no rows; nothing to analyse.")
    lo = _values(data, left, "left", function)
    hi = _values(data, right, "right", function)
    bad = np.flatnonzero(np.isnan(lo))
    if bad.size:
        raise DataError(
            f"{function}(): left column {left!r} has {bad.size} missing value(s) (first at row "
            f"{_row(data, bad[0])}). Write 0 where the event happened before the first "
            "assessment (the interval (0, right]), or drop rows with no assessment."
        )
    bad = np.flatnonzero(~np.isfinite(lo) | (lo < 0))
    if bad.size:
        raise DataError(
            f"{function}(): left column {left!r} has {bad.size} value(s) that are negative or "
            f"infinite (first: {lo[bad[0]]:g} at row {_row(data, bad[0])}); left is the time "
            "of the last assessment without the event, >= 0 (0 = before the first one)."
        )
    hi = np.where(np.isnan(hi), np.inf, hi)
    bad = np.flatnonzero(hi < lo)
    if bad.size:
        i = bad[0]
        raise DataError(
            f"{function}(): {bad.size} row(s) have {right!r} < {left!r} (first at row "
            f"{_row(data, i)}: left {lo[i]:g}, right {hi[i]:g}); right is the first "
            "assessment with the event (missing or inf if it was never seen), left the last "
            "one without it."
        )
    group, groups = _factorize(data, by_names, "by", function)
    return IntervalInput(
        data=data,
        left=lo,
        right=hi,
        group=group,
        groups=groups.reset_index(drop=True),
        by=by_names,
        columns={"left": left, "right": right},
    )
