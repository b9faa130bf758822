"""Love plot: standardised mean differences before and after weighting or matching.

Reads a :class:`calcstats.causal.BalanceResult` (``cs.balance`` or
``match_result.balance``); draws only.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from calcstats._errors import CalcstatsError
from calcstats._validation import BOOLEAN, NONE, Interval, Options, validate_params
from calcstats.labels import Labels

__all__ = ["love"]


def _row_labels(tidy: Any, lab: Labels) -> list[str]:
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
    }
)
def love(
    balance: Any,
    *,
    threshold: float | None = None,
    absolute: bool = True,
    order: str = "data",
    labels: Labels | dict[str, str] | None = None,
    ax: Axes | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
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
    ax : matplotlib Axes, optional
        Draw into this Axes instead of a new figure.
    figsize : (float, float), optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd, calcstats as cs
    >>> d = pd.DataFrame({"t": [1, 1, 1, 0, 0, 0], "age": [60, 70, 80, 50, 60, 70.0],
    ...                   "w": [1, 1, 1, 0.5, 1, 2.0]})
    >>> fig = cs.plot.love(cs.balance(d, treatment="t", covariates="age", weights="w"))
    """
    if not all(hasattr(balance, a) for a in ("tidy", "weighted", "threshold", "covariates")):
        raise CalcstatsError(
            "love() expects the result of cs.balance (or match_result.balance()); got "
            f"{type(balance).__name__}."
        )
    tidy = balance.tidy()
    lab = Labels.default() | balance.labels | Labels.coerce(labels)
    before = tidy["smd_unweighted"].to_numpy(dtype=float)
    after = tidy["smd_weighted"].to_numpy(dtype=float)
    if absolute:
        before, after = np.abs(before), np.abs(after)
    idx = np.arange(len(tidy))
    if order != "data":
        if order == "weighted" and not balance.weighted:
            raise CalcstatsError("order='weighted' needs a balance result with weights.")
        key = np.abs(before if order == "unweighted" else after)
        idx = np.argsort(-np.nan_to_num(key, nan=-np.inf), kind="stable")
    names = [_row_labels(tidy, lab)[i] for i in idx]
    y = np.arange(len(idx))[::-1]
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize or (4.5, 0.9 + 0.28 * len(idx)))
    else:
        fig = ax.figure
    adjusted = getattr(balance, "adjustment", "weighting")
    before_name, after_name = (
        ("Before matching", "After matching")
        if adjusted == "matching"
        else ("Unweighted", "Weighted")
    )
    ax.scatter(
        before[idx],
        y,
        facecolors="white",
        edgecolors="black",
        s=28,
        zorder=3,
        label=before_name,
        gid="unweighted",
    )
    if balance.weighted:
        ax.scatter(after[idx], y, color="black", s=28, zorder=4, label=after_name, gid="weighted")
    thr = balance.threshold if threshold is None else float(threshold)
    for x in [thr] if absolute else [-thr, thr]:
        ax.axvline(x, color="0.4", linestyle="--", linewidth=0.8, gid="threshold")
    ax.axvline(0, color="0.7", linewidth=0.6)
    ax.set_yticks(y, labels=names)
    ax.set_ylim(-0.7, len(idx) - 0.3)
    denom = {"ATT": "treated SD", "ATC": "control SD"}.get(balance.estimand, "pooled SD")
    ax.set_xlabel(f"{'Absolute s' if absolute else 'S'}tandardised mean difference ({denom})")
    ax.legend(frameon=False, loc="lower right", fontsize="small")
    ax.grid(axis="y", color="0.92", linewidth=0.6)
    ax.set_axisbelow(True)
    fig.tight_layout()
    return fig
