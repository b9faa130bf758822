"""Forest plots of model estimates (OR, RR, IRR, HR, sHR) with their confidence intervals.

Reads fitted models — their ``tidy()`` and the rows of their terms
(:func:`calcstats._terms.term_rows`, the same rows as :func:`calcstats.regression_table`)
— or a ready table of estimates (e.g. subgroup analyses); it draws, it does not estimate.

Layout is measured: the label column is as wide as its longest label (long labels wrap
when the figure is narrow), the estimate and p-value columns as wide as their texts, and
the axis keeps only as many ticks as fit without their labels touching. Models that do
not fit side by side at the figure's width are drawn one under another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, MaxNLocator, NullLocator
from matplotlib.transforms import blended_transform_factory

from calcstats._errors import InvalidParameterError, SchemaError
from calcstats._format import format_ci, format_p
from calcstats._terms import (
    LABELS,
    TEXT,
    TEXTS,
    display_labels,
)
from calcstats._validation import (
    BOOLEAN,
    CONF_LEVEL,
    NONE,
    NUMBERS,
    REAL,
    Interval,
    validate_params,
)
from calcstats.labels import Labels
from calcstats.plot._forest_rows import SHORT, Panel, Row, from_frame, from_results
from calcstats.plot._sizing import (
    AXES,
    WIDTH_MM,
    SpacedLocator,
    figure_of,
    fit_height,
    line_height,
    new_figure,
    settle,
)
from calcstats.plot._style import publication, text_width, wrap
from calcstats.plot._theme import OKABE_ITO
from calcstats.results import ModelResult

__all__ = ["forest"]

_REFERENCE = "1 (reference)"
_HEAD = 1.5  # line units above the first row: the column heads
_GAP = 0.5  # line units between rows
_PAD_PT = 6.0  # points between the plot and its text columns, and between columns
_INDENT_PT = 8.0  # points of indent for a level row
_MIN_PLOT_IN = 0.8  # the narrowest estimate axis (inches)


@dataclass(frozen=True)
class _Grid:
    """Where the rows sit (y in line units, growing downwards) and how wide the label,
    estimate and p-value columns are (points)."""

    labels: list[str]
    centers: list[float]
    bottom: float
    label_pt: float
    ci_pt: float
    p_pt: float


def _nice_ticks(xlim: tuple[float, float], ref: float) -> np.ndarray:
    """1-2-5 ticks on a log axis, always including the reference (thinned at draw time
    until their labels fit)."""
    decades = np.arange(-4, 5)
    cand = np.sort(np.concatenate([m * 10.0**decades for m in (1, 2, 5)])) * ref
    ticks = cand[(cand >= xlim[0] * 0.999) & (cand <= xlim[1] * 1.001)]
    if len(ticks) < 3:
        cand = np.array([0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4]) * ref
        ticks = cand[(cand >= xlim[0]) & (cand <= xlim[1])]
    return ticks


def _limits(panels: list[Panel], ref: float, log: bool) -> tuple[float, float]:
    """Estimate-axis limits covering every finite CI (symmetric in log space)."""
    lows = np.array([p[1] for pn in panels for p in pn.points.values()], dtype=float)
    highs = np.array([p[2] for pn in panels for p in pn.points.values()], dtype=float)
    ok = np.isfinite(lows) & np.isfinite(highs) & ((lows > 0) | (not log))
    if log:
        lo = min(ref, float(lows[ok].min())) if ok.any() else ref / 2
        hi = max(ref, float(highs[ok].max())) if ok.any() else ref * 2
        span = max(abs(np.log(lo / ref)), abs(np.log(hi / ref))) * 1.08
        return ref * np.exp(-span), ref * np.exp(span)
    lo = min(ref, float(lows[ok].min())) if ok.any() else ref - 1
    hi = max(ref, float(highs[ok].max())) if ok.any() else ref + 1
    pad = 0.08 * (hi - lo)
    return lo - pad, hi + pad


def _columns(fig: Figure, panels: list[Panel], digits: int, show_p: bool) -> tuple[float, float]:
    """Inches of the estimate-text column and of the p-value column (as measured)."""
    ci = [_REFERENCE, "—"] + [
        format_ci(e, lo, hi, digits=digits) for pn in panels for e, lo, hi, _ in pn.points.values()
    ]
    heads = [f"{pn.short} ({100 * pn.conf_level:g}% CI)" for pn in panels]
    ci_in = max(
        max(text_width(s, fig) for s in ci),
        max(text_width(s, fig, fontweight="bold") for s in heads),
    )
    p_in = max(text_width(s, fig) for s in ("<0.001", "0.00", "p")) if show_p else 0.0
    return ci_in, p_in


def _grid(fig: Figure, rows: list[Row], width_in: float, ci_in: float, p_in: float) -> _Grid:
    """Wrap the labels to at most ``width_in`` inches and place the rows."""
    indent_in = _INDENT_PT / 72
    labels, widths = [], []
    for r in rows:
        weight = "bold" if r.bold else "normal"
        text = wrap(r.label, max(width_in - indent_in * r.indent, 0.3), fig, fontweight=weight)
        labels.append(text)
        widths.append(text_width(text, fig, fontweight=weight) + indent_in * r.indent)
    centers, y = [], 0.0
    for text in labels:
        height = text.count("\n") + 1 + _GAP
        centers.append(y + height / 2)
        y += height
    pad = _PAD_PT / 72
    return _Grid(
        labels, centers, y, 72 * (max(widths) + pad), 72 * (ci_in + pad), 72 * (p_in + pad)
    )


def _annotate(ax: Axes, text: str, y: float, dx_pt: float, **kw: Any) -> None:
    """Text at row ``y``, ``dx_pt`` points right of the axes' left (< 0) or right edge."""
    edge = blended_transform_factory(ax.transAxes, ax.transData)
    ax.annotate(
        text,
        xy=(0 if dx_pt < 0 else 1, y),
        xycoords=edge,
        xytext=(dx_pt, 0),
        textcoords="offset points",
        va="center",
        annotation_clip=False,
        **kw,
    )


