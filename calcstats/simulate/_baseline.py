"""Simulator steps 1-3: patients at baseline, their true lesions, and the imaging.

Each function takes the shared ``numpy.random.Generator`` and returns plain numpy arrays in
a dict; the draws happen in a fixed order so a seed gives the same cohort every time.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike
from scipy import stats

from calcstats.simulate import _params as P
from calcstats.simulate._draw import categorical, categorical_by_group, categorical_codes

__all__ = ["draw_lesions", "draw_patients", "observe_lesions", "schedule_imaging"]

DAYS_PER_YEAR = 365.25


def by_etiology(
    code: np.ndarray, mapping: dict, default: object = np.nan, dtype: DTypeLike | None = None
) -> np.ndarray:
    """Look a per-etiology parameter up for every row, from the rows' etiology codes
    (integer positions in the sorted ``P.ETIOLOGIES``)."""
    table = np.array([mapping.get(e, default) for e in P.ETIOLOGIES], dtype=dtype)
    return table[code]


def etiology_probabilities(preset: str) -> dict[str, float]:
    """Etiology mix of the whole cohort: the preset's mix among calcified / P(calcified)."""
    w = {e: m / P.P_CALC[e] for e, m in P.PRESET_MIX[preset].items() if m > 0}
    total = sum(w.values())
    return {e: v / total for e, v in w.items()}


def _ages(rng: np.random.Generator, code: np.ndarray, paediatric: bool) -> np.ndarray:
    table = P.PAEDIATRIC_AGE if paediatric else P.ADULT_AGE
    lo, hi = P.PAEDIATRIC_AGE_RANGE if paediatric else P.ADULT_AGE_RANGE
    u = rng.random(len(code))
    age = np.empty(code.shape[0])
    for e, spec in table.items():
        rows = np.flatnonzero(code == P.ETIOLOGIES.index(e))
        if rows.size == 0:
            continue
        kind = spec[0]
        if kind == "normal":
            _, mean, sd = spec
            a, b = (lo - mean) / sd, (hi - mean) / sd
            age[rows] = stats.truncnorm.ppf(u[rows], a, b, loc=mean, scale=sd)
        elif kind == "uniform":
            age[rows] = spec[1] + u[rows] * (spec[2] - spec[1])
        else:  # gamma truncated to [0, 5) (hepatoblastoma: under 5, S40)
            _, shape, scale = spec
            top = stats.gamma.cdf(5.0, shape, scale=scale)
            age[rows] = stats.gamma.ppf(u[rows] * top, shape, scale=scale)
    return np.round(age, 2)


