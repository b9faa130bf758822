"""Table 1 numbers from engine aggregates: counts, means, SDs, exact quartiles, missing,
SMDs and tests, equal to ``table_one(...).to_frame()``."""

from __future__ import annotations

import ibis
import numpy as np
import pytest
from conftest import assert_same

import calcstats as cs
from calcstats.describe._table_one_data import EngineData, FrameData, raw_statistics

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


@pytest.mark.parametrize(
    ("by", "nonnormal"),
    [
        ("any_calcification", ["bilirubin_mg_dl"]),
        ("calcification_burden", ["bmi", "n_segments"]),
        (None, ["bmi"]),
    ],
)
def test_table_one_numbers(patient_pair, by, nonnormal):
    pp, ep = patient_pair
    variables = [v for v in VARS if v != by]
    ref = cs.table_one(pp, by=by, variables=variables, nonnormal=nonnormal).to_frame()
    frame = raw_statistics(FrameData(pp, by, None), variables=variables, nonnormal=nonnormal)
    got = raw_statistics(EngineData(ep, by, None), variables=variables, nonnormal=nonnormal)
    assert_same(ref, frame[ref.columns])  # the provider reads the frame as table_one does
    assert_same(ref, got[ref.columns])
    if by is not None:
        assert {"Pearson's χ² test", "Welch two-sample t-test"} <= set(got["test"]) or {
            "Pearson's χ² test",
            "one-way analysis of variance",
        } <= set(got["test"])


def test_weighted_table_one_numbers(patient_pair):
    pp, ep = patient_pair
    pp = pp.assign(w=np.where(pp["sex"] == "F", 1.5, 0.5))
    ep = ep.with_expr(ep.full.mutate(w=ibis.cases((ep.full.sex == "F", 1.5), else_=0.5)))
    variables = ["age_at_index", "etiology", "bmi"]
    ref = cs.table_one(
        pp, by="any_calcification", variables=variables, nonnormal=["bmi"], weights="w"
    ).to_frame()
    got = raw_statistics(
        EngineData(ep, "any_calcification", "w"), variables=variables, nonnormal=["bmi"]
    )
    assert_same(ref, got[ref.columns])


def test_input_checks_as_in_pandas(patient_pair):
    pp, ep = patient_pair
    with pytest.raises(cs.DataError) as ref:
        cs.table_one(pp, by="diabetes")
    with pytest.raises(cs.DataError) as got:
        EngineData(ep, "diabetes", None).check_inputs()
    assert str(got.value) == str(ref.value)
