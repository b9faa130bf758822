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

from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

import numpy as np
import pandas as pd

from calcstats._errors import DataError, InvalidParameterError, SchemaError
from calcstats.engine._dispatch import no_engine_form, register, run_engine_form
from calcstats.engine._table import EngineTable

_F = TypeVar("_F", bound=Callable[..., Any])

__all__ = [
    "BOOLEAN",
    "CALLABLE",
    "COLUMN",
    "COLUMNS",
    "CONF_LEVEL",
    "DATAFRAME",
    "NONE",
    "NUMBERS",
    "POSITIVE",
    "REAL",
    "TEXT",
    "TEXTS",
    "Interval",
    "Options",
    "check_param",
    "check_weights",
    "require_columns",
    "validate_params",
]


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

    if isinstance(data, EngineTable):
        raise no_engine_form(function, data)
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
                raise SchemaError(
                    f"{function}(): {role}= must name a column (a str), got {name!r}."
                )
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


# ---- declarative parameter checks ------------------------------------------------------
class Interval:
    """A numeric range ``[low, high]`` (``closed`` says which ends are included).

    Examples
    --------
    >>> Interval(0, 1, closed="neither").describe()
    'a number in (0, 1)'
    """

    def __init__(
        self, low: float | None, high: float | None, *, closed: str = "both", integer: bool = False
    ) -> None:
        self.low, self.high, self.closed, self.integer = low, high, closed, integer

    def accepts(self, value: object) -> bool:
        import numbers

        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return False
        if self.integer and not float(value).is_integer():
            return False
        v = float(value)
        if v != v:
            return False
        lo_ok = self.low is None or (
            v >= self.low if self.closed in ("both", "left") else v > self.low
        )
        hi_ok = self.high is None or (
            v <= self.high if self.closed in ("both", "right") else v < self.high
        )
        return lo_ok and hi_ok

    def describe(self) -> str:
        kind = "an integer" if self.integer else "a number"
        if self.low is not None and self.high is not None:
            left = "[" if self.closed in ("both", "left") else "("
            right = "]" if self.closed in ("both", "right") else ")"
            return f"{kind} in {left}{self.low:g}, {self.high:g}{right}"
        if self.low is not None:
            op = ">=" if self.closed in ("both", "left") else ">"
            return f"{kind} {op} {self.low:g}"
        if self.high is not None:
            op = "<=" if self.closed in ("both", "right") else "<"
            return f"{kind} {op} {self.high:g}"
        return kind


