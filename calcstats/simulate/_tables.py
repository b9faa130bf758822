"""Simulator step 5: missingness, then the four canonical tables and the latent tables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from calcstats.simulate import _params as P
from calcstats.simulate._baseline import DAYS_PER_YEAR
from calcstats.simulate._draw import categorical, fixed_width_ids

__all__ = ["apply_missingness", "build_tables"]

NATIVE = ("cirrhosis", "decompensation", "hcc", "cholangiocarcinoma")
#: patients-table column of each optional covariate → key in the patient dict
OPTIONAL_SOURCE = {
    "bmi": "bmi",
    "diabetes": "diabetes",
    "alcohol_use": "alcohol",
    "bilirubin_mg_dl": "bilirubin",
    "albumin_g_dl": "albumin",
    "alp_u_l": "alp",
    "platelets_10e9_l": "platelets",
    "inr": "inr",
}


def apply_missingness(
    rng: np.random.Generator,
    pt: dict[str, np.ndarray],
    *,
    missing_rate: Mapping[str, float],
    alp_missing: float,
) -> dict[str, np.ndarray]:
    """Boolean masks (True = missing) for the optional patient columns.

    MCAR at ``missing_rate[column]`` for every optional column; ALP additionally missing
    at random given bilirubin (ordered less often when bilirubin is normal, <= 1.2 mg/dL,
    as in the non-trial Mayo patients): P(missing | normal) is three times P(missing |
    raised), scaled so that the cohort average is ``alp_missing``.
    """
    n = pt["age"].shape[0]
    u = rng.random((len(OPTIONAL_SOURCE) + 1, n))
    masks = {}
    for j, col in enumerate(OPTIONAL_SOURCE):
        masks[col] = u[j] < missing_rate.get(col, 0.0)
    if alp_missing > 0:
        normal = pt["bilirubin"] <= 1.2
        f = normal.mean()
        p_hi = alp_missing / (f + (1 - f) / 3)
        p = np.where(normal, p_hi, p_hi / 3).clip(0, 1)
        masks["alp_u_l"] = masks["alp_u_l"] | (u[-1] < p)
    return masks


def _dates(start: np.datetime64, days: np.ndarray) -> np.ndarray:
    return (start + days.astype("timedelta64[D]")).astype("datetime64[ns]")


def build_tables(
    rng: np.random.Generator,
    pt: dict[str, np.ndarray],
    lesions: dict[str, np.ndarray],
    studies: dict[str, np.ndarray],
    obs: dict[str, np.ndarray],
    out: dict[str, Any],
    masks: Mapping[str, np.ndarray],
    *,
    start: np.datetime64,
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """The canonical patients, imaging, findings, events tables, and the latent tables."""
    n = pt["age"].shape[0]
    width = max(6, len(str(n)))
    pid = fixed_width_ids("P", n, width)
    index_date = _dates(start, pt["index_day"])

    patients = pd.DataFrame(
        {
            "patient_id": pid,
            "sex": np.array(["F", "M"], dtype=object)[pt["male"].astype(np.int64)],
            "age_at_index": pt["age"],
            "index_date": index_date,
            "etiology": pt["etiology"],
            "cirrhosis_at_baseline": pt["cirrhosis"],
            "last_followup_date": _dates(start, pt["index_day"] + out["last_day"]),
            "site": pt["site"],
        }
    )
    for col, key in OPTIONAL_SOURCE.items():
        values = pt[key]
        mask = masks[col]
        if col == "diabetes":
            patients[col] = pd.array(np.where(mask, np.array(None), values), dtype="boolean")
        elif col == "alcohol_use":
            values = values.copy()
            values[mask] = None
            patients[col] = values
        else:
            patients[col] = np.where(mask, np.nan, values)

    # imaging: studies within follow-up and on the native liver
    sp = studies["patient"]
    keep_study = (studies["day"] <= out["last_day"][sp]) & (
        studies["day"] < out["end_native_day"][sp]
    )
    kept = np.flatnonzero(keep_study)
    new_index = np.full(sp.shape[0], -1, dtype=np.int64)
    new_index[kept] = np.arange(kept.shape[0])
    sid = fixed_width_ids("S", kept.shape[0], max(7, len(str(kept.shape[0]))))
    imaging = pd.DataFrame(
        {
            "study_id": sid,
            "patient_id": pid[sp[kept]],
            "study_date": _dates(start, pt["index_day"][sp[kept]] + studies["day"][kept]),
            "modality": np.array(P.MODALITIES, dtype=object)[studies["modality"][kept]],
        }
    )

    keep_f = keep_study[obs["study"]]
    fs = new_index[obs["study"][keep_f]]
    fl = obs["lesion"][keep_f]
    fid = fixed_width_ids("F", fs.shape[0], max(7, len(str(fs.shape[0]))))
    findings = pd.DataFrame(
        {
            "finding_id": fid,
            "study_id": sid[fs],
            "patient_id": pid[sp[kept][fs]],
            "segment": np.array(P.SEGMENTS, dtype=object)[lesions["segment"][fl]],
            "size_mm": obs["size"][keep_f],
            "morphology": np.array(P.MORPHOLOGIES, dtype=object)[obs["morphology"][keep_f]],
            "associated_lesion": lesions["associated_lesion"][fl],
        }
    )

    ev_pid, ev_name, ev_day = [], [], []
    for k in (*NATIVE, "liver_transplant", "death"):
        rows = np.flatnonzero(out["seen"][k])
        ev_pid.append(rows)
        ev_name.append(np.full(rows.shape[0], k, dtype=object))
        ev_day.append(out["days"][k][rows])
        if k == "decompensation":
            form = categorical(rng, P.DECOMPENSATION_FORMS, rows.shape[0])
            ev_pid.append(rows)
            ev_name.append(form)
            ev_day.append(out["days"][k][rows])
    order_key = [np.concatenate(x) for x in (ev_pid, ev_name, ev_day)]
    order = np.lexsort((order_key[1].astype(str), order_key[2], order_key[0]))
    epid, ename, eday = (x[order] for x in order_key)
    events = pd.DataFrame(
        {
            "patient_id": pid[epid],
            "event": ename,
            "event_date": _dates(start, pt["index_day"][epid] + eday),
        }
    )

    first_seen = np.full(n, np.inf)
    if fs.shape[0]:
        fpat = sp[kept][fs]
        fday = studies["day"][kept][fs]
        np.minimum.at(first_seen, fpat, fday)
    latent_patients = pd.DataFrame(
        {
            "patient_id": pid,
            "true_etiology": pt["true_etiology"],
            "true_calcification": pt["true_calcification"],
            "true_n_calcifications": np.bincount(
                lesions["patient"][lesions["onset"] == 0], minlength=n
            ),
            "new_calcification_years": _new_onset(lesions, n),
            "calcification_recorded_years": np.where(
                np.isfinite(first_seen), first_seen / DAYS_PER_YEAR, np.inf
            ),
            **{f"latent_{k}_years": v for k, v in out["latent"].items()},
        }
    )
    latent_lesions = pd.DataFrame(
        {
            "patient_id": pid[lesions["patient"]],
            "lesion": np.arange(lesions["patient"].shape[0]),
            "onset_years": lesions["onset"],
            "segment": np.array(P.SEGMENTS, dtype=object)[lesions["segment"]],
            "size_mm": lesions["size"],
            "morphology": np.array(P.MORPHOLOGIES, dtype=object)[lesions["morphology"]],
            "associated_lesion": lesions["associated_lesion"],
        }
    )
    tables = {"patients": patients, "imaging": imaging, "findings": findings, "events": events}
    return tables, {"patients": latent_patients, "lesions": latent_lesions}


def _new_onset(lesions: dict[str, np.ndarray], n: int) -> np.ndarray:
    out = np.full(n, np.inf)
    new = lesions["onset"] > 0
    out[lesions["patient"][new]] = lesions["onset"][new]
    return out
