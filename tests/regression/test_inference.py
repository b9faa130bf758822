"""lr_test's checks of its inputs (its numbers against R are in test_glm/test_numerics)."""

from __future__ import annotations

import pandas as pd
import pytest

from calcstats import CalcstatsError
from calcstats.regression import lr_test
from calcstats.results import ModelResult


def test_lr_test_rejects_a_model_without_a_design():
    # a result made from bare coefficients has a log-likelihood but no design to compare
    # rows with: a clear error, not an AttributeError from inside lr_test
    reduced = ModelResult(pd.Series({"x": 0.5}), [[0.01]], loglik=-3.0, nobs=10)
    full = ModelResult(
        pd.Series({"x": 0.5, "z": 0.1}), [[0.01, 0.0], [0.0, 0.01]], loglik=-2.0, nobs=10
    )
    with pytest.raises(
        CalcstatsError,
        match="reduced must be a calcstats model fitted from a "
        "formula, with a log-likelihood; got ModelResult without a design",
    ):
        lr_test(reduced, full)
