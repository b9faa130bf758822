"""Multi-state figures: state probabilities over time and the state diagram.

``state_probabilities`` reads a :func:`calcstats.state_probabilities` result (``tidy()``,
``risk_table(times)``); ``transitions`` reads the transition counts of a multi-state table
or result. States, groups and axes are labelled through :class:`calcstats.Labels`
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
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.ticker import MaxNLocator

from calcstats._errors import CalcstatsError
from calcstats.labels import Labels
from calcstats.plot._style import _renderer
from calcstats.plot._theme import LINESTYLES

__all__ = ["state_probabilities", "transitions"]

#: Colours of the states in declared order (Okabe–Ito without black and yellow), and a
#: dark grey for a state named "death".
STATE_COLORS = ("#56B4E9", "#E69F00", "#D55E00", "#009E73", "#0072B2", "#CC79A7", "#F0E442")
DEATH_COLOR = "#5A5A5A"


def _labels(result: Any, labels: Labels | Mapping[str, str] | None) -> Labels:
    return Labels.cohort() | getattr(result, "labels", None) | Labels.coerce(labels)


def _level(lab: Labels, column: str, value: Any) -> str:
    text = lab.level(column, value)
    if text == str(value) and not lab.levels.get(column) and isinstance(
            value, bool | int | np.integer) and value in (0, 1):
        return "Yes" if value else "No"
    return text


def _state_colors(states: Sequence[str], colors: Sequence[str] | Mapping[str, str] | None
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
        parts = [f"{lab.name(c)}: {_level(lab, c, v)}" for c, v in zip(result.by, row,
                                                                          strict=True)]
        titles.append(", ".join(parts))
    return titles


def _group_mask(frame: pd.DataFrame, result: Any, g: int) -> np.ndarray:
    mask = np.ones(len(frame), dtype=bool)
    for col in result.by:
        mask &= (frame[col] == result.groups.iloc[g][col]).to_numpy()
    return mask


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
        Panels per row (default: all groups in one row, at most 3).
    xlabel, ylabel : str, optional
        Axis labels (defaults "Time (years)" and "Probability").
    xmax : float, optional
        Right limit of the time axis.
    percent : bool, default False
        y axis in percent.
    figsize : (float, float), optional
        Inches; default 3.4 wide per panel column (85 mm for one panel).

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
        raise CalcstatsError("plot.state_probabilities expects a result of "
                             f"cs.state_probabilities(), got {type(result).__name__}.")
    if kind not in ("stacked", "lines"):
        raise CalcstatsError(f"The 'kind' parameter of plot.state_probabilities must be one "
                             f"of 'stacked', 'lines'. Got {kind!r}.")
    shown = list(result.states) if states is None else list(states)
    unknown = [s for s in shown if s not in result.states]
    if unknown:
        raise CalcstatsError(f"states: {unknown} are not states of the result "
                             f"({list(result.states)}).")
    if kind == "stacked" and states is not None and set(shown) != set(result.states):
        raise CalcstatsError("A stacked plot shows every state (they add up to 1); use "
                             "kind='lines' to draw some of them.")
    lab = _labels(result, labels)
    col = _state_colors(list(result.states), colors)
    names = {s: _level(lab, "from_state", s) for s in result.states}
    titles = _group_titles(result, lab)
    G = len(titles)
    nc = min(G, 3) if ncols is None else int(ncols)
    nr = -(-G // nc)
    tidy = result.tidy()
    if xmax is None:
        xmax = float(tidy["time"].max())
    live = _live_states(result)
    within = tidy.loc[tidy["state"].isin(shown) & (tidy["time"] <= xmax)]
    peak = max(float(np.nanmax(within["conf_high" if conf_int else "estimate"])),
               float(np.nanmax(result.at([0.0]).loc[lambda d: d["state"].isin(shown),
                                                     "estimate"])))
    ytop = min(1.02, max(0.05, 1.12 * peak))  # one scale for every panel
    n_rt = len(live) if risk_table else 0
    panel_h = 2.3 + (0.16 * (n_rt + 1.6) if risk_table else 0)
    fig = plt.figure(figsize=figsize or (3.4 * nc, panel_h * nr + 0.55))
    outer = fig.add_gridspec(nr, nc, hspace=0.4 if risk_table else 0.3, wspace=0.35)
    axes, axes_rt = [], []
    for g in range(G):
        cell = outer[g // nc, g % nc]
        if risk_table:
            share = 0.16 * (n_rt + 1.6) / panel_h
            inner = cell.subgridspec(2, 1, height_ratios=[1 - share, share], hspace=0.0)
            ax = fig.add_subplot(inner[0])
            ax_rt = fig.add_subplot(inner[1], sharex=ax)
        else:
            ax, ax_rt = fig.add_subplot(cell), None
        frame = tidy.loc[_group_mask(tidy, result, g)]
        _panel(ax, frame, result, kind, shown, col, conf_int, xmax, ytop)
        if g % nc == 0:
            ax.set_ylabel(ylabel or "Probability")
        if percent:
            ax.yaxis.set_major_formatter(lambda v, _pos: f"{100 * v:.0f}%")
        if titles[g]:
            ax.set_title(titles[g], fontsize=plt.rcParams["font.size"])
        xl = xlabel or lab.time("time")
        if ax_rt is None:
            ax.set_xlabel(xl)
        else:
            _risk_rows(fig, ax, ax_rt, result, g, live, names, col, risk_times, xl)
            axes_rt.append(ax_rt)
        axes.append(ax)
    handles = [plt.Rectangle((0, 0), 1, 1, color=col[s]) if kind == "stacked" else
               plt.Line2D([], [], color=col[s], linestyle=LINESTYLES[i % len(LINESTYLES)])
               for i, s in enumerate(shown)]
    per_row = 3 if nc == 1 else min(len(shown), 6)
    legend_rows = -(-len(shown) // per_row)
    head = 0.12 + 0.17 * legend_rows + (0.2 if any(titles) else 0.0)
    order = [c + r * per_row for c in range(per_row) for r in range(legend_rows)
             if c + r * per_row < len(shown)]  # matplotlib fills columns: read by rows
    handles = [handles[i] for i in order]
    fig.legend(handles, [names[shown[i]] for i in order], loc="upper center", ncol=per_row,
               frameon=False, handlelength=1.4, columnspacing=1.0, handletextpad=0.5,
               bbox_to_anchor=(0.5, 1.0), borderaxespad=0.2)
    h = fig.get_figheight()
    fig.subplots_adjust(left=0.1 if nc > 1 else 0.17, right=0.97, top=1 - head / h,
                        bottom=0.45 / h)
    if risk_table:
        _pad_risk_labels(fig, axes_rt)
    _fit_left(fig, [*axes, *axes_rt])
    return fig


def _fit_left(fig: Figure, axes: list[Axes]) -> None:
    """Widen the left margin until every label is inside the figure."""
    fig.canvas.draw()
    renderer = _renderer(fig)
    boxes = [a.get_tightbbox(renderer) for a in axes]
    x0 = min(b.x0 for b in boxes if b is not None)  # None: an invisible axes
    overflow = fig.transFigure.inverted().transform((x0, 0))[0]
    if overflow < 0.01:
        fig.subplots_adjust(left=fig.subplotpars.left + 0.01 - overflow)


def _pad_risk_labels(fig: Figure, axes_rt: list[Axes]) -> None:
    """Move the state names of the risk tables left of the numbers drawn at time 0."""
    fig.canvas.draw()
    renderer = _renderer(fig)
    for ax_rt in axes_rt:
        x0 = ax_rt.get_xlim()[0]
        texts = [t for t in ax_rt.texts if (gid := t.get_gid()) and gid.startswith("risk-")
                 and gid != "risk-title" and abs(t.get_position()[0] - x0) < 1e-9]
        if not texts:
            continue
        half = max(t.get_window_extent(renderer).width for t in texts) / 2
        pad = 3 + half * 72 / fig.dpi
        ax_rt.tick_params(axis="y", pad=pad)


def _live_states(result: Any) -> list[str]:
    counts = result.risk_table(np.linspace(0, float(result.tidy()["time"].max()), 4))
    risk = counts.groupby("state", observed=True)["n_risk"].max()
    return [s for s in result.states if risk.get(s, 0) > 0]


def _panel(ax: Axes, frame: pd.DataFrame, result: Any, kind: str, shown: list[str],
           col: dict[str, str], conf_int: bool, xmax: float, ytop: float) -> None:
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
            ax.fill_between(t, base, base + y, step="post", color=col[s], linewidth=0,
                            gid=f"area-{s}")
            base = base + y
        ax.set_ylim(0, 1)
    else:
        for i, s in enumerate(shown):
            y = np.concatenate([[first.loc[s, "estimate"]], wide[s].to_numpy(dtype=float)])
            y = np.append(y[keep], y[keep][-1])
            ax.step(t, y, where="post", color=col[s], linestyle=LINESTYLES[i % len(LINESTYLES)],
                    gid=f"line-{s}")
            if conf_int:
                lo = frame.pivot(index="time", columns="state", values="conf_low")[s]
                hi = frame.pivot(index="time", columns="state", values="conf_high")[s]
                lo = np.append(np.concatenate([[first.loc[s, "conf_low"]], lo])[keep], np.nan)
                hi = np.append(np.concatenate([[first.loc[s, "conf_high"]], hi])[keep], np.nan)
                ax.fill_between(t, lo, hi, step="post", color=col[s], alpha=0.18,
                                linewidth=0, gid=f"band-{s}")
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


def _risk_rows(fig: Figure, ax: Axes, ax_rt: Axes, result: Any, g: int, live: list[str],
               names: dict[str, str], col: dict[str, str],
               risk_times: Sequence[float] | None, xlabel: str) -> None:
    fig.canvas.draw()
    lo_x, hi_x = ax.get_xlim()
    ticks = [t for t in ax.get_xticks() if lo_x - 1e-9 <= t <= hi_x + 1e-9]
    times = np.asarray(risk_times if risk_times is not None else ticks, dtype=float)
    counts = result.risk_table(times)
    counts = counts.loc[_group_mask(counts, result, g)]
    ax.tick_params(labelbottom=False)
    ax_rt.set_ylim(-0.6, len(live) + 0.4)
    ax_rt.invert_yaxis()
    for i, s in enumerate(live):
        rows = counts.loc[counts["state"] == s]
        for t_i, n in zip(rows["time"], rows["n_risk"], strict=True):
            ax_rt.text(t_i, i + 1, f"{int(n)}", ha="center", va="center", fontsize="small",
                       color=col[s] if col[s] != "#F0E442" else "black", gid=f"risk-{s}")
    ax_rt.text(0, 0, "Number at risk", ha="left", va="center", fontsize="small",
               fontweight="bold", transform=ax_rt.get_yaxis_transform(), gid="risk-title")
    ax_rt.set_yticks(range(1, len(live) + 1), labels=[names[s] for s in live])
    ax_rt.tick_params(axis="y", length=0, labelsize="small")
    ax_rt.tick_params(axis="x", length=3)
    for side in ("left", "right", "top"):
        ax_rt.spines[side].set_visible(False)
    ax_rt.set_xlabel(xlabel)


def _layout(states: Sequence[str], absorbing: set[str]) -> dict[str, tuple[float, float]]:
    live = [s for s in states if s not in absorbing]
    dead = [s for s in states if s in absorbing]
    pos = {s: (1.25 * i, 1.0) for i, s in enumerate(live)}
    span = 1.25 * max(len(live) - 1, 0)
    for j, s in enumerate(dead):
        if len(dead) == 1:
            x = span / 2
        else:  # spread under the live row, inset from its ends
            x = 0.15 * span + 0.7 * span * j / (len(dead) - 1) if span else float(j)
        pos[s] = (x, -0.15)
    return pos


def transitions(
    data: Any,
    *,
    labels: Labels | Mapping[str, str] | None = None,
    positions: Mapping[str, tuple[float, float]] | None = None,
    colors: Sequence[str] | Mapping[str, str] | None = None,
    censored: bool = True,
    figsize: tuple[float, float] | None = None,
    **columns: str,
) -> Figure:
    """Draw the state diagram: a box per state with its number of patients, an arrow per
    observed transition labelled with its count.

    Parameters
    ----------
    data : DataFrame or StateProbabilitiesResult
        A multi-state table (:meth:`Cohort.multistate_table` layout; column names as in
        :func:`calcstats.state_probabilities`, overridden by ``from_state=`` etc.) or a
        result of :func:`calcstats.state_probabilities` (one diagram; groups pooled).
    labels : Labels or dict, optional
        Display labels (state names from the ``from_state`` levels).
    positions : dict, optional
        State → (x, y) box centres. Default: live states left to right in order on top,
        absorbing states (never left) below.
    colors : sequence or dict, optional
        Box edge colours (default as :func:`state_probabilities`).
    censored : bool, default True
        Write the number of patients censored in each live state under its box.
    figsize : (float, float), optional
        Inches (default 3.4 wide, 85 mm, for up to 3 live states).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> import calcstats as cs
    >>> ms = pd.DataFrame({"patient_id": [1, 1, 2, 3], "from_state": ["a", "b", "a", "a"],
    ...                    "to_state": ["b", "c", "censored", "c"],
    ...                    "start": [0.0, 1.0, 0.0, 0.0], "stop": [1.0, 2.0, 3.0, 2.5]})
    >>> fig = cs.plot.transitions(ms)
    """
    from calcstats.survival._multistate import _counts, _state_counts, transition_counts

    if isinstance(data, pd.DataFrame):
        counts, per_state, states = transition_counts(data, labels=Labels.coerce(labels),
                                                      **columns)
    elif hasattr(data, "transition_counts") and hasattr(data, "_input"):
        counts, per_state, states = _counts(data._input), _state_counts(data._input), \
            data.states
        by = list(data.by)
        if by:
            counts = counts.groupby(["from_state", "to_state"], observed=True)["n"].sum()
            counts = counts.reset_index()
            per_state = per_state.groupby("state", observed=True)[
                ["n_start", "n_entered", "n_patients"]].sum().reset_index()
    else:
        raise CalcstatsError("plot.transitions expects a multi-state table (DataFrame) or a "
                             f"state_probabilities() result, got {type(data).__name__}.")
    lab = _labels(data, labels)
    moves = counts.loc[counts["to_state"] != "censored"]
    left = set(moves["from_state"].astype(str))
    absorbing = {s for s in states if s not in left}
    pos = dict(positions) if positions is not None else _layout(states, absorbing)
    missing = [s for s in states if s not in pos]
    if missing:
        raise CalcstatsError(f"positions has no entry for state(s) {missing}.")
    col = _state_colors(list(states), colors)
    xs = np.array([p[0] for p in pos.values()])
    ys = np.array([p[1] for p in pos.values()])
    bw, bh = 0.9, 0.42
    arcs = [(str(a), str(b)) for a, b in zip(moves["from_state"], moves["to_state"],
                                              strict=True)
            if abs(pos[str(a)][1] - pos[str(b)][1]) < 1e-9
            and abs(pos[str(b)][0] - pos[str(a)][0]) > 1.5]
    head = 0.12 + (0.2 * max((abs(pos[b][0] - pos[a][0]) for a, b in arcs), default=0)
                   if arcs else 0.0)
    x_lo, x_hi = xs.min() - bw / 2 - 0.08, xs.max() + bw / 2 + 0.08
    y_lo, y_hi = ys.min() - bh / 2 - 0.06, ys.max() + bh / 2 + head
    width = 3.4 if x_hi - x_lo < 4.2 else 3.4 * (x_hi - x_lo) / 4.2
    height = width * (y_hi - y_lo) / (x_hi - x_lo)
    fig, ax = plt.subplots(figsize=figsize or (width, height))
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_aspect("equal", adjustable="box")
    ax.set_axis_off()
    n_pat = per_state.set_index(per_state["state"].astype(str))["n_patients"]
    cens = counts.loc[counts["to_state"] == "censored"]
    cens = cens.set_index(cens["from_state"].astype(str))["n"]
    for s in states:
        x, y = pos[s]
        ax.add_patch(FancyBboxPatch((x - bw / 2, y - bh / 2), bw, bh,
                                    boxstyle="round,pad=0.0,rounding_size=0.05",
                                    facecolor="white", edgecolor=col[s], linewidth=1.4,
                                    gid=f"box-{s}"))
        lines = [f"n = {int(n_pat.get(s, 0)):,}"]
        if censored and s not in absorbing:
            lines.append(f"censored {int(cens.get(s, 0)):,}")
        ax.text(x, y + (0.1 if len(lines) > 1 else 0.06), _level(lab, "from_state", s),
                ha="center", va="center", fontweight="bold", fontsize="small",
                gid=f"label-{s}")
        ax.text(x, y - (0.07 if len(lines) > 1 else 0.08), "\n".join(lines), ha="center",
                va="center", fontsize="x-small", linespacing=1.3, gid=f"count-{s}")
    for _, row in moves.iterrows():
        a, b = str(row["from_state"]), str(row["to_state"])
        (x0, y0), (x1, y1) = pos[a], pos[b]
        arc = (a, b) in arcs
        if arc:
            start, end = (x0, y0 + bh / 2), (x1, y1 + bh / 2)
            rad = -min(0.5, 2 * (head - 0.1) / abs(x1 - x0))
        else:
            start, end = _edge((x0, y0), (x1, y1), bw, bh)
            rad = 0.0
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=8,
                                     linewidth=0.8, color="#333333", shrinkA=0, shrinkB=1,
                                     connectionstyle=f"arc3,rad={rad}", gid=f"arrow-{a}-{b}"))
        text = f"{int(row['n']):,}"
        if arc:
            mx = (start[0] + end[0]) / 2
            my = start[1] + abs(rad) * abs(x1 - x0) / 2
            ax.text(mx, my, text, ha="center", va="center", fontsize="x-small",
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white",
                          "edgecolor": "none"}, gid=f"n-{a}-{b}")
        elif abs(y0 - y1) < 1e-9:
            ax.text((start[0] + end[0]) / 2, start[1] + 0.03, text, ha="center",
                    va="bottom", fontsize="x-small", gid=f"n-{a}-{b}")
        else:
            f = 0.2
            mx, my = start[0] + f * (end[0] - start[0]), start[1] + f * (end[1] - start[1])
            ax.text(mx, my, text, ha="center", va="center", fontsize="x-small",
                    bbox={"boxstyle": "round,pad=0.12", "facecolor": "white",
                          "edgecolor": "none"}, gid=f"n-{a}-{b}")
    fig.subplots_adjust(left=0.0, right=1.0, top=1.0, bottom=0.0)
    return fig


def _edge(p0: tuple[float, float], p1: tuple[float, float], bw: float, bh: float
          ) -> tuple[tuple[float, float], tuple[float, float]]:
    """Points where the segment between two box centres leaves each box."""
    (x0, y0), (x1, y1) = p0, p1
    dx, dy = x1 - x0, y1 - y0
    scale = min(bw / 2 / abs(dx) if dx else np.inf, bh / 2 / abs(dy) if dy else np.inf)
    return (x0 + dx * scale, y0 + dy * scale), (x1 - dx * scale, y1 - dy * scale)
