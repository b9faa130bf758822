"""Exceptions and warnings raised by calcstats.

Every error message says what went wrong, where (table, row, patient, column), what was
found and how to fix it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import FrameType

import pandas as pd

__all__ = [
    "CalcstatsError",
    "CalcstatsWarning",
    "CohortValidationError",
    "ConvergenceError",
    "ConvergenceWarning",
    "DataError",
    "DataWarning",
    "InvalidParameterError",
    "ProportionalHazardsWarning",
    "SchemaError",
    "SeparationWarning",
    "SparseDataWarning",
]

PROBLEM_COLUMNS = ["table", "row", "patient_id", "column", "value", "rule", "message"]


class CalcstatsError(Exception):
    """Base class of every error raised by calcstats."""


class SchemaError(CalcstatsError, ValueError):
    """A table lacks a required column, or a column has the wrong type."""


class DataError(CalcstatsError, ValueError):
    """Values that make the requested analysis impossible (e.g. negative times)."""


class InvalidParameterError(CalcstatsError, ValueError):
    """An option has a value the function does not accept (``conf_type="bogus"``,
    ``conf_level=95``). Raised by the declarative parameter checks
    (:func:`calcstats._validation.validate_params`) with one message template:
    "The 'conf_type' parameter of kaplan_meier must be one of 'log-log', 'log', 'plain'.
    Got 'bogus'."
    """


class ConvergenceError(CalcstatsError, RuntimeError):
    """A model fit did not converge and no sensible estimate exists."""


class CohortValidationError(CalcstatsError, ValueError):
    """One or more cohort tables broke the validation rules.

    Attributes
    ----------
    problems : pandas.DataFrame
        One row per problem with columns ``table, row, patient_id, column, value, rule,
        message`` (then ``line``, the line of the file the row was read from, when
        ``read_cohort`` read files). ``row`` is the 0-based position in the table as it
        was read.
    """

    def __init__(self, problems: pd.DataFrame, *, max_examples: int = 3) -> None:
        self.problems = problems.reset_index(drop=True)
        super().__init__(self._summarise(self.problems, max_examples))

    @staticmethod
    def _summarise(problems: pd.DataFrame, max_examples: int) -> str:
        n = len(problems)
        n_pat = problems["patient_id"].dropna().nunique()
        lines = [
            f"{n} problem{'s' if n != 1 else ''} found in the cohort tables "
            f"({n_pat} patient{'s' if n_pat != 1 else ''} affected):"
        ]
        for rule, grp in problems.groupby("rule", sort=False):
            lines.append(f"  {rule}: {len(grp)}")
            for msg in grp["message"].head(max_examples):
                lines.append(f"    - {msg}")
            if len(grp) > max_examples:
                lines.append(f"    ... and {len(grp) - max_examples} more")
        lines.append(
            "Fix the rows listed in `err.problems`, or pass on_error='exclude' to leave the "
            "affected patients out (each exclusion is recorded in cohort.flow)."
        )
        return "\n".join(lines)


class CalcstatsWarning(UserWarning):
    """Base class of every warning issued by calcstats."""


class DataWarning(CalcstatsWarning):
    """Implausible but possible values, or rows set aside with a record."""


class SeparationWarning(CalcstatsWarning):
    """(Quasi-)complete separation in a binary-outcome model."""


class SparseDataWarning(CalcstatsWarning):
    """Cells or strata too small for the method's asymptotics."""


class ConvergenceWarning(CalcstatsWarning):
    """A fit converged poorly or a fallback method was used."""


class ProportionalHazardsWarning(CalcstatsWarning):
    """Evidence against proportional hazards."""


_PACKAGE = str(Path(__file__).resolve().parent)


def user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the user's call.

    Call it in the function that calls :func:`warnings.warn`: it counts the frames of
    calcstats itself (decorators, helpers) between that function and the first frame
    outside the package, so every calcstats warning names the line of the user's script.
    """
    frame: FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    return level
