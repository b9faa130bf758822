"""Plain-text rendering of a :class:`~calcstats.tables.Table` (its ``repr``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from calcstats.tables._table import Table

__all__ = ["table_to_text"]


def table_to_text(table: Table) -> str:
    """Aligned columns: label column left, others centred; rules of ``─``; two spaces of
    indentation per level; spanner labels centred over their columns and underlined."""
    labels = ["  " * lvl + row[0] for lvl, row in zip(table.indent, table.cells, strict=True)]
    widths = [max([len(table.columns[0]), *map(len, labels)])]
    for j in range(1, table.n_cols):
        widths.append(max([len(table.columns[j]), *(len(r[j]) for r in table.cells)]))
    gap = "  "
    runs = table.spanner_row()
    # widen columns so each spanner label fits over its columns
    for text, a, b in runs:
        span = sum(widths[a : b + 1]) + len(gap) * (b - a)
        if len(text) > span:
            widths[b] += len(text) - span

    def fmt_row(values: list[str]) -> str:
        parts = [values[0].ljust(widths[0])]
        parts += [v.center(w) for v, w in zip(values[1:], widths[1:], strict=True)]
        return gap.join(parts).rstrip()

    total = sum(widths) + len(gap) * (len(widths) - 1)
    lines: list[str] = []
    if table.title:
        lines.append(table.title)
    lines.append("─" * total)
    if runs:
        top, under = [], []
        for text, a, b in runs:
            span = sum(widths[a : b + 1]) + len(gap) * (b - a)
            top.append(text.center(span))
            under.append(("─" * span) if text else " " * span)
        lines.append(gap.join(top).rstrip())
        lines.append(gap.join(under).rstrip())
    lines.append(fmt_row(list(table.columns)))
    lines.append("─" * total)
    for label, row in zip(labels, table.cells, strict=True):
        lines.append(fmt_row([label, *row[1:]]))
    lines.append("─" * total)
    lines.extend(table.footnotes)
    return "\n".join(lines)
