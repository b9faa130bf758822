"""calcstats.cohort."""

__all__: list[str] = []
