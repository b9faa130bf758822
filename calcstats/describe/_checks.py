"""Input checks shared by the descriptive estimators.

Every failure raises a calcstats error that names the argument, the column, what was
found and how to fix it.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from calcstats._errors import DataError, SchemaError

__all__ = [
    "as_binary",
    "as_list",
    "check_columns",
    "check_frame",
    "check_no_missing",
    "check_time",
    "event_indicator",
]


def _row_label(data: pd.DataFrame, pos: int) -> str:
    """The index label of row ``pos`` as typed (``0``, not ``np.int64(0)``)."""
    label = data.index[pos]
    if isinstance(label, tuple):
        label = tuple(x.item() if isinstance(x, np.generic) else x for x in label)
    elif isinstance(label, np.generic):
        label = label.item()
    return repr(label)


def check_frame(data: object, *, func: str) -> pd.DataFrame:
    """Return ``data`` if it is a non-empty DataFrame, else raise a clear error."""
    if not isinstance(data, pd.DataFrame):
        raise SchemaError(
            f"{func}() expects a pandas DataFrame as its first argument, got "
            f"{type(data).__name__}; pass e.g. cohort.patient_table()."
        )
    if len(data) == 0:
        raise DataError(f"{func}() received an empty DataFrame (0 rows); nothing to describe.")
    return data


def as_list(value: str | Sequence[str] | None) -> list[str]:
    """Normalise a column name or list of names (or None) to a list."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def check_columns(data: pd.DataFrame, columns: Sequence[str], *, argument: str) -> None:
    """Raise a SchemaError naming close matches when a column is absent."""
    for col in columns:
        if not isinstance(col, str) and col not in data.columns:
            raise SchemaError(f"{argument}={col!r} is not a column name (a string).")
        if col not in data.columns:
            close = difflib.get_close_matches(str(col), [str(c) for c in data.columns], n=3)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise SchemaError(
                f"{argument}={col!r}: no column {col!r} in the data.{hint} "
                f"Available columns: {', '.join(map(str, data.columns[:20]))}"
                f"{' ...' if len(data.columns) > 20 else ''}."
            )


def check_no_missing(data: pd.DataFrame, columns: Sequence[str], *, argument: str) -> None:
    """Raise a DataError when a key column (outcome, time, group) holds missing values."""
    for col in columns:
        n_miss = int(data[col].isna().sum())
        if n_miss:
            raise DataError(
                f"{argument}: column {col!r} has {n_miss} missing value(s); rows with a missing "
                f"{argument} cannot be counted. Drop or impute them explicitly first, e.g. "
                f"data.dropna(subset=[{col!r}])."
            )


def as_binary(data: pd.DataFrame, column: str, *, argument: str) -> np.ndarray:
    """Return a 0/1 int array from a 0/1 (int, float, bool) column; error otherwise."""
    s = data[column]
    check_no_missing(data, [column], argument=argument)
    if pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=np.int64)
    if pd.api.types.is_numeric_dtype(s):
        values = s.to_numpy(dtype=float)
        bad = ~np.isin(values, (0.0, 1.0))
        if bad.any():
            found = pd.unique(values[bad])[:5]
            raise DataError(
                f"{argument}={column!r} must be binary (0/1 or bool); found value(s) "
                f"{', '.join(repr(v) for v in found.tolist())}. Recode it, e.g. "
                f"(data[{column!r}] == <level>).astype(int)."
            )
        return values.astype(np.int64)
    found = pd.unique(s)[:5]
    raise DataError(
        f"{argument}={column!r} must be binary (0/1 or bool), but it has dtype {s.dtype} with "
        f"values such as {', '.join(repr(v) for v in found)}. Recode it, e.g. "
        f"(data[{column!r}] == <level>).astype(int)."
    )


def check_time(data: pd.DataFrame, column: str, *, argument: str = "time") -> np.ndarray:
    """Return follow-up times as float; error on missing, non-numeric or negative values."""
    s = data[column]
    check_no_missing(data, [column], argument=argument)
    if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        raise DataError(
            f"{argument}={column!r} must be numeric person-time (e.g. years), got dtype "
            f"{s.dtype}. Convert dates to durations first, e.g. with cohort.survival_table()."
        )
    t = s.to_numpy(dtype=float)
    neg = np.flatnonzero(t < 0)
    if neg.size:
        raise DataError(
            f"{argument}={column!r} has {neg.size} negative value(s) (first at row "
            f"{_row_label(data, neg[0])}: {float(t[neg[0]]):g}); person-time cannot be "
            "negative. Check the start/end dates of those rows."
        )
    if not np.isfinite(t).all():
        raise DataError(f"{argument}={column!r} has infinite values; person-time must be finite.")
    return t


def event_indicator(
    data: pd.DataFrame, column: str, *, cause: int | None, argument: str = "event"
) -> tuple[np.ndarray, int | None]:
    """Return a 0/1 event array and the cause used.

    ``event`` may be 0/1 (or bool) for one outcome, or integer codes 0 = censored,
    1..k = cause k. With codes above 1 the event of interest is ``cause`` (default 1);
    other causes count as censored (cause-specific).
    """
    s = data[column]
    check_no_missing(data, [column], argument=argument)
    if pd.api.types.is_bool_dtype(s):
        if cause not in (None, 1):
            raise DataError(f"cause={cause!r} given, but {argument}={column!r} is boolean.")
        return s.to_numpy(dtype=np.int64), None
    if not pd.api.types.is_numeric_dtype(s):
        raise DataError(
            f"{argument}={column!r} must hold 0/1 or integer codes (0 = censored, 1..k = cause), "
            f"got dtype {s.dtype}."
        )
    v = s.to_numpy(dtype=float)
    if (v < 0).any() or (v != np.round(v)).any():
        bad = pd.unique(v[(v < 0) | (v != np.round(v))])[:5]
        raise DataError(
            f"{argument}={column!r} must hold 0/1 or integer codes (0 = censored, 1..k = "
            f"cause k); found {', '.join(repr(b) for b in bad.tolist())}."
        )
    codes = v.astype(np.int64)
    if cause is None:
        if codes.max(initial=0) > 1:
            cause = 1
        else:
            return codes, None
    if not isinstance(cause, (int, np.integer)) or cause < 1:
        raise DataError(f"cause must be a positive integer event code, got {cause!r}.")
    if not (codes == cause).any():
        present = sorted(set(codes.tolist()) - {0})
        raise DataError(
            f"cause={cause!r}: no row of {argument}={column!r} has that code; codes present: "
            f"{present}."
        )
    return (codes == cause).astype(np.int64), int(cause)
