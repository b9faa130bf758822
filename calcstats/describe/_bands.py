"""Follow-up time bands of incidence rates, as Stata's ``stsplit``.

Bands are intervals (lo, hi]: an event at exactly a cut point belongs to the band that
ends there; the first band starts at 0 and follow-up beyond the last cut forms an open
band. Shared by the pandas path (:func:`split_bands`, per row) and the engine path
(:func:`band_edges`, the edges of its aggregate query).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from calcstats._errors import InvalidParameterError

__all__ = ["band_edges", "split_bands"]


def band_edges(bands: Sequence[float]) -> tuple[np.ndarray, np.ndarray, list[str], list[float]]:
    """Lower and upper edges, labels and cut points of the follow-up bands (Stata
    ``stsplit``: bands (lo, hi], a first band from 0, an open last band)."""
    cuts = np.unique(np.atleast_1d(np.asarray(bands, dtype=float)))
    if cuts.size == 0 or (cuts < 0).any():
        raise InvalidParameterError(
            "The 'bands' parameter of incidence_rate must be a list of cut points >= 0 (e.g. "
            f"[0, 1, 5, 10]) or None. Got {bands!r}."
        )
    if cuts[0] > 0:
        cuts = np.concatenate([[0.0], cuts])
    edges = np.concatenate([cuts, [np.inf]])
    lo, hi = edges[:-1], edges[1:]
    labels = [f"{a:g}–{b:g}" if np.isfinite(b) else f"≥{a:g}" for a, b in zip(lo, hi, strict=True)]
    return lo, hi, labels, cuts.tolist()


def split_bands(
    t: np.ndarray, d: np.ndarray, bands: Sequence[float]
) -> tuple[np.ndarray, np.ndarray, list[str], list[float]]:
    """Person-time and events per band (Stata ``stsplit``): arrays shaped (n, n_bands)."""
    lo, hi, labels, cuts = band_edges(bands)
    pt = np.clip(t[:, None], lo, hi) - lo
    inband = (t[:, None] > lo) & (t[:, None] <= hi)
    inband[:, 0] |= t == 0
    ev = inband & (d[:, None] == 1)
    return pt, ev.astype(np.int64), labels, cuts
