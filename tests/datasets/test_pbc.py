"""load_pbc: shape, dtypes and values checked against the CSV read independently."""

from __future__ import annotations

import csv
import math
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

from calcstats.datasets import load_pbc

REPO_CSV = Path(__file__).resolve().parents[2] / "data" / "pbc.csv"
R_INTEGER = [
    "id",
    "time",
    "status",
    "trt",
    "ascites",
    "hepato",
    "spiders",
    "chol",
    "copper",
    "trig",
    "platelet",
    "stage",
]
R_NUMERIC = ["age", "edema", "bili", "albumin", "alk.phos", "ast", "protime"]


def _rows() -> list[dict[str, str]]:
    with resources.files("calcstats.datasets").joinpath("data", "pbc.csv").open() as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def pbc() -> pd.DataFrame:
    return load_pbc()


def test_shape_and_columns(pbc):
    assert pbc.shape == (418, 20)
    assert list(pbc.columns) == [
        "id",
        "time",
        "status",
        "trt",
        "age",
        "sex",
        "ascites",
        "hepato",
        "spiders",
        "edema",
        "bili",
        "chol",
        "albumin",
        "copper",
        "alk.phos",
        "ast",
        "trig",
        "platelet",
        "protime",
        "stage",
    ]
    assert isinstance(pbc.index, pd.RangeIndex)


def test_dtypes(pbc):
    rows = _rows()
    for name in R_INTEGER:
        has_na = any(r[name] == "" for r in rows)
        assert str(pbc[name].dtype) == ("Int64" if has_na else "int64"), name
    for name in R_NUMERIC:
        assert pbc[name].dtype == "float64", name
    assert set(pbc["sex"]) == {"m", "f"}


def test_values_match_csv(pbc):
    rows = _rows()
    for name in R_INTEGER + R_NUMERIC:
        for i, r in enumerate(rows):
            got = pbc[name].iloc[i]
            if r[name] == "":
                assert pd.isna(got), (name, i)
            else:
                assert math.isclose(float(got), float(r[name]), rel_tol=0, abs_tol=0), (name, i)
    assert list(pbc["sex"]) == [r["sex"] for r in rows]


def test_known_counts(pbc):
    rows = _rows()
    n_trial = sum(r["trt"] != "" for r in rows)
    n_dead = sum(r["status"] == "2" for r in rows)
    n_tx = sum(r["status"] == "1" for r in rows)
    assert (n_trial, n_dead, n_tx) == (312, 161, 25)  # the published counts
    assert int(pbc["trt"].notna().sum()) == n_trial
    assert int((pbc["status"] == 2).sum()) == n_dead
    assert int((pbc["status"] == 1).sum()) == n_tx
    assert int((pbc["status"] == 0).sum()) == 232
    assert int((pbc["sex"] == "f").sum()) == 374  # 89.5% female
    assert pbc["id"].tolist() == list(range(1, 419))
    assert set(pbc["edema"]) == {0.0, 0.5, 1.0}
    assert set(pbc["stage"].dropna()) == {1, 2, 3, 4}
    assert int(pbc["stage"].isna().sum()) == 6
    assert pbc["age"].mean() == pytest.approx(50.74, abs=0.01)
    # first patient of Fleming & Harrington's Appendix D
    first = pbc.iloc[0]
    assert (first["time"], first["status"], first["trt"], first["bili"]) == (400, 2, 1, 14.5)


def test_shipped_copy_equals_repository_data():
    if not REPO_CSV.exists():  # installed package without the source tree
        pytest.skip("data/pbc.csv not present")
    shipped = resources.files("calcstats.datasets").joinpath("data", "pbc.csv").read_bytes()
    assert shipped == REPO_CSV.read_bytes()


def test_returns_a_fresh_frame():
    a = load_pbc()
    a.loc[0, "bili"] = -1.0
    assert load_pbc().loc[0, "bili"] == 14.5
