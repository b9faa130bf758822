"""Building the ``problems`` table of :class:`CohortValidationError` (vectorised)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from calcstats._errors import PROBLEM_COLUMNS

__all__ = ["empty_problems", "problem_frame"]


def empty_problems() -> pd.DataFrame:
    """A problems table with no rows and the canonical columns."""
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in PROBLEM_COLUMNS})


def _text(values: object, n: int) -> np.ndarray:
    """Values as display text (None for missing), length ``n``."""
    if values is None:
        return np.full(n, None, dtype=object)
    if np.asarray(values).dtype.kind == "M":
        dates = pd.Series(np.asarray(values, dtype="datetime64[ns]"))
        return dates.dt.strftime("%Y-%m-%d").astype(object).where(dates.notna(), None).to_numpy()
    if np.ndim(values) == 0:
        values = np.full(n, values, dtype=object)
    arr = pd.Series(np.asarray(values, dtype=object) if not isinstance(values, pd.Series)
                    else values.to_numpy(dtype=object))
    out = arr.astype(object).where(arr.notna(), None)
    res = np.empty(n, dtype=object)
    for i, v in enumerate(out.to_numpy()):
        if v is None:
            res[i] = None
        elif isinstance(v, pd.Timestamp):
            res[i] = v.strftime("%Y-%m-%d") if v == v.normalize() else str(v)
        else:
            res[i] = str(v)
    return res


def problem_frame(
    table: str,
    rows: object,
    patient_ids: object,
    column: str | None,
    values: object,
    rule: str,
    what: str,
    fix: str,
) -> pd.DataFrame:
    """One problem per row, each message naming table, row, patient, column, value, fix.

    ``what`` describes the problem after the value (e.g. ``"is not a date"``); ``fix``
    says how to repair it. ``what`` and ``fix`` may be strings or arrays (one per row).
    """
    rows_arr = np.asarray(rows, dtype=np.int64) if rows is not None else None
    n = len(rows_arr) if rows_arr is not None else 1
    if n == 0:
        return empty_problems()
    pids = _text(patient_ids, n)
    vals = _text(values, n)
    whats = np.broadcast_to(np.asarray(what, dtype=object), (n,))
    fixes = np.broadcast_to(np.asarray(fix, dtype=object), (n,))
    row_list = rows_arr.tolist() if rows_arr is not None else [None]
    col_txt = column if column is not None else "(table)"
    messages = [
        f"{table} row {r}" + (f" (patient {p})" if p is not None else "")
        + f": {col_txt} = {v!r} {w}. Fix: {f}"
        if r is not None
        else f"{table}: {w}. Fix: {f}"
        for r, p, v, w, f in zip(row_list, pids, vals, whats, fixes, strict=True)
    ]
    return pd.DataFrame(
        {
            "table": np.full(n, table, dtype=object),
            "row": pd.array(row_list, dtype="Int64"),
            "patient_id": pids,
            "column": np.full(n, column, dtype=object),
            "value": vals,
            "rule": np.full(n, rule, dtype=object),
            "message": messages,
        }
    )
