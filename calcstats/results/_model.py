"""Fitted models: coefficients, covariance, tests, intervals and the monotone-likelihood record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from calcstats._errors import CalcstatsError, InvalidParameterError
from calcstats.results._base import Result, check_conf_level

if TYPE_CHECKING:
    from calcstats._design import Design

__all__ = ["TIDY_COLUMNS", "ModelResult", "RowUnits"]

TIDY_COLUMNS = ["term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]


@dataclass(frozen=True)
class RowUnits:
    """The analysed rows of a model are (start, stop] intervals, not subjects.

    Attributes
    ----------
    ids : numpy.ndarray or None
        The subject (e.g. patient) of each analysed row, when the fit names it
        (``cluster=``); None when the rows cannot be traced to subjects.
    id_column : str or None
        The column holding ``ids``.
    """

    ids: np.ndarray | None
    id_column: str | None


class ModelResult(Result):
    """Base class of fitted-model results.

    Subclasses pass the coefficients ``params`` (model scale, indexed by term) and their
    covariance ``cov``; ``bse`` derives from ``cov``. Where the defaults do not fit they
    override :meth:`_conf_int` or :meth:`_test`.

    Attributes
    ----------
    params : pandas.Series
        Coefficients on the model (link) scale.
    cov : pandas.DataFrame
        Covariance matrix of ``params`` (robust / cluster-robust when requested).
    converged : bool
        The fit met its stopping rule and every coefficient is finite.
    nonestimable : dict of str to str
        Terms whose estimate runs off to ±∞ (monotone likelihood, separation) or that
        could not be estimated, with the reason. Their ``tidy()`` row is NaN and tables
        show "—".
    terms : dict of str to list of str
        Each formula term and its coefficients, in formula order (for ``term_tests``).
    ratio_measure : str or None
        Name of the exponentiated measure (``"OR"``, ``"RR"``, ``"IRR"``, ``"HR"``,
        ``"sHR"``) or ``None`` for linear models; drives the default of
        ``tidy(exponentiate=...)``.
    df_resid : float or None
        Residual degrees of freedom; when set, tests and intervals use the t distribution.
    design : Design or None
        The formula's design (analysed rows, categorical levels and their coding), or None
        for a result made from bare coefficients.
    n_competing : int or None
        Competing events among the analysed rows (Fine–Gray models), else None.
    """

    ratio_measure: str | None = None
    method: str = ""
    df_resid: float | None = None
    design: Design | None = None
    n_competing: int | None = None

    def __init__(
        self,
        params: pd.Series,
        cov: pd.DataFrame | np.ndarray,
        *,
        model: Any = None,
        conf_level: float = 0.95,
        nobs: int | None = None,
        n_events: int | None = None,
        loglik: float | None = None,
        n_params: int | None = None,
        converged: bool = True,
        nonestimable: dict[str, str] | None = None,
        terms: dict[str, list[str]] | None = None,
    ) -> None:
        self.params = pd.Series(params, dtype=float)
        names = list(self.params.index)
        self.cov = pd.DataFrame(np.asarray(cov, dtype=float), index=names, columns=names)
        self.model = model
        self.conf_level = check_conf_level(conf_level)
        self.nobs = nobs
        self.n_events = n_events
        self.loglik = loglik
        self.n_params = len(self.params) if n_params is None else n_params
        self.nonestimable = dict(nonestimable or {})
        self.converged = bool(converged) and not self.nonestimable
        self.terms = dict(terms) if terms is not None else {c: [c] for c in names}

    @property
    def bse(self) -> pd.Series:
        """Standard errors of ``params`` (square roots of the diagonal of ``cov``)."""
        with np.errstate(invalid="ignore"):
            return pd.Series(np.sqrt(np.diag(self.cov.to_numpy())), index=self.params.index)

    # ---- hooks -------------------------------------------------------------------
    def _test(self) -> tuple[np.ndarray, np.ndarray]:
        """Return (statistic, p_value) arrays for each term (Wald by default)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (self.params / self.bse).to_numpy()
        if self.df_resid is not None:
            p = 2 * stats.t.sf(np.abs(z), self.df_resid)
        else:
            p = 2 * stats.norm.sf(np.abs(z))
        return z, p

    def _conf_int(self, conf_level: float) -> tuple[np.ndarray, np.ndarray]:
        """Return model-scale (low, high) arrays (Wald by default)."""
        a = 1 - conf_level
        if self.df_resid is not None:
            q = stats.t.ppf(1 - a / 2, self.df_resid)
        else:
            q = stats.norm.ppf(1 - a / 2)
        est = self.params.to_numpy()
        se = self.bse.to_numpy()
        return est - q * se, est + q * se

    def _glance_extra(self) -> dict[str, Any]:
        return {}

    # ---- the analysed rows ---------------------------------------------------------
    def events_per_row(self) -> np.ndarray | None:
        """Events of the modelled outcome per analysed row (aligned with ``design.X``).

        None for models without events (linear regression) or without a design. Tables
        sum it within a level for their per-level "Events" counts.
        """
        return None

    def row_units(self) -> RowUnits | None:
        """What an analysed row is when it is not one subject; None when it is.

        Counting-process fits (one row per (start, stop] interval) return a
        :class:`RowUnits`, with the subject of each row when ``cluster=`` named it.
        """
        return None

    def level_counts(
        self, columns: Sequence[str], coefficient: str | None
    ) -> tuple[int, float | None]:
        """N and events of the analysed rows at one level of a categorical term.

        The level's rows are those whose design column ``coefficient`` is 1, or, for the
        reference level (``coefficient`` None), those where every one of the term's
        ``columns`` is 0. N counts subjects when the rows are intervals of named subjects
        (:meth:`row_units`); events are the sum of :meth:`events_per_row` (None without).
        Results fitted inside an engine answer by an aggregate query.
        """
        if self.design is None:
            raise CalcstatsError(f"{type(self).__name__} has no design to count levels in.")
        units = self.row_units()
        ids = None if units is None else units.ids
        block = self.design.X[list(columns)].to_numpy(dtype=float)
        if coefficient is not None:
            mask = block[:, list(columns).index(coefficient)] == 1
        else:
            mask = (block == 0).all(axis=1)
        n = int(mask.sum()) if ids is None else len(np.unique(ids[mask]))
        events = self.events_per_row()
        return n, (None if events is None else float(events[mask].sum()))

    # ---- public ------------------------------------------------------------------
    @property
    def aic(self) -> float:
        if self.loglik is None:
            return float("nan")
        return -2.0 * self.loglik + 2.0 * self.n_params

    def tidy(
        self, exponentiate: bool | None = None, conf_level: float | None = None
    ) -> pd.DataFrame:
        """One row per term: ``term, estimate, std_error, statistic, p_value, conf_low, conf_high``.

        Terms in ``nonestimable`` (an estimate at ±∞) have NaN in every numeric column.

        Parameters
        ----------
        exponentiate : bool, optional
            Report ``exp(estimate)`` and exponentiated limits (OR/RR/IRR/HR). Defaults to
            True for ratio models and False otherwise. ``std_error`` stays on the model
            (log) scale.
        conf_level : float, optional
            Confidence level; defaults to the level the model was fitted with (0.95).
        """
        level = self.conf_level if conf_level is None else check_conf_level(conf_level)
        if exponentiate is None:
            exponentiate = self.ratio_measure is not None
        elif not isinstance(exponentiate, (bool, np.bool_)):  # "False" would be truthy
            raise CalcstatsError(f"exponentiate must be True, False or None, got {exponentiate!r}.")
        stat, p = self._test()
        low, high = self._conf_int(level)
        est = self.params.to_numpy(dtype=float)
        se = self.bse.to_numpy(dtype=float)
        if self.nonestimable:
            bad = np.array([t in self.nonestimable for t in self.params.index])
            est, se, stat, p, low, high = (
                np.where(bad, np.nan, np.asarray(a, dtype=float))
                for a in (est, se, stat, p, low, high)
            )
        if exponentiate:
            with np.errstate(over="ignore"):
                est, low, high = np.exp(est), np.exp(low), np.exp(high)
        return pd.DataFrame(
            {
                "term": list(self.params.index),
                "estimate": est,
                "std_error": se,
                "statistic": stat,
                "p_value": p,
                "conf_low": low,
                "conf_high": high,
            },
            columns=TIDY_COLUMNS,
        )

    def glance(self) -> pd.DataFrame:
        """One row of model-level summaries (n, n_events, log-likelihood, AIC, converged, ...)."""
        row: dict[str, Any] = {
            "n": self.nobs,
            "n_events": self.n_events,
            "log_likelihood": self.loglik,
            "aic": self.aic,
            "converged": self.converged,
        }
        row.update(self._glance_extra())
        row["method"] = self.method
        return pd.DataFrame([row])

    def term_tests(self, *, method: str = "wald") -> pd.DataFrame:
        """Wald test per formula term, joint over its coefficients (e.g. all levels).

        Parameters
        ----------
        method : {"wald"}
            Models that can be refitted (the regression models) also offer ``"lr"``.

        Returns
        -------
        pandas.DataFrame
            ``term, df, statistic, p_value, method``: chi-square ``b' V⁻¹ b`` on the
            term's coefficients with the model's (robust, when requested) covariance; an
            F statistic ``W / df`` on the residual df for linear models. The intercept is
            omitted; a term with a non-estimable coefficient gets NaN.
        """
        if method != "wald":
            raise InvalidParameterError(
                f"The 'method' parameter of {type(self).__name__}.term_tests must be 'wald'. "
                f"Got {method!r}. Likelihood-ratio tests refit the model without each term, "
                "which only the regression models (logistic, poisson, ...) offer."
            )
        rows = []
        for term, cols in self.terms.items():
            if term == "Intercept":
                continue
            k = len(cols)
            if any(c in self.nonestimable for c in cols):
                rows.append(
                    {
                        "term": term,
                        "df": k,
                        "statistic": np.nan,
                        "p_value": np.nan,
                        "method": "Wald",
                    }
                )
                continue
            b = self.params[cols].to_numpy()
            V = self.cov.loc[cols, cols].to_numpy()
            w = float(b @ np.linalg.lstsq(V, b, rcond=None)[0])
            rank = int(np.linalg.matrix_rank(V))
            if self.df_resid is not None:
                stat, p, label = w / rank, stats.f.sf(w / rank, rank, self.df_resid), "Wald F"
            else:
                stat, p, label = w, stats.chi2.sf(w, rank), "Wald chi-square"
            rows.append(
                {"term": term, "df": rank, "statistic": stat, "p_value": float(p), "method": label}
            )
        return pd.DataFrame(rows, columns=["term", "df", "statistic", "p_value", "method"])

    def inline(self, term: str, *, digits: int = 2, conf_level: float | None = None) -> str:
        """The fragment a results section prints, e.g. ``"HR 1.20 (95% CI 0.79–1.83; p = 0.39)"``.

        Parameters
        ----------
        term : str
            A coefficient name (``"C(etiology)[T.psc]"``), or a formula term with a single
            coefficient (``"age"``).
        digits : int
            Decimals of the estimate and limits.
        conf_level : float, optional
            Confidence level (default: the model's).
        """
        from calcstats._format import format_number, format_p

        tidy = self.tidy(conf_level=conf_level).set_index("term")
        name = term
        if name not in tidy.index:
            cols = self.terms.get(term, [])
            if len(cols) != 1:
                raise CalcstatsError(
                    f"inline(): {term!r} is not a coefficient of this model; choose one of "
                    f"{[t for t in tidy.index if t != 'Intercept']}."
                )
            name = cols[0]
        row = tidy.loc[name]
        label = self.ratio_measure or "Estimate"
        level = self.conf_level if conf_level is None else conf_level
        if name in self.nonestimable:
            return f"{label} not estimable ({self.nonestimable[name]})"
        est = format_number(row["estimate"], digits=digits)
        lo = format_number(row["conf_low"], digits=digits)
        hi = format_number(row["conf_high"], digits=digits)
        p = format_p(row["p_value"])
        p_text = f"p {p[0]} {p[1:]}" if p.startswith(("<", ">")) else f"p = {p}"
        # a dash between negative bounds reads as a minus sign: "-0.30 to 0.05" instead
        sep = " to " if lo.startswith("-") or hi.startswith("-") else "–"
        return f"{label} {est} ({level * 100:g}% CI {lo}{sep}{hi}; {p_text})"

    def _title(self) -> str:
        return f"{type(self).__name__}: {self.method}"

    def __repr__(self) -> str:
        tidy = self.tidy()
        label = self.ratio_measure or "estimate"
        shown = tidy.rename(columns={"estimate": label})
        # what glance() reports first, without its model-specific extras (a Cox model's
        # concordance pulls the rows of a model fitted in an engine)
        g = {"n": self.nobs, "n_events": self.n_events, "log_likelihood": self.loglik}
        head = [self._title()]
        parts = [f"n={g['n']}"]
        if g.get("n_events") is not None and not pd.isna(g.get("n_events")):
            parts.append(f"events={g['n_events']}")
        if g.get("log_likelihood") is not None and not pd.isna(g.get("log_likelihood")):
            parts.append(f"logLik={g['log_likelihood']:.3f}")
        head.append(", ".join(parts))
        body = shown.to_string(index=False, float_format=lambda v: f"{v:.4g}")
        lines = [*head, body]
        for term, why in self.nonestimable.items():
            lines.append(f"{term}: not estimable ({why})")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        tidy = self.tidy()
        return f"<p><b>{self._title()}</b></p>" + tidy.to_html(
            index=False, float_format=lambda v: f"{v:.4g}"
        )
