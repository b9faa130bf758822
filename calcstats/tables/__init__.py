"""calcstats.tables: the publication Table model, its exporters, small-cell suppression and the
tables of results (registered for ``Result.to_table()``)."""

from calcstats._format import format_ci, format_number, format_p
from calcstats.tables._models import regression_table, univariable
from calcstats.tables._suppress import apply_suppression, suppression_mask, suppression_note
from calcstats.tables._table import Table

__all__ = [
    "Table",
    "apply_suppression",
    "format_ci",
    "format_number",
    "format_p",
    "regression_table",
    "suppression_mask",
    "suppression_note",
    "univariable",
]
