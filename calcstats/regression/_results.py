"""Result classes of the regression models (all :class:`~calcstats.ModelResult`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from calcstats._design import Design
from calcstats._errors import CalcstatsError
from calcstats.regression._frame import ModelFrame
from calcstats.results import ModelResult

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
    params : pandas.Series
        Coefficients on the model (link) scale.
    cov : pandas.DataFrame
        Covariance matrix of ``params`` (robust / cluster-robust when requested).
    frame : ModelFrame
        Design, outcome, weights, clusters and offset of the analysed rows.
    design : Design
        ``frame.design``: the design matrix, outcome and the analysed rows
        (``design.frame``).
    se_type : str
        How the standard errors were computed.
    model : object
        The fit object (:class:`calcstats.regression._glmfit.GlmFit` for the GLMs).
    """

    design: Design  # always set (ModelResult allows None for bare coefficients)

    def __init__(
        self,
        params: pd.Series,
        cov: pd.DataFrame | np.ndarray,
        *,
        frame: ModelFrame,
        model: Any,
        method: str,
        loglik: float | None,
        n_events: int | None = None,
        n_params: int | None = None,
        df_resid: float | None = None,
        se_type: str = "model-based",
        conf_level: float = 0.95,
        refit: Callable[[list[str]], RegressionResult] | None = None,
        converged: bool = True,
        nonestimable: dict[str, str] | None = None,
    ) -> None:
        super().__init__(
            params,
            cov,
            model=model,
            conf_level=conf_level,
            nobs=frame.n,
            n_events=n_events,
            loglik=loglik,
            n_params=n_params,
            converged=converged,
            nonestimable=nonestimable,
            terms=frame.design.terms,
        )
        self.frame = frame
        self.design = frame.design
        self.method = method
        self.df_resid = df_resid
        self.se_type = se_type
        self._refit = refit
        self._profile_fn: Callable[[float], tuple[np.ndarray, np.ndarray]] | None = None
        self._profile_cache: dict[float, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def formula(self) -> str:
        return self.design.formula

    def events_per_row(self) -> np.ndarray | None:
        """The outcome per analysed row (events or counts), None for linear models."""
        if self.n_events is None or self.design.y is None:
            return None
        return self.design.y.to_numpy(dtype=float)

    def _conf_int(self, conf_level: float) -> tuple[np.ndarray, np.ndarray]:
        if self._profile_fn is None:
            return super()._conf_int(conf_level)
        if conf_level not in self._profile_cache:
            self._profile_cache[conf_level] = self._profile_fn(conf_level)
        return self._profile_cache[conf_level]

    def _glance_extra(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "n_dropped": self.design.n_dropped,
            "n_zero_weight": self.frame.n_zero_weight,
            "se_type": self.se_type,
        }
        if self.df_resid is not None:
            out["df_resid"] = self.df_resid
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
        if method == "wald":
            return super().term_tests()
        if self._refit is None:
            raise CalcstatsError(f"{type(self).__name__} cannot be refitted for LR tests.")
        rows = []
        for term, cols in self.terms.items():
            if term == "Intercept":
                continue
            k = len(cols)
            if any(c in self.nonestimable for c in cols):
                stat = p = float("nan")
            else:
                keep = [c for c in self.params.index if c not in cols]
                reduced = self._refit(keep)
                stat = 2.0 * (float(self.loglik or 0.0) - float(reduced.loglik or 0.0))
                p = float(stats.chi2.sf(stat, k))
            rows.append(
                {
                    "term": term,
                    "df": k,
                    "statistic": stat,
                    "p_value": p,
                    "method": "likelihood ratio",
                }
            )
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
        assert self.design.y is not None  # a regression design has its outcome
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
    """Negative binomial (NB2) regression, theta by maximum likelihood (MASS::glm.nb).

    Attributes
    ----------
    theta, theta_se : float
        The shape (``Var = μ + μ²/θ``) and its standard error.
    """

    ratio_measure = "IRR"
    theta: float = float("nan")
    theta_se: float = float("nan")

    def _glance_extra(self) -> dict[str, Any]:
        return {**super()._glance_extra(), "theta": self.theta, "theta_se": self.theta_se}


class LinearResult(RegressionResult):
    """Linear regression (t-based inference).

    Attributes
    ----------
    r_squared, adj_r_squared, sigma : float
        R², adjusted R² and the residual standard error (as R's ``summary.lm``).
    """

    ratio_measure = None
    r_squared: float = float("nan")
    adj_r_squared: float = float("nan")
    sigma: float = float("nan")

    def _glance_extra(self) -> dict[str, Any]:
        return {
            **super()._glance_extra(),
            "r_squared": self.r_squared,
            "adj_r_squared": self.adj_r_squared,
            "sigma": self.sigma,
        }
