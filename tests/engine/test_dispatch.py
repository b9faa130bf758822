"""Public functions given an engine table: their engine form runs, or a clear refusal."""

from __future__ import annotations

import importlib
import inspect

import pytest

import calcstats as cs
from calcstats.engine import EngineUnsupportedError
from calcstats.engine._dispatch import ENGINE_FORMS, register

DISPATCHED = [
    "cox",
    "cumulative_incidence",
    "gray_test",
    "incidence_rate",
    "kaplan_meier",
    "logistic",
    "logrank",
    "poisson",
    "rate_ratio",
    "state_probabilities",
    "table_one",
]


def test_the_statistics_with_an_engine_form():
    assert sorted(ENGINE_FORMS) == DISPATCHED


@pytest.mark.parametrize("name", DISPATCHED)
def test_an_engine_form_takes_the_arguments_of_its_public_function(name):
    module, _, attr = ENGINE_FORMS[name].partition(":")
    form = getattr(importlib.import_module(module), attr)
    public = inspect.signature(getattr(cs, name)).parameters
    engine = inspect.signature(form).parameters
    assert [(p.name, p.kind, p.default) for p in engine.values()] == [
        (p.name, p.kind, p.default) for p in public.values()
    ]


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("fine_gray", lambda st: cs.fine_gray(st, "age_at_index", time="time", event="status")),
        ("rmst", lambda st: cs.rmst(st, time="time", event="status", cause=1, tau=3)),
        ("median_followup", lambda st: cs.median_followup(st, time="time", event="status")),
        ("linear", lambda st: cs.linear(st, "bmi ~ age_at_index")),
        ("mice", lambda st: cs.mice(st, m=2)),
        ("vif", lambda st: cs.vif(st, "~ age_at_index + bmi")),
    ],
)
def test_a_function_without_an_engine_form_says_how_to_pull_the_rows(survival_pair, name, call):
    _, es = survival_pair
    with pytest.raises(EngineUnsupportedError) as err:
        call(es)
    text = str(err.value)
    assert text.startswith(f"{name}() has no engine form: it needs the rows themselves")
    assert f"{name}(table.to_pandas(), ...)" in text
    assert f"reads its {len(es):,} rows into memory" in text
    assert "run inside the engine are: cox, cumulative_incidence, gray_test" in text
    assert isinstance(err.value, cs.CalcstatsError)


def test_refusal_comes_before_the_option_checks(survival_pair):
    _, es = survival_pair
    with pytest.raises(EngineUnsupportedError, match="rmst\\(\\) has no engine form"):
        cs.rmst(es, time="time", event="status", cause=1, tau=-1)


def test_what_needs_the_design_matrix_of_an_engine_model_refuses(patient_pair):
    _, ep = patient_pair
    fit = cs.logistic(ep, "any_calcification ~ age_at_index + C(sex)")
    with pytest.raises(EngineUnsupportedError, match=r"design matrix of .* stays in the engine"):
        cs.vif(fit)


def test_an_engine_form_is_named_module_and_function():
    with pytest.raises(ValueError, match="'module:function'"):
        register("kaplan_meier", "calcstats.survival._engine.kaplan_meier")
