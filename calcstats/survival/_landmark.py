"""Landmark data sets: condition on being event-free (and followed) at a landmark time."""

from __future__ import annotations

import numpy as np
import pandas as pd

from calcstats._errors import DataError
from calcstats.survival._model_input import check_columns, time_values

__all__ = ["landmark"]


def landmark(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    at: float,
    start: str | None = None,
) -> pd.DataFrame:
    """Rows still event-free and under follow-up at the landmark ``at``, time reset to it.

    A subject whose follow-up ends at or before ``at`` (event or censoring) is left out;
    for the others the time is measured from the landmark (``time - at``). With
    (start, stop] data (``start``), intervals ending at or before ``at`` are dropped and an
    interval straddling ``at`` starts at the landmark. Covariates should be those known
    at ``at`` (e.g. a calcification seen on imaging before the landmark).

    The number of rows left out is recorded, never silent: the returned frame's
    ``attrs["landmark"]`` holds ``at``, ``n_in``, ``n_excluded``, ``n_events_before``.

    Parameters
    ----------
    data : pandas.DataFrame
    time : str
        Follow-up (stop) time column.
    event : str
        Event column (0 = censored); only used to count events before the landmark.
    at : float
        Landmark time, in the units of ``time``.
    start : str, optional
        Interval start column of counting-process data.

    Returns
    -------
    pandas.DataFrame
        A copy with ``time`` (and ``start``) shifted so that the landmark is time 0.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"time": [1.0, 3.0, 5.0], "status": [1, 0, 1]})
    >>> landmark(d, time="time", event="status", at=2.0)["time"].tolist()
    [1.0, 3.0]
    """
    check_columns(data, [time, event, *([start] if start else [])])
    try:
        s = float(at)
    except (TypeError, ValueError):
        raise DataError(f"at must be a number (the landmark time), got {at!r}.") from None
    if not np.isfinite(s) or s < 0:
        raise DataError(f"at must be a finite time >= 0, got {at!r}.")
    t = time_values(data, time)
    keep = t > s
    ev = pd.to_numeric(data[event], errors="coerce").to_numpy(dtype=float)
    n_ev_before = int(np.sum((~keep) & (ev > 0)))
    out = data.loc[keep].copy()
    out[time] = t[keep] - s
    if start:
        st = time_values(data, start, what="start")[keep]
        out[start] = np.maximum(st, s) - s
    if len(out) == 0:
        raise DataError(
            f"no {'interval' if start else 'subject'} of the data is followed beyond the "
            f"landmark at={s:g} (largest {time} is {t.max():g}); choose an earlier landmark."
        )
    out.attrs["landmark"] = {"at": s, "n_in": int(keep.sum()),
                             "n_excluded": int((~keep).sum()), "n_events_before": n_ev_before}
    return out
