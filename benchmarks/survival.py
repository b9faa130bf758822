"""Time calcstats' survival models against R (survival, cmprsk) and lifelines, same data.

Usage::

    python benchmarks/survival.py            # full run (crr at 20,000 rows: ~7 min, cached)
    python benchmarks/survival.py --quick    # crr at 5,000 rows only, no 1,000,000-row scaling

Data are simulated here with a fixed seed and handed to R as raw float64 files (read with
``readBin``); R times each fit with ``system.time`` after the data are in memory, so I/O
is excluded on both sides. Python timings are the best of ``--repeat`` runs and include
formula parsing (patsy) and, for ``cox``, the concordance (R's ``coxph`` computes it too).
crr's timings are cached in ``benchmarks/out/survival_r_cache.json`` (keyed by the data
seed and size) so a run does not redo minutes of R (``--no-cache`` reruns them;
``--crr-only 20000`` fills the cache for one size). Results:
a ratio table on stdout and ``benchmarks/out/survival.json``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import calcstats as cs  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
CACHE = OUT / "survival_r_cache.json"


def cox_data(n: int, p: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    beta = np.linspace(-0.5, 0.5, p)
    t = np.round(rng.exponential(1 / np.exp(X @ beta)) * 100) / 100 + 0.01
    c = np.round(rng.exponential(2.0, n) * 100) / 100 + 0.01
    d = pd.DataFrame(X, columns=[f"x{j + 1}" for j in range(p)])
    d["time"] = np.minimum(t, c)
    d["status"] = (t <= c).astype(float)
    return d


def cr_data(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    t1 = rng.exponential(1 / (0.1 * np.exp(X @ [0.5, -0.3, 0.2, 0.0])))
    t2 = rng.exponential(1 / (0.08 * np.exp(X @ [-0.2, 0.0, 0.3, 0.1])))
    c = rng.uniform(0, 15, n)
    t = np.minimum.reduce([t1, t2, c])
    d = pd.DataFrame(X, columns=["x1", "x2", "x3", "x4"])
    # times on a 0.1 grid: crr's variance costs O(n²) per distinct censoring time
    d["time"] = np.ceil(t * 10) / 10
    d["status"] = np.where(t == t1, 1.0, np.where(t == t2, 2.0, 0.0))
    return d


def best_of(fn, repeat: int) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def run_r(data: pd.DataFrame, body: str, tmp: Path) -> dict:
    """Write columns as float64 binaries, run R ``body`` (which sets ``res``), return res."""
    n = len(data)
    reads = []
    for col in data.columns:
        f = tmp / f"{col}.bin"
        data[col].to_numpy(dtype="<f8").tofile(f)
        reads.append(f'{col} = readBin("{f}", "double", {n}, size = 8, endian = "little")')
    out = tmp / "res.json"
    script = (
        "suppressPackageStartupMessages({library(survival); library(cmprsk); "
        "library(jsonlite)})\n"
        f"d <- data.frame({', '.join(reads)})\n"
        f"{body}\n"
        f'writeLines(toJSON(res, digits = NA, auto_unbox = TRUE), "{out}")\n'
    )
    (tmp / "bench.R").write_text(script)
    subprocess.run(["Rscript", str(tmp / "bench.R")], check=True)
    return json.loads(out.read_text())


def bench_cox(tmp: Path, n: int, p: int, repeat: int, lifelines: bool) -> dict:
    d = cox_data(n, p, seed=1)
    form = " + ".join(f"x{j + 1}" for j in range(p))

    def ours():
        fit = cs.cox(d, form, time="time", event="status")
        _ = fit.concordance
        return fit

    t_py, fit = best_of(ours, repeat)
    r = run_r(
        d,
        f"""
tt <- c()
for (i in 1:{repeat}) tt <- c(tt, system.time(fit <- coxph(Surv(time, status) ~ {form},
                                               data = d))["elapsed"])
