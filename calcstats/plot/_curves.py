"""Curve drawing shared by the survival figures: groups, steps, bands, censor marks, limits.

Reads a curve result and draws on one axes; nothing is estimated. The figure-level
functions (:func:`calcstats.plot.survival`, :func:`calcstats.plot.landmark`) compose
these pieces with :func:`calcstats.plot.risk_table`.
"""

from __future__ import annotations

import numbers
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from functools import singledispatch
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator

from calcstats._errors import CalcstatsError
from calcstats._format import format_p
from calcstats.labels import Labels
from calcstats.plot._sizing import figure_of
from calcstats.plot._style import _renderer, text_width, wrap
from calcstats.plot._theme import LINESTYLES, OKABE_ITO
from calcstats.results import (
    AdjustedCurvesResult,
    CumulativeIncidenceResult,
    CurveResult,
    KaplanMeierResult,
)

__all__ = ["Drawing", "Drawn", "Groups", "drawing", "group_names", "groups_of"]

#: Censor marks nearer than this (points) to the previous mark drawn are not drawn.
MARK_GAP_PT = 3.0
#: Height of a censor mark (points).
MARK_SIZE_PT = 3.5


@dataclass(frozen=True)
class Drawing:
    """What a curve result supports in the figure."""

    censor_marks: bool  # censoring times are known (n_censor)
    risk_table: bool  # numbers at risk are known
    falling: bool  # survival-like (starts at 1): y axis 0–1, test text at the bottom


@singledispatch
def drawing(result: Any) -> Drawing:
    raise CalcstatsError(
        "plot.survival draws a KaplanMeierResult (cs.kaplan_meier), a "
        "CumulativeIncidenceResult (cs.cumulative_incidence) or an AdjustedCurvesResult "
        f"(cs.adjusted_curves); got {type(result).__name__}."
    )


@drawing.register
def _(result: pd.DataFrame) -> Drawing:
    raise CalcstatsError(
        "plot.survival draws curve results, not DataFrames: a table of numbers does not "
        "say whether it holds survival or cumulative incidence, nor where the censorings "
        "are. Estimate the curves and pass the result: cs.kaplan_meier(...) for survival, "
        "cs.cumulative_incidence(...) with competing risks, cs.adjusted_curves(fit, ...) "
        "for model-based (standardised) curves."
    )


@drawing.register
def _(result: KaplanMeierResult) -> Drawing:
    return Drawing(censor_marks=True, risk_table=True, falling=True)


@drawing.register
def _(result: CumulativeIncidenceResult) -> Drawing:
    return Drawing(censor_marks=True, risk_table=True, falling=False)


@drawing.register
def _(result: AdjustedCurvesResult) -> Drawing:
    return Drawing(censor_marks=False, risk_table=False, falling=not result.increasing)


# ---- groups -------------------------------------------------------------------------------
def _is_binary(values: Sequence[Any]) -> bool:
    """0/1 (or boolean) codes: shown as No/Yes."""
    vals = [v for v in values if v is not None]
    if not vals or any(isinstance(v, str) for v in vals):
        return False
    try:
        return {float(v) for v in vals} <= {0.0, 1.0}
    except (TypeError, ValueError):
        return False


def _level(lab: Labels, col: str, value: Any, binary: bool) -> str:
    text = lab.level(col, value)
    if binary and text in (str(value), "0", "1"):  # unlabelled 0/1 codes
        return "Yes" if float(value) == 1.0 else "No"
    return text


def _code(value: Any) -> str:
    """How an unlabelled numeric level prints (3.0 → "3")."""
    v = float(value)
    return str(int(v)) if v.is_integer() else str(value)


