"""Word export: the saved .docx is reopened with python-docx and checked cell by cell."""

from __future__ import annotations

import docx
import pytest
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from calcstats import CalcstatsError

EXPECTED_BODY = [
    ["Age, years", "54.1 (10.2)", "51.3 (11.0)", "52.0 (10.8)", "<0.001"],
    ["Etiology", "", "", "", "0.43"],
    ["PBC", "40 (40.0%)", "55 (55.0%)", "95 (47.5%)", ""],
    ["PSC & other_", "<5", "*", "62 (31.0)", ""],
    ["Missing", "1 (1.0)", "0 (0.0)", "1 (0.5)", ""],
]


def _borders(cell) -> dict[str, str]:
    tc_pr = cell._tc.tcPr
    b = tc_pr.find(qn("w:tcBorders"))
    return {el.tag.split("}")[1]: el.get(qn("w:val")) for el in b}


@pytest.fixture
def saved(table, tmp_path):
    path = tmp_path / "t.docx"
    table.to_docx(path)
    return docx.Document(str(path))


def test_docx_cells(saved):
    assert len(saved.tables) == 1
    t = saved.tables[0]
    assert len(t.rows) == 2 + 5 and len(t.columns) == 5
    header = [c.text for c in t.rows[1].cells]
    assert header == ["Characteristic", "Yes", "No", "Overall", "p-value"]
    for i, expected in enumerate(EXPECTED_BODY):
        assert [c.text for c in t.rows[2 + i].cells] == expected


def test_docx_spanner_is_one_merged_cell(saved):
    top = saved.tables[0].rows[0]
    cells = top.cells
    assert cells[1]._tc is cells[2]._tc  # merged: the same cell twice
    assert cells[1].text == "Calcification"
    assert cells[1]._tc.tcPr.find(qn("w:gridSpan")).get(qn("w:val")) == "2"
    assert cells[0].text == cells[3].text == cells[4].text == ""
    assert len(top._tr.findall(qn("w:tc"))) == 4


def test_docx_rules_top_and_bottom_only(saved):
    t = saved.tables[0]
    tbl_borders = t._tbl.tblPr.find(qn("w:tblBorders"))
    assert {el.get(qn("w:val")) for el in tbl_borders} == {"nil"}
    n = len(t.rows)
    for r, row in enumerate(t.rows):
        for j, cell in enumerate(row.cells):
            b = _borders(cell)
            assert b["left"] == b["right"] == "nil", (r, j)
            assert b["top"] == ("single" if r == 0 else "nil"), (r, j)
            spanner_cell = r == 0 and j in (1, 2)
            under_rule = r == 1 or r == n - 1 or spanner_cell
            assert b["bottom"] == ("single" if under_rule else "nil"), (r, j)


def test_docx_font_title_notes_indent(saved):
    body = saved.element.body
    kinds = [child.tag.split("}")[1] for child in body]
    # title paragraph, table, two footnote paragraphs (then the section properties)
    assert kinds[:4] == ["p", "tbl", "p", "p"]
    paras = saved.paragraphs
    assert paras[0].text == "Table 1. Baseline characteristics"
    assert paras[0].runs[0].bold
    assert [p.text for p in paras[1:3]] == ["Mean (SD); n (%).", "p: t-test; chi-square test."]
    assert paras[1].runs[0].font.size == Pt(9)
    runs = [r for p in paras for r in p.runs]
    t = saved.tables[0]
    for row in t.rows:
        for cell in row.cells:
            runs.extend(cell.paragraphs[0].runs)
    assert {r.font.name for r in runs} == {"Times New Roman"}
    assert {r.font.size for r in runs} <= {Pt(10), Pt(9)}
    # header bold, body not
    assert all(c.paragraphs[0].runs[0].bold for c in t.rows[1].cells)
    assert not any(c.paragraphs[0].runs[0].bold for c in t.rows[2].cells)
    indents = [t.rows[2 + i].cells[0].paragraphs[0].paragraph_format.left_indent for i in range(5)]
    assert indents[0] is None and indents[1] is None
    # stored in whole twips (1/1440 inch): compare to 0.01 cm
    assert abs(indents[2] - Cm(0.35)) < Cm(0.01) and indents[3] == indents[2]
    assert abs(indents[4] - Cm(0.70)) < Cm(0.01)


def test_docx_other_font_and_landscape(table, tmp_path):
    path = tmp_path / "l.docx"
    table.to_docx(path, font="Arial", font_size=9, landscape=True)
    d = docx.Document(str(path))
    sec = d.sections[-1]
    assert sec.orientation == WD_ORIENT.LANDSCAPE and sec.page_width > sec.page_height
    runs = [r for c in d.tables[0].rows[2].cells for r in c.paragraphs[0].runs]
    assert {r.font.name for r in runs} == {"Arial"} and {r.font.size for r in runs} == {Pt(9)}