def _draw(
    ax: Axes,
    rows: list[Row],
    grid: _Grid,
    panel: Panel,
    *,
    show_labels: bool,
    color: str,
    xlim: tuple[float, float],
    ref: float,
    log: bool,
    xticks: Sequence[float] | None,
    show_p: bool,
    digits: int,
) -> None:
    """One model on one axes: row labels left of it (``show_labels``), markers and CIs in
    it, the estimate and p-value texts right of it."""
    ax.set_ylim(grid.bottom, -_HEAD)
    ci_dx, p_dx = _PAD_PT, grid.ci_pt + grid.p_pt

    def put(y: float, s: str, col: str, **kw: Any) -> None:
        _annotate(
            ax, s, y, ci_dx if col == "ci" else p_dx, ha="left" if col == "ci" else "right", **kw
        )

    if show_labels:
        for y, row, text in zip(grid.centers, rows, grid.labels, strict=True):
            _annotate(
                ax,
                text,
                y,
                -grid.label_pt + _INDENT_PT * row.indent,
                ha="left",
                fontweight="bold" if row.bold else "normal",
                gid="label",
            )
    ax.vlines(ref, grid.bottom, 0, color="0.4", linewidth=0.6, linestyle="--", zorder=0)
    xs, los, his, ys = [], [], [], []
    for y, row in zip(grid.centers, rows, strict=True):
        if row.key in panel.references:
            put(y, _REFERENCE, "ci", color="0.35", gid="estimate-text")
            ax.plot(
                [ref],
                [y],
                marker="o",
                markersize=3.5,
                markerfacecolor="white",
                markeredgecolor=color,
                linestyle="none",
                gid="reference",
            )
        elif row.key in panel.missing:  # not estimable: "—", no marker (footnote says why)
            put(y, "—", "ci", gid="estimate-text")
        elif row.key in panel.points:
            e, lo, hi, p = panel.points[row.key]
            xs.append(e)
            los.append(lo)
            his.append(hi)
            ys.append(y)
            put(y, format_ci(e, lo, hi, digits=digits), "ci", gid="estimate-text")
            if show_p and np.isfinite(p):
                put(y, format_p(p), "p", gid="p-text")
    x, lo_a, hi_a, y_a = (np.array(v, dtype=float) for v in (xs, los, his, ys))
    ax.hlines(y_a, np.clip(lo_a, *xlim), np.clip(hi_a, *xlim), color=color, linewidth=1.0, gid="ci")
    inside = (x >= xlim[0]) & (x <= xlim[1])
    ax.plot(
        x[inside],
        y_a[inside],
        marker="s",
        markersize=4,
        color=color,
        linestyle="none",
        gid="estimate",
    )
    arrow = {"arrowstyle": "->", "color": color, "lw": 1.0}
    for yi, lo_v, hi_v in zip(y_a, lo_a, hi_a, strict=True):  # arrows for clipped CIs
        for beyond, end, inward in ((hi_v > xlim[1], xlim[1], -1), (lo_v < xlim[0], xlim[0], 1)):
            if beyond:
                start = end * 0.85 ** (-inward) if log else end + inward * 0.05 * np.ptp(xlim)
                ax.annotate("", xy=(end, yi), xytext=(start, yi), arrowprops=arrow)
    if log:
        ax.set_xscale("log")
    ax.set_xlim(*xlim)
    if xticks is not None:
        ax.xaxis.set_major_locator(FixedLocator(np.asarray(xticks, dtype=float).tolist()))
    elif log:
        ax.xaxis.set_major_locator(SpacedLocator(lambda: _nice_ticks(xlim, ref), anchor=ref))
    else:
        ax.xaxis.set_major_locator(
            SpacedLocator(
                lambda: MaxNLocator(6, steps=[1, 2, 2.5, 5, 10]).tick_values(*xlim), anchor=ref
            )
        )
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(lambda v, _p: f"{v:g}")
    ax.set_xlabel(panel.axis)
    ax.tick_params(axis="y", left=False, labelleft=False)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    head = -(_HEAD + _GAP) / 2
    put(
        head, f"{panel.short} ({100 * panel.conf_level:g}% CI)", "ci", fontweight="bold", gid="head"
    )
    if show_p:
        put(head, "p", "p", fontweight="bold", fontstyle="italic", gid="head")
    if panel.title:
        ax.set_title(panel.title, loc="left", fontweight="bold")


