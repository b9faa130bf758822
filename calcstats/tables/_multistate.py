"""Publication table of the transition-specific Cox model (the state probabilities are
curves: their table is in ``_results``).

Registered with :func:`calcstats.results.table_of`. Transitions print by their states'
labels ("No cirrhosis → Cirrhosis", from the schema's ``to_state`` levels), terms by their
variable labels; nothing is computed here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from calcstats._format import format_ci, format_number, format_p
from calcstats.labels import Labels
from calcstats.results import table_of
from calcstats.survival import MultiStateCoxResult
from calcstats.tables._results import DASH, _labels
from calcstats.tables._table import Table

__all__ = ["multistate_cox_table", "state_label", "transition_label"]


def state_label(lab: Labels, state: Any) -> str:
    """A state by its label (``to_state`` levels: "no_cirrhosis" → "No cirrhosis")."""
    if state in lab.levels.get("state", {}):
        return lab.level("state", state)
    return lab.level("to_state", state)


def transition_label(lab: Labels, transition: str) -> str:
    """ "no_cirrhosis -> cirrhosis" → "No cirrhosis → Cirrhosis"."""
    a, _, b = transition.partition(" -> ")
    return f"{state_label(lab, a.strip())} → {state_label(lab, b.strip())}"


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
