"""The validation page (docs/validation.md) states only comparisons that hold."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "scripts" / "validation.py"


def test_every_quantity_on_the_validation_page_agrees_with_r():
    spec = importlib.util.spec_from_file_location("validation_page", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    table = module.rows()
    assert len(table) >= 100
    bad = table.loc[~table["ok"]]
    assert bad.empty, bad.to_string()
    # the rendered page lists every row
    page = module.page(table)
    assert page.count("| ✓ |") == len(table)
