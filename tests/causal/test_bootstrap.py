"""cs.bootstrap: seeded resampling over a whole analysis, percentile intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats._errors import CalcstatsError, DataError, InvalidParameterError, SchemaError

from .causal_data import SIM_PS


@pytest.fixture
def values():
    return pd.DataFrame({"x": np.random.default_rng(3).normal(10, 2, 80)})


def test_same_seed_same_replicates_other_seed_other_replicates(values):
    a = cs.bootstrap(lambda d: d["x"].mean(), values, n=50, seed=11)
    b = cs.bootstrap(lambda d: d["x"].mean(), values, n=50, seed=11)
    c = cs.bootstrap(lambda d: d["x"].mean(), values, n=50, seed=12)
    pd.testing.assert_frame_equal(a.replicates, b.replicates)
    assert not a.replicates.equals(c.replicates)
    assert a.seed == 11 and "seed 11" in a.method


def test_unseeded_run_records_its_seed_and_can_be_repeated(values):
    a = cs.bootstrap(lambda d: d["x"].median(), values, n=30)
    b = cs.bootstrap(lambda d: d["x"].median(), values, n=30, seed=a.seed)
    pd.testing.assert_frame_equal(a.replicates, b.replicates)


def test_se_of_a_mean_is_close_to_sd_over_root_n_and_ci_is_percentile(values):
    b = cs.bootstrap(lambda d: {"mean": d["x"].mean(), "sd": d["x"].std()}, values, n=1000, seed=1)
    t = b.tidy().set_index("term")
    analytic = values["x"].std(ddof=0) / np.sqrt(len(values))
    assert t.loc["mean", "std_error"] == pytest.approx(analytic, rel=0.1)
    reps = b.replicates["mean"]
    assert t.loc["mean", "conf_low"] == pytest.approx(np.quantile(reps, 0.025))
    assert t.loc["mean", "conf_high"] == pytest.approx(np.quantile(reps, 0.975))
    assert t.loc["mean", "estimate"] == pytest.approx(values["x"].mean())
    assert t.loc["mean", "n_replicates"] == 1000
    assert b.tidy(conf_level=0.5).loc[0, "conf_low"] == pytest.approx(np.quantile(reps, 0.25))


def test_cluster_bootstrap_draws_whole_clusters_with_fresh_codes():
    d = pd.DataFrame({"pid": np.repeat(["a", "b", "c", "d"], [1, 2, 3, 4]), "x": np.arange(10.0)})
    seen = []

    def fn(df):
        seen.append(df)
        return float(len(df))

    b = cs.bootstrap(fn, d, n=40, seed=2, cluster="pid")
    for df in seen[1:]:
        assert sorted(df["pid"].unique()) == [0, 1, 2, 3]  # 4 clusters, renumbered
        sizes = sorted(df.groupby("pid").size().tolist())
        assert all(s in (1, 2, 3, 4) for s in sizes)
        assert df.index.equals(pd.RangeIndex(len(df)))
    assert b.replicates["statistic"].nunique() > 1  # total size varies
    assert b.cluster == "pid" and "clusters (pid)" in b.method


def test_failed_resamples_are_counted_and_warned_about():
    d = pd.DataFrame({"x": [0.0] * 7 + [1.0]})  # P(no 1 drawn) = (7/8)^8 = 0.34

    def fn(df):
        if df["x"].sum() == 0:
            raise DataError("no ones")
        return df["x"].mean()

    with pytest.warns(cs.DataWarning, match=r"resamples failed"):
        b = cs.bootstrap(fn, d, n=200, seed=5)
    assert b.n_failed == int(b.replicates["statistic"].isna().sum()) > 20
    assert b.tidy()["n_replicates"].iloc[0] == 200 - b.n_failed


def test_warnings_inside_resamples_are_summarised_once(values):
    import warnings

    def fn(df):
        warnings.warn(f"f(): noisy: value {df['x'].iloc[0]:.3f}", cs.DataWarning, stacklevel=1)
        return df["x"].mean()

    with pytest.warns(cs.DataWarning) as rec:
        b = cs.bootstrap(fn, values, n=10, seed=1)
    texts = [str(w.message) for w in rec]
    assert len(texts) == 2  # the call on the original data, then one summary
    assert texts[0].startswith("f(): noisy: value")
    assert "inside the resamples: DataWarning: f(): noisy (10×)" in texts[1]
    assert b.warnings_seen == {"DataWarning: f(): noisy": 10}


@pytest.mark.filterwarnings(r"ignore:bootstrap\(\). warnings were raised:calcstats.DataWarning")
def test_whole_chain_on_the_confounded_cohort(sim):
    def chain(d):
        ps = cs.propensity(d, SIM_PS)
        return cs.cox(d.assign(w=ps.weights()), "treat", time="time", event="event1", weights="w")

    full = chain(sim)
    b = cs.bootstrap(chain, sim, n=60, seed=20240517)
    t = b.tidy()
    assert b.ratio_measure == "HR"
    assert t["estimate"].iloc[0] == pytest.approx(np.exp(full.params["treat"]))
    assert t["conf_low"].iloc[0] < t["estimate"].iloc[0] < t["conf_high"].iloc[0]
    # same order of magnitude as the robust SE that treats the weights as known
    assert t["std_error"].iloc[0] == pytest.approx(full.bse["treat"], rel=0.35)
    assert b.tidy(exponentiate=False)["estimate"].iloc[0] == pytest.approx(full.params["treat"])


def test_bad_calls_raise_clear_errors(values):
    with pytest.raises(InvalidParameterError, match="'fn' parameter of bootstrap"):
        cs.bootstrap("mean", values)
    with pytest.raises(InvalidParameterError, match="'n' parameter of bootstrap"):
        cs.bootstrap(lambda d: 1.0, values, n=1)
    with pytest.raises(SchemaError, match="fn must return a number"):
        cs.bootstrap(lambda d: "x", values, n=5, seed=1)
    with pytest.raises(SchemaError, match="Did you mean"):
        cs.bootstrap(lambda d: 1.0, values, n=5, seed=1, cluster="xx")
    with pytest.raises(CalcstatsError, match="needs a pandas DataFrame"):
        cs.bootstrap(lambda d: 1.0, [1, 2, 3], n=5, seed=1)
