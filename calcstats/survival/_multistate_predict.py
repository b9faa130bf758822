"""State probabilities predicted by a multi-state Cox model for one covariate profile, as
R's ``survfit(coxfit, newdata=)`` (``survfit.coxphms`` / ``multihaz`` / C ``coxsurv2``,
survival 3.5-3).

* The time grid is every distinct stop time of the model data; the starting distribution
  is the empirical one (rows at risk at the first transition time), the same for every
  profile.
* Transition hazard increments at time ``t`` for transition ``a -> b`` with coefficients
  ``β``: ``S`` is the sum of ``w exp(xβ)`` over the rows at risk in ``a``, ``D`` the same
  over the ``d`` rows with that transition at ``t`` and ``W`` their weight sum. After a
  Breslow fit ``dA = W / S``; after an Efron fit R uses ``dA = W / mean_{k<d}(S - k D/d²)``
  (``= W / (S - D (d-1) / (2 d²))``), an approximation of the Efron increment
  ``Σ_k 1/(S - kD/d)`` that R's code uses, reproduced here. Each is multiplied by
  ``exp(x_new β)``.
* ``p(t) = p(t-) expm(Q(t))`` with ``Q[a, b] = dA_ab`` and ``Q[a, a] = -Σ_b dA_ab``
  (R's default ``stype=2``), or ``p(t-) (I + Q)`` with the diagonal cut at 0
  (``stype=1``).
* R gives no standard errors for these curves. Here ``n_boot`` patients-resampling
  bootstrap replicates (refit, recompute) give a bootstrap SD and percentile intervals.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import (
    CalcstatsError,
    ConvergenceError,
    DataError,
    DataWarning,
    user_stacklevel,
)
from calcstats.labels import Labels
from calcstats.results import CurveResult
from calcstats.survival._multistate_fit import fit_transitions
from calcstats.survival._multistate_input import MultiStateInput
from calcstats.survival._multistate_scan import affine_scan

__all__ = ["PredictedProbabilities", "predict"]


class PredictedProbabilities(CurveResult):
    """State probabilities of one covariate profile under a multi-state Cox model.

    A model-based :class:`~calcstats.CurveResult` (no numbers at risk) with a ``state``
    column: ``tidy()``, ``at(times)``.

    Attributes
    ----------
    states : tuple of str
    profile : dict
        The covariate values.
    transitions : list of str
        The modelled transitions (columns of ``cumulative_hazards``).
    n_boot : int
        Bootstrap replicates behind the intervals (0: none); ``n_boot_failed`` of them
        could not be refitted and were left out.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        cumhaz: pd.DataFrame,
        *,
        states: tuple[str, ...],
        profile: dict[str, Any],
        transitions: list[str],
        method: str,
        conf_level: float,
        n_boot: int,
        n_boot_failed: int,
        labels: Labels,
    ) -> None:
        self._frame = frame
        self._cumhaz = cumhaz
        self.by: list[str] = []
        self.groups = pd.DataFrame(index=range(1))
        self.conf_type = "percentile bootstrap" if n_boot else "none"
        self.time_column = "time"
        self.event_column = "state"
        self.weighted = False
        self.states = states
        self.profile = profile
        self.transitions = transitions
        self.method = method
        self.conf_level = conf_level
        self.n_boot = n_boot
        self.n_boot_failed = n_boot_failed
        self.labels = labels

    def tidy(self) -> pd.DataFrame:
        """``time, state, estimate`` (and ``std_error, conf_low, conf_high`` with a
        bootstrap); at every time the estimates add up to 1."""
        return self._frame.copy()

    measure = "Predicted probability in state"
    has_counts = False
    start_value = float("nan")

    def at(self, times: Any) -> pd.DataFrame:
        """The predicted probabilities at given times (right-continuous step functions)."""
        tq = np.unique(np.atleast_1d(np.asarray(times, dtype=float)))
        parts = []
        for _state, part in self._frame.groupby("state", sort=False, observed=True):
            t = part["time"].to_numpy(dtype=float)
            idx = np.searchsorted(t, tq, side="right") - 1
            rows = part.iloc[np.clip(idx, 0, None)].copy()
            rows["time"] = tq
            value_cols = [c for c in rows.columns if c not in ("time", "state")]
            rows.loc[idx < 0, value_cols] = np.nan
            parts.append(rows)
        return (
            pd.concat(parts, ignore_index=True)
            .sort_values(["time"], kind="stable")
            .reset_index(drop=True)
        )

    def median(self) -> pd.DataFrame:
        """Not defined for state probabilities."""
        raise CalcstatsError("median() is not defined for predicted state probabilities.")

    def cumulative_hazards(self) -> pd.DataFrame:
        """``time, transition, cumulative_hazard`` of the profile on the full time grid."""
        return self._cumhaz.copy()

    def _title(self) -> str:
        return f"Predicted state probabilities for {self.profile}: {self.method}"


