"""Tests for calcstats._terms (variable/level layout of model terms)."""

from __future__ import annotations

import numpy as np
import pandas as pd

import calcstats as cs
from calcstats._terms import term_layout, variable_name


def test_variable_name():
    assert variable_name("C(etiology)") == "etiology"
    assert variable_name("C(etiology, Treatment('pbc'))") == "etiology"
    assert variable_name("age_at_index") == "age_at_index"


def test_layout_follows_formula_and_marks_reference():
    rng = np.random.default_rng(3)
    d = pd.DataFrame({"y": rng.integers(0, 2, 300), "age": rng.normal(50, 10, 300),
                      "etiology": rng.choice(["pbc", "psc", "hcv"], 300)})
    fit = cs.logistic(d, "y ~ age + C(etiology, Treatment('pbc'))")
    lay = term_layout(fit)
    assert list(lay["variable"]) == ["age", "etiology", "etiology", "etiology", "etiology"]
    assert lay["is_header"].tolist() == [False, True, False, False, False]
    ref = lay.loc[lay["is_reference"]]
    assert ref["level"].tolist() == ["pbc"] and ref["term"].isna().all()
    assert set(lay["term"].dropna()) == set(fit.params.index) - {"Intercept"}


def test_layout_without_design_parses_names():
    class Fake:
        params = pd.Series([0.1, 0.2, 0.3], index=["C(x)[T.b]", "C(x)[T.c]", "z"])

    lay = term_layout(Fake())
    assert lay["variable"].tolist() == ["x", "x", "x", "z"]
    assert lay["level"].tolist() == ["", "b", "c", ""]
