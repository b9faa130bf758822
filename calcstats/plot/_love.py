"""Love plot: standardised mean differences before and after weighting or matching.

Reads a :class:`calcstats.causal.BalanceResult` (``cs.balance`` or
``match_result.balance``), dispatched on its type; draws only. The covariate labels
wrap to at most 40% of the figure's width, the legend sits above the axes (never on the
points), and the figure's height follows the rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import singledispatch
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from calcstats._errors import CalcstatsError
from calcstats._validation import BOOLEAN, NONE, Interval, Options, validate_params
from calcstats.causal import BalanceResult, MatchResult, PropensityResult
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
from calcstats.plot._style import publication, wrap

__all__ = ["love"]

_LABEL_SHARE = 0.4


@singledispatch
def _balance(result: Any) -> BalanceResult:
    raise CalcstatsError(
        "love() draws a BalanceResult, the result of cs.balance(...) or "
        f"match_result.balance(covariates); got {type(result).__name__}."
    )


@_balance.register
def _(result: BalanceResult) -> BalanceResult:
    return result


@_balance.register
def _(result: PropensityResult) -> BalanceResult:
    raise CalcstatsError(
        "love() draws covariate balance, not propensity scores: compute it with "
        f"cs.balance(data, treatment={result.treatment!r}, covariates=[...], "
        "weights=ps.weights()) and pass that (cs.plot.overlap(ps) draws the scores)."
    )


@_balance.register
def _(result: MatchResult) -> BalanceResult:
    raise CalcstatsError(
        "love() draws covariate balance: pass match_result.balance(covariates), the "
        "balance before and after matching."
    )


@_balance.register
def _(result: pd.DataFrame) -> BalanceResult:
    raise CalcstatsError(
        "love() draws a BalanceResult, not a DataFrame (a table does not say its estimand "
        "or threshold): pass cs.balance(...) or match_result.balance(covariates)."
    )


def _row_labels(tidy: pd.DataFrame, lab: Labels) -> list[str]:
    out = []
    for var, level in zip(tidy["variable"], tidy["level"], strict=True):
        name = lab.variable(var, unit=level is None)
        out.append(name if level is None else f"{name}: {lab.level(var, level)}")
    return out


@validate_params(
    {
        "threshold": [NONE, Interval(0, None, closed="neither")],
        "absolute": [BOOLEAN],
        "order": [Options("data", "unweighted", "weighted")],
        "width_mm": [WIDTH_MM],
        "ax": [AXES, NONE],
    }
)
def love(
    balance: BalanceResult,
    *,
    threshold: float | None = None,
    absolute: bool = True,
    order: str = "data",
    labels: Labels | Mapping[str, str] | None = None,
    width_mm: float = 85.0,
    ax: Axes | None = None,
) -> Figure | Axes:
    """Love plot of a balance result: one row per covariate (or level), SMD on the x axis.

    Open circles show the SMD before adjustment, filled circles after weighting or
    matching (when the balance result has weights); dashed lines mark ± ``threshold``.

    Parameters
    ----------
    balance : BalanceResult
        From :func:`calcstats.balance` or ``MatchResult.balance``.
    threshold : float, optional
        Where to draw the balance threshold (default: the result's, 0.1).
    absolute : bool
        Plot |SMD| (cobalt's default in love plots) rather than the signed SMD.
    order : {"data", "unweighted", "weighted"}
        Row order: as in the balance table, or by decreasing |SMD| before / after.
    labels : Labels or dict, optional
        Display labels (merged over the result's and the schema defaults).
    width_mm : float, default 85
        Width of the new figure (when ``ax`` is None) in millimetres; the height follows
        the rows.
    ax : matplotlib Axes, optional
        Draw into this axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.axes.Axes
        The axes when ``ax`` is given, else a new figure.

    Examples
    --------
    >>> import pandas as pd, calcstats as cs
    >>> d = pd.DataFrame({"t": [1, 1, 1, 0, 0, 0], "age": [60, 70, 80, 50, 60, 70.0],
    ...                   "w": [1, 1, 1, 0.5, 1, 2.0]})
    >>> fig = cs.plot.love(cs.balance(d, treatment="t", covariates="age", weights="w"))
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['Age']
    """
    bal = _balance(balance)
    tidy = bal.tidy()
    lab = Labels.default() | bal.labels | Labels.coerce(labels)
    before = tidy["smd_unweighted"].to_numpy(dtype=float)
    after = tidy["smd_weighted"].to_numpy(dtype=float)
    if absolute:
        before, after = np.abs(before), np.abs(after)
    idx = np.arange(len(tidy))
    if order != "data":
        if order == "weighted" and not bal.weighted:
            raise CalcstatsError("order='weighted' needs a balance result with weights.")
        key = np.abs(before if order == "unweighted" else after)
        idx = np.argsort(-np.nan_to_num(key, nan=-np.inf), kind="stable")
    with publication():
        own = ax is None
        if ax is None:
            fig = new_figure(width_mm, 2.0)
            ax = fig.add_subplot()
        else:
            fig = figure_of(ax)
        width_in = float(fig.get_size_inches()[0])
        size = tick_fontsize(ax.yaxis)
        names = [
            wrap(_row_labels(tidy, lab)[i], _LABEL_SHARE * width_in, fig, fontsize=size)
            for i in idx
        ]
        heights = np.array([s.count("\n") + 1 for s in names], dtype=float) + 0.7
        y = np.cumsum(heights) - heights / 2  # first row on top
        before_name, after_name = (
            ("Before matching", "After matching")
            if bal.adjustment == "matching"
            else ("Unweighted", "Weighted")
        )
        ax.scatter(
            before[idx],
            y,
            facecolors="white",
            edgecolors="black",
            s=22,
            zorder=3,
            label=before_name,
            gid="unweighted",
        )
        if bal.weighted:
            ax.scatter(
                after[idx], y, color="black", s=22, zorder=4, label=after_name, gid="weighted"
            )
        thr = bal.threshold if threshold is None else float(threshold)
        for x in [thr] if absolute else [-thr, thr]:
            ax.axvline(x, color="0.4", linestyle="--", linewidth=0.8, gid="threshold")
        ax.axvline(0, color="0.7", linewidth=0.6)
        ax.set_yticks(y, labels=names)
        ax.tick_params(axis="y", length=0)
        ax.set_ylim(float(np.sum(heights)), 0.0)
        ax.xaxis.set_major_locator(
            SpacedLocator(
                lambda: MaxNLocator(5, steps=[1, 2, 2.5, 5, 10]).tick_values(*ax.get_xlim()),
                anchor=0.0,
            )
        )
        ax.xaxis.set_major_formatter(lambda v, _p: f"{v:g}")
        denom = {"ATT": "treated SD", "ATC": "control SD"}.get(bal.estimand, "pooled SD")
        xlabel = f"{'Absolute s' if absolute else 'S'}tandardised mean difference ({denom})"
        ax.set_xlabel(xlabel)
        ax.legend(
            loc="lower left",
            bbox_to_anchor=(0, 1),
            ncols=2,
            borderaxespad=0.2,
            handletextpad=0.3,
            columnspacing=1.2,
        )
        ax.grid(axis="y", color="0.92", linewidth=0.6)
        ax.set_axisbelow(True)
        wanted = [float(np.sum(heights)) * line_height(fig, size)]
        for _ in range(2):  # lay out, then wrap the axis title to the axes' width
            if own:
                fit_height(fig, [ax], wanted)
            else:
                settle(fig)
            ax.set_xlabel(wrap(xlabel, ax.get_window_extent().width / fig.dpi, fig))
    return fig if own else ax
