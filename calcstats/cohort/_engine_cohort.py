"""The engine cohort: a validated cohort whose tables stay in DuckDB, Spark or another engine.

:func:`calcstats.read_cohort` returns an :class:`EngineCohort` when it reads through an
engine. It answers like a :class:`~calcstats.Cohort`: ``flow``, ``vocabularies``,
``engine``, :meth:`~EngineCohort.exclude` (query strings translated into engine
predicates), :meth:`~EngineCohort.patient_table`, :meth:`~EngineCohort.survival_table`,
:meth:`~EngineCohort.at_risk`, :meth:`~EngineCohort.counting_process_table`,
:meth:`~EngineCohort.multistate_table` and :meth:`~EngineCohort.lesion_table`, whose
results are engine-backed tables (:class:`~calcstats.engine.EngineTable`) with the pandas
path's columns. ``patients``, ``imaging``, ``findings`` and ``events`` are engine-backed
tables too; ``.to_pandas()`` pulls any of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from calcstats._errors import CalcstatsError
from calcstats.cohort._flow import Flow
from calcstats.cohort._read import TABLE_NAMES
from calcstats.cohort._schema import Vocabularies
from calcstats.engine import (
    EngineOptions,
    EngineTable,
    materialise,
    query_columns,
    translate_query,
)

__all__ = ["EngineCohort"]


class EngineCohort:
    """A validated cohort held in an engine (see :func:`calcstats.read_cohort`).

    Attributes
    ----------
    engine : str
        ``"duckdb"``, ``"pyspark"``, ... (``Cohort.engine`` is ``"pandas"``).
    patients, imaging, findings, events : EngineTable
        The canonical tables (internal columns hidden); ``.to_pandas()`` pulls them.
    flow : Flow
        The participant flow.
    vocabularies : Vocabularies
    connection : ibis backend
        The connection the tables live in.
    """

    truth = None

    def __init__(
        self,
        con: Any,
        *,
        engine: str,
        options: EngineOptions,
        tables: Mapping[str, Any],
        kinds: Mapping[str, Mapping[str, Any]],
        flow: Flow,
        vocabularies: Vocabularies,
        owned: bool,
    ) -> None:
        self.connection = con
        self.engine = engine
        self.options = options
        self._t = dict(tables)
        self._kinds = {k: dict(v) for k, v in kinds.items()}
        self._flow = flow
        self._vocabularies = vocabularies
        self._owned = owned

    # ------------------------------------------------------------------ tables
    def _table(self, name: str) -> EngineTable:
        return EngineTable(
            self._t[name],
            engine=self.engine,
            options=self.options,
            kinds=self._kinds[name],
            order=["__key"],
            name=name,
            store=self.store,
        )

    def store(self, expr: Any) -> Any:
        """Compute ``expr`` once and keep it in the engine (a working-database table in
        calcstats' own DuckDB connection, else ibis' ``cache()``)."""
        import uuid

        return materialise(
            self.connection, expr, f"__calcstats_t_{uuid.uuid4().hex[:12]}", owned=self._owned
        )

    @property
    def patients(self) -> EngineTable:
        """One row per patient (canonical columns, then extra covariates)."""
        return self._table("patients")

    @property
    def imaging(self) -> EngineTable:
        """One row per imaging study."""
        return self._table("imaging")

    @property
    def findings(self) -> EngineTable:
        """One row per calcification per study."""
        return self._table("findings")

    @property
    def events(self) -> EngineTable:
        """One row per clinical event."""
        return self._table("events")

    @property
    def flow(self) -> Flow:
        """The participant flow (:class:`Flow`)."""
        return self._flow

    @property
    def vocabularies(self) -> Vocabularies:
        return self._vocabularies

    def tables(self) -> dict[str, Any]:
        """The four ibis tables (with the internal ``__key``/``__row`` columns)."""
        return dict(self._t)

    # ----------------------------------------------------------------- exclude
    def exclude(self, query: str, *, reason: str) -> EngineCohort:
        """A new cohort without the patients the query selects (translated, see
        :mod:`calcstats.engine._query` for the subset), and one more flow step.

        Parameters
        ----------
        query : str
            Selects the patients to EXCLUDE, on ``patients`` or on :meth:`patient_table`
            columns (``"any_calcification == 0"``). Missing values follow the pandas
            path: an unknown comparison of a number or yes/no value keeps the patient.
        reason : str
            Shown in the flow.
        """
        if not isinstance(reason, str) or not reason.strip():
            raise CalcstatsError("exclude: give a non-empty reason= (it is shown in the flow).")
        if not isinstance(query, str):
            raise CalcstatsError(
                'exclude: an engine cohort takes a query string (e.g. "age_at_index < 18"), '
                "translated and run in the engine; a mask or a function would need the "
                f"patients in pandas. Got {type(query).__name__}."
            )
        p = self._t["patients"]
        names = query_columns(query)
        on = p
        if any(n not in p.columns for n in names):
            on = self.patient_table().full
            unknown = [n for n in names if n not in on.columns]
            if unknown:
                raise CalcstatsError(
                    f"exclude: the query {query!r} names {unknown}, in neither "
                    "cohort.patients nor cohort.patient_table(); columns: "
                    f"{[c for c in on.columns if not c.startswith('__')]}."
                )
        pred = translate_query(query, on)
        gone = on.filter(pred).select(__gone=on.patient_id)
        ids = gone.to_pandas()["__gone"].tolist()
        flow = self._flow.add(reason, ids, rule="user")
        tables = {}
        for name in TABLE_NAMES:
            t = self._t[name]
            tables[name] = t.anti_join(gone, t.patient_id == gone["__gone"]) if ids else t
        return EngineCohort(
            self.connection,
            engine=self.engine,
            options=self.options,
            tables=tables,
            kinds=self._kinds,
            flow=flow,
            vocabularies=self._vocabularies,
            owned=self._owned,
        )

    # ---------------------------------------------------------------- analysis
    def patient_table(self) -> EngineTable:
        """One row per patient with the calcification phenotype (engine-backed)."""
        from calcstats.cohort._engine_analysis import patient_table

        return patient_table(self)

    def survival_table(
        self,
        outcome: str,
        *,
        competing: tuple[str, ...] | list[str] = (),
        horizon: float | None = None,
    ) -> EngineTable:
        """Time to ``outcome`` (years) and status (0 censored, 1 outcome, 2.. competing)."""
        from calcstats.cohort._engine_analysis import survival_table

        return survival_table(self, outcome, competing=competing, horizon=horizon)

    def at_risk(
        self,
        outcome: str,
        *,
        competing: tuple[str, ...] | list[str] = (),
        horizon: float | None = None,
    ) -> Any:
        """The survival table, the patients left out and the extended flow (AtRisk)."""
        from calcstats.cohort._engine_analysis import at_risk

        return at_risk(self, outcome, competing=competing, horizon=horizon)

    def counting_process_table(
        self,
        outcome: str,
        *,
        exposure: str = "calcification",
        competing: tuple[str, ...] | list[str] = (),
    ) -> EngineTable:
        """(start, stop] intervals with a time-varying exposure (engine-backed)."""
        from calcstats.cohort._engine_analysis import counting_process_table

        return counting_process_table(self, outcome, exposure=exposure, competing=competing)

    def multistate_table(
        self, states: Any = None, *, on_contradiction: str = "direct"
    ) -> EngineTable:
        """One row per patient per sojourn in a disease state (engine-backed; the rules of
        :meth:`Cohort.multistate_table`)."""
        from calcstats.cohort._engine_multistate import multistate_table

        return multistate_table(self, states, on_contradiction=on_contradiction)

    def multistate_at_risk(self, states: Any = None, *, on_contradiction: str = "direct") -> Any:
        """The multi-state table (engine-backed), the patients left out and the events the
        rules handled (pulled), and the extended flow (MultiStateAtRisk)."""
        from calcstats.cohort._engine_multistate import multistate_at_risk

        return multistate_at_risk(self, states, on_contradiction=on_contradiction)

    def lesion_table(self) -> EngineTable:
        """One row per finding with its patient's covariates (engine-backed)."""
        from calcstats.cohort._engine_analysis import lesion_table

        return lesion_table(self)

    # ----------------------------------------------------------------- display
    def _counts(self) -> dict[str, int]:
        names = {
            "patients": "patients",
            "imaging": "imaging studies",
            "findings": "findings",
            "events": "events",
        }
        return {label: int(self._t[t].count().execute()) for t, label in names.items()}

    def __repr__(self) -> str:
        c = self._counts()
        excl = self._flow.n_in - self._flow.n_out
        parts = ", ".join(f"{v:,} {k}" for k, v in c.items())
        s = f"Cohort({parts}"
        if excl:
            s += f"; {excl:,} excluded in {len(self._flow.steps) - 1} flow step(s)"
        return s + f"; engine {self.engine!r})"
