"""incidence_rate(standardize=...): directly standardised rates against R
epitools::ageadjust.direct (tests/reference/standardised_rates.R), and the errors a user
sees for a standard that does not fit the data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats._errors import DataError, InvalidParameterError, SchemaError

# The reference is R's own arithmetic (ageadjust.direct, qgamma) on the same events and
# person-time: estimate and interval must agree to 1e-9, relative.
RTOL = 1e-9
REF_DIR = Path(__file__).resolve().parents[1] / "reference"


@pytest.fixture(scope="module")
def rref() -> dict:
    return json.loads((REF_DIR / "standardised_rates.json").read_text())


@pytest.fixture(scope="module")
def sim() -> pd.DataFrame:
    return pd.read_csv(REF_DIR / "standardised_rates_data" / "simulated.csv")


@pytest.fixture(scope="module")
def lung() -> pd.DataFrame:
    return pd.read_csv(REF_DIR / "standardised_rates_data" / "lung.csv")


def _check(row: pd.Series, r: dict, *, per: float) -> None:
    assert row["events"] == r["events"]
    np.testing.assert_allclose(row["person_time"], r["person_time"], rtol=RTOL)
    np.testing.assert_allclose(
        [row["rate"], row["conf_low"], row["conf_high"]],
        np.array([r["rate"], r["lower"], r["upper"]]) * per,
        rtol=RTOL,
    )


def test_simulated_overall_matches_ageadjust_direct(sim, rref):
    std = {"by": "age_group", "weights": rref["sim_weights"]}
    res = cs.incidence_rate(sim, time="time", event="status", standardize=std)
    tidy = res.tidy()
    assert list(tidy.columns) == ["events", "person_time", "rate", "conf_low", "conf_high"]
    _check(tidy.iloc[0], rref["sim_overall"], per=1000)
    assert res.standardize == "age_group"
    assert "directly standardised by age_group" in res.method
    assert "Fay–Feuer gamma" in res.method


@pytest.mark.parametrize(("level", "key"), [(0.95, "sim_by_arm"), (0.90, "sim_by_arm_90")])
def test_simulated_by_arm_matches_ageadjust_direct(sim, rref, level, key):
    std = {"by": "age_group", "weights": rref["sim_weights"]}
    res = cs.incidence_rate(
        sim, time="time", event="status", by="arm", per=1, conf_level=level, standardize=std
    )
    tidy = res.tidy()
    assert tidy["arm"].tolist() == ["A", "B", "C"]
    for _, row in tidy.iterrows():
        _check(row, rref[key][row["arm"]], per=1)


def test_simulated_bands_match_survsplit_and_ageadjust_direct(sim, rref):
    std = {"by": "age_group", "weights": rref["sim_weights"]}
    res = cs.incidence_rate(
        sim, time="time", event="status", by="arm", bands=[2, 5], standardize=std
    )
    tidy = res.tidy()
    assert list(tidy.columns[:2]) == ["arm", "band"]
    assert len(tidy) == 9
    for _, row in tidy.iterrows():
        _check(row, rref["sim_bands"][row["band"]][row["arm"]], per=1000)
    assert res.bands == [0.0, 2.0, 5.0]
    assert "time bands" in res.method


def test_lung_by_sex_matches_ageadjust_direct(lung, rref):
    std = {"by": "age_group", "weights": rref["lung_weights"]}
    res = cs.incidence_rate(lung, time="years", event="death", by="sex", per=100, standardize=std)
    tidy = res.tidy()
    for _, row in tidy.iterrows():
        _check(row, rref["lung_by_sex"][row["sex"]], per=100)
    # the standardised rate differs from the crude rate (male: 102.7 vs 104.7 per 100)
    male = tidy.set_index("sex").loc["male"]
    crude = male["events"] / male["person_time"] * 100
    assert crude == pytest.approx(rref["lung_by_sex"]["male"]["crude"] * 100, rel=RTOL)
    assert abs(male["rate"] - crude) > 1


def test_weights_are_sizes_or_shares_and_zero_weight_leaves_a_level_out(lung, rref):
    shares = rref["lung_weights"]
    sizes = {k: v * 12345 for k, v in shares.items()}
    a = cs.incidence_rate(
        lung, time="years", event="death", standardize={"by": "age_group", "weights": shares}
    ).tidy()
    b = cs.incidence_rate(
        lung, time="years", event="death", standardize={"by": "age_group", "weights": sizes}
    ).tidy()
    np.testing.assert_allclose(
        a[["rate", "conf_low", "conf_high"]], b[["rate", "conf_low", "conf_high"]], rtol=1e-12
    )
    # weight 0: the level is known but not in the standard, so the rate is the <60 rate
    only = {"<60": 1, "60-69": 0, "70+": 0}
    c = cs.incidence_rate(
        lung, time="years", event="death", standardize={"by": "age_group", "weights": only}
    ).tidy()
    young = cs.incidence_rate(lung[lung["age_group"] == "<60"], time="years", event="death")
    assert c["rate"].iloc[0] == pytest.approx(young.tidy()["rate"].iloc[0], rel=1e-12)
    assert c["events"].iloc[0] == int(lung["death"].sum())  # crude totals stay whole-group


def test_table_says_standardised(lung, rref):
    std = {"by": "age_group", "weights": rref["lung_weights"]}
    res = cs.incidence_rate(
        lung,
        time="years",
        event="death",
        by="sex",
        standardize=std,
        labels={"age_group": "Age group"},
    )
    table = res.to_table()
    assert table.columns[-1] == "Standardised rate per 1,000 (95% CI)"
    assert table.footnotes[0] == (
        "Rate of death per 1,000 units of person-time directly standardised by age group "
        "to the given standard population, with 95% Fay–Feuer gamma confidence interval; "
        "events and person-time are crude totals."
    )
    crude = cs.incidence_rate(lung, time="years", event="death", by="sex").to_table()
    assert "standardised" not in crude.footnotes[0]


def test_no_events_gives_lower_limit_zero():
    df = pd.DataFrame({"t": [1.0, 2.0, 3.0, 4.0], "d": [0, 0, 0, 0], "g": list("aabb")})
    res = cs.incidence_rate(
        df, time="t", event="d", per=1, standardize={"by": "g", "weights": {"a": 1, "b": 1}}
    ).tidy()
    assert res[["rate", "conf_low"]].iloc[0].tolist() == [0.0, 0.0]
    # upper limit: qgamma(0.975, shape = wm^2/wm^2 = 1, scale = wm), wm = max(w/T) = 0.5/3
    assert res["conf_high"].iloc[0] == pytest.approx(-np.log(0.025) * 0.5 / 3, rel=1e-12)


# ---- errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        {"by": "age_group"},
        {"column": "age_group", "weights": {"<60": 1}},
        {"by": "age_group", "weights": {}},
        {"by": "age_group", "weights": {"<60": -1, "60-69": 2, "70+": 1}},
        {"by": "age_group", "weights": {"<60": 0, "60-69": 0, "70+": 0}},
        {"by": "age_group", "weights": {"<60": float("nan"), "60-69": 1, "70+": 1}},
        {"by": ["age_group"], "weights": {"<60": 1}},
        "age_group",
    ],
)
def test_malformed_standard_is_refused(lung, spec):
    with pytest.raises(InvalidParameterError) as err:
        cs.incidence_rate(lung, time="years", event="death", standardize=spec)
    msg = str(err.value)
    assert msg.startswith("The 'standardize' parameter of incidence_rate must be None or a dict")
    assert "{'by': <column>, 'weights': {level: weight, ...}}" in msg


def test_level_without_weight_names_column_and_levels(lung):
    spec = {"by": "age_group", "weights": {"<60": 1, "60-69": 1}}
    with pytest.raises(
        DataError, match=r"column 'age_group' has level\(s\) without a standard weight: \['70\+'\]"
    ):
        cs.incidence_rate(lung, time="years", event="death", standardize=spec)


def test_stratum_without_person_time_names_group_and_stratum(lung):
    spec = {"by": "age_group", "weights": {"<60": 1, "60-69": 1, "70+": 1}}
    data = lung[~((lung["sex"] == "female") & (lung["age_group"] == "70+"))]
    with pytest.raises(DataError) as err:
        cs.incidence_rate(data, time="years", event="death", by="sex", standardize=spec)
    msg = str(err.value)
    assert (
        "group {'sex': 'female'} has no person-time in stratum/strata ['70+'] of 'age_group'" in msg
    )
    assert "Merge strata, give them weight 0" in msg
    # with weight 0 that stratum is not needed
    spec0 = {"by": "age_group", "weights": {"<60": 1, "60-69": 1, "70+": 0}}
    res = cs.incidence_rate(data, time="years", event="death", by="sex", standardize=spec0)
    assert res.tidy()["sex"].tolist() == ["female", "male"]


def test_band_without_person_time_in_a_stratum_is_named(sim, rref):
    std = {"by": "age_group", "weights": rref["sim_weights"]}
    with pytest.raises(DataError) as err:
        cs.incidence_rate(sim, time="time", event="status", by="arm", bands=[11.9], standardize=std)
    assert (
        "group {'arm': 'C', 'band': '≥11.9'} has no person-time in stratum/strata "
        "['18-39', '75+'] of 'age_group'" in str(err.value)
    )


def test_standardising_column_checks(lung):
    w = {"<60": 1, "60-69": 1, "70+": 1}
    with pytest.raises(SchemaError, match="age_grp"):
        cs.incidence_rate(
            lung, time="years", event="death", standardize={"by": "age_grp", "weights": w}
        )
    with pytest.raises(InvalidParameterError, match="must name a column other than the grouping"):
        cs.incidence_rate(
            lung,
            time="years",
            event="death",
            by="age_group",
            standardize={"by": "age_group", "weights": w},
        )
    holes = lung.assign(age_group=lung["age_group"].where(lung.index != 3))
    with pytest.raises(
        DataError, match=r"standardize\['by'\]: column 'age_group' has 1 missing value"
    ):
        cs.incidence_rate(
            holes, time="years", event="death", standardize={"by": "age_group", "weights": w}
        )
