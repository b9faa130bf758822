"""Analysis tables: patient_table, survival_table, counting_process_table, lesion_table.

Cohorts are built by hand (a SimpleNamespace holding the four canonical DataFrames), so
each expected value below is worked out from the rows written in the test.
"""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calcstats._errors import DataError, DataWarning, InvalidParameterError, SchemaError
from calcstats.cohort._analysis import (
    BURDEN_LEVELS,
    PHENOTYPE_COLUMNS,
    at_risk,
    counting_process_table,
    lesion_table,
    patient_table,
    survival_table,
)

D0 = pd.Timestamp("2020-01-01")
Y = 365.25


def day(offset: float) -> pd.Timestamp:
    return D0 + pd.Timedelta(days=offset)


def make_cohort(patients, studies=(), findings=(), events=()) -> SimpleNamespace:
    """patients: dicts (patient_id + overrides; ``index``/``fu`` as day offsets);
    studies: (study_id, patient_id, day, modality); findings: (finding_id, study_id,
    patient_id, segment, size_mm, morphology); events: (patient_id, event, day)."""
    rows = []
    for p in patients:
        p = dict(p)
        index, fu = p.pop("index", 0), p.pop("fu", 3650)
        row = {
            "patient_id": p.pop("patient_id"),
            "sex": "F",
            "age_at_index": 50.0,
            "index_date": day(index),
            "etiology": "pbc",
            "cirrhosis_at_baseline": False,
            "last_followup_date": day(fu),
        }
        row.update(p)
        rows.append(row)
    pat = pd.DataFrame(rows)
    pat["cirrhosis_at_baseline"] = pat["cirrhosis_at_baseline"].astype(bool)
    img = pd.DataFrame(
        [(s, p, day(d), m) for s, p, d, m in studies],
        columns=["study_id", "patient_id", "study_date", "modality"],
    )
    img["study_date"] = pd.to_datetime(img["study_date"])
    fnd = pd.DataFrame(
        list(findings),
        columns=["finding_id", "study_id", "patient_id", "segment", "size_mm", "morphology"],
    )
    fnd["size_mm"] = fnd["size_mm"].astype(float)
    ev = pd.DataFrame(
        [(p, e, day(d)) for p, e, d in events], columns=["patient_id", "event", "event_date"]
    )
    ev["event_date"] = pd.to_datetime(ev["event_date"])
    return SimpleNamespace(patients=pat, imaging=img, findings=fnd, events=ev)


def one_study(findings, *, study_day=0, **patient) -> SimpleNamespace:
    """Patient "a" with one CT study; findings as (segment, size_mm, morphology)."""
    return make_cohort(
        [{"patient_id": "a", **patient}],
        [("s", "a", study_day, "CT")],
        [(f"f{i}", "s", "a", seg, size, m) for i, (seg, size, m) in enumerate(findings)],
    )


def pheno(cohort, pid="a") -> dict:
    pt = patient_table(cohort)
    return pt.set_index("patient_id").loc[pid, list(PHENOTYPE_COLUMNS)].to_dict()


# ----------------------------------------------------------------------------- patient_table


def test_no_calcification():
    c = make_cohort([{"patient_id": "a"}], [("s", "a", 0, "CT")])
    p = pheno(c)
    assert p["any_calcification"] == 0 and p["n_calcifications"] == 0
    assert p["calcification_burden"] == "none"
    assert np.isnan(p["max_size_mm"])
    assert p["dominant_morphology"] == "none"
    assert (p["n_segments"], p["bilobar"], p["right_lobe_only"]) == (0, 0, 0)


@pytest.mark.parametrize(("n", "burden"), [(1, "1"), (2, "2-5"), (5, "2-5"), (6, ">5"), (9, ">5")])
def test_burden_by_count(n, burden):
    c = one_study([("VI", 2.0, "punctate")] * n)
    p = pheno(c)
    assert p["n_calcifications"] == n and p["any_calcification"] == 1
    assert p["calcification_burden"] == burden


def test_diffuse_is_top_burden_and_dominant():
    c = one_study([("VI", 2.0, "coarse"), ("VII", 3.0, "coarse"), ("II", 1.0, "diffuse")])
    p = pheno(c)
    assert p["n_calcifications"] == 3
    assert p["calcification_burden"] == ">5"
    assert p["dominant_morphology"] == "diffuse"
    single = pheno(one_study([("V", 1.0, "diffuse")]))
    assert single["calcification_burden"] == ">5" and single["n_calcifications"] == 1


def test_burden_is_ordered_categorical_with_all_levels():
    c = make_cohort(
        [{"patient_id": "a"}, {"patient_id": "b"}],
        [("s", "a", 0, "CT")],
        [("f", "s", "a", "II", 4.0, "rim")],
    )
    burden = patient_table(c)["calcification_burden"]
    assert isinstance(burden.dtype, pd.CategoricalDtype) and burden.dtype.ordered
    assert list(burden.cat.categories) == list(BURDEN_LEVELS) == ["none", "1", "2-5", ">5"]
    assert burden.tolist() == ["1", "none"]
    assert (burden > "none").tolist() == [True, False]


def test_max_size_ignores_missing_sizes():
    assert (
        pheno(one_study([("II", 3.0, "rim"), ("III", 11.5, "rim"), ("V", np.nan, "rim")]))[
            "max_size_mm"
        ]
        == 11.5
    )
    assert np.isnan(pheno(one_study([("II", np.nan, "rim")]))["max_size_mm"])


@pytest.mark.parametrize(
    ("segments", "n_seg", "bilobar", "right_only"),
    [
        (["II", "VI"], 2, 1, 0),
        (["V", "VIII", "V"], 2, 0, 1),
        (["I", "VI"], 2, 0, 1),  # caudate counts as neither lobe
        (["I"], 1, 0, 0),
        (["IVa", "IVb"], 1, 0, 0),  # IVa/IVb are segment IV
        (["III", "IV", "IVb"], 2, 0, 0),
        (["IVa", "VII"], 2, 1, 0),
        (["I", "II", "III", "IV", "V", "VI", "VII", "VIII"], 8, 1, 0),
    ],
)
def test_segments_and_lobe_flags(segments, n_seg, bilobar, right_only):
    p = pheno(one_study([(s, 2.0, "punctate") for s in segments]))
    assert (p["n_segments"], p["bilobar"], p["right_lobe_only"]) == (n_seg, bilobar, right_only)


