"""calcstats.cohort: the cohort data model, validated ingest and participant flow.

``read_cohort`` reads patients/imaging/findings/events tables (files or DataFrames),
normalises and validates them, and returns a :class:`Cohort`; ``cohort.flow`` (a
:class:`Flow`) accounts for every patient left out. Read through an engine (a DuckDB file,
``engine="duckdb"``, an ibis connection) it returns an :class:`EngineCohort`, whose tables
stay in the engine.
"""

from calcstats.cohort._cohort import Cohort
from calcstats.cohort._engine_cohort import EngineCohort as EngineCohort
from calcstats.cohort._flow import Flow
from calcstats.cohort._multistate_table import StateSpace
from calcstats.cohort._read import read_cohort

__all__ = ["Cohort", "Flow", "StateSpace", "read_cohort"]
