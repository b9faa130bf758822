"""Time the cohort simulator at n = 1,000,000 patients (target: under a minute).

Usage: ``python benchmarks/simulate.py [n_patients]`` (default 1,000,000). Prints the time
to generate the four tables without validation (``_simulate_tables``), the time of
``simulate_cohort`` (generation + ``read_cohort`` validation), the table sizes, the peak
resident memory and the machine's load average. Wall-clock times are inflated on a busy
machine, so the CPU time of this process is printed too. The numbers are also written to
``benchmarks/out/simulate.json``.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
import warnings
from pathlib import Path

from calcstats.simulate import simulate_cohort
from calcstats.simulate._simulate import _simulate_tables


def main(n: int) -> None:
    load_before = os.getloadavg()[0]
    print(f"load average before: {load_before:.1f} on {os.cpu_count()} cores")
    t0, c0 = time.perf_counter(), time.process_time()
    tables, _ = _simulate_tables(n, seed=1)
    t_gen, c_gen = time.perf_counter() - t0, time.process_time() - c0
    rows = {k: len(v) for k, v in tables.items()}
    sizes = ", ".join(f"{k} {v:,}" for k, v in rows.items())
    del tables
    print(
        f"simulate n={n:,}: tables only (no validation) {t_gen:6.1f} s wall, "
        f"{c_gen:6.1f} s CPU  [{sizes}]"
    )

    t0, c0 = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cohort = simulate_cohort(n, seed=1)
    t_all, c_all = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"simulate n={n:,}: simulate_cohort incl. read_cohort validation {t_all:6.1f} s "
        f"wall, {c_all:6.1f} s CPU (validation {t_all - t_gen:5.1f} s wall)  "
        f"[{len(cohort.patients):,} patients]"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    load_after = os.getloadavg()[0]
    print(f"peak resident memory {peak:.2f} GB; load average after: {load_after:.1f}")
    out = Path(__file__).parent / "out" / "simulate.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "n_patients": n,
                "rows": {k: int(v) for k, v in rows.items()},
                "tables_only_wall_s": round(t_gen, 2),
                "tables_only_cpu_s": round(c_gen, 2),
                "with_validation_wall_s": round(t_all, 2),
                "with_validation_cpu_s": round(c_all, 2),
                "peak_rss_gb": round(peak, 2),
                "cores": os.cpu_count(),
                "load_average_before": round(load_before, 1),
                "load_average_after": round(load_after, 1),
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
