"""calcstats.report: assemble tables and figures into one study report."""

__all__: list[str] = []
