"""Sizing helpers of the figure functions: new figures at a width in millimetres, heights
fitted to their content after matplotlib's layout, and tick locators that drop ticks
until their labels no longer touch. (The curves-plus-tables figure of the survival plots
has its own layout, :mod:`calcstats.plot._layout`.)

Widths are physical: a figure made at ``width_mm=85`` is laid out for 85 mm (single
column) and one at 180 mm for a double column; save it at the same width
(:func:`calcstats.plot.save_figure`). Every measurement is made with the figure's own
renderer (:mod:`calcstats.plot._style`), never with a guessed character width.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.axis import Axis, XAxis
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.ticker import Locator

from calcstats._validation import Interval
from calcstats.plot._style import MM_PER_INCH, register_layout, text_height, text_width

__all__ = [
    "AXES",
    "WIDTH_MM",
    "SpacedLocator",
    "figure_of",
    "fit_height",
    "line_height",
    "new_figure",
    "settle",
    "tick_fontsize",
]

#: ``width_mm=``: a printed width between 40 mm and 500 mm.
WIDTH_MM = Interval(40, 500)


class _AxesParam:
    """``ax=``: a matplotlib Axes."""

    def accepts(self, value: object) -> bool:
        return isinstance(value, Axes)

    def describe(self) -> str:
        return "a matplotlib Axes"


AXES = _AxesParam()


def new_figure(width_mm: float, height_in: float, *, constrained: bool = True) -> Figure:
    """A figure ``width_mm`` wide and ``height_in`` inches high (constrained layout).

    Examples
    --------
    >>> fig = new_figure(85, 2.0)
    >>> round(float(fig.get_size_inches()[0]) * 25.4, 6)
    85.0
    """
    fig = plt.figure(
        figsize=(width_mm / MM_PER_INCH, height_in),
        layout="constrained" if constrained else None,
    )
    if constrained:
        engine = fig.get_layout_engine()
        assert isinstance(engine, ConstrainedLayoutEngine)  # layout="constrained" above
        engine.set(w_pad=2 / 72, h_pad=2 / 72, wspace=0.02, hspace=0.02)
    return fig


def figure_of(ax: Axes) -> Figure:
    """The figure of ``ax``, as the sizing helpers take it.

    matplotlib types ``ax.figure`` as a Figure or a SubFigure; the figures calcstats makes
    are top-level Figures (the sizing helpers do not handle an Axes of a SubFigure).
    """
    return cast(Figure, ax.figure)


def settle(fig: Figure) -> None:
    """Lay the figure out and create its tick labels now, in the current style.

    matplotlib makes tick labels lazily at the first draw, and the first ones fix the
    style of the rest; drawing once inside :func:`~calcstats.plot._style.publication`
    keeps them in the publication style when the figure is saved later.
    """
    fig.draw_without_rendering()


def fit_height(
    fig: Figure,
    axes: Sequence[Axes],
    wanted_in: Sequence[float],
    *,
    rounds: int = 3,
) -> None:
    """Resize the figure's height so that each axes ends up ``wanted_in`` inches high.

    The figure is laid out (constrained layout), each axes' height measured, and the
    figure grown or shrunk by the largest shortfall; repeated until the heights agree
    to 1%. Texts around the axes (tick labels, axis labels, footnotes) are thus measured,
    not guessed. :func:`calcstats.plot.save_figure` fits the height again when it saves
    the figure at another width.
    """
    for _ in range(rounds):
        settle(fig)
        heights = [ax.get_position().height * fig.get_size_inches()[1] for ax in axes]
        gaps = [w - h for w, h in zip(wanted_in, heights, strict=True)]
        gap = max(gaps, key=abs)
        if abs(gap) <= 0.01 * max(wanted_in):
            break
        w, h = fig.get_size_inches()
        fig.set_size_inches(w, max(h + gap, 0.5))
    settle(fig)
    register_layout(
        fig, lambda keep_height: settle(fig) if keep_height else fit_height(fig, axes, wanted_in)
    )


def line_height(fig: Figure, fontsize: float | str | None = None) -> float:
    """Height in inches of one line of text (with matplotlib's line spacing)."""
    one = text_height("Ag", fig, fontsize=fontsize)
    two = text_height("Ag\nAg", fig, fontsize=fontsize)
    return max(two - one, one)


def tick_fontsize(axis: Axis) -> float:
    """The font size of an axis' tick labels (points)."""
    return float(axis.majorTicks[0].label1.get_fontsize())  # the first tick styles the rest


class SpacedLocator(Locator):
    """Ticks from ``base`` thinned at draw time so that no two tick labels touch.

    Every ``k``-th tick is kept, the smallest ``k`` whose labels (measured with the
    renderer at the axis' current size) leave at least ``gap_em`` font sizes between
    neighbours; ``anchor`` (e.g. 1 on a ratio axis) is always kept.

    Parameters
    ----------
    base : callable
        Returns the candidate tick values (e.g. another Locator, or a function).
    anchor : float, optional
        A value always kept when it is a candidate.
    gap_em : float, default 0.8
        Least free space between neighbouring labels, in font sizes.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots(figsize=(1.0, 1.0))
    >>> ax.set_xscale("log"); _ = ax.set_xlim(0.01, 100)
    >>> ax.xaxis.set_major_locator(SpacedLocator(lambda: [0.01, 0.1, 1, 10, 100], anchor=1))
    >>> ax.xaxis.set_major_formatter(lambda v, _p: f"{v:g}")
    >>> fig.draw_without_rendering()
    >>> [float(t) for t in ax.get_xticks()]
    [0.01, 1.0, 100.0]
    """

    def __init__(
        self,
        base: Callable[[], Sequence[float] | np.ndarray],
        *,
        anchor: float | None = None,
        gap_em: float = 0.8,
    ) -> None:
        self.base = base
        self.anchor = anchor
        self.gap_em = gap_em

    def __call__(self) -> Sequence[float]:
        ticks = np.sort(np.asarray(list(self.base()), dtype=float))
        if self.axis is None or len(ticks) < 2:
            return cast(Sequence[float], ticks)  # an array, as matplotlib's own locators
        lo, hi = sorted(self.axis.get_view_interval())
        ticks = ticks[(ticks >= lo - 1e-12 * abs(lo)) & (ticks <= hi + 1e-12 * abs(hi))]
        if len(ticks) < 2:
            return ticks
        start = 0
        if self.anchor is not None and np.isclose(ticks, self.anchor).any():
            start = int(np.argmin(np.abs(ticks - self.anchor)))
        for step in range(1, len(ticks)):
            keep = np.arange(start % step, len(ticks), step)
            if len(keep) < 2 or self._fits(ticks[keep]):
                return ticks[keep]
        return ticks[[start]]

    def _fits(self, values: np.ndarray) -> bool:
        axis = cast(Axis, self.axis)  # set: __call__ returns early without an axis
        ax = axis.axes
        fig = ax.figure
        size = tick_fontsize(axis)
        formatter = axis.get_major_formatter()
        locs: Any = values  # matplotlib's stubs say list; its formatters take arrays
        formatter.set_locs(locs)
        labels = formatter.format_ticks(locs)
        horizontal = isinstance(axis, XAxis)
        xy = np.column_stack([values, np.zeros_like(values)])
        if not horizontal:
            xy = xy[:, ::-1]
        pix = ax.transData.transform(xy)[:, 0 if horizontal else 1] / fig.dpi  # inches
        if horizontal:
            extent = np.array([text_width(s, fig, fontsize=size) for s in labels])
        else:
            extent = np.array([text_height(s or "0", fig, fontsize=size) for s in labels])
        order = np.argsort(pix)
        pix, extent = pix[order], extent[order]
        room = np.diff(pix) - (extent[:-1] + extent[1:]) / 2
        return bool(np.all(room >= self.gap_em * size / 72))

    def tick_values(self, vmin: float, vmax: float) -> Sequence[float]:
        return self()
