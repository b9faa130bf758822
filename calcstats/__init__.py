# ruff: noqa: E402  (third-party imports run between saving and restoring warnings.filters)
"""calcstats: cohort studies of intrahepatic calcification, from raw tables to paper.

The public API is re-exported here from the subpackages; each subpackage lists its public
names in its own ``__all__``. ``calcstats.plot``, ``calcstats.datasets`` and
``calcstats.report`` are reached as namespaces (``cs.plot.survival(...)``).
"""

import warnings as _warnings

# Importing calcstats leaves warnings.filters as it was: scipy and numpy register global
# filters when first imported; those are discarded here (calcstats silences third-party
# warnings only locally, around the calls that raise them).
_filters = list(_warnings.filters)

from calcstats import causal as _causal
from calcstats import cohort as _cohort
from calcstats import datasets as datasets
from calcstats import describe as _describe
from calcstats import plot as plot
from calcstats import regression as _regression
from calcstats import report as report
from calcstats import simulate as _simulate
from calcstats import survival as _survival
from calcstats import tables as _tables
from calcstats._errors import *  # noqa: F403
from calcstats._errors import __all__ as _errors_all
from calcstats.causal import *  # noqa: F403
from calcstats.cohort import *  # noqa: F403
from calcstats.describe import *  # noqa: F403
from calcstats.labels import Labels as Labels
from calcstats.regression import *  # noqa: F403
from calcstats.results import CumulativeIncidenceResult as CumulativeIncidenceResult
from calcstats.results import CurveResult as CurveResult
from calcstats.results import EstimateResult as EstimateResult
from calcstats.results import KaplanMeierResult as KaplanMeierResult
from calcstats.results import ModelResult as ModelResult
from calcstats.results import Result as Result
from calcstats.results import TestResult as TestResult
from calcstats.simulate import *  # noqa: F403
from calcstats.survival import *  # noqa: F403
from calcstats.tables import *  # noqa: F403

_warnings.filters[:] = _filters  # type: ignore[index]  # a list at run time (typeshed: Sequence)
_warnings._filters_mutated()  # type: ignore[attr-defined]  # private: filters changed
del _filters

__version__ = "0.1.0"

__all__ = sorted(
    {
        "__version__",
        "Labels",
        "CumulativeIncidenceResult",
        "CurveResult",
        "EstimateResult",
        "KaplanMeierResult",
        "ModelResult",
        "Result",
        "TestResult",
        "datasets",
        "plot",
        "report",
        *_errors_all,
        *_causal.__all__,
        *_cohort.__all__,
        *_describe.__all__,
        *_regression.__all__,
        *_simulate.__all__,
        *_survival.__all__,
        *_tables.__all__,
    }
)