@dataclass
class _Model:
    """What a prediction needs from a fit (replaced by a bootstrap refit)."""

    data: MultiStateInput
    X: np.ndarray  # design matrix, one row per input row
    coef: np.ndarray  # all coefficients (no NaN)
    row: np.ndarray  # stacked rows
    stratum: np.ndarray
    Xs: np.ndarray  # stacked design
    status: np.ndarray


def expm_batch(Q: np.ndarray) -> np.ndarray:
    """Matrix exponentials of a stack of small matrices (scaling and squaring with a
    degree-20 Taylor polynomial on matrices scaled to norm <= 1/2: error below 1e-25 before
    squaring); ``scipy.linalg.expm`` loops over the stack.

    Examples
    --------
    >>> Q = np.array([[[-0.2, 0.2], [0.0, 0.0]]])
    >>> float(np.round(expm_batch(Q)[0, 0, 0], 12)) == float(np.round(np.exp(-0.2), 12))
    True
    """
    n, D = Q.shape[0], Q.shape[1]
    if n == 0:
        return Q.copy()
    norm = np.abs(Q).sum(axis=2).max(axis=1)
    s = np.maximum(0, np.ceil(np.log2(np.maximum(norm, 1e-300) / 0.5))).astype(np.int64)
    A = Q / np.ldexp(1.0, s)[:, None, None]
    eye = np.broadcast_to(np.eye(D), A.shape)
    E = eye.copy()
    for k in range(20, 0, -1):
        E = eye + np.matmul(A, E) / k
    for i in range(int(s.max())):
        sel = s > i
        E[sel] = np.matmul(E[sel], E[sel])
    return E


def _increments(
    m: _Model, eta_new: np.ndarray, K: int, efron: bool
) -> tuple[np.ndarray, np.ndarray]:
    mi = m.data
    grid = np.unique(mi.stop)
    T = grid.size
    start, stop = mi.start[m.row], mi.stop[m.row]
    w = mi.weights[m.row]
    r = w * np.exp(m.Xs @ m.coef - eta_new[m.stratum])
    lo = np.searchsorted(grid, start, side="right")
    hi = np.searchsorted(grid, stop, side="right")
    acc = np.bincount(lo * K + m.stratum, weights=r, minlength=(T + 1) * K)
    acc -= np.bincount(hi * K + m.stratum, weights=r, minlength=(T + 1) * K)
    S = np.cumsum(acc.reshape(T + 1, K)[:T], axis=0)
    ev = m.status
    key = (hi[ev] - 1) * K + m.stratum[ev]
    W = np.bincount(key, weights=w[ev], minlength=T * K).reshape(T, K)
    d = np.bincount(key, minlength=T * K).reshape(T, K).astype(float)
    D = np.bincount(key, weights=r[ev], minlength=T * K).reshape(T, K)
    with np.errstate(divide="ignore", invalid="ignore"):
        den = S - D * (d - 1) / (2 * d * d) if efron else S
        dA = np.where(d > 0, W / den, 0.0)
    return grid, dA


def _p0(mi: MultiStateInput) -> np.ndarray:
    S = len(mi.states)
    moves = mi.to_code >= 0
    t0 = mi.stop[moves].min()
    at0 = (mi.start < t0) & (mi.stop >= t0)
    p0 = np.bincount(mi.from_code[at0], weights=mi.weights[at0], minlength=S)
    return p0 / p0.sum()


