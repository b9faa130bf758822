"""calcstats.tables: the publication Table model, its exporters and small-cell suppression."""

from calcstats._format import format_ci, format_number, format_p
from calcstats.tables import _interval as _interval  # registers to_table() of interval results
from calcstats.tables._suppress import apply_suppression, suppression_mask, suppression_note
from calcstats.tables._table import Table

__all__ = [
    "Table",
    "apply_suppression",
    "format_ci",
    "format_number",
    "format_p",
    "suppression_mask",
    "suppression_note",
]
