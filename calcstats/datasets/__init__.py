"""calcstats.datasets: bundled real data and the example cohort."""

from calcstats.datasets._example import load_example_cohort
from calcstats.datasets._pbc import load_pbc

__all__: list[str] = ["load_example_cohort", "load_pbc"]