@validate_params(
    {
        "model_names": [TEXTS, NONE],
        "labels": [LABELS],
        "terms": [TEXTS, NONE],
        "measure": [TEXT, NONE],
        "conf_level": [CONF_LEVEL, NONE],
        "ref_line": [REAL, NONE],
        "log_scale": [BOOLEAN, NONE],
        "show_p": [BOOLEAN],
        "digits": [Interval(0, None, integer=True)],
        "xlim": [NUMBERS, NONE],
        "xticks": [NUMBERS, NONE],
        "colors": [TEXTS, NONE],
        "width_mm": [WIDTH_MM, NONE],
        "ax": [AXES, NONE],
    }
)
def forest(
    results: ModelResult | Sequence[ModelResult] | pd.DataFrame,
    *,
    model_names: Sequence[str] | None = None,
    labels: Labels | Mapping[str, str] | None = None,
    terms: Sequence[str] | None = None,
    measure: str | None = None,
    conf_level: float | None = None,
    ref_line: float | None = None,
    log_scale: bool | None = None,
    show_p: bool = True,
    digits: int = 2,
    xlim: tuple[float, float] | None = None,
    xticks: Sequence[float] | None = None,
    colors: Sequence[str] | None = None,
    width_mm: float | None = None,
    ax: Axes | None = None,
) -> Figure | Axes:
    """Draw a forest plot: one row per variable level, estimate and CI (log axis for ratios).

    Parameters
    ----------
    results : ModelResult, list of ModelResult, or pandas.DataFrame
        One or several fitted models (drawn side by side, e.g. crude and adjusted; rows in
        formula order, the term written first on top, as in
        :func:`~calcstats.regression_table`), or a table of estimates with columns
        ``label`` (or ``term``), ``estimate``, ``conf_low``, ``conf_high`` and optionally
        ``group`` (subgroup header) and ``p_value``, drawn as given.
    model_names : sequence of str, optional
        Panel titles, one per model (default "Model 1", ... for several models, none for
        one).
    labels : Labels or dict, optional
        Display labels of variables and levels, merged over ``Labels.default()`` and the
        results' own labels (``{"age_at_index": "Age (per year)"}``, or
        ``cs.Labels(levels={"etiology": {"psc": "PSC"}})``).
    terms : sequence of str, optional
        Terms to show, in this order, by formula term or data column (default: all but
        the intercept).
    measure : str, optional
        Axis title, e.g. "Hazard ratio" (default from each model: "Odds ratio" for OR,
        "Hazard ratio" for HR, "Subdistribution hazard ratio" for sHR, "Risk ratio" for
        RR, "Rate ratio" for IRR); the column head abbreviates it (HR, sHR, ...).
    conf_level : float, optional
        Level of the intervals (default: each model's; for a DataFrame the level its
        intervals have, 0.95 unless given).
    ref_line : float, optional
        Position of the no-effect line (default 1 for ratio measures, 0 otherwise).
    log_scale : bool, optional
        Log-scaled estimate axis (default: for ratio measures).
    show_p : bool, default True
        Add a p-value column.
    digits : int, default 2
        Decimals of the estimate text.
    xlim : (float, float), optional
        Estimate-axis limits (default: covers every CI, symmetric in log space); a CI
        beyond them ends in an arrow.
    xticks : sequence of float, optional
        Estimate-axis ticks, drawn as given (default: 1-2-5 ticks on a log axis, thinned
        until their labels do not touch).
    colors : sequence of str, optional
        Marker colour per model (default black for one model, Okabe–Ito for several).
    width_mm : float, optional
        Width of the new figure in millimetres (default 85, a single column, for one
        model; 180, a double column, for several). The height follows the rows. Models
        that do not fit side by side at this width are drawn one under another.
    ax : matplotlib.axes.Axes, optional
        Draw one model (or a DataFrame) into this axes: the estimates on it, the row labels
        to its left, the estimate and p-value texts to its right and the footnote under
        it. Use a figure with ``layout="constrained"`` to make room for them.

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.axes.Axes
        The axes when ``ax`` is given, else a new figure.

    Notes
    -----
    Terms that cannot be estimated (monotone likelihood) show "—", and a footnote inside
    the figure says why.

    Examples
    --------
    >>> import pandas as pd
    >>> import matplotlib.pyplot as plt
    >>> from calcstats.plot import forest
    >>> sub = pd.DataFrame({"group": ["Sex", "Sex"], "label": ["Female", "Male"],
    ...                     "estimate": [1.4, 1.9], "conf_low": [1.1, 1.2],
    ...                     "conf_high": [1.8, 3.0], "p_value": [0.01, 0.004]})
    >>> fig = forest(sub, measure="Hazard ratio")
    >>> round(float(fig.get_size_inches()[0]) * 25.4)
    85
    >>> import calcstats as cs
    >>> pbc = cs.datasets.load_pbc()
    >>> fit = cs.cox(pbc, "C(edema) + age", time="time", event="status", cause=2)
    >>> fig = plt.figure(layout="constrained")
    >>> ax = forest(fit, labels={"edema": "Edema"}, ax=fig.add_subplot())
    >>> ax.get_xlabel()
    'Hazard ratio'
    """
    if isinstance(results, pd.DataFrame):
        if model_names is not None and len(model_names) != 1:
            raise InvalidParameterError(
                f"The 'model_names' parameter of forest has {len(model_names)} names for one "
                "table of estimates."
            )
        title = "" if model_names is None else model_names[0]
        rows, panels, notes = from_frame(results, title, conf_level, measure)
        ratio = measure is None or measure in SHORT
    else:
        seq = [results] if isinstance(results, ModelResult) else results
        if (
            not isinstance(seq, list | tuple)
            or not seq
            or not all(isinstance(r, ModelResult) for r in seq)
        ):
            raise SchemaError(
                "forest expects a fitted model (cs.cox, cs.logistic, ...), a list of fitted "
                f"models, or a DataFrame of estimates; got {type(results).__name__}."
            )
        seq = list(seq)
        if model_names is not None and len(model_names) != len(seq):
            raise InvalidParameterError(
                f"The 'model_names' parameter of forest has {len(model_names)} names for "
                f"{len(seq)} model(s). Give one name per model."
            )
        names = (
            list(model_names)
            if model_names is not None
            else ([f"Model {i + 1}" for i in range(len(seq))] if len(seq) > 1 else [""])
        )
        rows, panels, notes = from_results(
            seq, names, display_labels(seq, labels), terms, conf_level, measure
        )
        ratio = all(r.ratio_measure is not None for r in seq)
    if not rows:
        raise InvalidParameterError(
            "Nothing to draw: the model has no terms besides the intercept."
        )
    if ax is not None and len(panels) != 1:
        raise InvalidParameterError(
            f"The 'ax' parameter of forest takes one model; got {len(panels)}. Leave "
            "ax=None for a figure with one panel per model."
        )
    if xlim is not None and len(xlim) != 2:
        raise InvalidParameterError(
            f"The 'xlim' parameter of forest must be two numbers (low, high). Got {xlim!r}."
        )
    log = ratio if log_scale is None else log_scale
    ref = (1.0 if ratio else 0.0) if ref_line is None else float(ref_line)
    style = {
        "xlim": _limits(panels, ref, log) if xlim is None else (float(xlim[0]), float(xlim[1])),
        "ref": ref,
        "log": log,
        "xticks": xticks,
        "show_p": show_p,
        "digits": digits,
    }
    palette = list(colors) if colors is not None else list(OKABE_ITO)
    if colors is None and len(panels) == 1:
        palette = ["black"]
    with publication():
        if ax is not None:
            return _on_axes(ax, rows, panels[0], notes, palette[0], style)
        return _figure(rows, panels, notes, palette, style, width_mm)