def draw_patients(
    rng: np.random.Generator,
    n: int,
    *,
    preset: str,
    accrual_years: float,
    followup_years: float,
    etiology_unknown_rate: float,
) -> dict[str, np.ndarray]:
    """Etiology, demographics, baseline cirrhosis, labs, site and index time."""
    paediatric = preset == "paediatric"
    probs = etiology_probabilities(preset)
    code = np.array([P.ETIOLOGIES.index(e) for e in probs])[categorical_codes(rng, probs, n)]
    etiology = np.array(P.ETIOLOGIES, dtype=object)[code]
    true_calc = rng.random(n) < by_etiology(code, P.P_CALC)
    age = _ages(rng, code, paediatric)
    female = rng.random(n) < by_etiology(code, P.P_FEMALE)
    cirrhosis = rng.random(n) < by_etiology(code, P.P_CIRRHOSIS)

    # labs: Gaussian copula between log bilirubin and albumin, other labs independent
    z = rng.standard_normal((5, n))
    chol = np.isin(code, [P.ETIOLOGIES.index(e) for e in P.CHOLESTATIC])
    lab = {}
    for name, j in (("bilirubin", 0), ("alp", 2), ("platelets", 3), ("inr", 4)):
        med = np.where(chol, P.LABS["cholestatic"][name][0], P.LABS["normal"][name][0])
        sd = np.where(chol, P.LABS["cholestatic"][name][1], P.LABS["normal"][name][1])
        lab[name] = med * np.exp(sd * z[j])
    mean = np.where(chol, P.LABS["cholestatic"]["albumin"][0], P.LABS["normal"]["albumin"][0])
    sd = np.where(chol, P.LABS["cholestatic"]["albumin"][1], P.LABS["normal"]["albumin"][1])
    rho = P.RHO_BILI_ALBUMIN
    lab["albumin"] = mean + sd * (rho * z[0] + np.sqrt(1 - rho**2) * z[1])
    shift = P.CIRRHOSIS_LAB_SHIFT
    lab["albumin"] = np.clip(lab["albumin"] + cirrhosis * shift["albumin"], 1.0, 6.0)
    lab["platelets"] = lab["platelets"] * np.where(cirrhosis, shift["platelets"], 1.0)
    lab["inr"] = lab["inr"] + cirrhosis * shift["inr"]
    lab["bilirubin"] = lab["bilirubin"] * np.where(cirrhosis, shift["bilirubin"], 1.0)

    if paediatric:
        bmi = np.clip(16 + 2 * rng.standard_normal(n), 10, 30)
        diabetes = rng.random(n) < 0.002
    else:
        bmi = np.clip(27 + 5 * rng.standard_normal(n), 15, 60)
        diabetes = rng.random(n) < np.clip(0.10 + 0.004 * (age - 45), 0.005, 0.6)
    alcohol = categorical(rng, P.ALCOHOL, n)
    alcohol[age < 18] = "none"
    site = categorical(rng, P.SITES, n)

    index_years = rng.random(n) * accrual_years
    index_day = np.floor(index_years * DAYS_PER_YEAR).astype(np.int64)
    cutoff_day = int(np.floor((accrual_years + followup_years) * DAYS_PER_YEAR))

    recorded = etiology.copy()
    if etiology_unknown_rate > 0:
        unknown = (etiology == "granulomatous") & (rng.random(n) < etiology_unknown_rate)
        recorded[unknown] = "idiopathic"
    return {
        "true_etiology": etiology,
        "code": code,
        "etiology": recorded,
        "true_calcification": true_calc,
        "age": age,
        "male": ~female,
        "cirrhosis": cirrhosis,
        # clipped to calcstats' plausible ranges (cohort validation warns outside them)
        "bilirubin": np.round(lab["bilirubin"], 2).clip(0.1, 30),
        "albumin": np.round(lab["albumin"], 2),
        "alp": np.round(lab["alp"]).clip(10, 5000),
        "platelets": np.round(lab["platelets"]).clip(5, 1000),
        "inr": np.round(lab["inr"], 2).clip(0.5, 10),
        "bmi": np.round(bmi, 1),
        "diabetes": diabetes,
        "alcohol": alcohol,
        "site": site,
        "index_day": index_day,
        "admin_day": cutoff_day - index_day,
        "admin_years": (cutoff_day - index_day) / DAYS_PER_YEAR,
    }


def _segments(rng: np.random.Generator, zone: np.ndarray) -> np.ndarray:
    """Couinaud segment codes (index into P.SEGMENTS) given a zone per lesion.

    Zones: 0 whole liver by volume, 1 whole liver with right bias, 2 right lobe (V-VIII),
    3 left incl. caudate (I-IV), 4 left lobe (II-IV).
    """
    w = np.array(P.SEGMENT_WEIGHTS, dtype=float)
    right = np.isin(P.SEGMENTS, P.RIGHT_SEGMENTS)
    weights = [
        w,
        w * np.where(right, P.RIGHT_BIAS, 1.0),
        w * right,
        w * np.isin(P.SEGMENTS, ("I", *P.LEFT_SEGMENTS)),
        w * np.isin(P.SEGMENTS, P.LEFT_SEGMENTS),
    ]
    u = rng.random(len(zone))
    out = np.zeros(zone.shape[0], dtype=np.int64)
    for z, wz in enumerate(weights):
        rows = np.flatnonzero(zone == z)
        cum = np.cumsum(wz / wz.sum())
        cum[-1] = 1.0
        out[rows] = np.searchsorted(cum, u[rows], side="right")
    return out


