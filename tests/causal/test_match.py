"""cs.match: greedy nearest-neighbour matching on logit(PS), against plain R code on lalonde.

The reference is the plain-R function ``greedy_match`` of tests/reference/weighting.R, not
MatchIt 4.5.1, whose caliper is broken (MatchIt issue #163; see the module docstring)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats._errors import DataError, InvalidParameterError, SchemaError

from .causal_data import LALONDE_COVS, LALONDE_PS, num

RUNS = [
    ("plain_R_caliper", {}),
    ("plain_R_no_caliper", {"caliper": None}),
    ("plain_R_ratio2_no_caliper", {"caliper": None, "ratio": 2}),
    ("plain_R_ratio2_caliper", {"ratio": 2}),
]
BALANCE = [
    ("smd_unweighted", "smd_full"),
    ("smd_weighted", "smd_matched"),
    ("variance_ratio_unweighted", "vr_full"),
    ("variance_ratio_weighted", "vr_matched"),
    ("mean_treated_weighted", "mean_treated_matched"),
    ("mean_control_weighted", "mean_control_matched"),
    ("sd_denominator", "sd_denominator_full_sample"),
]


@pytest.fixture(scope="module")
def lalonde_att(lalonde_data, fit_ps):
    return fit_ps(lalonde_data, LALONDE_PS, "ATT")


def _ids(m, data):
    p = m.pairs.copy()
    p["tid"] = data.loc[p["treated"], "id"].to_numpy()
    p["cid"] = data.loc[p["control"], "id"].to_numpy()
    return p


@pytest.mark.parametrize(("key", "kwargs"), RUNS)
def test_matches_and_post_match_balance_equal_plain_r(key, kwargs, ref, lalonde, lalonde_att):
    r = ref["matching_lalonde"][key]
    m = cs.match(lalonde, lalonde_att, id="id", **kwargs)
    assert (m.n_treated_matched, m.n_treated_unmatched, m.n_controls_matched) == (
        r["n_treated_matched"],
        r["n_treated_unmatched"],
        r["n_controls_matched"],
    )
    p = _ids(m, lalonde)
    first = p[p["round"] == 1].set_index("tid")
    assert first["distance"].max() == pytest.approx(r["max_abs_logit_dist_first_match"], rel=1e-12)
    if "pairs" in r:
        rp = pd.DataFrame(r["pairs"])
        ours = first["cid"].reindex(rp["treated_id"]).to_numpy(dtype=float)
        np.testing.assert_array_equal(ours, num(rp["control_id"]))
        np.testing.assert_allclose(
            first["distance"].reindex(rp["treated_id"]).to_numpy(float),
            num(rp["abs_logit_dist"]),
            rtol=1e-10,
        )
    else:
        rm = pd.DataFrame(r["matches"])
        for k in (1, 2):
            ours = p[p["round"] == k].set_index("tid")["cid"].reindex(rm["treated_id"])
            np.testing.assert_array_equal(ours.to_numpy(dtype=float), num(rm[f"control{k}_id"]))
    bal = m.balance(LALONDE_COVS).tidy()
    rb = pd.DataFrame(r["balance_ATT"])
    assert bal["variable"].tolist() == rb["variable"].tolist()
    for ours, theirs in BALANCE:
        np.testing.assert_allclose(
            bal[ours].to_numpy(float), num(rb[theirs]), rtol=1e-11, atol=1e-12, err_msg=ours
        )


def test_caliper_width_is_in_sds_of_the_logit_over_all_units(ref, lalonde, lalonde_att):
    r = ref["matching_lalonde"]
    m = cs.match(lalonde, lalonde_att)
    assert m.sd_logit == pytest.approx(r["caliper_sd_logit_ps"], rel=1e-12)
    assert m.caliper_width == pytest.approx(r["caliper_width"], rel=1e-12)
    assert m.pairs["distance"].max() <= m.caliper_width
    assert "caliper 0.2 SD of the logit score" in m.method
    assert cs.match(lalonde, lalonde_att, caliper=0.1).caliper_width == pytest.approx(
        r["caliper_width"] / 2
    )


def test_unmatched_units_are_recorded_in_the_flow(lalonde, lalonde_att):
    m = cs.match(lalonde, lalonde_att, id="id")
    f = m.flow.to_frame()
    assert f["reason"].tolist() == [
        "Units before matching",
        "Treated without a control within the caliper",
        "Controls not matched",
    ]
    assert f["n_excluded"].tolist() == [0, 68, 429 - 117]
    assert m.flow.n_out == 2 * 117
    unmatched = set(f.loc[1, "excluded_ids"])
    treated_ids = set(lalonde.loc[lalonde["treat"] == 1, "id"].astype(str))
    matched_ids = set(lalonde.loc[m.pairs["treated"], "id"].astype(str))
    assert unmatched == treated_ids - matched_ids
    assert m.tidy().set_index("group").loc["treated", "n_unmatched"] == 68


def test_matched_data_has_pair_ids_and_weights(lalonde, lalonde_att):
    m = cs.match(lalonde, lalonde_att, ratio=2)
    d = m.data
    assert {"pair_id", "match_weight"} <= set(d.columns)
    first = d.groupby("pair_id").head(1)
    assert (first["treat"] == 1).all() and (first["match_weight"] == 1).all()
    ctrl = d[d["treat"] == 0]
    sizes = ctrl.groupby("pair_id").size()
    assert np.allclose(ctrl["match_weight"], 1 / ctrl["pair_id"].map(sizes))
    assert d["pair_id"].nunique() == m.n_treated_matched
    # weights over the full data: the matched sample's, zero elsewhere
    assert m.weights.sum() == pytest.approx(2 * m.n_treated_matched)
    assert m.weights[lalonde["treat"] == 0].max() <= 1.0


def _brute_nearest(lp, t, k):
    """Per treated (data order): k nearest controls by |diff|, ties by data order."""
    co = np.flatnonzero(t == 0)
    out = []
    for i in np.flatnonzero(t == 1):
        d = np.abs(lp[i] - lp[co])
        out.append(co[np.lexsort((co, d))[:k]].tolist())
    return out


@pytest.mark.parametrize("ratio", [1, 3])
def test_with_replacement_every_treated_takes_its_nearest_controls(lalonde, lalonde_att, ratio):
    m = cs.match(lalonde, lalonde_att, caliper=None, replace=True, ratio=ratio)
    lp = lalonde_att.linear_predictor.to_numpy()
    t = lalonde["treat"].to_numpy()
    expected = _brute_nearest(lp, t, ratio)
    got = m.pairs.groupby("treated", sort=True)["control"].apply(list).tolist()
    assert got == expected
    reused = m.pairs["control"].value_counts()
    assert reused.max() > 1  # lalonde's treated crowd around few controls
    assert m.weights[reused.index[0]] == pytest.approx(reused.iloc[0] / ratio)


def test_ties_go_to_the_first_control_in_data_order():
    d = pd.DataFrame({"t": [1, 0, 0, 0, 1], "ps": [0.5, 0.6, 0.4, 0.6, 0.45]})
    # logit(0.4) and logit(0.6) are equally far from logit(0.5): control 1 comes first
    m = cs.match(d, "ps", treatment="t", caliper=None)
    pairs = dict(zip(m.pairs["treated"], m.pairs["control"], strict=True))
    assert pairs[0] == 1
    assert pairs[4] == 2  # the second treated takes the nearest left over


def test_score_column_gives_the_same_matches_as_the_result(lalonde, lalonde_att):
    a = cs.match(lalonde, lalonde_att)
    b = cs.match(lalonde.assign(e=lalonde_att.scores), "e", treatment="treat")
    pd.testing.assert_frame_equal(a.pairs[["treated", "control"]], b.pairs[["treated", "control"]])


def test_units_without_a_score_are_left_out_and_counted(lalonde):
    d = lalonde.copy()
    d.loc[[0, 300], "educ"] = np.nan
    with pytest.warns(cs.DataWarning):
        ps = cs.propensity(d, LALONDE_PS, estimand="ATT")
    m = cs.match(d, ps, id="id")
    step = m.flow.to_frame().iloc[1]
    assert step["reason"] == "No propensity score" and step["excluded_ids"] == ("1", "301")
    assert m.balance(["age", "race"]).n.sum() == 612


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"ratio": 0}, InvalidParameterError, "'ratio' parameter of match"),
        ({"caliper": -1}, InvalidParameterError, "'caliper' parameter of match"),
        ({"replace": "no"}, InvalidParameterError, "'replace' parameter of match"),
    ],
)
def test_bad_options(lalonde, lalonde_att, kwargs, error, match):
    with pytest.raises(error, match=match):
        cs.match(lalonde, lalonde_att, **kwargs)


def test_bad_inputs_raise_clear_errors(lalonde, lalonde_att, sim):
    with pytest.raises(SchemaError, match="name the treatment column"):
        cs.match(lalonde.assign(e=0.5), "e")
    with pytest.raises(DataError, match="strictly between 0 and 1"):
        cs.match(lalonde.assign(e=1.0), "e", treatment="treat")
    with pytest.raises(DataError, match="other rows"):
        cs.match(sim, lalonde_att)
    with pytest.raises(DataError, match="not unique in 'married'"):
        cs.match(lalonde, lalonde_att, id="married")
    with pytest.raises(SchemaError, match=r"result of cs\.propensity"):
        cs.match(lalonde, 0.5)


def test_love_plot_names_the_matched_samples(lalonde, lalonde_att):
    bal = cs.match(lalonde, lalonde_att).balance(LALONDE_COVS)
    assert bal.adjustment == "matching" and bal.estimand == "ATT"
    fig = cs.plot.love(bal)
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert texts == ["Before matching", "After matching"]
