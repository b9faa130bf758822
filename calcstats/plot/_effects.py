"""Prevalence-by-group and dose–response figures (draw results; compute nothing)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import singledispatch
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import LogLocator, NullLocator

from calcstats._errors import CalcstatsError
from calcstats._validation import BOOLEAN, REAL, validate_params
from calcstats.labels import Labels
from calcstats.survival import PartialEffectResult

__all__ = ["dose_response", "prevalence"]


@validate_params({"sort": [BOOLEAN], "percent": [BOOLEAN], "show_counts": [BOOLEAN]})
def prevalence(
    result: Any,
    *,
    sort: bool = True,
    percent: bool = True,
    show_counts: bool = True,
    color: str = "black",
    xlabel: str | None = None,
    labels: Labels | dict[str, str] | None = None,
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
    labels : Labels or dict, optional
        Display labels, merged as ``Labels.default() | result.labels | labels``: groups
        show their level labels (``cs.Labels(levels={"etiology": {...}})``).
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
    lab = Labels.default() | getattr(result, "labels", Labels()) | Labels.coerce(labels)
    names = [
        ", ".join(lab.level(c, v) for c, v in zip(by, row, strict=True))
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


_RATIO_NAMES = {"HR": "Hazard ratio", "sHR": "Subdistribution hazard ratio"}


@singledispatch
def _effect(result: Any) -> PartialEffectResult:
    raise CalcstatsError(
        "dose_response draws a PartialEffectResult (cs.partial_effect(fit, variable)); got "
        f"{type(result).__name__}."
    )


@_effect.register
def _(result: PartialEffectResult) -> PartialEffectResult:
    return result


@_effect.register
def _(result: pd.DataFrame) -> PartialEffectResult:
    raise CalcstatsError(
        "dose_response draws a PartialEffectResult, not a DataFrame (a table does not say "
        "which variable, reference or ratio it holds): pass cs.partial_effect(fit, "
        "variable, ...)."
    )


@validate_params({"log_scale": [BOOLEAN], "reference_line": [REAL]})
def dose_response(
    result: PartialEffectResult,
    *,
    labels: Labels | dict[str, str] | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    log_scale: bool = True,
    reference_line: float = 1.0,
    rug: Sequence[float] | np.ndarray | None = None,
    color: str = "black",
    ax: Axes | None = None,
) -> Axes:
    """Plot a ratio (e.g. HR) against a continuous variable with its confidence band.

    Parameters
    ----------
    result : PartialEffectResult
        Output of :func:`calcstats.partial_effect` (a spline or linear term relative to a
        reference value); its ``tidy()`` gives ``value, estimate, conf_low, conf_high``.
    labels : Labels or dict, optional
        Display labels, merged as ``Labels.default() | result.labels | labels``; the x
        axis reads ``labels.variable(result.variable)``.
    xlabel, ylabel : str, optional
        Axis labels (defaults: the variable's label; "Hazard ratio" or "Subdistribution
        hazard ratio" from the result's ``measure``).
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
    >>> import calcstats as cs
    >>> pbc = cs.datasets.load_pbc()
    >>> fit = cs.cox(pbc, "cr(age, df=3) + np.log(bili)", time="time", event="status",
    ...              cause=2)
    >>> effect = cs.partial_effect(fit, "age", reference=50)
    >>> ax = cs.plot.dose_response(effect, rug=pbc["age"])
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('Age', 'Hazard ratio')
    """
    effect = _effect(result)
    lab = Labels.default() | effect.labels | Labels.coerce(labels)
    if ax is None:
        _, ax = plt.subplots(figsize=(3.5, 2.6))
    frame = effect.tidy().sort_values("value")
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
    ref = effect.reference
    if isinstance(ref, int | float | np.number) and np.isfinite(ref):
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
    ax.set_xlabel(xlabel or lab.variable(effect.variable))
    ax.set_ylabel(ylabel or _RATIO_NAMES.get(effect.measure, effect.measure))
    return ax
