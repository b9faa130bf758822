"""GLM log-likelihood, score and Fisher information from one aggregate query per step.

For the centred, scaled design ``z`` (:class:`calcstats._design.Scaling`, computed from
aggregates) and coefficients ``γ``, the engine sums over rows
``w ℓ(y; η)``, ``z r`` and ``z zᵀ W`` with ``η = zγ + offset``, ``r = w (y − μ) μ'/V(μ)``
and ``W = w μ'²/V(μ)``: the quantities :func:`calcstats.regression._glmfit.fit_glm`
computes with NumPy, for the binomial (logit) and Poisson (log) families. The constant
``Σ w log y!`` of the Poisson log-likelihood is summed over the distinct counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import special

from calcstats._newton import Evaluation
from calcstats.engine._aggregate import grouped

__all__ = ["GlmSums"]

_EXP_MAX = 709.0  # exp() of larger numbers overflows a double


class GlmSums:
    """Log-likelihood, score and information of a GLM on an engine table.

    Parameters
    ----------
    expr : ibis.Table
    zs : list of ibis expressions
        The scaled design columns (the intercept column a literal 1).
    y : ibis expression
        The outcome.
    family : {"binomial", "poisson"}
        With the canonical link (logit, log).
    weights, offset : ibis expressions, optional
    """

    def __init__(
        self,
        expr: Any,
        zs: Sequence[Any],
        y: Any,
        *,
        family: str,
        weights: Any = None,
        offset: Any = None,
    ) -> None:
        import ibis

        self.family = family
        self.p = len(zs)
        cols = {
            "__y": y.cast("float64"),
            "__w": weights.cast("float64")
            if weights is not None
            else ibis.literal(1).cast("float64"),
            "__o": offset.cast("float64")
            if offset is not None
            else ibis.literal(0).cast("float64"),
        }
        cols.update({f"__z{j}": z.cast("float64") for j, z in enumerate(zs)})
        self.base = expr.select(**cols)
        self.const = 0.0
        if family == "poisson":
            counts = grouped(self.base, ["__y"], {"sw": self.base["__w"].sum()})
            self.const = float(
                np.sum(
                    counts["sw"].to_numpy(float)
                    * special.gammaln(counts["__y"].to_numpy(float) + 1)
                )
            )
        self.queries = 0

    def evaluate(self, gamma: np.ndarray) -> Evaluation:
        """Log-likelihood, score and (expected) information at ``gamma``."""
        import ibis

        b = self.base
        p = self.p
        eta = b["__o"]
        for j in range(p):
            eta = eta + b[f"__z{j}"] * float(gamma[j])
        # each row's η, μ, r and W computed once (staged projections), then the sums
        b = b.mutate(__eta=eta)
        e, y = b["__eta"], b["__y"]
        if self.family == "binomial":
            b = b.mutate(
                __mu=1.0 / (1.0 + (-e).exp()),
                __ll=y * e - (ibis.greatest(e, 0.0) + (1.0 + (-e.abs()).exp()).ln()),
            )
            b = b.mutate(__var=b["__mu"] * (1.0 - b["__mu"]))
        else:
            b = b.mutate(__mu=ibis.cases((e <= _EXP_MAX, e.exp()), else_=float(np.exp(_EXP_MAX))))
            b = b.mutate(__ll=b["__y"] * b["__eta"] - b["__mu"], __var=b["__mu"])
        # as fit_glm: rows whose variance underflows to 0 add nothing to score or information
        v = b["__var"]
        b = b.mutate(
            __r=ibis.cases((v > 0, b["__w"] * (b["__y"] - b["__mu"])), else_=0.0),
            __wt=ibis.cases((v > 0, b["__w"] * v), else_=0.0),
        )
        metrics = {"ll": (b["__w"] * b["__ll"]).sum()}
        metrics.update({f"u{j}": (b[f"__z{j}"] * b["__r"]).sum() for j in range(p)})
        metrics.update(
            {
                f"i{j}_{k}": (b[f"__z{j}"] * b[f"__z{k}"] * b["__wt"]).sum()
                for j in range(p)
                for k in range(j, p)
            }
        )
        got = b.aggregate(**metrics).to_pandas().iloc[0]
        self.queries += 1
        ll_total = float(got["ll"]) - self.const
        if not np.isfinite(ll_total):
            return Evaluation(float("-inf"), np.zeros(p), np.eye(p))
        score = np.array([float(got[f"u{j}"]) for j in range(p)])
        info = np.empty((p, p))
        for j in range(p):
            for k in range(j, p):
                info[j, k] = info[k, j] = float(got[f"i{j}_{k}"])
        return Evaluation(ll_total, score, info)
