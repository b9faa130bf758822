"""cs.turnbull against R (tests/reference/interval.R → interval.json).

Tolerances. The estimate is checked against the script's high-precision NPMLE (EM to
1e-12 then a Kuhn–Tucker-checked Newton polish) to 1e-9: masses, S at both ends of every
innermost interval and the log-likelihood. R's ``survfit`` stops its EM at a 5e-5 change
per iteration, 3e-4 to 5e-2 from the NPMLE, so it is compared only as "we differ from
survfit by exactly what the script measured between survfit and the NPMLE". The standard
error is R's infinitesimal-jackknife SE of the pseudo-data Kaplan–Meier: fed R's own pseudo
data it gives R's ``std.err`` to 1e-12; at the converged NPMLE it differs from R's by what
R's early stop leaves (within 2e-3 where survfit is within 7e-3 of the NPMLE).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from interval_refs import CURVE_IDS, CURVES, curve_ref, data, step

import calcstats as cs
from calcstats.results import CurveResult, confint
from calcstats.survival._interval_turnbull import pseudo_km


def _fit(name: str, by: str | None) -> cs.TurnbullResult:
    return cs.turnbull(data(name), left="left", right="right", by=by)


def _group(result: cs.TurnbullResult, by: str | None, value: object) -> int:
    if by is None:
        return 0
    return int(np.flatnonzero(result.groups[by].to_numpy() == value)[0])


@pytest.fixture(scope="module")
def fits() -> dict:
    return {
        (name, by): _fit(name, by)
        for name, by in [("bcdeter", None), ("bcdeter", "treat"), ("ic_sim", None), ("ic_sim", "x")]
    }


@pytest.mark.parametrize(("name", "formula", "group", "by", "value"), CURVES, ids=CURVE_IDS)
def test_npmle_equals_the_high_precision_reference(fits, name, formula, group, by, value):
    ref = curve_ref(name, formula, group)["npmle"]
    tb = fits[(name, by)]
    iv = tb.intervals()
    if by is not None:
        iv = iv[iv[by] == value]
    right = np.array([np.inf if r is None else r for r in ref["right"]])
    assert iv["left"].tolist() == pytest.approx(ref["left"], abs=0)
    assert np.array_equal(iv["right"].to_numpy(), right)
    assert iv["point"].tolist() == ref["point"]
    assert np.abs(iv["mass"].to_numpy() - ref["mass"]).max() < 1e-9
    assert np.abs(iv["surv"].to_numpy() - ref["surv"]).max() < 1e-9
    assert np.abs(iv["surv_left"].to_numpy() - ref["surv_left"]).max() < 1e-9
    g = _group(tb, by, value)
    assert tb.loglik[g] == pytest.approx(ref["loglik"], abs=1e-8)
    assert tb.fits[g].converged and tb.converged


@pytest.mark.parametrize(("name", "formula", "group", "by", "value"), CURVES, ids=CURVE_IDS)
def test_curve_at_the_compared_points(fits, name, formula, group, by, value):
    cmp = curve_ref(name, formula, group)["compare"]
    at = fits[(name, by)].at(cmp["points"])
    if by is not None:
        at = at[at[by] == value]
    ours = at["estimate"].to_numpy()
    assert np.abs(ours - cmp["npmle_surv"]).max() < 1e-9
    # survfit is off the NPMLE by its stopping rule; we are off survfit by exactly that
    gap = np.abs(ours - cmp["survfit_surv"]).max()
    assert gap == pytest.approx(cmp["max_abs_diff_survfit_vs_npmle"], abs=1e-9)


@pytest.mark.parametrize(("name", "formula", "group", "by", "value"), CURVES, ids=CURVE_IDS)
def test_variance_is_rs_infinitesimal_jackknife_on_rs_pseudo_data(name, formula, group, by, value):
    """Rebuild survfit's final pseudo data from its n.event / n.censor: R's std.err."""
    sf = curve_ref(name, formula, group)["survfit"]
    d = data(name)
    if by is not None:
        d = d[d[by] == value]
    exact = d["left"].to_numpy() == d["right"].to_numpy()
    t_rows, e_rows, w_rows = [], [], []
    for t, n_event, n_censor in zip(sf["time"], sf["n.event"], sf["n.censor"], strict=True):
        n_exact = int((exact & (d["left"].to_numpy() == t)).sum())
        t_rows += [t] * (int(n_censor) + n_exact)
        e_rows += [0] * int(n_censor) + [1] * n_exact
        w_rows += [1.0] * (int(n_censor) + n_exact)
        if n_event - n_exact > 0:
            t_rows.append(t), e_rows.append(1), w_rows.append(n_event - n_exact)
    km = pseudo_km(np.array(t_rows), np.array(e_rows, float), np.array(w_rows))
    times = np.array(sf["time"])  # R also lists jump times that got no weight
    surv = step(km["time"], km["estimate"], times)
    se = step(km["time"], km["std_error"], times, before=0.0)
    assert np.abs(surv - sf["surv"]).max() < 1e-12
    assert np.abs(se - sf["std.err"]).max() < 1e-12
    listed = np.isin(times, km["time"])
    n_risk = km.set_index("time").loc[times[listed], "n_risk"].to_numpy()
    assert np.abs(n_risk - np.array(sf["n.risk"])[listed]).max() < 1e-9
    low, high = confint(surv, se, logse=False, conf_type="log", conf_level=0.95)
    for ours, theirs in ((low, sf["lower"]), (high, sf["upper"])):
        ok = np.array([v is not None for v in theirs])
        assert np.abs(ours[ok] - np.array(theirs, dtype=object)[ok].astype(float)).max() < 1e-12


@pytest.mark.parametrize(
    ("name", "formula", "group", "by", "value"),
    [c for c in CURVES if c[0] == "bcdeter" or c[3] == "x"],
    ids=[i for i, c in zip(CURVE_IDS, CURVES, strict=True) if c[0] == "bcdeter" or c[3] == "x"],
)
def test_standard_error_close_to_survfit_where_survfit_is_close(
    fits, name, formula, group, by, value
):
    """Not for the whole simulated sample, where survfit stops 5e-2 from the NPMLE."""
    ref = curve_ref(name, formula, group)
    points = np.array(ref["compare"]["points"])
    at = fits[(name, by)].at(points)
    if by is not None:
        at = at[at[by] == value]
    r_se = step(ref["survfit"]["time"], ref["survfit"]["std.err"], points, before=0.0)
    assert np.abs(at["std_error"].to_numpy() - r_se).max() < 2e-3


def test_result_is_a_survival_curve_with_counts():
    tb = _fit("bcdeter", "treat")
    assert isinstance(tb, CurveResult)
    assert (tb.start_value, tb.increasing, tb.measure) == (1.0, False, "Survival probability")
    assert tb.groups["treat"].tolist() == ["radiotherapy only", "radiotherapy+chemotherapy"]
    assert tb.n.tolist() == [46, 49]
    tidy = tb.tidy()
    assert list(tidy.columns) == [
        "treat",
        "time",
        "n_risk",
        "n_event",
        "n_censor",
        "estimate",
        "std_error",
        "conf_low",
        "conf_high",
    ]
    # every event seen is one expected event in the pseudo data
    seen = data("bcdeter").assign(seen=lambda d: d["right"].notna()).groupby("treat")["seen"]
    assert tidy.groupby("treat")["n_event"].sum().to_numpy() == pytest.approx(
        seen.sum().to_numpy(), abs=1e-9
    )
    assert tb.n_events.tolist() == seen.sum().tolist()
    expected = []  # the right end of the innermost interval where S falls to 0.5 or below
    for group in tb.groups["treat"]:
        ref = curve_ref("bcdeter", "~treat", group)["npmle"]
        expected.append(next(r for r, s in zip(ref["right"], ref["surv"], strict=True) if s <= 0.5))
    assert tb.median()["median"].tolist() == expected
    assert "Turnbull" in tb.method


def test_curve_drops_at_the_right_end_of_each_innermost_interval():
    d = pd.DataFrame({"left": [0, 1, 2, 1, 3, 0], "right": [1, 3, np.inf, 2, np.inf, 2]})
    tb = cs.turnbull(d, left="left", right="right")
    at = tb.at([0.5, 0.999, 1.0, 1.5, 2.0])["estimate"].round(6).tolist()
    assert at == [1.0, 1.0, 0.777778, 0.777778, 0.333333]
    # no mass at 20: (10, 20] and (20, 40] do not overlap (R's convention)
    d2 = pd.DataFrame({"l": [10.0, 20.0], "r": [20.0, 40.0]})
    iv = cs.turnbull(d2, left="l", right="r").intervals()
    assert iv[["left", "right", "mass"]].to_numpy().tolist() == [[10, 20, 0.5], [20, 40, 0.5]]


def test_conf_type_and_level_change_the_limits_only():
    d = data("ic_sim")
    a = cs.turnbull(d, left="left", right="right", conf_type="log-log", conf_level=0.9)
    b = cs.turnbull(d, left="left", right="right")
    assert a.tidy()["estimate"].equals(b.tidy()["estimate"])
    assert not np.allclose(a.tidy()["conf_low"], b.tidy()["conf_low"])
    assert (a.conf_type, a.conf_level) == ("log-log", 0.9)


def test_row_order_does_not_matter():
    d = data("ic_sim")
    shuffled = d.sample(frac=1.0, random_state=3)
    a = cs.turnbull(d, left="left", right="right", by="x").tidy()
    b = cs.turnbull(shuffled, left="left", right="right", by="x").tidy()
    pd.testing.assert_frame_equal(a, b, atol=1e-10, rtol=0)


def test_labels_are_kept():
    tb = cs.turnbull(data("bcdeter"), left="left", right="right", labels={"treat": "Treatment"})
    assert tb.labels.variable("treat") == "Treatment"


def test_no_event_seen_warns():
    d = pd.DataFrame({"left": [1.0, 2.0, 3.0], "right": [np.inf] * 3})
    with pytest.warns(cs.DataWarning, match="no event was seen"):
        tb = cs.turnbull(d, left="left", right="right")
    assert tb.tidy()["estimate"].tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"conf_type": "bogus"},
            cs.InvalidParameterError,
            "The 'conf_type' parameter of turnbull must be one of 'log-log', 'log', 'plain'. "
            "Got 'bogus'.",
        ),
        ({"conf_level": 95}, cs.InvalidParameterError, "Use 0.95, not 95."),
        ({"by": "nope"}, cs.SchemaError, "nope"),
    ],
)
def test_bad_options(kwargs, error, message):
    with pytest.raises(error) as err:
        cs.turnbull(data("bcdeter"), left="left", right="right", **kwargs)
    assert message in str(err.value)


def test_no_warning_on_clean_data():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cs.turnbull(data("bcdeter"), left="left", right="right", by="treat")
