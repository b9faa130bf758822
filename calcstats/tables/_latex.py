"""LaTeX export of a :class:`~calcstats.tables.Table` with booktabs rules.

Output is a ``table`` float holding a ``tabular`` with ``\\toprule``, ``\\midrule`` and
``\\bottomrule`` (no vertical lines), spanners as ``\\multicolumn`` with a
``\\cmidrule(lr)`` under each, indentation as ``\\hspace{<level>em}``, and footnotes in a
``threeparttable`` ``tablenotes`` block. The title becomes the ``\\caption``; a leading
"Table 1." / "Table S2:" is dropped because LaTeX numbers its tables itself. Preamble:
``\\usepackage{booktabs}`` and, when the table has footnotes,
``\\usepackage{threeparttable}``.

Every string is escaped: the ten LaTeX special characters, ``<``/``>`` (which print as
other glyphs in the default OT1 encoding), and common Unicode symbols that pdflatex does
not know (``≤ ≥ ± × − ∞ χ μ ²``) are written as LaTeX commands.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from calcstats.tables._table import Table

__all__ = ["latex_escape", "table_to_latex"]

_TABLE_PREFIX = re.compile(r"^\s*Table\s+[A-Za-z]?\d+[A-Za-z]?\s*[.:]\s*")

_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "≤": r"$\leq$",
    "≥": r"$\geq$",
    "±": r"$\pm$",
    "×": r"$\times$",
    "−": r"$-$",
    "∞": r"$\infty$",
    "χ": r"$\chi$",
    "μ": r"$\mu$",
    "µ": r"$\mu$",
    "²": r"\textsuperscript{2}",
    "–": "--",
    "—": "---",
    "\u00a0": "~",
}


def latex_escape(text: str) -> str:
    """Escape ``text`` for LaTeX text mode.

    Examples
    --------
    >>> latex_escape("50% & <0.001")
    '50\\\\% \\\\& \\\\textless{}0.001'
    """
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


def table_to_latex(table: Table) -> str:
    """Render ``table`` as a LaTeX ``table`` float with a booktabs ``tabular``."""
    n = table.n_cols
    lines = [r"\begin{table}[htbp]", r"\centering"]
    notes = bool(table.footnotes)
    if notes:
        lines.append(r"\begin{threeparttable}")
    if table.title:
        caption = _TABLE_PREFIX.sub("", table.title) or table.title
        lines.append(r"\caption{" + latex_escape(caption) + "}")
    lines.append(r"\begin{tabular}{l" + "c" * (n - 1) + "}")
    lines.append(r"\toprule")
    runs = table.spanner_row()
    if runs:
        cells, rules = [], []
        for text, a, b in runs:
            span = b - a + 1
            if text:
                cells.append(rf"\multicolumn{{{span}}}{{c}}{{{latex_escape(text)}}}")
                rules.append(rf"\cmidrule(lr){{{a + 1}-{b + 1}}}")
            else:
                cells.extend([""] * span)
        lines.append(" & ".join(cells) + r" \\")
        lines.append(" ".join(rules))
    lines.append(" & ".join(latex_escape(c) for c in table.columns) + r" \\")
    lines.append(r"\midrule")
    for lvl, row in zip(table.indent, table.cells, strict=True):
        label = latex_escape(row[0])
        if lvl and label:
            label = rf"\hspace{{{lvl}em}}" + label
        lines.append(" & ".join([label, *(latex_escape(v) for v in row[1:])]) + r" \\")
    lines.append(r"\bottomrule")
    lines.append(r"\end{tabular}")
    if notes:
        lines.append(r"\begin{tablenotes}[flushleft]")
        lines.append(r"\footnotesize")
        lines.extend(r"\item[] " + latex_escape(f) for f in table.footnotes)
        lines.append(r"\end{tablenotes}")
        lines.append(r"\end{threeparttable}")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"
