"""merge_tables (side by side on row labels) and stack_tables (one under another): the
gtsummary univariable | multivariable table, row matching, spanners, footnotes, raw
numbers, exports, and the errors a user sees."""

from __future__ import annotations

import docx
import openpyxl
import pandas as pd
import pytest

import calcstats as cs
from calcstats import CalcstatsError, InvalidParameterError, SchemaError
from calcstats.tables import Table

LAB = cs.Labels(
    variables={"edema": "Edema", "bili": "Bilirubin", "sex": "Sex"},
    levels={"sex": {"f": "Female", "m": "Male"}},
)


@pytest.fixture(scope="module")
def pbc():
    return cs.datasets.load_pbc()


@pytest.fixture(scope="module")
def uni_multi(pbc):
    uni = cs.univariable(
        pbc,
        "status",
        ["age", "C(edema)", "np.log(bili)", "sex"],
        model="cox",
        time="time",
        cause=2,
        labels=LAB,
    )
    multi = cs.cox(pbc, "age + C(edema) + np.log(bili)", time="time", event="status", cause=2)
    return uni, multi


def test_univariable_and_multivariable_side_by_side(uni_multi):
    uni, multi = uni_multi
    right = cs.regression_table(multi, labels=LAB, counts=False)
    t = cs.merge_tables(
        uni, right, spanners=("Univariable", "Multivariable"), title="Table 2. Death"
    )
    assert t.title == "Table 2. Death"
    assert t.columns == (
        "Characteristic", "N", "Events", "HR (95% CI)", "p-value", "HR (95% CI)", "p-value",
    )  # fmt: skip
    assert t.spanners == (
        ("Univariable", ("Univariable: N", "Univariable: Events",
                         "Univariable: HR (95% CI)", "Univariable: p-value")),
        ("Multivariable", ("Multivariable: HR (95% CI)", "Multivariable: p-value")),
    )  # fmt: skip
    labels = [("  " * i) + row[0] for i, row in zip(t.indent, t.cells, strict=True)]
    assert labels == [
        "Age", "Edema", "  0", "  0.5", "  1", "Bilirubin (log)", "Sex", "  Female", "  Male",
    ]  # fmt: skip
    b = t.body.set_index("Characteristic")
    # every cell is the cell of its source table
    ub = uni.body.set_index("Characteristic")
    rb = right.body.set_index("Characteristic")
    for row in ["Age", "1", "Bilirubin (log)"]:
        assert b.loc[row, "Univariable: HR (95% CI)"] == ub.loc[row, "HR (95% CI)"]
        assert b.loc[row, "Multivariable: HR (95% CI)"] == rb.loc[row, "HR (95% CI)"]
        assert b.loc[row, "Multivariable: p-value"] == rb.loc[row, "p-value"]
    # sex is in the univariable screen only: blank on the multivariable side
    assert b.loc["Male", "Univariable: HR (95% CI)"] != ""
    assert b.loc["Male", "Multivariable: HR (95% CI)"] == ""
    assert b.loc["Edema", "Multivariable: p-value"] == rb.loc["Edema", "p-value"] != ""
    # footnotes of both, once each; the raw numbers of both, named by their spanner
    assert t.footnotes[0].startswith("One univariable model per characteristic")
    assert any(
        n.startswith("Cox proportional-hazards model (Efron ties); age adjusted for")
        for n in t.footnotes
    )
    assert len(t.footnotes) == len(set(t.footnotes))
    raw = t.to_frame()
    assert list(raw["table"].unique()) == ["Univariable", "Multivariable"]
    assert len(raw) == len(uni.to_frame()) + len(right.to_frame())


def test_results_become_tables_with_the_labels_given(uni_multi):
    uni, multi = uni_multi
    t = cs.merge_tables(uni, multi, spanners=("Univariable", "Multivariable"), labels=LAB)
    assert t == cs.merge_tables(
        uni, cs.regression_table(multi, labels=LAB), spanners=("Univariable", "Multivariable")
    )
    assert t.title is None


def test_levels_match_under_their_own_variable():
    """'Yes' of two variables, and a row found only in the second table."""
    a = Table(
        pd.DataFrame({"Characteristic": ["Diabetes", "Yes", "Smoker", "Yes"],
                      "OR": ["", "2.0", "", "3.0"]}),
        indent=[0, 1, 0, 1],
    )  # fmt: skip
    b = Table(
        pd.DataFrame({"Characteristic": ["Smoker", "No", "Yes", "Diabetes", "Yes"],
                      "OR": ["", "1.00 (ref)", "3.3", "", "2.2"]}),
        indent=[0, 1, 1, 0, 1],
    )  # fmt: skip
    t = cs.merge_tables(a, b)
    assert [(i, r[0], r[1], r[2]) for i, r in zip(t.indent, t.cells, strict=True)] == [
        (0, "Diabetes", "", ""),
        (1, "Yes", "2.0", "2.2"),
        (0, "Smoker", "", ""),
        (1, "No", "", "1.00 (ref)"),  # after the row it follows in its own table
        (1, "Yes", "3.0", "3.3"),
    ]
    # without spanners: keys numbered to stay unique, headings as printed
    assert t.keys == ("Characteristic", "OR", "OR (2)") and t.columns[1:] == ("OR", "OR")


