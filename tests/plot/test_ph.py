"""Tests for calcstats.plot.ph_diagnostics."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from geometry import THEMES, WIDTHS_MM, check_figure, themed

import calcstats as cs
from calcstats import CalcstatsError, InvalidParameterError
from calcstats.plot import ph_diagnostics


@pytest.fixture(scope="module")
def fit():
    pbc = cs.datasets.load_pbc().dropna(subset=["trt"])
    pbc = pbc.assign(years=pbc["time"] / 365.25, died=(pbc["status"] == 2).astype(int))
    return cs.cox(pbc, "age + edema + np.log(bili)", time="years", event="died")


@pytest.fixture(scope="module")
def check(fit):
    return fit.check_ph()


def _gid(ax, gid):
    return [c for c in ax.get_children() if c.get_gid() == gid]


def test_panels_draw_the_check(fit, check):
    fig = ph_diagnostics(check)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 3
    tests = check.tidy(details=True).set_index("term")
    for ax, term in zip(visible, check.terms, strict=True):
        (pts,) = _gid(ax, "residuals")
        np.testing.assert_allclose(
            pts.get_offsets()[:, 1], check.residuals[check.columns[term]].to_numpy()
        )
        (line,) = _gid(ax, "smooth")
        sm = check.smooth(term)
        np.testing.assert_allclose(line.get_ydata(), sm["fit"])
        lo, hi = _gid(ax, "band")
        np.testing.assert_allclose(lo.get_ydata(), sm["conf_low"])
        np.testing.assert_allclose(hi.get_ydata(), sm["conf_high"])
        (coef,) = _gid(ax, "coef")
        assert coef.get_ydata()[0] == pytest.approx(fit.params[term])
        p = tests.loc[term, "p_value"]
        assert cs.tables.format_p(p) in ax.get_title().replace("< ", "<").replace("> ", ">")


def test_titles_and_axis_use_labels(check):
    fig = ph_diagnostics(
        check,
        labels=cs.Labels(
            variables={"bili": "Bilirubin", "years": "Time"}, units={"years": "years"}
        ),
    )
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title().split("\n")[0] for ax in visible] == ["Age", "Edema", "Bilirubin (log)"]
    assert {ax.get_xlabel() for ax in visible} == {"Time (years)"}
    assert ph_diagnostics(check, xlabel="Years").axes[0].get_xlabel() == "Years"


def test_multi_column_term_has_no_coefficient_line():
    pbc = cs.datasets.load_pbc()
    fit = cs.cox(
        pbc.dropna(subset=["stage"]), "C(stage) + age", time="time", event="status", cause=2
    )
    fig = ph_diagnostics(fit.check_ph())
    stage, age = fig.axes[0], fig.axes[1]
    assert not _gid(stage, "coef") and len(_gid(age, "coef")) == 1


def test_subset_and_errors(fit, check):
    fig = ph_diagnostics(check, terms=["age"])
    assert len([a for a in fig.axes if a.get_visible()]) == 1
    with pytest.raises(
        InvalidParameterError,
        match="'terms' parameter of ph_diagnostics must name terms of the model",
    ):
        ph_diagnostics(check, terms=["bmi"])
    with pytest.raises(
        CalcstatsError,
        match=r"run the check and pass it, "
        r"cs\.plot\.ph_diagnostics\(fit\.check_ph\(\)\)",
    ):
        ph_diagnostics(fit)
    with pytest.raises(CalcstatsError, match=r"PHTestResult .*got object"):
        ph_diagnostics(object())
    with pytest.raises(InvalidParameterError, match="'df' parameter of ph_diagnostics"):
        ph_diagnostics(check, df=1)


@pytest.mark.parametrize("width_mm", WIDTHS_MM)
@pytest.mark.parametrize("theme_name", THEMES)
def test_geometry(check, width_mm, theme_name):
    with themed(theme_name):
        fig = ph_diagnostics(check, width_mm=width_mm)
    assert fig.get_size_inches()[0] * 25.4 == pytest.approx(width_mm)
    check_figure(fig)
    n_rows = len({round(ax.get_position().y0, 3) for ax in fig.axes})
    assert n_rows == (2 if width_mm == 85 else 1)  # 2 rows of 2 at 85 mm, 1 row of 3 at 180
    for ax in fig.axes:  # round times in the time unit, not quantiles such as 0.13
        labels = [t.get_text() for t in ax.get_xticklabels()]
        assert labels and all(float(s) == int(float(s)) for s in labels)
    plt.close(fig)
