"""Shared helpers of the analysis tables: table checks, date arithmetic, key matching.

Text keys (``patient_id``, ``study_id``) are matched with one ``pandas.factorize`` pass
over both columns, which is several times faster than ``Index.get_indexer`` on text;
unique-value steps use sorting because ``np.unique`` of numpy 2.x takes a slow hash path
on large integer arrays.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import DataError, SchemaError

__all__ = [
    "NS_PER_DAY",
    "binary_to_int",
    "check_no_clash",
    "finding_study_positions",
    "get_table",
    "group_first",
    "index_days",
    "match_keys",
    "nanoseconds",
    "patient_positions",
    "segment_codes",
    "unique_inverse",
]

_REQUIRED = {
    "patients": ("patient_id", "index_date"),
    "imaging": ("study_id", "patient_id", "study_date", "modality"),
    "findings": ("finding_id", "study_id", "patient_id", "segment", "size_mm", "morphology"),
    "events": ("patient_id", "event", "event_date"),
}
_DATES = {"patients": ("index_date",), "imaging": ("study_date",), "events": ("event_date",)}

# Couinaud segment -> number (IVa/IVb collapse to IV); 5-8 right lobe, 2-4 left lobe.
_SEGMENT_CODE = {
    "I": 1,
    "II": 2,
    "III": 3,
    "IV": 4,
    "IVa": 4,
    "IVb": 4,
    "V": 5,
    "VI": 6,
    "VII": 7,
    "VIII": 8,
}
NS_PER_DAY = 86_400 * 10**9


# ----------------------------------------------------------------------------- helpers


def get_table(cohort: Any, name: str, extra: Iterable[str] = ()) -> pd.DataFrame:
    """Return ``cohort.<name>`` after checking it is a DataFrame with the needed columns."""
    table = getattr(cohort, name, None)
    if not isinstance(table, pd.DataFrame):
        raise SchemaError(
            f"the cohort has no {name} table (expected a pandas DataFrame as "
            f"cohort.{name}, got {type(table).__name__}); build the cohort with "
            "calcstats.read_cohort()."
        )
    needed = [*_REQUIRED[name], *extra]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise SchemaError(
            f"the {name} table lacks column(s) {', '.join(map(repr, missing))}; it has "
            f"{', '.join(map(repr, table.columns))}. Map your column names with "
            "read_cohort(column_map=...)."
        )
    for col in _DATES.get(name, ()):
        if not pd.api.types.is_datetime64_any_dtype(table[col]):
            raise SchemaError(
                f"{name}.{col} must hold dates (datetime64), found dtype {table[col].dtype}; "
                "read the tables with calcstats.read_cohort(), which parses dates strictly."
            )
    if name == "findings" and not (
        pd.api.types.is_numeric_dtype(table["size_mm"])
        and not pd.api.types.is_bool_dtype(table["size_mm"])
    ):
        raise SchemaError(
            f"findings.size_mm must be numeric (mm), found dtype {table['size_mm'].dtype}; "
            "read the tables with calcstats.read_cohort(), which converts it strictly."
        )
    return table


def nanoseconds(dates: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(int64 nanoseconds since the epoch, NaT mask)`` of a datetime column."""
    if isinstance(dates.dtype, pd.DatetimeTZDtype):
        dates = dates.dt.tz_convert("UTC").dt.tz_localize(None)
    values = dates.to_numpy(dtype="datetime64[ns]")
    return values.view("int64"), np.isnat(values)


