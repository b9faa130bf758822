"""Covariate balance between treated and controls, before and after weighting or matching.

Conventions (R's cobalt defaults, ``bal.tab(..., binary = "std")``):

* one row per continuous covariate, per binary covariate (0/1 numbers or booleans) and per
  level of every categorical covariate (every level, including both levels of a
  two-level factor, so SMD(F) = −SMD(M));
* **SMD** = (treated mean − control mean) / denominator. The numerator uses plain means
  (unweighted) or weighted means Σwx/Σw (weighted). The denominator is computed once,
  from the **unweighted** sample, and is the same for the unweighted and the weighted
  SMD: sqrt((s₁² + s₀²)/2) for ATE and ATO, s₁ (treated) for ATT, s₀ (controls) for ATC;
  s² is the sample variance (n − 1) for continuous covariates and p(1 − p) for binary
  covariates and factor levels. The SMD is signed. A zero denominator gives 0 when the
  means are equal and ±inf otherwise;
* **variance ratio** (continuous covariates only): treated variance / control variance;
  unweighted with n − 1, weighted as R's ``cov.wt(x, wt = w, method = "unbiased")``,
  Σw(x − x̄_w)² / (Σw − Σw²/Σw) (unchanged when all weights are multiplied by a
  constant);
* a covariate is **balanced** when |SMD| < ``threshold`` (0.1 by default), judged on the
  weighted SMD when there are weights and on the unweighted one otherwise.

How this differs from :func:`calcstats.table_one` with ``weights=``: Table 1 describes
the weighted population, so its weighted SMD (R ``tableone::svyCreateTableOne``'s) takes
weighted means *and* weighted variances in the denominator, is unsigned, and is one
number per categorical variable (Yang and Dalton's multivariate SMD). :func:`balance` is
the diagnostic: a fixed, unweighted denominator means that a change in the SMD after
weighting or matching comes from the means alone, not from a variance that the weights
also changed (Austin and Stuart 2015), and a per-level SMD shows which level is off. Both
are reported in papers: Table 1 (often with weighted columns) and a love plot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import DataError, SchemaError
from calcstats._validation import (
    COLUMN,
    COLUMNS,
    Interval,
    Options,
    check_weights,
    require_columns,
    validate_params,
)
from calcstats.causal._weights import ESTIMANDS, kish_ess
from calcstats.labels import Labels
from calcstats.results import EstimateResult

__all__ = ["BALANCE_COLUMNS", "BalanceResult", "balance"]

BALANCE_COLUMNS = [
    "variable",
    "level",
    "smd_unweighted",
    "smd_weighted",
    "variance_ratio_unweighted",
    "variance_ratio_weighted",
    "balanced",
    "type",
    "mean_treated_unweighted",
    "mean_control_unweighted",
    "mean_treated_weighted",
    "mean_control_weighted",
    "sd_denominator",
]


class BalanceResult(EstimateResult):
    """Result of :func:`balance`: one row per covariate (or factor level).

    ``tidy()`` columns: ``variable, level, smd_unweighted, smd_weighted,
    variance_ratio_unweighted, variance_ratio_weighted, balanced, type,
    mean_treated_unweighted, mean_control_unweighted, mean_treated_weighted,
    mean_control_weighted, sd_denominator`` (``level`` is None for continuous and binary
    covariates; weighted columns are NaN without weights; ``type`` is ``"continuous"``,
    ``"binary"`` or ``"factor_level"``).

    Attributes
    ----------
    treatment : str
    covariates : list of str
    estimand : {"ATE", "ATT", "ATC", "ATO"}
        Sets the SMD denominator.
    threshold : float
    weighted : bool
        Whether weights (or matching weights) were given.
    n : pandas.Series
        Units per group (index ``treated``, ``control``).
    ess : pandas.Series
        Kish's effective sample size per group (equal to ``n`` without weights).
    adjustment : {"weighting", "matching"}
        What the weights stand for (``"matching"`` from ``MatchResult.balance``); names
        the two samples in :func:`calcstats.plot.love`.
    """

    adjustment: str = "weighting"

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        treatment: str,
        covariates: list[str],
        estimand: str,
        threshold: float,
        weighted: bool,
        n: pd.Series,
        ess: pd.Series,
        method: str,
        labels: Labels | Mapping[str, str] | None,
    ) -> None:
        super().__init__(frame, by=[], method=method, conf_level=0.95, labels=labels)
        self.treatment = treatment
        self.covariates = covariates
        self.estimand = estimand
        self.threshold = threshold
        self.weighted = weighted
        self.n = n
        self.ess = ess

    def glance(self) -> pd.DataFrame:
        """One row: ``n_treated, n_control, ess_treated, ess_control,
        max_abs_smd_unweighted, max_abs_smd_weighted, n_imbalanced, threshold``."""
        f = self._frame
        return pd.DataFrame(
            [
                {
                    "n_treated": int(self.n["treated"]),
                    "n_control": int(self.n["control"]),
                    "ess_treated": float(self.ess["treated"]),
                    "ess_control": float(self.ess["control"]),
                    "max_abs_smd_unweighted": float(np.nanmax(np.abs(f["smd_unweighted"]))),
                    "max_abs_smd_weighted": (
                        float(np.nanmax(np.abs(f["smd_weighted"])))
                        if self.weighted
                        else float("nan")
                    ),
                    "n_imbalanced": int((~f["balanced"]).sum()),
                    "threshold": self.threshold,
                }
            ]
        )

    def _title(self) -> str:
        return f"BalanceResult: {self.method}"


def _expand(data: pd.DataFrame, covariates: list[str]) -> list[dict[str, Any]]:
    """One entry per continuous/binary covariate and per factor level."""
    rows: list[dict[str, Any]] = []
    for v in covariates:
        col = data[v]
        bad = col.isna().to_numpy()
        if bad.any():
            where = data.index[bad][:5].tolist()
            raise DataError(
                f"balance(): covariate {v!r} is missing in {int(bad.sum())} row(s) (rows "
                f"{where}). Balance is computed on complete rows only; drop or impute them "
                "first (the same rows as the propensity model)."
            )
        if pd.api.types.is_bool_dtype(col):
            rows.append(
                {"variable": v, "level": None, "type": "binary", "x": col.to_numpy(dtype=float)}
            )
        elif pd.api.types.is_numeric_dtype(col):
            x = col.to_numpy(dtype=float)
            kind = "binary" if np.isin(x, (0.0, 1.0)).all() else "continuous"
            rows.append({"variable": v, "level": None, "type": kind, "x": x})
        else:
            if isinstance(col.dtype, pd.CategoricalDtype):
                levels = list(col.cat.categories)
            else:
                levels = sorted(col.unique().tolist(), key=str)
            for lv in levels:
                rows.append(
                    {
                        "variable": v,
                        "level": lv,
                        "type": "factor_level",
                        "x": (col == lv).to_numpy(dtype=float),
                    }
                )
    return rows


def _weighted_var(x: np.ndarray, w: np.ndarray) -> float:
    """R's ``cov.wt(x, wt = w, method = "unbiased")``: Σw(x − x̄)² / (Σw − Σw²/Σw)."""
    sw = w.sum()
    m = (w * x).sum() / sw
    return float((w * (x - m) ** 2).sum() / (sw - (w * w).sum() / sw))


