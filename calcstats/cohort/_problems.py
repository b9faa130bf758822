"""Building the ``problems`` table of :class:`CohortValidationError` (vectorised)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import PROBLEM_COLUMNS

__all__ = ["empty_problems", "problem_frame"]


def empty_problems() -> pd.DataFrame:
    """A problems table with no rows and the canonical columns."""
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in PROBLEM_COLUMNS})


def _text(values: Any, n: int) -> np.ndarray:
    """Values as display text (None for missing), length ``n``."""
    if values is None:
        return np.full(n, None, dtype=object)
    if np.asarray(values).dtype.kind == "M":
        dates = pd.Series(np.asarray(values, dtype="datetime64[ns]"))
        return dates.dt.strftime("%Y-%m-%d").astype(object).where(dates.notna(), None).to_numpy()
    if np.ndim(values) == 0:
        values = np.full(n, values, dtype=object)
    arr = pd.Series(
        np.asarray(values, dtype=object)
        if not isinstance(values, pd.Series)
        else values.to_numpy(dtype=object)
    )
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
    what: str | np.ndarray,
    fix: str | np.ndarray,
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
        f"{table} row {r}"
        + (f" (patient {p})" if p is not None else "")
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


def relocate(
    problems: pd.DataFrame,
    *,
    patient_ids: list[str | None],
    via: list[str | None],
    where: list[str | None],
) -> pd.DataFrame:
    """Problems with a patient found through a key and the file location added.

    ``patient_ids[i]`` (when not None) fills in the patient of problem ``i`` whose own
    patient_id was blank, ``via[i]`` says how it was found (``"found through study_id s4"``)
    and ``where[i]`` where the row is in its file (``"line 17 of patients.csv"``); the
    message's opening ``"<table> row <r> (patient <p>)"`` is rewritten to hold them.

    Examples
    --------
    >>> p = problem_frame("findings", [3], [None], "patient_id", [None], "missing_value",
    ...                   "is blank", "fill it in")
    >>> q = relocate(p, patient_ids=["P3"], via=["found through study_id s4"],
    ...              where=["line 5 of findings.csv"])
    >>> q["message"].item().split(": ")[0]
    'findings row 3, line 5 of findings.csv (patient P3, found through study_id s4)'
    """
    out = problems.copy()
    pids = out["patient_id"].to_numpy(dtype=object).copy()
    messages = out["message"].to_numpy(dtype=object).copy()
    for i, (table, row) in enumerate(zip(out["table"], out["row"], strict=True)):
        if pd.isna(row) or (patient_ids[i] is None and where[i] is None):
            continue
        own = None if pd.isna(pids[i]) else pids[i]
        old = f"{table} row {row}" + (f" (patient {own})" if own is not None else "")
        if not str(messages[i]).startswith(old):
            continue
        pid = patient_ids[i] if patient_ids[i] is not None else own
        new = f"{table} row {row}" + (f", {where[i]}" if where[i] else "")
        if pid is not None:
            new += f" (patient {pid}" + (f", {via[i]}" if via[i] else "") + ")"
        messages[i] = new + messages[i][len(old) :]
        pids[i] = pid
    out["patient_id"] = pids
    out["message"] = messages
    return out
