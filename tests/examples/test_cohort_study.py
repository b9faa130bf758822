"""examples/cohort_study.py (the flagship example) runs end to end."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
from docx import Document

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "cohort_study.py"


def test_cohort_study_writes_results_and_report(tmp_path, capsys, another_day):
    spec = importlib.util.spec_from_file_location("cohort_study", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    # a rerun on another day writes the same bytes: no date unless the caller gives one
    with another_day(400):
        assert module.main(["--quick", "--out", str(tmp_path / "rerun")]) == 0
    files = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if "rerun" not in p.parts)
    files = [f for f in files if (tmp_path / f).is_file()]
    assert len(files) > 30
    changed = [
        str(f)
        for f in files
        if (tmp_path / f).read_bytes() != (tmp_path / "rerun" / f).read_bytes()
    ]
    assert changed == []
    assert "[16/16]" in out and "Done" in out
    tables = tmp_path / "tables"
    for name in (
        "table1_baseline",
        "table2_prevalence",
        "table3_logistic",
        "table4_incidence",
        "table5_cox_finegray",
    ):
        for ext in ("docx", "xlsx", "csv"):
            assert (tables / f"{name}.{ext}").stat().st_size > 0
    for fig in (
        "figure1_flow",
        "figure3_km",
        "figure4_cif",
        "figure5_forest",
        "figure7_segments",
        "figureS1_ph",
    ):
        for ext in ("pdf", "png"):
            assert (tmp_path / "figures" / f"{fig}.{ext}").stat().st_size > 1000
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") >= 8
    for heading in (
        "Participants",
        "Baseline characteristics",
        "Time to cirrhosis",
        "Sensitivity analyses",
        "Comparison with the known truth",
        "Methods",
    ):
        assert heading in html
    doc = Document(tmp_path / "report.docx")
    assert len(doc.tables) >= 5 and len(doc.inline_shapes) >= 8
    # the flow accounts for every patient of the export
    truth = pd.read_csv(tables / "truth_comparison.csv")
    assert truth.loc[truth["model"].str.startswith("True model"), "covers_truth"].item()
    sens = pd.read_csv(tables / "sensitivity.csv")
    assert len(sens) == 4 and (sens["conf_low"] < sens["estimate"]).all()
