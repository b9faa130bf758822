"""Cox regression in the engine: one aggregate query per Newton step, the pandas path's
estimates, covariance, likelihoods and tests to 1e-9."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats.engine import EngineLimitError, EngineWarning

from .conftest import assert_same, quiet


def _same_fit(ref, got) -> None:
    assert list(got.params.index) == list(ref.params.index)
    assert got.nonestimable == ref.nonestimable
    ok = [c for c in ref.params.index if c not in ref.nonestimable]
    np.testing.assert_allclose(got.params[ok], ref.params[ok], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got.cov.loc[ok, ok], ref.cov.loc[ok, ok], rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(
        [got.model.loglik, got.model.loglik0, got.model.score_test],
        [ref.model.loglik, ref.model.loglik0, ref.model.score_test],
        rtol=1e-9,
    )
    assert got.model.iterations == ref.model.iterations
    assert (got.nobs, got.n_events, got.method) == (ref.nobs, ref.n_events, ref.method)


@pytest.mark.parametrize(
    ("formula", "kw"),
    [
        ("age_at_index + C(sex)", {}),
        ("age_at_index + log(bmi)", {"ties": "breslow"}),
        ("any_calcification + age_at_index", {"strata": "sex"}),
        ("C(calcification_burden) + I(age_at_index / 10)", {}),
        ("age_at_index + C(etiology) + any_calcification", {}),
    ],
)
def test_cox_equals_pandas(survival_pair, formula, kw):
    ps, es = survival_pair
    ref, w_ref = quiet(cs.cox, ps, formula, time="time", event="status", cause=1, **kw)
    got, w_got = quiet(cs.cox, es, formula, time="time", event="status", cause=1, **kw)
    _same_fit(ref, got)
    assert type(got).__mro__[1] is cs.CoxResult
    assert repr(got).splitlines()[:2] == repr(ref).splitlines()[:2]  # "CoxResult: ...", n
    assert w_got == w_ref  # dropped rows (missing bmi), monotone likelihood
    # the publication table: per-level N and events counted in the engine
    assert_same(ref.to_table().to_frame(), got.to_table().to_frame())
    assert str(ref.to_table()) == str(got.to_table())
    # one aggregate query per log-likelihood evaluation (Newton steps, halvings, polish)
    assert got.model.queries <= got.model.iterations + 3


def test_counting_process_cox(pandas_cohort, duck_cohort):
    ref_t, _ = quiet(pandas_cohort.counting_process_table, "decompensation", competing=("death",))
    got_t, _ = quiet(duck_cohort.counting_process_table, "decompensation", competing=("death",))
    ref = cs.cox(
        ref_t, "calcification + age_at_index", time="stop", start="start", event="status", cause=1
    )
    got = cs.cox(
        got_t, "calcification + age_at_index", time="stop", start="start", event="status", cause=1
    )
    _same_fit(ref, got)


def test_concordance_pulls_rows_with_a_warning(survival_pair):
    ps, es = survival_pair
    ref = cs.cox(ps, "age_at_index + C(sex)", time="time", event="status", cause=1)
    got = cs.cox(es, "age_at_index + C(sex)", time="time", event="status", cause=1)
    with pytest.warns(EngineWarning, match=f"{ref.nobs:,} rows were pulled into pandas"):
        c = got.concordance
    assert c == pytest.approx(ref.concordance, rel=1e-9)
    g_ref, g_got = ref.glance(), got.glance()
    cols = ["lr_statistic", "wald_statistic", "score_statistic", "aic", "log_likelihood"]
    np.testing.assert_allclose(g_got[cols].to_numpy(float), g_ref[cols].to_numpy(float), rtol=1e-9)


def test_concordance_on_a_sample_past_the_pull_limit(survival_pair):
    _, es = survival_pair
    small = es.with_expr(es.full)
    small.options = small.options.__class__.of({"pull_limit": 500, "sample_size": 1000})
    got = cs.cox(small, "age_at_index", time="time", event="status", cause=1)
    with pytest.warns(EngineWarning, match="simple random sample of"):
        assert 0.0 < got.concordance < 1.0


def test_robust_variance_refits_pulled_rows(survival_pair):
    ps, es = survival_pair
    ref = cs.cox(ps, "age_at_index", time="time", event="status", cause=1, cluster="etiology")
    with pytest.warns(EngineWarning, match="cox robust variance: .* pulled"):
        got = cs.cox(es, "age_at_index", time="time", event="status", cause=1, cluster="etiology")
    pd.testing.assert_frame_equal(ref.tidy(), got.tidy())
    limited = es.with_expr(es.full)
    limited.options = limited.options.__class__.of({"pull_limit": 10})
    with pytest.raises(EngineLimitError, match="exceed engine_options pull_limit = 10"):
        cs.cox(limited, "age_at_index", time="time", event="status", cause=1, cluster="etiology")


def test_robust_true_and_robust_false_as_in_pandas(survival_pair):
    ps, es = survival_pair
    kw = {"time": "time", "event": "status", "cause": 1}
    ref = cs.cox(ps, "age_at_index", robust=True, **kw)
    with pytest.warns(EngineWarning, match="cox robust variance"):
        got = cs.cox(es, "age_at_index", robust=True, **kw)
    pd.testing.assert_frame_equal(ref.tidy(), got.tidy())
    assert got.robust and "robust SE" in got.method
    with pytest.raises(cs.InvalidParameterError) as err_ref:
        cs.cox(ps, "age_at_index", robust=False, cluster="etiology", **kw)
    with pytest.raises(cs.InvalidParameterError) as err_got:
        cs.cox(es, "age_at_index", robust=False, cluster="etiology", **kw)
    assert str(err_got.value) == str(err_ref.value)


def test_no_aggregate_form_for_schoenfeld_residuals(survival_pair):
    _, es = survival_pair
    got = cs.cox(es, "age_at_index", time="time", event="status", cause=1)
    with pytest.raises(cs.CalcstatsError, match="no aggregate form"):
        got.check_ph()


def test_untranslatable_term_is_refused(survival_pair):
    _, es = survival_pair
    with pytest.raises(cs.SchemaError, match="stateful transform"):
        cs.cox(es, "cr(age_at_index, df=3)", time="time", event="status", cause=1)


def test_rank_deficient_design_is_refused_as_in_pandas(survival_pair):
    ps, es = survival_pair
    formula = "age_at_index + I(2 * age_at_index + 1)"
    with pytest.raises(cs.DataError, match="rank deficient") as ref:
        cs.cox(ps, formula, time="time", event="status", cause=1)
    with pytest.raises(cs.DataError, match="rank deficient") as got:
        cs.cox(es, formula, time="time", event="status", cause=1)
    assert str(got.value) == str(ref.value)
