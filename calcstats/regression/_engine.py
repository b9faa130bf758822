"""Logistic and Poisson regression of engine tables: IRLS on aggregated cross-products.

The design (:mod:`calcstats._engine_design`), its scaling (:class:`~calcstats._design.Scaling`
from aggregates), the starting values, the Newton/Fisher-scoring loop with its stopping rule
(:func:`calcstats._newton.maximise`), the covariance and the result classes are those of
:func:`calcstats.regression._glmfit.fit_glm` and :mod:`calcstats.regression._glm`; only
the sums ``Σ w ℓ``, ``Σ z r`` and ``Σ z zᵀ W`` of each step come from one aggregate query
(:class:`calcstats.engine._glm.GlmSums`). Likelihood-ratio term tests refit in the engine.
The C statistic of a logistic model is the rank-sum form of the AUC, computed in the engine.

Without an aggregate form here, the pulled rows are refitted by the pandas path (with an
:class:`~calcstats.engine.EngineWarning` stating the rows, refused past ``pull_limit``):
robust and cluster-robust standard errors, Firth's method and profile-likelihood
intervals.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from calcstats._design import Scaling
from calcstats._engine_design import (
    EngineDesign,
    divergence_standin,
    engine_design,
    scaling,
)
from calcstats._errors import (
    CalcstatsError,
    ConvergenceWarning,
    DataError,
    SeparationWarning,
    SparseDataWarning,
    user_stacklevel,
)
from calcstats._formula import formula_variables
from calcstats._newton import divergence_report, maximise
from calcstats._validation import require_columns
from calcstats.engine import EngineTable
from calcstats.engine._aggregate import scalars
from calcstats.engine._dispatch import rows_stay
from calcstats.engine._glm import GlmSums
from calcstats.engine._pull import pull_rows
from calcstats.regression._glmfit import _inverse
from calcstats.regression._results import LogisticResult, PoissonResult, RegressionResult

__all__ = ["EngineModelFrame", "logistic", "poisson"]


@dataclass
class EngineModelFrame:
    """The analysed rows of an engine GLM (the counterpart of ``ModelFrame``)."""

    design: EngineDesign
    weights: Any = None
    offset: Any = None
    n_zero_weight: int = 0

    @property
    def formula(self) -> str:
        return self.design.formula

    @property
    def outcome(self) -> str:
        return str(self.design.outcome)

    @property
    def n(self) -> int:
        return self.design.n

    def without(self, columns: list[str]) -> EngineModelFrame:
        return replace(self, design=self.design.without(columns))


@dataclass
class EngineGlmFit:
    """A GLM fitted in the engine (as ``GlmFit``, without per-row fitted values)."""

    coef: np.ndarray
    cov: np.ndarray
    loglik: float
    converged: bool
    iterations: int
    diverging: np.ndarray
    direction: np.ndarray
    family: str
    scaling: Scaling
    cov_scaled: np.ndarray
    queries: int

    @property
    def mu(self) -> np.ndarray:
        """Fitted means, one per analysed row: no engine form."""
        raise rows_stay("The fitted values")

    @property
    def eta(self) -> np.ndarray:
        """Linear predictors, one per analysed row: no engine form."""
        raise rows_stay("The linear predictor")


class _EngineRows(RegressionResult):
    """What a regression result reads of its analysed rows, for rows that stay in the
    engine: counts per level by an aggregate query; the rows themselves refused."""

    frame: EngineModelFrame  # type: ignore[assignment]

    def _title(self) -> str:
        # the class users see (LogisticResult, PoissonResult), not the engine's subclass
        public = next(c for c in type(self).__mro__ if not c.__name__.startswith("_"))
        return f"{public.__name__}: {self.method} — {self.formula}"

    def events_per_row(self) -> np.ndarray | None:
        raise CalcstatsError(
            "the analysed rows of an engine model stay in the engine; level_counts() "
            "counts events per level there, or fit the model on table.to_pandas() for the "
            "rows."
        )

    def level_counts(
        self, columns: Sequence[str], coefficient: str | None
    ) -> tuple[int, float | None]:
        """N and events at one level of a categorical term, by one aggregate query."""
        d = self.frame.design
        xs = dict(zip(d.columns, d.exprs, strict=True))
        if coefficient is not None:
            mask = xs[coefficient] == 1.0
        else:
            mask = None
            for c in columns:
                mask = (xs[c] == 0.0) if mask is None else (mask & (xs[c] == 0.0))
        got = scalars(
            d.expr,
            {"n": mask.cast("int64").sum(), "y": (mask.cast("float64") * d.y_expr).sum()},
        )
        return int(got["n"] or 0), float(got["y"] or 0.0)


class _EngineLogisticResult(_EngineRows, LogisticResult):
    """:class:`LogisticResult` of a model fitted in an engine (C statistic by ranks in the
    engine)."""

    def _glance_extra(self) -> dict[str, Any]:
        out = RegressionResult._glance_extra(self)
        out["concordance"] = _c_statistic(self.frame, self.params.to_numpy())
        return out


class _EnginePoissonResult(_EngineRows, PoissonResult):
    """:class:`PoissonResult` of a model fitted in an engine."""


def _c_statistic(mf: EngineModelFrame, coef: np.ndarray) -> float:
    """AUC of the linear predictor (average ranks for ties), as ``c_statistic``."""
    import ibis

    d = mf.design
    e = d.expr
    eta = ibis.literal(0).cast("float64")
    for x, b in zip(d.exprs, coef, strict=True):
        eta = eta + x * float(b)
    t = e.select(__eta=eta, __y=d.y_expr)
    t = t.mutate(
        __lo=ibis.rank().over(order_by=t["__eta"]), __tie=t.count().over(group_by=t["__eta"])
    )
    avg = t["__lo"] + 1 + (t["__tie"] - 1) / 2.0
    got = scalars(
        t,
        {
            "m": (t["__y"] == 1).cast("int64").sum(),
            "n": (t["__y"] != 1).cast("int64").sum(),
            "r": ibis.cases((t["__y"] == 1, avg), else_=0.0).sum(),
        },
    )
    m, n = int(got["m"] or 0), int(got["n"] or 0)
    if m == 0 or n == 0:
        return float("nan")
    return float((float(got["r"]) - m * (m + 1) / 2) / (m * n))


def _frame(
    data: EngineTable,
    formula: str,
    *,
    weights: str | None,
    cluster: str | None,
    exposure: str | None,
    model_name: str,
) -> EngineModelFrame:
    """The engine model frame (the rules of :func:`calcstats.regression._frame.model_frame`)."""
    require_columns(
        pd.DataFrame(columns=data.columns),
        {"weights": weights, "cluster": cluster, "exposure": exposure},
        function=model_name,
    )
    e = data.full
    n_zero = 0
    if weights is not None:
        w = e[weights].cast("float64")
        got = scalars(
            e,
            {
                "bad": (w.notnull() & (w.isinf() | (w < 0))).cast("int64").sum(),
                "pos": (w > 0).cast("int64").sum(),
                "zero": (w == 0).cast("int64").sum(),
            },
        )
        if got["bad"] or not got["pos"]:
            raise DataError(
                f"{model_name}(): weights column {weights!r} must hold finite numbers >= 0 "
                "with some positive; fix or drop the other rows."
            )
        n_zero = int(got["zero"] or 0)
        if n_zero:
            e = e.filter(w.isnull() | (w != 0))
    design = engine_design(
        data,
        formula,
        response=True,
        extra=[weights, cluster, exposure],
        model_name=model_name,
        expr=e,
    )
    k = design.expr
    off = None
    if exposure is not None:
        x = k[exposure].cast("float64")
        n_bad = int(k.filter(x.isnan() | x.isinf() | (x <= 0)).count().execute())
        if n_bad:
            raise DataError(
                f"{model_name}(): exposure column {exposure!r} (person-time) must be "
                f"positive; {n_bad} rows are zero, negative or not numeric. Remove rows "
                "without follow-up time."
            )
        off = x.ln()
    return EngineModelFrame(
        design=design,
        weights=k[weights].cast("float64") if weights is not None else None,
        offset=off,
        n_zero_weight=n_zero,
    )


def _fit(mf: EngineModelFrame, family: str) -> EngineGlmFit:
    """:func:`calcstats.regression._glmfit.fit_glm` with engine sums."""
    d = mf.design
    sc = scaling(d, weights=mf.weights, centre=d.shift_invariant and d.intercept is not None)
    zs = [(x - float(sc.centre[j])) / float(sc.scale[j]) for j, x in enumerate(d.exprs)]
    if d.intercept is not None:
        import ibis

        zs[d.intercept] = ibis.literal(1).cast("float64")
    sums = GlmSums(d.expr, zs, d.y_expr, family=family, weights=mf.weights, offset=mf.offset)
    p = len(zs)
    gamma0 = np.zeros(p)
    if d.intercept is not None:
        gamma0[d.intercept] = _start_intercept(mf, family)
    res = maximise(
        sums.evaluate, gamma0, max_iter=100, tol=1e-10, back=sc.back, what=f"the {family} model"
    )
    cov_s = _inverse(res.last.info)
    return EngineGlmFit(
        coef=sc.coef(res.beta),
        cov=sc.cov(cov_s),
        loglik=res.last.loglik,
        converged=res.converged,
        iterations=res.iterations,
        diverging=res.diverging,
        direction=res.direction,
        family=family,
        scaling=sc,
        cov_scaled=cov_s,
        queries=sums.queries,
    )


def _start_intercept(mf: EngineModelFrame, family: str) -> float:
    """``_start_intercept`` of the pandas path, from aggregates."""
    d = mf.design
    w = mf.weights if mf.weights is not None else (d.y_expr * 0 + 1).cast("float64")
    off = mf.offset if mf.offset is not None else (d.y_expr * 0).cast("float64")
    got = scalars(d.expr, {"sw": w.sum(), "swy": (w * d.y_expr).sum(), "swo": (w * off).sum()})
    sw = float(got["sw"] or 0.0)
    ybar = float(got["swy"]) / sw if sw > 0 else 0.5
    if family == "binomial":
        ybar = min(max(ybar, 1e-3), 1 - 1e-3)
        return float(np.log(ybar / (1 - ybar)))
    ybar = max(ybar, 1e-3)
    return float(np.log(ybar) - (float(got["swo"]) / sw if sw > 0 else 0.0))


def _result(
    cls: type,
    mf: EngineModelFrame,
    fit: EngineGlmFit,
    *,
    name: str,
    method: str,
    conf_level: float,
    category: type[Warning],
    warn: bool,
) -> RegressionResult:
    d = mf.design
    names = d.columns
    nonest: dict[str, str] = {}
    if fit.diverging.any():
        events = (d.y_expr > 0) if fit.family != "binomial" else (d.y_expr == 1)
        X, ev = divergence_standin(d.expr, d.exprs, fit.diverging, events)
        if warn:
            nonest = divergence_report(
                names,
                fit.diverging,
                fit.direction,
                model_name=name,
                X=X,
                events=ev,
                category=category,
            )
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                nonest = divergence_report(
                    names, fit.diverging, fit.direction, model_name=name, X=X, events=ev
                )
    if not fit.converged and warn:
        warnings.warn(
            f"{name}(): the fit of {mf.formula!r} did not converge in {fit.iterations} "
            "iterations; no estimate is reported ('—'). Check for separation or sparse "
            "levels, or simplify the model.",
            ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )
    if not fit.converged:
        nonest = {c: "the fit did not converge" for c in names}
    w = mf.weights
    ys = d.y_expr if w is None else w * d.y_expr
    n_events = round(float(scalars(d.expr, {"e": ys.sum()})["e"]))
    family = fit.family

    def refit(keep: list[str]) -> RegressionResult:
        sub = mf.without([c for c in names if c not in keep])
        return _result(
            cls,
            sub,
            _fit(sub, family),
            name=name,
            method=method,
            conf_level=conf_level,
            category=category,
            warn=False,
        )

    return cls(
        pd.Series(fit.coef, index=names),
        fit.cov,
        frame=mf,
        model=fit,
        method=method,
        loglik=fit.loglik,
        n_events=n_events,
        se_type="model-based",
        conf_level=conf_level,
        refit=refit,
        converged=fit.converged,
        nonestimable=nonest,
    )


def _pulled(
    function: Any,
    data: EngineTable,
    formula: str,
    extra: list[str | None],
    what: str,
    **kwargs: Any,
) -> RegressionResult:
    """The pandas path's fit of the pulled rows (for what has no aggregate form here)."""
    cols = [
        c
        for c in data.columns
        if c in formula_variables(formula.split("~", 1)[-1], pd.DataFrame(columns=data.columns))
    ]
    lhs = formula.split("~", 1)[0]
    cols += (
        [c for c in data.columns if c in formula_variables(lhs, pd.DataFrame(columns=data.columns))]
        if lhs.strip()
        else []
    )
    used = list(dict.fromkeys([*cols, *(c for c in extra if c is not None)]))
    rows, _ = pull_rows(data.full, used, options=data.options, what=what, sample=False)
    return function(rows, formula, **kwargs)


