"""table_one shows "—" with a footnote for what the data do not define (never "nan", an
empty cell, a footnote for a test that was not run, or an SMD of 0 by convention)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import calcstats as cs


def _row(t, label):
    return dict(zip(t.columns, next(r for r in t.cells if r[0] == label), strict=True))


def _no_nan(t):
    text = t.to_text() + t.to_csv()
    assert "nan" not in text.lower() and "inf" not in text.lower()


@pytest.fixture()
def small() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "arm": ["a"] * 6 + ["b"],
            "age": [50.0, 61, 47, 70, 66, 58, 44],
            "crp": [1.0, 2, 3, 4, 5, 6, np.nan],
            "dose": 5.0,
            "female": [1, 1, 1, 1, 1, 1, 1],
        }
    )


def test_group_of_one_patient(small):
    t = cs.table_one(small, by="arm", variables=["age"])
    age = _row(t, "Age, mean (SD)")
    # before: "44.0 ()" for the SD of one value, an empty p-value cell under a
    # "† Welch two-sample t-test" footnote, and an empty SMD cell
    assert age == {
        "Characteristic": "Age, mean (SD)",
        "Overall": "56.6 (9.9)",
        "a": "58.7 (8.9)",
        "b": "44.0 (—)",
        "p-value": "—",
        "SMD": "—",
    }
    assert t.footnotes == (
        "Values are mean (SD).",
        "SMD, standardised mean difference.",
        "— Age: no SD: one patient with data in Arm = b; no p-value: one patient with data "
        "in Arm = b (the t-test needs two); no SMD: fewer than two patients with data in "
        "Arm = b.",
    )
    raw = t.to_frame().query("variable == 'age'")
    assert raw["p_value"].isna().all() and raw["smd"].isna().all()
    assert raw.loc[raw["group"] == "b", "sd"].isna().all()
    _no_nan(t)


def test_group_without_data(small):
    t = cs.table_one(small, by="arm", variables=["crp"], nonnormal=["crp"])
    crp = _row(t, "Crp, median [IQR]")
    assert (crp["b"], crp["p-value"], crp["SMD"]) == ("—", "—", "—")
    assert (
        "— Crp: no summary: no patient with data in Arm = b; no p-value: only Arm = a has "
        "data; no SMD: fewer than two patients with data in Arm = b."
    ) in t.footnotes
    assert not any("Wilcoxon" in f for f in t.footnotes)  # no test was run
    sd_b = t.to_frame().query("variable == 'crp' and group == 'b'")["sd"]
    assert sd_b.isna().all()  # not -0.0
    _no_nan(t)


def test_constant_variables(small):
    two = small.assign(arm=["a", "b"] * 3 + ["a"])
    t = cs.table_one(two, by="arm", variables=["dose", "female", "age"])
    dose, female = _row(t, "Dose, mean (SD)"), _row(t, "Female, n (%)")
    # before: SMD 0.000 for a variable that cannot differ, p-value cells left empty
    assert (dose["p-value"], dose["SMD"]) == ("—", "—")
    assert (female["p-value"], female["SMD"]) == ("—", "—")
    assert dose["a"] == "5.0 (0.0)"  # the SD of a constant is 0, and shown
    assert "— Dose: no p-value or SMD: all values are equal." in t.footnotes
    assert "— Female: no p-value or SMD: all patients with data have the same value." in (
        t.footnotes
    )
    assert _row(t, "Age, mean (SD)")["SMD"] not in ("", "—")
    assert not any(f.startswith("— Age") for f in t.footnotes)
    assert t.to_frame().query("variable in ['dose', 'female']")["smd"].isna().all()


def test_groups_that_do_not_vary_but_differ():
    df = pd.DataFrame({"arm": [0] * 5 + [1] * 5, "stent": [0] * 5 + [1] * 5})
    t = cs.table_one(df, by="arm")
    stent = _row(t, "Stent, n (%)")
    # before: the generalised inverse of a zero covariance gave SMD 0.000 for groups
    # that differ completely
    assert stent["SMD"] == "—"
    assert stent["p-value"].startswith("0.008")  # Fisher's exact test is defined
    assert (
        "— Stent: no SMD: no variation within groups that differ, so the difference cannot be "
        "standardised."
    ) in t.footnotes
    assert np.isinf(t.to_frame().query("variable == 'stent'")["smd"]).all()


def test_single_patient_without_groups():
    t = cs.table_one(pd.DataFrame({"age": [61.0]}))
    assert t.cells[1] == ("Age, mean (SD)", "61.0 (—)")
    assert t.footnotes[-1] == "— Age: no SD: one patient with data in Overall."