def _figure(
    rows: list[Row],
    panels: list[Panel],
    notes: list[str],
    palette: list[str],
    style: dict[str, Any],
    width_mm: float | None,
) -> Figure:
    """Panels side by side (one under another when they do not fit), labels measured."""
    k = len(panels)
    width_mm = (85.0 if k == 1 else 180.0) if width_mm is None else float(width_mm)
    fig = new_figure(width_mm, 2.0)
    width_in = width_mm / 25.4
    ci_in, p_in = _columns(fig, panels, style["digits"], style["show_p"])
    panel_in = _MIN_PLOT_IN + ci_in + p_in + 3 * _PAD_PT / 72
    longest = max(
        text_width(r.label, fig, fontweight="bold" if r.bold else "normal")
        + r.indent * _INDENT_PT / 72
        for r in rows
    )
    usable = width_in - 0.15
    per_row = next(
        (n for n in range(k, 0, -1) if usable - n * panel_in >= min(longest, 0.3 * width_in)),
        1,
    )
    label_in = min(longest, max(usable - per_row * panel_in, 0.25 * width_in))
    grid = _grid(fig, rows, label_in, ci_in, p_in)
    blocks = -(-k // per_row)
    gs = fig.add_gridspec(blocks, per_row)
    axes = []
    for j, panel in enumerate(panels):
        ax = fig.add_subplot(gs[j // per_row, j % per_row])
        _draw(
            ax,
            rows,
            grid,
            panel,
            show_labels=j % per_row == 0,
            color=palette[j % len(palette)],
            **style,
        )
        axes.append(ax)
    if notes:
        fig.supxlabel(
            wrap("\n".join(notes), usable, fig, fontsize="small"),
            x=0.05 / width_in,
            ha="left",
            fontsize="small",
            gid="footnote",
        )
    line_in = line_height(fig)
    fit_height(fig, axes, [(grid.bottom + _HEAD) * line_in] * len(axes))
    return fig


def _on_axes(
    ax: Axes,
    rows: list[Row],
    panel: Panel,
    notes: list[str],
    color: str,
    style: dict[str, Any],
) -> Axes:
    """One panel in the user's axes: labels left of it, texts right of it, footnote under."""
    fig = figure_of(ax)
    ci_in, p_in = _columns(fig, [panel], style["digits"], style["show_p"])
    width_in = float(fig.get_size_inches()[0])
    grid = _grid(fig, rows, 0.35 * width_in, ci_in, p_in)
    _draw(ax, rows, grid, panel, show_labels=True, color=color, **style)
    if notes:
        ax_in = ax.get_position().width * width_in
        ax.annotate(
            wrap("\n".join(notes), grid.label_pt / 72 + ax_in, fig, fontsize="small"),
            xy=(0, 0),
            xycoords=("axes fraction", ax.xaxis.label),
            xytext=(-grid.label_pt, -4),
            textcoords="offset points",
            va="top",
            ha="left",
            fontsize="small",
            annotation_clip=False,
            gid="footnote",
        )
    settle(fig)
    return ax
