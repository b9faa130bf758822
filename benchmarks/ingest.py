"""Benchmark: read_cohort (read + normalise + validate) against a plain pandas read.

Builds a synthetic cohort of N patients (default 1,000,000) with imaging studies,
findings and events (numpy only; dates as ISO text in CSV, native dates in parquet),
writes it as CSV and parquet to a temporary folder, then times, each in a fresh
subprocess so that peak memory is that of the measured step alone:

- ``pandas``: ``pd.read_csv`` / ``pd.read_parquet`` of the four files (no checks);
- ``read_cohort``: ``calcstats.read_cohort(folder)`` (every rule checked).

Peak memory is the child's high-water resident set size (``VmHWM``; ``resource.getrusage``
where /proc is missing). Wall and
CPU (process) time are both reported: the ingest is single-threaded, so on an idle machine
wall time equals CPU time, while on a shared machine wall time grows with the load average
(printed alongside).
Target (DESIGN.md): read_cohort of 1,000,000 patients under 60 s and 4 GB.

Usage::

    python benchmarks/ingest.py            # 1,000,000 patients
    python benchmarks/ingest.py --n 100000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ETIOLOGIES = [
    "pbc",
    "psc",
    "biliary_atresia",
    "hepatolithiasis",
    "schistosomiasis",
    "echinococcosis",
    "granulomatous",
    "chronic_hbv",
    "chronic_hcv",
    "alcohol",
    "masld",
    "hemangioma",
    "neoplasm",
    "post_procedural",
    "idiopathic",
    "other",
]
SEGMENTS = ["I", "II", "III", "IVa", "IVb", "V", "VI", "VII", "VIII"]
MORPH = ["punctate", "coarse", "rim", "ductal", "vascular", "network", "amorphous"]
NONTERMINAL = ["cirrhosis", "varices", "ascites", "hcc", "encephalopathy"]


def build(n: int, seed: int = 1) -> dict[str, pd.DataFrame]:
    """A valid synthetic cohort of ``n`` patients (numpy only)."""
    rng = np.random.default_rng(seed)
    pid = np.char.add("P", np.arange(n).astype(str))
    index = np.datetime64("2005-01-01") + rng.integers(0, 15 * 365, n).astype("timedelta64[D]")
    fu_days = rng.integers(30, 10 * 365, n)
    last_fu = index + fu_days.astype("timedelta64[D]")
    patients = pd.DataFrame(
        {
            "patient_id": pid,
            "sex": rng.choice(["F", "M"], n),
            "age_at_index": np.round(rng.uniform(18, 90, n), 1),
            "index_date": index,
            "etiology": rng.choice(ETIOLOGIES, n),
            "cirrhosis_at_baseline": rng.random(n) < 0.2,
            "last_followup_date": last_fu,
            "site": rng.choice(["A", "B", "C", "D"], n),
            "bmi": np.round(rng.normal(26, 4, n).clip(15, 60), 1),
            "diabetes": rng.random(n) < 0.15,
            "bilirubin_mg_dl": np.round(rng.lognormal(0, 0.6, n).clip(0.1, 25), 2),
            "albumin_g_dl": np.round(rng.normal(3.8, 0.4, n).clip(1.5, 5.5), 2),
        }
    )
    # imaging: index study + 0-2 follow-up studies within follow-up
    n_extra = rng.integers(0, 3, n)
    owner = np.concatenate([np.arange(n), np.repeat(np.arange(n), n_extra)])
    offset = np.concatenate(
        [
            np.zeros(n, dtype=np.int64),
            (rng.random(n_extra.sum()) * fu_days[np.repeat(np.arange(n), n_extra)]).astype(
                np.int64
            ),
        ]
    )
    m = len(owner)
    imaging = pd.DataFrame(
        {
            "study_id": np.char.add("S", np.arange(m).astype(str)),
            "patient_id": pid[owner],
            "study_date": index[owner] + offset.astype("timedelta64[D]"),
            "modality": rng.choice(["CT", "US", "MRI"], m),
        }
    )
    # findings: 0-4 per index study
    n_find = rng.choice([0, 1, 2, 3, 4], n, p=[0.2, 0.35, 0.25, 0.12, 0.08])
    f_owner = np.repeat(np.arange(n), n_find)
    k = len(f_owner)
    findings = pd.DataFrame(
        {
            "finding_id": np.char.add("F", np.arange(k).astype(str)),
            "study_id": imaging["study_id"].to_numpy()[f_owner],
            "patient_id": pid[f_owner],
            "segment": rng.choice(SEGMENTS, k),
            "size_mm": np.round(rng.lognormal(1.5, 0.5, k), 1),
            "morphology": rng.choice(MORPH, k),
        }
    )
    # events: 0-2 non-terminal events during follow-up; death for 10% at last follow-up
    n_ev = rng.integers(0, 3, n)
    e_owner = np.repeat(np.arange(n), n_ev)
    e_off = (rng.random(len(e_owner)) * fu_days[e_owner]).astype(np.int64) + 1
    e_off = np.minimum(e_off, fu_days[e_owner])
    dead = np.flatnonzero(rng.random(n) < 0.1)
    kind = rng.choice(NONTERMINAL, len(e_owner))
    # baseline flag consistent with the events: no cirrhosis event before index exists, and
    # a patient with cirrhosis at baseline has no cirrhosis diagnosed later
    kind[(kind == "cirrhosis") & patients["cirrhosis_at_baseline"].to_numpy()[e_owner]] = "varices"
    events = pd.DataFrame(
        {
            "patient_id": np.concatenate([pid[e_owner], pid[dead]]),
            "event": np.concatenate([kind, np.full(len(dead), "death")]),
            "event_date": np.concatenate(
                [index[e_owner] + e_off.astype("timedelta64[D]"), last_fu[dead]]
            ),
        }
    )
    events = events.drop_duplicates(ignore_index=True)  # an event is entered once
    return {"patients": patients, "imaging": imaging, "findings": findings, "events": events}


def write(tables: dict[str, pd.DataFrame], folder: Path, fmt: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        if fmt == "csv":
            out = df.copy()
            for c in out.columns:
                if pd.api.types.is_datetime64_any_dtype(out[c]):
                    out[c] = out[c].dt.strftime("%Y-%m-%d")
            out.to_csv(folder / f"{name}.csv", index=False)
        else:
            df.to_parquet(folder / f"{name}.parquet", index=False)


def _peak_mb() -> float:
    """Peak resident memory of this process in MB.

    ``VmHWM`` of /proc/self/status belongs to the process image (reset by exec); Linux's
    ``ru_maxrss`` would also count the parent's size at fork, so it is only the fallback.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure(kind: str, folder: str, fmt: str) -> None:
    """Child process: run one step, print its time and peak RSS as JSON."""
    import warnings

    import calcstats as cs

    t0, c0 = time.perf_counter(), time.process_time()
    if kind == "pandas":
        reader = pd.read_csv if fmt == "csv" else pd.read_parquet
        frames = {
            n: reader(Path(folder) / f"{n}.{fmt}")
            for n in ("patients", "imaging", "findings", "events")
        }
        rows = {k: len(v) for k, v in frames.items()}
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cohort = cs.read_cohort(folder)
        rows = {
            "patients": len(cohort.patients),
            "imaging": len(cohort.imaging),
            "findings": len(cohort.findings),
            "events": len(cohort.events),
        }
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak_mb = _peak_mb()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu": cpu,
                "peak_mb": peak_mb,
                "rows": rows,
                "load": os.getloadavg()[0],
            }
        )
    )


