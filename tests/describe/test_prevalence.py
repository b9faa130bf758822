"""prevalence() against R binom.test / prop.test / qbeta / epitools::ageadjust.direct."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats._errors import DataError, InvalidParameterError, SchemaError
from calcstats.results import EstimateResult

REL = 1e-6  # closed forms: 1e-6 relative


@pytest.mark.parametrize("method", ["wilson", "exact", "jeffreys"])
def test_overall_matches_r(pbc, ref, method):
    res = cs.prevalence(pbc, outcome="edema_any", method=method).tidy()
    r = ref["prev_overall"]
    assert list(res.columns) == ["n", "cases", "estimate", "conf_low", "conf_high"]
    assert res["n"][0] == r["n"] and res["cases"][0] == r["x"]
    assert res["estimate"][0] == pytest.approx(r["x"] / r["n"], rel=REL)
    assert [res["conf_low"][0], res["conf_high"][0]] == pytest.approx(r[method], rel=REL)


@pytest.mark.parametrize("method", ["wilson", "exact", "jeffreys"])
def test_conf_level_90(pbc, ref, method):
    res = cs.prevalence(pbc, outcome="edema_any", method=method, conf_level=0.9).tidy()
    assert [res["conf_low"][0], res["conf_high"][0]] == pytest.approx(
        ref["prev_overall_90"][method], rel=REL
    )


def test_by_sex_matches_r(pbc, ref):
    res = cs.prevalence(pbc, outcome="edema_any", by="sex", method="exact").tidy()
    assert list(res["sex"]) == ["f", "m"]
    for _, row in res.iterrows():
        r = ref["prev_by_sex"][row["sex"]]
        assert (row["n"], row["cases"]) == (r["n"], r["x"])
        assert [row["conf_low"], row["conf_high"]] == pytest.approx(r["exact"], rel=REL)


@pytest.mark.parametrize("case,x,n", [("zero", 0, 20), ("all", 20, 20), ("small", 3, 7)])
@pytest.mark.parametrize("method", ["wilson", "exact", "jeffreys"])
def test_edge_counts(ref, case, x, n, method):
    df = pd.DataFrame({"y": [1] * x + [0] * (n - x)})
    res = cs.prevalence(df, outcome="y", method=method).tidy()
    # absolute tolerance for the exact 0 / 1 limits
    assert [res["conf_low"][0], res["conf_high"][0]] == pytest.approx(
        ref["prev_edge"][case][method], rel=REL, abs=1e-12
    )


def test_bool_outcome_and_ordered_groups():
    df = pd.DataFrame(
        {
            "y": [True, False, True, True, False, False],
            "g": pd.Categorical(
                ["hi", "lo", "hi", "mid", "lo", "mid"], categories=["lo", "mid", "hi"], ordered=True
            ),
        }
    )
    res = cs.prevalence(df, outcome="y", by="g").tidy()
    assert list(res["g"]) == ["lo", "mid", "hi"]
    assert list(res["cases"]) == [0, 1, 2]


def test_empty_group_is_an_error(pbc):
    df = pbc.assign(grp=pd.Categorical(pbc["sex"], categories=["f", "m", "x"]))
    with pytest.raises(DataError, match="empty group"):
        cs.prevalence(df, outcome="edema_any", by="grp")
    with pytest.raises(DataError, match="empty group"):
        cs.table_one(df, by="grp", variables=["age"])


def test_standardized_matches_epitools(trial, ref):
    tr = trial.assign(
        agegrp=pd.cut(
            trial["age"], [0, 50, 60, np.inf], right=False, labels=["<50", "50-59", "60+"]
        ).astype(str)
    )
    res = cs.prevalence(
        tr,
        outcome="edema_any",
        by="trt",
        standardize={"by": "agegrp", "weights": ref["prev_std_weights"]},
    ).tidy()
    for _, row in res.iterrows():
        r = ref["prev_std"][str(int(row["trt"]))]
        assert (row["n"], row["cases"]) == (r["n"], r["cases"])
        assert [row["estimate"], row["conf_low"], row["conf_high"]] == pytest.approx(
            [r["estimate"], r["lower"], r["upper"]], rel=REL
        )


def test_standardized_equals_crude_when_one_stratum(pbc):
    df = pbc.assign(one="all")
    res = cs.prevalence(
        df, outcome="edema_any", standardize={"by": "one", "weights": {"all": 1}}
    ).tidy()
    assert res["estimate"][0] == pytest.approx(64 / 418, rel=1e-12)


def test_standardize_errors(pbc):
    with pytest.raises(DataError, match="without a standard weight"):
        cs.prevalence(pbc, outcome="edema_any", standardize={"by": "sex", "weights": {"f": 1}})
    with pytest.raises(
        InvalidParameterError,
        match=(
            r"^The 'standardize' parameter of prevalence must be a dict \{'by': <column>, "
            r"'weights': \{level: weight, \.\.\.\}\} or None\. Got \{'column': 'sex'\}\.$"
        ),
    ):
        cs.prevalence(pbc, outcome="edema_any", standardize={"column": "sex"})
    with pytest.raises(InvalidParameterError, match="other than the `by` columns"):
        cs.prevalence(
            pbc,
            outcome="edema_any",
            by="sex",
            standardize={"by": "sex", "weights": {"f": 1, "m": 1}},
        )


def test_input_errors(pbc):
    with pytest.raises(SchemaError, match="Did you mean 'edema_any'"):
        cs.prevalence(pbc, outcome="edema_anyy")
    with pytest.raises(DataError, match="must be binary"):
        cs.prevalence(pbc, outcome="edema")
    with pytest.raises(DataError, match="missing value"):
        cs.prevalence(pbc, outcome="ascites")
    with pytest.raises(
        InvalidParameterError,
        match=(
            r"^The 'method' parameter of prevalence must be one of 'wilson', 'exact', "
            r"'jeffreys'\. Got 'agresti'\.$"
        ),
    ):
        cs.prevalence(pbc, outcome="edema_any", method="agresti")
    with pytest.raises(InvalidParameterError, match=r"'conf_level'.*Use 0\.95, not 95\."):
        cs.prevalence(pbc, outcome="edema_any", conf_level=95)
    with pytest.raises(DataError, match="empty"):
        cs.prevalence(pbc.iloc[:0], outcome="edema_any")
    with pytest.raises(DataError, match="missing value"):
        cs.prevalence(pbc, outcome="edema_any", by="trt")
    with pytest.raises(
        InvalidParameterError,
        match=(
            r"^The 'suppress_below' parameter of prevalence must be an integer >= 2 or "
            r"None\. Got 1\.$"
        ),
    ):
        cs.prevalence(pbc, outcome="edema_any", suppress_below=1)
    with pytest.raises(
        InvalidParameterError, match="The 'outcome' parameter of prevalence must be a column name"
    ):
        cs.prevalence(pbc, outcome=["edema_any"])
    with pytest.raises(InvalidParameterError, match="The 'labels' parameter must be"):
        cs.prevalence(pbc, outcome="edema_any", labels="Edema")


def test_result_type_and_typed_fields(pbc, ref):
    lab = cs.Labels(variables={"edema_any": "Any oedema"})
    res = cs.prevalence(
        pbc, outcome="edema_any", by="sex", method="jeffreys", suppress_below=5, labels=lab
    )
    assert isinstance(res, cs.PrevalenceResult) and isinstance(res, EstimateResult)
    assert (res.outcome, res.interval, res.standardize) == ("edema_any", "jeffreys", None)
    assert (res.by, res.conf_level, res.suppress_below) == (["sex"], 0.95, 5)
    assert res.labels is lab
    assert res.method == "Prevalence of edema_any with 95% Jeffreys interval."
    std = cs.prevalence(
        pbc.assign(one="all"), outcome="edema_any", standardize={"by": "one", "weights": {"all": 1}}
    )
    assert (std.interval, std.standardize) == ("fay-feuer", "one")


def test_row_order_invariance(pbc):
    a = cs.prevalence(pbc, outcome="edema_any", by="sex").tidy()
    b = cs.prevalence(pbc.sample(frac=1, random_state=3), outcome="edema_any", by="sex").tidy()
    pd.testing.assert_frame_equal(a, b)
