"""Publication tables of curves, tests, restricted means and the weighting results.

Registered with :func:`calcstats.results.table_of`, so ``result.to_table(...)`` works for
every result type. Like the other table modules, these read ``tidy()`` and the typed
attributes of a result and format them; they compute no statistic. Labels shown are
``Labels.default() | result.labels | labels``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from calcstats._format import format_ci, format_number, format_p
from calcstats._validation import NONE, NUMBERS, TEXT, Interval, check_param
from calcstats.causal import (
    BalanceResult,
    BootstrapResult,
    MarginalRiskResult,
    MatchResult,
    PropensityResult,
)
from calcstats.labels import Labels
from calcstats.results import CurveResult, EstimateResult, Result, TestResult, table_of
from calcstats.survival import PartialEffectResult, RMSTContrastResult, RMSTResult
from calcstats.tables._table import Table

__all__ = ["curve_table", "estimate_table", "test_table"]

DASH = "—"


def _labels(result: Result, labels: Any, title: Any, digits: Any) -> Labels:
    where = f"{type(result).__name__}.to_table"
    check_param(digits, [Interval(0, None, integer=True)], name="digits", function=where)
    check_param(title, [NONE, TEXT], name="title", function=where)
    return Labels.default() | result.labels | Labels.coerce(labels)


def _group_names(frame: pd.DataFrame, by: Sequence[str], lab: Labels) -> list[str]:
    if not by:
        return ["All"] * len(frame)
    return [", ".join(lab.level(col, row[col]) for col in by) for _, row in frame.iterrows()]


def _group_heading(by: Sequence[str], lab: Labels) -> str:
    return " × ".join(lab.name(c) for c in by) if by else "Group"


@table_of.register(CurveResult)
def curve_table(
    result: CurveResult,
    *,
    times: float | Sequence[float] | None = None,
    labels: Any = None,
    title: str | None = None,
    digits: int = 1,
    percent: bool = True,
) -> Table:
    """Estimates (CI) of each curve at chosen times, one row per group.

    ``times`` defaults to three evenly spaced times up to the last observed time.
    """
    lab = _labels(result, labels, title, digits)
    where = f"{type(result).__name__}.to_table"
    check_param(times, [NUMBERS, NONE], name="times", function=where)
    if times is None:
        tmax = float(result.tidy()["time"].max()) if len(result.tidy()) else 1.0
        grid = np.array([tmax / 4, tmax / 2, 3 * tmax / 4])
        step = 10 ** np.floor(np.log10(max(tmax / 4, 1e-9)))
        times = np.unique(np.maximum(np.round(grid / step) * step, step))
    tq = np.atleast_1d(np.asarray(times, dtype=float))
    at = result.at(tq)
    unit = lab.unit(result.time_column)
    scale, sign = (100.0, "%") if percent else (1.0, "")
    body = pd.DataFrame(
        {_group_heading(result.by, lab): _group_names(result.groups, result.by, lab)}
    )
    for t in tq:
        part = at[at["time"] == t].reset_index(drop=True)
        head = (
            f"{format_number(t, digits=_decimals(t))} {unit}"
            if unit
            else f"Time {format_number(t, digits=_decimals(t))}"
        )
        cells = []
        for _, r in part.iterrows():
            if not np.isfinite(r["estimate"]):
                cells.append(DASH)
            else:
                cells.append(
                    format_ci(
                        scale * r["estimate"],
                        scale * r["conf_low"],
                        scale * r["conf_high"],
                        digits=digits,
                    )
                    .replace(" (", f"{sign} (")
                    .replace(")", f"{sign})")
                    if sign
                    else format_ci(
                        r["estimate"], r["conf_low"], r["conf_high"], digits=max(digits, 2)
                    )
                )
        body[head] = cells
    notes = [f"{result.measure} ({result.conf_level:.0%} CI). {result.method}."]
    if any(not np.isfinite(v) for v in at["estimate"]):
        notes.append("— beyond the last follow-up time of the group.")
    return Table(body, title=title or result.measure, footnotes=notes, raw=at)


def _decimals(t: float) -> int:
    return 0 if float(t).is_integer() else 1


_DETAIL_NAMES = {
    "n": "N",
    "observed": "Observed events",
    "expected": "Expected events",
    "o_minus_e": "O − E",
    "statistic": "Statistic",
    "df": "df",
    "p_value": "p-value",
    "term": "Term",
}
_DETAIL_HIDDEN = {"oe2_over_e", "oe2_over_v", "method"}


@table_of.register(TestResult)
def test_table(
    result: TestResult, *, labels: Any = None, title: str | None = None, digits: int = 2
) -> Table:
    """The test's per-part details (groups, terms) with the test in a footnote, or one row
    (test, statistic, df, p-value) for a test without parts."""
    lab = _labels(result, labels, title, digits)
    line = (
        f"{result.method}: {result.inline(digits=digits)}"
        if np.isfinite(result.statistic)
        else f"{result.method}: not computed"
    )
    details = result.tidy(details=True)
    if details.empty:
        body = pd.DataFrame(
            {
                "Test": [result.method],
                "Statistic": [
                    format_number(result.statistic, digits=digits)
                    if np.isfinite(result.statistic)
                    else DASH
                ],
                "df": [
                    ""
                    if result.df is None
                    else format_number(result.df, digits=0 if float(result.df).is_integer() else 1)
                ],
                "p-value": [format_p(result.p_value) if np.isfinite(result.p_value) else DASH],
            }
        )
        return Table(body, title=title or result.method, raw=result.tidy())
    body = pd.DataFrame()
    for col in details.columns:
        if col in _DETAIL_HIDDEN:
            continue
        values = details[col]
        name = _DETAIL_NAMES.get(str(col), lab.name(str(col)))
        if col == "p_value":
            body[name] = [format_p(v) if np.isfinite(v) else DASH for v in values]
        elif col == "term":
            body[name] = [_term_label(lab, str(v)) for v in values]
        elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            whole = bool(np.all(np.isfinite(values) & (np.asarray(values) % 1 == 0)))
            body[name] = [
                format_number(v, digits=0 if whole else digits, big_mark=",")
                if np.isfinite(v)
                else DASH
                for v in values
            ]
        else:
            body[name] = [lab.level(col, v) for v in values]
    return Table(body, title=title or result.method, footnotes=[line], raw=details)


def _term_label(lab: Labels, term: str) -> str:
    if term == "GLOBAL":
        return "Global"
    var, level = lab.term(term)
    return var if level is None else f"{var}: {level}"


@table_of.register(EstimateResult)
def estimate_table(
    result: EstimateResult, *, labels: Any = None, title: str | None = None, digits: int = 2
) -> Table:
    """A labelled, formatted ``tidy()`` (for estimates without a table of their own)."""
    lab = _labels(result, labels, title, digits)
    tidy = result.tidy()
    body = pd.DataFrame()
    for col in tidy.columns:
        values = tidy[col]
        if col in result.by or not pd.api.types.is_numeric_dtype(values):
            body[lab.name(str(col))] = [lab.level(col, v) for v in values]
        elif pd.api.types.is_integer_dtype(values):
            body[lab.name(str(col))] = [format_number(v, digits=0, big_mark=",") for v in values]
        else:
            body[lab.name(str(col))] = [
                format_number(v, digits=digits) if np.isfinite(v) else DASH for v in values
            ]
    return Table(body, title=title or "", footnotes=[result.method], raw=tidy)


@table_of.register(RMSTResult)
def rmst_table(
    result: RMSTResult, *, labels: Any = None, title: str | None = None, digits: int = 2
) -> Table:
    """RMST (CI) per group and the difference (CI) with its p-value."""
    lab = _labels(result, labels, title, digits)
    tidy = result.tidy()
    pct = f"{result.conf_level * 100:g}% CI"
    body = pd.DataFrame({_group_heading(result.by, lab): _group_names(tidy, result.by, lab)})
    body[f"RMST ({pct})"] = format_ci(
        tidy["estimate"], tidy["conf_low"], tidy["conf_high"], digits=digits
    )
    if len(tidy) > 1:
        con = result._contrast("difference", None, warn=False).tidy()  # warned at rmst()
        diffs = [
            DASH if not np.isfinite(e) else format_ci(e, lo, hi, digits=digits)
            for e, lo, hi in zip(con["estimate"], con["conf_low"], con["conf_high"], strict=True)
        ]
        body[f"Difference ({pct})"] = ["reference", *diffs]
        body["p-value"] = [
            "",
            *[DASH if not np.isfinite(p) else format_p(p) for p in con["p_value"]],
        ]
    unit = lab.unit(result.time_column)
    tau = format_number(result.tau, digits=_decimals(result.tau))
    return Table(
        body,
        title=title or f"Restricted mean survival time to {tau}" + (f" {unit}" if unit else ""),
        footnotes=[result.method],
        raw=tidy,
    )


@table_of.register(RMSTContrastResult)
@table_of.register(PartialEffectResult)
@table_of.register(MarginalRiskResult)
@table_of.register(BalanceResult)
def _estimate_like(result: EstimateResult, **options: Any) -> Table:
    return estimate_table(result, **options)


@table_of.register(PropensityResult)
@table_of.register(MatchResult)
@table_of.register(BootstrapResult)
def _summary_table(
    result: Result, *, labels: Any = None, title: str | None = None, digits: int = 2
) -> Table:
    lab = _labels(result, labels, title, digits)
    tidy = result.tidy()
    body = pd.DataFrame()
    for col in tidy.columns:
        values = tidy[col]
        if pd.api.types.is_integer_dtype(values):
            body[lab.name(str(col))] = [format_number(v, digits=0, big_mark=",") for v in values]
        elif pd.api.types.is_float_dtype(values):
            body[lab.name(str(col))] = [
                format_number(v, digits=digits) if np.isfinite(v) else DASH for v in values
            ]
        else:
            body[lab.name(str(col))] = [lab.level(col, v) for v in values]
    return Table(body, title=title or "", footnotes=[result.method], raw=tidy)