def group_names(result: CurveResult, labels: Labels) -> list[str]:
    """Display name of each group of a curve result (in curve order), from the labels.

    One ``by`` column: the level label ("Primary biliary cholangitis", never ``pbc``);
    0/1 codes without level labels read "No"/"Yes" (the legend's title names the
    variable); other unlabelled numeric codes read "Variable: value" ("Stage: 2").
    Several columns: ``"Variable: level, Variable: level"``. No ``by``: ``"All
    patients"``.
    """
    if not result.by:
        return ["All patients"]
    binary = {c: _is_binary(result.groups[c].tolist()) for c in result.by}
    rows = list(result.groups.itertuples(index=False, name=None))
    if len(result.by) == 1:
        col = result.by[0]
        out = []
        for (value,) in rows:
            text = _level(labels, col, value, binary[col])
            numeric = isinstance(value, numbers.Number) and not isinstance(value, bool)
            if numeric and not binary[col] and text == labels.level(col, value) == _code(value):
                text = f"{labels.name(col)}: {text}"
            out.append(text)
        return out
    return [
        ", ".join(
            f"{labels.name(c)}: {_level(labels, c, v, binary[c])}"
            for c, v in zip(result.by, row, strict=True)
        )
        for row in rows
    ]


@dataclass(frozen=True)
class Drawn:
    """What :func:`draw_curves` drew: the y range (estimates and bands), the last time
    drawn and the curves (legend handles)."""

    low: float
    high: float
    last_time: float
    handles: list[Line2D]


@dataclass(frozen=True)
class Groups:
    """The groups of a curve result as drawn: display order, names, colours, line styles."""

    order: list[int]  # positions in result.groups, in display order
    names: list[str]
    colors: list[str]
    styles: list[Any]
    title: str | None  # legend title: the variable's label when levels read No/Yes

    def __len__(self) -> int:
        return len(self.order)


def groups_of(
    result: CurveResult,
    lab: Labels,
    *,
    colors: Sequence[str] | None = None,
    linestyles: bool = True,
) -> Groups:
    """The :class:`Groups` of ``result``: level-label order, names, Okabe–Ito colours."""
    n = len(result.groups)
    order = list(range(n))
    if len(result.by) == 1:
        values = result.groups.iloc[:, 0].tolist()
        order = [values.index(v) for v in lab.order(result.by[0], values)]
    names_all = group_names(result, lab)
    names = [names_all[i] for i in order]
    palette = list(colors) if colors is not None else list(OKABE_ITO)
    if not palette:
        raise CalcstatsError("colors= is empty; give one colour per group (or leave it unset).")
    title = None
    if len(result.by) == 1 and set(names) <= {"No", "Yes"}:
        title = lab.name(result.by[0])
    return Groups(
        order=order,
        names=names,
        colors=[palette[i % len(palette)] for i in range(n)],
        styles=[LINESTYLES[i % len(LINESTYLES)] if linestyles else "-" for i in range(n)],
        title=title,
    )


def group_frames(result: CurveResult, tidy: pd.DataFrame) -> list[pd.DataFrame]:
    """Rows of ``tidy`` per group, in curve order."""
    if not result.by:
        return [tidy]
    frames = []
    for row in result.groups.itertuples(index=False):
        mask = np.ones(len(tidy), dtype=bool)
        for col, val in zip(result.by, row, strict=True):
            mask &= (tidy[col] == val).to_numpy()
        frames.append(tidy.loc[mask])
    return frames


# ---- drawing ------------------------------------------------------------------------------
def _steps(frame: pd.DataFrame, start: float, column: str) -> tuple[np.ndarray, np.ndarray]:
    t = np.concatenate([[0.0], frame["time"].to_numpy(dtype=float)])
    y = np.concatenate([[start], frame[column].to_numpy(dtype=float)])
    return t, y


def _clip(t: np.ndarray, y: np.ndarray, lo: float, hi: float | None) -> tuple[np.ndarray, ...]:
    """The step function on [lo, hi]: cut, and carried to ``hi`` (or its last time)."""
    end = t[-1] if hi is None else hi
    keep = (t >= lo) & (t <= end)
    return np.append(t[keep], end), np.append(y[keep], y[keep][-1])


_FULL_MARKS: weakref.WeakKeyDictionary[Line2D, tuple[np.ndarray, np.ndarray]] = (
    weakref.WeakKeyDictionary()
)


