"""Generate the parts of the documentation that come from code and data.

Run by ``make docs`` before ``mkdocs build``:

- ``docs/reference-schema.md``: tables, columns, vocabularies, synonyms and validation
  rules, read from ``calcstats.cohort._schema`` and ``_validate.RULES`` (never out of date);
- ``docs/gallery.md`` and ``docs/gallery/*.png``: the figure gallery, one figure per plot
  function, drawn by calcstats on the bundled data at its printed width (85 or 180 mm)
  without a journal theme. The images are tracked in git: the files are byte-identical
  from run to run (``save_figure`` writes no date), so a rebuild changes them only when a
  figure changes.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

import calcstats as cs
from calcstats.cohort import _schema, _validate

DOCS = Path(__file__).resolve().parents[1]


def schema_page() -> str:
    out = [
        "# Schema reference",
        "",
        "Generated from `calcstats.cohort._schema` by `docs/scripts/build_pages.py`.",
        "",
    ]
    for spec in _schema.TABLES.values():
        out += [
            f"## `{spec.name}`",
            "",
            "| column | type | required | description |",
            "|---|---|---|---|",
        ]
        for c in spec.columns:
            kind = f"vocabulary `{c.vocab}`" if c.vocab else c.kind
            out.append(
                f"| `{c.name}` | {kind} | {'yes' if c.required else 'no'} | {c.description} |"
            )
        out.append("")
    out += ["## Vocabularies", "", "| vocabulary | values |", "|---|---|"]
    for name, values in _schema.VOCABULARIES.items():
        out.append(f"| `{name}` | {', '.join(f'`{v}`' for v in values)} |")
    out += [
        "",
        "## Synonyms",
        "",
        "Matched after case folding and collapsing spaces, hyphens and underscores.",
        "",
        "| vocabulary | synonym | canonical |",
        "|---|---|---|",
    ]
    for name, table in _schema.SYNONYMS.items():
        for syn, canon in table.items():
            out.append(f"| `{name}` | {syn} | `{canon}` |")
    out += [
        "",
        "## Validation rules",
        "",
        "In the order used for the participant flow.",
        "",
        "| rule | flow reason |",
        "|---|---|",
    ]
    for rule, reason in _validate.RULES.items():
        out.append(f"| `{rule}` | {reason} |")
    out += ["", "## Plausibility ranges (warn, keep)", "", "| column | range |", "|---|---|"]
    for col, rng in _schema.PLAUSIBLE_RANGES.items():
        out.append(f"| `{col}` | {rng} |")
    out += ["", "## Hard ranges (a problem)", "", "| column | range |", "|---|---|"]
    for col, rng in _schema.HARD_RANGES.items():
        out.append(f"| `{col}` | {rng} |")
    return "\n".join(out) + "\n"


@dataclass(frozen=True)
class Entry:
    """One gallery figure: its file name, heading, alt text, the call shown, and how to
    draw it (a function returning the Figure) at ``width_mm``."""

    name: str
    heading: str
    alt: str
    call: str
    draw: Callable[[], plt.Figure]
    width_mm: float


def _data() -> dict:
    """The bundled data the gallery draws: Mayo PBC and the synthetic example cohort."""
    pbc = cs.datasets.load_pbc()
    pbc = pbc.assign(
        years=pbc["time"] / 365.25,
        died=(pbc["status"] == 2).astype(int),
        edema_any=np.where(pbc["edema"] > 0, "Edema", "No edema"),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cs.DataWarning)
        cohort = cs.datasets.load_example_cohort()
        raw = cs.datasets.load_example_cohort(raw=True)
        st = cohort.at_risk("cirrhosis", competing=("liver_transplant", "death")).table
        ms = cohort.multistate_table()
    years = cs.Labels(
        variables={
            "years": "Time",
            "age": "Age",
            "edema": "Edema",
            "bili": "Bilirubin",
            "albumin": "Albumin",
            "protime": "Prothrombin time",
        },
        units={"years": "years", "age": "years"},
    )
    events = cs.Labels(levels={"status": {1: "Liver transplant", 2: "Death"}})
    return {
        "pbc": pbc,
        "cohort": cohort,
        "raw": raw,
        "st": st,
        "ms": ms,
        "years": years,
        "events": years | events,
    }


def entries(d: dict) -> list[Entry]:
    """Every figure of the gallery, in the order of the page."""
    pbc, cohort, st, ms, years = d["pbc"], d["cohort"], d["st"], d["ms"], d["years"]
    lab = cs.Labels.cohort() | cs.Labels(
        levels={"any_calcification": {1: "Calcification", 0: "No calcification"}}
    )

    def km() -> plt.Figure:
        fit = cs.kaplan_meier(pbc, time="years", event="died", by="edema_any", labels=years)
        test = cs.logrank(pbc, time="years", event="died", by="edema_any")
        return cs.plot.survival(fit, test=test, median_lines=True, width_mm=85)

    def cif() -> plt.Figure:
        fit = cs.cumulative_incidence(
            pbc, time="years", event="status", cause=2, by="edema_any", labels=d["events"]
        )
        test = cs.gray_test(pbc, time="years", event="status", cause=2, by="edema_any")
        return cs.plot.survival(fit, test=test, percent=True, width_mm=85)

    def causes() -> plt.Figure:
        fit = cs.cumulative_incidence(
            pbc, time="years", event="status", cause=2, by="edema_any", labels=d["events"]
        )
        return cs.plot.cumulative_incidence_causes(fit, stacked=True, percent=True, width_mm=180)

    def mayo() -> cs.CoxResult:
        trial = pbc.dropna(subset=["trt"])
        return cs.cox(
            trial,
            "age + edema + np.log(bili) + np.log(albumin) + np.log(protime)",
            time="years",
            event="died",
        )

    def forest() -> plt.Figure:
        return cs.plot.forest(mayo(), labels=years, width_mm=180)

    def ph() -> plt.Figure:
        return cs.plot.ph_diagnostics(mayo().check_ph(), labels=years, width_mm=180)

    def dose() -> plt.Figure:
        fit = cs.cox(pbc, "cr(age, df=3) + np.log(bili)", time="years", event="died")
        effect = cs.partial_effect(fit, "age", reference=50, labels=years)
        return cs.plot.dose_response(effect, rug=pbc["age"], width_mm=85).figure

    def segments() -> plt.Figure:
        summary = cs.segment_summary(cohort, stat="prevalence")
        return cs.plot.segment_map(summary, width_mm=85).figure

    def flow() -> plt.Figure:
        return cs.plot.flow_diagram(d["raw"], width_mm=180)

    def prevalence() -> plt.Figure:
        prev = cs.prevalence(cohort.patient_table(), outcome="any_calcification", by="etiology")
        return cs.plot.prevalence(prev, width_mm=85).figure

    def distribution() -> plt.Figure:
        pt = cohort.patient_table()
        ax = cs.plot.distribution(
            pt, variable="age_at_index", by="calcification_burden", width_mm=85
        )
        return ax.figure

    def propensity() -> cs.PropensityResult:
        return cs.propensity(st, "any_calcification ~ C(etiology) + age_at_index + sex", labels=lab)

    def overlap() -> plt.Figure:
        return cs.plot.overlap(propensity(), labels=lab, width_mm=85)

    def love() -> plt.Figure:
        bal = cs.balance(
            st.assign(w=propensity().weights()),
            treatment="any_calcification",
            covariates=["etiology", "age_at_index", "sex"],
            weights="w",
            labels=lab,
        )
        return cs.plot.love(bal, labels=lab, width_mm=85)

    def states() -> plt.Figure:
        sp = cs.state_probabilities(ms, by="any_calcification")
        return cs.plot.state_probabilities(sp, risk_times=[0, 3, 6, 9, 12], width_mm=180)

    def transitions() -> plt.Figure:
        return cs.plot.transitions(ms, width_mm=85)

    return [
        Entry(
            "km",
            "Kaplan–Meier with numbers at risk",
            "Kaplan–Meier curves by edema with a risk table",
            "cs.plot.survival(cs.kaplan_meier(...), test=cs.logrank(...), "
            "median_lines=True, width_mm=85)",
            km,
            85,
        ),
        Entry(
            "cif",
            "Cumulative incidence under competing risks",
            "Cumulative incidence of death, transplant competing",
            "cs.plot.survival(cs.cumulative_incidence(..., cause=2), "
            "test=cs.gray_test(...), percent=True, width_mm=85)",
            cif,
            85,
        ),
        Entry(
            "cif_causes",
            "Every cause of a competing-risks analysis",
            "Stacked cumulative incidence of transplant and death by edema",
            "cs.plot.cumulative_incidence_causes(cif, stacked=True, percent=True, width_mm=180)",
            causes,
            180,
        ),
        Entry(
            "forest",
            "Forest plot",
            "Forest plot of the Mayo model",
            "cs.plot.forest(cs.cox(...), width_mm=180)",
            forest,
            180,
        ),
        Entry(
            "ph",
            "Proportional-hazards diagnostics",
            "Scaled Schoenfeld residuals",
            "cs.plot.ph_diagnostics(fit.check_ph(), width_mm=180) — scaled Schoenfeld "
            "residuals, smooth and band, cox.zph p",
            ph,
            180,
        ),
        Entry(
            "dose_response",
            "A continuous exposure: dose–response",
            "Hazard ratio of death by age (spline) against age 50",
            'cs.plot.dose_response(cs.partial_effect(fit, "age", reference=50), '
            'rug=pbc["age"], width_mm=85)',
            dose,
            85,
        ),
        Entry(
            "flow",
            "Participant flow",
            "STROBE flow diagram",
            "cs.plot.flow_diagram(cohort, width_mm=180)",
            flow,
            180,
        ),
        Entry(
            "prevalence",
            "Prevalence by group",
            "Prevalence of calcification by etiology",
            'cs.plot.prevalence(cs.prevalence(pt, outcome="any_calcification", '
            'by="etiology"), width_mm=85)',
            prevalence,
            85,
        ),
        Entry(
            "distribution",
            "Distribution of a characteristic",
            "Age at index by calcification burden",
            'cs.plot.distribution(pt, variable="age_at_index", '
            'by="calcification_burden", width_mm=85)',
            distribution,
            85,
        ),
        Entry(
            "segment_map",
            "Couinaud segment map",
            "Couinaud segment map",
            'cs.plot.segment_map(cs.segment_summary(cohort, stat="prevalence"), width_mm=85)',
            segments,
            85,
        ),
        Entry(
            "overlap",
            "Propensity-score overlap",
            "Propensity scores of patients with and without calcification",
            'cs.plot.overlap(cs.propensity(st, "any_calcification ~ C(etiology) + '
            'age_at_index + sex"), width_mm=85)',
            overlap,
            85,
        ),
        Entry(
            "love",
            "Covariate balance (love plot)",
            "Standardised mean differences before and after weighting",
            'cs.plot.love(cs.balance(st, treatment="any_calcification", '
            'covariates=[...], weights="w"), width_mm=85)',
            love,
            85,
        ),
        Entry(
            "state_probabilities",
            "Multi-state: state probabilities",
            "Probability of each state of liver disease by calcification",
            "cs.plot.state_probabilities(cs.state_probabilities(ms, "
            'by="any_calcification"), width_mm=180)',
            states,
            180,
        ),
        Entry(
            "transitions",
            "Multi-state: the state diagram",
            "States of liver disease and the transitions between them",
            "cs.plot.transitions(cohort.multistate_table(), width_mm=85)",
            transitions,
            85,
        ),
    ]


GALLERY_INTRO = """# Figure gallery

