"""examples/pbc_mayo.py runs end to end and matches R."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "pbc_mayo.py"


def test_pbc_mayo_example_matches_r(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("pbc_mayo", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--out", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "comparison_with_R.csv")
    assert len(table) >= 35
    # coefficients/SEs/curves agree with R to 1e-5 absolute (Fine-Gray 1e-4 relative)
    assert table["abs_diff"].max() < 1e-5
    for name in ("km_edema.png", "cif_death.pdf", "mayo_forest.png", "mayo_model.docx"):
        assert (tmp_path / name).stat().st_size > 1000
    out = capsys.readouterr().out
    assert "Largest absolute difference from R" in out
    # median follow-up by the reverse Kaplan-Meier method, as R's quantile.survfit
    fu = table[table["analysis"].str.startswith("Median follow-up")]
    assert list(fu["quantity"]) == ["median", "conf_low", "conf_high", "q1", "q3"]
    assert fu["abs_diff"].max() == 0
    assert "Median follow-up: 2,555 days (95% CI 2,338–2,666)" in out
    # the model table shows labels, not the formula's terms
    mayo = (tmp_path / "mayo_model.csv").read_text(encoding="utf-8")
    for label in ("Age (years)", "Edema", "Bilirubin (log)", "Prothrombin time (log)"):
        assert label in mayo
    assert "np." not in mayo and "bili" not in mayo
