"""The Examples sections of the curve and test docstrings run and give R's numbers.

Their expected values were checked in R (survfit, survdiff, cmprsk::cuminc).
"""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize(
    "module",
    ["_km", "_cif", "_logrank", "_gray", "_rmst", "_landmark"],
)
def test_docstring_examples(module):
    mod = importlib.import_module(f"calcstats.survival.{module}")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
