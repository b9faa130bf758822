"""The result hierarchy every calcstats estimator returns (see :mod:`._base`)."""

from calcstats.results._base import Result, check_conf_level, table_of
from calcstats.results._curve import (
    CONF_TYPES,
    CURVE_COLUMNS,
    AdjustedCurvesResult,
    CumulativeIncidenceResult,
    CurveResult,
    KaplanMeierResult,
    confint,
)
from calcstats.results._estimate import EstimateResult, check_suppress
from calcstats.results._model import TIDY_COLUMNS, ModelResult, RowUnits
from calcstats.results._test import GrayTestResult, LogrankResult, PHTestResult, TestResult

__all__ = [
    "CONF_TYPES",
    "CURVE_COLUMNS",
    "TIDY_COLUMNS",
    "AdjustedCurvesResult",
    "CumulativeIncidenceResult",
    "CurveResult",
    "EstimateResult",
    "GrayTestResult",
    "KaplanMeierResult",
    "LogrankResult",
    "ModelResult",
    "PHTestResult",
    "Result",
    "RowUnits",
    "TestResult",
    "check_conf_level",
    "check_suppress",
    "confint",
    "table_of",
]
