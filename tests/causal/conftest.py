"""Fixtures for the causal tests: R reference values (tests/reference/weighting.R) and the
two data sets they were computed on (lalonde, the simulated confounded cohort)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

import calcstats as cs

REFERENCE = Path(__file__).parent.parent / "reference"


@pytest.fixture(scope="session")
def ref() -> dict:
    """Values written by tests/reference/weighting.R."""
    return json.loads((REFERENCE / "weighting.json").read_text())


@pytest.fixture(scope="session")
def lalonde_data() -> pd.DataFrame:
    d = pd.read_csv(REFERENCE / "weighting_data" / "lalonde.csv")
    d["race"] = pd.Categorical(d["race"], categories=["black", "hispan", "white"])
    return d


@pytest.fixture(scope="session")
def sim_data() -> pd.DataFrame:
    d = pd.read_csv(REFERENCE / "weighting_data" / "confounded_sim.csv")
    d["event1"] = (d["status"] == 1).astype(int)
    return d


@pytest.fixture
def lalonde(lalonde_data) -> pd.DataFrame:
    return lalonde_data.copy()


@pytest.fixture
def sim(sim_data) -> pd.DataFrame:
    return sim_data.copy()


def _fit_ps(data: pd.DataFrame, formula: str, estimand: str = "ATE") -> cs.PropensityResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cs.DataWarning)
        return cs.propensity(data, formula, estimand=estimand)


@pytest.fixture(scope="session")
def fit_ps():
    """cs.propensity without the positivity warning (lalonde's ATE weights reach 40)."""
    return _fit_ps
