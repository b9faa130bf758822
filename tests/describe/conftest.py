"""Fixtures for calcstats.describe tests: PBC data and the R reference values."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def ref() -> dict:
    """Values printed by tests/reference/describe.R."""
    return json.loads((ROOT / "tests" / "reference" / "describe.json").read_text())["values"]


@pytest.fixture()
def pbc() -> pd.DataFrame:
    df = pd.read_csv(ROOT / "data" / "pbc.csv")
    df["edema_any"] = (df["edema"] > 0).astype(np.int64)
    df["death"] = (df["status"] == 2).astype(np.int64)
    df["years"] = df["time"] / 365.25
    return df


@pytest.fixture()
def trial(pbc: pd.DataFrame) -> pd.DataFrame:
    tr = pbc.dropna(subset=["trt"]).reset_index(drop=True)
    tr["treated"] = (tr["trt"] == 2).astype(np.int64)
    tr["female"] = (tr["sex"] == "f").astype(np.int64)
    return tr
