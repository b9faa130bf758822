"""Mantel–Haenszel pooled odds, risk and incidence-rate ratios over strata.

* OR: Mantel–Haenszel estimate with the Robins–Breslow–Greenland variance and the
  Cochran–Mantel–Haenszel test, as R ``mantelhaen.test(exact=FALSE)``. The continuity
  correction of the test follows R's default (``correct=True``); the estimate and
  interval do not depend on it. Homogeneity: Breslow–Day test with Tarone's correction
  (as ``DescTools::BreslowDayTest(correct=TRUE)``), over strata with all margins > 0.
* RR: Mantel–Haenszel risk ratio with the Greenland–Robins (1985) variance; test: the CMH
  test (identical for cohort data); homogeneity: Σ (log RRᵢ − log RR_MH)² / Var(log RRᵢ)
  over strata with cases in both exposure groups (χ², K−1 df; Stata ``cs, by()`` style).
* IRR (needs ``time``): Mantel–Haenszel rate ratio with the Greenland–Robins variance;
  test: the MH χ² for person-time data, (Σa − Σ M₁T₁/T)² / Σ M₁T₁T₀/T² (continuity
  correction as ``correct``); homogeneity: conditional on events per stratum, exposed
  events ~ Binomial(M₁, ψT₁/(ψT₁ + T₀)) at ψ = IRR_MH, χ² = Σ (a − E)² / V, K−1 df (the
  person-time analogue of Breslow–Day; Breslow & Day 1987).

Stratum-specific estimates use Wald intervals on the log scale (Woolf for OR).
statsmodels' ``StratifiedTable`` covers only the OR; the three measures are computed here
from stratum sums in one vectorised pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from calcstats._errors import DataError, InvalidParameterError
from calcstats._survival_input import survival_input
from calcstats._validation import (
    BOOLEAN,
    COLUMN,
    COLUMNS,
    CONF_LEVEL,
    NONE,
    Options,
    require_columns,
    validate_params,
)
from calcstats.describe._checks import (
    as_binary,
    as_list,
    check_frame,
    check_no_missing,
    group_keys,
)
from calcstats.labels import Labels
from calcstats.results import EstimateResult, TestResult

__all__ = ["HomogeneityTestResult", "MantelHaenszelResult", "mantel_haenszel"]

MEASURES = ("OR", "RR", "IRR")


class MantelHaenszelResult(EstimateResult):
    """Pooled Mantel–Haenszel estimate (the result of :func:`mantel_haenszel`).

    ``tidy()`` is one row ``estimate, conf_low, conf_high, p_value`` (the p-value of
    :attr:`test`); :meth:`strata` gives the stratum-specific counts and estimates.

    Attributes
    ----------
    measure : str
        ``"OR"``, ``"RR"`` or ``"IRR"``.
    estimate, conf_low, conf_high, std_error : float
        The pooled ratio, its interval and the standard error of its logarithm.
    test : TestResult
        Test of no association (CMH, or MH person-time test for IRR).
    homogeneity : HomogeneityTestResult
        Test of homogeneity of the stratum-specific ratios.
    crude : tuple of float
        Crude (unstratified) estimate, conf_low, conf_high.
    exposure, outcome : str
        The exposure and outcome columns.
    strata_columns : list of str
        The stratifying columns (the first columns of :meth:`strata`).
    time : str or None
        The person-time column (``measure="IRR"``).
    method, conf_level, labels
        As :class:`~calcstats.results.EstimateResult`.
    """

    def __init__(
        self,
        *,
        measure: str,
        estimate: float,
        conf_low: float,
        conf_high: float,
        std_error: float,
        test: TestResult,
        homogeneity: HomogeneityTestResult,
        strata: pd.DataFrame,
        crude: tuple[float, float, float],
        conf_level: float,
        method: str,
        exposure: str,
        outcome: str,
        strata_columns: Sequence[str],
        time: str | None = None,
        labels: Labels | Mapping[str, str] | None = None,
    ) -> None:
        frame = pd.DataFrame(
            [
                {
                    "estimate": estimate,
                    "conf_low": conf_low,
                    "conf_high": conf_high,
                    "p_value": test.p_value,
                }
            ]
        )
        super().__init__(frame, by=[], method=method, conf_level=conf_level, labels=labels)
        self.measure = measure
        self.estimate = estimate
        self.conf_low = conf_low
        self.conf_high = conf_high
        self.std_error = std_error
        self.test = test
        self.homogeneity = homogeneity
        self._strata = strata.reset_index(drop=True)
        self.crude = crude
        self.exposure = exposure
        self.outcome = outcome
        self.strata_columns = list(strata_columns)
        self.time = time

    def strata(self) -> pd.DataFrame:
        """Per-stratum counts and estimates (Wald/Woolf intervals): the strata columns,
        the counts of the measure, then ``estimate, conf_low, conf_high``."""
        return self._strata.copy()

    def _title(self) -> str:
        return f"Mantel–Haenszel {self.measure}: {self.method}"

    def __repr__(self) -> str:
        return (
            f"MantelHaenszelResult: {self.measure} = {self.estimate:.4g} "
            f"({self.conf_level:.0%} CI {self.conf_low:.4g}–{self.conf_high:.4g})\n"
            f"  {self.test!r}\n  {self.homogeneity!r}"
        )

    def _repr_html_(self) -> str:
        return super()._repr_html_() + f"<p>{self.test!r}<br>{self.homogeneity!r}</p>"


class HomogeneityTestResult(TestResult):
    """Test of homogeneity of the stratum estimates (Breslow–Day or Cochran's Q).

    Attributes
    ----------
    n_strata_used : int
        Informative strata the test used.
    breslow_day_uncorrected : float
        The Breslow–Day statistic before Tarone's correction (odds ratios only).
    """

    def __init__(
        self,
        statistic: float,
        df: float | None,
        p_value: float,
        *,
        method: str,
        n_strata_used: int,
        breslow_day_uncorrected: float = float("nan"),
    ) -> None:
        super().__init__(statistic, df, p_value, method=method)
        self.n_strata_used = n_strata_used
        self.breslow_day_uncorrected = breslow_day_uncorrected


def _wald(est: np.ndarray, var: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        se = np.sqrt(var)
        ok = np.isfinite(se) & np.isfinite(est) & (est > 0)
        return (
            np.where(ok, est * np.exp(-z * se), np.nan),
            np.where(ok, est * np.exp(z * se), np.nan),
        )


@validate_params(
    {
        "exposure": [COLUMN],
        "outcome": [COLUMN],
        "strata": [COLUMNS],
        "measure": [Options(*MEASURES)],
        "time": [COLUMN, NONE],
        "conf_level": [CONF_LEVEL],
        "correct": [BOOLEAN],
    }
)
def mantel_haenszel(
    data: pd.DataFrame,
    *,
    exposure: str,
    outcome: str,
    strata: str | Sequence[str],
    measure: str = "OR",
    time: str | None = None,
    conf_level: float = 0.95,
    correct: bool = True,
    labels: Labels | Mapping[str, str] | None = None,
) -> MantelHaenszelResult:
    """Mantel–Haenszel pooled OR, RR or IRR across strata, with tests.

    Parameters
    ----------
    data : DataFrame
        One row per patient.
    exposure : str
        Binary exposure column (0/1 or bool; 1 = exposed).
    outcome : str
        Binary outcome (0/1 or bool). For ``measure="IRR"`` a non-negative event count
        per row (so aggregated rows work); competing-risk codes are not interpreted —
        pass e.g. ``(status == 1).astype(int)``.
    strata : str or list of str
        Stratifying column(s); missing values are an error.
    measure : {"OR", "RR", "IRR"}
        Odds ratio (RBG variance), risk ratio or incidence-rate ratio (Greenland–Robins
        variances). ``"IRR"`` requires ``time``.
    time : str, optional
        Person-time column for ``measure="IRR"`` (checked as every follow-up time is).
    conf_level : float
        Confidence level.
    correct : bool
        Continuity correction (½) in the MH test statistic; default True as R's
        ``mantelhaen.test``. Does not affect the estimate or interval.
    labels : Labels or dict, optional
        Display labels (kept as ``result.labels``; used by ``to_table()``).

    Returns
    -------
    MantelHaenszelResult
        ``.tidy()`` → ``estimate, conf_low, conf_high, p_value``; ``.test`` and
        ``.homogeneity`` (TestResult), ``.strata()`` per-stratum estimates, ``.crude``.

    Examples
    --------
    >>> import pandas as pd, calcstats as cs
    >>> df = pd.DataFrame({"x": [1, 1, 0, 0] * 5, "y": [1, 0, 1, 0, 1, 1, 0, 0, 0, 1] * 2,
    ...                    "s": ["a"] * 10 + ["b"] * 10})
    >>> res = cs.mantel_haenszel(df, exposure="x", outcome="y", strata="s", measure="OR")
    >>> list(res.tidy().columns), res.measure
    (['estimate', 'conf_low', 'conf_high', 'p_value'], 'OR')
    """
    data = check_frame(data, func="mantel_haenszel")
    labels = Labels.coerce(labels)
    level = float(conf_level)
    if measure == "IRR" and time is None:
        raise InvalidParameterError(
            "The 'time' parameter of mantel_haenszel must be a column name (str) with "
            "measure='IRR', which needs person-time. Got None."
        )
    if measure != "IRR" and time is not None:
        raise InvalidParameterError(
            f"The 'time' parameter of mantel_haenszel must be None unless measure='IRR'. "
            f"Got {time!r} with measure={measure!r}."
        )
    strata_cols = as_list(strata)
    if not strata_cols:
        raise InvalidParameterError(
            "The 'strata' parameter of mantel_haenszel must name at least one column. Got []."
        )
    require_columns(
        data, {"exposure": exposure, "outcome": outcome, "time": time}, function="mantel_haenszel"
    )
    keys = group_keys(data, strata_cols, argument="strata", func="mantel_haenszel")
    x = as_binary(data, exposure, argument="exposure")
    if measure == "IRR":
        check_no_missing(data, [outcome], argument="outcome")
        y = pd.to_numeric(data[outcome], errors="coerce").to_numpy(dtype=float)
        if np.isnan(y).any() or (y < 0).any() or (y != np.round(y)).any():
            raise DataError(
                f"outcome={outcome!r} must be a non-negative event count (or 0/1) for "
                "measure='IRR'."
            )
        assert time is not None  # checked above
        # person-time by the rules of every follow-up time; the outcome holds counts
        # (checked above), which the shared check reads as codes: competing=True keeps
        # counts above 1
        t = survival_input(
            data, time=time, event=outcome, competing=True, function="mantel_haenszel"
        ).time
    else:
        y = as_binary(data, outcome, argument="outcome").astype(float)
        t = None
    if x.min() == x.max():
        raise DataError(f"exposure={exposure!r} takes only the value {x[0]}; nothing to compare.")
    z = float(stats.norm.ppf(0.5 + level / 2))
    label = strata_cols[0] if len(strata_cols) == 1 else " × ".join(strata_cols)
    work = keys.assign(
        _a=x * y,
        _c=(1 - x) * y,
        _n1=x.astype(float),
        _n0=(1 - x).astype(float),
        _t1=(x * t) if t is not None else 0.0,
        _t0=((1 - x) * t) if t is not None else 0.0,
    )
    g = work.groupby(strata_cols, observed=True, sort=True)[
        ["_a", "_c", "_n1", "_n0", "_t1", "_t0"]
    ].sum()
    a, c, n1, n0, t1, t0 = (
        g[col].to_numpy(dtype=float) for col in ["_a", "_c", "_n1", "_n0", "_t1", "_t0"]
    )
    args = (a, c, n1, n0, t1, t0, z, correct)
    fn = {"OR": _odds_ratio, "RR": _risk_ratio, "IRR": _rate_ratio}[measure]
    out = fn(*args)
    strata_df = pd.concat([g.index.to_frame(index=False), pd.DataFrame(out.pop("strata"))], axis=1)
    totals = [np.array([v.sum()]) for v in (a, c, n1, n0, t1, t0)]
    crude = fn(*(*totals, z, correct))
    crude_t = (float(crude["estimate"]), float(crude["conf_low"]), float(crude["conf_high"]))
    method = (
        f"Mantel–Haenszel {measure} of {outcome} for {exposure} = 1 vs 0, stratified by "
        f"{label} ({len(a)} strata), {level:.0%} CI ({out['variance']} variance)."
    )
    return MantelHaenszelResult(
        measure=measure,
        estimate=out["estimate"],
        conf_low=out["conf_low"],
        conf_high=out["conf_high"],
        std_error=out["std_error"],
        test=out["test"],
        homogeneity=out["homogeneity"],
        strata=strata_df,
        crude=crude_t,
        conf_level=level,
        method=method,
        exposure=exposure,
        outcome=outcome,
        strata_columns=strata_cols,
        time=time,
        labels=labels,
    )


def _finish(est: float, var: float, z: float) -> dict:
    se = float(np.sqrt(var)) if var >= 0 else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "estimate": float(est),
            "std_error": se,
            "conf_low": float(est * np.exp(-z * se)),
            "conf_high": float(est * np.exp(z * se)),
        }


def _chi2_test(delta: float, var: float, correct: bool, method: str) -> TestResult:
    yates = 0.5 if correct and abs(delta) >= 0.5 else 0.0
    stat = (abs(delta) - yates) ** 2 / var if var > 0 else np.nan
    p = float(stats.chi2.sf(stat, 1)) if var > 0 else np.nan
    cc = "with" if correct else "without"
    return TestResult(stat, 1, p, method=f"{method} ({cc} continuity correction)")


def _homog(
    stat: float, k: int, method: str, *, uncorrected: float = float("nan")
) -> HomogeneityTestResult:
    df = k - 1
    p = float(stats.chi2.sf(stat, df)) if df > 0 else np.nan
    return HomogeneityTestResult(
        stat if df > 0 else np.nan,
        df,
        p,
        method=method,
        n_strata_used=k,
        breslow_day_uncorrected=uncorrected,
    )


def _odds_ratio(a, c, n1, n0, t1, t0, z, correct):
    b, d = n1 - a, n0 - c
    N = n1 + n0
    m1 = a + c
    with np.errstate(divide="ignore", invalid="ignore"):
        R, S = a * d / N, b * c / N
        P, Q = (a + d) / N, (b + c) / N
        sR, sS = R.sum(), S.sum()
        est = sR / sS
        var = (
            (P * R).sum() / (2 * sR**2)
            + (P * S + Q * R).sum() / (2 * sR * sS)
            + (Q * S).sum() / (2 * sS**2)
        )
        res = _finish(est, var, z)
        # CMH test (strata with N >= 2)
        ok = N >= 2
        e = n1 * m1 / N
        v = n1 * n0 * m1 * (N - m1) / (N**2 * (N - 1))
        res["test"] = _chi2_test(
            float((a - e)[ok].sum()), float(v[ok].sum()), correct, "Cochran–Mantel–Haenszel test"
        )
        # Breslow-Day with Tarone, informative strata (all margins > 0)
        inf = (n1 > 0) & (n0 > 0) & (m1 > 0) & (N - m1 > 0)
        psi = est
        qa = 1 - psi
        qb = (N - n1 - m1) + psi * (n1 + m1)
        qc = -psi * n1 * m1
        lo_b = np.maximum(0, n1 + m1 - N)
        hi_b = np.minimum(n1, m1)
        if np.isfinite(psi) and psi > 0:
            if abs(qa) < 1e-12:
                A = -qc / qb
            else:
                disc = np.sqrt(np.maximum(qb**2 - 4 * qa * qc, 0))
                r1 = (-qb + disc) / (2 * qa)
                r2 = (-qb - disc) / (2 * qa)
                A = np.where((r1 >= lo_b - 1e-9) & (r1 <= hi_b + 1e-9), r1, r2)
            VA = 1 / (1 / A + 1 / (n1 - A) + 1 / (m1 - A) + 1 / (N - n1 - m1 + A))
            k = int(inf.sum())
            bd = float(((a - A) ** 2 / VA)[inf].sum())
            tarone = float((a - A)[inf].sum() ** 2 / VA[inf].sum()) if k else 0.0
            res["homogeneity"] = _homog(
                bd - tarone, k, "Breslow–Day test with Tarone's correction", uncorrected=bd
            )
        else:
            res["homogeneity"] = HomogeneityTestResult(
                np.nan, None, np.nan, method="Breslow–Day test (not estimable)", n_strata_used=0
            )
        est_i = a * d / (b * c)
        lo, hi = _wald(est_i, 1 / a + 1 / b + 1 / c + 1 / d, z)
    res["variance"] = "Robins–Breslow–Greenland"
    res["strata"] = {
        "exposed_cases": a,
        "exposed_noncases": b,
        "unexposed_cases": c,
        "unexposed_noncases": d,
        "estimate": est_i,
        "conf_low": lo,
        "conf_high": hi,
    }
    return res


def _risk_ratio(a, c, n1, n0, t1, t0, z, correct):
    N = n1 + n0
    m1 = a + c
    with np.errstate(divide="ignore", invalid="ignore"):
        R, S = a * n0 / N, c * n1 / N
        est = R.sum() / S.sum()
        var = ((n1 * n0 * m1 - a * c * N) / N**2).sum() / (R.sum() * S.sum())
        res = _finish(est, var, z)
        ok = N >= 2
        e = n1 * m1 / N
        v = n1 * n0 * m1 * (N - m1) / (N**2 * (N - 1))
        res["test"] = _chi2_test(
            float((a - e)[ok].sum()), float(v[ok].sum()), correct, "Cochran–Mantel–Haenszel test"
        )
        est_i = (a / n1) / (c / n0)
        var_i = 1 / a - 1 / n1 + 1 / c - 1 / n0
        use = (a > 0) & (c > 0)
        q = float(((np.log(est_i) - np.log(est)) ** 2 / var_i)[use].sum())
        res["homogeneity"] = _homog(
            q, int(use.sum()), "Homogeneity test of risk ratios (inverse-variance χ²)"
        )
        lo, hi = _wald(est_i, var_i, z)
    res["variance"] = "Greenland–Robins"
    res["strata"] = {
        "exposed_cases": a,
        "exposed_n": n1,
        "unexposed_cases": c,
        "unexposed_n": n0,
        "estimate": est_i,
        "conf_low": lo,
        "conf_high": hi,
    }
    return res


def _rate_ratio(a, c, n1, n0, t1, t0, z, correct):
    b = c  # unexposed events
    T = t1 + t0
    m1 = a + b
    with np.errstate(divide="ignore", invalid="ignore"):
        R, S = a * t0 / T, b * t1 / T
        est = R.sum() / S.sum()
        var = (m1 * t1 * t0 / T**2).sum() / (R.sum() * S.sum())
        res = _finish(est, var, z)
        ok = T > 0
        e = m1 * t1 / T
        v = m1 * t1 * t0 / T**2
        res["test"] = _chi2_test(
            float((a - e)[ok].sum()),
            float(v[ok].sum()),
            correct,
            "Mantel–Haenszel test for person-time",
        )
        use = (m1 > 0) & (t1 > 0) & (t0 > 0)
        p = est * t1 / (est * t1 + t0)
        q = float(((a - m1 * p) ** 2 / (m1 * p * (1 - p)))[use].sum())
        res["homogeneity"] = _homog(
            q, int(use.sum()), "Homogeneity test of rate ratios (conditional binomial χ²)"
        )
        est_i = (a / t1) / (b / t0)
        lo, hi = _wald(est_i, 1 / a + 1 / b, z)
    res["variance"] = "Greenland–Robins"
    res["strata"] = {
        "exposed_events": a,
        "exposed_person_time": t1,
        "unexposed_events": b,
        "unexposed_person_time": t0,
        "estimate": est_i,
        "conf_low": lo,
        "conf_high": hi,
    }
    return res
