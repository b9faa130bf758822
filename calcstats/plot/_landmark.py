"""Landmark figure: curves up to the landmark, and curves restarted at it.

A landmark analysis (:func:`calcstats.landmark`) compares groups among the patients
still event-free and followed at the landmark time, so that an exposure known only later
(e.g. calcification seen on imaging during the first year) is not credited with the
event-free time before it was seen. The usual figure (e.g. in cardiology trials) draws
the curves of the whole cohort up to the landmark and, from the landmark on, the curves
of the landmark cohort restarted (survival at 1, incidence at 0), with a dotted line at
the landmark and one numbers-at-risk table under both parts.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from calcstats._errors import (
    CalcstatsError,
    CalcstatsWarning,
    InvalidParameterError,
    user_stacklevel,
)
from calcstats._validation import BOOLEAN, NONE, NUMBERS, POSITIVE, TEXT, validate_params
from calcstats.labels import Labels
from calcstats.plot._curves import (
    Groups,
    draw_curves,
    drawing,
    finish_axes,
    groups_of,
    p_value_text,
    thin_censor_marks,
)
from calcstats.plot._layout import CurveFigure, TableSpec
from calcstats.plot._risk_table import TABLES, cell_texts, table_title
from calcstats.plot._style import publication
from calcstats.results import CumulativeIncidenceResult, CurveResult, KaplanMeierResult
from calcstats.survival import LandmarkData

__all__ = ["landmark"]


def _matched(before: CurveResult, after: CurveResult, groups: Groups) -> Groups:
    """``groups`` (of ``before``) with the positions of the same groups in ``after``."""
    keys_b = [tuple(r) for r in before.groups.itertuples(index=False, name=None)]
    keys_a = [tuple(r) for r in after.groups.itertuples(index=False, name=None)]
    if before.by != after.by or set(keys_b) != set(keys_a):
        raise CalcstatsError(
            "plot.landmark: before and after must have the same groups (the same by= and "
            f"levels); before has {before.by} = {keys_b}, after {after.by} = {keys_a}. "
            "Estimate both with the same by=."
        )
    order = [keys_a.index(keys_b[g]) for g in groups.order]
    return Groups(order, groups.names, groups.colors, groups.styles, groups.title)


def _cells(
    before: CurveResult, after: CurveResult, at: float, what: str, gb: Groups, ga: Groups
) -> Any:
    def cells(times: np.ndarray) -> list[list[str]]:
        early, late = times[times < at], times[times >= at]
        rows_b = cell_texts(before, early, what, gb.order) if early.size else None
        rows_a = cell_texts(after, late - at, what, ga.order) if late.size else None
        return [
            (rows_b[i] if rows_b else []) + (rows_a[i] if rows_a else []) for i in range(len(gb))
        ]

    return cells


@validate_params(
    {
        "risk_table": [BOOLEAN],
        "risk_times": [NUMBERS, NONE],
        "conf_int": [BOOLEAN],
        "censor_marks": [BOOLEAN],
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
def landmark(
    data: LandmarkData,
    *,
    before: KaplanMeierResult | CumulativeIncidenceResult,
    after: KaplanMeierResult | CumulativeIncidenceResult,
    risk_table: bool = True,
    risk_times: Sequence[float] | None = None,
    conf_int: bool = True,
    censor_marks: bool = True,
    tests: tuple[Any, Any] | None = None,
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
    """Draw a landmark analysis: curves to the landmark, then restarted at it.

    Parameters
    ----------
    data : LandmarkData
        From :func:`calcstats.landmark`: its ``at`` is the landmark time.
    before : KaplanMeierResult or CumulativeIncidenceResult
        Curves of the whole cohort (drawn from 0 to the landmark).
    after : KaplanMeierResult or CumulativeIncidenceResult
        Curves of the landmark cohort, estimated on ``data.table`` (time measured from
        the landmark); drawn from the landmark on. Same type and groups as ``before``.
    risk_table : bool, default True
        Numbers at risk under the plot: of the whole cohort before the landmark, of the
        landmark cohort from it on (so the landmark's column shows who entered it).
    risk_times : sequence of float, optional
        Times of the table columns (default: the time axis' ticks that fit, and the
        landmark).
    conf_int, censor_marks : bool, default True
        As in :func:`calcstats.plot.survival`.
    tests : (TestResult or None, TestResult or None), optional
        Tests before and after the landmark; their p-values are written in the plot
        ("Before landmark: Log-rank test p = 0.002").
    labels, colors, linestyles, xlabel, ylabel, xmax, ylim, percent, title, legend_title
        As in :func:`calcstats.plot.survival` (the time axis is that of ``before``).
    width_mm, height_mm : float
        Size of a new figure (default 85 mm wide).
    ax : matplotlib Axes, optional
        Draw the curves here (no risk table) and return it.

    Returns
    -------
    Figure (with the risk table) or Axes.

    Examples
    --------
    >>> import calcstats as cs
    >>> pbc = cs.datasets.load_pbc()
    >>> pbc = pbc.assign(years=pbc["time"] / 365.25, died=(pbc["status"] == 2).astype(int))
    >>> lm = cs.landmark(pbc, time="years", event="died", at=2)
    >>> km_all = cs.kaplan_meier(pbc, time="years", event="died", by="sex")
    >>> km_lm = cs.kaplan_meier(lm.table, time="years", event="died", by="sex")
    >>> fig = cs.plot.landmark(lm, before=km_all, after=km_lm, risk_times=[0, 1, 2, 6, 10])
    >>> [t.get_text() for t in fig.axes[1].texts if t.get_gid() == "risk-0"]
    ['374', '346', '326', '145', '29']
    """
    if not isinstance(data, LandmarkData):
        raise CalcstatsError(
            f"plot.landmark takes the LandmarkData of cs.landmark(...) first; got "
            f"{type(data).__name__}."
        )
    for name, res in (("before", before), ("after", after)):
        if not isinstance(res, KaplanMeierResult | CumulativeIncidenceResult):
            raise CalcstatsError(
                f"plot.landmark: {name}= must be a KaplanMeierResult or a "
                f"CumulativeIncidenceResult; got {type(res).__name__}."
            )
    if type(before) is not type(after):
        raise CalcstatsError(
            f"plot.landmark: before is a {type(before).__name__} but after a "
            f"{type(after).__name__}; estimate both the same way."
        )
    if risk_table and ax is not None:
        raise CalcstatsError(
            "A risk table needs its own axes: pass risk_table=False with ax=, or leave ax unset."
        )
    if ylim is not None and (len(ylim) != 2 or not ylim[0] < ylim[1]):
        raise InvalidParameterError(
            f"The 'ylim' parameter of landmark must be (low, high) with low < high. Got {ylim!r}."
        )
    if tests is not None and (not isinstance(tests, tuple | list) or len(tests) != 2):
        raise InvalidParameterError(
            "The 'tests' parameter of landmark must be (test before, test after); use None "
            f"for a part without a test. Got {tests!r}."
        )
    entered = float(np.sum(after.n)) + after.n_zero_weight if after.n is not None else None
    if entered is not None and entered != data.n_in:
        warnings.warn(
            f"plot.landmark: after= has {entered:g} rows but the landmark data set has "
            f"{data.n_in}; estimate after= on the LandmarkData's table.",
            CalcstatsWarning,
            stacklevel=user_stacklevel(),
        )
    at = data.at
    how = drawing(before)
    lab = Labels.default() | before.labels | after.labels | Labels.coerce(labels)
    with publication():
        groups = groups_of(before, lab, colors=colors, linestyles=linestyles)
        groups_after = _matched(before, after, groups)
        tables = []
        if risk_table:
            tables.append(
                TableSpec(
                    title=table_title("at_risk", before),
                    gid=TABLES["at_risk"][1],
                    cells=_cells(before, after, at, "at_risk", groups, groups_after),
                    names=groups.names,
                    colors=groups.colors,
                )
            )
        layout = None
        if ax is None:
            layout = CurveFigure(
                width_mm=width_mm,
                height_mm=height_mm,
                tables=tables,
                times=risk_times,
                extra_ticks=[at],
            )
            ax = layout.ax
        early = draw_curves(
            ax, before, groups, conf_int=conf_int, censor_marks=censor_marks, end=at
        )
        late = draw_curves(
            ax,
            after,
            groups_after,
            conf_int=conf_int,
            censor_marks=censor_marks,
            end=None if xmax is None else max(xmax - at, 0.0),
            shift=at,
            gid="after-",
        )
        ax.axvline(at, color="0.45", linestyle=(0, (1, 2)), linewidth=0.7, gid="landmark")
        span = xmax if xmax is not None else late.last_time
        finish_axes(
            ax,
            falling=how.falling,
            top=max(early.high, late.high),
            xmax=span,
            ylim=ylim,
            percent=percent,
            ylabel=ylabel or before.measure,
            xlabel=xlabel or lab.time(before.time_column),
            title=title,
            test=None,
            groups=groups,
            handles=early.handles,
            legend_title=legend_title,
        )
        parts = [
            f"{when} landmark: {p_value_text(test)}"
            for when, test in zip(("Before", "After"), tests or (None, None), strict=True)
            if test is not None
        ]
        if parts:
            ax.text(
                0.03,
                0.04 if how.falling else 0.97,
                "\n".join(parts),
                transform=ax.transAxes,
                ha="left",
                va="bottom" if how.falling else "top",
                fontsize="small",
                gid="test",
            )
        if layout is None:
            thin_censor_marks(ax)
            return ax
        layout.finish(span)
        return layout.fig if tables else ax
