"""Where ``table_one``'s numbers come from: the rows of a DataFrame, or an engine table.

``table_one`` reads its data at a few points only, listed by :class:`TableOneData`: the
column names, the weights (checked, zero weights set aside), the ``by`` column's checks
and levels, the values :func:`~calcstats.describe._table_one_checks.classify` looks at,
the group sizes, the summaries of a continuous variable (n, missing, mean, SD; median and
quartiles for nonnormal ones; its test), and the counts of a categorical variable per
level and group. :class:`FrameData` answers them from a DataFrame with ``np.bincount``
over group codes; :class:`~calcstats.describe._table_one_engine.EngineData` answers them
from an engine table by aggregate queries. Everything else (which rows, tests, SMDs,
footnotes, the layout) is one code path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from calcstats._errors import DataError
from calcstats._validation import check_weights, require_columns
from calcstats.describe._checks import check_empty_levels, check_frame, check_no_missing
from calcstats.describe._table_one_checks import (
    Var,
    check_finite,
    numbers_from_text,
    sort_key,
)
from calcstats.describe._table_one_stats import continuous_summary, continuous_test

__all__ = ["FrameData", "TableOneData"]

#: Per group (or overall): n, missing, mean, sd, var, wsum (median, q1, q3)
Summary = dict[str, np.ndarray]


class TableOneData(Protocol):
    """What ``table_one`` reads of its data (see the module notes)."""

    @property
    def columns(self) -> list[str]: ...

    def shape(self) -> pd.DataFrame:
        """A frame with the data's columns (for column checks and labels)."""
        ...

    def use_weights(self, weights: str | None) -> int:
        """Check ``weights``, set aside the rows of weight 0 and count them."""
        ...

    def check_by(self, by: str) -> None:
        """No missing values and (Categoricals) no level without rows."""
        ...

    def numbers_from_text(self, variables: Sequence[str], categorical: set[str]) -> None:
        """Numbers held as text become numbers; numbers with stray text are an error."""
        ...

    def standin(self, variables: Sequence[str]) -> pd.DataFrame:
        """A frame :func:`classify` reads the variables' kinds and levels from."""
        ...

    def group_levels(self, by: str) -> list[Any]:
        """The levels of ``by``: a Categorical's categories, else sorted."""
        ...

    def set_groups(self, by: str | None, levels: list[Any]) -> None:
        """Group the rows by ``levels`` of ``by`` (display order; None: one group)."""
        ...

    def group_sizes(self) -> np.ndarray:
        """The (weighted) rows of each group."""
        ...

    def continuous(
        self, name: str, nonnormal: bool, use_p: bool
    ) -> tuple[Summary, Summary, bool, float, str]:
        """Per-group and overall summaries, whether the variable is constant, and the
        p-value and key of its test (NaN, "" without)."""
        ...

    def categorical(self, spec: Var) -> tuple[np.ndarray, np.ndarray]:
        """The (weighted) count of each level (levels × groups) and the missing per
        group."""
        ...


class FrameData:
    """``table_one``'s data access on a DataFrame.

    Examples
    --------
    >>> df = pd.DataFrame({"age": [50.0, 61, 47, 70], "calc": [1, 1, 0, 0]})
    >>> src = FrameData(df)
    >>> src.set_groups("calc", src.group_levels("calc"))
    >>> src.group_sizes().tolist(), src.continuous("age", False, True)[0]["mean"].tolist()
    ([2.0, 2.0], [58.5, 55.5])
    """

    def __init__(self, data: pd.DataFrame) -> None:
        self.data = check_frame(data, func="table_one")
        self.w: np.ndarray | None = None
        self.G = 1
        self.codes = np.zeros(len(self.data), dtype=np.int64)

    @property
    def columns(self) -> list[str]:
        return list(self.data.columns)

    def shape(self) -> pd.DataFrame:
        return self.data

    def use_weights(self, weights: str | None) -> int:
        if weights is None:
            return 0
        data = self.data
        require_columns(data, {"weights": weights}, function="table_one")
        check_no_missing(data, [weights], argument="weights")
        w = check_weights(data[weights], column=weights, function="table_one")
        zero = w == 0
        if zero.any():
            self.data, w = data.loc[~zero], w[~zero]
            self.codes = np.zeros(len(self.data), dtype=np.int64)
        self.w = w
        return int(zero.sum())

    def check_by(self, by: str) -> None:
        check_no_missing(self.data, [by], argument="by")
        check_empty_levels(self.data, [by], argument="by")

    def numbers_from_text(self, variables: Sequence[str], categorical: set[str]) -> None:
        self.data = numbers_from_text(self.data, variables, categorical)

    def standin(self, variables: Sequence[str]) -> pd.DataFrame:
        return self.data

    def group_levels(self, by: str) -> list[Any]:
        gs = self.data[by]
        if isinstance(gs.dtype, pd.CategoricalDtype):
            return list(gs.cat.categories)
        return sorted(pd.unique(gs), key=sort_key)

    def set_groups(self, by: str | None, levels: list[Any]) -> None:
        if by is None:
            self.G, self.codes = 1, np.zeros(len(self.data), dtype=np.int64)
            return
        codes = pd.Categorical(self.data[by], categories=levels).codes
        self.G, self.codes = max(len(levels), 1), codes.astype(np.int64)

    def group_sizes(self) -> np.ndarray:
        if self.w is not None:
            return np.bincount(self.codes, self.w, minlength=self.G)
        return np.bincount(self.codes, minlength=self.G).astype(float)

    def continuous(
        self, name: str, nonnormal: bool, use_p: bool
    ) -> tuple[Summary, Summary, bool, float, str]:
        s = self.data[name]
        x = (
            pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
            if not pd.api.types.is_numeric_dtype(s)
            else s.to_numpy(dtype=float, na_value=np.nan)
        )
        if (s.notna().to_numpy() & np.isnan(x)).any():
            raise DataError(f"variables: column {name!r} has non-numeric values.")
        check_finite(self.data, name, x)
        sg = continuous_summary(x, self.codes, self.G, self.w, nonnormal)
        so = continuous_summary(x, np.zeros(len(x), dtype=np.int64), 1, self.w, nonnormal)
        constant = so["n"][0] > 0 and np.nanmin(x) == np.nanmax(x)
        p, key = continuous_test(x, self.codes, sg, nonnormal) if use_p else (np.nan, "")
        return sg, so, bool(constant), p, key

    def categorical(self, spec: Var) -> tuple[np.ndarray, np.ndarray]:
        s = self.data[spec.name]
        if spec.kind == "binary":
            vals = (
                s.to_numpy(dtype=float, na_value=np.nan)
                if not pd.api.types.is_bool_dtype(s)
                else s.astype("float").to_numpy()
            )
            lc = np.where(np.isnan(vals), -1, vals).astype(np.int64)
        else:
            lc = pd.Categorical(s, categories=spec.levels).codes.astype(np.int64)
        L, G, w = len(spec.levels), self.G, self.w
        ok = lc >= 0
        cnt = (
            np.bincount(self.codes[ok] * L + lc[ok], None if w is None else w[ok], minlength=G * L)
            .reshape(G, L)
            .T
        )
        miss = np.bincount(self.codes[~ok], None if w is None else w[~ok], minlength=G)
        return cnt.astype(float), miss.astype(float)
