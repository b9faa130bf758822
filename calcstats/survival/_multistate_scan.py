"""Sequences of small matrix products, vectorised: the arithmetic under the multi-state
Aalen–Johansen estimator and its infinitesimal-jackknife variance.

Three recurrences over the ``m`` event times of a curve are needed, each with one
``D × D`` transition matrix ``G_j`` per time:

* :func:`affine_scan` — ``Y_j = Y_{j-1} G_j + B_j`` (state probabilities, the running
  influence sums);
* :func:`congruence_scan` — ``M_j = G_jᵀ M_{j-1} G_j + K_j`` (the second moment of the
  influence, whose diagonal is the variance);
* :class:`ProductTree` — ``v G_lo G_lo+1 ⋯ G_hi-1`` for many vectors ``v``, each with its
  own range (the influence of one patient carried through one sojourn).

The scans compose the maps two at a time (Hillis–Steele prefix scan) inside blocks of
``block`` times, all blocks at once, then carry the value from block to block: the Python
loop runs over ``m / block`` blocks instead of ``m`` times. The product tree keeps the
products over aligned power-of-two ranges (``2 m`` matrices) and answers a range with at
most ``2 log2 m`` vector-matrix products.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ProductTree", "affine_scan", "congruence_scan"]

_BLOCK = 256


def _pad(G: np.ndarray, *others: np.ndarray, block: int) -> tuple[int, list[np.ndarray]]:
    """Pad the time axis to a multiple of ``block`` with identity maps and zero terms."""
    m = G.shape[0]
    nb = max(1, -(-m // block))
    extra = nb * block - m
    D = G.shape[-1]
    out = [np.concatenate([G, np.broadcast_to(np.eye(D), (extra, D, D))]) if extra else G.copy()]
    for x in others:
        out.append(np.concatenate([x, np.zeros((extra, *x.shape[1:]))]) if extra else x.copy())
    return nb, [x.reshape(nb, block, *x.shape[1:]) for x in out]


def affine_scan(G: np.ndarray, B: np.ndarray, Y0: np.ndarray, *, block: int = _BLOCK) -> np.ndarray:
    """All ``Y_j = Y_{j-1} @ G_j + B_j`` for ``j = 0..m-1``, starting from ``Y_{-1} = Y0``.

    Parameters
    ----------
    G : (m, D, D) array
    B : (m, R, D) array
    Y0 : (R, D) array

    Returns
    -------
    (m, R, D) array

    Examples
    --------
    >>> G = np.array([[[0.5]], [[2.0]], [[1.0]]])
    >>> B = np.array([[[1.0]], [[0.0]], [[3.0]]])
    >>> affine_scan(G, B, np.array([[2.0]]))[:, 0, 0].tolist()
    [2.0, 4.0, 7.0]
    """
    m = G.shape[0]
    if m == 0:
        return np.zeros((0, *Y0.shape))
    block = min(block, 1 << int(np.ceil(np.log2(m))))
    nb, (A, Bc) = _pad(G, B, block=block)
    d = 1
    while d < block:
        new_b = np.matmul(Bc[:, :-d], A[:, d:]) + Bc[:, d:]
        new_a = np.matmul(A[:, :-d], A[:, d:])
        Bc[:, d:] = new_b
        A[:, d:] = new_a
        d *= 2
    starts = np.empty((nb, *Y0.shape))
    y = np.asarray(Y0, dtype=float)
    for b in range(nb):
        starts[b] = y
        y = y @ A[b, -1] + Bc[b, -1]
    Y = np.matmul(starts[:, None], A) + Bc
    return Y.reshape(nb * block, *Y0.shape)[:m]


def congruence_scan(
    G: np.ndarray, K: np.ndarray, M0: np.ndarray, *, block: int = _BLOCK
) -> np.ndarray:
    """All ``M_j = G_jᵀ M_{j-1} G_j + K_j`` for ``j = 0..m-1``, from ``M_{-1} = M0``.

    Examples
    --------
    >>> G = np.array([[[2.0]], [[1.0]]])
    >>> K = np.array([[[1.0]], [[0.5]]])
    >>> congruence_scan(G, K, np.array([[1.0]]))[:, 0, 0].tolist()
    [5.0, 5.5]
    """
    m = G.shape[0]
    if m == 0:
        return np.zeros((0, *M0.shape))
    block = min(block, 1 << int(np.ceil(np.log2(m))))
    nb, (A, Kc) = _pad(G, K, block=block)
    d = 1
    while d < block:
        later = A[:, d:]
        new_k = np.matmul(np.matmul(np.swapaxes(later, -1, -2), Kc[:, :-d]), later) + Kc[:, d:]
        new_a = np.matmul(A[:, :-d], later)
        Kc[:, d:] = new_k
        A[:, d:] = new_a
        d *= 2
    starts = np.empty((nb, *M0.shape))
    x = np.asarray(M0, dtype=float)
    for b in range(nb):
        starts[b] = x
        x = A[b, -1].T @ x @ A[b, -1] + Kc[b, -1]
    M = np.matmul(np.matmul(np.swapaxes(A, -1, -2), starts[:, None]), A) + Kc
    return M.reshape(nb * block, *M0.shape)[:m]


class ProductTree:
    """Products of ``G`` over aligned power-of-two ranges, for range products of vectors.

    Examples
    --------
    >>> G = np.array([[[2.0]], [[3.0]], [[5.0]], [[7.0]]])
    >>> tree = ProductTree(G)
    >>> tree.apply(np.ones((3, 1)), np.array([0, 1, 2]), np.array([4, 3, 2]))[:, 0].tolist()
    [210.0, 15.0, 1.0]
    """

    def __init__(self, G: np.ndarray) -> None:
        levels = [np.asarray(G, dtype=float)]
        while levels[-1].shape[0] >= 2:
            prev = levels[-1]
            half = prev.shape[0] // 2
            levels.append(np.matmul(prev[0 : 2 * half : 2], prev[1 : 2 * half : 2]))
        self._flat = np.concatenate(levels) if levels[0].shape[0] else levels[0]
        sizes = np.array([lv.shape[0] for lv in levels], dtype=np.int64)
        self._offset = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        self._top = len(levels) - 1

    def apply(
        self, v: np.ndarray, lo: np.ndarray, hi: np.ndarray, *, chunk: int = 1 << 16
    ) -> np.ndarray:
        """``v[k] @ G[lo[k]] @ ... @ G[hi[k] - 1]`` for every row ``k`` (``v`` when
        ``lo >= hi``)."""
        out = np.array(v, dtype=float, copy=True)
        for a in range(0, out.shape[0], chunk):
            sl = slice(a, a + chunk)
            self._apply_chunk(
                out[sl], np.array(lo[sl], dtype=np.int64), np.asarray(hi[sl], dtype=np.int64)
            )
        return out

    def _apply_chunk(self, out: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        idx = np.flatnonzero(lo < hi)
        while idx.size:
            low, high = lo[idx], hi[idx]
            span_level = np.frexp((high - low).astype(float))[1] - 1  # floor(log2(span))
            lowest = low & -low  # alignment of low
            align_level = np.where(low == 0, self._top, np.frexp(lowest.astype(float))[1] - 1)
            level = np.minimum(np.minimum(span_level, align_level), self._top)
            mats = self._flat[self._offset[level] + (low >> level)]
            out[idx] = np.einsum("nd,nde->ne", out[idx], mats)
            lo[idx] = low + (np.int64(1) << level)
            idx = idx[lo[idx] < hi[idx]]
