"""Multi-state tables and state probabilities of an engine cohort: the pandas path's table,
record, warnings and estimates (to 1e-9), on the example cohort with every rule of the
multi-state table exercised."""

from __future__ import annotations

import warnings

import ibis
import matplotlib
import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats.engine import EngineLimitError, EngineOptions, EngineTable
from calcstats.survival._multistate import _state_counts

from .conftest import assert_same

matplotlib.use("Agg")

TABLES = ("patients", "imaging", "findings", "events")
HCC = cs.StateSpace(
    {"no_cirrhosis": [], "cirrhosis": ["cirrhosis"], "hcc": ["hcc"], "death": ["death"]},
    transitions=[
        ("no_cirrhosis", "cirrhosis"),
        ("cirrhosis", "hcc"),
        ("no_cirrhosis", "death"),
        ("cirrhosis", "death"),
        ("hcc", "death"),
    ],
    baseline={"cirrhosis": "cirrhosis_at_baseline"},
)


def _edge_cases(cohort) -> dict[str, pd.DataFrame]:
    """The example cohort's tables with, for its first eight patients: events on one day
    (moved back), a transplant on the index date and no follow-up (left out), a state
    no longer reachable, an event after an absorbing state, a skipped state, and hcc."""
    frames = {name: getattr(cohort, name).copy() for name in TABLES}
    p, img = frames["patients"], frames["imaging"]
    ids = p["patient_id"].iloc[:8].tolist()
    index = dict(zip(p["patient_id"], p["index_date"], strict=True))
    new: list[tuple] = []
    late = np.zeros(len(img), dtype=bool)

    def add(k: int, event: str, days: int) -> None:
        new.append((ids[k], event, index[ids[k]] + pd.Timedelta(days=days)))

    def end(k: int, days: int) -> np.ndarray:
        date = index[ids[k]] + pd.Timedelta(days=days)
        p.loc[p["patient_id"] == ids[k], "last_followup_date"] = date
        return ((img["patient_id"] == ids[k]) & (img["study_date"] > date)).to_numpy()

    for event in ("cirrhosis", "ascites", "death"):
        add(0, event, 400)
    late |= end(0, 400)
    add(1, "liver_transplant", 0)
    late |= end(2, 0)
    add(3, "ascites", 100)
    add(3, "cirrhosis", 200)
    add(4, "liver_transplant", 100)
    add(4, "death", 200)
    late |= end(4, 200)
    add(5, "variceal_bleeding", 50)
    add(6, "cirrhosis", 30)
    add(6, "hcc", 60)
    add(7, "cirrhosis", 90)
    add(7, "death", 90)
    late |= end(7, 90)
    ev = frames["events"]
    frames["events"] = pd.concat(
        [ev[~ev["patient_id"].isin(ids)], pd.DataFrame(new, columns=list(ev.columns))],
        ignore_index=True,
    )
    frames["imaging"] = img.loc[~late].reset_index(drop=True)
    found = frames["findings"]
    frames["findings"] = found[found["study_id"].isin(frames["imaging"]["study_id"])]
    frames["findings"] = frames["findings"].reset_index(drop=True)
    return frames


@pytest.fixture(scope="module")
def ms_pair(pandas_cohort):
    frames = _edge_cases(pandas_cohort)
    con = ibis.duckdb.connect()
    for name, df in frames.items():
        con.create_table(name, df)
    return cs.read_cohort(**frames), cs.read_cohort(con)


