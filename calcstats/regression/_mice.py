"""Multiple imputation by chained equations (as R ``mice``).

statsmodels' ``MICEData`` imputes every column by predictive mean matching on OLS and
handles numeric columns only; a cohort has binary and multi-level categorical covariates
(sex, etiology), so this module implements the chained equations itself, following
van Buuren's mice defaults:

* numeric columns: predictive mean matching (``pmm``; Bayesian linear-regression draw of
  the coefficients with ridge 1e-5, type-1 matching, 5 donors);
* two-level categorical / boolean columns: logistic regression with a draw of the
  coefficients from their approximate posterior (``logreg``);
* multi-level categorical columns: multinomial logistic regression with a coefficient
  draw (``polyreg``; mice's polyreg uses the fitted probabilities without a draw).

Each incomplete column is imputed in turn from all other columns (categorical
predictors dummy-coded), ``maxit`` sweeps, starting from random draws of observed values.
Imputation ``i`` uses its own child of ``numpy.random.SeedSequence(seed)``, so results
are reproducible with a seed and do not depend on ``m``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, special

from calcstats._errors import DataError, SchemaError
from calcstats._validation import BOOLEAN, DATAFRAME, NONE, Interval, validate_params

__all__ = ["MiceResult", "mice"]

_METHODS = ("pmm", "logreg", "polyreg", "")


class MiceResult:
    """``m`` completed data sets from :func:`mice`.

    Attributes
    ----------
    datasets : list of pandas.DataFrame
        The completed data sets (same columns, index and categories as the input).
    method : dict
        Imputation method per column (``""`` = not imputed).
    n_missing : pandas.Series
        Missing values per column in the input.
    """

    def __init__(
        self,
        datasets: list[pd.DataFrame],
        method: dict[str, str],
        n_missing: pd.Series,
        seed: int | None,
        maxit: int,
    ) -> None:
        self.datasets = datasets
        self.method = method
        self.n_missing = n_missing
        self.seed = seed
        self.maxit = maxit

    @property
    def m(self) -> int:
        return len(self.datasets)

    def fit(self, fn: Callable[[pd.DataFrame], Any]) -> list[Any]:
        """Apply ``fn`` (e.g. ``lambda d: cs.logistic(d, "y ~ x")``) to every data set."""
        return [fn(d) for d in self.datasets]

    def __repr__(self) -> str:
        imp = ", ".join(
            f"{c} ({k}, {int(self.n_missing[c])} missing)" for c, k in self.method.items() if k
        )
        return f"MiceResult: m={self.m}, maxit={self.maxit}, seed={self.seed}; imputed {imp}"


def _default_method(s: pd.Series) -> str:
    if s.notna().all():
        return ""
    if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
        return "logreg" if s.dropna().nunique() <= 2 else "polyreg"
    return "pmm"


def _predictors(work: np.ndarray, exclude: int, nlev: list[int]) -> np.ndarray:
    """Intercept, standardised numeric columns and dummy-coded categorical columns."""
    parts = [np.ones((work.shape[0], 1))]
    for j, k in enumerate(nlev):
        if j == exclude:
            continue
        x = work[:, j]
        if k == 0:
            sd = x.std()
            parts.append(((x - x.mean()) / (sd if sd > 0 else 1.0))[:, None])
        elif k > 1:
            parts.append((x[:, None] == np.arange(1, k)[None, :]).astype(float))
    return np.hstack(parts)


def _pmm(
    X: np.ndarray, y: np.ndarray, obs: np.ndarray, rng: np.random.Generator, donors: int = 5
) -> np.ndarray:
    xo, yo = X[obs], y[obs]
    xtx = xo.T @ xo
    v = np.linalg.inv(xtx + np.diag(1e-5 * np.diag(xtx)))
    coef = v @ xo.T @ yo
    res = yo - xo @ coef
    df = max(len(yo) - X.shape[1], 1)
    sigma = np.sqrt(res @ res / rng.chisquare(df))
    chol = linalg.cholesky((v + v.T) / 2, lower=True)
    beta = coef + chol @ rng.standard_normal(len(coef)) * sigma
    yhat_obs = xo @ coef
    yhat_mis = X[~obs] @ beta
    order = np.argsort(yhat_obs, kind="stable")
    sorted_hat = yhat_obs[order]
    n = len(sorted_hat)
    d = min(donors, n)
    pos = np.searchsorted(sorted_hat, yhat_mis)
    offs = np.arange(-d, d)
    cand = np.clip(pos[:, None] + offs[None, :], 0, n - 1)
    dist = np.abs(sorted_hat[cand] - yhat_mis[:, None])
    dist += 1e-12 * rng.random(dist.shape)  # random tie-breaking
    nearest = np.take_along_axis(cand, np.argsort(dist, axis=1)[:, :d], axis=1)
    pick = nearest[np.arange(len(yhat_mis)), rng.integers(0, d, len(yhat_mis))]
    return yo[order[pick]]


def _multilogit_draw(
    X: np.ndarray, codes: np.ndarray, obs: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """Fit a (ridge-stabilised) multinomial logit on observed rows, draw coefficients and
    categories for the missing rows. ``k == 2`` is logistic regression."""
    xo, yo = X[obs], codes[obs]
    n, p = xo.shape
    Y = (yo[:, None] == np.arange(1, k)[None, :]).astype(float)
    beta = np.zeros((p, k - 1))
    ridge = 1e-4 * n
    for _ in range(50):
        eta = np.column_stack([np.zeros(n), xo @ beta])
        pr = special.softmax(eta, axis=1)[:, 1:]
        grad = (xo.T @ (Y - pr)).ravel(order="F") - ridge * beta.ravel(order="F")
        H = np.zeros((p * (k - 1), p * (k - 1)))
        for a in range(k - 1):
            for b in range(k - 1):
                w = pr[:, a] * ((a == b) - pr[:, b])
                H[a * p : (a + 1) * p, b * p : (b + 1) * p] = (xo * w[:, None]).T @ xo
        H += ridge * np.eye(p * (k - 1))
        step = np.linalg.solve(H, grad)
        beta = beta + step.reshape((p, k - 1), order="F")
        if np.max(np.abs(step)) < 1e-8:
            break
    cov = np.linalg.inv(H)
    draw = beta.ravel(order="F") + linalg.cholesky((cov + cov.T) / 2, lower=True) @ (
        rng.standard_normal(p * (k - 1))
    )
    bd = draw.reshape((p, k - 1), order="F")
    xm = X[~obs]
    prob = special.softmax(np.column_stack([np.zeros(len(xm)), xm @ bd]), axis=1)
    u = rng.random(len(xm))[:, None]
    return (u > np.cumsum(prob, axis=1)).sum(axis=1).clip(0, k - 1)


@validate_params(
    {
        "data": [DATAFRAME],
        "m": [Interval(1, None, integer=True)],
        "maxit": [Interval(1, None, integer=True)],
        "seed": [Interval(0, None, integer=True), NONE],
        "progress": [BOOLEAN, NONE],
    }
)
def mice(
    data: pd.DataFrame,
    *,
    m: int = 20,
    seed: int | None = None,
    method: dict[str, str] | None = None,
    maxit: int = 10,
    progress: bool | None = None,
) -> MiceResult:
    """Multiple imputation by chained equations.

    Parameters
    ----------
    data : pandas.DataFrame
        The analysis variables (outcome included — it should inform the imputations).
        Columns that should not be predictors (ids, dates) must be left out.
    m : int
        Number of imputed data sets.
    seed : int, optional
        Seed for reproducible imputations.
    method : dict, optional
        Per-column method overriding the default: ``"pmm"`` (numeric), ``"logreg"``
        (two levels), ``"polyreg"`` (categorical) or ``""`` (do not impute; the column's
        missing values are then not allowed).
    maxit : int
        Chained-equation sweeps per imputation.
    progress : bool, optional
        Print progress to stderr; ``None`` (default) prints only once a run has taken more
        than 2 seconds, ``False`` never.

    Returns
    -------
    MiceResult
        ``.datasets`` (list of m DataFrames) and ``.fit(fn)``; pool with :func:`pool`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from calcstats.regression import mice
    >>> d = pd.DataFrame({"x": [1.0, 2, np.nan, 4, 5, 6], "g": ["a", "b", "a", None, "b", "a"]})
    >>> imp = mice(d, m=2, seed=1, maxit=2)
    >>> [int(x.isna().sum().sum()) for x in imp.datasets]
    [0, 0]
    """
    df = data.copy()
    meth = {c: _default_method(df[c]) for c in df.columns}
    for c, k in (method or {}).items():
        if c not in df.columns:
            raise SchemaError(f"method= names column {c!r}, which is not in the data.")
        if k not in _METHODS:
            raise DataError(f"method for {c!r} must be one of {_METHODS}, got {k!r}.")
        meth[c] = k
    kinds: dict[str, str] = {}
    for c in df.columns:
        s = df[c]
        numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        if meth[c] == "pmm" and not numeric:
            raise DataError(f"pmm needs a numeric column; {c!r} is {s.dtype}.")
        kinds[c] = "num" if numeric and meth[c] != "logreg" and meth[c] != "polyreg" else "cat"
        if kinds[c] == "cat" and s.nunique() > 50:
            raise DataError(
                f"mice(): column {c!r} has {s.nunique()} distinct non-numeric values (an id or "
                "free text?); leave it out of the data passed to mice()."
            )
        if s.isna().all():
            raise DataError(f"mice(): column {c!r} has no observed values.")
        if s.isna().any() and meth[c] == "":
            raise DataError(
                f"mice(): column {c!r} has missing values but method ''; give it a method."
            )
    n_missing = df.isna().sum()
    targets = [c for c in df.columns if meth[c] and n_missing[c] > 0]
    cats = {c: pd.Categorical(df[c]).categories for c in df.columns if kinds[c] == "cat"}
    columns = list(df.columns)
    nlev = [0 if kinds[c] == "num" else len(cats[c]) for c in columns]
    base = np.empty((len(df), len(columns)))
    for j, c in enumerate(columns):  # numeric working copy; categoricals as codes
        if kinds[c] == "num":
            base[:, j] = df[c].to_numpy(dtype=float)
        else:
            codes = pd.Categorical(df[c], categories=cats[c]).codes.astype(float)
            codes[codes < 0] = np.nan
            base[:, j] = codes
    tidx = [columns.index(c) for c in targets]
    obs = {j: ~np.isnan(base[:, j]) for j in tidx}
    children = np.random.SeedSequence(seed).spawn(m)
    show = progress is True
    t0 = time.perf_counter()
    out = []
    for i in range(m):
        rng = np.random.default_rng(children[i])
        work = base.copy()
        for j in tidx:  # start: random draws from the observed values
            o = obs[j]
            work[~o, j] = rng.choice(work[o, j], size=int((~o).sum()), replace=True)
        for _ in range(maxit):
            for j in tidx:
                X = _predictors(work, j, nlev)
                o = obs[j]
                if meth[columns[j]] == "pmm":
                    work[~o, j] = _pmm(X, work[:, j], o, rng)
                else:
                    work[~o, j] = _multilogit_draw(X, work[:, j].astype(int), o, nlev[j], rng)
        done = df.copy()
        for c in targets:
            col = work[:, columns.index(c)]
            if kinds[c] == "num":
                vals = col.copy()
                if pd.api.types.is_integer_dtype(df[c].dtype):  # nullable Int64 etc.
                    done[c] = pd.array(np.round(vals).astype("int64"), dtype=df[c].dtype)
                else:
                    done[c] = vals
            else:
                lev = np.asarray(cats[c])[col.astype(int)]
                if isinstance(df[c].dtype, pd.CategoricalDtype):
                    done[c] = pd.Categorical(
                        lev, categories=df[c].cat.categories, ordered=df[c].cat.ordered
                    )
                elif pd.api.types.is_bool_dtype(df[c].dropna()):
                    done[c] = lev.astype(bool)
                else:
                    done[c] = pd.Series(lev, index=df.index).astype(df[c].dropna().dtype)
        out.append(done)
        elapsed = time.perf_counter() - t0
        if progress is None and elapsed > 2.0:
            show = True
        if show:
            print(
                f"mice: imputation {i + 1}/{m} done ({elapsed:.1f} s)", file=sys.stderr, flush=True
            )
    return MiceResult(out, meth, n_missing, seed, maxit)
