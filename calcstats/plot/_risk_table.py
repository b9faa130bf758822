"""Numbers at risk (and cumulative events) under a survival plot, on their own axes.

:func:`risk_table` is the axes-level function; :func:`calcstats.plot.survival` composes
it with the curves (the seaborn pattern). The columns sit at the time axis' ticks; every
text is measured with the renderer, so the counts never run together and the group
labels never collide with the first column.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.font_manager import FontProperties
from matplotlib.transforms import ScaledTranslation, blended_transform_factory

from calcstats._errors import (
    CalcstatsError,
    CalcstatsWarning,
    InvalidParameterError,
    user_stacklevel,
)
from calcstats._validation import NONE, NUMBERS, TEXT, Interval, Options, validate_params
from calcstats.labels import Labels
from calcstats.plot._curves import Groups, drawing, groups_of, time_locator
from calcstats.plot._sizing import figure_of
from calcstats.plot._style import MIN_PT, _renderer, figure_size, publication, text_width, wrap
from calcstats.results import CurveResult

__all__ = ["TABLES", "risk_table"]

#: what= → (title, gid prefix of the cells)
TABLES: dict[str, tuple[str, str]] = {
    "at_risk": ("Number at risk", "risk"),
    "at_risk_events": ("Number at risk (cumulative events)", "risk"),
    "events": ("Cumulative number of events", "events"),
    "censored": ("Cumulative number censored", "censored"),
}
#: Row pitch of a table, in multiples of its font size.
ROW_PITCH = 1.5


def readable(color: Any) -> tuple[float, float, float]:
    """``color`` darkened until text in it has 3:1 contrast on white (WCAG, large text).

    Okabe–Ito yellow (#F0E442) is a fine line colour but unreadable as small text.
    """
    rgb = np.asarray(to_rgb(color), dtype=float)

    def luminance(c: np.ndarray) -> float:
        lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
        return float(lin @ np.array([0.2126, 0.7152, 0.0722]))

    while 1.05 / (luminance(rgb) + 0.05) < 3.0:
        rgb = rgb * 0.9
    return float(rgb[0]), float(rgb[1]), float(rgb[2])


def table_fontsize() -> float:
    """The table's type size: that of the tick labels (points)."""
    return float(FontProperties(size=mpl.rcParams["xtick.labelsize"]).get_size_in_points())


def table_height(n_rows: int, fontsize: float) -> float:
    """Height in inches of a table of ``n_rows`` lines of groups and its title row."""
    return (n_rows + 1.2) * ROW_PITCH * fontsize / 72.0


def table_title(what: str, result: CurveResult) -> str:
    """The title row; weighted curves say that the counts are patients, not weights."""
    title = TABLES[what][0]
    return f"{title}, unweighted" if result.weighted else title


def cell_texts(
    result: CurveResult, times: np.ndarray, what: str, order: Sequence[int]
) -> list[list[str]]:
    """The strings of the cells: one list per group (in ``order``), one per time.

    Weighted curves show the actual numbers of patients (``risk_table(unweighted=True)``).
    """
    counts = result.risk_table(times, unweighted=result.weighted)
    n = len(times)
    rows = []
    for g in order:
        part = counts.iloc[g * n : (g + 1) * n]
        risk = np.rint(part["n_risk"].to_numpy()).astype(int)
        ev = np.rint(part["n_event"].to_numpy()).astype(int)
        ce = np.rint(part["n_censor"].to_numpy()).astype(int)
        if what == "at_risk":
            rows.append([f"{r:,}" for r in risk])
        elif what == "at_risk_events":
            rows.append([f"{r:,} ({e:,})" for r, e in zip(risk, ev, strict=True)])
        elif what == "events":
            rows.append([f"{e:,}" for e in ev])
        else:
            rows.append([f"{c:,}" for c in ce])
    return rows


def label_column(
    ax: Axes,
    *,
    times: np.ndarray,
    cells: list[list[str]],
    names: Sequence[str],
    fontsize: float,
) -> tuple[list[str], float, float]:
    """The group-name column left of a table: (names as shown, their width, the gap).

    Names wrap to under 30% of the figure's width. The gap (inches) keeps the names
    half an em from the first column, however far that column's numbers reach left of
    the axes (a column at the left limit is centred on the axes' edge).
    """
    fig = figure_of(ax)
    lo, hi = ax.get_xlim()
    width_in = max(ax.get_window_extent().width / fig.dpi, 1e-6)
    overhang = 0.0
    if len(times):
        j = int(np.argmin(times))
        offset = (times[j] - lo) / (hi - lo) * width_in
        for row in cells:
            half = text_width(row[j], fig, fontsize=fontsize) / 2
            overhang = max(overhang, half - offset)
    gap = max(overhang, 0.0) + 0.5 * fontsize / 72
    if len(cells) < 2:  # one curve: no names, the title starts at the first column
        return [""] * len(cells), 0.0, max(overhang, 0.0)
    limit = 0.3 * fig.get_figwidth()
    shown = [wrap(s, limit, fig, fontsize=fontsize) for s in names]
    width = max(text_width(s, fig, fontsize=fontsize) for s in shown)
    return shown, width, gap


def draw_table(
    ax: Axes,
    *,
    times: np.ndarray,
    cells: list[list[str]],
    names: Sequence[str],
    colors: Sequence[str],
    title: str,
    gid: str,
    fontsize: float,
    column: tuple[float, float] | None = None,
) -> int:
    """Draw (or redraw) a table of ``cells`` on ``ax``: columns at ``times``, a row per group.

    The group names are the y tick labels, left-aligned and coloured as the curves
    (see :func:`label_column`); ``column`` = (names' width, gap) in inches overrides the
    measured column, so that stacked tables line up. A wrapped name makes its row as
    many lines tall. The title row sits above the names, at the column's left.

    Returns the number of text lines of the rows (for :func:`table_height`).
    """
    fig = figure_of(ax)
    for t in list(ax.texts):
        if str(t.get_gid()).startswith((f"{gid}-", f"{gid}title")):
            t.remove()
    shown, width, gap = label_column(ax, times=times, cells=cells, names=names, fontsize=fontsize)
    if column is not None:
        width, gap = column
    lines = [s.count("\n") + 1 for s in shown]  # a wrapped name makes its row taller
    centres = 0.5 + np.cumsum(lines) - np.asarray(lines) / 2
    for i, row in enumerate(cells):
        for t, text in zip(times, row, strict=True):
            ax.text(
                t,
                centres[i],
                text,
                ha="center",
                va="center_baseline",
                fontsize=fontsize,
                color=readable(colors[i]),
                gid=f"{gid}-{i}",
            )
    ax.set_ylim(0.6 + sum(lines), -0.6)
    ax.set_yticks(centres, labels=shown)
    for tick, color in zip(ax.get_yticklabels(), colors, strict=False):
        tick.set_color(readable(color))
        tick.set_horizontalalignment("left")
    ax.tick_params(axis="y", length=0, labelsize=fontsize, pad=(width + gap) * 72)
    ax.tick_params(axis="x", bottom=False, labelbottom=False, top=False, labeltop=False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.patch.set_visible(False)
    where = blended_transform_factory(ax.transAxes, ax.transData)
    ax.text(
        0,
        0,
        title,
        transform=where + ScaledTranslation(-(width + gap), 0, fig.dpi_scale_trans),
        ha="left",
        va="center_baseline",
        fontsize=fontsize,
        fontweight="bold",
        gid=f"{gid}title",
    )
    return int(sum(lines))


def crowded(ax: Axes, gid: str, fontsize: float) -> bool:
    """Whether two neighbouring cells of a row are nearer than half an em."""
    renderer = _renderer(ax.figure)
    gap = 0.5 * fontsize * ax.figure.dpi / 72
    rows: dict[str, list[Any]] = {}
    for t in ax.texts:
        g = str(t.get_gid())
        if g.startswith(f"{gid}-"):
            rows.setdefault(g, []).append(t.get_window_extent(renderer))
    for boxes in rows.values():
        boxes.sort(key=lambda b: b.x0)
        for a, b in itertools.pairwise(boxes):
            if b.x0 - a.x1 < gap:
                return True
    return False


def ticks_in_view(ax: Axes) -> np.ndarray:
    """The major ticks of ``ax`` inside its x limits."""
    lo, hi = ax.get_xlim()
    ticks = np.asarray(ax.xaxis.get_majorticklocs(), dtype=float)
    return ticks[(ticks >= lo - 1e-9 * abs(hi - lo)) & (ticks <= hi + 1e-9 * abs(hi - lo))]


@validate_params(
    {
        "what": [Options(*TABLES)],
        "title": [TEXT, NONE],
        "times": [NUMBERS, NONE],
        "width_mm": [Interval(0, None, closed="neither")],
    }
)
def risk_table(
    result: CurveResult,
    *,
    times: Sequence[float] | None = None,
    what: str = "at_risk",
    labels: Labels | dict[str, str] | None = None,
    colors: Sequence[str] | None = None,
    title: str | None = None,
    width_mm: float = 85.0,
    ax: Axes | None = None,
) -> Axes:
    """Draw a numbers-at-risk (or cumulative events) table of a curve result on one axes.

    Parameters
    ----------
    result : KaplanMeierResult or CumulativeIncidenceResult
        Curves with numbers at risk (model-based adjusted curves have none).
    times : sequence of float, optional
        Times of the columns. Default: the x ticks of ``ax`` (share its x axis with the
        curves' axes: ``fig.add_subplot(..., sharex=ax_curves)``), or of the result's
        time range on a new axes.
    what : {"at_risk", "at_risk_events", "events", "censored"}
        Numbers at risk; "n (cumulative events)"; cumulative events (survminer's
        ``cumevents``); cumulative censorings.
    labels : Labels or dict, optional
        Display labels (group names as in :func:`calcstats.plot.survival`).
    colors : sequence of str, optional
        Colours per group (default Okabe–Ito, as the curves).
    title : str, optional
        Title row (default "Number at risk", ...; ", unweighted" is added for weighted
        curves, whose table shows the actual numbers of patients).
    width_mm : float, default 85
        Width of the new figure when ``ax`` is not given.
    ax : matplotlib Axes, optional
        Where to draw; its spines and x ticks are hidden.

    Returns
    -------
    matplotlib Axes

    Warns
    -----
    CalcstatsWarning
        When the columns are too close for their numbers even at the smallest type size
        (use fewer ``times`` or a wider figure).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import calcstats as cs
    >>> pbc = cs.datasets.load_pbc()
    >>> km = cs.kaplan_meier(pbc.assign(died=(pbc["status"] == 2).astype(int)),
    ...                      time="time", event="died", by="sex")
    >>> ax = cs.plot.risk_table(km, times=[0, 1000, 2000, 3000, 4000])
    >>> [t.get_text() for t in ax.texts if t.get_gid() == "risk-0"]
    ['374', '294', '163', '67', '19']
    """
    if not drawing(result).risk_table:
        raise InvalidParameterError(
            f"risk_table: a {type(result).__name__} has no numbers at risk (the curves are "
            "model-based)."
        )
    lab = Labels.default() | result.labels | Labels.coerce(labels)
    with publication():
        groups: Groups = groups_of(result, lab, colors=colors)
        fs = table_fontsize()
        if ax is None:
            w, _ = figure_size(width_mm, 0)
            fig = plt.figure(figsize=(w, table_height(len(groups), fs) + 0.2), layout="constrained")
            ax = fig.add_subplot()
        siblings = ax.get_shared_x_axes().get_siblings(ax)
        if tuple(ax.get_xlim()) == (0.0, 1.0) and not any(a.has_data() for a in siblings):
            tmax = float(result.tidy()["time"].max())
            ax.set_xlim(0, tmax)
            time_locator(ax, 6, tmax)
        ts = ticks_in_view(ax) if times is None else np.unique(np.asarray(times, dtype=float))
        if ts.size == 0:
            raise CalcstatsError("risk_table: no times to show; give times= inside the x range.")
        cells = cell_texts(result, ts, what, groups.order)
        gid = TABLES[what][1]
        while True:
            draw_table(
                ax,
                times=ts,
                cells=cells,
                names=groups.names,
                colors=groups.colors,
                title=title or table_title(what, result),
                gid=gid,
                fontsize=fs,
            )
            if not crowded(ax, gid, fs) or fs <= MIN_PT:
                break
            fs = max(MIN_PT, fs - 0.5)
        if crowded(ax, gid, fs):
            warnings.warn(
                "risk_table: the numbers of neighbouring columns touch even at "
                f"{MIN_PT:g} pt; show fewer times (times=) or draw a wider figure.",
                CalcstatsWarning,
                stacklevel=user_stacklevel(),
            )
    return ax
