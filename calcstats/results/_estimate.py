"""Estimates by group: prevalences, incidence rates, rate ratios, Mantel–Haenszel, RMST."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from calcstats._errors import InvalidParameterError
from calcstats.labels import Labels
from calcstats.results._base import Result

__all__ = ["EstimateResult", "check_suppress"]


def check_suppress(k: int | None) -> int | None:
    """Validate ``suppress_below`` (None or an integer >= 2)."""
    if k is None:
        return None
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 2:
        raise InvalidParameterError(
            "The 'suppress_below' parameter must be None or an integer >= 2 (e.g. 5 hides "
            f"counts 1-4). Got {k!r}."
        )
    return int(k)


class EstimateResult(Result):
    """Raw numbers of an estimator, one row per group.

    Attributes
    ----------
    by : list of str
        The grouping columns (the first columns of ``tidy()``).
    method : str
        The estimator and the interval/test used, in words.
    conf_level : float or None
        Confidence level of the intervals (None for a summary without intervals, e.g.
        counts per segment).
    labels : Labels
        The ``labels=`` the estimator was called with (tables merge theirs over these).
    suppress_below : int or None
        Counts below this are hidden in ``to_table()`` (small-cell suppression).
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        by: Sequence[str],
        method: str,
        conf_level: float | None,
        labels: Labels | Mapping[str, str] | None = None,
        suppress_below: int | None = None,
    ) -> None:
        self._frame = frame.reset_index(drop=True)
        self.by = list(by)
        self.method = method
        # None only for estimates without an interval (SegmentResult); their tables never
        # read it, so Result.conf_level stays a float for every other result.
        self.conf_level = conf_level  # type: ignore[assignment]
        self.labels = Labels.coerce(labels)
        self.suppress_below = check_suppress(suppress_below)

    def tidy(self) -> pd.DataFrame:
        """Raw numbers: the ``by`` columns, then the estimator's columns (see DESIGN.md)."""
        return self._frame.copy()
