"""calcstats._formula: right-hand-side formulas to design matrices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats._formula import build_design, design_for_new_data, formula_variables


@pytest.fixture
def df() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 60
    return pd.DataFrame({
        "age": rng.uniform(30, 80, n),
        "bili": rng.lognormal(0, 1, n),
        "etiology": rng.choice(["pbc", "psc", "masld"], n),
        "stage": rng.choice([1.0, 2.0, 3.0], n),
        "sex": rng.choice(["F", "M"], n),
    })


def test_names_follow_patsy_without_intercept(df):
    d = build_design(df, "C(etiology) + log(bili) + age:sex + C(stage)")
    assert "Intercept" not in d.columns
    assert "C(etiology)[T.pbc]" in d.columns and "C(etiology)[T.psc]" in d.columns
    assert "C(stage)[T.2.0]" in d.columns          # numpy-2 scalar reprs cleaned
    assert "log(bili)" in d.columns
    np.testing.assert_allclose(d.X[:, d.columns.index("log(bili)")], np.log(df["bili"]))
    assert d.terms["C(etiology)"] == [d.columns.index("C(etiology)[T.pbc]"),
                                     d.columns.index("C(etiology)[T.psc]")]
    assert d.n_dropped == 0 and len(d.rows) == len(df)


def test_spline_is_centred_and_identifiable(df):
    d = build_design(df, "cr(age, df=4)")
    assert d.X.shape[1] == 4
    with_const = np.column_stack([np.ones(len(df)), d.X])
    assert np.linalg.matrix_rank(with_const) == 5        # does not span the constant
    new = design_for_new_data(d, df.head(5))
    np.testing.assert_allclose(new, d.X[:5], atol=1e-12)  # knots are remembered


def test_missing_rows_dropped_with_warning(df):
    bad = df.copy()
    bad.loc[[1, 4], "bili"] = np.nan
    bad.loc[7, "sex"] = None
    with pytest.warns(cs.DataWarning, match=r"3 of 60 rows .* bili \(2\), sex \(1\)"):
        d = build_design(bad, "log(bili) + sex", extra=[])
    assert d.n_dropped == 3 and len(d.rows) == 57
    assert d.dropped_columns == ["bili", "sex"]


def test_unknown_column_lists_close_matches(df):
    with pytest.raises(cs.SchemaError, match=r"'bilirubin'.*Did you mean 'bili'"):
        build_design(df, "age + bilirubin")
    assert formula_variables("log(bili) + C(etiology) + age", df) == ["bili", "etiology", "age"]


def test_bad_formulas_and_values(df):
    with pytest.raises(cs.SchemaError, match="left-hand side"):
        build_design(df, "y ~ age")
    with pytest.raises(cs.SchemaError, match="non-empty"):
        build_design(df, "  ")
    with pytest.raises(cs.DataError, match="infinite or undefined"):
        build_design(df.assign(bili=0.0), "log(bili)")
    with pytest.raises(cs.SchemaError, match="lacks the model variable"):
        design_for_new_data(build_design(df, "age + bili"), df[["age"]])
