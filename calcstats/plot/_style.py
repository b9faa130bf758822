"""The publication style every calcstats figure is drawn in, and text-measuring layout helpers.

Every plot function draws inside :func:`publication`, a :func:`matplotlib.rc_context`
that fills in print-ready defaults (8 pt sans-serif text, 7 pt tick labels, thin axes,
no top/right spines, the Okabe–Ito palette, no legend frame, TrueType fonts in PDF).
The global :data:`matplotlib.rcParams` are untouched: the style lives only while the
figure is drawn.

Precedence (weakest first): the publication defaults; anything already set when the
plot function is called — a :func:`calcstats.plot.theme`, a style sheet
(``plt.style.use``), a ``matplotlibrc`` or ``mpl.rcParams[...] = ...`` by hand. The
rule is simple: a parameter is filled in only while it still holds matplotlib's own
default (:data:`matplotlib.rcParamsDefault`), so whatever the user chose wins. When only
``font.size`` was set, the other font sizes follow it (ticks and legend 1 pt smaller).

Layout is measured, never guessed: :func:`text_width` measures a string with the
figure's renderer, and :func:`wrap` breaks a long label into lines that fit a width.

Examples
--------
>>> import matplotlib as mpl, matplotlib.pyplot as plt
>>> from calcstats.plot._style import publication, text_width, wrap
>>> with publication():
...     fig, ax = plt.subplots(figsize=(3.35, 2.5))
...     ax.spines["top"].get_visible(), mpl.rcParams["font.size"]
(False, 8.0)
>>> mpl.rcParams["font.size"]  # the global state is unchanged
10.0
>>> text_width("Primary biliary cholangitis", fig, fontsize=8) > text_width("PBC", fig, fontsize=8)
True
>>> wrap("Primary biliary cholangitis", 0.9, fig, fontsize=8)
'Primary biliary\\ncholangitis'
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

import matplotlib as mpl
from matplotlib.figure import Figure, SubFigure
from matplotlib.font_manager import FontProperties
from matplotlib.rcsetup import cycler
from matplotlib.text import Text

from calcstats.plot._theme import OKABE_ITO

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

__all__ = [
    "MM_PER_INCH",
    "figure_size",
    "publication",
    "publication_params",
    "register_layout",
    "relayout",
    "text_height",
    "text_width",
    "wrap",
]

MM_PER_INCH = 25.4

#: Base font size (pt) when the user set none: legible at 85 mm, within journals' 6-8 pt.
BASE_PT = 8.0
#: Smallest font the style chooses for ticks and legends (pt).
MIN_PT = 6.0


def publication_params() -> dict[RcKeyType, Any]:
    """The rcParams :func:`publication` would set now (only those still at matplotlib's default).

    Returns
    -------
    dict
        rcParams name → value. Empty when a theme already set everything.

    Examples
    --------
    >>> from calcstats.plot import theme
    >>> "font.size" in publication_params()
    True
    >>> with theme("jhep"):
    ...     "font.size" in publication_params()
    False
    """
    rc = mpl.rcParams
    default = mpl.rcParamsDefault

    def untouched(key: RcKeyType) -> bool:
        try:
            return bool(rc[key] == default[key])
        except ValueError:  # e.g. arrays compared elementwise
            return False

    base = BASE_PT if untouched("font.size") else float(rc["font.size"])
    small = max(MIN_PT, base - 1.0)
    wanted: dict[RcKeyType, Any] = {
        "font.size": base,
        "font.family": ["sans-serif"],
        "font.sans-serif": ["Arial", "Helvetica", "Liberation Sans", "DejaVu Sans"],
        "axes.titlesize": base + 1.0,
        "axes.labelsize": base,
        "xtick.labelsize": small,
        "ytick.labelsize": small,
        "legend.fontsize": small,
        "legend.title_fontsize": small,
        "figure.titlesize": base + 1.0,
        "axes.linewidth": 0.6,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.prop_cycle": cycler(color=list(OKABE_ITO)),
        "axes.titlepad": 4.0,
        "axes.labelpad": 3.0,
        "xtick.major.width": 0.6,
        "ytick.major.width": 0.6,
        "xtick.minor.width": 0.5,
        "ytick.minor.width": 0.5,
        "xtick.major.size": 3.0,
        "ytick.major.size": 3.0,
        "xtick.major.pad": 2.5,
        "ytick.major.pad": 2.5,
        "lines.linewidth": 1.2,
        "lines.markersize": 4.0,
        "patch.linewidth": 0.6,
        "legend.frameon": False,
        "legend.handlelength": 2.4,
        "legend.borderaxespad": 0.3,
        "pdf.fonttype": 42,
        "ps.fonttype": 42,
        "svg.fonttype": "path",
    }
    return {k: v for k, v in wanted.items() if untouched(k)}


@contextlib.contextmanager
def publication() -> Iterator[dict[RcKeyType, Any]]:
    """Draw in the publication style, locally (a ``with`` block or a decorator).

    Only rcParams still at matplotlib's default are set (see the module docstring), so a
    :func:`calcstats.plot.theme` or any other user setting wins. On exit every
    rcParam is restored. Draw the figure once inside the block (``fig.canvas.draw()``,
    which calcstats' layout does): matplotlib creates tick labels lazily, and the first
    ones fix the style of the others.

    Yields
    ------
    dict
        The rcParams set for the block.

    Examples
    --------
    >>> import matplotlib as mpl
    >>> with publication() as rc:
    ...     rc["legend.frameon"], mpl.rcParams["legend.frameon"]
    (False, False)
    >>> mpl.rcParams["legend.frameon"]
    True
    """
    params = publication_params()
    with mpl.rc_context(params):
        concrete = _concrete_family()
        if concrete is not None:
            mpl.rcParams["font.family"] = concrete
        yield params


_GENERIC = ("sans-serif", "serif", "monospace", "cursive", "fantasy")


def _concrete_family() -> list[str] | None:
    """``font.family`` with generic names ("sans-serif") replaced by their font lists.

    matplotlib resolves "sans-serif" when a text is drawn, from the rcParams of that
    moment; a figure made inside a style but saved outside it would change fonts (and
    its measured layout would no longer fit). Texts made in the block keep the fonts.
    """
    family = mpl.rcParams["font.family"]
    family = [family] if isinstance(family, str) else list(family)
    if not any(f in _GENERIC for f in family):
        return None
    out: list[str] = []
    for f in family:
        out.extend(mpl.rcParams[cast("RcKeyType", f"font.{f}")] if f in _GENERIC else [f])
    installed = _installed()  # naming a missing font makes matplotlib log a warning
    found = [f for f in out if f in installed]
    return found or ["DejaVu Sans"]


def _installed() -> frozenset[str]:
    from matplotlib.font_manager import fontManager

    return frozenset(f.name for f in fontManager.ttflist)


def figure_size(width_mm: float, height_mm: float) -> tuple[float, float]:
    """(width, height) in inches from millimetres, for ``plt.figure(figsize=...)``.

    Examples
    --------
    >>> [round(v, 3) for v in figure_size(85, 63.5)]
    [3.346, 2.5]
    """
    return width_mm / MM_PER_INCH, height_mm / MM_PER_INCH


def _renderer(fig: Figure | SubFigure) -> Any:
    root = fig.figure if isinstance(fig, SubFigure) else fig
    return root._get_renderer()  # type: ignore[attr-defined]  # private: no public equivalent


def _text(text: str, fig: Figure | SubFigure, fontsize: Any, fontweight: Any) -> Text:
    prop = FontProperties(size=fontsize, weight=fontweight)
    t = Text(0, 0, text, fontproperties=prop)
    t.set_figure(fig.figure if isinstance(fig, SubFigure) else fig)
    return t


def text_width(
    text: str,
    fig: Figure | SubFigure,
    *,
    fontsize: float | str | None = None,
    fontweight: str | int | None = None,
) -> float:
    """Width of ``text`` in inches, as the figure's renderer draws it.

    Parameters
    ----------
    text : str
        The string (may hold line breaks: the widest line counts).
    fig : Figure
        The figure it will be drawn in (its renderer and dpi measure it).
    fontsize : float or str, optional
        Points or a relative size ("small"); default ``rcParams["font.size"]``, read now
        (call it inside :func:`publication` to measure in the figure's style).
    fontweight : str or int, optional
        E.g. "bold".

    Returns
    -------
    float
        Inches.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig = plt.figure()
    >>> round(text_width("WW", fig, fontsize=20) / text_width("W", fig, fontsize=20), 1)
    2.0
    """
    if not text:
        return 0.0
    t = _text(text, fig, fontsize, fontweight)
    return float(t.get_window_extent(_renderer(fig)).width / t.figure.dpi)


def text_height(
    text: str,
    fig: Figure | SubFigure,
    *,
    fontsize: float | str | None = None,
    fontweight: str | int | None = None,
) -> float:
    """Height of ``text`` in inches (all its lines), as the renderer draws it.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig = plt.figure()
    >>> text_height("a\\nb", fig, fontsize=10) > 1.5 * text_height("a", fig, fontsize=10)
    True
    """
    if not text:
        return 0.0
    t = _text(text, fig, fontsize, fontweight)
    return float(t.get_window_extent(_renderer(fig)).height / t.figure.dpi)


def wrap(
    text: str,
    width_in: float,
    fig: Figure | SubFigure,
    *,
    fontsize: float | str | None = None,
    fontweight: str | int | None = None,
) -> str:
    """Break ``text`` at spaces into lines no wider than ``width_in`` inches.

    Lines are filled greedily with whole words, measured with the renderer; a single
    word wider than ``width_in`` keeps a line of its own (words are never split).
    Existing line breaks are kept.

    Parameters
    ----------
    text : str
    width_in : float
        The widest a line may be, in inches.
    fig : Figure
        The figure the text will be drawn in.
    fontsize, fontweight : optional
        As for :func:`text_width`.

    Returns
    -------
    str
        ``text`` with ``"\\n"`` between lines.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig = plt.figure()
    >>> wrap("Any calcification", 5.0, fig, fontsize=8)
    'Any calcification'
    >>> wrap("Any calcification", 0.5, fig, fontsize=8)
    'Any\\ncalcification'
    """
    out: list[str] = []
    for paragraph in str(text).split("\n"):
        words = paragraph.split(" ")
        line = words[0]
        for word in words[1:]:
            candidate = f"{line} {word}"
            if text_width(candidate, fig, fontsize=fontsize, fontweight=fontweight) <= width_in:
                line = candidate
            else:
                out.append(line)
                line = word
        out.append(line)
    return "\n".join(out)


# ---- layouts that depend on the figure's size -------------------------------------------
_LAYOUTS: weakref.WeakKeyDictionary[Figure, Callable[[bool], None]] = weakref.WeakKeyDictionary()


def register_layout(fig: Figure, layout: Callable[[bool], None]) -> None:
    """Remember how to lay ``fig`` out again at another size.

    ``layout(keep_height)`` re-measures what depends on the figure's size (e.g. which
    risk-table columns fit) for its current width; with ``keep_height=False`` it may also
    set the height the figure needs at that width. :func:`calcstats.plot.save_figure`
    calls it after resizing a figure.
    """
    _LAYOUTS[fig] = layout


def relayout(fig: Figure, *, keep_height: bool) -> bool:
    """Run the layout registered for ``fig`` (if any); True when there was one.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> relayout(plt.figure(), keep_height=True)
    False
    """
    layout = _LAYOUTS.get(fig)
    if layout is None:
        return False
    layout(keep_height)
    return True
