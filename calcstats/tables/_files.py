"""What the file writers share: formula-safe spreadsheet cells and output folders.

Spreadsheet programs read a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return as a formula (OWASP "CSV injection"): a level name such as
``=HYPERLINK("http://…", "click")`` read from a hospital export would become a live link
in the CSV or Excel file of a table. :func:`formula_safe` puts a single quote ``'`` in
front of such a cell, which spreadsheets show as text. Numbers and the numeric text
calcstats writes (``-1.5``, ``-0.50 (-2.00 to -1.00)``, ``+3%``) are left as they are:
without letters or formula punctuation they cannot call a function or open a link.
Full-width ``＝ ＋ － ＠`` count as their ASCII forms (some spreadsheets treat them so); the
Unicode minus ``−`` does not start a formula.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["formula_safe", "is_formula_like", "output_path"]

_ALWAYS = ("=", "@", "\t", "\r", "\uff1d", "\uff20")
_SIGNS = ("+", "-", "\uff0b", "\uff0d")
# numeric display text: signed numbers, separators, brackets and the words of intervals,
# with no operator between two numbers (``-1 - 2`` would be computed)
_WORDS = re.compile(r"\b(?:to|NA|Inf|inf|NaN)\b|(?<=\d)[eE](?=[+\-]?\d)")
_NUMERIC = re.compile(r"[+\-−–±0-9.,;%()\[\]<>≤≥\s]*")
_ARITH = re.compile(r"[\d.)\]%]\s*[+\-]")


def is_formula_like(text: str) -> bool:
    """True if a spreadsheet would read ``text`` as a formula.

    Leading spaces are skipped (an indented row label is checked by its text).

    Examples
    --------
    >>> is_formula_like('=HYPERLINK("http://example.com")'), is_formula_like("-1.5")
    (True, False)
    >>> is_formula_like("-0.50 (-2.00 to -1.00)"), is_formula_like("-2+3+cmd|' /C calc'!A0")
    (False, True)
    """
    text = text.lstrip(" ")
    if not text:
        return False
    if text.startswith(_ALWAYS):
        return True
    if text.startswith(_SIGNS):
        numeric = _WORDS.sub(",", text)
        return _NUMERIC.fullmatch(numeric) is None or _ARITH.search(numeric) is not None
    return False


def formula_safe(text: str) -> str:
    """``text`` with a leading ``'`` if a spreadsheet would read it as a formula.

    Examples
    --------
    >>> formula_safe("=1+1"), formula_safe("@SUM(A1)"), formula_safe("-1.5"), formula_safe("a")
    ("'=1+1", "'@SUM(A1)", '-1.5', 'a')
    """
    return "'" + text if is_formula_like(text) else text


def output_path(path: str | os.PathLike[str]) -> Path:
    """``path`` as a Path, with its parent folders created."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    return out
