"""The result of :func:`calcstats.multistate_cox`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from calcstats._design import Design
from calcstats.labels import Labels
from calcstats.results import ModelResult
from calcstats.survival._multistate_fit import JointFit
from calcstats.survival._multistate_input import MultiStateInput

__all__ = ["MultiStateCoxResult", "StackedFit"]


@dataclass
class StackedFit:
    """The stacked data of a multi-state Cox fit: one copy of each row per modelled
    transition out of its state (``row`` indexes the sorted input rows, ``stratum`` the
    transition, ``X`` the coefficients' columns, ``status`` whether that transition
    happened)."""

    row: np.ndarray
    stratum: np.ndarray
    X: np.ndarray
    status: np.ndarray


class MultiStateCoxResult(ModelResult):
    """Per-transition Cox models fitted jointly (:func:`calcstats.multistate_cox`).

    Attributes
    ----------
    params, cov : pandas.Series, pandas.DataFrame
        Log hazard ratios and their robust covariance (clustered on the patient across
        all transitions). Coefficients are named ``"<transition>: <column>"``, e.g.
        ``"no_cirrhosis -> cirrhosis: any_calcification"``; a shared coefficient names
        all its transitions joined by ``" + "``.
    naive_cov : pandas.DataFrame
        The model-based (inverse information) covariance.
    states : tuple of str
    transitions : list of str
        The modelled transitions, ``"from -> to"``, in stratum order.
    coefficient_transition, coefficient_column : dict
        Coefficient name → its transition label and its design column.
    design : Design
        The covariate design (one row per input row).
    ties : {"efron", "breslow"}
    robust : bool
        Always True (the patient is the cluster).
    """

    ratio_measure = "HR"

    def __init__(
        self,
        params: pd.Series,
        *,
        cov: np.ndarray,
        naive_cov: np.ndarray,
        fit: JointFit,
        stacked: StackedFit,
        data: MultiStateInput,
        design: Design,
        transitions: list[tuple[int, int]],
        coefficients: list[tuple[str, tuple[int, ...]]],
        cmap: np.ndarray,
        ties: str,
        conf_level: float,
        nonestimable: dict[str, str],
        labels: Labels | dict[str, str] | None,
        n_events: int,
        keep: np.ndarray,
    ) -> None:
        from calcstats.survival._multistate_cox import transition_name

        states = data.states
        names = list(params.index)
        self._pairs = list(transitions)
        self.transitions = [transition_name(states, t) for t in transitions]
        self.coefficient_transition = {
            n: " + ".join(self.transitions[k] for k in members)
            for n, (_, members) in zip(names, coefficients, strict=True)
        }
        self.coefficient_column = {n: c for n, (c, _) in zip(names, coefficients, strict=True)}
        terms: dict[str, list[str]] = {}
        col_term = design.term_of()
        for n in names:
            key = f"{self.coefficient_transition[n]}: {col_term[self.coefficient_column[n]]}"
            terms.setdefault(key, []).append(n)
        super().__init__(
            params,
            cov,
            model=fit,
            conf_level=conf_level,
            nobs=len(data.stop),
            n_events=n_events,
            loglik=fit.loglik,
            n_params=int(keep.sum()),
            converged=fit.converged,
            nonestimable=nonestimable,
            terms=terms,
        )
        self.naive_cov = pd.DataFrame(naive_cov, index=names, columns=names)
        self.states = states
        self.design: Design = design
        self.ties = ties
        self.robust = True
        self.labels = Labels.coerce(labels)
        self.n_patients = int(np.unique(data.subject).size)
        self._data = data
        self._stacked = stacked
        self._cmap = cmap
        self._keep = keep
        self.method = (
            f"Multi-state Cox model, one stratum per transition ({ties.capitalize()} "
            "ties), robust SE clustered on the patient"
        )

    @property
    def naive_bse(self) -> pd.Series:
        """Model-based standard errors (R's ``sqrt(diag(fit$naive.var))``)."""
        with np.errstate(invalid="ignore"):
            return pd.Series(np.sqrt(np.diag(self.naive_cov.to_numpy())), index=self.params.index)

    def tidy(
        self, exponentiate: bool | None = None, conf_level: float | None = None
    ) -> pd.DataFrame:
        """One row per coefficient: ``transition, term, estimate, std_error, statistic,
        p_value, conf_low, conf_high`` (hazard ratios unless ``exponentiate=False``).
        ``term`` is the design column (``sex[T.M]``), ``transition`` the transition
        (``"a -> b"``, or ``"a -> c + b -> c"`` for a shared coefficient)."""
        out = super().tidy(exponentiate=exponentiate, conf_level=conf_level)
        names = out["term"].tolist()
        out["term"] = [self.coefficient_column[n] for n in names]
        out.insert(0, "transition", [self.coefficient_transition[n] for n in names])
        return out

    def inline(
        self,
        term: str,
        *,
        transition: str | None = None,
        digits: int = 2,
        conf_level: float | None = None,
    ) -> str:
        """The fragment a results section prints, e.g. ``"HR 1.20 (95% CI 0.79–1.83;
        p = 0.39)"``, for ``term`` in ``transition`` (or a full coefficient name such as
        ``"cirrhosis -> decompensation: any_calcification"``)."""
        from calcstats._errors import CalcstatsError
        from calcstats._format import format_number, format_p

        name = f"{transition}: {term}" if transition is not None else term
        if name not in self.params.index:
            raise CalcstatsError(
                f"inline(): {name!r} is not a coefficient of this model; "
                f"choose one of {list(self.params.index)}."
            )
        if name in self.nonestimable:
            return f"HR not estimable ({self.nonestimable[name]})"
        row = ModelResult.tidy(self, conf_level=conf_level).set_index("term").loc[name]
        level = self.conf_level if conf_level is None else conf_level
        p = format_p(row["p_value"])
        p_text = f"p {p[0]} {p[1:]}" if p.startswith(("<", ">")) else f"p = {p}"
        return (
            f"HR {format_number(row['estimate'], digits=digits)} ({level:.0%} CI "
            f"{format_number(row['conf_low'], digits=digits)}–"
            f"{format_number(row['conf_high'], digits=digits)}; {p_text})"
        )

    def coef_matrix(self) -> pd.DataFrame:
        """Log hazard ratios as a design column × transition table (NaN where a column is
        not in a transition's model), as R's ``coef(fit, matrix=TRUE)``."""
        cols = self.design.columns
        out = np.full(self._cmap.shape, np.nan)
        has = self._cmap >= 0
        out[has] = self.params.to_numpy()[self._cmap[has]]
        return pd.DataFrame(out, index=cols, columns=self.transitions)

    def _glance_extra(self) -> dict[str, Any]:
        p = self.n_params
        lr = 2 * (self.model.loglik - self.model.loglik0)
        return {
            "n_patients": self.n_patients,
            "n_transitions": len(self.transitions),
            "lr_statistic": lr,
            "lr_df": p,
            "lr_p_value": float(stats.chi2.sf(lr, p)),
            "n_dropped": self.design.n_dropped,
            "robust": True,
            "ties": self.ties,
        }

    def predict_probabilities(
        self,
        profile: dict[str, Any] | pd.DataFrame,
        times: float | Sequence[float] | np.ndarray | None = None,
        *,
        method: str = "expm",
        n_boot: int = 0,
        seed: int | None = None,
    ) -> Any:
        """State probabilities over time for one covariate profile, as R's
        ``survfit(coxfit, newdata=profile)``.

        Parameters
        ----------
        profile : dict or one-row DataFrame
            A value for every model variable, e.g. ``{"any_calcification": 1,
            "age_at_index": 50}``.
        times : array-like, optional
            Report these times (right-continuous); default every distinct stop time.
        method : {"expm", "product_limit"}
            ``"expm"`` (R's default ``stype=2``) multiplies the matrix exponentials of the
            transition-hazard increments at each event time; ``"product_limit"`` (R's
            ``stype=1``) multiplies ``I + dA`` with the diagonal cut at 0 (so where a
            profile's increments add up to more than 1 the probabilities no longer sum to
            1, as in R). The increments are R's: Breslow ``d / S``
            after a Breslow fit and, after an Efron fit, R's approximate Efron increment
            ``d / mean_{k<d}(S - k D / d²)``.
        n_boot : int, default 0
            R reports no standard errors for these curves. With ``n_boot > 0``, patients
            are resampled with replacement ``n_boot`` times, the model is refitted and the
            curves recomputed: ``std_error`` is the bootstrap SD and ``conf_low`` /
            ``conf_high`` the percentile interval at ``conf_level``.
        seed : int, optional
            Seed of the bootstrap.

        Returns
        -------
        PredictedProbabilities
            ``tidy()`` (``time, state, estimate`` and, with ``n_boot``, ``std_error,
            conf_low, conf_high``), ``at(times)``, ``cumulative_hazards()``.
        """
        from calcstats.survival._multistate_predict import predict

        return predict(self, profile, times=times, method=method, n_boot=n_boot, seed=seed)
