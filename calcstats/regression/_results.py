"""Result classes of the regression models (all :class:`~calcstats._result.ModelResult`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from calcstats._errors import CalcstatsError
from calcstats._result import ModelResult
from calcstats.regression._design import Design, term_columns

__all__ = [
    "LinearResult",
    "LogBinomialResult",
    "LogisticResult",
    "NegativeBinomialResult",
    "PoissonResult",
    "RegressionResult",
    "c_statistic",
]


class RegressionResult(ModelResult):
    """A fitted regression model.

    Attributes
    ----------
    params, bse : pandas.Series
        Coefficients and standard errors on the model (link) scale.
    cov : pandas.DataFrame
        Covariance matrix of ``params`` (robust / cluster-robust when requested).
    design : Design
        Outcome, design matrix and the analysed rows (``design.frame``).
    model : object
        The underlying statsmodels results object (or the Firth fit).
    """

    #: label of the standard-error type shown in glance()
    se_type: str = "model-based"

    def __init__(
        self,
        params: pd.Series,
        cov: pd.DataFrame,
        *,
        design: Design,
        model: Any,
        method: str,
        loglik: float | None,
        n_events: int | None = None,
        n_params: int | None = None,
        df_resid: float | None = None,
        se_type: str = "model-based",
        conf_level: float = 0.95,
        refit: Callable[[list[str]], RegressionResult] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        bse = pd.Series(np.sqrt(np.diag(cov.to_numpy())), index=params.index)
        super().__init__(
            params,
            bse,
            model=model,
            conf_level=conf_level,
            nobs=len(design.y),
            n_events=n_events,
            loglik=loglik,
            n_params=n_params,
            extra=extra,
        )
        self.cov = cov
        self.design = design
        self.method = method
        self.df_resid = df_resid
        self.se_type = se_type
        self._refit = refit
        self._profile_fn: Callable[[float], tuple[np.ndarray, np.ndarray]] | None = None
        self._profile_cache: dict[float, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def formula(self) -> str:
        return self.design.formula

    def _conf_int(self, conf_level: float) -> tuple[np.ndarray, np.ndarray]:
        if self._profile_fn is None:
            return super()._conf_int(conf_level)
        if conf_level not in self._profile_cache:
            self._profile_cache[conf_level] = self._profile_fn(conf_level)
        return self._profile_cache[conf_level]

    def _glance_extra(self) -> dict[str, Any]:
        out: dict[str, Any] = {"n_dropped": self.design.n_dropped, "se_type": self.se_type}
        if self.df_resid is not None:
            out["df_resid"] = self.df_resid
        out.update(self.extra.get("glance", {}))
        return out

    def _title(self) -> str:
        return f"{type(self).__name__}: {self.method} — {self.formula}"

    # ---- term-level inference ----------------------------------------------------
    def term_tests(self, *, method: str = "wald") -> pd.DataFrame:
        """Global test per formula term (joint over all its columns, e.g. all levels).

        Parameters
        ----------
        method : {"wald", "lr"}
            ``"wald"``: joint Wald chi-square ``b' V^-1 b`` with the model's covariance
            (F = W/df with residual df for linear models, as R ``anova(lm)`` type II/III
            single-term drops). ``"lr"``: likelihood-ratio test refitting the model without
            the term on the same rows (penalised LR for Firth).

        Returns
        -------
        pandas.DataFrame
            ``term, df, statistic, p_value, method``; the intercept is omitted.

        Examples
        --------
        >>> import calcstats as cs
        >>> pbc = cs.datasets.load_pbc()
        >>> cs.logistic(pbc, "I(stage == 4) ~ C(edema) + age").term_tests()  # doctest: +SKIP
        """
        if method not in ("wald", "lr"):
            raise CalcstatsError(f"method must be 'wald' or 'lr', got {method!r}.")
        rows = []
        for term, cols in term_columns(self.design.design_info).items():
            if term == "Intercept":
                continue
            k = len(cols)
            if method == "wald":
                b = self.params[cols].to_numpy()
                V = self.cov.loc[cols, cols].to_numpy()
                w = float(b @ np.linalg.solve(V, b))
                if self.df_resid is not None:
                    stat, p, label = w / k, stats.f.sf(w / k, k, self.df_resid), "Wald F"
                else:
                    stat, p, label = w, stats.chi2.sf(w, k), "Wald chi-square"
            else:
                if self._refit is None:
                    raise CalcstatsError(f"{type(self).__name__} cannot be refitted for LR tests.")
                keep = [c for c in self.params.index if c not in cols]
                reduced = self._refit(keep)
                stat = 2.0 * (self.loglik - reduced.loglik)
                p, label = stats.chi2.sf(stat, k), "likelihood ratio"
            rows.append({"term": term, "df": k, "statistic": stat, "p_value": p, "method": label})
        return pd.DataFrame(rows, columns=["term", "df", "statistic", "p_value", "method"])


def c_statistic(y: np.ndarray, score: np.ndarray) -> float:
    """Concordance (AUC) of a score for a 0/1 outcome; ties count one half."""
    pos = y == 1
    m, n = int(pos.sum()), int((~pos).sum())
    if m == 0 or n == 0:
        return float("nan")
    r = stats.rankdata(score)
    return float((r[pos].sum() - m * (m + 1) / 2) / (m * n))


class _BinaryResult(RegressionResult):
    def _glance_extra(self) -> dict[str, Any]:
        out = super()._glance_extra()
        eta = self.design.X.to_numpy(dtype=float) @ self.params.to_numpy()
        out["concordance"] = c_statistic(self.design.y.to_numpy(dtype=float), eta)
        return out


class LogisticResult(_BinaryResult):
    """Logistic regression (odds ratios); glance() includes the concordance (C statistic)."""

    ratio_measure = "OR"


class LogBinomialResult(_BinaryResult):
    """Log-binomial regression (risk ratios), or its modified-Poisson fallback."""

    ratio_measure = "RR"


class PoissonResult(RegressionResult):
    """Poisson regression (incidence rate ratios; risk ratios for modified Poisson)."""

    ratio_measure = "IRR"


class NegativeBinomialResult(RegressionResult):
    """Negative binomial (NB2) regression, theta by maximum likelihood (MASS::glm.nb)."""

    ratio_measure = "IRR"

    @property
    def theta(self) -> float:
        return float(self.extra["theta"])


class LinearResult(RegressionResult):
    """Linear regression (t-based inference)."""

    ratio_measure = None
