"""The state diagram of a multi-state model: a box per state, an arrow per transition.

``transitions`` reads the transition counts of a multi-state table or of a
:func:`calcstats.state_probabilities` result; states are labelled through
:class:`calcstats.Labels` (``from_state`` levels). The diagram is drawn in inches for its
printed width: boxes as wide as their texts, rows spaced for the arrows and their counts.
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

from calcstats._errors import CalcstatsError
from calcstats._validation import NONE, validate_params
from calcstats.labels import Labels
from calcstats.plot._multistate import _labels, _level, _state_colors
from calcstats.plot._sizing import WIDTH_MM, new_figure, settle
from calcstats.plot._style import publication, register_layout, text_height, text_width

__all__ = ["transitions"]


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


@validate_params({"width_mm": [WIDTH_MM, NONE]})
def transitions(
    data: Any,
    *,
    labels: Labels | Mapping[str, str] | None = None,
    positions: Mapping[str, tuple[float, float]] | None = None,
    colors: Sequence[str] | Mapping[str, str] | None = None,
    censored: bool = True,
    width_mm: float | None = None,
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
    width_mm : float, default 85
        Printed width in millimetres (85 single column, 180 double). Boxes are as wide
        as their texts, the layout fills the width and the height follows; drawn in the
        publication style and laid out again by :func:`calcstats.plot.save_figure` at
        another width.
    figsize : (float, float), optional
        Width and height in inches instead of ``width_mm``.

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
        counts, per_state, states = transition_counts(data, labels=Labels.coerce(labels), **columns)
    elif hasattr(data, "transition_counts") and hasattr(data, "_input"):
        counts, per_state, states = _counts(data._input), _state_counts(data._input), data.states
        by = list(data.by)
        if by:
            counts = counts.groupby(["from_state", "to_state"], observed=True)["n"].sum()
            counts = counts.reset_index()
            per_state = (
                per_state.groupby("state", observed=True)[["n_start", "n_entered", "n_patients"]]
                .sum()
                .reset_index()
            )
    else:
        raise CalcstatsError(
            "plot.transitions expects a multi-state table (DataFrame) or a "
            f"state_probabilities() result, got {type(data).__name__}."
        )
    lab = _labels(data, labels)
    moves = counts.loc[counts["to_state"] != "censored"]
    left = set(moves["from_state"].astype(str))
    absorbing = {s for s in states if s not in left}
    pos = dict(positions) if positions is not None else _layout(states, absorbing)
    missing = [s for s in states if s not in pos]
    if missing:
        raise CalcstatsError(f"positions has no entry for state(s) {missing}.")
    n_pat = per_state.set_index(per_state["state"].astype(str))["n_patients"]
    cens = counts.loc[counts["to_state"] == "censored"]
    cens = cens.set_index(cens["from_state"].astype(str))["n"]
    boxes = {}
    for s in states:
        lines = [f"n = {int(n_pat.get(s, 0)):,}"]
        if censored and s not in absorbing:
            lines.append(f"censored {int(cens.get(s, 0)):,}")
        boxes[s] = (_level(lab, "from_state", s), "\n".join(lines))
    arrows = [
        (str(a), str(b), int(n))
        for a, b, n in zip(moves["from_state"], moves["to_state"], moves["n"], strict=True)
    ]
    if width_mm is None:
        width_mm = 85.0
    with publication():
        fig = new_figure(width_mm, 2.0, constrained=False)
        if figsize is not None:
            fig.set_size_inches(*figsize)
        ax = fig.add_axes((0, 0, 1, 1))
        rc = dict(plt.rcParams)

        def draw(keep_height: bool) -> None:
            with plt.rc_context(rc):
                ax.clear()
                w = float(fig.get_size_inches()[0])
                height = _diagram(
                    ax, w, states, pos, boxes, arrows, _state_colors(list(states), colors)
                )
                if not keep_height:
                    fig.set_size_inches(w, height)
                ax.set_xlim(0, w)
                ax.set_ylim(0, height)
                ax.set_axis_off()

        draw(figsize is not None)
        register_layout(fig, draw)
        settle(fig)
    return fig


def _diagram(
    ax: Axes,
    width_in: float,
    states: Sequence[str],
    pos: Mapping[str, tuple[float, float]],
    boxes: Mapping[str, tuple[str, str]],
    arrows: Sequence[tuple[str, str, int]],
    col: Mapping[str, str],
) -> float:
    """Draw the diagram in inch units for a figure ``width_in`` wide; return its height.

    Boxes are as wide as their widest text; the abstract ``pos`` are scaled so that the
    boxes fill the width, with room for the counts between neighbours, and rows are
    spaced by the boxes' height plus room for the arrows."""
    fig = ax.figure
    xs = np.array([p[0] for p in pos.values()], dtype=float)
    ys = np.array([p[1] for p in pos.values()], dtype=float)
    span = float(xs.max() - xs.min())
    margin, pad = 0.04, 0.06
    # the closest neighbours in a row: the count of the arrow between them must fit
    near = min(
        (
            abs(pos[a][0] - pos[b][0])
            for a in states
            for b in states
            if a != b and abs(pos[a][1] - pos[b][1]) < 1e-9
        ),
        default=span or 1.0,
    )
    name_pt = max(float(plt.rcParams["font.size"]) - 1.0, 6.0)
    while True:  # smaller type (never under 6 pt) until the boxes leave room for counts
        count_pt = max(name_pt - 0.5, 6.0)
        name_w = max(
            text_width(boxes[s][0], fig, fontsize=name_pt, fontweight="bold") for s in states
        )
        count_w = max(text_width(boxes[s][1], fig, fontsize=count_pt) for s in states)
        bw = max(name_w, count_w) + 2 * pad
        label_w = (
            max((text_width(f"{n:,}", fig, fontsize=count_pt) for *_, n in arrows), default=0.0)
            + 2 * pad
        )
        sx = (width_in - bw - 2 * margin) / span if span > 0 else 1.0
        if near * sx - bw >= label_w or name_pt <= 6.0:
            break
        name_pt = max(name_pt - 0.5, 6.0)
    name_h = max(text_height(boxes[s][0], fig, fontsize=name_pt, fontweight="bold") for s in states)
    count_h = max(text_height(boxes[s][1], fig, fontsize=count_pt) for s in states)
    bh = name_h + count_h + 3 * pad
    # rows: the smallest gap between distinct heights holds a box and the arrows' labels
    levels = np.unique(np.round(ys, 9))
    dy = float(np.diff(levels).min()) if levels.size > 1 else 1.0
    sy = (bh + max(0.45, 3 * label_w)) / dy
    arcs = {
        (a, b) for a, b, _ in arrows if abs(pos[a][1] - pos[b][1]) < 1e-9 and _between(a, b, pos)
    }
    rise = max(
        (min(0.25 * abs(pos[b][0] - pos[a][0]) * sx, bh + 0.25) for a, b in arcs), default=0.0
    )
    y_top = margin + (rise + 0.1 if arcs else 0.0)

    def at(s: str) -> tuple[float, float]:
        x, y = pos[s]
        return (margin + bw / 2 + (x - xs.min()) * sx, y_top + bh / 2 + (ys.max() - y) * sy)

    height = y_top + bh + (ys.max() - ys.min()) * sy + margin

    def flip(p: tuple[float, float]) -> tuple[float, float]:  # y grows upwards
        return p[0], height - p[1]

    for s in states:
        x, y = flip(at(s))
        ax.add_patch(
            FancyBboxPatch(
                (x - bw / 2, y - bh / 2),
                bw,
                bh,
                boxstyle=f"round,pad=0.0,rounding_size={pad}",
                facecolor="white",
                edgecolor=col[s],
                linewidth=1.2,
                gid=f"box-{s}",
            )
        )
        ax.text(
            x,
            y + bh / 2 - pad,
            boxes[s][0],
            ha="center",
            va="top",
            fontweight="bold",
            fontsize=name_pt,
            gid=f"label-{s}",
        )
        below = y + bh / 2 - 2 * pad - name_h  # the counts centred under the name
        ax.text(
            x,
            (below + y - bh / 2 + pad) / 2,
            boxes[s][1],
            ha="center",
            va="center",
            fontsize=count_pt,
            linespacing=1.2,
            gid=f"count-{s}",
        )
    for a, b, n in arrows:
        (x0, y0), (x1, y1) = flip(at(a)), flip(at(b))
        text = f"{n:,}"
        label: dict[str, Any] = {
            "ha": "center",
            "va": "center",
            "fontsize": count_pt,
            "gid": f"n-{a}-{b}",
            "bbox": {"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none"},
        }
        if (a, b) in arcs:
            start, end = (x0, y0 + bh / 2), (x1, y1 + bh / 2)
            h = min(0.25 * abs(x1 - x0), bh + 0.25)
            rad = -2 * h / abs(x1 - x0) * np.sign(x1 - x0)
            ax.text((x0 + x1) / 2, y0 + bh / 2 + h, text, **label)
        else:
            start, end = _edge((x0, y0), (x1, y1), bw, bh)
            rad = 0.0
            if abs(y0 - y1) < 1e-9:
                ax.text(
                    (start[0] + end[0]) / 2,
                    start[1] + 0.02,
                    text,
                    **{**label, "va": "bottom", "bbox": None},
                )
            else:
                f = 0.25
                ax.text(
                    start[0] + f * (end[0] - start[0]),
                    start[1] + f * (end[1] - start[1]),
                    text,
                    **label,
                )
        ax.add_patch(
            FancyArrowPatch(
                start,
                end,
                arrowstyle="-|>",
                mutation_scale=7,
                linewidth=0.7,
                color="#333333",
                shrinkA=0,
                shrinkB=1,
                connectionstyle=f"arc3,rad={rad}",
                gid=f"arrow-{a}-{b}",
            )
        )
    return height


def _between(a: str, b: str, pos: Mapping[str, tuple[float, float]]) -> bool:
    """True when another state's box lies on the straight line from ``a`` to ``b`` (same
    row): the arrow then arcs over it."""
    (x0, y0), (x1, _) = pos[a], pos[b]
    lo, hi = min(x0, x1), max(x0, x1)
    return any(abs(y - y0) < 1e-9 and lo < x < hi for s, (x, y) in pos.items() if s not in (a, b))


def _edge(
    p0: tuple[float, float], p1: tuple[float, float], bw: float, bh: float
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Points where the segment between two box centres leaves each box."""
    (x0, y0), (x1, y1) = p0, p1
    dx, dy = x1 - x0, y1 - y0
    scale = min(bw / 2 / abs(dx) if dx else np.inf, bh / 2 / abs(dy) if dy else np.inf)
    return (x0 + dx * scale, y0 + dy * scale), (x1 - dx * scale, y1 - dy * scale)
