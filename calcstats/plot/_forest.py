"""Forest plots of model estimates (OR, RR, IRR, HR, sHR) with their confidence intervals.

Reads fitted models — their ``tidy()`` and the rows of their terms
(:func:`calcstats._terms.term_rows`, the same rows as :func:`calcstats.regression_table`)
— or a ready table of estimates (e.g. subgroup analyses); it draws, it does not estimate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullLocator
from matplotlib.transforms import blended_transform_factory

from calcstats._errors import InvalidParameterError, SchemaError
from calcstats._format import format_ci, format_p
from calcstats._terms import (
    LABELS,
    MEASURE_NAMES,
    TEXT,
    TEXTS,
    coefficient_labels,
    display_labels,
)
from calcstats._terms import union_rows as _union_rows
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
from calcstats.plot._theme import OKABE_ITO
from calcstats.results import ModelResult

__all__ = ["forest"]

_SHORT = {v: k for k, v in MEASURE_NAMES.items()}
_REFERENCE = "1 (reference)"


@dataclass(frozen=True)
class _Row:
    key: Any
    label: str
    indent: int
    bold: bool


@dataclass
class _Panel:
    """One model's column: its estimates by row key, what it cannot estimate, its
    reference rows, and how its measure is named."""

    title: str
    short: str
    axis: str
    conf_level: float
    points: dict[Any, tuple[float, float, float, float]] = field(default_factory=dict)
    missing: set[Any] = field(default_factory=set)
    references: set[Any] = field(default_factory=set)


class _AxesParam:
    def accepts(self, value: object) -> bool:
        return isinstance(value, Axes)

    def describe(self) -> str:
        return "a matplotlib Axes"


def _from_results(
    results: list[ModelResult],
    names: list[str],
    lab: Labels,
    terms: Sequence[str] | None,
    conf_level: float | None,
    measure: str | None,
) -> tuple[list[_Row], list[_Panel], list[str]]:
    layout = _union_rows(results, lab, only=terms, function="forest")
    rows = [_Row(r.key, r.label, r.indent, r.indent == 0) for _, r in layout]
    panels, notes = [], []
    for name, res in zip(names, results, strict=True):
        short = res.ratio_measure or "Estimate"
        level = res.conf_level if conf_level is None else conf_level
        panel = _Panel(name, short, measure or MEASURE_NAMES.get(short, "Estimate"), level)
        tidy = res.tidy(conf_level=level).set_index("term")
        for _, r in layout:
            if r.kind == "reference" and r.term in res.terms:
                panel.references.add(r.key)
            elif r.coefficient is not None and r.coefficient in tidy.index:
                t = tidy.loc[r.coefficient]
                if r.coefficient in res.nonestimable or not np.isfinite(t["estimate"]):
                    panel.missing.add(r.key)
                else:
                    panel.points[r.key] = (
                        float(t["estimate"]),
                        float(t["conf_low"]),
                        float(t["conf_high"]),
                        float(t["p_value"]),
                    )
        prefix = f"{name}: " if name else ""
        shown = coefficient_labels(res, lab) if res.nonestimable else {}
        notes += [
            f"{prefix}— {shown.get(c, c)}: not estimable ({why})."
            for c, why in res.nonestimable.items()
        ]
        panels.append(panel)
    return rows, panels, notes


def _from_frame(
    data: pd.DataFrame, name: str, conf_level: float | None, measure: str | None
) -> tuple[list[_Row], list[_Panel], list[str]]:
    label_col = "label" if "label" in data.columns else "term" if "term" in data.columns else None
    if label_col is None or not {"estimate", "conf_low", "conf_high"} <= set(data.columns):
        raise SchemaError(
            "forest needs a fitted model, a list of fitted models, or a DataFrame with columns "
            "label (or term), estimate, conf_low, conf_high (optional: group, p_value); got "
            f"columns {list(data.columns)}."
        )
    short = _SHORT.get(measure or "", measure or "Estimate")
    panel = _Panel(name, short, measure or "Estimate", 0.95 if conf_level is None else conf_level)
    rows: list[_Row] = []
    group = None
    for i, r in enumerate(data.reset_index(drop=True).to_dict("records")):
        g = r.get("group")
        if g is not None and not (isinstance(g, float) and np.isnan(g)) and g != group:
            rows.append(_Row(("group", g), str(g), 0, True))
            group = g
        key = ("row", i)
        rows.append(_Row(key, str(r[label_col]), 0 if group is None else 1, group is None))
        est = float(r["estimate"])
        if np.isfinite(est):
            panel.points[key] = (
                est,
                float(r["conf_low"]),
                float(r["conf_high"]),
                float(r.get("p_value", np.nan)),
            )
        else:
            panel.missing.add(key)
    return rows, [panel], []


def _nice_ticks(xlim: tuple[float, float], ref: float) -> np.ndarray:
    """1-2-5 ticks on a log axis, at most seven, always including the reference."""
    decades = np.arange(-3, 4)
    cand = np.sort(np.concatenate([m * 10.0**decades for m in (1, 2, 5)])) * ref
    ticks = cand[(cand >= xlim[0] * 0.999) & (cand <= xlim[1] * 1.001)]
    if len(ticks) < 3:
        cand = np.array([0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4]) * ref
        ticks = cand[(cand >= xlim[0]) & (cand <= xlim[1])]
    while len(ticks) > 7:
        i_ref = int(np.argmin(np.abs(ticks - ref)))
        ticks = ticks[(np.arange(len(ticks)) - i_ref) % 2 == 0]
    return ticks


def _limits(panels: list[_Panel], ref: float, log: bool) -> tuple[float, float]:
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


def _draw_panel(
    ax: Axes,
    put: Callable[..., None],
    rows: list[_Row],
    panel: _Panel,
    *,
    color: str,
    xlim: tuple[float, float],
    ref: float,
    log: bool,
    xticks: Sequence[float] | None,
    show_p: bool,
    digits: int,
) -> None:
    """Markers and CIs on ``ax``; the estimate and p-value texts through ``put``."""
    ax.axvline(ref, color="0.4", linewidth=0.6, linestyle="--", zorder=0)
    xs, los, his, ys = [], [], [], []
    for y, row in enumerate(rows):
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
    step = 0.05 * (xlim[1] - xlim[0])
    for yi, lo_v, hi_v in zip(y_a, lo_a, hi_a, strict=True):  # arrows for clipped CIs
        if hi_v > xlim[1]:
            start = xlim[1] * 0.85 if log else xlim[1] - step
            ax.annotate(
                "",
                xy=(xlim[1], yi),
                xytext=(start, yi),
                arrowprops={"arrowstyle": "->", "color": color, "lw": 1.0},
            )
        if lo_v < xlim[0]:
            start = xlim[0] / 0.85 if log else xlim[0] + step
            ax.annotate(
                "",
                xy=(xlim[0], yi),
                xytext=(start, yi),
                arrowprops={"arrowstyle": "->", "color": color, "lw": 1.0},
            )
    if log:
        ax.set_xscale("log")
    ax.set_xlim(*xlim)
    ticks = (
        (_nice_ticks(xlim, ref) if log else None)
        if xticks is None
        else np.asarray(xticks, dtype=float)
    )
    if ticks is not None:
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(lambda v, _p: f"{v:g}")
    ax.set_xlabel(panel.axis)
    ax.tick_params(axis="y", left=False, labelleft=False)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    put(-1.0, f"{panel.short} ({100 * panel.conf_level:g}% CI)", "ci", fontweight="bold")
    if show_p:
        put(-1.0, "p", "p", fontweight="bold", fontstyle="italic")
    if panel.title:
        ax.set_title(panel.title, fontweight="bold", pad=14)


def _widths(
    rows: list[_Row], panels: list[_Panel], digits: int, show_p: bool
) -> tuple[float, float, float]:
    """Inches of the label column, of one panel's estimate text and of its p-value text."""
    char_in = 0.55 * plt.rcParams["font.size"] / 72
    longest = max(len(r.label) + 2 * r.indent for r in rows)
    ci_chars = max(
        [len(_REFERENCE)]
        + [
            len(format_ci(e, lo, hi, digits=digits))
            for pn in panels
            for e, lo, hi, _ in pn.points.values()
        ]
    )
    return (
        max(1.0, char_in * (longest + 2)),
        char_in * (ci_chars + 2),
        char_in * 8 if show_p else 0.0,
    )


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
        "figsize": [NUMBERS, NONE],
        "ax": [_AxesParam(), NONE],
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
    figsize: tuple[float, float] | None = None,
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
        "Hazard ratio" for HR, "Subdistribution hazard ratio" for sHR, ...).
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
        Estimate-axis limits (default: covers every CI, symmetric in log space).
    xticks : sequence of float, optional
        Estimate-axis ticks.
    colors : sequence of str, optional
        Marker colour per model (default Okabe–Ito).
    figsize : (float, float), optional
        Figure size in inches (default grows with the number of rows and models).
    ax : matplotlib.axes.Axes, optional
        Draw one model (or a DataFrame) into this axes: the estimates on it, the row labels
        to its left and the estimate and p-value texts to its right (leave room for them).

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.axes.Axes
        The axes when ``ax`` is given, else a new figure.

    Notes
    -----
    Terms that cannot be estimated (monotone likelihood) show "—" and a footnote says why.

    Examples
    --------
    >>> import pandas as pd
    >>> from calcstats.plot import forest
    >>> sub = pd.DataFrame({"group": ["Sex", "Sex"], "label": ["Female", "Male"],
    ...                     "estimate": [1.4, 1.9], "conf_low": [1.1, 1.2],
    ...                     "conf_high": [1.8, 3.0], "p_value": [0.01, 0.004]})
    >>> fig = forest(sub, measure="Hazard ratio")
    >>> import calcstats as cs
    >>> pbc = cs.datasets.load_pbc()
    >>> fit = cs.cox(pbc, "C(edema) + age", time="time", event="status", cause=2)
    >>> ax = forest(fit, labels={"edema": "Edema"}, ax=plt.figure().add_subplot())
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
        rows, panels, notes = _from_frame(results, title, conf_level, measure)
        ratio = measure is None or measure in _SHORT
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
        rows, panels, notes = _from_results(
            seq, names, display_labels(seq, labels), terms, conf_level, measure
        )
        ratio = all(r.ratio_measure is not None for r in seq)
    if not rows:
        raise InvalidParameterError(
            "Nothing to draw: the model has no terms besides the intercept."
        )
    log = ratio if log_scale is None else log_scale
    ref = (1.0 if ratio else 0.0) if ref_line is None else float(ref_line)
    if xlim is not None and len(xlim) != 2:
        raise InvalidParameterError(
            f"The 'xlim' parameter of forest must be two numbers (low, high). Got {xlim!r}."
        )
    lim = _limits(panels, ref, log) if xlim is None else (float(xlim[0]), float(xlim[1]))
    palette = list(colors) if colors is not None else list(OKABE_ITO)
    style = {
        "xlim": lim,
        "ref": ref,
        "log": log,
        "xticks": xticks,
        "show_p": show_p,
        "digits": digits,
    }
    label_w, ci_w, p_w = _widths(rows, panels, digits, show_p)
    if ax is not None:
        if len(panels) != 1:
            raise InvalidParameterError(
                f"The 'ax' parameter of forest takes one model; got {len(panels)}. Leave "
                "ax=None for a figure with one panel per model."
            )
        return _on_axes(ax, rows, panels[0], notes, (label_w, ci_w, p_w), palette[0], style)
    n_rows, k = len(rows), len(panels)
    height = 0.55 + 0.19 * (n_rows + 1)
    fig = plt.figure(figsize=figsize or (label_w + k * (1.6 + ci_w + p_w), height))
    ratios = [label_w] + [w for _ in range(k) for w in (1.6, ci_w + p_w)]
    gs = fig.add_gridspec(
        1,
        len(ratios),
        width_ratios=ratios,
        wspace=0.02,
        left=0.02,
        right=0.98,
        top=1 - 0.32 / height,
        bottom=0.42 / height,
    )
    ax_lab = fig.add_subplot(gs[0])
    ax_lab.set_ylim(n_rows - 0.5, -1.2)
    ax_lab.set_axis_off()
    for y, r in enumerate(rows):
        ax_lab.text(
            0.02 + 0.08 * r.indent,
            y,
            r.label,
            va="center",
            ha="left",
            fontweight="bold" if r.bold else "normal",
            gid="label",
        )
    for j, panel in enumerate(panels):
        ax_est = fig.add_subplot(gs[1 + 2 * j], sharey=ax_lab)
        ax_txt = fig.add_subplot(gs[2 + 2 * j], sharey=ax_lab)
        ax_txt.set_axis_off()

        def put(y: float, s: str, col: str, _t: Axes = ax_txt, **kw: Any) -> None:
            x, ha = (0.05, "left") if col == "ci" else (0.97, "right")
            _t.text(x, y, s, va="center", ha=ha, **kw)

        _draw_panel(
            ax_est, put, rows, panel, color=palette[j % len(palette)] if k > 1 else "black", **style
        )
    if notes:
        fig.text(0.01, 0.0, "\n".join(notes), ha="left", va="top", fontsize="small", gid="footnote")
    return fig