res <- list(time = min(tt), coef = unname(coef(fit)), se = unname(sqrt(diag(fit$var))),
            concordance = unname(fit$concordance["concordance"]))""",
        tmp,
    )
    out = {
        "n": n,
        "p": p,
        "calcstats_s": t_py,
        "r_coxph_s": r["time"],
        "ratio_calcstats_over_r": t_py / r["time"],
        "max_rel_diff_coef": float(np.max(np.abs(fit.params.to_numpy() / np.array(r["coef"]) - 1))),
        "max_rel_diff_se": float(np.max(np.abs(fit.bse.to_numpy() / np.array(r["se"]) - 1))),
        "concordance_diff": abs(fit.concordance - r["concordance"]),
    }
    if lifelines:
        from lifelines import CoxPHFitter

        cph = CoxPHFitter()
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cph.fit(d, duration_col="time", event_col="status")
        out["lifelines_s"] = time.perf_counter() - t0
        out["max_rel_diff_coef_lifelines"] = float(
            np.max(np.abs(cph.params_.to_numpy() / fit.params.to_numpy() - 1))
        )
    return out


def bench_crr(tmp: Path, n: int, repeat: int, use_cache: bool) -> dict:
    d = cr_data(n, seed=2)
    form = "x1 + x2 + x3 + x4"
    t_py, fit = best_of(lambda: cs.fine_gray(d, form, time="time", event="status", cause=1), repeat)
    key = f"crr_v2_seed2_n{n}"
    cache = json.loads(CACHE.read_text()) if CACHE.exists() else {}
    if use_cache and key in cache:
        r = cache[key]
        cached = True
    else:
        r = run_r(
            d,
            """
cov <- as.matrix(d[, c("x1", "x2", "x3", "x4")])
tt <- system.time(fit <- crr(d$time, d$status, cov, failcode = 1, cencode = 0))["elapsed"]
res <- list(time = unname(tt), coef = unname(fit$coef), se = unname(sqrt(diag(fit$var))))""",
            tmp,
        )
        cache[key] = r
        CACHE.write_text(json.dumps(cache, indent=1))
        cached = False
    return {
        "n": n,
        "calcstats_s": t_py,
        "r_crr_s": r["time"],
        "r_cached": cached,
        "speedup_vs_crr": r["time"] / t_py,
        "max_rel_diff_coef": float(np.max(np.abs(fit.params.to_numpy() / np.array(r["coef"]) - 1))),
        "max_rel_diff_se": float(np.max(np.abs(fit.bse.to_numpy() / np.array(r["se"]) - 1))),
    }


def bench_fg_scaling(sizes: list[int], repeat: int) -> list[dict]:
    """Wall and CPU (process) time per size; CPU time is robust to a busy machine."""
    rows = []
    for n in sizes:
        d = cr_data(n, seed=3)
        best_wall = best_cpu = np.inf
        for _ in range(repeat):
            c0, w0 = time.process_time(), time.perf_counter()
            cs.fine_gray(d, "x1 + x2 + x3 + x4", time="time", event="status", cause=1)
            best_cpu = min(best_cpu, time.process_time() - c0)
            best_wall = min(best_wall, time.perf_counter() - w0)
        rows.append({"n": n, "calcstats_s": best_wall, "calcstats_cpu_s": best_cpu})
    for a, b in itertools.pairwise(rows):
        b["time_ratio_vs_previous"] = b["calcstats_s"] / a["calcstats_s"]
        b["cpu_ratio_vs_previous"] = b["calcstats_cpu_s"] / a["calcstats_cpu_s"]
        b["rows_ratio_vs_previous"] = b["n"] / a["n"]
    return rows


def bench_km(tmp: Path, n: int, repeat: int) -> dict | None:
    if not hasattr(cs, "kaplan_meier"):
        return None
    d = cox_data(n, 1, seed=4)[["time", "status"]]
    t_py, _ = best_of(
        lambda: cs.kaplan_meier(d, time="time", event="status", conf_type="log-log"), repeat
    )
    r = run_r(
        d,
        f"""
tt <- c()
for (i in 1:{repeat}) tt <- c(tt, system.time(fit <- survfit(Surv(time, status) ~ 1, data = d,
                                              conf.type = "log-log"))["elapsed"])
