"""Package-level contract: no global side effects on import."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import calcstats as cs
from calcstats._errors import InvalidParameterError


def test_import_leaves_warning_filters_and_matplotlib_alone():
    code = (
        "import warnings, matplotlib; f = list(warnings.filters); "
        "rc = dict(matplotlib.rcParams); import calcstats; "
        "assert warnings.filters == f, warnings.filters[: len(warnings.filters) - len(f)]; "
        "assert dict(matplotlib.rcParams) == rc; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_public_names_are_the_documented_snapshot():
    """``calcstats.__all__`` changes only deliberately: update tests/public_api.txt with it
    (and the changelog) when a public name is added, renamed or removed."""

    import calcstats as cs

    expected = (Path(__file__).parent / "public_api.txt").read_text().split()
    assert cs.__all__ == sorted(cs.__all__), "__all__ must be sorted"
    assert cs.__all__ == expected
    missing = [name for name in cs.__all__ if not hasattr(cs, name)]
    assert not missing


def test_every_public_result_class_is_exported():
    import calcstats as cs
    from calcstats.results import Result

    def subclasses(c: type) -> set[type]:
        out: set[type] = set()
        for s in c.__subclasses__():
            out |= {s} | subclasses(s)
        return out

    public = {
        c
        for c in subclasses(Result)
        if not c.__name__.startswith("_") and c.__module__.startswith("calcstats.")
    }
    missing = sorted(c.__name__ for c in public if getattr(cs, c.__name__, None) is not c)
    assert not missing, f"result classes not exported from calcstats: {missing}"


def test_package_is_marked_as_typed():
    """PEP 561: type checkers read calcstats' annotations only when the package ships a
    ``py.typed`` marker (the wheel takes every file of the package directory)."""
    from importlib.resources import files

    assert files("calcstats").joinpath("py.typed").is_file()


#: Public functions whose parameters are checked in their body (each raises
#: InvalidParameterError with the same message template); the reason is why a decorator
#: does not fit.
_CHECKED_BY_HAND = {
    "lr_test": "its two arguments are results checked against each other",
    "merge_tables": "takes *tables; the count and kinds are checked together",
    "stack_tables": "takes *tables; the count and kinds are checked together",
    "read_cohort": "path or tables or a connection: the combination is checked",
    "simulate_cohort": "its options are checked against each other (rates, presets)",
    "vif": "a result, or a DataFrame with a formula",
}


def test_every_public_function_declares_its_parameter_checks():
    missing = []
    for module, prefix in ((cs, ""), (cs.plot, "plot.")):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or not callable(obj):
                continue
            if not hasattr(obj, "__calcstats_constraints__") and name not in _CHECKED_BY_HAND:
                missing.append(prefix + name)
    assert missing == []
    for name in _CHECKED_BY_HAND:  # the allow-list holds no stale names
        assert not hasattr(getattr(cs, name), "__calcstats_constraints__"), name


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("lr_test", lambda: cs.lr_test(1, 2)),
        ("merge_tables", lambda: cs.merge_tables()),
        ("stack_tables", lambda: cs.stack_tables()),
        ("read_cohort", lambda: cs.read_cohort(patients=None, on_error="skip")),
        ("simulate_cohort", lambda: cs.simulate_cohort(-5)),
        ("vif", lambda: cs.vif(3)),
    ],
)
def test_functions_checked_by_hand_raise_the_one_parameter_error(name, call):
    assert name in _CHECKED_BY_HAND
    with pytest.raises(InvalidParameterError, match=name):
        call()


def test_api_page_documents_every_public_name():
    import re

    page = (Path(__file__).parents[1] / "docs" / "api.md").read_text()
    documented = {ref.rsplit(".", 1)[-1] for ref in re.findall(r"^::: ([\w.]+)$", page, re.M)}
    errors = {n for n in cs.__all__ if n.endswith(("Error", "Warning"))}  # ::: calcstats._errors
    skip = {"__version__", "datasets", "plot", "report"} | errors
    missing = [n for n in cs.__all__ if n not in documented | skip]
    missing += [f"plot.{n}" for n in cs.plot.__all__ if n not in documented]
    assert missing == []
