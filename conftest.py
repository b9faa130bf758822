"""Shared by the docstring examples (``calcstats/``) and the tests: every figure an
example or a test opens is closed after it (tests/conftest.py holds the test fixtures)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest


@pytest.fixture(autouse=True)
def _close_figures_after_each_example():
    yield
    plt.close("all")
