"""Journal themes for calcstats figures (optional).

No theme is needed: every calcstats plot function draws in a print-ready publication
style of its own, applied locally (:mod:`calcstats.plot._style`), so its figures are
right at 85 and 180 mm as they come. A theme is for matching one journal's type sizes,
fonts and column widths; what a theme sets wins over the default style.

``theme()`` returns a dict of matplotlib rcParams that works three ways, like seaborn's
``plotting_context``: as a setter (``theme("jhep").apply()``), as a context manager
(``with theme("jhep"): ...``) and as a decorator (``@theme("jhep")``). Importing calcstats
never changes matplotlib's global state; only ``apply()`` does.

Presets carry the figure widths journals ask for (single, 1.5 and double column, in mm)
and their minimum type size. Sources: Elsevier artwork guidelines (used by Journal of
Hepatology and JHEP Reports: 90 / 140 / 190 mm; sans-serif text such as Arial or
Helvetica, 7 pt or larger at final size); Springer Nature figure guide (89 / 136 /
183 mm; sans-serif, 5-7 pt). The "general" preset is a conservative middle ground. Check
your target journal's current author guidelines before submission.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

import matplotlib as mpl
from matplotlib.rcsetup import cycler

from calcstats._errors import CalcstatsError

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

__all__ = ["JOURNALS", "LINESTYLES", "OKABE_ITO", "JournalStyle", "theme"]

F = TypeVar("F", bound=Callable[..., Any])

#: Okabe & Ito (2008) colour-blind-safe palette, black first for single curves.
OKABE_ITO: tuple[str, ...] = (
    "#000000",  # black
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#F0E442",  # yellow (last: weak on white)
)

#: Line styles that stay distinguishable when printed in greyscale.
LINESTYLES: tuple[Any, ...] = ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3)))

_SANS = ["Arial", "Helvetica", "Liberation Sans", "DejaVu Sans"]


@dataclass(frozen=True)
class JournalStyle:
    """Physical constraints of a journal's artwork guidelines."""

    name: str
    single_mm: float
    one_half_mm: float
    double_mm: float
    font_pt: float
    min_font_pt: float
    font_family: tuple[str, ...] = tuple(_SANS)
    dpi: int = 600

    def width_mm(self, columns: float = 1) -> float:
        """Figure width for 1, 1.5 or 2 columns."""
        widths = {1: self.single_mm, 1.5: self.one_half_mm, 2: self.double_mm}
        if columns not in widths:
            raise CalcstatsError(
                f"columns must be 1, 1.5 or 2 for journal {self.name!r}; got {columns!r}."
            )
        return widths[columns]


JOURNALS: dict[str, JournalStyle] = {
    "general": JournalStyle("general", 85.0, 130.0, 175.0, 8.0, 6.0),
    "jhep": JournalStyle("Journal of Hepatology (Elsevier)", 90.0, 140.0, 190.0, 8.0, 7.0),
    "elsevier": JournalStyle("Elsevier", 90.0, 140.0, 190.0, 8.0, 7.0),
    "nature": JournalStyle("Springer Nature", 89.0, 136.0, 183.0, 7.0, 5.0),
}


class _Theme(dict):
    """rcParams that act as a value, a ``with`` block and a decorator."""

    def __init__(self, params: dict[str, Any], style: JournalStyle) -> None:
        super().__init__(params)
        self.style = style
        self._saved: list[dict[RcKeyType, Any]] = []

    def apply(self) -> None:
        """Set the theme globally (the only calcstats call that changes rcParams)."""
        mpl.rcParams.update(self)

    def __enter__(self) -> _Theme:
        self._saved.append({k: mpl.rcParams[k] for k in self})
        mpl.rcParams.update(self)
        return self

    def __exit__(self, *exc: object) -> None:
        mpl.rcParams.update(self._saved.pop())

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return cast(F, wrapper)  # functools.wraps keeps the signature


def theme(
    journal: str | None = None, *, font_scale: float = 1.0, font: str | None = None
) -> _Theme:
    """Return a journal theme: rcParams usable as a setter, ``with`` block or decorator.

    Optional: without a theme, figures are drawn in calcstats' publication style. A
    theme's settings win over that style (sizes, fonts, line widths).

    Parameters
    ----------
    journal : str, optional
        A key of :data:`JOURNALS` (``"general"``, ``"jhep"``, ``"elsevier"``,
        ``"nature"``); default ``"general"``.
    font_scale : float, default 1.0
        Multiplies every font size.
    font : str, optional
        Font family placed first in the sans-serif list (falls back to Arial, Helvetica,
        Liberation Sans, DejaVu Sans).

    Returns
    -------
    dict
        rcParams with ``.apply()``, ``__enter__``/``__exit__`` and ``__call__``; its
        ``.style`` attribute is the :class:`JournalStyle` (widths in mm for
        :func:`calcstats.plot.save_figure`).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from calcstats.plot import theme
    >>> with theme("jhep"):
    ...     fig, ax = plt.subplots()
    >>> theme("jhep").style.width_mm(2)
    190.0
    """
    key = "general" if journal is None else str(journal).lower()
    if key not in JOURNALS:
        raise CalcstatsError(
            f"Unknown journal theme {journal!r}; choose one of {sorted(JOURNALS)} "
            "or None for the general theme."
        )
    style = JOURNALS[key]
    if not font_scale > 0:
        raise CalcstatsError(f"font_scale must be positive, got {font_scale!r}.")
    base = style.font_pt * font_scale
    small = max(style.min_font_pt, base - 1)
    family = ([font] if font else []) + [f for f in style.font_family if f != font]
    params: dict[str, Any] = {
        "font.family": "sans-serif",
        "font.sans-serif": family,
        "font.size": base,
        "axes.titlesize": base + 1,
        "axes.labelsize": base,
        "xtick.labelsize": small,
        "ytick.labelsize": small,
        "legend.fontsize": small,
        "legend.title_fontsize": small,
        "figure.titlesize": base + 1,
        "axes.linewidth": 0.6,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": "black",
        "axes.labelcolor": "black",
        "axes.grid": False,
        "axes.prop_cycle": cycler(color=list(OKABE_ITO)),
        "xtick.color": "black",
        "ytick.color": "black",
        "xtick.major.width": 0.6,
        "ytick.major.width": 0.6,
        "xtick.major.size": 3.0,
        "ytick.major.size": 3.0,
        "lines.linewidth": 1.2,
        "legend.frameon": False,
        "figure.dpi": 150,
        "savefig.dpi": style.dpi,
        "pdf.fonttype": 42,
        "ps.fonttype": 42,
        "svg.fonttype": "path",
        "svg.hashsalt": "calcstats",
    }
    return _Theme(params, style)
