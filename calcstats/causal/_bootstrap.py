"""A seeded nonparametric bootstrap over a whole analysis.

Robust (sandwich) and infinitesimal-jackknife standard errors of weighted analyses treat
the weights as known constants: they ignore that the propensity scores were estimated.
For the ATE this makes them conservative (too wide; Lunceford and Davidian 2004), for
the ATT it can go either way. :func:`bootstrap` redoes the whole chain — propensity
model, weights, outcome model — on each resample, so the percentile intervals include
the uncertainty of every step.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, cast

import numpy as np
import pandas as pd

from calcstats._errors import CalcstatsError, DataError, DataWarning, SchemaError, user_stacklevel
from calcstats._validation import (
    CALLABLE,
    COLUMN,
    CONF_LEVEL,
    NONE,
    Interval,
    require_columns,
    validate_params,
)
from calcstats.labels import Labels
from calcstats.results import ModelResult, Result, check_conf_level

__all__ = ["BootstrapResult", "bootstrap"]


def _statistics(value: Any) -> tuple[pd.Series, str | None, bool]:
    """(named statistics, ratio measure, converged) of what ``fn`` returned."""
    if isinstance(value, ModelResult):
        return value.params.astype(float), value.ratio_measure, bool(value.converged)
    if isinstance(value, pd.Series):
        return value.astype(float), None, True
    if isinstance(value, dict):
        return pd.Series(value, dtype=float), None, True
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        return pd.Series({"statistic": float(value)}), None, True
    raise SchemaError(
        "bootstrap(): fn must return a number, a dict or Series of numbers, or a fitted "
        f"model (its params are used); it returned {type(value).__name__}."
    )


def _warning_key(w: warnings.WarningMessage) -> str:
    """Category and the first two parts of the message ("f(): what: details" -> "f(): what"),
    so that the same warning with different numbers counts once."""
    head = ": ".join(str(w.message).split(": ")[:2])
    return f"{w.category.__name__}: {head}"


class BootstrapResult(Result):
    """Result of :func:`bootstrap`.

    Attributes
    ----------
    estimate : pandas.Series
        ``fn(data)``: the statistics on the original data.
    replicates : pandas.DataFrame
        One row per resample, one column per statistic (NaN rows: failed resamples).
    n, n_failed : int
        Resamples drawn, and those where ``fn`` raised a calcstats error or the model did
        not converge.
    seed : int
        The seed of ``numpy.random.default_rng`` (drawn and recorded when not given).
    cluster : str or None
        The column whose values were resampled (None: rows).
    ratio_measure : str or None
        ``"HR"``, ``"OR"``, ... when ``fn`` returned such a model; ``tidy()`` then
        exponentiates by default.
    warnings_seen : dict of str to int
        Warnings raised inside the resamples ("Category: function(): what") and in how
        many resamples each occurred.
    """

    def __init__(
        self,
        *,
        estimate: pd.Series,
        replicates: pd.DataFrame,
        n_failed: int,
        seed: int,
        cluster: str | None,
        conf_level: float,
        ratio_measure: str | None,
        warnings_seen: dict[str, int],
        labels: Labels | Mapping[str, str] | None,
    ) -> None:
        self.estimate = estimate
        self.replicates = replicates
        self.n = len(replicates)
        self.n_failed = n_failed
        self.seed = seed
        self.cluster = cluster
        self.conf_level = conf_level
        self.ratio_measure = ratio_measure
        self.warnings_seen = warnings_seen
        self.labels = Labels.coerce(labels)
        unit = f"clusters ({cluster})" if cluster else "rows"
        self.method = (
            f"Nonparametric bootstrap, {self.n} resamples of {unit} with "
            f"replacement (seed {seed}); percentile intervals"
        )

    def tidy(
        self, exponentiate: bool | None = None, conf_level: float | None = None
    ) -> pd.DataFrame:
        """``term, estimate, std_error, conf_low, conf_high, n_replicates``.

        ``std_error`` is the SD of the replicates (on the scale of ``fn``'s statistics,
        e.g. log HR); the limits are the (1 ± level)/2 quantiles of the successful
        replicates (type 7, R's default ``quantile``). ``exponentiate`` (default: when
        ``fn`` returned a ratio model) reports exp(estimate) and exp(limits), which is
        exact for percentile intervals.
        """
        level = self.conf_level if conf_level is None else check_conf_level(conf_level)
        if exponentiate is None:
            exponentiate = self.ratio_measure is not None
        a = (1 - level) / 2
        rep = self.replicates
        ok = rep.notna().all(axis=1).to_numpy()
        r = rep.to_numpy(dtype=float)[ok]
        est = self.estimate.to_numpy(dtype=float)
        if r.shape[0] >= 2:
            sd = r.std(axis=0, ddof=1)
            lo, hi = np.quantile(r, a, axis=0), np.quantile(r, 1 - a, axis=0)
        else:
            sd = lo = hi = np.full(len(est), np.nan)
        if exponentiate:
            est, lo, hi = np.exp(est), np.exp(lo), np.exp(hi)
        return pd.DataFrame(
            {
                "term": list(self.estimate.index),
                "estimate": est,
                "std_error": sd,
                "conf_low": lo,
                "conf_high": hi,
                "n_replicates": int(ok.sum()),
            }
        )

    def glance(self) -> pd.DataFrame:
        """One row: ``n, n_failed, seed, cluster, conf_level, method``."""
        return pd.DataFrame(
            [
                {
                    "n": self.n,
                    "n_failed": self.n_failed,
                    "seed": self.seed,
                    "cluster": self.cluster,
                    "conf_level": self.conf_level,
                    "method": self.method,
                }
            ]
        )


def _resample(
    data: pd.DataFrame,
    rng: np.random.Generator,
    cluster: str | None,
    codes: np.ndarray | None,
    members: list[np.ndarray] | None,
) -> pd.DataFrame:
    if cluster is None:
        idx = rng.integers(0, len(data), len(data))
        return data.iloc[idx].reset_index(drop=True)
    assert codes is not None and members is not None
    pick = rng.integers(0, len(members), len(members))
    rows = np.concatenate([members[g] for g in pick])
    sizes = np.array([len(members[g]) for g in pick])
    out = data.iloc[rows].reset_index(drop=True)
    # a cluster drawn twice is two clusters in the resample: new codes 0..G-1
    out[cluster] = np.repeat(np.arange(len(pick)), sizes)
    return out


@validate_params(
    {
        "fn": [CALLABLE],
        "n": [Interval(2, None, integer=True)],
        "seed": [NONE, Interval(0, None, integer=True)],
        "conf_level": [CONF_LEVEL],
        "cluster": [COLUMN, NONE],
    }
)
def bootstrap(
    fn: Callable[[pd.DataFrame], Any],
    data: pd.DataFrame,
    *,
    n: int = 1000,
    seed: int | None = None,
    conf_level: float = 0.95,
    cluster: str | None = None,
    labels: Labels | dict[str, str] | None = None,
) -> BootstrapResult:
    """Repeat an analysis on resampled data: percentile CIs over the whole chain.

    ``fn(data)`` is called once on ``data`` and ``n`` times on resamples drawn with
    replacement (rows, or whole clusters with ``cluster=``). Put every estimated step
    inside ``fn`` — propensity model, weights, outcome model — so that the intervals
    include the uncertainty of the propensity scores, which robust SEs ignore
    (conservative for the ATE; see :mod:`calcstats.causal._bootstrap`).

    Parameters
    ----------
    fn : callable
        ``fn(DataFrame)`` returning a number, a dict or Series of named numbers, or a
        fitted model (its ``params``, e.g. log hazard ratios).
    data : pandas.DataFrame
        The analysis data.
    n : int
        Number of resamples.
    seed : int, optional
        Seed of ``numpy.random.default_rng``; the same seed gives the same replicates.
        None draws one (recorded in ``result.seed``).
    conf_level : float
        Level of the percentile intervals.
    cluster : str, optional
        Resample the values of this column (e.g. the patient id) with all their rows.
        In a resample the rows get a fresh index 0..n−1 and, with ``cluster=``, the
        cluster column holds new codes 0..G−1 so that a cluster drawn twice counts as two.
    labels : Labels or dict, optional

    Returns
    -------
    BootstrapResult
        ``tidy()`` (estimate, bootstrap SE, percentile limits), ``replicates``,
        ``n_failed``. A resample where ``fn`` raises a calcstats error (e.g. no event in
        a group) or returns a non-converged model counts as failed; warnings raised inside
        the resamples are summarised in one :class:`~calcstats.DataWarning`.

    Examples
    --------
    >>> import pandas as pd, calcstats as cs
    >>> d = pd.DataFrame({"x": [1.0, 2, 3, 4, 5, 6, 7, 8]})
    >>> b = cs.bootstrap(lambda df: df["x"].mean(), d, n=200, seed=1)
    >>> b.tidy()[["term", "estimate"]].to_numpy().tolist()
    [['statistic', 4.5]]
    >>> b.seed
    1
    """
    if not isinstance(data, pd.DataFrame):
        raise SchemaError(f"bootstrap() needs a pandas DataFrame, got {type(data).__name__}.")
    conf_level = float(conf_level)
    codes = members = None
    if cluster is not None:
        require_columns(data, {"cluster": cluster}, function="bootstrap")
        if data[cluster].isna().any():
            raise DataError(f"bootstrap(): cluster column {cluster!r} has missing values.")
        codes = pd.factorize(data[cluster])[0]
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(codes.max() + 2))
        members = [order[bounds[g] : bounds[g + 1]] for g in range(codes.max() + 1)]
    if seed is None:
        seed = int(cast(int, np.random.SeedSequence().entropy) % (2**63))
    estimate, ratio, converged = _statistics(fn(data))
    if not converged:
        raise CalcstatsError("bootstrap(): fn's model did not converge on the original data.")
    rng = np.random.default_rng(int(seed))
    out = np.full((int(n), len(estimate)), np.nan)
    failed = 0
    seen: Counter[str] = Counter()
    for b in range(int(n)):
        sample = _resample(data, rng, cluster, codes, members)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                stats, _, ok = _statistics(fn(sample))
            except CalcstatsError:
                failed += 1
                continue
        seen.update({_warning_key(w) for w in caught})
        if not ok:
            failed += 1
            continue
        out[b] = stats.reindex(estimate.index).to_numpy(dtype=float)
    if seen:
        top = "; ".join(f"{m} ({k}×)" for m, k in seen.most_common(3))
        warnings.warn(
            f"bootstrap(): warnings were raised inside the resamples: {top}"
            + (" ..." if len(seen) > 3 else "")
            + " (result.warnings_seen has them all).",
            DataWarning,
            stacklevel=user_stacklevel(),
        )
    if failed > 0.1 * int(n):
        warnings.warn(
            f"bootstrap(): {failed} of {n} resamples failed (fn raised an error or did not "
            "converge); the intervals rest on the others and may be too narrow.",
            DataWarning,
            stacklevel=user_stacklevel(),
        )
    reps = pd.DataFrame(out, columns=list(estimate.index))
    return BootstrapResult(
        estimate=estimate,
        replicates=reps,
        n_failed=failed,
        seed=int(seed),
        cluster=cluster,
        conf_level=conf_level,
        ratio_measure=ratio,
        warnings_seen=dict(seen),
        labels=labels,
    )
