"""IPTW-weighted curves, restricted means and marginal effects against R (weighting.json).

R: survfit(Surv(time, status == 1) ~ treat, weights = w, id = id, robust = TRUE) for the
weighted Kaplan–Meier (infinitesimal-jackknife SE on the survival scale), the weighted
Aalen–Johansen (survfit with factor(status)), RMST IJ SE = sqrt(sum(residuals(fit, "rmst",
weighted = TRUE)^2)), and risk differences / ratios from them (weighting.R).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import calcstats as cs

REF = Path(__file__).resolve().parents[1] / "reference"
TOL = 1e-6  # relative; R's numbers are printed to 15 significant digits


@pytest.fixture(scope="module")
def ref() -> dict:
    return json.loads((REF / "weighting.json").read_text())


@pytest.fixture(scope="module")
def sim(ref) -> pd.DataFrame:
    d = pd.read_csv(REF / "weighting_data" / "confounded_sim.csv")
    w = pd.DataFrame({"id": ref["weights_sim"]["id"], "w": ref["weights_sim"]["ATE"]})
    return d.merge(w, on="id", validate="one_to_one")


def _rows(frame: pd.DataFrame, treat: int) -> pd.DataFrame:
    return frame[frame["treat"] == treat].reset_index(drop=True)


def test_weighted_kaplan_meier_matches_survfit_robust(sim, ref):
    km = cs.kaplan_meier(
        sim, time="time", event="status", cause=1, by="treat", weights="w", conf_type="log"
    )
    r = pd.DataFrame(ref["km_weighted_sim"]["table"])
    got = km.tidy()
    for treat in (0, 1):
        g, e = _rows(got, treat), _rows(r, treat)
        np.testing.assert_allclose(g["time"], e["time"], rtol=TOL)
        np.testing.assert_allclose(g["estimate"], e["surv"], rtol=TOL)
        np.testing.assert_allclose(g["std_error"], e["std_err"], rtol=TOL, atol=1e-12)
        np.testing.assert_allclose(g["conf_low"], e["lower_log"], rtol=TOL)
        # as R: numbers at risk and events are weight sums
        np.testing.assert_allclose(g["n_risk"], e["n_risk"], rtol=TOL)
        np.testing.assert_allclose(g["n_event"], e["n_event"], rtol=TOL, atol=1e-12)
    ll = cs.kaplan_meier(sim, time="time", event="status", cause=1, by="treat", weights="w")
    np.testing.assert_allclose(ll.tidy()["conf_low"], r["lower_loglog"], rtol=TOL)


def test_weighted_cumulative_incidence_matches_survfit(sim, ref):
    cif = cs.cumulative_incidence(
        sim, time="time", event="status", cause=1, by="treat", weights="w", conf_type="log"
    )
    r = pd.DataFrame(ref["aj_weighted_sim"]["table"])
    got = cif.tidy()
    for treat in (0, 1):
        g, e = _rows(got, treat), _rows(r, treat)
        np.testing.assert_allclose(g["estimate"], e["pstate_1"], rtol=TOL, atol=1e-12)
        np.testing.assert_allclose(g["std_error"], e["std_err_1"], rtol=TOL, atol=1e-12)
        ok = e["lower_1"].notna().to_numpy()
        np.testing.assert_allclose(g["conf_low"][ok], e["lower_1"][ok], rtol=TOL)


def test_weighted_rmst_uses_the_infinitesimal_jackknife_se(sim, ref):
    r = pd.DataFrame(ref["rmst_weighted_sim"]["table"])
    diff = pd.DataFrame(ref["rmst_weighted_sim"]["difference_treated_minus_control"])
    for tau in ref["rmst_weighted_sim"]["taus"]:
        res = cs.rmst(sim, time="time", event="status", cause=1, by="treat", tau=tau, weights="w")
        got = res.tidy().set_index("treat")
        exp = r[r["tau"] == tau].set_index("treat")
        np.testing.assert_allclose(got["estimate"], exp["rmean"], rtol=TOL)
        # not print.survfit's Greenwood-type se(rmean), which treats weights as counts
        np.testing.assert_allclose(
            got["std_error"], exp["se_IJ_sqrt_sum_weighted_resid_sq"], rtol=TOL
        )
        con = res.contrast(reference=0).tidy().iloc[0]
        d = diff[diff["tau"] == tau].iloc[0]
        assert con["estimate"] == pytest.approx(d["diff"], rel=TOL)
        assert con["std_error"] == pytest.approx(d["se"], rel=TOL)


def test_marginal_risk_difference_and_ratio_from_weighted_curves(sim, ref):
    r = pd.DataFrame(ref["marginal_effects_sim"]["table"])
    km = cs.kaplan_meier(sim, time="time", event="status", cause=1, by="treat", weights="w")
    cif = cs.cumulative_incidence(
        sim, time="time", event="status", cause=1, by="treat", weights="w"
    )
    for curve, source in ((km, "KM"), (cif, "Aalen")):
        exp = r[r["source"].str.contains(source)].reset_index(drop=True)
        got = cs.marginal_risks(curve, times=exp["time"].tolist(), treated=1, control=0).tidy()
        for col, ecol in (
            ("risk_treated", "risk_treated"),
            ("risk_control", "risk_control"),
            ("risk_difference", "rd"),
            ("rd_conf_low", "rd_lower"),
            ("risk_ratio", "rr"),
            ("rr_conf_high", "rr_upper"),
        ):
            np.testing.assert_allclose(got[col], exp[ecol], rtol=TOL, err_msg=col)


def test_weights_change_the_curve_as_r_says(sim, ref):
    plain = cs.kaplan_meier(sim, time="time", event="status", cause=1, by="treat")
    weighted = cs.kaplan_meier(sim, time="time", event="status", cause=1, by="treat", weights="w")
    r = pd.DataFrame(ref["km_weighted_sim"]["table"])
    assert not np.allclose(plain.tidy()["estimate"], weighted.tidy()["estimate"])
    np.testing.assert_allclose(weighted.tidy()["estimate"], r["surv"], rtol=TOL)
