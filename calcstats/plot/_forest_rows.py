"""The rows and panels a forest plot draws: read from fitted models (the same rows as
:func:`calcstats.regression_table`, in formula order) or from a table of estimates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import SchemaError
from calcstats._terms import MEASURE_NAMES, coefficient_labels
from calcstats._terms import union_rows as _union_rows
from calcstats.labels import Labels
from calcstats.results import ModelResult

__all__ = ["SHORT", "Panel", "Row", "from_frame", "from_results"]

#: "Hazard ratio" -> "HR", ...
SHORT = {v: k for k, v in MEASURE_NAMES.items()}


@dataclass(frozen=True)
class Row:
    key: Any
    label: str
    indent: int
    bold: bool


@dataclass
class Panel:
    """One model's column: its estimates by row key, what it cannot estimate, its
    reference rows, and how its measure is named."""

    title: str
    short: str
    axis: str
    conf_level: float
    points: dict[Any, tuple[float, float, float, float]] = field(default_factory=dict)
    missing: set[Any] = field(default_factory=set)
    references: set[Any] = field(default_factory=set)


def from_results(
    results: list[ModelResult],
    names: list[str],
    lab: Labels,
    terms: Sequence[str] | None,
    conf_level: float | None,
    measure: str | None,
) -> tuple[list[Row], list[Panel], list[str]]:
    layout = _union_rows(results, lab, only=terms, function="forest")
    rows = [Row(r.key, r.label, r.indent, r.indent == 0) for _, r in layout]
    panels, notes = [], []
    for name, res in zip(names, results, strict=True):
        short = res.ratio_measure or "Estimate"
        level = res.conf_level if conf_level is None else conf_level
        panel = Panel(name, short, measure or MEASURE_NAMES.get(short, "Estimate"), level)
        tidy = res.tidy(conf_level=level).set_index("term")
        for _, r in layout:
            if r.kind == "reference" and r.term in res.terms:
                panel.references.add(r.key)
            elif r.coefficient is not None and r.coefficient in tidy.index:
                t = tidy.loc[r.coefficient]
                if r.coefficient in res.nonestimable or not np.isfinite(t["estimate"]):
                    panel.missing.add(r.key)
                else:
                    panel.points[r.key] = (
                        float(t["estimate"]),
                        float(t["conf_low"]),
                        float(t["conf_high"]),
                        float(t["p_value"]),
                    )
        prefix = f"{name}: " if name else ""
        shown = coefficient_labels(res, lab) if res.nonestimable else {}
        notes += [
            f"{prefix}— {shown.get(c, c)}: not estimable ({why})."
            for c, why in res.nonestimable.items()
        ]
        panels.append(panel)
    return rows, panels, notes


def from_frame(
    data: pd.DataFrame, name: str, conf_level: float | None, measure: str | None
) -> tuple[list[Row], list[Panel], list[str]]:
    label_col = "label" if "label" in data.columns else "term" if "term" in data.columns else None
    if label_col is None or not {"estimate", "conf_low", "conf_high"} <= set(data.columns):
        raise SchemaError(
            "forest needs a fitted model, a list of fitted models, or a DataFrame with columns "
            "label (or term), estimate, conf_low, conf_high (optional: group, p_value); got "
            f"columns {list(data.columns)}."
        )
    short = SHORT.get(measure or "", measure or "Estimate")
    panel = Panel(name, short, measure or "Estimate", 0.95 if conf_level is None else conf_level)
    rows: list[Row] = []
    group = None
    for i, r in enumerate(data.reset_index(drop=True).to_dict("records")):
        g = r.get("group")
        if g is not None and not (isinstance(g, float) and np.isnan(g)) and g != group:
            rows.append(Row(("group", g), str(g), 0, True))
            group = g
        key = ("row", i)
        rows.append(Row(key, str(r[label_col]), 0 if group is None else 1, group is None))
        est = float(r["estimate"])
        if np.isfinite(est):
            panel.points[key] = (
                est,
                float(r["conf_low"]),
                float(r["conf_high"]),
                float(r.get("p_value", np.nan)),
            )
        else:
            panel.missing.add(key)
    return rows, [panel], []
