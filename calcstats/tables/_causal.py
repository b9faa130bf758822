"""Publication tables of the weighting results: propensity scores, balance, matching,
marginal risks and the bootstrap.

Registered with :func:`calcstats.results.table_of`. As every table module, these format
``tidy()`` and the typed attributes with labels and write their notes in words (the
propensity model by its variables' labels, never its formula).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from calcstats._format import format_number
from calcstats.causal import (
    BalanceResult,
    BootstrapResult,
    MarginalRiskResult,
    MatchResult,
    PropensityResult,
)
from calcstats.results import table_of
from calcstats.tables._results import DASH, _labels, tidy_body
from calcstats.tables._table import Table
from calcstats.tables._words import and_join, in_prose, plain

__all__ = ["balance_table", "propensity_table"]

_GROUPS = {"treated": "Treated", "control": "Control"}


def _count(v: Any) -> str:
    return format_number(v, digits=0, big_mark=",")


def _number(v: Any, digits: int) -> str:
    return format_number(v, digits=digits, big_mark=",") if np.isfinite(v) else DASH


@table_of.register(PropensityResult)
def propensity_table(
    result: PropensityResult, *, labels: Any = None, title: str | None = None, digits: int = 2
) -> Table:
    """Propensity scores and weights by group, with the effective sample size."""
    lab = _labels(result, labels, title, digits)
    tidy = result.tidy()
    body = pd.DataFrame({"Group": [_GROUPS.get(g, str(g)) for g in tidy["group"]]})
    body["N"] = [_count(v) for v in tidy["n"]]
    body["Mean score"] = [_number(v, digits) for v in tidy["score_mean"]]
    body["Score range"] = [
        f"{_number(a, digits)}–{_number(b, digits)}"
        for a, b in zip(tidy["score_min"], tidy["score_max"], strict=True)
    ]
    body["Largest weight"] = [_number(v, digits) for v in tidy["weight_max"]]
    body["Effective sample size"] = [_number(v, 1) for v in tidy["ess"]]
    terms = [t for t in result.model.terms if t != "Intercept"]
    names = and_join([in_prose(lab.name(lab.variable_of(t))) for t in terms])
    note = (
        f"Propensity scores from logistic regression of {in_prose(lab.name(result.treatment))}"
        f" on {names}; {result.estimand} weights; effective sample size (Kish) of the "
        "weighted groups."
    )
    return Table(body, title=title or "Propensity scores", footnotes=[note], raw=tidy)


@table_of.register(BalanceResult)
def balance_table(
    result: BalanceResult, *, labels: Any = None, title: str | None = None, digits: int = 3
) -> Table:
    """Standardised mean differences and variance ratios per covariate (and level)."""
    lab = _labels(result, labels, title, digits)
    tidy = result.tidy()
    heads = [("smd_unweighted", "SMD"), ("variance_ratio_unweighted", "Variance ratio")]
    if result.weighted:
        heads = [
            ("smd_unweighted", "SMD, unweighted"),
            ("smd_weighted", "SMD, weighted"),
            ("variance_ratio_unweighted", "Variance ratio, unweighted"),
            ("variance_ratio_weighted", "Variance ratio, weighted"),
        ]
    body: dict[str, list[str]] = {"Characteristic": [], **{h: [] for _, h in heads}}
    body["Balanced"] = []
    indent: list[int] = []

    def add(label: str, level: int, row: Any = None) -> None:
        body["Characteristic"].append(label)
        indent.append(level)
        for col, head in heads:
            body[head].append("" if row is None else _number(getattr(row, col), digits))
        body["Balanced"].append("" if row is None else ("Yes" if row.balanced else "No"))

    headed: set[str] = set()
    for r in tidy.itertuples(index=False):
        if r.level is None or (isinstance(r.level, float) and np.isnan(r.level)):
            add(lab.variable(r.variable), 0, r)
            continue
        if r.variable not in headed:  # a factor: its label, then one row per level
            headed.add(r.variable)
            add(lab.variable(r.variable), 0)
        add(lab.level(r.variable, plain(r.level)), 1, r)
    return Table(
        pd.DataFrame(body),
        title=title or "Covariate balance",
        indent=indent,
        footnotes=[f"{result.method}; balanced: |SMD| below {result.threshold:g}."],
        raw=tidy,
    )


@table_of.register(MatchResult)
def match_table(
    result: MatchResult, *, labels: Any = None, title: str | None = None, digits: int = 2
) -> Table:
    """Patients matched and left unmatched per group."""
    _labels(result, labels, title, digits)
    tidy = result.tidy()
    body = pd.DataFrame({"Group": [_GROUPS.get(g, str(g)) for g in tidy["group"]]})
    body["N"] = [_count(v) for v in tidy["n"]]
    body["Matched"] = [_count(v) for v in tidy["n_matched"]]
    body["Unmatched"] = [_count(v) for v in tidy["n_unmatched"]]
    return Table(body, title=title or "Matching", footnotes=[f"{result.method}."], raw=tidy)


@table_of.register(MarginalRiskResult)
def marginal_risk_table(
    result: MarginalRiskResult, *, labels: Any = None, title: str | None = None, digits: int = 3
) -> Table:
    """Risks per group with their difference and ratio (CI) at each time."""
    lab = _labels(result, labels, title, digits)
    tidy = result.tidy()
    body = tidy_body(
        tidy.drop(columns=["rd_std_error", "log_rr_std_error"], errors="ignore"),
        [],
        lab,
        digits,
        result.conf_level,
    )
    treat = result.treatment
    note = (
        f"Risk ({result.measure}) difference and ratio, {in_prose(lab.name(treat))} "
        f"{lab.level(treat, plain(result.treated))} against "
        f"{lab.level(treat, plain(result.control))}; independent groups, weights treated "
        "as known; ratio intervals on the log scale."
    )
    return Table(body, title=title or "Marginal risks", footnotes=[note], raw=tidy)


@table_of.register(BootstrapResult)
def bootstrap_table(
    result: BootstrapResult, *, labels: Any = None, title: str | None = None, digits: int = 2
) -> Table:
    """Bootstrap estimates with percentile intervals."""
    lab = _labels(result, labels, title, digits)
    tidy = result.tidy()
    body = tidy_body(tidy, [], lab, digits, result.conf_level)
    return Table(body, title=title or "Bootstrap", footnotes=[f"{result.method}."], raw=tidy)
