"""Input rules shared by every estimator: case weights (and, below, the others).

Case weights — one rule everywhere
----------------------------------
``weights=`` names a column of case weights in ``cox``, ``fine_gray``, the GLMs,
``kaplan_meier``, ``cumulative_incidence``, ``rmst`` and ``table_one``. Everywhere:

* a weight must be a finite number ≥ 0; a negative or infinite weight is an error that
  names the rows;
* a missing weight is a missing value like any other: the row is dropped with a
  :class:`~calcstats.DataWarning` that counts it (models) or an error (descriptive
  functions, which never drop rows);
* a **zero weight** means the row contributes nothing. It is set aside before estimation
  (so it never enters a risk set, a count or a degree of freedom), and the number set aside
  is reported (``glance()["n_zero_weight"]`` for models). ``n`` / ``nobs`` count the rows
  with a positive weight — as R's ``glm`` (``nobs``), where R's ``coxph`` refuses zero
  weights and ``survfit`` counts them in ``n``;
* at least one weight must be positive.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calcstats._errors import DataError, SchemaError

__all__ = ["check_weights", "require_columns"]


def require_columns(
    data: object,
    roles: dict[str, str | list[str] | tuple[str, ...] | None],
    *,
    function: str,
) -> None:
    """Check that ``data`` is a DataFrame holding every column named in ``roles``.

    ``roles`` maps an argument name to a column name (or list of names, or None). The
    error names the argument, the missing column and close matches.

    Examples
    --------
    >>> import pandas as pd
    >>> require_columns(pd.DataFrame({"time": [1.0]}), {"time": "time"}, function="cox")
    """
    import difflib

    if not isinstance(data, pd.DataFrame):
        raise SchemaError(
            f"{function}() needs a pandas DataFrame as data, got {type(data).__name__}; e.g. "
            "pd.read_csv(...) or cohort.survival_table(...)."
        )
    cols = [str(c) for c in data.columns]
    for role, value in roles.items():
        if value is None:
            continue
        names = [value] if isinstance(value, str) else list(value)
        for name in names:
            if not isinstance(name, str):
                raise SchemaError(f"{function}(): {role}= must name a column (a str), got "
                                  f"{name!r}.")
            if name not in data.columns:
                close = difflib.get_close_matches(name, cols, n=3, cutoff=0.6)
                hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
                more = " ..." if len(cols) > 20 else ""
                raise SchemaError(
                    f"{function}(): {role}={name!r} is not a column of the data (columns: "
                    f"{', '.join(cols[:20])}{more}).{hint}"
                )


def check_weights(values: pd.Series, *, column: str, function: str) -> np.ndarray:
    """Validate a case-weight column (already free of missing values) and return it.

    Parameters
    ----------
    values : pandas.Series
        The weights of the analysed rows (index labels are used in messages).
    column : str
        Name of the weight column.
    function : str
        The calling function, for messages.

    Returns
    -------
    numpy.ndarray
        The weights as floats (zeros kept; the caller sets them aside).

    Examples
    --------
    >>> import pandas as pd
    >>> check_weights(pd.Series([1.0, 0.0, 2.5]), column="w", function="cox").tolist()
    [1.0, 0.0, 2.5]
    """
    if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
        raise SchemaError(
            f"{function}(): weights column {column!r} must be numeric; found dtype "
            f"{values.dtype}. Convert it with pd.to_numeric."
        )
    w = values.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        rows = values.index[bad][:5].tolist()
        vals = [float(v) for v in w[bad][:5]]
        raise DataError(
            f"{function}(): weights column {column!r} must hold finite numbers >= 0; "
            f"{int(bad.sum())} row(s) do not (rows {rows}: {vals}). Fix or drop those rows."
        )
    if not np.any(w > 0):
        raise DataError(
            f"{function}(): every weight in {column!r} is zero, so no row contributes; "
            "check the weight column."
        )
    return w
