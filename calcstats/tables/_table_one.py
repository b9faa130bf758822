"""The publication layout of Table 1 (the numbers are computed by ``calcstats.table_one``).

:func:`table_one_table` is registered with :func:`calcstats.results.table_of` for
:class:`~calcstats.describe._table_one._TableOneResult`: it reads the raw numbers
(``tidy()``: one row per variable × level × group) and lays them out as R ``tableone`` /
gtsummary do — mean (SD), median [IQR] or median (Q1, Q3) (the statistic of each row, also
named at the end of its label and in the footnote) with decimals from the spread or from
``digits=``, n (%) per level, a "Missing" row, p-values named by a footnote symbol per
test, SMDs — with "—" and a footnote for every statistic the data do not define, and
small-cell suppression. Every count prints with thousands separators.

Suppression: for every categorical or binary variable the count table levels × groups
(plus its "Missing" row, shown or not, and the 0 level of a binary variable, which is
implied by the group size) goes through :func:`~calcstats.tables.suppression_mask` with
the totals protected: the group sizes in the header are the column totals and the Overall
column holds the row totals. Primary cells (1..k−1) print as ``<k``, secondary ones as
``*``; a hidden Overall cell follows the same rule. Group sizes in the header row and
continuous summaries are not suppressed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from calcstats._format import format_p
from calcstats.describe._table_one import _TableOneResult
from calcstats.results import table_of
from calcstats.tables._suppress import suppression_mask, suppression_note
from calcstats.tables._table import Table

__all__ = ["Undefined", "footnotes", "suppress_table_one", "table_one_table"]

DASH = "—"
SYMBOLS = ["†", "‡", "§", "¶", "‖", "#", "**"]
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


def footnotes(
    kinds: set[str],
    statistics: list[str],
    tests: dict[str, str],
    *,
    smd_summary: str | None,
    n_groups: int,
    weighted: bool,
    asked_p: bool,
) -> list[str]:
    """The notes under the table: what the values are (the statistics of the rows, as
    their labels name them), tests (name → symbol), SMD, weighting."""
    parts = list(dict.fromkeys(statistics))
    if kinds & {"binary", "categorical"}:
        parts.append("n (%) of patients with data")
    notes = ["Values are " + "; ".join(parts) + "."]
    if "median [IQR]" in parts:
        notes.append("IQR, interquartile range, given as [first quartile, third quartile].")
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
    for name, sym in tests.items():
        notes.append(f"{sym} {name}.")
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


def suppress_table_one(
    body: pd.DataFrame,
    blocks: list[tuple[list[int | None], np.ndarray, int | None]],
    cols: list[tuple[str, int | None]],
    k: int,
) -> tuple[pd.DataFrame, str]:
    """Apply suppression to the display ``body``; return it and the footnote ('' if none).

    ``blocks`` holds, per categorical variable, the body row of each level (None: not
    shown), its counts levels × groups with the missing counts as last row, and the body
    row of "Missing" (or None); ``cols`` the display columns and their group (None:
    Overall).
    """
    body = body.copy()
    any_hidden = False
    for level_rows, counts, miss_row in blocks:
        c = np.rint(counts).astype(np.int64)
        row_ids = [*level_rows, miss_row]
        keep = c.sum(axis=1) > 0  # an all-zero row (e.g. no missing) is not published
        c_used = c[keep]
        ids_used = [r for r, kp in zip(row_ids, keep, strict=True) if kp]
        mask = np.asarray(
            suppression_mask(c_used, k, protect_totals=True, margins=True), dtype=bool
        )
        totals = c_used.sum(axis=1)
        for i, r in enumerate(ids_used):
            if r is None:
                continue
            for name, g in cols:
                if g is None:
                    hide, val = mask[i, -1], totals[i]
                else:
                    hide, val = mask[i, g], c_used[i, g]
                if hide:
                    any_hidden = True
                    body.iloc[r, body.columns.get_loc(name)] = f"<{k}" if 1 <= val < k else "*"
    return body, (suppression_note(k) if any_hidden else "")


def _decimals(scale: float) -> int:
    """Decimals from the spread: ≥100 → 0, 1–100 → 1, 0.1–1 → 2, below → 3."""
    if not np.isfinite(scale) or scale <= 0:
        return 1
    if scale >= 100:
        return 0
    if scale >= 1:
        return 1
    return 2 if scale >= 0.1 else 3


def _fmt(x: float, d: int) -> str:
    return "" if not np.isfinite(x) else f"{x:,.{d}f}"


def _npct(c: float, pct: float, nd: int, pd_: int = 1) -> str:
    if not np.isfinite(pct):
        return _fmt(c, nd)
    return f"{_fmt(c, nd)} ({pct:.{pd_}f})"


class _Layout:
    """Rows of the display body, built variable by variable."""

    def __init__(self, result: _TableOneResult) -> None:
        self.r = result
        groups = list(range(len(result.groups)))
        self.cols: list[tuple[str, int | None]] = (
            [("Overall", None)] if result.overall else []
        ) + [(name, i) for i, name in zip(groups, result.group_labels, strict=True)]
        self.nd = 0 if result.weights is None else 1
        self.rows: list[dict[str, Any]] = []
        self.blocks: list[tuple[list[int | None], np.ndarray, int | None]] = []
        self.tests: dict[str, str] = {}
        self.statistics: list[str] = []  # of the continuous rows, in order

    def group(self, i: int | None) -> Any:
        return "Overall" if i is None else self.r.groups[i]

    def add(
        self, label: str, cells: list[str], *, indent: int = 0, p: str = "", smd: str = ""
    ) -> int:
        self.rows.append({"label": label, "indent": indent, "cells": cells, "p": p, "smd": smd})
        return len(self.rows) - 1

    def p_cell(self, p: float, test: str) -> str:
        if not self.r.show_p:
            return ""
        if not np.isfinite(p):
            return DASH
        sym = self.tests.setdefault(test, SYMBOLS[len(self.tests)])
        return f"{format_p(p)}{sym}"

    def smd_cell(self, d: float) -> str:
        if not self.r.show_smd:
            return ""
        return DASH if not np.isfinite(d) else f"{d:.3f}"

    def missing_row(self, miss: dict[int | None, float]) -> int | None:
        if not (self.r.missing and miss[None] > 0):
            return None
        return self.add("Missing", [_fmt(miss[i], self.nd) for _, i in self.cols], indent=1)

    def continuous(self, var: Any, sub: pd.DataFrame) -> None:
        at = {g: rec for g, rec in zip(sub["group"], sub.to_dict("records"), strict=True)}
        slot = [at[self.group(i)] for _, i in self.cols]
        o = at["Overall"]
        statistic = var.statistic or ("median [IQR]" if var.kind == "nonnormal" else "mean (SD)")
        if statistic != "mean (SD)":
            dec = _decimals(o["q3"] - o["q1"]) if var.digits is None else var.digits
            left, right = ("[", "]") if statistic == "median [IQR]" else ("(", ")")
            cells = [
                f"{_fmt(s['median'], dec)} {left}{_fmt(s['q1'], dec)}, {_fmt(s['q3'], dec)}{right}"
                if s["n"] > 0
                else DASH
                for s in slot
            ]
        else:
            dec = _decimals(o["sd"]) if var.digits is None else var.digits
            cells = [
                DASH
                if s["n"] == 0
                else f"{_fmt(s['mean'], dec)} ({_fmt(s['sd'], dec) if s['n'] > 1 else DASH})"
                for s in slot
            ]
        self.statistics.append(statistic)
        label = f"{var.label}, {statistic}"
        self.add(label, cells, p=self.p_cell(o["p_value"], o["test"]), smd=self.smd_cell(o["smd"]))
        self.missing_row({i: at[self.group(i)]["missing"] for i in [None, *self._groups()]})

    def _groups(self) -> list[int]:
        return list(range(len(self.r.groups)))

    def categorical(self, var: Any, sub: pd.DataFrame) -> None:
        at = {
            (lv, g): rec
            for lv, g, rec in zip(sub["level"], sub["group"], sub.to_dict("records"), strict=True)
        }
        o = at[(var.levels[0], "Overall")]
        p_cell, smd_cell = self.p_cell(o["p_value"], o["test"]), self.smd_cell(o["smd"])
        gs: list[int | None] = [*self._groups()] or [None]  # count columns: groups (or all)
        counts = np.array(
            [[at[(lv, self.group(g))]["count"] for g in gs] for lv in var.levels]
            + [[at[(var.levels[0], self.group(g))]["missing"] for g in gs]],
            dtype=float,
        )

        pct = 1 if var.digits is None else var.digits

        def cells(lv: Any) -> list[str]:
            recs = [at[(lv, self.group(i))] for _, i in self.cols]
            return [_npct(r["count"], r["percent"], self.nd, pct) for r in recs]

        level_rows: list[int | None] = [None] * len(var.levels)
        if var.kind == "binary":
            level_rows[1] = self.add(f"{var.label}, n (%)", cells(1), p=p_cell, smd=smd_cell)
        else:
            self.add(f"{var.label}, n (%)", [""] * len(self.cols), p=p_cell, smd=smd_cell)
            for j, (lv, name) in enumerate(zip(var.levels, var.level_labels, strict=True)):
                level_rows[j] = self.add(name, cells(lv), indent=1)
        miss = {i: at[(var.levels[0], self.group(i))]["missing"] for i in [None, *self._groups()]}
        self.blocks.append((level_rows, counts, self.missing_row(miss)))


@table_of.register(_TableOneResult)
def table_one_table(result: _TableOneResult, *, title: str | None = None) -> Table:
    """The publication Table 1 of the numbers ``result`` holds (see the module notes).

    Examples
    --------
    >>> import pandas as pd, calcstats as cs
    >>> df = pd.DataFrame({"x": [1.0, 2.0, 4.0], "g": ["a", "b", "b"]})
    >>> cs.table_one(df, by="g", pvalues=False, smd=False).cells[1]
    ('X, mean (SD)', '2.3 (1.5)', '1.0 (—)', '3.0 (1.4)')
    """
    layout = _Layout(result)
    raw = result.tidy()
    n = raw[raw["variable"] == "n"]
    sizes = dict(zip(n["group"], n["n"], strict=True))
    layout.add("n", [_fmt(sizes[layout.group(i)], layout.nd) for _, i in layout.cols])
    by_var = {name: sub for name, sub in raw.groupby("variable", sort=False)}
    for var in result.variables:
        if var.kind in ("continuous", "nonnormal"):
            layout.continuous(var, by_var[var.name])
        else:
            layout.categorical(var, by_var[var.name])
    rows = layout.rows
    body = pd.DataFrame({"Characteristic": [r["label"] for r in rows]})
    for j, (name, _) in enumerate(layout.cols):
        body[name] = [r["cells"][j] for r in rows]
    if result.show_p:
        body["p-value"] = [r["p"] for r in rows]
    if result.show_smd:
        body["SMD"] = [r["smd"] for r in rows]
    notes = footnotes(
        {v.kind for v in result.variables},
        layout.statistics,
        layout.tests,
        smd_summary=result.smd_summary,
        n_groups=max(len(result.groups), 1),
        weighted=result.weights is not None,
        asked_p=result.asked_p,
    )
    if result.n_zero_weight:
        k = result.n_zero_weight
        notes.append(f"{k:,} row{'s' if k != 1 else ''} with weight 0 set aside (not counted).")
    undefined = Undefined()
    for label, what, why in result.undefined:
        undefined.add(label, what, why)
    notes += undefined.notes()
    if result.suppress_below is not None:
        body, note = suppress_table_one(body, layout.blocks, layout.cols, result.suppress_below)
        notes += [note] if note else []
    spanners = [(result.by_label, result.group_labels)] if result.by is not None else []
    shown = raw if result.overall else raw[raw["group"] != "Overall"]
    return Table(
        body,
        title=title,
        indent=[r["indent"] for r in rows],
        spanners=spanners,
        footnotes=notes,
        raw=shown.reset_index(drop=True).infer_objects(),
    )
