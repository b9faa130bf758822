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


@pytest.mark.parametrize(
    ("call", "what"),
    [
        (lambda fit, cox, ps: cs.vif(fit), "The design matrix of"),
        (lambda fit, cox, ps: cs.calibration(fit), "The outcome of"),
        (lambda fit, cox, ps: cs.auc(fit), "The outcome of"),
        (lambda fit, cox, ps: cs.hosmer_lemeshow(fit), "The outcome of"),
        (lambda fit, cox, ps: cs.lr_test(fit, fit), "The outcome of"),
        (
            lambda fit, cox, ps: cs.adjusted_curves(cox, ps, variable="sex", times=[1.0]),
            "The Cox model's data",
        ),
        (lambda fit, cox, ps: cs.partial_effect(cox, "age_at_index", [50, 60]), "survival data"),
    ],
)
def test_what_needs_the_rows_of_an_engine_model_refuses(patient_pair, survival_pair, call, what):
    _, ep = patient_pair
    ps, es = survival_pair
    fit = cs.logistic(ep, "any_calcification ~ age_at_index + C(sex)")
    cox = cs.cox(es, "age_at_index + C(sex)", time="time", event="status", cause=1)
    with pytest.raises(EngineUnsupportedError) as err:
        call(fit, cox, ps)
    text = str(err.value)
    assert what in text
    assert "rows stay in the engine" in text and "table.to_pandas()" in text


def test_an_engine_form_is_named_module_and_function():
    with pytest.raises(ValueError, match="'module:function'"):
        register("kaplan_meier", "calcstats.survival._engine.kaplan_meier")
