"""Generate the parts of the documentation that come from code and data.

Run by ``make docs`` before ``mkdocs build``:

- ``docs/reference-schema.md``: tables, columns, vocabularies, synonyms and validation
  rules, read from ``calcstats.cohort._schema`` and ``_validate.RULES`` (never out of date);
- ``docs/img/*.png``: the figure gallery, drawn by calcstats on the bundled data.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np

import calcstats as cs
from calcstats.cohort import _schema, _validate

DOCS = Path(__file__).resolve().parents[1]


def schema_page() -> str:
    out = ["# Schema reference", "",
           "Generated from `calcstats.cohort._schema` by `docs/scripts/build_pages.py`.", ""]
    for spec in _schema.TABLES.values():
        out += [f"## `{spec.name}`", "", "| column | type | required | description |",
                "|---|---|---|---|"]
        for c in spec.columns:
            kind = f"vocabulary `{c.vocab}`" if c.vocab else c.kind
            out.append(f"| `{c.name}` | {kind} | {'yes' if c.required else 'no'} | "
                       f"{c.description} |")
        out.append("")
    out += ["## Vocabularies", "", "| vocabulary | values |", "|---|---|"]
    for name, values in _schema.VOCABULARIES.items():
        out.append(f"| `{name}` | {', '.join(f'`{v}`' for v in values)} |")
    out += ["", "## Synonyms", "",
            "Matched after case folding and collapsing spaces, hyphens and underscores.", "",
            "| vocabulary | synonym | canonical |", "|---|---|---|"]
    for name, table in _schema.SYNONYMS.items():
        for syn, canon in table.items():
            out.append(f"| `{name}` | {syn} | `{canon}` |")
    out += ["", "## Validation rules", "",
            "In the order used for the participant flow.", "", "| rule | flow reason |",
            "|---|---|"]
    for rule, reason in _validate.RULES.items():
        out.append(f"| `{rule}` | {reason} |")
    out += ["", "## Plausibility ranges (warn, keep)", "", "| column | range |", "|---|---|"]
    for col, rng in _schema.PLAUSIBLE_RANGES.items():
        out.append(f"| `{col}` | {rng} |")
    out += ["", "## Hard ranges (a problem)", "", "| column | range |", "|---|---|"]
    for col, rng in _schema.HARD_RANGES.items():
        out.append(f"| `{col}` | {rng} |")
    return "\n".join(out) + "\n"


def gallery() -> None:
    img = DOCS / "img"
    img.mkdir(exist_ok=True)
    pbc = cs.datasets.load_pbc()
    pbc = pbc.assign(years=pbc["time"] / 365.25, died=(pbc["status"] == 2).astype(int),
                     edema_any=np.where(pbc["edema"] > 0, "Edema", "No edema"))
    cohort = cs.datasets.load_example_cohort()
    with cs.plot.theme("jhep"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        years = cs.Labels(variables={"years": "Time"}, units={"years": "years"})
        km = cs.kaplan_meier(pbc, time="years", event="died", by="edema_any", labels=years)
        lr = cs.logrank(pbc, time="years", event="died", by="edema_any")
        cs.plot.save_figure(cs.plot.survival(km, test=lr, median_lines=True), img / "km",
                            width_mm=90, dpi=200, formats=("png",))
        cif = cs.cumulative_incidence(pbc, time="years", event="status", cause=2,
                                      by="edema_any", labels=years)
        gt = cs.gray_test(pbc, time="years", event="status", cause=2, by="edema_any")
        cs.plot.save_figure(cs.plot.survival(cif, test=gt), img / "cif", width_mm=90,
                            dpi=200, formats=("png",))
        trial = pbc.dropna(subset=["trt"])
        fit = cs.cox(trial, "age + edema + np.log(bili) + np.log(albumin) + np.log(protime)",
                     time="years", event="died")
        cs.plot.save_figure(cs.plot.forest(fit), img / "forest", width_mm=140, dpi=200,
                            formats=("png",))
        cs.plot.save_figure(cs.plot.ph_diagnostics(fit.check_ph(), labels=years), img / "ph",
                            width_mm=190, dpi=200, formats=("png",))
        fig = matplotlib.pyplot.figure(figsize=(3.5, 2.6))
        cs.plot.segment_map(cs.segment_summary(cohort, stat="prevalence"),
                            ax=fig.add_subplot())
        cs.plot.save_figure(fig, img / "segment_map", width_mm=90, dpi=200, formats=("png",))
        cs.plot.save_figure(cs.plot.flow_diagram(cs.datasets.load_example_cohort(raw=True)),
                            img / "flow", width_mm=140, dpi=200, formats=("png",))
        pt = cohort.patient_table()
        prev = cs.prevalence(pt, outcome="any_calcification", by="etiology")
        ax = cs.plot.prevalence(prev)
        cs.plot.save_figure(ax.figure, img / "prevalence", width_mm=90, dpi=200,
                            formats=("png",))
        matplotlib.pyplot.close("all")


def main() -> None:
    (DOCS / "reference-schema.md").write_text(schema_page(), encoding="utf-8")
    gallery()


if __name__ == "__main__":
    main()
