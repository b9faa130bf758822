"""Time the cohort simulator at n = 1,000,000 patients (target: under a minute).

Usage: ``python benchmarks/simulate.py [n_patients]`` (default 1,000,000). Prints the time
to generate the four tables without validation (``_simulate_tables``), the time of
``simulate_cohort`` (generation + ``read_cohort`` validation), the table sizes, the peak
resident memory and the machine's load average. Wall-clock times are inflated on a busy
machine, so the CPU time of this process is printed too.
"""

from __future__ import annotations

import os
import resource
import sys
import time
import warnings

from calcstats.simulate import simulate_cohort
from calcstats.simulate._simulate import _simulate_tables


def main(n: int) -> None:
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    t0, c0 = time.perf_counter(), time.process_time()
    tables, _ = _simulate_tables(n, seed=1)
    t_gen, c_gen = time.perf_counter() - t0, time.process_time() - c0
    sizes = ", ".join(f"{k} {len(v):,}" for k, v in tables.items())
    del tables
    print(f"simulate n={n:,}: tables only (no validation) {t_gen:6.1f} s wall, "
          f"{c_gen:6.1f} s CPU  [{sizes}]")

    t0, c0 = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cohort = simulate_cohort(n, seed=1)
    t_all, c_all = time.perf_counter() - t0, time.process_time() - c0
    print(f"simulate n={n:,}: simulate_cohort incl. read_cohort validation {t_all:6.1f} s "
          f"wall, {c_all:6.1f} s CPU (validation {t_all - t_gen:5.1f} s wall)  "
          f"[{len(cohort.patients):,} patients]")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"peak resident memory {peak:.2f} GB; load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
