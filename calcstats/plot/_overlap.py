"""Propensity-score overlap: the score distributions of treated and controls, mirrored.

Reads a :class:`calcstats.causal.PropensityResult` (``cs.propensity``), dispatched on
its type; draws only (the histogram counts are the drawing of the scores it holds).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import singledispatch
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from calcstats._errors import CalcstatsError
from calcstats._validation import BOOLEAN, NONE, Interval, validate_params
from calcstats.causal import PropensityResult
from calcstats.labels import Labels
from calcstats.plot._sizing import AXES, WIDTH_MM, SpacedLocator, figure_of, new_figure, settle
from calcstats.plot._style import publication, wrap
from calcstats.plot._theme import OKABE_ITO

__all__ = ["overlap"]


@singledispatch
def _scores(result: Any) -> PropensityResult:
    raise CalcstatsError(
        "overlap() draws a PropensityResult, the result of cs.propensity(data, "
        f"'treatment ~ covariates'); got {type(result).__name__}."
    )


@_scores.register
def _(result: PropensityResult) -> PropensityResult:
    return result


def _group_names(ps: PropensityResult, lab: Labels) -> tuple[str, str]:
    known = lab.levels.get(ps.treatment, {})
    treated = next((v for k, v in known.items() if k in (1, True, "1")), "Treated")
    control = next((v for k, v in known.items() if k in (0, False, "0")), "Control")
    return str(treated), str(control)


@validate_params(
    {
        "bins": [Interval(2, None, integer=True)],
        "weighted": [BOOLEAN],
        "support": [BOOLEAN],
        "width_mm": [WIDTH_MM],
        "ax": [AXES, NONE],
    }
)
def overlap(
    ps: PropensityResult,
    *,
    bins: int = 30,
    weighted: bool = False,
    support: bool = True,
    labels: Labels | Mapping[str, str] | None = None,
    width_mm: float = 85.0,
    ax: Axes | None = None,
) -> Figure | Axes:
    """Mirrored histograms of the propensity score: treated above the axis, controls below.

    Where one group has scores and the other has none, positivity fails there; the
    dashed lines mark the common support (``ps.positivity.support``).

    Parameters
    ----------
    ps : PropensityResult
        From :func:`calcstats.propensity`.
    bins : int
        Number of bins over [0, 1].
    weighted : bool
        Weight each unit by its weight for the result's estimand (``ps.weights()``): the
        two distributions should then look alike.
    support : bool
        Draw the common-support bounds.
    labels : Labels or dict, optional
        Display labels; level labels of the treatment column (values 1 and 0) name the
        groups (default "Treated" / "Control").
    width_mm : float, default 85
        Width of the new figure (when ``ax`` is None) in millimetres (height 3/4 of it,
        at most 95 mm).
    ax : matplotlib Axes, optional
        Draw into this axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure or matplotlib.axes.Axes
        The axes when ``ax`` is given, else a new figure.

    Examples
    --------
    >>> import calcstats as cs
    >>> pbc = cs.datasets.load_pbc().dropna(subset=["trt"])
    >>> fig = cs.plot.overlap(cs.propensity(pbc, "hepato ~ age + sex + albumin"))
    >>> fig.axes[0].get_xlabel()
    'Propensity score (Hepato)'
    """
    res = _scores(ps)
    lab = Labels.default() | res.labels | Labels.coerce(labels)
    e = res.scores.to_numpy(dtype=float)
    t = res.treated.to_numpy(dtype=float)
    w = res.weights().to_numpy(dtype=float) if weighted else np.ones(len(e))
    ok = ~np.isnan(e)
    edges = np.linspace(0.0, 1.0, int(bins) + 1)
    h1, _ = np.histogram(e[ok & (t == 1)], bins=edges, weights=w[ok & (t == 1)])
    h0, _ = np.histogram(e[ok & (t == 0)], bins=edges, weights=w[ok & (t == 0)])
    with publication():
        own = ax is None
        if ax is None:
            ax = new_figure(width_mm, min(0.75 * width_mm, 95.0) / 25.4).add_subplot()
        fig = figure_of(ax)
        n1, n0 = _group_names(res, lab)
        width = np.diff(edges)
        for heights, color, name, gid in (
            (h1, OKABE_ITO[4], n1, "treated"),
            (-h0, OKABE_ITO[1], n0, "control"),
        ):
            ax.bar(
                edges[:-1],
                heights,
                width=width,
                align="edge",
                color=color,
                alpha=0.85,
                edgecolor="white",
                linewidth=0.4,
                label=name,
                gid=gid,
            )
        ax.axhline(0, color="black", linewidth=0.6)
        if support:
            for x in res.positivity.support:
                ax.axvline(x, color="0.3", linestyle="--", linewidth=0.8, gid="support")
        top = max(h1.max(initial=0), h0.max(initial=0)) * 1.08 or 1.0
        ax.set_ylim(-top, top)
        ax.yaxis.set_major_locator(
            SpacedLocator(
                lambda: MaxNLocator(7, symmetric=True, steps=[1, 2, 2.5, 5, 10]).tick_values(
                    -top, top
                ),
                anchor=0.0,
            )
        )
        ax.yaxis.set_major_formatter(lambda v, _p: f"{abs(v):g}")
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_locator(SpacedLocator(lambda: np.linspace(0, 1, 11), anchor=0.0))
        ax.set_xlabel(f"Propensity score ({lab.variable(res.treatment, unit=False)})")
        height_in = ax.get_position().height * fig.get_size_inches()[1]
        ax.set_ylabel(
            wrap(f"{'Weighted number' if weighted else 'Number'} of patients", height_in, fig)
        )
        ax.legend(
            loc="lower left",
            bbox_to_anchor=(0, 1),
            ncols=2,
            borderaxespad=0.2,
            handletextpad=0.4,
            columnspacing=1.2,
        )
        settle(fig)
    return fig if own else ax
