"""calcstats.plot: publication figures. Reads result objects; never computes statistics."""

__all__: list[str] = []
