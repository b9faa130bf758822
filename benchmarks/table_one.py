"""Benchmark: cs.table_one vs Python tableone.TableOne on the same frame, one run.

200,000 rows × 20 variables (8 normal continuous, 4 skewed continuous shown as median
[IQR], 4 binary 0/1, 4 multi-level categorical with 3–6 levels; 5 % missing in every
variable), three groups, both with p-values and SMDs. tableone runs with
``include_null=False`` so both tools test and summarise the same non-missing values (its
default adds missing as a category level); the script then checks that the p-values and
SMDs (largest pairwise) agree. Prints both times, the ratio and the agreement, and writes
benchmarks/out/table_one.json.

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


def compare(raw: pd.DataFrame, theirs) -> dict:
    """Largest differences in p-values and SMDs (mean over pairs, table_one's default, as R
    tableone prints) between the two tools."""
    per_var = raw[raw["variable"] != "n"].groupby("variable").first()
    p_theirs = theirs.htest_table["P-Value"].astype(float)
    smd_theirs = theirs.smd_table.astype(float).abs().mean(axis=1)
    common = per_var.index.intersection(p_theirs.index)
    dp = (per_var.loc[common, "p_value"] - p_theirs.loc[common]).abs()
    ds = (per_var.loc[common, "smd"] - smd_theirs.loc[common]).abs()
    return {
        "variables_compared": len(common),
        "max_abs_diff_p_value": float(dp.max()),
        "max_abs_diff_smd": float(ds.max()),
        "max_abs_diff_smd_variable": str(ds.idxmax()),
    }


def main() -> None:
    from tableone import TableOne

    df, columns, categorical, nonnormal = make_frame()
    t0 = time.perf_counter()
    ours = cs.table_one(
        df,
        by="group",
        variables=columns,
        categorical=categorical,
        nonnormal=nonnormal,
        pvalues=True,
        smd=True,
    )
    t_cs = time.perf_counter() - t0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        theirs = TableOne(
            df,
            columns=columns,
            categorical=categorical,
            nonnormal=nonnormal,
            groupby="group",
            pval=True,
            smd=True,
            include_null=False,
        )
        t_to = time.perf_counter() - t0
    ratio = t_cs / t_to
    import tableone

    agreement = compare(ours.to_frame(), theirs)

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
        "agreement_with_tableone": agreement,
    }
    out = Path(__file__).parent / "out" / "table_one.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"calcstats.table_one: {t_cs:.3f} s")
    print(f"tableone.TableOne:   {t_to:.3f} s")
    print(f"ratio (calcstats / tableone): {ratio:.3f}  (target <= 0.2)")
    print(f"agreement with tableone: {agreement}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
