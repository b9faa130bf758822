"""Per-segment summaries of calcification findings (Couinaud segments I-VIII).

The numbers behind :func:`calcstats.plot.segment_map`: count of calcifications,
prevalence (share of patients with at least one calcification in the segment) or median
size, per Couinaud segment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import CalcstatsError, DataError, SchemaError
from calcstats._validation import BOOLEAN, NONE, Interval, Options, validate_params
from calcstats.labels import Labels
from calcstats.results import EstimateResult

__all__ = ["SEGMENTS", "SEGMENT_STATS", "SegmentSummary", "segment_summary"]

#: Couinaud segments in anatomical order; IVa/IVb are the superior/inferior halves of IV.
SEGMENTS: tuple[str, ...] = ("I", "II", "III", "IV", "IVa", "IVb", "V", "VI", "VII", "VIII")
#: What :func:`segment_summary` can compute per segment.
SEGMENT_STATS = ("count", "prevalence", "median_size")
_WHAT = {
    "count": "Number of calcifications",
    "prevalence": "Share of patients with at least one calcification",
    "median_size": "Median calcification size (mm)",
}


class SegmentSummary(EstimateResult):
    """Calcification findings per Couinaud segment (the result of :func:`segment_summary`).

    ``tidy()`` has one row per segment (every segment, zero where none): ``segment,
    value, n_findings, n_patients``; :func:`calcstats.plot.segment_map` draws it.

    Attributes
    ----------
    stat : str
        What ``value`` is: ``"count"`` (calcifications), ``"prevalence"`` (share of
        patients with at least one calcification in the segment) or ``"median_size"``
        (median ``size_mm``).
    denominator : int or None
        The number of patients a prevalence is a share of (None when not known: a
        findings table without ``n_patients``).
    collapse_iv : bool
        IVa and IVb were pooled into IV.
    baseline_only : bool or None
        Only findings of studies on or before the index date (None: a findings table was
        given, used as it is).
    by, method, labels
        As :class:`~calcstats.results.EstimateResult` (``by`` is ``["segment"]``; there is
        no interval, so ``conf_level`` is None).
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        stat: str,
        denominator: int | None,
        collapse_iv: bool,
        baseline_only: bool | None,
        method: str,
        labels: Labels | Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(frame, by=["segment"], method=method, conf_level=None, labels=labels)
        self.stat = stat
        self.denominator = denominator
        self.collapse_iv = collapse_iv
        self.baseline_only = baseline_only

    def values(self) -> dict[str, float]:
        """``{segment: value}`` in anatomical order."""
        return dict(zip(self._frame["segment"], self._frame["value"].astype(float), strict=True))


def _baseline_findings(cohort: Any) -> pd.DataFrame:
    """Findings on studies dated on or before each patient's index date."""
    findings = cohort.findings
    studies = cohort.imaging[["study_id", "study_date"]]
    index = cohort.patients[["patient_id", "index_date"]]
    merged = findings.merge(studies, on="study_id", how="left").merge(
        index, on="patient_id", how="left"
    )
    keep = merged["study_date"] <= merged["index_date"]
    return merged.loc[keep, findings.columns]


@validate_params(
    {
        "stat": [Options(*SEGMENT_STATS)],
        "n_patients": [Interval(1, None, integer=True), NONE],
        "collapse_iv": [BOOLEAN],
        "baseline_only": [BOOLEAN],
    }
)
def segment_summary(
    data: Any,
    *,
    stat: str = "count",
    n_patients: int | None = None,
    collapse_iv: bool = True,
    baseline_only: bool = True,
    labels: Labels | Mapping[str, str] | None = None,
) -> SegmentSummary:
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
        Denominator for ``stat="prevalence"`` (required with a findings table, which
        cannot know the patients without findings; overrides a Cohort's own count).
    collapse_iv : bool, default True
        Merge ``IVa`` and ``IVb`` into ``IV``.
    baseline_only : bool, default True
        For a Cohort, use only findings of studies on or before the index date (the
        phenotype of :meth:`Cohort.patient_table`); False uses every study. A findings
        table is used as given.
    labels : Labels or dict, optional
        Display labels (kept as ``result.labels``; the colour-bar label of
        :func:`calcstats.plot.segment_map` is the label of ``stat``).

    Returns
    -------
    SegmentSummary
        ``.tidy()``: one row per segment (all segments, zero where none) with
        ``segment``, ``value``, ``n_findings``, ``n_patients``; ``.stat`` and
        ``.denominator`` say what ``value`` is.

    Examples
    --------
    >>> import pandas as pd
    >>> from calcstats.describe import segment_summary
    >>> f = pd.DataFrame({"patient_id": ["a", "a", "b"], "segment": ["VII", "VIII", "VII"],
    ...                   "size_mm": [3.0, 5.0, 4.0]})
    >>> res = segment_summary(f, stat="prevalence", n_patients=4)
    >>> res.values()["VII"], res.denominator
    (0.5, 4)
    """
    labels = Labels.coerce(labels)
    denominator = n_patients
    baseline: bool | None = None
    if isinstance(data, pd.DataFrame):
        findings = data
    elif hasattr(data, "findings") and hasattr(data, "patients"):
        baseline = baseline_only
        findings = _baseline_findings(data) if baseline_only else data.findings
        denominator = len(data.patients) if n_patients is None else n_patients
    else:
        raise SchemaError(
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
        raise DataError(
            f"findings.segment holds value(s) {unknown} that are not Couinaud segments "
            f"{list(SEGMENTS)}; read the data with calcstats.read_cohort to normalise them."
        )
    if stat == "prevalence" and denominator is None:
        raise CalcstatsError(
            "stat='prevalence' needs the number of patients: pass a Cohort, or "
            "n_patients= with a findings table."
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
        assert denominator is not None  # checked above
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
    source = {
        None: "findings as given",
        True: "studies on or before the index date",
        False: "all imaging studies",
    }[baseline]
    text = f"{_WHAT[stat]} per Couinaud segment ({source}"
    if stat == "prevalence":
        text += f"; denominator {denominator:,} patients"
    text += "; IVa and IVb pooled)." if collapse_iv else ")."
    return SegmentSummary(
        out,
        stat=stat,
        denominator=denominator,
        collapse_iv=collapse_iv,
        baseline_only=baseline,
        method=text,
        labels=labels,
    )