def _ratio(a: float, b: float) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.divide(a, b))


def _smd(diff: float, denom: float) -> float:
    if denom == 0:
        return 0.0 if diff == 0 else float(np.copysign(np.inf, diff))
    return diff / denom


def _treatment(data: pd.DataFrame, treatment: str) -> np.ndarray:
    col = data[treatment]
    if col.isna().any():
        rows = data.index[col.isna().to_numpy()][:5].tolist()
        raise DataError(f"balance(): treatment {treatment!r} is missing in rows {rows}.")
    t = (
        col.to_numpy(dtype=float)
        if (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col))
        else None
    )
    if t is None or not np.isin(t, (0.0, 1.0)).all():
        vals = sorted(map(str, col.unique()))[:5]
        raise DataError(
            f"balance(): treatment {treatment!r} must be 0/1 (or True/False); found "
            f"{vals}. Recode it, e.g. data['{treatment}'] == 'yes'."
        )
    if (t == 1).sum() < 2 or (t == 0).sum() < 2:
        raise DataError(
            f"balance(): {treatment!r} needs at least two treated and two control units."
        )
    return t


def _weights(data: pd.DataFrame, weights: Any) -> np.ndarray | None:
    if weights is None:
        return None
    if isinstance(weights, str):
        require_columns(data, {"weights": weights}, function="balance")
        values = data[weights]
        name = weights
    else:
        if isinstance(weights, pd.Series):
            if not weights.index.equals(data.index):
                raise DataError(
                    "balance(): the weights Series has a different index from the data; "
                    "use weights computed on these rows (e.g. ps.weights() for the same data)."
                )
            values = weights
        else:
            arr = np.asarray(weights)
            if arr.ndim != 1 or len(arr) != len(data):
                raise DataError(
                    f"balance(): weights has {arr.size} values for {len(data)} "
                    "rows; give one weight per row or a column name."
                )
            values = pd.Series(arr, index=data.index)
        name = str(values.name or "weights")
    if values.isna().any():
        rows = data.index[values.isna().to_numpy()][:5].tolist()
        raise DataError(
            f"balance(): {int(values.isna().sum())} weight(s) are missing (rows {rows}), e.g. "
            "rows the propensity model could not use; drop them first, as in "
            "data.loc[ps.scores.notna()]."
        )
    return check_weights(values, column=name, function="balance")