def thin_censor_marks(ax: Axes, gap_pt: float = MARK_GAP_PT) -> None:
    """Drop censor marks nearer than ``gap_pt`` points to the previous mark drawn.

    Uses the axes' current size, so call it again after the layout changes it (the
    figure-level functions do). With dense censoring (thousands of patients) the marks
    would merge into a bar and a dashed line would look solid.
    """
    scale = 72.0 / ax.figure.dpi
    for line in ax.lines:
        full = _FULL_MARKS.get(line)
        if full is None:
            continue
        x, y = full
        if x.size == 0:
            continue
        pts = ax.transData.transform(np.column_stack([x, y])) * scale
        keep = np.zeros(x.size, dtype=bool)
        last = None
        for i, p in enumerate(pts):
            if last is None or np.hypot(*(p - last)) >= gap_pt:
                keep[i] = True
                last = p
        line.set_data(x[keep], y[keep])


def p_value_text(test: Any) -> str:
    """'Log-rank test p = 0.003' from a TestResult."""
    name = str(getattr(test, "method", "Test")).split(" (")[0]
    p = format_p(test.p_value)
    return f"{name} p {p[0]} {p[1:]}" if p.startswith(("<", ">")) else f"{name} p = {p}"


def time_locator(ax: Axes, nbins: int, span: float) -> MaxNLocator:
    """Round ticks (1, 2, 2.5, 3, 5 × 10^k), whole numbers for spans of 3 or more."""
    loc = MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 3, 5, 10], integer=span >= 3, min_n_ticks=3)
    ax.xaxis.set_major_locator(loc)
    return loc


def default_nbins(ax: Axes) -> int:
    """Tick intervals for the axes' width: about one per 14 mm, 3 to 10."""
    width_in = ax.get_window_extent().width / ax.figure.dpi
    return int(min(10, max(3, round(width_in * 25.4 / 14))))


def draw_curves(
    ax: Axes,
    result: CurveResult,
    groups: Groups,
    *,
    conf_int: bool = True,
    censor_marks: bool = True,
    median_lines: bool = False,
    start: float = 0.0,
    end: float | None = None,
    shift: float = 0.0,
    gid: str = "",
) -> Drawn:
    """Draw the steps, bands, censor marks and median lines of ``result`` on ``ax``.

    The curves are drawn from ``start`` to ``end`` (in the result's time), moved right by
    ``shift`` (a landmark's curves start at the landmark).
    """
    falling = not result.increasing
    frames = group_frames(result, result.tidy())
    lo_y, hi_y = np.inf, -np.inf
    handles: list[Line2D] = []
    for i, g in enumerate(groups.order):
        frame = frames[g]
        color, style = groups.colors[i], groups.styles[i]
        t, y = _clip(*_steps(frame, result.start_value, "estimate"), start, end)
        (step,) = ax.step(
            t + shift,
            y,
            where="post",
            color=color,
            linestyle=style,
            label=groups.names[i],
            gid=f"{gid}curve-{i}",
        )
        handles.append(step)
        lo_y, hi_y = min(lo_y, np.nanmin(y)), max(hi_y, np.nanmax(y))
        if conf_int:
            tl, low = _clip(*_steps(frame, result.start_value, "conf_low"), start, end)
            _, high = _clip(*_steps(frame, result.start_value, "conf_high"), start, end)
            ok = np.isfinite(low) & np.isfinite(high)
            ax.fill_between(
                tl + shift,
                np.where(ok, low, np.nan),
                np.where(ok, high, np.nan),
                step="post",
                color=color,
                alpha=0.15,
                linewidth=0,
                gid=f"{gid}band-{i}",
            )
            if ok.any():
                lo_y, hi_y = min(lo_y, np.nanmin(low[ok])), max(hi_y, np.nanmax(high[ok]))
        if censor_marks:
            cens = frame.loc[frame["n_censor"].to_numpy() > 0]
            tc = cens["time"].to_numpy(dtype=float)
            keep = (tc >= start) & (tc <= (np.inf if end is None else end))
            x, yy = tc[keep] + shift, cens["estimate"].to_numpy(dtype=float)[keep]
            (line,) = ax.plot(
                x,
                yy,
                linestyle="none",
                marker="|",
                color=color,
                markersize=MARK_SIZE_PT,
                markeredgewidth=0.6,
                gid=f"{gid}censor-{i}",
            )
            _FULL_MARKS[line] = (x, yy)
    if median_lines and falling:
        med = result.median()["median"].to_numpy(dtype=float)
        for i, g in enumerate(groups.order):
            m = med[g]
            if np.isfinite(m) and start <= m <= (np.inf if end is None else end):
                ax.plot(
                    [0, m + shift, m + shift],
                    [0.5, 0.5, 0],
                    color=groups.colors[i],
                    linestyle=":",
                    linewidth=0.7,
                    gid=f"{gid}median-{i}",
                )
    return Drawn(float(lo_y), float(hi_y), float(t[-1] + shift) if len(groups) else 0.0, handles)