def test_own_spanners_are_kept_or_nested(pbc):
    kw = {"time": "time", "event": "status", "cause": 2}
    both = cs.regression_table(
        cs.cox(pbc, "age", **kw), cs.cox(pbc, "age + C(edema)", **kw),
        model_names=["Crude", "Adjusted"], labels=LAB,
    )  # fmt: skip
    fg = cs.regression_table(cs.fine_gray(pbc, "age + C(edema)", **kw), labels=LAB, counts=False)
    kept = cs.merge_tables(both, fg)
    assert [s[0] for s in kept.spanners] == ["Crude", "Adjusted"]
    nested = cs.merge_tables(both, fg, spanners=("Cause-specific", "Subdistribution"))
    assert [s[0] for s in nested.spanners] == [
        "Cause-specific", "Cause-specific: Crude", "Cause-specific: Adjusted", "Subdistribution",
    ]  # fmt: skip
    assert nested.columns[-2:] == ("sHR (95% CI)", "p-value")


def test_merged_table_exports_without_hidden_characters(uni_multi, tmp_path):
    uni, multi = uni_multi
    t = cs.merge_tables(uni, multi, spanners=("Univariable", "Multivariable"), labels=LAB)
    ws = openpyxl.load_workbook(t.to_excel(tmp_path / "m.xlsx")).active
    assert [c.value for c in ws[1]][1:4] == ["Univariable", None, None]
    assert [c.value for c in ws[2]][3:5] == ["HR (95% CI)", "p-value"]
    t.to_docx(tmp_path / "m.docx")
    d = docx.Document(str(tmp_path / "m.docx"))
    heads = [c.text for c in d.tables[0].rows[1].cells]
    assert heads.count("HR (95% CI)") == 2
    text = t.to_csv() + t.to_html() + t.to_markdown() + t.to_latex()
    assert "\u00a0" not in text


def test_merge_errors(uni_multi):
    uni, multi = uni_multi
    with pytest.raises(InvalidParameterError, match="needs at least two tables"):
        cs.merge_tables(uni)
    with pytest.raises(
        InvalidParameterError,
        match="The 'spanners' parameter of merge_tables has 1 names for 2 tables",
    ):
        cs.merge_tables(uni, multi, spanners=("Univariable",))
    with pytest.raises(SchemaError, match=r"part 2 is a DataFrame, not a calcstats Table"):
        cs.merge_tables(uni, pd.DataFrame({"a": [1]}))
    with pytest.raises(InvalidParameterError, match="every part is a Table already"):
        cs.merge_tables(uni, uni, labels=LAB)


def _rates(pbc):
    d = pbc.assign(years=pbc["time"] / 365.25, dead=(pbc["status"] == 2).astype(int))
    lab = cs.Labels(units={"years": "years"}) | LAB
    by_sex = cs.incidence_rate(d, time="years", event="dead", by="sex", per=100, labels=lab)
    overall = cs.incidence_rate(d, time="years", event="dead", per=100, labels=lab)
    return by_sex, overall


def test_stack_tables_with_headings(pbc):
    by_sex, overall = _rates(pbc)
    t = cs.stack_tables(by_sex, overall, headings=("By sex", "All patients"), title="Deaths")
    assert t.title == "Deaths"
    assert [("  " * i) + r[0] for i, r in zip(t.indent, t.cells, strict=True)] == [
        "By sex", "  Female", "  Male", "All patients", "  All",
    ]  # fmt: skip
    assert t.columns == by_sex.to_table().columns
    assert t.cells[4][1:] == overall.to_table().cells[0][1:]
    assert t.cells[0][1:] == ("",) * (t.n_cols - 1)
    assert list(t.to_frame()["table"].unique()) == ["By sex", "All patients"]
    assert len(set(t.footnotes)) == len(t.footnotes) >= 1


def test_stack_tables_fills_missing_columns_and_refuses_split_spanners():
    a = Table(pd.DataFrame({"Group": ["a"], "N": ["10"], "Rate": ["1.0"]}))
    b = Table(pd.DataFrame({"Group": ["b"], "N": ["12"], "Median": ["4.1"]}))
    t = cs.stack_tables(a, b)
    assert t.columns == ("Group", "N", "Rate", "Median")
    assert t.cells == (("a", "10", "1.0", ""), ("b", "12", "", "4.1"))
    s1 = Table(pd.DataFrame({"G": ["a"], "x": ["1"], "w": ["2"]}), spanners=[("S", ["x"])])
    s2 = Table(pd.DataFrame({"G": ["b"], "x": ["3"], "z": ["2"]}), spanners=[("S", ["x", "z"])])
    with pytest.raises(CalcstatsError, match="columns under the spanner 'S' do not end up side"):
        cs.stack_tables(s1, s2)
    with pytest.raises(InvalidParameterError, match="'headings' parameter of stack_tables"):
        cs.stack_tables(a, b, headings="one")
