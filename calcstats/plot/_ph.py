"""Proportional-hazards diagnostics: scaled Schoenfeld residuals against time.

Reads a :class:`calcstats.survival.PHCheck` (``cox(...).check_ph()``): its residuals, the
spline smooth with its band (``PHCheck.smooth``) and the cox.zph test table. Draws only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from calcstats._errors import CalcstatsError
from calcstats._format import format_p

__all__ = ["ph_diagnostics"]


def ph_diagnostics(
    result: Any,
    *,
    terms: Sequence[str] | None = None,
    df: int = 4,
    ncols: int | None = None,
    time_label: str = "Time (years)",
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Plot scaled Schoenfeld residuals of a Cox model against time, one panel per term.

    Each panel shows the residuals (an estimate of β(t)), a natural-spline smooth with its
    ±2 SE band (as R's ``plot(cox.zph(fit))``), the fitted coefficient as a dotted line,
    and the term's cox.zph p-value. A flat smooth around the dotted line supports
    proportional hazards. The x axis is the transformed time of the check (``"km"`` by
    default) labelled in original time units.

    Parameters
    ----------
    result : CoxResult or PHCheck
        A fitted :func:`calcstats.cox` (its ``check_ph()`` is used) or the check itself.
    terms : sequence of str, optional
        Terms to draw (default all).
    df : int, default 4
        Degrees of freedom of the smooth.
    ncols : int, optional
        Panels per row (default up to 3).
    time_label : str, default "Time (years)"
        x-axis label.
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
    >>> fig = cs.plot.ph_diagnostics(fit)
    """
    check = result.check_ph() if hasattr(result, "check_ph") else result
    for attr in ("residuals", "table", "smooth", "columns"):
        if not hasattr(check, attr):
            raise CalcstatsError(
                "ph_diagnostics expects a cs.cox result or its check_ph(); got "
                f"{type(result).__name__}."
            )
    all_terms = list(check.columns)
    chosen = list(terms) if terms is not None else all_terms
    unknown = [t for t in chosen if t not in all_terms]
    if unknown:
        raise CalcstatsError(f"terms {unknown} are not in the model; its terms are {all_terms}.")
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
    table = check.table.set_index("term")
    coefs = getattr(result, "params", None)
    for k, term in enumerate(chosen):
        ax = axes[k // ncols][k % ncols]
        y = res[check.columns[term]].to_numpy(dtype=float)
        ax.scatter(res["x"], y, s=4, color="0.55", linewidths=0, gid="residuals")
        sm = check.smooth(term, df=df)
        ax.plot(sm["x"], sm["fit"], color="black", linewidth=1.1, gid="smooth")
        ax.plot(sm["x"], sm["conf_low"], color="black", linewidth=0.7, linestyle="--", gid="band")
        ax.plot(sm["x"], sm["conf_high"], color="black", linewidth=0.7, linestyle="--", gid="band")
        if coefs is not None and term in coefs.index:
            ax.axhline(
                float(coefs[term]), color="#D55E00", linewidth=0.8, linestyle=":", gid="coef"
            )
        p = float(table.loc[term, "p_value"]) if term in table.index else float("nan")
        ptxt = format_p(p)
        ax.set_title(
            f"{term}\np {ptxt[0]} {ptxt[1:]}"
            if ptxt.startswith(("<", ">"))
            else f"{term}\np = {ptxt}",
            fontsize="medium",
        )
        ax.set_ylabel(f"β(t) for {term}" if len(term) < 14 else "β(t)")
        # label transformed time in original units
        qs = np.quantile(t_all, [0.0, 0.25, 0.5, 0.75, 1.0])
        pos = np.interp(qs, t_all, x_all)
        ax.set_xticks(pos, labels=[f"{q:.1f}" for q in qs])
        ax.set_xlabel(time_label)
    for k in range(n, nrows * ncols):
        axes[k // ncols][k % ncols].set_visible(False)
    fig.tight_layout()
    return fig
