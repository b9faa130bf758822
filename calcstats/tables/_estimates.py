"""Publication tables of the descriptive estimators (prevalence, rates, ratios, segments).

Each function here turns one result type into a :class:`~calcstats.tables.Table` and is
registered with :func:`calcstats.results.table_of`, so ``result.to_table(labels=None,
title=None, digits=2)`` dispatches to it. The tables read the results' raw numbers
(``tidy()`` and the typed attributes); they never compute a statistic. Labels shown are
``Labels.default() | result.labels | labels``: column headings are variable labels, group
cells level labels, and groups appear in the order of the level labels (then in the
result's order). Footnotes are written here from the typed attributes and the labels
("Rate of cirrhosis per 1,000 person-years"), never from column names; counts print with
thousands separators.

Small-cell suppression (``suppress_below=`` of the estimator) hides counts 1..k−1 as
``<k`` and, where totals are printed, enough further counts (``*``) that none can be
worked out (:func:`~calcstats.tables.suppression_mask`); an estimate of a row with a
hidden count is hidden too, since it gives the count back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from calcstats._format import format_ci, format_p
from calcstats._validation import NONE, Interval, check_param
from calcstats.describe import (
    IncidenceRateResult,
    MantelHaenszelResult,
    PrevalenceResult,
    RateRatioResult,
    SegmentSummary,
)
from calcstats.describe._intervals import METHOD_LABELS
from calcstats.labels import Labels
from calcstats.results import EstimateResult, table_of
from calcstats.tables._suppress import suppression_mask, suppression_note
from calcstats.tables._table import Table
from calcstats.tables._words import and_join, event_name, in_prose, person_time, plain

__all__ = [
    "incidence_rate_table",
    "mantel_haenszel_table",
    "prevalence_table",
    "rate_ratio_table",
    "segment_table",
    "suppress_rows",
]

DASH = "—"


def _options(
    result: EstimateResult, labels: Any, title: Any, digits: Any, *, base: Labels | None = None
) -> Labels:
    """Check the ``to_table`` options; return the labels to show."""
    where = f"{type(result).__name__}.to_table"
    check_param(digits, [Interval(0, None, integer=True)], name="digits", function=where)
    check_param(title, [NONE, _STR], name="title", function=where)
    return Labels.default() | (base or Labels()) | result.labels | Labels.coerce(labels)


class _Str:
    """Constraint: a str (the table title)."""

    def accepts(self, value: object) -> bool:
        return isinstance(value, str)

    def describe(self) -> str:
        return "a str"


_STR = _Str()


def _ordered(frame: pd.DataFrame, columns: list[str], lab: Labels) -> pd.DataFrame:
    """``frame`` with its rows in the display order of the level labels of ``columns``."""
    if not columns or frame.empty:
        return frame.reset_index(drop=True)
    keys = []
    for col in columns:
        values = list(pd.unique(frame[col]))
        rank = {_key(v): i for i, v in enumerate(lab.order(col, values))}
        keys.append(frame[col].map(lambda v, r=rank: r[_key(v)]).to_numpy())
    order = np.lexsort(keys[::-1])
    return frame.iloc[order].reset_index(drop=True)


def _key(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _group_cells(frame: pd.DataFrame, by: list[str], lab: Labels) -> pd.DataFrame:
    """The label columns of a by-group table: one per ``by`` column, level labels."""
    if not by:
        return pd.DataFrame({"Group": ["All"] * len(frame)})
    return pd.DataFrame(
        {lab.variable(col): [lab.level(col, _key(v)) for v in frame[col]] for col in by}
    )


def _counts(values: pd.Series) -> list[str]:
    return [f"{v:,.0f}" for v in values]


def suppress_rows(
    body: pd.DataFrame,
    counts: np.ndarray,
    columns: list[str | None],
    k: int,
    *,
    total_column: str | None = None,
    n_label_columns: int = 1,
) -> tuple[pd.DataFrame, str]:
    """Hide small counts in a display body whose rows are groups.

    ``counts`` is rows × count-columns (without totals); ``columns[j]`` names the display
    column of count column j (None when it is not shown, e.g. non-cases). With
    ``total_column`` the row totals are shown there and are protected (secondary
    suppression, :func:`~calcstats.tables.suppression_mask`); otherwise only primary
    suppression applies. A hidden count 1..k−1 prints as ``<k``, other hidden counts as
    ``*``; estimates of a row with any hidden count print as ``*`` (they give the count
    back). Returns the body and the footnote ('' when nothing was hidden).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> body = pd.DataFrame({"Group": ["a", "b"], "Events": ["3", "40"], "Rate": ["1.0", "9"]})
    >>> out, note = suppress_rows(body, np.array([[3], [40]]), ["Events"], 5)
    >>> out.iloc[0].tolist()
    ['a', '<5', '*']
    """
    counts = np.asarray(counts, dtype=float).round().astype(np.int64)
    protect = total_column is not None
    mask = np.asarray(
        suppression_mask(counts, k, protect_totals=protect, margins=protect), dtype=bool
    )
    if protect:
        row_total_hidden = mask[:-1, -1]
        mask = mask[:-1, :-1]
    else:
        row_total_hidden = np.zeros(counts.shape[0], dtype=bool)
    if not mask.any() and not row_total_hidden.any():
        return body, ""
    body = body.copy()
    shown = set()
    for j, col in enumerate(columns):
        if col is None:
            continue
        shown.add(col)
        for i in np.flatnonzero(mask[:, j]):
            body.iloc[i, body.columns.get_loc(col)] = f"<{k}" if 1 <= counts[i, j] < k else "*"
    if total_column is not None:
        shown.add(total_column)
        totals = counts.sum(axis=1)
        for i in np.flatnonzero(row_total_hidden):
            body.iloc[i, body.columns.get_loc(total_column)] = (
                f"<{k}" if 1 <= totals[i] < k else "*"
            )
    label_cols = set(body.columns[:n_label_columns])
    for i in np.flatnonzero(mask.any(axis=1) | row_total_hidden):
        for col in body.columns:
            if col not in shown and col not in label_cols:
                body.iloc[i, body.columns.get_loc(col)] = "*"
    return body, suppression_note(k)


def _cis(frame: pd.DataFrame, *, scale: float, digits: int, est: str = "estimate") -> list[str]:
    return [
        format_ci(e * scale, a * scale, b * scale, digits=digits)
        for e, a, b in zip(frame[est], frame["conf_low"], frame["conf_high"], strict=True)
    ]


def _prevalence_note(result: PrevalenceResult, lab: Labels) -> str:
    what = in_prose(lab.name(result.outcome))
    level = f"{result.conf_level * 100:g}%"
    if result.standardize is not None:
        return (
            f"Prevalence of {what} directly standardised by "
            f"{in_prose(lab.name(result.standardize))} to the given standard population, "
            f"with {level} Fay–Feuer gamma interval."
        )
    interval = METHOD_LABELS.get(result.interval, f"{result.interval} interval")
    return f"Prevalence of {what} with {level} {interval}."


@table_of.register(PrevalenceResult)
def prevalence_table(
    result: PrevalenceResult,
    *,
    labels: Labels | Mapping[str, str] | None = None,
    title: str | None = None,
    digits: int = 2,
) -> Table:
    """Prevalence by group: N, cases and prevalence in percent (CI).

    ``digits`` counts decimals of the proportion, so percentages get ``digits − 1``.

    Examples
    --------
    >>> import pandas as pd, calcstats as cs
    >>> df = pd.DataFrame({"calc": [1, 0, 0, 1, 1, 0], "sex": list("FFFMMM")})
    >>> cs.prevalence(df, outcome="calc", by="sex").to_table().columns
    ('Sex', 'N', 'Cases', 'Prevalence, % (95% CI)')
    """
    lab = _options(result, labels, title, digits)
    frame = _ordered(result.tidy(), result.by, lab)
    body = _group_cells(frame, result.by, lab)
    body["N"] = _counts(frame["n"])
    body["Cases"] = _counts(frame["cases"])
    what = "Standardised prevalence" if result.standardize is not None else "Prevalence"
    body[f"{what}, % ({result.conf_level * 100:g}% CI)"] = _cis(
        frame, scale=100.0, digits=max(digits - 1, 0)
    )
    notes = [_prevalence_note(result, lab)]
    if result.suppress_below is not None:
        counts = np.column_stack([frame["cases"], frame["n"] - frame["cases"]])
        body, note = suppress_rows(
            body,
            counts,
            ["Cases", None],
            result.suppress_below,
            total_column="N",
            n_label_columns=max(1, len(result.by)),
        )
        notes += [note] if note else []
    return Table(body, title=title or "Prevalence", footnotes=notes, raw=frame)


@table_of.register(IncidenceRateResult)
def incidence_rate_table(
    result: IncidenceRateResult,
    *,
    labels: Labels | Mapping[str, str] | None = None,
    title: str | None = None,
    digits: int = 2,
) -> Table:
    """Incidence rates: events, person-time and rate per ``result.per`` (CI).

    Examples
    --------
    >>> import pandas as pd, calcstats as cs
    >>> st = pd.DataFrame({"time": [1.0, 2.5, 4.0, 0.5], "status": [1, 0, 0, 1]})
    >>> cs.incidence_rate(st, time="time", event="status", per=100).to_table().cells
    (('All', '2', '8.0', '25.00 (3.03–90.31)'),)
    """
    unit = (Labels.default() | result.labels | Labels.coerce(labels)).unit(result.time)
    band = Labels(variables={"band": "Follow-up" + (f" ({unit})" if unit else "")})
    lab = _options(result, labels, title, digits, base=band)
    frame = _ordered(result.tidy(), result.by, lab)
    body = _group_cells(frame, result.by, lab)
    body["Events"] = _counts(frame["events"])
    pt = person_time(lab, result.time)
    per = f"{result.per:,g}"
    body[pt[:1].upper() + pt[1:] if pt.startswith("person") else "Person-time"] = [
        f"{v:,.1f}" for v in frame["person_time"]
    ]
    rate = f"per {per} {pt}" if pt.startswith("person") else f"per {per}"
    heading = "Standardised rate" if result.standardize is not None else "Rate"
    body[f"{heading} {rate} ({result.conf_level * 100:g}% CI)"] = _cis(
        frame, scale=1.0, digits=digits, est="rate"
    )
    what = event_name(lab, result.event, result.cause)
    level = f"{result.conf_level * 100:g}%"
    if result.standardize is not None:
        notes = [
            f"Rate of {what} per {per} {pt} directly standardised by "
            f"{in_prose(lab.name(result.standardize))} to the given standard population, "
            f"with {level} Fay–Feuer gamma confidence interval; events and person-time "
            "are crude totals."
        ]
    else:
        notes = [
            f"Rate of {what} per {per} {pt}, with {level} exact Poisson (Garwood) "
            "confidence interval."
        ]
    if result.bands is not None:
        notes.append("Follow-up split into time bands (from, to].")
    if result.suppress_below is not None:
        body, note = suppress_rows(
            body,
            frame[["events"]].to_numpy(),
            ["Events"],
            result.suppress_below,
            n_label_columns=max(1, len(result.by)),
        )
        notes += [note] if note else []
    return Table(body, title=title or "Incidence rates", footnotes=notes, raw=frame)


@table_of.register(RateRatioResult)
def rate_ratio_table(
    result: RateRatioResult,
    *,
    labels: Labels | Mapping[str, str] | None = None,
    title: str | None = None,
    digits: int = 2,
) -> Table:
    """Rate ratios: events, person-time, rate ratio (CI) and p-value per level.

    Examples
    --------
    >>> import pandas as pd, calcstats as cs
    >>> st = pd.DataFrame({"t": [2.0, 3, 1, 4], "d": [1, 0, 1, 1], "g": ["a", "a", "b", "b"]})
    >>> cs.rate_ratio(st, time="t", event="d", by="g").to_table().cells[0]
    ('a', '1', '5.0', '1 (reference)', '')
    """
    lab = _options(result, labels, title, digits)
    full = result.counts().join(result.tidy().drop(columns=result.by))
    full = _ordered(full, result.by, lab)
    body = _group_cells(full, result.by, lab)
    body["Events"] = _counts(full["events"])
    body["Person-time"] = [f"{v:,.1f}" for v in full["person_time"]]
    cis = _cis(full, scale=1.0, digits=digits)
    body[f"Rate ratio ({result.conf_level * 100:g}% CI)"] = [
        "1 (reference)" if ref else ci for ref, ci in zip(full["reference"], cis, strict=True)
    ]
    body["p-value"] = [
        "" if ref else format_p(p)
        for ref, p in zip(full["reference"], full["p_value"], strict=True)
    ]
    raw = full[[*result.by, "estimate", "conf_low", "conf_high", "p_value"]]
    how = (
        "exact conditional (binomial) intervals and p-values"
        if result.interval == "exact"
        else "Wald intervals on the log scale and z-tests"
    )
    groups = and_join([in_prose(lab.name(c)) for c in result.by])
    ref = plain(result.reference)
    against = lab.level(result.by[0], ref) if len(result.by) == 1 else str(ref)
    note = (
        f"Rate ratios of {event_name(lab, result.event, result.cause)} by {groups} against "
        f"{against} (reference), with {result.conf_level * 100:g}% {how}."
    )
    return Table(body, title=title or "Rate ratios", footnotes=[note], raw=raw)


@table_of.register(MantelHaenszelResult)
def mantel_haenszel_table(
    result: MantelHaenszelResult,
    *,
    labels: Labels | Mapping[str, str] | None = None,
    title: str | None = None,
    digits: int = 2,
) -> Table:
    """Stratum-specific, crude and pooled Mantel–Haenszel estimates, with the tests.

    Examples
    --------
    >>> import pandas as pd, calcstats as cs
    >>> df = pd.DataFrame({"x": [1, 1, 0, 0] * 5, "y": [1, 0, 1, 0, 1, 1, 0, 0, 0, 1] * 2,
    ...                    "s": ["a"] * 10 + ["b"] * 10})
    >>> t = cs.mantel_haenszel(df, exposure="x", outcome="y", strata="s").to_table()
    >>> [row[0] for row in t.cells]
    ['S = a', 'S = b', 'Crude', 'Mantel–Haenszel pooled']
    """
    lab = _options(result, labels, title, digits)
    cols = result.strata_columns
    s = _ordered(result.strata(), cols, lab)
    names = [
        ", ".join(
            f"{lab.variable(c)} = {lab.level(c, _key(v))}" for c, v in zip(cols, row, strict=True)
        )
        for row in s[cols].itertuples(index=False)
    ]
    values = _cis(s, scale=1.0, digits=digits)
    names += ["Crude", "Mantel–Haenszel pooled"]
    values += [
        format_ci(*result.crude, digits=digits),
        format_ci(result.estimate, result.conf_low, result.conf_high, digits=digits),
    ]
    pvals = [""] * (len(names) - 1) + [format_p(result.test.p_value)]
    heading = f"{result.measure} ({result.conf_level * 100:g}% CI)"
    body = pd.DataFrame({"Stratum": names, heading: values, "p-value": pvals})
    hom = result.homogeneity
    strata = " × ".join(in_prose(lab.name(c)) for c in cols)
    variance = {"OR": "Robins–Breslow–Greenland"}.get(result.measure, "Greenland–Robins")
    notes = [
        f"Mantel–Haenszel {result.measure} of {in_prose(lab.name(result.outcome))} for "
        f"{in_prose(lab.name(result.exposure))} (yes vs no), stratified by {strata} "
        f"({len(s)} strata), {result.conf_level * 100:g}% CI ({variance} variance).",
        f"{result.test.method}: p = {format_p(result.test.p_value)}.",
        f"{hom.method}: χ² = {hom.statistic:.2f}, df = {hom.df:g}, p = {format_p(hom.p_value)}."
        if hom.df is not None
        else f"{hom.method}.",
    ]
    summary = pd.DataFrame(
        [
            {
                "row": "crude",
                "estimate": result.crude[0],
                "conf_low": result.crude[1],
                "conf_high": result.crude[2],
            },
            {
                "row": "pooled",
                "estimate": result.estimate,
                "conf_low": result.conf_low,
                "conf_high": result.conf_high,
                "p_value": result.test.p_value,
            },
        ]
    )
    raw = pd.concat([s.assign(row="stratum"), summary], ignore_index=True)
    raw = raw[["row", *[c for c in raw.columns if c != "row"]]]
    return Table(body, title=title or f"Mantel–Haenszel {result.measure}", footnotes=notes, raw=raw)


@table_of.register(SegmentSummary)
def segment_table(
    result: SegmentSummary,
    *,
    labels: Labels | Mapping[str, str] | None = None,
    title: str | None = None,
    digits: int = 2,
) -> Table:
    """Calcifications per Couinaud segment: findings, and the statistic of the summary.

    Percentages and sizes get ``digits − 1`` decimals.

    Examples
    --------
    >>> import pandas as pd, calcstats as cs
    >>> f = pd.DataFrame({"patient_id": ["a", "a", "b"], "segment": ["VII", "VIII", "VII"],
    ...                   "size_mm": [3.0, 5.0, 4.0]})
    >>> t = cs.segment_summary(f, stat="prevalence", n_patients=4).to_table()
    >>> t.columns[-1], t.cells[6]
    ('Patients with calcification, n (%)', ('VII', '2', '2 (50.0)'))
    """
    lab = _options(result, labels, title, digits)
    frame = result.tidy()
    d = max(digits - 1, 0)
    body = pd.DataFrame(
        {lab.variable("segment"): [lab.level("segment", v) for v in frame["segment"]]}
    )
    body["Calcifications, n"] = _counts(frame["n_findings"])
    notes = [result.method]
    if result.stat == "count":
        body["Patients, n"] = _counts(frame["n_patients"])
    elif result.stat == "prevalence":
        body["Patients with calcification, n (%)"] = [
            f"{n:,.0f} ({100 * v:.{d}f})"
            for n, v in zip(frame["n_patients"], frame["value"], strict=True)
        ]
        notes.append(f"Percentages of {result.denominator:,} patients.")
    else:
        unit = lab.unit("size_mm")
        body["Median size" + (f", {unit}" if unit else "")] = [
            DASH if not np.isfinite(v) else f"{v:.{d}f}" for v in frame["value"]
        ]
        if not np.isfinite(frame["value"].to_numpy(dtype=float)).all():
            notes.append(f"{DASH} no calcification in the segment.")
    return Table(
        body, title=title or "Calcifications by Couinaud segment", footnotes=notes, raw=frame
    )