def draw_lesions(
    rng: np.random.Generator,
    pt: dict[str, np.ndarray],
    *,
    new_calcification_rate: float,
    new_calcification_hr: float = 1.0,
) -> dict[str, np.ndarray]:
    """True calcifications: baseline lesions, plus at most one new lesion per patient
    without baseline calcification, forming at an exponential time during follow-up
    (rate ``new_calcification_rate``, times ``new_calcification_hr`` with cirrhosis at
    baseline)."""
    code = pt["code"]
    n = len(code)
    field = {
        key: {e: v.get(key, np.inf) for e, v in P.LESIONS.items()}
        for key in ("mu", "k", "seg", "assoc")
    }
    mu = by_etiology(code, field["mu"])
    k = by_etiology(code, field["k"])
    pois = rng.poisson(mu)
    finite_k = np.where(np.isfinite(k), k, 1.0)
    negbin = rng.negative_binomial(finite_k, finite_k / (finite_k + mu))
    extra = np.where(np.isfinite(k), negbin, pois)
    count = np.where(pt["true_calcification"], 1 + extra, 0)

    rate = new_calcification_rate * np.where(pt["cirrhosis"], new_calcification_hr, 1.0)
    onset_new = rng.exponential(1.0, n) / np.maximum(rate, 1e-300)
    new = (~pt["true_calcification"]) & (onset_new < pt["admin_years"])
    if new_calcification_rate <= 0:
        new[:] = False
    total = count + new
    patient = np.repeat(np.arange(n), total)
    first = np.concatenate([[0], np.cumsum(total)[:-1]])
    onset = np.zeros(patient.shape[0])
    onset[first[new]] = onset_new[new]

    lesion_code = code[patient]
    morph = categorical_by_group(
        rng,
        lesion_code,
        {P.ETIOLOGIES.index(e): v["morph"] for e, v in P.LESIONS.items()},
        P.MORPHOLOGIES,
    )
    med = by_etiology(lesion_code, {e: v["size"][0] for e, v in P.LESIONS.items()})
    gsd = by_etiology(lesion_code, {e: v["size"][1] for e, v in P.LESIONS.items()})
    size = np.clip(med * np.exp(np.log(gsd) * rng.standard_normal(patient.shape[0])), 0.5, 120)

    rule = by_etiology(lesion_code, field["seg"])
    u_side = rng.random(n)[patient]  # one draw per patient for the ductal side
    u_lesion = rng.random(patient.shape[0])
    zone = np.zeros(patient.shape[0], dtype=np.int64)
    zone[rule == "right"] = 1
    hyd = rule == "hydatid"
    zone[hyd] = np.where(u_lesion[hyd] < 0.7, 2, 3)
    duct = rule == "ductal"
    side = np.where(u_side < 0.55, 4, np.where(u_side < 0.85, 2, -1))
    both = np.where(u_lesion < 0.5, 4, 2)
    zone[duct] = np.where(side[duct] == -1, both[duct], side[duct])
    segment = _segments(rng, zone)
    assoc = by_etiology(lesion_code, field["assoc"], dtype=object)
    return {
        "patient": patient,
        "onset": onset,
        "morphology": morph,
        "size": size,
        "segment": segment,
        "associated_lesion": assoc,
        "first": first,
        "total": total,
    }