def logistic(
    data: EngineTable,
    formula: str,
    *,
    method: str = "ml",
    weights: str | None = None,
    cluster: str | None = None,
    robust: bool = False,
    conf_level: float = 0.95,
    ci_method: str = "wald",
) -> RegressionResult:
    """:func:`calcstats.logistic` of an engine table (same arguments and numbers)."""
    from calcstats.regression._glm import logistic as pandas_logistic

    conf_level = float(conf_level)
    data = data.cached()
    if method == "firth" or robust or cluster is not None or ci_method == "profile":
        what = (
            "logistic(method='firth')"
            if method == "firth"
            else "logistic robust standard errors"
            if robust or cluster is not None
            else "logistic profile-likelihood intervals"
        )
        return _pulled(
            pandas_logistic,
            data,
            formula,
            [weights, cluster],
            what,
            method=method,
            weights=weights,
            cluster=cluster,
            robust=robust,
            conf_level=conf_level,
            ci_method=ci_method,
        )
    mf = _frame(data, formula, weights=weights, cluster=None, exposure=None, model_name="logistic")
    _check_binary(mf, "logistic")
    fit = _fit(mf, "binomial")
    return _result(
        _EngineLogisticResult,
        mf,
        fit,
        name="logistic",
        method="logistic regression (ML)",
        conf_level=conf_level,
        category=SeparationWarning,
        warn=True,
    )


