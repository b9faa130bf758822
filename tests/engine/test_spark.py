"""The same calls on an ibis pyspark connection over a local SparkSession.

One cohort (the example cohort with a few corrupted rows, as Spark temporary views) is read
and validated in Spark; the flow, the tables, the analysis tables and every statistic of
the engine path must equal the pandas path's (to 1e-9). Kept small: Spark's cost here is
per query, not per row. Skipped without pyspark or a Java runtime (``.ci/run`` installs
one in CI).
"""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pandas as pd
import pytest

import calcstats as cs

from .conftest import COMPETING, assert_same, quiet

pyspark = pytest.importorskip("pyspark")
if shutil.which("java") is None:  # pragma: no cover - CI installs Java
    pytest.skip("pyspark needs a Java runtime", allow_module_level=True)

TABLES = ("patients", "imaging", "findings", "events")


@pytest.fixture(scope="module")
def spark_con():
    import ibis
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("calcstats-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.session.timeZone", "UTC")
        # many small queries: compiling each one costs more than running it
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.codegen.factoryMode", "NO_CODEGEN")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    yield ibis.pyspark.connect(spark)
    spark.stop()


def _corrupted(cohort) -> dict[str, pd.DataFrame]:
    frames = {name: getattr(cohort, name).copy() for name in TABLES}
    ev = frames["events"]
    ev.loc[len(ev)] = {
        "patient_id": "P-NOBODY",
        "event": "hcc",
        "event_date": pd.Timestamp("2015-01-01"),
    }
    ev.loc[3, "event"] = "heart attack"
    frames["findings"].loc[5, "size_mm"] = -1.0
    return frames


@pytest.fixture(scope="module")
def spark_pair(spark_con, pandas_cohort):
    spark = spark_con._session
    frames = _corrupted(pandas_cohort)
    for name, df in frames.items():
        out = df.copy()
        for c in out.columns:
            if out[c].dtype.kind == "M":
                out[c] = out[c].dt.date
        out = out.astype(object).where(out.notna(), None)
        spark.createDataFrame(out).createOrReplaceTempView(name)
    ref, w_ref = quiet(cs.read_cohort, on_error="exclude", **frames)
    got, w_got = quiet(cs.read_cohort, spark_con, on_error="exclude")
    return ref, got, w_ref, w_got


def test_validation_and_flow_in_spark(spark_pair):
    ref, got, w_ref, w_got = spark_pair
    assert got.engine == "pyspark"
    pd.testing.assert_frame_equal(ref.flow.to_frame(detail=True), got.flow.to_frame(detail=True))
    assert [s.rule for s in got.flow.steps[1:]] == ["unknown_value", "out_of_range", "orphan_row"]
    assert w_got == w_ref
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(ref, name), getattr(got, name).to_pandas())


@pytest.fixture(scope="module")
def spark_survival(spark_pair):
    ref, got, _, _ = spark_pair
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ps = ref.survival_table("cirrhosis", competing=COMPETING)
        es = got.survival_table("cirrhosis", competing=COMPETING).cached()
    return ps, es


def test_survival_table_in_spark(spark_survival):
    ps, es = spark_survival
    pd.testing.assert_frame_equal(ps, es.to_pandas())


def test_curves_and_tests_in_spark(spark_survival):
    ps, es = spark_survival
    kw = {"time": "time", "event": "status", "cause": 1, "by": "any_calcification"}
    assert_same(cs.kaplan_meier(ps, **kw).tidy(), cs.kaplan_meier(es, **kw).tidy())
    assert_same(cs.cumulative_incidence(ps, **kw).tidy(), cs.cumulative_incidence(es, **kw).tidy())
    ref, got = cs.logrank(ps, **kw), cs.logrank(es, **kw)
    assert got.statistic == pytest.approx(ref.statistic, rel=1e-9)
    ref, got = cs.gray_test(ps, **kw), cs.gray_test(es, **kw)
    assert got.statistic == pytest.approx(ref.statistic, rel=1e-9)


def test_cox_and_glm_in_spark(spark_survival, spark_pair):
    ps, es = spark_survival
    formula = "age_at_index + any_calcification"
    kw = {"time": "time", "event": "status", "cause": 1, "strata": "sex"}
    ref, got = cs.cox(ps, formula, **kw), cs.cox(es, formula, **kw)
    np.testing.assert_allclose(got.params, ref.params, rtol=1e-9)
    np.testing.assert_allclose(got.cov, ref.cov, rtol=1e-9)
    assert got.model.iterations == ref.model.iterations
    pc, ec = spark_pair[0], spark_pair[1]
    pp, ep = pc.patient_table(), ec.patient_table()
    ref = cs.logistic(pp, "any_calcification ~ age_at_index + C(sex)")
    got = cs.logistic(ep, "any_calcification ~ age_at_index + C(sex)")
    np.testing.assert_allclose(got.params, ref.params, rtol=1e-9)
    np.testing.assert_allclose(got.cov, ref.cov, rtol=1e-9)
    ref = cs.poisson(pp, "n_calcifications ~ age_at_index + C(sex)")
    got = cs.poisson(ep, "n_calcifications ~ age_at_index + C(sex)")
    np.testing.assert_allclose(got.params, ref.params, rtol=1e-9)
    assert got.loglik == pytest.approx(ref.loglik, rel=1e-9)


def test_rates_and_table_one_in_spark(spark_survival):
    ps, es = spark_survival
    kw = {"time": "time", "event": "status", "cause": 1, "by": "sex", "bands": [1, 5]}
    assert_same(cs.incidence_rate(ps, **kw).tidy(), cs.incidence_rate(es, **kw).tidy())
    kw = {"time": "time", "event": "status", "cause": 1, "by": "etiology", "reference": "psc"}
    assert_same(cs.rate_ratio(ps, **kw).tidy(), cs.rate_ratio(es, **kw).tidy())
    kw = {
        "by": "any_calcification",
        "variables": ["sex", "age_at_index", "bilirubin_mg_dl", "etiology"],
        "nonnormal": ["bilirubin_mg_dl"],
    }
    ref, got = cs.table_one(ps, **kw), cs.table_one(es, **kw)
    assert_same(ref.to_frame(), got.to_frame()[ref.to_frame().columns])
    assert got.cells == ref.cells


def test_multistate_in_spark(spark_pair):
    ref, got, _, _ = spark_pair
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pm = ref.multistate_table()
        em = got.multistate_table().cached()
    pd.testing.assert_frame_equal(pm, em.to_pandas())
    assert_same(cs.state_probabilities(pm).tidy(), cs.state_probabilities(em).tidy())
