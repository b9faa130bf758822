"""calcstats.survival."""

from calcstats.survival._adjusted import adjusted_curves, partial_effect
from calcstats.survival._cif import cumulative_incidence
from calcstats.survival._cox import cox
from calcstats.survival._finegray import fine_gray
from calcstats.survival._gray import gray_test
from calcstats.survival._km import kaplan_meier
from calcstats.survival._landmark import landmark
from calcstats.survival._logrank import logrank
from calcstats.survival._multistate import state_probabilities
from calcstats.survival._multistate_cox import multistate_cox
from calcstats.survival._rmst import rmst

__all__: list[str] = [
    "adjusted_curves",
    "cox",
    "cumulative_incidence",
    "fine_gray",
    "gray_test",
    "kaplan_meier",
    "landmark",
    "logrank",
    "multistate_cox",
    "partial_effect",
    "rmst",
    "state_probabilities",
]
