"""Result object shared by the descriptive estimators (prevalence, rates, Mantel–Haenszel)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import CalcstatsError
from calcstats.describe._checks import check_columns, check_no_missing

__all__ = ["DescriptiveResult", "group_keys"]


def group_keys(data: pd.DataFrame, by: list[str], *, argument: str = "by") -> pd.DataFrame:
    """Validate the ``by`` columns and return them (no missing values allowed)."""
    check_columns(data, by, argument=argument)
    check_no_missing(data, by, argument=argument)
    return data[by]


class DescriptiveResult:
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
    def _count_columns(self) -> list[str]:
        return []

    def _display(self, frame: pd.DataFrame) -> pd.DataFrame:  # pragma: no cover - abstract
        raise NotImplementedError

    def to_table(self, *, title: str | None = None, digits: int = 2) -> Any:
        """The publication :class:`calcstats.tables.Table` (raw numbers in ``.to_frame()``).

        Count columns are suppressed when the estimator was called with ``suppress_below``.
        """
        from calcstats.tables import Table

        frame = self.tidy()
        body = self._display(frame, digits=digits)
        footnotes = [self.method]
        if self.suppress_below is not None:
            body, note = _suppress_columns(body, frame, self._count_columns(), self.suppress_below)
            if note:
                footnotes.append(note)
        return Table(body, title=title or self.title, footnotes=footnotes, raw=frame)

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
            f"suppress_below must be None or an integer >= 2 (e.g. 5 hides counts 1-4), "
            f"got {k!r}."
        )
    return int(k)


def _suppress_columns(
    body: pd.DataFrame, frame: pd.DataFrame, columns: list[str], k: int
) -> tuple[pd.DataFrame, str]:
    """Hide small counts (and their derived estimates) in the display body.

    Counts in 1..k-1 print as ``<k``; secondary suppression (so that a hidden count cannot
    be recovered from the other rows and a column total) follows
    :func:`calcstats.tables.suppression_mask`. Estimates and intervals of a row with a
    hidden count print as ``*``.
    """
    from calcstats.tables import suppression_mask

    present = [c for c in columns if c in frame.columns]
    if not present:
        return body, ""
    counts = frame[present].to_numpy(dtype=float).round().astype(np.int64)
    mask = np.asarray(suppression_mask(counts, k), dtype=bool)
    if not mask.any():
        return body, ""
    body = body.copy()
    rows_hidden = mask.any(axis=1)
    for j, col in enumerate(present):
        disp = _display_name(col)
        for i in np.flatnonzero(mask[:, j]):
            body.iloc[i, body.columns.get_loc(disp)] = (
                f"<{k}" if 1 <= counts[i, j] < k else "*"
            )
    count_disp = {_display_name(c) for c in present}
    label_cols = set(body.columns[: body.attrs.get("n_label_columns", 1)])
    for i in np.flatnonzero(rows_hidden):
        for col in body.columns:
            if col in count_disp or col in label_cols:
                continue
            body.iloc[i, body.columns.get_loc(col)] = "*"
    note = (
        f"Counts of 1–{k - 1} are shown as <{k}; further cells marked * are hidden so that "
        "suppressed counts cannot be recovered from totals."
    )
    return body, note


DISPLAY_NAMES = {
    "n": "N",
    "cases": "Cases",
    "events": "Events",
    "person_time": "Person-time",
}


def _display_name(col: str) -> str:
    return DISPLAY_NAMES.get(col, col)
