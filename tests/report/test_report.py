"""Tests for calcstats.report."""

from __future__ import annotations

import base64
import re

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from docx import Document

from calcstats import CalcstatsError
from calcstats.report import Report, software_versions


def _report() -> Report:
    rep = Report("Calcification study", subtitle="Example cohort", authors="A. Author")
    rep.heading("Participants")
    rep.text("First paragraph.\n\nSecond   paragraph\nwrapped.")
    rep.table(pd.DataFrame({"group": ["a", "b"], "n": [3, 4]}), caption="Table 1. Counts")
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, 1])
    rep.figure(fig, caption="Figure 1. A line", width_mm=90)
    rep.heading("Methods")
    rep.methods("Cox models were fitted.")
    return rep


def test_html_is_self_contained(tmp_path):
    page = _report().to_html(tmp_path / "r.html")
    assert (tmp_path / "r.html").read_text(encoding="utf-8") == page
    assert "<h1>Calcification study</h1>" in page
    assert "<p>Second paragraph wrapped.</p>" in page
    assert "Table 1. Counts" in page and "<td>4</td>" in page
    imgs = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(imgs) == 1
    assert base64.b64decode(imgs[0]).startswith(b"\x89PNG")
    assert 'src="http' not in page and "<link" not in page  # nothing external
    versions = software_versions()
    assert f"Python {versions['python']}" in page
    assert "Cox models were fitted." in page


def test_docx_contents(tmp_path):
    path = _report().to_docx(tmp_path / "r.docx")
    doc = Document(path)
    texts = [p.text for p in doc.paragraphs]
    assert "Calcification study" in texts
    assert "Participants" in texts and "Methods" in texts
    assert "Figure 1. A line" in texts
    assert len(doc.tables) == 1
    assert doc.tables[0].cell(2, 1).text == "4"
    assert len(doc.inline_shapes) == 1
    assert doc.inline_shapes[0].width == pytest.approx(90 * 36000, rel=1e-3)


def test_bad_blocks():
    rep = Report("x")
    with pytest.raises(CalcstatsError, match="expects a matplotlib Figure"):
        rep.figure("not a figure")
    with pytest.raises(CalcstatsError, match="expects a calcstats Table"):
        rep.table([1, 2, 3])
    with pytest.raises(CalcstatsError, match="heading level"):
        rep.heading("x", level=5)
