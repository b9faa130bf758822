"""STROBE participant-flow diagram drawn from ``cohort.flow``.

The diagram is laid out in inches at the printed width: every box is as high as its
wrapped text (measured with the renderer), the side boxes take the space they need
between two main boxes, and the figure is as tall as the diagram.
"""

from __future__ import annotations

import warnings
from typing import Any

import matplotlib as mpl
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from calcstats._errors import CalcstatsError, CalcstatsWarning, user_stacklevel
from calcstats._terms import TEXTS
from calcstats._validation import NONE, TEXT, validate_params
from calcstats.plot._sizing import AXES, WIDTH_MM, figure_of, new_figure, settle
from calcstats.plot._style import publication, register_layout, text_height, text_width, wrap

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
    return f"• {reason} {_count(n)}"


def _count(n: int) -> str:
    """ "(n = 1,234)" that never breaks across lines."""
    return f"(n\u00a0=\u00a0{n:,})"


_MARGIN = 0.04  # inches around the diagram
_GAP = 0.12  # inches between a box and an arrow's turn


@validate_params(
    {
        "start_label": [TEXT],
        "final_label": [TEXT],
        "step_labels": [TEXTS, NONE],
        "width_mm": [WIDTH_MM],
        "ax": [AXES, NONE],
    }
)
def flow_diagram(
    data: Any,
    *,
    start_label: str = "Patients in source tables",
    final_label: str = "Patients analysed",
    step_labels: list[str] | None = None,
    width_mm: float = 180.0,
    ax: Axes | None = None,
) -> Figure | Axes:
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
    width_mm : float, default 180
        Width of the new figure in millimetres (a double column; 85 for a single one).
        Texts wrap to their boxes and the height follows the diagram.
    ax : matplotlib Axes, optional
        Draw into this axes (laid out to its width; it should be at least as tall as the
        diagram, else a warning says how tall).

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.axes.Axes
        The axes when ``ax`` is given, else a new figure.

    Examples
    --------
    >>> import pandas as pd
    >>> from calcstats.plot import flow_diagram
    >>> flow = pd.DataFrame({"reason": ["Patients in source tables", "age under 18"],
    ...                      "n_before": [100, 100], "n_excluded": [0, 4], "n_after": [100, 96]})
    >>> fig = flow_diagram(flow, width_mm=85)
    >>> round(float(fig.get_size_inches()[0]) * 25.4)
    85
    """
    frame = _flow_frame(data)
    start, boxes = _group(frame)
    with publication():
        own = ax is None
        if ax is None:
            fig = new_figure(width_mm, 2.0, constrained=False)
            ax = fig.add_axes((0, 0, 1, 1))
        else:
            fig = figure_of(ax)
        box = ax.get_window_extent().transformed(fig.dpi_scale_trans.inverted())
        width_in = box.width
        mains = [f"{start_label}\n{_count(start)}"]
        for i, b in enumerate(boxes):
            if i == len(boxes) - 1:
                name = final_label
            elif step_labels is not None and i < len(step_labels):
                name = step_labels[i]
            else:
                name = "Patients remaining"
            mains.append(f"{name}\n{_count(b['n_after'])}")
        height = _draw(ax, width_in, mains, boxes)
        if own:
            _fit(ax, width_in, height, keep_height=False)
            rc = dict(mpl.rcParams)

            def again(keep_height: bool) -> None:  # save_figure at another width
                with mpl.rc_context(rc):
                    ax.clear()
                    w = float(fig.get_size_inches()[0])
                    _fit(ax, w, _draw(ax, w, mains, boxes), keep_height=keep_height)

            register_layout(fig, again)
        else:
            ax.set_ylim(max(height, box.height), 0)
            if height > box.height * 1.001:
                warnings.warn(
                    f"flow_diagram: the diagram needs {height:.2f} in of height; the axes "
                    f"has {box.height:.2f} in, so the boxes overlap. Make the axes taller "
                    "or leave ax=None for a figure of the right height.",
                    CalcstatsWarning,
                    stacklevel=user_stacklevel(),
                )
            ax.set_xlim(0, width_in)
            ax.set_axis_off()
        settle(fig)
    return fig if own else ax


def _fit(ax: Axes, width_in: float, height_in: float, *, keep_height: bool) -> None:
    """Make the figure (one axes filling it) as tall as the diagram, in inch units."""
    fig = figure_of(ax)
    if not keep_height:
        fig.set_size_inches(width_in, height_in)
    ax.set_ylim(max(height_in, float(fig.get_size_inches()[1])), 0)
    ax.set_xlim(0, width_in)
    ax.set_axis_off()


def _side_text(box: dict[str, Any], width_in: float, fig: Figure) -> str:
    """The text of a side box, each item wrapped with a hanging indent under its bullet."""
    head = "Excluded at data validation" if box["validation"] else "Excluded"
    lines = [wrap(f"{head} {_count(box['n_excluded'])}", width_in, fig)]
    if box["validation"] or len(box["items"]) > 1:
        hang = " " * max(1, round(text_width("• ", fig) / max(text_width(" ", fig), 1e-6)))
        for reason, n, rows_only in box["items"]:
            text = wrap(_item(reason, n, rows_only), width_in - text_width(hang, fig), fig)
            lines.append(text.replace("\n", "\n" + hang))
    else:
        lines.append(wrap(box["items"][0][0], width_in, fig))
    return "\n".join(lines)


def _draw(ax: Axes, width_in: float, mains: list[str], boxes: list[dict[str, Any]]) -> float:
    """Draw the boxes and arrows in inches (y downwards); return the diagram's height."""
    fig = figure_of(ax)
    pad = 0.6 * text_height("Ag", fig)
    usable = width_in - 2 * _MARGIN
    main_w = 0.42 * usable
    side_w = usable - main_w - 2.2 * _GAP
    x_main = _MARGIN + main_w / 2
    x_side = width_in - _MARGIN - side_w
    main_texts = [wrap(t, main_w - 2 * pad, fig) for t in mains]
    side_texts = [_side_text(b, side_w - 2 * pad, fig) for b in boxes]
    main_h = [text_height(t, fig) + 2 * pad for t in main_texts]
    side_h = [text_height(t, fig) + 2 * pad for t in side_texts]
    arrow = {
        "arrowstyle": "-|>",
        "color": "black",
        "linewidth": 0.8,
        "shrinkA": 0,
        "shrinkB": 0,
        "mutation_scale": 9,
    }
    y = _MARGIN
    tops = []
    for i, text in enumerate(main_texts):
        tops.append(y)
        _box(ax, _MARGIN, y, main_w, main_h[i], text, "center", f"main-{i}", pad)
        y += main_h[i]
        if i < len(boxes):
            gap = max(side_h[i] + 2 * _GAP, 3 * _GAP)
            mid = y + gap / 2
            _box(
                ax,
                x_side,
                mid - side_h[i] / 2,
                side_w,
                side_h[i],
                side_texts[i],
                "left",
                f"side-{i}",
                pad,
            )
            ax.annotate("", xy=(x_side, mid), xytext=(x_main, mid), arrowprops=arrow)
            ax.annotate("", xy=(x_main, y + gap), xytext=(x_main, y), arrowprops=arrow)
            y += gap
    return y + _MARGIN


def _box(
    ax: Axes, x: float, y: float, w: float, h: float, text: str, align: str, gid: str, pad: float
) -> None:
    ax.add_patch(
        Rectangle(
            (x, y), w, h, facecolor="white", edgecolor="black", linewidth=0.8, gid=gid, zorder=2
        )
    )
    tx = x + w / 2 if align == "center" else x + pad
    ax.text(tx, y + h / 2, text, ha=align, va="center", multialignment=align, gid=gid, zorder=3)
