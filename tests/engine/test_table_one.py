"""Table 1 of an engine table: counts, means, SDs, exact quartiles, missing, SMDs and
tests from aggregates, the pandas path's table (numbers, cells, footnotes, messages)."""

from __future__ import annotations

import ibis
import numpy as np
import pytest

import calcstats as cs

from .conftest import assert_same

VARS = [
    "sex",
    "age_at_index",
    "etiology",
    "bmi",
    "diabetes",
    "bilirubin_mg_dl",
    "calcification_burden",
    "n_segments",
    "alcohol_use",
]


def _same_table(ref, got) -> None:
    raw = ref.to_frame()
    assert_same(raw, got.to_frame()[raw.columns])
    assert got.cells == ref.cells
    assert got.footnotes == ref.footnotes


@pytest.mark.parametrize(
    ("by", "nonnormal"),
    [
        ("any_calcification", ["bilirubin_mg_dl"]),
        ("calcification_burden", ["bmi", "n_segments"]),
        (None, ["bmi"]),
    ],
)
def test_table_one(patient_pair, by, nonnormal):
    pp, ep = patient_pair
    variables = [v for v in VARS if v != by]
    ref = cs.table_one(pp, by=by, variables=variables, nonnormal=nonnormal)
    got = cs.table_one(ep, by=by, variables=variables, nonnormal=nonnormal)
    _same_table(ref, got)
    if by is not None:
        tests = set(got.to_frame()["test"])
        assert "Pearson's χ² test" in tests
        assert tests & {"Welch two-sample t-test", "one-way analysis of variance"}


def test_default_variables_statistic_digits_and_labels(patient_pair):
    pp, ep = patient_pair
    kw = {
        "by": "sex",
        "statistic": {"age_at_index": "median (Q1, Q3)"},
        "digits": {"bmi": 2},
        "labels": {"age_at_index": "Age, years"},
        "smd": "max",
    }
    _same_table(cs.table_one(pp, **kw), cs.table_one(ep, **kw))


def test_weighted_table_one(patient_pair):
    pp, ep = patient_pair
    pp = pp.assign(w=np.where(pp["sex"] == "F", 1.5, np.where(pp.index % 50 == 0, 0.0, 0.5)))
    full = ep.full
    zero = ibis.row_number().over(order_by=full["__key"]) % 50 == 0
    ep = ep.with_expr(full.mutate(w=ibis.cases((full.sex == "F", 1.5), (zero, 0.0), else_=0.5)))
    kw = {
        "by": "any_calcification",
        "variables": ["age_at_index", "etiology", "bmi"],
        "nonnormal": ["bmi"],
        "weights": "w",
    }
    ref, got = cs.table_one(pp, **kw), cs.table_one(ep, **kw)
    _same_table(ref, got)
    assert any("weight 0" in f or "weight of 0" in f for f in ref.footnotes)


@pytest.mark.parametrize(
    "kw",
    [
        {"by": "diabetes"},  # missing values in by
        {"by": "sex", "variables": ["agee"]},
        {"by": "sex", "variables": ["sex", "bmi"]},
        {"by": "sex", "suppress_below": 5, "weights": "bmi"},
        {"by": "sex", "weights": "bmi"},  # missing weights
    ],
)
def test_input_errors_are_the_pandas_path_errors(patient_pair, kw):
    pp, ep = patient_pair
    with pytest.raises(cs.CalcstatsError) as ref:
        cs.table_one(pp, **kw)
    with pytest.raises(cs.CalcstatsError) as got:
        cs.table_one(ep, **kw)
    assert type(got.value) is type(ref.value)
    assert str(got.value) == str(ref.value)


def test_values_the_table_cannot_use_are_named_as_in_pandas(patient_pair):
    pp, ep = patient_pair
    # infinite values in a continuous variable, and numbers held as text with stray text
    text = pp["age_at_index"].round(1).astype(str).where(pp.index % 5 != 0, "unknown")
    pp = pp.assign(inf_bmi=pp["bmi"].where(pp.index != 3, np.inf), age_text=text)
    full = ep.full
    pos = ibis.row_number().over(order_by=full["__key"])
    number = full.age_at_index.round(1).cast("string")
    age_text = ibis.cases((pos % 5 == 0, "unknown"), else_=number)
    ep = ep.with_expr(
        full.mutate(inf_bmi=ibis.cases((pos == 3, float("inf")), else_=full.bmi), age_text=age_text)
    )
    for var in ("inf_bmi", "age_text"):
        with pytest.raises(cs.DataError) as ref:
            cs.table_one(pp, by="sex", variables=[var])
        with pytest.raises(cs.DataError) as got:
            cs.table_one(ep, by="sex", variables=[var])
        assert str(got.value) == str(ref.value)
