"""Shared result contract for every calcstats model and test.

Models return a subclass of :class:`ModelResult`; hypothesis tests a subclass of
:class:`TestResult`. Both give a broom-style ``tidy()`` DataFrame with fixed column names
(never level-dependent), a readable ``repr`` and ``_repr_html_``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from calcstats._errors import CalcstatsError

__all__ = ["TIDY_COLUMNS", "ModelResult", "TestResult", "as_term_series", "check_conf_level"]

TIDY_COLUMNS = ["term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]


def check_conf_level(conf_level: float) -> float:
    """Validate a confidence level in (0, 1) and return it as float."""
    try:
        level = float(conf_level)
    except (TypeError, ValueError):
        raise CalcstatsError(
            f"conf_level must be a number between 0 and 1, got {conf_level!r}; "
            "use e.g. conf_level=0.95."
        ) from None
    if not 0 < level < 1:
        raise CalcstatsError(
            f"conf_level must lie strictly between 0 and 1, got {conf_level!r}; "
            "use e.g. conf_level=0.95 (not 95)."
        )
    return level


class ModelResult:
    """Base class of fitted-model results.

    Subclasses set ``params`` (model-scale coefficients, a Series indexed by term),
    ``bse`` (standard errors), ``model`` (the underlying fitted object) and, where the
    defaults do not fit, override :meth:`_conf_int` or :meth:`_test`.

    Attributes
    ----------
    ratio_measure : str or None
        Name of the exponentiated measure (``"OR"``, ``"RR"``, ``"IRR"``, ``"HR"``,
        ``"sHR"``) or ``None`` for linear models; drives the default of
        ``tidy(exponentiate=...)``.
    df_resid : float or None
        Residual degrees of freedom; when set, tests and intervals use the t distribution.
    """

    ratio_measure: str | None = None
    method: str = ""
    df_resid: float | None = None

    def __init__(
        self,
        params: pd.Series,
        bse: pd.Series,
        *,
        model: Any = None,
        conf_level: float = 0.95,
        nobs: int | None = None,
        n_events: int | None = None,
        loglik: float | None = None,
        n_params: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.params = pd.Series(params, dtype=float)
        self.bse = pd.Series(bse, dtype=float).reindex(self.params.index)
        self.model = model
        self.conf_level = check_conf_level(conf_level)
        self.nobs = nobs
        self.n_events = n_events
        self.loglik = loglik
        self.n_params = len(self.params) if n_params is None else n_params
        self.extra = dict(extra or {})

    # ---- hooks -------------------------------------------------------------------
    def _test(self) -> tuple[np.ndarray, np.ndarray]:
        """Return (statistic, p_value) arrays for each term (Wald by default)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (self.params / self.bse).to_numpy()
        if self.df_resid is not None:
            p = 2 * stats.t.sf(np.abs(z), self.df_resid)
        else:
            p = 2 * stats.norm.sf(np.abs(z))
        return z, p

    def _conf_int(self, conf_level: float) -> tuple[np.ndarray, np.ndarray]:
        """Return model-scale (low, high) arrays (Wald by default)."""
        a = 1 - conf_level
        if self.df_resid is not None:
            q = stats.t.ppf(1 - a / 2, self.df_resid)
        else:
            q = stats.norm.ppf(1 - a / 2)
        est = self.params.to_numpy()
        se = self.bse.to_numpy()
        return est - q * se, est + q * se

    def _glance_extra(self) -> dict[str, Any]:
        return {}

    # ---- public ------------------------------------------------------------------
    @property
    def aic(self) -> float:
        if self.loglik is None:
            return float("nan")
        return -2.0 * self.loglik + 2.0 * self.n_params

    def tidy(
        self, exponentiate: bool | None = None, conf_level: float | None = None
    ) -> pd.DataFrame:
        """One row per term: ``term, estimate, std_error, statistic, p_value, conf_low, conf_high``.

        Parameters
        ----------
        exponentiate : bool, optional
            Report ``exp(estimate)`` and exponentiated limits (OR/RR/IRR/HR). Defaults to
            True for ratio models and False otherwise. ``std_error`` stays on the model
            (log) scale.
        conf_level : float, optional
            Confidence level; defaults to the level the model was fitted with (0.95).
        """
        level = self.conf_level if conf_level is None else check_conf_level(conf_level)
        if exponentiate is None:
            exponentiate = self.ratio_measure is not None
        elif not isinstance(exponentiate, (bool, np.bool_)):  # "False" would be truthy
            raise CalcstatsError(
                f"exponentiate must be True, False or None, got {exponentiate!r}."
            )
        stat, p = self._test()
        low, high = self._conf_int(level)
        est = self.params.to_numpy(dtype=float)
        if exponentiate:
            with np.errstate(over="ignore"):
                est, low, high = np.exp(est), np.exp(low), np.exp(high)
        return pd.DataFrame(
            {
                "term": list(self.params.index),
                "estimate": est,
                "std_error": self.bse.to_numpy(dtype=float),
                "statistic": stat,
                "p_value": p,
                "conf_low": low,
                "conf_high": high,
            },
            columns=TIDY_COLUMNS,
        )

    def glance(self) -> pd.DataFrame:
        """One row of model-level summaries (n, n_events, log-likelihood, AIC, method, ...)."""
        row: dict[str, Any] = {
            "n": self.nobs,
            "n_events": self.n_events,
            "log_likelihood": self.loglik,
            "aic": self.aic,
        }
        row.update(self._glance_extra())
        row["method"] = self.method
        return pd.DataFrame([row])

    def _title(self) -> str:
        return f"{type(self).__name__}: {self.method}"

    def __repr__(self) -> str:
        tidy = self.tidy()
        label = self.ratio_measure or "estimate"
        shown = tidy.rename(columns={"estimate": label})
        g = self.glance().iloc[0]
        head = [self._title()]
        parts = [f"n={g['n']}"]
        if g.get("n_events") is not None and not pd.isna(g.get("n_events")):
            parts.append(f"events={g['n_events']}")
        if g.get("log_likelihood") is not None and not pd.isna(g.get("log_likelihood")):
            parts.append(f"logLik={g['log_likelihood']:.3f}")
        head.append(", ".join(parts))
        body = shown.to_string(index=False, float_format=lambda v: f"{v:.4g}")
        return "\n".join([*head, body])

    def _repr_html_(self) -> str:
        tidy = self.tidy()
        return f"<p><b>{self._title()}</b></p>" + tidy.to_html(
            index=False, float_format=lambda v: f"{v:.4g}"
        )


