"""Greedy nearest-neighbour matching on the logit of the propensity score.

The algorithm (documented so that it can be reproduced in a few lines of R; the test
reference ``tests/reference/weighting.R``, function ``greedy_match``, is such code):

1. distance = logit(PS), the linear predictor of the propensity model;
2. treated units are taken in decreasing order of the score (MatchIt's
   ``m.order = "largest"``); ties keep data order;
3. each treated unit takes the nearest control not yet used, by |logit difference|; when
   several controls are exactly as near, the first in data order;
4. with a caliper, a match is allowed only if the difference is at most
   ``caliper × SD(logit PS)``, the SD (n − 1) over all units with a score; a treated unit
   without a control that near stays unmatched;
5. ``ratio = k``: in k rounds, as MatchIt — every treated unit takes its first control
   (in the order of step 2), then every treated unit its second control, and so on;
6. ``replace=True``: controls can be reused; every treated unit takes its k nearest
   controls (ties by data order) within the caliper, so the order does not matter.

MatchIt: Debian's MatchIt 4.5.1 (and 4.5.1–4.5.3 anywhere) does not do this — its C++
routine applies C's integer ``abs()`` to the distance, so the caliper is ignored (only
differences of 1 or more on the logit scale are rejected) and the nearer of the two
neighbours is not always chosen (MatchIt issue #163, fixed in 4.5.4). Our reference is
therefore plain R code; MatchIt ≥ 4.5.4 gives the same matches except among controls
at exactly equal distances, which it breaks differently (on lalonde: the same 117
matched pairs with a caliper of 0.2, 12 treated units with a different but equally near
control).

Balance after matching is :func:`calcstats.balance` with the matching weights (treated 1,
each control the sum over its matches of 1/number of controls of that treated unit),
estimand ATT, and SMD denominators from the full, unmatched sample (as cobalt does).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from calcstats._errors import DataError, SchemaError
from calcstats._validation import (
    BOOLEAN,
    COLUMN,
    NONE,
    Interval,
    require_columns,
    validate_params,
)
from calcstats.causal._balance import BalanceResult, balance
from calcstats.causal._propensity import PropensityResult
from calcstats.cohort._flow import Flow, FlowStep
from calcstats.labels import Labels
from calcstats.results import Result

__all__ = ["MatchResult", "match"]


class _Pool:
    """Controls sorted by distance, grouped by equal value, with 'next available' links."""

    def __init__(self, d: np.ndarray) -> None:
        self.u, inv = np.unique(d, return_inverse=True)
        order = np.argsort(inv, kind="stable")  # by value, then data order
        self.members = order
        self.start = np.searchsorted(inv[order], np.arange(len(self.u)))
        self.end = np.append(self.start[1:], len(order))
        self.head = self.start.copy()  # first available member
        g = len(self.u)
        self._right = np.arange(g + 1)  # g = sentinel (none)
        self._left = np.arange(g + 1)  # index + 1; 0 = sentinel

    def _find(self, link: np.ndarray, i: int) -> int:
        root = i
        while link[root] != root:
            root = int(link[root])
        while link[i] != root:
            link[i], i = root, int(link[i])
        return root

    def right(self, g: int) -> int:
        """First group ≥ g with an available member (len(u) if none)."""
        return self._find(self._right, g)

    def left(self, g: int) -> int:
        """Last group ≤ g with an available member (−1 if none)."""
        return self._find(self._left, g + 1) - 1

    def take(self, g: int) -> None:
        """Use the first available member of group g."""
        self.head[g] += 1
        if self.head[g] == self.end[g]:
            self._right[g] = g + 1
            self._left[g + 1] = g

    def nearest(self, x: float, k: int, width: float, reuse: bool) -> list[tuple[int, float, int]]:
        """Up to k (control, distance, group) nearest to x, by distance then data order."""
        u = self.u
        pos = int(np.searchsorted(u, x))
        lo, hi = self.left(pos - 1), self.right(pos)
        out: list[tuple[int, float, int]] = []
        while len(out) < k and (lo >= 0 or hi < len(u)):
            dl = abs(x - u[lo]) if lo >= 0 else np.inf
            dr = abs(x - u[hi]) if hi < len(u) else np.inf
            d = min(dl, dr)
            if d > width:
                break
            cands: list[tuple[int, int]] = []
            while lo >= 0 and abs(x - u[lo]) == d:
                first = self.start[lo] if reuse else self.head[lo]
                cands.extend((int(m), lo) for m in self.members[first : self.end[lo]])
                lo = self.left(lo - 1)
            while hi < len(u) and abs(x - u[hi]) == d:
                first = self.start[hi] if reuse else self.head[hi]
                cands.extend((int(m), hi) for m in self.members[first : self.end[hi]])
                hi = self.right(hi + 1)
            cands.sort()
            out.extend((m, float(d), g) for m, g in cands[: k - len(out)])
        return out


def _greedy(
    lp: np.ndarray, t: np.ndarray, *, ratio: int, width: float, replace: bool
) -> list[list[tuple[int, float, int]]]:
    """Per treated unit (data order): list of (control position, distance, round)."""
    tr = np.flatnonzero(t == 1)
    co = np.flatnonzero(t == 0)
    pool = _Pool(lp[co])
    found: list[list[tuple[int, float, int]]] = [[] for _ in tr]
    order = np.argsort(-lp[tr], kind="stable")  # decreasing score, ties: data order
    if replace:
        for j in order:
            near = pool.nearest(float(lp[tr[j]]), ratio, width, True)
            found[j] = [(int(co[m]), d, r + 1) for r, (m, d, _) in enumerate(near)]
        return found
    for rnd in range(1, ratio + 1):
        for j in order:
            near = pool.nearest(float(lp[tr[j]]), 1, width, False)
            if near:
                m, d, g = near[0]
                pool.take(g)
                found[j].append((int(co[m]), d, rnd))
    return found


class MatchResult(Result):
    """Result of :func:`match`.

    Attributes
    ----------
    pairs : pandas.DataFrame
        One row per matched control: ``pair_id`` (1, 2, ... over the matched treated units
        in data order), ``treated`` and ``control`` (index labels of the data),
        ``distance`` (|logit PS difference|), ``round`` (1 for the first control of a
        treated unit, 2 for the second, ...).
    data : pandas.DataFrame
        The matched sample: the rows of the matched treated units and their controls,
        with the columns ``pair_id`` and ``match_weight`` (treated 1, each control 1/number
        of controls of its treated unit); sorted by pair, treated first. With
        ``replace=True`` a control used by several treated units appears once per use
        (cluster on its id in the outcome model).
    weights : pandas.Series
        Matching weight per row of the input data: 1 for a matched treated unit, the sum
        of 1/(number of controls) over its matches for a control, 0 if unmatched.
    flow : Flow
        Step 0: all units; then units without a propensity score (if any), treated units
        left unmatched (no control within the caliper), controls not used.
    caliper, caliper_width, sd_logit : float or None
        Caliper in SDs of the logit score, its width on the logit scale, and that SD.
    ratio : int
    replace : bool
    n_treated_matched, n_treated_unmatched, n_controls_matched : int
    """

    def __init__(
        self,
        *,
        pairs: pd.DataFrame,
        data: pd.DataFrame,
        weights: pd.Series,
        flow: Flow,
        caliper: float | None,
        caliper_width: float | None,
        sd_logit: float,
        ratio: int,
        replace: bool,
        source: pd.DataFrame,
        treatment: str,
        n_treated: int,
        n_control: int,
        labels: Labels | Mapping[str, str] | None,
    ) -> None:
        self.pairs = pairs
        self.data = data
        self.weights = weights
        self.flow = flow
        self.caliper = caliper
        self.caliper_width = caliper_width
        self.sd_logit = sd_logit
        self.ratio = ratio
        self.replace = replace
        self.treatment = treatment
        self.labels = Labels.coerce(labels)
        self._source = source
        self.n_treated_matched = int(pairs["pair_id"].nunique())
        self.n_treated_unmatched = n_treated - self.n_treated_matched
        self.n_controls_matched = int(pairs["control"].nunique())
        self._n = (n_treated, n_control)
        cal = (
            "no caliper"
            if caliper is None
            else f"caliper {caliper:g} SD of the logit score ({caliper_width:.4g})"
        )
        self.method = (
            f"Greedy 1:{ratio} nearest-neighbour matching on the logit of the "
            f"propensity score, {'with' if replace else 'without'} replacement, "
            f"treated in decreasing score order, {cal}"
        )

    def tidy(self) -> pd.DataFrame:
        """Per group: ``group, n, n_matched, n_unmatched``."""
        n_t, n_c = self._n
        return pd.DataFrame(
            [
                {
                    "group": "treated",
                    "n": n_t,
                    "n_matched": self.n_treated_matched,
                    "n_unmatched": self.n_treated_unmatched,
                },
                {
                    "group": "control",
                    "n": n_c,
                    "n_matched": self.n_controls_matched,
                    "n_unmatched": n_c - self.n_controls_matched,
                },
            ]
        )

    @validate_params({"threshold": [Interval(0, None, closed="neither")]})
    def balance(
        self,
        covariates: str | Sequence[str],
        *,
        threshold: float = 0.1,
        labels: Labels | dict[str, str] | None = None,
    ) -> BalanceResult:
        """Balance before (unweighted) and after matching (matching weights), estimand ATT.

        The SMD denominators are the treated-group SDs of the full sample before
        matching, as cobalt; variance ratios after matching are those of the matched
        sample (weighted by the matching weights). See :func:`calcstats.balance`.
        """
        result = balance(
            self._source,
            treatment=self.treatment,
            covariates=covariates,
            weights=self.weights.loc[self._source.index],
            estimand="ATT",
            threshold=threshold,
            labels=self.labels | Labels.coerce(labels),
        )
        result.adjustment = "matching"
        return result


def _inputs(
    data: pd.DataFrame, ps: Any, treatment: str | None
) -> tuple[np.ndarray, np.ndarray, str, pd.DataFrame]:
    """Logit score, treatment (NaN where no score), treatment column name, source data."""
    if isinstance(ps, PropensityResult):
        if not ps.scores.index.equals(data.index):
            raise DataError(
                "match(): the propensity result was fitted on other rows than data (the "
                "indexes differ); call cs.propensity on the same data frame."
            )
        lp = ps.linear_predictor.to_numpy(dtype=float)
        t = ps.treated.to_numpy(dtype=float)
        name = treatment or ps.treatment
        source = data
        if name not in data.columns:
            source = data.assign(**{name: ps.treated})
        return lp, t, name, source
    if not isinstance(ps, str):
        raise SchemaError(
            "match(): ps must be the result of cs.propensity or the name of a column of "
            f"propensity scores, got {type(ps).__name__}."
        )
    if treatment is None:
        raise SchemaError(
            "match(): with a column of scores, name the treatment column too (treatment=)."
        )
    require_columns(data, {"ps": ps, "treatment": treatment}, function="match")
    e = pd.to_numeric(data[ps], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isnan(e) & ((e <= 0) | (e >= 1))
    if bad.any():
        rows = data.index[bad][:5].tolist()
        raise DataError(
            f"match(): propensity scores in {ps!r} must lie strictly between 0 "
            f"and 1; rows {rows} do not."
        )
    t = pd.to_numeric(data[treatment], errors="coerce").to_numpy(dtype=float)
    if not np.isin(t[~np.isnan(t)], (0.0, 1.0)).all():
        raise DataError(f"match(): treatment {treatment!r} must be 0/1 (or True/False).")
    t = np.where(np.isnan(e), np.nan, t)
    return special.logit(e), t, treatment, data


@validate_params(
    {
        "ratio": [Interval(1, None, integer=True)],
        "caliper": [NONE, Interval(0, None, closed="neither")],
        "replace": [BOOLEAN],
        "treatment": [COLUMN, NONE],
        "id": [COLUMN, NONE],
    }
)
def match(
    data: pd.DataFrame,
    ps: PropensityResult | str,
    *,
    ratio: int = 1,
    caliper: float | None = 0.2,
    replace: bool = False,
    treatment: str | None = None,
    id: str | None = None,
    labels: Labels | dict[str, str] | None = None,
) -> MatchResult:
    """Greedy nearest-neighbour matching of treated to control units on logit(PS).

    The algorithm is written out in :mod:`calcstats.causal._match`: treated units in
    decreasing order of the score each take the nearest unused control on the logit
    scale (exact ties: the first in data order), within ``caliper × SD(logit PS)``.
    It reproduces plain R code, not MatchIt 4.5.1, whose caliper is broken (MatchIt
    issue #163; see the module docstring). Matching estimates the effect in the treated
    (ATT).

    Parameters
    ----------
    data : pandas.DataFrame
        The data the propensity model was fitted on.
    ps : PropensityResult or str
        The result of :func:`calcstats.propensity` (its linear predictor is the
        distance), or a column of propensity scores (then give ``treatment=``).
    ratio : int
        Controls per treated unit (in rounds, see the module docstring).
    caliper : float or None
        Maximum distance in SDs of the logit score (SD over all units with a score,
        n − 1); None for no caliper.
    replace : bool
        Allow a control to be matched to several treated units.
    treatment : str, optional
        0/1 treatment column (required when ``ps`` is a column name).
    id : str, optional
        Column of unit ids for the flow (default: the index labels).
    labels : Labels or dict, optional
        Display labels kept for the balance table and plots.

    Returns
    -------
    MatchResult
        ``pairs``, ``data`` (matched sample with ``pair_id`` and ``match_weight``),
        ``weights``, ``flow`` (who was left out), ``balance(covariates)``.

    Examples
    --------
    >>> import calcstats as cs
    >>> pbc = cs.datasets.load_pbc().dropna(subset=["trt"])
    >>> ps = cs.propensity(pbc, "hepato ~ age + sex + albumin", estimand="ATT")
    >>> m = cs.match(pbc, ps, caliper=0.2)
    >>> print(m.tidy().to_string(index=False))
      group   n  n_matched  n_unmatched
    treated 160        123           37
    control 152        123           29
    >>> m.pairs[["pair_id", "treated", "control"]].head(2).to_numpy().tolist()
    [[1, 1, 121], [2, 4, 72]]
    """
    if not isinstance(data, pd.DataFrame):
        raise SchemaError(f"match() needs a pandas DataFrame, got {type(data).__name__}.")
    lp, t, tname, source = _inputs(data, ps, treatment)
    if id is not None:
        require_columns(data, {"id": id}, function="match")
        ids = data[id].astype(str).to_numpy()
    else:
        ids = data.index.astype(str).to_numpy()
    if len(set(ids)) != len(ids):
        raise DataError(
            "match(): unit ids are not unique"
            + (f" in {id!r}" if id else " (index labels); pass id=")
            + "."
        )
    has = ~np.isnan(lp) & ~np.isnan(t)
    sub = np.flatnonzero(has)
    lps, ts = lp[sub], t[sub]
    n_t, n_c = int((ts == 1).sum()), int((ts == 0).sum())
    if n_t == 0 or n_c == 0:
        raise DataError("match(): needs treated and control units with a propensity score.")
    sd = float(np.std(lps, ddof=1))
    width = np.inf if caliper is None else float(caliper) * sd
    found = _greedy(lps, ts, ratio=int(ratio), width=width, replace=bool(replace))
    labels_idx = data.index
    tr_pos = sub[np.flatnonzero(ts == 1)]
    rows, weights = [], np.zeros(len(data))
    pair = 0
    for j, ctrls in enumerate(found):
        if not ctrls:
            continue
        pair += 1
        weights[tr_pos[j]] = 1.0
        for c, d, rnd in ctrls:
            weights[sub[c]] += 1.0 / len(ctrls)
            rows.append(
                {
                    "pair_id": pair,
                    "treated": labels_idx[tr_pos[j]],
                    "control": labels_idx[sub[c]],
                    "distance": d,
                    "round": rnd,
                    "_t": tr_pos[j],
                    "_c": sub[c],
                    "_k": len(ctrls),
                }
            )
    pairs = pd.DataFrame(
        rows, columns=["pair_id", "treated", "control", "distance", "round", "_t", "_c", "_k"]
    )
    # matched sample: per pair the treated row, then its controls
    first = ~pairs["pair_id"].duplicated().to_numpy()
    pos = np.concatenate([pairs["_t"].to_numpy()[first], pairs["_c"].to_numpy()]).astype(int)
    pid = np.concatenate([pairs["pair_id"].to_numpy()[first], pairs["pair_id"].to_numpy()])
    mw = np.concatenate([np.ones(int(first.sum())), 1.0 / pairs["_k"].to_numpy(dtype=float)])
    rank = np.concatenate([np.zeros(int(first.sum())), np.arange(1, len(pairs) + 1)])
    order = np.lexsort((rank, pid))
    matched = data.iloc[pos[order]].assign(pair_id=pid[order].astype(int), match_weight=mw[order])
    flow = Flow((FlowStep("Units before matching", len(data), 0, len(data)),))
    if (~has).any():
        flow = flow.add("No propensity score", ids[~has].tolist(), rule="match")
    used = weights > 0
    unmatched_t = [ids[p] for p in tr_pos if not used[p]]
    reason = (
        "Treated without a control within the caliper"
        if caliper is not None
        else "Treated left without a control (controls ran out)"
    )
    flow = flow.add(reason, unmatched_t, rule="match")
    co_pos = sub[np.flatnonzero(ts == 0)]
    flow = flow.add("Controls not matched", [ids[p] for p in co_pos if not used[p]], rule="match")
    return MatchResult(
        pairs=pairs.drop(columns=["_t", "_c", "_k"]),
        data=matched,
        weights=pd.Series(weights, index=labels_idx, name="match_weight"),
        flow=flow,
        caliper=None if caliper is None else float(caliper),
        caliper_width=None if caliper is None else width,
        sd_logit=sd,
        ratio=int(ratio),
        replace=bool(replace),
        source=source.iloc[sub],
        treatment=tname,
        n_treated=n_t,
        n_control=n_c,
        labels=labels,
    )
