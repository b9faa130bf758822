"""What :func:`regression_table` needs from a fitted model, for every supported result.

Supported: calcstats regression results (logistic, poisson, ..., linear), survival
``CoxResult`` of :func:`~calcstats.cox` (cause-specific or all-cause) and
``FineGrayResult`` of :func:`~calcstats.fine_gray`, and :class:`PooledResult` of any of them.

A :class:`TableView` gives one interface over them: the patsy ``design_info`` (row
layout), the design matrix as a DataFrame named by coefficient, the event indicator per
analysed row (Cox: the event, or the cause of interest; Fine–Gray: the ``cause`` events,
not the competing ones), the analysis unit per row (patient id for counting-process Cox
fits with ``cluster=``, else the row), the per-term global tests and a short model
description for the footnotes.

Cox and Fine–Gray results have no ``term_tests``; the global test of a multi-column term
is the Wald chi-square ``b' V^-1 b`` on the term's coefficients with the reported
covariance (robust when the fit used it: ``cluster=`` for Cox, always for Fine–Gray, as
``crr``), ``df`` = number of columns. Likelihood-ratio global tests would need refits and
are offered for regression models only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import patsy.contrasts

from calcstats._design import clean_name as _clean_name
from calcstats._errors import CalcstatsError, SchemaError
from calcstats.regression._pool import PooledResult
from calcstats.regression._results import RegressionResult

__all__ = ["TableView", "table_view"]


def _survival_types() -> tuple[type, ...]:
    from calcstats.survival._cox import CoxResult
    from calcstats.survival._finegray import FineGrayResult

    return CoxResult, FineGrayResult


class TableView:
    """Uniform access to one fitted model for the regression tables.

    Attributes
    ----------
    result : ModelResult
        The result as passed (estimates, ``tidy()``, ``nobs``, ``n_events``, ``method``).
    fit : RegressionResult, CoxResult or FineGrayResult
        The fitted model giving the layout (for pooled results: the first fit).
    kind : {"regression", "cox", "fine_gray"}
    """

    def __init__(self, result: Any, position: int = 1,
                 caller: str = "regression_table()") -> None:
        fit = result.model[0] if isinstance(result, PooledResult) else result
        cox_t, fg_t = _survival_types()
        if isinstance(fit, RegressionResult):
            kind = "regression"
        elif isinstance(fit, cox_t):
            kind = "cox"
        elif isinstance(fit, fg_t):
            kind = "fine_gray"
        else:
            raise SchemaError(
                f"{caller}: argument {position} is a {type(result).__name__}, not a "
                "calcstats result it supports: give regression results (logistic, poisson, "
                "linear, ...), survival results of cox() or fine_gray(), or pool() of those."
            )
        self.result = result
        self.fit = fit
        self.kind = kind
        self.pooled = isinstance(result, PooledResult)

    # ---- layout ------------------------------------------------------------------
    @property
    def design_info(self) -> Any:
        return self.fit.design.design_info

    @property
    def rhs(self) -> str:
        """The right-hand side of the formula as written."""
        return str(self.fit.design.formula).split("~", 1)[-1].strip()

    @property
    def formula(self) -> str:
        """The model formula, with a ``Surv``/``crr``-style outcome for survival fits."""
        if self.kind == "regression":
            return self.fit.formula
        si = self.fit.input
        c = si.columns
        if self.kind == "cox":
            times = f"{c['start']}, {c['time']}" if c["start"] else c["time"]
            ev = c["event"] if si.cause is None else f"{c['event']} == {si.cause}"
            return f"Surv({times}, {ev}) ~ {self.rhs}"
        return f"crr({c['time']}, {c['event']}, failcode = {si.cause}) ~ {self.rhs}"

    def columns(self) -> list[str]:
        """Coefficient names (as in ``params`` and ``tidy()``), without the intercept."""
        return [c for c in self.fit.design.columns if c != "Intercept"]

    def term_columns(self, name: str) -> list[str]:
        """Coefficient names of one formula term (patsy term name)."""
        return list(self.fit.design.terms.get(_clean_name(name), []))

    def level_column(self, term_name: str, level: Any) -> str:
        """Coefficient name of a treatment-coded level (patsy's naming; survival designs
        clean numpy scalar reprs, ``[T.np.float64(0.5)]`` → ``[T.0.5]``)."""
        name = f"{term_name}[T.{patsy.contrasts._obj_to_readable_str(level)}]"
        return _clean_name(name)

    def X(self) -> pd.DataFrame:
        """Design matrix of the analysed rows, columns named by coefficient."""
        return self.fit.design.X

    def events(self) -> np.ndarray | None:
        """Event indicator (0/1) per analysed row, or None for models without events."""
        if self.kind == "regression":
            if self.result.n_events is None:
                return None
            return self.fit.design.y.to_numpy(dtype=float)
        if self.kind == "cox":
            return np.asarray(self.fit.input.event, dtype=float)
        return (np.asarray(self.fit.code) == 1).astype(float)

    # ---- analysis units (counting-process Cox) -------------------------------------
    @property
    def counting_process(self) -> bool:
        return self.kind == "cox" and self.fit.input.start is not None

    def units(self) -> np.ndarray | None:
        """Patient id per analysed row for counting-process Cox fits with ``cluster=``."""
        if self.counting_process and self.fit.input.cluster is not None:
            return self.fit.input.cluster
        return None

    def count(self, mask: np.ndarray | None = None) -> int:
        """Analysed units (patients when known, else rows) among ``mask`` (all if None)."""
        u = self.units()
        if u is None:
            return int(self.result.nobs if mask is None else mask.sum())
        return len(np.unique(u if mask is None else u[mask]))

    @property
    def n_events(self) -> int | None:
        return self.result.n_events

    def n_note(self) -> str | None:
        """Footnote text explaining what N counts, for counting-process fits."""
        if not self.counting_process:
            return None
        cluster = self.fit.input.columns["cluster"]
        if cluster:
            return (f"N = patients (distinct {cluster}) with follow-up at each level; a "
                    f"patient whose level changes is counted under each; "
                    f"{self.result.nobs} (start, stop] intervals in all.")
        return ("N = (start, stop] intervals, not patients (counting-process data without "
                "cluster= to identify patients).")

    # ---- global tests --------------------------------------------------------------
    def term_tests(self, method: str) -> pd.DataFrame | None:
        """Global test per term (``term, df, statistic, p_value``); None when unavailable."""
        if self.pooled:
            return None
        if self.kind == "regression":
            return self.fit.term_tests(method=method)
        if method == "lr":
            raise CalcstatsError(
                f"global_p='lr' needs refitted models and is available for regression models "
                f"only, not for {type(self.fit).__name__}; use global_p='wald' (or True)."
            )
        return self.fit.term_tests()


def table_view(result: Any, position: int = 1,
               caller: str = "regression_table()") -> TableView:
    """The :class:`TableView` of a fitted model (raises SchemaError when unsupported)."""
    return TableView(result, position, caller)
