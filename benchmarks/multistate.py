"""Time cs.state_probabilities (Aalen–Johansen with infinitesimal-jackknife variance)
against R's survfit(Surv(start, stop, to) ~ 1, id=, istate=) on the same sojourn rows.

Usage::

    python benchmarks/multistate.py                  # 1,000,000 rows; R timed once, cached
    python benchmarks/multistate.py --quick          # 100,000 rows
    python benchmarks/multistate.py --no-cache       # rerun R

Data: a five-state liver progression (no cirrhosis -> cirrhosis -> decompensation,
transplant and death from every live state; 15% start cirrhotic), exponential hazards,
uniform censoring over 20 years, times in days (as cohort dates give them), simulated here
with a fixed seed until the table has the requested number of rows. Both sides get the
same float64 columns (R reads them with ``readBin``) and time only the estimator: R with
``system.time(survfit(...))`` after the data are in memory, Python the best of
``--repeat`` calls of ``state_probabilities`` (input checks included). The two curves are
compared (maximum absolute differences of the probabilities and standard errors, R's
default ``std.err``, i.e. ``p0_variance=False``; both are also timed with the default
``p0_variance=True``).

R's multi-state survfit carries the influence of every patient through every event time
(its C loop is O(patients × event times × states²)), so at 1,000,000 rows it runs for tens
of minutes. Its timing is therefore cached in ``benchmarks/out/multistate_r_cache.json``
(keyed by the data seed and size) and R runs under a time limit (``--r-timeout``,
default 3 h); if R does not finish, the ratio is a lower bound and says so. Results: a
table on stdout and ``benchmarks/out/multistate.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import calcstats as cs  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
CACHE = OUT / "multistate_r_cache.json"
STATES = ("no_cirrhosis", "cirrhosis", "decompensation", "liver_transplant", "death")
RATES = np.array([[0, 0.05, 0.01, 0.005, 0.02], [0, 0, 0.08, 0.02, 0.05], [0, 0, 0, 0.10, 0.25]])


def sojourns(n_rows: int, seed: int) -> pd.DataFrame:
    """Sojourn rows of a simulated liver progression, cut to exactly ``n_rows`` rows (whole
    patients; the last patient's rows may end censored early)."""
    rng = np.random.default_rng(seed)
    n = int(n_rows / 1.4) + 10
    state = np.where(rng.random(n) < 0.15, 1, 0)
    t = np.zeros(n)
    cens = (np.floor(rng.uniform(0.5, 20, n) * 365.25) + 1) / 365.25
    alive = np.ones(n, dtype=bool)
    parts = []
    while alive.any():
        i = np.flatnonzero(alive)
        s = state[i]
        total = RATES[s].sum(axis=1)
        nxt = t[i] + rng.exponential(1 / total)
        nxt = np.maximum(np.ceil(nxt * 365.25), np.floor(t[i] * 365.25) + 1) / 365.25
        dest = (np.cumsum(RATES[s], axis=1) < (rng.random(i.size) * total)[:, None]).sum(1)
        censored = nxt >= cens[i]
        stop = np.where(censored, cens[i], nxt)
        dest = np.where(censored, -1, dest)
        parts.append(np.column_stack([i, s, dest, t[i], stop]))
        t[i] = stop
        state[i] = np.where(dest >= 0, dest, s)
        alive[i] = ~censored & (dest < 3)
    a = np.vstack(parts)
    a = a[np.lexsort((a[:, 3], a[:, 0]))]
    if len(a) < n_rows:
        raise RuntimeError("simulate more patients")
    a = a[:n_rows]
    return pd.DataFrame(
        {
            "patient_id": a[:, 0],
            "from_code": a[:, 1],
            "to_code": a[:, 2],
            "start": a[:, 3],
            "stop": a[:, 4],
        }
    )


def as_table(codes: pd.DataFrame) -> pd.DataFrame:
    names = np.array(STATES, dtype=object)
    to = np.where(codes["to_code"] >= 0, names[codes["to_code"].clip(0).astype(int)], "censored")
    return pd.DataFrame(
        {
            "patient_id": codes["patient_id"].astype(np.int64),
            "from_state": pd.Categorical(names[codes["from_code"].astype(int)], categories=STATES),
            "to_state": pd.Categorical(to, categories=[*STATES, "censored"]),
            "start": codes["start"],
            "stop": codes["stop"],
        }
    )


def run_r(codes: pd.DataFrame, tmp: Path, timeout: float) -> dict | None:
    n = len(codes)
    reads = []
    for col in codes.columns:
        f = tmp / f"{col}.bin"
        codes[col].to_numpy(dtype="<f8").tofile(f)
        reads.append(f'{col} = readBin("{f}", "double", {n}, size = 8, endian = "little")')
    out = tmp / "res.json"
    lv = ", ".join(f'"{s}"' for s in STATES)
    script = f"""suppressPackageStartupMessages({{library(survival); library(jsonlite)}})
d <- data.frame({", ".join(reads)})
st <- c({lv})
d$ev <- factor(ifelse(d$to_code < 0, "censored", st[pmax(d$to_code, 0) + 1]),
               levels = c("censored", st))
d$ist <- factor(st[d$from_code + 1], levels = st)
tt <- system.time(fit <- survfit(Surv(start, stop, ev) ~ 1, data = d, id = patient_id,
                                 istate = ist))["elapsed"]
k <- unique(round(seq(1, length(fit$time), length.out = 200)))
res <- list(time = unname(tt), version = as.character(packageVersion("survival")),
            index = k, pstate = unname(fit$pstate[k, ]),
            std.err = unname(fit$std.err[k, ]), n_times = length(fit$time))
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE), "{out}")
"""
    (tmp / "bench.R").write_text(script)
    try:
        subprocess.run(["Rscript", str(tmp / "bench.R")], check=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    return json.loads(out.read_text())


def best_of(fn, repeat: int) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--quick", action="store_true", help="100,000 rows")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--no-cache", action="store_true", help="rerun R")
    ap.add_argument("--r-timeout", type=float, default=3 * 3600.0, help="seconds")
    args = ap.parse_args()
    rows = 100_000 if args.quick else args.rows
    codes = sojourns(rows, seed=1)
    table = as_table(codes)
    t_ours, sp = best_of(lambda: cs.state_probabilities(table, p0_variance=False), args.repeat)
    t_ours_p0, _ = best_of(lambda: cs.state_probabilities(table), args.repeat)
    key = f"survfit_ms_v1_seed1_rows{rows}"
    cache = json.loads(CACHE.read_text()) if CACHE.exists() else {}
    cached = not args.no_cache and key in cache
    if cached:
        r = cache[key]
    else:
        with tempfile.TemporaryDirectory() as td:
            r = run_r(codes, Path(td), args.r_timeout)
        if r is None:
            r = {"time": args.r_timeout, "timed_out": True}
        OUT.mkdir(exist_ok=True)
        cache[key] = r
        CACHE.write_text(json.dumps(cache, indent=1))
    res = {
        "rows": rows,
        "patients": int(table["patient_id"].nunique()),
        "distinct_times": int(table["stop"].nunique()),
        "states": len(STATES),
        "calcstats_s": t_ours,
        "calcstats_with_p0_variance_s": t_ours_p0,
        "r_survfit_s": r["time"],
        "r_timed_out": bool(r.get("timed_out", False)),
        "r_cached": cached,
        "speedup": r["time"] / t_ours,
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg()[0],
    }
    if "index" in r:  # the same grid (every distinct stop time): compare by position
        tidy = sp.tidy()
        rows_k = np.asarray(r["index"]) - 1
        mine = tidy.pivot(index="time", columns="state", values="estimate")[list(STATES)]
        se = tidy.pivot(index="time", columns="state", values="std_error")[list(STATES)]
        res["max_abs_diff_pstate"] = float(
            np.abs(mine.to_numpy()[rows_k] - np.array(r["pstate"])).max()
        )
        res["max_abs_diff_std_err"] = float(
            np.abs(se.to_numpy()[rows_k] - np.array(r["std.err"])).max()
        )
        res["r_survival_version"] = r["version"]
    OUT.mkdir(exist_ok=True)
    (OUT / "multistate.json").write_text(json.dumps(res, indent=1))
    bound = ">= " if res["r_timed_out"] else ""
    print(
        f"state_probabilities, {rows:,} sojourn rows ({res['patients']:,} patients, "
        f"{res['distinct_times']:,} distinct times, {len(STATES)} states)"
    )
    print(f"  calcstats (IJ variance, R's default std.err): {t_ours:10.2f} s")
    print(f"  calcstats (with the variance of p0, default): {t_ours_p0:10.2f} s")
    print(
        f"  R survfit(..., id=, istate=):                 {r['time']:10.1f} s"
        f"{' (timed out)' if res['r_timed_out'] else ''}{' [R cached]' if cached else ''}"
    )
    print(f"  speed-up: {bound}{res['speedup']:.0f}x")
    if "max_abs_diff_pstate" in res:
        print(
            f"  max |diff| vs R at 200 times: pstate {res['max_abs_diff_pstate']:.1e}, "
            f"std.err {res['max_abs_diff_std_err']:.1e}"
        )


if __name__ == "__main__":
    main()