Every figure below is drawn by calcstats on the bundled data — the Mayo Clinic PBC data
and the synthetic example cohort — by `docs/scripts/build_pages.py` (run by `make docs`,
which also writes this page). Each is drawn at its printed width, 85 mm for a single
journal column or 180 mm for a double one (`width_mm=`), in calcstats' publication style
without a journal theme, and saved with `cs.plot.save_figure` at that width (shown here
at 200 dpi). A theme (`with cs.plot.theme("jhep"): ...`) changes fonts and sizes to a
journal's; the layout adapts. The example study (`make example`) draws the same kinds of
figures for its report.
"""


def gallery() -> None:
    """Draw every gallery figure into docs/gallery/ and write docs/gallery.md."""
    out = DOCS / "gallery"
    out.mkdir(exist_ok=True)
    page = [GALLERY_INTRO]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for e in entries(_data()):
            fig = e.draw()
            cs.plot.save_figure(fig, out / e.name, width_mm=e.width_mm, dpi=200, formats=("png",))
            plt.close(fig)
            page += [
                f"## {e.heading}",
                "",
                f"`{e.call}`",
                "",
                f"![{e.alt}](gallery/{e.name}.png)",
                "",
            ]
    (DOCS / "gallery.md").write_text("\n".join(page), encoding="utf-8")


def main() -> None:
    (DOCS / "reference-schema.md").write_text(schema_page(), encoding="utf-8")
    gallery()


if __name__ == "__main__":
    main()
