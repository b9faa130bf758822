"""Input checks shared by the descriptive estimators.

Column existence is :func:`calcstats._validation.require_columns` and time/event/cause
columns are :func:`calcstats._survival_input.survival_input` (the rules every survival
function shares); what is left here is specific to describing data: a non-empty frame,
binary outcomes, and grouping columns without missing values or empty levels. Every
failure raises a calcstats error that names the argument, the column, what was found and
how to fix it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from calcstats._errors import DataError, InvalidParameterError, SchemaError
from calcstats._validation import require_columns
from calcstats.engine._dispatch import no_engine_form
from calcstats.engine._table import EngineTable

__all__ = [
    "as_binary",
    "as_list",
    "check_empty_levels",
    "check_frame",
    "check_no_missing",
    "check_title",
    "empty_error",
    "empty_levels_error",
    "group_keys",
    "missing_error",
]


def check_frame(data: object, *, func: str) -> pd.DataFrame:
    """Return ``data`` if it is a non-empty DataFrame, else raise a clear error."""
    if isinstance(data, EngineTable):
        raise no_engine_form(func, data)
    if not isinstance(data, pd.DataFrame):
        raise SchemaError(
            f"{func}() expects a pandas DataFrame as its first argument, got "
            f"{type(data).__name__}; pass e.g. cohort.patient_table()."
        )
    if len(data) == 0:
        raise empty_error(func)
    return data


def check_title(title: object, *, func: str) -> None:
    """``title=`` of a table: a str or None (InvalidParameterError otherwise)."""
    if title is not None and not isinstance(title, str):
        raise InvalidParameterError(
            f"The 'title' parameter of {func} must be a str or None. Got {title!r}."
        )


def as_list(value: str | Sequence[str] | None) -> list[str]:
    """Normalise a column name or list of names (or None) to a list."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def missing_error(column: str, n_missing: int, *, argument: str) -> DataError:
    """The error of a key column (outcome, time, group) with missing values."""
    return DataError(
        f"{argument}: column {column!r} has {n_missing} missing value(s); rows with a missing "
        f"{argument} cannot be counted. Drop or impute them explicitly first, e.g. "
        f"data.dropna(subset=[{column!r}])."
    )


def empty_levels_error(column: str, empty: Sequence[object], *, argument: str) -> DataError:
    """The error of a Categorical grouping column with levels without rows."""
    return DataError(
        f"{argument}: column {column!r} has level(s) {[str(e) for e in empty]} with no "
        f"rows (empty group). Drop them with "
        f"data[{column!r}].cat.remove_unused_categories(), or merge levels."
    )


def empty_error(func: str) -> DataError:
    """The error of data without rows."""
    return DataError(f"{func}() received an empty DataFrame (0 rows); nothing to describe.")


def check_no_missing(data: pd.DataFrame, columns: Sequence[str], *, argument: str) -> None:
    """Raise a DataError when a key column (outcome, time, group) holds missing values."""
    for col in columns:
        n_miss = int(data[col].isna().sum())
        if n_miss:
            raise missing_error(col, n_miss, argument=argument)


def check_empty_levels(data: pd.DataFrame, columns: Sequence[str], *, argument: str) -> None:
    """Raise a DataError when a Categorical grouping column has a level without rows.

    The count, rate or ratio of an empty group is undefined, and leaving it out silently
    would hide it.
    """
    for col in columns:
        s = data[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            used = set(pd.unique(s.cat.codes))
            empty = [c for i, c in enumerate(s.cat.categories) if i not in used]
            if empty:
                raise empty_levels_error(col, empty, argument=argument)


def group_keys(
    data: pd.DataFrame, by: list[str], *, argument: str = "by", func: str
) -> pd.DataFrame:
    """Validate the grouping columns ``by`` and return them.

    A column that is absent is a SchemaError; missing values are a DataError, and so is
    an empty group (a Categorical level with no rows).
    """
    require_columns(data, {argument: by}, function=func)
    check_no_missing(data, by, argument=argument)
    check_empty_levels(data, by, argument=argument)
    return data[by]


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