def test_missing_segment_counts_as_calcification_but_not_segment():
    p = pheno(one_study([(None, 4.0, "rim"), ("VI", 2.0, "rim")]))
    assert (p["n_calcifications"], p["n_segments"], p["right_lobe_only"]) == (2, 1, 1)


def test_dominant_morphology_rules():
    # most frequent
    assert (
        pheno(one_study([("II", 9, "rim"), ("V", 1, "coarse"), ("VI", 1, "coarse")]))[
            "dominant_morphology"
        ]
        == "coarse"
    )
    # tie on count -> morphology of the largest calcification
    assert pheno(one_study([("II", 9, "rim"), ("V", 1, "coarse")]))["dominant_morphology"] == "rim"
    # tie on count and size -> alphabetical
    assert pheno(one_study([("II", 4, "rim"), ("V", 4, "coarse")]))["dominant_morphology"] == (
        "coarse"
    )
    # missing morphology is "unknown"
    c = one_study([("II", 4, "rim")])
    c.findings["morphology"] = pd.Series([None], dtype=object)
    assert pheno(c)["dominant_morphology"] == "unknown"


def test_only_studies_on_or_before_index_count():
    c = make_cohort(
        [{"patient_id": "a", "index": 100}],
        [("pre", "a", 40, "US"), ("idx", "a", 100, "CT"), ("post", "a", 101, "CT")],
        [
            ("f1", "pre", "a", "VI", 2.0, "coarse"),
            ("f2", "post", "a", "II", 30.0, "rim"),
            ("f3", "post", "a", "III", 1.0, "rim"),
        ],
    )
    p = pheno(c)
    assert p["n_calcifications"] == 1 and p["max_size_mm"] == 2.0
    assert p["right_lobe_only"] == 1 and p["dominant_morphology"] == "coarse"
    # only a follow-up study has findings: no calcification at index
    c2 = make_cohort(
        [{"patient_id": "a"}],
        [("idx", "a", 0, "CT"), ("post", "a", 5, "CT")],
        [("f", "post", "a", "II", 3.0, "rim")],
    )
    assert pheno(c2)["any_calcification"] == 0


def test_phenotype_study_is_not_double_counted():
    # US and CT on the index day see the same calcifications; the CT (more) is used
    c = make_cohort(
        [{"patient_id": "a"}],
        [("us", "a", 0, "US"), ("ct", "a", 0, "CT")],
        [
            ("f1", "us", "a", "VI", 5.0, "coarse"),
            ("f2", "ct", "a", "VI", 5.0, "coarse"),
            ("f3", "ct", "a", "II", 2.0, "punctate"),
            ("f4", "ct", "a", "III", 2.0, "punctate"),
        ],
    )
    p = pheno(c)
    assert p["n_calcifications"] == 3 and p["bilobar"] == 1
    assert p["dominant_morphology"] == "punctate"


def test_phenotype_study_choice_diffuse_then_later_then_study_id():
    f = [
        ("f1", "a1", "a", "VI", 1, "diffuse"),
        ("f2", "b1", "a", "VI", 1, "rim"),
        ("f3", "b1", "a", "VII", 1, "rim"),
    ]
    c = make_cohort([{"patient_id": "a"}], [("a1", "a", -10, "CT"), ("b1", "a", 0, "CT")], f)
    assert pheno(c)["dominant_morphology"] == "diffuse"  # diffuse study wins over count
    c = make_cohort(
        [{"patient_id": "a"}],
        [("x", "a", -10, "US"), ("y", "a", 0, "CT")],
        [("f1", "x", "a", "VI", 1, "rim"), ("f2", "y", "a", "II", 1, "coarse")],
    )
    assert pheno(c)["dominant_morphology"] == "coarse"  # same count: the later study
    c = make_cohort(
        [{"patient_id": "a"}],
        [("z", "a", 0, "US"), ("y", "a", 0, "CT")],
        [("f1", "z", "a", "VI", 1, "rim"), ("f2", "y", "a", "II", 1, "coarse")],
    )
    assert pheno(c)["dominant_morphology"] == "coarse"  # same day: smaller study_id ("y")
    rev = SimpleNamespace(
        patients=c.patients,
        imaging=c.imaging.iloc[::-1],
        findings=c.findings.iloc[::-1],
        events=c.events,
    )
    assert pheno(rev)["dominant_morphology"] == "coarse"


def test_patient_columns_kept_and_binary_as_int():
    c = make_cohort(
        [
            {"patient_id": "a", "diabetes": True, "site": "X"},
            {"patient_id": "b", "diabetes": False, "site": "Y"},
        ]
    )
    c.patients["cirrhosis_at_baseline"] = [True, False]
    pt = patient_table(c)
    assert list(pt.columns) == [*c.patients.columns, *PHENOTYPE_COLUMNS]
    assert pt["cirrhosis_at_baseline"].dtype == "int64"
    assert pt["cirrhosis_at_baseline"].tolist() == [1, 0]
    assert pt["diabetes"].dtype == "int64" and pt["site"].tolist() == ["X", "Y"]
    for col in (
        "any_calcification",
        "n_calcifications",
        "n_segments",
        "bilobar",
        "right_lobe_only",
    ):
        assert pt[col].dtype == "int64", col
    assert isinstance(pt.index, pd.RangeIndex)
    # nullable booleans with missing values stay missing
    c.patients["diabetes"] = pd.array([True, None], dtype="boolean")
    d = patient_table(c)["diabetes"]
    assert str(d.dtype) == "Int64" and d.iloc[0] == 1 and d.isna().iloc[1]


