"""Footnotes of ``table_one``, and the cells it cannot fill.

A statistic that is not defined for the data is shown as "—" (never "nan", an empty cell
or a number by convention), and a footnote per variable says which and why:

* SD of a column with one patient with data; a summary of a column with none;
* p-value: the variable takes one value, only one group has data, a group has one patient
  (Welch t-test), every group has one patient (ANOVA), or no variation within groups;
* SMD: the variable takes one value, a group has fewer than two patients with data
  (continuous) or none (categorical), or groups that do not vary differ (the difference
  cannot be standardised; R tableone prints ``Inf``).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "DASH",
    "Undefined",
    "categorical_p_why",
    "continuous_p_why",
    "footnotes",
    "smd_why",
]

DASH = "—"
_ORDER = ("summary", "SD", "p-value", "SMD")  # what can be "—", in column order


def _join(items: list[str], word: str = "or") -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"


class Undefined:
    """Collects the "—" cells of each variable and renders their footnotes.

    Examples
    --------
    >>> u = Undefined()
    >>> u.add("Age", "SD", "one patient with data in Group = b")
    >>> u.add("Age", "p-value", "one patient with data in Group = b")
    >>> u.add("Age", "SMD", "all values are equal")
    >>> u.notes()
    ['— Age: no SD or p-value: one patient with data in Group = b; no SMD: all values are equal.']
    """

    def __init__(self) -> None:
        self._items: dict[str, dict[str, list[str]]] = {}

    def add(self, label: str, what: str, why: str) -> None:
        """Record that ``what`` (one of "summary", "SD", "p-value", "SMD") of ``label`` is
        "—" because ``why``."""
        whats = self._items.setdefault(label, {}).setdefault(why, [])
        if what not in whats:
            whats.append(what)

    def notes(self) -> list[str]:
        """One footnote per variable with a "—" cell."""
        out = []
        for label, whys in self._items.items():
            items = sorted(whys.items(), key=lambda kv: min(map(_ORDER.index, kv[1])))
            parts = [f"no {_join(sorted(whats, key=_ORDER.index))}: {why}" for why, whats in items]
            out.append(f"{DASH} {label}: {'; '.join(parts)}.")
        return out


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


def footnotes(
    kinds: set[str],
    tests: dict[str, str],
    test_names: dict[str, str],
    *,
    smd_summary: str | None,
    n_groups: int,
    weighted: bool,
    asked_p: bool,
) -> list[str]:
    """The notes under the table: what the values are, tests, SMD, weighting."""
    parts = []
    if "continuous" in kinds:
        parts.append("mean (SD)")
    if "nonnormal" in kinds:
        parts.append("median [Q1, Q3]")
    if kinds & {"binary", "categorical"}:
        parts.append("n (%) of patients with data")
    notes = ["Values are " + "; ".join(parts) + "."]
    if weighted:
        notes.append(
            "Weighted: counts are sums of weights; means, SDs, quantiles and "
            "percentages are weighted."
        )
        if asked_p:
            notes.append(
                "P-values are not shown for weighted comparisons; the weighted "
                "SMD is the balance diagnostic."
            )
    for key, sym in tests.items():
        notes.append(f"{sym} {test_names[key]}.")
    if smd_summary is not None:
        extra = ""
        if n_groups > 2:
            n_pairs = n_groups * (n_groups - 1) // 2
            extra = (
                f" (mean of the {n_pairs} pairwise SMDs, as R tableone)"
                if smd_summary == "mean"
                else f" (largest of the {n_pairs} pairwise SMDs)"
            )
        notes.append(f"SMD, standardised mean difference{extra}.")
    return notes