res <- list(time = min(tt), n_times = length(fit$time), last = fit$surv[length(fit$surv)])""",
        tmp,
    )
    return {
        "n": n,
        "calcstats_s": t_py,
        "r_survfit_s": r["time"],
        "ratio_calcstats_over_r": t_py / r["time"],
        "r_n_times": r["n_times"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--quick",
        action="store_true",
        help="crr at 5,000 rows only; fine_gray scaling 15,625-250,000 rows",
    )
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--no-cache", action="store_true", help="rerun crr at 20,000 rows")
    ap.add_argument("--skip-lifelines", action="store_true")
    ap.add_argument(
        "--crr-only",
        type=int,
        metavar="N",
        help="only time fine_gray vs crr at N rows and cache crr's timing",
    )
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.crr_only:
        with tempfile.TemporaryDirectory() as td:
            print(
                json.dumps(
                    bench_crr(Path(td), args.crr_only, args.repeat, use_cache=not args.no_cache),
                    indent=1,
                )
            )
        return
    res: dict = {
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "quick": args.quick,
    }
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        print("cox 500,000 x 10 ...", flush=True)
        res["cox"] = bench_cox(tmp, 500_000, 10, args.repeat, not args.skip_lifelines)
        res["fine_gray_vs_crr"] = []
        for n in [5_000] if args.quick else [5_000, 20_000]:
            print(f"fine_gray vs crr at {n:,} ...", flush=True)
            res["fine_gray_vs_crr"].append(
                bench_crr(tmp, n, args.repeat, use_cache=not args.no_cache)
            )
        sizes = [15_625, 62_500, 250_000] if args.quick else [62_500, 250_000, 1_000_000]
        print("fine_gray scaling ...", flush=True)
        res["fine_gray_scaling"] = bench_fg_scaling(sizes, max(args.repeat, 5))
        print("kaplan_meier 5,000,000 ...", flush=True)
        res["kaplan_meier"] = bench_km(tmp, 5_000_000, args.repeat)
    (OUT / "survival.json").write_text(json.dumps(res, indent=1))
    c = res["cox"]
    lines = ["", f"{'benchmark':44s} {'calcstats s':>12s} {'peer s':>10s} {'ratio':>10s}  target"]
    lines.append(
        f"{'cox 500k x 10 vs R coxph':44s} {c['calcstats_s']:12.2f} "
        f"{c['r_coxph_s']:10.2f} {c['ratio_calcstats_over_r']:10.2f}x  <= 1.2x"
    )
    if "lifelines_s" in c:
        lines.append(
            f"{'cox 500k x 10 vs lifelines CoxPHFitter':44s} {c['calcstats_s']:12.2f} "
            f"{c['lifelines_s']:10.2f} {c['calcstats_s'] / c['lifelines_s']:10.3f}x"
        )
    for f in res["fine_gray_vs_crr"]:
        lines.append(
            f"{'fine_gray ' + format(f['n'], ',') + ' vs cmprsk::crr':44s} "
            f"{f['calcstats_s']:12.3f} {f['r_crr_s']:10.2f} "
            f"{1 / f['speedup_vs_crr']:10.5f}x  speed-up {f['speedup_vs_crr']:.0f}x "
            f"(>= {50 if f['n'] <= 5000 else 100}x); coef diff "
            f"{f['max_rel_diff_coef']:.1e}{' [R cached]' if f['r_cached'] else ''}"
        )
    for s in res["fine_gray_scaling"][1:]:
        lines.append(
            f"{'fine_gray scaling ' + format(s['n'], ','):44s} {s['calcstats_s']:12.2f} "
            f"{'':10s} {s['time_ratio_vs_previous']:10.2f}x  per 4x rows (<= 5x); "
            f"CPU {s['calcstats_cpu_s']:.2f} s, {s['cpu_ratio_vs_previous']:.2f}x"
        )
    k = res["kaplan_meier"]
    if k:
        lines.append(
            f"{'kaplan_meier 5M vs R survfit':44s} {k['calcstats_s']:12.2f} "
            f"{k['r_survfit_s']:10.2f} {k['ratio_calcstats_over_r']:10.2f}x  <= 1.5x"
        )
    lines.append(
        f"cox coef max rel diff vs R {c['max_rel_diff_coef']:.1e}, "
        f"SE {c['max_rel_diff_se']:.1e}, concordance diff {c['concordance_diff']:.1e}"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
