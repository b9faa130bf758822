"""Forest plots of ratio estimates (OR, RR, IRR, HR) with their confidence intervals.

Reads fitted results (``tidy()`` and the variable/level structure of their terms) or a
ready table of estimates (e.g. subgroup analyses); it draws, it does not estimate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullLocator

from calcstats._errors import CalcstatsError
from calcstats._format import format_ci, format_p
from calcstats._terms import term_layout
from calcstats.plot._theme import OKABE_ITO

__all__ = ["forest"]

_ROW_COLUMNS = ["key", "label", "is_header", "is_reference", "indent"]


def _rows_from_results(
    results: Sequence[Any], terms: Sequence[str] | None, term_labels: Mapping[Any, str]
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    layout = pd.concat([term_layout(r) for r in results], ignore_index=True)
    layout = layout.drop_duplicates(subset=["variable", "level", "is_header"], keep="first")
    if terms is not None:
        unknown = [t for t in terms if t not in set(layout["variable"])]
        if unknown:
            raise CalcstatsError(
                f"terms {unknown} are not in the model(s); available variables: "
                f"{list(dict.fromkeys(layout['variable']))}."
            )
        layout = pd.concat([layout.loc[layout["variable"] == t] for t in terms])
    rows = []
    for r in layout.itertuples(index=False):
        key = (r.variable, r.level)
        if r.is_header or r.level == "":
            label = term_labels.get(r.variable, r.variable)
            indent = 0
        else:
            label = term_labels.get(key, r.level)
            indent = 1
        rows.append(
            {
                "key": key,
                "label": str(label),
                "is_header": bool(r.is_header),
                "is_reference": bool(r.is_reference),
                "indent": indent,
            }
        )
    frame = pd.DataFrame(rows, columns=_ROW_COLUMNS)
    per_model = []
    for res in results:
        tidy = res.tidy(exponentiate=True).set_index("term")
        lay = term_layout(res)
        est = {}
        for r in lay.itertuples(index=False):
            if r.term is not None and r.term in tidy.index:
                est[(r.variable, r.level)] = tidy.loc[r.term]
        table = pd.DataFrame.from_dict(est, orient="index")
        table.attrs["variables"] = set(lay["variable"])
        per_model.append(table)
    return frame, per_model


def _rows_from_frame(data: pd.DataFrame) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    label_col = "label" if "label" in data.columns else "term" if "term" in data.columns else None
    need = {"estimate", "conf_low", "conf_high"}
    if label_col is None or not need <= set(data.columns):
        raise CalcstatsError(
            "forest needs a fitted result, a list of results, or a DataFrame with columns "
            "label (or term), estimate, conf_low, conf_high (optional: group, p_value, n, "
            f"events); got columns {list(data.columns)}."
        )
    rows, est = [], {}
    last_group = None
    for i, r in enumerate(data.reset_index(drop=True).to_dict("records")):
        group = r.get("group")
        if (
            group is not None
            and not (isinstance(group, float) and np.isnan(group))
            and group != last_group
        ):
            rows.append(
                {
                    "key": ("group", group),
                    "label": str(group),
                    "is_header": True,
                    "is_reference": False,
                    "indent": 0,
                }
            )
            last_group = group
        key = ("row", i)
        rows.append(
            {
                "key": key,
                "label": str(r[label_col]),
                "is_header": False,
                "is_reference": False,
                "indent": 1 if last_group is not None else 0,
            }
        )
        est[key] = pd.Series(r)
    return pd.DataFrame(rows, columns=_ROW_COLUMNS), [pd.DataFrame.from_dict(est, orient="index")]


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


def forest(
    results: Any,
    *,
    labels: Sequence[str] | None = None,
    terms: Sequence[str] | None = None,
    term_labels: Mapping[Any, str] | None = None,
    measure: str | None = None,
    ref_line: float = 1.0,
    log_scale: bool = True,
    show_p: bool = True,
    digits: int = 2,
    xlim: tuple[float, float] | None = None,
    xticks: Sequence[float] | None = None,
    colors: Sequence[str] | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Draw a forest plot: one row per variable level, estimate and CI on a log axis.

    Parameters
    ----------
    results : ModelResult, list of ModelResult, or pandas.DataFrame
        One or several fitted models (drawn side by side, e.g. crude and adjusted), or a
        table of estimates with columns ``label`` (or ``term``), ``estimate``,
        ``conf_low``, ``conf_high`` and optionally ``group`` (subgroup header),
        ``p_value``, ``n``, ``events`` (drawn as given, already on the ratio scale).
    labels : sequence of str, optional
        Panel titles, one per model (default "Model 1", ... or the measure).
    terms : sequence of str, optional
        Variables to show, in this order (default: all, in formula order; no intercept).
    term_labels : mapping, optional
        Display names: ``{"age_at_index": "Age (per year)", ("etiology", "psc"): "PSC"}``.
    measure : str, optional
        Axis label, e.g. "Hazard ratio" (default from the result: OR, HR, ...).
    ref_line : float, default 1.0
        Position of the no-effect line.
    log_scale : bool, default True
        Log-scaled estimate axis (ratio measures).
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

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> from calcstats.plot import forest
    >>> sub = pd.DataFrame({"group": ["Sex", "Sex"], "label": ["Female", "Male"],
    ...                     "estimate": [1.4, 1.9], "conf_low": [1.1, 1.2],
    ...                     "conf_high": [1.8, 3.0], "p_value": [0.01, 0.004]})
    >>> fig = forest(sub, measure="Hazard ratio")
    """
    term_labels = dict(term_labels or {})
    if isinstance(results, pd.DataFrame):
        rows, per_model = _rows_from_frame(results)
        default_measure = "Estimate"
        levels = [float(results.attrs.get("conf_level", 0.95))]
    else:
        seq = list(results) if isinstance(results, list | tuple) else [results]
        if not seq or not all(hasattr(r, "tidy") and hasattr(r, "params") for r in seq):
            raise CalcstatsError(
                "forest expects fitted calcstats results (e.g. cs.cox, cs.logistic), a list "
                f"of them, or a DataFrame of estimates; got {type(results).__name__}."
            )
        rows, per_model = _rows_from_results(seq, terms, term_labels)
        levels = [float(getattr(r, "conf_level", 0.95)) for r in seq]
        m = getattr(seq[0], "ratio_measure", None)
        default_measure = {
            "OR": "Odds ratio",
            "RR": "Risk ratio",
            "IRR": "Rate ratio",
            "HR": "Hazard ratio",
            "sHR": "Subdistribution hazard ratio",
        }.get(m or "", "Estimate")
    n_models = len(per_model)
    if labels is not None and len(labels) != n_models:
        raise CalcstatsError(f"labels has {len(labels)} entries for {n_models} model(s).")
    if rows.empty:
        raise CalcstatsError("Nothing to draw: the model has no terms besides the intercept.")
    titles = (
        list(labels)
        if labels is not None
        else ([f"Model {i + 1}" for i in range(n_models)] if n_models > 1 else [""])
    )
    palette = list(colors) if colors is not None else list(OKABE_ITO)

    # estimate-axis limits covering every finite CI
    lows = np.concatenate([m["conf_low"].to_numpy(dtype=float) for m in per_model if len(m)])
    highs = np.concatenate([m["conf_high"].to_numpy(dtype=float) for m in per_model if len(m)])
    finite = np.isfinite(lows) & np.isfinite(highs) & ((lows > 0) | (not log_scale))
    if xlim is None:
        if log_scale:
            lo = min(ref_line, float(np.min(lows[finite]))) if finite.any() else 0.5
            hi = max(ref_line, float(np.max(highs[finite]))) if finite.any() else 2.0
            span = max(abs(np.log(lo / ref_line)), abs(np.log(hi / ref_line))) * 1.08
            xlim = (ref_line * np.exp(-span), ref_line * np.exp(span))
        else:
            lo = min(ref_line, float(np.min(lows[finite])))
            hi = max(ref_line, float(np.max(highs[finite])))
            pad = 0.08 * (hi - lo)
            xlim = (lo - pad, hi + pad)

    n_rows = len(rows)
    # column widths (inches) from the longest texts at the current font size
    char_in = 0.55 * plt.rcParams["font.size"] / 72
    longest = max(
        len(lab) + 2 * ind for lab, ind in zip(rows["label"], rows["indent"], strict=True)
    )
    ci_chars = max(
        [len("1 (reference)")]
        + [
            len(format_ci(e, lo, hi, digits=digits))
            for m in per_model
            for e, lo, hi in zip(
                m.get("estimate", []), m.get("conf_low", []), m.get("conf_high", []), strict=True
            )
        ]
    )
    label_w = max(1.0, char_in * (longest + 2))
    plot_w = 1.6
    text_w = char_in * (ci_chars + 2) + (char_in * 8 if show_p else 0)
    width = label_w + n_models * (plot_w + text_w)
    height = 0.55 + 0.19 * (n_rows + 1)
    fig = plt.figure(figsize=figsize or (width, height))
    ratios = [label_w] + [w for _ in range(n_models) for w in (plot_w, text_w)]
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
    y = np.arange(n_rows)
    ax_lab = fig.add_subplot(gs[0])
    ax_lab.set_ylim(n_rows - 0.5, -1.2)
    ax_lab.set_axis_off()
    for yi, r in zip(y, rows.itertuples(index=False), strict=True):
        ax_lab.text(
            0.02 + 0.08 * r.indent,
            yi,
            r.label,
            va="center",
            ha="left",
            fontweight="bold" if (r.is_header or r.indent == 0) else "normal",
            gid="label",
        )
    for k, (est, title) in enumerate(zip(per_model, titles, strict=True)):
        ax = fig.add_subplot(gs[1 + 2 * k], sharey=ax_lab)
        ax_txt = fig.add_subplot(gs[2 + 2 * k], sharey=ax_lab)
        ax_txt.set_axis_off()
        color = palette[k % len(palette)] if n_models > 1 else "black"
        ax.axvline(ref_line, color="0.4", linewidth=0.6, linestyle="--", zorder=0)
        xs, los, his, ys = [], [], [], []
        for yi, r in zip(y, rows.itertuples(index=False), strict=True):
            if r.is_reference and r.key[0] in est.attrs.get("variables", set()):
                ax_txt.text(
                    0.05,
                    yi,
                    "1 (reference)",
                    va="center",
                    ha="left",
                    color="0.35",
                    gid="estimate-text",
                )
                ax.plot(
                    [ref_line],
                    [yi],
                    marker="o",
                    markersize=3.5,
                    markerfacecolor="white",
                    markeredgecolor=color,
                    linestyle="none",
                    gid="reference",
                )
                continue
            if r.key not in est.index:
                continue
            e = est.loc[[r.key]].iloc[0]
            if not np.isfinite(float(e["estimate"])):  # not estimable: "—", no marker
                ax_txt.text(0.05, yi, "—", va="center", ha="left", gid="estimate-text")
                continue
            xs.append(float(e["estimate"]))
            los.append(float(e["conf_low"]))
            his.append(float(e["conf_high"]))
            ys.append(yi)
            txt = format_ci(e["estimate"], e["conf_low"], e["conf_high"], digits=digits)
            ax_txt.text(0.05, yi, txt, va="center", ha="left", gid="estimate-text")
            if show_p and "p_value" in e.index and pd.notna(e["p_value"]):
                ax_txt.text(
                    0.97, yi, format_p(float(e["p_value"])), va="center", ha="right", gid="p-text"
                )
        xs_a, lo_a, hi_a = np.array(xs), np.array(los), np.array(his)
        clipped_lo = np.clip(lo_a, *xlim)
        clipped_hi = np.clip(hi_a, *xlim)
        ax.hlines(ys, clipped_lo, clipped_hi, color=color, linewidth=1.0, gid="ci")
        inside = (xs_a >= xlim[0]) & (xs_a <= xlim[1])
        ax.plot(
            xs_a[inside],
            np.array(ys)[inside],
            marker="s",
            markersize=4,
            color=color,
            linestyle="none",
            gid="estimate",
        )
        for yi, lo_v, hi_v in zip(ys, lo_a, hi_a, strict=True):  # arrows for clipped CIs
            if hi_v > xlim[1]:
                ax.annotate(
                    "",
                    xy=(xlim[1], yi),
                    xytext=(
                        xlim[1] * 0.85 if log_scale else xlim[1] - 0.05 * (xlim[1] - xlim[0]),
                        yi,
                    ),
                    arrowprops={"arrowstyle": "->", "color": color, "lw": 1.0},
                )
            if lo_v < xlim[0]:
                ax.annotate(
                    "",
                    xy=(xlim[0], yi),
                    xytext=(
                        xlim[0] / 0.85 if log_scale else xlim[0] + 0.05 * (xlim[1] - xlim[0]),
                        yi,
                    ),
                    arrowprops={"arrowstyle": "->", "color": color, "lw": 1.0},
                )
        if log_scale:
            ax.set_xscale("log")
        ax.set_xlim(*xlim)
        if xticks is None:
            ticks = _nice_ticks(xlim, ref_line) if log_scale else None
        else:
            ticks = np.asarray(xticks, dtype=float)
        if ticks is not None:
            ax.xaxis.set_major_locator(FixedLocator(ticks))
            ax.xaxis.set_minor_locator(NullLocator())
            ax.xaxis.set_major_formatter(lambda v, _p: f"{v:g}")
        ax.set_xlabel(measure or default_measure)
        ax.tick_params(axis="y", left=False, labelleft=False)
        for side in ("left", "right", "top"):
            ax.spines[side].set_visible(False)
        short = {
            "Odds ratio": "OR",
            "Risk ratio": "RR",
            "Rate ratio": "IRR",
            "Hazard ratio": "HR",
            "Subdistribution hazard ratio": "sHR",
        }
        name = short.get(measure or default_measure, measure or default_measure)
        head = f"{name} ({100 * levels[k]:g}% CI)"
        ax_txt.text(0.05, -1.0, head, va="center", ha="left", fontweight="bold")
        if show_p:
            ax_txt.text(
                0.97, -1.0, "p", va="center", ha="right", fontweight="bold", fontstyle="italic"
            )
        if title:
            ax.set_title(title, fontweight="bold", pad=14)
    notes = [f"— {term}: not estimable ({why})." for res in
             ([] if isinstance(results, pd.DataFrame) else
              (results if isinstance(results, list | tuple) else [results]))
             for term, why in getattr(res, "nonestimable", {}).items()]
    if notes:
        fig.text(0.01, 0.0, "\n".join(notes), ha="left", va="top", fontsize="small",
                 gid="footnote")
    return fig
