"""Publication tables of the multi-state results: state probabilities at chosen times and
the transition-specific Cox model.

Registered with :func:`calcstats.results.table_of`. States and transitions print by
their labels ("No cirrhosis → Cirrhosis", from the schema's ``to_state`` levels), terms
by their variable labels; nothing is computed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from calcstats._format import format_ci, format_number, format_p
from calcstats._validation import NONE, NUMBERS, check_param
from calcstats.labels import Labels
from calcstats.results import table_of
from calcstats.survival import MultiStateCoxResult, StateProbabilitiesResult
from calcstats.tables._results import DASH, _decimals, _labels
from calcstats.tables._table import Table
from calcstats.tables._words import plain

__all__ = ["multistate_cox_table", "state_label", "state_probability_table", "transition_label"]


def state_label(lab: Labels, state: Any) -> str:
    """A state by its label (``to_state`` levels: "no_cirrhosis" → "No cirrhosis")."""
    if state in lab.levels.get("state", {}):
        return lab.level("state", state)
    return lab.level("to_state", state)


def transition_label(lab: Labels, transition: str) -> str:
    """ "no_cirrhosis -> cirrhosis" → "No cirrhosis → Cirrhosis"."""
    a, _, b = transition.partition(" -> ")
    return f"{state_label(lab, a.strip())} → {state_label(lab, b.strip())}"


@table_of.register(StateProbabilitiesResult)
def state_probability_table(
    result: StateProbabilitiesResult,
    *,
    times: float | Sequence[float] | None = None,
    labels: Any = None,
    title: str | None = None,
    digits: int = 1,
) -> Table:
    """Probability (%) of being in each state at chosen times, with CIs; one block of
    states per group.

    ``times`` defaults to three evenly spaced times up to the last transition.
    """
    lab = _labels(result, labels, title, digits)
    where = f"{type(result).__name__}.to_table"
    check_param(times, [NUMBERS, NONE], name="times", function=where)
    if times is None:
        tmax = float(result.tidy()["time"].max())
        step = 10 ** np.floor(np.log10(max(tmax / 4, 1e-9)))
        grid = np.round(np.array([tmax / 4, tmax / 2, 3 * tmax / 4]) / step) * step
        times = np.unique(np.maximum(grid, step))
    tq = np.atleast_1d(np.asarray(times, dtype=float))
    at = result.at(tq)
    unit = lab.unit(result.columns.get("stop") or "stop")
    rows: list[list[str]] = []
    indent: list[int] = []
    groups = result.groups if result.by else pd.DataFrame({"_": [None]})
    for _, g in groups.iterrows():
        part = at
        if result.by:
            mask = np.ones(len(at), dtype=bool)
            for col in result.by:
                mask &= (at[col] == g[col]).to_numpy()
            part = at.loc[mask]
            rows.append([", ".join(lab.level(c, plain(g[c])) for c in result.by)] + [""] * len(tq))
            indent.append(0)
        for state in result.states:
            cells = []
            for t in tq:
                r = part[(part["state"] == state) & (part["time"] == t)].iloc[0]
                if not np.isfinite(r["estimate"]):
                    cells.append(DASH)
                elif not np.isfinite(r["conf_low"]):
                    cells.append(format_number(100 * r["estimate"], digits=digits))
                else:
                    cells.append(
                        format_ci(
                            100 * r["estimate"],
                            100 * r["conf_low"],
                            100 * r["conf_high"],
                            digits=digits,
                        )
                    )
            rows.append([state_label(lab, state), *cells])
            indent.append(1 if result.by else 0)
    heads = [
        f"{format_number(t, digits=_decimals(t))} {unit}"
        if unit
        else f"Time {format_number(t, digits=_decimals(t))}"
        for t in tq
    ]
    body = pd.DataFrame(rows, columns=["State", *heads])
    notes = [
        f"Probability of being in each state, % ({result.conf_level * 100:g}% CI); "
        "Aalen–Johansen estimator for multi-state data.",
    ]
    if any(r[1:] and any(c == DASH for c in r[1:]) for r in rows):
        notes.append("— beyond the last follow-up time.")
    return Table(
        body,
        title=title or "State probabilities",
        indent=indent,
        footnotes=notes,
        raw=at,
    )


@table_of.register(MultiStateCoxResult)
def multistate_cox_table(
    result: MultiStateCoxResult,
    *,
    labels: Any = None,
    title: str | None = None,
    digits: int = 2,
) -> Table:
    """Hazard ratios (CI) and p-values per transition: a header row per transition, the
    model's terms below it."""
    lab = _labels(result, labels, title, digits)
    tidy = result.tidy()
    names, ci, pv, indent = [], [], [], []
    for transition in result.transitions:
        part = tidy[tidy["transition"] == transition]
        names.append(transition_label(lab, transition))
        ci.append("")
        pv.append("")
        indent.append(0)
        for r in part.itertuples(index=False):
            var, level = lab.term(str(r.term))
            names.append(var if level is None else f"{var}: {level}")
            est = r.estimate
            ci.append(
                DASH
                if not np.isfinite(est)
                else format_ci(est, r.conf_low, r.conf_high, digits=digits)
            )
            pv.append(DASH if not np.isfinite(r.p_value) else format_p(r.p_value))
            indent.append(1)
    measure = result.ratio_measure or "HR"
    body = pd.DataFrame(
        {
            "Transition": names,
            f"{measure} ({result.conf_level * 100:g}% CI)": ci,
            "p-value": pv,
        }
    )
    n = format_number(result.n_patients, digits=0, big_mark=",")
    notes = [
        f"{result.method}; one set of hazard ratios per transition; {n} patients, "
        f"{format_number(result.n_events, digits=0, big_mark=',')} transitions.",
        "CI = confidence interval.",
    ]
    return Table(
        body,
        title=title or "Hazard ratios per transition",
        indent=indent,
        footnotes=notes,
        raw=tidy,
    )
