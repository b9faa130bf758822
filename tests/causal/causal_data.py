"""Shared constants of the causal tests (formulas and covariates of the R reference)."""

from __future__ import annotations

import numpy as np
import pandas as pd

LALONDE_PS = "treat ~ age + educ + race + married + nodegree + re74 + re75"
LALONDE_COVS = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]
SIM_PS = "treat ~ age + sex + etiology"
SIM_COVS = ["age", "sex", "etiology"]


def num(values) -> np.ndarray:
    """R vector from JSON (NA as null) -> float array."""
    return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(float)
