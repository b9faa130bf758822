"""Compare calcstats with R on the Mayo PBC data and write docs/validation.md.

The R values are those in ``tests/reference/pbc_reference.json`` (the R call for each is
stored with it). Every row states the calcstats value, the R value, the absolute
difference and the tolerance; ``tests/test_validation_page.py`` runs :func:`rows` and
fails if any row is outside its tolerance, so the page cannot drift from the code.
Further comparisons (ties, strata, clusters, weights, competing events on made data) are
in the test suite's own reference files under ``tests/reference/``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd

import calcstats as cs

ROOT = Path(__file__).resolve().parents[2]
REF = ROOT / "tests" / "reference" / "pbc_reference.json"


def _pbc() -> pd.DataFrame:
    d = cs.datasets.load_pbc()
    return d.assign(years=d["time"] / 365.25, died=(d["status"] == 2).astype(int))


def rows() -> pd.DataFrame:
    """One row per compared quantity: quantity, calcstats, R, abs_diff, tolerance, ok."""
    ref = json.loads(REF.read_text())
    val, how = ref["values"], ref["how"]
    pbc = _pbc()
    out: list[dict] = []

    def add(group: str, quantity: str, ours: float, r: float, tol: float) -> None:
        ours, r = float(ours), float(r)
        diff = abs(ours - r)
        out.append(
            {
                "analysis": group,
                "R call": how.get(group, ""),
                "quantity": quantity,
                "calcstats": ours,
                "R": r,
                "abs_diff": diff,
                "tolerance": tol,
                "ok": bool(diff <= tol * max(1.0, abs(r))),
            }
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Kaplan-Meier
        v = val["km_death"]
        km = cs.kaplan_meier(pbc, time="years", event="died", conf_type="log-log")
        at = km.at(v["time"])
        for i, t in enumerate(v["time"]):
            add("km_death", f"S({t})", at["estimate"].iloc[i], v["surv"][i], 1e-6)
            add("km_death", f"SE S({t})", at["std_error"].iloc[i], v["std_err"][i], 1e-6)
            add("km_death", f"lower({t})", at["conf_low"].iloc[i], v["lower"][i], 1e-6)
            add("km_death", f"upper({t})", at["conf_high"].iloc[i], v["upper"][i], 1e-6)
            add("km_death", f"n at risk({t})", at["n_risk"].iloc[i], v["n_risk"][i], 0)
        med = km.median().iloc[0]
        add("km_death", "median", med["median"], v["median"], 1e-6)
        add("km_death", "median lower", med["conf_low"], v["median_lower"], 1e-6)
        add("km_death", "median upper", med["conf_high"], v["median_upper"], 1e-6)
        # log-rank
        trial = pbc.dropna(subset=["trt"])
        lr = cs.logrank(trial, time="time", event="died", by="trt")
        add("logrank_trt", "chi-square", lr.statistic, val["logrank_trt"]["chisq"], 1e-6)
        add("logrank_trt", "p", lr.p_value, val["logrank_trt"]["p"], 1e-6)
        st = pbc.dropna(subset=["stage"])
        lr4 = cs.logrank(st, time="time", event="died", by="stage")
        v = val["logrank_stage_4groups"]
        add("logrank_stage_4groups", "chi-square", lr4.statistic, v["chisq"], 1e-6)
        add("logrank_stage_4groups", "df", lr4.df, v["df"], 0)
        add("logrank_stage_4groups", "p", lr4.p_value, v["p"], 1e-6)
        # Cox
        f = "age + edema + np.log(bili) + np.log(albumin) + np.log(protime)"
        names = ["age", "edema", "np.log(bili)", "np.log(albumin)", "np.log(protime)"]
        for key, ties in (("cox_mayo_efron", "efron"), ("cox_mayo_breslow", "breslow")):
            fit = cs.cox(trial, f, time="time", event="died", ties=ties)
            v = val[key]
            for j, term in enumerate(v["term"]):
                add(key, f"coef {term}", fit.params[names[j]], v["coef"][j], 1e-5)
                add(key, f"SE {term}", fit.bse[names[j]], v["se"][j], 1e-4)
            if "loglik" in v:
                add(
                    key, "log-likelihood", fit.glance()["log_likelihood"].iloc[0], v["loglik"], 1e-6
                )
                add(key, "concordance", fit.glance()["concordance"].iloc[0], v["concordance"], 1e-6)
            if ties == "efron":
                check = fit.check_ph()  # per-term tests, then GLOBAL (the test itself)
                zph = pd.concat([check.tidy(details=True), check.tidy().assign(term="GLOBAL")])
                vz = val["cox_zph_km"]
                for j, term in enumerate(vz["term"]):
                    add(
                        "cox_zph_km",
                        f"chi-square {term}",
                        zph["statistic"].iloc[j],
                        vz["chisq"][j],
                        1e-4,
                    )
                    add("cox_zph_km", f"p {term}", zph["p_value"].iloc[j], vz["p"][j], 1e-4)
        # Aalen-Johansen
        v = val["aj_cif"]
        states = {}
        for cause in (1, 2):
            cif = cs.cumulative_incidence(pbc, time="years", event="status", cause=cause)
            states[cause] = cif.at(v["time"])["estimate"].to_numpy()
        for i, t in enumerate(v["time"]):
            free = 1 - states[1][i] - states[2][i]
            add("aj_cif", f"event-free({t})", free, v["pstate"][i][0], 1e-6)
            add("aj_cif", f"transplant({t})", states[1][i], v["pstate"][i][1], 1e-6)
            add("aj_cif", f"death({t})", states[2][i], v["pstate"][i][2], 1e-6)
        # Gray's test
        g = pbc.assign(edema_any=(pbc["edema"] > 0).astype(int))
        v = val["gray_edema"]
        for j, cause in enumerate(v["cause"]):
            gt = cs.gray_test(g, time="time", event="status", cause=int(cause), by="edema_any")
            add("gray_edema", f"statistic cause {cause}", gt.statistic, v["stat"][j], 1e-6)
            add("gray_edema", f"p cause {cause}", gt.p_value, v["p"][j], 1e-6)
        # Fine-Gray
        v = val["finegray_death"]
        fg_names = ["age", "np.log(bili)", "np.log(albumin)", "np.log(protime)", "edema"]
        fg = cs.fine_gray(pbc, " + ".join(fg_names), time="time", event="status", cause=2)
        for j, term in enumerate(v["term"]):
            add("finegray_death", f"coef {term}", fg.params[fg_names[j]], v["coef"][j], 1e-4)
            add("finegray_death", f"SE {term}", fg.bse[fg_names[j]], v["se"][j], 1e-4)
        add("finegray_death", "n", fg.glance()["n"].iloc[0], v["n"], 0)
        # RMST
        rm = cs.rmst(pbc, time="years", event="died", tau=10).tidy().iloc[0]
        add("rmst_10y", "RMST(10)", rm["estimate"], val["rmst_10y"]["rmst"], 1e-6)
        add("rmst_10y", "SE", rm["std_error"], val["rmst_10y"]["se"], 1e-6)
        # incidence rate
        ir = cs.incidence_rate(pbc, time="years", event="died", per=1000).tidy().iloc[0]
        v = val["death_rate_per_1000py"]
        add("death_rate_per_1000py", "events", ir["events"], v["events"], 0)
        add("death_rate_per_1000py", "person-years", ir["person_time"], v["person_years"], 1e-9)
        add("death_rate_per_1000py", "rate", ir["rate"], v["rate"], 1e-6)
        add("death_rate_per_1000py", "lower", ir["conf_low"], v["lower"], 1e-6)
        add("death_rate_per_1000py", "upper", ir["conf_high"], v["upper"], 1e-6)
        # logistic
        s4 = st.assign(stage4=(st["stage"] == 4).astype(int))
        lg = cs.logistic(s4, "stage4 ~ age + C(sex, Treatment('m')) + np.log(bili) + albumin")
        v = val["logistic_stage4"]
        lg_names = {
            "(Intercept)": "Intercept",
            "age": "age",
            "sexf": "C(sex, Treatment('m'))[T.f]",
            "log(bili)": "np.log(bili)",
            "albumin": "albumin",
        }
        for j, term in enumerate(v["term"]):
            name = lg_names.get(term, term)
            add("logistic_stage4", f"coef {term}", lg.params[name], v["coef"][j], 1e-5)
            add("logistic_stage4", f"SE {term}", lg.bse[name], v["se"][j], 1e-4)
        # prevalence
        e = pbc.assign(edema_any=(pbc["edema"] > 0).astype(int))
        pr = cs.prevalence(e, outcome="edema_any", method="exact").tidy().iloc[0]
        v = val["edema_prevalence_exact"]
        add("edema_prevalence_exact", "cases", pr["cases"], v["x"], 0)
        add("edema_prevalence_exact", "lower", pr["conf_low"], v["lower"], 1e-6)
        add("edema_prevalence_exact", "upper", pr["conf_high"], v["upper"], 1e-6)
    return pd.DataFrame(out)


def page(table: pd.DataFrame) -> str:
    ref = json.loads(REF.read_text())
    lines = [
        "# Validation against R",
        "",
        "Generated by `docs/scripts/validation.py` (run by `make docs`; the same comparison "
        "runs in the test suite as `tests/test_validation_page.py`).",
        "",
        f"R values: {ref['r']}, survival {ref['survival']}, cmprsk {ref['cmprsk']}, on the "
        "Mayo Clinic PBC data (`cs.datasets.load_pbc()`). Tolerances are relative for values "
        "above 1 in magnitude and absolute below; 0 means exact equality. The suite's own "
        "references (`tests/reference/*.R` with their printed `*.json`) extend these checks "
        "to tied times, strata, clusters, weights, counting-process data, competing risks on "
        "made data, GLMs, Mantel–Haenszel, exact intervals and pooled imputations.",
        "",
        f"**{int(table['ok'].sum())} of {len(table)} quantities agree within tolerance.**",
        "",
    ]
    for group, part in table.groupby("analysis", sort=False):
        lines += [
            f"## `{group}`",
            "",
            f"R: `{part['R call'].iloc[0]}`",
            "",
            "| quantity | calcstats | R | abs. difference | tolerance | |",
            "|---|---|---|---|---|---|",
        ]
        for r in part.itertuples(index=False):
            mark = "✓" if r.ok else "✗"
            lines.append(
                f"| {r.quantity} | {r.calcstats:.10g} | {r.R:.10g} | "
                f"{r.abs_diff:.2e} | {r.tolerance:g} | {mark} |"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    table = rows()
    (ROOT / "docs" / "validation.md").write_text(page(table), encoding="utf-8")
    bad = table.loc[~table["ok"]]
    if len(bad):
        raise SystemExit(f"{len(bad)} quantities disagree with R:\n{bad.to_string()}")
    print(f"validation: {len(table)} quantities agree with R")


if __name__ == "__main__":
    main()
