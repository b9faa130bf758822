"""LaTeX export: booktabs structure and escaping."""

from __future__ import annotations

import shutil
import subprocess

import pandas as pd
import pytest

from calcstats.tables import Table
from calcstats.tables._latex import latex_escape


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("50% & more", r"50\% \& more"),
        ("a_b #1 $2 {x}", r"a\_b \#1 \$2 \{x\}"),
        ("~^\\", r"\textasciitilde{}\textasciicircum{}\textbackslash{}"),
        ("<0.001 >0.99", r"\textless{}0.001 \textgreater{}0.99"),
        ("1.2 (0.9–1.5)", "1.2 (0.9--1.5)"),
        (
            "≥ 65 ± 2 × 3 − 1 ∞ χ² μ",
            r"$\geq$ 65 $\pm$ 2 $\times$ 3 $-$ 1 $\infty$ $\chi$"
            r"\textsuperscript{2} $\mu$",
        ),
        ("plain text", "plain text"),
    ],
)
def test_latex_escape(text, expected):
    assert latex_escape(text) == expected


def test_latex_booktabs_structure(table):
    tex = table.to_latex()
    lines = tex.splitlines()
    assert lines[0] == r"\begin{table}[htbp]" and lines[-1] == r"\end{table}"
    assert r"\begin{tabular}{lcccc}" in lines
    i = lines.index(r"\toprule")
    assert lines[i + 1] == r" & \multicolumn{2}{c}{Calcification} &  &  \\"
    assert lines[i + 2] == r"\cmidrule(lr){2-3}"
    assert lines[i + 3] == r"Characteristic & Yes & No & Overall & p-value \\"
    assert lines[i + 4] == r"\midrule"
    assert (
        lines[i + 5]
        == r"Age, years & 54.1 (10.2) & 51.3 (11.0) & 52.0 (10.8) & \textless{}0.001 \\"
    )
    assert lines[i + 7] == r"\hspace{1em}PBC & 40 (40.0\%) & 55 (55.0\%) & 95 (47.5\%) &  \\"
    assert lines[i + 8].startswith(r"\hspace{1em}PSC \& other\_ & \textless{}5 & * &")
    assert lines[i + 9].startswith(r"\hspace{2em}Missing & ")
    assert lines[i + 10] == r"\bottomrule"
    assert r"\caption{Baseline characteristics}" in lines  # LaTeX numbers the table
    assert r"\begin{threeparttable}" in lines and r"\item[] Mean (SD); n (\%)." in lines
    # no vertical rules anywhere
    assert "|" not in tex
    # every row has n_cols cells
    for ln in [lines[i + 3], *lines[i + 5 : i + 10]]:
        assert ln.count(" & ") == 4


def test_latex_minimal_table_has_no_notes_block():
    tex = Table(pd.DataFrame({"x": ["a"], "y": ["1"]})).to_latex()
    assert "threeparttable" not in tex and r"\caption" not in tex and "multicolumn" not in tex
    assert "\\toprule\nx & y \\\\\n\\midrule\na & 1 \\\\\n\\bottomrule" in tex


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("fontenc", ["", "\\usepackage[T1]{fontenc}\n"])
def test_latex_compiles_without_missing_glyphs(make_table, tmp_path, fontenc):
    body = pd.DataFrame(
        {
            "Characteristic": ["Age ≥ 65, n (%)", "Weight, μg ± SD", "χ² & 50% <5"],
            "A_1": ["3 (1.0–2.0)", "−0.5 to ∞", "~^\\ $#{}"],
        }
    )
    t = Table(
        body,
        title="Table 2. Odd # chars",
        indent=[0, 1, 1],
        spanners=[("Group & more", ["A_1"])],
        footnotes=["Note: p < 0.05"],
    )
    doc = (
        "\\documentclass{article}\n" + fontenc + "\\usepackage{booktabs}\n"
        "\\usepackage{threeparttable}\n\\begin{document}\n" + t.to_latex() + "\\end{document}\n"
    )
    (tmp_path / "t.tex").write_text(doc, encoding="utf-8")
    run = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    log = (tmp_path / "t.log").read_text(errors="replace")
    assert run.returncode == 0, log[-2000:]
    assert "Missing character" not in log
    assert (tmp_path / "t.pdf").exists()


@pytest.mark.parametrize(
    ("title", "caption"),
    [
        ("Table 1. Baseline", "Baseline"),
        ("Table S2: Sensitivity analysis", "Sensitivity analysis"),
        ("Tables of 2 kinds", "Tables of 2 kinds"),
        ("Table 3.", "Table 3."),
        ("Rates per 1,000 & more", "Rates per 1,000 \\& more"),
    ],
)
def test_latex_caption_drops_table_number(title, caption):
    tex = Table(pd.DataFrame({"x": ["a"]}), title=title).to_latex()
    assert "\\caption{" + caption + "}" in tex
