"""calcstats.tables: the publication Table model, its exporters and small-cell suppression."""

from calcstats.tables._format import format_ci, format_number, format_p

__all__ = ["format_ci", "format_number", "format_p"]
