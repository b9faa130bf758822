"""Geometric checks of a rendered figure: what a journal's production editor would reject.

Shared by the figure tests (``from geometry import check_figure``: tests/plot is on
sys.path, as tests/cohort/cohort_tables.py). The figure is drawn with the Agg renderer;
every Text that is actually drawn (tick labels, axis labels, titles, legend entries,
annotations, table cells) is recorded with its window extent, and:

1. every text lies inside the figure;
2. no two tick labels of the same axis overlap;
3. no two texts overlap at all (this covers risk/number tables and legends), unless the
   pair is allowed (``allow=``);
4. no text is smaller than ``min_fontsize`` points.

API
---
``drawn_texts(fig)`` -> list of :class:`Drawn` (text, artist, bbox in pixels, kind).
``figure_problems(fig, *, allow=None, min_fontsize=5.0)`` -> list of str (empty when fine).
``check_figure(fig, **same)`` raises ``AssertionError`` listing every problem.
``WIDTHS_MM`` (85, 180) and ``THEMES`` (None, "jhep"); ``themed(name)`` is a context:
``calcstats.plot.theme(name)``, or nothing for None.

Example (in a test)::

    @pytest.mark.parametrize("width_mm", WIDTHS_MM)
    @pytest.mark.parametrize("theme_name", THEMES)
    def test_geometry(km, width_mm, theme_name):
        with themed(theme_name):
            fig = cs.plot.survival(km, width_mm=width_mm)
        check_figure(fig)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from unittest import mock

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.text import Text
from matplotlib.transforms import Bbox

__all__ = [
    "THEMES",
    "WIDTHS_MM",
    "Drawn",
    "check_figure",
    "drawn_texts",
    "figure_problems",
    "themed",
]

WIDTHS_MM = (85, 180)
THEMES = (None, "jhep")
#: Overlaps (and overhangs) up to this many points are tolerated (anti-aliasing, rounding).
TOLERANCE_PT = 0.5


@contextlib.contextmanager
def themed(name: str | None) -> Iterator[None]:
    """``calcstats.plot.theme(name)`` as a context, or no theme for ``None``."""
    if name is None:
        yield
        return
    from calcstats.plot import theme

    with theme(name):
        yield


@dataclass(frozen=True)
class Drawn:
    """One text as drawn: its string, artist, window extent (pixels) and kind."""

    text: str
    artist: Text
    bbox: Bbox
    kind: str  # "xtick:<axes#>", "ytick:<axes#>", "legend", "axis label", "title", "text"

    def __str__(self) -> str:
        b = self.bbox
        gid = self.artist.get_gid()
        tag = f" gid={gid}" if gid else ""
        return (
            f"{self.text!r} ({self.kind}{tag}; x {b.x0:.0f}–{b.x1:.0f}, y {b.y0:.0f}–{b.y1:.0f} px)"
        )


def _kinds(fig: Figure) -> dict[int, str]:
    kinds: dict[int, str] = {}
    for i, ax in enumerate(fig.get_axes()):
        for name, axis in (("xtick", ax.xaxis), ("ytick", ax.yaxis)):
            for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:
                kinds[id(tick.label1)] = kinds[id(tick.label2)] = f"{name}:{i}"
            kinds[id(axis.label)] = "axis label"
        for t in (ax.title, ax._left_title, ax._right_title):
            kinds[id(t)] = "title"
    for leg in fig.findobj(Legend):
        for t in [*leg.get_texts(), leg.get_title()]:
            kinds[id(t)] = "legend"
    return kinds


def drawn_texts(fig: Figure) -> list[Drawn]:
    """Draw ``fig`` with Agg and return every text actually drawn, with its extent."""
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    seen: list[Text] = []
    original = Text.draw

    def recording(self: Text, renderer) -> None:
        if self.get_visible() and self.get_text().strip():
            seen.append(self)
        original(self, renderer)

    with mock.patch.object(Text, "draw", recording):
        fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    kinds = _kinds(fig)
    out, ids = [], set()
    for t in seen:
        if id(t) in ids:
            continue
        ids.add(id(t))
        out.append(Drawn(t.get_text(), t, t.get_window_extent(renderer), kinds.get(id(t), "text")))
    return out


def _overlap(a: Bbox, b: Bbox, tol: float) -> bool:
    return min(a.x1, b.x1) - max(a.x0, b.x0) > tol and min(a.y1, b.y1) - max(a.y0, b.y0) > tol


def figure_problems(
    fig: Figure,
    *,
    allow: Callable[[Drawn, Drawn], bool] | None = None,
    min_fontsize: float = 5.0,
) -> list[str]:
    """Every geometric problem of ``fig``, in words (an empty list when there is none).

    Parameters
    ----------
    fig : Figure
    allow : callable, optional
        ``allow(a, b)`` returns True for a pair of texts that may overlap.
    min_fontsize : float, default 5.0
        Smallest acceptable type size in points.
    """
    texts = drawn_texts(fig)
    tol = TOLERANCE_PT * fig.dpi / 72
    frame = fig.bbox
    problems: list[str] = []
    for d in texts:
        b = d.bbox
        if (
            b.x0 < frame.x0 - tol
            or b.y0 < frame.y0 - tol
            or b.x1 > frame.x1 + tol
            or b.y1 > frame.y1 + tol
        ):
            problems.append(f"outside the figure ({frame.width:.0f}×{frame.height:.0f} px): {d}")
        size = d.artist.get_fontsize()
        if size < min_fontsize - 1e-9:
            problems.append(f"font {size:.1f} pt < {min_fontsize} pt: {d}")
    for i, a in enumerate(texts):
        for b in texts[i + 1 :]:
            if not _overlap(a.bbox, b.bbox, tol):
                continue
            if allow is not None and (allow(a, b) or allow(b, a)):
                continue
            if a.kind == b.kind and a.kind.startswith(("xtick", "ytick")):
                problems.append(f"tick labels overlap: {a} and {b}")
            else:
                problems.append(f"texts overlap: {a} and {b}")
    return problems


def check_figure(
    fig: Figure,
    *,
    allow: Callable[[Drawn, Drawn], bool] | None = None,
    min_fontsize: float = 5.0,
) -> list[Drawn]:
    """Raise ``AssertionError`` listing every problem of :func:`figure_problems`.

    Returns the drawn texts when there is none (for further assertions).
    """
    problems = figure_problems(fig, allow=allow, min_fontsize=min_fontsize)
    if problems:
        w, h = fig.get_size_inches() * 25.4
        raise AssertionError(
            f"{len(problems)} geometric problem(s) in a {w:.0f}×{h:.0f} mm figure:\n  "
            + "\n  ".join(problems)
        )
    return drawn_texts(fig)
