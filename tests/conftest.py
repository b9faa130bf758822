"""Shared test fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

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
