"""Package-level contract: no global side effects on import."""

from __future__ import annotations

import subprocess
import sys


def test_import_leaves_warning_filters_and_matplotlib_alone():
    code = (
        "import warnings, matplotlib; f = list(warnings.filters); "
        "rc = dict(matplotlib.rcParams); import calcstats; "
        "assert warnings.filters == f, warnings.filters[: len(warnings.filters) - len(f)]; "
        "assert dict(matplotlib.rcParams) == rc; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_public_names_are_the_documented_snapshot():
    """``calcstats.__all__`` changes only deliberately: update tests/public_api.txt with it
    (and the changelog) when a public name is added, renamed or removed."""
    from pathlib import Path

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

    public = {c for c in subclasses(Result) if not c.__name__.startswith("_")
              and c.__module__.startswith("calcstats.")}
    missing = sorted(c.__name__ for c in public if getattr(cs, c.__name__, None) is not c)
    assert not missing, f"result classes not exported from calcstats: {missing}"


def test_package_is_marked_as_typed():
    """PEP 561: type checkers read calcstats' annotations only when the package ships a
    ``py.typed`` marker (the wheel takes every file of the package directory)."""
    from importlib.resources import files

    assert files("calcstats").joinpath("py.typed").is_file()
