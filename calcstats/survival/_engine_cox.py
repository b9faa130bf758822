"""Cox regression of an engine table: each Newton step is one aggregate query.

The design, the analysed rows and the outcome checks are those of the pandas path
(:mod:`calcstats._engine_design`, :mod:`calcstats._engine_input`); the log-likelihood,
score and information at each step come from per-event-time risk-set sums computed in the
engine (:class:`calcstats.engine._cox.CoxSums`); the Newton run is
:func:`calcstats.survival._coxfit.cox_newton`, as in the pandas path's
:func:`~calcstats.survival._coxfit.fit_cox` (one loop, stopping rule, scaling and
monotone-likelihood check). So the estimates, the model-based covariance, the
log-likelihoods and the score test equal the pandas path's (to rounding).

Without an aggregate form here: the robust (sandwich) variance (``cluster=``,
non-integer weights or ``robust=True``) refits the pulled rows in pandas, and Harrell's
concordance is computed on the pulled rows or, past ``pull_limit``, on a documented
sample; both with an :class:`~calcstats.engine.EngineWarning` stating the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from calcstats._engine_design import EngineDesign, divergence_standin, engine_design
from calcstats._engine_input import EngineInput, engine_input
from calcstats._errors import CalcstatsError, DataError
from calcstats._formula import clean_name, formula_variables
from calcstats._newton import divergence_report
from calcstats._survival_input import as_names
from calcstats._validation import require_columns
from calcstats.engine import EngineTable
from calcstats.engine._aggregate import scalars
from calcstats.engine._cox import CoxSums
from calcstats.engine._dispatch import rows_stay
from calcstats.engine._pull import pull_rows
from calcstats.labels import Labels
from calcstats.results import PHTestResult, RowUnits
from calcstats.survival._concordance import concordance_counts
from calcstats.survival._cox import CoxResult, robust_variance
from calcstats.survival._coxfit import cox_newton

__all__ = ["EngineCoxFit", "cox"]


@dataclass
class EngineCoxFit:
    """The Newton–Raphson fit (as :class:`~calcstats.survival._coxfit.CoxFit`, without
    the rows): coefficients, model-based variance, log-likelihoods, score test."""

    coef: np.ndarray
    var: np.ndarray
    loglik: float
    loglik0: float
    score_test: float
    iterations: int
    converged: bool
    u0: np.ndarray
    imat: np.ndarray
    diverging: np.ndarray
    direction: np.ndarray
    means: np.ndarray
    queries: int

    @property
    def data(self) -> Any:
        """The sorted rows of the pandas fit have no engine form."""
        raise rows_stay("The Cox model's data")

    @property
    def linear_predictor(self) -> np.ndarray:
        """One value per analysed row: no engine form."""
        raise rows_stay("The linear predictor")


class _EngineCoxResult(CoxResult):
    """:class:`CoxResult` of a model fitted in an engine (it prints as a CoxResult).

    ``design`` is an :class:`~calcstats._engine_design.EngineDesign`, ``input`` an
    :class:`~calcstats._engine_input.EngineInput` and ``model`` an :class:`EngineCoxFit`;
    nothing holds the rows. Counts per level (publication tables) are aggregate queries;
    ``concordance`` pulls the rows it needs (or a sample past ``pull_limit``);
    ``check_ph()`` needs the rows and says so.
    """

    def __init__(
        self,
        params: pd.Series,
        *,
        fit: EngineCoxFit,
        design: EngineDesign,
        ei: EngineInput,
        n_events: int,
        ties: str,
        conf_level: float,
        nonestimable: dict[str, str],
        labels: Labels | None,
    ) -> None:
        super(CoxResult, self).__init__(
            params,
            fit.var,
            model=fit,
            conf_level=conf_level,
            nobs=ei.n,
            n_events=n_events,
            loglik=fit.loglik,
            converged=fit.converged,
            nonestimable=nonestimable,
            terms=design.terms,
        )
        self.naive_bse = pd.Series(np.sqrt(np.diag(fit.var)), index=list(params.index))
        # an EngineDesign / EngineInput answer what CoxResult reads of a Design / input
        self.design = design  # type: ignore[assignment]
        self.input = ei  # type: ignore[assignment]
        self.ties = ties
        self.robust = False
        self.labels = Labels.coerce(labels)
        self.method = f"Cox proportional-hazards model ({ties.capitalize()} ties)"

    def _title(self) -> str:
        return f"CoxResult: {self.method}"  # the class users see (this one is an engine's)

    def events_per_row(self) -> np.ndarray:
        raise CalcstatsError(
            "the analysed rows of an engine Cox model stay in the engine; level_counts() "
            "counts events per level there, or fit cs.cox(table.to_pandas(), ...) for the "
            "rows."
        )

    def row_units(self) -> RowUnits | None:
        """Counting-process fits (``start=``) have intervals as rows; an engine fit has no
        ``cluster=`` (that refits in pandas), so the rows are not traced to patients."""
        if self.input.columns.get("start") is None:
            return None
        return RowUnits(ids=None, id_column=None)

    def level_counts(
        self, columns: Sequence[str], coefficient: str | None
    ) -> tuple[int, float | None]:
        """N and events at one level of a categorical term, by one aggregate query."""
        design = self.engine_design
        e = self.engine_input.expr
        xs = dict(zip(design.columns, design.rebind(e), strict=True))
        if coefficient is not None:
            mask = xs[coefficient] == 1.0
        else:
            mask = None
            for c in columns:
                mask = (xs[c] == 0.0) if mask is None else (mask & (xs[c] == 0.0))
        got = scalars(
            e,
            {
                "n": mask.cast("int64").sum(),
                "d": (mask.cast("float64") * e["__ev"]).sum(),
            },
        )
        return int(got["n"] or 0), float(got["d"] or 0.0)

    @property
    def engine_design(self) -> EngineDesign:
        return self.design  # type: ignore[return-value]  # set to one in __init__

    @property
    def engine_input(self) -> EngineInput:
        return self.input  # type: ignore[return-value]  # set to one in __init__

    @cached_property
    def concordance(self) -> float:
        """Harrell's C as R's ``coxph`` reports it, on the pulled rows (or a sample)."""
        ei = self.engine_input
        e = ei.expr
        lp = None
        xs = self.engine_design.rebind(e)
        for x, b in zip(xs, self.params.to_numpy(), strict=True):
            lp = x * float(b) if lp is None else lp + x * float(b)
        cols = {"t": e["__t"], "d": e["__ev"], "lp": lp, "w": e["__w"], "st": e["__st"]}
        if ei.columns.get("start") is not None:
            cols["s"] = e["__start"]
        rows, _ = pull_rows(
            e, cols, options=ei.table.options, what="cox concordance", sample=True, n=ei.n
        )
        return concordance_counts(
            rows["t"].to_numpy(float),
            rows["d"].to_numpy(float).astype(bool),
            rows["lp"].to_numpy(float),
            weights=rows["w"].to_numpy(float) if ei.weighted else None,
            strata=rows["st"].to_numpy(np.int64) if ei.strata_columns else None,
            start=rows["s"].to_numpy(float) if "s" in rows else None,
        )["concordance"]

    def check_ph(self, transform: str = "km", *, global_test: bool = True) -> PHTestResult:
        raise CalcstatsError(
            "check_ph() needs the scaled Schoenfeld residuals of every event, which have no "
            "aggregate form; fit the model on the pulled rows "
            "(cs.cox(table.to_pandas(), ...)) to test proportional hazards."
        )

    def linear_predictor(self, newdata: pd.DataFrame | None = None) -> np.ndarray:
        """x·β for ``newdata`` (a pandas DataFrame); the fitted rows stay in the engine."""
        if newdata is None:
            raise CalcstatsError(
                "the fitted rows of an engine model stay in the engine; pass newdata= (a "
                "DataFrame), or compute the linear predictor there."
            )
        return self.engine_design.new_data(newdata) @ self.params.to_numpy()


def _robust_refit(table: EngineTable, formula: str, used: list[str], **kwargs: Any) -> CoxResult:
    """The pandas path's fit on the pulled rows (robust variance has no aggregate form)."""
    from calcstats.survival._cox import cox as pandas_cox

    rows, _ = pull_rows(
        table.full, used, options=table.options, what="cox robust variance", sample=False
    )
    return pandas_cox(rows, formula, **kwargs)


