"""calcstats._formula: right-hand-side formulas to design matrices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats._design import build_design as _build
from calcstats._formula import formula_variables


def build_design(data, formula, **kw):
    return _build(data, formula, response=False, intercept=False, **kw)


def design_for_new_data(design, newdata):
    return design.new_data(newdata)


@pytest.fixture
def df() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 60
    return pd.DataFrame(
        {
            "age": rng.uniform(30, 80, n),
            "bili": rng.lognormal(0, 1, n),
            "etiology": rng.choice(["pbc", "psc", "masld"], n),
            "stage": rng.choice([1.0, 2.0, 3.0], n),
            "sex": rng.choice(["F", "M"], n),
        }
    )


def test_names_follow_patsy_without_intercept(df):
    d = build_design(df, "C(etiology) + log(bili) + age:sex + C(stage)")
    assert "Intercept" not in d.columns
    assert "C(etiology)[T.pbc]" in d.columns and "C(etiology)[T.psc]" in d.columns
    assert "C(stage)[T.2.0]" in d.columns  # numpy-2 scalar reprs cleaned
    assert "log(bili)" in d.columns
    np.testing.assert_allclose(d.X["log(bili)"], np.log(df["bili"]))
    assert d.terms["C(etiology)"] == ["C(etiology)[T.pbc]", "C(etiology)[T.psc]"]
    # terms in the order written (patsy would put the categorical terms first)
    assert list(d.terms) == ["C(etiology)", "log(bili)", "age:sex", "C(stage)"]
    assert d.n_dropped == 0 and len(d.rows) == len(df)


def test_spline_is_centred_and_identifiable(df):
    d = build_design(df, "cr(age, df=4)")
    assert d.X.shape[1] == 4
    with_const = np.column_stack([np.ones(len(df)), d.matrix])
    assert np.linalg.matrix_rank(with_const) == 5  # does not span the constant
    new = design_for_new_data(d, df.head(5))
    np.testing.assert_allclose(new, d.matrix[:5], atol=1e-12)  # knots are remembered


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


def test_formula_means_the_same_in_every_model(df):
    """One design builder: the same terms, names and order for Cox and for a GLM."""
    df = df.assign(y=(df["age"] > 55).astype(int), time=df["age"] / 10, ev=1)
    rhs = "C(etiology, Treatment('psc')) + cr(age, df=3) + Q('bili') + I(bili ** 2) + np.log(bili)"
    glm = _build(df, "y ~ " + rhs, response=True)
    surv = _build(df, rhs, response=False, intercept=False)
    assert glm.columns == ["Intercept", *surv.columns]
    assert list(surv.terms) == [
        "C(etiology, Treatment('psc'))",
        "cr(age, df=3)",
        "Q('bili')",
        "I(bili ** 2)",
        "np.log(bili)",
    ]
    assert surv.columns[:2] == [
        "C(etiology, Treatment('psc'))[T.masld]",
        "C(etiology, Treatment('psc'))[T.pbc]",
    ]
    np.testing.assert_allclose(glm.matrix[:, 1:], surv.matrix)


def test_rank_is_checked_on_the_centred_scaled_design(df):
    """x + 1e7 is not a copy of the intercept; x and 1e8*x + 1e12 are collinear."""
    df = df.assign(y=(df["age"] > 55).astype(int))
    d = _build(df, "y ~ I(age + 1e7) + bili", response=True)
    assert d.columns == ["Intercept", "I(age + 1e7)", "bili"]
    with pytest.raises(cs.DataError, match=r"rank deficient.*linear combination"):
        _build(df, "y ~ age + I(1e8 * age + 1e12)", response=True)


def test_scaling_maps_back_exactly():
    from calcstats._design import Scaling

    rng = np.random.default_rng(3)
    X = np.column_stack([np.ones(50), rng.normal(1e12, 1e8, 50), rng.normal(size=50)])
    sc = Scaling.of(X, intercept=0)
    Z = sc.apply(X)
    np.testing.assert_allclose(Z[:, 1:].std(axis=0), 1.0)
    g = np.array([0.3, -1.2, 0.8])
    np.testing.assert_allclose(X @ sc.coef(g), Z @ g, rtol=1e-9)
