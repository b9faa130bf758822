"""Analysis tables derived from a cohort (the functions behind the Cohort methods).

- :func:`patient_table`: one row per patient, covariates plus the calcification
  phenotype at index (rules in :mod:`calcstats.cohort._analysis_patient`);
- :func:`survival_table`: time to an outcome with competing events;
- :func:`counting_process_table`: ``(start, stop]`` intervals with a time-varying
  exposure (rules for both in :mod:`calcstats.cohort._analysis_time`);
- :func:`lesion_table`: one row per finding with its patient's covariates.

Each takes any object with the canonical ``patients``, ``imaging``, ``findings`` and
``events`` DataFrames (a :class:`~calcstats.cohort.Cohort`, or a simple namespace), never
modifies them, and is vectorised (a million patients take seconds).
"""

from calcstats.cohort._analysis_patient import (
    BURDEN_LEVELS,
    PHENOTYPE_COLUMNS,
    lesion_table,
    patient_table,
)
from calcstats.cohort._analysis_time import (
    AtRisk,
    at_risk,
    counting_process_table,
    survival_table,
)

__all__ = [
    "BURDEN_LEVELS",
    "PHENOTYPE_COLUMNS",
    "AtRisk",
    "at_risk",
    "counting_process_table",
    "lesion_table",
    "patient_table",
    "survival_table",
]
