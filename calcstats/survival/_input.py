"""Input checks and preparation shared by the curve estimators and the k-sample tests.

Every check names the column and the offending value and says how to fix it; nothing is
dropped silently.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from calcstats._errors import CalcstatsWarning, DataError, SchemaError

__all__ = ["SurvData", "as_names", "prepare"]


@dataclass
class SurvData:
    """Validated numpy arrays for one analysis.

    ``codes`` holds the raw integer event codes (0 = censored); ``group`` the 0-based
    group index (``groups`` the matching label rows) and ``stratum`` the 0-based stratum.
    """

    time: np.ndarray
    codes: np.ndarray
    group: np.ndarray
    groups: pd.DataFrame
    by: list[str]
    stratum: np.ndarray
    n_strata: int
    weights: np.ndarray | None
    time_column: str
    event_column: str

    @property
    def n_groups(self) -> int:
        return len(self.groups)


def as_names(value: str | Sequence[str] | None, what: str) -> list[str]:
    """Normalise ``by``/``strata`` to a list of column names."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    try:
        names = list(value)
    except TypeError:
        raise SchemaError(
            f"{what} must be a column name or a list of column names, got {value!r}."
        ) from None
    for name in names:
        if not isinstance(name, str):
            raise SchemaError(f"{what} must hold column names (str), got {name!r}.")
    return names


def _require_columns(data: pd.DataFrame, names: list[str]) -> None:
    missing = [c for c in names if c not in data.columns]
    if missing:
        shown = ", ".join(map(str, list(data.columns)[:20]))
        raise SchemaError(
            f"column(s) {', '.join(map(repr, missing))} not found in the data; "
            f"available columns: {shown}."
        )


def _row(data: pd.DataFrame, pos: int) -> str:
    """The index label of row ``pos``, as the user would type it (``0``, not ``np.int64(0)``)."""
    label = data.index[pos]
    if isinstance(label, tuple):
        label = tuple(x.item() if isinstance(x, np.generic) else x for x in label)
    elif isinstance(label, np.generic):
        label = label.item()
    return repr(label)


def _numeric(data: pd.DataFrame, column: str) -> np.ndarray:
    col = data[column]
    if pd.api.types.is_bool_dtype(col):
        col = col.astype(float)
    if not pd.api.types.is_numeric_dtype(col):
        raise SchemaError(
            f"column {column!r} must be numeric, found dtype {col.dtype}; convert it "
            "(e.g. pd.to_numeric) before the analysis."
        )
    values = col.to_numpy(dtype=float, na_value=np.nan)
    bad = np.flatnonzero(np.isnan(values))
    if bad.size:
        raise DataError(
            f"column {column!r} has {bad.size} missing value(s) (first at row "
            f"{_row(data, bad[0])}); drop or impute these rows before the analysis."
        )
    return values


def _time(data: pd.DataFrame, column: str) -> np.ndarray:
    t = _numeric(data, column)
    bad = np.flatnonzero(~np.isfinite(t))
    if bad.size:
        raise DataError(
            f"column {column!r} has {bad.size} infinite value(s) (first at row "
            f"{_row(data, bad[0])}); follow-up times must be finite."
        )
    bad = np.flatnonzero(t < 0)
    if bad.size:
        raise DataError(
            f"column {column!r} has {bad.size} negative time(s) (first: {float(t[bad[0]]):g} at "
            f"row {_row(data, bad[0])}); times count from the index date and must be >= 0."
        )
    return t


def _codes(data: pd.DataFrame, column: str) -> np.ndarray:
    e = _numeric(data, column)
    frac = np.flatnonzero((e != np.round(e)) | (e < 0))
    if frac.size:
        raise DataError(
            f"column {column!r} must hold 0 (censored) and positive integer event codes, "
            f"found {float(e[frac[0]]):g} at row {_row(data, frac[0])}."
        )
    return e.astype(np.int64)