def test_patient_table_keeps_row_order_and_does_not_modify_input():
    c = make_cohort(
        [{"patient_id": p} for p in ["c", "a", "b"]],
        [("s", "b", 0, "CT")],
        [("f", "s", "b", "II", 1.0, "rim")],
    )
    before = c.patients.copy()
    pt = patient_table(c)
    assert pt["patient_id"].tolist() == ["c", "a", "b"]
    assert pt["any_calcification"].tolist() == [0, 0, 1]
    pd.testing.assert_frame_equal(c.patients, before)


def test_patient_table_errors():
    c = make_cohort(
        [{"patient_id": "a"}], [("s", "a", 0, "CT")], [("f", "nostudy", "a", "II", 1.0, "rim")]
    )
    with pytest.raises(DataError, match=r"study_id that is not in the imaging.*'f'"):
        patient_table(c)
    c = make_cohort([{"patient_id": "a"}, {"patient_id": "a"}])
    with pytest.raises(DataError, match=r"patient_id must be unique.*'a'"):
        patient_table(c)
    c = make_cohort(
        [{"patient_id": "a"}], [("s", "a", 0, "CT")], [("f", "s", "zz", "II", 1.0, "rim")]
    )
    with pytest.raises(DataError, match=r"not in the patients table.*'zz'"):
        patient_table(c)
    c = make_cohort([{"patient_id": "a"}])
    c.findings = c.findings.drop(columns="segment")
    with pytest.raises(SchemaError, match=r"findings table lacks column.*'segment'"):
        patient_table(c)
    c = make_cohort([{"patient_id": "a", "bilobar": 1}])
    with pytest.raises(SchemaError, match=r"already has column.*'bilobar'"):
        patient_table(c)
    c = make_cohort([{"patient_id": "a"}])
    c.patients["index_date"] = "2020-01-01"
    with pytest.raises(SchemaError, match="index_date must hold dates"):
        patient_table(c)
    c = one_study([("II", 4, "rim")])
    c.findings["size_mm"] = ["4 mm"]
    with pytest.raises(SchemaError, match="size_mm must be numeric"):
        patient_table(c)
    with pytest.raises(SchemaError, match="no imaging table"):
        patient_table(SimpleNamespace(patients=make_cohort([{"patient_id": "a"}]).patients))


# ----------------------------------------------------------------------------- survival_table


def surv(cohort, outcome="cirrhosis", **kw) -> pd.DataFrame:
    return survival_table(cohort, outcome, **kw).set_index("patient_id")


def test_status_codes_and_competing_order():
    c = make_cohort(
        [{"patient_id": p, "fu": 3000} for p in "abcde"],
        events=[
            ("a", "cirrhosis", 100),
            ("a", "death", 200),
            ("b", "liver_transplant", 300),
            ("b", "death", 400),
            ("c", "death", 500),
            ("d", "hcc", 50),
        ],
    )
    st = surv(c, competing=("liver_transplant", "death"))
    assert st.loc[list("abcde"), "status"].tolist() == [1, 2, 3, 0, 0]
    assert st.loc[list("abcde"), "time"].tolist() == pytest.approx(
        [100 / Y, 300 / Y, 500 / Y, 3000 / Y, 3000 / Y], rel=1e-15
    )
    st2 = surv(c, competing=("death", "liver_transplant"))
    assert st2.loc[list("abc"), "status"].tolist() == [1, 3, 2]
    # without competing events, death is censoring at follow-up end
    st3 = surv(c)
    assert st3.loc["c", "status"] == 0 and st3.loc["c", "time"] == pytest.approx(3000 / Y)
    assert st3["status"].dtype == "int64" and st3["time"].dtype == "float64"


def test_first_event_wins_and_repeated_events():
    c = make_cohort(
        [{"patient_id": "a"}, {"patient_id": "b"}],
        events=[
            ("a", "cirrhosis", 700),
            ("a", "death", 400),
            ("b", "cirrhosis", 900),
            ("b", "cirrhosis", 300),
        ],
    )
    st = surv(c, competing=("death",))
    assert (st.loc["a", "status"], st.loc["a", "time"]) == (2, pytest.approx(400 / Y))
    assert (st.loc["b", "status"], st.loc["b", "time"]) == (1, pytest.approx(300 / Y))


def test_same_day_ties():
    c = make_cohort(
        [{"patient_id": "a"}, {"patient_id": "b"}],
        events=[
            ("a", "cirrhosis", 200),
            ("a", "death", 200),
            ("b", "liver_transplant", 250),
            ("b", "death", 250),
        ],
    )
    st = surv(c, competing=("liver_transplant", "death"))
    assert st.loc["a", "status"] == 1  # the outcome wins a same-day tie
    assert st.loc["b", "status"] == 2  # between competing events, the first listed wins
    assert surv(c, competing=("death", "liver_transplant")).loc["b", "status"] == 2
    assert surv(c, competing=("death", "liver_transplant")).loc["a", "status"] == 1


def test_event_on_last_followup_day_and_after_it():
    c = make_cohort(
        [{"patient_id": "a", "fu": 500}, {"patient_id": "b", "fu": 500}],
        events=[("a", "cirrhosis", 500), ("b", "cirrhosis", 501)],
    )
    st = surv(c)
    assert st.loc["a", "status"] == 1
    assert (st.loc["b", "status"], st.loc["b", "time"]) == (0, pytest.approx(500 / Y))


def test_time_is_days_over_365_25_from_index():
    c = make_cohort(
        [{"patient_id": "a", "index": 400, "fu": 400 + 1461}], events=[("a", "death", 400 + 730)]
    )
    st = surv(c, "death")
    assert st.loc["a", "time"] == 730 / 365.25 and st.loc["a", "status"] == 1
    assert surv(c, "hcc").loc["a", "time"] == 4.0


