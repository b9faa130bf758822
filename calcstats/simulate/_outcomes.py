"""Simulator step 4: latent event times of a multi-state liver progression, then censoring.

The liver follows a Markov multi-state model on the time since index (hazards per year,
constant given the covariates and the current state):

    no_cirrhosis -> cirrhosis -> decompensation, and no_cirrhosis -> decompensation
    (non-cirrhotic portal hypertension, at the non-cirrhotic rate); liver_transplant and
    death reachable from every live state.

* no_cirrhosis -> cirrhosis: ``rate_c[etiology] exp(b_age (age - 50) + b_male male)``
  (patients cirrhotic at baseline start in ``cirrhosis``);
* -> decompensation: ``rate_d[etiology] exp(b_age (age - 50) + b_male male)`` from
  no_cirrhosis, times ``exp(log_cirrhosis)`` from cirrhosis;
* -> liver_transplant: ``rate_tx[etiology] exp(b_age (age - 50))`` from no_cirrhosis,
  times ``exp(log_cirrhosis)`` from cirrhosis, ``after_severe exp(b_age (age - 50))`` from
  decompensation;
* -> death: liver death (``rate_ld[etiology] exp(b_age (age - 50))`` from no_cirrhosis,
  times ``exp(log_cirrhosis)`` from cirrhosis, ``after_severe exp(...)`` from
  decompensation, ``after_transplant`` after transplant) plus Gompertz background mortality
  by sex and attained age (so no proportional-hazards model is exactly true for death);
* recorded calcification multiplies the hazard of the transitions chosen in
  ``calcification_hr`` (a float: no_cirrhosis -> cirrhosis only), from the date of the
  first imaging study that shows it (``calcification(t)``).

HCC and cholangiocarcinoma are recorded events with exponential cause-specific hazards,
proportional in the baseline covariates (``cirrhosis_at_baseline`` included), outside the
progression. The cirrhosis clock runs regardless of decompensation (a cirrhosis first
diagnosed after a decompensation is recorded), so the cause-specific model of cirrhosis
(``Truth.formula("cirrhosis")``) stays exactly true. All latent times are independent given
the covariates and the history; death, transplant, loss to follow-up and the
administrative end of follow-up are competing or censoring events.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from calcstats.simulate import _params as P
from calcstats.simulate._baseline import DAYS_PER_YEAR, by_etiology
from calcstats.simulate._draw import piecewise_exponential

__all__ = ["LIVE_STATES", "draw_outcomes", "linear_rate"]

LIVE_STATES = ("no_cirrhosis", "cirrhosis", "decompensation")


def linear_rate(outcome: str, pt: dict[str, np.ndarray], *, cirrhosis: bool = True) -> np.ndarray:
    """Per-patient hazard (per year) of a native-liver outcome, without calcification
    (``cirrhosis=False``: leave out the baseline-cirrhosis term)."""
    spec = P.HAZARDS[outcome]
    rate = by_etiology(pt["code"], spec["rate"], spec["default"])
    lp = spec["log_age"] * (pt["age"] - 50.0) + spec["log_male"] * pt["male"]
    if cirrhosis and spec["log_cirrhosis"] is not None:
        lp = lp + spec["log_cirrhosis"] * pt["cirrhosis"]
    return rate * np.exp(lp)


def _state_latent(e: np.ndarray, changes: list[np.ndarray], rate_at) -> np.ndarray:
    """Latent time with a hazard that changes at the per-row times ``changes``;
    ``rate_at(t)`` gives the hazard from time ``t`` (the state and exposure at ``t``)."""
    breaks = np.sort(np.column_stack(changes), axis=1)
    starts = [np.zeros(e.shape[0]), *breaks.T]
    with np.errstate(invalid="ignore"):
        rates = [rate_at(t) for t in starts]
    return piecewise_exponential(e, list(breaks.T), rates)


def draw_outcomes(
    rng: np.random.Generator,
    pt: dict[str, np.ndarray],
    exposure_years: np.ndarray,
    *,
    calcification_hr: dict[tuple[str, str], float],
    loss_to_followup: float,
) -> dict[str, Any]:
    """Latent times (years; ``inf`` = never) and the recorded days of every event.

    ``exposure_years`` is the time at which calcification is first recorded (0 at the
    index study, ``inf`` if never); ``calcification_hr`` maps (from, to) transitions to the
    hazard ratio of recorded calcification.
    """
    n = pt["age"].shape[0]
    e = rng.exponential(1.0, size=(8, n))
    latent: dict[str, np.ndarray] = {}
    E = exposure_years

    def hr(a: str, b: str) -> float:
        return float(calcification_hr.get((a, b), 1.0))

    r = linear_rate("cirrhosis", pt)
    t_cirr = piecewise_exponential(e[0], [E], [r, r * hr("no_cirrhosis", "cirrhosis")])
    latent["cirrhosis"] = np.where(pt["cirrhosis"], np.inf, t_cirr)
    C = np.where(pt["cirrhosis"], 0.0, t_cirr)  # entry into the cirrhosis state
    spec = P.HAZARDS["decompensation"]
    rd0 = linear_rate("decompensation", pt, cirrhosis=False)
    rd1 = rd0 * np.exp(spec["log_cirrhosis"])

    def decomp_rate(t: np.ndarray) -> np.ndarray:
        calc = t >= E
        return np.where(
            t >= C,
            rd1 * np.where(calc, hr("cirrhosis", "decompensation"), 1.0),
            rd0 * np.where(calc, hr("no_cirrhosis", "decompensation"), 1.0),
        )

    D = _state_latent(e[1], [C, E], decomp_rate)
    latent["decompensation"] = D
    for j, k in enumerate(("hcc", "cholangiocarcinoma"), start=2):
        latent[k] = e[j] / linear_rate(k, pt)

    def state_at(t: np.ndarray) -> np.ndarray:
        return np.where(t >= D, 2, np.where(t >= C, 1, 0))

    age_term = pt["age"] - 50.0
    tx = P.TRANSPLANT
    tx0 = by_etiology(pt["code"], tx["rate"], tx["default"]) * np.exp(tx["log_age"] * age_term)
    tx_by_state = np.stack(
        [
            tx0,
            tx0 * np.exp(tx["log_cirrhosis"]),
            tx["after_severe"] * np.exp(tx["log_age"] * age_term),
        ]
    )
    tx_hr = np.array([hr(s, "liver_transplant") for s in LIVE_STATES])
    rows = np.arange(n)

    def tx_rate(t: np.ndarray) -> np.ndarray:
        st = state_at(t)
        return tx_by_state[st, rows] * np.where(t >= E, tx_hr[st], 1.0)

    t_tx = _state_latent(e[4], [C, D, E], tx_rate)
    latent["liver_transplant"] = t_tx

    ld = P.LIVER_DEATH
    ld0 = by_etiology(pt["code"], ld["rate"], ld["default"]) * np.exp(ld["log_age"] * age_term)
    ld_by_state = np.stack(
        [
            ld0,
            ld0 * np.exp(ld["log_cirrhosis"]),
            ld["after_severe"] * np.exp(ld["log_age"] * age_term),
        ]
    )

    def ld_rate(t: np.ndarray) -> np.ndarray:
        return np.where(t >= t_tx, ld["after_transplant"], ld_by_state[state_at(t), rows])

    latent["liver_death"] = _state_latent(e[5], [C, D, t_tx], ld_rate)
    a = np.where(pt["male"], P.GOMPERTZ["M"][0], P.GOMPERTZ["F"][0])
    b = np.where(pt["male"], P.GOMPERTZ["M"][1], P.GOMPERTZ["F"][1])
    latent["background_death"] = np.log1p(e[6] * b / np.exp(a + b * pt["age"])) / b
    latent["death"] = np.minimum(latent["liver_death"], latent["background_death"])
    if loss_to_followup > 0:
        latent["loss_to_followup"] = e[7] / loss_to_followup
    else:
        latent["loss_to_followup"] = np.full(n, np.inf)
    latent["censoring"] = np.minimum(latent["loss_to_followup"], pt["admin_years"])

    # recorded days: events on day ceil(t * 365.25) >= 1, censoring on floor(c * 365.25)
    with np.errstate(over="ignore", invalid="ignore"):

        def to_day(t: np.ndarray) -> np.ndarray:
            d = np.ceil(np.minimum(t, 1e6) * DAYS_PER_YEAR)
            return np.maximum(d, 1).astype(np.int64)

        ltfu_day = np.floor(np.minimum(latent["loss_to_followup"], 1e6) * DAYS_PER_YEAR)
        cens_day = np.maximum(np.minimum(ltfu_day, pt["admin_day"]), 1).astype(np.int64)
        death_day = to_day(latent["death"])
        died = death_day <= cens_day
        last_day = np.where(died, death_day, cens_day)
        tx_day = to_day(t_tx)
        transplanted = (t_tx < latent["death"]) & (tx_day <= cens_day)
        days: dict[str, np.ndarray] = {}
        seen: dict[str, np.ndarray] = {}
        for k in ("cirrhosis", "decompensation", "hcc", "cholangiocarcinoma"):
            d = to_day(latent[k])
            seen[k] = (
                (latent[k] < t_tx)
                & (latent[k] < latent["death"])
                & (d <= cens_day)
                & np.isfinite(latent[k])
            )
            days[k] = d
        days["liver_transplant"], seen["liver_transplant"] = tx_day, transplanted
        days["death"], seen["death"] = death_day, died
    return {
        "latent": latent,
        "days": days,
        "seen": seen,
        "last_day": last_day,
        "end_native_day": np.where(transplanted, tx_day, np.iinfo(np.int64).max),
    }