def test_docx_append_to_document(table, make_table, tmp_path):
    doc = docx.Document()
    doc.add_paragraph("Results")
    out = table.to_docx(document=doc)
    assert out is doc
    make_table(title="Table 2. Second", spanners=()).to_docx(document=doc, landscape=True)
    path = tmp_path / "report.docx"
    doc.save(str(path))
    d = docx.Document(str(path))
    assert len(d.tables) == 2
    assert d.paragraphs[0].text == "Results"
    assert len(d.tables[1].rows) == 1 + 5  # no spanner row
    assert len(d.sections) == 2 and d.sections[1].orientation == WD_ORIENT.LANDSCAPE
    # with no spanners the single header row carries the top rule
    assert _borders(d.tables[1].rows[0].cells[0])["top"] == "single"


def test_docx_is_deterministic(table, make_table, tmp_path):
    a, b = tmp_path / "a.docx", tmp_path / "b.docx"
    table.to_docx(a)
    make_table().to_docx(b)
    assert a.read_bytes() == b.read_bytes()


def test_docx_needs_a_target(table):
    with pytest.raises(CalcstatsError, match="needs a path"):
        table.to_docx()
    with pytest.raises(CalcstatsError, match="font_size"):
        table.to_docx("x.docx", font_size=40)


def test_docx_is_a4_by_default_and_letter_on_request(table, tmp_path):
    table.to_docx(tmp_path / "a4.docx")
    a4 = docx.Document(str(tmp_path / "a4.docx"))
    sec = a4.sections[0]
    assert round(sec.page_width.mm) == 210 and round(sec.page_height.mm) == 297
    assert round(sec.left_margin.cm, 2) == 2.54 and round(sec.right_margin.cm, 2) == 2.54
    table.to_docx(tmp_path / "letter.docx", page_size="letter")
    sec = docx.Document(str(tmp_path / "letter.docx")).sections[0]
    assert (round(sec.page_width.mm, 1), round(sec.page_height.mm, 1)) == (215.9, 279.4)
    # landscape A4: the long side across
    table.to_docx(tmp_path / "wide.docx", landscape=True)
    sec = docx.Document(str(tmp_path / "wide.docx")).sections[0]
    assert round(sec.page_width.mm) == 297 and sec.orientation == WD_ORIENT.LANDSCAPE
    # the table fits the A4 text width (210 mm − 2 × 25.4 mm)
    widths = [c.width.mm for c in a4.tables[0].columns]
    assert sum(widths) <= 210 - 2 * 25.4 + 0.5


def test_docx_document_without_page_size(table):
    # a document whose section has no w:pgSz (python-docx reads page_width as None)
    doc = docx.Document()
    sect_pr = doc.sections[-1]._sectPr
    sect_pr.remove(sect_pr.find(qn("w:pgSz")))
    with pytest.raises(CalcstatsError, match="the document's last section has no page width"):
        table.to_docx(document=doc)
    doc.sections[-1].page_width = Cm(21)
    table.to_docx(document=doc)
    assert len(doc.tables) == 1
    assert [c.text for c in doc.tables[0].columns[0].cells][-5:] == [r[0] for r in EXPECTED_BODY]


def test_docx_page_size_errors(table, tmp_path):
    from calcstats import InvalidParameterError

    with pytest.raises(
        InvalidParameterError,
        match=r"The 'page_size' parameter of to_docx must be one of 'A4', 'letter'. Got 'A5'.",
    ):
        table.to_docx(tmp_path / "x.docx", page_size="A5")
    with pytest.raises(InvalidParameterError, match="with document= the open document keeps"):
        table.to_docx(document=docx.Document(), page_size="A4")


def test_docx_repeated_headings_print_plainly(tmp_path):
    import pandas as pd

    from calcstats.tables import Table

    body = pd.DataFrame({"Term": ["Age"], "a": ["1.1 (1.0–1.2)"], "b": ["1.0 (0.9–1.1)"]})
    t = Table(
        body,
        headers=["Term", "HR (95% CI)", "HR (95% CI)"],
        spanners=[("Crude", ["a"]), ("Adjusted", ["b"])],
    )
    t.to_docx(tmp_path / "h.docx")
    d = docx.Document(str(tmp_path / "h.docx"))
    assert [c.text for c in d.tables[0].rows[1].cells] == ["Term", "HR (95% CI)", "HR (95% CI)"]
    assert [c.text for c in d.tables[0].rows[0].cells] == ["", "Crude", "Adjusted"]
