"""examples/cohort_study.py (the flagship example) runs end to end; its tables and the
report's text show labels (no code, no column names, level labels), every table is in the
report, the figures are numbered in order and drawn at their printed widths, and the
further analyses (weighting, multi-state, interval censoring) recover the simulator's
truth."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from docx import Document
from PIL import Image

from tests.plot.geometry import figure_problems

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
    "table9_propensity",
    "table10_weighted_hr",
    "table11_marginal_risks",
    "table12_state_probabilities",
    "table13_time_in_state",
    "table14_transition_hr",
    "table15_interval_hr",
    "table16_turnbull",
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
    "figure8_overlap",
    "figure9_love",
    "figure10_weighted_cif",
    "figure11_states",
    "figure12_state_probabilities",
    "figureS1_ph",
)
#: printed widths (mm): single column 85, double column 180
DOUBLE = {
    "figure1_flow",
    "figure5_forest",
    "figure6_sensitivity",
    "figure7_segments",
    "figure12_state_probabilities",
    "figureS1_ph",
}
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
    "no_cirrhosis",
    "cirrhosis_at_baseline",
    "patient_id",
    "index_date",
)
#: a snake_case name anywhere (a column, a state or a term that escaped its label)
SNAKE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")


#: what the geometry harness found in each figure as the study saved it (name -> problems)
GEOMETRY: dict[str, list[str]] = {}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cohort_study")
    spec = importlib.util.spec_from_file_location("cohort_study", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    study = sys.modules["study.common"].Study
    save = study.figure

    def checked(self, fig, name, caption, width_mm):  # each figure as it is saved
        save(self, fig, name, caption, width_mm)
        GEOMETRY[name] = figure_problems(fig)

    study.figure = checked
    try:
        assert module.main(["--quick", "--out", str(tmp)]) == 0
    finally:
        study.figure = save
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
    assert "[19/19]" in out and "Done" in out
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
        "Propensity-score weighting",
        "Liver progression: a multi-state view",
        "Onset of new calcification (interval-censored)",
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


def _report_text(html: str) -> str:
    """The words of the report: its body without tags, embedded images and styles."""
    body = html.split("<body>")[1]
    body = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", body)
    return re.sub(r"<[^>]+>", " ", body)


def _clean(text: str) -> list[str]:
    """What in ``text`` reads as code: formula pieces, column names, snake_case names."""
    found = [code for code in CODE if code in text]
    found += [col for col in COLUMNS if col in text]
    return found + SNAKE.findall(text)


def test_no_code_or_column_name_reaches_the_tables(run):
    _, tmp_path = run
    tables = tmp_path / "tables"
    for name in TABLES:
        texts = _docx_texts(tables / f"{name}.docx") + _xlsx_texts(tables / f"{name}.xlsx")
        texts.append((tables / f"{name}.csv").read_text(encoding="utf-8"))
        for text in texts:
            assert _clean(text) == [], (name, text)


def test_no_code_or_column_name_in_the_report_text(run):
    _, tmp_path = run
    words = _report_text((tmp_path / "report.html").read_text(encoding="utf-8"))
    assert "Propensity scores came from logistic regression" in words  # the text is read
    assert [w for w in _clean(words) if w != "~"] == []
    doc = Document(str(tmp_path / "report.docx"))
    for paragraph in doc.paragraphs:
        assert _clean(paragraph.text) == [], paragraph.text


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
    assert figures == [f"Figure {i}" for i in range(1, 13)] + ["Figure S1"]
    # numbering in the text follows the same order: each is cited before the next
    first = [re.search(rf"Figure {i}\b", html).start() for i in range(1, 13)]
    assert first == sorted(first)
    cited = [re.search(rf"Table {i}\b", html).start() for i in range(1, 17)]
    assert cited == sorted(cited)


def test_figures_are_drawn_at_their_printed_widths(run):
    _, tmp_path = run
    # nothing a journal rejects: texts inside the figure, no overlaps, no tiny type
    assert sorted(GEOMETRY) == sorted(FIGURES)
    assert {name: p for name, p in GEOMETRY.items() if p} == {}
    for name in FIGURES:
        with Image.open(tmp_path / "figures" / f"{name}.png") as im:
            width_mm = im.size[0] / 300 * 25.4
        assert width_mm == pytest.approx(180 if name in DOUBLE else 85, abs=0.5), name


def _covers(tmp_path: Path, name: str) -> dict[str, str]:
    table = pd.read_csv(tmp_path / "tables" / f"{name}.csv")
    return dict(zip(table.iloc[:, 0], table.filter(like="covers").iloc[:, 0], strict=True))


def test_further_analyses_recover_the_truth(run):
    _, tmp_path = run
    weighted = _covers(tmp_path, "table10_weighted_hr")
    assert weighted["Crude"] == "No" and weighted["Inverse-probability weighted (ATE)"] == "Yes"
    transitions = _covers(tmp_path, "table14_transition_hr")
    assert len(transitions) == 3 and set(transitions.values()) == {"Yes"}
    assert any(t.startswith("No cirrhosis → Cirrhosis") for t in transitions)
    interval = _covers(tmp_path, "table15_interval_hr")
    assert interval == {
        "Interval-censored likelihood": "Yes",
        "Midpoint imputation": "Yes",
        "Right-endpoint imputation": "No",
    }
    turnbull = pd.read_csv(tmp_path / "tables" / "table16_turnbull.csv", header=[0, 1])
    assert len(turnbull) == 4  # 1, 2, 3 and 5 years
    risks = pd.read_csv(tmp_path / "tables" / "table11_marginal_risks.csv", header=[0, 1])
    assert list(risks.iloc[:, 0]) == ["Unweighted"] * 2 + ["Weighted"] * 2
