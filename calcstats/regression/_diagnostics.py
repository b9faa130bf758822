"""Model diagnostics: VIF, Hosmer–Lemeshow, AUC with DeLong CI, calibration.

* ``vif``: ``1 / (1 - R^2)`` of each design column regressed on the others (with
  intercept), as ``car::vif`` for one-column terms (multi-column terms are reported per
  column, not as a generalised VIF).
* ``hosmer_lemeshow``: groups by quantiles of the predicted risk,
  ``cut(p, quantile(p, 0:g/g), include.lowest=TRUE)`` as ResourceSelection::hoslem.test,
  chi-square on ``g - 2`` df.
* ``auc``: the C statistic with DeLong's variance (placement values; as
  ``pROC::ci.auc(method="delong")``), Wald interval on the AUC scale.
* ``calibration``: as ``rms::val.prob``: intercept from ``glm(y ~ offset(lp))``
  (calibration-in-the-large), slope from ``glm(y ~ lp)``; on the development data these
  are 0 and 1 by construction for ML logistic regression, so pass validation ``data=``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from calcstats._design import build_design
from calcstats._errors import CalcstatsError, DataError, InvalidParameterError
from calcstats._validation import CONF_LEVEL, Interval, validate_params
from calcstats.engine._dispatch import no_engine_form
from calcstats.engine._table import EngineTable
from calcstats.labels import Labels
from calcstats.regression._glm import LOGIT
from calcstats.regression._glmfit import fit_glm
from calcstats.regression._results import RegressionResult
from calcstats.results import EstimateResult, TestResult, check_conf_level

__all__ = ["AUCResult", "CalibrationResult", "auc", "calibration", "hosmer_lemeshow", "vif"]


def vif(data: pd.DataFrame | RegressionResult, formula: str | None = None) -> pd.DataFrame:
    """Variance inflation factors of the design columns.

    Parameters
    ----------
    data : DataFrame or RegressionResult
        A fitted model (its design is used) or data with ``formula``.
    formula : str, optional
        ``"y ~ x1 + x2"`` or one-sided ``"~ x1 + x2"`` when ``data`` is a DataFrame.

    Returns
    -------
    pandas.DataFrame
        ``term, vif`` (intercept omitted).

    Examples
    --------
    >>> import pandas as pd
    >>> from calcstats.regression import vif
    >>> d = pd.DataFrame({"a": [1.0, 2, 3, 4, 5, 6], "b": [2.0, 1, 4, 3, 6, 5]})
    >>> vif(d, "~ a + b")["vif"].round(3).tolist()
    [3.19, 3.19]
    """
    if isinstance(data, RegressionResult):
        X = data.design.X
    elif isinstance(data, pd.DataFrame):
        if not isinstance(formula, str):
            raise InvalidParameterError(
                "vif(data, formula): give a formula such as '~ age + C(sex)'."
            )
        rhs = formula.split("~", 1)[-1]
        X = build_design(data, rhs, response=False, model_name="vif").X
    elif isinstance(data, EngineTable):
        raise no_engine_form("vif", data)
    else:
        raise InvalidParameterError(
            "vif() takes a fitted regression result or a DataFrame and formula."
        )
    cols = [c for c in X.columns if c != "Intercept"]
    if len(cols) < 2:
        raise CalcstatsError("vif() needs at least two covariate columns.")
    A = X[cols].to_numpy(dtype=float)
    out = []
    for j, name in enumerate(cols):
        others = np.column_stack([np.ones(len(A)), np.delete(A, j, axis=1)])
        beta, *_ = np.linalg.lstsq(others, A[:, j], rcond=None)
        resid = A[:, j] - others @ beta
        tss = np.sum((A[:, j] - A[:, j].mean()) ** 2)
        r2 = 1 - np.sum(resid**2) / tss
        out.append({"term": name, "vif": 1 / (1 - r2) if r2 < 1 else np.inf})
    return pd.DataFrame(out, columns=["term", "vif"])


def _binary_predictions(result: Any, data: pd.DataFrame | None, name: str):
    if not isinstance(result, RegressionResult) or result.ratio_measure not in ("OR", "RR"):
        raise CalcstatsError(
            f"{name}() needs a binary-outcome model (logistic or log_binomial result)."
        )
    if data is None:
        assert result.design.y is not None  # a regression design has its outcome
        y = result.design.y.to_numpy(dtype=float)
        X = result.design.X.to_numpy(dtype=float)
    else:
        y, X = result.design.outcome_and_matrix(data, model_name=name)
    eta = X @ result.params.to_numpy()
    if result.ratio_measure == "OR":
        p = special.expit(eta)
    else:
        p = np.exp(eta)
    return y, p, eta


@validate_params({"groups": [Interval(3, None, integer=True)]})
def hosmer_lemeshow(
    result: RegressionResult, groups: int = 10, *, data: pd.DataFrame | None = None
) -> TestResult:
    """Hosmer–Lemeshow goodness-of-fit test for a binary-outcome model.

    Parameters
    ----------
    result : RegressionResult
        A logistic (or log-binomial) fit.
    groups : int
        Number of risk groups (quantiles of predicted risk); df = groups - 2.
    data : DataFrame, optional
        Validation data; default the rows the model was fitted on.

    Returns
    -------
    TestResult
        With ``tidy(details=True)``: observed and expected events and n per group.

    Examples
    --------
    >>> import calcstats as cs
    >>> fit = cs.logistic(cs.datasets.load_pbc().dropna(subset=["stage"]), "I(stage == 4) ~ age")
    >>> round(cs.hosmer_lemeshow(fit).p_value, 3)
    0.056
    """
    if not isinstance(groups, int) or groups < 3:
        raise CalcstatsError(f"groups must be an integer >= 3, got {groups!r}.")
    y, p, _ = _binary_predictions(result, data, "hosmer_lemeshow")
    br = np.unique(np.quantile(p, np.linspace(0, 1, groups + 1)))
    if len(br) - 1 < groups:
        raise DataError(
            f"hosmer_lemeshow(): only {len(br) - 1} distinct risk groups can be formed from "
            f"the predicted probabilities (ties); use groups={len(br) - 1} or fewer."
        )
    g = np.clip(np.searchsorted(br, p, side="left") - 1, 0, groups - 1)  # (a, b], lowest in
    obs = np.bincount(g, weights=y, minlength=groups)
    exp = np.bincount(g, weights=p, minlength=groups)
    n = np.bincount(g, minlength=groups).astype(float)
    stat = float(np.sum((obs - exp) ** 2 / exp + (obs - exp) ** 2 / (n - exp)))
    df = groups - 2
    table = pd.DataFrame(
        {"group": np.arange(1, groups + 1), "n": n, "observed": obs, "expected": exp}
    )
    return TestResult(
        stat, df, stats.chi2.sf(stat, df), method="Hosmer-Lemeshow test", details=table
    )


class AUCResult(EstimateResult):
    """Area under the ROC curve (the C statistic) with DeLong's standard error and CI.

    ``tidy()`` has one row: ``estimate, std_error, conf_low, conf_high, n_events,
    n_nonevents``; the same numbers are attributes.
    """

    def __init__(
        self,
        estimate: float,
        std_error: float,
        conf_low: float,
        conf_high: float,
        conf_level: float,
        n_events: int,
        n_nonevents: int,
    ) -> None:
        self.estimate, self.std_error = estimate, std_error
        self.conf_low, self.conf_high = conf_low, conf_high
        self.n_events, self.n_nonevents = n_events, n_nonevents
        frame = pd.DataFrame(
            [
                {
                    "estimate": estimate,
                    "std_error": std_error,
                    "conf_low": conf_low,
                    "conf_high": conf_high,
                    "n_events": n_events,
                    "n_nonevents": n_nonevents,
                }
            ]
        )
        super().__init__(
            frame,
            by=[],
            method="C statistic (area under the ROC curve), DeLong confidence interval",
            conf_level=conf_level,
            labels=Labels({"estimate": "C statistic", "n_nonevents": "Non-events"}),
        )

    def __repr__(self) -> str:
        return (
            f"AUC = {self.estimate:.4f} ({100 * self.conf_level:g}% CI {self.conf_low:.4f}"
            f"–{self.conf_high:.4f}, DeLong)"
        )


class CalibrationResult(EstimateResult):
    """Calibration intercept (calibration-in-the-large; ideal 0) and slope (ideal 1).

    ``tidy()``: ``term`` (``intercept``, ``slope``), ``estimate, std_error, conf_low,
    conf_high``.
    """

    def __init__(self, frame: pd.DataFrame, *, conf_level: float) -> None:
        super().__init__(
            frame,
            by=["term"],
            method="Logistic recalibration: intercept with the linear predictor as offset, "
            "slope on the linear predictor",
            conf_level=conf_level,
            labels=Labels(
                {"term": "Parameter"},
                levels={
                    "term": {"intercept": "Calibration intercept", "slope": "Calibration slope"}
                },
            ),
        )


@validate_params({"conf_level": [CONF_LEVEL]})
def auc(
    result: RegressionResult, *, data: pd.DataFrame | None = None, conf_level: float = 0.95
) -> AUCResult:
    """C statistic (AUC) of a binary-outcome model with DeLong's CI.

    Examples
    --------
    >>> import calcstats as cs
    >>> fit = cs.logistic(cs.datasets.load_pbc().dropna(subset=["stage"]), "I(stage == 4) ~ age")
    >>> cs.auc(fit)
    AUC = 0.6300 (95% CI 0.5725–0.6875, DeLong)
    """
    level = check_conf_level(conf_level)
    y, p, _ = _binary_predictions(result, data, "auc")
    pos, neg = p[y == 1], p[y == 0]
    m, n = len(pos), len(neg)
    if m < 2 or n < 2:
        raise DataError("auc() needs at least two events and two non-events.")
    r_all = stats.rankdata(np.concatenate([pos, neg]))
    v10 = (r_all[:m] - stats.rankdata(pos)) / n  # placement of each event among non-events
    v01 = 1 - (r_all[m:] - stats.rankdata(neg)) / m
    a = float(v10.mean())
    var = np.var(v10, ddof=1) / m + np.var(v01, ddof=1) / n
    se = float(np.sqrt(var))
    q = stats.norm.ppf(1 - (1 - level) / 2)
    return AUCResult(a, se, max(a - q * se, 0.0), min(a + q * se, 1.0), level, m, n)


@validate_params({"conf_level": [CONF_LEVEL]})
def calibration(
    result: RegressionResult, *, data: pd.DataFrame | None = None, conf_level: float = 0.95
) -> CalibrationResult:
    """Calibration intercept and slope of a logistic model (rms::val.prob convention).

    Returns
    -------
    CalibrationResult
        ``tidy()`` rows ``intercept`` (calibration-in-the-large:
        ``glm(y ~ offset(lp))``; ideal 0) and ``slope`` (``glm(y ~ lp)``; ideal 1) with
        ``estimate, std_error, conf_low, conf_high``.

    Examples
    --------
    >>> import calcstats as cs
    >>> pbc = cs.datasets.load_pbc()
    >>> fit = cs.logistic(pbc[pbc.trt.notna()], "I(stage == 4) ~ age")
    >>> import warnings
    >>> with warnings.catch_warnings():  # 6 new rows lack a model variable: dropped, counted
    ...     warnings.simplefilter("ignore", cs.DataWarning)
    ...     cal = cs.calibration(fit, data=pbc[pbc.trt.isna()])
    >>> cal.tidy()["term"].tolist()
    ['intercept', 'slope']
    """
    level = check_conf_level(conf_level)
    if result.ratio_measure != "OR":
        raise CalcstatsError("calibration() needs a logistic regression result.")
    y, _, lp = _binary_predictions(result, data, "calibration")
    one = np.ones((len(y), 1))
    fi = fit_glm(one, y, family=LOGIT, offset=lp, intercept=0, tol=1e-12)
    fs = fit_glm(np.column_stack([one, lp]), y, family=LOGIT, intercept=0, tol=1e-12)
    q = stats.norm.ppf(1 - (1 - level) / 2)
    rows = []
    for name, est, se in (
        ("intercept", fi.coef[0], np.sqrt(fi.cov[0, 0])),
        ("slope", fs.coef[1], np.sqrt(fs.cov[1, 1])),
    ):
        rows.append(
            {
                "term": name,
                "estimate": float(est),
                "std_error": float(se),
                "conf_low": float(est - q * se),
                "conf_high": float(est + q * se),
            }
        )
    return CalibrationResult(pd.DataFrame(rows), conf_level=level)
