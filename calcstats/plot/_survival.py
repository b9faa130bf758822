"""Kaplan–Meier, cumulative-incidence and adjusted-curve figures with a numbers-at-risk table.

Reads a curve result — :class:`~calcstats.KaplanMeierResult`,
:class:`~calcstats.CumulativeIncidenceResult` or :class:`~calcstats.AdjustedCurvesResult`
— and dispatches on its type (:func:`functools.singledispatch`): ``tidy()`` gives the
steps and bands, ``median()`` the median lines, ``risk_table(times)`` the counts under
the axis. Nothing is estimated here, and nothing is guessed: a DataFrame is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import singledispatch
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from calcstats._errors import CalcstatsError, InvalidParameterError
from calcstats._format import format_p
from calcstats._validation import BOOLEAN, NONE, validate_params
from calcstats.labels import Labels
from calcstats.plot._theme import LINESTYLES, OKABE_ITO
from calcstats.results import (
    AdjustedCurvesResult,
    CumulativeIncidenceResult,
    CurveResult,
    KaplanMeierResult,
)

__all__ = ["group_names", "survival"]


@dataclass(frozen=True)
class _Drawing:
    """What a curve result supports in the figure."""

    censor_marks: bool  # censoring times are known (n_censor)
    risk_table: bool  # numbers at risk are known
    falling: bool  # survival-like (starts at 1): y axis 0–1, test text at the bottom


@singledispatch
def _drawing(result: Any) -> _Drawing:
    raise CalcstatsError(
        "plot.survival draws a KaplanMeierResult (cs.kaplan_meier), a "
        "CumulativeIncidenceResult (cs.cumulative_incidence) or an AdjustedCurvesResult "
        f"(cs.adjusted_curves); got {type(result).__name__}."
    )


@_drawing.register
def _(result: pd.DataFrame) -> _Drawing:
    raise CalcstatsError(
        "plot.survival draws curve results, not DataFrames: a table of numbers does not "
        "say whether it holds survival or cumulative incidence, nor where the censorings "
        "are. Estimate the curves and pass the result: cs.kaplan_meier(...) for survival, "
        "cs.cumulative_incidence(...) with competing risks, cs.adjusted_curves(fit, ...) "
        "for model-based (standardised) curves."
    )


@_drawing.register
def _(result: KaplanMeierResult) -> _Drawing:
    return _Drawing(censor_marks=True, risk_table=True, falling=True)


@_drawing.register
def _(result: CumulativeIncidenceResult) -> _Drawing:
    return _Drawing(censor_marks=True, risk_table=True, falling=False)


@_drawing.register
def _(result: AdjustedCurvesResult) -> _Drawing:
    return _Drawing(censor_marks=False, risk_table=False, falling=not result.increasing)


def group_names(result: CurveResult, labels: Labels) -> list[str]:
    """Display name of each group of a curve result, from the level labels.

    One ``by`` column: the level label (``"Primary biliary cholangitis"``, not ``pbc``);
    several: ``"Variable: level, Variable: level"``; no ``by``: ``"All patients"``.
    """
    if not result.by:
        return ["All patients"]
    rows = result.groups.itertuples(index=False, name=None)
    if len(result.by) == 1:
        col = result.by[0]
        return [labels.level(col, row[0]) for row in rows]
    return [
        ", ".join(
            f"{labels.name(c)}: {labels.level(c, v)}" for c, v in zip(result.by, row, strict=True)
        )
        for row in rows
    ]


def _display_order(result: CurveResult, labels: Labels) -> list[int]:
    """Group positions in display order (the order of the level labels, if given)."""
    n = len(result.groups)
    if len(result.by) != 1:
        return list(range(n))
    values = result.groups.iloc[:, 0].tolist()
    ordered = labels.order(result.by[0], values)
    return [values.index(v) for v in ordered]


def _group_frames(result: CurveResult, tidy: pd.DataFrame) -> list[pd.DataFrame]:
    if not result.by:
        return [tidy]
    frames = []
    for row in result.groups.itertuples(index=False):
        mask = np.ones(len(tidy), dtype=bool)
        for col, val in zip(result.by, row, strict=True):
            mask &= (tidy[col] == val).to_numpy()
        frames.append(tidy.loc[mask])
    return frames


def _steps(frame: pd.DataFrame, start: float, column: str) -> tuple[np.ndarray, np.ndarray]:
    t = np.concatenate([[0.0], frame["time"].to_numpy(dtype=float)])
    y = np.concatenate([[start], frame[column].to_numpy(dtype=float)])
    return t, y


@validate_params(
    {
        "risk_table": [BOOLEAN, NONE],
        "risk_events": [BOOLEAN],
        "conf_int": [BOOLEAN],
        "censor_marks": [BOOLEAN],
        "median_lines": [BOOLEAN],
        "linestyles": [BOOLEAN],
        "percent": [BOOLEAN],
    }
)
def survival(
    result: KaplanMeierResult | CumulativeIncidenceResult | AdjustedCurvesResult,
    *,
    risk_table: bool | None = None,
    risk_times: Sequence[float] | None = None,
    risk_events: bool = False,
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
    figsize: tuple[float, float] | None = None,
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
        Add the numbers at risk under the x-axis (a Figure with two axes is returned).
        Default: when the result has numbers at risk (not for model-based adjusted
        curves, where ``risk_table=True`` is an error).
    risk_times : sequence of float, optional
        Times of the risk-table columns; default the x-axis major ticks.
    risk_events : bool, default False
        Also show cumulative events, as "n at risk (events)".
    conf_int : bool, default True
        Shade the pointwise confidence band (the result's ``conf_type``/``conf_level``).
    censor_marks : bool, default True
        Tick marks at censoring times (curves with known censorings only).
    median_lines : bool, default False
        Dotted lines to the median (survival curves only).
    test : TestResult, optional
        A log-rank or Gray's test; its p-value is written in the plot.
    labels : Labels or dict, optional
        Display labels, merged as ``Labels.default() | result.labels | labels``: the
        time axis reads ``labels.time(result.time_column)`` ("Time", or "Time (years)"
        when the unit is known) and groups show their level labels (in the level
        labels' order).
    colors : sequence of str, optional
        Colours per group (default: Okabe–Ito, colour-blind safe).
    linestyles : bool, default True
        Vary line styles too, so groups stay apart in greyscale.
    xlabel, ylabel : str, optional
        Axis labels (defaults: the time label above, and the result's ``measure``,
        "Survival probability" or "Cumulative incidence").
    xmax : float, optional
        Right limit of the time axis.
    ylim : (float, float), optional
        y limits (default 0–1; for rising curves 0 to a little above the maximum).
    percent : bool, default False
        Show the y axis in percent.
    title, legend_title : str, optional
        Axes title and legend title.
    figsize : (float, float), optional
        Figure size in inches (default 3.5 × 3.2 with a risk table).
    ax : matplotlib Axes, optional
        Draw the curves here (only without a risk table).

    Returns
    -------
    Figure (with a risk table) or Axes (without).

    Examples
    --------
    >>> import calcstats as cs
    >>> pbc = cs.datasets.load_pbc()
    >>> pbc = pbc.assign(years=pbc["time"] / 365.25, died=(pbc["status"] == 2).astype(int))
    >>> km = cs.kaplan_meier(pbc, time="years", event="died", by="sex")
    >>> fig = cs.plot.survival(km, risk_times=[0, 2, 4, 6, 8, 10, 12],
    ...                        labels=cs.Labels(variables={"years": "Time since entry"},
    ...                                         units={"years": "years"},
    ...                                         levels={"sex": {"m": "Male", "f": "Female"}}))
    >>> fig.axes[1].get_xlabel()
    'Time since entry (years)'
    >>> [t.get_text() for t in fig.axes[1].get_yticklabels()]  # level labels, their order
    ['Male', 'Female']
    """
    drawing = _drawing(result)
    if risk_table is None:
        risk_table = drawing.risk_table and ax is None
    elif risk_table and not drawing.risk_table:
        raise InvalidParameterError(
            f"plot.survival: a {type(result).__name__} has no numbers at risk (the curves "
            "are model-based); pass risk_table=False."
        )
    if risk_table and ax is not None:
        raise CalcstatsError(
            "A risk table needs its own axes: pass risk_table=False with ax=, or leave ax unset."
        )
    censor_marks = censor_marks and drawing.censor_marks
    lab = Labels.default() | result.labels | Labels.coerce(labels)
    falling = drawing.falling
    order = _display_order(result, lab)
    all_names = group_names(result, lab)
    all_frames = _group_frames(result, result.tidy())
    names = [all_names[i] for i in order]
    frames = [all_frames[i] for i in order]
    palette = list(colors) if colors is not None else list(OKABE_ITO)

    if risk_table:
        n_rows = len(frames)
        h = figsize or (3.5, 2.6 + 0.17 * (n_rows + 1))
        fig = plt.figure(figsize=h)
        table_share = (0.17 * (n_rows + 1.2)) / h[1]
        gs = fig.add_gridspec(2, 1, height_ratios=[1 - table_share, table_share], hspace=0.0)
        ax = fig.add_subplot(gs[0])
        ax_rt = fig.add_subplot(gs[1], sharex=ax)
    else:
        if ax is None:
            _, ax = plt.subplots(figsize=figsize or (3.5, 2.6))
        fig, ax_rt = ax.figure, None

    top = 0.0
    for i, (frame, name) in enumerate(zip(frames, names, strict=True)):
        color = palette[i % len(palette)]
        style = LINESTYLES[i % len(LINESTYLES)] if linestyles else "-"
        t, y = _steps(frame, result.start_value, "estimate")
        if xmax is not None:
            keep = t <= xmax
            t, y = np.append(t[keep], xmax), np.append(y[keep], y[keep][-1])
        else:
            t, y = np.append(t, t[-1]), np.append(y, y[-1])
        ax.step(t, y, where="post", color=color, linestyle=style, label=name, gid=f"curve-{i}")
        top = max(top, float(np.nanmax(y)))
        if conf_int:
            tl, lo = _steps(frame, result.start_value, "conf_low")
            _, hi = _steps(frame, result.start_value, "conf_high")
            ok = np.isfinite(lo) & np.isfinite(hi)
            ax.fill_between(
                tl,
                np.where(ok, lo, np.nan),
                np.where(ok, hi, np.nan),
                step="post",
                color=color,
                alpha=0.15,
                linewidth=0,
                gid=f"band-{i}",
            )
        if censor_marks:
            cens = frame.loc[frame["n_censor"].to_numpy() > 0]
            if xmax is not None:
                cens = cens.loc[cens["time"] <= xmax]
            ax.plot(
                cens["time"],
                cens["estimate"],
                linestyle="none",
                marker="|",
                color=color,
                markersize=4,
                markeredgewidth=0.7,
                gid=f"censor-{i}",
            )
    if median_lines and falling:
        med = result.median()["median"].to_numpy(dtype=float)
        for i, g in enumerate(order):
            m = med[g]
            if np.isfinite(m):
                ax.plot(
                    [0, m, m],
                    [0.5, 0.5, 0],
                    color=palette[i % len(palette)],
                    linestyle=":",
                    linewidth=0.7,
                    gid=f"median-{i}",
                )
    if test is not None:
        name = getattr(test, "method", "Test").split(" (")[0]
        p = format_p(test.p_value)
        txt = f"{name} p {p[0]} {p[1:]}" if p.startswith(("<", ">")) else f"{name} p = {p}"
        loc = (0.04, 0.06) if falling else (0.04, 0.92)
        ax.text(
            *loc,
            txt,
            transform=ax.transAxes,
            ha="left",
            va="bottom" if falling else "top",
            gid="test",
        )

    ax.set_ylabel(ylabel or result.measure)
    if ylim is not None:
        ax.set_ylim(*ylim)
    elif falling:
        ax.set_ylim(0, 1.02)
    else:
        ax.set_ylim(0, min(1.0, max(0.05, top * 1.15)))
    ax.set_xlim(left=0, right=xmax)
    if percent:
        ax.yaxis.set_major_formatter(lambda v, _pos: f"{100 * v:.0f}%")
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True, min_n_ticks=4))
    if title:
        ax.set_title(title)
    if len(frames) > 1:
        ax.legend(title=legend_title, loc="best", handlelength=2.2)
    xl = xlabel or lab.time(result.time_column)
    if ax_rt is None:
        ax.set_xlabel(xl)
        return ax

    fig.canvas.draw()  # fix the tick locations before reading them
    lo_x, hi_x = ax.get_xlim()
    ticks = [t for t in ax.get_xticks() if lo_x - 1e-9 <= t <= hi_x + 1e-9]
    times = np.unique(np.asarray(risk_times if risk_times is not None else ticks, dtype=float))
    counts = result.risk_table(times)
    ax.tick_params(labelbottom=False)
    ax.set_xlabel("")
    ax_rt.set_ylim(-0.5, len(frames) - 0.5 + 1.0)
    ax_rt.invert_yaxis()
    n_per = len(times)
    for i, g in enumerate(order):
        rows = counts.iloc[g * n_per : (g + 1) * n_per]
        for t_i, (_, r) in zip(times, rows.iterrows(), strict=True):
            text = f"{int(r['n_risk'])}"
            if risk_events:
                text += f" ({int(r['n_event'])})"
            ax_rt.text(
                t_i,
                i + 1,
                text,
                ha="center",
                va="center",
                fontsize="small",
                color=palette[i % len(palette)],
                gid=f"risk-{i}",
            )
    ax_rt.text(
        0,
        0,
        "Number at risk" + (" (events)" if risk_events else ""),
        ha="left",
        va="center",
        fontsize="small",
        fontweight="bold",
        transform=ax_rt.get_yaxis_transform(),
        gid="risk-title",
    )
    ax_rt.set_yticks(range(1, len(names) + 1), labels=names if len(frames) > 1 else [""])
    for tick, i in zip(ax_rt.get_yticklabels(), range(len(names)), strict=True):
        tick.set_color(palette[i % len(palette)])
    widest = max(len(f"{int(v)}") for v in counts.loc[counts["time"] == times.min(), "n_risk"])
    if risk_events:
        widest += 4
    fs = plt.rcParams["font.size"] * 0.83
    pad = 4 + 0.6 * fs * widest / 2 if times.min() <= ax.get_xlim()[0] + 1e-9 else 4
    ax_rt.tick_params(axis="y", length=0, labelsize="small", pad=pad)
    ax_rt.tick_params(axis="x", length=3)
    for side in ("left", "right", "top"):
        ax_rt.spines[side].set_visible(False)
    ax_rt.set_xlabel(xl)
    fig.align_ylabels([ax, ax_rt])
    fig.subplots_adjust(left=0.15, right=0.96, top=0.97, bottom=0.12)
    # make room on the left for the group labels of the risk table
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    x0 = min(a.get_tightbbox(renderer).x0 for a in (ax, ax_rt))
    overflow = fig.transFigure.inverted().transform((x0, 0))[0]
    if overflow < 0.01:
        fig.subplots_adjust(left=0.15 + 0.01 - overflow)
    return fig
