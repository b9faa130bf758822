"""Number formatting for publication tables: p-values, estimates with CIs, plain numbers.

Every table calcstats writes formats its numbers through these three functions so that a
paper shows one style throughout.

Rules
-----
* Rounding is that of C ``printf`` / R ``sprintf`` (the binary value is rounded; ties are
  therefore rare and resolved by the representation), so ``format_number`` matches R's
  ``sprintf("%.1f", x)`` digit for digit. A result that rounds to zero never shows a minus
  sign (``-0.04`` -> ``"0.0"``).
* Missing values (``None``, ``NaN``, ``pd.NA``) give an empty string: a blank cell.
* ``format_p`` follows the AMA / NEJM convention also used by gtsummary's
  ``style_pvalue(digits = 2)``: ``p < 0.001`` -> ``"<0.001"``; below 0.1 three decimals
  (``"0.043"``); from 0.1 two decimals (``"0.50"``); above 0.99 ``">0.99"`` (a p-value is
  never printed as 1). ``digits`` sets the small-p resolution: ``digits=4`` prints
  ``"<0.0001"`` and four decimals below 0.1, three from 0.1, ``">0.999"`` at the top.
* ``format_ci`` writes ``"1.23 (0.98–1.54)"`` with an en dash; when a bound is negative the
  dash would read as a minus sign, so the bounds are joined with ``" to "`` instead
  (``"-0.12 (-0.30 to 0.05)"``), as the AMA manual recommends. An infinite bound prints as
  ``"Inf"``.

All three accept a scalar (returning ``str``) or a pandas Series / array-like (returning a
Series of ``str`` with the same index, or a list for other array-likes).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import CalcstatsError
from calcstats._validation import TEXT, Interval, validate_params

__all__ = ["format_ci", "format_number", "format_p"]

EN_DASH = "–"


#: ``digits=`` of the formatters: a whole number of decimal places
DIGITS = Interval(0, None, integer=True)


def _is_missing(x: Any) -> bool:
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    try:
        return bool(isinstance(x, float | np.floating) and math.isnan(x))
    except TypeError:
        return False


def _as_float(x: Any, what: str) -> float:
    if isinstance(x, bool | np.bool_):
        raise CalcstatsError(f"{what} must be a number, got the boolean {x!r}.")
    try:
        return float(x)
    except (TypeError, ValueError):
        raise CalcstatsError(f"{what} must be a number, got {x!r}.") from None


def _fixed(x: float, digits: int) -> str:
    if math.isinf(x):
        return "Inf" if x > 0 else "-Inf"
    s = f"{x:.{digits}f}"
    if s.startswith("-") and float(s) == 0.0:
        s = s[1:]
    return s


def _vectorise(func: Callable[..., str], *args: Any) -> Any:
    """Apply ``func`` elementwise when any argument is array-like; else call it once."""
    series = next((a for a in args if isinstance(a, pd.Series)), None)
    arraylike = [a for a in args if isinstance(a, pd.Series | np.ndarray | list | tuple | pd.Index)]
    if not arraylike:
        return func(*args)
    n = len(arraylike[0])
    for a in arraylike[1:]:
        if len(a) != n:
            raise CalcstatsError(
                f"The arguments have different lengths ({n} and {len(a)}); pass one value "
                "per row for each of them."
            )
    cols = [
        list(a) if isinstance(a, pd.Series | np.ndarray | list | tuple | pd.Index) else [a] * n
        for a in args
    ]
    out = [func(*vals) for vals in zip(*cols, strict=True)]
    if series is not None:
        return pd.Series(out, index=series.index, dtype=object)
    return out


@validate_params({"digits": [DIGITS], "big_mark": [TEXT]})
def format_number(x: Any, *, digits: int = 1, big_mark: str = "") -> Any:
    """Format a number with a fixed number of decimals.

    Parameters
    ----------
    x : float, int, Series or array-like
        The number(s). Missing values give ``""``.
    digits : int, default 1
        Decimal places (``0`` for counts).
    big_mark : str, default ""
        Thousands separator, e.g. ``","`` gives ``"12,345"``.

    Returns
    -------
    str, or a Series / list of str for array-like input.

    Examples
    --------
    >>> format_number(3.14159, digits=2)
    '3.14'
    >>> format_number(12345, digits=0, big_mark=",")
    '12,345'
    >>> format_number(float("nan"))
    ''
    """
    digits = int(digits)

    def one(v: Any) -> str:
        if _is_missing(v):
            return ""
        f = _as_float(v, "format_number(x)")
        s = _fixed(f, digits)
        if big_mark and not math.isinf(f):
            sign = "-" if s.startswith("-") else ""
            body = s.lstrip("-")
            whole, _, frac = body.partition(".")
            whole = f"{int(whole):,}".replace(",", big_mark)
            s = sign + whole + ("." + frac if frac else "")
        return s

    return _vectorise(one, x)


@validate_params({"digits": [Interval(2, None, integer=True)]})
def format_p(p: Any, *, digits: int = 3) -> Any:
    """Format a p-value in journal style.

    ``p < 10**-digits`` prints as ``"<0.001"``; below 0.1 with ``digits`` decimals; from
    0.1 with ``digits - 1`` decimals; a value that would round to 1 prints as ``">0.99"``.
    A value that rounds up across 0.1 (``0.0996``) is printed at the coarser precision
    (``"0.10"``).

    Parameters
    ----------
    p : float, Series or array-like
        P-value(s) in [0, 1]. Missing values give ``""``.
    digits : int, default 3
        Decimals for small p-values (at least 2).

    Returns
    -------
    str, or a Series / list of str for array-like input.

    Raises
    ------
    CalcstatsError
        If a p-value lies outside [0, 1].

    Examples
    --------
    >>> [format_p(x) for x in (0.0004, 0.0432, 0.5, 0.998)]
    ['<0.001', '0.043', '0.50', '>0.99']
    """
    digits = int(digits)
    floor = 10.0 ** (-digits)
    coarse = digits - 1
    top = 1.0 - 10.0 ** (-coarse)

    def one(v: Any) -> str:
        if _is_missing(v):
            return ""
        f = _as_float(v, "format_p(p)")
        if not 0.0 <= f <= 1.0:
            raise CalcstatsError(
                f"A p-value must lie between 0 and 1, got {f!r}; check that you passed the "
                "p-value column and not the test statistic."
            )
        if f < floor:
            return "<" + _fixed(floor, digits)
        if round(f, coarse) > top:
            return ">" + _fixed(top, coarse)
        if round(f, digits) < 0.1:
            return _fixed(f, digits)
        return _fixed(f, coarse)

    return _vectorise(one, p)


@validate_params({"digits": [DIGITS]})
def format_ci(estimate: Any, low: Any, high: Any, *, digits: int = 2) -> Any:
    """Format an estimate with its confidence interval: ``"1.23 (0.98–1.54)"``.

    The bounds are joined with an en dash, or with ``" to "`` when either bound is negative
    (so the dash is not read as a minus sign). A missing bound prints as ``"NA"``; a missing
    estimate gives ``""``.

    Parameters
    ----------
    estimate, low, high : float, Series or array-like
        Point estimate and interval bounds (same length when array-like).
    digits : int, default 2
        Decimal places for all three numbers.

    Returns
    -------
    str, or a Series / list of str for array-like input.

    Examples
    --------
    >>> format_ci(1.2345, 0.98, 1.5432)
    '1.23 (0.98–1.54)'
    >>> format_ci(-0.12, -0.3, 0.05)
    '-0.12 (-0.30 to 0.05)'
    """
    digits = int(digits)

    def one(e: Any, lo: Any, hi: Any) -> str:
        if _is_missing(e):
            return ""
        est = _fixed(_as_float(e, "format_ci(estimate)"), digits)
        bounds = []
        negative = False
        for b, name in ((lo, "low"), (hi, "high")):
            if _is_missing(b):
                bounds.append("NA")
                continue
            f = _as_float(b, f"format_ci({name})")
            s = _fixed(f, digits)
            negative = negative or s.startswith("-")
            bounds.append(s)
        sep = " to " if negative else EN_DASH
        return f"{est} ({bounds[0]}{sep}{bounds[1]})"

    return _vectorise(one, estimate, low, high)
