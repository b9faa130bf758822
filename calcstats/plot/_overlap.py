"""Propensity-score overlap: the score distributions of treated and controls, mirrored.

Reads a :class:`calcstats.causal.PropensityResult` (``cs.propensity``); draws only.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from calcstats._errors import CalcstatsError
from calcstats._validation import BOOLEAN, Interval, validate_params
from calcstats.labels import Labels
from calcstats.plot._theme import OKABE_ITO

__all__ = ["overlap"]


def _group_names(ps: Any, lab: Labels) -> tuple[str, str]:
    known = lab.levels.get(ps.treatment, {})
    treated = next((v for k, v in known.items() if k in (1, True, "1")), "Treated")
    control = next((v for k, v in known.items() if k in (0, False, "0")), "Control")
    return str(treated), str(control)


@validate_params(
    {"bins": [Interval(2, None, integer=True)], "weighted": [BOOLEAN], "support": [BOOLEAN]}
)
def overlap(
    ps: Any,
    *,
    bins: int = 30,
    weighted: bool = False,
    support: bool = True,
    labels: Labels | dict[str, str] | None = None,
    ax: Axes | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
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
    ax : matplotlib Axes, optional
    figsize : (float, float), optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import calcstats as cs
    >>> pbc = cs.datasets.load_pbc().dropna(subset=["trt"])
    >>> fig = cs.plot.overlap(cs.propensity(pbc, "hepato ~ age + sex + albumin"))
    """
    if not all(hasattr(ps, a) for a in ("scores", "treated", "positivity", "weights")):
        raise CalcstatsError(
            f"overlap() expects the result of cs.propensity; got {type(ps).__name__}."
        )
    lab = Labels.default() | ps.labels | Labels.coerce(labels)
    e = ps.scores.to_numpy(dtype=float)
    t = ps.treated.to_numpy(dtype=float)
    w = ps.weights().to_numpy(dtype=float) if weighted else np.ones(len(e))
    ok = ~np.isnan(e)
    edges = np.linspace(0.0, 1.0, int(bins) + 1)
    h1, _ = np.histogram(e[ok & (t == 1)], bins=edges, weights=w[ok & (t == 1)])
    h0, _ = np.histogram(e[ok & (t == 0)], bins=edges, weights=w[ok & (t == 0)])
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize or (4.5, 3.2))
    else:
        fig = ax.figure
    n1, n0 = _group_names(ps, lab)
    width = np.diff(edges)
    ax.bar(
        edges[:-1],
        h1,
        width=width,
        align="edge",
        color=OKABE_ITO[4],
        alpha=0.85,
        edgecolor="white",
        linewidth=0.4,
        label=n1,
        gid="treated",
    )
    ax.bar(
        edges[:-1],
        -h0,
        width=width,
        align="edge",
        color=OKABE_ITO[1],
        alpha=0.85,
        edgecolor="white",
        linewidth=0.4,
        label=n0,
        gid="control",
    )
    ax.axhline(0, color="black", linewidth=0.6)
    if support:
        for x in ps.positivity.support:
            ax.axvline(x, color="0.3", linestyle="--", linewidth=0.8, gid="support")
    top = max(h1.max(initial=0), h0.max(initial=0)) * 1.08 or 1.0
    ax.set_ylim(-top, top)
    ticks = ax.get_yticks()
    ax.set_yticks(ticks, labels=[f"{abs(v):g}" for v in ticks])
    ax.set_ylim(-top, top)
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"Propensity score ({lab.variable(ps.treatment, unit=False)})")
    ax.set_ylabel(f"{'Weighted number' if weighted else 'Number'} of patients")
    ax.legend(frameon=False, fontsize="small", loc="upper right")
    fig.tight_layout()
    return fig
