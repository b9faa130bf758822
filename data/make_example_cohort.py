"""Write the synthetic example cohort, clean and as a messy hospital export.

Run from the repository root:

    .venv/bin/python data/make_example_cohort.py

It writes the same files to ``data/`` (for the examples and docs) and to
``calcstats/datasets/data/`` (shipped in the wheel, read by
``calcstats.datasets.load_example_cohort``):

- ``example_cohort/``: patients.csv, imaging.csv, findings.csv, events.csv in the canonical
  schema, plus truth.json (the generating parameters and true hazard ratios);
- ``example_cohort_raw/``: the same patients as a hospital export would hand them over:
  other column names (``column_map.json`` maps them), text codes (``female``,
  ``Ultrasound``, ``seg 7``, ``yes``), birth dates instead of ages, dates written
  ISO (``2019-03-04``) at site_A and day-first (``04/03/2019``) elsewhere (read with
  ``date_format="dmy"``), and a handful of invalid rows of the kinds ``read_cohort``
  rejects, listed in ``injected_problems.csv``.

Everything is deterministic: the cohort comes from ``simulate_cohort(seed=SEED)`` and the
messiness from ``numpy.random.default_rng(SEED + 1)``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

import calcstats as cs

SEED = 20260101
N = 2500
PRESET = "western_tertiary"
CALCIFICATION_HR = 1.5
ROOT = Path(__file__).resolve().parent.parent
TARGETS = (ROOT / "data", ROOT / "calcstats" / "datasets" / "data")
TABLES = ("patients", "imaging", "findings", "events")

COLUMN_MAP = {
    "patients": {
        "PatID": "patient_id", "Sex": "sex", "DOB": "birth_date",
        "IndexScanDate": "index_date", "Diagnosis": "etiology",
        "Cirrhosis": "cirrhosis_at_baseline",
        "LastSeen": "last_followup_date", "Hospital": "site", "BMI": "bmi",
        "Diabetes": "diabetes", "Alcohol": "alcohol_use", "Bilirubin_mg_dL": "bilirubin_mg_dl",
        "Albumin_g_dL": "albumin_g_dl", "ALP_U_L": "alp_u_l", "Platelets": "platelets_10e9_l",
        "INR": "inr",
    },
    "imaging": {"ExamID": "study_id", "PatID": "patient_id", "ExamDate": "study_date",
                "Modality": "modality"},
    "findings": {"LesionID": "finding_id", "ExamID": "study_id", "PatID": "patient_id",
                 "Segment": "segment", "Size_mm": "size_mm", "Pattern": "morphology",
                 "AssociatedLesion": "associated_lesion"},
    "events": {"PatID": "patient_id", "Event": "event", "EventDate": "event_date"},
}
DATE_FORMAT = "dmy"
ROMAN_TO_ARABIC = {"I": "1", "II": "2", "III": "3", "IV": "4", "V": "5", "VI": "6",
                   "VII": "7", "VIII": "8"}


def _fmt_dates(dates: pd.Series, day_first: pd.Series) -> pd.Series:
    """ISO where ``day_first`` is False, dd/mm/yyyy where True; blank for NaT."""
    iso = dates.dt.strftime("%Y-%m-%d")
    dmy = dates.dt.strftime("%d/%m/%Y")
    return iso.where(~day_first.to_numpy(), dmy).fillna("")


def messy_export(tables: dict[str, pd.DataFrame], rng: np.random.Generator):
    """The canonical tables as a hospital export, and the list of injected problems."""
    pt, im, fi, ev = (tables[t].copy() for t in TABLES)
    day_first_pt = pt["site"] != "site_A"
    site_of = pt.set_index("patient_id")["site"]

    def day_first(ids: pd.Series) -> pd.Series:
        return ids.map(site_of).fillna("site_B") != "site_A"

    birth = pt["index_date"] - pd.to_timedelta(np.round(pt["age_at_index"] * 365.25), unit="D")
    diag = pt["etiology"].map({"pbc": "Primary biliary cholangitis", "psc": "PSC",
                               "hepatolithiasis": "Hepatolithiasis"}).fillna(pt["etiology"])
    raw_pt = pd.DataFrame({
        "PatID": pt["patient_id"],
        "Sex": pt["sex"].map({"F": "female", "M": "male"}),
        "DOB": _fmt_dates(birth, day_first_pt),
        "IndexScanDate": _fmt_dates(pt["index_date"], day_first_pt),
        "Diagnosis": diag,
        "Cirrhosis": np.where(pt["cirrhosis_at_baseline"], "yes", "no"),
        "LastSeen": _fmt_dates(pt["last_followup_date"], day_first_pt),
        "Hospital": pt["site"],
        "BMI": pt["bmi"],
        "Diabetes": pt["diabetes"].map({True: "Y", False: "N"}).astype(object),
        "Alcohol": pt["alcohol_use"],
        "Bilirubin_mg_dL": pt["bilirubin_mg_dl"],
        "Albumin_g_dL": pt["albumin_g_dl"],
        "ALP_U_L": pt["alp_u_l"],
        "Platelets": pt["platelets_10e9_l"],
        "INR": pt["inr"],
    })
    raw_im = pd.DataFrame({
        "ExamID": im["study_id"], "PatID": im["patient_id"],
        "ExamDate": _fmt_dates(im["study_date"], day_first(im["patient_id"])),
        "Modality": im["modality"].map({"CT": "CT", "US": "Ultrasound", "MRI": "MRI"}),
    })
    arabic = rng.random(len(fi)) < 0.5
    raw_fi = pd.DataFrame({
        "LesionID": fi["finding_id"], "ExamID": fi["study_id"], "PatID": fi["patient_id"],
        "Segment": np.where(arabic, "seg " + fi["segment"].map(ROMAN_TO_ARABIC), fi["segment"]),
        "Size_mm": fi["size_mm"], "Pattern": fi["morphology"],
        "AssociatedLesion": fi["associated_lesion"],
    })
    raw_ev = pd.DataFrame({
        "PatID": ev["patient_id"],
        "Event": ev["event"].str.replace("_", " ").str.capitalize(),
        "EventDate": _fmt_dates(ev["event_date"], day_first(ev["patient_id"])),
    })

    # ---- invalid rows, each on a different patient -------------------------------
    problems: list[dict[str, str]] = []
    used: set[str] = set()
    deaths = ev.loc[ev["event"] == "death"].set_index("patient_id")["event_date"]
    transplants = ev.loc[ev["event"] == "liver_transplant"].set_index("patient_id")["event_date"]
    with_events = set(ev["patient_id"])
    with_findings = set(fi["patient_id"])

    def pick(candidates) -> str:
        pool = sorted(set(candidates) - used)
        pid = pool[int(rng.integers(len(pool)))]
        used.add(pid)
        return pid

    def note(pid: str, table: str, rule: str, what: str) -> None:
        problems.append({"patient_id": pid, "table": table, "rule": rule, "what": what})

    def date_text(pid: str, when: pd.Timestamp) -> str:
        return _fmt_dates(pd.Series([when]), pd.Series([site_of.get(pid) != "site_A"])).iloc[0]

    def add_event(pid: str, name: str, when: pd.Timestamp) -> None:
        nonlocal raw_ev
        raw_ev = pd.concat([raw_ev, pd.DataFrame(
            {"PatID": [pid], "Event": [name], "EventDate": [date_text(pid, when)]})],
            ignore_index=True)

    row_of = pd.Series(np.arange(len(pt)), index=pt["patient_id"])
    index_of = pt.set_index("patient_id")["index_date"]
    last_of = pt.set_index("patient_id")["last_followup_date"]
    quiet = set(pt["patient_id"]) - with_events

    pid = pick(quiet)
    add_event(pid, "Liver transplant", index_of[pid] - pd.Timedelta(days=40))
    note(pid, "events", "event_before_index", "liver transplant dated before the index scan")

    pid = pick(quiet)
    add_event(pid, "Ascites", last_of[pid] + pd.Timedelta(days=200))
    note(pid, "events", "event_after_followup", "ascites dated after the last follow-up")

    pid = pick(set(deaths.index))
    add_event(pid, "Death", deaths[pid])
    note(pid, "events", "multiple_deaths", "death entered twice")

    tx_ok = [p for p, d in transplants.items()
             if (last_of[p] - d).days > 200 and p not in deaths.index]
    pid = pick(tx_ok)
    add_event(pid, "Hcc", transplants[pid] + pd.Timedelta(days=100))
    note(pid, "events", "outcome_after_transplant", "HCC of the native liver after transplant")

    pid = pick(set(pt.loc[~pt["cirrhosis_at_baseline"], "patient_id"]) & quiet)
    add_event(pid, "Cirrhosis", index_of[pid] - pd.Timedelta(days=120))
    note(pid, "events", "baseline_flag_inconsistent",
         "cirrhosis dated before index while Cirrhosis is 'no'")

    add_event("P999999", "Death", pd.Timestamp("2016-05-05"))
    note("P999999", "events", "orphan_row", "event of a patient who is not in patients.csv")

    pid = pick(set(deaths.index))
    raw_im = pd.concat([raw_im, pd.DataFrame({
        "ExamID": ["S9999991"], "PatID": [pid],
        "ExamDate": [date_text(pid, deaths[pid] + pd.Timedelta(days=60))], "Modality": ["CT"],
    })], ignore_index=True)
    note(pid, "imaging", "study_after_death", "imaging study dated after death")

    pid = pick(set(pt["patient_id"]))
    j = int(np.flatnonzero(raw_im["PatID"] == pid)[0])
    raw_im.loc[j, "Modality"] = "PET-CT"
    note(pid, "imaging", "unknown_value", "modality PET-CT is not CT/US/MRI")

    pid = pick(with_findings)
    j = int(np.flatnonzero(raw_fi["PatID"] == pid)[0])
    raw_fi.loc[j, "Size_mm"] = -4.2
    note(pid, "findings", "out_of_range", "negative calcification size")

    pid = pick(with_findings)
    other = pick(set(pt["patient_id"]) - with_findings)
    j = int(np.flatnonzero(raw_fi["PatID"] == pid)[0])
    raw_fi.loc[j, "PatID"] = other
    note(other, "findings", "study_patient_mismatch",
         f"finding filed under {other} but its study belongs to {pid}")
    used.add(pid)

    pid = pick(set(pt["patient_id"]))
    raw_pt.loc[row_of[pid], "Diagnosis"] = "Clonorchiasis"
    note(pid, "patients", "unknown_value", "etiology not in the vocabulary")

    pid = pick(set(pt["patient_id"]))
    raw_pt.loc[row_of[pid], "Sex"] = ""
    note(pid, "patients", "missing_value", "sex left blank")

    pid = pick(set(pt.loc[pt["site"] != "site_A", "patient_id"]))
    raw_pt.loc[row_of[pid], "IndexScanDate"] = "31/02/" + str(index_of[pid].year)
    note(pid, "patients", "invalid_date", "index date 31 February")

    pid = pick(quiet & set(pt["patient_id"]))
    raw_pt.loc[row_of[pid], "LastSeen"] = date_text(pid, index_of[pid] - pd.Timedelta(days=10))
    note(pid, "patients", "followup_before_index", "last follow-up before the index scan")

    pid = pick(set(pt["patient_id"]))
    dup = raw_pt.iloc[[row_of[pid]]].copy()
    raw_pt = pd.concat([raw_pt, dup], ignore_index=True)
    note(pid, "patients", "duplicate_id", "patient exported twice")

    raw = {"patients": raw_pt, "imaging": raw_im, "findings": raw_fi, "events": raw_ev}
    return raw, pd.DataFrame(problems)


def write(folder: Path, tables: dict[str, pd.DataFrame]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        df.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")


def main() -> None:
    sim = cs.simulate_cohort(N, seed=SEED, preset=PRESET, calcification_hr=CALCIFICATION_HR)
    clean = {t: getattr(sim, t) for t in TABLES}
    raw, problems = messy_export(clean, np.random.default_rng(SEED + 1))
    for base in TARGETS:
        out = base / "example_cohort"
        write(out, clean)
        sim.truth.to_json(out / "truth.json")
        out_raw = base / "example_cohort_raw"
        write(out_raw, raw)
        (out_raw / "column_map.json").write_text(
            json.dumps(COLUMN_MAP, indent=2) + "\n", encoding="utf-8")
        problems.to_csv(out_raw / "injected_problems.csv", index=False, lineterminator="\n")
    print(f"wrote {len(clean['patients'])} patients to "
          + ", ".join(str(t.relative_to(ROOT)) for t in TARGETS))
    print(f"{len(problems)} invalid rows injected in example_cohort_raw")
    shutil.rmtree(ROOT / "data" / "__pycache__", ignore_errors=True)


if __name__ == "__main__":
    main()
