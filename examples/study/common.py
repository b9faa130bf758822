"""What every section of the example study shares: the study's constants and labels, the
state passed from section to section (:class:`Study`), and the writers of tables and
figures."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

import calcstats as cs
from calcstats.report import Report

OUTCOME = "cirrhosis"
COMPETING = ("liver_transplant", "death")
ADJUST = "age_at_index + sex + C(etiology_group, Treatment('cholestatic'))"
#: Printed widths (mm): a single and a double journal column. The figures are drawn at
#: these widths (``width_mm=``) and saved at them; no journal theme is needed.
SINGLE, DOUBLE = 85.0, 180.0
#: Pre-specified etiology groups for the outcome models: single etiologies are too sparse
#: for cause-specific hazards (monotone likelihood in groups without events).
_GROUPED = {
    "cholestatic": ["pbc", "psc", "biliary_atresia", "hepatolithiasis"],
    "parasitic": ["schistosomiasis", "echinococcosis"],
    "granulomatous": ["granulomatous"],
    "viral": ["chronic_hbv", "chronic_hcv"],
    "metabolic_toxic": ["alcohol", "masld"],
    "other": ["hemangioma", "neoplasm", "post_procedural", "idiopathic", "other"],
}
ETIOLOGY_GROUPS = {e: group for group, members in _GROUPED.items() for e in members}
#: their labels, in display order (the reference first)
ETIOLOGY_GROUP_LABELS = {
    "cholestatic": "Cholestatic",
    "granulomatous": "Granulomatous",
    "viral": "Viral",
    "metabolic_toxic": "Metabolic or toxic",
    "parasitic": "Parasitic",
    "other": "Other",
}
#: the exposure groups of the figures and tables, calcified first (as in Figure 3)
GROUPS = {1: "Calcification", 0: "No calcification"}


def study_labels(status: dict[int, str]) -> cs.Labels:
    """The labels of every table and figure: the schema's defaults with time in years
    (``Labels.cohort()``), the status codes of the survival table by their events, and
    the variables this study derives. Units come from the schema ("Age at index (years)");
    no label here repeats them."""
    events = cs.Labels.default()
    return cs.Labels.cohort() | cs.Labels(
        variables={
            "etiology_group": "Etiology group",
            "calcification_group": "Intrahepatic calcification at baseline",
            "calcification": "Calcification (time-varying)",
        },
        levels={
            "status": {
                code: events.level("event", name) if code else "Censored"
                for code, name in status.items()
            },
            "etiology_group": ETIOLOGY_GROUP_LABELS,
        },
    )


class Progress:
    """Numbered progress lines with elapsed time."""

    def __init__(self, total: int) -> None:
        self.total, self.i, self.t0 = total, 0, time.perf_counter()

    def __call__(self, what: str) -> None:
        self.i += 1
        print(
            f"[{self.i:2d}/{self.total}] {time.perf_counter() - self.t0:6.1f}s  {what}", flush=True
        )


@dataclass
class Study:
    """The state one section hands to the next: where results go, the report, the
    labels, the cohort and its analysis tables, the fits later sections compare with."""

    out: Path
    data: Path
    report: Report
    step: Progress
    m_imputations: int
    labels: cs.Labels = field(default_factory=cs.Labels.cohort)
    cohort: Any = None  # the analysed cohort (adults without cirrhosis at baseline)
    eligible: Any = None  # adults, before prevalent cirrhosis is excluded
    pt: pd.DataFrame | None = None  # patient table
    st: pd.DataFrame | None = None  # survival table (time to cirrhosis, competing events)
    tv: pd.DataFrame | None = None  # counting-process table (time-varying exposure)
    truth: cs.Truth | None = None
    fits: dict[str, Any] = field(default_factory=dict)

    def save_table(self, table: cs.Table, name: str) -> None:
        for ext, write in (("docx", table.to_docx), ("xlsx", table.to_excel)):
            write(self.out / "tables" / f"{name}.{ext}")
        table.to_csv(self.out / "tables" / f"{name}.csv")

    def figure(self, fig: plt.Figure, name: str, caption: str, width_mm: float) -> None:
        """Save a figure at its printed width (PDF and PNG), put it in the report, close it."""
        cs.plot.save_figure(
            fig, self.out / "figures" / name, width_mm=width_mm, dpi=300, formats=("pdf", "png")
        )
        self.report.figure(fig, caption=caption, width_mm=width_mm)
        plt.close(fig)


def estimate_row(result: Any, term: str, transition: str | None = None) -> pd.Series:
    """One term's row of ``result.tidy()`` (of one transition for a multi-state model)."""
    tidy = result.tidy()
    if transition is not None:
        tidy = tidy.loc[tidy["transition"] == transition]
    return tidy.set_index("term").loc[term]


def yes_no(flags: Sequence[bool]) -> list[str]:
    return ["Yes" if f else "No" for f in flags]


def truth_table(
    rows: Sequence[dict[str, Any]],
    *,
    first: str,
    measure: str,
    title: str,
    footnotes: Sequence[str],
    digits: int = 2,
) -> cs.Table:
    """Estimates next to the simulator's truth: one row per analysis (``rows`` hold
    ``name, truth, estimate, conf_low, conf_high``), with "True", "Estimated (95% CI)" and
    whether the interval covers the truth."""
    raw = pd.DataFrame(rows)
    raw["covers_truth"] = (raw["conf_low"] <= raw["truth"]) & (raw["truth"] <= raw["conf_high"])
    body = pd.DataFrame(
        {
            first: raw["name"],
            f"True {measure}": raw["truth"].map(lambda v: f"{v:.{digits}f}"),
            f"Estimated {measure} (95% CI)": cs.format_ci(
                raw["estimate"], raw["conf_low"], raw["conf_high"], digits=digits
            ),
            "CI covers the truth": yes_no(raw["covers_truth"]),
        }
    )
    return cs.Table(body, title=title, footnotes=list(footnotes), raw=raw)
