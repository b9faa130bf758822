"""Publication tables of curves, tests, restricted means and partial effects.

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
from calcstats.labels import Labels
from calcstats.results import CurveResult, EstimateResult, Result, TestResult, table_of
from calcstats.survival import (
    FollowUpResult,
    PartialEffectResult,
    PHTestResult,
    PredictedProbabilities,
    RMSTContrastResult,
    RMSTResult,
    StateProbabilitiesResult,
)
from calcstats.tables._table import Table
from calcstats.tables._words import in_prose, plain

__all__ = ["curve_table", "estimate_table", "test_table", "tidy_body"]

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
    times: float | Sequence[float] | np.ndarray | None = None,
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
        finite = result.tidy()["time"].to_numpy(dtype=float)
        finite = finite[np.isfinite(finite)]
        tmax = float(finite.max()) if finite.size else 1.0
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


@table_of.register(StateProbabilitiesResult)
@table_of.register(PredictedProbabilities)
def state_table(
    result: CurveResult,
    *,
    times: float | Sequence[float] | np.ndarray | None = None,
    labels: Any = None,
    title: str | None = None,
    digits: int = 1,
) -> Table:
    """Probability (CI) of being in each state at chosen times: one row per group and state."""
    lab = _labels(result, labels, title, digits)
    check_param(times, [NUMBERS, NONE], name="times", function=f"{type(result).__name__}.to_table")
    tidy = result.tidy()
    if times is None:
        tmax = float(tidy["time"].max()) if len(tidy) else 1.0
        step = 10 ** np.floor(np.log10(max(tmax / 4, 1e-9)))
        times = np.unique(
            np.maximum(np.round(np.array([tmax / 4, tmax / 2, 3 * tmax / 4]) / step) * step, step)
        )
    tq = np.atleast_1d(np.asarray(times, dtype=float))
    at = result.at(tq)
    unit = lab.unit(result.time_column)
    keys = [*result.by, "state"]
    first = at[at["time"] == tq[0]].reset_index(drop=True)
    body = pd.DataFrame()
    for col in result.by:
        body[lab.name(col)] = [lab.level(col, v) for v in first[col]]
    body["State"] = [lab.level("to_state", v) for v in first["state"]]
    has_ci = "conf_low" in at.columns and at["conf_low"].notna().any()
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
            elif has_ci and np.isfinite(r.get("conf_low", np.nan)):
                cells.append(
                    f"{format_number(100 * r['estimate'], digits=digits)}% "
                    f"({format_number(100 * r['conf_low'], digits=digits)}–"
                    f"{format_number(100 * r['conf_high'], digits=digits)}%)"
                )
            else:
                cells.append(f"{format_number(100 * r['estimate'], digits=digits)}%")
        body[head] = cells
    notes = [
        f"{result.measure}"
        + (f" ({result.conf_level:.0%} CI)" if has_ci else "")
        + f". {result.method}."
    ]
    return Table(
        body,
        title=title or result.measure,
        footnotes=notes,
        raw=at.sort_values([*keys, "time"], kind="stable").reset_index(drop=True),
    )


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


_TRANSFORMS = {
    "km": "Kaplan–Meier-transformed time",
    "identity": "time",
    "log": "log time",
    "rank": "ranked time",
}
_GLOBAL = "Global test"


def _test_name(result: TestResult) -> str:
    """The test in words (the proportional-hazards check names its residuals and time
    scale instead of the R function it reproduces)."""
    if isinstance(result, PHTestResult):
        scale = _TRANSFORMS.get(result.transform, f"{result.transform} time")
        return f"Test of proportional hazards (scaled Schoenfeld residuals against {scale})"
    return result.method


@table_of.register(TestResult)
def test_table(
    result: TestResult, *, labels: Any = None, title: str | None = None, digits: int = 2
) -> Table:
    """The test's per-part details (groups, terms) with the test in a footnote, or one row
    (test, statistic, df, p-value) for a test without parts."""
    lab = _labels(result, labels, title, digits)
    name = _test_name(result)
    line = (
        f"{_GLOBAL if isinstance(result, PHTestResult) else name}: {result.inline(digits=digits)}"
        if np.isfinite(result.statistic)
        else f"{name}: not computed"
    )
    details = result.tidy(details=True)
    if details.empty:
        body = pd.DataFrame(
            {
                "Test": [name],
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
        return Table(body, title=title or name, raw=result.tidy())
    body = pd.DataFrame()
    for col in details.columns:
        if col in _DETAIL_HIDDEN:
            continue
        values = details[col]
        heading = _DETAIL_NAMES.get(str(col), lab.name(str(col)))
        if col == "p_value":
            body[heading] = [format_p(v) if np.isfinite(v) else DASH for v in values]
        elif col in getattr(result, "by", ()):  # the groups, by their level labels
            body[heading] = [lab.level(col, plain(v)) for v in values]
        elif col == "term":
            body[heading] = [_term_label(lab, str(v)) for v in values]
        elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            whole = bool(np.all(np.isfinite(values) & (np.asarray(values) % 1 == 0)))
            body[heading] = [
                format_number(v, digits=0 if whole else digits, big_mark=",")
                if np.isfinite(v)
                else DASH
                for v in values
            ]
        else:
            body[heading] = [lab.level(col, v) for v in values]
    return Table(body, title=title or name, footnotes=[line], raw=details)


def _term_label(lab: Labels, term: str) -> str:
    if term == "GLOBAL":
        return "Global"
    var, level = lab.term(term)
    return var if level is None else f"{var}: {level}"


_NAMES = {
    "n": "N",
    "n_events": "Events",
    "std_error": "Standard error",
    "statistic": "Statistic",
    "p_value": "p-value",
    "ess": "Effective sample size",
}


def tidy_body(
    tidy: pd.DataFrame, by: Sequence[str], lab: Labels, digits: int, conf_level: float
) -> pd.DataFrame:
    """A labelled, formatted ``tidy()``: ``estimate`` with ``conf_low``/``conf_high`` as one
    "Estimate (95% CI)" column (likewise ``x`` with ``x_conf_low``/``x_conf_high``), counts
    with thousands separators, yes/no for booleans, level labels for text and ``by``
    columns, "—" for numbers that are not finite."""
    body = pd.DataFrame(index=range(len(tidy)))
    cols = [str(c) for c in tidy.columns]
    pairs = {}
    for c in cols:
        stem = "" if c == "estimate" else c
        low, high = (f"{stem}_conf_low", f"{stem}_conf_high") if stem else ("conf_low", "conf_high")
        if low in cols and high in cols:
            pairs[c] = (low, high)
    for short in ("rd", "rr"):  # risk_difference with rd_conf_low, risk_ratio with rr_...
        full = {"rd": "risk_difference", "rr": "risk_ratio"}[short]
        if full in cols and f"{short}_conf_low" in cols and f"{short}_conf_high" in cols:
            pairs[full] = (f"{short}_conf_low", f"{short}_conf_high")
    skip = {b for pair in pairs.values() for b in pair}
    ci = f"{conf_level * 100:g}% CI"
    for c in cols:
        if c in skip:
            continue
        values = tidy[c]
        name = _NAMES.get(c) or lab.name(c)
        if c in pairs:
            low, high = pairs[c]
            body[f"{name} ({ci})"] = [
                DASH if not np.isfinite(e) else format_ci(e, lo, hi, digits=digits)
                for e, lo, hi in zip(values, tidy[low], tidy[high], strict=True)
            ]
        elif c == "p_value":
            body[name] = [DASH if not np.isfinite(v) else format_p(v) for v in values]
        elif (
            c in by
            or pd.api.types.is_bool_dtype(values)
            or not pd.api.types.is_numeric_dtype(values)
        ):
            body[name] = [lab.level(c, plain(v)) for v in values]
        elif pd.api.types.is_integer_dtype(values):
            body[name] = [format_number(v, digits=0, big_mark=",") for v in values]
        else:
            body[name] = [
                format_number(v, digits=digits, big_mark=",") if np.isfinite(v) else DASH
                for v in values
            ]
    return body


@table_of.register(EstimateResult)
def estimate_table(
    result: EstimateResult, *, labels: Any = None, title: str | None = None, digits: int = 2
) -> Table:
    """A labelled, formatted ``tidy()`` (for estimates without a table of their own)."""
    lab = _labels(result, labels, title, digits)
    tidy = result.tidy()
    body = tidy_body(tidy, result.by, lab, digits, result.conf_level)
    return Table(body, title=title, footnotes=[result.method], raw=tidy)


def _tau(result: RMSTResult | RMSTContrastResult, lab: Labels, column: str | None) -> str:
    unit = lab.unit(column) if column else None
    tau = format_number(result.tau, digits=_decimals(result.tau))
    return f"{tau} {unit}" if unit else tau


@table_of.register(RMSTResult)
def rmst_table(
    result: RMSTResult, *, labels: Any = None, title: str | None = None, digits: int = 2
) -> Table:
    """RMST (CI) per group and the difference (CI) with its p-value."""
    lab = _labels(result, labels, title, digits)
    tidy = result.tidy()
    pct = f"{result.conf_level * 100:g}% CI"
    body = pd.DataFrame({_group_heading(result.by, lab): _group_names(tidy, result.by, lab)})
    body["N"] = [format_number(v, digits=0, big_mark=",") for v in result.n]
    body[f"RMST ({pct})"] = format_ci(
        tidy["estimate"], tidy["conf_low"], tidy["conf_high"], digits=digits
    )
    tau = _tau(result, lab, result.time_column)
    notes = [
        f"Restricted mean survival time: the area under the Kaplan–Meier curve from 0 to "
        f"{tau}, with {pct}."
    ]
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
        notes.append("Differences against the first group (normal approximation).")
    return Table(
        body,
        title=title or f"Restricted mean survival time to {tau}",
        footnotes=notes,
        raw=tidy,
    )


@table_of.register(RMSTContrastResult)
def rmst_contrast_table(
    result: RMSTContrastResult, *, labels: Any = None, title: str | None = None, digits: int = 2
) -> Table:
    """Differences or ratios of restricted means against the reference group."""
    lab = _labels(result, labels, title, digits)
    tidy = result.tidy()
    what = "Difference" if result.measure == "difference" else "Ratio"
    pct = f"{result.conf_level * 100:g}% CI"
    body = pd.DataFrame({_group_heading(result.by, lab): _group_names(tidy, result.by, lab)})
    body[f"{what} ({pct})"] = [
        DASH if not np.isfinite(e) else format_ci(e, lo, hi, digits=digits)
        for e, lo, hi in zip(tidy["estimate"], tidy["conf_low"], tidy["conf_high"], strict=True)
    ]
    body["p-value"] = [DASH if not np.isfinite(p) else format_p(p) for p in tidy["p_value"]]
    ref = ", ".join(lab.level(c, plain(v)) for c, v in result.reference.items())
    scale = " (log scale)" if result.measure == "ratio" else ""
    note = (
        f"{what} of restricted mean survival times to {_tau(result, lab, None)} against "
        f"{ref} (reference); independent groups, normal approximation{scale}."
    )
    return Table(
        body,
        title=title or f"{what} of restricted mean survival times",
        footnotes=[note],
        raw=tidy,
    )


_MEASURES = {"HR": "Hazard ratio", "sHR": "Subdistribution hazard ratio"}


@table_of.register(PartialEffectResult)
def partial_effect_table(
    result: PartialEffectResult, *, labels: Any = None, title: str | None = None, digits: int = 2
) -> Table:
    """The ratio (CI) at each value against the reference value."""
    lab = _labels(result, labels, title, digits)
    tidy = result.tidy()
    unit = lab.unit(result.variable)
    body = pd.DataFrame(
        {
            lab.variable(result.variable): [
                lab.level(result.variable, plain(v)) for v in tidy["value"]
            ]
        }
    )
    body[f"{result.measure} ({result.conf_level * 100:g}% CI)"] = [
        "1 (reference)"
        if plain(v) == plain(result.reference)
        else (DASH if not np.isfinite(e) else format_ci(e, lo, hi, digits=digits))
        for v, e, lo, hi in zip(
            tidy["value"], tidy["estimate"], tidy["conf_low"], tidy["conf_high"], strict=True
        )
    ]
    name = _MEASURES.get(result.measure, result.measure)
    ref = lab.level(result.variable, plain(result.reference)) + (f" {unit}" if unit else "")
    note = (
        f"{name} of {in_prose(lab.name(result.variable))} at each value against {ref}, "
        "with Wald intervals from the model's covariance."
    )
    return Table(
        body,
        title=title or f"{name} by {in_prose(lab.name(result.variable))}",
        footnotes=[note],
        raw=tidy,
    )


@table_of.register(FollowUpResult)
def followup_table(
    result: FollowUpResult, *, labels: Any = None, title: str | None = None, digits: int = 1
) -> Table:
    """Median follow-up (CI) and its interquartile range per group (reverse Kaplan–Meier)."""
    lab = _labels(result, labels, title, digits)
    tidy = result.tidy()
    unit = lab.unit(result.time_column)
    body = pd.DataFrame({_group_heading(result.by, lab): _group_names(tidy, result.by, lab)})
    body["N"] = [format_number(v, digits=0, big_mark=",") for v in tidy["n"]]

    def f(v: float) -> str:
        return "NR" if not np.isfinite(v) else format_number(v, digits=digits, big_mark=",")

    pct = f"{result.conf_level * 100:g}% CI"
    body[f"Median follow-up{f', {unit}' if unit else ''} ({pct})"] = [
        f"{f(e)} ({f(lo)}–{f(hi)})"
        for e, lo, hi in zip(tidy["estimate"], tidy["conf_low"], tidy["conf_high"], strict=True)
    ]
    body["IQR"] = [f"{f(a)}–{f(b)}" for a, b in zip(tidy["q1"], tidy["q3"], strict=True)]
    notes = [
        "Median follow-up by the reverse Kaplan–Meier method: being censored is the event "
        "and an event ends follow-up as a censoring. "
        f"{pct} on the {result.conf_type} scale; IQR, first to third quartile of the same "
        "curve."
    ]
    values = tidy[["estimate", "conf_low", "conf_high", "q1", "q3"]].to_numpy(dtype=float)
    if not np.isfinite(values).all():
        notes.append("NR, not reached: the reverse curve does not fall that far.")
    return Table(body, title=title or "Median follow-up", footnotes=notes, raw=tidy)
