"""Vectorised sampling helpers shared by the simulator steps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = [
    "categorical",
    "categorical_by_group",
    "categorical_codes",
    "fixed_width_ids",
    "piecewise_exponential",
]


def categorical_codes(
    rng: np.random.Generator, probs: Mapping[str, float], size: int
) -> np.ndarray:
    """Draw ``size`` integer codes into ``list(probs)`` (probabilities renormalised)."""
    p = np.fromiter(probs.values(), dtype=float)
    cum = np.cumsum(p / p.sum())
    cum[-1] = 1.0
    return np.searchsorted(cum, rng.random(size), side="right")


def categorical(rng: np.random.Generator, probs: Mapping[str, float], size: int) -> np.ndarray:
    """Draw ``size`` labels (object array of str) from a {label: probability} mapping."""
    return np.array(list(probs), dtype=object)[categorical_codes(rng, probs, size)]


def categorical_by_group(
    rng: np.random.Generator,
    groups: np.ndarray,
    table: Mapping[object, Mapping[str, float]],
    labels: Sequence[str],
) -> np.ndarray:
    """Draw one label per row with probabilities looked up by the row's group.

    Returns integer codes into ``labels``. One uniform is drawn per row first (so the
    result does not depend on the order in which groups are visited).
    """
    u = rng.random(len(groups))
    out = np.zeros(groups.shape[0], dtype=np.int64)
    index = {lab: i for i, lab in enumerate(labels)}
    for g, probs in table.items():
        rows = np.flatnonzero(groups == g)
        if rows.size == 0:
            continue
        codes = np.array([index[k] for k in probs], dtype=np.int64)
        p = np.fromiter(probs.values(), dtype=float)
        cum = np.cumsum(p / p.sum())
        cum[-1] = 1.0
        out[rows] = codes[np.searchsorted(cum, u[rows], side="right")]
    return out


def piecewise_exponential(
    e: np.ndarray, breaks: Sequence[np.ndarray], rates: Sequence[np.ndarray]
) -> np.ndarray:
    """Invert a piecewise-constant cumulative hazard at unit-exponential draws ``e``.

    ``breaks`` are non-decreasing per row (may be ``inf``); ``rates`` has one more entry
    than ``breaks``: the hazard on [0, b1), [b1, b2), ..., [b_last, inf). Zero rates are
    allowed (the time is then ``inf`` if the remaining hazard is zero).
    """
    n = e.shape[0]
    t = np.full(n, np.inf)
    done = np.zeros(n, dtype=bool)
    start = np.zeros(n)
    cum = np.zeros(n)
    edges = [*breaks, np.full(n, np.inf)]
    for end, rate in zip(edges, rates, strict=True):
        rate = np.broadcast_to(rate, (n,))
        width = np.maximum(end - start, 0.0)
        with np.errstate(invalid="ignore", over="ignore"):
            seg = np.where(rate > 0, rate * width, 0.0)
            seg = np.where(np.isinf(width) & (rate > 0), np.inf, seg)
            hit = ~done & (cum + seg >= e) & (rate > 0)
            t = np.where(hit, start + (e - cum) / np.where(rate > 0, rate, 1.0), t)
        done |= hit
        cum = cum + np.where(np.isfinite(seg), seg, 0.0)
        start = np.where(np.isfinite(end), np.maximum(end, start), start)
    return t


_BLOCK = np.array([list(f"{i:04d}".encode()) for i in range(10_000)], dtype=np.uint8)


def fixed_width_ids(prefix: str, n: int, width: int) -> np.ndarray:
    """``prefix`` + zero-padded 1..n as an object array of str, without a Python loop.

    Digits are gathered four at a time from a lookup table (one integer division per four
    digits), which is several times faster than formatting numbers one by one.
    """
    blocks = -(-width // 4)
    number = np.arange(1, n + 1, dtype=np.int64)
    buf = np.empty((n, len(prefix) + 4 * blocks), dtype=np.uint8)
    buf[:, : len(prefix)] = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    for b in range(blocks - 1, -1, -1):
        number, rest = np.divmod(number, 10_000)
        col = len(prefix) + 4 * b
        buf[:, col : col + 4] = _BLOCK[rest]
    drop = 4 * blocks - width
    if drop:
        buf = np.ascontiguousarray(np.delete(buf, np.s_[len(prefix) : len(prefix) + drop], axis=1))
    size = buf.shape[1]
    return buf.view(f"S{size}").ravel().astype(f"U{size}").astype(object)
