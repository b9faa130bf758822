"""Sections 6-7: time to cirrhosis (Aalen–Johansen with Gray's test, Kaplan–Meier with
the log-rank test), cause-specific Cox and Fine–Gray models, the proportional-hazards
check."""

from __future__ import annotations

import calcstats as cs

from .common import ADJUST, DOUBLE, SINGLE, Study


def curves(s: Study) -> None:
    s.step("Aalen–Johansen CIF with Gray's test; Kaplan–Meier with log-rank")
    st, lab = s.st, s.labels
    by = {"by": "calcification_group", "labels": lab}
    km = cs.kaplan_meier(st, time="time", event="status", cause=1, **by)
    lr = cs.logrank(st, time="time", event="status", cause=1, by="calcification_group")
    cif = cs.cumulative_incidence(st, time="time", event="status", cause=1, **by)
    gray = cs.gray_test(st, time="time", event="status", cause=1, by="calcification_group")
    fig_cif = cs.plot.survival(
        cif,
        test=gray,
        ylabel="Cumulative incidence of cirrhosis",
        percent=True,
        width_mm=SINGLE,
    )
    # the y axis starts at 80%: nine in ten patients stay free of cirrhosis
    fig_km = cs.plot.survival(
        km,
        test=lr,
        ylabel="Free of cirrhosis",
        percent=True,
        ylim=(0.8, 1.0),
        width_mm=SINGLE,
    )
    calcified = {"calcification_group": "Calcification"}
    none = {"calcification_group": "No calcification"}
    s.report.heading("Time to cirrhosis")
    s.report.text(
        "Liver transplant and death preclude cirrhosis, so the cumulative incidence of "
        "cirrhosis is estimated with the Aalen–Johansen estimator and compared with Gray's "
        f"test ({gray.inline()}; Figure 3). At 5 years it was {cif.inline(5, group=calcified)} "
        f"with calcification and {cif.inline(5, group=none)} without. The Kaplan–Meier "
        f"curve (log-rank {lr.inline()}) treats competing events as censoring and is shown "
        "for comparison only (Figure 4)."
    )
    s.figure(
        fig_cif,
        "figure3_cif",
        "Figure 3. Cumulative incidence of cirrhosis by calcification, death and "
        "transplant competing (Aalen–Johansen).",
        SINGLE,
    )
    s.figure(
        fig_km,
        "figure4_km",
        "Figure 4. Kaplan–Meier estimate of freedom from cirrhosis (competing events "
        "censored); the vertical axis starts at 80%.",
        SINGLE,
    )


def models(s: Study) -> None:
    s.step("Cause-specific Cox and Fine–Gray models, univariable and adjusted")
    st, lab = s.st, s.labels
    cs_crude = cs.cox(st, "any_calcification", time="time", event="status", cause=1)
    cs_adj = cs.cox(st, f"any_calcification + {ADJUST}", time="time", event="status", cause=1)
    fg_crude = cs.fine_gray(st, "any_calcification", time="time", event="status", cause=1)
    fg_adj = cs.fine_gray(st, f"any_calcification + {ADJUST}", time="time", event="status", cause=1)
    s.fits.update(cs_crude=cs_crude, cs_adj=cs_adj, fg_adj=fg_adj)
    # the gtsummary table: one model per characteristic beside the adjusted model
    uni = cs.univariable(
        st,
        "status",
        ["any_calcification", *ADJUST.split(" + ")],
        model="cox",
        time="time",
        cause=1,
        labels=lab,
    )
    t5 = cs.merge_tables(
        uni,
        cs.regression_table(cs_adj, labels=lab, counts=False),
        spanners=("Univariable", "Multivariable"),
        title="Table 5. Cause-specific hazard ratios of cirrhosis: "
        "univariable and multivariable Cox models",
    )
    s.save_table(t5, "table5_cox")
    t6 = cs.regression_table(
        cs_crude,
        cs_adj,
        fg_crude,
        fg_adj,
        model_names=[
            "Cause-specific, crude",
            "Cause-specific, adjusted",
            "Subdistribution, crude",
            "Subdistribution, adjusted",
        ],
        labels=lab,
        title="Table 6. Calcification and incident cirrhosis: "
        "cause-specific (Cox) and subdistribution (Fine–Gray) hazard "
        "ratios",
    )
    s.save_table(t6, "table6_cox_finegray")
    fig_forest = cs.plot.forest(
        [cs_crude, cs_adj], model_names=["Crude", "Adjusted"], labels=lab, width_mm=DOUBLE
    )
    s.report.text(
        "Adjusted for age, sex and etiology group (Tables 5 and 6, Figure 5), the "
        "cause-specific hazard ratio of cirrhosis with calcification was "
        f"{cs_adj.inline('any_calcification')}, and the subdistribution hazard ratio "
        f"{fg_adj.inline('any_calcification')}."
    )
    s.report.table(t5)
    s.report.table(t6)
    s.figure(
        fig_forest,
        "figure5_forest",
        "Figure 5. Cause-specific hazard ratios of incident cirrhosis, crude and adjusted.",
        DOUBLE,
    )

    s.step("Proportional-hazards check (scaled Schoenfeld residuals)")
    ph = cs_adj.check_ph()
    s.fits["ph"] = ph
    s.fits["ph_table"] = ph.to_table(
        labels=lab,
        title="Table S1. Test of proportional hazards of the adjusted cause-specific Cox model",
    )
    s.save_table(s.fits["ph_table"], "tableS1_ph")
