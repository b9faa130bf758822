"""calcstats.survival: curves, k-sample tests, Cox and Fine–Gray models, and their results."""

from calcstats.results import (
    AdjustedCurvesResult,
    CumulativeIncidenceResult,
    CurveResult,
    GrayTestResult,
    KaplanMeierResult,
    LogrankResult,
    PHTestResult,
)
from calcstats.survival._adjusted import PartialEffectResult, adjusted_curves, partial_effect
from calcstats.survival._cif import cumulative_incidence
from calcstats.survival._cox import CoxResult, cox
from calcstats.survival._finegray import FineGrayResult, fine_gray
from calcstats.survival._followup import FollowUpResult, median_followup
from calcstats.survival._gray import gray_test
from calcstats.survival._interval_compare import (
    IntervalComparisonResult,
    compare_interval_methods,
)
from calcstats.survival._interval_parametric import (
    ParametricSurvivalResult,
    parametric_survival,
)
from calcstats.survival._interval_turnbull import TurnbullResult, turnbull
from calcstats.survival._km import kaplan_meier
from calcstats.survival._landmark import LandmarkData, landmark
from calcstats.survival._logrank import logrank
from calcstats.survival._ms_cox_result import MultiStateCoxResult
from calcstats.survival._ms_result import StateProbabilitiesResult, TimeInStateResult
from calcstats.survival._multistate import state_probabilities
from calcstats.survival._multistate_cox import multistate_cox
from calcstats.survival._multistate_predict import PredictedProbabilities
from calcstats.survival._rmst import RMSTContrastResult, RMSTResult, rmst

__all__: list[str] = [
    "AdjustedCurvesResult",
    "CoxResult",
    "CumulativeIncidenceResult",
    "CurveResult",
    "FineGrayResult",
    "FollowUpResult",
    "GrayTestResult",
    "IntervalComparisonResult",
    "KaplanMeierResult",
    "LandmarkData",
    "LogrankResult",
    "MultiStateCoxResult",
    "PHTestResult",
    "ParametricSurvivalResult",
    "PartialEffectResult",
    "PredictedProbabilities",
    "RMSTContrastResult",
    "RMSTResult",
    "StateProbabilitiesResult",
    "TimeInStateResult",
    "TurnbullResult",
    "adjusted_curves",
    "compare_interval_methods",
    "cox",
    "cumulative_incidence",
    "fine_gray",
    "gray_test",
    "kaplan_meier",
    "landmark",
    "logrank",
    "median_followup",
    "multistate_cox",
    "parametric_survival",
    "partial_effect",
    "rmst",
    "state_probabilities",
    "turnbull",
]
