"""Word (.docx) export of a :class:`~calcstats.tables.Table` in journal style.

Journal style as most medical journals ask for it: A4 paper (or US letter) with 2.54 cm
margins, one font throughout (Times New Roman 10 pt by default), the title above the
table, a rule above the header, a rule under the header, a rule under the table and no
other lines (no vertical lines, no cell grid); a short rule under each spanning heading
(its merged cell); row levels indented; footnotes below in a smaller size. No Word table
style is used, so the look does not depend on the template. Output is reproducible:
timestamps in the saved file are fixed.
"""

from __future__ import annotations

import datetime as _dt
import os
from typing import TYPE_CHECKING

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

from calcstats._errors import CalcstatsError, InvalidParameterError
from calcstats.tables._files import output_path
from calcstats.tables._zip import normalise_zip

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument
    from docx.table import _Cell
    from docx.text.paragraph import Paragraph

    from calcstats.tables._table import Table

__all__ = ["PAGE_SIZES", "check_page_size", "set_page", "table_to_docx"]

#: Paper sizes (width, height) in mm, portrait.
PAGE_SIZES = {"A4": (210.0, 297.0), "letter": (215.9, 279.4)}
MARGIN_CM = 2.54  # journal manuscripts: 1-inch (2.54 cm) margins

RULE_HEAVY = 8  # eighths of a point: 1 pt
RULE_LIGHT = 4  # 0.5 pt
INDENT_CM = 0.35
CELL_PAD_CM = 0.1  # left and right cell margin (Word's default is 0.19 cm)


_TBLPR_ORDER = (
    "tblStyle",
    "tblpPr",
    "tblOverlap",
    "bidiVisual",
    "tblStyleRowBandSize",
    "tblStyleColBandSize",
    "tblW",
    "jc",
    "tblCellSpacing",
    "tblInd",
    "tblBorders",
    "shd",
    "tblLayout",
    "tblCellMar",
    "tblLook",
)
_TCPR_ORDER = (
    "cnfStyle",
    "tcW",
    "gridSpan",
    "hMerge",
    "vMerge",
    "tcBorders",
    "shd",
    "noWrap",
    "tcMar",
    "textDirection",
    "tcFitText",
    "vAlign",
    "hideMark",
)


def _insert_ordered(parent, el, order: tuple[str, ...]) -> None:
    """Insert ``el`` into ``parent`` where the OOXML schema sequence wants it (Word
    rejects files whose property children are out of order)."""
    name = el.tag.split("}")[1]
    for old in parent.findall(qn(f"w:{name}")):
        parent.remove(old)
    later = set(order[order.index(name) + 1 :])
    for i, child in enumerate(parent):
        if child.tag.split("}")[1] in later:
            parent.insert(i, el)
            return
    parent.append(el)


def _set_cell_borders(cell: _Cell, **edges: int) -> None:
    """Set single-line borders on the given edges (top/bottom/left/right) of a cell;
    every other edge is explicitly 'nil' so no table style can add lines."""
    tc_pr = cell._tc.get_or_add_tcPr()
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
    _insert_ordered(tc_pr, borders, _TCPR_ORDER)


