"""Large cohorts: the DuckDB engine at 10,000,000 patients against pandas at 1M and 2M.

Usage::

    python benchmarks/engine.py                          # 10M engine; 1M, 2M pandas
    python benchmarks/engine.py --engine 1000000 --pandas 200000 --data /tmp/cs_bench

The cohorts are written as parquet by :mod:`engine_data` (DuckDB SQL, no pandas; about
2 studies, 2.5 findings and 1.1 events per patient) unless already there. Each run is a
fresh Python process doing the same four steps:

1. ``read_cohort`` (read, convert, validate every rule, build the flow);
2. the cirrhosis survival table with death competing (computed and stored);
3. incidence rates of cirrhosis by sex;
4. a Cox model with two covariates (``age_at_index + C(sex)``).

It reports the wall and CPU seconds of each step and the process's peak resident memory
(``ru_maxrss``: Python, pandas and DuckDB's native memory together), and the numbers the
steps produced (patients, rows at risk, events, rate, hazard ratios), so runs can be
compared. The engine runs with ``memory_limit = 2GB`` and two threads. Targets for the
engine at 10M: under 10 minutes and under 4 GB. Results: a table on stdout and
``benchmarks/out/engine.json`` (with the cores, memory, DuckDB version and load average
of each run). Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

TARGET_SECONDS, TARGET_GB = 600.0, 4.0
FORMULA = "age_at_index + C(sex)"


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9


def child(kind: str, folder: Path, memory_limit: str, spill: Path) -> dict:
    """The four steps in this process; returns timings, peak memory and results."""
    import calcstats as cs

    steps: dict[str, dict] = {}

    def step(name: str, fn):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        steps[name] = {
            "wall": time.perf_counter() - w0,
            "cpu": time.process_time() - c0,
            "peak_gb": _peak_gb(),
        }
        return out

    warnings.simplefilter("ignore")
    if kind == "engine":
        opts = {"memory_limit": memory_limit, "threads": 2, "temp_directory": str(spill)}
        cohort = step(
            "read_cohort", lambda: cs.read_cohort(folder, engine="duckdb", engine_options=opts)
        )
        st = step(
            "survival_table",
            lambda: cohort.survival_table("cirrhosis", competing=("death",)).cached(),
        )
        n_risk = len(st)
    else:
        cohort = step("read_cohort", lambda: cs.read_cohort(folder))
        st = step(
            "survival_table", lambda: cohort.survival_table("cirrhosis", competing=("death",))
        )
        n_risk = len(st)
    rates = step(
        "incidence_by_sex",
        lambda: cs.incidence_rate(
            st, time="time", event="status", cause=1, by="sex", per=1000
        ).tidy(),
    )
    fit = step(
        "cox_2_covariates", lambda: cs.cox(st, FORMULA, time="time", event="status", cause=1)
    )
    total_wall = sum(s["wall"] for s in steps.values())
    return {
        "kind": kind,
        "patients": cohort.flow.n_out,
        "rows_at_risk": n_risk,
        "steps": steps,
        "total_wall": total_wall,
        "peak_gb": _peak_gb(),
        "rates": rates[["sex", "events", "person_time", "rate"]].to_dict("list"),
        "hazard_ratios": {k: float(v) for k, v in fit.tidy().set_index("term")["estimate"].items()},
        "cox_iterations": int(fit.model.iterations),
        "cox_queries": int(getattr(fit.model, "queries", 0)),
    }


def _machine() -> dict:
    """Cores, memory, DuckDB version and the load average (other processes share the
    cores: a run on a busy machine takes longer)."""
    import duckdb

    mem = 0.0
    if Path("/proc/meminfo").exists():
        first = Path("/proc/meminfo").read_text().splitlines()[0].split()
        mem = int(first[1]) * 1024 / 1e9
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(mem, 1),
        "duckdb": duckdb.__version__,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _run(kind: str, folder: Path, memory_limit: str, spill: Path) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        kind,
        "--folder",
        str(folder),
        "--memory-limit",
        memory_limit,
        "--spill",
        str(spill),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise SystemExit(f"{kind} run on {folder} failed:\n{res.stderr[-3000:]}")
    out = json.loads(res.stdout.strip().splitlines()[-1])
    out["machine"] = _machine()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", type=int, nargs="*", default=[10_000_000])
    ap.add_argument("--pandas", type=int, nargs="*", default=[1_000_000, 2_000_000])
    ap.add_argument("--data", type=Path, default=Path("/tmp/calcstats-bench"))
    ap.add_argument("--memory-limit", default="2GB")
    ap.add_argument("--spill", type=Path, default=None)
    ap.add_argument("--child", choices=["engine", "pandas"])
    ap.add_argument("--folder", type=Path)
    args = ap.parse_args()
    spill = args.spill or args.data / "spill"
    if args.child:
        print(json.dumps(child(args.child, args.folder, args.memory_limit, spill)))
        return
    from engine_data import generate

    runs = []
    for kind, sizes in (("pandas", args.pandas), ("engine", args.engine)):
        for n in sizes:
            folder = args.data / f"cohort_{n}"
            if not (folder / "events.parquet").exists():
                t0 = time.time()
                counts = generate(folder, n)
                print(f"generated {n:,} patients in {time.time() - t0:.0f} s: {counts}", flush=True)
            runs.append(_run(kind, folder, args.memory_limit, spill))
            r = runs[-1]
            print(
                f"{kind:>6} {r['patients']:>11,} patients: {r['total_wall']:7.1f} s, "
                f"peak {r['peak_gb']:.2f} GB  "
                + "  ".join(f"{k} {v['wall']:.1f}s" for k, v in r["steps"].items()),
                flush=True,
            )
    print(f"\nload average: {os.getloadavg()}")
    for r in runs:
        ok = r["total_wall"] < TARGET_SECONDS and r["peak_gb"] < TARGET_GB
        print(
            f"{r['kind']:>6} {r['patients']:>11,}: {r['total_wall']:.1f} s, "
            f"{r['peak_gb']:.2f} GB {'(within target)' if ok else ''}; HR "
            + ", ".join(f"{k} {v:.4f}" for k, v in r["hazard_ratios"].items())
            + f"; Cox {r['cox_iterations']} iterations, {r['cox_queries']} queries"
        )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "engine.json").write_text(json.dumps(runs, indent=2))


if __name__ == "__main__":
    main()