def run(kind: str, folder: Path, fmt: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", kind, str(folder), fmt],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--formats", default="csv,parquet")
    ap.add_argument("--measure", nargs=3, metavar=("KIND", "FOLDER", "FMT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        _measure(*args.measure)
        return
    t0 = time.perf_counter()
    tables = build(args.n)
    print(
        f"built {args.n:,} patients: "
        + ", ".join(f"{k} {len(v):,} rows" for k, v in tables.items())
        + f" ({time.perf_counter() - t0:.1f} s)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in args.formats.split(","):
            folder = Path(tmp) / fmt
            write(tables, folder, fmt)
            base = run("pandas", folder, fmt)
            ours = run("read_cohort", folder, fmt)
            if ours["rows"] != base["rows"]:
                raise RuntimeError(f"row counts differ: {ours['rows']} vs {base['rows']}")
            ok = ours["seconds"] < 60 and ours["peak_mb"] < 4096
            print(
                f"{fmt:8s} pandas read {base['seconds']:6.1f} s wall {base['cpu']:6.1f} s CPU "
                f"({base['peak_mb']:,.0f} MB) | read_cohort {ours['seconds']:6.1f} s wall "
                f"{ours['cpu']:6.1f} s CPU ({ours['peak_mb']:,.0f} MB peak) | ratio "
                f"{ours['seconds'] / base['seconds']:.1f}x wall, "
                f"{ours['cpu'] / base['cpu']:.1f}x CPU | load average "
                f"{ours['load']:.1f} on {os.cpu_count()} CPUs | target < 60 s wall and "
                f"< 4096 MB: {'met' if ok else 'NOT met'}"
            )


if __name__ == "__main__":
    main()
