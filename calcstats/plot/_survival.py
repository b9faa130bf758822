"""Kaplan–Meier, cumulative-incidence and adjusted-curve figures with a numbers-at-risk table.

Reads a curve result — :class:`~calcstats.KaplanMeierResult`,
:class:`~calcstats.CumulativeIncidenceResult` or :class:`~calcstats.AdjustedCurvesResult`
— and dispatches on its type: ``tidy()`` gives the steps and bands, ``median()`` the
median lines, ``risk_table(times)`` the counts under the axis. Nothing is estimated here,
and nothing is guessed: a DataFrame is refused.

The seaborn pattern: with ``ax=`` :func:`survival` draws the curves on that axes and
returns it; :func:`calcstats.plot.risk_table` draws a table on another; without ``ax=``
the figure-level call composes the two (and an optional cumulative-events table) and
returns the Figure. Everything is drawn in the local publication style
(:mod:`calcstats.plot._style`): no theme is needed, and a theme still wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from calcstats._errors import CalcstatsError, InvalidParameterError
from calcstats._validation import BOOLEAN, NONE, NUMBERS, POSITIVE, TEXT, validate_params
from calcstats.labels import Labels
from calcstats.plot._curves import (
    draw_curves,
    drawing,
    finish_axes,
    group_names,
    groups_of,
    thin_censor_marks,
)
from calcstats.plot._layout import CurveFigure, TableSpec
from calcstats.plot._risk_table import TABLES, cell_texts, table_title
from calcstats.plot._style import publication
from calcstats.results import (
    AdjustedCurvesResult,
    CumulativeIncidenceResult,
    KaplanMeierResult,
)

__all__ = ["group_names", "survival"]


@validate_params(
    {
        "risk_table": [BOOLEAN, NONE],
        "risk_times": [NUMBERS, NONE],
        "risk_events": [BOOLEAN],
        "cumulative_events": [BOOLEAN],
        "conf_int": [BOOLEAN],
        "censor_marks": [BOOLEAN],
        "median_lines": [BOOLEAN],
        "linestyles": [BOOLEAN],
        "percent": [BOOLEAN],
        "xlabel": [TEXT, NONE],
        "ylabel": [TEXT, NONE],
        "title": [TEXT, NONE],
        "legend_title": [TEXT, NONE],
        "xmax": [POSITIVE, NONE],
        "width_mm": [POSITIVE],
        "height_mm": [POSITIVE, NONE],
    }
)
def survival(
    result: KaplanMeierResult | CumulativeIncidenceResult | AdjustedCurvesResult,
    *,
    risk_table: bool | None = None,
    risk_times: Sequence[float] | None = None,
    risk_events: bool = False,
    cumulative_events: bool = False,
    conf_int: bool = True,
    censor_marks: bool = True,
    median_lines: bool = False,
    test: Any = None,
    labels: Labels | dict[str, str] | None = None,
    colors: Sequence[str] | None = None,
    linestyles: bool = True,
    xlabel: str | None = None,
    ylabel: str | None = None,
    xmax: float | None = None,
    ylim: tuple[float, float] | None = None,
    percent: bool = False,
    title: str | None = None,
    legend_title: str | None = None,
    width_mm: float = 85.0,
    height_mm: float | None = None,
    ax: Axes | None = None,
) -> Figure | Axes:
    """Draw Kaplan–Meier, cumulative-incidence or adjusted curves, with a risk table.

    Parameters
    ----------
    result : KaplanMeierResult, CumulativeIncidenceResult or AdjustedCurvesResult
        Result of :func:`calcstats.kaplan_meier`, :func:`calcstats.cumulative_incidence`
        or :func:`calcstats.adjusted_curves`. A DataFrame is refused: it does not say
        what its curves estimate.
    risk_table : bool, optional
        Add the numbers at risk under the plot (a Figure is returned). Default: when the
        result has numbers at risk and ``ax`` is not given (never for model-based
        adjusted curves, where ``risk_table=True`` is an error). With case weights the
        table shows the actual numbers of patients and its title says "(unweighted
        counts)"; the curves are weighted.
    risk_times : sequence of float, optional
        Times of the table columns. Default: the time axis' ticks, as many as fit: the
        ticks are thinned until the numbers of neighbouring columns stay apart.
    risk_events : bool, default False
        Show "n at risk (cumulative events)" in the risk table.
    cumulative_events : bool, default False
        Add a second table, the cumulative number of events (survminer's
        ``cumevents``).
    conf_int : bool, default True
        Shade the pointwise confidence band (the result's ``conf_type``/``conf_level``).
    censor_marks : bool, default True
        Tick marks at censoring times (curves with known censorings only). Marks nearer
        than 3 pt (about 1 mm) to the previous mark are not drawn, so heavy censoring
        reads as a row of ticks, never as a solid bar.
    median_lines : bool, default False
        Dotted lines to the median (survival curves only).
    test : TestResult, optional
        A log-rank or Gray's test; its p-value is written in the plot.
    labels : Labels or dict, optional
        Display labels, merged as ``Labels.default() | result.labels | labels``. The
        time axis reads ``labels.time(result.time_column)``: "Time", or "Time (years)"
        when the unit is known. Groups show their level labels, in the level labels'
        order; 0/1 groups without level labels read "No"/"Yes" under a legend title
        naming the variable ("Any calcification").
    colors : sequence of str, optional
        Colours per group (default: Okabe–Ito, colour-blind safe).
    linestyles : bool, default True
        Vary line styles too, so groups stay apart in greyscale.
    xlabel, ylabel : str, optional
        Axis labels (defaults: the time label above, and the result's ``measure``,
        "Survival probability" or "Cumulative incidence").
    xmax : float, optional
        Right limit of the time axis (curves are cut there).
    ylim : (float, float), optional
        y limits. Default 0–1 for survival; for rising curves 0 to just above the
        highest upper confidence limit drawn, so no band is cut.
    percent : bool, default False
        Show the y axis in percent.
    title, legend_title : str, optional
        Axes title and legend title.
    width_mm : float, default 85
        Width of a new figure (85 mm: one journal column; 180 mm: two). The height
        follows from the width and the tables' rows.
    height_mm : float, optional
        Fix the figure's height instead (the tables keep the height their rows need).
    ax : matplotlib Axes, optional
        Draw the curves here and return it (no risk table; draw one on another axes with
        :func:`calcstats.plot.risk_table`).

    Returns
    -------
    Figure (with tables) or Axes (without).

    Examples
    --------
    >>> import calcstats as cs
    >>> pbc = cs.datasets.load_pbc()
    >>> pbc = pbc.assign(years=pbc["time"] / 365.25, died=(pbc["status"] == 2).astype(int))
    >>> km = cs.kaplan_meier(pbc, time="years", event="died", by="sex")
    >>> fig = cs.plot.survival(km, risk_times=[0, 4, 8, 12],
    ...                        labels=cs.Labels(variables={"years": "Time since entry"},
    ...                                         units={"years": "years"},
    ...                                         levels={"sex": {"m": "Male", "f": "Female"}}))
    >>> fig.axes[0].get_xlabel()
    'Time since entry (years)'
    >>> [t.get_text() for t in fig.axes[1].get_yticklabels()]  # level labels, their order
    ['Male', 'Female']
    """
    how = drawing(result)
    if risk_table is None:
        risk_table = how.risk_table and ax is None
    if (risk_table or cumulative_events) and not how.risk_table:
        raise InvalidParameterError(
            f"plot.survival: a {type(result).__name__} has no numbers at risk (the curves "
            "are model-based); pass risk_table=False (and cumulative_events=False)."
        )
    if (risk_table or cumulative_events) and ax is not None:
        raise CalcstatsError(
            "A risk table needs its own axes: pass risk_table=False with ax= (and draw the "
            "table with cs.plot.risk_table(result, ax=...)), or leave ax unset."
        )
    if ylim is not None and (len(ylim) != 2 or not ylim[0] < ylim[1]):
        raise InvalidParameterError(
            f"The 'ylim' parameter of survival must be (low, high) with low < high. Got {ylim!r}."
        )
    lab = Labels.default() | result.labels | Labels.coerce(labels)
    with publication():
        groups = groups_of(result, lab, colors=colors, linestyles=linestyles)
        tables = []
        for wanted, what in (
            (risk_table, "at_risk_events" if risk_events else "at_risk"),
            (cumulative_events, "events"),
        ):
            if wanted:
                tables.append(
                    TableSpec(
                        title=table_title(what, result),
                        gid=TABLES[what][1],
                        cells=lambda ts, what=what: cell_texts(result, ts, what, groups.order),
                        names=groups.names,
                        colors=groups.colors,
                    )
                )
        layout = None
        if ax is None:
            layout = CurveFigure(
                width_mm=width_mm, height_mm=height_mm, tables=tables, times=risk_times
            )
            ax = layout.ax
        drawn = draw_curves(
            ax,
            result,
            groups,
            conf_int=conf_int,
            censor_marks=censor_marks and how.censor_marks,
            median_lines=median_lines,
            end=xmax,
        )
        span = xmax if xmax is not None else drawn.last_time
        finish_axes(
            ax,
            falling=how.falling,
            top=drawn.high,
            xmax=span,
            ylim=ylim,
            percent=percent,
            ylabel=ylabel or result.measure,
            xlabel=xlabel or lab.time(result.time_column),
            title=title,
            test=test,
            groups=groups,
            handles=drawn.handles,
            legend_title=legend_title,
        )
        if layout is None:
            thin_censor_marks(ax)
            return ax
        layout.finish(span)
        return layout.fig if tables else ax