class TestResult:
    """Result of a hypothesis test: ``statistic``, ``df``, ``p_value`` and ``tidy()``."""

    __test__ = False  # keep pytest from collecting this class

    def __init__(
        self,
        statistic: float,
        df: float | None,
        p_value: float,
        *,
        method: str,
        extra: dict[str, Any] | None = None,
        table: pd.DataFrame | None = None,
    ) -> None:
        self.statistic = float(statistic)
        self.df = None if df is None else float(df)
        self.p_value = float(p_value)
        self.method = method
        self.extra = dict(extra or {})
        self.table = table

    def tidy(self) -> pd.DataFrame:
        """One row: ``statistic, df, p_value, method``."""
        return pd.DataFrame(
            [{"statistic": self.statistic, "df": self.df, "p_value": self.p_value,
              "method": self.method}]
        )

    def __repr__(self) -> str:
        df = "" if self.df is None else f", df = {self.df:g}"
        return f"{self.method}: statistic = {self.statistic:.4f}{df}, p = {self.p_value:.4g}"

    def _repr_html_(self) -> str:
        return f"<p><b>{self.method}</b></p>" + self.tidy().to_html(index=False)


def as_term_series(values: Sequence[float] | np.ndarray, terms: Sequence[str]) -> pd.Series:
    """Small helper: a float Series indexed by term names."""
    return pd.Series(np.asarray(values, dtype=float), index=list(terms))
