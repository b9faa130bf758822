"""Peak memory of the k-sample tests with many groups: logrank and gray_test.

Usage::

    python benchmarks/memory.py                  # 200 groups x 50,000 rows (target < 1 GB)
    python benchmarks/memory.py --groups 50 --rows 10000

Each test runs in a fresh Python process on simulated data (a fixed seed; follow-up times
with three decimals, so nearly every event time is distinct, the worst case for the
(event times x groups) tables). The child reports

- ``peak RSS``: its ``ru_maxrss`` (the largest resident memory the process ever had,
  imports and data included) and the increase over the resident memory just before the
  call;
- ``traced peak``: the largest memory numpy and Python held during the call, measured
  with ``tracemalloc`` in a second run (this excludes the interpreter and libraries);
- wall and CPU seconds of the first run (CPU counts every BLAS thread).

The target is a peak resident memory under 1 GB for 200 groups x 50,000 rows; before the
tests were restructured the (event times x groups x groups) arrays needed about 7 GB.
Results: a table on stdout and ``benchmarks/out/memory.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import calcstats as cs  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
TARGET_GB = 1.0


def make_data(rows: int, groups: int, seed: int = 20261201) -> pd.DataFrame:
    """Competing-risks data: status 0 (censored), 1 or 2; groups of about equal size."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, groups, rows)
    rate = 0.05 * (1 + (g % 5) / 10)
    t1 = rng.exponential(1 / rate)
    t2 = rng.exponential(1 / 0.03, rows)
    c = rng.uniform(0, 40, rows)
    time_ = np.minimum(np.minimum(t1, t2), c)
    status = np.where(time_ == c, 0, np.where(time_ == t1, 1, 2))
    return pd.DataFrame(
        {"time": np.round(time_, 3) + 0.001, "status": status, "group": g.astype(str)}
    )


def _maxrss_bytes() -> int:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024  # Linux reports kB


def child(test: str, rows: int, groups: int) -> dict:
    """Run one test in this (fresh) process; return its memory and time."""
    data = make_data(rows, groups)

    def call():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if test == "logrank":
                return cs.logrank(data, time="time", event="status", cause=1, by="group")
            return cs.gray_test(data, time="time", event="status", cause=1, by="group")

    before = _maxrss_bytes()
    t0, c0 = time.perf_counter(), time.process_time()
    res = call()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak_rss = _maxrss_bytes()
    tracemalloc.start()
    call()
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "test": test,
        "rows": rows,
        "groups": groups,
        "event_times": int(np.unique(data["time"][data["status"] > 0]).size),
        "statistic": res.statistic,
        "df": res.df,
        "seconds": wall,
        "cpu_seconds": cpu,
        "peak_rss_bytes": peak_rss,
        "rss_increase_bytes": peak_rss - before,
        "traced_peak_bytes": traced,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--groups", type=int, default=200)
    ap.add_argument("--child", choices=["logrank", "gray_test"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.rows, args.groups)))
        return 0
    results = []
    print(f"{args.groups} groups x {args.rows:,} rows (target: peak RSS < {TARGET_GB:g} GB)")
    print(
        f"{'test':<10} {'event times':>11} {'seconds':>8} {'CPU s':>7} {'peak RSS':>10} "
        f"{'RSS increase':>13} {'traced peak':>12}  target"
    )
    failed = False
    for test in ("logrank", "gray_test"):
        proc = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                test,
                "--rows",
                str(args.rows),
                "--groups",
                str(args.groups),
            ],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            print(f"{test}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
            failed = True
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        results.append(r)
        ok = r["peak_rss_bytes"] < TARGET_GB * 1e9
        failed |= not ok
        print(
            f"{test:<10} {r['event_times']:>11,} {r['seconds']:>8.2f} {r['cpu_seconds']:>7.2f} "
            f"{r['peak_rss_bytes'] / 1e6:>7.0f} MB {r['rss_increase_bytes'] / 1e6:>10.0f} MB "
            f"{r['traced_peak_bytes'] / 1e6:>9.0f} MB  {'ok' if ok else 'MISSED'}"
        )
    OUT.mkdir(exist_ok=True)
    (OUT / "memory.json").write_text(json.dumps(results, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
