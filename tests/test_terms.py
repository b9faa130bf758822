"""calcstats._terms: the display rows of a model's terms (shared by tables and forest)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats import InvalidParameterError
from calcstats._terms import (
    coefficient_labels,
    display_labels,
    term_label,
    term_rows,
    union_rows,
)
from calcstats.results import ModelResult


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 400
    return pd.DataFrame(
        {
            "y": rng.integers(0, 2, n),
            "age_at_index": rng.normal(50, 10, n),
            "etiology": rng.choice(["pbc", "psc", "chronic_hcv"], n),
            "x": rng.normal(size=n),
        }
    )


def _shown(rows):
    return [(r.kind, r.indent, r.label, r.coefficient) for r in rows]


def test_formula_order_reference_level_and_schema_labels(data):
    fit = cs.logistic(data, "y ~ age_at_index + C(etiology, Treatment('psc'))")
    rows = term_rows(fit, display_labels([fit], None))
    et = "C(etiology, Treatment('psc'))"
    assert _shown(rows) == [
        ("coefficient", 0, "Age at index (years)", "age_at_index"),
        ("header", 0, "Etiology", None),
        # the schema's level order (pbc, psc, ..., chronic_hcv), the reference where it falls
        ("level", 1, "Primary biliary cholangitis", f"{et}[T.pbc]"),
        ("reference", 1, "Primary sclerosing cholangitis", None),
        ("level", 1, "Chronic hepatitis C", f"{et}[T.chronic_hcv]"),
    ]
    assert {r.coefficient for r in rows} - {None} == set(fit.params.index) - {"Intercept"}
    assert rows[3].key == ("reference", et) and rows[2].key == ("coefficient", f"{et}[T.pbc]")
    assert rows[3].level == "psc" and rows[3].columns == tuple(fit.terms[et])


def test_user_labels_rename_and_reorder_levels(data):
    fit = cs.logistic(data, "y ~ C(etiology) + x")
    lab = display_labels(
        [fit],
        cs.Labels(variables={"x": "Score"}, levels={"etiology": {"psc": "PSC", "pbc": "PBC"}}),
    )
    assert [r.label for r in term_rows(fit, lab)] == [
        "Etiology",
        "PSC",
        "PBC",
        "Chronic hepatitis C",
        "Score",
    ]
    assert term_rows(fit, lab, intercept=True)[0].label == "Intercept"


def test_other_codings_show_one_row_per_coefficient(data):
    fit = cs.logistic(data, "y ~ C(etiology, Sum) + cr(x, df=3)")
    rows = term_rows(fit, cs.Labels())
    assert [(r.kind, r.indent) for r in rows] == [("header", 0)] + [("coefficient", 1)] * 2 + [
        ("header", 0)
    ] + [("coefficient", 1)] * 3
    assert rows[3].label == "X (spline)" and rows[4].label == "X (spline, basis 1)"
    assert not any(r.categorical for r in rows)


def test_full_rank_indicators_have_no_reference(data):
    fit = cs.linear(data, "x ~ C(etiology) - 1")
    rows = term_rows(fit, cs.Labels())
    assert [r.kind for r in rows] == ["header", "level", "level", "level"]


def test_result_without_design_uses_its_terms():
    res = ModelResult(
        pd.Series({"C(g)[T.b]": 0.1, "C(g)[T.c]": 0.2, "z": 0.3}),
        np.eye(3) / 100,
        terms={"C(g)": ["C(g)[T.b]", "C(g)[T.c]"], "z": ["z"]},
    )
    rows = term_rows(res, cs.Labels(variables={"g": "Group"}))
    assert _shown(rows) == [
        ("header", 0, "Group", None),
        ("coefficient", 1, "b", "C(g)[T.b]"),
        ("coefficient", 1, "c", "C(g)[T.c]"),
        ("coefficient", 0, "Z", "z"),
    ]


def test_term_label_prefers_a_label_of_the_term_as_written():
    lab = cs.Labels(variables={"np.log(bili)": "Bilirubin, log", "edema": "Edema"})
    assert term_label("np.log(bili)", lab) == "Bilirubin, log"
    assert term_label("np.log(chol)", lab) == "Chol (log)"
    assert term_label("C(edema)[T.1.0]", lab) == "Edema = 1.0"  # the name's text


def test_coefficient_labels_read_like_the_table_rows():
    pbc = cs.datasets.load_pbc()
    fit = cs.cox(pbc, "C(edema) + np.log(bili)", time="time", event="status", cause=2)
    assert coefficient_labels(fit, cs.Labels(variables={"edema": "Edema"})) == {
        "C(edema)[T.0.5]": "Edema = 0.5",
        "C(edema)[T.1.0]": "Edema = 1",
        "np.log(bili)": "Bili (log)",
    }


def test_union_rows_take_each_term_from_the_first_model_and_select(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = cs.logistic(data, "y ~ C(etiology)")
        b = cs.logistic(data, "y ~ x + C(etiology)")
    lab = cs.Labels()
    rows = union_rows([a, b], lab)
    assert [(i, r.label) for i, r in rows][:1] == [(0, "Etiology")]
    assert [(i, r.label) for i, r in rows][-1] == (1, "X")
    assert len(rows) == 5
    picked = union_rows([a, b], lab, only=["x", "etiology"])
    assert [r.label for _, r in picked] == ["X", "Etiology", "chronic_hcv", "pbc", "psc"]
    with pytest.raises(
        InvalidParameterError,
        match=r"'terms' parameter of forest names 'age'.*Choose from 'etiology', "
        r"'x'",
    ):
        union_rows([a, b], lab, only=["age"], function="forest")
