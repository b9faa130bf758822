"""mantel_haenszel() against R mantelhaen.test and hand-coded Breslow–Day / GR formulas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats._errors import DataError, InvalidParameterError
from calcstats.results import EstimateResult, TestResult

REL = 1e-6


@pytest.fixture()
def ucb(ref) -> pd.DataFrame:
    """UC Berkeley admissions expanded to one row per applicant."""
    agg = pd.DataFrame(ref["ucb_data"])
    rows = agg.loc[agg.index.repeat(agg["Freq"])].reset_index(drop=True)
    return pd.DataFrame(
        {
            "male": (rows["Gender"] == "Male").astype(int),
            "admitted": (rows["Admit"] == "Admitted").astype(int),
            "dept": rows["Dept"],
        }
    )


@pytest.mark.parametrize("data_key", ["ucb", "pbc"])
def test_or_matches_mantelhaen_test(ucb, trial, ref, data_key):
    if data_key == "ucb":
        kw = {"data": ucb, "exposure": "male", "outcome": "admitted", "strata": "dept"}
    else:
        kw = {"data": trial, "exposure": "treated", "outcome": "death", "strata": "stage"}
    r = ref[f"{data_key}_or"]
    res = cs.mantel_haenszel(**kw)
    tidy = res.tidy()
    assert list(tidy.columns) == ["estimate", "conf_low", "conf_high", "p_value"]
    assert tidy.iloc[0, :3].tolist() == pytest.approx(
        [r["estimate"], r["lower"], r["upper"]], rel=REL
    )
    assert res.test.statistic == pytest.approx(r["stat_correct"], rel=REL)
    assert tidy["p_value"][0] == pytest.approx(r["p_correct"], rel=REL)
    nc = cs.mantel_haenszel(**kw, correct=False)
    assert nc.test.statistic == pytest.approx(r["stat_nocorrect"], rel=REL)
    assert nc.test.p_value == pytest.approx(r["p_nocorrect"], rel=REL)
    bd = r["breslow_day"]
    assert res.homogeneity.statistic == pytest.approx(bd["tarone"], rel=REL)
    assert res.homogeneity.breslow_day_uncorrected == pytest.approx(bd["bd"], rel=REL)
    if data_key == "ucb":  # every stratum informative
        assert res.homogeneity.df == bd["df"]
        assert res.homogeneity.p_value == pytest.approx(bd["p"], rel=REL)


def test_rr_matches_greenland_robins(ucb, trial, ref):
    for kw, r in [
        ({"data": ucb, "exposure": "male", "outcome": "admitted", "strata": "dept"}, ref["ucb_rr"]),
        (
            {"data": trial, "exposure": "treated", "outcome": "death", "strata": "stage"},
            ref["pbc_rr"],
        ),
    ]:
        res = cs.mantel_haenszel(**kw, measure="RR")
        assert res.tidy().iloc[0, :3].tolist() == pytest.approx(
            [r["estimate"], r["lower"], r["upper"]], rel=REL
        )
        assert res.homogeneity.statistic == pytest.approx(r["homog"], rel=REL)
        assert res.homogeneity.df == r["homog_df"]
        assert res.homogeneity.p_value == pytest.approx(r["homog_p"], rel=REL)


def test_irr_matches_hand_formulas(trial, ref):
    r = ref["pbc_irr"]
    res = cs.mantel_haenszel(
        trial,
        exposure="treated",
        outcome="death",
        strata="sex",
        measure="IRR",
        time="years",
        correct=False,
    )
    assert res.tidy().iloc[0].tolist() == pytest.approx(
        [r["estimate"], r["lower"], r["upper"], r["p"]], rel=REL
    )
    assert res.test.statistic == pytest.approx(r["chisq"], rel=REL)
    assert res.homogeneity.statistic == pytest.approx(r["homog"], rel=REL)
    assert res.homogeneity.p_value == pytest.approx(r["homog_p"], rel=REL)


def test_single_stratum_equals_crude(ucb):
    res = cs.mantel_haenszel(ucb.assign(one=1), exposure="male", outcome="admitted", strata="one")
    tab = pd.crosstab(ucb["male"], ucb["admitted"])
    a, b, c, d = tab.loc[1, 1], tab.loc[1, 0], tab.loc[0, 1], tab.loc[0, 0]
    assert res.estimate == pytest.approx(a * d / (b * c), rel=1e-12)
    assert res.crude[0] == pytest.approx(a * d / (b * c), rel=1e-12)
    # Robins-Breslow-Greenland reduces to Woolf with one stratum
    assert res.std_error == pytest.approx(np.sqrt(1 / a + 1 / b + 1 / c + 1 / d), rel=1e-10)


def test_strata_frame(ucb):
    res = cs.mantel_haenszel(ucb, exposure="male", outcome="admitted", strata="dept")
    s = res.strata()
    assert list(s["dept"]) == list("ABCDEF")
    assert s[
        ["exposed_cases", "exposed_noncases", "unexposed_cases", "unexposed_noncases"]
    ].to_numpy().sum() == len(ucb)
    # the ratio of a stratum is invariant to swapping exposure coding (reciprocal)
    swapped = cs.mantel_haenszel(
        ucb.assign(male=1 - ucb["male"]), exposure="male", outcome="admitted", strata="dept"
    )
    assert swapped.estimate == pytest.approx(1 / res.estimate, rel=1e-10)


def test_result_fields(trial):
    res = cs.mantel_haenszel(
        trial,
        exposure="treated",
        outcome="death",
        strata=["stage", "sex"],
        measure="RR",
        labels={"sex": "Sex"},
    )
    assert isinstance(res, cs.MantelHaenszelResult) and isinstance(res, EstimateResult)
    assert isinstance(res.test, TestResult) and isinstance(res.homogeneity, TestResult)
    assert (res.measure, res.exposure, res.outcome, res.time) == ("RR", "treated", "death", None)
    assert res.strata_columns == ["stage", "sex"] and res.by == []
    s = res.strata()
    assert list(s.columns[:3]) == ["stage", "sex", "exposed_cases"]
    assert s[["exposed_n", "unexposed_n"]].to_numpy().sum() == len(trial)
    assert res.tidy()["estimate"][0] == res.estimate
    assert res.labels.variable("sex") == "Sex"


def test_mh_errors(trial):
    with pytest.raises(
        InvalidParameterError,
        match=(
            r"^The 'time' parameter of mantel_haenszel must be a column name \(str\) with "
            r"measure='IRR', which needs person-time\. Got None\.$"
        ),
    ):
        cs.mantel_haenszel(trial, exposure="treated", outcome="death", strata="sex", measure="IRR")
    with pytest.raises(InvalidParameterError, match="must be None unless measure='IRR'"):
        cs.mantel_haenszel(trial, exposure="treated", outcome="death", strata="sex", time="years")
    with pytest.raises(
        InvalidParameterError,
        match=(
            r"^The 'measure' parameter of mantel_haenszel must be one of 'OR', 'RR', 'IRR'\. "
            r"Got 'HR'\.$"
        ),
    ):
        cs.mantel_haenszel(trial, exposure="treated", outcome="death", strata="sex", measure="HR")
    with pytest.raises(InvalidParameterError, match="The 'correct' parameter"):
        cs.mantel_haenszel(trial, exposure="treated", outcome="death", strata="sex", correct="yes")
    with pytest.raises(InvalidParameterError, match=r"The 'strata' parameter .* at least one"):
        cs.mantel_haenszel(trial, exposure="treated", outcome="death", strata=[])
    # person-time follows the rules of every follow-up time
    with pytest.raises(
        DataError,
        match=r"mantel_haenszel\(\): time column 'years' has 1 "
        r"negative value\(s\) \(first: -2 at row 5\)",
    ):
        cs.mantel_haenszel(
            trial.assign(years=trial["years"].where(trial.index != 5, -2.0)),
            exposure="treated",
            outcome="death",
            strata="sex",
            measure="IRR",
            time="years",
        )
    with pytest.raises(DataError, match="non-negative event count"):
        cs.mantel_haenszel(
            trial.assign(death=trial["death"] - 0.5),
            exposure="treated",
            outcome="death",
            strata="sex",
            measure="IRR",
            time="years",
        )
    with pytest.raises(DataError, match="must be binary"):
        cs.mantel_haenszel(trial, exposure="trt", outcome="death", strata="sex")
    with pytest.raises(DataError, match="missing value"):
        cs.mantel_haenszel(trial, exposure="treated", outcome="death", strata="chol")
    with pytest.raises(DataError, match="only the value"):
        cs.mantel_haenszel(trial.assign(z=1), exposure="z", outcome="death", strata="sex")


def test_irr_accepts_aggregated_counts(trial):
    per_patient = cs.mantel_haenszel(
        trial, exposure="treated", outcome="death", strata="sex", measure="IRR", time="years"
    )
    agg = trial.groupby(["sex", "treated"], as_index=False).agg(
        death=("death", "sum"), years=("years", "sum")
    )
    aggregated = cs.mantel_haenszel(
        agg, exposure="treated", outcome="death", strata="sex", measure="IRR", time="years"
    )
    pd.testing.assert_frame_equal(per_patient.tidy(), aggregated.tidy())
    assert aggregated.homogeneity.statistic == pytest.approx(per_patient.homogeneity.statistic)
