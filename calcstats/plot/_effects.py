"""Prevalence-by-group and dose–response figures (draw result tables; compute nothing)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import LogLocator, NullLocator

from calcstats._errors import CalcstatsError

__all__ = ["dose_response", "prevalence"]


def prevalence(
    result: Any,
    *,
    sort: bool = True,
    percent: bool = True,
    show_counts: bool = True,
    color: str = "black",
    xlabel: str | None = None,
    labels: dict[Any, str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Dot-and-interval plot of prevalence by group (e.g. calcification by etiology).

    Parameters
    ----------
    result : PrevalenceResult
        Output of :func:`calcstats.prevalence` with ``by=``; its ``tidy()`` gives the
        groups, ``cases``, ``n``, ``estimate`` and CI. Counts hidden by the result's
        ``suppress_below`` are shown as ``<k``.
    sort : bool, default True
        Order groups by prevalence (highest on top).
    percent : bool, default True
        Show the axis in percent.
    show_counts : bool, default True
        Write "cases/n" at the right of each row.
    color : str, default "black"
        Colour of points and intervals.
    xlabel : str, optional
        Axis label (default "Prevalence (%)" with the CI method).
    labels : dict, optional
        Display names of groups.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd, calcstats as cs
    >>> d = pd.DataFrame({"calc": [1, 0, 1, 1, 0, 0], "etiology": list("aabbcc")})
    >>> ax = cs.plot.prevalence(cs.prevalence(d, outcome="calc", by="etiology"))
    """
    if not hasattr(result, "tidy") or not getattr(result, "by", None):
        raise CalcstatsError(
            "plot.prevalence expects a cs.prevalence(...) result computed with by=; got "
            f"{type(result).__name__}."
        )
    tidy = result.tidy()
    by = list(result.by)
    need = {"n", "cases", "estimate", "conf_low", "conf_high"}
    if not need <= set(tidy.columns):
        raise CalcstatsError(
            f"the result's tidy() lacks columns {sorted(need - set(tidy.columns))}."
        )
    if "standardized" in " ".join(map(str, tidy.columns)):
        tidy = tidy.loc[:, ~tidy.columns.duplicated()]
    names = [
        ", ".join(str((labels or {}).get(v, v)) for v in row)
        for row in tidy[by].itertuples(index=False)
    ]
    frame = tidy.assign(_label=names)
    if sort:
        frame = frame.sort_values("estimate", ascending=True, kind="stable")
    if ax is None:
        _, ax = plt.subplots(figsize=(3.5, 0.6 + 0.24 * len(frame)))
    scale = 100.0 if percent else 1.0
    y = np.arange(len(frame))
    est = frame["estimate"].to_numpy(dtype=float) * scale
    lo = frame["conf_low"].to_numpy(dtype=float) * scale
    hi = frame["conf_high"].to_numpy(dtype=float) * scale
    ax.hlines(y, lo, hi, color=color, linewidth=1.0, gid="ci")
    ax.plot(est, y, "o", color=color, markersize=4, gid="estimate")
    ax.set_yticks(y, labels=frame["_label"].tolist())
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(-0.7, len(frame) - 0.3)
    ax.spines["left"].set_visible(False)
    ax.set_xlim(0, max(float(np.nanmax(hi)) * 1.05, 1e-9) if np.isfinite(hi).any() else None)
    level = getattr(result, "conf_level", 0.95)
    default = f"Prevalence{' (%)' if percent else ''} with {100 * level:g}% CI"
    ax.set_xlabel(xlabel or default)
    if show_counts:
        k = getattr(result, "suppress_below", None)
        trans = ax.get_yaxis_transform()
        for yi, (cases, n) in zip(y, frame[["cases", "n"]].itertuples(index=False), strict=True):
            c = f"<{k}" if (k and 0 < cases < k) else f"{int(cases)}"
            ax.text(
                1.02,
                yi,
                f"{c}/{int(n)}",
                transform=trans,
                va="center",
                ha="left",
                fontsize="small",
                gid="counts",
            )
        ax.text(
            1.02,
            len(frame) - 0.3,
            "cases/n",
            transform=trans,
            va="bottom",
            ha="left",
            fontsize="small",
            fontweight="bold",
        )
    return ax


def dose_response(
    effect: pd.DataFrame,
    *,
    xlabel: str | None = None,
    ylabel: str = "Hazard ratio",
    log_scale: bool = True,
    reference_line: float = 1.0,
    rug: Sequence[float] | np.ndarray | None = None,
    color: str = "black",
    ax: Axes | None = None,
) -> Axes:
    """Plot a ratio (e.g. HR) against a continuous variable with its confidence band.

    Parameters
    ----------
    effect : pandas.DataFrame
        Columns ``value, estimate, conf_low, conf_high`` — the output of
        :func:`calcstats.survival.partial_effect` (a spline or linear term relative to a
        reference value).
    xlabel : str, optional
        Axis label (default ``effect.attrs["variable"]`` when present).
    ylabel : str, default "Hazard ratio"
    log_scale : bool, default True
        Log-scaled ratio axis.
    reference_line : float, default 1.0
        Horizontal no-effect line.
    rug : array-like, optional
        Observed values drawn as a rug along the x axis (shows where data are sparse).
    color : str, default "black"
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from calcstats.plot import dose_response
    >>> v = np.linspace(30, 80, 20)
    >>> eff = pd.DataFrame({"value": v, "estimate": np.exp(0.03 * (v - 50)),
    ...                     "conf_low": np.exp(0.02 * (v - 50) - 0.1),
    ...                     "conf_high": np.exp(0.04 * (v - 50) + 0.1)})
    >>> ax = dose_response(eff, xlabel="Age (years)")
    """
    need = {"value", "estimate", "conf_low", "conf_high"}
    if not isinstance(effect, pd.DataFrame) or not need <= set(effect.columns):
        raise CalcstatsError(
            "dose_response expects a DataFrame with columns value, estimate, conf_low, "
            "conf_high (e.g. from cs.partial_effect)."
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(3.5, 2.6))
    frame = effect.sort_values("value")
    ax.fill_between(
        frame["value"],
        frame["conf_low"],
        frame["conf_high"],
        color=color,
        alpha=0.15,
        linewidth=0,
        gid="band",
    )
    ax.plot(frame["value"], frame["estimate"], color=color, linewidth=1.2, gid="estimate")
    ax.axhline(reference_line, color="0.4", linewidth=0.6, linestyle="--", zorder=0)
    ref = effect.attrs.get("reference")
    if ref is not None:
        ax.plot(
            [ref],
            [reference_line],
            "o",
            markersize=3.5,
            markerfacecolor="white",
            markeredgecolor=color,
            gid="reference",
        )
    if log_scale:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 1.5, 2.0, 3.0, 5.0, 7.0)))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_major_formatter(lambda v, _p: f"{v:g}")
    if rug is not None:
        vals = np.asarray(rug, dtype=float)
        vals = vals[np.isfinite(vals)]
        ax.plot(
            vals,
            np.zeros_like(vals),
            "|",
            color="0.3",
            markersize=5,
            alpha=0.5,
            transform=ax.get_xaxis_transform(),
            gid="rug",
        )
    ax.set_xlabel(xlabel or str(effect.attrs.get("variable", "value")))
    ax.set_ylabel(ylabel)
    return ax
