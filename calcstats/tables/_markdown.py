"""Markdown (pipe table) export of a :class:`~calcstats.tables.Table`.

Pipe tables have one header row, so a spanner is written into the headings of its columns
(``"Spanner: column"``). Indentation is one ``&emsp;`` entity (an em space) per level:
Markdown collapses ordinary spaces, and an entity is visible in the source, unlike a
non-breaking space character. ``|`` in cells is escaped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from calcstats.tables._table import Table

__all__ = ["table_to_markdown"]

INDENT = "&emsp;"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def table_to_markdown(table: Table) -> str:
    """Render ``table`` as a Markdown pipe table; title in bold above, notes below."""
    heads = list(table.columns)
    for text, a, b in table.spanner_row():
        if text:
            for j in range(a, b + 1):
                heads[j] = f"{text}: {heads[j]}"
    lines: list[str] = []
    if table.title:
        lines += [f"**{_cell(table.title)}**", ""]
    lines.append("| " + " | ".join(_cell(h) for h in heads) + " |")
    lines.append("|" + "|".join([":---"] + [":---:"] * (table.n_cols - 1)) + "|")
    for lvl, row in zip(table.indent, table.cells, strict=True):
        label = INDENT * lvl + row[0]
        lines.append("| " + " | ".join(_cell(v) for v in [label, *row[1:]]) + " |")
    if table.footnotes:
        lines.append("")
        lines.extend(_cell(f) + "  " for f in table.footnotes[:-1])
        lines.append(_cell(table.footnotes[-1]))
    return "\n".join(lines) + "\n"