def match_keys(
    keys: pd.Series,
    lookup: pd.Series,
    *,
    key_table: str,
    key: str,
    table: str,
    row_label: pd.Series | None = None,
) -> np.ndarray:
    """Position in ``keys`` (unique) of each value of ``lookup``; unknown values are an error.

    One hash pass over both columns (``pandas.factorize`` of their concatenation), several
    times faster than ``Index.get_indexer`` on text keys.
    """
    n = len(keys)
    both = pd.concat(
        [keys.reset_index(drop=True), lookup.reset_index(drop=True)], ignore_index=True
    )
    codes, uniques = pd.factorize(both)
    key_codes, look_codes = codes[:n], codes[n:]
    if (key_codes < 0).any():
        raise DataError(f"{key_table}.{key} has missing values; every row needs a {key}.")
    counts = np.bincount(key_codes, minlength=len(uniques))
    if n and counts.max() > 1:
        dup = pd.unique(np.asarray(uniques)[counts > 1])[:5].tolist()
        raise DataError(
            f"{key_table}.{key} must be unique; repeated: {dup}. Validate the cohort with "
            "calcstats.read_cohort()."
        )
    where = np.full(len(uniques) + 1, -1, dtype=np.int64)  # last slot: missing (code -1)
    where[key_codes] = np.arange(n)
    pos = where[look_codes]
    if (pos < 0).any():
        bad = pos < 0
        shown = (lookup if row_label is None else row_label).to_numpy()[bad][:5].tolist()
        label = f"{key} value(s)" if row_label is None else f"{row_label.name}"
        raise DataError(
            f"{int(bad.sum())} row(s) of {table} have a {key} that is not in the "
            f"{key_table} table (first {label}: {shown}); remove them or add the "
            f"missing {key_table} rows."
        )
    return pos


def patient_positions(patients: pd.DataFrame, ids: pd.Series, table: str) -> np.ndarray:
    """Position in ``patients`` of each patient id in ``ids``; unknown ids are an error."""
    return match_keys(
        patients["patient_id"], ids, key_table="patients", key="patient_id", table=table
    )


def index_days(patients: pd.DataFrame, column: str = "index_date") -> np.ndarray:
    """``patients[column]`` in int64 nanoseconds, refusing missing dates."""
    ns, nat = nanoseconds(patients[column])
    if nat.any():
        ids = patients["patient_id"].to_numpy()[nat][:5].tolist()
        raise DataError(
            f"patients.{column} is missing for {int(nat.sum())} patient(s), e.g. {ids}; "
            f"every patient needs a {column}."
        )
    return ns


def binary_to_int(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``frame`` with boolean columns as int64 0/1 (Int64 when values are missing)."""
    out = {}
    for name in frame.columns:
        col = frame[name]
        if pd.api.types.is_bool_dtype(col.dtype):
            col = col.astype("Int64") if col.isna().any() else col.astype("int64")
        out[name] = col
    result = pd.DataFrame(out, index=pd.RangeIndex(len(frame)))
    result.columns = frame.columns
    return result


def check_no_clash(patients: pd.DataFrame, names: Iterable[str], what: str) -> None:
    clash = [c for c in names if c in patients.columns]
    if clash:
        raise SchemaError(
            f"the patients table already has column(s) {', '.join(map(repr, clash))}, which "
            f"{what} computes; rename them (e.g. with read_cohort(column_map=...))."
        )


def finding_study_positions(imaging: pd.DataFrame, findings: pd.DataFrame) -> np.ndarray:
    return match_keys(
        imaging["study_id"],
        findings["study_id"],
        key_table="imaging",
        key="study_id",
        table="findings",
        row_label=findings["finding_id"],
    )


def segment_codes(segment: pd.Series) -> np.ndarray:
    """Couinaud number 1-8 (IVa/IVb → 4), other labels 100+, missing 0."""
    labels, uniques = pd.factorize(segment, sort=True)
    known = np.array([_SEGMENT_CODE.get(u, 0) for u in uniques], dtype=np.int64)
    other = np.flatnonzero(known == 0)
    known[other] = 100 + np.arange(len(other))
    codes = np.append(known, 0)[labels]  # label -1 (missing) -> 0
    return codes


def group_first(sorted_groups: np.ndarray) -> np.ndarray:
    """Mask of the first element of each run in an array sorted by group."""
    first = np.ones(len(sorted_groups), dtype=bool)
    first[1:] = sorted_groups[1:] != sorted_groups[:-1]
    return first


def unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique values and the inverse index (sort-based; ``np.unique`` of numpy 2.x
    takes a much slower hash path for large integer arrays)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    first = group_first(ordered)
    inverse = np.empty(len(values), dtype=np.int64)
    inverse[order] = np.cumsum(first) - 1
    return ordered[first], inverse
