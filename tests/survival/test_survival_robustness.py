"""Robustness of the survival functions to how analysts' data frames arrive."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats._errors import DataError, SchemaError


@pytest.fixture()
def trial() -> pd.DataFrame:
    from pathlib import Path

    df = pd.read_csv(Path(__file__).resolve().parents[2] / "data" / "pbc.csv")
    df = df.dropna(subset=["trt", "stage"]).reset_index(drop=True)
    df["years"] = df["time"] / 365.25
    df["dead"] = (df["status"] == 2).astype(int)
    df["arm"] = df["trt"].map({1: "pen", 2: "plac"})
    return df


def test_cox_categorical_with_numeric_categories_is_a_factor(trial):
    # to_numpy() used to turn a Categorical of 1.0..4.0 into one numeric covariate
    d = trial.assign(stage_c=pd.Categorical(trial["stage"]))
    got = cs.cox(d, "stage_c", time="years", event="dead")
    ref = cs.cox(trial, "C(stage)", time="years", event="dead")
    assert list(got.params.index) == ["stage_c[T.2.0]", "stage_c[T.3.0]", "stage_c[T.4.0]"]
    np.testing.assert_allclose(got.params.to_numpy(), ref.params.to_numpy(), rtol=1e-10)


def test_cox_categorical_keeps_category_order_and_ignores_unused(trial):
    # reference = first category (as the regression models), not the alphabetical first
    d = trial.assign(arm=pd.Categorical(trial["arm"], categories=["unused", "plac", "pen"]))
    got = cs.cox(d, "age + arm", time="years", event="dead")
    ref = cs.cox(trial, "age + C(arm, Treatment('plac'))", time="years", event="dead")
    assert list(got.params.index) == ["age", "arm[T.pen]"]
    np.testing.assert_allclose(got.params.to_numpy(), ref.params.to_numpy(), rtol=1e-10)
    fg = cs.fine_gray(d, "age + arm", time="years", event="status", cause=2)
    assert list(fg.params.index) == ["age", "arm[T.pen]"]


def test_object_column_of_numbers_is_refused(trial):
    d = trial.assign(age=trial["age"].astype(object))
    with pytest.raises(SchemaError, match=r"'age'.*dtype object.*pd\.to_numeric"):
        cs.cox(d, "age", time="years", event="dead")
    with pytest.raises(SchemaError, match=r"'age'.*dtype object"):
        cs.fine_gray(d, "age", time="years", event="status", cause=2)


def test_unquoted_odd_names_get_a_q_hint(trial):
    d = trial.rename(columns={"age": "age.y", "arm": "treat arm"})
    with pytest.raises(SchemaError, match=r"""Q\('age\.y'\)"""):
        cs.cox(d, "age.y", time="years", event="dead")
    with pytest.raises(SchemaError, match=r"Q\('my col'\)"):
        cs.cox(d, "treat arm", time="years", event="dead")
    fit = cs.cox(d, 'Q("age.y") + Q("treat arm")', time="years", event="dead")
    assert list(fit.params.index) == ['Q("age.y")', 'Q("treat arm")[T.plac]']


@pytest.mark.parametrize("index", ["int", "multi"])
def test_missing_value_message_shows_plain_row_label(trial, index):
    d = trial.assign(dead=trial["dead"].astype("Int64"))
    d.loc[3, "dead"] = pd.NA
    if index == "multi":
        d.index = pd.MultiIndex.from_arrays([np.arange(len(d)) % 2, np.arange(len(d))])
    label = "3" if index == "int" else r"\(1, 3\)"
    with pytest.raises(DataError, match=rf"first at row {label}\)") as err:
        cs.kaplan_meier(d, time="years", event="dead")
    assert "np.int64" not in str(err.value)


def test_bool_and_float_coded_events_match_integer_codes(trial):
    a = cs.cumulative_incidence(trial, time="years", event="status", cause=2, by="arm").tidy()
    b = cs.cumulative_incidence(
        trial.assign(status=trial["status"].astype(float)),
        time="years",
        event="status",
        cause=2,
        by="arm",
    ).tidy()
    pd.testing.assert_frame_equal(a, b)
    k1 = cs.kaplan_meier(trial, time="years", event="dead", by="arm").tidy()
    k2 = cs.kaplan_meier(
        trial.assign(dead=trial["dead"].astype(bool)), time="years", event="dead", by="arm"
    ).tidy()
    pd.testing.assert_frame_equal(k1, k2)


def test_adjusted_curves_with_two_categorical_strata(trial):
    # stratum labels were sorted alphabetically while the codes followed category order,
    # so each row got another stratum's baseline hazard (S(5) 0.29 instead of 0.73)
    b = trial.assign(ed=np.where(trial["edema"] > 0, "yes", "no"))
    c = b.assign(
        sex=pd.Categorical(b["sex"], categories=["m", "f"]),
        ed=pd.Categorical(b["ed"], categories=["yes", "no"]),
    )
    plain = cs.cox(b, "age + arm", time="years", event="dead", strata=["sex", "ed"])
    cat = cs.cox(c, "age + arm", time="years", event="dead", strata=["sex", "ed"])
    a1 = cs.adjusted_curves(plain, b, variable="arm", times=[2, 5]).tidy()
    a2 = cs.adjusted_curves(cat, c, variable="arm", times=[2, 5]).tidy()
    pd.testing.assert_frame_equal(a1, a2, rtol=1e-10)
    assert sorted(cat.input.strata["sex"].astype(str)) == sorted(
        plain.input.strata["sex"].astype(str)
    )


def test_single_level_term_and_dates_are_refused(trial):
    women = trial[trial["sex"] == "f"]
    # C(sex) has one level among women: it used to drop silently out of the model
    with pytest.raises(DataError, match=r"term\(s\) 'C\(sex\)'.*single value"):
        cs.cox(women, "C(sex) + age", time="years", event="dead")
    with pytest.raises(DataError, match=r"term\(s\) 'site'"):
        cs.fine_gray(trial.assign(site="A"), "site", time="years", event="status", cause=2)
    with pytest.raises(SchemaError, match=r"'entry'.*dates"):
        cs.cox(
            trial.assign(entry=pd.Timestamp("2020-01-01")),
            "entry + age",
            time="years",
            event="dead",
        )
