"""Analysis tables in the engine: the pandas path's columns, dtypes, rows and exclusions."""

from __future__ import annotations

import pandas as pd
import pytest

import calcstats as cs
from calcstats.engine import EngineTable

from .conftest import COMPETING, quiet


def test_patient_table(pandas_cohort, duck_cohort):
    got = duck_cohort.patient_table()
    assert isinstance(got, EngineTable) and got.engine == "duckdb"
    ref = pandas_cohort.patient_table()
    assert got.columns == list(ref.columns)
    pd.testing.assert_frame_equal(ref, got.to_pandas())


@pytest.mark.parametrize(
    ("outcome", "competing", "horizon"),
    [
        ("cirrhosis", COMPETING, None),
        ("hcc", ("death",), 5.0),
        ("death", (), None),
        ("decompensation", ("liver_transplant",), 2.5),
    ],
)
def test_survival_table_and_its_warning(pandas_cohort, duck_cohort, outcome, competing, horizon):
    ref, w_ref = quiet(pandas_cohort.survival_table, outcome, competing=competing, horizon=horizon)
    got, w_got = quiet(
        lambda: duck_cohort.survival_table(
            outcome, competing=competing, horizon=horizon
        ).to_pandas()
    )
    pd.testing.assert_frame_equal(ref, got)
    assert w_ref == w_got


def test_at_risk_records_exclusions_as_the_pandas_path(pandas_cohort, duck_cohort):
    ref = pandas_cohort.at_risk("cirrhosis", competing=COMPETING)
    got = duck_cohort.at_risk("cirrhosis", competing=COMPETING)
    pd.testing.assert_frame_equal(ref.excluded, got.excluded)
    assert got.excluded["reason"].value_counts().to_dict() == {
        "prevalent case: cirrhosis_at_baseline is true": 258
    }
    pd.testing.assert_frame_equal(ref.flow.to_frame(detail=True), got.flow.to_frame(detail=True))
    assert (
        got.status
        == ref.status
        == {0: "censored", 1: "cirrhosis", 2: "liver_transplant", 3: "death"}
    )
    pd.testing.assert_frame_equal(ref.table, got.table.to_pandas())


@pytest.mark.parametrize("exposure", ["calcification", "varices"])
def test_counting_process_table(pandas_cohort, duck_cohort, exposure):
    ref, w_ref = quiet(
        pandas_cohort.counting_process_table,
        "decompensation",
        exposure=exposure,
        competing=("death",),
    )
    got, w_got = quiet(
        lambda: duck_cohort.counting_process_table(
            "decompensation", exposure=exposure, competing=("death",)
        ).to_pandas()
    )
    pd.testing.assert_frame_equal(ref, got)
    assert w_ref == w_got


def test_lesion_table(pandas_cohort, duck_cohort):
    pd.testing.assert_frame_equal(
        pandas_cohort.lesion_table(), duck_cohort.lesion_table().to_pandas()
    )


def test_bad_outcome_names_are_refused_as_in_pandas(duck_cohort):
    with pytest.raises(cs.SchemaError, match="unknown event name"):
        duck_cohort.survival_table("stroke")
    with pytest.raises(cs.SchemaError, match="cannot also be a competing event"):
        duck_cohort.survival_table("death", competing=("death",))


def test_engine_table_head_and_cache(duck_cohort):
    st = duck_cohort.survival_table(
        "hcc",
        competing=("death",),
    )
    head = st.head(3)
    assert list(head.columns) == st.columns and len(head) == 3
    assert st.cached() is st and len(st) == 2500


def test_patient_table_with_user_segments_and_ties(pandas_cohort):
    """Segment labels added to the vocabulary count as their own segments; equally good
    baseline studies are broken by study_id, as in pandas."""
    keep = pandas_cohort.patients["patient_id"].head(300)
    tables = {n: getattr(pandas_cohort, n) for n in ("patients", "imaging", "findings", "events")}
    tables = {
        n: df.loc[df["patient_id"].isin(keep)].reset_index(drop=True) for n, df in tables.items()
    }
    f = tables["findings"]
    f.loc[f.index % 3 == 0, "segment"] = "IX"
    f.loc[f.index % 7 == 0, "segment"] = "X"
    img = tables["imaging"]
    base = img.merge(tables["patients"][["patient_id", "index_date"]], on="patient_id")
    twin = base.loc[base["study_date"] == base["index_date"]].head(20).copy()
    twin["study_id"] = twin["study_id"] + "-twin"  # a second study on the index day
    tables["imaging"] = pd.concat([img, twin[img.columns]], ignore_index=True)
    copies = f.loc[f["study_id"].isin(twin["study_id"].str.removesuffix("-twin"))].copy()
    copies["study_id"] = copies["study_id"] + "-twin"
    copies["finding_id"] = copies["finding_id"] + "-twin"
    tables["findings"] = pd.concat([f, copies], ignore_index=True)
    vocab = {"segment": ["IX", "X"]}
    ref = cs.read_cohort(vocabularies=vocab, **tables).patient_table()
    got = cs.read_cohort(vocabularies=vocab, engine="duckdb", **tables).patient_table()
    pd.testing.assert_frame_equal(ref, got.to_pandas())
    assert ref["n_segments"].max() >= 3