def cox(
    data: EngineTable,
    formula: str,
    *,
    time: str,
    event: str,
    cause: int | None = None,
    ties: str = "efron",
    strata: str | Sequence[str] | None = None,
    cluster: str | None = None,
    weights: str | None = None,
    start: str | None = None,
    robust: bool | None = None,
    conf_level: float = 0.95,
    labels: Labels | dict[str, str] | None = None,
) -> CoxResult:
    """:func:`calcstats.cox` of an engine table (same arguments and numbers)."""
    strata_names = as_names(strata, "strata", "cox")
    data = data.cached()
    require_columns(
        pd.DataFrame(columns=data.columns),
        {
            "time": time,
            "event": event,
            "start": start,
            "weights": weights,
            "strata": strata_names,
            "cluster": cluster,
        },
        function="cox",
    )
    e = data.full
    fractional = False
    if weights is not None:
        w = e[weights].cast("float64")
        n_frac = scalars(e, {"f": (w.notnull() & (w != w.floor())).cast("int64").sum()})["f"]
        fractional = bool(n_frac)
    if robust_variance(robust, cluster=cluster, fractional=fractional):
        design_vars = formula_variables(formula, pd.DataFrame(columns=data.columns))
        extra = [time, event, start, weights, *strata_names, cluster]
        used = list(dict.fromkeys([*design_vars, *(c for c in extra if c is not None)]))
        return _robust_refit(
            data,
            formula,
            used,
            time=time,
            event=event,
            cause=cause,
            ties=ties,
            strata=strata,
            cluster=cluster,
            weights=weights,
            start=start,
            robust=robust,
            conf_level=conf_level,
            labels=labels,
        )
    n_zero = 0
    if weights is not None:
        w = e[weights].cast("float64")
        e = e.filter(w.isnull() | (w != 0))
        n_zero = int(data.full.count().execute()) - int(e.count().execute())
    design = engine_design(
        data,
        formula,
        response=False,
        intercept=False,
        extra=[time, event, start, weights, *strata_names, cluster],
        model_name="cox",
        expr=e,
    )
    sub = data.with_expr(design.expr)
    ei = engine_input(
        sub,
        time=time,
        event=event,
        cause=cause,
        start=start,
        weights=weights,
        strata=strata_names or None,
        function="cox",
    )
    ei.n_zero_weight = n_zero
    n_events = int(scalars(ei.expr, {"d": ei.expr["__ev"].sum()})["d"] or 0)
    if not n_events:
        raise DataError(
            f"cox(): no events in {event!r}"
            + (f" for cause {cause}" if cause is not None else "")
            + f" among the {ei.n} rows used: a Cox model needs at least one event."
        )
    xs = design.rebind(ei.expr)
    sums = CoxSums(
        ei.expr,
        xs,
        time=ei.expr["__t"],
        status=ei.expr["__ev"],
        weights=ei.expr["__w"] if weights is not None else None,
        start=ei.expr["__start"] if start is not None else None,
        stratum=ei.expr["__st"] if strata_names else None,
        ties=ties,
        store=data.store,
    )
    fit = _fit(sums)
    nonest: dict[str, str] = {}
    if fit.diverging.any():
        X, ev = divergence_standin(ei.expr, xs, fit.diverging, ei.expr["__ev"] > 0)
        nonest = divergence_report(
            design.columns, fit.diverging, fit.direction, model_name="cox", X=X, events=ev
        )
    if not fit.converged:
        nonest = {c: "the fit did not converge" for c in design.columns}
    return _EngineCoxResult(
        pd.Series(fit.coef, index=[clean_name(c) for c in design.columns]),
        fit=fit,
        design=design,
        ei=ei,
        n_events=n_events,
        ties=ties,
        conf_level=float(conf_level),
        nonestimable=nonest,
        labels=Labels.coerce(labels),
    )


def _fit(sums: CoxSums, *, max_iter: int = 30, eps: float = 1e-9) -> EngineCoxFit:
    """:func:`calcstats.survival._coxfit.fit_cox` on engine sums (the same Newton run)."""
    cache: dict[bytes, Any] = {}

    def raw(beta: np.ndarray) -> Any:
        key = np.asarray(beta, dtype=float).tobytes()
        if key not in cache:
            cache.clear()
            cache[key] = sums.evaluate(beta)
        return cache[key]

    run = cox_newton(raw, sums.sd, max_iter=max_iter, eps=eps)
    res = run.result
    return EngineCoxFit(
        coef=run.coef,
        var=run.var,
        loglik=res.last.loglik,
        loglik0=run.null.loglik,
        score_test=run.score_test,
        iterations=res.iterations,
        converged=res.converged,
        u0=run.null.score,
        imat=run.info,
        diverging=res.diverging,
        direction=res.direction,
        means=sums.means,
        queries=sums.queries,
    )
