"""calcstats.survival."""

from calcstats.survival._cif import cumulative_incidence
from calcstats.survival._km import kaplan_meier

__all__: list[str] = [
    "cumulative_incidence",
    "kaplan_meier",
]
