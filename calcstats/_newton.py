"""One Newton–Raphson maximiser for every likelihood model, with one stopping rule.

Cox, Fine–Gray, the GLMs (logistic, log-binomial, Poisson, negative binomial) and Firth's
penalised logistic regression all maximise a concave (or locally concave) log-likelihood
from its value, score and information. They share this loop so that they stop by the same
rule, report convergence the same way, and detect a monotone likelihood the same way —
and so that the engine path (sufficient statistics computed inside DuckDB or Spark, see
:mod:`calcstats.engine`) runs exactly the same iterations as the in-memory path.

Why our own loop: scipy's optimisers know nothing of the information matrix, and
statsmodels' IRLS works on the unscaled design (its p-values change when a covariate is
multiplied by 1e8) and cannot take sums computed elsewhere.

The rule
--------
* Newton steps ``δ = I(β)⁻¹ U(β)`` (``I`` the observed or expected information), halved
  until the log-likelihood does not decrease (R's ``coxph``/``glm`` rule).
* Converged when the log-likelihood changes by at most ``tol · (|ℓ| + 0.1)`` (R's ``glm``
  criterion), after which one more exact Newton step polishes β to machine accuracy.
* **Monotone likelihood.** When ``ℓ`` keeps rising towards an asymptote (a factor level
  with no events, separation), the loop stops by the same rule but the Newton step on the
  diverging coefficient stays of order one while the coefficient is large. A coefficient
  is flagged when its final step exceeds ``1e-4`` of its value (``|δⱼ| > 1e-4 |βⱼ|``,
  R's ``coxph`` check with a margin): the ratio does not depend on the covariate's units
  or on how frequent the level is. For a finite maximum the polished step is below
  ``1e-9`` of the coefficient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from calcstats._errors import ConvergenceError, user_stacklevel

__all__ = ["Evaluation", "NewtonResult", "maximise", "solve_psd"]


@dataclass(frozen=True)
class Evaluation:
    """Log-likelihood, score and information at one β."""

    loglik: float
    score: np.ndarray
    info: np.ndarray


@dataclass(frozen=True)
class NewtonResult:
    """Outcome of :func:`maximise`.

    Attributes
    ----------
    beta : numpy.ndarray
        The estimate (in the coordinates the evaluator uses).
    last : Evaluation
        Log-likelihood, score and information at ``beta``.
    iterations : int
        Newton iterations taken (the polishing step not counted).
    converged : bool
        The stopping rule was met within ``max_iter`` iterations.
    diverging : numpy.ndarray
        Boolean mask: coefficients whose estimate runs off to ±∞ (monotone likelihood).
    direction : numpy.ndarray
        Sign of the final Newton step (+1 towards +∞, −1 towards −∞) per coefficient.
    """

    beta: np.ndarray
    last: Evaluation
    iterations: int
    converged: bool
    diverging: np.ndarray
    direction: np.ndarray


def solve_psd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve ``a x = b`` for a symmetric positive semi-definite ``a``.

    Uses Cholesky when ``a`` is positive definite and the minimum-norm least-squares
    solution otherwise (a singular information matrix, e.g. on a diverging direction).
    """
    try:
        c = np.linalg.cholesky(a)
        y = np.linalg.solve(c, b)
        return np.linalg.solve(c.T, y)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(a, b, rcond=None)[0]


