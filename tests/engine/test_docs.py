"""The worked example of docs/large-cohorts.md runs as printed."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "large-cohorts.md"


def test_worked_example_runs(tmp_path, monkeypatch, capsys):
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"```python\n(.*?)```", text[text.index("## Worked example") :], re.S)
    assert block is not None
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(block.group(1), str(DOC), "exec"), {"__name__": "__docs__"})
    out = capsys.readouterr().out
    assert "Patients in source tables: 20000" in out
    assert "any_calcification" in out and "C(sex)[T.M]" in out
    assert (tmp_path / "omop.duckdb").exists()


def test_page_is_in_the_site_navigation():
    nav = (DOC.parent.parent / "mkdocs.yml").read_text(encoding="utf-8")
    assert "Large cohorts: large-cohorts.md" in nav
