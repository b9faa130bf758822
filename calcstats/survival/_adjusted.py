"""Adjusted (standardised) curves and partial effects from Cox and Fine–Gray fits.

Direct standardisation: every subject of ``data`` is given the value ``v`` of the
exposure, keeping their other covariates, and the predicted curves are averaged —
the marginal survival (Cox) or cumulative incidence (Fine–Gray) "had everyone had v".

Confidence intervals:

* Cox — delta method, treating the covariate distribution of ``data`` as fixed. The
  variance has the two parts of R's ``survfit.coxph`` for one subject: the Tsiatis term
  of the baseline cumulative hazard and the term for β̂ (with the dependence of the
  Breslow/Efron baseline on β̂); for one subject it reproduces ``survfit.coxph``'s SE.
  Intervals are computed on the ``conf_type`` scale (log-log by default).
* Fine–Gray — nonparametric bootstrap (``n_boot`` resamples of the fitted rows, refitted
  with the same formula; ``seed`` fixes them): the SE is the bootstrap SD and the interval
  the percentile interval. crr provides no variance for predicted curves.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from calcstats._errors import CalcstatsError, DataError, InvalidParameterError, SchemaError
from calcstats._validation import (
    COLUMN,
    CONF_LEVEL,
    DATAFRAME,
    NONE,
    NUMBERS,
    Interval,
    Options,
    validate_params,
)
from calcstats.labels import Labels
from calcstats.results import CONF_TYPES, AdjustedCurvesResult, EstimateResult
from calcstats.survival._coxfit import _group_sum, _iterate

__all__ = ["PartialEffectResult", "adjusted_curves", "partial_effect"]


class PartialEffectResult(EstimateResult):
    """Ratio of the hazard (or subdistribution hazard) at each value of a variable to that
    at a reference value (:func:`calcstats.partial_effect`): a dose–response curve.

    ``tidy()`` has ``value, estimate, conf_low, conf_high`` (ratio scale).

    Attributes
    ----------
    variable : str
        The data column varied.
    reference : object
        Its reference value (ratio 1).
    measure : {"HR", "sHR"}
        Hazard ratio (Cox) or subdistribution hazard ratio (Fine–Gray).
    held_at : dict
        The value every other model variable is held at (median or most common value);
        it matters only with interactions.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        variable: str,
        reference: Any,
        measure: str,
        held_at: dict[str, Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(frame, by=["value"], **kwargs)
        self.variable = variable
        self.reference = reference
        self.measure = measure
        self.held_at = dict(held_at)


def _check_result(result: Any, function: str) -> None:
    from calcstats.survival._cox import CoxResult
    from calcstats.survival._finegray import FineGrayResult

    if not isinstance(result, CoxResult | FineGrayResult):
        raise InvalidParameterError(
            f"The 'result' parameter of {function} must be a result of cs.cox or "
            f"cs.fine_gray. Got {type(result).__name__}."
        )


_MAX_TIMES = 200


def _values_for(data: pd.DataFrame, variable: str, values) -> list:
    if values is not None:
        vals = list(np.atleast_1d(values)) if not isinstance(values, list) else values
        if not vals:
            raise SchemaError("values is empty; give at least one value of the variable.")
        return vals
    col = data[variable]
    if (
        pd.api.types.is_numeric_dtype(col)
        and not pd.api.types.is_bool_dtype(col)
        and col.nunique() > 10
    ):
        return list(np.quantile(col.dropna(), [0.25, 0.5, 0.75]))
    return sorted(col.dropna().unique().tolist())


def _check_variable(result, variable: str) -> None:
    if variable not in result.design.variables:
        raise SchemaError(
            f"{variable!r} is not a variable of the model formula; the variables are "
            f"{', '.join(result.design.variables)}."
        )


def _typical_row(data: pd.DataFrame, variables: Sequence[str]) -> pd.DataFrame:
    """Median (numeric) or most common value (other) of each variable, as one row."""
    row = {}
    for v in variables:
        col = data[v].dropna()
        if (
            pd.api.types.is_numeric_dtype(col)
            and not pd.api.types.is_bool_dtype(col)
            and col.nunique() > 2
        ):
            row[v] = [float(np.median(col))]
        else:
            row[v] = [col.mode().iloc[0]]
    return pd.DataFrame(row)


@validate_params({"variable": [COLUMN], "conf_level": [CONF_LEVEL, NONE]})
def partial_effect(
    result: Any,
    variable: str,
    values: Any = None,
    reference: Any = None,
    *,
    conf_level: float | None = None,
    labels: Labels | dict[str, str] | None = None,
) -> PartialEffectResult:
    """Hazard ratio (or sHR) of ``variable`` at ``values`` against ``reference``.

    For spline, polynomial or log terms this is the dose–response curve: the ratio of the
    hazard at each value to that at the reference, from the coefficients and their
    covariance (robust if the fit was clustered). Other variables are held at their
    median (numeric) or most common value; this matters only with interactions.

    Parameters
    ----------
    result : CoxResult or FineGrayResult
    variable : str
        A data column used in the formula (e.g. ``"age"`` for ``cr(age, df=4)``).
    values : array-like, optional
        Values to evaluate; default 50 points from the 5th to the 95th percentile
        (numeric) or every level.
    reference : optional
        Reference value; default the median (numeric with more than 10 distinct values)
        or the first (sorted) level.
    conf_level : float, optional
        Defaults to the fit's level.
    labels : Labels or dict, optional
        Display labels the result keeps (merged over the fit's own).

    Returns
    -------
    PartialEffectResult
        ``tidy()``: ``value, estimate, conf_low, conf_high`` (ratio scale); ``variable``,
        ``reference``, ``measure``; drawn by :func:`calcstats.plot.dose_response`.

    Examples
    --------
    >>> import calcstats as cs
    >>> pbc = cs.datasets.load_pbc()
    >>> fit = cs.cox(pbc, "cr(age, df=4) + log(bili)", time="time", event="status", cause=2)
    >>> effect = cs.partial_effect(fit, "age", values=[40, 50, 60], reference=50)
    >>> effect.variable, effect.reference, effect.measure
    ('age', 50, 'HR')
    >>> effect.tidy()["estimate"].round(2).tolist()
    [0.6, 1.0, 1.65]
    """
    _check_result(result, "partial_effect")
    _check_variable(result, variable)
    level = result.conf_level if conf_level is None else float(conf_level)
    data = result.input.data
    col = data[variable]
    numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
    if values is None:
        if numeric and col.nunique() > 10:
            low, high = np.quantile(col, [0.05, 0.95])
            values = np.linspace(low, high, 50)
        else:
            values = sorted(col.unique().tolist())
    values = list(np.atleast_1d(values))
    if reference is None:
        reference = (
            float(np.median(col))
            if numeric and col.nunique() > 10
            else sorted(col.unique().tolist())[0]
        )
    base = _typical_row(data, result.design.variables)
    grid = pd.concat([base] * (len(values) + 1), ignore_index=True)
    grid[variable] = [reference, *values]
    Z = result.design.new_data(grid)
    diff = Z[1:] - Z[0]
    b = result.params.to_numpy()
    V = result.cov.to_numpy()
    lp = diff @ b
    se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", diff, V, diff), 0))
    q = stats.norm.ppf(0.5 + level / 2)
    frame = pd.DataFrame(
        {
            "value": values,
            "estimate": np.exp(lp),
            "conf_low": np.exp(lp - q * se),
            "conf_high": np.exp(lp + q * se),
        }
    )
    others = {v: base[v].iloc[0] for v in result.design.variables if v != variable}
    measure = result.ratio_measure
    return PartialEffectResult(
        frame,
        variable=variable,
        reference=reference,
        measure=measure,
        held_at=others,
        method=(
            f"{measure} of {variable} relative to {variable} = {reference} (Wald "
            f"intervals from the fit's {'robust ' if getattr(result, 'robust', False) else ''}"
            "covariance)"
        ),
        conf_level=level,
        labels=result.labels | Labels.coerce(labels),
    )


def _cox_baseline(result) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Per stratum: event times, baseline cumulative hazard Λ0 (x = 0), A(t), Tsiatis T(t)."""
    fit = result.model
    cd = fit.data
    it = _iterate(cd, fit.coef, info=False, entries=True)
    scale = it.scale * np.exp(-(cd.means @ fit.coef))  # back to x = 0, unshifted
    h = it.mw / it.den * scale
    g = cd.ev_group
    ng = cd.n_groups
    dl = np.bincount(g, weights=h, minlength=ng)
    tv = np.bincount(g, weights=h**2 / it.mw, minlength=ng)
    A = np.zeros((ng, len(fit.coef)))
    _group_sum(A, g, h[:, None] * (it.abar + cd.means))
    out = {}
    for s in np.unique(cd.group_stratum):
        k = cd.group_stratum == s
        out[int(s)] = (
            cd.group_time[k],
            np.cumsum(dl[k]),
            np.cumsum(A[k], axis=0),
            np.cumsum(tv[k]),
        )
    return out


def _step(times: np.ndarray, at: np.ndarray, values: np.ndarray) -> np.ndarray:
    k = np.searchsorted(times, at, side="right")
    pad = np.zeros((1, *values.shape[1:]))
    return np.concatenate([pad, values])[k]


def _strata_of(result, data: pd.DataFrame) -> np.ndarray:
    si = result.input
    cols = si.strata_columns
    if not cols:
        return np.zeros(len(data), dtype=np.int64)
    labels = (
        si.strata[cols[0]].tolist()
        if len(cols) == 1
        else list(si.strata.itertuples(index=False, name=None))
    )
    keys = (
        data[cols[0]].tolist()
        if len(cols) == 1
        else list(data[cols].itertuples(index=False, name=None))
    )
    pos = {lab: i for i, lab in enumerate(labels)}
    missing = [k for k in keys if k not in pos]
    if missing:
        raise DataError(
            f"data have strata {sorted(set(map(str, missing)))[:5]} that the fit "
            "did not see; standardise over rows of the fitted strata."
        )
    return np.array([pos[k] for k in keys], dtype=np.int64)


def _grid(times, event_times: np.ndarray) -> np.ndarray:
    if times is not None:
        tt = np.atleast_1d(np.asarray(times, dtype=float))
        if np.any(~np.isfinite(tt)) or np.any(tt < 0):
            raise InvalidParameterError(
                "The 'times' parameter of adjusted_curves must be a list of finite numbers "
                f">= 0. Got {times!r}."
            )
        return np.sort(tt)
    ut = np.unique(event_times)
    if len(ut) > _MAX_TIMES:
        ut = np.linspace(0, ut.max(), _MAX_TIMES)
    return np.concatenate([[0.0], ut[ut > 0]])


def _transform_ci(est, se, q, conf_type: str, *, cif: bool):
    with np.errstate(divide="ignore", invalid="ignore"):
        s = 1 - est if cif else est
        if conf_type == "plain":
            lo, hi = est - q * se, est + q * se
            return np.clip(lo, 0, 1), np.clip(hi, 0, 1)
        if conf_type == "log":
            lo, hi = s * np.exp(-q * se / s), np.minimum(s * np.exp(q * se / s), 1)
        else:  # log-log
            ll = np.log(-np.log(s))
            d = q * se / (s * np.abs(np.log(s)))
            lo, hi = np.exp(-np.exp(ll + d)), np.exp(-np.exp(ll - d))
        lo = np.where(se == 0, s, lo)
        hi = np.where(se == 0, s, hi)
    return (1 - hi, 1 - lo) if cif else (lo, hi)


@validate_params(
    {
        "data": [DATAFRAME],
        "variable": [COLUMN],
        "times": [NUMBERS, NONE],
        "conf_level": [CONF_LEVEL],
        "conf_type": [Options(*CONF_TYPES)],
        "n_boot": [Interval(20, None, integer=True)],
        "seed": [Interval(0, None, integer=True), NONE],
    }
)
def adjusted_curves(
    result: Any,
    data: pd.DataFrame,
    *,
    variable: str,
    values: Any = None,
    times: Any = None,
    conf_level: float = 0.95,
    conf_type: str = "log-log",
    n_boot: int = 200,
    seed: int | None = 0,
    labels: Labels | dict[str, str] | None = None,
) -> AdjustedCurvesResult:
    """Standardised survival (Cox) or cumulative-incidence (Fine–Gray) curves.

    Parameters
    ----------
    result : CoxResult or FineGrayResult
    data : pandas.DataFrame
        The population to standardise over (usually the analysis data).
    variable : str
        The exposure set to each of ``values`` for everyone.
    values : array-like, optional
        Default: every level (categorical / few values) or the quartiles (numeric).
    times : array-like, optional
        Evaluation times; default the distinct event times (at most 200 points).
    conf_level : float
    conf_type : {"log-log", "log", "plain"}
        Scale of the delta-method interval (Cox; Fine–Gray intervals are bootstrap
        percentile intervals).
    n_boot : int
        Bootstrap resamples for Fine–Gray intervals (at least 20).
    seed : int or None
        Seed of the bootstrap.
    labels : Labels or dict, optional
        Display labels the result keeps (merged over the fit's own).

    Returns
    -------
    AdjustedCurvesResult
        ``tidy()``: ``<variable>, time, estimate, std_error, conf_low, conf_high``;
        ``estimate`` is survival (Cox) or cumulative incidence (Fine–Gray). Model-based:
        no numbers at risk. Drawn by :func:`calcstats.plot.survival`.

    Examples
    --------
    >>> import calcstats as cs
    >>> pbc = cs.datasets.load_pbc().dropna(subset=["trt"])
    >>> fit = cs.cox(pbc, "C(trt) + age + log(bili)", time="time", event="status", cause=2)
    >>> adj = cs.adjusted_curves(fit, pbc, variable="trt", times=[1826])
    >>> adj.estimand, adj.values
    ('survival', [1, 2])
    >>> adj.tidy()[["trt", "time", "estimate"]].round(3)
       trt    time  estimate
    0    1  1826.0     0.716
    1    2  1826.0     0.696
    """
    from calcstats.survival._cox import CoxResult

    _check_result(result, "adjusted_curves")
    if len(data) == 0:
        raise DataError(
            "adjusted_curves(): data has no rows; give the subjects to "
            "standardise over (usually the analysis data)."
        )
    _check_variable(result, variable)
    if variable not in data.columns:
        raise SchemaError(f"adjusted_curves(): variable={variable!r} is not a column of data.")
    vals = _values_for(data, variable, values)
    level = float(conf_level)
    q = stats.norm.ppf(0.5 + level / 2)
    cox = isinstance(result, CoxResult)
    if cox:
        frames = _cox_curves(result, data, variable, vals, times, q, conf_type)
    else:
        frames = _fg_curves(result, data, variable, vals, times, level, n_boot, seed)
    curve = pd.concat(
        [f.drop(columns=variable).assign(_group=i) for i, f in enumerate(frames)],
        ignore_index=True,
    )
    what = "survival" if cox else "cumulative incidence"
    how = (
        "delta-method intervals"
        if cox
        else f"bootstrap percentile intervals ({int(n_boot)} resamples)"
    )
    return AdjustedCurvesResult(
        curve[["_group", "time", "estimate", "std_error", "conf_low", "conf_high"]],
        estimand=what,
        variable=variable,
        n_standardised=len(data),
        n_boot=None if cox else int(n_boot),
        groups=pd.DataFrame({variable: vals}),
        by=[variable],
        conf_type=conf_type if cox else "bootstrap percentile",
        conf_level=level,
        time_column=result.input.time_column,
        event_column=result.input.event_column,
        method=(
            f"Standardised {what} from a {'Cox' if cox else 'Fine–Gray'} model "
            f"(direct standardisation over {len(data):,} rows; {how})"
        ),
        labels=result.labels | Labels.coerce(labels),
    )


def _cox_curves(result, data, variable, vals, times, q, conf_type):
    base = _cox_baseline(result)
    strata = _strata_of(result, data)
    all_t = np.concatenate([b[0] for b in base.values()])
    tt = _grid(times, all_t)
    b = result.params.to_numpy()
    V = result.cov.to_numpy()
    n = len(data)
    frames = []
    for v in vals:
        nd = data.copy()
        nd[variable] = v
        Z = result.design.new_data(nd)
        risk = np.exp(Z @ b)
        est = np.zeros(len(tt))
        gb = np.zeros((len(tt), len(b)))
        var_l = np.zeros(len(tt))
        for s, (gt, L, A, T) in base.items():
            rows = strata == s
            if not rows.any():
                continue
            Ls, As, Ts = _step(gt, tt, L), _step(gt, tt, A), _step(gt, tt, T)
            idx = np.flatnonzero(rows)
            wsum = np.zeros(len(tt))
            for c0 in range(0, len(idx), _chunk(len(tt))):  # bounded memory
                part = idx[c0 : c0 + _chunk(len(tt))]
                r = risk[part]
                Si = np.exp(-np.outer(Ls, r))  # times × subjects
                w = Si * r  # S_i e^{η_i}
                est += Si.sum(axis=1)
                wsum += w.sum(axis=1)
                gb -= Ls[:, None] * (w @ Z[part]) - w.sum(axis=1)[:, None] * As
            var_l += (wsum / n) ** 2 * Ts
        if not np.isin(strata, list(base)).all():
            raise DataError("some rows of data are in strata without events in the fit.")
        est /= n
        gb /= n
        var = np.einsum("ij,jk,ik->i", gb, V, gb) + var_l
        se = np.sqrt(np.maximum(var, 0))
        lo, hi = _transform_ci(est, se, q, conf_type, cif=False)
        frames.append(
            pd.DataFrame(
                {
                    variable: [v] * len(tt),
                    "time": tt,
                    "estimate": est,
                    "std_error": se,
                    "conf_low": lo,
                    "conf_high": hi,
                }
            )
        )
    return frames


def _chunk(n_times: int) -> int:
    """Subjects per block so that a times × subjects block stays near 2·10⁶ numbers."""
    return max(1, 2_000_000 // max(n_times, 1))


def _fg_cif(fit, Z: np.ndarray, tt: np.ndarray) -> np.ndarray:
    cum = np.concatenate([[0.0], np.cumsum(fit.base_jumps)])
    L = cum[np.searchsorted(fit.fail_times, tt, side="right")]
    risk = np.exp(Z @ fit.coef)
    total = np.zeros(len(tt))
    for c0 in range(0, len(risk), _chunk(len(tt))):
        total += np.exp(-np.outer(L, risk[c0 : c0 + _chunk(len(tt))])).sum(axis=1)
    return 1 - total / len(risk)


def _fg_curves(result, data, variable, vals, times, level, n_boot, seed):
    from calcstats.survival._finegray import _FG, _fit

    tt = _grid(times, result.model.fail_times)
    Zs = []
    for v in vals:
        nd = data.copy()
        nd[variable] = v
        Zs.append(result.design.new_data(nd))
    ests = [_fg_cif(result.model, Z, tt) for Z in Zs]
    t, code, X = result.input.time, result.code, result.design.matrix
    rng = np.random.default_rng(seed)
    boots = np.full((int(n_boot), len(vals), len(tt)), np.nan)
    for bi in range(int(n_boot)):
        idx = rng.integers(0, len(t), len(t))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if not (code[idx] == 1).any() or np.any(X[idx].std(axis=0) == 0):
                    continue
                bf = _fit(
                    _FG(t[idx], code[idx], X[idx]), result.design.columns, max_iter=result.max_iter
                )
        except CalcstatsError:  # a degenerate resample (e.g. a singular information)
            continue
        for j, Z in enumerate(Zs):
            boots[bi, j] = _fg_cif(bf, Z, tt)
    a = (1 - level) / 2
    frames = []
    for j, v in enumerate(vals):
        bj = boots[:, j]
        frames.append(
            pd.DataFrame(
                {
                    variable: [v] * len(tt),
                    "time": tt,
                    "estimate": ests[j],
                    "std_error": np.nanstd(bj, axis=0, ddof=1),
                    "conf_low": np.nanquantile(bj, a, axis=0),
                    "conf_high": np.nanquantile(bj, 1 - a, axis=0),
                }
            )
        )
    return frames
