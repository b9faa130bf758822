"""Sections 1-5: the cohort (ingest, eligibility, flow), Table 1, prevalence of
calcification by etiology with its logistic models, follow-up and incidence."""

from __future__ import annotations

import json

import calcstats as cs

from .common import COMPETING, DOUBLE, ETIOLOGY_GROUPS, GROUPS, OUTCOME, SINGLE, Study
from .common import study_labels as make_labels


def participants(s: Study) -> None:
    s.step("Reading the hospital export with a column map; invalid rows excluded")
    column_map = json.loads((s.data / "column_map.json").read_text())
    # day-first dates at sites B and C (data/README.md); problems exclude the patient
    cohort = cs.read_cohort(s.data, column_map=column_map, date_format="dmy", on_error="exclude")

    s.step("Eligibility: adults, no cirrhosis at baseline")
    s.eligible = cohort.exclude("age_at_index < 18", reason="Age under 18 at index")
    s.cohort = s.eligible.exclude(
        "cirrhosis_at_baseline", reason="Cirrhosis at baseline (prevalent)"
    )
    flow = s.cohort.flow.to_frame()
    n_in, n_out = int(flow["n_before"].iloc[0]), len(s.cohort.patients)
    fig = cs.plot.flow_diagram(s.cohort, width_mm=DOUBLE)

    s.step("Deriving the patient table (calcification phenotype) and survival tables")
    at_risk = s.cohort.at_risk(OUTCOME, competing=COMPETING)
    s.labels = make_labels(at_risk.status)
    pt = s.cohort.patient_table()
    st = at_risk.table.assign(etiology_group=lambda d: d["etiology"].map(ETIOLOGY_GROUPS))
    tv = s.cohort.counting_process_table(
        outcome=OUTCOME, exposure="calcification", competing=COMPETING
    )
    s.tv = tv.assign(etiology_group=tv["etiology"].map(ETIOLOGY_GROUPS))
    s.pt = pt.assign(calcification_group=pt["any_calcification"].map(GROUPS))
    s.st = st.assign(calcification_group=st["any_calcification"].map(GROUPS))
    fu = cs.median_followup(s.st, time="time", event="status", labels=s.labels)
    s.report.heading("Participants")
    s.report.text(
        f"The export held {n_in:,} patients; {n_in - n_out:,} were excluded (invalid "
        f"records, age under 18, cirrhosis at baseline), leaving {n_out:,} for analysis "
        "(Figure 1). Every exclusion is listed in the participant flow. Median follow-up, "
        f"by the reverse Kaplan–Meier method, was {fu.inline()}."
    )
    s.figure(fig, "figure1_flow", "Figure 1. Participant flow (STROBE).", DOUBLE)


def baseline(s: Study) -> None:
    s.step("Table 1 by calcification status")
    t1 = cs.table_one(
        s.pt,
        by="calcification_group",
        variables=[
            "age_at_index",
            "sex",
            "etiology",
            "bilirubin_mg_dl",
            "albumin_g_dl",
            "platelets_10e9_l",
            "inr",
            "bmi",
            "diabetes",
        ],
        nonnormal=["bilirubin_mg_dl", "platelets_10e9_l", "inr"],
        digits={"platelets_10e9_l": 0, "inr": 2},
        # canonical columns print with the schema's labels and units ("Age at index
        # (years)", sex "Female"); the study's own columns are labelled in study_labels
        labels=s.labels,
        title="Table 1. Baseline characteristics by intrahepatic calcification",
    )
    s.save_table(t1, "table1_baseline")
    s.report.heading("Baseline characteristics")
    s.report.table(t1)


def prevalence(s: Study) -> None:
    s.step("Prevalence of calcification by etiology; crude and adjusted logistic models")
    pt = s.pt
    prev = cs.prevalence(
        pt, outcome="any_calcification", by="etiology", method="wilson", labels=s.labels
    )
    t2 = prev.to_table(title="Table 2. Prevalence of calcification by etiology")
    s.save_table(t2, "table2_prevalence")
    ax = cs.plot.prevalence(prev, width_mm=SINGLE)
    counts = pt.groupby("etiology")["any_calcification"].agg(["sum", "count"])
    sparse = bool(((counts["sum"] < 5) | (counts["count"] - counts["sum"] < 5)).any())
    method = "firth" if sparse else "ml"
    # reference: the most common etiology (a stable comparator)
    ref = pt["etiology"].value_counts().index[0]
    etiology = f"C(etiology, Treatment('{ref}'))"
    crude_or = cs.logistic(pt, f"any_calcification ~ {etiology}", method=method)
    adj_or = cs.logistic(pt, f"any_calcification ~ {etiology} + age_at_index + sex", method=method)
    t3 = cs.regression_table(
        crude_or,
        adj_or,
        model_names=["Crude", "Adjusted"],
        labels=s.labels,
        title="Table 3. Etiology and intrahepatic calcification: odds "
        "ratios from logistic regression",
    )
    s.save_table(t3, "table3_logistic")
    s.report.heading("Calcification and etiology")
    s.report.text(
        f"{int(pt['any_calcification'].sum()):,} of {len(pt):,} patients "
        f"({100 * pt['any_calcification'].mean():.1f}%) had calcification at baseline "
        "(Table 2, Figure 2). Odds ratios are from logistic regression"
        + (
            " with Firth's penalised likelihood because some etiologies had fewer than five"
            " patients with or without calcification (Table 3)."
            if sparse
            else " (Table 3)."
        )
    )
    s.report.table(t2)
    s.figure(
        ax.figure,
        "figure2_prevalence",
        "Figure 2. Prevalence of calcification by etiology (Wilson 95% CI).",
        SINGLE,
    )
    s.report.table(t3)


def incidence(s: Study) -> None:
    s.step("Follow-up and incidence of cirrhosis per 1,000 person-years by burden")
    fu_burden = cs.median_followup(
        s.st, time="time", event="status", by="calcification_burden", labels=s.labels
    )
    ir = cs.incidence_rate(
        s.st,
        time="time",
        event="status",
        cause=1,
        by="calcification_burden",
        per=1000,
        labels=s.labels,
    )
    t4 = cs.merge_tables(
        fu_burden,
        ir,
        spanners=("Follow-up", "Cirrhosis"),
        title="Table 4. Follow-up and incidence of cirrhosis by calcification burden",
    )
    s.save_table(t4, "table4_incidence")
    s.report.heading("Incidence of cirrhosis")
    s.report.table(t4)
