"""calcstats.tables: the publication Table model, its exporters and small-cell suppression.

Importing this package registers the publication tables of the result types with
:func:`calcstats.results.table_of` (``result.to_table()`` dispatches there).
"""

from calcstats._format import format_ci, format_number, format_p
from calcstats.tables import _causal as _causal  # registers the weighting results
from calcstats.tables import _estimates as _estimates  # registers to_table() of estimates
from calcstats.tables import _interval as _interval  # registers to_table() of interval results
from calcstats.tables import _multistate as _multistate  # registers the multi-state results
from calcstats.tables import _results as _results  # registers curves, tests, RMST, weighting
from calcstats.tables import _table_one as _table_one  # registers the layout of Table 1
from calcstats.tables._combine import merge_tables, stack_tables
from calcstats.tables._models import regression_table, univariable
from calcstats.tables._suppress import apply_suppression, suppression_mask, suppression_note
from calcstats.tables._table import Table

__all__ = [
    "Table",
    "apply_suppression",
    "format_ci",
    "format_number",
    "format_p",
    "merge_tables",
    "regression_table",
    "stack_tables",
    "suppression_mask",
    "suppression_note",
    "univariable",
]
