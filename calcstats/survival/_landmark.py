"""Landmark data sets: condition on being event-free (and followed) at a landmark time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from calcstats._errors import DataError
from calcstats._survival_input import survival_input
from calcstats._validation import COLUMN, NONE, Interval, validate_params

__all__ = ["LandmarkData", "landmark"]


@dataclass(frozen=True, repr=False)
class LandmarkData:
    """The rows of a landmark analysis and those left out (as :meth:`Cohort.at_risk`).

    Attributes
    ----------
    table : pandas.DataFrame
        The rows still event-free and under follow-up at the landmark, with ``time``
        (and ``start``) measured from the landmark; the original index labels are kept.
    excluded : pandas.DataFrame
        One row per input row left out: its index label (``row``), ``time``, ``event``
        and ``reason`` (``"event at or before the landmark"``, ``"censored at or before
        the landmark"``, or ``"interval ends at or before the landmark"`` for (start,
        stop] data).
    at : float
        The landmark time, in the units of ``time``.
    """

    table: pd.DataFrame
    excluded: pd.DataFrame
    at: float

    @property
    def n_in(self) -> int:
        """Rows kept."""
        return len(self.table)

    @property
    def n_excluded(self) -> int:
        """Rows left out."""
        return len(self.excluded)

    @property
    def n_events_before(self) -> int:
        """Rows left out because their event happened at or before the landmark."""
        return int((self.excluded["reason"] == _EVENT).sum())

    def __repr__(self) -> str:
        return (
            f"LandmarkData(at={self.at:g}: {self.n_in} rows kept, {self.n_excluded} left out "
            f"({self.n_events_before} with an event at or before the landmark))"
        )


_EVENT = "event at or before the landmark"


@validate_params(
    {
        "time": [COLUMN],
        "event": [COLUMN],
        "at": [Interval(0, None)],
        "start": [COLUMN, NONE],
    }
)
def landmark(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    at: float,
    start: str | None = None,
) -> LandmarkData:
    """Rows still event-free and under follow-up at the landmark ``at``, time reset to it.

    A subject whose follow-up ends at or before ``at`` (event or censoring) is left out;
    for the others the time is measured from the landmark (``time - at``). With
    (start, stop] data (``start``), intervals ending at or before ``at`` are dropped and an
    interval straddling ``at`` starts at the landmark. Covariates should be those known
    at ``at`` (e.g. a calcification seen on imaging before the landmark).

    Nothing is left out silently: the rows left out, and why, are in the returned
    record's ``excluded`` table.

    Parameters
    ----------
    data : pandas.DataFrame
    time : str
        Follow-up (stop) time column.
    event : str
        Event column (0 = censored, 1..k = event codes); it only decides the reason a
        row is left out.
    at : float
        Landmark time, in the units of ``time``.
    start : str, optional
        Interval start column of counting-process data.

    Returns
    -------
    LandmarkData
        ``table`` (the landmark data set, a copy with ``time`` and ``start`` shifted so
        that the landmark is time 0), ``excluded`` (the rows left out, with the reason),
        ``at``, and the counts ``n_in``, ``n_excluded``, ``n_events_before``.

    Examples
    --------
    >>> import pandas as pd
    >>> import calcstats as cs
    >>> d = pd.DataFrame({"time": [1.0, 3.0, 5.0], "status": [1, 0, 1]})
    >>> lm = cs.landmark(d, time="time", event="status", at=2.0)
    >>> lm
    LandmarkData(at=2: 2 rows kept, 1 left out (1 with an event at or before the landmark))
    >>> lm.table["time"].tolist(), lm.excluded["reason"].tolist()
    ([1.0, 3.0], ['event at or before the landmark'])
    """
    s = float(at)
    if not np.isfinite(s):
        raise DataError(f"landmark(): at must be a finite time >= 0, got {at!r}.")
    si = survival_input(
        data, time=time, event=event, start=start, competing=True, function="landmark"
    )
    t = si.time
    keep = t > s
    if not keep.any():
        raise DataError(
            f"landmark(): no {'interval' if start else 'subject'} of the data is followed "
            f"beyond the landmark at={s:g} (largest {time} is {t.max():g}); choose an "
            "earlier landmark."
        )
    out = data.loc[keep].copy()
    out[time] = t[keep] - s
    if start is not None and si.start is not None:
        out[start] = np.maximum(si.start[keep], s) - s
    gone = ~keep
    late = (
        "interval ends at or before the landmark" if start else "censored at or before the landmark"
    )
    reason = np.where(si.codes[gone] > 0, _EVENT, late)
    excluded = pd.DataFrame(
        {
            "row": data.index[gone],
            "time": t[gone],
            "event": si.codes[gone],
            "reason": reason,
        }
    )
    return LandmarkData(table=out, excluded=excluded.reset_index(drop=True), at=s)