def _messages(fn, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn(*args, **kwargs)
    return out, [str(w.message) for w in caught]


@pytest.mark.parametrize("kw", [{}, {"on_contradiction": "exclude"}, {"states": HCC}])
def test_multistate_table_and_record_equal_pandas(ms_pair, kw):
    ref, eng = ms_pair
    table, w_ref = _messages(ref.multistate_table, **kw)
    got, w_got = _messages(eng.multistate_table, **kw)
    assert isinstance(got, EngineTable) and got.engine == "duckdb"
    pd.testing.assert_frame_equal(table, got.to_pandas())
    assert w_got == w_ref and len(w_ref) == 1
    a, b = _messages(ref.multistate_at_risk, **kw)[0], _messages(eng.multistate_at_risk, **kw)[0]
    pd.testing.assert_frame_equal(a.excluded, b.excluded)
    pd.testing.assert_frame_equal(a.adjustments, b.adjustments)
    pd.testing.assert_frame_equal(a.flow.to_frame(detail=True), b.flow.to_frame(detail=True))
    pd.testing.assert_frame_equal(a.counts(), b.counts())


def test_every_rule_is_exercised(ms_pair):
    ref, _ = ms_pair
    rules = set(_messages(ref.multistate_at_risk)[0].adjustments["rule"])
    assert rules == {
        "skipped state: direct transition",
        "after an absorbing state: not used",
        "state no longer reachable: not used",
        "same day: moved back 0.1 day",
        "same day: moved back 0.2 day",
    }


@pytest.mark.parametrize(
    ("kw", "error"),
    [
        ({"on_contradiction": "skip"}, cs.SchemaError),
        ({"states": {"no_cirrhosis": [], "x": ["flying"]}}, cs.SchemaError),
    ],
)
def test_multistate_errors_are_the_pandas_path_errors(ms_pair, kw, error):
    ref, eng = ms_pair
    with pytest.raises(error) as a:
        ref.multistate_table(**kw)
    with pytest.raises(error) as b:
        eng.multistate_table(**kw)
    assert str(b.value) == str(a.value)


@pytest.fixture(scope="module")
def sp_pair(ms_pair):
    ref, eng = ms_pair
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = ref.multistate_table()
        got = eng.multistate_table()
    table = table.assign(w=np.where(table["sex"] == "F", 1.5, 0.7))
    got = got.with_expr(got.full.mutate(w=ibis.cases((got.full.sex == "F", 1.5), else_=0.7)))
    return table, got


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"by": "sex"},
        {"by": "any_calcification", "p0_variance": False, "conf_type": "plain"},
        {"weights": "w", "conf_level": 0.9},
    ],
)
def test_state_probabilities_equal_pandas(sp_pair, kw):
    table, eng = sp_pair
    ref = cs.state_probabilities(table, **kw)
    got = cs.state_probabilities(eng, **kw)
    assert type(got) is cs.StateProbabilitiesResult
    assert (got.states, got.method) == (ref.states, ref.method)
    assert_same(ref.tidy(), got.tidy())
    assert_same(ref.at([0.5, 2, 7]), got.at([0.5, 2, 7]))
    assert_same(ref.risk_table([0, 1, 5]), got.risk_table([0, 1, 5]))
    assert_same(ref.cumulative_hazards(), got.cumulative_hazards())
    assert_same(ref.time_in_state(4).tidy(), got.time_in_state(4).tidy())
    pd.testing.assert_frame_equal(ref.transition_counts(), got.transition_counts())
    pd.testing.assert_frame_equal(_state_counts(ref._input), _state_counts(got._input))
    np.testing.assert_array_equal(got.n_patients, ref.n_patients)
    np.testing.assert_array_equal(got.n_rows, ref.n_rows)
    fig_ref = cs.plot.transitions(ref)
    fig_got = cs.plot.transitions(got)
    assert [t.get_text() for t in fig_got.axes[0].texts] == [
        t.get_text() for t in fig_ref.axes[0].texts
    ]


def _engine_table(frame: pd.DataFrame) -> EngineTable:
    con = ibis.duckdb.connect()
    expr = con.create_table("ms", frame.assign(__row=np.arange(len(frame))))
    return EngineTable(expr, engine="duckdb", options=EngineOptions(), order=["__row"])


BASE = pd.DataFrame(
    {
        "patient_id": ["a", "a", "b", "b", "c", "d"],
        "from_state": ["healthy", "ill", "healthy", "ill", "healthy", "healthy"],
        "to_state": ["ill", "dead", "ill", "censored", "censored", "dead"],
        "start": [0.0, 1.0, 0.0, 2.0, 0.0, 0.0],
        "stop": [1.0, 4.0, 2.0, 5.0, 3.0, 2.5],
        "g": ["x", "x", "y", "y", "x", "y"],
        "w": [1.0, 1.0, 2.0, 2.0, 1.0, 1.0],
    }
)


@pytest.mark.parametrize(
    ("edit", "kw"),
    [
        (lambda d: d.assign(patient_id=d["patient_id"].where(d.index != 4)), {}),
        (lambda d: d.assign(to_state=d["to_state"].where(d.index != 2)), {}),
        (lambda d: d.assign(from_state=d["from_state"].mask(d.index == 5, "censored")), {}),
        (lambda d: d.assign(to_state=d["to_state"].mask(d.index == 4, "healthy")), {}),
        (lambda d: d.assign(start=d["start"].mask(d.index == 3, 1.5)), {}),
        (lambda d: d.assign(start=d["start"].mask(d.index == 3, 2.5)), {}),
        (lambda d: d.assign(from_state=d["from_state"].mask(d.index == 3, "healthy")), {}),
        (lambda d: d.assign(w=d["w"].mask(d.index == 3, 3.0)), {"weights": "w"}),
        (lambda d: d.assign(g=d["g"].mask(d.index == 1, "y")), {"by": "g"}),
        (lambda d: d.assign(stop=d["stop"].mask(d.index == 5, -1.0)), {}),
    ],
)
def test_state_probabilities_input_errors_are_the_pandas_path_errors(edit, kw):
    frame = edit(BASE.copy())
    with pytest.raises(cs.CalcstatsError) as ref:
        cs.state_probabilities(frame, **kw)
    with pytest.raises(cs.CalcstatsError) as got:
        cs.state_probabilities(_engine_table(frame), **kw)
    assert type(got.value) is type(ref.value)
    assert str(got.value) == str(ref.value)


def test_small_table_with_weights_and_groups_equals_pandas():
    kw = {"by": "g", "weights": "w"}
    ref = cs.state_probabilities(BASE, **kw)
    got = cs.state_probabilities(_engine_table(BASE), **kw)
    assert_same(ref.tidy(), got.tidy())
    assert_same(ref.time_in_state(3).tidy(), got.time_in_state(3).tidy())


def test_paths_past_the_pull_limit_are_refused(sp_pair):
    _, eng = sp_pair
    limited = eng.with_expr(eng.full)
    limited.options = EngineOptions.of({"pull_limit": 100})
    with pytest.raises(EngineLimitError, match="more than 100 distinct rows"):
        cs.state_probabilities(limited)
