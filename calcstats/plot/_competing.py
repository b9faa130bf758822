"""Every cause of a competing-risks fit in one figure (survminer's ``ggcompetingrisks``).

Reads :meth:`CumulativeIncidenceResult.state_probabilities` (the Aalen–Johansen
incidence of every cause, estimated together) and draws one curve per cause — lines, or
areas stacked so that their sum is the probability of any event — with one panel per
group side by side. Nothing is estimated here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from calcstats._errors import CalcstatsError, InvalidParameterError
from calcstats._validation import BOOLEAN, NONE, TEXT, Interval, validate_params
from calcstats.labels import Labels
from calcstats.plot._curves import default_nbins, group_frames, groups_of, time_locator
from calcstats.plot._sizing import figure_of
from calcstats.plot._style import MM_PER_INCH, publication, text_width, wrap
from calcstats.plot._theme import LINESTYLES, OKABE_ITO
from calcstats.results import CumulativeIncidenceResult

__all__ = ["cumulative_incidence_causes"]

POSITIVE = Interval(0, None, closed="neither")
#: Narrowest a panel may be before the panels wrap onto another row (mm).
PANEL_MIN_MM = 42.0


def cause_names(result: CumulativeIncidenceResult, lab: Labels, codes: Sequence[int]) -> list[str]:
    """Display names of event codes: level labels of the event column, else "Cause k"."""
    out = []
    for code in codes:
        text = lab.level(result.event_column, code)
        out.append(f"Cause {code}" if text == str(code) else text)
    return out


def _steps(frame: pd.DataFrame, end: float | None) -> tuple[np.ndarray, np.ndarray]:
    t = np.concatenate([[0.0], frame["time"].to_numpy(dtype=float)])
    y = np.concatenate([[0.0], frame["estimate"].to_numpy(dtype=float)])
    stop = t[-1] if end is None else end
    keep = t <= stop
    return np.append(t[keep], stop), np.append(y[keep], y[keep][-1])


def _draw_panel(
    ax: Axes,
    frame: pd.DataFrame,
    codes: Sequence[int],
    colors: Sequence[str],
    styles: Sequence[Any],
    *,
    stacked: bool,
    end: float | None,
) -> tuple[float, float, list[Any]]:
    """One group's causes on ``ax``; returns (last time, highest value, legend handles)."""
    base: np.ndarray | None = None
    top, last = 0.0, 0.0
    handles: list[Any] = []  # Patch (stacked) or Line2D
    for i, code in enumerate(codes):
        t, y = _steps(frame.loc[frame["state"] == f"cause_{code}"], end)
        last = max(last, float(t[-1]))
        if stacked:
            low = np.zeros_like(y) if base is None else base
            high = low + y
            ax.fill_between(
                t,
                low,
                high,
                step="post",
                color=colors[i],
                alpha=0.85,
                linewidth=0,
                gid=f"cause-{code}",
            )
            ax.step(t, high, where="post", color="white", linewidth=0.5)
            handles.append(Patch(facecolor=colors[i], alpha=0.85))
            base = high
            top = max(top, float(np.nanmax(high)))
        else:
            (line,) = ax.step(
                t, y, where="post", color=colors[i], linestyle=styles[i], gid=f"cause-{code}"
            )
            handles.append(line)
            top = max(top, float(np.nanmax(y)))
    return last, top, handles


