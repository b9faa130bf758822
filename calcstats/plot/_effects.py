"""Prevalence-by-group and dose–response figures (draw results; compute nothing).

Both dispatch on the result's type (:class:`~calcstats.describe.PrevalenceResult`,
:class:`~calcstats.survival.PartialEffectResult`), draw under the publication style and
measure their text: group labels wrap to a label column of at most 40% of the figure's
width, and the figure's height follows the rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import singledispatch
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import LogLocator, MaxNLocator, NullLocator

from calcstats._errors import CalcstatsError
from calcstats._validation import BOOLEAN, NONE, REAL, TEXT, validate_params
from calcstats.describe import PrevalenceResult
from calcstats.labels import Labels
from calcstats.plot._sizing import (
    AXES,
    WIDTH_MM,
    SpacedLocator,
    figure_of,
    fit_height,
    line_height,
    new_figure,
    settle,
    tick_fontsize,
)
from calcstats.plot._style import publication, text_width, wrap
from calcstats.survival import PartialEffectResult

__all__ = ["dose_response", "prevalence"]

_LABEL_SHARE = 0.4  # the widest the group-label column may be, as a share of the figure


@singledispatch
def _prevalence(result: Any) -> PrevalenceResult:
    raise CalcstatsError(
        "plot.prevalence draws a PrevalenceResult, the result of cs.prevalence(data, "
        f"outcome=..., by=...); got {type(result).__name__}."
    )


@_prevalence.register
def _(result: PrevalenceResult) -> PrevalenceResult:
    if not result.by:
        raise CalcstatsError(
            "plot.prevalence draws prevalence by group: compute it with by=, e.g. "
            "cs.prevalence(data, outcome='any_calcification', by='etiology'). This result "
            "has a single overall prevalence."
        )
    return result


@_prevalence.register
def _(result: pd.DataFrame) -> PrevalenceResult:
    raise CalcstatsError(
        "plot.prevalence draws a PrevalenceResult, not a DataFrame (a table does not say "
        "its interval or which counts were suppressed): pass cs.prevalence(data, "
        "outcome=..., by=...)."
    )


def _group_labels(frame: pd.DataFrame, by: list[str], lab: Labels) -> list[str]:
    return [
        ", ".join(lab.level(c, v) for c, v in zip(by, row, strict=True))
        for row in frame[by].itertuples(index=False)
    ]


def _rows(result: PrevalenceResult, lab: Labels, sort: bool) -> pd.DataFrame:
    """The rows top to bottom: by prevalence (highest on top) or in level order."""
    tidy = result.tidy()
    by = list(result.by)
    if sort:
        frame = tidy.sort_values("estimate", ascending=False, kind="stable")
    elif len(by) == 1:
        order = lab.order(by[0], list(tidy[by[0]]))
        frame = tidy.set_index(by[0], drop=False).loc[order].reset_index(drop=True)
    else:
        frame = tidy
    return frame.assign(_label=_group_labels(frame, by, lab)).reset_index(drop=True)


@validate_params(
    {
        "sort": [BOOLEAN],
        "percent": [BOOLEAN],
        "show_counts": [BOOLEAN],
        "color": [TEXT],
        "xlabel": [TEXT, NONE],
        "width_mm": [WIDTH_MM],
        "ax": [AXES, NONE],
    }
)
def prevalence(
    result: PrevalenceResult,
    *,
    sort: bool = True,
    percent: bool = True,
    show_counts: bool = True,
    color: str = "black",
    xlabel: str | None = None,
    labels: Labels | Mapping[str, str] | None = None,
    width_mm: float = 85.0,
    ax: Axes | None = None,
) -> Axes:
    """Dot-and-interval plot of prevalence by group (e.g. calcification by etiology).

    Parameters
    ----------
    result : PrevalenceResult
        Output of :func:`calcstats.prevalence` with ``by=``; its ``tidy()`` gives the
        groups, ``cases``, ``n``, ``estimate`` and CI. Counts hidden by the result's
        ``suppress_below`` are shown as ``<k``.
    sort : bool, default True
        Order groups by prevalence, highest on top; ``False`` keeps the order of the
        level labels (``labels``), then the result's order.
    percent : bool, default True
        Show the axis in percent.
    show_counts : bool, default True
        Write "cases/n" right of each row.
    color : str, default "black"
        Colour of points and intervals.
    xlabel : str, optional
        Axis label (default "Prevalence (%, 95% CI)"; "Standardised prevalence ..." for a
        directly standardised result).
    labels : Labels or dict, optional
        Display labels, merged as ``Labels.default() | result.labels | labels``: groups
        show their level labels (``cs.Labels(levels={"etiology": {"pbc": "PBC"}})``).
    width_mm : float, default 85
        Width of the new figure (when ``ax`` is None) in millimetres; the height follows
        the number of groups.
    ax : matplotlib Axes, optional
        Draw into this axes (the labels wrap to 40% of its figure's width; use a figure
        with ``layout="constrained"`` to make room for the labels and counts).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd, calcstats as cs
    >>> d = pd.DataFrame({"calc": [1, 0, 1, 1, 0, 0], "etiology": ["pbc", "pbc", "psc",
    ...                   "psc", "masld", "masld"]})
    >>> ax = cs.plot.prevalence(cs.prevalence(d, outcome="calc", by="etiology"))
    >>> [t.get_text() for t in ax.get_yticklabels()][0]
    'Primary sclerosing\\ncholangitis'
    """
    res = _prevalence(result)
    lab = Labels.default() | res.labels | Labels.coerce(labels)
    frame = _rows(res, lab, sort)
    with publication():
        own = ax is None
        fig = new_figure(width_mm, 2.0) if ax is None else figure_of(ax)
        ax = fig.add_subplot() if ax is None else ax
        width_in = float(fig.get_size_inches()[0])
        size = tick_fontsize(ax.yaxis)
        names = [wrap(s, _LABEL_SHARE * width_in, fig, fontsize=size) for s in frame["_label"]]
        heights = np.array([s.count("\n") + 1 for s in names], dtype=float) + 0.6
        y = np.cumsum(heights) - heights / 2  # row centres in lines, top row first
        scale = 100.0 if percent else 1.0
        est, lo, hi = (
            frame[c].to_numpy(dtype=float) * scale for c in ("estimate", "conf_low", "conf_high")
        )
        ax.hlines(y, lo, hi, color=color, linewidth=1.0, gid="ci")
        ax.plot(est, y, "o", color=color, markersize=4, gid="estimate")
        ax.set_yticks(y, labels=names)
        ax.tick_params(axis="y", length=0)
        ax.set_ylim(float(y[-1] + heights[-1] / 2), 0.0)
        ax.spines["left"].set_visible(False)
        top = float(np.nanmax(hi)) if np.isfinite(hi).any() else scale
        ax.set_xlim(0, max(top * 1.05, 1e-9))
        ax.xaxis.set_major_locator(
            SpacedLocator(lambda: MaxNLocator(6, steps=[1, 2, 2.5, 5, 10]).tick_values(0, top))
        )
        what = "Standardised prevalence" if res.standardize else "Prevalence"
        unit = "%, " if percent else ""
        ax.set_xlabel(xlabel or f"{what} ({unit}{100 * res.conf_level:g}% CI)")
        if show_counts:
            _counts(ax, frame, y, res.suppress_below)
        if own:  # the figure is ours: its height follows the rows
            fit_height(fig, [ax], [float(np.sum(heights)) * line_height(fig, size)])
        else:
            settle(fig)
    return ax


def _counts(ax: Axes, frame: pd.DataFrame, y: np.ndarray, k: int | None) -> None:
    """ "cases/n" right of each row, right-aligned, with a bold head above them."""
    fig = figure_of(ax)
    texts = [
        f"{f'<{k}' if (k and 0 < cases < k) else int(cases)}/{int(n)}"
        for cases, n in frame[["cases", "n"]].itertuples(index=False)
    ]
    head = "cases/n"
    col_pt = 72 * max(
        max(text_width(t, fig, fontsize="small") for t in texts),
        text_width(head, fig, fontsize="small", fontweight="bold"),
    )
    trans = ax.get_yaxis_transform()
    for yi, text in zip(y, texts, strict=True):
        ax.annotate(
            text,
            xy=(1, yi),
            xycoords=trans,
            xytext=(6 + col_pt, 0),
            textcoords="offset points",
            ha="right",
            va="center",
            fontsize="small",
            annotation_clip=False,
            gid="counts",
        )
    ax.annotate(
        head,
        xy=(1, 1),
        xycoords="axes fraction",
        xytext=(6 + col_pt, 2),
        textcoords="offset points",
        ha="right",
        va="bottom",
        fontsize="small",
        fontweight="bold",
        annotation_clip=False,
        gid="counts-head",
    )


_RATIO_NAMES = {"HR": "Hazard ratio", "sHR": "Subdistribution hazard ratio"}


@singledispatch
def _effect(result: Any) -> PartialEffectResult:
    raise CalcstatsError(
        "dose_response draws a PartialEffectResult (cs.partial_effect(fit, variable)); got "
        f"{type(result).__name__}."
    )


@_effect.register
def _(result: PartialEffectResult) -> PartialEffectResult:
    return result


@_effect.register
def _(result: pd.DataFrame) -> PartialEffectResult:
    raise CalcstatsError(
        "dose_response draws a PartialEffectResult, not a DataFrame (a table does not say "
        "which variable, reference or ratio it holds): pass cs.partial_effect(fit, "
        "variable, ...)."
    )


@validate_params(
    {
        "xlabel": [TEXT, NONE],
        "ylabel": [TEXT, NONE],
        "log_scale": [BOOLEAN],
        "reference_line": [REAL],
        "color": [TEXT],
        "width_mm": [WIDTH_MM],
        "ax": [AXES, NONE],
    }
)
def dose_response(
    result: PartialEffectResult,
    *,
    labels: Labels | Mapping[str, str] | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    log_scale: bool = True,
    reference_line: float = 1.0,
    rug: Sequence[float] | np.ndarray | None = None,
    color: str = "black",
    width_mm: float = 85.0,
    ax: Axes | None = None,
) -> Axes:
    """Plot a ratio (e.g. HR) against a continuous variable with its confidence band.

    Parameters
    ----------
    result : PartialEffectResult
        Output of :func:`calcstats.partial_effect` (a spline or linear term relative to a
        reference value); its ``tidy()`` gives ``value, estimate, conf_low, conf_high``.
    labels : Labels or dict, optional
        Display labels, merged as ``Labels.default() | result.labels | labels``; the x
        axis reads ``labels.variable(result.variable)``.
    xlabel, ylabel : str, optional
        Axis labels (defaults: the variable's label; "Hazard ratio" or "Subdistribution
        hazard ratio" from the result's ``measure``).
    log_scale : bool, default True
        Log-scaled ratio axis.
    reference_line : float, default 1.0
        Horizontal no-effect line.
    rug : array-like, optional
        Observed values drawn as a rug along the x axis (shows where data are sparse).
    color : str, default "black"
    width_mm : float, default 85
        Width of the new figure (when ``ax`` is None) in millimetres (height 3/4 of it,
        at most 95 mm).
    ax : matplotlib Axes, optional
        Draw into this axes.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import calcstats as cs
    >>> pbc = cs.datasets.load_pbc()
    >>> fit = cs.cox(pbc, "cr(age, df=3) + np.log(bili)", time="time", event="status",
    ...              cause=2)
    >>> effect = cs.partial_effect(fit, "age", reference=50)
    >>> ax = cs.plot.dose_response(effect, rug=pbc["age"])
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('Age', 'Hazard ratio')
    """
    effect = _effect(result)
    lab = Labels.default() | effect.labels | Labels.coerce(labels)
    frame = effect.tidy().sort_values("value")
    with publication():
        if ax is None:
            ax = new_figure(width_mm, min(0.75 * width_mm, 95.0) / 25.4).add_subplot()
        ax.fill_between(
            frame["value"],
            frame["conf_low"],
            frame["conf_high"],
            color=color,
            alpha=0.15,
            linewidth=0,
            gid="band",
        )
        ax.plot(frame["value"], frame["estimate"], color=color, linewidth=1.2, gid="estimate")
        ax.axhline(reference_line, color="0.4", linewidth=0.6, linestyle="--", zorder=0)
        ref = effect.reference
        if isinstance(ref, int | float | np.number) and np.isfinite(ref):
            ax.plot(
                [float(ref)],
                [reference_line],
                "o",
                markersize=3.5,
                markerfacecolor="white",
                markeredgecolor=color,
                gid="reference",
            )
        if log_scale:
            ax.set_yscale("log")
            ticks = LogLocator(base=10, subs=(1.0, 1.5, 2.0, 3.0, 5.0, 7.0))
            ax.yaxis.set_major_locator(
                SpacedLocator(lambda: ticks.tick_values(*ax.get_ylim()), anchor=reference_line)
            )
            ax.yaxis.set_minor_locator(NullLocator())
            ax.yaxis.set_major_formatter(lambda v, _p: f"{v:g}")
        if rug is not None:
            vals = np.asarray(rug, dtype=float)
            vals = vals[np.isfinite(vals)]
            ax.plot(
                vals,
                np.zeros_like(vals),
                "|",
                color="0.3",
                markersize=5,
                alpha=0.5,
                transform=ax.get_xaxis_transform(),
                gid="rug",
            )
        ax.set_xlabel(xlabel or lab.variable(effect.variable))
        ax.set_ylabel(ylabel or _RATIO_NAMES.get(effect.measure, effect.measure))
        settle(figure_of(ax))
    return ax
