"""Hypothesis tests: statistic, degrees of freedom, p-value, and per-part tables."""

from __future__ import annotations

import pandas as pd

from calcstats._format import format_number, format_p
from calcstats.results._base import Result

__all__ = ["TestResult"]


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
            [{"statistic": self.statistic, "df": self.df, "p_value": self.p_value,
              "method": self.method}]
        )

    def inline(self, *, digits: int = 2) -> str:
        """The fragment a results section prints, e.g. ``"χ²(2) = 7.31, p = 0.026"``."""
        p = format_p(self.p_value)
        p_text = f"p {p[0]} {p[1:]}" if p.startswith(("<", ">")) else f"p = {p}"
        df = "" if self.df is None else (
            f"({format_number(self.df, digits=0 if float(self.df).is_integer() else 1)})")
        return f"χ²{df} = {format_number(self.statistic, digits=digits)}, {p_text}"

    def __repr__(self) -> str:
        df = "" if self.df is None else f", df = {self.df:g}"
        return f"{self.method}: statistic = {self.statistic:.4f}{df}, p = {self.p_value:.4g}"
