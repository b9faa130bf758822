"""calcstats.datasets: bundled real data and the example cohort."""

__all__: list[str] = []