@validate_params(
    {
        "treatment": [COLUMN],
        "covariates": [COLUMNS],
        "estimand": [Options(*ESTIMANDS)],
        "threshold": [Interval(0, None, closed="neither")],
    }
)
def balance(
    data: pd.DataFrame,
    *,
    treatment: str,
    covariates: str | Sequence[str],
    weights: str | Sequence[float] | pd.Series | None = None,
    estimand: str = "ATE",
    threshold: float = 0.1,
    labels: Labels | dict[str, str] | None = None,
) -> BalanceResult:
    """Standardised mean differences and variance ratios, unweighted and weighted.

    Conventions are cobalt's defaults (module docstring of
    :mod:`calcstats.causal._balance`): the SMD denominator comes from the **unweighted**
    group variances — sqrt((s₁² + s₀²)/2) for ATE and ATO, the treated SD for ATT, the
    control SD for ATC — and is shared by the unweighted and the weighted SMD; binary
    covariates and every factor level use p(1 − p); variance ratios (continuous only) use
    weighted variances as R's ``cov.wt(method = "unbiased")``. This is not
    :func:`calcstats.table_one`'s weighted SMD (tableone's, with weighted variances): see
    the module docstring for why both exist.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit; no missing covariate, treatment or weight.
    treatment : str
        0/1 (or boolean) treatment column.
    covariates : str or list of str
        Columns to compare. Numeric columns holding only 0 and 1, and booleans, are
        binary; other numeric columns continuous; anything else categorical (one row per
        level; the order of a pandas Categorical, else sorted).
    weights : str, array-like or Series, optional
        A weight column, or one weight per row (e.g. ``ps.weights()`` or a matching
        weight). Zero weights leave a unit out of the weighted columns only.
    estimand : {"ATE", "ATT", "ATC", "ATO"}
        Sets the SMD denominator (the treated SD for ATT, the control SD for ATC, the
        pooled SD otherwise).
    threshold : float
        |SMD| below this counts as balanced.
    labels : Labels or dict, optional
        Display labels the result keeps (used by :func:`calcstats.plot.love`).

    Returns
    -------
    BalanceResult
        ``tidy()`` (one row per covariate or level), ``glance()`` (group sizes, Kish ESS,
        largest |SMD|, number imbalanced).

    Examples
    --------
    >>> import pandas as pd, calcstats as cs
    >>> d = pd.DataFrame({"t": [1, 1, 1, 0, 0, 0], "age": [60, 70, 80, 50, 60, 70.0],
    ...                   "sex": ["F", "M", "M", "F", "F", "M"]})
    >>> b = cs.balance(d, treatment="t", covariates=["age", "sex"])
    >>> b.tidy()[["variable", "level", "smd_unweighted"]].round(3)
      variable level  smd_unweighted
    0      age  None           1.000
    1      sex     F          -0.707
    2      sex     M           0.707
    """
    covs = [covariates] if isinstance(covariates, str) else list(covariates)
    require_columns(data, {"treatment": treatment, "covariates": covs}, function="balance")
    if treatment in covs:
        raise SchemaError(f"balance(): the treatment {treatment!r} is also in covariates.")
    t = _treatment(data, treatment)
    w = _weights(data, weights)
    t1, t0 = t == 1, t == 0
    if w is not None and (w[t1].sum() == 0 or w[t0].sum() == 0):
        raise DataError("balance(): every weight of one group is zero; nothing to compare.")
    rows = []
    for r in _expand(data, covs):
        x = r["x"]
        x1, x0 = x[t1], x[t0]
        if r["type"] == "continuous":
            v1, v0 = float(np.var(x1, ddof=1)), float(np.var(x0, ddof=1))
        else:
            p1, p0 = x1.mean(), x0.mean()
            v1, v0 = float(p1 * (1 - p1)), float(p0 * (1 - p0))
        if estimand == "ATT":
            denom = np.sqrt(v1)
        elif estimand == "ATC":
            denom = np.sqrt(v0)
        else:
            denom = np.sqrt((v1 + v0) / 2)
        m1u, m0u = float(x1.mean()), float(x0.mean())
        out = {
            "variable": r["variable"],
            "level": r["level"],
            "type": r["type"],
            "mean_treated_unweighted": m1u,
            "mean_control_unweighted": m0u,
            "sd_denominator": float(denom),
            "smd_unweighted": _smd(m1u - m0u, denom),
            "variance_ratio_unweighted": _ratio(v1, v0) if r["type"] == "continuous" else np.nan,
            "mean_treated_weighted": np.nan,
            "mean_control_weighted": np.nan,
            "smd_weighted": np.nan,
            "variance_ratio_weighted": np.nan,
        }
        if w is not None:
            w1, w0 = w[t1], w[t0]
            m1w = float((w1 * x1).sum() / w1.sum())
            m0w = float((w0 * x0).sum() / w0.sum())
            out.update(
                mean_treated_weighted=m1w,
                mean_control_weighted=m0w,
                smd_weighted=_smd(m1w - m0w, denom),
            )
            if r["type"] == "continuous":
                out["variance_ratio_weighted"] = _ratio(
                    _weighted_var(x1, w1), _weighted_var(x0, w0)
                )
        judged = out["smd_weighted"] if w is not None else out["smd_unweighted"]
        out["balanced"] = bool(abs(judged) < threshold)
        rows.append(out)
    frame = pd.DataFrame(rows, columns=BALANCE_COLUMNS)
    n = pd.Series({"treated": int(t1.sum()), "control": int(t0.sum())}, name="n")
    if w is None:
        ess = n.astype(float).rename("ess")
    else:
        ess = pd.Series({"treated": kish_ess(w[t1]), "control": kish_ess(w[t0])}, name="ess")
    denom_text = {"ATT": "treated SD", "ATC": "control SD"}.get(estimand, "pooled SD")
    method = (
        f"Standardised mean differences ({denom_text} of the unweighted sample, "
        f"{estimand}) and variance ratios"
        + (", unweighted and weighted" if w is not None else ", unweighted")
    )
    return BalanceResult(
        frame,
        treatment=treatment,
        covariates=covs,
        estimand=estimand,
        threshold=float(threshold),
        weighted=w is not None,
        n=n,
        ess=ess,
        method=method,
        labels=labels,
    )
