"""Benchmark: cs.table_one vs Python tableone.TableOne on the same frame, one run.

200,000 rows × 20 variables (8 normal continuous, 4 skewed continuous shown as median
[IQR], 4 binary 0/1, 4 multi-level categorical with 3–6 levels; 5 % missing in every
variable), three groups, both with p-values and SMDs. Prints both times and the ratio and
writes benchmarks/out/table_one.json.

    .venv/bin/python benchmarks/table_one.py
"""

from __future__ import annotations

import json
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import calcstats as cs

N_ROWS = 200_000
SEED = 2026


def make_frame(n: int = N_ROWS, seed: int = SEED) -> tuple[pd.DataFrame, list, list, list]:
    rng = np.random.default_rng(seed)
    group = rng.choice(["none", "focal", "diffuse"], n, p=[0.6, 0.3, 0.1])
    shift = pd.Series(group).map({"none": 0.0, "focal": 0.1, "diffuse": 0.25}).to_numpy()
    d: dict[str, np.ndarray] = {}
    for i in range(8):
        d[f"cont{i}"] = rng.normal(50 + 5 * shift * i, 10 + i, n)
    for i in range(4):
        d[f"skew{i}"] = rng.lognormal(shift * (i + 1) * 0.3, 1.0, n)
    for i in range(4):
        d[f"bin{i}"] = (rng.random(n) < 0.2 + 0.1 * i + shift * 0.2).astype(float)
    for i in range(4):
        k = 3 + i
        d[f"cat{i}"] = rng.choice([f"L{j}" for j in range(k)], n).astype(object)
    df = pd.DataFrame(d)
    for c in df.columns:
        miss = rng.random(n) < 0.05
        df.loc[miss, c] = np.nan
    df["group"] = group
    categorical = [c for c in df.columns if c.startswith(("bin", "cat"))]
    nonnormal = [c for c in df.columns if c.startswith("skew")]
    columns = [c for c in df.columns if c != "group"]
    return df, columns, categorical, nonnormal


def main() -> None:
    from tableone import TableOne

    df, columns, categorical, nonnormal = make_frame()
    t0 = time.perf_counter()
    ours = cs.table_one(df, by="group", variables=columns, categorical=categorical,
                        nonnormal=nonnormal, pvalues=True, smd=True)
    t_cs = time.perf_counter() - t0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        theirs = TableOne(df, columns=columns, categorical=categorical, nonnormal=nonnormal,
                          groupby="group", pval=True, smd=True)
        t_to = time.perf_counter() - t0
    ratio = t_cs / t_to
    import tableone

    result = {
        "benchmark": "table_one",
        "rows": len(df),
        "variables": len(columns),
        "groups": int(df["group"].nunique()),
        "calcstats_seconds": round(t_cs, 4),
        "tableone_seconds": round(t_to, 4),
        "ratio_calcstats_over_tableone": round(ratio, 4),
        "target_ratio_max": 0.2,
        "meets_target": bool(ratio <= 0.2),
        "tableone_version": tableone.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "table_rows": {"calcstats": ours.n_rows, "tableone": int(theirs.tableone.shape[0])},
    }
    out = Path(__file__).parent / "out" / "table_one.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"calcstats.table_one: {t_cs:.3f} s")
    print(f"tableone.TableOne:   {t_to:.3f} s")
    print(f"ratio (calcstats / tableone): {ratio:.3f}  (target <= 0.2)")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
