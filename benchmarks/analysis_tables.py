"""Time the cohort analysis tables on a large synthetic cohort (pure pandas input).

Usage: ``python benchmarks/analysis_tables.py [n_patients]`` (default 1,000,000). Builds
the four canonical tables directly (no validation), then times patient_table,
survival_table, counting_process_table and lesion_table.
"""

from __future__ import annotations

import sys
import time
import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd

from calcstats.cohort._analysis import (
    counting_process_table,
    lesion_table,
    patient_table,
    survival_table,
)

SEGMENTS = np.array(["I", "II", "III", "IVa", "IVb", "V", "VI", "VII", "VIII"])
MORPH = np.array(["punctate", "coarse", "rim", "ductal", "vascular", "network", "diffuse"])


def make_cohort(n: int, seed: int = 1) -> SimpleNamespace:
    rng = np.random.default_rng(seed)
    pid = np.char.add("P", np.arange(n).astype(str)).astype(object)
    index = pd.Timestamp("2010-01-01") + pd.to_timedelta(rng.integers(0, 3000, n), "D")
    fu = index + pd.to_timedelta(rng.integers(1, 4000, n), "D")
    patients = pd.DataFrame(
        {
            "patient_id": pid,
            "sex": rng.choice(["F", "M"], n),
            "age_at_index": rng.uniform(20, 90, n),
            "index_date": index,
            "etiology": rng.choice(["pbc", "psc", "idiopathic"], n),
            "cirrhosis_at_baseline": rng.random(n) < 0.1,
            "last_followup_date": fu,
        }
    )
    n_st = rng.integers(1, 4, n)  # index study plus 0-2 follow-up studies
    s_pat = np.repeat(np.arange(n), n_st)
    first = np.r_[0, np.cumsum(n_st)[:-1]]
    rank = np.arange(len(s_pat)) - np.repeat(first, n_st)
    offset = np.where(rank == 0, 0, rng.integers(30, 2000, len(s_pat)))
    imaging = pd.DataFrame(
        {
            "study_id": np.char.add("S", np.arange(len(s_pat)).astype(str)).astype(object),
            "patient_id": pid[s_pat],
            "study_date": index.to_numpy()[s_pat] + pd.to_timedelta(offset, "D").to_numpy(),
            "modality": rng.choice(["CT", "US", "MRI"], len(s_pat)),
        }
    )
    n_f = rng.poisson(0.8, len(s_pat))
    f_st = np.repeat(np.arange(len(s_pat)), n_f)
    findings = pd.DataFrame(
        {
            "finding_id": np.char.add("F", np.arange(len(f_st)).astype(str)).astype(object),
            "study_id": imaging["study_id"].to_numpy()[f_st],
            "patient_id": pid[s_pat[f_st]],
            "segment": rng.choice(SEGMENTS, len(f_st)),
            "size_mm": rng.gamma(2, 3, len(f_st)),
            "morphology": rng.choice(MORPH, len(f_st), p=[0.3, 0.3, 0.1, 0.1, 0.1, 0.07, 0.03]),
        }
    )
    n_ev = rng.poisson(0.6, n)
    e_pat = np.repeat(np.arange(n), n_ev)
    span = (fu - index).days.to_numpy()[e_pat]
    events = pd.DataFrame(
        {
            "patient_id": pid[e_pat],
            "event": rng.choice(["cirrhosis", "death", "liver_transplant", "hcc"], len(e_pat)),
            "event_date": index.to_numpy()[e_pat]
            + pd.to_timedelta(rng.integers(0, span + 1), "D").to_numpy(),
        }
    )
    return SimpleNamespace(patients=patients, imaging=imaging, findings=findings, events=events)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    c = make_cohort(n)
    print(
        f"{n:,} patients, {len(c.imaging):,} studies, {len(c.findings):,} findings, "
        f"{len(c.events):,} events"
    )
    warnings.simplefilter("ignore")
    print("(cpu time is the fairer number on a shared machine)")
    for name, fn in [
        ("patient_table", lambda: patient_table(c)),
        (
            "survival_table",
            lambda: survival_table(c, "cirrhosis", competing=("liver_transplant", "death")),
        ),
        (
            "counting_process_table",
            lambda: counting_process_table(c, "cirrhosis", competing=("liver_transplant", "death")),
        ),
        ("lesion_table", lambda: lesion_table(c)),
    ]:
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"{name:24s} {wall:6.2f} s wall {cpu:6.2f} s cpu  ({len(out):,} rows)")


if __name__ == "__main__":
    main()