def finish_axes(
    ax: Axes,
    *,
    falling: bool,
    top: float,
    xmax: float,
    ylim: tuple[float, float] | None,
    percent: bool,
    ylabel: str,
    xlabel: str,
    title: str | None,
    test: Any,
    groups: Groups,
    handles: list[Line2D],
    legend_title: str | None,
) -> None:
    """Limits (the CI bands inside), ticks, labels, the test's p-value and the legend."""
    if ylim is not None:
        ax.set_ylim(*ylim)
    elif falling:
        ax.set_ylim(0, 1.02)
    else:  # the whole upper band inside, with a little air above
        ax.set_ylim(0, float(min(1.0, max(0.05, top * 1.06))))
    ax.set_xlim(0.0, xmax)
    time_locator(ax, default_nbins(ax), xmax)
    if percent:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{100 * v:.0f}%"))
    ax.set_ylabel(ylabel)
    ax.set_xlabel(xlabel)
    if test is not None:
        loc = (0.03, 0.04) if falling else (0.03, 0.97)
        ax.text(
            *loc,
            p_value_text(test),
            transform=ax.transAxes,
            ha="left",
            va="bottom" if falling else "top",
            fontsize="small",
            gid="test",
        )
    if len(groups) > 1:
        legend(ax, handles, groups.names, title=legend_title or groups.title)
    if title:
        ax.set_title(title, pad=title_pad(ax))


#: Most groups a legend holds inside the axes; more go above the axes, in columns.
LEGEND_INSIDE_MAX = 4


def legend(ax: Axes, handles: Sequence[Any], names: Sequence[str], *, title: str | None) -> None:
    """The legend: inside the axes ("best" place) for up to four short names, else above
    the axes in as many columns as fit its width. Names are measured and wrapped."""
    fig = figure_of(ax)
    size = FontProperties(size=mpl.rcParams["legend.fontsize"]).get_size_in_points()
    em = size / 72
    axes_w = ax.get_window_extent().width / fig.dpi
    inside = [wrap(n, 0.45 * axes_w, fig, fontsize=size) for n in names]
    if len(names) <= LEGEND_INSIDE_MAX and all("\n" not in n for n in inside):
        ax.legend(handles, inside, title=title, loc="best")
        return
    extra = (mpl.rcParams["legend.handlelength"] + 0.8 + 2.0) * em  # handle, pad, spacing
    widest = max(text_width(n, fig, fontsize=size) for n in names) + extra
    ncols = int(max(1, min(len(names), axes_w // widest)))
    shown = [wrap(n, axes_w / ncols - extra, fig, fontsize=size) for n in names]
    ax.legend(
        handles,
        shown,
        title=title,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.02),
        borderaxespad=0.0,
        ncols=ncols,
        alignment="left",
    )


def title_pad(ax: Axes) -> float:
    """Title padding (points) that clears a legend drawn above the axes."""
    leg = ax.get_legend()
    pad = float(mpl.rcParams["axes.titlepad"])
    if leg is None or leg.get_bbox_to_anchor().y0 <= ax.bbox.y1:
        return pad
    height = leg.get_window_extent(_renderer(ax.figure)).height * 72 / ax.figure.dpi
    return pad + height + 0.02 * ax.bbox.height * 72 / ax.figure.dpi