def _no_table_borders(tbl) -> None:
    """No borders at table level, and narrow left/right cell margins."""
    tbl_pr = tbl._tbl.tblPr
    mar = OxmlElement("w:tblCellMar")
    for edge in ("left", "right"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:w"), str(round(CELL_PAD_CM / 2.54 * 1440)))
        el.set(qn("w:type"), "dxa")
        mar.append(el)
    _insert_ordered(tbl_pr, mar, _TBLPR_ORDER)
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    _insert_ordered(tbl_pr, borders, _TBLPR_ORDER)


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
    # the paragraph mark too, so an empty cell is no taller than a filled one
    p_pr = par._p.get_or_add_pPr()
    mark = OxmlElement("w:rPr")
    mark_fonts = OxmlElement("w:rFonts")
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        mark_fonts.set(qn(attr), font)
    mark.append(mark_fonts)
    for tag in ("w:sz", "w:szCs"):
        sz = OxmlElement(tag)
        sz.set(qn("w:val"), str(round(size * 2)))
        mark.append(sz)
    for old in p_pr.findall(qn("w:rPr")):
        p_pr.remove(old)
    p_pr.append(mark)


def _text_em(text: str, *, bold: bool = False) -> float:
    """Rough printed width of ``text`` in em (Times/Arial-like proportions)."""
    em = 0.0
    for ch in text:
        if ch.isupper():
            em += 0.72
        elif ch.isdigit():
            em += 0.5
        elif ch.isspace():
            em += 0.25
        elif ch.isalpha():
            em += 0.47
        else:
            em += 0.4
    return em * (1.08 if bold else 1.0)


def _col_widths(table: Table, text_width_cm: float, font_size: float) -> list[float]:
    """Column widths in cm from the widest text of each column (label indentation and
    bold headings included) plus the cell padding. If the table is wider than the text,
    the label column wraps first (down to 30% of the text width), then all columns
    shrink in proportion."""
    indent_em = INDENT_CM / (font_size / 72 * 2.54)
    labels = (
        indent_em * lvl + _text_em(r[0]) for lvl, r in zip(table.indent, table.cells, strict=True)
    )
    ems = [max(_text_em(table.columns[0], bold=True), max(labels, default=0.0))]
    for j in range(1, table.n_cols):
        body = max((_text_em(r[j]) for r in table.cells), default=0.0)
        ems.append(max(_text_em(table.columns[j], bold=True), body, 1.5))
    for text, a, b in table.spanner_row():
        extra = _text_em(text, bold=True) - sum(ems[a : b + 1])
        if extra > 0:
            ems[b] += extra
    em_cm = font_size / 72 * 2.54
    widths = [e * em_cm + 2 * CELL_PAD_CM + 0.15 for e in ems]
    excess = sum(widths) - text_width_cm
    if excess > 0:
        widths[0] = max(widths[0] - excess, min(widths[0], 0.3 * text_width_cm))
    total = sum(widths)
    if total > text_width_cm:
        widths = [w * text_width_cm / total for w in widths]
    return widths


def check_page_size(page_size: object, function: str) -> str:
    """``page_size`` as a key of :data:`PAGE_SIZES` (case-insensitive), or an error."""
    if isinstance(page_size, str):
        for name in PAGE_SIZES:
            if page_size.strip().lower() == name.lower():
                return name
    raise InvalidParameterError(
        f"The 'page_size' parameter of {function} must be one of "
        f"{', '.join(map(repr, PAGE_SIZES))}. Got {page_size!r}."
    )


def set_page(document: DocxDocument, page_size: str) -> None:
    """Portrait ``page_size`` paper with 2.54 cm margins for every section of a new
    document."""
    width, height = PAGE_SIZES[page_size]
    for sec in document.sections:
        sec.orientation = WD_ORIENT.PORTRAIT
        sec.page_width, sec.page_height = Mm(width), Mm(height)
        sec.left_margin = sec.right_margin = Cm(MARGIN_CM)
        sec.top_margin = sec.bottom_margin = Cm(MARGIN_CM)


def table_to_docx(
    table: Table,
    path: str | os.PathLike[str] | None = None,
    *,
    document: DocxDocument | None = None,
    font: str = "Times New Roman",
    font_size: float = 10,
    landscape: bool = False,
    page_size: str | None = None,
) -> DocxDocument:
    """Write ``table`` as a Word table.

    Parameters
    ----------
    table : Table
    path : path-like, optional
        Where to save the document (missing folders are created). Required unless
        ``document`` is given.
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
    page_size : {"A4", "letter"}, optional
        Paper of a new document (default A4; 2.54 cm margins). With ``document=`` the
        open document keeps its own paper, so ``page_size`` must then be left out.

    Returns
    -------
    docx.document.Document
    """
    if path is None and document is None:
        raise CalcstatsError(
            "to_docx needs a path to save to, or document= to append to an open Document."
        )
    if page_size is not None and document is not None:
        raise InvalidParameterError(
            "The 'page_size' parameter of to_docx sets the paper of a new document; with "
            "document= the open document keeps its own. Leave page_size out, or set the "
            "paper of the Document's sections yourself."
        )
    paper = check_page_size("A4" if page_size is None else page_size, "to_docx")
    if not 6 <= font_size <= 14:
        raise CalcstatsError(f"font_size must be between 6 and 14 points, got {font_size!r}.")
    new = document is None
    doc = Document() if document is None else document
    if new:
        # fixed document properties so the file is reproducible
        fixed = _dt.datetime(2000, 1, 1)
        doc.core_properties.created = fixed
        doc.core_properties.modified = fixed
        doc.core_properties.last_modified_by = "calcstats"
        doc.core_properties.author = "calcstats"
        set_page(doc, paper)
    if landscape:
        section = doc.sections[-1] if new else doc.add_section(WD_SECTION.NEW_PAGE)
        if section.orientation != WD_ORIENT.LANDSCAPE:
            section.orientation = WD_ORIENT.LANDSCAPE
            section.page_width, section.page_height = section.page_height, section.page_width
    section = doc.sections[-1]
    page_w, left_m, right_m = section.page_width, section.left_margin, section.right_margin
    if page_w is None or left_m is None or right_m is None:
        raise CalcstatsError(
            "to_docx(document=...): the document's last section has no page width or side "
            "margins, so the table cannot be fitted to the page; set its page_width, "
            "left_margin and right_margin (docx.shared.Cm) first."
        )
    text_width_cm = (page_w - left_m - right_m) / 360000

    if table.title:
        par = doc.add_paragraph()
        _style_run_paragraph(par, table.title, font=font, size=font_size, bold=True)
        par.paragraph_format.space_after = Pt(4)
        par.paragraph_format.keep_with_next = True

    runs = table.spanner_row()
    n_head = 2 if runs else 1
    n_rows = n_head + table.n_rows
    tbl = doc.add_table(rows=n_rows, cols=table.n_cols)
    tbl.alignment = WD_TABLE_ALIGNMENT.LEFT  # flush with the title and notes
    tbl.autofit = False
    _no_table_borders(tbl)
    widths = _col_widths(table, text_width_cm, font_size)
    for j, col in enumerate(tbl.columns):
        col.width = Cm(widths[j])
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
            if i == 0:  # a little air under the header rule and above the bottom rule
                cell.paragraphs[0].paragraph_format.space_before = Pt(2)
            if r == last:
                cell.paragraphs[0].paragraph_format.space_after = Pt(2)
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
        out = output_path(path)
        doc.save(str(out))
        normalise_zip(out)
    return doc
