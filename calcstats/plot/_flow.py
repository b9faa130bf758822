"""STROBE participant-flow diagram drawn from ``cohort.flow``."""

from __future__ import annotations

import textwrap
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from calcstats._errors import CalcstatsError

__all__ = ["flow_diagram"]

_NEEDED = {"reason", "n_before", "n_excluded", "n_after"}


def _flow_frame(data: Any) -> pd.DataFrame:
    flow = getattr(data, "flow", data)
    if hasattr(flow, "to_frame"):
        try:
            frame = flow.to_frame(detail=True)  # with the validation rule of each step
        except TypeError:
            frame = flow.to_frame()
    else:
        frame = flow
    if not isinstance(frame, pd.DataFrame) or not _NEEDED <= set(frame.columns):
        raise CalcstatsError(
            "flow_diagram expects a Cohort, its .flow, or flow.to_frame() with columns "
            f"{sorted(_NEEDED)}; got {type(data).__name__}."
        )
    if frame.empty:
        raise CalcstatsError("The flow has no steps to draw.")
    return frame.reset_index(drop=True)


def _group(frame: pd.DataFrame) -> tuple[int, list[dict[str, Any]]]:
    """Start count and exclusion boxes; consecutive validation steps share one box."""
    first = frame.iloc[0]
    start = int(first["n_before"])
    steps = frame.iloc[1:] if int(first["n_excluded"]) == 0 else frame
    has_rule = "rule" in frame.columns
    boxes: list[dict[str, Any]] = []
    for _, row in steps.iterrows():
        is_rule = has_rule and isinstance(row["rule"], str) and row["rule"] not in ("", "user")
        rows_only = int(row.get("n_rows_excluded", 0) or 0) if int(row["n_excluded"]) == 0 else 0
        if int(row["n_excluded"]) == 0 and rows_only == 0:
            continue  # a step that removed nothing
        item = (str(row["reason"]), int(row["n_excluded"]), rows_only)
        if is_rule and boxes and boxes[-1]["validation"]:
            boxes[-1]["items"].append(item)
            boxes[-1]["n_excluded"] += item[1]
            boxes[-1]["n_after"] = int(row["n_after"])
            continue
        boxes.append(
            {
                "validation": bool(is_rule),
                "items": [item],
                "n_excluded": item[1],
                "n_after": int(row["n_after"]),
            }
        )
    return start, boxes


def _item(reason: str, n: int, rows_only: int) -> str:
    if n == 0 and rows_only:
        if "row" in reason:
            return f"• {reason}"
        return f"• {reason} ({rows_only:,} row{'s' if rows_only != 1 else ''}, no patient)"
    return f"• {reason} (n = {n:,})"