def test_horizon():
    c = make_cohort(
        [{"patient_id": p, "fu": 4000} for p in "abcd"],
        events=[("a", "cirrhosis", 500), ("b", "cirrhosis", 1000), ("c", "death", 1461)],
    )
    st = surv(c, competing=("death",), horizon=2)
    assert st.loc["a", ["time", "status"]].tolist() == [pytest.approx(500 / Y), 1]
    assert st.loc["b", ["time", "status"]].tolist() == [2.0, 0]
    assert st.loc["d", ["time", "status"]].tolist() == [2.0, 0]
    assert st["time"].max() == 2.0
    st4 = surv(c, competing=("death",), horizon=4)  # 4 y = 1461 d: event at the horizon counts
    assert st4.loc["c", ["time", "status"]].tolist() == [4.0, 2]
    assert st4.loc["d", ["time", "status"]].tolist() == [4.0, 0]
    assert surv(c, horizon=20).loc["d", "time"] == pytest.approx(4000 / Y)  # beyond follow-up
    for bad in (0, -1, float("nan"), float("inf"), "5", True):
        with pytest.raises(InvalidParameterError, match="'horizon' parameter of survival_table"):
            survival_table(c, "cirrhosis", horizon=bad)


def test_prevalent_and_not_at_risk_patients_are_left_out_with_a_record():
    c = make_cohort(
        [
            {"patient_id": "before"},
            {"patient_id": "at_index"},
            {"patient_id": "baseline", "cirrhosis_at_baseline": True},
            {"patient_id": "tx_first"},
            {"patient_id": "no_fu", "fu": 0},
            {"patient_id": "ok"},
        ],
        events=[
            ("before", "cirrhosis", -30),
            ("at_index", "cirrhosis", 0),
            ("tx_first", "liver_transplant", -5),
            ("ok", "cirrhosis", 10),
        ],
    )
    with pytest.warns(
        DataWarning,
        match=r"5 patient\(s\) left out.*cohort\.at_risk\("
        r"'cirrhosis', competing=\('liver_transplant', 'death'\)\) lists them",
    ):
        st = survival_table(c, "cirrhosis", competing=("liver_transplant", "death"))
    assert st["patient_id"].tolist() == ["ok"]
    ex = at_risk(c, "cirrhosis", competing=("liver_transplant", "death")).excluded
    assert list(ex.columns) == ["patient_id", "reason"]
    assert ex["patient_id"].tolist() == ["before", "at_index", "baseline", "tx_first", "no_fu"]
    reasons = dict(zip(ex["patient_id"], ex["reason"], strict=True))
    assert reasons["before"].startswith("prevalent case: cirrhosis dated on or before")
    assert reasons["at_index"] == reasons["before"]
    assert reasons["baseline"] == "prevalent case: cirrhosis_at_baseline is true"
    assert "competing event liver_transplant" in reasons["tx_first"]
    assert reasons["no_fu"].startswith("no follow-up")
    assert len(st) + len(ex) == len(c.patients)