class Options:
    """One of a fixed set of values (compared with ``==``; bools never match numbers)."""

    def __init__(self, *values: object) -> None:
        self.values = values

    def accepts(self, value: object) -> bool:
        for v in self.values:
            if type(v) is bool or type(value) is bool:
                if type(v) is type(value) and v == value:
                    return True
            elif isinstance(value, type(v)) and value == v:
                return True
        return False

    def describe(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


class _Type:
    def __init__(self, kind: str) -> None:
        self.kind = kind

    def accepts(self, value: object) -> bool:
        import numbers

        k = self.kind
        if k == "boolean":
            return isinstance(value, bool | np.bool_)
        if k == "column":
            return isinstance(value, str)
        if k == "columns":
            return isinstance(value, str) or (
                isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
            )
        if k == "none":
            return value is None
        if k == "callable":
            return callable(value)
        if k == "dataframe":
            return isinstance(value, pd.DataFrame)
        if k == "numbers":
            try:
                arr = np.atleast_1d(np.asarray(value, dtype=float))
            except (TypeError, ValueError):
                return False
            return arr.ndim == 1 and bool(np.all(np.isfinite(arr)))
        if k == "real":
            return isinstance(value, numbers.Real) and not isinstance(value, bool)
        if k == "text":
            return isinstance(value, str)
        if k == "texts":
            return isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
        raise AssertionError(k)

    def describe(self) -> str:
        return {
            "boolean": "True or False",
            "column": "a column name (str)",
            "columns": "a column name or a list of column names",
            "none": "None",
            "callable": "a function",
            "dataframe": "a pandas DataFrame",
            "numbers": "a number or a list of finite numbers",
            "real": "a number",
            "text": "a str",
            "texts": "a list of str",
        }[self.kind]


BOOLEAN = _Type("boolean")
COLUMN = _Type("column")
COLUMNS = _Type("columns")
NONE = _Type("none")
CALLABLE = _Type("callable")
DATAFRAME = _Type("dataframe")
NUMBERS = _Type("numbers")
REAL = _Type("real")
TEXT = _Type("text")
TEXTS = _Type("texts")
#: a number > 0 (widths, heights, scales)
POSITIVE = Interval(0, None, closed="neither")
#: ``conf_level`` everywhere: strictly between 0 and 1 (0.95, not 95)
CONF_LEVEL = Interval(0, 1, closed="neither")


class Constraint(Protocol):
    """What :func:`check_param` needs of a constraint (the classes above, or a module's own)."""

    def accepts(self, value: object) -> bool: ...

    def describe(self) -> str: ...


def check_param(value: object, constraints: list[Constraint], *, name: str, function: str) -> None:
    """Raise :class:`InvalidParameterError` unless ``value`` meets one of ``constraints``.

    Examples
    --------
    >>> check_param(0.9, [CONF_LEVEL], name="conf_level", function="kaplan_meier")
    >>> try:
    ...     check_param(95, [CONF_LEVEL], name="conf_level", function="kaplan_meier")
    ... except InvalidParameterError as err:
    ...     print(err)
    The 'conf_level' parameter of kaplan_meier must be a number in (0, 1). Got 95. Use 0.95, not 95.
    """
    if any(c.accepts(value) for c in constraints):
        return
    texts = [c.describe() for c in constraints]
    want = texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " or " + texts[-1]
    shown = type(value).__name__ if isinstance(value, pd.DataFrame | np.ndarray) else repr(value)
    hint = ""
    if name == "conf_level" and isinstance(value, int | float) and 1 < value < 100:
        hint = f" Use {value / 100:g}, not {value!r}."
    raise InvalidParameterError(
        f"The {name!r} parameter of {function} must be {want}. Got {shown}.{hint}"
    )


def validate_params(
    constraints: dict[str, list[Constraint]], *, engine: str | None = None
) -> Callable[[_F], _F]:
    """Decorator: check the named parameters of a public function before it runs.

    The constraints sit next to the function they guard (as scikit-learn's
    ``validate_params``); every violation raises :class:`InvalidParameterError` with the
    one message template of :func:`check_param`.

    ``data`` given as an engine-backed table (:class:`~calcstats.engine.EngineTable`):
    with ``engine="module:function"`` (the function's engine form, same arguments) the
    options are checked as for a DataFrame and the engine form runs; without, the call
    is refused with an :class:`~calcstats.engine.EngineUnsupportedError` saying how to
    pull the rows (see :mod:`calcstats.engine._dispatch`).

    Examples
    --------
    >>> @validate_params({"ties": [Options("efron", "breslow")]})
    ... def fit(data, *, ties="efron"):
    ...     return ties
    >>> try:
    ...     fit(None, ties="exact")
    ... except InvalidParameterError as err:
    ...     print(err)
    The 'ties' parameter of fit must be one of 'efron', 'breslow'. Got 'exact'.
    """
    import functools
    import inspect

    def decorate(func: _F) -> _F:
        sig = inspect.signature(func)
        unknown = set(constraints) - set(sig.parameters)
        if unknown:
            raise AssertionError(f"validate_params: {func.__name__} has no {unknown}")
        if engine is not None:
            register(func.__name__, engine)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                bound = sig.bind(*args, **kwargs)
            except TypeError as err:
                raise TypeError(f"{func.__name__}(): {err}") from None
            bound.apply_defaults()
            data = bound.arguments.get("data")
            on_engine = isinstance(data, EngineTable)
            if isinstance(data, EngineTable) and engine is None:
                raise no_engine_form(func.__name__, data)
            for name, cons in constraints.items():
                check_param(bound.arguments[name], cons, name=name, function=func.__name__)
            if on_engine:
                return run_engine_form(func.__name__, bound.arguments)
            return func(*args, **kwargs)

        # the constraints, for introspection (an attribute typing does not know of)
        wrapper.__calcstats_constraints__ = constraints  # type: ignore[attr-defined]
        return cast(_F, wrapper)

    return decorate
