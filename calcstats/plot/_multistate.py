"""Multi-state figures: state probabilities over time (the state diagram is in
:mod:`calcstats.plot._transitions`).

``state_probabilities`` reads a :func:`calcstats.state_probabilities` result (``tidy()``,
``risk_table(times)``). States, groups and axes are labelled through :class:`calcstats.Labels`
(``from_state`` levels name the states: ``"no_cirrhosis"`` is drawn "No cirrhosis").
Nothing is estimated here.
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
from calcstats._validation import NONE, validate_params
from calcstats.labels import Labels
from calcstats.plot._risk_table import readable
from calcstats.plot._sizing import (
    WIDTH_MM,
    PercentTicks,
    fit_height,
    line_height,
    new_figure,
    settle,
)
from calcstats.plot._style import publication, text_width
from calcstats.plot._theme import LINESTYLES

__all__ = ["state_probabilities"]

#: Colours of the states in declared order (Okabe–Ito without black and yellow), and a
#: dark grey for a state named "death".
STATE_COLORS = ("#56B4E9", "#E69F00", "#D55E00", "#009E73", "#0072B2", "#CC79A7", "#F0E442")
DEATH_COLOR = "#5A5A5A"


def _labels(result: Any, labels: Labels | Mapping[str, str] | None) -> Labels:
    return Labels.cohort() | getattr(result, "labels", None) | Labels.coerce(labels)


def _level(lab: Labels, column: str, value: Any) -> str:
    text = lab.level(column, value)
    if (
        text == str(value)
        and not lab.levels.get(column)
        and isinstance(value, bool | int | np.integer)
        and value in (0, 1)
    ):
        return "Yes" if value else "No"
    return text


def _state_colors(
    states: Sequence[str], colors: Sequence[str] | Mapping[str, str] | None
) -> dict[str, str]:
    if isinstance(colors, Mapping):
        missing = [s for s in states if s not in colors]
        if missing:
            raise CalcstatsError(f"colors has no entry for state(s) {missing}.")
        return {s: colors[s] for s in states}
    palette = list(colors) if colors is not None else list(STATE_COLORS)
    out, k = {}, 0
    for s in states:
        if colors is None and s == "death":
            out[s] = DEATH_COLOR
            continue
        out[s] = palette[k % len(palette)]
        k += 1
    return out


def _group_titles(result: Any, lab: Labels) -> list[str]:
    if not result.by:
        return [""]
    titles = []
    for row in result.groups.itertuples(index=False):
        parts = [f"{lab.name(c)}: {_level(lab, c, v)}" for c, v in zip(result.by, row, strict=True)]
        titles.append(", ".join(parts))
    return titles


def _group_mask(frame: pd.DataFrame, result: Any, g: int) -> np.ndarray:
    mask = np.ones(len(frame), dtype=bool)
    for col in result.by:
        mask &= (frame[col] == result.groups.iloc[g][col]).to_numpy()
    return mask


@validate_params({"width_mm": [WIDTH_MM, NONE]})
def state_probabilities(
    result: Any,
    *,
    kind: str = "stacked",
    states: Sequence[str] | None = None,
    conf_int: bool = True,
    risk_table: bool = True,
    risk_times: Sequence[float] | None = None,
    labels: Labels | Mapping[str, str] | None = None,
    colors: Sequence[str] | Mapping[str, str] | None = None,
    ncols: int | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    xmax: float | None = None,
    percent: bool = False,
    width_mm: float | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Draw state-occupation probabilities: stacked areas or lines with intervals, one
    panel per group, with the numbers at risk in each state.

    Parameters
    ----------
    result : StateProbabilitiesResult
        Result of :func:`calcstats.state_probabilities`.
    kind : {"stacked", "lines"}
        Stacked areas (the states add up to 1 at every time) or one line per state with its
        pointwise confidence band.
    states : list of str, optional
        States to draw (``"lines"``) and their order; default all, in the result's order.
    conf_int : bool, default True
        Bands for ``kind="lines"``.
    risk_table : bool, default True
        Numbers at risk in each live state under every panel.
    risk_times : sequence of float, optional
        Times of the risk-table columns (default: the x-axis major ticks).
    labels : Labels or dict, optional
        Display labels (merged over the defaults and the result's); state names come from
        the ``from_state`` levels.
    colors : sequence or dict of str, optional
        State colours (default: colour-blind-safe Okabe–Ito, dark grey for death).
    ncols : int, optional
        Panels per row (default: as many as fit the width at about 75 mm each: one at
        85 mm, two at 180 mm).
    xlabel, ylabel : str, optional
        Axis labels (defaults "Time (years)" and "Probability").
    xmax : float, optional
        Right limit of the time axis.
    percent : bool, default False
        y axis in percent.
    width_mm : float, optional
        Printed width in millimetres: default 85 (single column) for one group, 180
        (double column) for several. The height follows from the panels and their
        tables; the figure is drawn in the publication style
        (:mod:`calcstats.plot._style`) and laid out again by
        :func:`calcstats.plot.save_figure` at another width.
    figsize : (float, float), optional
        Width and height in inches instead of ``width_mm`` (the layout keeps the
        panels' proportions and may change the height).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> import calcstats as cs
    >>> ms = pd.DataFrame({
    ...     "patient_id": [1, 1, 2, 3, 3, 4],
    ...     "from_state": ["healthy", "ill", "healthy", "healthy", "ill", "healthy"],
    ...     "to_state": ["ill", "dead", "censored", "ill", "censored", "dead"],
    ...     "start": [0.0, 1.0, 0.0, 0.0, 2.0, 0.0], "stop": [1.0, 4.0, 3.0, 2.0, 5.0, 2.5]})
    >>> fig = cs.plot.state_probabilities(cs.state_probabilities(ms), kind="lines")
    """
    if not all(hasattr(result, a) for a in ("states", "tidy", "risk_table", "groups")):
        raise CalcstatsError(
            "plot.state_probabilities expects a result of "
            f"cs.state_probabilities(), got {type(result).__name__}."
        )
    if kind not in ("stacked", "lines"):
        raise CalcstatsError(
            f"The 'kind' parameter of plot.state_probabilities must be one "
            f"of 'stacked', 'lines'. Got {kind!r}."
        )
    shown = list(result.states) if states is None else list(states)
    unknown = [s for s in shown if s not in result.states]
    if unknown:
        raise CalcstatsError(
            f"states: {unknown} are not states of the result ({list(result.states)})."
        )
    if kind == "stacked" and states is not None and set(shown) != set(result.states):
        raise CalcstatsError(
            "A stacked plot shows every state (they add up to 1); use "
            "kind='lines' to draw some of them."
        )
    lab = _labels(result, labels)
    col = _state_colors(list(result.states), colors)
    names = {s: _level(lab, "from_state", s) for s in result.states}
    titles = _group_titles(result, lab)
    G = len(titles)
    if width_mm is None:
        width_mm = 85.0 if G == 1 or ncols == 1 else 180.0
    # a panel needs about 75 mm: a single column stacks the groups' panels
    nc = min(G, max(1, int(width_mm // 75))) if ncols is None else int(ncols)
    nr = -(-G // nc)
    tidy = result.tidy()
    if xmax is None:
        xmax = float(tidy["time"].max())
    live = _live_states(result)
    within = tidy.loc[tidy["state"].isin(shown) & (tidy["time"] <= xmax)]
    peak = max(
        float(np.nanmax(within["conf_high" if conf_int else "estimate"])),
        float(np.nanmax(result.at([0.0]).loc[lambda d: d["state"].isin(shown), "estimate"])),
    )
    ytop = min(1.02, max(0.05, 1.12 * peak))  # one scale for every panel
    n_rt = len(live) if risk_table else 0
    with publication():
        fig = new_figure(width_mm, 2.5 * nr + 0.5)
        if figsize is not None:
            fig.set_size_inches(*figsize)
        panel_w = float(fig.get_size_inches()[0]) / nc
        outer = fig.add_gridspec(nr, nc)
        axes, axes_rt, wanted, pads = [], [], [], []
        row_h = 1.35 * line_height(fig, plt.rcParams["xtick.labelsize"])
        for g in range(G):
            cell = outer[g // nc, g % nc]
            if risk_table:
                inner = cell.subgridspec(2, 1, height_ratios=[3, 1])
                ax = fig.add_subplot(inner[0])
                ax_rt = fig.add_subplot(inner[1], sharex=ax)
            else:
                ax, ax_rt = fig.add_subplot(cell), None
            frame = tidy.loc[_group_mask(tidy, result, g)]
            _panel(ax, frame, result, kind, shown, col, conf_int, xmax, ytop)
            if risk_times is not None:
                ax.set_xticks([t for t in risk_times if 0 <= t <= xmax])
            if g % nc == 0:
                ax.set_ylabel(ylabel or "Probability")
            if percent:
                ax.yaxis.set_major_formatter(PercentTicks())
            if titles[g]:
                ax.set_title(titles[g], fontsize=plt.rcParams["font.size"])
            xl = xlabel or lab.time("time")
            wanted.append(min(0.62 * panel_w, 2.4))
            if ax_rt is None:
                ax.set_xlabel(xl)
            else:
                pads.append(_risk_rows(fig, ax, ax_rt, result, g, live, names, col, risk_times, xl))
                axes_rt.append(ax_rt)
                wanted.append(row_h * n_rt)
            axes.append(ax)
            if ax_rt is not None:
                axes.append(ax_rt)
        for ax_rt in axes_rt:  # one pad: the panels of a column stay aligned
            ax_rt.tick_params(axis="y", pad=max(pads))
        handles = [
            plt.Rectangle((0, 0), 1, 1, color=col[s])
            if kind == "stacked"
            else plt.Line2D([], [], color=col[s], linestyle=LINESTYLES[i % len(LINESTYLES)])
            for i, s in enumerate(shown)
        ]
        per_row = len(shown)
        while per_row > 1 and sum(
            text_width(names[s], fig, fontsize=plt.rcParams["legend.fontsize"]) + 0.45
            for s in shown[:per_row]
        ) > 0.95 * float(fig.get_size_inches()[0]):
            per_row -= 1
        legend_rows = -(-len(shown) // per_row)
        order = [
            c + r * per_row
            for c in range(per_row)
            for r in range(legend_rows)
            if c + r * per_row < len(shown)
        ]  # matplotlib fills columns: read by rows
        fig.legend(
            [handles[i] for i in order],
            [names[shown[i]] for i in order],
            loc="outside upper center",
            ncol=per_row,
            handlelength=1.4,
            columnspacing=1.0,
            handletextpad=0.5,
        )
        fit_height(fig, axes, wanted)
    return fig


def _live_states(result: Any) -> list[str]:
    counts = result.risk_table(np.linspace(0, float(result.tidy()["time"].max()), 4))
    risk = counts.groupby("state", observed=True)["n_risk"].max()
    return [s for s in result.states if risk.get(s, 0) > 0]


def _panel(
    ax: Axes,
    frame: pd.DataFrame,
    result: Any,
    kind: str,
    shown: list[str],
    col: dict[str, str],
    conf_int: bool,
    xmax: float,
    ytop: float,
) -> None:
    wide = frame.pivot(index="time", columns="state", values="estimate")
    at0 = result.at([0.0])
    first = at0.loc[_group_mask(at0, result, _group_index(result, frame))].set_index("state")
    t = np.concatenate([[0.0], wide.index.to_numpy(dtype=float)])
    keep = t <= xmax
    t = np.append(t[keep], xmax)
    if kind == "stacked":
        base = np.zeros(t.size)
        for s in result.states:
            y = np.concatenate([[first.loc[s, "estimate"]], wide[s].to_numpy(dtype=float)])
            y = np.append(y[keep], y[keep][-1])
            ax.fill_between(
                t, base, base + y, step="post", color=col[s], linewidth=0, gid=f"area-{s}"
            )
            base = base + y
        ax.set_ylim(0, 1)
    else:
        for i, s in enumerate(shown):
            y = np.concatenate([[first.loc[s, "estimate"]], wide[s].to_numpy(dtype=float)])
            y = np.append(y[keep], y[keep][-1])
            ax.step(
                t,
                y,
                where="post",
                color=col[s],
                linestyle=LINESTYLES[i % len(LINESTYLES)],
                gid=f"line-{s}",
            )
            if conf_int:
                lo = frame.pivot(index="time", columns="state", values="conf_low")[s]
                hi = frame.pivot(index="time", columns="state", values="conf_high")[s]
                lo = np.append(np.concatenate([[first.loc[s, "conf_low"]], lo])[keep], np.nan)
                hi = np.append(np.concatenate([[first.loc[s, "conf_high"]], hi])[keep], np.nan)
                ax.fill_between(
                    t, lo, hi, step="post", color=col[s], alpha=0.18, linewidth=0, gid=f"band-{s}"
                )
        ax.set_ylim(0, ytop)
    ax.set_xlim(0, xmax)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True, min_n_ticks=3))


def _group_index(result: Any, frame: pd.DataFrame) -> int:
    if not result.by:
        return 0
    first = frame.iloc[0]
    for g in range(len(result.groups)):
        if all(result.groups.iloc[g][c] == first[c] for c in result.by):
            return g
    raise CalcstatsError("internal: group not found")


def _risk_rows(
    fig: Figure,
    ax: Axes,
    ax_rt: Axes,
    result: Any,
    g: int,
    live: list[str],
    names: dict[str, str],
    col: dict[str, str],
    risk_times: Sequence[float] | None,
    xlabel: str,
) -> float:
    """Numbers at risk per live state under the panel: one row per state, the state's
    name as the row label (moved left of the numbers at time 0), a bold title above.
    Returns the padding (points) the row labels need."""
    settle(fig)
    lo_x, hi_x = ax.get_xlim()
    ticks = [t for t in ax.get_xticks() if lo_x - 1e-9 <= t <= hi_x + 1e-9]
    times = np.asarray(risk_times if risk_times is not None else ticks, dtype=float)
    counts = result.risk_table(times)
    counts = counts.loc[_group_mask(counts, result, g)]
    size = plt.rcParams["xtick.labelsize"]
    ax.tick_params(labelbottom=False)
    ax_rt.set_ylim(-0.5, len(live) - 0.5)
    ax_rt.invert_yaxis()
    first = ["0"]
    for i, s in enumerate(live):
        rows = counts.loc[counts["state"] == s]
        for t_i, n in zip(rows["time"], rows["n_risk"], strict=True):
            text = f"{int(n):,}"
            ax_rt.text(
                t_i,
                i,
                text,
                ha="center",
                va="center",
                fontsize=size,
                color=readable(col[s]),
                gid=f"risk-{s}",
            )
            if abs(t_i - lo_x) < 1e-9:
                first.append(text)
    ax_rt.set_title(
        "Number at risk", loc="left", fontsize=size, fontweight="bold", pad=2.0, gid="risk-title"
    )
    ax_rt.set_yticks(range(len(live)), labels=[names[s] for s in live])
    # the numbers at time 0 are centred on the axis: their left half needs room
    pad = 3 + 72 * max(text_width(t, fig, fontsize=size) for t in first) / 2
    ax_rt.tick_params(axis="y", length=0, labelsize=size, pad=pad)
    ax_rt.tick_params(axis="x", length=3)
    for side in ("left", "right", "top"):
        ax_rt.spines[side].set_visible(False)
    ax_rt.set_xlabel(xlabel)
    return pad
