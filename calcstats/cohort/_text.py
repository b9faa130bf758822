"""One representation for every pandas text dtype, and blank-means-missing.

pandas holds text as ``object``, ``string`` (python or pyarrow storage, and pandas 3's
default ``str``), ``category`` or Arrow-backed (``ArrowDtype(pa.string())``) columns.
:func:`plain` turns all of these into ``object`` columns of ``str`` with ``None`` for
missing, so that every later step (surrounding whitespace stripped, blank text = missing,
vocabularies, ids, dates) treats them exactly as it treats an ``object`` column.
Arrow-backed dates and timestamps become Python date/time objects (read as native dates),
Arrow-backed numbers become float64 (NaN for missing) and Arrow-backed booleans become
``object`` True/False/None; numpy and pandas nullable numeric columns are left as they are.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["arrow_text", "blank", "blank_codes", "plain"]


def _as_object(s: pd.Series) -> pd.Series:
    """``object`` values with ``None`` (not NaN/NA) for missing."""
    vals = (
        s.to_numpy(dtype=object, na_value=None)
        if not isinstance(s.dtype, pd.CategoricalDtype)
        else s.astype(object).to_numpy()
    )
    out = np.asarray(vals, dtype=object).copy()
    out[pd.isna(out)] = None
    return pd.Series(out, index=s.index, dtype=object, name=s.name)


def plain(s: pd.Series) -> pd.Series:
    """``s`` with text in an ``object`` column, whatever pandas dtype held it.

    Examples
    --------
    >>> s = pd.Series([" P1 ", None, "  "], dtype="string")
    >>> plain(s).tolist()
    [' P1 ', None, '  ']
    >>> plain(pd.Series(["F", None], dtype="category")).tolist()
    ['F', None]
    """
    dt = s.dtype
    if isinstance(dt, pd.CategoricalDtype | pd.StringDtype):
        return _as_object(s)
    if isinstance(dt, pd.ArrowDtype):
        t = dt.pyarrow_dtype
        if pa.types.is_integer(t) or pa.types.is_floating(t):
            return pd.Series(s.to_numpy(dtype=float, na_value=np.nan), index=s.index, name=s.name)
        return _as_object(s)  # text, booleans, dates, timestamps, decimals, ...
    return s


def arrow_text(s: pd.Series) -> pa.Array | None:
    """The column as a pyarrow string array when every value is text or missing."""
    if s.dtype != object:
        return None
    try:
        return pa.array(s.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None


def blank(s: pd.Series) -> np.ndarray:
    """Missing values: NA, or text that is empty after stripping (any text dtype)."""
    s = plain(s)
    miss = s.isna().to_numpy()
    if s.dtype == object:
        arr = arrow_text(s)
        if arr is not None:
            empty = pc.fill_null(pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(arr)), 0), False)
            return miss | empty.to_numpy(zero_copy_only=False)
        codes, uniques = pd.factorize(s)
        ublank = np.array([isinstance(u, str) and not u.strip() for u in uniques], dtype=bool)
        if len(uniques):
            miss = miss | ((codes >= 0) & ublank[np.maximum(codes, 0)])
    return miss


def blank_codes(codes: np.ndarray, uniques: Iterable[object]) -> np.ndarray:
    """Missing values from a factorization: NA (code -1) or blank text."""
    ublank = np.array([isinstance(u, str) and not u.strip() for u in uniques] + [True], dtype=bool)
    return ublank[np.where(codes >= 0, codes, len(ublank) - 1)]
