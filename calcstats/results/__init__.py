"""The result hierarchy every calcstats estimator returns (see :mod:`._base`)."""

from calcstats.results._base import Result, check_conf_level, table_of
from calcstats.results._curve import (
    CONF_TYPES,
    CURVE_COLUMNS,
    CumulativeIncidenceResult,
    CurveResult,
    KaplanMeierResult,
    confint,
)
from calcstats.results._estimate import EstimateResult, check_suppress
from calcstats.results._model import TIDY_COLUMNS, ModelResult
from calcstats.results._test import TestResult

__all__ = [
    "CONF_TYPES",
    "CURVE_COLUMNS",
    "TIDY_COLUMNS",
    "CumulativeIncidenceResult",
    "CurveResult",
    "EstimateResult",
    "KaplanMeierResult",
    "ModelResult",
    "Result",
    "TestResult",
    "check_conf_level",
    "check_suppress",
    "confint",
    "table_of",
]
