"""The analysed rows of a regression model: design, outcome, weights, clusters, offset."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from calcstats._design import Design, build_design
from calcstats._errors import DataError
from calcstats._validation import check_weights, require_columns

__all__ = ["ModelFrame", "model_frame"]


@dataclass
class ModelFrame:
    """Everything a GLM fit needs, for the analysed rows only.

    Attributes
    ----------
    design : Design
        Formula design (``design.X`` with the intercept, ``design.y`` the outcome).
    weights : numpy.ndarray or None
        Positive prior weights (zero-weight rows are already set aside).
    groups : numpy.ndarray or None
        Cluster codes 0..G−1 (``cluster=``).
    offset : numpy.ndarray or None
        ``log`` person-time (``exposure=``).
    n_zero_weight : int
        Rows set aside because their weight is zero.
    """

    design: Design
    weights: np.ndarray | None = None
    groups: np.ndarray | None = None
    offset: np.ndarray | None = None
    n_zero_weight: int = 0

    @property
    def X(self) -> np.ndarray:
        return self.design.matrix

    @property
    def y(self) -> np.ndarray:
        assert self.design.y is not None
        return self.design.y.to_numpy(dtype=float)

    @property
    def formula(self) -> str:
        return self.design.formula

    @property
    def outcome(self) -> str:
        return str(self.design.outcome)

    @property
    def n(self) -> int:
        return len(self.design.X)

    def without(self, columns: list[str]) -> ModelFrame:
        """The same rows with some design columns removed (restricted fits)."""
        keep = [c for c in self.design.columns if c not in columns]
        terms = {t: [c for c in cs if c in keep] for t, cs in self.design.terms.items()}
        d = replace(
            self.design, X=self.design.X[keep], terms={t: cs for t, cs in terms.items() if cs}
        )
        return replace(self, design=d)


def model_frame(
    data: pd.DataFrame,
    formula: str,
    *,
    weights: str | None = None,
    cluster: str | None = None,
    exposure: str | None = None,
    model_name: str,
) -> ModelFrame:
    """Build the model frame, applying the shared rules for weights (see ``_validation``)."""
    require_columns(
        data, {"weights": weights, "cluster": cluster, "exposure": exposure}, function=model_name
    )
    n_zero = 0
    if weights is not None:
        present = data[weights].notna()
        w_all = check_weights(data.loc[present, weights], column=weights, function=model_name)
        zero = np.zeros(len(data), dtype=bool)
        zero[np.flatnonzero(present.to_numpy())] = w_all == 0
        n_zero = int(zero.sum())
        if n_zero:
            data = data.loc[~zero]
    design = build_design(
        data, formula, response=True, extra=[weights, cluster, exposure], model_name=model_name
    )
    frame = design.frame
    assert frame is not None
    w = g = off = None
    if weights is not None:
        w = frame[weights].to_numpy(dtype=float)
    if cluster is not None:
        g = pd.factorize(frame[cluster])[0]
    if exposure is not None:
        e = pd.to_numeric(frame[exposure], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(e) | (e <= 0)
        if bad.any():
            rows = frame.index[bad][:5].tolist()
            raise DataError(
                f"{model_name}(): exposure column {exposure!r} (person-time) must be positive; "
                f"{int(bad.sum())} rows are zero, negative or not numeric (rows {rows}). "
                "Remove rows without follow-up time."
            )
        off = np.log(e)
    return ModelFrame(design=design, weights=w, groups=g, offset=off, n_zero_weight=n_zero)
