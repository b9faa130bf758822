"""Hypothesis tests: statistic, degrees of freedom, p-value, and per-part tables."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from calcstats._errors import CalcstatsError, InvalidParameterError
from calcstats._format import format_number, format_p
from calcstats.labels import Labels
from calcstats.results._base import Result

__all__ = ["GrayTestResult", "LogrankResult", "PHTestResult", "TestResult"]


class TestResult(Result):
    """Result of a hypothesis test.

    Attributes
    ----------
    statistic : float
        The test statistic (chi-square unless ``method`` says otherwise).
    df : float or None
        Degrees of freedom (None for tests without one).
    p_value : float
    method : str
        The test, in words ("Log-rank test (k groups)").
    details : pandas.DataFrame or None
        Per-part numbers when the test has parts (observed and expected events per group
        for a log-rank test, per-term tests of a proportional-hazards check); shown by
        ``tidy(details=True)``.

    Examples
    --------
    >>> t = TestResult(3.84, 1, 0.05, method="Wald test")
    >>> t.inline()
    'χ²(1) = 3.84, p = 0.050'
    """

    def __init__(
        self,
        statistic: float,
        df: float | None,
        p_value: float,
        *,
        method: str,
        details: pd.DataFrame | None = None,
    ) -> None:
        self.statistic = float(statistic)
        self.df = None if df is None else float(df)
        self.p_value = float(p_value)
        self.method = method
        self.details = details

    def tidy(self, *, details: bool = False) -> pd.DataFrame:
        """One row ``statistic, df, p_value, method`` (or the per-part ``details``)."""
        if details:
            if self.details is None:
                return pd.DataFrame()
            return self.details.copy()
        return pd.DataFrame(
            [
                {
                    "statistic": self.statistic,
                    "df": self.df,
                    "p_value": self.p_value,
                    "method": self.method,
                }
            ]
        )

    def inline(self, *, digits: int = 2) -> str:
        """The fragment a results section prints, e.g. ``"χ²(2) = 7.31, p = 0.026"``."""
        p = format_p(self.p_value)
        p_text = f"p {p[0]} {p[1:]}" if p.startswith(("<", ">")) else f"p = {p}"
        df = (
            ""
            if self.df is None
            else (f"({format_number(self.df, digits=0 if float(self.df).is_integer() else 1)})")
        )
        return f"χ²{df} = {format_number(self.statistic, digits=digits)}, {p_text}"

    def __repr__(self) -> str:
        df = "" if self.df is None else f", df = {self.df:g}"
        return f"{self.method}: statistic = {self.statistic:.4f}{df}, p = {self.p_value:.4g}"


class LogrankResult(TestResult):
    """Result of :func:`calcstats.logrank` (R's ``survdiff``).

    ``statistic``, ``df`` and ``p_value`` are the chi-square test; ``tidy(details=True)``
    has one row per group: the ``by`` columns, then ``n, observed, expected, o_minus_e,
    oe2_over_e, oe2_over_v`` (observed and expected are weighted sums with
    Fleming–Harrington weights, as in ``survdiff``).

    Attributes
    ----------
    details : pandas.DataFrame
        The per-group table above.
    variance : numpy.ndarray
        The k x k variance matrix of observed minus expected (summed over strata).
    by : list of str
    groups : pandas.DataFrame
        The ``by`` values, one row per group, in the order of ``variance``.
    rho, gamma : float
        Fleming–Harrington weight ``S(t-)^rho (1 - S(t-))^gamma`` (0, 0: log-rank).
    n_strata : int
    trend : bool
        Whether the statistic is the 1-df test for trend.
    scores : numpy.ndarray or None
        The group scores of the trend test.
    """

    def __init__(
        self,
        statistic: float,
        df: float,
        p_value: float,
        *,
        method: str,
        details: pd.DataFrame,
        variance: np.ndarray,
        by: list[str],
        groups: pd.DataFrame,
        rho: float,
        gamma: float,
        n_strata: int,
        trend: bool,
        scores: np.ndarray | None,
        labels: Labels | Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(statistic, df, p_value, method=method, details=details)
        self.variance = np.asarray(variance, dtype=float)
        self.by = list(by)
        self.groups = groups.reset_index(drop=True)
        self.rho = float(rho)
        self.gamma = float(gamma)
        self.n_strata = int(n_strata)
        self.trend = bool(trend)
        self.scores = None if scores is None else np.asarray(scores, dtype=float)
        self.labels = Labels.coerce(labels)


class GrayTestResult(TestResult):
    """Result of :func:`calcstats.gray_test` (``cmprsk::cuminc``'s Tests).

    ``statistic``, ``df`` and ``p_value`` are the test for ``cause``;
    ``tidy(details=True)`` has the test for every cause in the data (``cause, statistic,
    df, p_value``), as cuminc prints it. A cause that cannot be tested (variance of rank
    0, where cuminc prints ``stat = -1``) has ``df`` 0 and NaN statistic and p-value.

    Attributes
    ----------
    cause : int
        The cause whose cumulative incidence is compared.
    details : pandas.DataFrame
        The per-cause table above.
    scores : pandas.DataFrame
        The ``by`` columns and each group's ``score`` for ``cause`` (they sum to 0).
    variance : numpy.ndarray
        The k x k variance matrix of the scores.
    by : list of str
    groups : pandas.DataFrame
    rho : float
        Power of the weight ``(1 - F(t-))^rho``.
    n_strata : int
    """

    def __init__(
        self,
        statistic: float,
        df: float,
        p_value: float,
        *,
        method: str,
        cause: int,
        details: pd.DataFrame,
        scores: pd.DataFrame,
        variance: np.ndarray,
        by: list[str],
        groups: pd.DataFrame,
        rho: float,
        n_strata: int,
        labels: Labels | Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(statistic, df, p_value, method=method, details=details)
        self.cause = int(cause)
        self.scores = scores.reset_index(drop=True)
        self.variance = np.asarray(variance, dtype=float)
        self.by = list(by)
        self.groups = groups.reset_index(drop=True)
        self.rho = float(rho)
        self.n_strata = int(n_strata)
        self.labels = Labels.coerce(labels)


class PHTestResult(TestResult):
    """Proportional-hazards check of a Cox fit (:meth:`CoxResult.check_ph`, R's ``cox.zph``).

    ``statistic``, ``df`` and ``p_value`` are the GLOBAL test (NaN when the check was run
    with ``global_test=False``); ``tidy(details=True)`` has one row per formula term:
    ``term, statistic, df, p_value``. The scaled Schoenfeld residuals and their smooth
    (:meth:`smooth`) are what :func:`calcstats.plot.ph_diagnostics` draws.

    Attributes
    ----------
    details : pandas.DataFrame
        The per-term tests.
    residuals : pandas.DataFrame
        One row per event: ``time``, ``x`` (transformed time) and one column per term of
        scaled Schoenfeld residuals plus the coefficient (an estimate of β(t)); a term
        named ``time``, ``x`` or ``stratum`` gets the column ``beta(<term>)``. With strata
        a ``stratum`` column (0-based code) comes first.
    columns : dict
        Term → its column in ``residuals``.
    terms : list of str
        The formula terms, in formula order.
    coefficients : pandas.Series
        Per term, the fitted coefficient around which its residuals scatter (NaN for a
        term of several columns, whose residuals are on a relative scale around 1).
    variance : pandas.DataFrame
        Term x term variance of the residuals (the band of :meth:`smooth`).
    transform : str
        The time transform of the test (``"km"``, ``"identity"``, ``"log"``, ``"rank"``).
    time_column : str
        The fit's time column (axis label).
    """

    def __init__(
        self,
        statistic: float,
        df: float | None,
        p_value: float,
        *,
        method: str,
        details: pd.DataFrame,
        residuals: pd.DataFrame,
        columns: dict[str, str],
        coefficients: pd.Series,
        variance: pd.DataFrame,
        transform: str,
        time_column: str,
        labels: Labels | Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(statistic, df, p_value, method=method, details=details)
        self.residuals = residuals
        self.columns = dict(columns)
        self.coefficients = coefficients
        self.variance = variance
        self.transform = transform
        self.time_column = time_column
        self.labels = Labels.coerce(labels)

    @property
    def terms(self) -> list[str]:
        """Term names (``columns[term]`` is the term's column in ``residuals``)."""
        return list(self.columns)

    def smooth(self, term: str, df: int = 4, *, n_points: int = 40) -> pd.DataFrame:
        """Natural-spline smooth of a term's residuals with a ±2 SE band (as ``plot.cox.zph``).

        Parameters
        ----------
        term : str
            One of :attr:`terms`.
        df : int
            Degrees of freedom of the natural spline (at least 2).
        n_points : int
            Number of equally spaced transformed times.

        Returns
        -------
        pandas.DataFrame
            ``x, fit, conf_low, conf_high`` on ``n_points`` equally spaced transformed
            times.
        """
        from patsy.mgcv_cubic_splines import CR

        from calcstats._validation import Interval, check_param

        if term not in self.columns:
            raise InvalidParameterError(
                f"The 'term' parameter of smooth must be one of the terms "
                f"{', '.join(map(repr, self.terms))}. Got {term!r}."
            )
        check_param(df, [Interval(2, None, integer=True)], name="df", function="smooth")
        check_param(n_points, [Interval(2, None, integer=True)], name="n_points", function="smooth")
        df, n_points = int(df), int(n_points)
        xx = self.residuals["x"].to_numpy(float)
        yy = self.residuals[self.columns[term]].to_numpy(float)
        ok = np.isfinite(yy)
        xx, yy = xx[ok], yy[ok]
        pred = np.linspace(xx.min(), xx.max(), n_points)
        both = np.concatenate([pred, xx])
        knots = np.quantile(both, np.linspace(0, 1, df)[1:-1])
        cr = CR()
        kw = {"knots": knots, "lower_bound": both.min(), "upper_bound": both.max()}
        cr.memorize_chunk(both, **kw)
        cr.memorize_finish()
        basis = np.asarray(cr.transform(both, **kw))
        pmat, xmat = basis[:n_points], basis[n_points:]
        coef, *_ = np.linalg.lstsq(xmat, yy, rcond=None)
        fit = pmat @ coef
        xtx_inv = np.linalg.pinv(xmat.T @ xmat)
        seval = np.einsum("ij,jk,ik->i", pmat, xtx_inv, pmat)
        half = 2 * np.sqrt(float(self.variance.loc[term, term]) * seval)
        return pd.DataFrame(
            {"x": pred, "fit": fit, "conf_low": fit - half, "conf_high": fit + half}
        )

    def _summary(self) -> pd.DataFrame:
        return self.tidy(details=True)

    def __repr__(self) -> str:
        body = self.tidy(details=True).to_string(index=False, float_format=lambda v: f"{v:.4g}")
        glob = (
            f"GLOBAL: statistic = {self.statistic:.4f}, df = {self.df:g}, p = {self.p_value:.4g}"
            if self.df is not None
            else "GLOBAL: not computed"
        )
        return f"{self.method}\n{body}\n{glob}"

    def inline(self, *, digits: int = 2) -> str:
        """The GLOBAL test as a results section prints it, e.g. ``"χ²(5) = 11.3, p = 0.046"``."""
        if self.df is None:
            raise CalcstatsError(
                "this proportional-hazards check was run with global_test=False, so it has "
                "no GLOBAL test to report; run check_ph() without it, or report the terms "
                "of tidy(details=True)."
            )
        return super().inline(digits=digits)
