"""Fitting the stacked multi-state Cox model transition group by transition group.

Transitions that share no coefficient have separate partial likelihoods (they are
different strata), so the joint maximum is the set of per-group maxima. Fitting each
connected group of transitions (linked by ``shared=`` coefficients) on its own gives the
same estimates as one joint Newton–Raphson (and as R's joint fit), but a coefficient that
runs off to infinity in one transition (a sparse level with no events) no longer stops the
others from converging. The robust variance is then assembled from every group's dfbeta
residuals, clustered on the patient across all transitions.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from calcstats._errors import ConvergenceWarning, user_stacklevel
from calcstats._newton import divergence_report
from calcstats.survival._coxfit import fit_cox, prepare, score_residuals

__all__ = ["JointFit", "fit_transitions", "transition_groups"]


@dataclass
class JointFit:
    """Estimates of all coefficients (NaN where left out) and the fit summaries."""

    coef: np.ndarray
    var: np.ndarray
    cov: np.ndarray | None
    loglik: float
    loglik0: float
    converged: bool
    nonestimable: dict[str, str]
    iterations: int


def transition_groups(members: list[tuple[int, ...]], n_transitions: int) -> list[list[int]]:
    """Connected groups of transitions, linked by coefficients they share."""
    parent = list(range(n_transitions))

    def find(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for group in members:
        for k in group[1:]:
            parent[find(k)] = find(group[0])
    roots: dict[int, list[int]] = {}
    for k in range(n_transitions):
        roots.setdefault(find(k), []).append(k)
    return list(roots.values())


def fit_transitions(
    X: np.ndarray,
    stop: np.ndarray,
    start: np.ndarray,
    status: np.ndarray,
    stratum: np.ndarray,
    subject: np.ndarray,
    weights: np.ndarray | None,
    *,
    members: list[tuple[int, ...]],
    names: list[str],
    keep: np.ndarray,
    ties: str,
    robust: bool,
    report: bool,
) -> JointFit:
    """Fit the stacked rows (``stratum`` = transition) group by group.

    ``members[j]`` are the transitions of coefficient ``j`` (its column of ``X``); ``keep``
    marks the coefficients to estimate. With ``report``, diverging coefficients are
    named in a warning (as :func:`calcstats.cox`) and listed in ``nonestimable``.
    """
    p = X.shape[1]
    n_trans = int(stratum.max()) + 1 if stratum.size else 0
    coef = np.full(p, np.nan)
    var = np.full((p, p), np.nan)
    agg = np.zeros((int(subject.max()) + 1, p)) if robust else None
    loglik = loglik0 = 0.0
    converged, iterations = True, 0
    nonest: dict[str, str] = {}
    failed: list[str] = []
    diverged: dict[str, str] = {}
    owner = np.array([m[0] for m in members], dtype=np.int64)
    for group in transition_groups(members, n_trans):
        rows = np.flatnonzero(np.isin(stratum, group))
        cols = np.flatnonzero(np.isin(owner, group) & keep)
        if not rows.size or not status[rows].any():
            continue
        cd = prepare(
            X[np.ix_(rows, cols)],
            stop[rows],
            status[rows],
            start=start[rows],
            weights=None if weights is None else weights[rows],
            strata=stratum[rows],
            ties=ties,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fit = fit_cox(cd)
        loglik += fit.loglik
        loglik0 += fit.loglik0
        iterations = max(iterations, fit.iterations)
        coef[cols] = fit.coef
        var[np.ix_(cols, cols)] = fit.var
        group_names = [names[j] for j in cols]
        if fit.diverging.any() and report:
            nonest.update(
                divergence_report(
                    group_names,
                    fit.diverging,
                    fit.direction,
                    model_name="multistate_cox",
                    X=cd.X + cd.means,
                    events=cd.status,
                )
            )
        elif fit.diverging.any():
            nonest.update(dict.fromkeys(np.asarray(group_names)[fit.diverging], "diverging"))
        if not fit.converged:
            converged = False
            failed += group_names
            nonest.update(dict.fromkeys(group_names, "the fit did not converge"))
        if robust and cols.size:
            resid = score_residuals(fit)
            w = np.ones(rows.size) if weights is None else weights[rows]
            dfbeta = (resid * w[:, None]) @ fit.var
            assert agg is not None  # made when robust
            block = np.zeros((agg.shape[0], cols.size))
            np.add.at(block, subject[rows], dfbeta)
            agg[:, cols] += block
    if diverged and report:
        listing = "; ".join(f"{k} ({v})" for k, v in diverged.items())
        warnings.warn(
            f"multistate_cox(): the maximum-likelihood estimate does not exist for {listing}. "
            "These terms are reported as NaN ('—' in tables); the other estimates are valid "
            "given them. Merge sparse levels, or put the term on fewer transitions "
            "(specific=).",
            ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )
    if failed and report:
        warnings.warn(
            f"multistate_cox(): the fit of {', '.join(failed)} did not converge in 30 "
            "Newton–Raphson iterations; no estimate is reported for them ('—'). The other "
            "transitions are unaffected. Check for sparse levels or rescale the covariates.",
            ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )
    cov = None
    if robust:
        cov = np.full((p, p), np.nan)
        est = np.flatnonzero(keep & np.isfinite(coef))
        assert agg is not None  # made when robust
        cov[np.ix_(est, est)] = agg[:, est].T @ agg[:, est]
    return JointFit(
        coef=coef,
        var=var,
        cov=cov,
        loglik=loglik,
        loglik0=loglik0,
        converged=converged,
        nonestimable=nonest,
        iterations=iterations,
    )
