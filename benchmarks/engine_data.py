"""A synthetic cohort of any size as parquet files, written by DuckDB SQL (no pandas).

Usage::

    python benchmarks/engine_data.py --patients 10000000 --out /tmp/cohort10m

Every value is a deterministic function of the row number (DuckDB's ``hash``), so the
same size gives the same files on every machine, and the data obey every validation rule
of ``read_cohort`` (a clean registry export):

- patients: ids ``P00000001``…, sex, age 18–90, index date 2005–2014, etiology from the
  vocabulary, cirrhosis at baseline for ~10 %, last follow-up 0.1–10 years after index,
  BMI (5 % missing), diabetes (3 % missing), bilirubin;
- imaging: one baseline study on the index date, plus 0–2 follow-up studies dated up to
  the last follow-up (about 2 studies per patient);
- findings: 1–4 calcifications on ~60 % of studies (about 2.5 per patient), segment, size,
  morphology;
- events (about 1.1 per patient): prevalent cirrhosis (dated before index) for every
  patient with cirrhosis at baseline; incident cirrhosis, varices, ascites,
  decompensation, HCC after index; death (~30 %, dated on the last follow-up) and liver
  transplant (~1 %, on the last follow-up, after every native-liver outcome).

Sizes for 10,000,000 patients: about 20M studies, 25M findings and 11M events.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

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
MORPHOLOGY = ["punctate", "coarse", "rim", "ductal", "vascular", "network", "diffuse", "amorphous"]


def _u(key: str, salt: int) -> str:
    """A uniform number in [0, 1) from a row key (deterministic)."""
    return f"((hash({key}, {salt}) % 1000003)::DOUBLE / 1000003.0)"


def _pick(values: list[str], u: str) -> str:
    arr = "[" + ", ".join(f"'{v}'" for v in values) + "]"
    return f"{arr}[1 + floor({u} * {len(values)})::BIGINT]"


def generate(out: Path, n: int, *, threads: int = 2, memory_limit: str = "3GB") -> dict:
    """Write patients/imaging/findings/events parquet files for ``n`` patients."""
    import duckdb

    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(
        config={"threads": threads, "memory_limit": memory_limit, "preserve_insertion_order": False}
    )
    i = "i"
    con.execute(f"""
        CREATE TEMP TABLE base AS
        SELECT i,
               'P' || lpad(i::VARCHAR, 8, '0') AS patient_id,
               DATE '2005-01-01' + floor({_u(i, 1)} * 3650)::INTEGER AS index_date,
               36 + floor({_u(i, 2)} * 3614)::INTEGER AS fu_days,
               {_u(i, 3)} < 0.10 AS cirrhosis_at_baseline,
               {_u(i, 4)} AS u_death, {_u(i, 5)} AS u_cirr, {_u(i, 6)} AS u_tx,
               floor({_u(i, 7)} * 3)::INTEGER AS n_follow
        FROM range({n}) t(i)
    """)
    con.execute(f"""
        COPY (
          SELECT patient_id,
                 CASE WHEN {_u(i, 8)} < 0.54 THEN 'F' ELSE 'M' END AS sex,
                 round(18 + {_u(i, 9)} * 72, 2) AS age_at_index,
                 index_date,
                 {_pick(ETIOLOGIES, _u(i, 10))} AS etiology,
                 cirrhosis_at_baseline,
                 index_date + fu_days AS last_followup_date,
                 CASE WHEN {_u(i, 11)} < 0.05 THEN NULL
                      ELSE round(18 + {_u(i, 12)} * 22, 1) END AS bmi,
                 CASE WHEN {_u(i, 13)} < 0.03 THEN NULL ELSE {_u(i, 14)} < 0.2 END
                      AS diabetes,
                 round(0.2 + {_u(i, 15)} * 4, 2) AS bilirubin_mg_dl
          FROM base ORDER BY i
        ) TO '{out / "patients.parquet"}' (FORMAT parquet)
    """)
    # studies: k = 0 is the baseline study on the index date
    con.execute(f"""
        CREATE TEMP TABLE studies AS
        SELECT b.i, k, b.patient_id,
               'S' || lpad(b.i::VARCHAR, 8, '0') || '-' || k::VARCHAR AS study_id,
               CASE WHEN k = 0 THEN b.index_date
                    ELSE b.index_date + 1 + floor({_u("b.i * 7 + k", 20)}
                                                  * (b.fu_days - 1))::INTEGER END
                    AS study_date,
               {_pick(["CT", "US", "MRI"], _u("b.i * 7 + k", 21))} AS modality
        FROM base b, range(3) r(k)
        WHERE k <= b.n_follow
    """)
    con.execute(f"""
        COPY (SELECT study_id, patient_id, study_date, modality FROM studies ORDER BY i, k)
        TO '{out / "imaging.parquet"}' (FORMAT parquet)
    """)
    con.execute(f"""
        COPY (
          SELECT s.study_id || '-' || m::VARCHAR AS finding_id, s.study_id, s.patient_id,
                 {_pick(SEGMENTS, _u("s.i * 31 + s.k * 5 + m", 30))} AS segment,
                 round(0.5 + {_u("s.i * 31 + s.k * 5 + m", 31)} * 24, 1) AS size_mm,
                 {_pick(MORPHOLOGY, _u("s.i * 31 + s.k * 5 + m", 32))} AS morphology
          FROM studies s, range(4) r(m)
          WHERE {_u("s.i * 3 + s.k", 33)} < 0.6
                AND m < 1 + floor({_u("s.i * 3 + s.k", 34)} * 3.17)::INTEGER
          ORDER BY s.i, s.k, m
        ) TO '{out / "findings.parquet"}' (FORMAT parquet)
    """)
    # events: (name, share, day rule); death and transplant on the last follow-up day
    outcomes = [
        ("cirrhosis", 0.20, 40),
        ("varices", 0.20, 41),
        ("ascites", 0.10, 42),
        ("decompensation", 0.15, 43),
        ("hcc", 0.06, 44),
    ]
    parts = [
        "SELECT i, patient_id, 'cirrhosis' AS event, "
        f"index_date - 1 - floor({_u(i, 45)} * 700)::INTEGER AS event_date "
        "FROM base WHERE cirrhosis_at_baseline"
    ]
    for name, share, salt in outcomes:
        cond = f"{_u(i, salt)} < {share}"
        if name == "cirrhosis":
            cond += " AND NOT cirrhosis_at_baseline"
        parts.append(
            f"SELECT i, patient_id, '{name}' AS event, index_date + 1 + "
            f"floor({_u(i, salt + 10)} * (fu_days - 1))::INTEGER AS event_date "
            f"FROM base WHERE {cond}"
        )
    parts.append(
        "SELECT i, patient_id, 'death', index_date + fu_days FROM base WHERE u_death < 0.30"
    )
    parts.append(
        "SELECT i, patient_id, 'liver_transplant', index_date + fu_days FROM base WHERE u_tx < 0.01"
    )
    con.execute(f"""
        COPY (SELECT patient_id, event, event_date FROM ({" UNION ALL ".join(parts)})
              ORDER BY i, event_date, event)
        TO '{out / "events.parquet"}' (FORMAT parquet)
    """)
    sizes = {
        name: con.execute(f"SELECT count(*) FROM '{out / (name + '.parquet')}'").fetchone()[0]
        for name in ("patients", "imaging", "findings", "events")
    }
    con.close()
    return sizes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=10_000_000)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    t0 = time.time()
    sizes = generate(args.out, args.patients)
    print(
        f"{args.patients:,} patients written to {args.out} in {time.time() - t0:.1f} s: "
        + ", ".join(f"{k} {v:,}" for k, v in sizes.items())
    )


if __name__ == "__main__":
    main()
