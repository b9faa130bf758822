"""Tests of the Table model and its text, CSV, Markdown and HTML outputs."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest

from calcstats import CalcstatsError
from calcstats.tables import Table
from calcstats.tables._html import TABLE_CSS


def test_model_accessors(table):
    assert table.n_rows == 5 and table.n_cols == 5
    assert table.columns[0] == "Characteristic"
    assert table.indent == (0, 0, 1, 1, 2)
    assert table.spanners == (("Calcification", ("Yes", "No")),)
    assert table.spanner_row() == [
        ("", 0, 0),
        ("Calcification", 1, 2),
        ("", 3, 3),
        ("", 4, 4),
    ]
    assert table.body.iloc[2, 1] == "40 (40.0%)"


def test_to_frame_returns_raw_copy(table):
    raw = table.to_frame()
    assert raw["mean_yes"].iloc[0] == 54.123
    raw.loc[0, "mean_yes"] = 0.0
    assert table.to_frame()["mean_yes"].iloc[0] == 54.123


def test_to_frame_without_raw_is_body(make_table):
    t = make_table(raw=None)
    pd.testing.assert_frame_equal(t.to_frame(), t.body)


def test_missing_values_become_blank():
    t = Table(pd.DataFrame({"a": ["x", None], "b": [np.nan, "3"], "c": [pd.NA, 7]}))
    assert t.cells == (("x", "", ""), ("", "3", "7"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"indent": [0, 1]}, "5 rows"),
        ({"indent": [0, 0, 1, -1, 0]}, "whole numbers >= 0"),
        ({"spanners": [("S", ["Yes", "Overall"])]}, "not adjacent"),
        ({"spanners": [("S", ["Nope"])]}, "not in the body"),
        ({"spanners": [("S", ["Yes"]), ("T", ["Yes", "No"])]}, "may not overlap"),
        ({"spanners": [("S",)]}, "label, \\[column names\\]"),
        ({"footnotes": "one note"}, "wrap it in a list"),
        ({"title": 3}, "title"),
        ({"raw": [1, 2]}, "raw"),
    ],
)
def test_bad_layout_is_a_clear_error(make_table, kwargs, message):
    with pytest.raises(CalcstatsError, match=message):
        make_table(**kwargs)


def test_bad_body():
    with pytest.raises(CalcstatsError, match="DataFrame"):
        Table([["a"]])
    with pytest.raises(CalcstatsError, match="repeated column names"):
        Table(pd.DataFrame([[1, 2]], columns=["a", "a"]))


def test_text_repr(table):
    text = repr(table)
    lines = text.splitlines()
    assert lines[0] == "Table 1. Baseline characteristics"
    assert "Calcification" in lines[2]
    assert lines[4].startswith("Characteristic")
    assert "  PBC" in text and "    Missing" in text
    assert lines[-2:] == ["Mean (SD); n (%).", "p: t-test; chi-square test."]
    # the spanner label is centred over the Yes and No columns
    yes = lines[4].index("Yes")
    assert lines[2].index("Calcification") < lines[4].index("No")
    assert lines[2].index("Calcification") + len("Calcification") > yes


def test_csv_round_trip(table, tmp_path):
    text = table.to_csv()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["", "Calcification", "Calcification", "", ""]
    assert rows[1] == list(table.columns)
    assert rows[2] == ["Age, years", "54.1 (10.2)", "51.3 (11.0)", "52.0 (10.8)", "<0.001"]
    assert rows[4][0] == "  PBC" and rows[6][0] == "    Missing"
    path = tmp_path / "t.csv"
    assert table.to_csv(path) is None
    assert path.read_bytes() == text.encode("utf-8")
    assert b"\r" not in path.read_bytes()


def test_csv_without_spanners_has_one_header_row(make_table):
    t = make_table(spanners=())
    rows = list(csv.reader(io.StringIO(t.to_csv())))
    assert rows[0] == list(t.columns)


def test_markdown(table):
    md = table.to_markdown()
    lines = md.splitlines()
    assert lines[0] == "**Table 1. Baseline characteristics**"
    assert (
        lines[2]
        == "| Characteristic | Calcification: Yes | Calcification: No | Overall | p-value |"
    )
    assert lines[3] == "|:---|:---:|:---:|:---:|:---:|"
    assert lines[6].startswith("| &emsp;PBC |")
    assert lines[8].startswith("| &emsp;&emsp;Missing |")
    assert "\u00a0" not in md
    assert lines[-2:] == ["Mean (SD); n (%).  ", "p: t-test; chi-square test."]


def test_markdown_escapes_pipes():
    t = Table(pd.DataFrame({"a|b": ["x|y"]}))
    assert "a\\|b" in t.to_markdown() and "x\\|y" in t.to_markdown()


def test_html_fragment_vs_page(table):
    frag = table.to_html(full_page=False)
    page = table.to_html()
    assert frag.startswith('<table class="cs-table">') and frag.endswith("</table>")
    assert "<style>" not in frag and "<html" not in frag
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert frag in page and TABLE_CSS in page
    assert '<meta charset="utf-8">' in page
    assert "<caption>Table 1. Baseline characteristics</caption>" in frag
    assert '<th class="cs-spanner" colspan="2">Calcification</th>' in frag
    # escaping and indentation
    assert "PSC &amp; other_" in frag and "&lt;0.001" in frag
    assert '<td class="cs-label" style="padding-left: 1.2em">PBC</td>' in frag
    assert '<td class="cs-label" style="padding-left: 2.4em">Missing</td>' in frag
    assert frag.count('<td colspan="5">') == 2
    assert table._repr_html_().startswith("<style>") and Table.css() == TABLE_CSS
    assert frag in table._repr_html_()


def test_html_without_title_spanners_notes():
    t = Table(pd.DataFrame({"x": ["a"], "y": ["1"]}))
    frag = t.to_html(full_page=False)
    assert "<caption>" not in frag and "<tfoot>" not in frag and "cs-spanner" not in frag
    assert frag.count("<tr>") == 2


def test_outputs_are_deterministic(table, make_table):
    other = make_table()
    assert table == other
    for method in ("to_html", "to_latex", "to_markdown", "to_csv", "to_text"):
        assert getattr(table, method)() == getattr(other, method)()


def test_empty_body_exports(tmp_path):
    import docx
    import openpyxl

    t = Table(pd.DataFrame({"x": [], "y": []}), title="Empty", footnotes=["n"])
    assert "x & y \\\\\n\\midrule\n\\bottomrule" in t.to_latex()
    assert t.to_csv() == "x,y\n"
    t.to_docx(tmp_path / "e.docx")
    d = docx.Document(str(tmp_path / "e.docx"))
    assert [c.text for c in d.tables[0].rows[0].cells] == ["x", "y"]
    ws = openpyxl.load_workbook(t.to_excel(tmp_path / "e.xlsx")).active
    assert [c.value for c in ws[3]] == ["x", "y"] and ws["A4"].value == "n"
    assert ws["A3"].border.bottom.style == "medium"


_HOSTILE = [
    '=HYPERLINK("http://evil.example","click")',
    "@SUM(A1:A9)",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "-ve",
    "\tTAB",
    "\rCR",
]
_NUMERIC = ["-1.5", "\u22120.3", "+2.0", "-0.50 (-2.00 to -1.00)", "-12 [\u221220, \u22124]", "-"]


def test_csv_cells_that_spreadsheets_would_run_open_as_text(tmp_path):
    body = pd.DataFrame(
        {
            "Level": [*_HOSTILE, *_NUMERIC],
            "=Estimate": ["1"] * len(_HOSTILE) + _NUMERIC,
        }
    )
    t = Table(body, indent=[1] + [0] * (len(body) - 1))
    t.to_csv(tmp_path / "t.csv")
    with open(tmp_path / "t.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["Level", "'=Estimate"]
    labels = [r[0] for r in rows[1:]]
    # an indented label keeps its indentation, the quote sits before its text
    assert labels[0] == "  '" + _HOSTILE[0]
    assert labels[1 : len(_HOSTILE)] == ["'" + h for h in _HOSTILE[1:]]
    # numbers and numeric text (negative estimates, intervals) are written as they are
    assert labels[len(_HOSTILE) :] == _NUMERIC
    assert [r[1] for r in rows[1 + len(_HOSTILE) :]] == _NUMERIC


def test_csv_formula_in_a_table_one_level_is_neutralised():
    import calcstats as cs

    df = pd.DataFrame({"site": ['=HYPERLINK("http://x","y")', "A", "B"] * 4, "g": [0, 1] * 6})
    rows = list(csv.reader(io.StringIO(cs.table_one(df, by="g").to_csv())))
    assert ['  \'=HYPERLINK("http://x","y")'] == [r[0] for r in rows if "HYPERLINK" in r[0]]


def test_headers_may_repeat_while_keys_stay_unique():
    body = pd.DataFrame({"Term": ["Age"], "crude": ["1.10"], "adj": ["1.05"]})
    t = Table(
        body,
        headers=["Term", "HR", "HR"],
        spanners=[("Crude", ["crude"]), ("Adjusted", ["adj"])],
    )
    assert t.columns == ("Term", "HR", "HR") and t.keys == ("Term", "crude", "adj")
    assert list(t.body.columns) == ["Term", "crude", "adj"]
    assert t.spanners == (("Crude", ("crude",)), ("Adjusted", ("adj",)))
    assert t.to_csv().splitlines()[:2] == [",Crude,Adjusted", "Term,HR,HR"]
    assert "<th>HR</th><th>HR</th>" in t.to_html(full_page=False).replace("\n", "")
    with pytest.raises(CalcstatsError, match="has 2 headings but the body has 3 columns"):
        Table(body, headers=["Term", "HR"])
    with pytest.raises(CalcstatsError, match="must be a list of strings"):
        Table(body, headers="Term")
    with pytest.raises(CalcstatsError, match="print the repeated heading with headers="):
        Table(pd.DataFrame([["a", "1", "2"]], columns=["Term", "HR", "HR"]))
