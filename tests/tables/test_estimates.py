"""Publication tables of the descriptive estimators: result.to_table() as the user sees it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats._errors import CalcstatsError, InvalidParameterError
from calcstats.results import EstimateResult, Result, table_of

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pbc() -> pd.DataFrame:
    df = pd.read_csv(ROOT / "data" / "pbc.csv")
    df["edema_any"] = (df["edema"] > 0).astype(np.int64)
    df["death"] = (df["status"] == 2).astype(np.int64)
    df["years"] = df["time"] / 365.25
    return df


@pytest.fixture(scope="module")
def trial(pbc) -> pd.DataFrame:
    tr = pbc.dropna(subset=["trt"]).reset_index(drop=True)
    tr["treated"] = (tr["trt"] == 2).astype(np.int64)
    return tr


@pytest.fixture(scope="module")
def canonical() -> pd.DataFrame:
    """Canonical column names and codes, as cohort.patient_table() gives them."""
    rng = np.random.default_rng(3)
    n = 300
    return pd.DataFrame(
        {
            "etiology": rng.choice(["pbc", "psc", "masld"], n),
            "sex": rng.choice(["F", "M"], n),
            "any_calcification": rng.integers(0, 2, n),
            "time": rng.exponential(4, n),
            "status": rng.integers(0, 2, n),
        }
    )


def _column(t, name):
    j = t.columns.index(name)
    return [row[j] for row in t.cells]


def test_prevalence_table(pbc):
    res = cs.prevalence(pbc, outcome="edema_any", by="sex", method="exact")
    t = res.to_table()
    assert t.columns == ("Sex", "N", "Cases", "Prevalence, % (95% CI)")
    tidy = res.tidy()
    f = tidy.iloc[0]
    assert t.cells[0] == (
        "f",
        "374",
        "56",
        f"{100 * f['estimate']:.1f} ({100 * f['conf_low']:.1f}–{100 * f['conf_high']:.1f})",
    )
    pd.testing.assert_frame_equal(t.to_frame(), tidy)
    assert t.title == "Prevalence"
    # the note names the outcome by its label, not its column name
    assert t.footnotes == ("Prevalence of edema any with 95% exact Clopper–Pearson interval.",)
    named = res.to_table(labels={"edema_any": "Edema (any)"})
    assert named.footnotes[0].startswith("Prevalence of edema (any) with 95%")
    # digits are those of the proportion: one fewer for the percentage
    t3 = res.to_table(digits=3, title="Table 2. Oedema")
    assert t3.title == "Table 2. Oedema"
    assert t3.cells[0][3].startswith(f"{100 * f['estimate']:.2f} (")


def test_canonical_columns_and_levels_print_as_labels(canonical):
    res = cs.prevalence(canonical, outcome="any_calcification", by=["etiology", "sex"])
    t = res.to_table()
    assert t.columns[:2] == ("Etiology", "Sex")
    # level order: the schema's level labels (pbc, psc, ..., masld), not alphabetical
    assert _column(t, "Etiology")[::2] == [
        "Primary biliary cholangitis",
        "Primary sclerosing cholangitis",
        "MASLD",
    ]
    assert _column(t, "Sex")[:2] == ["Female", "Male"]
    # the raw numbers follow the rows of the display
    assert t.to_frame()["etiology"].tolist()[::2] == ["pbc", "psc", "masld"]
    assert sorted(t.to_frame()["cases"]) == sorted(res.tidy()["cases"])


def test_labels_of_the_estimator_and_of_the_table_merge(canonical):
    lab = cs.Labels(
        variables={"etiology": "Cause of liver disease"},
        levels={"etiology": {"masld": "Steatotic liver disease", "psc": "PSC"}},
    )
    res = cs.prevalence(canonical, outcome="any_calcification", by="etiology", labels=lab)
    t = res.to_table()
    assert t.columns[0] == "Cause of liver disease"
    # the level labels given first are the display order; pbc keeps its default label after
    assert _column(t, "Cause of liver disease") == [
        "Steatotic liver disease",
        "PSC",
        "Primary biliary cholangitis",
    ]
    # labels= of to_table win over the result's
    t2 = res.to_table(labels={"etiology": "Etiology group"})
    assert t2.columns[0] == "Etiology group"
    assert _column(t2, "Etiology group")[0] == "Steatotic liver disease"


def test_prevalence_suppression_protects_n(pbc):
    df = pbc.assign(g=np.where(pbc.index < 20, "small", "large"))
    res = cs.prevalence(df, outcome="edema_any", by="g", suppress_below=10)
    tidy = res.tidy()
    t = res.to_table()
    small = next(r for r in t.cells if r[0] == "small")
    cases_small = int(tidy.loc[tidy["g"] == "small", "cases"].iloc[0])
    assert 1 <= cases_small < 10
    assert small[2] == "<10" and small[3] == "*"
    # with the column of cases holding one hidden cell, the other row's cases hide too
    large = next(r for r in t.cells if r[0] == "large")
    assert large[2] in ("*", "<10") and large[3] == "*"
    assert any("<10: count between 1 and 9" in f for f in t.footnotes)
    # without suppression everything shows
    assert cs.prevalence(df, outcome="edema_any", by="g").to_table().cells[1][2] == str(cases_small)


def test_standardised_prevalence_says_so(trial):
    tr = trial.assign(agegrp=np.where(trial["age"] < 50, "<50", "50+"))
    res = cs.prevalence(
        tr,
        outcome="edema_any",
        by="trt",
        standardize={"by": "agegrp", "weights": {"<50": 1, "50+": 1}},
    )
    t = res.to_table()
    assert t.columns[-1] == "Standardised prevalence, % (95% CI)"
    assert "Fay–Feuer" in t.footnotes[0]


def test_incidence_table_and_suppression(pbc):
    res = cs.incidence_rate(
        pbc, time="years", event="death", bands=[0, 1, 5, 10], suppress_below=10
    )
    t = res.to_table()
    assert t.columns == ("Follow-up", "Events", "Person-time", "Rate per 1,000 (95% CI)")
    last = t.cells[-1]
    assert last[0] == "≥10" and last[1] == "<10" and last[2] == "*" and last[3] == "*"
    assert t.cells[0][1] == "30"
    assert any("<10: count between 1 and 9" in f for f in t.footnotes)


def test_incidence_table_uses_the_time_unit_it_knows(canonical):
    plain = cs.incidence_rate(canonical, time="time", event="status", by="sex", bands=[2])
    assert plain.to_table().columns[:2] == ("Sex", "Follow-up")  # unit unknown: not invented
    cohort = cs.incidence_rate(
        canonical,
        time="time",
        event="status",
        by="sex",
        bands=[2],
        per=100,
        labels=cs.Labels.cohort(),
    )
    t = cohort.to_table(digits=1)
    assert t.columns == (
        "Sex",
        "Follow-up (years)",
        "Events",
        "Person-years",
        "Rate per 100 person-years (95% CI)",
    )
    assert t.footnotes[0] == (
        "Rate of events per 100 person-years, with 95% exact Poisson (Garwood) confidence interval."
    )
    assert plain.to_table().footnotes[0] == (
        "Rate of events per 1,000 units of person-time, with 95% exact Poisson (Garwood) "
        "confidence interval."
    )
    # with several event codes, the code counted is named by its level label
    coded = canonical.assign(status=canonical["status"] * np.where(canonical.index % 2, 1, 2))
    rates = cs.incidence_rate(coded, time="time", event="status", cause=2, per=100)
    assert rates.to_table().footnotes[0].startswith("Rate of status 2 per 100 units of")
    events = cs.Labels(levels={"status": {1: "Cirrhosis", 2: "Death"}}) | cs.Labels.cohort()
    assert (
        rates.to_table(labels=events).footnotes[0].startswith("Rate of death per 100 person-years")
    )
    row = cohort.tidy().iloc[0]
    assert t.cells[0][:3] == ("Female", "0–2", f"{row['events']}")
    assert t.cells[0][4] == cs.format_ci(row["rate"], row["conf_low"], row["conf_high"], digits=1)


def test_rate_ratio_table(trial):
    res = cs.rate_ratio(
        trial,
        time="years",
        event="death",
        by="trt",
        labels=cs.Labels(
            variables={"trt": "Treatment"}, levels={"trt": {2: "Placebo", 1: "D-penicillamine"}}
        ),
    )
    t = res.to_table()
    assert t.columns == ("Treatment", "Events", "Person-time", "Rate ratio (95% CI)", "p-value")
    # level labels set the order; the reference keeps its "1 (reference)"
    assert [r[0] for r in t.cells] == ["Placebo", "D-penicillamine"]
    assert t.cells[1][3:] == ("1 (reference)", "")
    tidy = res.tidy()
    est = tidy.iloc[1]
    assert t.cells[0][3] == cs.format_ci(est["estimate"], est["conf_low"], est["conf_high"])
    assert t.cells[0][4] == cs.format_p(est["p_value"])
    assert list(t.to_frame().columns) == ["trt", "estimate", "conf_low", "conf_high", "p_value"]
    assert t.to_frame()["trt"].tolist() == [2.0, 1.0]


def test_mh_table(trial):
    res = cs.mantel_haenszel(trial, exposure="treated", outcome="death", strata="stage")
    t = res.to_table()
    assert [r[0] for r in t.cells] == [
        "Stage = 1",
        "Stage = 2",
        "Stage = 3",
        "Stage = 4",
        "Crude",
        "Mantel–Haenszel pooled",
    ]
    assert t.columns == ("Stratum", "OR (95% CI)", "p-value")
    assert t.cells[-1][1] == cs.format_ci(res.estimate, res.conf_low, res.conf_high)
    assert any("Breslow–Day" in f for f in t.footnotes)
    raw = t.to_frame()
    assert raw["row"].tolist() == ["stratum"] * 4 + ["crude", "pooled"]
    assert raw["estimate"].iloc[-1] == pytest.approx(res.estimate)


def test_mh_table_two_strata_with_level_labels(trial):
    lab = cs.Labels(levels={"sex": {"f": "Female", "m": "Male"}})
    res = cs.mantel_haenszel(
        trial,
        exposure="treated",
        outcome="death",
        strata=["sex", "stage"],
        measure="RR",
        labels=lab,
    )
    names = [r[0] for r in res.to_table().cells]
    assert names[:2] == ["Sex = Female, Stage = 1", "Sex = Female, Stage = 2"]
    assert names[4] == "Sex = Male, Stage = 1"


def test_segment_tables():
    f = pd.DataFrame(
        {
            "patient_id": ["a", "a", "b", "c"],
            "segment": ["VII", "VIII", "VII", "IVa"],
            "size_mm": [3.0, 5.0, 4.0, 6.0],
        }
    )
    count = cs.segment_summary(f).to_table()
    assert count.columns == ("Couinaud segment", "Calcifications, n", "Patients, n")
    assert count.cells[3] == ("IV", "1", "1") and count.cells[6] == ("VII", "2", "2")
    prev = cs.segment_summary(f, stat="prevalence", n_patients=10).to_table(digits=3)
    assert prev.cells[6] == ("VII", "2", "2 (20.00)")
    assert "Percentages of 10 patients." in prev.footnotes
    size = cs.segment_summary(f, stat="median_size", collapse_iv=False).to_table()
    assert size.columns[-1] == "Median size, mm"
    assert size.cells[4] == ("IVa", "1", "6.0") and size.cells[0] == ("I", "0", "—")
    assert "— no calcification in the segment." in size.footnotes


def test_to_table_dispatches_on_the_result_type(pbc):
    res = cs.prevalence(pbc, outcome="edema_any")
    assert table_of(res, title="X") == res.to_table(title="X")
    row = res.tidy().iloc[0]
    ci = cs.format_ci(
        100 * row["estimate"], 100 * row["conf_low"], 100 * row["conf_high"], digits=1
    )
    assert res.to_table().cells == (("All", "418", "64", ci),)

    class Unregistered(Result):
        def tidy(self):
            return res.tidy()

    other = Unregistered()
    # any EstimateResult without its own layout gets the generic labelled table
    generic = EstimateResult(res.tidy(), by=[], method="m", conf_level=0.95).to_table()
    assert generic.footnotes == ("m",)
    with pytest.raises(CalcstatsError, match="no publication table is defined for Unregistered"):
        other.to_table()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"digits": -1},
            "The 'digits' parameter of PrevalenceResult.to_table must be an integer >= 0. Got -1.",
        ),
        (
            {"digits": 1.5},
            "The 'digits' parameter of PrevalenceResult.to_table must be an integer >= 0. Got 1.5.",
        ),
        (
            {"title": 3},
            "The 'title' parameter of PrevalenceResult.to_table must be None or a str. Got 3.",
        ),
        ({"labels": ["sex"]}, "The 'labels' parameter must be a calcstats.Labels"),
    ],
)
def test_to_table_options_are_checked(pbc, options, message):
    res = cs.prevalence(pbc, outcome="edema_any", by="sex")
    with pytest.raises(InvalidParameterError) as err:
        res.to_table(**options)
    assert str(err.value).startswith(message)
    with pytest.raises(TypeError, match="unexpected keyword argument 'decimals'"):
        res.to_table(decimals=2)
