"""Tables of every result type read as a paper prints them: no code or column name in any
title, heading, cell or footnote; yes/no instead of 0/1; thousands separators; notes in
words (tests, restricted means, partial effects, the weighting results)."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

import calcstats as cs

CODE = ("C(", "Treatment(", "Surv(", "crr(", "status ==", "np.", "cr(", "~", "cox.zph", "tau =")


@pytest.fixture(scope="module")
def study():
    cohort = cs.datasets.load_example_cohort()
    pt = cohort.patient_table()
    st = cohort.at_risk("cirrhosis", competing=("liver_transplant", "death")).table
    return cohort, pt, st


@pytest.fixture(scope="module")
def tables(study):
    cohort, pt, st = study
    kw = {"time": "time", "event": "status", "cause": 1}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cox = cs.cox(
            st, "any_calcification + age_at_index + C(etiology, Treatment('granulomatous'))", **kw
        )
        ps = cs.propensity(
            pt, "any_calcification ~ age_at_index + sex + C(etiology)", estimand="ATE"
        )
        results = {
            "prevalence": cs.prevalence(pt, outcome="any_calcification", by="etiology"),
            "incidence": cs.incidence_rate(st, by="any_calcification", per=1000, **kw),
            "rate_ratio": cs.rate_ratio(st, by="sex", **kw),
            "mantel_haenszel": cs.mantel_haenszel(
                pt.dropna(subset=["diabetes"]),
                exposure="any_calcification",
                outcome="diabetes",
                strata="sex",
            ),
            "segments": cs.segment_summary(cohort, stat="prevalence"),
            "kaplan_meier": cs.kaplan_meier(st, by="any_calcification", **kw),
            "cumulative_incidence": cs.cumulative_incidence(st, by="any_calcification", **kw),
            "logrank": cs.logrank(st, by="any_calcification", **kw),
            "gray": cs.gray_test(st, by="any_calcification", **kw),
            "cox": cox,
            "fine_gray": cs.fine_gray(st, "any_calcification + age_at_index", **kw),
            "logistic": cs.logistic(pt, "any_calcification ~ C(etiology) + age_at_index + sex"),
            "ph": cox.check_ph(),
            "rmst": cs.rmst(st, tau=5, by="any_calcification", **kw),
            "rmst_ratio": cs.rmst(st, tau=5, by="any_calcification", **kw).contrast("ratio"),
            "adjusted": cs.adjusted_curves(cox, st, variable="any_calcification"),
            "partial": cs.partial_effect(cox, "age_at_index", [40, 50, 60], 50),
            "propensity": ps,
            "balance": cs.balance(
                pt, treatment="any_calcification", covariates=["age_at_index", "sex", "etiology"]
            ),
            "match": cs.match(pt, ps),
            "follow_up": cs.median_followup(st, time="time", event="status", by="sex"),
        }
        ms = cohort.multistate_table()
        it = cohort.interval_table(outcome="calcification")
        sp = cs.state_probabilities(ms, by="sex")
        results |= {
            "state_probabilities": sp,
            "time_in_state": sp.time_in_state(5),
            "multistate_cox": cs.multistate_cox(ms, "any_calcification + age_at_index"),
            "turnbull": cs.turnbull(it, left="left", right="right", by="sex"),
            "parametric": cs.parametric_survival(
                it, "age_at_index + sex", left="left", right="right"
            ),
            "interval_methods": cs.compare_interval_methods(
                it, "age_at_index + sex", left="left", right="right"
            ),
        }
    return {k: r.to_table() for k, r in results.items()}, pt, st


def _texts(t: cs.Table) -> list[str]:
    return [t.title or "", *t.columns, *t.footnotes, *(c for row in t.cells for c in row)]


def test_no_code_and_no_column_names_in_any_table(tables):
    made, pt, st = tables
    columns = {c for c in [*pt.columns, *st.columns] if "_" in c}
    for name, t in made.items():
        for text in _texts(t):
            assert not any(code in text for code in CODE), (name, text)
            assert not any(col in text for col in columns), (name, text)
            assert "\u00a0" not in text, (name, text)


def test_yes_no_and_level_labels_instead_of_codes(tables):
    made, _, _ = tables
    for name in ("kaplan_meier", "cumulative_incidence", "logrank", "rmst", "adjusted"):
        assert [row[0] for row in made[name].cells] == ["No", "Yes"], name
    assert made["prevalence"].cells[0][0] == "Primary biliary cholangitis"
    assert made["rate_ratio"].cells[0][0] == "Female"


def test_counts_carry_thousands_separators(tables):
    made, _, _ = tables
    for name, t in made.items():
        for row in t.cells:
            for cell in row[1:]:
                # a whole number of 4+ digits without its separator (not a decimal part)
                assert not re.search(r"(?<![\d.,])\d{4,}(?![\d.])", cell), (name, cell)
    assert made["incidence"].cells[0][2].count(",") == 1  # person-years
    assert made["logrank"].cells[0][1] == f"{1435:,}"


def test_notes_in_words(tables):
    made, _, _ = tables
    assert made["incidence"].footnotes[0] == (
        "Rate of status 1 per 1,000 units of person-time, with 95% exact Poisson (Garwood) "
        "confidence interval."
    )
    assert made["rate_ratio"].footnotes[0].startswith("Rate ratios of status 1 by sex against ")
    assert (
        made["mantel_haenszel"]
        .footnotes[0]
        .startswith(
            "Mantel–Haenszel OR of diabetes for any calcification (yes vs no), stratified by sex"
        )
    )
    ph = made["ph"]
    assert ph.title == (
        "Test of proportional hazards (scaled Schoenfeld residuals against Kaplan–Meier-"
        "transformed time)"
    )
    assert ph.footnotes[0].startswith("Global test: χ²(")
    assert made["rmst"].footnotes[0] == (
        "Restricted mean survival time: the area under the Kaplan–Meier curve from 0 to 5, "
        "with 95% CI."
    )
    assert (
        made["rmst_ratio"]
        .footnotes[0]
        .startswith("Ratio of restricted mean survival times to 5 against No (reference)")
    )
    partial = made["partial"]
    assert partial.columns == ("Age at index (years)", "HR (95% CI)")
    assert partial.cells[1] == ("50", "1 (reference)")
    assert partial.footnotes[0].startswith(
        "Hazard ratio of age at index at each value against 50 years"
    )
    assert (
        made["propensity"]
        .footnotes[0]
        .startswith(
            "Propensity scores from logistic regression of any calcification on age at index, "
            "sex and etiology; ATE weights"
        )
    )
    balance = made["balance"]
    assert [(i, r[0]) for i, r in zip(balance.indent, balance.cells, strict=True)][:4] == [
        (0, "Age at index (years)"),
        (0, "Sex"),
        (1, "Female"),
        (1, "Male"),
    ]


def test_multi_state_tables_name_states_and_transitions(tables):
    made, _, _ = tables
    sp = made["state_probabilities"]
    assert sp.columns[:2] == ("Sex", "State")
    assert all(c.startswith("Time ") for c in sp.columns[2:])
    assert [r[:2] for r in sp.cells[:2]] == [("Female", "No cirrhosis"), ("Female", "Cirrhosis")]
    assert ("Male", "Liver transplant") in [r[:2] for r in sp.cells]
    assert [r[:2] for r in made["time_in_state"].cells][:2] == [
        ("Female", "No cirrhosis"),
        ("Female", "Cirrhosis"),
    ]
    mc = made["multistate_cox"]
    assert mc.cells[0] == ("No cirrhosis → Cirrhosis", "", "")
    assert [r[0] for r in mc.cells[1:3]] == ["Any calcification", "Age at index (years)"]
    assert mc.indent[:3] == (0, 1, 1)
    assert made["turnbull"].columns[0] == "Sex"  # the curve ends at infinity: finite times


def test_time_units_name_the_columns_when_known(study):
    _, _, st = study
    km = cs.kaplan_meier(
        st, time="time", event="status", cause=1, by="sex", labels=cs.Labels.cohort()
    )
    t = km.to_table(times=[1, 5])
    assert t.columns == ("Sex", "1 years", "5 years")
    plain = cs.kaplan_meier(st, time="time", event="status", cause=1, by="sex")
    assert plain.to_table(times=[1, 5]).columns == ("Sex", "Time 1", "Time 5")


def test_generic_estimate_table_names_its_columns():
    res = cs.EstimateResult(
        pd.DataFrame(
            {
                "group": ["a", "b"],
                "flag": [True, False],
                "n": np.array([1200, 30]),
                "estimate": [1.5, 2.25],
                "conf_low": [1.0, 1.5],
                "conf_high": [2.0, 3.0],
                "p_value": [0.04, 0.5],
            }
        ),
        by=["group"],
        method="A hand-made estimate.",
        conf_level=0.9,
    )
    t = res.to_table()
    assert t.columns == ("Group", "Flag", "N", "Estimate (90% CI)", "p-value")
    assert t.cells[0] == ("a", "Yes", "1,200", "1.50 (1.00–2.00)", "0.040")
    assert t.footnotes == ("A hand-made estimate.",)