def schedule_imaging(
    rng: np.random.Generator,
    pt: dict[str, np.ndarray],
    *,
    preset: str,
    followup_imaging: bool,
) -> dict[str, np.ndarray]:
    """Index study at day 0 and follow-up studies up to the administrative end.

    First follow-up at 6-12 months, then every 0.5 y (cirrhosis), 1 y (biliary disease) or
    3 y (incidental foci) [A].
    """
    n = len(pt["age"])
    interval = np.where(
        pt["cirrhosis"],
        P.IMAGING_INTERVAL["cirrhosis"],
        np.where(
            np.isin(pt["code"], [P.ETIOLOGIES.index(e) for e in P.BILIARY]),
            P.IMAGING_INTERVAL["biliary"],
            P.IMAGING_INTERVAL["incidental"],
        ),
    )
    first_fu = 0.5 + 0.5 * rng.random(n)
    horizon = pt["admin_years"]
    n_fu = np.where(first_fu <= horizon, 1 + np.floor((horizon - first_fu) / interval), 0)
    if not followup_imaging:
        n_fu = np.zeros(n)
    m = (1 + n_fu).astype(np.int64)
    patient = np.repeat(np.arange(n), m)
    start = np.concatenate([[0], np.cumsum(m)[:-1]])
    k = np.arange(patient.shape[0]) - start[patient]
    years = np.where(k == 0, 0.0, first_fu[patient] + (k - 1) * interval[patient])
    day = np.round(years * DAYS_PER_YEAR).astype(np.int64)
    index_mix, fu_mix = P.MODALITY[preset]
    modality = np.where(
        k == 0,
        _modality_codes(rng, index_mix, patient.shape[0]),
        _modality_codes(rng, fu_mix, patient.shape[0]),
    )
    return {"patient": patient, "day": day, "modality": modality, "k": k}


def _modality_codes(rng: np.random.Generator, mix: dict[str, float], size: int) -> np.ndarray:
    """Codes into ``P.MODALITIES``."""
    to_code = np.array([P.MODALITIES.index(m) for m in mix])
    return to_code[categorical_codes(rng, mix, size)]


def observe_lesions(
    rng: np.random.Generator,
    lesions: dict[str, np.ndarray],
    studies: dict[str, np.ndarray],
    *,
    perfect_detection: bool = False,
) -> dict[str, np.ndarray]:
    """Every (study, lesion present by then) pair, detected or not, with the reading.

    With ``perfect_detection`` every lesion present is seen (the same random numbers are
    drawn, so the rest of the cohort is unchanged)."""
    total = lesions["total"]
    per_study = total[studies["patient"]]
    study = np.repeat(np.arange(studies["patient"].shape[0]), per_study)
    start = np.concatenate([[0], np.cumsum(per_study)[:-1]])
    within = np.arange(study.shape[0]) - start[study]
    lesion = lesions["first"][studies["patient"][study]] + within
    years = studies["day"][study] / DAYS_PER_YEAR
    present = lesions["onset"][lesion] <= years
    study, lesion = study[present], lesion[present]

    size = lesions["size"][lesion]
    modality = studies["modality"][study]
    s50 = np.array([P.DETECTION[m][0] for m in P.MODALITIES])[modality]
    w = np.array([P.DETECTION[m][1] for m in P.MODALITIES])[modality]
    p_detect = 1.0 / (1.0 + np.exp(-(size - s50) / w))
    morph = lesions["morphology"][lesion]
    always = np.isin(morph, [P.MORPHOLOGIES.index(m) for m in P.ALWAYS_SEEN_ON_CT])
    p_detect = np.where(always & (modality == P.MODALITIES.index("CT")), 1.0, p_detect)
    u = rng.random(study.shape[0])
    err = rng.standard_normal(study.shape[0])
    swap = rng.random(study.shape[0]) < P.MORPHOLOGY_SWAP
    detected = (u < p_detect) | perfect_detection
    size_obs = np.clip(np.round(size * np.exp(P.SIZE_LOG_SD * err), 1), 0.1, 150)
    pun, coa = P.MORPHOLOGIES.index("punctate"), P.MORPHOLOGIES.index("coarse")
    morph_obs = np.where(swap & (morph == pun), coa, np.where(swap & (morph == coa), pun, morph))
    keep = detected
    return {
        "study": study[keep],
        "lesion": lesion[keep],
        "size": size_obs[keep],
        "morphology": morph_obs[keep],
    }
