"""Section 14: liver progression as a multi-state model. The state diagram, state
probabilities by calcification status (Aalen–Johansen), expected time in each state
within 5 years, and per-transition hazard ratios of calcification next to the true
ones."""

from __future__ import annotations

import warnings

import pandas as pd

import calcstats as cs

from .common import DOUBLE, SINGLE, Study, estimate_row, truth_table

#: the transitions the simulator gives a proportional-hazards truth (transitions into
#: death add background mortality in attained age; transplants are too few)
TRANSITIONS = (
    "no_cirrhosis -> cirrhosis",
    "no_cirrhosis -> decompensation",
    "cirrhosis -> decompensation",
)
TAU = 5.0


def multistate(s: Study) -> None:
    s.step("Multi-state model of liver progression: state probabilities and transitions")
    # adults with and without cirrhosis at baseline: prevalent cases start in cirrhosis
    at_risk = s.eligible.multistate_at_risk()
    ms = at_risk.table
    lab = s.labels
    n_patients, n_cirrhotic = (
        ms["patient_id"].nunique(),
        int(ms.groupby("patient_id", sort=False)["from_state"].first().eq("cirrhosis").sum()),
    )
    fig_states = cs.plot.transitions(ms, labels=lab, width_mm=SINGLE)
    sp = cs.state_probabilities(ms, by="any_calcification", labels=lab)
    fig_sp = cs.plot.state_probabilities(sp, risk_times=[0, 3, 6, 9, 12], width_mm=DOUBLE)
    t12 = sp.to_table(
        times=[1, 3, 5],
        title="Table 12. Probability of each state of liver disease at 1, 3 and 5 years by "
        "calcification at baseline",
    )
    s.save_table(t12, "table12_state_probabilities")
    t13, tis = _time_in_state(sp, lab)
    s.save_table(t13, "table13_time_in_state")

    # the true model of each of these transitions: calcification, etiology, age and sex
    formula = s.truth.transition_formula(*TRANSITIONS[0].split(" -> "))
    with warnings.catch_warnings():
        # etiologies without a transition have no finite coefficient (monotone
        # likelihood); the hazard ratio of calcification is unaffected
        warnings.simplefilter("ignore", cs.ConvergenceWarning)
        fit = cs.multistate_cox(ms, formula, transitions=list(TRANSITIONS), labels=lab)
    events = (
        ms.loc[ms["to_state"] != "censored"]
        .groupby(ms["from_state"].astype(str) + " -> " + ms["to_state"].astype(str))
        .size()
    )
    rows = []
    for tr in TRANSITIONS:
        a, b = tr.split(" -> ")
        est = estimate_row(fit, "any_calcification", transition=tr)
        name = f"{lab.level('from_state', a)} → {lab.level('from_state', b)}"
        rows.append(
            {
                "name": f"{name} ({int(events.get(tr, 0)):,} transitions)",
                "truth": float(s.truth.transition_hazard_ratios(a, b)["any_calcification"]),
                **est[["estimate", "conf_low", "conf_high"]].to_dict(),
            }
        )
    t14 = truth_table(
        rows,
        first="Transition",
        measure="HR",
        title="Table 14. Hazard ratio of calcification for each transition, against the truth",
        footnotes=[
            "Transition-specific Cox models (Efron ties) adjusted for etiology, age and sex, "
            "robust variance clustered on the patient; calcification at baseline.",
            "True HR: the transition hazard ratio the data were simulated with.",
        ],
    )
    s.save_table(t14, "table14_transition_hr")
    covered = int(t14.to_frame()["covers_truth"].sum())

    yes, no = (tis.loc[(g, "no_cirrhosis")] for g in (1, 0))
    s.report.heading("Liver progression: a multi-state view")
    s.report.text(
        "Cirrhosis is one step of a progression that can also end in decompensation, "
        "transplant or death. The multi-state analysis follows all "
        f"{n_patients:,} adults, including the {n_cirrhotic:,} with cirrhosis at baseline, "
        "who start in the cirrhosis state (Figure 11). State probabilities are "
        "Aalen–Johansen estimates by calcification at baseline (Figure 12, Table 12). "
        f"Within {TAU:g} years, patients with calcification spent {yes['estimate']:.2f} "
        f"years (95% CI {yes['conf_low']:.2f}–{yes['conf_high']:.2f}) free of cirrhosis "
        f"on average and those without {no['estimate']:.2f} years "
        f"({no['conf_low']:.2f}–{no['conf_high']:.2f}; Table 13), partly because more "
        "patients without calcification had cirrhosis at baseline. Calcification was "
        "simulated to raise the hazard of cirrhosis only (true hazard ratio "
        f"{rows[0]['truth']:g}; 1 for the other transitions); the 95% CIs of the "
        f"transition-specific hazard ratios cover the truth for {covered} of "
        f"{len(rows)} transitions (Table 14)."
    )
    s.figure(
        fig_states,
        "figure11_states",
        "Figure 11. States of liver disease and the transitions observed between them "
        "(n: patients who were ever in the state; arrows: number of transitions).",
        SINGLE,
    )
    s.figure(
        fig_sp,
        "figure12_state_probabilities",
        "Figure 12. Probability of each state over time by calcification at baseline "
        "(stacked; Aalen–Johansen), with the numbers at risk in each state.",
        DOUBLE,
    )
    s.report.table(t12)
    s.report.table(t13)
    s.report.table(t14)


def _time_in_state(
    sp: cs.StateProbabilitiesResult, lab: cs.Labels
) -> tuple[cs.Table, pd.DataFrame]:
    """Expected (restricted mean) years in each state within ``TAU`` years, one column
    per calcification group."""
    tidy = sp.time_in_state(TAU).tidy()
    tis = tidy.set_index(["any_calcification", "state"])
    body = pd.DataFrame({"State": [lab.level("from_state", st) for st in sp.states]})
    for g in (1, 0):
        body[lab.level("any_calcification", g)] = [
            cs.format_ci(*tis.loc[(g, st), ["estimate", "conf_low", "conf_high"]])
            for st in sp.states
        ]
    table = cs.Table(
        body,
        title=f"Table 13. Expected years in each state within {TAU:g} years by calcification "
        "at baseline",
        spanners=[
            (
                "Any calcification, years (95% CI)",
                [lab.level("any_calcification", g) for g in (1, 0)],
            )
        ],
        footnotes=[
            "Restricted mean time in each state: the area under its Aalen–Johansen curve up "
            f"to {TAU:g} years (the states add up to {TAU:g} years); infinitesimal-jackknife "
            "standard errors, Wald intervals."
        ],
        raw=tidy,
    )
    return table, tis
