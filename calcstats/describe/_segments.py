"""Per-segment summaries of calcification findings (Couinaud segments I-VIII).

The numbers behind :func:`calcstats.plot.segment_map`: count of calcifications,
prevalence (share of patients with at least one calcification in the segment) or median
size, per Couinaud segment.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import CalcstatsError, SchemaError

__all__ = ["SEGMENTS", "segment_summary"]

#: Couinaud segments in anatomical order; IVa/IVb are the superior/inferior halves of IV.
SEGMENTS: tuple[str, ...] = ("I", "II", "III", "IV", "IVa", "IVb", "V", "VI", "VII", "VIII")
_STATS = ("count", "prevalence", "median_size")


def _baseline_findings(cohort: Any) -> tuple[pd.DataFrame, int]:
    """Findings on studies dated on or before each patient's index date."""
    findings = cohort.findings
    studies = cohort.imaging[["study_id", "study_date"]]
    index = cohort.patients[["patient_id", "index_date"]]
    merged = findings.merge(studies, on="study_id", how="left").merge(
        index, on="patient_id", how="left"
    )
    keep = merged["study_date"] <= merged["index_date"]
    return merged.loc[keep, findings.columns], len(cohort.patients)


def segment_summary(
    data: Any,
    *,
    stat: str = "count",
    n_patients: int | None = None,
    collapse_iv: bool = True,
    baseline_only: bool = True,
) -> pd.DataFrame:
    """Summarise calcification findings per Couinaud segment.

    Parameters
    ----------
    data : Cohort or pandas.DataFrame
        A :class:`calcstats.Cohort` (its findings, restricted to studies on or before the
        index date when ``baseline_only``) or a findings table with ``patient_id``,
        ``segment`` and ``size_mm``.
    stat : {"count", "prevalence", "median_size"}, default "count"
        ``count``: number of calcifications; ``prevalence``: share of patients with at
        least one calcification in the segment (denominator: all patients of the cohort,
        or ``n_patients``); ``median_size``: median ``size_mm``.
    n_patients : int, optional
        Denominator for ``stat="prevalence"`` when ``data`` is a findings table.
    collapse_iv : bool, default True
        Merge ``IVa`` and ``IVb`` into ``IV``.
    baseline_only : bool, default True
        For a Cohort, use only findings of studies on or before the index date (the
        phenotype of :meth:`Cohort.patient_table`); False uses every study.

    Returns
    -------
    pandas.DataFrame
        One row per segment (all segments, zero where none): ``segment``, ``value``,
        ``n_findings``, ``n_patients``, with ``attrs["stat"]`` and ``attrs["denominator"]``.

    Examples
    --------
    >>> import pandas as pd
    >>> from calcstats.describe import segment_summary
    >>> f = pd.DataFrame({"patient_id": ["a", "a", "b"], "segment": ["VII", "VIII", "VII"],
    ...                   "size_mm": [3.0, 5.0, 4.0]})
    >>> out = segment_summary(f, stat="prevalence", n_patients=4).set_index("segment")
    >>> float(out.loc["VII", "value"])
    0.5
    """
    if stat not in _STATS:
        raise CalcstatsError(f"stat must be one of {list(_STATS)}, got {stat!r}.")
    denominator = n_patients
    if isinstance(data, pd.DataFrame):
        findings = data
    elif hasattr(data, "findings") and hasattr(data, "patients"):
        if baseline_only:
            findings, n_cohort = _baseline_findings(data)
        else:
            findings, n_cohort = data.findings, len(data.patients)
        denominator = n_cohort if n_patients is None else n_patients
    else:
        raise CalcstatsError(
            f"segment_summary expects a Cohort or a findings DataFrame, got {type(data).__name__}."
        )
    needed = {"patient_id", "segment"} | ({"size_mm"} if stat == "median_size" else set())
    missing = sorted(needed - set(findings.columns))
    if missing:
        raise SchemaError(
            f"findings table lacks column(s) {missing}; it needs patient_id, segment"
            " (and size_mm for stat='median_size')."
        )
    seg = findings["segment"].astype(str)
    unknown = sorted(set(seg) - set(SEGMENTS))
    if unknown:
        raise CalcstatsError(
            f"findings.segment holds value(s) {unknown} that are not Couinaud segments "
            f"{list(SEGMENTS)}; read the data with calcstats.read_cohort to normalise them."
        )
    if collapse_iv:
        seg = seg.replace({"IVa": "IV", "IVb": "IV"})
        order = [s for s in SEGMENTS if s not in ("IVa", "IVb")]
    else:
        order = list(SEGMENTS)
    frame = pd.DataFrame({"patient_id": findings["patient_id"].to_numpy(), "segment": seg})
    if stat == "median_size":
        frame["size_mm"] = pd.to_numeric(findings["size_mm"], errors="coerce").to_numpy()
    grouped = frame.groupby("segment", observed=True)
    n_find = grouped.size().reindex(order, fill_value=0)
    n_pat = grouped["patient_id"].nunique().reindex(order, fill_value=0)
    if stat == "count":
        value = n_find.astype(float)
    elif stat == "prevalence":
        if denominator is None or denominator <= 0:
            raise CalcstatsError(
                "stat='prevalence' needs the number of patients: pass a Cohort, or "
                "n_patients= with a findings table."
            )
        value = n_pat / float(denominator)
    else:
        value = grouped["size_mm"].median().reindex(order)
    out = pd.DataFrame(
        {
            "segment": order,
            "value": np.asarray(value, dtype=float),
            "n_findings": n_find.to_numpy(dtype=int),
            "n_patients": n_pat.to_numpy(dtype=int),
        }
    )
    out.attrs["stat"] = stat
    out.attrs["denominator"] = denominator
    return out