def flow_diagram(
    data: Any,
    *,
    start_label: str = "Patients in source tables",
    final_label: str = "Patients analysed",
    step_labels: list[str] | None = None,
    wrap: int = 38,
    figsize: tuple[float, float] | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Draw the STROBE participant-flow diagram of a cohort.

    Main boxes (left) give the number of patients remaining after each exclusion step;
    side boxes (right) give each exclusion with its reason and count. Consecutive
    exclusions made at data validation (``read_cohort(on_error="exclude")``) share one
    side box listing every rule.

    Parameters
    ----------
    data : Cohort, Flow or pandas.DataFrame
        Anything with ``.flow.to_frame()``, ``.to_frame()``, or the frame itself
        (columns ``reason, n_before, n_excluded, n_after``; optional ``rule``).
    start_label, final_label : str
        Text of the first and last main boxes.
    step_labels : list of str, optional
        Text of the intermediate main boxes (one per exclusion box but the last);
        default "Patients remaining".
    wrap : int, default 38
        Characters per line in the main boxes (side boxes wrap to their width).
    figsize : (float, float), optional
        Figure size in inches; default grows with the number of steps.
    ax : matplotlib Axes, optional
        Axes to draw on (its figure is returned).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> from calcstats.plot import flow_diagram
    >>> flow = pd.DataFrame({"reason": ["Patients in source tables", "age under 18"],
    ...                      "n_before": [100, 100], "n_excluded": [0, 4], "n_after": [100, 96]})
    >>> fig = flow_diagram(flow)
    """
    frame = _flow_frame(data)
    start, boxes = _group(frame)
    n_main = len(boxes) + 1
    if ax is None:
        n_items = sum(len(b["items"]) + 1 for b in boxes)
        fig = plt.figure(figsize=figsize or (6.3, 0.6 + 0.8 * n_main + 0.22 * n_items))
        ax = fig.add_axes((0.02, 0.02, 0.96, 0.96))
    else:
        fig = ax.figure
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_axis_off()
    bbox = ax.get_window_extent().transformed(fig.dpi_scale_trans.inverted())
    fontsize = plt.rcParams["font.size"]
    line_h = 1.3 * fontsize / 72 / bbox.height  # one text line in axes units
    pad_y = 0.9 * line_h
    x_main, w_main, x_side, w_side = 0.25, 0.40, 0.74, 0.46
    chars_side = max(12, int(w_side * bbox.width * 72 / (0.52 * fontsize)) - 2)

    def keep(text: str) -> str:  # never break inside "(n = 12)"
        return text.replace("(n = ", "(n\u00a0=\u00a0")

    def draw_box(x: float, y: float, w: float, text: str, gid: str, align: str) -> float:
        n_lines = text.count("\n") + 1
        h = n_lines * line_h + 2 * pad_y
        ax.add_patch(
            Rectangle(
                (x - w / 2, y - h / 2),
                w,
                h,
                facecolor="white",
                edgecolor="black",
                linewidth=0.8,
                gid=gid,
            )
        )
        tx = x if align == "center" else x - w / 2 + 0.02
        ax.text(tx, y, text, ha=align, va="center", multialignment=align, gid=gid)
        return h

    labels = [f"{start_label}\n(n = {start:,})"]
    for i, box in enumerate(boxes):
        if i == len(boxes) - 1:
            name = final_label
        elif step_labels is not None and i < len(step_labels):
            name = step_labels[i]
        else:
            name = "Patients remaining"
        labels.append(f"{name}\n(n = {box['n_after']:,})")
    ys = [1 - (i + 0.5) / n_main for i in range(n_main)]
    heights = [
        draw_box(
            x_main,
            y,
            w_main,
            textwrap.fill(lab, wrap, replace_whitespace=False),
            f"main-{i}",
            "center",
        )
        for i, (y, lab) in enumerate(zip(ys, labels, strict=True))
    ]
    arrow = {
        "arrowstyle": "-|>",
        "color": "black",
        "linewidth": 0.8,
        "shrinkA": 0,
        "shrinkB": 0,
        "mutation_scale": 9,
    }
    for i in range(n_main - 1):
        ax.annotate(
            "",
            xy=(x_main, ys[i + 1] + heights[i + 1] / 2),
            xytext=(x_main, ys[i] - heights[i] / 2),
            arrowprops=arrow,
        )
    for i, box in enumerate(boxes):
        y_mid = (ys[i] - heights[i] / 2 + ys[i + 1] + heights[i + 1] / 2) / 2
        head = "Excluded at data validation" if box["validation"] else "Excluded"
        lines = [keep(f"{head} (n = {box['n_excluded']:,})")]
        if box["validation"] or len(box["items"]) > 1:
            lines += [
                textwrap.fill(keep(_item(r, n, k)), chars_side, subsequent_indent="   ")
                for r, n, k in box["items"]
            ]
        else:
            lines.append(textwrap.fill(box["items"][0][0], chars_side))
        draw_box(x_side, y_mid, w_side, "\n".join(lines), f"side-{i}", "left")
        ax.annotate("", xy=(x_side - w_side / 2, y_mid), xytext=(x_main, y_mid), arrowprops=arrow)
    return fig
