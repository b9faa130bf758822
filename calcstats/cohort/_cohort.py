"""The Cohort: four canonical tables, the participant flow and the vocabularies.

A Cohort is immutable in use: :meth:`Cohort.exclude` returns a new Cohort and leaves the
original unchanged. Build one with :func:`calcstats.read_cohort` (which validates); the
constructor trusts tables that are already canonical (e.g. from the simulator).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import CalcstatsError, SchemaError
from calcstats.cohort._flow import Flow
from calcstats.cohort._schema import TABLES, Vocabularies

__all__ = ["Cohort"]


def _empty(table: str) -> pd.DataFrame:
    dtypes = {"date": "datetime64[ns]", "float": float, "bool": bool}
    return pd.DataFrame(
        {
            c.name: pd.Series([], dtype=dtypes.get(c.kind, object))
            for c in TABLES[table].columns
            if c.required
        }
    )


def _nullable(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with float columns as Float64, so a comparison with a missing value is NA."""
    floats = [
        c
        for c in df.columns
        if pd.api.types.is_float_dtype(df[c]) and not isinstance(df[c].dtype, pd.ArrowDtype)
    ]
    if not floats:
        return df
    out = df.copy(deep=False)
    for c in floats:
        out[c] = df[c].astype("Float64")
    return out


