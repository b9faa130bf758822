"""median_followup against R: survfit(Surv(time, status == 0) ~ g) and quantile.survfit
(tests/reference/followup.R); its table, inline text and errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import calcstats as cs
from calcstats import CalcstatsError, InvalidParameterError

ROOT = Path(__file__).resolve().parents[2]
REF = json.loads((ROOT / "tests" / "reference" / "followup.json").read_text())
COLS = ["n", "n_censored", "estimate", "conf_low", "conf_high", "q1", "q3"]
R_COLS = ["n", "n_censored", "median", "conf_low", "conf_high", "q1", "q3"]


@pytest.fixture(scope="module")
def pbc() -> pd.DataFrame:
    d = pd.read_csv(ROOT / "data" / "pbc.csv")
    return d.assign(years=d["time"] / 365.25, dead=(d["status"] == 2).astype(int))


def _r(key: str) -> np.ndarray:
    v = REF[key]
    rows = [np.atleast_1d(np.asarray(v[c], dtype=float)) for c in R_COLS]
    return np.column_stack(rows)  # None (not reached) -> nan


@pytest.mark.parametrize(
    ("key", "kwargs"),
    [
        ("pbc_log", {"time": "time", "event": "status"}),
        ("pbc_loglog", {"time": "time", "event": "status", "conf_type": "log-log"}),
        (
            "pbc_plain_90",
            {"time": "time", "event": "status", "conf_type": "plain", "conf_level": 0.9},
        ),
        ("pbc_dead_edema", {"time": "years", "event": "dead", "by": "edema"}),
        ("pbc_dead_sex", {"time": "years", "event": "dead", "by": "sex"}),
    ],
)
def test_matches_r(pbc, key, kwargs):
    """Median, limits and quartiles as R's quantile.survfit of the reverse curve (1e-9;
    R's 'not reached' (NA) is NaN)."""
    ours = cs.median_followup(pbc, **kwargs).tidy()[COLS].to_numpy(dtype=float)
    np.testing.assert_allclose(ours, _r(key), rtol=1e-9, equal_nan=True)


def test_trial_subset_and_zero_one_column(pbc):
    trial = pbc[pbc["trt"].notna()]
    ours = cs.median_followup(trial, time="time", event="dead").tidy()[COLS]
    np.testing.assert_allclose(ours.to_numpy(dtype=float), _r("trial_dead"), rtol=1e-9)


def test_competing_codes_end_follow_up(pbc):
    """Codes 1 (transplant) and 2 (death) both end follow-up: the same as one 0/1 column."""
    coded = cs.median_followup(pbc, time="time", event="status").tidy()
    any_event = pbc.assign(ended=(pbc["status"] > 0).astype(int))
    binary = cs.median_followup(any_event, time="time", event="ended").tidy()
    pd.testing.assert_frame_equal(coded, binary)
    # unlike the median of the observed times, which deaths pull down
    assert coded.loc[0, "estimate"] > pbc["time"].median()


def test_table_and_inline(pbc):
    lab = cs.Labels(variables={"edema": "Edema"}, units={"years": "years"})
    fu = cs.median_followup(pbc, time="years", event="dead", by="edema", labels=lab)
    t = fu.to_table()
    assert t.title == "Median follow-up"
    assert t.columns == ("Edema", "N", "Median follow-up, years (95% CI)", "IQR")
    r = REF["pbc_dead_edema"]
    assert t.cells[0] == (
        "0",
        "354",
        f"{r['median'][0]:.1f} ({r['conf_low'][0]:.1f}–{r['conf_high'][0]:.1f})",
        f"{r['q1'][0]:.1f}–{r['q3'][0]:.1f}",
    )
    assert t.cells[2][2] == f"NR ({r['conf_low'][2]:.1f}–NR)"  # R: NA
    assert t.footnotes[-1].startswith("NR, not reached")
    assert fu.inline(group={"edema": 0.0}) == (
        f"{r['median'][0]:.1f} years (95% CI {r['conf_low'][0]:.1f}–{r['conf_high'][0]:.1f})"
    )
    overall = cs.median_followup(pbc, time="time", event="status")
    assert overall.inline(digits=0) == "2,555 (95% CI 2,338–2,666)"  # unit unknown: none
    assert fu.curve.tidy()["estimate"].iloc[-1] < 1  # the reverse curve is kept


def test_errors(pbc):
    fu = cs.median_followup(pbc, time="years", event="dead", by="edema")
    with pytest.raises(CalcstatsError, match=r"has 3 groups; say which with group=\{'edema'"):
        fu.inline()
    with pytest.raises(CalcstatsError, match="every patient in 'dead' has an event"):
        cs.median_followup(pbc.assign(dead=1), time="years", event="dead")
    with pytest.raises(
        InvalidParameterError,
        match="The 'conf_type' parameter of median_followup must be one of",
    ):
        cs.median_followup(pbc, time="years", event="dead", conf_type="logit")
    with pytest.raises(cs.SchemaError, match="time"):
        cs.median_followup(pbc, time="follow_up", event="dead")