def _factorize(data: pd.DataFrame, names: list[str], what: str) -> tuple[np.ndarray, pd.DataFrame]:
    """0-based codes of the level combinations of ``names`` (R's sorted factor order)."""
    n = len(data)
    if not names:
        return np.zeros(n, dtype=np.int64), pd.DataFrame(index=range(1))
    codes_list, levels_list = [], []
    for name in names:
        col = data[name]
        if col.isna().any():
            where = np.flatnonzero(col.isna().to_numpy())
            raise DataError(
                f"{what} column {name!r} has {where.size} missing value(s) (first at row "
                f"{_row(data, where[0])}); drop these rows or give them their own level."
            )
        try:
            codes, levels = pd.factorize(col, sort=True)
        except TypeError:
            raise SchemaError(
                f"{what} column {name!r} mixes value types that cannot be ordered (e.g. "
                "numbers and text); convert it to one type, e.g. .astype(str)."
            ) from None
        codes_list.append(codes.astype(np.int64))
        levels_list.append(np.asarray(levels))
    if len(names) == 1:
        used = np.unique(codes_list[0])
        remap = np.full(len(levels_list[0]), -1, dtype=np.int64)
        remap[used] = np.arange(used.size)
        labels = pd.DataFrame({names[0]: levels_list[0][used]})
        return remap[codes_list[0]], labels
    dims = tuple(len(lv) for lv in levels_list)
    flat = np.ravel_multi_index(tuple(codes_list), dims)
    uniq, inv = np.unique(flat, return_inverse=True)
    parts = np.unravel_index(uniq, dims)
    labels = pd.DataFrame({nm: lv[p] for nm, lv, p in zip(names, levels_list, parts, strict=True)})
    return inv.astype(np.int64), labels


def prepare(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    by: str | Sequence[str] | None = None,
    strata: str | Sequence[str] | None = None,
    weights: str | None = None,
) -> SurvData:
    """Validate the columns of a survival analysis and return them as arrays."""
    if not isinstance(data, pd.DataFrame):
        raise SchemaError(
            f"data must be a pandas DataFrame, got {type(data).__name__}; e.g. "
            "pd.read_csv(...) or cohort.survival_table(...)."
        )
    if not isinstance(time, str) or not isinstance(event, str):
        raise SchemaError("time and event must be column names (str).")
    by_names = as_names(by, "by")
    strata_names = as_names(strata, "strata")
    cols = [time, event, *by_names, *strata_names]
    if weights is not None:
        cols.append(weights)
    _require_columns(data, cols)
    if len(data) == 0:
        raise DataError("the data have no rows; nothing to analyse.")
    t = _time(data, time)
    codes = _codes(data, event)
    group, groups = _factorize(data, by_names, "by")
    stratum, strata_labels = _factorize(data, strata_names, "strata")
    w = None
    if weights is not None:
        w = _numeric(data, weights)
        bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
        if bad.size:
            raise DataError(
                f"weights column {weights!r} must be finite and >= 0, found {w[bad[0]]!r} at "
                f"row {_row(data, bad[0])}."
            )
    return SurvData(
        time=t,
        codes=codes,
        group=group,
        groups=groups.reset_index(drop=True),
        by=by_names,
        stratum=stratum,
        n_strata=len(strata_labels),
        weights=w,
        time_column=time,
        event_column=event,
    )


def event_indicator(sd: SurvData, cause: int | None) -> np.ndarray:
    """0/1 indicator of the event of interest (``cause`` code, or any 1 when cause is None)."""
    present = np.unique(sd.codes)
    if cause is None:
        extra = present[present > 1]
        if extra.size:
            raise DataError(
                f"column {sd.event_column!r} holds event codes {present.tolist()}; with more "
                "than one event type pass cause= (the code of the event of interest; other "
                "codes count as censored), or use cumulative_incidence for competing risks."
            )
        return (sd.codes == 1).astype(float)
    cause = check_cause(sd, cause)
    return (sd.codes == cause).astype(float)


def check_cause(sd: SurvData, cause: object) -> int:
    """Validate that ``cause`` is a positive integer code present in the event column."""
    present = np.unique(sd.codes)
    try:
        code = int(cause)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise DataError(f"cause must be an integer event code, got {cause!r}.") from None
    if code != cause or code < 1:
        raise DataError(f"cause must be a positive integer event code, got {cause!r}.")
    if code not in present:
        raise DataError(
            f"cause={code} does not occur in column {sd.event_column!r} (codes present: "
            f"{present.tolist()}); pick one of the event codes in the data."
        )
    return code


def warn_no_events(sd: SurvData, d: np.ndarray, what: str) -> None:
    """Warn (CalcstatsWarning) when no events, or when some group has none."""
    if not np.any(d > 0):
        warnings.warn(
            f"no events in column {sd.event_column!r} ({what}): every observation is "
            "censored, so the curve stays at its starting value.",
            CalcstatsWarning,
            stacklevel=3,
        )
        return
    if sd.n_groups > 1:
        ev = np.bincount(sd.group, weights=d, minlength=sd.n_groups)
        for gi in np.flatnonzero(ev == 0):
            label = ", ".join(f"{k}={v!r}" for k, v in sd.groups.iloc[gi].items())
            warnings.warn(
                f"group {label} has no events in column {sd.event_column!r} ({what}).",
                CalcstatsWarning,
                stacklevel=3,
            )