def _ncols(fig: Figure, names: Sequence[str]) -> int:
    """Legend columns: as many entries per row as fit in the figure's width."""
    em = FontProperties(size=mpl.rcParams["legend.fontsize"]).get_size_in_points() / 72
    entries = [text_width(n, fig, fontsize=em * 72) + 5.2 * em for n in names]
    widest = max(entries)
    return max(1, min(len(names), int(0.95 * fig.get_figwidth() // widest)))


@validate_params(
    {
        "stacked": [BOOLEAN],
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
def cumulative_incidence_causes(
    result: CumulativeIncidenceResult,
    *,
    causes: Sequence[int] | None = None,
    stacked: bool = False,
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
    """Draw the cumulative incidence of every cause, one panel per group.

    Parameters
    ----------
    result : CumulativeIncidenceResult
        From :func:`calcstats.cumulative_incidence`: it holds every cause's incidence
        (:meth:`~calcstats.CumulativeIncidenceResult.state_probabilities`), whichever
        ``cause`` it was asked for.
    causes : sequence of int, optional
        Event codes to draw (default all, in the order of the event column's level
        labels, else by code).
    stacked : bool, default False
        Stack the causes as areas: the top edge is the probability of any event, the
        space above it the probability of being event-free. Otherwise one line per
        cause (no confidence bands; :func:`calcstats.plot.survival` draws the band of
        the result's own cause).
    labels : Labels or dict, optional
        Display labels. Causes are named by the level labels of the event column, e.g.
        ``cs.Labels(levels={"status": {1: "Transplant", 2: "Death"}})``; unlabelled
        codes read "Cause 1", "Cause 2". Panels are titled with the group names.
    colors : sequence of str, optional
        Colours per cause (default Okabe–Ito).
    linestyles : bool, default True
        Vary line styles too (lines only), so causes stay apart in greyscale.
    xlabel, ylabel : str, optional
        Axis labels (defaults: the time label, "Cumulative incidence").
    xmax : float, optional
        Right limit of the time axis.
    ylim : (float, float), optional
        y limits (default 0 to just above the highest curve, shared by the panels).
    percent : bool, default False
        Show the y axis in percent.
    title, legend_title : str, optional
        Figure (or axes) title and legend title (default none: the causes' names say
        what they are).
    width_mm : float, default 85
        Width of a new figure; panels narrower than 42 mm wrap onto further rows.
    height_mm : float, optional
        Height of a new figure (default from the panels' width).
    ax : matplotlib Axes, optional
        Draw here (results without ``by``, or with one group, only).

    Returns
    -------
    Axes (one panel) or Figure (one panel per group).

    Examples
    --------
    >>> import calcstats as cs
    >>> pbc = cs.datasets.load_pbc()
    >>> cif = cs.cumulative_incidence(pbc, time="time", event="status", cause=2, by="sex",
    ...     labels=cs.Labels(levels={"status": {1: "Transplant", 2: "Death"},
    ...                              "sex": {"f": "Women", "m": "Men"}}))
    >>> fig = cs.plot.cumulative_incidence_causes(cif, stacked=True)
    >>> [ax.get_title() for ax in fig.axes]
    ['Women', 'Men']
    >>> [t.get_text() for t in fig.legends[0].get_texts()]
    ['Transplant', 'Death']
    """
    if not isinstance(result, CumulativeIncidenceResult):
        raise CalcstatsError(
            "plot.cumulative_incidence_causes draws a CumulativeIncidenceResult "
            f"(cs.cumulative_incidence); got {type(result).__name__}."
        )
    if ylim is not None and (len(ylim) != 2 or not ylim[0] < ylim[1]):
        raise InvalidParameterError(
            "The 'ylim' parameter of cumulative_incidence_causes must be (low, high) with "
            f"low < high. Got {ylim!r}."
        )
    lab = Labels.default() | result.labels | Labels.coerce(labels)
    states = result.state_probabilities()
    present = [
        int(str(s).split("_")[1]) for s in states["state"].cat.categories if s != "event_free"
    ]
    if causes is None:
        codes = lab.order(result.event_column, present)
    else:
        codes = [int(c) for c in causes]
        missing = [c for c in codes if c not in present]
        if missing or not codes:
            raise InvalidParameterError(
                f"cumulative_incidence_causes: cause(s) {missing} are not in the result; "
                f"its event codes are {present}."
            )
    names = cause_names(result, lab, codes)
    with publication():
        groups = groups_of(result, lab)
        palette = list(colors) if colors is not None else list(OKABE_ITO)
        cols = [palette[i % len(palette)] for i in range(len(codes))]
        styles = [LINESTYLES[i % len(LINESTYLES)] if linestyles else "-" for i in range(len(codes))]
        frames = group_frames(result, states)
        k = len(groups)
        if ax is not None and k > 1:
            raise CalcstatsError(
                f"cumulative_incidence_causes draws one panel per group ({k} groups); leave "
                "ax unset for a figure, or pass a result without by= for one axes."
            )
        if ax is None:
            most = max(1, min(k, int(width_mm // PANEL_MIN_MM)))
            nrows = math.ceil(k / most)
            ncols = math.ceil(k / nrows)  # balanced rows: 5 panels as 3 + 2, not 4 + 1
            w_in = width_mm / MM_PER_INCH
            panel_h = min(3.3, max(1.6, 0.75 * w_in / ncols))
            h_in = height_mm / MM_PER_INCH if height_mm else nrows * panel_h + 0.7
            fig = plt.figure(figsize=(w_in, h_in), layout="constrained")
            axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False).ravel()
            for extra in axes[k:]:
                extra.remove()
            axes = axes[:k]
        else:
            fig, axes = figure_of(ax), np.array([ax])
        last, top = 0.0, 0.0
        handles: list[Any] = []
        for panel, g in zip(axes, groups.order, strict=True):
            lt, tp, handles = _draw_panel(
                panel, frames[g], codes, cols, styles, stacked=stacked, end=xmax
            )
            last, top = max(last, lt), max(top, tp)
        span = xmax if xmax is not None else last
        low, high = ylim if ylim is not None else (0.0, float(min(1.0, max(0.05, top * 1.06))))
        time_label = xlabel or lab.time(result.time_column)
        for i, panel in enumerate(axes):
            panel.set_xlim(0, span)
            panel.set_ylim(low, high)
            time_locator(panel, min(default_nbins(panel), 5 if k > 1 else 10), span)
            if percent:
                panel.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{100 * v:.0f}%"))
            if k > 1:
                limit = panel.get_window_extent().width / fig.dpi
                panel.set_title(wrap(groups.names[i], limit, fig), fontsize="medium")
            ncols_now = axes[0].get_subplotspec().get_gridspec().ncols if k > 1 else 1
            if i % ncols_now == 0:
                panel.set_ylabel(ylabel or "Cumulative incidence")
            if i >= k - ncols_now:  # the lowest panel of its column: time ticks and label
                panel.set_xlabel(time_label)
                panel.xaxis.set_tick_params(labelbottom=True)
        if k > 1:
            fig.legend(
                handles,
                names,
                title=legend_title,
                loc="outside lower center",
                ncols=_ncols(fig, names),
            )
            if title:
                fig.suptitle(title)
            fig.canvas.draw()
            return fig
        axes[0].legend(handles, names, title=legend_title, loc="best")
        if title:
            axes[0].set_title(title)
        if ax is None:
            fig.canvas.draw()  # tick labels are made now, in the publication style
        return axes[0]
