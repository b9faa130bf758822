"""The rows of a fitted model's terms, for publication tables and forest plots.

A model records its terms as the formula writes them (``result.terms``: term →
coefficients, in formula order) and, when it was fitted from a formula, the design
(``result.design``: the categorical levels and their coding). :func:`term_rows` turns
that record into display rows: a continuous term is one row; a categorical term is a
header row ("Etiology") followed by one row per level, the reference level marked; any
other term with several coefficients (a spline, an interaction with a factor) is a header
row with one indented row per coefficient. Rows keep the formula order, so the exposure
written first is on top, and are labelled with :class:`~calcstats.Labels` (never with
code such as ``C(etiology)[T.psc]``).

The table functions (:mod:`calcstats.tables`) and :func:`calcstats.plot.forest` both read
these rows, so a table and a figure of the same model show the same rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from calcstats._errors import InvalidParameterError
from calcstats._formula import clean_name
from calcstats.labels import Labels

if TYPE_CHECKING:
    from calcstats._design import Design
    from calcstats.results import ModelResult

__all__ = [
    "LABELS",
    "MEASURE_NAMES",
    "LabelsParam",
    "TermRow",
    "coefficient_labels",
    "display_labels",
    "term_label",
    "term_rows",
    "union_rows",
]

#: the measure a ratio model estimates, in words (axis titles)
MEASURE_NAMES = {
    "OR": "Odds ratio",
    "RR": "Risk ratio",
    "IRR": "Rate ratio",
    "HR": "Hazard ratio",
    "sHR": "Subdistribution hazard ratio",
}


@dataclass(frozen=True)
class TermRow:
    """One display row of a model term.

    Attributes
    ----------
    kind : {"coefficient", "header", "level", "reference"}
        A row with one coefficient (a continuous term, or one column of a larger term), a
        header above the rows of a term, a level of a categorical term with its
        coefficient, or the reference level (no coefficient).
    term : str
        The formula term (as in ``result.terms``).
    coefficient : str or None
        The coefficient shown on this row (``params`` / ``tidy()["term"]``).
    label : str
        The display label.
    indent : int
        0 for a term or header, 1 for the rows below a header.
    columns : tuple of str
        All coefficients of the term (for counts and joint tests).
    level : object
        The level of a ``"level"`` or ``"reference"`` row (None otherwise).
    categorical : bool
        The row belongs to a categorical term laid out by its levels.
    """

    kind: str
    term: str
    coefficient: str | None
    label: str
    indent: int
    columns: tuple[str, ...]
    level: Any = None
    categorical: bool = False

    @property
    def key(self) -> tuple[str, str]:
        """The same row in every model that has it: ``(kind, term or coefficient)``."""
        if self.coefficient is not None:
            return ("coefficient", self.coefficient)
        return (self.kind, self.term)


def display_labels(
    results: Sequence[ModelResult], labels: Labels | Mapping[str, str] | None
) -> Labels:
    """``Labels.default() | result.labels (each, in order) | labels``."""
    merged = Labels.default()
    for r in results:
        merged = merged | r.labels
    return merged | Labels.coerce(labels)


def term_label(term: str, labels: Labels) -> str:
    """The label of a formula term or coefficient: ``labels.variables[term]`` when the user
    labelled the term as written (``{"np.log(bili)": "Bilirubin (log)"}``), else
    :meth:`Labels.term`; a level's coefficient reads "Variable = level".

    Examples
    --------
    >>> lab = Labels.default()
    >>> term_label("C(etiology)[T.pbc]", lab), term_label("np.log(bili)", lab)
    ('Etiology = Primary biliary cholangitis', 'Bili (log)')
    """
    if term in labels.variables:
        return labels.variable(term)
    var, level = labels.term(term)
    return var if level is None else f"{var} = {level}"


def _level_columns(
    design: Design, term: str, cols: Sequence[str]
) -> list[tuple[Any, str | None]] | None:
    """``(level, coefficient or None for the reference)`` per level of a one-factor
    categorical term coded by indicator columns (treatment coding, or full-rank indicators
    without an intercept); None for any other term or coding."""
    levels = design.categorical_levels().get(term)
    if levels is None:
        return None
    info = design.design_info
    found = [t for t in info.terms if clean_name(t.name()) == term]
    if len(found) != 1 or len(info.term_codings[found[0]]) != 1:
        return None
    (contrast,) = info.term_codings[found[0]][0].contrast_matrices.values()
    m = np.asarray(contrast.matrix, dtype=float)
    if m.shape != (len(levels), len(cols)):
        return None
    out: list[tuple[Any, str | None]] = []
    for level, row in zip(levels, m, strict=True):
        nonzero = np.flatnonzero(row)
        if len(nonzero) == 0:
            out.append((level, None))
        elif len(nonzero) == 1 and row[nonzero[0]] == 1:
            out.append((level, cols[int(nonzero[0])]))
        else:  # sum, Helmert, polynomial coding: no level has a coefficient of its own
            return None
    if sum(c is None for _, c in out) > 1:
        return None
    return out


def term_rows(result: ModelResult, labels: Labels, *, intercept: bool = False) -> list[TermRow]:
    """The display rows of one model's terms, in formula order.

    Parameters
    ----------
    result : ModelResult
        A fitted model (``terms``; ``design`` for the levels of categorical terms).
    labels : Labels
        Display labels (see :func:`display_labels`).
    intercept : bool
        Include the intercept row.

    Examples
    --------
    >>> import calcstats as cs
    >>> pbc = cs.datasets.load_pbc()
    >>> fit = cs.cox(pbc, "C(edema) + age", time="time", event="status", cause=2)
    >>> for r in term_rows(fit, cs.Labels()):
    ...     print(r.indent * "  " + r.label, r.kind, r.coefficient)
    Edema header None
      0 reference None
      0.5 level C(edema)[T.0.5]
      1 level C(edema)[T.1.0]
    Age coefficient age
    """
    design = result.design
    rows: list[TermRow] = []
    for term, coefs in result.terms.items():
        if term == "Intercept" and not intercept:
            continue
        cols = tuple(coefs)
        head = term_label(term, labels)
        coded = _level_columns(design, term, cols) if design is not None else None
        if coded is not None:
            var = labels.variable_of(term)
            by_level = {str(level): (level, col) for level, col in coded}
            rows.append(TermRow("header", term, None, head, 0, cols, categorical=True))
            for key in labels.order(var, list(by_level)):
                level, col = by_level[key]
                rows.append(
                    TermRow(
                        "reference" if col is None else "level",
                        term,
                        col,
                        labels.level(var, level),
                        1,
                        cols,
                        level,
                        True,
                    )
                )
        elif len(cols) == 1:
            rows.append(TermRow("coefficient", term, cols[0], head, 0, cols))
        else:
            rows.append(TermRow("header", term, None, head, 0, cols))
            for col in cols:
                var, level = labels.term(col)
                rows.append(
                    TermRow(
                        "coefficient",
                        term,
                        col,
                        term_label(col, labels) if level is None else level,
                        1,
                        cols,
                    )
                )
    return rows


def coefficient_labels(result: ModelResult, labels: Labels) -> dict[str, str]:
    """Each coefficient as a footnote names it: "Edema = 1" for a level (the level label of
    its table row), the row label otherwise."""
    out: dict[str, str] = {}
    head = ""
    for row in term_rows(result, labels, intercept=True):
        if row.kind == "header":
            head = row.label
        elif row.coefficient is not None:
            out[row.coefficient] = f"{head} = {row.label}" if row.indent else row.label
    return out


def union_rows(
    results: Sequence[ModelResult],
    labels: Labels,
    *,
    intercept: bool = False,
    only: Sequence[str] | None = None,
    function: str = "regression_table",
) -> list[tuple[int, TermRow]]:
    """The rows of several models: each term once, laid out by the first model that has
    it (whose position is returned with the row), in the order the models write them.

    ``only`` keeps the listed terms, in that order; a formula term (``"C(etiology)"``) or
    its data column (``"etiology"``) names it.
    """
    out: list[tuple[int, TermRow]] = []
    seen: set[str] = set()
    for i, result in enumerate(results):
        rows = term_rows(result, labels, intercept=intercept)
        out.extend((i, row) for row in rows if row.term not in seen)
        seen.update(row.term for row in rows)
    if only is None:
        return out
    picked: list[tuple[int, TermRow]] = []
    for name in only:
        hit = [(i, r) for i, r in out if name in (r.term, labels.variable_of(r.term))]
        if not hit:
            available = list(dict.fromkeys(labels.variable_of(r.term) for _, r in out))
            raise InvalidParameterError(
                f"The 'terms' parameter of {function} names {name!r}, which is not a term of "
                f"the model(s). Choose from {', '.join(map(repr, available))}."
            )
        picked.extend(hit)
    return picked


# ---- parameter constraints of the model tables and the forest plot ----------------------
class LabelsParam:
    """``labels=``: a :class:`~calcstats.Labels`, a dict of variable labels, or None."""

    def __init__(self, hint: str = "") -> None:
        self.hint = hint

    def accepts(self, value: object) -> bool:
        if value is None or isinstance(value, Labels):
            return True
        return isinstance(value, Mapping) and all(isinstance(v, str) for v in value.values())

    def describe(self) -> str:
        return "a calcstats.Labels, a dict of variable labels (str) or None" + self.hint


#: ``labels=`` of the model tables and forest plot (the names of models are ``model_names=``)
LABELS = LabelsParam(" (name the models with model_names=)")
