"""Logistic and Poisson regression in the engine (IRLS on aggregated cross-products)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats.engine import EngineWarning

from .conftest import assert_same, quiet


def _same(ref, got) -> None:
    assert list(got.params.index) == list(ref.params.index)
    assert got.nonestimable == ref.nonestimable
    ok = [c for c in ref.params.index if c not in ref.nonestimable]
    np.testing.assert_allclose(got.params[ok], ref.params[ok], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got.cov.loc[ok, ok], ref.cov.loc[ok, ok], rtol=1e-9, atol=1e-14)
    assert got.loglik == pytest.approx(ref.loglik, rel=1e-9)
    assert (got.nobs, got.n_events, got.method) == (ref.nobs, ref.n_events, ref.method)
    assert got.model.iterations == ref.model.iterations


@pytest.mark.parametrize(
    "formula",
    [
        "any_calcification ~ age_at_index + C(sex)",
        "any_calcification ~ C(etiology) + bmi",
        "I(n_calcifications > 2) ~ age_at_index + diabetes",
    ],
)
def test_logistic(patient_pair, formula):
    pp, ep = patient_pair
    ref, w_ref = quiet(cs.logistic, pp, formula)
    got, w_got = quiet(cs.logistic, ep, formula)
    _same(ref, got)
    assert isinstance(got, cs.LogisticResult)
    assert repr(got).splitlines()[:2] == repr(ref).splitlines()[:2]
    assert w_got == w_ref
    assert_same(ref.to_table().to_frame(), got.to_table().to_frame())
    lr_ref, lr_got = ref.term_tests(method="lr"), got.term_tests(method="lr")
    np.testing.assert_allclose(lr_got["statistic"], lr_ref["statistic"], rtol=1e-8)
    # the C statistic: the engine ranks each covariate pattern's predictor once, while
    # X @ beta in NumPy can split a tie between identical rows by one ulp
    assert got.glance()["concordance"][0] == pytest.approx(ref.glance()["concordance"][0], abs=1e-6)


@pytest.mark.parametrize(
    "formula", ["ev ~ age_at_index + C(sex)", "ev ~ any_calcification + C(etiology)"]
)
def test_poisson_rates_with_person_time_offset(survival_pair, formula):
    ps, es = survival_pair
    ps = ps.assign(ev=(ps["status"] == 1).astype(int))
    es = es.with_expr(es.full.mutate(ev=(es.full.status == 1).cast("int64")))
    ref, w_ref = quiet(cs.poisson, ps, formula, exposure="time")
    got, w_got = quiet(cs.poisson, es, formula, exposure="time")
    _same(ref, got)
    assert isinstance(got, cs.PoissonResult)
    assert w_got == w_ref
    assert_same(ref.to_table().to_frame(), got.to_table().to_frame())


def test_poisson_counts(patient_pair):
    pp, ep = patient_pair
    _same(
        cs.poisson(pp, "n_calcifications ~ age_at_index + sex"),
        cs.poisson(ep, "n_calcifications ~ age_at_index + sex"),
    )


def test_robust_errors_refit_the_pulled_rows(patient_pair):
    pp, ep = patient_pair
    ref = cs.logistic(pp, "any_calcification ~ age_at_index", robust=True)
    with pytest.warns(EngineWarning, match=f"{len(pp):,} rows were pulled"):
        got = cs.logistic(ep, "any_calcification ~ age_at_index", robust=True)
    pd.testing.assert_frame_equal(ref.tidy(), got.tidy())


def test_firth_refits_the_pulled_rows(patient_pair):
    pp, ep = patient_pair
    formula = "any_calcification ~ age_at_index + C(sex)"
    ref = cs.logistic(pp, formula, method="firth")
    with pytest.warns(EngineWarning, match="logistic\\(method='firth'\\)"):
        got = cs.logistic(ep, formula, method="firth")
    assert type(got) is type(ref)
    pd.testing.assert_frame_equal(ref.tidy(), got.tidy())


def test_outcome_checks_as_in_pandas(patient_pair):
    _, ep = patient_pair
    with pytest.raises(cs.DataError, match=r"must be 0/1 .* found values \[2.0, 3.0, 4.0"):
        cs.logistic(ep, "n_calcifications ~ age_at_index")
