"""calcstats.describe."""

__all__: list[str] = []
