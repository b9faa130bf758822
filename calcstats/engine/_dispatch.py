"""Public statistics given an engine-backed table: run their engine form, or refuse.

Every public function that takes ``data`` checks its options with
:func:`calcstats._validation.validate_params`. A function with an engine form names it
there (``validate_params({...}, engine="calcstats.survival._engine:kaplan_meier")``);
given an :class:`~calcstats.engine.EngineTable`, the decorator checks the options as for a
DataFrame and then calls that form with the same arguments (:func:`run_engine_form`). A
function without one refuses an engine table with a :class:`EngineUnsupportedError` that
says how to pull the rows (:func:`no_engine_form`); so do the input checks every
estimator runs (``require_columns``, ``check_frame``), for the rare function that has no
``data`` parameter of its own.

This module is the one place where that happens: the statistics do not test for engine
tables themselves.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from calcstats.engine._options import EngineUnsupportedError
from calcstats.engine._table import EngineTable

__all__ = ["ENGINE_FORMS", "no_engine_form", "register", "rows_stay", "run_engine_form"]

#: public function name → its engine form (``"module:function"``)
ENGINE_FORMS: dict[str, str] = {}


def register(function: str, form: str) -> None:
    """Record that ``function`` runs on engine tables through ``form``."""
    module, sep, name = form.partition(":")
    if not sep or not module or not name:
        raise ValueError(f"engine form of {function} must be 'module:function', got {form!r}")
    ENGINE_FORMS[function] = form


def run_engine_form(function: str, arguments: Mapping[str, Any]) -> Any:
    """Call ``function``'s engine form with the (checked) arguments of the call."""
    module, _, name = ENGINE_FORMS[function].partition(":")
    form = getattr(importlib.import_module(module), name)
    return form(**arguments)


def no_engine_form(function: str, data: EngineTable) -> EngineUnsupportedError:
    """The error of a function without an engine form given an engine table."""
    forms = ", ".join(sorted(ENGINE_FORMS))
    return EngineUnsupportedError(
        f"{function}() has no engine form: it needs the rows themselves, and this "
        f"{data.name} stays in the {data.engine!r} engine. Pull it into pandas first, "
        f"{function}(table.to_pandas(), ...), which reads its {len(data):,} rows into memory "
        "(filter or select columns in the engine first if that is too many). The functions "
        f"that run inside the engine are: {forms}."
    )


def rows_stay(what: str) -> EngineUnsupportedError:
    """The error of a result fitted in an engine asked for one value per analysed row."""
    return EngineUnsupportedError(
        f"{what} has one value per analysed row of a model fitted in the engine, and those "
        "rows stay in the engine; what needs them (calibration, auc, hosmer_lemeshow, "
        "lr_test, vif, adjusted_curves, partial_effect, residuals) has no engine form. Fit "
        "the model on table.to_pandas() for that."
    )
