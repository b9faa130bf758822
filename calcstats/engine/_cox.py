"""Cox partial likelihood from per-event-time risk-set sums, one aggregate query per step.

For coefficients β the engine computes, per stratum and distinct time, the sums over
rows of ``r = w exp(x̃·β − shift)`` times ``1``, ``x̃`` and ``x̃ x̃ᵀ`` (``x̃`` the centred
covariates), separately for all rows ending there, the deaths there and, with
(start, stop] data, the rows entering there: one ``GROUP BY`` over a ``UNION ALL``. The
risk-set sums at each event time are reverse cumulative sums of these small tables, and
the log-likelihood, score and information follow R's ``coxfit6``/``agfit4`` formulas
with Efron's or Breslow's handling of ties, exactly as
:func:`calcstats.survival._coxfit._iterate` computes them from the rows. The Newton loop
is :func:`calcstats._newton.maximise`, on covariates scaled to unit SD as in
:func:`calcstats.survival._coxfit.fit_cox`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import ConvergenceError
from calcstats._newton import Evaluation
from calcstats.engine._aggregate import scalars

__all__ = ["CoxSums"]


class CoxSums:
    """Cox log-likelihood, score and information of an engine table.

    Parameters
    ----------
    expr : ibis.Table
        The analysed rows.
    xs : list of ibis expressions
        The design columns (on ``expr``).
    time, status : ibis expressions
        Stop time and 0/1 event indicator.
    weights, start, stratum : ibis expressions, optional
        Case weights, interval start, integer stratum code.
    ties : {"efron", "breslow"}
    store : callable, optional
        Computes a table once and keeps it in the engine (the Newton steps then scan the
        few columns they need, not the whole analysis table).
    """

    def __init__(
        self,
        expr: Any,
        xs: Sequence[Any],
        *,
        time: Any,
        status: Any,
        weights: Any = None,
        start: Any = None,
        stratum: Any = None,
        ties: str = "efron",
        store: Any = None,
    ) -> None:
        import ibis

        self.p = p = len(xs)
        self.efron = ties == "efron"
        self.counting = start is not None
        w = weights.cast("float64") if weights is not None else ibis.literal(1).cast("float64")
        cols = {
            "__t": time.cast("float64"),
            "__d": status.cast("float64"),
            "__w": w,
            "__st": stratum.cast("int64") if stratum is not None else ibis.literal(0).cast("int64"),
        }
        if start is not None:
            cols["__s"] = start.cast("float64")
        cols.update({f"__x{j}": x.cast("float64") for j, x in enumerate(xs)})
        raw = store(expr.select(**cols)) if store is not None else expr.select(**cols)
        # one pass: weighted means (the centring), SDs (numpy's unweighted ``std`` of the
        # centred columns, which is that of the columns), ranges and Σ w·d·x
        got = scalars(
            raw,
            {
                "n": raw.count(),
                "sw": raw["__w"].sum(),
                "swd": (raw["__w"] * raw["__d"]).sum(),
                **{f"m{j}": (raw["__w"] * raw[f"__x{j}"]).sum() for j in range(p)},
                **{f"v{j}": raw[f"__x{j}"].var(how="pop") for j in range(p)},
                **{f"lo{j}": raw[f"__x{j}"].min() for j in range(p)},
                **{f"hi{j}": raw[f"__x{j}"].max() for j in range(p)},
                **{f"u{j}": (raw["__w"] * raw["__d"] * raw[f"__x{j}"]).sum() for j in range(p)},
            },
        )
        self.n = int(got["n"])
        self.means = np.array([got[f"m{j}"] / got["sw"] for j in range(p)], dtype=float)
        self.sd = np.sqrt(np.array([max(got[f"v{j}"] or 0.0, 0.0) for j in range(p)]))
        self.lo = np.array([got[f"lo{j}"] for j in range(p)], dtype=float) - self.means
        self.hi = np.array([got[f"hi{j}"] for j in range(p)], dtype=float) - self.means
        self.u_const = np.array([got[f"u{j}"] for j in range(p)], dtype=float) - self.means * float(
            got["swd"]
        )
        centred = raw.mutate(**{f"__x{j}": raw[f"__x{j}"] - float(self.means[j]) for j in range(p)})
        self.base = centred
        self.queries = 0

    # ----------------------------------------------------------------- the query
    def _sums(self, beta: np.ndarray, shift: float) -> pd.DataFrame:
        import ibis

        b = self.base
        p = self.p
        eta = ibis.literal(0).cast("float64")
        for j in range(p):
            eta = eta + b[f"__x{j}"] * float(beta[j])
        # each row's risk score computed once (a staged projection), then the sums
        b = b.mutate(__r=b["__w"] * (eta - shift).exp())
        r = b["__r"]
        pairs = [(j, k) for j in range(p) for k in range(j, p)]

        def part(t: Any, kind: int, dead: Any) -> Any:
            vals = {"__st": b["__st"], "__tt": t, "__k": ibis.literal(kind).cast("int64"), "s0": r}
            vals.update({f"s1_{j}": r * b[f"__x{j}"] for j in range(p)})
            vals.update({f"s2_{j}_{k}": r * b[f"__x{j}"] * b[f"__x{k}"] for j, k in pairs})
            dd = dead if dead is not None else ibis.literal(0).cast("float64")
            vals.update({"d": dd, "dw": b["__w"] * dd, "d0": r * dd})
            vals.update({f"d1_{j}": r * dd * b[f"__x{j}"] for j in range(p)})
            vals.update({f"d2_{j}_{k}": r * dd * b[f"__x{j}"] * b[f"__x{k}"] for j, k in pairs})
            return b.select(**vals)

        rows = part(b["__t"], 0, b["__d"])
        if self.counting:
            rows = rows.union(part(b["__s"], 1, None))
        metrics = {c: rows[c].sum() for c in rows.columns if c not in ("__st", "__tt", "__k")}
        out = rows.group_by(["__st", "__tt", "__k"]).agg(**metrics)
        self.queries += 1
        return out.order_by(["__st", "__tt", "__k"]).to_pandas()

    # --------------------------------------------------------------- evaluation
    def evaluate(self, beta: np.ndarray, *, info: bool = True) -> Evaluation:
        """Log-likelihood, score and information at ``beta`` (centred covariates)."""
        p = self.p
        beta = np.asarray(beta, dtype=float)
        shift = float(np.sum(np.maximum(beta * self.lo, beta * self.hi))) if p else 0.0
        cells = self._sums(beta, shift)
        pairs = [(j, k) for j in range(p) for k in range(j, p)]
        s_cols = ["s0", *[f"s1_{j}" for j in range(p)]]
        q_cols = [f"s2_{j}_{k}" for j, k in pairs]
        st = cells["__st"].to_numpy(dtype=np.int64)
        tt = cells["__tt"].to_numpy(dtype=float)
        kind = cells["__k"].to_numpy(dtype=np.int64)
        allv = cells[s_cols + q_cols].to_numpy(dtype=float)
        deaths = cells[
            ["d0", *[f"d1_{j}" for j in range(p)], *[f"d2_{j}_{k}" for j, k in pairs]]
        ].to_numpy(dtype=float)
        groups = []  # per stratum: event cells with their risk-set and death sums
        for s in np.unique(st):
            stop = (st == s) & (kind == 0)
            t_stop, v_stop = tt[stop], allv[stop]
            after = np.vstack(
                [np.cumsum(v_stop[::-1], axis=0)[::-1], np.zeros((1, v_stop.shape[1]))]
            )
            ev = cells.loc[stop, "d"].to_numpy(dtype=float) > 0
            at = np.flatnonzero(ev)
            risk = after[at]
            if self.counting:
                ent = (st == s) & (kind == 1)
                t_ent, v_ent = tt[ent], allv[ent]
                e_after = np.vstack(
                    [np.cumsum(v_ent[::-1], axis=0)[::-1], np.zeros((1, v_ent.shape[1]))]
                )
                risk = risk - e_after[np.searchsorted(t_ent, t_stop[at], side="left")]
            dsub = cells.loc[stop].iloc[at]
            groups.append(
                (
                    risk,
                    deaths[stop][at],
                    dsub["d"].to_numpy(dtype=float),
                    dsub["dw"].to_numpy(dtype=float),
                )
            )
        risk = np.vstack([g[0] for g in groups])
        dsum = np.vstack([g[1] for g in groups])
        d = np.concatenate([g[2] for g in groups])
        deadwt = np.concatenate([g[3] for g in groups])
        return self._assemble(beta, shift, risk, dsum, d, deadwt, info=info)

    def _assemble(
        self,
        beta: np.ndarray,
        shift: float,
        risk: np.ndarray,
        dsum: np.ndarray,
        d: np.ndarray,
        deadwt: np.ndarray,
        *,
        info: bool,
    ) -> Evaluation:
        p = self.p
        ng = len(d)
        di = np.rint(d).astype(np.int64)
        g = np.repeat(np.arange(ng), di)
        first = np.concatenate(([0], np.cumsum(di)[:-1]))
        within = np.arange(g.size) - first[g]
        f = within / di[g] if self.efron else np.zeros(g.size)
        S0, S1, S2 = risk[:, 0], risk[:, 1 : p + 1], risk[:, p + 1 :]
        D0, D1, D2 = dsum[:, 0], dsum[:, 1 : p + 1], dsum[:, p + 1 :]
        den = S0[g] - f * D0[g]
        if np.any(den <= 0):
            raise ConvergenceError(
                "the Cox risk-set sums underflowed to zero; the linear predictor is extreme "
                "(a coefficient is diverging). Check for a covariate that perfectly predicts "
                "the event order (monotone likelihood) or rescale the covariates."
            )
        mwg = deadwt / di
        mw = mwg[g]
        loglik = float(self.u_const @ beta - np.sum(mw * (np.log(den) + shift)))
        inv = 1.0 / den
        a1 = np.bincount(g, weights=inv, minlength=ng)
        b1 = np.bincount(g, weights=f * inv, minlength=ng)
        u = self.u_const - (mwg * a1) @ S1 + (mwg * b1) @ D1 if p else np.zeros(0)
        imat = np.zeros((p, p))
        if info and p:
            inv2 = inv * inv
            a2 = np.bincount(g, weights=inv2, minlength=ng) * mwg
            b2 = np.bincount(g, weights=f * inv2, minlength=ng) * mwg
            c2 = np.bincount(g, weights=f * f * inv2, minlength=ng) * mwg
            packed = (mwg * a1) @ S2 - (mwg * b1) @ D2
            first_part = np.zeros((p, p))
            at = 0
            for j in range(p):
                for k in range(j, p):
                    first_part[j, k] = first_part[k, j] = packed[at]
                    at += 1
            cross = S1.T @ (D1 * b2[:, None])
            m2 = S1.T @ (S1 * a2[:, None]) - cross - cross.T + D1.T @ (D1 * c2[:, None])
            imat = first_part - m2
        return Evaluation(loglik, u, imat)
