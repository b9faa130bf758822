"""Couinaud segment map: a schematic liver shaded by a per-segment statistic.

The liver is drawn in the conventional frontal (radiological) view: the patient's right
lobe on the viewer's left. Segments VII/VIII (superior) and VI/V (inferior) form the right
lobe, separated from IV by the middle hepatic vein (Cantlie's line); IVa/IVb lie between
Cantlie's line and the umbilical fissure; II (superior) and III (inferior) form the left
lateral section; the caudate lobe (I) is drawn as an inset at the hilum. The shapes are a
schematic, not anatomy to scale.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import Normalize
from matplotlib.patches import Ellipse, Polygon

from calcstats.describe._segments import segment_summary

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
_CAUDATE = {"center": (5.3, 3.2), "width": 1.2, "height": 0.75}
_LABEL_AT = {
    "VII": (1.25, 4.3),
    "VI": (1.25, 2.0),
    "VIII": (3.45, 4.6),
    "V": (3.3, 2.0),
    "IVa": (5.45, 4.65),
    "IVb": (5.15, 2.2),
    "IV": (5.45, 4.65),
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


def segment_map(
    data: Any,
    *,
    stat: str = "count",
    n_patients: int | None = None,
    collapse_iv: bool = True,
    cmap: str = "OrRd",
    vmin: float | None = None,
    vmax: float | None = None,
    annotate: bool = True,
    colorbar: bool = True,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Draw a schematic Couinaud liver map shaded by a per-segment statistic.

    Parameters
    ----------
    data : Cohort, findings DataFrame, or the output of ``segment_summary``
        The statistic is taken from :func:`calcstats.describe.segment_summary` (a table
        with ``segment`` and ``value`` columns is drawn as given).
    stat : {"count", "prevalence", "median_size"}, default "count"
        What shades each segment (ignored when a summary table is passed).
    n_patients : int, optional
        Denominator for prevalence when ``data`` is a findings table.
    collapse_iv : bool, default True
        Draw segment IV as one region (IVa and IVb pooled).
    cmap : str, default "OrRd"
        A sequential matplotlib colour map (prints well in greyscale).
    vmin, vmax : float, optional
        Colour scale limits; default 0 and the largest value.
    annotate : bool, default True
        Write the segment name and its value in each segment.
    colorbar : bool, default True
        Add a colour bar labelled with the statistic.
    title : str, optional
        Axes title.
    ax : matplotlib Axes, optional
        Axes to draw on; default the current axes.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from calcstats.plot import segment_map
    >>> f = pd.DataFrame({"patient_id": ["a", "b", "b"], "segment": ["VII", "VIII", "II"],
    ...                   "size_mm": [3.0, 5.0, 4.0]})
    >>> ax = segment_map(f, stat="count")
    """
    if isinstance(data, pd.DataFrame) and {"segment", "value"} <= set(data.columns):
        summary = data
        stat = summary.attrs.get("stat", stat)
    else:
        summary = segment_summary(data, stat=stat, n_patients=n_patients, collapse_iv=collapse_iv)
    values = dict(zip(summary["segment"], summary["value"].astype(float), strict=True))
    split_iv = "IVa" in values or "IVb" in values
    if ax is None:
        ax = plt.gca()
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
    colormap = plt.get_cmap(cmap)

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
            [_M[0], _FM[0]],
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
                )
                continue
            ax.text(x, y + 0.17, name, ha="center", va="center", fontweight="bold", color=ink(val))
            ax.text(
                x,
                y - 0.22,
                _format_value(val, stat),
                ha="center",
                va="center",
                color=ink(val),
                fontsize="small",
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
        cb.set_label(_STAT_LABEL.get(stat, stat))
        cb.outline.set_linewidth(0.5)
    return ax
