"""Proportional-hazards diagnostics: scaled Schoenfeld residuals against time.

Reads a :class:`~calcstats.PHTestResult` (``cox(...).check_ph()``): its residuals, the
spline smooth with its band (``PHTestResult.smooth``), the coefficients and the per-term
tests. Draws only; a fitted model is refused (the check is computed by ``check_ph()``).

The figure is composed of one axes-level panel per term; the number of panels per row
follows the width (panels at least 40 mm wide), titles wrap to their panel, and the time
axis shows round times (in the original unit) thinned until their labels do not touch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import singledispatch
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from calcstats._errors import CalcstatsError, InvalidParameterError
from calcstats._format import format_p
from calcstats._validation import COLUMNS, NONE, TEXT, Interval, validate_params
from calcstats.labels import Labels
from calcstats.plot._sizing import WIDTH_MM, SpacedLocator, figure_of, new_figure, settle
from calcstats.plot._style import publication, wrap
from calcstats.results import ModelResult, PHTestResult

__all__ = ["ph_diagnostics"]


@singledispatch
def _check(result: Any) -> PHTestResult:
    raise CalcstatsError(
        "ph_diagnostics draws the proportional-hazards check of a Cox model, a "
        f"PHTestResult (fit.check_ph()); got {type(result).__name__}."
    )


@_check.register
def _(result: PHTestResult) -> PHTestResult:
    return result


@_check.register
def _(result: ModelResult) -> PHTestResult:
    raise CalcstatsError(
        "ph_diagnostics draws a proportional-hazards check, not a model: run the check "
        "and pass it, cs.plot.ph_diagnostics(fit.check_ph()) (check_ph(transform=...) "
        f"chooses the time scale). Got a {type(result).__name__}."
    )


_MIN_PANEL_MM = 40.0


@validate_params(
    {
        "terms": [COLUMNS, NONE],
        "df": [Interval(2, None, integer=True)],
        "ncols": [Interval(1, None, integer=True), NONE],
        "xlabel": [TEXT, NONE],
        "width_mm": [WIDTH_MM],
    }
)
def ph_diagnostics(
    result: PHTestResult,
    *,
    terms: Sequence[str] | None = None,
    df: int = 4,
    ncols: int | None = None,
    labels: Labels | dict[str, str] | None = None,
    xlabel: str | None = None,
    width_mm: float = 180.0,
) -> Figure:
    """Plot scaled Schoenfeld residuals of a Cox model against time, one panel per term.

    Each panel shows the residuals (an estimate of β(t)), a natural-spline smooth with its
    ±2 SE band (as R's ``plot(cox.zph(fit))``), the fitted coefficient as a dotted line
    (single-column terms), and the term's cox.zph p-value. A flat smooth around the dotted
    line supports proportional hazards. The x axis is the transformed time of the check
    (``"km"`` by default) labelled in original time units.

    Parameters
    ----------
    result : PHTestResult
        The check of a fitted :func:`calcstats.cox`: ``fit.check_ph()``.
    terms : sequence of str, optional
        Terms to draw (default all).
    df : int, default 4
        Degrees of freedom of the smooth.
    ncols : int, optional
        Panels per row (default: as many as fit at least 40 mm wide, at most 4).
    labels : Labels or dict, optional
        Display labels, merged as ``Labels.default() | result.labels | labels``: panel
        titles are the terms' labels, the x axis ``labels.time(result.time_column)``.
    xlabel : str, optional
        x-axis label (overrides the time label).
    width_mm : float, default 180
        Width of the figure in millimetres (a double column; 85 for a single one); the
        height follows the rows of panels.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, calcstats as cs
    >>> pbc = cs.datasets.load_pbc().dropna(subset=["trt"])
    >>> pbc = pbc.assign(years=pbc["time"] / 365.25, died=(pbc["status"] == 2).astype(int))
    >>> fit = cs.cox(pbc, "age + edema + np.log(bili)", time="years", event="died")
    >>> fig = cs.plot.ph_diagnostics(fit.check_ph(), labels={"bili": "Bilirubin"})
    >>> [ax.get_title().split("\\n")[0] for ax in fig.axes]
    ['Age', 'Edema', 'Bilirubin (log)']
    """
    check = _check(result)
    lab = Labels.default() | check.labels | Labels.coerce(labels)
    all_terms = check.terms
    chosen = [terms] if isinstance(terms, str) else list(terms or all_terms)
    unknown = [t for t in chosen if t not in all_terms]
    if unknown:
        raise InvalidParameterError(
            f"The 'terms' parameter of ph_diagnostics must name terms of the model "
            f"({', '.join(map(repr, all_terms))}). Got {unknown}."
        )
    n = len(chosen)
    ncols = ncols or max(1, min(n, 4, int(width_mm // _MIN_PANEL_MM)))
    nrows = math.ceil(n / ncols)
    panel_mm = width_mm / ncols
    with publication():
        fig = new_figure(width_mm, nrows * (0.7 * panel_mm + 14.0) / 25.4)
        gs = fig.add_gridspec(nrows, ncols)
        time_label = xlabel or lab.time(check.time_column)
        for k, term in enumerate(chosen):
            ax = fig.add_subplot(gs[k // ncols, k % ncols])
            _panel(ax, check, term, lab, df=df, xlabel=time_label)
        settle(fig)
    return fig


def _panel(ax: Axes, check: PHTestResult, term: str, lab: Labels, *, df: int, xlabel: str) -> Axes:
    """One term's residuals, smooth, band, coefficient and p-value on one axes."""
    res = check.residuals
    order = np.argsort(res["x"].to_numpy(dtype=float))
    x_all = res["x"].to_numpy(dtype=float)[order]
    t_all = res["time"].to_numpy(dtype=float)[order]
    y = res[check.columns[term]].to_numpy(dtype=float)
    ax.scatter(res["x"], y, s=4, color="0.55", linewidths=0, gid="residuals")
    sm = check.smooth(term, df=df)
    ax.plot(sm["x"], sm["fit"], color="black", linewidth=1.1, gid="smooth")
    ax.plot(sm["x"], sm["conf_low"], color="black", linewidth=0.7, linestyle="--", gid="band")
    ax.plot(sm["x"], sm["conf_high"], color="black", linewidth=0.7, linestyle="--", gid="band")
    coef = float(check.coefficients[term])
    if np.isfinite(coef):
        ax.axhline(coef, color="#D55E00", linewidth=0.8, linestyle=":", gid="coef")
    p = format_p(float(check.tidy(details=True).set_index("term").loc[term, "p_value"]))
    p_text = f"p {p[0]} {p[1:]}" if p.startswith(("<", ">")) else f"p = {p}"
    fig = figure_of(ax)
    panel_in = ax.get_position().width * fig.get_size_inches()[0]
    ax.set_title(f"{wrap(lab.term(term)[0], panel_in, fig)}\n{p_text}", fontsize="medium")
    ax.set_ylabel("β(t)")
    ax.yaxis.set_major_locator(SpacedLocator(lambda: MaxNLocator(5).tick_values(*ax.get_ylim())))
    # round times in the original unit, placed on the transformed axis
    times = MaxNLocator(6, steps=[1, 2, 2.5, 5, 10]).tick_values(t_all.min(), t_all.max())
    times = times[(times >= t_all.min()) & (times <= t_all.max())]
    pos, keep = np.unique(np.interp(times, t_all, x_all), return_index=True)
    names = {float(v): f"{t:g}" for v, t in zip(pos, times[keep], strict=True)}
    ax.xaxis.set_major_locator(SpacedLocator(lambda: pos))
    ax.xaxis.set_major_formatter(
        lambda v, _p: names.get(float(v), f"{np.interp(v, x_all, t_all):g}")
    )
    ax.set_xlabel(xlabel)
    return ax
