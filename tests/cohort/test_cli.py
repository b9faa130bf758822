"""python -m calcstats validate FOLDER."""

from __future__ import annotations

import json
import subprocess
import sys

from cohort_tables import set_value, valid_tables

from calcstats.__main__ import main


def _write(tables, folder):
    folder.mkdir(exist_ok=True)
    for name, df in tables.items():
        df.to_csv(folder / f"{name}.csv", index=False)
    return folder


def test_valid_folder_exits_zero(tmp_path, capsys):
    folder = _write(valid_tables(), tmp_path / "ok")
    assert main(["validate", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "valid" in out and "Patients in source tables" in out


def test_invalid_folder_prints_problems_and_exits_nonzero(tmp_path, capsys):
    t = set_value(valid_tables(), "patients", 1, "sex", "unknown")
    t = set_value(t, "findings", 0, "size_mm", -2)
    folder = _write(t, tmp_path / "bad")
    assert main(["validate", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "unknown_value" in out and "out_of_range" in out
    assert "p2" in out and "size_mm" in out
    assert "Participant flow" not in out


def test_exclude_prints_flow(tmp_path, capsys):
    t = set_value(valid_tables(), "patients", 1, "sex", "unknown")
    folder = _write(t, tmp_path / "bad")
    assert main(["validate", str(folder), "--exclude"]) == 1
    out = capsys.readouterr().out
    assert "Participant flow" in out and "Value outside its vocabulary" in out


def test_column_map_json(tmp_path, capsys):
    t = valid_tables()
    for name in t:
        t[name] = t[name].rename(columns={"patient_id": "PatID"})
    folder = _write(t, tmp_path / "mapped")
    assert main(["validate", str(folder)]) == 1
    capsys.readouterr()
    assert main(["validate", str(folder), "--column-map", '{"PatID": "patient_id"}']) == 0
    mapfile = tmp_path / "map.json"
    mapfile.write_text(json.dumps({"PatID": "patient_id"}))
    assert main(["validate", str(folder), "--column-map", str(mapfile)]) == 0


def test_unreadable_input_exits_two(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "missing")]) == 2
    assert "not a folder" in capsys.readouterr().err
    folder = _write(valid_tables(), tmp_path / "ok")
    assert main(["validate", str(folder), "--column-map", "{not json"]) == 2


def test_module_entry_point(tmp_path):
    t = set_value(valid_tables(), "events", 1, "event", "stroke")
    folder = _write(t, tmp_path / "bad")
    res = subprocess.run(
        [sys.executable, "-m", "calcstats", "validate", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 1
    assert "stroke" in res.stdout
