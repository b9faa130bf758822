"""Excel (.xlsx) export of a :class:`~calcstats.tables.Table` with openpyxl.

Layout: one font throughout (Arial 10 pt by default), the title in A1 (bold), a blank
row, the header (spanner labels in merged cells with a thin rule under them, then the
bold column headings), the body with row levels indented (``Alignment(indent=level)``),
a rule above the header, under the header and under the body, footnotes in the rows
below. Column widths follow the longest text and the sheet prints one page wide. Cells
hold the display strings; the raw numbers are in ``Table.to_frame()``. The file is
reproducible: document timestamps and zip entry times are fixed. Text that a spreadsheet
would read as a formula (``=…``, ``@…``, ``-ve``; see :mod:`calcstats.tables._files`) is
stored as text with Excel's quote prefix, so it shows as typed and never runs.
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import TYPE_CHECKING

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from calcstats._errors import CalcstatsError
from calcstats.tables._files import is_formula_like, output_path
from calcstats.tables._zip import normalise_zip

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet.worksheet import Worksheet

    from calcstats.tables._table import Table

__all__ = ["table_to_excel"]

_FORBIDDEN = set("[]:*?/\\")


def _put(ws: Worksheet, row: int, column: int, value: str | None) -> Cell:
    """Write ``value`` as text: a formula-like string is kept as a quoted string."""
    cell = ws.cell(row=row, column=column, value=value)
    if value is not None and is_formula_like(value):
        cell.data_type = "s"  # openpyxl made it a formula
        cell.quotePrefix = True  # and Excel keeps it text when the cell is edited
    return cell


def table_to_excel(
    table: Table,
    path: str | os.PathLike[str],
    *,
    sheet_name: str = "Table",
    font: str = "Arial",
    font_size: float = 10,
) -> Path:
    """Write ``table`` to a new workbook at ``path`` and return the path.

    Parameters
    ----------
    table : Table
    path : path-like
        The .xlsx file to write (overwritten if it exists; missing folders are created).
    sheet_name : str, default "Table"
        Worksheet name (at most 31 characters, none of ``[]:*?/\\``).
    font : str, default "Arial"
        The one font of every cell.
    font_size : float, default 10
        Size in points of the table; the title is 2 pt larger, footnotes 1 pt smaller.

    Returns
    -------
    pathlib.Path
    """
    if (
        not isinstance(sheet_name, str)
        or not 0 < len(sheet_name) <= 31
        or (set(sheet_name) & _FORBIDDEN)
    ):
        raise CalcstatsError(
            f"sheet_name {sheet_name!r} is not a valid Excel sheet name: use 1 to 31 "
            "characters and none of [ ] : * ? / \\."
        )
    wb = Workbook()
    fixed = _dt.datetime(2000, 1, 1)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.properties.creator = "calcstats"
    ws = wb.active
    ws.title = sheet_name
    if not 6 <= font_size <= 14:
        raise CalcstatsError(f"font_size must be between 6 and 14 points, got {font_size!r}.")
    plain = Font(name=font, size=font_size)
    bold = Font(name=font, size=font_size, bold=True)
    thick = Side(style="medium", color="000000")
    thin = Side(style="thin", color="000000")
    centre = Alignment(horizontal="center", vertical="top")

    r = 1
    if table.title:
        _put(ws, r, 1, table.title).font = Font(name=font, size=font_size + 2, bold=True)
        r += 2
    first_header = r
    runs = table.spanner_row()
    if runs:
        for text, a, b in runs:
            cell = _put(ws, r, a + 1, text or None)
            cell.font = bold
            cell.alignment = centre
            if b > a:
                ws.merge_cells(start_row=r, start_column=a + 1, end_row=r, end_column=b + 1)
            for j in range(a, b + 1):
                ws.cell(row=r, column=j + 1).border = Border(
                    top=thick, bottom=thin if text else None
                )
        r += 1
    for j, name in enumerate(table.columns):
        cell = _put(ws, r, j + 1, name)
        cell.font = bold
        cell.alignment = Alignment(horizontal="left" if j == 0 else "center", vertical="top")
        cell.border = Border(top=thick if r == first_header else None, bottom=thin)
    header_row = r
    r += 1
    for lvl, values in zip(table.indent, table.cells, strict=True):
        for j, v in enumerate(values):
            cell = _put(ws, r, j + 1, v if v != "" else None)
            cell.number_format = "@"
            cell.font = plain
            if j == 0:
                cell.alignment = Alignment(horizontal="left", vertical="top", indent=lvl)
            else:
                cell.alignment = centre
        r += 1
    last_row = r - 1 if table.n_rows else header_row
    for j in range(table.n_cols):
        cell = ws.cell(row=last_row, column=j + 1)
        cell.border = Border(top=cell.border.top, bottom=thick)
    for note in table.footnotes:
        _put(ws, r, 1, note).font = Font(name=font, size=font_size - 1)
        r += 1
    labels = [2 * lvl + len(row[0]) for lvl, row in zip(table.indent, table.cells, strict=True)]
    widths = [max([len(table.columns[0]), *labels, 8])]
    for j in range(1, table.n_cols):
        widths.append(max([len(table.columns[j]), *(len(row[j]) for row in table.cells), 6]))
    for text, a, b in runs:
        span = sum(widths[a : b + 1])
        if len(text) > span:
            widths[b] += len(text) - span
    for j, w in enumerate(widths):
        # by letter: row 1 may hold a merged spanner cell, which has no column_letter
        ws.column_dimensions[get_column_letter(j + 1)].width = w + 2
    ws.freeze_panes = ws.cell(row=header_row + 1, column=2)
    # print on one page width
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    out = output_path(path)
    wb.save(str(out))
    normalise_zip(out)
    return out
