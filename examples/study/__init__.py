"""The sections of the example cohort study (examples/cohort_study.py runs them in order).

One module per part of the paper: ``descriptive`` (participants, Table 1, prevalence,
incidence), ``survival`` (cumulative incidence, Cox and Fine–Gray models),
``sensitivity`` (sensitivity analyses, segment map, comparison with the truth),
``weighting`` (propensity scores), ``multistate`` (liver progression) and ``interval``
(interval-censored onset of new calcification); ``common`` holds what they share.
"""
