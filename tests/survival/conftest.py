"""Fixtures for the survival tests: R reference values and the data they were computed on."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REFERENCE = Path(__file__).parent.parent / "reference"
ROOT = Path(__file__).parent.parent.parent


def num(values) -> np.ndarray:
    """R vector from JSON (NA/NaN/Inf come as strings) -> float array."""
    return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(float)


@pytest.fixture(scope="session")
def ref() -> dict:
    """Values printed by tests/reference/survival_curves.R."""
    return json.loads((REFERENCE / "survival_curves.json").read_text())


@pytest.fixture(scope="session")
def degenerate() -> dict:
    """Singular-variance examples from tests/reference/survival_degenerate.R."""
    return json.loads((REFERENCE / "survival_degenerate.json").read_text())


@pytest.fixture(scope="session")
def pbc() -> pd.DataFrame:
    df = pd.read_csv(ROOT / "data" / "pbc.csv")
    df["years"] = df["time"] / 365.25
    df["death"] = (df["status"] == 2).astype(int)
    return df


@pytest.fixture(scope="session")
def small() -> pd.DataFrame:
    """Made data with heavy ties, 3 groups, 2 strata, competing causes and case weights."""
    return pd.read_csv(REFERENCE / "survival_small.csv")