def test_baseline_cirrhosis_flag_only_matters_for_cirrhosis():
    c = make_cohort(
        [{"patient_id": "a", "cirrhosis_at_baseline": True}], events=[("a", "hcc", 100)]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        st = survival_table(c, "hcc")  # no warning: nobody left out
    assert st["status"].tolist() == [1]
    ex = at_risk(c, "hcc").excluded
    assert ex.empty and list(ex.columns) == ["patient_id", "reason"]
    with pytest.warns(DataWarning):
        assert survival_table(c, "cirrhosis").empty


def test_status_codes_are_named_by_the_at_risk_record():
    c = make_cohort([{"patient_id": "a"}])
    ar = at_risk(c, "cirrhosis", competing=["liver_transplant", "death"], horizon=5)
    assert ar.status == {0: "censored", 1: "cirrhosis", 2: "liver_transplant", 3: "death"}
    assert at_risk(c, "death", competing="liver_transplant").status == {
        0: "censored",
        1: "death",
        2: "liver_transplant",
    }
    st = survival_table(c, "cirrhosis", competing=["liver_transplant", "death"], horizon=5)
    assert st.attrs == {}  # no metadata side channel on the table


def test_survival_table_columns_are_patient_table_plus_time_status():
    c = make_cohort(
        [{"patient_id": "a"}], [("s", "a", 0, "CT")], [("f", "s", "a", "II", 1.0, "rim")]
    )
    st = survival_table(c, "death")
    assert list(st.columns) == [*patient_table(c).columns, "time", "status"]
    assert st["any_calcification"].tolist() == [1]


def test_event_names_are_checked():
    c = make_cohort([{"patient_id": "a"}], events=[("a", "sbp", 10)])
    with pytest.raises(SchemaError, match=r"unknown event name\(s\) 'cirrosis'.*cirrhosis"):
        survival_table(c, "cirrosis")
    with pytest.raises(SchemaError, match=r"'deth'.*valid event names are:.*death"):
        survival_table(c, "cirrhosis", competing=("deth",))
    with pytest.raises(SchemaError, match="cannot also be a competing"):
        survival_table(c, "death", competing=("death",))
    with pytest.raises(SchemaError, match="more than once"):
        survival_table(c, "cirrhosis", competing=("death", "death"))
    with pytest.raises(
        InvalidParameterError, match="'outcome' parameter of survival_table must be a str"
    ):
        survival_table(c, None)
    with pytest.raises(InvalidParameterError, match="competing must hold event names"):
        survival_table(c, "cirrhosis", competing=(1,))
    # an event present in the data (user-extended vocabulary) is a valid name
    assert survival_table(c, "sbp")["status"].tolist() == [1]
    # a vocabulary on the cohort extends the valid names even without such events
    c.vocabularies = {"event": ["cirrhosis", "death", "cholangitis"]}
    assert survival_table(c, "cholangitis")["status"].tolist() == [0]


def test_survival_table_data_errors():
    c = make_cohort([{"patient_id": "a", "fu": -5}])
    with pytest.raises(DataError, match=r"last_followup_date is before index_date.*'a'"):
        survival_table(c, "death")
    c = make_cohort([{"patient_id": "a"}], events=[("zz", "death", 5)])
    with pytest.raises(DataError, match=r"events.*not in the patients table.*'zz'"):
        survival_table(c, "death")
    c = make_cohort([{"patient_id": "a"}])
    c.patients["last_followup_date"] = pd.NaT
    with pytest.raises(DataError, match=r"last_followup_date is missing.*'a'"):
        survival_table(c, "death")
    c = make_cohort([{"patient_id": "a"}]).__dict__
    c["patients"] = c["patients"].drop(columns="cirrhosis_at_baseline")
    with pytest.raises(SchemaError, match="lacks cirrhosis_at_baseline"):
        survival_table(SimpleNamespace(**c), "cirrhosis")
    assert len(survival_table(SimpleNamespace(**c), "death")) == 1


# ----------------------------------------------------------------------------- counting process


def cp(cohort, outcome="cirrhosis", **kw) -> pd.DataFrame:
    return counting_process_table(cohort, outcome, **kw)


def test_split_where_calcification_is_first_seen():
    c = make_cohort(
        [{"patient_id": "a", "fu": 2000}],
        [("s0", "a", 0, "US"), ("s1", "a", 400, "CT"), ("s2", "a", 800, "CT")],
        [("f1", "s1", "a", "VI", 2.0, "rim"), ("f2", "s2", "a", "VI", 2.0, "rim")],
        [("a", "cirrhosis", 1000)],
    )
    t = cp(c)
    assert list(t.columns[:5]) == ["patient_id", "start", "stop", "status", "calcification"]
    assert t["start"].tolist() == [0.0, 400 / Y]
    assert t["stop"].tolist() == [400 / Y, 1000 / Y]
    assert t["status"].tolist() == [0, 1]
    assert t["calcification"].tolist() == [0, 1]
    assert t["calcification"].dtype == "int64" and t["status"].dtype == "int64"


def test_exposed_from_zero_when_calcified_at_or_before_index():
    c = make_cohort(
        [{"patient_id": "a", "index": 100, "fu": 900}, {"patient_id": "b", "index": 100}],
        [("sa", "a", 100, "CT"), ("sb", "b", 50, "US"), ("sb2", "b", 100, "CT")],
        [("f1", "sa", "a", "VI", 2.0, "rim"), ("f2", "sb", "b", "II", 2.0, "rim")],
        [("a", "death", 700)],
    )
    t = cp(c, "death")
    assert t["patient_id"].tolist() == ["a", "b"]
    assert t["start"].tolist() == [0.0, 0.0]
    assert t["calcification"].tolist() == [1, 1]
    assert t["stop"].tolist() == pytest.approx([600 / Y, 3550 / Y])
    assert t["status"].tolist() == [1, 0]


def test_no_split_after_follow_up_or_on_the_event_day():
    c = make_cohort(
        [
            {"patient_id": "late", "fu": 300},
            {"patient_id": "sameday"},
            {"patient_id": "never", "fu": 200},
        ],
        [("s1", "late", 300, "CT"), ("s2", "sameday", 500, "CT")],
        [("f1", "s1", "late", "VI", 2.0, "rim"), ("f2", "s2", "sameday", "VI", 2.0, "rim")],
        [("sameday", "cirrhosis", 500)],
    )
    t = cp(c).set_index("patient_id")
    assert t.loc["late", ["start", "stop", "status", "calcification"]].tolist() == [
        0.0,
        pytest.approx(300 / Y),
        0,
        0,
    ]
    # the event on the day calcification is first seen belongs to the unexposed interval
    assert t.loc["sameday", ["stop", "status", "calcification"]].tolist() == [
        pytest.approx(500 / Y),
        1,
        0,
    ]
    assert t.loc["never", "calcification"] == 0
    assert len(t) == 3


def test_competing_status_only_on_last_interval_and_covariates():
    c = make_cohort(
        [{"patient_id": "a", "diabetes": True, "age_at_index": 61.0}],
        [("s1", "a", 100, "CT")],
        [("f1", "s1", "a", "VI", 2.0, "rim")],
        [("a", "liver_transplant", 300), ("a", "cirrhosis", 600)],
    )
    t = cp(c, competing=("liver_transplant",))
    assert t["status"].tolist() == [0, 2]
    assert t["stop"].iloc[-1] == pytest.approx(300 / Y)
    assert t["diabetes"].tolist() == [1, 1] and t["age_at_index"].tolist() == [61.0, 61.0]
    assert "any_calcification" not in t.columns
    assert at_risk(c, "cirrhosis", competing=("liver_transplant",)).status == {
        0: "censored",
        1: "cirrhosis",
        2: "liver_transplant",
    }
    assert "calcification" in t.columns


def test_event_exposure():
    c = make_cohort(
        [{"patient_id": "a"}, {"patient_id": "b"}],
        events=[
            ("a", "varices", 200),
            ("a", "variceal_bleeding", 500),
            ("b", "varices", -10),
            ("b", "variceal_bleeding", 40),
        ],
    )
    t = cp(c, "variceal_bleeding", exposure="varices")
    assert t["patient_id"].tolist() == ["a", "a", "b"]
    assert t["varices"].tolist() == [0, 1, 1]
    assert t["stop"].tolist() == pytest.approx([200 / Y, 500 / Y, 40 / Y])
    with pytest.raises(SchemaError, match="also the outcome"):
        cp(c, "varices", exposure="varices")
    with pytest.raises(SchemaError, match="unknown exposure 'varix'"):
        cp(c, exposure="varix")
    with pytest.raises(SchemaError, match="already has column"):
        cp(make_cohort([{"patient_id": "a", "start": 1}]))


def test_counting_process_excludes_like_survival_table():
    c = make_cohort([{"patient_id": "a"}, {"patient_id": "b"}], events=[("a", "cirrhosis", -1)])
    with pytest.warns(DataWarning, match="counting_process_table"):
        t = cp(c)
    assert t["patient_id"].tolist() == ["b"]
    assert at_risk(c, "cirrhosis").excluded["patient_id"].tolist() == ["a"]


# ----------------------------------------------------------------------------- lesion_table


def test_lesion_table():
    c = make_cohort(
        [
            {"patient_id": "a", "index": 10, "diabetes": True},
            {"patient_id": "b", "diabetes": False},
        ],
        [("s1", "a", 10, "CT"), ("s2", "a", 740, "US"), ("s3", "b", 0, "MRI")],
        [
            ("f1", "s1", "a", "VI", 2.0, "rim"),
            ("f2", "s2", "a", "IVa", 3.0, "coarse"),
            ("f3", "s3", "b", "I", 4.0, "punctate"),
            ("f4", "s1", "a", "II", 1.0, "rim"),
        ],
    )
    lt = lesion_table(c)
    assert lt["finding_id"].tolist() == ["f1", "f2", "f3", "f4"]
    assert lt["modality"].tolist() == ["CT", "US", "MRI", "CT"]
    assert lt["study_date"].tolist() == [day(10), day(740), day(0), day(10)]
    assert lt["lobe"].tolist() == ["right", "left", "caudate", "left"]
    assert lt["years_since_index"].tolist() == pytest.approx([0, 730 / Y, 0, 0])
    assert lt["diabetes"].tolist() == [1, 1, 0, 1] and lt["diabetes"].dtype == "int64"
    assert lt["etiology"].tolist() == ["pbc"] * 4
    assert list(lt.columns[:6]) == list(c.findings.columns)
    assert lt.columns.is_unique and isinstance(lt.index, pd.RangeIndex)


def test_lesion_table_name_clash_and_empty():
    c = make_cohort(
        [{"patient_id": "a", "size_mm": 99.0}],
        [("s", "a", 0, "CT")],
        [("f", "s", "a", "VI", 2.0, "rim")],
    )
    lt = lesion_table(c)
    assert lt["size_mm"].tolist() == [2.0] and lt["size_mm_patient"].tolist() == [99.0]
    empty = lesion_table(make_cohort([{"patient_id": "a"}]))
    assert len(empty) == 0 and "modality" in empty.columns
    c.findings["modality"] = "CT"
    with pytest.raises(SchemaError, match=r"findings table has column.*'modality'"):
        lesion_table(c)


# ----------------------------------------------------------------------------- properties

EVENTS = ("cirrhosis", "hcc", "death", "liver_transplant")
SEGS = ("I", "II", "III", "IVa", "IVb", "V", "VI", "VII", "VIII")
MORPHS = ("punctate", "coarse", "rim", "diffuse")


@st.composite
def cohorts(draw):
    n = draw(st.integers(1, 6))
    patients, studies, findings, events = [], [], [], []
    for i in range(n):
        pid = f"p{i}"
        index = draw(st.integers(0, 40))
        patients.append(
            {
                "patient_id": pid,
                "index": index,
                "fu": index + draw(st.integers(0, 1500)),
                "cirrhosis_at_baseline": draw(st.booleans()),
            }
        )
        for j in range(draw(st.integers(0, 3))):
            sid = f"{pid}s{j}"
            studies.append((sid, pid, index + draw(st.integers(-60, 1500)), "CT"))
            for k in range(draw(st.integers(0, 3))):
                findings.append(
                    (
                        f"{sid}f{k}",
                        sid,
                        pid,
                        draw(st.sampled_from(SEGS)),
                        draw(st.floats(0.5, 40)),
                        draw(st.sampled_from(MORPHS)),
                    )
                )
        for _ in range(draw(st.integers(0, 4))):
            events.append(
                (pid, draw(st.sampled_from(EVENTS)), index + draw(st.integers(-100, 1700)))
            )
    return make_cohort(patients, studies, findings, events)


@st.composite
def analyses(draw):
    outcome = draw(st.sampled_from(("cirrhosis", "hcc", "death")))
    others = [e for e in ("death", "liver_transplant") if e != outcome]
    competing = tuple(draw(st.permutations(others))[: draw(st.integers(0, len(others)))])
    horizon = draw(st.one_of(st.none(), st.floats(0.2, 5.0)))
    return outcome, competing, horizon


def oracle(c, outcome, competing, horizon):
    """Follow-up by the documented rules, one patient at a time."""
    names = (outcome, *competing)
    rows, excluded = {}, []
    for p in c.patients.itertuples():
        fu = (p.last_followup_date - p.index_date).days
        mine = c.events[(c.events["patient_id"] == p.patient_id) & c.events["event"].isin(names)]
        first = {
            e: (d - p.index_date).days for e, d in mine.groupby("event")["event_date"].min().items()
        }
        if first.get(outcome, 1) <= 0 or (outcome == "cirrhosis" and p.cirrhosis_at_baseline):
            excluded.append(p.patient_id)
            continue
        if any(first.get(e, 1) <= 0 for e in competing):
            excluded.append(p.patient_id)
            continue
        cands = sorted((first[e], k + 1) for k, e in enumerate(names) if e in first)
        t, s = fu, 0
        if cands and cands[0][0] <= fu:
            t, s = cands[0]
        if horizon is not None and t > horizon * 365.25:
            t, s = horizon * 365.25, 0
        if t <= 0:
            excluded.append(p.patient_id)
            continue
        rows[p.patient_id] = (t / 365.25, s)
    return rows, excluded


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return fn(*args, **kw)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohorts(), analyses())
def test_property_survival_table_matches_rules(c, analysis):
    outcome, competing, horizon = analysis
    table = _quiet(survival_table, c, outcome, competing=competing, horizon=horizon)
    expected, excluded = oracle(c, outcome, competing, horizon)
    assert (table["time"] > 0).all() and np.isfinite(table["time"]).all()
    if horizon is not None:
        assert (table["time"] <= horizon).all()
    assert set(table["status"]) <= set(range(len(competing) + 2))
    assert table["patient_id"].tolist() == [p for p in c.patients["patient_id"] if p in expected]
    for pid, t, s in zip(table["patient_id"], table["time"], table["status"], strict=True):
        assert s == expected[pid][1]
        assert t == pytest.approx(expected[pid][0], rel=1e-12)
    record = at_risk(c, outcome, competing=competing, horizon=horizon)
    assert record.excluded["patient_id"].tolist() == excluded
    pd.testing.assert_frame_equal(record.table, table)
    # status k > 0: the patient has that event on the day follow-up ends
    for row in table[table["status"] > 0].itertuples():
        name = record.status[row.status]
        days = (
            c.events.loc[
                (c.events["patient_id"] == row.patient_id) & (c.events["event"] == name),
                "event_date",
            ]
            - c.patients.set_index("patient_id").loc[row.patient_id, "index_date"]
        ).dt.days
        assert days.min() == pytest.approx(row.time * 365.25)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohorts(), analyses(), st.randoms(use_true_random=False))
