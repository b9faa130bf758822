"""Fixtures for the regression tests: R reference values and the PBC data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def ref() -> dict:
    """Values printed by tests/reference/regression.R."""
    return json.loads((ROOT / "tests" / "reference" / "regression.json").read_text())


@pytest.fixture(scope="session")
def pbc_raw() -> pd.DataFrame:
    df = pd.read_csv(ROOT / "data" / "pbc.csv")
    df["years"] = df["time"] / 365.25
    df["dead"] = (df["status"] == 2).astype(int)
    df["w"] = 1 + df["id"] % 3
    df["clust"] = df["id"] % 25
    return df


@pytest.fixture()
def pbc(pbc_raw) -> pd.DataFrame:
    return pbc_raw.copy()


def rename_r(terms: list[str], mapping: dict[str, str]) -> list[str]:
    """Translate R coefficient names into calcstats/patsy names."""
    return [mapping.get(t, t) for t in terms]


def compare(
    result,
    r: dict,
    mapping: dict[str, str],
    *,
    se_key: str = "se",
    coef_rtol: float = 1e-5,
    se_rtol: float = 1e-4,
) -> None:
    """Coefficients to ``coef_rtol`` and SEs to ``se_rtol`` (relative), matched by term."""
    terms = rename_r(r["term"], mapping)
    got_b = result.params.reindex(terms).to_numpy()
    got_se = result.bse.reindex(terms).to_numpy()
    np.testing.assert_allclose(got_b, r["coef"], rtol=coef_rtol, atol=1e-10)
    np.testing.assert_allclose(got_se, r[se_key], rtol=se_rtol)
