"""Distribution of a covariate by group: box, violin or strip plots drawn by seaborn.

The quartiles, whiskers (1.5 × IQR, Tukey) and densities are seaborn's drawing of the
data; calcstats adds the labels (level labels, in their display order, with the number
of values drawn per group), the publication style and a layout at the printed width.
Rows without a value or a group are not drawn, and a :class:`~calcstats.DataWarning`
counts them.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import LogLocator, NullLocator

from calcstats._errors import DataError, DataWarning, user_stacklevel
from calcstats._validation import (
    BOOLEAN,
    COLUMN,
    NONE,
    TEXT,
    Options,
    require_columns,
    validate_params,
)
from calcstats.labels import Labels
from calcstats.plot._sizing import (
    AXES,
    WIDTH_MM,
    SpacedLocator,
    figure_of,
    fit_height,
    line_height,
    new_figure,
    settle,
    tick_fontsize,
)
from calcstats.plot._style import publication, text_width, wrap

__all__ = ["distribution"]

_LABEL_SHARE = 0.4  # the widest a group label may be with horizontal boxes
_ALL = "All"


def _values(data: pd.DataFrame, variable: str, by: str | None, log_scale: bool) -> pd.DataFrame:
    """The drawable rows (value and group); the others are counted in a warning."""
    values = data[variable]
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        shown = ", ".join(map(repr, pd.unique(values.dropna())[:4]))
        raise DataError(
            f"distribution(): variable={variable!r} is not numeric (values {shown}); a box, "
            "violin or strip plot shows a numeric variable. Describe a categorical one with "
            "cs.table_one or cs.prevalence."
        )
    group = data[by] if by is not None else pd.Series(_ALL, index=data.index)
    missing_value, missing_group = values.isna(), group.isna()
    dropped = int((missing_value | missing_group).sum())
    if dropped:
        parts = [f"{variable!r} missing in {int(missing_value.sum())}"]
        if by is not None:
            parts.append(f"{by!r} missing in {int(missing_group.sum())}")
        warnings.warn(
            f"distribution(): {dropped} of {len(data)} rows not drawn ({', '.join(parts)}); "
            "the n under each group counts the rows drawn.",
            DataWarning,
            stacklevel=user_stacklevel(),
        )
    frame = pd.DataFrame({"value": values, "group": group})[~(missing_value | missing_group)]
    if frame.empty:
        raise DataError(f"distribution(): no row has both {variable!r} and its group.")
    if log_scale and (frame["value"] <= 0).any():
        bad = frame.index[frame["value"] <= 0]
        raise DataError(
            f"distribution(): log_scale=True needs positive values, but {variable!r} is zero "
            f"or negative in {len(bad)} row(s) (index {', '.join(map(str, bad[:5]))}"
            f"{' ...' if len(bad) > 5 else ''}). Use log_scale=False, or filter those rows."
        )
    return frame


def _levels(group: pd.Series, by: str | None, lab: Labels) -> list[Any]:
    """The groups in display order: the level labels' order, then the data's."""
    if by is None:
        return [_ALL]
    if isinstance(group.dtype, pd.CategoricalDtype):
        present = set(group.unique())
        levels = [c for c in group.cat.categories if c in present]
    else:
        levels = sorted(pd.unique(group), key=lambda v: (str(type(v)), v))
    return lab.order(by, levels)


@validate_params(
    {
        "variable": [COLUMN],
        "by": [COLUMN, NONE],
        "kind": [Options("box", "violin", "strip")],
        "points": [BOOLEAN],
        "show_n": [BOOLEAN],
        "log_scale": [BOOLEAN],
        "orient": [Options("v", "h"), NONE],
        "color": [TEXT],
        "width_mm": [WIDTH_MM],
        "ax": [AXES, NONE],
    }
)
def distribution(
    data: pd.DataFrame,
    *,
    variable: str,
    by: str | None = None,
    kind: str = "box",
    points: bool = False,
    show_n: bool = True,
    log_scale: bool = False,
    orient: str | None = None,
    color: str = "0.8",
    labels: Labels | Mapping[str, str] | None = None,
    width_mm: float = 85.0,
    ax: Axes | None = None,
) -> Axes:
    """Box, violin or strip plot of a numeric covariate by group (seaborn draws it).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient (e.g. ``cohort.patient_table()``).
    variable : str
        The numeric column to show.
    by : str, optional
        The grouping column (default: one distribution of all rows).
    kind : {"box", "violin", "strip"}, default "box"
        Box plot (median, quartiles, whiskers to the furthest value within 1.5 × IQR,
        values beyond as points), violin (density, cut at the data's range, with its
        quartiles as dashed lines) or strip (every value, jittered).
    points : bool, default False
        Add every value as jittered points over a box or violin (sensible for small
        groups).
    show_n : bool, default True
        Write the number of values drawn under each group's name.
    log_scale : bool, default False
        Log-scaled value axis (for skewed laboratory values such as bilirubin); needs
        positive values.
    orient : {"v", "h"}, optional
        Groups along the x axis ("v", vertical boxes) or the y axis ("h", horizontal
        boxes). Default: vertical when every group name fits under its box (words are
        never split), else horizontal. Names that do not fit under vertical boxes are
        written upwards.
    color : str, default "0.8"
        Fill of the boxes and violins (light grey prints well); points are dark grey.
    labels : Labels or dict, optional
        Display labels merged over ``Labels.default()``: the variable's label and unit
        name the value axis, level labels name (and order) the groups.
    width_mm : float, default 85
        Width of the new figure (when ``ax`` is None) in millimetres.
    ax : matplotlib Axes, optional
        Draw into this axes.

    Returns
    -------
    matplotlib.axes.Axes

    Warns
    -----
    DataWarning
        Rows without a value or a group are not drawn; the warning counts them.

    Examples
    --------
    >>> import pandas as pd, calcstats as cs
    >>> d = pd.DataFrame({"age_at_index": [50, 61, 72, 45, 58, 66.0],
    ...                   "sex": ["F", "F", "F", "M", "M", "M"]})
    >>> ax = cs.plot.distribution(d, variable="age_at_index", by="sex")
    >>> [" ".join(t.get_text().split()) for t in ax.get_xticklabels()], ax.get_ylabel()
    (['Female (n = 3)', 'Male (n = 3)'], 'Age at index (years)')
    """
    require_columns(data, {"variable": variable, "by": by}, function="distribution")
    lab = Labels.default() | Labels.coerce(labels)
    frame = _values(data, variable, by, log_scale)
    levels = _levels(frame["group"], by, lab)
    counts = frame.groupby("group", sort=False, observed=True).size()
    names = [lab.level(by, v) if by is not None else _ALL for v in levels]
    if len(set(names)) < len(names):  # two codes with one label: keep them apart
        names = [f"{n} ({v})" for n, v in zip(names, levels, strict=True)]
    frame = frame.assign(name=frame["group"].map(dict(zip(levels, names, strict=True))))
    tick_text = [
        f"{n}\n(n\u00a0=\u00a0{int(counts.get(v, 0)):,})" if show_n else n
        for n, v in zip(names, levels, strict=True)
    ]
    with publication():
        own = ax is None
        horizontal = orient == "h" or (orient is None and not _fit_under(tick_text, ax, width_mm))
        value_axis = "x" if horizontal else "y"
        if ax is None:
            height_mm = 2.0 * 25.4 if horizontal else min(0.75 * width_mm, 90.0)
            ax = new_figure(width_mm, height_mm / 25.4).add_subplot()
        xy = {"x": "value", "y": "name"} if horizontal else {"x": "name", "y": "value"}
        common: dict[str, Any] = {
            "data": frame,
            **xy,
            "order": names,
            "ax": ax,
            "log_scale": True if log_scale else None,
        }
        with warnings.catch_warnings():
            # seaborn 0.13 passes matplotlib 3.11 a deprecated argument (vert=): not the
            # user's to fix
            warnings.filterwarnings("ignore", message="vert: bool was deprecated")
            _draw(kind, points, common, color, len(frame))
        axis = ax.yaxis if horizontal else ax.xaxis
        value_label = lab.variable(variable)
        group_label = lab.variable(by, unit=False) if by is not None else ""
        ax.set(**{f"{value_axis}label": value_label})
        (ax.set_ylabel if horizontal else ax.set_xlabel)(group_label)
        axis.set_ticks(range(len(names)), labels=tick_text)
        if log_scale:  # plain numbers (0.2, 1, 5), not powers of ten
            values_axis = ax.xaxis if horizontal else ax.yaxis
            candidates = LogLocator(base=10, subs=(1.0, 2.0, 5.0))
            lim = ax.get_xlim if horizontal else ax.get_ylim
            values_axis.set_major_locator(
                SpacedLocator(lambda: candidates.tick_values(*lim()), anchor=1.0)
            )
            values_axis.set_minor_locator(NullLocator())
            values_axis.set_major_formatter(lambda v, _p: f"{v:g}")
        _fit_labels(ax, axis, tick_text, horizontal, own, len(names))
    return ax


def _draw(kind: str, points: bool, common: dict[str, Any], color: str, n: int) -> None:
    """The seaborn calls: a box or violin, and the values as jittered points."""
    if kind == "box":
        sns.boxplot(
            **common,
            color=color,
            linecolor="black",
            linewidth=0.8,
            width=0.6,
            fliersize=0 if points else 2.0,
            saturation=1,
        )
    elif kind == "violin":
        sns.violinplot(
            **common,
            color=color,
            linecolor="black",
            linewidth=0.8,
            inner="quart",
            cut=0,
            density_norm="width",
            saturation=1,
        )
    if kind == "strip" or points:
        sns.stripplot(
            **common,
            color="0.15",
            size=2.5 if n < 2000 else 1.8,
            alpha=0.7 if n < 500 else 0.45,
            jitter=0.25,
        )


def _words_fit(texts: list[str], slot_in: float, fig: Any, size: float) -> bool:
    """Whether every word (a line's unbreakable piece) fits in ``slot_in`` inches."""
    return all(
        text_width(word, fig, fontsize=size) <= slot_in
        for t in texts
        for line in t.split("\n")
        for word in line.split(" ")
    )


def _fit_under(texts: list[str], ax: Axes | None, width_mm: float) -> bool:
    """Whether the group names fit under vertical boxes (the axes' or the new figure's)."""
    if ax is not None:
        fig = figure_of(ax)
        axes_in = ax.get_window_extent().width / fig.dpi
    else:
        fig = new_figure(width_mm, 1.0)
        axes_in = width_mm / 25.4 - 0.6  # less the value axis' ticks and label
    size = float(FontProperties(size=mpl.rcParams["xtick.labelsize"]).get_size_in_points())
    fits = _words_fit(texts, 0.92 * axes_in / len(texts), fig, size)
    if ax is None:
        plt.close(fig)
    return fits


def _fit_labels(ax: Axes, axis: Any, texts: list[str], horizontal: bool, own: bool, k: int) -> None:
    """Wrap the group names to their room (measured after layout) and size the figure."""
    fig = figure_of(ax)
    size = tick_fontsize(axis)
    if horizontal:
        width_in = float(fig.get_size_inches()[0])
        wrapped = [wrap(t, _LABEL_SHARE * width_in, fig, fontsize=size) for t in texts]
        axis.set_ticks(range(k), labels=wrapped)
        if own:
            lines = sum(t.count("\n") + 1 for t in wrapped) + 0.9 * k
            fit_height(fig, [ax], [max(lines * line_height(fig, size), 1.2)])
        else:
            settle(fig)
        return
    settle(fig)
    slot = 0.92 * ax.get_window_extent().width / fig.dpi / k
    if not _words_fit(texts, slot, fig, size):  # too long for their slots: written upwards
        axis.set_ticks(range(k), labels=texts, rotation=90, ha="center", va="top")
        if own:  # the figure grows by the names' height, the plot keeps its own
            fit_height(fig, [ax], [0.5 * float(fig.get_size_inches()[0])])
        else:
            settle(fig)
        return
    for _ in range(2):  # each name gets its slot of the axis
        slot = 0.92 * ax.get_window_extent().width / fig.dpi / k
        axis.set_ticks(range(k), labels=[wrap(t, slot, fig, fontsize=size) for t in texts])
        settle(fig)
