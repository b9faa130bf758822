"""Word (.docx) export of a :class:`~calcstats.tables.Table` in journal style.

Journal style as most medical journals ask for it: one font throughout (Times New Roman
10 pt by default), the title above the table, a rule above the header, a rule under the
header, a rule under the table and no other lines (no vertical lines, no cell grid); a
short rule under each spanning heading (its merged cell); row levels indented; footnotes
below in a smaller size. No Word table style is used, so the look does not depend on the
template. Output is reproducible: timestamps in the saved file are fixed.
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import TYPE_CHECKING

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from calcstats._errors import CalcstatsError
from calcstats.tables._zip import normalise_zip

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument
    from docx.table import _Cell
    from docx.text.paragraph import Paragraph

    from calcstats.tables._table import Table

__all__ = ["table_to_docx"]

RULE_HEAVY = 8  # eighths of a point: 1 pt
RULE_LIGHT = 4  # 0.5 pt
INDENT_CM = 0.35


def _set_cell_borders(cell: _Cell, **edges: int) -> None:
    """Set single-line borders on the given edges (top/bottom/left/right) of a cell;
    every other edge is explicitly 'nil' so no table style can add lines."""
    tc_pr = cell._tc.get_or_add_tcPr()
    for old in tc_pr.findall(qn("w:tcBorders")):
        tc_pr.remove(old)
    borders = OxmlElement("w:tcBorders")
    for edge in ("top", "left", "bottom", "right"):
        el = OxmlElement(f"w:{edge}")
        size = edges.get(edge)
        if size:
            el.set(qn("w:val"), "single")
            el.set(qn("w:sz"), str(size))
            el.set(qn("w:space"), "0")
            el.set(qn("w:color"), "000000")
        else:
            el.set(qn("w:val"), "nil")
        borders.append(el)
    tc_pr.append(borders)


def _no_table_borders(tbl) -> None:
    tbl_pr = tbl._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr.append(borders)


def _style_run_paragraph(
    par: Paragraph, text: str, *, font: str, size: float, bold: bool = False
) -> None:
    fmt = par.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    fmt.line_spacing = 1.0
    run = par.add_run(text)
    run.bold = bold
    run.font.name = font
    run.font.size = Pt(size)
    # east-Asian / complex-script font slots too, so Word never substitutes another font
    r_pr = run._element.get_or_add_rPr()
    r_fonts = r_pr.find(qn("w:rFonts"))
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        r_fonts.set(qn(attr), font)


def _col_widths(table: Table, text_width_cm: float) -> list[float]:
    labels = ["  " * lvl + r[0] for lvl, r in zip(table.indent, table.cells, strict=True)]
    lens = [max([len(table.columns[0]), *map(len, labels), 4])]
    for j in range(1, table.n_cols):
        lens.append(max([len(table.columns[j]), *(len(r[j]) for r in table.cells), 3]))
    total = sum(lens)
    return [text_width_cm * n / total for n in lens]


def table_to_docx(
    table: Table,
    path: str | os.PathLike[str] | None = None,
    *,
    document: DocxDocument | None = None,
    font: str = "Times New Roman",
    font_size: float = 10,
    landscape: bool = False,
) -> DocxDocument:
    """Write ``table`` as a Word table.

    Parameters
    ----------
    table : Table
    path : path-like, optional
        Where to save the document. Required unless ``document`` is given.
    document : docx.document.Document, optional
        An open python-docx Document to append the table to (e.g. a report with several
        tables). The caller saves it, unless ``path`` is also given.
    font : str, default "Times New Roman"
        The one font used for title, table and footnotes (e.g. ``"Arial"``).
    font_size : float, default 10
        Size in points of title and table; footnotes are 1 pt smaller.
    landscape : bool, default False
        Put the table on landscape pages: a new document is landscape throughout; with
        ``document=`` a new landscape section is started (on a new page) and the document
        continues in it.

    Returns
    -------
    docx.document.Document
    """
    if path is None and document is None:
        raise CalcstatsError(
            "to_docx needs a path to save to, or document= to append to an open Document."
        )
    if not 6 <= font_size <= 14:
        raise CalcstatsError(f"font_size must be between 6 and 14 points, got {font_size!r}.")
    new = document is None
    doc = Document() if new else document
    if new:
        # fixed document properties so the file is reproducible
        fixed = _dt.datetime(2000, 1, 1)
        doc.core_properties.created = fixed
        doc.core_properties.modified = fixed
        doc.core_properties.last_modified_by = "calcstats"
        doc.core_properties.author = "calcstats"
    if landscape:
        section = doc.sections[-1] if new else doc.add_section(WD_SECTION.NEW_PAGE)
        if section.orientation != WD_ORIENT.LANDSCAPE:
            section.orientation = WD_ORIENT.LANDSCAPE
            section.page_width, section.page_height = section.page_height, section.page_width
    section = doc.sections[-1]
    text_width_cm = (section.page_width - section.left_margin - section.right_margin) / 360000

    if table.title:
        par = doc.add_paragraph()
        _style_run_paragraph(par, table.title, font=font, size=font_size, bold=True)
        par.paragraph_format.space_after = Pt(4)
        par.paragraph_format.keep_with_next = True

    runs = table.spanner_row()
    n_head = 2 if runs else 1
    n_rows = n_head + table.n_rows
    tbl = doc.add_table(rows=n_rows, cols=table.n_cols)
    tbl.alignment = WD_TABLE_ALIGNMENT.CENTER
    tbl.autofit = False
    _no_table_borders(tbl)
    widths = _col_widths(table, text_width_cm)
    for row in tbl.rows:
        for j, cell in enumerate(row.cells):
            cell.width = Cm(widths[j])

    def fill(cell: _Cell, text: str, *, align, bold=False, indent=0) -> None:
        par = cell.paragraphs[0]
        _style_run_paragraph(par, text, font=font, size=font_size, bold=bold)
        par.alignment = align
        if indent:
            par.paragraph_format.left_indent = Cm(INDENT_CM * indent)

    left, centre = WD_ALIGN_PARAGRAPH.LEFT, WD_ALIGN_PARAGRAPH.CENTER
    last = n_rows - 1
    if runs:
        top = tbl.rows[0]
        for text, a, b in runs:
            cell = top.cells[a] if a == b else top.cells[a].merge(top.cells[b])
            fill(cell, text, align=centre, bold=True)
        for j, cell in enumerate(top.cells):
            spanned = any(t and a <= j <= b for t, a, b in runs)
            edges = {"top": RULE_HEAVY}
            if spanned:
                edges["bottom"] = RULE_LIGHT
            _set_cell_borders(cell, **edges)
    head = tbl.rows[n_head - 1]
    for j, cell in enumerate(head.cells):
        fill(cell, table.columns[j], align=left if j == 0 else centre, bold=True)
        edges = {"bottom": RULE_LIGHT}
        if n_head == 1:
            edges["top"] = RULE_HEAVY
        _set_cell_borders(cell, **edges)
    for i, (lvl, values) in enumerate(zip(table.indent, table.cells, strict=True)):
        r = n_head + i
        for j, cell in enumerate(tbl.rows[r].cells):
            fill(cell, values[j], align=left if j == 0 else centre, indent=lvl if j == 0 else 0)
            _set_cell_borders(cell, **({"bottom": RULE_HEAVY} if r == last else {}))
    if table.n_rows == 0:
        for cell in head.cells:
            _set_cell_borders(cell, bottom=RULE_HEAVY, **({"top": RULE_HEAVY} if not runs else {}))
    # repeat the header on each page
    for k in range(n_head):
        tr_pr = tbl.rows[k]._tr.get_or_add_trPr()
        el = OxmlElement("w:tblHeader")
        el.set(qn("w:val"), "true")
        tr_pr.append(el)

    for k, note in enumerate(table.footnotes):
        par = doc.add_paragraph()
        _style_run_paragraph(par, note, font=font, size=font_size - 1)
        if k == 0:
            par.paragraph_format.space_before = Pt(3)
    if path is not None:
        out = Path(path)
        doc.save(str(out))
        normalise_zip(out)
    return doc
