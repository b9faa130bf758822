"""The Mayo Clinic PBC data: classic survival analyses, with R's values alongside.

Reproduces, on the 418 patients of R's ``survival::pbc``:

1. the Mayo model (Cox: age, edema, log bilirubin, log albumin, log prothrombin time) on
   the 312 trial patients, with Efron and Breslow ties, and its ``cox.zph`` check;
2. Kaplan–Meier survival by edema with the log-rank test;
3. the cumulative incidence of death with liver transplant as a competing event
   (Aalen–Johansen), Gray's test by edema;
4. a Fine–Gray model of death;
5. median follow-up by the reverse Kaplan–Meier method.

Each number is printed next to the value R printed (``tests/reference/pbc_reference.json``,
which also records the R call, and ``tests/reference/followup.json``). The tables and
figures show labels (``LABELS``), not the data's column names. Run with
``python examples/pbc_mayo.py [--out DIR]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import calcstats as cs

ROOT = Path(__file__).resolve().parents[1]
R_VALUES = ROOT / "tests" / "reference" / "pbc_reference.json"
R_FOLLOWUP = ROOT / "tests" / "reference" / "followup.json"
MAYO = "age + edema + np.log(bili) + np.log(albumin) + np.log(protime)"
MAYO_TERMS = ["age", "edema", "np.log(bili)", "np.log(albumin)", "np.log(protime)"]
#: the data's columns by name and unit; status codes and groups by what they mean
LABELS = cs.Labels(
    variables={
        "age": "Age",
        "edema": "Edema",
        "bili": "Bilirubin",
        "albumin": "Albumin",
        "protime": "Prothrombin time",
        "edema_group": "Edema",
        "years": "Time since registration",
        "time": "Time since registration",
    },
    units={"age": "years", "years": "years", "time": "days"},
    levels={"status": {0: "Censored", 1: "Liver transplant", 2: "Death"}},
)


def side_by_side(title: str, ours: pd.Series, r: list[float], names: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {"calcstats": ours.to_numpy(dtype=float), "R": np.asarray(r, float)}, index=names
    )
    frame["abs_diff"] = (frame["calcstats"] - frame["R"]).abs()
    print(f"\n{title}\n{frame.to_string(float_format=lambda v: f'{v:.8g}')}")
    return frame.assign(analysis=title)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "pbc")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    ref = json.loads(R_VALUES.read_text())["values"]
    warnings.simplefilter("ignore", cs.DataWarning)

    pbc = cs.datasets.load_pbc()
    pbc = pbc.assign(
        years=pbc["time"] / 365.25,
        died=(pbc["status"] == 2).astype(int),
        edema_group=np.where(pbc["edema"] > 0, "Edema", "No edema"),
    )
    trial = pbc.dropna(subset=["trt"])
    frames = []

    # 1. the Mayo model
    efron = cs.cox(trial, MAYO, time="time", event="died", ties="efron")
    breslow = cs.cox(trial, MAYO, time="time", event="died", ties="breslow")
    print(efron)
    v = ref["cox_mayo_efron"]
    frames.append(
        side_by_side(
            "Mayo model, Efron: coefficients", efron.params[MAYO_TERMS], v["coef"], v["term"]
        )
    )
    frames.append(
        side_by_side(
            "Mayo model, Efron: standard errors", efron.bse[MAYO_TERMS], v["se"], v["term"]
        )
    )
    g = efron.glance().iloc[0]
    frames.append(
        side_by_side(
            "Mayo model, Efron: log-likelihood and concordance",
            pd.Series([g["log_likelihood"], g["concordance"]]),
            [v["loglik"], v["concordance"]],
            ["loglik", "concordance"],
        )
    )
    v = ref["cox_mayo_breslow"]
    frames.append(
        side_by_side(
            "Mayo model, Breslow: coefficients", breslow.params[MAYO_TERMS], v["coef"], v["term"]
        )
    )
    zph = efron.check_ph()
    v = ref["cox_zph_km"]  # one row per term, then GLOBAL (calcstats: the test itself)
    chisq = pd.Series([*zph.tidy(details=True)["statistic"], zph.statistic])
    frames.append(
        side_by_side(
            "cox.zph (KM transform): chi-square",
            chisq.iloc[: len(v["term"])],
            v["chisq"],
            v["term"],
        )
    )

    # 2. Kaplan-Meier by edema, log-rank
    km_all = cs.kaplan_meier(pbc, time="years", event="died")
    at = km_all.at(ref["km_death"]["time"])
    frames.append(
        side_by_side(
            "Kaplan-Meier survival (all patients)",
            at["estimate"],
            ref["km_death"]["surv"],
            [f"S({t})" for t in ref["km_death"]["time"]],
        )
    )
    km = cs.kaplan_meier(pbc, time="years", event="died", by="edema_group", labels=LABELS)
    lr = cs.logrank(pbc, time="years", event="died", by="edema_group")
    print(f"\n{km.median()}\n{lr}")

    # 3. CIF of death, transplant competing; Gray's test
    cif = cs.cumulative_incidence(
        pbc, time="years", event="status", cause=2, by="edema_group", labels=LABELS
    )
    gray = cs.gray_test(
        pbc.assign(edema_any=(pbc["edema"] > 0).astype(int)),
        time="time",
        event="status",
        cause=2,
        by="edema_any",
    )
    v = ref["gray_edema"]
    frames.append(
        side_by_side(
            "Gray's test by edema (death)",
            pd.Series([gray.statistic]),
            [v["stat"][1]],
            ["statistic"],
        )
    )

    # 4. Fine-Gray model of death
    fg_terms = ["age", "np.log(bili)", "np.log(albumin)", "np.log(protime)", "edema"]
    fg = cs.fine_gray(pbc, " + ".join(fg_terms), time="time", event="status", cause=2)
    v = ref["finegray_death"]
    frames.append(
        side_by_side("Fine-Gray (death): coefficients", fg.params[fg_terms], v["coef"], v["term"])
    )
    frames.append(
        side_by_side("Fine-Gray (death): robust SE", fg.bse[fg_terms], v["se"], v["term"])
    )

    # 5. median follow-up (reverse Kaplan-Meier), R's quantile(survfit(Surv(time, status == 0)))
    fu = cs.median_followup(pbc, time="time", event="status", labels=LABELS)
    v = json.loads(R_FOLLOWUP.read_text())["pbc_log"]
    quantities = ["estimate", "conf_low", "conf_high", "q1", "q3"]
    frames.append(
        side_by_side(
            "Median follow-up, reverse Kaplan-Meier (days)",
            fu.tidy()[quantities].iloc[0],
            [v["median"], v["conf_low"], v["conf_high"], v["q1"], v["q3"]],
            ["median", "conf_low", "conf_high", "q1", "q3"],
        )
    )
    print(f"\nMedian follow-up: {fu.inline(digits=0)}")

    # tables and figures, labelled
    mayo = cs.regression_table(
        efron,
        breslow,
        model_names=["Efron ties", "Breslow ties"],
        labels=LABELS,
        title="The Mayo model of death (312 trial patients)",
    )
    mayo.to_docx(args.out / "mayo_model.docx")
    mayo.to_csv(args.out / "mayo_model.csv")
    fu.to_table(title="Median follow-up").to_docx(args.out / "followup.docx")
    with cs.plot.theme("jhep"):
        cs.plot.save_figure(
            cs.plot.survival(km, test=lr),
            args.out / "km_edema",
            width_mm=90,
            formats=("pdf", "png"),
        )
        cs.plot.save_figure(
            cs.plot.survival(cif, test=gray),
            args.out / "cif_death",
            width_mm=90,
            formats=("pdf", "png"),
        )
        cs.plot.save_figure(
            cs.plot.forest(efron, labels=LABELS),
            args.out / "mayo_forest",
            width_mm=140,
            formats=("pdf", "png"),
        )
    table = pd.concat(frames).rename_axis("quantity").reset_index()
    table.to_csv(args.out / "comparison_with_R.csv", index=False)
    worst = table["abs_diff"].max()
    print(f"\nLargest absolute difference from R over {len(table)} quantities: {worst:.2e}")
    print(f"Tables, figures and comparison_with_R.csv written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
