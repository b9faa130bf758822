"""Result object shared by the descriptive estimators (prevalence, rates, Mantel–Haenszel)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import CalcstatsError, DataError
from calcstats.describe._checks import check_columns, check_no_missing

__all__ = ["DescriptiveResult", "group_keys"]


def group_keys(data: pd.DataFrame, by: list[str], *, argument: str = "by") -> pd.DataFrame:
    """Validate the ``by`` columns and return them.

    Missing values are an error, and so is an empty group: a Categorical level with no
    rows (its count, rate or ratio would be undefined, and leaving it out silently would
    hide it).
    """
    check_columns(data, by, argument=argument)
    check_no_missing(data, by, argument=argument)
    check_empty_levels(data, by, argument=argument)
    return data[by]


def check_empty_levels(data: pd.DataFrame, columns: list[str], *, argument: str) -> None:
    """Raise a DataError when a Categorical grouping column has a level without rows."""
    for col in columns:
        s = data[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            used = set(pd.unique(s.cat.codes))
            empty = [c for i, c in enumerate(s.cat.categories) if i not in used]
            if empty:
                raise DataError(
                    f"{argument}: column {col!r} has level(s) {[str(e) for e in empty]} with no "
                    f"rows (empty group). Drop them with "
                    f"data[{col!r}].cat.remove_unused_categories(), or merge levels."
                )


class DescriptiveResult(ABC):
    """Raw numbers of a descriptive estimator with ``tidy()`` and ``to_table()``.

    Attributes
    ----------
    by : list of str
        The grouping columns (first columns of ``tidy()``).
    method : str
        A sentence naming the estimator and the interval/test used.
    conf_level : float
        Confidence level of the intervals.
    """

    title: str = ""

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        by: Sequence[str],
        method: str,
        conf_level: float,
        extra: dict[str, Any] | None = None,
        suppress_below: int | None = None,
    ) -> None:
        self._frame = frame.reset_index(drop=True)
        self.by = list(by)
        self.method = method
        self.conf_level = conf_level
        self.extra = dict(extra or {})
        self.suppress_below = check_suppress(suppress_below)

    def tidy(self) -> pd.DataFrame:
        """Raw numbers: the ``by`` columns, then the estimator's columns (see DESIGN.md)."""
        return self._frame.copy()

    # ---- publication table ----------------------------------------------------------
    @abstractmethod
    def _display(self, frame: pd.DataFrame, *, digits: int) -> pd.DataFrame:
        """Formatted cells of the publication table (one subclass per estimator)."""

    def to_table(self, *, title: str | None = None, digits: int = 2) -> Any:
        """The publication :class:`calcstats.tables.Table` (raw numbers in ``.to_frame()``).

        Count columns are suppressed when the estimator was called with ``suppress_below``.
        """
        from calcstats.tables import Table

        frame = self.tidy()
        body = self._display(frame, digits=digits)
        footnotes = [self.method]
        if self.suppress_below is not None:
            body, note = self._suppress(body, frame, self.suppress_below)
            if note:
                footnotes.append(note)
        return Table(body, title=title or self.title, footnotes=footnotes, raw=frame)

    def _suppress(
        self, body: pd.DataFrame, frame: pd.DataFrame, k: int
    ) -> tuple[pd.DataFrame, str]:
        raise CalcstatsError(
            f"{type(self).__name__} has no count cells to suppress; suppress_below applies "
            "to prevalence, incidence_rate, mantel_haenszel and table_one."
        )

    def _label_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        if not self.by:
            return pd.DataFrame({"Group": ["All"] * len(frame)})
        return frame[self.by].astype(str).reset_index(drop=True)

    def __repr__(self) -> str:
        body = self.tidy().to_string(index=False, float_format=lambda v: f"{v:.4g}")
        return f"{type(self).__name__}: {self.method}\n{body}"

    def _repr_html_(self) -> str:
        return f"<p><b>{type(self).__name__}</b>: {self.method}</p>" + self.tidy().to_html(
            index=False, float_format=lambda v: f"{v:.4g}"
        )


def check_suppress(k: int | None) -> int | None:
    """Validate ``suppress_below`` (None or an integer >= 2)."""
    if k is None:
        return None
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise CalcstatsError(
            f"suppress_below must be None or an integer >= 2 (e.g. 5 hides counts 1-4), got {k!r}."
        )
    return int(k)


def suppress_rows(
    body: pd.DataFrame,
    counts: np.ndarray,
    columns: list[str | None],
    k: int,
    *,
    total_column: str | None = None,
    n_label_columns: int = 1,
) -> tuple[pd.DataFrame, str]:
    """Hide small counts in a display body whose rows are groups.

    ``counts`` is rows × count-columns (without totals); ``columns[j]`` names the display
    column of count column j (None when it is not shown, e.g. non-cases). With
    ``total_column`` the row totals are shown there and are protected (secondary
    suppression, :func:`calcstats.tables.suppression_mask`); otherwise only primary
    suppression applies. A hidden count 1..k−1 prints as ``<k``, other hidden counts as
    ``*``; estimates of a row with any hidden count print as ``*`` (they give the count
    back).
    """
    from calcstats.tables import suppression_mask, suppression_note

    counts = np.asarray(counts, dtype=float).round().astype(np.int64)
    protect = total_column is not None
    mask = np.asarray(
        suppression_mask(counts, k, protect_totals=protect, margins=protect), dtype=bool
    )
    if protect:
        row_total_hidden = mask[:-1, -1]
        mask = mask[:-1, :-1]
    else:
        row_total_hidden = np.zeros(counts.shape[0], dtype=bool)
    if not mask.any() and not row_total_hidden.any():
        return body, ""
    body = body.copy()
    shown = set()
    for j, col in enumerate(columns):
        if col is None:
            continue
        shown.add(col)
        for i in np.flatnonzero(mask[:, j]):
            body.iloc[i, body.columns.get_loc(col)] = f"<{k}" if 1 <= counts[i, j] < k else "*"
    if total_column is not None:
        shown.add(total_column)
        totals = counts.sum(axis=1)
        for i in np.flatnonzero(row_total_hidden):
            body.iloc[i, body.columns.get_loc(total_column)] = (
                f"<{k}" if 1 <= totals[i] < k else "*"
            )
    label_cols = set(body.columns[:n_label_columns])
    for i in np.flatnonzero(mask.any(axis=1) | row_total_hidden):
        for col in body.columns:
            if col not in shown and col not in label_cols:
                body.iloc[i, body.columns.get_loc(col)] = "*"
    return body, suppression_note(k)
