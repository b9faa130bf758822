"""The curves-plus-tables figure: one curve axes over zero or more count tables.

Used by :func:`calcstats.plot.survival` and :func:`calcstats.plot.landmark`. The layout
is measured, not guessed: after matplotlib's constrained layout has placed the axes,
the tables get exactly the height their rows need, the time ticks are thinned until the
counts of neighbouring columns (and the tick labels) stay apart, and the censor marks
are thinned for the final size of the axes. :func:`calcstats.plot.save_figure` runs the
same steps again when it saves the figure at another width.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import FixedLocator

from calcstats._errors import CalcstatsWarning, user_stacklevel
from calcstats.plot._curves import default_nbins, thin_censor_marks, time_locator
from calcstats.plot._risk_table import (
    crowded,
    draw_table,
    label_column,
    table_fontsize,
    table_height,
    ticks_in_view,
)
from calcstats.plot._style import MIN_PT, MM_PER_INCH, _renderer, register_layout

__all__ = ["CurveFigure", "TableSpec", "curve_height"]

_RC_PREFIXES = ("font.", "text.", "axes.", "xtick.", "ytick.", "legend.", "lines.", "mathtext.")


@dataclass(frozen=True)
class TableSpec:
    """One table under the curves: its title, cell gid prefix and cell texts per times."""

    title: str
    gid: str
    cells: Callable[..., list[list[str]]]  # called with the tick times (an array)
    names: Sequence[str]
    colors: Sequence[str]


def curve_height(width_in: float) -> float:
    """Height (inches) of the curve axes for a figure ``width_in`` wide."""
    return float(min(3.3, max(1.8, 0.68 * width_in)))


class CurveFigure:
    """A figure of one curve axes over ``tables`` (sharing its time axis)."""

    def __init__(
        self,
        *,
        width_mm: float,
        height_mm: float | None,
        tables: Sequence[TableSpec],
        times: Sequence[float] | None,
        extra_ticks: Sequence[float] = (),
    ) -> None:
        self.tables = list(tables)
        self.extra_ticks = np.asarray(extra_ticks, dtype=float)
        self.user_times = None if times is None else np.unique(np.asarray(times, dtype=float))
        self.fontsize = table_fontsize()
        self.rc = {k: v for k, v in mpl.rcParams.items() if k.startswith(_RC_PREFIXES)}
        w = width_mm / MM_PER_INCH
        axes_h = curve_height(w)
        need = [table_height(len(t.names), self.fontsize) for t in self.tables]
        h = height_mm / MM_PER_INCH if height_mm is not None else axes_h + sum(need) + 0.8
        self.fig = plt.figure(figsize=(w, h), layout="constrained")
        self.grid = self.fig.add_gridspec(1 + len(self.tables), 1, height_ratios=[axes_h, *need])
        self.ax = self.fig.add_subplot(self.grid[0])
        self.table_axes: list[Axes] = [
            self.fig.add_subplot(self.grid[i + 1], sharex=self.ax) for i in range(len(self.tables))
        ]
        self.span = 1.0
        self.fixed_height = height_mm is not None

    # ---- layout ----------------------------------------------------------------------------
    def _margins(self) -> float:
        """Figure height not taken by the axes (decorations, pads), in inches."""
        fig_h = self.fig.get_figheight()
        used = sum(a.get_position().height for a in (self.ax, *self.table_axes)) * fig_h
        return fig_h - used

    def _place(self, times: np.ndarray, fontsize: float, keep_height: bool) -> None:
        cells = [t.cells(times) for t in self.tables]

        used: list[int] = []

        def draw_tables() -> None:
            used.clear()
            widths, gaps = [0.0], [0.0]  # one name column for all tables, so they line up
            for spec, ax, rows in zip(self.tables, self.table_axes, cells, strict=True):
                _, w, g = label_column(
                    ax, times=times, cells=rows, names=spec.names, fontsize=fontsize
                )
                widths.append(w)
                gaps.append(g)
            for spec, ax, rows in zip(self.tables, self.table_axes, cells, strict=True):
                used.append(
                    draw_table(
                        ax,
                        times=times,
                        cells=rows,
                        names=spec.names,
                        colors=spec.colors,
                        title=spec.title,
                        gid=spec.gid,
                        fontsize=fontsize,
                        column=(max(widths), max(gaps)),
                    )
                )

        draw_tables()
        self.fig.canvas.draw()
        need = [table_height(n, fontsize) for n in used]
        margins = self._margins()
        w, h = self.fig.get_size_inches()
        if keep_height:
            curve = max(h - margins - sum(need), 0.45 * (h - margins))
        else:
            curve = curve_height(w)
            self.fig.set_size_inches(w, curve + sum(need) + margins)
        self.grid.set_height_ratios([curve, *need] if need else [curve])
        self.fig.canvas.draw()
        draw_tables()  # the first column's distance from the names, at the final width
        self.fig.canvas.draw()

    def _ticks_overlap(self) -> bool:
        renderer = _renderer(self.fig)
        boxes = sorted(
            (t.get_window_extent(renderer) for t in self.ax.xaxis.get_ticklabels() if t.get_text()),
            key=lambda b: b.x0,
        )
        gap = 0.3 * self.fontsize * self.fig.dpi / 72
        return any(b.x0 - a.x1 < gap for a, b in itertools.pairwise(boxes))

    def _with_extra(self, ticks: np.ndarray) -> np.ndarray:
        """The ticks plus ``extra_ticks`` (e.g. a landmark), without ticks too near them."""
        if not self.extra_ticks.size:
            return ticks
        step = float(np.min(np.diff(ticks))) if ticks.size > 1 else self.span
        near = np.any(np.abs(ticks[:, None] - self.extra_ticks[None, :]) < 0.5 * step, axis=1)
        times = np.union1d(ticks[~near], self.extra_ticks)
        self.ax.xaxis.set_major_locator(FixedLocator(times.tolist()))
        return times

    def fit(self, keep_height: bool = False) -> None:
        """Lay the figure out for its current width (see the module docstring)."""
        with mpl.rc_context(self.rc):
            self.fig.canvas.draw()
            nbins = default_nbins(self.ax)
            fontsize = self.fontsize
            while True:
                if self.user_times is None:
                    time_locator(self.ax, nbins, self.span)
                    times = self._with_extra(ticks_in_view(self.ax))
                else:
                    times = self.user_times
                self._place(times, fontsize, keep_height)
                thin_censor_marks(self.ax)
                crowd = self._ticks_overlap() or any(
                    crowded(ax, spec.gid, fontsize)
                    for spec, ax in zip(self.tables, self.table_axes, strict=True)
                )
                if not crowd:
                    break
                if self.user_times is None and nbins > 2:
                    nbins -= 1
                elif self.tables and fontsize > MIN_PT:
                    fontsize = max(MIN_PT, fontsize - 0.5)
                else:
                    warnings.warn(
                        "The numbers (or tick labels) of neighbouring times touch even with "
                        f"{MIN_PT:g} pt type; give fewer risk_times or a larger width_mm.",
                        CalcstatsWarning,
                        stacklevel=user_stacklevel(),
                    )
                    break

    def finish(self, span: float) -> None:
        """First layout, and remember it for :func:`calcstats.plot.save_figure`."""
        self.span = span
        self.fit(keep_height=self.fixed_height)
        register_layout(self.fig, self.fit)
