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
    for name in ("km_edema.png", "cif_death.pdf", "mayo_forest.png"):
        assert (tmp_path / name).stat().st_size > 1000
    assert "Largest absolute difference from R" in capsys.readouterr().out
