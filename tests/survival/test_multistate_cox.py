"""multistate_cox against R's multi-state coxph (tests/reference/multistate.R) and from the
user's side: shared and transition-specific effects, robust SEs equal to per-transition
cox(cluster=), non-estimable terms, input errors. Predictions: test_multistate_predict.py."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats._errors import ConvergenceWarning, DataError, DataWarning, SchemaError
from tests.survival.conftest import REFERENCE

DATA = REFERENCE / "multistate_data"
# R column names -> ours (treatment coding named by patsy)
COLUMN = {"sexM": "sex[T.M]", "trtB": "trt[T.B]", "sexm": "sex[T.m]"}
SETS = {
    "mgus2": (
        "mgus2_ms.csv",
        "age + sex + mspike",
        {"age": ["mgus -> death", "pcm -> death"]},
        ("age + sex", {"mspike": ["mgus -> pcm"]}),
    ),
    "myeloid": (
        "myeloid_ms.csv",
        "trt + sex",
        {"trt": ["entry -> death", "CR -> death", "SCT -> death", "relapse -> death"]},
        ("trt", {"sex": "entry -> CR"}),
    ),
    "illness_death_sim": (
        "illness_death_sim.csv",
        "x + z",
        {"x": [("healthy", "dead"), ("ill", "dead")]},
        ("x", {"z": ["healthy -> ill"]}),
    ),
}
VARIANTS = ("unshared", "unshared_breslow", "shared_common", "single_transition_covariate")


@pytest.fixture(scope="module")
def R() -> dict:
    return json.loads((REFERENCE / "multistate.json").read_text())


def load(name: str) -> pd.DataFrame:
    d = pd.read_csv(DATA / SETS[name][0])
    return d[d["mspike"].notna()] if name == "mgus2" else d


def fit_variant(name: str, variant: str) -> cs.MultiStateCoxResult:
    _, rhs, shared, (rhs2, specific) = SETS[name]
    d = load(name)
    if variant == "unshared":
        return cs.multistate_cox(d, rhs)
    if variant == "unshared_breslow":
        return cs.multistate_cox(d, rhs, ties="breslow")
    if variant == "shared_common":
        return cs.multistate_cox(d, rhs, shared=shared)
    return cs.multistate_cox(d, rhs2, specific=specific)


def r_names(ref: dict) -> list[str]:
    """Our coefficient names in R's coefficient order (from R's cmap)."""
    states = ref["states"]
    cmap = ref["cmap"]
    owners: dict[int, list[tuple[str, str]]] = {}
    for j, col in enumerate(cmap["colnames"]):
        a, b = (states[int(i) - 1] for i in col.split(":"))
        for i, cov in enumerate(cmap["rownames"]):
            k = int(cmap["matrix"][i][j])
            if k > 0:
                owners.setdefault(k, []).append((f"{a} -> {b}", COLUMN.get(cov, cov)))
    return [" + ".join(t for t, _ in owners[k]) + f": {owners[k][0][1]}" for k in sorted(owners)]


@pytest.mark.parametrize("name", list(SETS))
@pytest.mark.parametrize("variant", VARIANTS)
def test_coefficients_and_robust_ses_match_coxph(R, name, variant):
    ref = R[name]["coxph"][variant]
    fit = fit_variant(name, variant)
    names = r_names(ref)
    assert sorted(names) == sorted(fit.params.index)
    # myeloid SCT -> CR (11 events): R's Newton-Raphson stops 1.6e-7 from the optimum
    tol = 1e-6 if name == "myeloid" else 1e-8
    np.testing.assert_allclose(fit.params[names], ref["coef"], atol=tol, rtol=0)
    np.testing.assert_allclose(fit.bse[names], ref["se.robust"], atol=tol, rtol=0)
    np.testing.assert_allclose(fit.naive_bse[names], ref["se.naive"], atol=tol, rtol=0)
    np.testing.assert_allclose(fit.cov.loc[names, names], np.array(ref["var"]), atol=tol, rtol=0)
    assert fit.loglik == pytest.approx(ref["loglik"][1], abs=1e-8)
    assert fit.n_events == ref["nevent"]
    assert fit.ties == ("breslow" if variant == "unshared_breslow" else "efron")


@pytest.mark.parametrize("name", list(SETS))
def test_equal_to_per_transition_cox_with_patient_clusters(R, name):
    d = load(name)
    rhs = SETS[name][1]
    fit = cs.multistate_cox(d, rhs)
    td = fit.tidy(exponentiate=False)
    for tr in fit.transitions:
        a, b = tr.split(" -> ")
        sub = d.loc[d["from_state"] == a].assign(
            status=lambda x, b=b: (x["to_state"] == b).astype(int)
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            one = cs.cox(
                sub, rhs, time="stop", start="start", event="status", cluster="patient_id"
            ).tidy(exponentiate=False)
        mine = td.loc[td["transition"] == tr].set_index("term")
        np.testing.assert_allclose(
            mine.loc[one["term"], "estimate"], one["estimate"], atol=1e-6, rtol=0
        )
        np.testing.assert_allclose(
            mine.loc[one["term"], "std_error"], one["std_error"], atol=1e-6, rtol=0
        )
    # and R's own per-transition fits agree with R's joint fit (recorded in the JSON)
    per = R[name]["coxph"]["per_transition_cluster_efron"]
    assert max(f["maxdiff_se.robust_vs_ms"] for f in per["fits"]) < 1e-6


def test_tidy_glance_terms_and_coef_matrix():
    fit = fit_variant("mgus2", "shared_common")
    td = fit.tidy()
    assert list(td.columns[:2]) == ["transition", "term"]
    shared = td.loc[td["transition"] == "mgus -> death + pcm -> death"]
    assert shared["term"].tolist() == ["age"]
    assert (td["estimate"] > 0).all()  # hazard ratios by default
    g = fit.glance().iloc[0]
    assert g["n_patients"] == 1373 and g["n_transitions"] == 3 and g["robust"]
    assert g["converged"] and g["ties"] == "efron"
    cm = fit.coef_matrix()
    assert cm.loc["age", "mgus -> death"] == cm.loc["age", "pcm -> death"]
    assert np.isnan(cm.loc["mspike", "mgus -> pcm"]) is np.False_
    tt = fit.term_tests()
    assert "mgus -> pcm: sex" in set(tt["term"])
    assert "Multi-state Cox model" in fit.method
    assert "HR" in fit.inline("mgus -> pcm: mspike")


def test_transitions_subset_and_specific_only_model():
    d = load("illness_death_sim")
    fit = cs.multistate_cox(d, "x", transitions=["healthy -> ill"])
    assert fit.transitions == ["healthy -> ill"]
    one = cs.multistate_cox(d, "1", specific={"z": ["ill -> dead"]})
    assert list(one.params.index) == ["ill -> dead: z"]
    with pytest.raises(cs.CalcstatsError, match="leaves out the observed transition"):
        fit.predict_probabilities({"x": 1})


def test_nonestimable_terms_are_reported_not_dropped():
    d = load("illness_death_sim")
    d = d.assign(flag=np.where((d["from_state"] == "ill"), 0, d["x"]))
    with pytest.warns(DataWarning, match="cannot be estimated"):
        fit = cs.multistate_cox(d, "flag + z")
    assert "ill -> dead: flag" in fit.nonestimable
    row = fit.tidy().set_index(["transition", "term"]).loc[("ill -> dead", "flag")]
    assert np.isnan(row["estimate"]) and not fit.converged
    assert np.isfinite(fit.tidy()["estimate"]).sum() == len(fit.params) - 1
    with pytest.raises(cs.CalcstatsError, match="non-estimable"):
        fit.predict_probabilities({"flag": 0, "z": 0})


def test_patients_with_missing_covariates_are_left_out_whole():
    d = pd.read_csv(DATA / "mgus2_ms.csv")
    with pytest.warns(DataWarning, match=r"11 patient\(s\) \(11 rows\) left out.*mspike"):
        fit = cs.multistate_cox(d, "age + sex + mspike")
    assert fit.n_patients == 1373


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"transitions": ["ill -> healthy"]}, DataError, "no ill -> healthy transition"),
        ({"transitions": ["healthy => ill"]}, DataError, "not a transition"),
        ({"transitions": ["healthy -> sick"]}, DataError, "'sick' is not a state"),
        ({"shared": {"age": ["healthy -> dead", "ill -> dead"]}}, DataError, "'age' is not a term"),
        (
            {
                "shared": {"x": ["healthy -> dead", "ill -> dead"]},
                "transitions": ["healthy -> dead"],
            },
            DataError,
            "not a modelled transition",
        ),
        ({"specific": {"z": ["healthy -> ill"]}}, DataError, "both in the formula"),
        ({"ties": "exact"}, cs.InvalidParameterError, "ties"),
    ],
)
def test_bad_specifications(kwargs, error, match):
    d = load("illness_death_sim")
    with pytest.raises(error, match=match):
        cs.multistate_cox(d, "x + z", **kwargs)


def test_formula_is_required():
    with pytest.raises(SchemaError, match="right-hand side"):
        cs.multistate_cox(load("illness_death_sim"), "")
