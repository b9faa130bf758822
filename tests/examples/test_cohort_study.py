"""examples/cohort_study.py (the flagship example) runs end to end; its tables show labels
(no code, no column names, level labels), every table is in the report, and the figures
are numbered in order."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from docx import Document

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "cohort_study.py"
TABLES = (
    "table1_baseline",
    "table2_prevalence",
    "table3_logistic",
    "table4_incidence",
    "table5_cox",
    "table6_cox_finegray",
    "table7_sensitivity",
    "table8_truth",
    "tableS1_ph",
)
FIGURES = (
    "figure1_flow",
    "figure2_prevalence",
    "figure3_cif",
    "figure4_km",
    "figure5_forest",
    "figure6_sensitivity",
    "figure7_segments",
    "figureS1_ph",
)
CODE = ("C(", "Treatment(", "Surv(", "crr(", "status ==", "np.", "cr(", "~", "\u00a0")
COLUMNS = (
    "any_calcification",
    "age_at_index",
    "calcification_burden",
    "calcification_group",
    "etiology_group",
    "bilirubin_mg_dl",
    "albumin_g_dl",
    "platelets_10e9_l",
    "post_procedural",
    "liver_transplant",
)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cohort_study")
    spec = importlib.util.spec_from_file_location("cohort_study", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--quick", "--out", str(tmp)]) == 0
    return module, tmp


def _docx_texts(path: Path) -> list[str]:
    doc = Document(str(path))
    texts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        texts += [c.text for row in table.rows for c in row.cells]
    return texts


def _xlsx_texts(path: Path) -> list[str]:
    ws = openpyxl.load_workbook(path).active
    return [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]


def test_cohort_study_writes_results_and_report(run, capsys, another_day):
    module, tmp_path = run
    # a rerun on another day writes the same bytes: no date unless the caller gives one
    with another_day(400):
        assert module.main(["--quick", "--out", str(tmp_path / "rerun")]) == 0
    out = capsys.readouterr().out
    files = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if "rerun" not in p.parts)
    files = [f for f in files if (tmp_path / f).is_file()]
    assert len(files) > 40
    changed = [
        str(f)
        for f in files
        if (tmp_path / f).read_bytes() != (tmp_path / "rerun" / f).read_bytes()
    ]
    assert changed == []
    assert "[16/16]" in out and "Done" in out
    tables = tmp_path / "tables"
    for name in TABLES:
        for ext in ("docx", "xlsx", "csv"):
            assert (tables / f"{name}.{ext}").stat().st_size > 0
    for fig in FIGURES:
        for ext in ("pdf", "png"):
            assert (tmp_path / "figures" / f"{fig}.{ext}").stat().st_size > 1000
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == len(FIGURES)
    for heading in (
        "Participants",
        "Baseline characteristics",
        "Time to cirrhosis",
        "Sensitivity analyses",
        "Comparison with the known truth",
        "Methods",
        "Supplementary material",
    ):
        assert heading in html
    doc = Document(tmp_path / "report.docx")
    assert len(doc.tables) == len(TABLES) and len(doc.inline_shapes) == len(FIGURES)
    sec = doc.sections[0]
    assert round(sec.page_width.mm) == 210 and round(sec.page_height.mm) == 297  # A4
    truth = pd.read_csv(tables / "truth_comparison.csv")
    assert truth.loc[truth["model"].str.startswith("True model"), "covers_truth"].item()
    sens = pd.read_csv(tables / "sensitivity.csv")
    assert len(sens) == 4 and (sens["conf_low"] < sens["estimate"]).all()


def test_no_code_or_column_name_reaches_the_tables(run):
    _, tmp_path = run
    tables = tmp_path / "tables"
    for name in TABLES:
        texts = _docx_texts(tables / f"{name}.docx") + _xlsx_texts(tables / f"{name}.xlsx")
        texts.append((tables / f"{name}.csv").read_text(encoding="utf-8"))
        for text in texts:
            assert not any(code in text for code in CODE), (name, text)
            assert not any(col in text for col in COLUMNS), (name, text)
    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    body = report.split("<body>")[1]
    assert not any(code in body for code in CODE if code != "~")
    assert not any(col in body for col in COLUMNS)


def test_level_labels_and_one_number_style(run):
    _, tmp_path = run
    tables = tmp_path / "tables"
    everything = {name: _docx_texts(tables / f"{name}.docx") for name in TABLES}
    for name, label in [
        ("table1_baseline", "Primary biliary cholangitis"),
        ("table1_baseline", "Female"),
        ("table1_baseline", "Age at index (years), mean (SD)"),
        ("table1_baseline", "Bilirubin (mg/dL), median [IQR]"),
        ("table2_prevalence", "Granulomatous infection"),
        ("table3_logistic", "Post-procedural"),
        ("table4_incidence", "2–5"),
        ("table4_incidence", "Rate per 1,000 person-years (95% CI)"),
        ("table5_cox", "Cholestatic"),
        ("table5_cox", "Any calcification"),
        ("table6_cox_finegray", "Male"),
        ("tableS1_ph", "Etiology group"),
    ]:
        assert label in everything[name], (name, label)
    # the table-one footnote names the statistics its rows name
    assert (
        "Values are mean (SD); median [IQR]; n (%) of patients with data."
        in everything["table1_baseline"]
    )
    # N with thousands separators wherever it is printed
    for name, texts in everything.items():
        for text in texts:
            assert not re.search(r"(?<![\d.,])[1-9]\d{3,}(?![\d.])", text), (name, text)
    assert "n = 2,229, 105 events" in " ".join(everything["table6_cox_finegray"])


def test_every_table_is_in_the_report_and_figures_are_numbered_in_order(run):
    _, tmp_path = run
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    titles = [Document(str(tmp_path / "tables" / f"{n}.docx")).paragraphs[0].text for n in TABLES]
    for title in titles:
        assert title.split(".")[0] + "." in html, title
    shown = re.findall(r"<caption>(Table S?\d+)\.", html)
    assert shown == [t.split(".")[0] for t in titles]
    figures = re.findall(r"<figcaption>(Figure S?\d+)\.", html)
    assert figures == [f"Figure {i}" for i in range(1, 8)] + ["Figure S1"]
    # numbering in the text follows the same order: each is cited before the next
    first = [html.index(f"Figure {i}") for i in range(1, 8)]
    assert first == sorted(first)
