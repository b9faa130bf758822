"""Excel export: the saved .xlsx is reopened with openpyxl and checked cell by cell."""

from __future__ import annotations

import openpyxl
import pytest

from calcstats import CalcstatsError


@pytest.fixture
def sheet(table, tmp_path):
    path = table.to_excel(tmp_path / "t.xlsx", sheet_name="Table 1")
    return openpyxl.load_workbook(path)["Table 1"]


def test_excel_cells(sheet):
    assert sheet["A1"].value == "Table 1. Baseline characteristics" and sheet["A1"].font.b
    assert sheet["A2"].value is None
    assert [c.value for c in sheet[3]] == [None, "Calcification", None, None, None]
    assert [c.value for c in sheet[4]] == ["Characteristic", "Yes", "No", "Overall", "p-value"]
    assert [c.value for c in sheet[5]] == [
        "Age, years",
        "54.1 (10.2)",
        "51.3 (11.0)",
        "52.0 (10.8)",
        "<0.001",
    ]
    assert [c.value for c in sheet[6]] == ["Etiology", None, None, None, "0.43"]
    assert [c.value for c in sheet[8]] == ["PSC & other_", "<5", "*", "62 (31.0)", None]
    assert sheet["A10"].value == "Mean (SD); n (%)."
    assert sheet["A11"].value == "p: t-test; chi-square test."
    assert sheet.max_row == 11


def test_excel_merged_spanner_and_header(sheet):
    assert [str(r) for r in sheet.merged_cells.ranges] == ["B3:C3"]
    assert sheet["B3"].font.b and sheet["B3"].alignment.horizontal == "center"
    assert all(c.font.b for c in sheet[4])
    assert sheet["A4"].alignment.horizontal == "left"


def _style(side):
    return None if side is None else side.style


def test_excel_rules_and_indent(sheet):
    for j in range(1, 6):
        assert sheet.cell(row=3, column=j).border.top.style == "medium"
        assert sheet.cell(row=4, column=j).border.bottom.style == "thin"
        assert sheet.cell(row=9, column=j).border.bottom.style == "medium"
        for r in range(5, 9):
            b = sheet.cell(row=r, column=j).border
            assert _style(b.top) is None and _style(b.bottom) is None
        for r in range(3, 10):
            b = sheet.cell(row=r, column=j).border
            assert _style(b.left) is None and _style(b.right) is None
    # spanner rule only under the spanner
    assert sheet["B3"].border.bottom.style == "thin"
    assert _style(sheet["A3"].border.bottom) is None
    assert [sheet.cell(row=r, column=1).alignment.indent for r in range(5, 10)] == [0, 0, 1, 1, 2]


def test_excel_column_widths(sheet):
    widths = [sheet.column_dimensions[c].width for c in "ABCDE"]
    # longest text + 2: "  PSC & other_" (indent 1), "54.1 (10.2)", ..., "p-value"
    assert widths == [16, 13, 13, 13, 9]


def test_excel_without_title_or_spanners(make_table, tmp_path):
    t = make_table(title=None, spanners=(), footnotes=())
    ws = openpyxl.load_workbook(t.to_excel(tmp_path / "x.xlsx")).active
    assert ws.title == "Table"
    assert [c.value for c in ws[1]] == ["Characteristic", "Yes", "No", "Overall", "p-value"]
    assert _style(ws["A1"].border.top) == "medium"
    assert ws.max_row == 6 and not ws.merged_cells.ranges


def test_excel_deterministic_and_bad_sheet(table, make_table, tmp_path):
    a = table.to_excel(tmp_path / "a.xlsx")
    b = make_table().to_excel(tmp_path / "b.xlsx")
    assert a.read_bytes() == b.read_bytes()
    with pytest.raises(CalcstatsError, match="sheet name"):
        table.to_excel(tmp_path / "c.xlsx", sheet_name="a/b")


def test_excel_one_font_and_page_fit(table, tmp_path):
    path = table.to_excel(tmp_path / "f.xlsx", font="Times New Roman", font_size=9)
    ws = openpyxl.load_workbook(path).active
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert {c.font.name for c in cells} == {"Times New Roman"}
    assert ws["A1"].font.sz == 11 and ws["A5"].font.sz == 9 and ws["A10"].font.sz == 8
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    with pytest.raises(CalcstatsError, match="font_size"):
        table.to_excel(tmp_path / "g.xlsx", font_size=3)


def test_office_files_identical_when_saved_later(table, tmp_path):
    import time
    import zipfile

    first = [table.to_excel(tmp_path / "a.xlsx"), tmp_path / "a.docx"]
    table.to_docx(first[1])
    time.sleep(1.1)  # openpyxl stamps the save time (to the second) into core.xml
    second = [table.to_excel(tmp_path / "b.xlsx"), tmp_path / "b.docx"]
    table.to_docx(second[1])
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    core = zipfile.ZipFile(first[0]).read("docProps/core.xml").decode()
    assert "2000-01-01T00:00:00Z</dcterms:modified>" in core


def test_formula_text_is_stored_as_text(tmp_path):
    import pandas as pd

    from calcstats.tables import Table

    hostile = ['=HYPERLINK("http://evil.example","click")', "@SUM(A1)", "-ve", "+1+1"]
    numeric = ["-1.5", "\u22120.3", "-0.50 (-2.00 to -1.00)", "12"]
    body = pd.DataFrame({"Level": hostile, "Estimate": numeric})
    table = Table(body, title="=1+1", footnotes=["@note"])
    ws = openpyxl.load_workbook(table.to_excel(tmp_path / "f.xlsx")).active
    cells = {c.value: c for row in ws.iter_rows() for c in row if c.value is not None}
    for text in [*hostile, "=1+1", "@note"]:
        # the text as typed, as a string cell (never a formula), with Excel's quote prefix
        assert cells[text].data_type == "s" and cells[text].quotePrefix, text
    for text in numeric:
        assert cells[text].data_type == "s" and not cells[text].quotePrefix, text
    assert not any(c.data_type == "f" for c in cells.values())


def test_model_table_without_title_exports_to_excel(tmp_path):
    """A regression table with spanners and no title has the merged spanner cells in row
    1; the export used to fail on them ('MergedCell' object has no attribute
    'column_letter')."""
    import calcstats as cs

    pbc = cs.datasets.load_pbc()
    kw = {"time": "time", "event": "status", "cause": 2}
    crude = cs.cox(pbc, "C(edema)", **kw)
    adj = cs.cox(pbc, "C(edema) + age", **kw)
    t = cs.regression_table(crude, adj, model_names=["Crude", "Adjusted"])
    ws = openpyxl.load_workbook(t.to_excel(tmp_path / "models.xlsx")).active
    assert [str(r) for r in ws.merged_cells.ranges] == ["D1:E1", "F1:G1"]
    assert ws["D1"].value == "Crude" and ws["F1"].value == "Adjusted"
    # the same heading over both models, without hidden characters telling them apart
    assert [c.value for c in ws[2]] == [
        "Characteristic",
        "N",
        "Events",
        "HR (95% CI)",
        "p-value",
        "HR (95% CI)",
        "p-value",
    ]
    assert ws["A3"].value == "Edema"
    assert (ws["A7"].value, ws["B7"].value) == ("Age", "418")  # Age: the model's N
    cells = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not any("\u00a0" in v for v in cells)
    assert all(ws.column_dimensions[c].width >= 8 for c in "ABCDEFG")
