"""Kaplan–Meier and cumulative-incidence figures with a numbers-at-risk table.

Reads a curve result (:func:`calcstats.kaplan_meier`, :func:`calcstats.cumulative_incidence`):
``tidy()`` for the steps and bands, ``median()`` for median lines, ``risk_table(times)``
for the counts under the axis. Nothing is estimated here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from calcstats._errors import CalcstatsError
from calcstats._format import format_p
from calcstats.plot._theme import LINESTYLES, OKABE_ITO

__all__ = ["group_labels", "survival"]


def group_labels(curves: Any, labels: Mapping[Any, str] | Sequence[str] | None = None) -> list[str]:
    """Display label of each group of a curve result (``"var = level"`` by default)."""
    groups: pd.DataFrame = curves.groups
    n = max(len(groups), 1)
    if labels is not None:
        if isinstance(labels, Mapping):
            keys = [tuple(r) if len(r) > 1 else r[0] for r in groups.itertuples(index=False)]
            missing = [k for k in keys if k not in labels and str(k) not in labels]
            if missing:
                raise CalcstatsError(f"labels has no entry for group(s) {missing}.")
            return [str(labels.get(k, labels.get(str(k)))) for k in keys]
        if len(labels) != n:
            raise CalcstatsError(f"labels has {len(labels)} entries but the result has {n} groups.")
        return [str(x) for x in labels]
    if not curves.by:
        return ["All patients"]
    if len(curves.by) == 1:
        return [str(v) for v in groups.iloc[:, 0]]
    return [
        ", ".join(f"{c} = {v}" for c, v in zip(curves.by, row, strict=True))
        for row in groups.itertuples(index=False)
    ]


class _FrameCurves:
    """A table of curves (e.g. ``cs.adjusted_curves``) seen through the curve interface."""

    _NEEDED = ("time", "estimate", "conf_low", "conf_high")

    def __init__(self, frame: pd.DataFrame, kind: str | None) -> None:
        missing = [c for c in self._NEEDED if c not in frame.columns]
        if missing:
            raise CalcstatsError(
                "plot.survival needs a curve result or a DataFrame with columns time, "
                f"estimate, conf_low, conf_high (e.g. cs.adjusted_curves); missing {missing}."
            )
        extra = {"std_error", "n_risk", "n_event", "n_censor"}
        self.by = [c for c in frame.columns if c not in (*self._NEEDED, *extra)]
        self._frame = frame.sort_values([*self.by, "time"], kind="stable")
        self.groups = (
            self._frame[self.by].drop_duplicates().reset_index(drop=True)
            if self.by
            else pd.DataFrame(index=[0])
        )
        if kind is None:
            est = self._frame.groupby(self.by, sort=False)["estimate"] if self.by else None
            decreasing = (
                est.apply(lambda e: bool((np.diff(e) <= 1e-12).all())).all()
                if est is not None
                else bool((np.diff(self._frame["estimate"]) <= 1e-12).all())
            )
            kind = "km" if decreasing else "cif"
        self.kind = kind
        self.start_value = 1.0 if kind == "km" else 0.0

    def tidy(self) -> pd.DataFrame:
        out = self._frame.copy()
        if "n_censor" not in out.columns:
            out["n_censor"] = 0
        return out

    def risk_table(self, times: Any = None) -> pd.DataFrame:
        raise CalcstatsError(
            "This table of curves has no numbers at risk (adjusted curves are model-based); "
            "pass risk_table=False."
        )


def _group_frames(curves: Any) -> list[pd.DataFrame]:
    tidy = curves.tidy()
    if not curves.by:
        return [tidy]
    frames = []
    for row in curves.groups.itertuples(index=False):
        mask = np.ones(len(tidy), dtype=bool)
        for col, val in zip(curves.by, row, strict=True):
            mask &= (tidy[col] == val).to_numpy()
        frames.append(tidy.loc[mask])
    return frames


def _steps(frame: pd.DataFrame, start: float, column: str) -> tuple[np.ndarray, np.ndarray]:
    t = np.concatenate([[0.0], frame["time"].to_numpy(dtype=float)])
    y = np.concatenate([[start], frame[column].to_numpy(dtype=float)])
    return t, y


def survival(
    curves: Any,
    *,
    risk_table: bool = True,
    risk_times: Sequence[float] | None = None,
    risk_events: bool = False,
    conf_int: bool = True,
    censor_marks: bool = True,
    median_lines: bool = False,
    test: Any = None,
    labels: Mapping[Any, str] | Sequence[str] | None = None,
    colors: Sequence[str] | None = None,
    linestyles: bool = True,
    xlabel: str | None = None,
    ylabel: str | None = None,
    xmax: float | None = None,
    ylim: tuple[float, float] | None = None,
    percent: bool = False,
    title: str | None = None,
    legend_title: str | None = None,
    figsize: tuple[float, float] | None = None,
    kind: str | None = None,
    ax: Axes | None = None,
) -> Figure | Axes:
    """Draw Kaplan–Meier or cumulative-incidence curves, optionally with a risk table.

    Parameters
    ----------
    curves : SurvivalCurve or pandas.DataFrame
        Result of :func:`calcstats.kaplan_meier` or :func:`calcstats.cumulative_incidence`,
        or a table of curves with columns ``time, estimate, conf_low, conf_high`` and one
        group column, such as :func:`calcstats.adjusted_curves` returns (drawn without a
        risk table or censor marks: pass ``risk_table=False``).
    risk_table : bool, default True
        Add the numbers at risk under the x-axis (a Figure with two axes is returned).
    risk_times : sequence of float, optional
        Times of the risk-table columns; default the x-axis major ticks.
    risk_events : bool, default False
        Also show cumulative events, as "n at risk (events)".
    conf_int : bool, default True
        Shade the pointwise confidence band (the result's ``conf_type``/``conf_level``).
    censor_marks : bool, default True
        Tick marks at censoring times.
    median_lines : bool, default False
        Dashed lines to the median survival (Kaplan–Meier only).
    test : TestResult, optional
        A log-rank or Gray's test; its p-value is written in the plot.
    labels : mapping or sequence of str, optional
        Group labels (default: the group values).
    colors : sequence of str, optional
        Colours per group (default: Okabe–Ito, colour-blind safe).
    linestyles : bool, default True
        Vary line styles too, so groups stay apart in greyscale.
    xlabel, ylabel : str, optional
        Axis labels (defaults: "Time (years)" and "Survival probability" /
        "Cumulative incidence").
    xmax : float, optional
        Right limit of the time axis.
    ylim : (float, float), optional
        y limits (default 0–1; for cumulative incidence 0 to a little above the maximum).
    percent : bool, default False
        Show the y axis in percent.
    title, legend_title : str, optional
        Axes title and legend title.
    figsize : (float, float), optional
        Figure size in inches (default 3.5 × 3.2 with a risk table).
    kind : {"km", "cif"}, optional
        For a table of curves: survival or cumulative incidence (default: inferred from
        whether the curves decrease).
    ax : matplotlib Axes, optional
        Draw the curves here (only with ``risk_table=False``).

    Returns
    -------
    Figure (with a risk table) or Axes (without).

    Examples
    --------
    >>> import calcstats as cs
    >>> pbc = cs.datasets.load_pbc()
    >>> pbc = pbc.assign(years=pbc["time"] / 365.25, died=(pbc["status"] == 2).astype(int))
    >>> km = cs.kaplan_meier(pbc, time="years", event="died", by="sex")
    >>> fig = cs.plot.survival(km, risk_times=[0, 2, 4, 6, 8, 10, 12])
    """
    if isinstance(curves, pd.DataFrame):
        curves = _FrameCurves(curves, kind)
        censor_marks = False
    for attr in ("tidy", "risk_table", "groups", "kind", "start_value"):
        if not hasattr(curves, attr):
            raise CalcstatsError(
                "plot.survival expects a result of kaplan_meier() or cumulative_incidence(), "
                f"got {type(curves).__name__}."
            )
    if risk_table and ax is not None:
        raise CalcstatsError(
            "A risk table needs its own axes: pass risk_table=False with ax=, or leave ax unset."
        )
    is_km = curves.kind == "km"
    names = group_labels(curves, labels)
    palette = list(colors) if colors is not None else list(OKABE_ITO)
    frames = _group_frames(curves)

    if risk_table:
        n_rows = len(frames)
        h = figsize or (3.5, 2.6 + 0.17 * (n_rows + 1))
        fig = plt.figure(figsize=h)
        table_share = (0.17 * (n_rows + 1.2)) / h[1]
        gs = fig.add_gridspec(2, 1, height_ratios=[1 - table_share, table_share], hspace=0.0)
        ax = fig.add_subplot(gs[0])
        ax_rt = fig.add_subplot(gs[1], sharex=ax)
    else:
        if ax is None:
            _, ax = plt.subplots(figsize=figsize or (3.5, 2.6))
        fig, ax_rt = ax.figure, None

    top = 0.0
    for i, (frame, name) in enumerate(zip(frames, names, strict=True)):
        color = palette[i % len(palette)]
        style = LINESTYLES[i % len(LINESTYLES)] if linestyles else "-"
        t, y = _steps(frame, curves.start_value, "estimate")
        if xmax is not None:
            keep = t <= xmax
            t, y = np.append(t[keep], xmax), np.append(y[keep], y[keep][-1])
        else:
            t, y = np.append(t, t[-1]), np.append(y, y[-1])
        ax.step(t, y, where="post", color=color, linestyle=style, label=name, gid=f"curve-{i}")
        top = max(top, float(np.nanmax(y)))
        if conf_int:
            tl, lo = _steps(frame, curves.start_value, "conf_low")
            _, hi = _steps(frame, curves.start_value, "conf_high")
            ok = np.isfinite(lo) & np.isfinite(hi)
            ax.fill_between(
                tl,
                np.where(ok, lo, np.nan),
                np.where(ok, hi, np.nan),
                step="post",
                color=color,
                alpha=0.15,
                linewidth=0,
                gid=f"band-{i}",
            )
        if censor_marks:
            cens = frame.loc[frame["n_censor"].to_numpy() > 0]
            if xmax is not None:
                cens = cens.loc[cens["time"] <= xmax]
            ax.plot(
                cens["time"],
                cens["estimate"],
                linestyle="none",
                marker="|",
                color=color,
                markersize=4,
                markeredgewidth=0.7,
                gid=f"censor-{i}",
            )
    if median_lines and is_km:
        med = curves.median()
        for i, m in enumerate(med["median"].to_numpy(dtype=float)):
            if np.isfinite(m):
                ax.plot(
                    [0, m, m],
                    [0.5, 0.5, 0],
                    color=palette[i % len(palette)],
                    linestyle=":",
                    linewidth=0.7,
                    gid=f"median-{i}",
                )
    if test is not None:
        label = getattr(test, "method", "Test").split(" (")[0]
        p = format_p(test.p_value)
        txt = f"{label} p {p[0]} {p[1:]}" if p.startswith(("<", ">")) else f"{label} p = {p}"
        loc = (0.04, 0.06) if is_km else (0.04, 0.92)
        ax.text(
            *loc,
            txt,
            transform=ax.transAxes,
            ha="left",
            va="bottom" if is_km else "top",
            gid="test",
        )

    ax.set_ylabel(ylabel or ("Survival probability" if is_km else "Cumulative incidence"))
    if ylim is not None:
        ax.set_ylim(*ylim)
    elif is_km:
        ax.set_ylim(0, 1.02)
    else:
        ax.set_ylim(0, min(1.0, max(0.05, top * 1.15)))
    ax.set_xlim(left=0, right=xmax)
    if percent:
        ax.yaxis.set_major_formatter(lambda v, _pos: f"{100 * v:.0f}%")
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True, min_n_ticks=4))
    if title:
        ax.set_title(title)
    if len(frames) > 1:
        ax.legend(title=legend_title, loc="best", handlelength=2.2)
    xl = xlabel or "Time (years)"
    if ax_rt is None:
        ax.set_xlabel(xl)
        return ax

    fig.canvas.draw()  # fix the tick locations before reading them
    lo_x, hi_x = ax.get_xlim()
    ticks = [t for t in ax.get_xticks() if lo_x - 1e-9 <= t <= hi_x + 1e-9]
    times = np.asarray(risk_times if risk_times is not None else ticks, dtype=float)
    counts = curves.risk_table(times)
    ax.tick_params(labelbottom=False)
    ax.set_xlabel("")
    ax_rt.set_ylim(-0.5, len(frames) - 0.5 + 1.0)
    ax_rt.invert_yaxis()
    n_per = len(times)
    for i in range(len(names)):
        rows = counts.iloc[i * n_per : (i + 1) * n_per]
        for t_i, (_, r) in zip(times, rows.iterrows(), strict=True):
            text = f"{int(r['n_risk'])}"
            if risk_events:
                text += f" ({int(r['n_event'])})"
            ax_rt.text(
                t_i,
                i + 1,
                text,
                ha="center",
                va="center",
                fontsize="small",
                color=palette[i % len(palette)],
                gid=f"risk-{i}",
            )
    ax_rt.text(
        0,
        0,
        "Number at risk" + (" (events)" if risk_events else ""),
        ha="left",
        va="center",
        fontsize="small",
        fontweight="bold",
        transform=ax_rt.get_yaxis_transform(),
        gid="risk-title",
    )
    ax_rt.set_yticks(range(1, len(names) + 1), labels=names if len(frames) > 1 else [""])
    for tick, i in zip(ax_rt.get_yticklabels(), range(len(names)), strict=True):
        tick.set_color(palette[i % len(palette)])
    widest = max(len(f"{int(v)}") for v in counts.loc[counts["time"] == times.min(), "n_risk"])
    if risk_events:
        widest += 4
    fs = plt.rcParams["font.size"] * 0.83
    pad = 4 + 0.6 * fs * widest / 2 if times.min() <= ax.get_xlim()[0] + 1e-9 else 4
    ax_rt.tick_params(axis="y", length=0, labelsize="small", pad=pad)
    ax_rt.tick_params(axis="x", length=3)
    for side in ("left", "right", "top"):
        ax_rt.spines[side].set_visible(False)
    ax_rt.set_xlabel(xl)
    fig.align_ylabels([ax, ax_rt])
    fig.subplots_adjust(left=0.15, right=0.96, top=0.97, bottom=0.12)
    # make room on the left for the group labels of the risk table
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    x0 = min(a.get_tightbbox(renderer).x0 for a in (ax, ax_rt))
    overflow = fig.transFigure.inverted().transform((x0, 0))[0]
    if overflow < 0.01:
        fig.subplots_adjust(left=0.15 + 0.01 - overflow)
    return fig