def poisson(
    data: EngineTable,
    formula: str,
    *,
    exposure: str | None = None,
    robust: bool = False,
    weights: str | None = None,
    cluster: str | None = None,
    conf_level: float = 0.95,
    ci_method: str = "wald",
) -> RegressionResult:
    """:func:`calcstats.poisson` of an engine table (same arguments and numbers)."""
    from calcstats.regression._glm import poisson as pandas_poisson

    conf_level = float(conf_level)
    data = data.cached()
    if robust or cluster is not None or ci_method == "profile":
        what = (
            "poisson robust standard errors"
            if robust or cluster is not None
            else "poisson profile-likelihood intervals"
        )
        return _pulled(
            pandas_poisson,
            data,
            formula,
            [weights, cluster, exposure],
            what,
            exposure=exposure,
            robust=robust,
            weights=weights,
            cluster=cluster,
            conf_level=conf_level,
            ci_method=ci_method,
        )
    mf = _frame(
        data, formula, weights=weights, cluster=None, exposure=exposure, model_name="poisson"
    )
    y = mf.design.y_expr
    n_bad = int(mf.design.expr.filter((y < 0) | ((y - y.round()).abs() > 1e-8)).count().execute())
    if n_bad:
        raise DataError(f"poisson(): outcome {mf.outcome!r} must hold non-negative counts.")
    fit = _fit(mf, "poisson")
    method = "Poisson regression" + (" with log person-time offset" if exposure else "")
    return _result(
        _EnginePoissonResult,
        mf,
        fit,
        name="poisson",
        method=method,
        conf_level=conf_level,
        category=SparseDataWarning,
        warn=True,
    )


def _check_binary(mf: EngineModelFrame, name: str) -> None:
    """The pandas path's ``_check_binary`` from aggregates."""
    d = mf.design
    y = d.y_expr
    bad = d.expr.filter(~y.isin([0.0, 1.0])).select(__y=y).distinct().limit(50)
    vals = sorted(float(v) for v in bad.to_pandas()["__y"])[:5]
    if vals:
        raise DataError(
            f"{name}(): outcome {mf.outcome!r} must be 0/1 (or True/False); found values "
            f"{vals}. Recode it, e.g. 'I(stage == 4) ~ ...'."
        )
    got = scalars(d.expr, {"lo": y.min(), "hi": y.max()})
    if got["lo"] == got["hi"]:
        raise DataError(
            f"{name}(): outcome {mf.outcome!r} takes the single value {float(got['lo']):g} in "
            f"all {d.n} analysed rows; there is nothing to model."
        )
