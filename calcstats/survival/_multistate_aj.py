"""Multi-state Aalen–Johansen estimator with infinitesimal-jackknife variance.

One curve (one group) at a time, as R's ``survfit(Surv(start, stop, to) ~ 1, id=,
istate=)`` (survival 3.5-3: ``survfitCI`` / ``docurve2`` / C ``survfitci``):

* each row is at risk on ``(start, stop]``; a row censored at ``t`` is in the risk set at
  ``t``; all transitions at one time form one matrix ``H = I + dA`` and
  ``p(t) = p(t-) H(t)`` (product-limit, no matrix exponential);
* the starting distribution ``p0`` is the (weighted) share of each state among the rows at
  risk at the first transition time;
* the standard error of ``p_j(t)`` is ``sqrt(Σ_i w_i² U_ij(t)²)`` with ``U_i = ∂p/∂w_i``
  the influence of patient ``i`` (all rows of a patient are one cluster).

R carries ``U_i`` for every patient through every event time: O(patients × times ×
states²) time. Here no per-patient trajectory is stored. The influence of a patient who
is in state ``s`` since event ``J`` is ``U_i(t) = v_i P(J, t) + R_s(t)``, where ``R_s``
is shared by everyone in ``s`` (one recurrence per state) and ``v_i`` is fixed during the
sojourn; ``v_i P(J, t)`` at the end of the sojourn is one range product
(:class:`~calcstats.survival._multistate_scan.ProductTree`). The second moment
``M(t) = Σ_i w_i² U_i(t)ᵀ U_i(t)`` then obeys ``M_j = H_jᵀ M_{j-1} H_j + K_j``, where
``K_j`` needs only sums over the risk set (running sums of ``w² v P``) and over the rows
that move at ``t_j``. Time O(rows × states² × log times + times × states³), memory
O(rows + times × states²).

The same machinery integrates the influence over time for the restricted mean time in
each state (R's ``rmean`` with its IJ standard error): the state is augmented with the
running integral ``Z_i(t) = ∫ U_i`` (``D = 2 × states``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calcstats.survival._multistate_scan import ProductTree, affine_scan, congruence_scan

__all__ = ["CurveArrays", "aalen_johansen_ms", "path_of", "restricted_mean_ms"]


@dataclass
class CurveArrays:
    """One Aalen–Johansen curve on its time grid (all distinct stop times).

    ``transitions`` lists the observed (from, to) code pairs (from-major order);
    ``cumhaz[:, k]`` is the Nelson–Aalen cumulative hazard of transition ``k``,
    ``n_transition[:, k]`` its number of events and ``n_risk_from[:, k]`` the rows at risk
    in its from-state.
    """

    time: np.ndarray
    n_risk: np.ndarray  # (T, S) unweighted rows at risk per state
    n_event: np.ndarray  # (T, S) unweighted entries into each state
    n_censor: np.ndarray  # (T,)
    pstate: np.ndarray  # (T, S)
    variance: np.ndarray  # (T, S)
    p0: np.ndarray  # (S,)
    variance0: np.ndarray  # (S,) variance of p0 (0 unless it is included)
    transitions: np.ndarray  # (K, 2) observed (from, to) codes
    cumhaz: np.ndarray  # (T, K)
    n_transition: np.ndarray  # (T, K)
    n_rows: int
    weight_sum: float


@dataclass
class _Rows:
    """Per-row indices of one curve.

    A row is one patient's sojourn, or (engine path) the same sojourn of ``n`` patients
    with the same path so far: the estimator is linear in the rows' counts, weights and
    squared weights, and a patient's influence depends only on its path.
    """

    start: np.ndarray
    stop: np.ndarray
    s: np.ndarray  # from-state code
    d: np.ndarray  # to-state code, -1 censored
    w: np.ndarray  # (sum of the) case weights
    w2: np.ndarray  # (sum of the) squared case weights
    n: np.ndarray  # patients the row stands for
    rank: np.ndarray  # position of the row within its patient's path (0 = first)
    parent: np.ndarray  # the previous row of the path (-1 at rank 0)
    je: np.ndarray  # number of event times <= start
    jx: np.ndarray  # number of event times <= stop


def path_of(subject: np.ndarray) -> np.ndarray:
    """The previous row of each row (-1 for a patient's first) of rows sorted by patient
    then start."""
    n = subject.size
    parent = np.arange(n) - 1
    if n:
        parent[0] = -1
        parent[1:][subject[1:] != subject[:-1]] = -1
    return parent


def _rows(
    parent: np.ndarray,
    start: np.ndarray,
    stop: np.ndarray,
    s: np.ndarray,
    d: np.ndarray,
    w: np.ndarray,
    w2: np.ndarray,
    n: np.ndarray,
    evt: np.ndarray,
) -> _Rows:
    rank = np.zeros(parent.size, dtype=np.int64)
    up = parent.copy()
    while (has := up >= 0).any():  # a row's rank: the number of rows before it on its path
        rank[has] += 1
        up[has] = parent[up[has]]
    return _Rows(
        start,
        stop,
        s,
        d,
        w,
        w2,
        n,
        rank,
        parent,
        np.searchsorted(evt, start, side="right"),
        np.searchsorted(evt, stop, side="right"),
    )


def _per_time(index: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Sum ``values`` (n, ...) into ``size`` bins given by ``index`` (n,)."""
    flat = values.reshape(values.shape[0], int(np.prod(values.shape[1:])))
    out = np.empty((size, flat.shape[1]))
    for c in range(flat.shape[1]):
        out[:, c] = np.bincount(index, weights=flat[:, c], minlength=size)[:size]
    return out.reshape(size, *values.shape[1:])


def _risk_sums(
    lo: np.ndarray, hi: np.ndarray, s: np.ndarray, val: np.ndarray, size: int, n_states: int
) -> np.ndarray:
    """(size, S): Σ val over rows with lo <= index < hi, by state (difference arrays)."""
    keep = hi > lo
    acc = np.bincount(
        lo[keep] * n_states + s[keep], weights=val[keep], minlength=(size + 1) * n_states
    )
    acc -= np.bincount(
        hi[keep] * n_states + s[keep], weights=val[keep], minlength=(size + 1) * n_states
    )
    return np.cumsum(acc.reshape(size + 1, n_states)[:size], axis=0)


@dataclass
class _Engine:
    """Shared quantities of one curve at its ``m`` event times."""

    evt: np.ndarray  # (m,) event times
    H: np.ndarray  # (m, S, S)
    ws: np.ndarray  # (m, S) weighted at risk
    w2risk: np.ndarray  # (m, S) Σ w² at risk
    nt: np.ndarray  # (m, S, S) weighted transitions
    w2mov: np.ndarray  # (m, S, S) Σ w² of the rows moving s -> d
    p0: np.ndarray
    at_zero: np.ndarray  # bool per row: at risk at the first event time


def _engine(r: _Rows, evt: np.ndarray, S: int) -> _Engine:
    m = evt.size
    ws = _risk_sums(r.je, r.jx, r.s, r.w, m, S)
    w2risk = _risk_sums(r.je, r.jx, r.s, r.w2, m, S)
    mv = r.d >= 0
    e = r.jx[mv] - 1
    key = (e * S + r.s[mv]) * S + r.d[mv]
    nt = np.bincount(key, weights=r.w[mv], minlength=m * S * S).reshape(m, S, S)
    w2mov = np.bincount(key, weights=r.w2[mv], minlength=m * S * S).reshape(m, S, S)
    with np.errstate(divide="ignore", invalid="ignore"):
        dA = np.where(ws[:, :, None] > 0, nt / ws[:, :, None], 0.0)
    H = dA.copy()
    idx = np.arange(S)
    H[:, idx, idx] += 1.0 - dA.sum(axis=2)
    at_zero = (r.je == 0) & (r.jx >= 1) if m else np.zeros(r.s.size, dtype=bool)
    if m and at_zero.any():
        p0 = np.bincount(r.s[at_zero], weights=r.w[at_zero], minlength=S)
    else:  # no transition: the shares at the first time
        first = r.start <= r.start.min()
        p0 = np.bincount(r.s[first], weights=r.w[first], minlength=S)
    return _Engine(evt, H, ws, w2risk, nt, w2mov, p0 / p0.sum(), at_zero)


def _influence_second_moment(
    r: _Rows, en: _Engine, G: np.ndarray, S: int, p0_variance: bool
) -> tuple[np.ndarray, np.ndarray]:
    """``M_j = Σ_i w_i² U_i(t_j)ᵀ U_i(t_j)`` after each event time (m, D, D), and ``M`` before
    the first (D, D). ``G`` (m, D, D) carries the influence from one event time to the
    next; its top-left ``S × S`` block is ``H``."""
    m, D = G.shape[0], G.shape[1]
    H = en.H
    # probabilities just before each event, and a_js = p_j(t-) / (weighted risk in s)
    p = affine_scan(H, np.zeros((m, 1, S)), en.p0[None, :])[:, 0]
    p_before = np.vstack([en.p0[None, :], p[:-1]]) if m else np.zeros((0, S))
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(en.ws > 0, p_before / en.ws, 0.0)
    eye = np.eye(S)
    stay = eye[None] - H  # rows: e_s - H[s, :]
    Bm = np.zeros((m, S, D))
    Bm[:, :, :S] = a[:, :, None] * stay
    Rm = np.concatenate([np.zeros((1, S, D)), affine_scan(G, Bm, np.zeros((S, D)))])
    a_all = np.vstack([np.zeros((1, S)), a])  # a_all[J] = a at event J-1

    # initial influence (R's influence=TRUE): (1{state} - p0) / Σw for rows at risk at t1
    total0 = r.w[en.at_zero].sum()
    tree = ProductTree(G)
    U0 = np.zeros((r.s.size, D))
    if p0_variance and en.at_zero.any():
        U0[en.at_zero, :S] = (eye[r.s[en.at_zero]] - en.p0) / total0
    M0 = (U0 * r.w2[:, None]).T @ U0

    enter = np.zeros((m + 1, S, D))
    leave = np.zeros((m + 1, S, D))
    qx = np.zeros((m, D, S))  # Σ movers w² a q ⊗ (e_d - e_s)
    y_prev = np.zeros((0, D))
    prev_rows = np.zeros(0, dtype=np.int64)
    for rank in range(int(r.rank.max()) + 1 if r.rank.size else 0):
        rows = np.flatnonzero(r.rank == rank)
        u0 = U0[rows]
        if rank:
            u0 = u0 + y_prev[np.searchsorted(prev_rows, r.parent[rows])]
        s, je, jx, w2 = r.s[rows], r.je[rows], r.jx[rows], r.w2[rows]
        v = u0 - Rm[je, s]
        live = jx > je
        q = tree.apply(v, je, np.maximum(jx - 1, je))
        z = v.copy()
        z[live] = np.einsum("nd,nde->ne", q[live], G[jx[live] - 1])
        y = z + Rm[jx, s]
        mv = r.d[rows] >= 0
        if mv.any():
            am = a_all[jx[mv], s[mv]]
            y[mv, :S] += am[:, None] * (eye[r.d[rows][mv]] - eye[s[mv]])
            wq = (w2[mv] * am)[:, None] * q[mv]
            ev = jx[mv] - 1
            qx += _per_time(ev * S + r.d[rows][mv], wq, m * S).reshape(m, S, D).transpose(0, 2, 1)
            qx -= _per_time(ev * S + s[mv], wq, m * S).reshape(m, S, D).transpose(0, 2, 1)
        enter += _per_time(je[live] * S + s[live], w2[live, None] * v[live], (m + 1) * S).reshape(
            m + 1, S, D
        )
        leave += _per_time(jx[live] * S + s[live], w2[live, None] * z[live], (m + 1) * S).reshape(
            m + 1, S, D
        )
        y_prev, prev_rows = y, rows

    # running Σ w² v P(J_e, j) over the rows at risk at each event time
    lin = (
        np.concatenate([enter[:1], affine_scan(G[:-1], enter[1:m] - leave[1:m], enter[0])])
        if m > 1
        else enter[:m]
    )
    sums = lin + en.w2risk[:, :, None] * Rm[:m]  # Σ_risk w² U(t-) per state
    X = np.zeros((m, D, D))
    X[:, :, :S] = np.einsum("js,jsd,jse->jde", a, sums, stay)
    X[:, :, :S] += qx
    # the Rm part of the movers
    mov_rm = np.einsum("jsd,js,jsc->jcsd", en.w2mov, a, Rm[:m])  # (m, D, S_from, S_to)
    X[:, :, :S] += mov_rm.sum(axis=2) - np.einsum("jcsd->jcs", mov_rm)
    # Σ_i w² c_iᵀ c_i, with c = a_s (e_d - H[s, :])
    omega = en.w2mov.copy()
    idx = np.arange(S)
    omega[:, idx, idx] = en.w2risk - en.w2mov.sum(axis=2) + en.w2mov[:, idx, idx]
    a2 = a * a
    C = np.zeros((m, D, D))
    dsum = np.einsum("js,jsd->jd", a2, omega)
    C[:, idx, idx] += dsum
    cross = np.einsum("js,jsd,jse->jde", a2, omega, H)
    C[:, :S, :S] += (
        -cross
        - np.swapaxes(cross, 1, 2)
        + np.einsum("js,jsd,jse->jde", a2 * omega.sum(axis=2), H, H)
    )
    GX = np.matmul(np.swapaxes(G, 1, 2), X)
    K = GX + np.swapaxes(GX, 1, 2) + C
    return congruence_scan(G, K, M0), M0


def _prepare(
    subject: np.ndarray,
    start: np.ndarray,
    stop: np.ndarray,
    s: np.ndarray,
    d: np.ndarray,
    w: np.ndarray,
    tau: float | None = None,
    *,
    w2: np.ndarray | None = None,
    count: np.ndarray | None = None,
    parent: np.ndarray | None = None,
) -> tuple[np.ndarray, _Rows]:
    evt = np.unique(stop[d >= 0])
    if tau is not None:
        evt = evt[evt <= tau]
        d = np.where(stop > tau, -1, d)
    return evt, _rows(
        path_of(subject) if parent is None else parent,
        start,
        stop,
        s,
        d,
        w,
        w * w if w2 is None else w2,
        np.ones(s.size) if count is None else count,
        evt,
    )


def aalen_johansen_ms(
    subject: np.ndarray,
    start: np.ndarray,
    stop: np.ndarray,
    s: np.ndarray,
    d: np.ndarray,
    w: np.ndarray,
    n_states: int,
    *,
    p0_variance: bool,
    w2: np.ndarray | None = None,
    count: np.ndarray | None = None,
    parent: np.ndarray | None = None,
) -> CurveArrays:
    """The curve of one group. Rows sorted by ``subject`` (0-based codes) then ``start``;
    ``d`` is -1 for a censored row; ``p0_variance`` includes the variance of the
    estimated starting distribution (R's ``influence=TRUE``).

    With ``parent`` (the previous row of each row's path, -1 at the first; rows in any
    order with parents first) a row may stand for ``count`` patients with the same path,
    ``w`` and ``w2`` the sums of their weights and squared weights (the engine path)."""
    S = n_states
    evt, r = _prepare(subject, start, stop, s, d, w, w2=w2, count=count, parent=parent)
    en = _engine(r, evt, S)
    m = evt.size
    M, M0 = _influence_second_moment(r, en, en.H, S, p0_variance)
    p = affine_scan(en.H, np.zeros((m, 1, S)), en.p0[None, :])[:, 0]
    var_e = np.einsum("jss->js", M) if m else np.zeros((0, S))

    grid = np.unique(stop)
    T = grid.size
    j_of_grid = np.searchsorted(evt, grid, side="right")  # events <= grid time
    p_all = np.vstack([en.p0[None, :], p])
    v_all = np.vstack([np.diag(M0)[None, :S], var_e])
    ge = np.searchsorted(grid, start, side="right")
    gx = np.searchsorted(grid, stop, side="right")
    n_risk = _risk_sums(ge, gx, s, r.n, T, S)
    mv = d >= 0
    n_event = np.bincount((gx[mv] - 1) * S + d[mv], weights=r.n[mv], minlength=T * S)
    n_event = n_event.reshape(T, S)
    n_censor = np.bincount(gx[~mv] - 1, weights=r.n[~mv], minlength=T).astype(float)

    totals = en.nt.sum(axis=0)
    fr, to = np.nonzero(totals > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        haz = np.where(en.ws[:, fr] > 0, en.nt[:, fr, to] / en.ws[:, fr], 0.0)
    cum = np.vstack([np.zeros((1, fr.size)), np.cumsum(haz, axis=0)])[j_of_grid]
    key = (gx[mv] - 1) * S * S + s[mv] * S + d[mv]
    ntr = np.bincount(key, weights=r.n[mv], minlength=T * S * S).reshape(T, S, S)[:, fr, to]
    return CurveArrays(
        time=grid,
        n_risk=n_risk,
        n_event=n_event.astype(float),
        n_censor=n_censor,
        pstate=p_all[j_of_grid],
        variance=np.maximum(v_all[j_of_grid], 0.0),
        p0=en.p0,
        variance0=np.maximum(np.diag(M0)[:S], 0.0),
        transitions=np.column_stack([fr, to]),
        cumhaz=cum,
        n_transition=ntr.astype(float),
        n_rows=int(r.n.sum()),
        weight_sum=float(w.sum()),
    )


def restricted_mean_ms(
    subject: np.ndarray,
    start: np.ndarray,
    stop: np.ndarray,
    s: np.ndarray,
    d: np.ndarray,
    w: np.ndarray,
    n_states: int,
    tau: float,
    *,
    p0_variance: bool,
    w2: np.ndarray | None = None,
    count: np.ndarray | None = None,
    parent: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Expected time in each state on ``(0, tau]`` and its IJ variance, per state (rows as
    :func:`aalen_johansen_ms`)."""
    S = n_states
    evt, r = _prepare(subject, start, stop, s, d, w, tau, w2=w2, count=count, parent=parent)
    en = _engine(r, evt, S)
    m = evt.size
    delta = np.diff(np.concatenate([[0.0], evt]))
    G = np.zeros((m, 2 * S, 2 * S))
    G[:, :S, :S] = en.H
    G[:, S:, S:] = np.eye(S)
    G[:, np.arange(S), S + np.arange(S)] = delta[:, None]
    M, M0 = _influence_second_moment(r, en, G, S, p0_variance)
    p = affine_scan(en.H, np.zeros((m, 1, S)), en.p0[None, :])[:, 0]
    last = evt[-1] if m else 0.0
    rest = tau - last
    times = np.concatenate([[0.0], evt])
    widths = np.diff(np.append(times, tau))
    rmean = (np.vstack([en.p0[None, :], p]) * widths[:, None]).sum(axis=0)
    F = np.eye(2 * S)
    F[np.arange(S), S + np.arange(S)] = rest
    Mf = F.T @ (M[-1] if m else M0) @ F
    return rmean, np.maximum(np.diag(Mf)[S:], 0.0)
