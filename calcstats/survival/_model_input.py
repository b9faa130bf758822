"""Checks and codes the outcome columns of the survival regression models."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from calcstats._errors import DataError, SchemaError

__all__ = ["as_list", "check_columns", "event_codes", "group_codes", "time_values"]


def as_list(cols: str | Sequence[str] | None) -> list[str]:
    if cols is None:
        return []
    if isinstance(cols, str):
        return [cols]
    return list(cols)


def check_columns(data: pd.DataFrame, cols: Sequence[str], *, table: str = "data") -> None:
    """Raise SchemaError naming any column of ``cols`` that ``data`` lacks."""
    if not isinstance(data, pd.DataFrame):
        raise SchemaError(f"{table} must be a pandas DataFrame, got {type(data).__name__}.")
    missing = [c for c in cols if c not in data.columns]
    if missing:
        import difflib

        hints = []
        for c in missing:
            close = difflib.get_close_matches(str(c), [str(x) for x in data.columns], n=2)
            hints.append(f"{c!r}" + (f" (did you mean {', '.join(map(repr, close))}?)"
                                     if close else ""))
        raise SchemaError(f"{table} has no column {', '.join(hints)}.")


def time_values(data: pd.DataFrame, col: str, *, what: str = "time") -> np.ndarray:
    """A finite, non-negative float array from a time column."""
    s = data[col]
    if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        raise SchemaError(
            f"{what} column {col!r} must be numeric (e.g. years from index), found dtype "
            f"{s.dtype}."
        )
    v = s.to_numpy(dtype=float)
    bad = ~np.isfinite(v)
    if bad.any():
        raise DataError(f"{what} column {col!r} has {int(bad.sum())} infinite value(s).")
    neg = v < 0
    if neg.any():
        first = data.index[np.flatnonzero(neg)[:3]].tolist()
        raise DataError(
            f"{what} column {col!r} has {int(neg.sum())} negative value(s) (rows {first}); "
            "follow-up times must be >= 0 — check the dates the times were computed from."
        )
    return v


def event_codes(data: pd.DataFrame, col: str, cause: int | None) -> np.ndarray:
    """Boolean event indicator: ``event == cause`` (cause-specific) or a 0/1 event."""
    s = data[col]
    if pd.api.types.is_bool_dtype(s):
        v = s.to_numpy(dtype=float)
    elif pd.api.types.is_numeric_dtype(s):
        v = s.to_numpy(dtype=float)
    else:
        raise SchemaError(
            f"event column {col!r} must hold 0/1 (or True/False) or integer cause codes "
            f"0 = censored, 1..k = cause k; found dtype {s.dtype}."
        )
    codes = np.unique(v)
    if np.any(codes < 0) or np.any(codes != np.round(codes)):
        raise DataError(
            f"event column {col!r} holds {codes[(codes < 0) | (codes != np.round(codes))][:5]}; "
            "use 0 = censored and 1..k for the causes."
        )
    if cause is None:
        if np.any(codes > 1):
            raise DataError(
                f"event column {col!r} has codes {sorted(int(c) for c in codes)}: more than "
                "one event type. Give cause= (e.g. cause=1) for a cause-specific model; the "
                "other codes then count as censored."
            )
        return v == 1
    if cause not in codes:
        raise DataError(
            f"cause={cause!r} does not occur in event column {col!r} (codes present: "
            f"{sorted(int(c) for c in codes)})."
        )
    if cause == 0:
        raise DataError("cause=0 is the censoring code; give the code of an event (1..k).")
    return v == cause


def group_codes(data: pd.DataFrame, cols: Sequence[str]) -> tuple[np.ndarray, list]:
    """Integer codes 0..g-1 of the combinations of ``cols`` and their labels."""
    if len(cols) == 1:
        codes, uniq = pd.factorize(data[cols[0]], sort=True)
        return codes.astype(np.int64), list(uniq)
    # observed=True: only present combinations (and no pandas FutureWarning); the labels
    # come from each code's first row, so they match the codes whatever the sort order
    # (Categoricals sort by category order, not alphabetically)
    grp = data.groupby(list(cols), sort=True, dropna=False, observed=True).ngroup().to_numpy()
    _, first = np.unique(grp, return_index=True)
    labels = list(data[list(cols)].iloc[first].itertuples(index=False, name=None))
    return grp.astype(np.int64), labels