def _on_axes(
    ax: Axes,
    rows: list[_Row],
    panel: _Panel,
    notes: list[str],
    widths: tuple[float, float, float],
    color: str,
    style: dict[str, Any],
) -> Axes:
    """One panel in the user's axes: labels left of it, texts right of it."""
    label_w, ci_w, p_w = (72.0 * w for w in widths)  # points
    ax.set_ylim(len(rows) - 0.5, -1.2)
    edge = blended_transform_factory(ax.transAxes, ax.transData)

    def put(y: float, s: str, col: str, **kw: Any) -> None:
        dx, ha = (6.0, "left") if col == "ci" else (ci_w + p_w, "right")
        ax.annotate(
            s,
            xy=(1, y),
            xycoords=edge,
            xytext=(dx, 0),
            textcoords="offset points",
            va="center",
            ha=ha,
            annotation_clip=False,
            **kw,
        )

    for y, r in enumerate(rows):
        ax.annotate(
            r.label,
            xy=(0, y),
            xycoords=edge,
            xytext=(-label_w + 12 * r.indent, 0),
            textcoords="offset points",
            va="center",
            ha="left",
            fontweight="bold" if r.bold else "normal",
            annotation_clip=False,
            gid="label",
        )
    _draw_panel(ax, put, rows, panel, color=color, **style)
    if notes:
        ax.annotate(
            "\n".join(notes),
            xy=(0, 0),
            xycoords="axes fraction",
            xytext=(0, -30),
            textcoords="offset points",
            va="top",
            ha="left",
            fontsize="small",
            annotation_clip=False,
            gid="footnote",
        )
    return ax
