"""Why a statistic of ``table_one`` is not defined for the data.

A statistic that is not defined for the data is shown as "—" (never "nan", an empty cell
or a number by convention), and a footnote per variable says which and why (the footnote
is laid out by :mod:`calcstats.tables._table_one`); the reasons are worked out here:

* SD of a column with one patient with data; a summary of a column with none;
* p-value: the variable takes one value, only one group has data, a group has one patient
  (Welch t-test), every group has one patient (ANOVA), or no variation within groups;
* SMD: the variable takes one value, a group has fewer than two patients with data
  (continuous) or none (categorical), or groups that do not vary differ (the difference
  cannot be standardised; R tableone prints ``Inf``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["categorical_p_why", "continuous_p_why", "smd_why"]


def _join(items: list[str], word: str = "or") -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"


def continuous_p_why(
    n: np.ndarray, var: np.ndarray, nonnormal: bool, constant: bool, names: list[str]
) -> str:
    """Why the test of a continuous variable has no p-value (``names``: group columns)."""
    has = n > 0
    if has.sum() < 2:
        return f"only {_join([nm for nm, h in zip(names, has, strict=True) if h], 'and')} has data"
    if constant:
        return "all values are equal"
    if not nonnormal:
        ones = [nm for nm, k in zip(names, n, strict=True) if k == 1]
        if has.sum() == 2 and ones:
            return f"one patient with data in {_join(ones, 'and')} (the t-test needs two)"
        if np.all(n[has] == 1):
            return "one patient with data in each group"
    return "no variation within groups"


def categorical_p_why(n: np.ndarray, constant: bool, names: list[str]) -> str:
    """Why the test of a categorical variable has no p-value (``n``: patients per group)."""
    has = [nm for nm, k in zip(names, n, strict=True) if k > 0]
    if len(has) < 2:
        return f"only {_join(has, 'and')} has data" if has else "no patient has data"
    if constant:
        return "all patients with data have the same value"
    return "the test is not defined for these counts"


def smd_why(n: np.ndarray, constant: bool, names: list[str], *, categorical: bool) -> str:
    """Why a variable has no SMD (``n``: patients with data per group)."""
    short = [nm for nm, k in zip(names, n, strict=True) if (k <= 0 if categorical else k < 2)]
    if short:
        few = "no patient" if categorical else "fewer than two patients"
        return f"{few} with data in {_join(short, 'and')}"
    if constant:
        return (
            "all patients with data have the same value" if categorical else "all values are equal"
        )
    return "no variation within groups that differ, so the difference cannot be standardised"