def maximise(
    evaluate: Callable[[np.ndarray], Evaluation],
    beta0: np.ndarray,
    *,
    max_iter: int = 50,
    tol: float = 1e-10,
    fixed: np.ndarray | None = None,
    max_step: float | None = None,
    back: np.ndarray | None = None,
    what: str = "the model",
) -> NewtonResult:
    """Maximise a log-likelihood by Newton–Raphson with step halving.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(beta) -> Evaluation``; may raise :class:`ConvergenceError` or return a
        non-finite log-likelihood where it cannot be evaluated (the step is then halved).
    beta0 : numpy.ndarray
        Starting values (must be evaluable).
    max_iter : int
        Maximum Newton iterations.
    tol : float
        Stopping rule: ``|ℓ_new − ℓ_old| <= tol · (|ℓ_new| + 0.1)``.
    fixed : numpy.ndarray of bool, optional
        Coefficients held at their starting values (profile likelihoods, restricted fits).
    max_step : float, optional
        Largest absolute change of a coefficient in one step (logistf's ``maxstep``).
    back : numpy.ndarray, optional
        Matrix mapping the solver's coordinates to the reported coefficients (see
        :class:`calcstats._design.Scaling`); the monotone-likelihood check is made on the
        reported coefficients, so that a centred intercept that follows a diverging slope
        is not flagged.
    what : str
        Name of the model in error messages.

    Returns
    -------
    NewtonResult

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda b: Evaluation(-float((b - 2.0) @ (b - 2.0)), -2 * (b - 2.0), 2 * np.eye(1))
    >>> r = maximise(f, np.zeros(1))
    >>> float(r.beta[0]), r.converged, bool(r.diverging[0])
    (2.0, True, False)
    """
    beta = np.asarray(beta0, dtype=float).copy()
    p = len(beta)
    free = np.ones(p, dtype=bool) if fixed is None else ~np.asarray(fixed, dtype=bool)
    cur = _safe(evaluate, beta)
    if cur is None:
        raise ConvergenceError(f"the log-likelihood of {what} cannot be evaluated at the start.")
    converged = not free.any()
    iterations = 0
    while not converged and iterations < max_iter:
        iterations += 1
        step = _step(cur, free, max_step)
        new_beta, new = _halve(evaluate, beta, step, cur)
        if new is None:  # no step improves: we are at the numerical maximum
            converged = True
            break
        change = abs(new.loglik - cur.loglik)
        beta, cur = new_beta, new
        converged = change <= tol * (abs(cur.loglik) + 0.1)
    if converged and free.any():
        # polish: one more Newton step brings a finite maximum to machine accuracy
        step = _step(cur, free, max_step)
        cand = beta + step
        nxt = _safe(evaluate, cand)
        if nxt is not None and nxt.loglik >= cur.loglik - 1e-12 * (abs(cur.loglik) + 1):
            beta, cur = cand, nxt
    final = _step(cur, free, None)
    b_rep, s_rep = (beta, final) if back is None else (back @ beta, back @ final)
    with np.errstate(invalid="ignore", divide="ignore"):
        diverging = (np.abs(s_rep) > 1e-4 * np.abs(b_rep)) & (np.abs(s_rep) > 1e-8)
    if back is None:
        diverging &= free
    if not converged:
        diverging = np.zeros(p, dtype=bool)
    return NewtonResult(
        beta=beta,
        last=cur,
        iterations=iterations,
        converged=converged,
        diverging=diverging,
        direction=np.sign(s_rep),
    )


def _safe(evaluate: Callable[[np.ndarray], Evaluation], beta: np.ndarray) -> Evaluation | None:
    try:
        ev = evaluate(beta)
    except (ConvergenceError, FloatingPointError, np.linalg.LinAlgError):
        return None
    if not np.isfinite(ev.loglik) or not np.all(np.isfinite(ev.score)):
        return None
    return ev


def _step(cur: Evaluation, free: np.ndarray, max_step: float | None) -> np.ndarray:
    step = np.zeros(len(free))
    if free.any():
        idx = np.flatnonzero(free)
        step[idx] = solve_psd(cur.info[np.ix_(idx, idx)], cur.score[idx])
    if max_step is not None:
        big = np.max(np.abs(step)) if len(step) else 0.0
        if big > max_step:
            step *= max_step / big
    return step


def _halve(
    evaluate: Callable[[np.ndarray], Evaluation],
    beta: np.ndarray,
    step: np.ndarray,
    cur: Evaluation,
) -> tuple[np.ndarray, Evaluation | None]:
    slack = 1e-12 * (abs(cur.loglik) + 1)
    for _ in range(60):
        cand = beta + step
        new = _safe(evaluate, cand)
        if new is not None and new.loglik >= cur.loglik - slack:
            return cand, new
        step = step / 2
    return beta, None


def divergence_report(
    names: list[str],
    diverging: np.ndarray,
    direction: np.ndarray,
    *,
    model_name: str,
    X: np.ndarray | None = None,
    events: np.ndarray | None = None,
    category: type[Warning] | None = None,
) -> dict[str, str]:
    """Name the diverging coefficients, warn once, and return ``{term: reason}``.

    With the design ``X`` and a 0/1 ``events`` indicator, a diverging indicator column
    (a factor level, a binary covariate) is explained from the data: "no events in this
    level" or "every row in this level has the event"; otherwise the reason is the
    monotone likelihood itself.
    """
    import warnings

    from calcstats._errors import ConvergenceWarning

    out: dict[str, str] = {}
    for j in np.flatnonzero(diverging):
        sign = "+∞" if direction[j] > 0 else "−∞"
        reason = f"monotone likelihood: the estimate runs off to {sign}"
        if X is not None and events is not None:
            col = X[:, j]
            if np.all(np.isin(col, (0.0, 1.0))):
                ev = events[col == 1]
                if ev.size and not np.any(ev):
                    reason += "; no events in this level"
                elif ev.size and np.all(ev):
                    reason += "; every row in this level has the event"
        out[names[j]] = reason
    if out:
        listing = "; ".join(f"{k} ({v})" for k, v in out.items())
        warnings.warn(
            f"{model_name}(): the maximum-likelihood estimate does not exist for {listing}. "
            "These terms are reported as NaN ('—' in tables); the other estimates are valid "
            "given them. Merge sparse levels, remove the term, or use a penalised model "
            "(logistic(method='firth') for binary outcomes).",
            category or ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )
    return out