def test_property_row_order_does_not_matter(c, analysis, rnd):
    outcome, competing, horizon = analysis

    def shuffled(df):
        order = list(range(len(df)))
        rnd.shuffle(order)
        return df.iloc[order].reset_index(drop=True)

    c2 = SimpleNamespace(
        patients=shuffled(c.patients),
        imaging=shuffled(c.imaging),
        findings=shuffled(c.findings),
        events=shuffled(c.events),
    )
    for fn, kw in (
        (survival_table, {"competing": competing, "horizon": horizon}),
        (counting_process_table, {"competing": competing}),
    ):
        a = _quiet(fn, c, outcome, **kw)
        b = _quiet(fn, c2, outcome, **kw)
        keys = ["patient_id", "start"] if "start" in a.columns else ["patient_id"]
        a = a.sort_values(keys).reset_index(drop=True)
        b = b.sort_values(keys).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b)
    pa = patient_table(c).sort_values("patient_id").reset_index(drop=True)
    pb = patient_table(c2).sort_values("patient_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(pa, pb)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohorts(), analyses())
def test_property_counting_process_has_no_immortal_time(c, analysis):
    outcome, competing, _ = analysis
    stt = _quiet(survival_table, c, outcome, competing=competing).set_index("patient_id")
    cpt = _quiet(counting_process_table, c, outcome, competing=competing)
    assert (cpt["stop"] > cpt["start"]).all()  # no zero-length intervals
    assert set(cpt["patient_id"]) == set(stt.index)
    idx = c.patients.set_index("patient_id")["index_date"]
    with_findings = c.imaging[c.imaging["study_id"].isin(c.findings["study_id"])]
    first_seen = (
        with_findings.groupby("patient_id")["study_date"].min()
        - idx.reindex(with_findings.groupby("patient_id").size().index)
    ).dt.days
    for pid, rows in cpt.groupby("patient_id", sort=False):
        assert rows["stop"].diff().dropna().gt(0).all()
        assert rows["start"].iloc[0] == 0
        assert (rows["start"].iloc[1:].to_numpy() == rows["stop"].iloc[:-1].to_numpy()).all()
        assert (rows["stop"] - rows["start"]).sum() == pytest.approx(stt.loc[pid, "time"])
        assert rows["stop"].iloc[-1] == pytest.approx(stt.loc[pid, "time"])
        assert rows["status"].iloc[-1] == stt.loc[pid, "status"]
        assert (rows["status"].iloc[:-1] == 0).all()
        assert rows["calcification"].is_monotonic_increasing
        seen = first_seen.get(pid, np.inf)
        for r in rows.itertuples():
            if r.calcification == 1:  # exposed only from the day calcification was seen
                assert r.start * 365.25 == pytest.approx(max(seen, 0)) or (r.start * 365.25 >= seen)
            else:
                assert r.stop * 365.25 <= seen + 1e-9


# ----------------------------------------------------------------------------- via read_cohort


def _raw_tables() -> dict[str, pd.DataFrame]:
    """Raw exports as a user would bring them (text dates, synonyms, yes/no flags)."""
    patients = pd.DataFrame(
        {
            "patient_id": ["p1", "p2", "p3", "p4"],
            "sex": ["female", "M", "F", "male"],
            "age_at_index": [54.0, 61.0, 45.0, 70.0],
            "index_date": ["2015-03-01", "2016-07-12", "2014-01-10", "2015-06-01"],
            "etiology": ["pbc", "psc", "other", "hepatolithiasis"],
            "cirrhosis_at_baseline": ["no", "yes", "no", "no"],
            "last_followup_date": ["2020-01-01", "2021-05-30", "2019-12-31", "2019-06-01"],
            "diabetes": ["no", "yes", "no", "yes"],
        }
    )
    imaging = pd.DataFrame(
        {
            "study_id": ["s1", "s2", "s3", "s4", "s5"],
            "patient_id": ["p1", "p1", "p2", "p3", "p4"],
            "study_date": ["2015-03-01", "2017-01-01", "2016-07-12", "2014-01-10", "2015-06-01"],
            "modality": ["ct", "ultrasound", "MRI", "CT", "CT"],
        }
    )
    findings = pd.DataFrame(
        {
            "finding_id": ["f1", "f2", "f3", "f4", "f5"],
            "study_id": ["s1", "s1", "s2", "s3", "s5"],
            "patient_id": ["p1", "p1", "p1", "p2", "p4"],
            "segment": ["VII", "II", "III", "IVa", "I"],
            "size_mm": [3.0, 5.0, 9.0, 2.0, 4.0],
            "morphology": ["punctate", "coarse", "rim", "rim", "diffuse"],
        }
    )
    events = pd.DataFrame(
        {
            "patient_id": ["p2", "p1", "p3", "p3", "p4"],
            "event": ["cirrhosis", "varices", "liver_transplant", "death", "cirrhosis"],
            "event_date": ["2016-01-01", "2018-05-01", "2018-01-01", "2019-12-31", "2017-06-01"],
        }
    )
    return {"patients": patients, "imaging": imaging, "findings": findings, "events": events}


def test_tables_through_read_cohort():
    import calcstats as cs

    cohort = cs.read_cohort(**_raw_tables())
    pt = cohort.patient_table().set_index("patient_id")
    assert pt["n_calcifications"].tolist() == [2, 1, 0, 1]  # p1's follow-up finding ignored
    assert pt["calcification_burden"].astype(str).tolist() == ["2-5", "1", "none", ">5"]
    assert pt["bilobar"].tolist() == [1, 0, 0, 0]
    assert pt["dominant_morphology"].tolist() == ["coarse", "rim", "none", "diffuse"]
    assert pt["diabetes"].tolist() == [0, 1, 0, 1]

    with pytest.warns(DataWarning, match="1 patient"):
        st = cohort.survival_table("cirrhosis", competing=("liver_transplant", "death"))
    ar = cohort.at_risk("cirrhosis", competing=("liver_transplant", "death"))
    assert ar.excluded["patient_id"].tolist() == ["p2"]
    assert ar.flow.n_out == len(st) and ar.flow.steps[-1].excluded_ids == ("p2",)
    assert "not at risk of cirrhosis" in ar.flow.steps[-1].reason
    got = st.set_index("patient_id")
    assert got["status"].to_dict() == {"p1": 0, "p3": 2, "p4": 1}
    days = {
        "p1": (pd.Timestamp("2020-01-01") - pd.Timestamp("2015-03-01")).days,
        "p3": (pd.Timestamp("2018-01-01") - pd.Timestamp("2014-01-10")).days,
        "p4": (pd.Timestamp("2017-06-01") - pd.Timestamp("2015-06-01")).days,
    }
    for pid, d in days.items():
        assert got.loc[pid, "time"] == pytest.approx(d / 365.25, rel=1e-14)

    cpt = cohort.counting_process_table("death")
    assert cpt["calcification"].tolist() == [1, 1, 0, 1]
    lt = cohort.lesion_table()
    assert len(lt) == 5 and lt["modality"].tolist() == ["CT", "CT", "US", "MRI", "CT"]

    smaller = cohort.exclude("patient_id == 'p4'", reason="test")
    assert "p4" not in smaller.patient_table()["patient_id"].tolist()


def test_simulated_cohort_consistency():
    import calcstats as cs

    sim = cs.simulate_cohort(n=400, seed=3)
    args = ("cirrhosis",)
    kw = {"competing": ("liver_transplant", "death")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        st_ = sim.survival_table(*args, **kw)
        cpt = sim.counting_process_table(*args, **kw)
    n_ex = len(sim.at_risk(*args, **kw).excluded)
    assert len(st_) + n_ex == len(sim.patients)
    person_time = (cpt["stop"] - cpt["start"]).groupby(cpt["patient_id"]).sum()
    np.testing.assert_allclose(
        person_time.reindex(st_["patient_id"]).to_numpy(), st_["time"].to_numpy(), rtol=1e-12
    )
    last = cpt.groupby("patient_id").tail(1).set_index("patient_id")["status"]
    assert (last.reindex(st_["patient_id"]).to_numpy() == st_["status"].to_numpy()).all()
    pt = sim.patient_table()
    assert (pt["any_calcification"] == (pt["n_calcifications"] > 0)).all()
    assert ((pt["calcification_burden"] == "none") == (pt["n_calcifications"] == 0)).all()
    assert not (pt["bilobar"] & pt["right_lobe_only"]).any()


def test_analysis_tables_are_plain_data_frames():
    c = make_cohort(
        [{"patient_id": p, "extra_" + p: 1.0} for p in "abcd"],
        events=[("a", "cirrhosis", -1), ("b", "death", 10)],
    )
    with pytest.warns(DataWarning):
        st1 = survival_table(c, "cirrhosis")
    st2 = survival_table(c, "death")
    assert type(st1) is pd.DataFrame and st1.attrs == {}
    both = pd.concat([st1, st2], ignore_index=True)
    assert len(both) == len(st1) + len(st2)
    assert at_risk(c, "cirrhosis").excluded["patient_id"].tolist() == ["a"]


def test_counting_process_matches_r_tmerge():
    """Same intervals as survival::tmerge (tests/reference/counting_process.R)."""
    import json
    from pathlib import Path

    ref = json.loads(
        (Path(__file__).parents[1] / "reference" / "counting_process.json").read_text()
    )
    c = make_cohort(
        [
            {"patient_id": "a", "fu": 1000},
            {"patient_id": "b", "fu": 500},
            {"patient_id": "c", "fu": 900},
            {"patient_id": "d", "fu": 800},
            {"patient_id": "e", "fu": 1200},
            {"patient_id": "f", "fu": 600},
            {"patient_id": "g", "fu": 100},
            {"patient_id": "h", "fu": 1000},
        ],
        [
            ("sa0", "a", 0, "US"),
            ("sa", "a", 400, "CT"),
            ("sb", "b", 0, "CT"),
            ("sc", "c", 300, "CT"),
            ("sd", "d", 900, "CT"),
            ("se", "e", 0, "US"),
            ("sf", "f", -30, "CT"),
            ("sg", "g", 100, "CT"),
            ("sh", "h", 250, "CT"),
        ],
        [
            (f"f{s}", s, s[1], "VI", 3.0, "coarse")
            for s in ("sa", "sb", "sc", "sd", "sf", "sg", "sh")
        ],
        [
            ("a", "cirrhosis", 700),
            ("b", "death", 500),
            ("c", "cirrhosis", 300),
            ("h", "liver_transplant", 260),
            ("h", "cirrhosis", 400),
        ],
    )
    t = counting_process_table(c, "cirrhosis", competing=("liver_transplant", "death"))
    assert t["patient_id"].tolist() == ref["id"]
    # days -> years -> days: equal to 1e-9 days
    np.testing.assert_allclose(t["start"] * 365.25, ref["tstart"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(t["stop"] * 365.25, ref["tstop"], rtol=0, atol=1e-9)
    assert t["status"].tolist() == ref["status"]
    assert t["calcification"].tolist() == ref["calcification"]
