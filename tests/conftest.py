"""Shared test fixtures, and the hypothesis profiles.

Hypothesis draws new examples on every run. In CI (``CI`` set to anything but
``""``, ``0``, ``false`` or ``no``) the ``ci`` profile is loaded: examples are
derandomised (the same ones on every run, derived from each test), without the example
database and without deadlines, so the suite cannot fail at random. Locally the
``default`` profile keeps drawing new examples (and replays failures from
``.hypothesis/``); ``HYPOTHESIS_PROFILE=ci`` reproduces a CI run. Tests must not set
``derandomize``, ``database`` or ``@seed`` themselves (tests/test_hypothesis_profile.py
checks), and every example that once failed is pinned with ``@example``. (Recent
hypothesis versions switch to a similar built-in profile whenever ``CI`` is set at all,
even to ``false``; the project supports hypothesis >= 6.80, so the profile is explicit.)
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def in_ci() -> bool:
    """True when the ``CI`` environment variable is set to a true value."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if in_ci() else "default"))

REFERENCE = Path(__file__).parent / "reference"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(scope="session")
def pbc_reference() -> dict:
    """Values R printed on the Mayo PBC data (tests/reference/pbc_reference.json)."""
    return json.loads((REFERENCE / "pbc_reference.json").read_text())["values"]