class Cohort:
    """A validated cohort: patients, imaging, findings, events, flow, vocabularies.

    Parameters
    ----------
    patients, imaging, findings, events : pandas.DataFrame
        Tables in canonical names and dtypes (see :mod:`calcstats.cohort._schema`);
        imaging, findings and events may be None (no rows).
    flow : Flow, optional
        The participant flow so far; by default step 0 counts ``patients``.
    vocabularies : Vocabularies, optional
        The vocabularies the tables were checked against.
    truth : object, optional
        The simulator's Truth object (for simulated cohorts); kept by :meth:`exclude`.

    Examples
    --------
    >>> import pandas as pd
    >>> import calcstats as cs
    >>> pts = pd.DataFrame({"patient_id": ["a", "b", "c"], "sex": ["F", "M", "F"],
    ...     "age_at_index": [15.0, 40.0, 62.0], "index_date": ["2015-01-01"] * 3,
    ...     "etiology": ["pbc", "psc", "other"], "cirrhosis_at_baseline": [False] * 3,
    ...     "last_followup_date": ["2020-01-01"] * 3})
    >>> adults = cs.read_cohort(patients=pts).exclude("age_at_index < 18", reason="age < 18")
    >>> len(adults.patients), adults.flow.to_frame()["n_excluded"].tolist()
    (2, [0, 1])
    """

    def __init__(
        self,
        patients: pd.DataFrame,
        imaging: pd.DataFrame | None = None,
        findings: pd.DataFrame | None = None,
        events: pd.DataFrame | None = None,
        *,
        flow: Flow | None = None,
        vocabularies: Vocabularies | None = None,
        truth: Any = None,
    ) -> None:
        tables = {"patients": patients, "imaging": imaging, "findings": findings, "events": events}
        for name, df in tables.items():
            if df is None:
                df = _empty(name)
            if not isinstance(df, pd.DataFrame):
                raise SchemaError(f"Cohort: {name} must be a DataFrame, got {type(df).__name__}.")
            need = [
                c
                for c in TABLES[name].required
                if c not in df.columns and not (c == "age_at_index" and name == "patients")
            ]
            if need:
                raise SchemaError(
                    f"Cohort: the {name} table lacks canonical column(s) {need}; build a "
                    "cohort from raw tables with calcstats.read_cohort(..., column_map=...)."
                )
            idx = df.index
            if not (isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1):
                df = df.reset_index(drop=True)
            tables[name] = df
        self._patients = tables["patients"]
        self._imaging = tables["imaging"]
        self._findings = tables["findings"]
        self._events = tables["events"]
        self._flow = (
            flow if flow is not None else Flow.start(self._patients["patient_id"].to_numpy())
        )
        if self._flow.n_out != len(self._patients):
            raise CalcstatsError(
                f"Cohort: the flow ends with {self._flow.n_out} patients but the patients "
                f"table has {len(self._patients)} rows."
            )
        self._vocabularies = vocabularies if vocabularies is not None else Vocabularies()
        self.truth = truth

    # ----------------------------------------------------------------------- attributes
    @property
    def patients(self) -> pd.DataFrame:
        """One row per patient (canonical columns, then extra covariates)."""
        return self._patients

    @property
    def imaging(self) -> pd.DataFrame:
        """One row per imaging study."""
        return self._imaging

    @property
    def findings(self) -> pd.DataFrame:
        """One row per calcification per study."""
        return self._findings

    @property
    def events(self) -> pd.DataFrame:
        """One row per clinical event."""
        return self._events

    @property
    def flow(self) -> Flow:
        """The participant flow (:class:`Flow`)."""
        return self._flow

    @property
    def vocabularies(self) -> Vocabularies:
        """The vocabularies used (etiology, event, morphology, modality, segment, sex, ...)."""
        return self._vocabularies

    @property
    def engine(self) -> str:
        """Where the tables are held: ``"pandas"`` (in memory). A cohort read through an
        engine is an :class:`~calcstats.cohort.EngineCohort`, whose ``engine`` is
        ``"duckdb"``, ``"pyspark"``, ..."""
        return "pandas"

    # ------------------------------------------------------------------------- exclude
    def _query_mask(self, query: str) -> pd.Series:
        try:
            res = _nullable(self._patients).eval(query)
        except pd.errors.UndefinedVariableError as exc:
            try:
                from calcstats.cohort import _analysis
            except ImportError:
                raise CalcstatsError(
                    f"exclude: the query {query!r} names a column not in cohort.patients "
                    f"({exc}); available columns: {list(self._patients.columns)}."
                ) from exc
            table = _analysis.patient_table(self)
            try:
                res = _nullable(table).eval(query)
            except pd.errors.UndefinedVariableError as exc2:
                raise CalcstatsError(
                    f"exclude: the query {query!r} names a column in neither cohort.patients "
                    f"nor cohort.patient_table() ({exc2}); columns: {list(table.columns)}."
                ) from exc2
            res = pd.Series(np.asarray(res), index=table["patient_id"].to_numpy()).reindex(
                self._patients["patient_id"].to_numpy()
            )
            res.index = self._patients.index
        except Exception as exc:
            raise CalcstatsError(
                f"exclude: could not evaluate the query {query!r} on cohort.patients: {exc}. "
                "Write a pandas query such as \"age_at_index < 18 and sex == 'M'\"."
            ) from exc
        if not isinstance(res, pd.Series):
            raise CalcstatsError(
                f"exclude: the query {query!r} does not give one True/False per patient."
            )
        if res.dtype == object or isinstance(res.dtype, pd.BooleanDtype):
            return res.fillna(False)  # an unknown result (a missing value) keeps the patient
        return res

    def exclude(
        self,
        query_or_mask: str | pd.Series | np.ndarray | Callable[[pd.DataFrame], Any],
        *,
        reason: str,
    ) -> Cohort:
        """A new Cohort without the selected patients (and their imaging, findings, events).

        Parameters
        ----------
        query_or_mask : str, boolean Series/array, or callable
            Selects the patients to EXCLUDE: a pandas query on ``patients`` (or on
            :meth:`patient_table` columns, e.g. ``"any_calcification == 0"``), a boolean
            mask aligned to ``patients`` (no missing values), or a callable taking
            ``patients`` and returning such a mask. In a query, a comparison with a
            missing number or yes/no value is unknown, and a patient whose result is
            unknown is kept: ``"diabetes == True"``, ``"bmi > 30"`` and ``"bmi != 30"``
            keep a patient whose value is missing. Text and date comparisons follow pandas
            (``x == 'a'`` is False and ``x != 'a'`` True for a missing ``x``). To decide
            explicitly, name the missing values: ``"diabetes == True or diabetes.isna()"``.
        reason : str
            Shown in the flow.

        Returns
        -------
        Cohort
            The original is unchanged; the new flow has one more step.

        Examples
        --------
        >>> import pandas as pd
        >>> import calcstats as cs
        >>> pts = pd.DataFrame({"patient_id": ["a", "b"], "sex": ["F", "M"],
        ...     "age_at_index": [15.0, 40.0], "index_date": ["2015-01-01"] * 2,
        ...     "etiology": ["pbc", "psc"], "cirrhosis_at_baseline": [False] * 2,
        ...     "last_followup_date": ["2020-01-01"] * 2})
        >>> cohort = cs.read_cohort(patients=pts)
        >>> cohort.exclude("age_at_index < 18", reason="age under 18").flow.steps[-1].excluded_ids
        ('a',)
        """
        if not isinstance(reason, str) or not reason.strip():
            raise CalcstatsError("exclude: give a non-empty reason= (it is shown in the flow).")
        sel = query_or_mask
        if callable(sel) and not isinstance(sel, pd.Series | np.ndarray):
            try:
                sel = sel(self._patients)
            except CalcstatsError:
                raise
            except Exception as exc:  # the user's function: name it, keep its traceback
                raise CalcstatsError(
                    f"exclude: the function given as query_or_mask raised "
                    f"{type(exc).__name__}: {exc}. It receives cohort.patients (columns "
                    f"{list(self._patients.columns)}) and must return one True/False per "
                    "patient."
                ) from exc
        if isinstance(sel, str):
            mask = self._query_mask(sel)
        elif isinstance(sel, pd.Series):
            if not sel.index.equals(self._patients.index):
                raise CalcstatsError(
                    "exclude: the mask's index does not match cohort.patients' index "
                    f"(RangeIndex of {len(self._patients)}); build it from cohort.patients."
                )
            mask = sel
        elif isinstance(sel, np.ndarray | list):
            arr = np.asarray(sel)
            if arr.shape != (len(self._patients),):
                raise CalcstatsError(
                    f"exclude: the mask has shape {arr.shape}, expected "
                    f"({len(self._patients)},) (one value per patient)."
                )
            mask = pd.Series(arr, index=self._patients.index)
        else:
            raise CalcstatsError(
                "exclude: pass a query string, a boolean Series/array aligned to "
                f"cohort.patients, or a callable; got {type(sel).__name__}."
            )
        if mask.isna().any():
            raise CalcstatsError(
                f"exclude: the mask has {int(mask.isna().sum())} missing value(s); decide "
                "explicitly, e.g. mask.fillna(False)."
            )
        if not (pd.api.types.is_bool_dtype(mask) or set(pd.unique(mask)) <= {True, False}):
            raise CalcstatsError(f"exclude: the mask must be True/False, got dtype {mask.dtype}.")
        m = mask.to_numpy(dtype=bool)
        gone = self._patients["patient_id"].to_numpy(dtype=object)[m]
        flow = self._flow.add(reason, gone, rule="user")
        gone_idx = pd.Index(gone)

        def keep(df: pd.DataFrame) -> pd.DataFrame:
            return df.loc[~df["patient_id"].isin(gone_idx)].reset_index(drop=True)

        return Cohort(
            self._patients.loc[~m].reset_index(drop=True),
            keep(self._imaging),
            keep(self._findings),
            keep(self._events),
            flow=flow,
            vocabularies=self._vocabularies,
            truth=self.truth,
        )

    # --------------------------------------------------------------------- analysis
    def patient_table(self) -> pd.DataFrame:
        """One row per patient with the calcification phenotype (see ``_analysis``)."""
        from calcstats.cohort._analysis import patient_table

        return patient_table(self)

    def survival_table(
        self,
        outcome: str,
        *,
        competing: tuple[str, ...] | list[str] = (),
        horizon: float | None = None,
    ) -> pd.DataFrame:
        """Time to ``outcome`` (years) and status (0 censored, 1 outcome, 2.. competing)."""
        from calcstats.cohort._analysis import survival_table

        return survival_table(self, outcome, competing=competing, horizon=horizon)

    def at_risk(
        self,
        outcome: str,
        *,
        competing: tuple[str, ...] | list[str] = (),
        horizon: float | None = None,
    ) -> Any:
        """The survival table with the patients left out and the extended flow (AtRisk)."""
        from calcstats.cohort._analysis import at_risk

        return at_risk(self, outcome, competing=competing, horizon=horizon)

    def interval_table(
        self,
        outcome: str = "calcification",
        *,
        assessments: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Interval-censored onset (left, right] in years, for events seen only when
        assessed (e.g. new calcification on follow-up imaging); see ``_interval_table``."""
        from calcstats.cohort._interval_table import interval_table

        return interval_table(self, outcome, assessments=assessments)

    def interval_at_risk(
        self,
        outcome: str = "calcification",
        *,
        assessments: pd.DataFrame | None = None,
    ) -> Any:
        """The interval table with the patients left out and the extended flow."""
        from calcstats.cohort._interval_table import interval_at_risk

        return interval_at_risk(self, outcome, assessments=assessments)

    def counting_process_table(
        self,
        outcome: str,
        *,
        exposure: str = "calcification",
        competing: tuple[str, ...] | list[str] = (),
    ) -> pd.DataFrame:
        """(start, stop] intervals with a time-varying exposure."""
        from calcstats.cohort._analysis import counting_process_table

        return counting_process_table(self, outcome, exposure=exposure, competing=competing)

    def multistate_table(
        self, states: Any = None, *, on_contradiction: str = "direct"
    ) -> pd.DataFrame:
        """One row per patient per sojourn in a disease state (see ``_multistate_table``)."""
        from calcstats.cohort._multistate_table import multistate_table

        return multistate_table(self, states, on_contradiction=on_contradiction)

    def multistate_at_risk(self, states: Any = None, *, on_contradiction: str = "direct") -> Any:
        """The multi-state table with the patients left out, the events adjusted and the
        extended flow (MultiStateAtRisk)."""
        from calcstats.cohort._multistate_table import multistate_at_risk

        return multistate_at_risk(self, states, on_contradiction=on_contradiction)

    def lesion_table(self) -> pd.DataFrame:
        """One row per finding with its patient's covariates."""
        from calcstats.cohort._analysis import lesion_table

        return lesion_table(self)

    # ------------------------------------------------------------------------ display
    def _counts(self) -> dict[str, int]:
        return {
            "patients": len(self._patients),
            "imaging studies": len(self._imaging),
            "findings": len(self._findings),
            "events": len(self._events),
        }

    def __repr__(self) -> str:
        c = self._counts()
        excl = self._flow.n_in - self._flow.n_out
        parts = ", ".join(f"{v:,} {k}" for k, v in c.items())
        s = f"Cohort({parts}"
        if excl:
            s += f"; {excl:,} excluded in {len(self._flow.steps) - 1} flow step(s)"
        return s + (", simulated" if self.truth is not None else "") + ")"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{v:,}</td></tr>" for k, v in self._counts().items()
        )
        flow = "".join(
            f"<tr><td>{i}</td><td>{html.escape(s.reason)}</td><td>{s.n_excluded:,}</td>"
            f"<td>{s.n_after:,}</td></tr>"
            for i, s in enumerate(self._flow.steps)
        )
        return (
            "<div><strong>Cohort</strong><table><tr><th>table</th><th>rows</th></tr>"
            f"{rows}</table><table><tr><th>step</th><th>reason</th><th>excluded</th>"
            f"<th>remaining</th></tr>{flow}</table></div>"
        )
