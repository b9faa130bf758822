"""Couinaud segment map: a schematic liver shaded by a per-segment statistic.

The liver is drawn in the conventional frontal (radiological) view: the patient's right
lobe on the viewer's left. Segments VII/VIII (superior) and VI/V (inferior) form the right
lobe, separated from IV by the middle hepatic vein (Cantlie's line); IVa/IVb lie between
Cantlie's line and the umbilical fissure; II (superior) and III (inferior) form the left
lateral section; the caudate lobe (I) is drawn as an inset at the hilum. The shapes are a
schematic, not anatomy to scale.

The map draws a :class:`~calcstats.describe.SegmentSummary` (made by
:func:`calcstats.segment_summary`); it computes nothing itself. It draws under the
publication style; a segment's name sits just above its value, both offset in points from
the segment's label point, so they never collide whatever the printed size.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import Normalize
from matplotlib.patches import Ellipse, Polygon

from calcstats._errors import InvalidParameterError, SchemaError
from calcstats._validation import BOOLEAN, NONE, REAL, validate_params
from calcstats.describe import SegmentSummary
from calcstats.labels import Labels
from calcstats.plot._sizing import AXES, WIDTH_MM, figure_of, new_figure, settle
from calcstats.plot._style import publication

__all__ = ["SEGMENT_SHAPES", "segment_map"]

# Schematic outline vertices (x 0..10, y 0..6.2), shared between neighbouring segments.
_A = {
    0: (0.3, 4.0),
    1: (1.0, 5.2),
    2: (2.4, 5.8),
    3: (4.6, 6.05),
    4: (6.6, 5.75),
    5: (8.3, 5.0),
    6: (9.9, 3.9),
}
_B = {5: (8.4, 3.2), 4: (6.0, 2.0), 3: (4.3, 1.1), 2: (2.2, 0.6), 1: (0.9, 1.2), 0: (0.3, 2.4)}
_L, _R, _M, _FM, _F = (0.2, 3.2), (2.3, 3.2), (4.43, 3.2), (6.19, 3.2), (6.256, 3.6)

#: Polygon vertices of each segment in the schematic.
SEGMENT_SHAPES: dict[str, list[tuple[float, float]]] = {
    "VII": [_A[0], _A[1], _A[2], _R, _L],
    "VI": [_L, _R, _B[2], _B[1], _B[0]],
    "VIII": [_A[2], _A[3], _M, _R],
    "V": [_R, _M, _B[3], _B[2]],
    "IVa": [_A[3], _A[4], _F, _FM, _M],
    "IVb": [_M, _FM, _B[4], _B[3]],
    "II": [_A[4], _A[5], _A[6], _F],
    "III": [_F, _A[6], _B[5], _B[4], _FM],
}
_CAUDATE: dict[str, Any] = {"center": (5.3, 3.2), "width": 1.45, "height": 0.8}
_LABEL_AT: dict[str, tuple[float, float]] = {
    "VII": (1.25, 4.3),
    "VI": (1.25, 2.0),
    "VIII": (3.45, 4.45),
    "V": (3.3, 2.0),
    "IVa": (5.45, 4.5),
    "IVb": (5.15, 2.05),
    "IV": (5.45, 4.5),
    "II": (7.6, 4.45),
    "III": (6.95, 3.05),
    "I": _CAUDATE["center"],
}
_STAT_LABEL = {
    "count": "Calcifications (n)",
    "prevalence": "Patients with calcification (%)",
    "median_size": "Median size (mm)",
}


def _format_value(value: float, stat: str) -> str:
    if not np.isfinite(value):
        return "–"
    if stat == "prevalence":
        return f"{100 * value:.1f}%"
    if stat == "count":
        return f"{round(value)}"
    return f"{value:.1f}"


@validate_params(
    {
        "vmin": [REAL, NONE],
        "vmax": [REAL, NONE],
        "annotate": [BOOLEAN],
        "colorbar": [BOOLEAN],
        "width_mm": [WIDTH_MM],
        "ax": [AXES, NONE],
    }
)
def segment_map(
    summary: SegmentSummary,
    *,
    cmap: str = "OrRd",
    vmin: float | None = None,
    vmax: float | None = None,
    annotate: bool = True,
    colorbar: bool = True,
    title: str | None = None,
    labels: Labels | Mapping[str, str] | None = None,
    width_mm: float = 85.0,
    ax: Axes | None = None,
) -> Axes:
    """Draw a schematic Couinaud liver map shaded by a per-segment statistic.

    Parameters
    ----------
    summary : SegmentSummary
        The result of :func:`calcstats.segment_summary` (of a Cohort or a findings
        table): its ``stat`` says what shades the segments (count, prevalence or median
        size); with ``collapse_iv=True`` segment IV is drawn as one region.
    cmap : str, default "OrRd"
        A sequential matplotlib colour map (prints well in greyscale).
    vmin, vmax : float, optional
        Colour scale limits; default 0 (the floor of the smallest size for
        ``median_size``) and the largest value.
    annotate : bool, default True
        Write the segment name and its value in each segment.
    colorbar : bool, default True
        Add a colour bar labelled with the statistic.
    title : str, optional
        Axes title.
    labels : Labels or dict, optional
        The colour-bar label is the variable label of the statistic's name
        (``"count"``, ``"prevalence"``, ``"median_size"``), e.g.
        ``labels={"prevalence": "Patients (%)"}``; merged over the summary's labels.
    width_mm : float, default 85
        Width of the new figure (when ``ax`` is None) in millimetres; the height follows
        the map's shape.
    ax : matplotlib Axes, optional
        Axes to draw on (its figure gets the colour bar); default a new figure.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    SchemaError
        ``summary`` is not a SegmentSummary (e.g. a DataFrame or a Cohort: summarise it
        with :func:`calcstats.segment_summary` first).

    Examples
    --------
    >>> import pandas as pd, calcstats as cs
    >>> from calcstats.plot import segment_map
    >>> f = pd.DataFrame({"patient_id": ["a", "b", "b"], "segment": ["VII", "VIII", "II"],
    ...                   "size_mm": [3.0, 5.0, 4.0]})
    >>> ax = segment_map(cs.segment_summary(f, stat="count"))
    >>> ax.figure.axes[1].get_xlabel()
    'Calcifications (n)'
    """
    if not isinstance(summary, SegmentSummary):
        kind = type(summary).__name__
        raise SchemaError(
            f"segment_map draws a SegmentSummary, the result of cs.segment_summary(); got "
            f"{kind}. Summarise the findings first, e.g. "
            "cs.plot.segment_map(cs.segment_summary(cohort, stat='prevalence'))."
        )
    if title is not None and not isinstance(title, str):
        raise InvalidParameterError(
            f"The 'title' parameter of segment_map must be a str or None. Got {title!r}."
        )
    try:
        colormap = plt.get_cmap(cmap)
    except (ValueError, TypeError):
        raise InvalidParameterError(
            f"The 'cmap' parameter of segment_map must be a matplotlib colour map name "
            f"(e.g. 'OrRd', 'Greys'). Got {cmap!r}."
        ) from None
    with publication():
        stat = summary.stat
        lab = Labels(variables=_STAT_LABEL) | summary.labels | Labels.coerce(labels)
        values = summary.values()
        split_iv = "IVa" in values or "IVb" in values
        if ax is None:
            height_mm = width_mm * 6.2 / 10.5 + (16.0 if colorbar else 2.0) + (6.0 if title else 0)
            ax = new_figure(width_mm, height_mm / 25.4).add_subplot()
        finite = np.array([v for v in values.values() if np.isfinite(v)], dtype=float)
        if vmin is not None:
            lo = vmin
        elif stat == "median_size" and finite.size:
            lo = float(np.floor(finite.min()))
        else:
            lo = 0.0
        hi = (float(finite.max()) if finite.size else 1.0) if vmax is None else vmax
        if hi <= lo:
            hi = lo + 1.0
        norm = Normalize(vmin=lo, vmax=hi)

        def shade(seg_value: float) -> Any:
            return colormap(norm(seg_value)) if np.isfinite(seg_value) else (0.9, 0.9, 0.9, 1.0)

        def ink(seg_value: float) -> str:
            if not np.isfinite(seg_value):
                return "black"
            r, g, b, _ = colormap(norm(seg_value))
            return "white" if (0.299 * r + 0.587 * g + 0.114 * b) < 0.5 else "black"

        for name, verts in SEGMENT_SHAPES.items():
            key = name if (split_iv or name not in ("IVa", "IVb")) else "IV"
            val = values.get(key, np.nan)
            patch = Polygon(
                verts,
                closed=True,
                facecolor=shade(val),
                edgecolor="black",
                linewidth=0.8,
                joinstyle="round",
                label=name,
            )
            patch.set_gid(f"segment-{name}")
            ax.add_patch(patch)
        cau_val = values.get("I", np.nan)
        caudate = Ellipse(
            _CAUDATE["center"],
            _CAUDATE["width"],
            _CAUDATE["height"],
            facecolor=shade(cau_val),
            edgecolor="black",
            linewidth=0.8,
            linestyle="--",
            label="I",
            zorder=2.5,
        )
        caudate.set_gid("segment-I")
        ax.add_patch(caudate)
        if not split_iv:
            # hide the IVa/IVb border: segment IV is drawn as one region
            ax.plot(
                [_M[0] + 0.05, _FM[0] - 0.08],
                [_M[1], _FM[1]],
                color=shade(values.get("IV", np.nan)),
                linewidth=1.8,
                solid_capstyle="butt",
                zorder=1.1,
            )
        if annotate:
            names = [*list(SEGMENT_SHAPES), "I"]
            if not split_iv:
                names = [n for n in names if n not in ("IVa", "IVb")] + ["IV"]
            for name in names:
                val = values.get(name, np.nan)
                x, y = _LABEL_AT[name]
                if name == "I":  # the caudate inset is small: one line
                    ax.text(
                        x,
                        y,
                        f"I {_format_value(val, stat)}",
                        ha="center",
                        va="center",
                        fontsize="small",
                        fontweight="bold",
                        color=ink(val),
                        zorder=3,
                        gid="segment-label",
                    )
                    continue
                # the name just above the label point, the value just below it
                parts: list[tuple[str, float, str, dict[str, Any]]] = [
                    (name, 0.5, "bottom", {"fontweight": "bold"}),
                    (_format_value(val, stat), -0.5, "top", {"fontsize": "small"}),
                ]
                for text, dy, va, extra in parts:
                    ax.annotate(
                        text,
                        xy=(x, y),
                        xytext=(0, dy),
                        textcoords="offset points",
                        ha="center",
                        va=va,
                        color=ink(val),
                        gid="segment-label",
                        **extra,
                    )
        ax.set_xlim(-0.2, 10.3)
        ax.set_ylim(0.2, 6.4)
        ax.set_aspect("equal")
        ax.set_axis_off()
        if title:
            ax.set_title(title)
        if colorbar:
            mappable = plt.cm.ScalarMappable(norm=norm, cmap=colormap)
            cb = ax.figure.colorbar(
                mappable, ax=ax, orientation="horizontal", fraction=0.06, pad=0.02, shrink=0.6
            )
            if stat == "prevalence":
                cb.ax.xaxis.set_major_formatter(lambda v, _pos: f"{100 * v:.0f}")
            cb.set_label(lab.variable(stat))
            cb.outline.set_linewidth(0.5)
        settle(figure_of(ax))
        return ax
