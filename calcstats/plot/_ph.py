"""Proportional-hazards diagnostics: scaled Schoenfeld residuals against time.

Reads a :class:`~calcstats.PHTestResult` (``cox(...).check_ph()``): its residuals, the
spline smooth with its band (``PHTestResult.smooth``), the coefficients and the per-term
tests. Draws only; a fitted model is refused (the check is computed by ``check_ph()``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import singledispatch
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from calcstats._errors import CalcstatsError, InvalidParameterError
from calcstats._format import format_p
from calcstats._validation import COLUMNS, NONE, Interval, validate_params
from calcstats.labels import Labels
from calcstats.results import ModelResult, PHTestResult

__all__ = ["ph_diagnostics"]


@singledispatch
def _check(result: Any) -> PHTestResult:
    raise CalcstatsError(
        "ph_diagnostics draws the proportional-hazards check of a Cox model, a "
        f"PHTestResult (fit.check_ph()); got {type(result).__name__}."
    )


@_check.register
def _(result: PHTestResult) -> PHTestResult:
    return result


@_check.register
def _(result: ModelResult) -> PHTestResult:
    raise CalcstatsError(
        "ph_diagnostics draws a proportional-hazards check, not a model: run the check "
        "and pass it, cs.plot.ph_diagnostics(fit.check_ph()) (check_ph(transform=...) "
        f"chooses the time scale). Got a {type(result).__name__}."
    )


@validate_params(
    {
        "terms": [COLUMNS, NONE],
        "df": [Interval(2, None, integer=True)],
        "ncols": [Interval(1, None, integer=True), NONE],
    }
)
def ph_diagnostics(
    result: PHTestResult,
    *,
    terms: Sequence[str] | None = None,
    df: int = 4,
    ncols: int | None = None,
    labels: Labels | dict[str, str] | None = None,
    xlabel: str | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Plot scaled Schoenfeld residuals of a Cox model against time, one panel per term.

    Each panel shows the residuals (an estimate of β(t)), a natural-spline smooth with its
    ±2 SE band (as R's ``plot(cox.zph(fit))``), the fitted coefficient as a dotted line
    (single-column terms), and the term's cox.zph p-value. A flat smooth around the dotted
    line supports proportional hazards. The x axis is the transformed time of the check
    (``"km"`` by default) labelled in original time units.

    Parameters
    ----------
    result : PHTestResult
        The check of a fitted :func:`calcstats.cox`: ``fit.check_ph()``.
    terms : sequence of str, optional
        Terms to draw (default all).
    df : int, default 4
        Degrees of freedom of the smooth.
    ncols : int, optional
        Panels per row (default up to 3).
    labels : Labels or dict, optional
        Display labels, merged as ``Labels.default() | result.labels | labels``: panel
        titles are the terms' labels, the x axis ``labels.time(result.time_column)``.
    xlabel : str, optional
        x-axis label (overrides the time label).
    figsize : (float, float), optional
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, calcstats as cs
    >>> pbc = cs.datasets.load_pbc().dropna(subset=["trt"])
    >>> pbc = pbc.assign(years=pbc["time"] / 365.25, died=(pbc["status"] == 2).astype(int))
    >>> fit = cs.cox(pbc, "age + edema + np.log(bili)", time="years", event="died")
    >>> fig = cs.plot.ph_diagnostics(fit.check_ph(), labels={"bili": "Bilirubin"})
    >>> [ax.get_title().split("\\n")[0] for ax in fig.axes if ax.get_visible()]
    ['Age', 'Edema', 'Bilirubin (log)']
    """
    check = _check(result)
    lab = Labels.default() | check.labels | Labels.coerce(labels)
    all_terms = check.terms
    chosen = [terms] if isinstance(terms, str) else list(terms or all_terms)
    unknown = [t for t in chosen if t not in all_terms]
    if unknown:
        raise InvalidParameterError(
            f"The 'terms' parameter of ph_diagnostics must name terms of the model "
            f"({', '.join(map(repr, all_terms))}). Got {unknown}."
        )
    n = len(chosen)
    ncols = ncols or min(3, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=figsize or (2.4 * ncols, 2.1 * nrows), squeeze=False
    )
    res = check.residuals
    order = np.argsort(res["x"].to_numpy(dtype=float))
    x_all = res["x"].to_numpy(dtype=float)[order]
    t_all = res["time"].to_numpy(dtype=float)[order]
    tests = check.tidy(details=True).set_index("term")
    time_label = xlabel or lab.time(check.time_column)
    for k, term in enumerate(chosen):
        ax = axes[k // ncols][k % ncols]
        y = res[check.columns[term]].to_numpy(dtype=float)
        ax.scatter(res["x"], y, s=4, color="0.55", linewidths=0, gid="residuals")
        sm = check.smooth(term, df=df)
        ax.plot(sm["x"], sm["fit"], color="black", linewidth=1.1, gid="smooth")
        ax.plot(sm["x"], sm["conf_low"], color="black", linewidth=0.7, linestyle="--", gid="band")
        ax.plot(sm["x"], sm["conf_high"], color="black", linewidth=0.7, linestyle="--", gid="band")
        coef = float(check.coefficients[term])
        if np.isfinite(coef):
            ax.axhline(coef, color="#D55E00", linewidth=0.8, linestyle=":", gid="coef")
        ptxt = format_p(float(tests.loc[term, "p_value"]))
        name = lab.term(term)[0]
        ax.set_title(
            f"{name}\np {ptxt[0]} {ptxt[1:]}"
            if ptxt.startswith(("<", ">"))
            else f"{name}\np = {ptxt}",
            fontsize="medium",
        )
        ax.set_ylabel("β(t)")
        # label transformed time in original units
        qs = np.quantile(t_all, [0.0, 0.25, 0.5, 0.75, 1.0])
        pos = np.interp(qs, t_all, x_all)
        ax.set_xticks(pos, labels=[f"{q:.1f}" for q in qs])
        ax.set_xlabel(time_label)
    for k in range(n, nrows * ncols):
        axes[k // ncols][k % ncols].set_visible(False)
    fig.tight_layout()
    return fig