def _curves(
    m: _Model, pairs: list[tuple[int, int]], eta_new: np.ndarray, efron: bool, method: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Grid, probabilities (T, S), profile cumulative hazards (T, K), p0."""
    S = len(m.data.states)
    K = len(pairs)
    grid, dA = _increments(m, eta_new, K, efron)
    p0 = _p0(m.data)
    jump = np.flatnonzero(dA.sum(axis=1) > 0)
    Q = np.zeros((jump.size, S, S))
    for k, (a, b) in enumerate(pairs):
        Q[:, a, b] = dA[jump, k]
    rows = Q.sum(axis=2)
    idx = np.arange(S)
    if method == "expm":
        Q[:, idx, idx] = -rows
        E = expm_batch(Q)
    else:
        Q[:, idx, idx] = np.maximum(0.0, 1.0 - rows)
        E = Q
    pj = affine_scan(E, np.zeros((jump.size, 1, S)), p0[None, :])[:, 0]
    pos = np.searchsorted(jump, np.arange(grid.size), side="right") - 1
    p = np.where((pos >= 0)[:, None], pj[np.clip(pos, 0, None)], p0[None, :])
    return grid, p, np.cumsum(dA, axis=0), p0


def _lookup(grid: np.ndarray, p: np.ndarray, p0: np.ndarray, times: np.ndarray) -> np.ndarray:
    pos = np.searchsorted(grid, times, side="right") - 1
    out = np.where((pos >= 0)[:, None], p[np.clip(pos, 0, None)], p0[None, :])
    out[times > grid[-1]] = np.nan
    return out


def _profile_row(
    result: Any, profile: dict[str, Any] | pd.DataFrame
) -> tuple[np.ndarray, dict[str, Any]]:
    """The design row of the profile and the profile as a dict."""
    if isinstance(profile, dict):
        frame = pd.DataFrame({k: [v] for k, v in profile.items()})
    elif isinstance(profile, pd.DataFrame) and len(profile) == 1:
        frame = profile.reset_index(drop=True)
    else:
        raise DataError(
            "predict_probabilities(): profile must be a dict of covariate values "
            "or a one-row DataFrame."
        )
    return result.design.new_data(frame)[0], {k: frame[k].iloc[0] for k in frame.columns}


def _eta(cmap: np.ndarray, x: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """The profile's linear predictor for each transition."""
    eta = np.zeros(cmap.shape[1])
    for k in range(cmap.shape[1]):
        has = cmap[:, k] >= 0
        eta[k] = x[has] @ coef[cmap[has, k]]
    return eta


def _model_of(result: Any) -> _Model:
    st = result._stacked
    return _Model(
        data=result._data,
        X=result.design.matrix,
        coef=result.params.to_numpy(),
        row=st.row,
        stratum=st.stratum,
        Xs=st.X,
        status=st.status,
    )


def _resample(
    m: _Model, rng: np.random.Generator, trans: list[tuple[int, int]], cmap: np.ndarray, ties: str
) -> _Model:
    """Refit on patients drawn with replacement (each copy its own cluster)."""
    from calcstats.survival._multistate_cox import _stack_arrays

    mi = m.data
    n_sub = int(mi.subject.max()) + 1
    first = np.searchsorted(mi.subject, np.arange(n_sub))
    last = np.append(first[1:], mi.subject.size)
    draw = rng.integers(0, n_sub, n_sub)
    lengths = last[draw] - first[draw]
    rows = np.repeat(first[draw], lengths) + (
        np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    )
    sub = np.repeat(np.arange(n_sub), lengths)
    bi = replace(
        mi,
        subject=sub,
        start=mi.start[rows],
        stop=mi.stop[rows],
        from_code=mi.from_code[rows],
        to_code=mi.to_code[rows],
        weights=mi.weights[rows],
        group=np.zeros(rows.size, dtype=np.int64),
    )
    X = m.X[rows]
    srow, strat, Xs, status = _stack_arrays(bi.from_code, bi.to_code, X, trans, cmap, m.coef.size)
    for k in range(len(trans)):
        if not status[strat == k].any():
            raise ConvergenceError("a resample has no event of a transition")
    members = [tuple(np.flatnonzero((cmap == j).any(axis=0)).tolist()) for j in range(m.coef.size)]
    fit = fit_transitions(
        Xs,
        bi.stop[srow],
        bi.start[srow],
        status,
        strat,
        bi.subject[srow],
        bi.weights[srow] if mi.weighted else None,
        members=members,
        names=[str(j) for j in range(m.coef.size)],
        keep=np.ones(m.coef.size, dtype=bool),
        ties=ties,
        robust=False,
        report=False,
    )
    if not fit.converged or fit.nonestimable:
        raise ConvergenceError("a resample did not converge")
    return _Model(data=bi, X=X, coef=fit.coef, row=srow, stratum=strat, Xs=Xs, status=status)


def predict(
    result: Any,
    profile: dict[str, Any] | pd.DataFrame,
    times: float | Sequence[float] | np.ndarray | None,
    *,
    method: str,
    n_boot: int,
    seed: int | None,
) -> PredictedProbabilities:
    if method not in ("expm", "product_limit"):
        raise CalcstatsError(
            "The 'method' parameter of predict_probabilities must be one of "
            f"'expm', 'product_limit'. Got {method!r}."
        )
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 0:
        raise CalcstatsError(
            "The 'n_boot' parameter of predict_probabilities must be an "
            f"integer >= 0. Got {n_boot!r}."
        )
    if result.nonestimable:
        raise CalcstatsError(
            "predict_probabilities(): the model has non-estimable "
            f"coefficients ({', '.join(result.nonestimable)}); refit without "
            "them before predicting."
        )
    mi = result._data
    pairs = result._pairs
    observed = set(
        zip(
            mi.from_code[mi.to_code >= 0].tolist(),
            mi.to_code[mi.to_code >= 0].tolist(),
            strict=True,
        )
    )
    missing = sorted(observed - set(pairs))
    if missing:
        names = ", ".join(f"{mi.states[a]} -> {mi.states[b]}" for a, b in missing)
        raise CalcstatsError(
            f"predict_probabilities(): the model leaves out the observed "
            f"transition(s) {names}; state probabilities need a model of "
            "every transition (fit with transitions=None)."
        )
    model = _model_of(result)
    x, prof = _profile_row(result, profile)
    eta = _eta(result._cmap, x, model.coef)
    efron = result.ties == "efron"
    grid, p, cum, p0 = _curves(model, pairs, eta, efron, method)
    S = len(mi.states)
    tq = grid if times is None else np.unique(np.atleast_1d(np.asarray(times, dtype=float)))
    if tq.size == 0 or not np.all(np.isfinite(tq)) or (tq < 0).any():
        raise DataError(
            f"predict_probabilities(): times must be finite numbers >= 0, got {times!r}."
        )
    est = _lookup(grid, p, p0, tq)
    frame = pd.DataFrame(
        {
            "time": np.repeat(tq, S),
            "state": pd.Categorical.from_codes(
                np.tile(np.arange(S), tq.size), categories=list(mi.states)
            ),
            "estimate": est.reshape(-1),
        }
    )
    failed = 0
    if n_boot:
        rng = np.random.default_rng(seed)
        reps = []
        for _ in range(int(n_boot)):
            try:
                bm = _resample(model, rng, pairs, result._cmap, result.ties)
            except (ConvergenceError, np.linalg.LinAlgError):
                failed += 1
                continue
            e = _eta(result._cmap, x, bm.coef)
            g, pb, _, p0b = _curves(bm, pairs, e, efron, method)
            reps.append(_lookup(g, pb, p0b, tq))
        if failed:
            warnings.warn(
                f"predict_probabilities(): {failed} of {n_boot} bootstrap "
                "resamples could not be refitted (a transition without events, "
                "or no convergence) and were left out.",
                DataWarning,
                stacklevel=user_stacklevel(),
            )
        if len(reps) < 2:
            raise CalcstatsError(
                "predict_probabilities(): fewer than 2 bootstrap resamples "
                "could be refitted; no intervals."
            )
        arr = np.stack(reps)
        a = (1 - result.conf_level) / 2
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            frame["std_error"] = np.nanstd(arr, axis=0, ddof=1).reshape(-1)
            frame["conf_low"] = np.nanquantile(arr, a, axis=0).reshape(-1)
            frame["conf_high"] = np.nanquantile(arr, 1 - a, axis=0).reshape(-1)
    K = len(pairs)
    cumhaz = pd.DataFrame(
        {
            "time": np.repeat(grid, K),
            "transition": pd.Categorical(
                np.tile(result.transitions, grid.size), categories=result.transitions
            ),
            "cumulative_hazard": cum.reshape(-1),
        }
    )
    increment = "R's approximate Efron" if efron else "Breslow"
    how = "matrix exponential" if method == "expm" else "product-limit (I + dA)"
    boot = (
        f"; {n_boot - failed} bootstrap resamples of patients, percentile intervals"
        if n_boot
        else "; no standard errors (as R)"
    )
    return PredictedProbabilities(
        frame,
        cumhaz,
        states=mi.states,
        profile=prof,
        transitions=list(result.transitions),
        method=f"{how} of {increment} hazard increments{boot}",
        conf_level=result.conf_level,
        n_boot=int(n_boot),
        n_boot_failed=failed,
        labels=result.labels,
    )
