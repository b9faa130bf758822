"""calcstats.describe: Table 1, prevalence, incidence rates, rate ratios, Mantel–Haenszel."""

from calcstats.describe._incidence import (
    IncidenceRateResult,
    RateRatioResult,
    incidence_rate,
    rate_ratio,
)
from calcstats.describe._mantel_haenszel import (
    HomogeneityTestResult,
    MantelHaenszelResult,
    mantel_haenszel,
)
from calcstats.describe._prevalence import PrevalenceResult, prevalence
from calcstats.describe._segments import SegmentSummary, segment_summary
from calcstats.describe._table_one import table_one

__all__ = [
    "HomogeneityTestResult",
    "IncidenceRateResult",
    "MantelHaenszelResult",
    "PrevalenceResult",
    "RateRatioResult",
    "SegmentSummary",
    "incidence_rate",
    "mantel_haenszel",
    "prevalence",
    "rate_ratio",
    "segment_summary",
    "table_one",
]
