"""Run every calcstats benchmark in one go and keep the log (``make bench``).

Each script times calcstats against its peer on the same data in one run and prints the
ratio (see its docstring):

- ``ingest.py``: read_cohort vs a plain pandas read, 1,000,000 patients (target < 60 s, < 4 GB);
- ``simulate.py``: simulate_cohort at 1,000,000 patients (target < 60 s);
- ``analysis_tables.py``: patient/survival/counting-process tables at 1,000,000 patients;
- ``table_one.py``: table_one vs Python tableone, 200,000 × 20 (target ≤ 0.2×);
- ``memory.py``: peak memory of logrank and gray_test, 200 groups x 50,000 rows
  (target < 1 GB each, in a fresh process);
- ``multistate.py``: state_probabilities with IJ variance vs R survfit(..., id=, istate=),
  1,000,000 sojourn rows (target ≥ 20× faster; R's time is cached after its first run);
- ``survival.py``: cox vs R coxph (500,000 × 10, target ≤ 1.2×), fine_gray vs cmprsk::crr
  (≥ 50× at 5,000, ≥ 100× at 20,000) and its scaling, kaplan_meier vs R survfit at
  5,000,000 rows (≤ 1.5×). Needs R with survival and cmprsk;
- ``engine.py``: read, survival table, incidence and Cox on 10,000,000 patients in DuckDB
  (target < 10 min, < 4 GB) against pandas at 1M and 2M; needs ``calcstats[duckdb]``.

Wall times depend on what else the machine runs; the scripts also print CPU times and the
load average. ``--quick`` passes each script its quick mode where it has one.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    ("ingest.py", [], ["--n", "200000"]),
    ("simulate.py", [], []),
    ("analysis_tables.py", [], []),
    ("table_one.py", [], []),
    ("memory.py", [], ["--rows", "20000"]),
    ("survival.py", [], ["--quick"]),
    ("multistate.py", [], ["--quick"]),
    ("engine.py", [], ["--engine", "1000000", "--pandas", "1000000"]),
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes where supported")
    ap.add_argument("--only", nargs="*", help="run only these scripts (e.g. survival.py)")
    args = ap.parse_args()
    log_path = HERE / "out" / "run_all.txt"
    log_path.parent.mkdir(exist_ok=True)
    failures = 0
    with log_path.open("w") as log:
        for script, full_args, quick_args in SCRIPTS:
            if args.only and script not in args.only:
                continue
            cmd = [sys.executable, str(HERE / script), *(quick_args if args.quick else full_args)]
            header = f"\n===== {script} {' '.join(cmd[2:])} ====="
            print(header, flush=True)
            log.write(header + "\n")
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            elapsed = time.perf_counter() - t0
            print(proc.stdout, end="")
            log.write(proc.stdout)
            if proc.returncode != 0:
                failures += 1
                print(proc.stderr[-3000:], file=sys.stderr)
                log.write(proc.stderr)
            footer = f"----- {script}: exit {proc.returncode}, {elapsed:.1f} s"
            print(footer, flush=True)
            log.write(footer + "\n")
    print(f"\nLog written to {log_path}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
