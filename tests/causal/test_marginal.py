"""cs.marginal_risks: risk difference and ratio at fixed times from two curves.

The curves are R's weighted survfit fits (IJ standard errors) from the reference; the
numbers R computed from them (marginal_effects_sim) must come back exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats._errors import DataError, InvalidParameterError, SchemaError
from calcstats.results import CumulativeIncidenceResult, KaplanMeierResult

PAIRS = [
    ("risk_treated", "risk_treated"),
    ("se_treated", "se_treated"),
    ("risk_control", "risk_control"),
    ("se_control", "se_control"),
    ("risk_difference", "rd"),
    ("rd_std_error", "se_rd"),
    ("rd_conf_low", "rd_lower"),
    ("rd_conf_high", "rd_upper"),
    ("risk_ratio", "rr"),
    ("log_rr_std_error", "se_log_rr"),
    ("rr_conf_low", "rr_lower"),
    ("rr_conf_high", "rr_upper"),
]


def _curve(cls, table, estimate, se, **kw):
    t = pd.DataFrame(table)
    curve = pd.DataFrame(
        {
            "_group": t["treat"].astype(int),
            "time": t["time"],
            "n_risk": t["n_risk"],
            "n_event": 0.0,
            "n_censor": 0.0,
            "estimate": t[estimate],
            "std_error": t[se],
            "conf_low": np.nan,
            "conf_high": np.nan,
        }
    )
    return cls(
        curve,
        groups=pd.DataFrame({"treat": [0, 1]}),
        by=["treat"],
        conf_type="log",
        conf_level=0.95,
        n=np.array([315.0, 285.0]),
        n_events=np.zeros(2),
        time_column="time",
        event_column="status",
        weighted=True,
        **kw,
    )


@pytest.fixture
def r_km(ref):
    return _curve(KaplanMeierResult, ref["km_weighted_sim"]["table"], "surv", "std_err")


@pytest.fixture
def r_cif(ref):
    return _curve(
        CumulativeIncidenceResult, ref["aj_weighted_sim"]["table"], "pstate_1", "std_err_1", cause=1
    )


@pytest.mark.parametrize(("which", "rows"), [("r_km", slice(0, 2)), ("r_cif", slice(2, 4))])
def test_risk_difference_and_ratio_equal_r(which, rows, ref, request):
    curve = request.getfixturevalue(which)
    r = pd.DataFrame(ref["marginal_effects_sim"]["table"]).iloc[rows].reset_index(drop=True)
    res = cs.marginal_risks(curve, times=[2, 5])
    tidy = res.tidy()
    assert tidy["time"].tolist() == [2.0, 5.0]
    for ours, theirs in PAIRS:
        np.testing.assert_allclose(tidy[ours], r[theirs].to_numpy(float), rtol=1e-12, err_msg=ours)
    assert res.measure == ("1 − survival" if which == "r_km" else "cumulative incidence")


def test_inline_prints_percentage_points_and_the_ratio(r_cif):
    res = cs.marginal_risks(r_cif, times=[2, 5])
    assert res.inline(5) == (
        "RD -12.4 (95% CI -21.2 to -3.6) percentage points; RR 0.74 (95% CI 0.59–0.92)"
    )
    with pytest.raises(DataError, match="not among"):
        res.inline(3)


def test_swapping_groups_flips_the_difference_and_inverts_the_ratio(r_km):
    a = cs.marginal_risks(r_km, times=5).tidy().iloc[0]
    b = cs.marginal_risks(r_km, times=5, treated=0, control=1).tidy().iloc[0]
    assert b["risk_difference"] == pytest.approx(-a["risk_difference"])
    assert b["risk_ratio"] == pytest.approx(1 / a["risk_ratio"])
    assert b["log_rr_std_error"] == pytest.approx(a["log_rr_std_error"])


def test_conf_level_widens_the_intervals(r_km):
    a = cs.marginal_risks(r_km, times=5).tidy().iloc[0]
    b = cs.marginal_risks(r_km, times=5, conf_level=0.99).tidy().iloc[0]
    assert b["rd_conf_high"] - b["rd_conf_low"] > a["rd_conf_high"] - a["rd_conf_low"]


def test_bad_input(r_km):
    with pytest.raises(DataError, match=r"treated=2 is not a group of 'treat'"):
        cs.marginal_risks(r_km, times=5, treated=2)
    with pytest.raises(SchemaError, match="needs a curve result"):
        cs.marginal_risks(pd.DataFrame(), times=5)
    with pytest.raises(InvalidParameterError, match="'times' parameter of marginal_risks"):
        cs.marginal_risks(r_km, times="five")
    one = KaplanMeierResult(
        pd.DataFrame(
            {
                "_group": [0],
                "time": [1.0],
                "n_risk": [2.0],
                "n_event": [1.0],
                "n_censor": [0.0],
                "estimate": [0.5],
                "std_error": [0.3],
                "conf_low": [0.1],
                "conf_high": [0.9],
            }
        ),
        groups=pd.DataFrame(index=[0]),
        by=[],
        conf_type="log",
        conf_level=0.95,
        n=np.array([2.0]),
        n_events=np.array([1.0]),
        time_column="t",
        event_column="e",
    )
    with pytest.raises(SchemaError, match="exactly one grouping column"):
        cs.marginal_risks(one, times=1)
