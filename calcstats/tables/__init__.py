"""calcstats.tables."""

__all__: list[str] = []
