"""Tests for calcstats.plot.ph_diagnostics."""

from __future__ import annotations

import numpy as np
import pytest

import calcstats as cs
from calcstats import CalcstatsError
from calcstats.plot import ph_diagnostics


@pytest.fixture(scope="module")
def fit():
    pbc = cs.datasets.load_pbc().dropna(subset=["trt"])
    pbc = pbc.assign(years=pbc["time"] / 365.25, died=(pbc["status"] == 2).astype(int))
    return cs.cox(pbc, "age + edema + np.log(bili)", time="years", event="died")


def _gid(ax, gid):
    return [c for c in ax.get_children() if c.get_gid() == gid]


def test_panels_draw_the_check(fit):
    check = fit.check_ph()
    fig = ph_diagnostics(fit)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 3
    for ax, term in zip(visible, check.terms, strict=True):
        (pts,) = _gid(ax, "residuals")
        np.testing.assert_allclose(pts.get_offsets()[:, 1],
                                   check.residuals[check.columns[term]].to_numpy())
        (line,) = _gid(ax, "smooth")
        sm = check.smooth(term)
        np.testing.assert_allclose(line.get_ydata(), sm["fit"])
        lo, hi = _gid(ax, "band")
        np.testing.assert_allclose(lo.get_ydata(), sm["conf_low"])
        np.testing.assert_allclose(hi.get_ydata(), sm["conf_high"])
        (coef,) = _gid(ax, "coef")
        assert coef.get_ydata()[0] == pytest.approx(fit.params[term])
        p = check.table.set_index("term").loc[term, "p_value"]
        assert cs.tables.format_p(p) in ax.get_title().replace("< ", "<").replace("> ", ">")


def test_subset_and_errors(fit):
    fig = ph_diagnostics(fit.check_ph(), terms=["age"])
    assert len([a for a in fig.axes if a.get_visible()]) == 1
    with pytest.raises(CalcstatsError, match="not in the model"):
        ph_diagnostics(fit, terms=["bmi"])
    with pytest.raises(CalcstatsError, match=r"expects a cs\.cox result"):
        ph_diagnostics(object())
