"""The patient table (calcification phenotype at index) and the lesion table.

The functions take any object with the four canonical tables as attributes (``patients``,
``imaging``, ``findings``, ``events``; see the data model in the documentation) and never
modify them. They are vectorised (integer codes, ``numpy`` and ``groupby``; no loop over
patients), so a cohort of a million patients takes seconds.

Calcification phenotype (``patient_table``)
-------------------------------------------
The phenotype describes the liver at time zero, so only imaging studies dated on or before
the patient's ``index_date`` are used; later (follow-up) studies never change it.

Findings are recorded per study and the same calcification seen on two studies (an
ultrasound and a CT on the index day, say) appears twice. To avoid counting it twice, the
phenotype is read from one **phenotype study** per patient: among the baseline studies
with at least one finding, the one showing a ``diffuse`` calcification, else the one with
the most findings; remaining ties go to the later study (closest to index), then the
smaller ``study_id``. With a single baseline study (the usual case) this is simply all
baseline findings.

- ``any_calcification`` (0/1): the phenotype study has a finding.
- ``n_calcifications``: its number of findings.
- ``calcification_burden``: ordered categorical ``none < 1 < 2-5 < >5``; a ``diffuse``
  finding counts as ``>5`` whatever the number of rows.
- ``max_size_mm``: the largest ``size_mm`` (NaN without calcification or sizes).
- ``dominant_morphology``: ``diffuse`` when present, else the most frequent morphology;
  ties go to the morphology of the largest calcification, then alphabetical order.
  ``"none"`` without calcification; a missing morphology counts as ``"unknown"``.
- ``n_segments``: distinct Couinaud segments involved, with IVa and IVb counted as
  segment IV (so at most 8 for the standard segments; segment labels a user added to
  the vocabulary count as their own segment).
- ``bilobar`` (0/1): at least one calcification in the right lobe (segments V-VIII) and
  one in the left lobe (II, III, IV/IVa/IVb). ``right_lobe_only`` (0/1): right lobe
  involved and left lobe not. The caudate lobe (segment I) counts as neither lobe, so
  calcifications in I and VI give ``right_lobe_only == 1``.

Binary columns (the phenotype flags and every boolean patient column) are ``int64`` 0/1
so formula terms are named plainly; a boolean column with missing values becomes the
nullable ``Int64``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import DataError, SchemaError
from calcstats.cohort._analysis_base import (
    NS_PER_DAY,
    binary_to_int,
    check_no_clash,
    finding_study_positions,
    get_table,
    group_first,
    index_days,
    nanoseconds,
    patient_positions,
    segment_codes,
    unique_inverse,
)

__all__ = ["BURDEN_LEVELS", "PHENOTYPE_COLUMNS", "lesion_table", "patient_table", "phenotype"]

#: Levels of ``calcification_burden``, in order.
BURDEN_LEVELS: tuple[str, ...] = ("none", "1", "2-5", ">5")

#: Columns ``patient_table`` adds after the patient columns.
PHENOTYPE_COLUMNS: tuple[str, ...] = (
    "any_calcification",
    "n_calcifications",
    "calcification_burden",
    "max_size_mm",
    "dominant_morphology",
    "n_segments",
    "bilobar",
    "right_lobe_only",
)


def _phenotype_studies(
    pat: np.ndarray,
    study: np.ndarray,
    diffuse: np.ndarray,
    study_ns: np.ndarray,
    study_ids: pd.Series,
) -> np.ndarray:
    """The phenotype study of each patient (positions in imaging), from baseline findings."""
    if len(study) == 0:
        return np.empty(0, dtype=np.int64)
    # per study: patient, number of findings, any diffuse
    uniq, inverse = unique_inverse(study)
    n_f = np.bincount(inverse)
    dif = np.bincount(inverse, weights=diffuse) > 0
    s_pat = np.empty(len(uniq), dtype=np.int64)
    s_pat[inverse] = pat
    date = study_ns[uniq]
    # best first: diffuse, more findings, later date (np.lexsort: last key is primary)
    order = np.lexsort((-date, -n_f, ~dif, s_pat))
    uniq, n_f, dif, s_pat, date = uniq[order], n_f[order], dif[order], s_pat[order], date[order]
    first = group_first(s_pat)
    top = np.maximum.accumulate(np.where(first, np.arange(len(uniq)), 0))
    tied = (~first) & (dif == dif[top]) & (n_f == n_f[top]) & (date == date[top])
    chosen = uniq[first]
    if tied.any():  # rare: equally good studies on the same day; smallest study_id wins
        cand = np.isin(s_pat, s_pat[tied]) & (tied | first)
        frame = pd.DataFrame(
            {"pat": s_pat[cand], "pos": uniq[cand], "sid": study_ids.to_numpy()[uniq[cand]]}
        )
        best = frame.sort_values(["pat", "sid"], kind="mergesort").drop_duplicates("pat")
        replace = pd.Series(best["pos"].to_numpy(), index=best["pat"].to_numpy())
        chosen_pat = s_pat[first]
        hit = np.isin(chosen_pat, replace.index.to_numpy())
        chosen[hit] = replace.reindex(chosen_pat[hit]).to_numpy()
    return chosen


def phenotype(
    patients: pd.DataFrame, imaging: pd.DataFrame, findings: pd.DataFrame
) -> pd.DataFrame:
    """The calcification phenotype at index, one row per patient in ``patients`` order."""
    n = len(patients)
    idx_ns = index_days(patients)
    s_pos = finding_study_positions(imaging, findings)
    f_pat = patient_positions(patients, findings["patient_id"], "findings")
    study_ns, study_nat = nanoseconds(imaging["study_date"])
    if study_nat[s_pos].any():
        bad = imaging["study_id"].to_numpy()[s_pos[study_nat[s_pos]]][:5].tolist()
        raise DataError(
            f"imaging.study_date is missing for studies with findings, e.g. {bad}; every "
            "study needs a date."
        )
    baseline = study_ns[s_pos] <= idx_ns[f_pat]

    morph = findings["morphology"]
    if morph.isna().any():  # a missing morphology counts as "unknown"
        morph = morph.astype(object).where(morph.notna(), "unknown")
    morph_codes, morph_names = pd.factorize(morph, sort=True)
    morph_names = np.asarray(morph_names, dtype=object)
    diffuse = morph_names[morph_codes] == "diffuse"

    chosen = _phenotype_studies(
        f_pat[baseline], s_pos[baseline], diffuse[baseline], study_ns, imaging["study_id"]
    )
    is_chosen = np.zeros(len(imaging), dtype=bool)
    is_chosen[chosen] = True
    keep = baseline & is_chosen[s_pos]

    pat = f_pat[keep]
    size = findings["size_mm"].to_numpy(dtype=float, na_value=np.nan)[keep]
    morph_k = morph_codes[keep]
    diffuse_k = diffuse[keep]
    seg = segment_codes(findings["segment"])[keep]

    n_calc = np.bincount(pat, minlength=n).astype(np.int64)
    any_diffuse = np.bincount(pat, weights=diffuse_k, minlength=n) > 0
    max_size = np.full(n, np.nan)
    has_size = ~np.isnan(size)
    np.fmax.at(max_size, pat[has_size], size[has_size])

    n_codes = int(seg.max()) + 1 if len(seg) else 1
    seg_pairs, _ = unique_inverse(pat[seg > 0] * n_codes + seg[seg > 0])
    n_seg = np.bincount(seg_pairs // n_codes, minlength=n).astype(np.int64)
    right = np.bincount(pat, weights=(seg >= 5) & (seg <= 8), minlength=n) > 0
    left = np.bincount(pat, weights=(seg >= 2) & (seg <= 4), minlength=n) > 0

    dominant = np.full(n, "none", dtype=object)
    if len(pat):
        n_m = len(morph_names)
        pair = pat * n_m + morph_k
        uniq, inverse = unique_inverse(pair)
        count = np.bincount(inverse)
        biggest = np.full(len(uniq), -np.inf)
        np.fmax.at(biggest, inverse[has_size], size[has_size])
        p_pat, p_morph = uniq // n_m, uniq % n_m
        # most findings, then largest calcification, then alphabetical (codes are sorted)
        order = np.lexsort((p_morph, -biggest, -count, p_pat))
        top = order[group_first(p_pat[order])]
        dominant[p_pat[top]] = morph_names[p_morph[top]]
    dominant[any_diffuse] = "diffuse"

    burden_code = np.select(
        [n_calc == 0, any_diffuse | (n_calc > 5), n_calc == 1], [0, 3, 1], default=2
    )
    burden = pd.Categorical.from_codes(burden_code, categories=list(BURDEN_LEVELS), ordered=True)
    return pd.DataFrame(
        {
            "any_calcification": (n_calc > 0).astype(np.int64),
            "n_calcifications": n_calc,
            "calcification_burden": burden,
            "max_size_mm": max_size,
            "dominant_morphology": dominant,
            "n_segments": n_seg,
            "bilobar": (right & left).astype(np.int64),
            "right_lobe_only": (right & ~left).astype(np.int64),
        }
    )


# ----------------------------------------------------------------------------- tables


def patient_table(cohort: Any) -> pd.DataFrame:
    """One row per patient: the patient columns, then the calcification phenotype at index.

    Parameters
    ----------
    cohort : Cohort
        Any object with canonical ``patients``, ``imaging`` and ``findings`` tables
        (usually from :func:`calcstats.read_cohort`).

    Returns
    -------
    pandas.DataFrame
        The patients table (boolean columns as int 0/1), in its row order, followed by
        ``any_calcification, n_calcifications, calcification_burden, max_size_mm,
        dominant_morphology, n_segments, bilobar, right_lobe_only``, computed from the
        imaging studies dated on or before each patient's ``index_date`` (see the module
        documentation for the exact rules).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> import pandas as pd
    >>> from calcstats.cohort._analysis import patient_table
    >>> d = pd.Timestamp("2020-01-01")
    >>> c = SimpleNamespace(
    ...     patients=pd.DataFrame({"patient_id": ["a", "b"], "index_date": [d, d]}),
    ...     imaging=pd.DataFrame({"study_id": ["s1"], "patient_id": ["a"],
    ...                           "study_date": [d], "modality": ["CT"]}),
    ...     findings=pd.DataFrame({"finding_id": ["f1", "f2"], "study_id": ["s1", "s1"],
    ...                            "patient_id": ["a", "a"], "segment": ["II", "VI"],
    ...                            "size_mm": [3.0, 8.0], "morphology": ["coarse", "rim"]}),
    ...     events=pd.DataFrame({"patient_id": [], "event": [],
    ...                          "event_date": pd.to_datetime([])}))
    >>> patient_table(c)[["patient_id", "n_calcifications", "calcification_burden", "bilobar"]]
      patient_id  n_calcifications calcification_burden  bilobar
    0          a                 2                  2-5        1
    1          b                 0                 none        0
    """
    patients = get_table(cohort, "patients")
    imaging = get_table(cohort, "imaging")
    findings = get_table(cohort, "findings")
    check_no_clash(patients, PHENOTYPE_COLUMNS, "patient_table()")
    pheno = phenotype(patients, imaging, findings)
    return pd.concat([binary_to_int(patients), pheno], axis=1)


def lesion_table(cohort: Any) -> pd.DataFrame:
    """One row per finding, with its study and its patient's covariates.

    For lesion-level analyses (e.g. size or morphology by etiology with cluster-robust
    errors by ``patient_id``). Findings of every study are included, baseline and
    follow-up; ``years_since_index`` (study date minus index date, in years of 365.25
    days; negative before index) tells them apart.

    Parameters
    ----------
    cohort : Cohort
        Any object with canonical ``patients``, ``imaging`` and ``findings`` tables.

    Returns
    -------
    pandas.DataFrame
        In the findings' row order: the findings columns, ``lobe`` (``"right"`` for
        segments V-VIII, ``"left"`` for II-IV, ``"caudate"`` for I, missing for other
        labels), ``study_date``, ``modality``, ``years_since_index``, then the patient
        columns (boolean columns as int 0/1). A patient column whose name is already
        taken by a findings column gets the suffix ``_patient``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> import pandas as pd
    >>> from calcstats.cohort._analysis import lesion_table
    >>> d = pd.Timestamp("2020-01-01")
    >>> c = SimpleNamespace(
    ...     patients=pd.DataFrame({"patient_id": ["a"], "index_date": [d], "sex": ["F"]}),
    ...     imaging=pd.DataFrame({"study_id": ["s1"], "patient_id": ["a"],
    ...                           "study_date": [d], "modality": ["CT"]}),
    ...     findings=pd.DataFrame({"finding_id": ["f1"], "study_id": ["s1"],
    ...                            "patient_id": ["a"], "segment": ["VI"],
    ...                            "size_mm": [8.0], "morphology": ["rim"]}),
    ...     events=None)
    >>> lesion_table(c)[["finding_id", "lobe", "modality", "sex"]]
      finding_id   lobe modality sex
    0         f1  right       CT   F
    """
    patients = get_table(cohort, "patients")
    imaging = get_table(cohort, "imaging")
    findings = get_table(cohort, "findings")
    s_pos = finding_study_positions(imaging, findings)
    f_pat = patient_positions(patients, findings["patient_id"], "findings")
    idx_ns = index_days(patients)
    study_ns, _ = nanoseconds(imaging["study_date"])

    out = findings.reset_index(drop=True)
    seg = segment_codes(findings["segment"])
    lobe_code = np.select(
        [(seg >= 5) & (seg <= 8), (seg >= 2) & (seg <= 4), seg == 1], [0, 1, 2], default=3
    )
    lobe = np.array(["right", "left", "caudate", None], dtype=object)[lobe_code]
    extra = pd.DataFrame(
        {
            "lobe": lobe,
            "study_date": imaging["study_date"].to_numpy()[s_pos],
            "modality": imaging["modality"].to_numpy()[s_pos],
            "years_since_index": (study_ns[s_pos] - idx_ns[f_pat]) / NS_PER_DAY / 365.25,
        }
    )
    clash = [c for c in extra.columns if c in out.columns]
    if clash:
        raise SchemaError(
            f"the findings table has column(s) {', '.join(map(repr, clash))}, which "
            "lesion_table() derives; rename or drop them before building the table."
        )
    pat = binary_to_int(patients).drop(columns="patient_id").iloc[f_pat]
    pat = pat.reset_index(drop=True)
    taken = set(out.columns) | set(extra.columns)
    pat.columns = [f"{c}_patient" if c in taken else c for c in pat.columns]
    return pd.concat([out, extra, pat], axis=1)
