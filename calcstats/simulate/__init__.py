"""calcstats.simulate: synthetic calcification cohorts with known truth."""

from calcstats.simulate._simulate import simulate_cohort
from calcstats.simulate._truth import Truth

__all__: list[str] = [
    "Truth",
    "simulate_cohort",
]
