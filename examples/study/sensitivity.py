"""Sections 8-12: sensitivity analyses (time-varying exposure, multiple imputation,
E-value, Fine–Gray) with their forest plot, the Couinaud segment map, and the comparison
of the main estimates with the simulator's truth."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import calcstats as cs

from .common import ADJUST, DOUBLE, OUTCOME, Study, estimate_row, truth_table


def sensitivity(s: Study) -> None:
    st, m = s.st, s.m_imputations
    s.step("Sensitivity: calcification as a time-varying exposure (no immortal time)")
    tv_fit = cs.cox(
        s.tv, f"calcification + {ADJUST}", time="stop", start="start", event="status", cause=1
    )
    s.fits["tv"] = tv_fit

    s.step(f"Multiple imputation of missing labs (m = {m}) and pooled Cox model")
    mi_cols = [
        "time",
        "status",
        "any_calcification",
        "age_at_index",
        "sex",
        "etiology_group",
        "bilirubin_mg_dl",
        "albumin_g_dl",
    ]
    imp = cs.mice(st[mi_cols], m=m, seed=2026, progress=False)
    mi_formula = f"any_calcification + {ADJUST} + np.log(bilirubin_mg_dl) + albumin_g_dl"
    pooled = cs.pool(imp.fit(lambda d: cs.cox(d, mi_formula, time="time", event="status", cause=1)))
    adj_row = estimate_row(s.fits["cs_adj"], "any_calcification")
    ev = cs.evalue(
        adj_row["estimate"],
        adj_row["conf_low"],
        adj_row["conf_high"],
        measure="HR",
        rare=bool((st["status"] == 1).mean() < 0.15),
    )
    ev_ci = ev.ci if ev.ci is not None else float("nan")
    analyses = (
        ("Cause-specific Cox (baseline exposure)", s.fits["cs_adj"], "any_calcification"),
        ("Time-varying exposure", tv_fit, "calcification"),
        ("Multiple imputation, labs added", pooled, "any_calcification"),
        ("Fine–Gray (subdistribution)", s.fits["fg_adj"], "any_calcification"),
    )
    cols = ["estimate", "conf_low", "conf_high", "p_value"]
    sens = pd.DataFrame(
        [{"label": name, **estimate_row(res, term)[cols].to_dict()} for name, res, term in analyses]
    )
    sens.to_csv(s.out / "tables" / "sensitivity.csv", index=False)
    t7 = cs.Table(
        pd.DataFrame(
            {
                "Analysis": sens["label"],
                "HR (95% CI)": cs.format_ci(sens["estimate"], sens["conf_low"], sens["conf_high"]),
                "p-value": cs.format_p(sens["p_value"]),
            }
        ),
        title="Table 7. Hazard ratio of calcification across sensitivity analyses",
        footnotes=[
            "All models adjusted for age at index, sex and etiology group. Time-varying: "
            "calcification counts from the imaging study that first shows it. Multiple "
            f"imputation: {m} imputed data sets, Rubin's rules, bilirubin (log) "
            "and albumin added. Fine–Gray: subdistribution hazard ratio.",
            f"E-value of the adjusted hazard ratio: {ev.point:.2f} (confidence limit: "
            f"{ev_ci:.2f}).",
        ],
        raw=sens,
    )
    s.save_table(t7, "table7_sensitivity")

    s.step("Forest plot of the sensitivity analyses")
    fig_sens = cs.plot.forest(sens, measure="Hazard ratio", width_mm=DOUBLE)
    s.report.heading("Sensitivity analyses")
    s.report.text(
        "The association was re-estimated with calcification as a time-varying exposure "
        "(new calcification on follow-up imaging changes the exposure from that date, so no "
        "immortal time is credited), after multiple imputation of missing laboratory values "
        f"(m = {m}, Rubin's rules), and as a subdistribution hazard ratio "
        f"(Table 7, Figure 6). The E-value of the adjusted hazard ratio is {ev.point:.2f} "
        f"(confidence limit: {ev_ci:.2f}): the minimum strength of association an "
        "unmeasured confounder would need with both calcification and cirrhosis to explain "
        "the estimate away."
    )
    s.report.table(t7)
    s.figure(
        fig_sens,
        "figure6_sensitivity",
        "Figure 6. Hazard ratio of calcification across sensitivity analyses.",
        DOUBLE,
    )


def segments(s: Study) -> None:
    s.step("Couinaud segment map of baseline calcifications")
    fig, axes = plt.subplots(1, 2, figsize=(DOUBLE / 25.4, 2.6), layout="constrained")
    for ax, stat, title in (
        (axes[0], "prevalence", "Share of patients"),
        (axes[1], "median_size", "Median size"),
    ):
        cs.plot.segment_map(cs.segment_summary(s.cohort, stat=stat), ax=ax, title=title)
    s.report.heading("Where the calcifications lie")
    s.figure(
        fig,
        "figure7_segments",
        "Figure 7. Calcifications at baseline by Couinaud segment: share of patients "
        "(left) and median size (right).",
        DOUBLE,
    )


def truth(s: Study) -> None:
    s.step("Comparison with the simulator's true hazard ratios")
    truth = s.truth
    true_hrs = truth.hazard_ratios(OUTCOME, time_varying=True)
    true_hr = float(true_hrs["calcification"])
    # the generating model: calcification acts from the study that first shows it
    with warnings.catch_warnings():
        # etiologies without a single cirrhosis have infinite estimates (monotone
        # likelihood); they are left out of the coverage count below
        warnings.simplefilter("ignore", cs.ConvergenceWarning)
        true_fit = cs.cox(
            s.tv,
            truth.formula(OUTCOME, time_varying=True),
            time="stop",
            start="start",
            event="status",
            cause=1,
        )
    fits = (
        ("Crude, baseline exposure", s.fits["cs_crude"], "any_calcification"),
        ("Adjusted, baseline exposure", s.fits["cs_adj"], "any_calcification"),
        ("Adjusted, time-varying exposure", s.fits["tv"], "calcification"),
        ("True model, time-varying exposure", true_fit, "calcification"),
    )
    rows = [
        {
            "name": name,
            "truth": true_hr,
            **estimate_row(res, term)[["estimate", "conf_low", "conf_high"]].to_dict(),
        }
        for name, res, term in fits
    ]
    t8 = truth_table(
        rows,
        first="Model",
        measure="HR",
        title="Table 8. Hazard ratio of calcification: estimates against the truth",
        footnotes=[
            "True HR: the cause-specific hazard ratio of calcification the data were "
            "simulated with, acting from the imaging study that first shows it."
        ],
    )
    t8.to_frame().rename(columns={"name": "model", "truth": "true_hr"}).to_csv(
        s.out / "tables" / "truth_comparison.csv", index=False
    )
    s.save_table(t8, "table8_truth")
    est = true_fit.tidy().set_index("term")
    terms = [t for t in true_hrs.index if t in est.index and np.isfinite(est.loc[t, "conf_high"])]
    covered = sum(est.loc[t, "conf_low"] <= true_hrs[t] <= est.loc[t, "conf_high"] for t in terms)
    s.report.heading("Comparison with the known truth")
    s.report.text(
        f"The data were simulated with a true cause-specific hazard ratio of {true_hr:g} "
        "for calcification, acting from the imaging study that first shows it. Etiology "
        "confounds calcification and cirrhosis, so the crude estimate is biased; "
        "classifying exposure at baseline only also misclassifies patients whose "
        "calcification appears later, which attenuates the estimate. The time-varying "
        f"analysis recovers the truth: the true model's 95% CIs cover {covered} of the "
        f"{len(terms)} estimable true hazard ratios (etiologies without any cirrhosis "
        "have no finite estimate; Table 8)."
    )
    s.report.table(t8)
