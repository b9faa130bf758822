"""Rubin's rules with Barnard–Rubin degrees of freedom, for any calcstats ModelResult.

Only ``params`` and ``bse`` are used, so Cox and Fine–Gray results pool like GLMs (which
statsmodels' MICE cannot do for PHReg). Formulas as R ``mice::pool``:

``Qbar = mean(Q)``, ``Ubar = mean(U)``, ``B = var(Q)``, ``T = Ubar + (1 + 1/m) B``,
``riv = (1 + 1/m) B / Ubar``, ``lambda = (1 + 1/m) B / T``, ``df_old = (m - 1) / lambda^2``,
``df_obs = (dfcom + 1) / (dfcom + 3) * dfcom * (1 - lambda)``,
``df = df_old * df_obs / (df_old + df_obs)`` (``df_old`` when ``dfcom`` is infinite),
``fmi = (riv + 2 / (df + 3)) / (1 + riv)``.

The complete-data df ``dfcom`` defaults to the results' ``df_resid`` (linear models) and
to infinity otherwise (z-based models). Note: ``mice::pool`` uses ``n - p`` also for glm
fits; pass ``dfcom=`` to reproduce it.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from calcstats._errors import CalcstatsError, ConvergenceWarning, user_stacklevel
from calcstats._validation import CONF_LEVEL, NONE, Interval, validate_params
from calcstats.results import ModelResult, RowUnits

__all__ = ["PooledResult", "pool"]


class PooledResult(ModelResult):
    """Estimates pooled over imputed data sets (Rubin's rules).

    ``tidy()`` uses t intervals and tests on the Barnard–Rubin df of each term;
    ``details()`` gives the within/between variances, riv, lambda, fmi and df. The
    design, labels and analysed rows (``events_per_row``, ``row_units``) are those of the
    first imputed data set, which tables use for their layout and counts.
    """

    def __init__(
        self,
        params: pd.Series,
        cov: np.ndarray,
        *,
        details: pd.DataFrame,
        ratio_measure: str | None,
        method: str,
        m: int,
        nobs: int | None,
        n_events: int | None,
        conf_level: float,
        results: list[ModelResult],
        nonestimable: dict[str, str],
        converged: bool,
    ) -> None:
        super().__init__(
            params,
            cov,
            model=results,
            conf_level=conf_level,
            nobs=nobs,
            n_events=n_events,
            nonestimable=nonestimable,
            converged=converged,
            terms=results[0].terms,
        )
        self.ratio_measure = ratio_measure
        self.method = method
        self.m = m
        first = results[0]
        self.design = first.design
        self.labels = first.labels
        self.n_competing = first.n_competing
        self._details = details
        self._df = details["df"].to_numpy(dtype=float)

    def events_per_row(self) -> np.ndarray | None:
        """Events per analysed row of the first imputed data set."""
        return self.model[0].events_per_row()

    def row_units(self) -> RowUnits | None:
        """What an analysed row of the first imputed data set is (see ModelResult)."""
        return self.model[0].row_units()

    def term_tests(self, *, method: str = "wald") -> pd.DataFrame:
        """No joint tests after pooling: every row has NaN statistic and p-value.

        Rubin's rules pool one coefficient at a time; a joint test of a term's
        coefficients over imputations (D1/D2 statistics) is not implemented, so the
        ``method`` column says so rather than give a chi-square that ignores the
        between-imputation df.
        """
        base = super().term_tests(method=method)
        return base.assign(
            statistic=np.nan, p_value=np.nan, method="not available after pooling over imputations"
        )

    def details(self) -> pd.DataFrame:
        """Per term: ``estimate, ubar, b, t, riv, lambda, fmi, dfcom, df``."""
        return self._details.copy()

    def _test(self) -> tuple[np.ndarray, np.ndarray]:
        t = (self.params / self.bse).to_numpy()
        return t, 2 * stats.t.sf(np.abs(t), self._df)

    def _conf_int(self, conf_level: float) -> tuple[np.ndarray, np.ndarray]:
        q = stats.t.ppf(1 - (1 - conf_level) / 2, self._df)
        est, se = self.params.to_numpy(), self.bse.to_numpy()
        return est - q * se, est + q * se

    def _glance_extra(self) -> dict[str, Any]:
        return {"m": self.m}


@validate_params(
    {
        "dfcom": [Interval(0, None, closed="neither"), NONE],
        "conf_level": [CONF_LEVEL, NONE],
    }
)
def pool(
    results: Sequence[ModelResult],
    *,
    dfcom: float | None = None,
    conf_level: float | None = None,
) -> PooledResult:
    """Pool estimates from models fitted on multiply imputed data sets.

    Parameters
    ----------
    results : sequence of ModelResult
        One fitted result per completed data set (e.g. ``imp.fit(lambda d: cs.cox(d, ...))``),
        all with the same terms.
    dfcom : float, optional
        Complete-data degrees of freedom; default ``df_resid`` of the results when they have
        one (linear models), else infinity.
    conf_level : float, optional
        Defaults to the results' level.

    Returns
    -------
    PooledResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from calcstats.results import ModelResult, RowUnits
    >>> from calcstats.regression import pool
    >>> fits = [ModelResult(pd.Series({"x": b}), [[0.01]]) for b in (0.5, 0.6, 0.7)]
    >>> round(float(pool(fits).params["x"]), 3)
    0.6
    """
    results = list(results)
    if len(results) < 2:
        raise CalcstatsError(f"pool() needs at least 2 results, got {len(results)}.")
    for i, r in enumerate(results):
        if not isinstance(r, ModelResult):
            raise CalcstatsError(
                f"pool(): result {i} is a {type(r).__name__}, not a calcstats model result."
            )
    terms = list(results[0].params.index)
    for i, r in enumerate(results[1:], start=1):
        if list(r.params.index) != terms:
            raise CalcstatsError(
                f"pool(): result {i} has terms {list(r.params.index)}, result 0 has {terms}; "
                "fit the same model on every imputed data set (a factor level absent from one "
                "data set changes the terms)."
            )
    m = len(results)
    nonest: dict[str, str] = {}
    for i, r in enumerate(results):
        for term, why in r.nonestimable.items():
            nonest.setdefault(term, f"not estimable in imputation {i + 1}: {why}")
    if nonest:
        warnings.warn(
            f"pool(): {', '.join(nonest)} could not be estimated in at least one imputed data "
            "set; the pooled estimate is reported as NaN ('—'). Merge sparse levels or drop "
            "the term.",
            ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )
    Q = np.vstack([r.params.to_numpy(dtype=float) for r in results])
    U = np.vstack([r.bse.to_numpy(dtype=float) ** 2 for r in results])
    ok = np.array([t not in nonest for t in terms])
    if not np.all(np.isfinite(Q[:, ok])) or not np.all(np.isfinite(U[:, ok])):
        raise CalcstatsError("pool(): some estimates or standard errors are not finite.")
    qbar = Q.mean(axis=0)
    ubar = U.mean(axis=0)
    b = Q.var(axis=0, ddof=1)
    t = ubar + (1 + 1 / m) * b
    if dfcom is None:
        dr = results[0].df_resid
        dfcom = float(dr) if dr is not None else np.inf
    dfcom = float(dfcom)
    if not dfcom > 0:
        raise CalcstatsError(f"pool(): dfcom must be positive, got {dfcom}.")
    with np.errstate(divide="ignore", invalid="ignore"):
        riv = (1 + 1 / m) * b / ubar
        lam = (1 + 1 / m) * b / t
        df_old = np.where(lam > 0, (m - 1) / lam**2, np.inf)
        if np.isinf(dfcom):
            df = df_old
        else:
            df_obs = (dfcom + 1) / (dfcom + 3) * dfcom * (1 - lam)
            df = np.where(np.isinf(df_old), df_obs, df_old * df_obs / (df_old + df_obs))
        fmi = (riv + 2 / (df + 3)) / (1 + riv)
    details = pd.DataFrame(
        {
            "term": terms,
            "estimate": qbar,
            "ubar": ubar,
            "b": b,
            "t": t,
            "riv": riv,
            "lambda": lam,
            "fmi": fmi,
            "dfcom": dfcom,
            "df": df,
        }
    )
    first = results[0]
    # total covariance T = Ubar + (1 + 1/m) B (its diagonal is t above)
    ubar_mat = np.mean([r.cov.to_numpy(dtype=float) for r in results], axis=0)
    b_mat = np.atleast_2d(np.cov(Q, rowvar=False, ddof=1))
    cov = ubar_mat + (1 + 1 / m) * b_mat
    return PooledResult(
        pd.Series(qbar, index=terms),
        cov,
        details=details,
        ratio_measure=first.ratio_measure,
        method=f"Rubin's rules over {m} imputations ({first.method or type(first).__name__}); "
        "Barnard-Rubin df",
        m=m,
        nobs=first.nobs,
        n_events=first.n_events,
        conf_level=first.conf_level if conf_level is None else conf_level,
        results=results,
        nonestimable=nonest,
        converged=all(r.converged for r in results),
    )
