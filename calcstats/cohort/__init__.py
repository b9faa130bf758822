"""calcstats.cohort: the cohort data model, validated ingest and participant flow.

``read_cohort`` reads patients/imaging/findings/events tables (files or DataFrames),
normalises and validates them, and returns a :class:`Cohort`; ``cohort.flow`` (a
:class:`Flow`) accounts for every patient left out.
"""

from calcstats.cohort._cohort import Cohort
from calcstats.cohort._flow import Flow
from calcstats.cohort._multistate_table import StateSpace
from calcstats.cohort._read import read_cohort

__all__ = ["Cohort", "Flow", "StateSpace", "read_cohort"]
