"""Simulator step 4: latent event times from cause-specific hazards, then censoring.

Native-liver events (cirrhosis, decompensation, HCC, cholangiocarcinoma) have exponential
cause-specific hazards that are proportional in the baseline covariates

    h_k(t | x) = rate_k[etiology] * exp(b_age (age - 50) + b_male male + b_cirr cirrhosis0
                                        + log(calcification_hr) calcification(t) [k = cirrhosis])

so a Cox model with the terms of ``Truth.formula(k)`` is the true model. ``calcification(t)``
is the calcification status as recorded: 1 from the date of the first imaging study that
shows a calcification (the index study, or a follow-up study). Transplant and liver death
follow an illness-death structure (their hazards rise after decompensation, HCC or
cholangiocarcinoma; liver death changes again after transplant), plus Gompertz background
mortality by sex and attained age. All latent times are independent given the covariates
and the history, so the cause-specific hazards above hold with death, transplant,
loss to follow-up and administrative end as competing or censoring events.
"""

from __future__ import annotations

import numpy as np

from calcstats.simulate import _params as P
from calcstats.simulate._baseline import DAYS_PER_YEAR, by_etiology
from calcstats.simulate._draw import piecewise_exponential

__all__ = ["draw_outcomes", "linear_rate"]


def linear_rate(outcome: str, pt: dict[str, np.ndarray]) -> np.ndarray:
    """Per-patient hazard (per year) of a native-liver outcome, without calcification."""
    spec = P.HAZARDS[outcome]
    rate = by_etiology(pt["code"], spec["rate"], spec["default"])
    lp = spec["log_age"] * (pt["age"] - 50.0) + spec["log_male"] * pt["male"]
    if spec["log_cirrhosis"] is not None:
        lp = lp + spec["log_cirrhosis"] * pt["cirrhosis"]
    return rate * np.exp(lp)


def draw_outcomes(
    rng: np.random.Generator,
    pt: dict[str, np.ndarray],
    exposure_years: np.ndarray,
    *,
    calcification_hr: float,
    loss_to_followup: float,
) -> dict[str, np.ndarray]:
    """Latent times (years; ``inf`` = never) and the recorded days of every event.

    ``exposure_years`` is the time at which calcification is first recorded (0 at the
    index study, ``inf`` if never).
    """
    n = pt["age"].shape[0]
    e = rng.exponential(1.0, size=(8, n))
    latent: dict[str, np.ndarray] = {}

    r = linear_rate("cirrhosis", pt)
    t_cirr = piecewise_exponential(e[0], [exposure_years], [r, r * calcification_hr])
    latent["cirrhosis"] = np.where(pt["cirrhosis"], np.inf, t_cirr)
    for j, k in enumerate(("decompensation", "hcc", "cholangiocarcinoma"), start=1):
        latent[k] = e[j] / linear_rate(k, pt)
    severe = np.minimum.reduce([latent["decompensation"], latent["hcc"],
                                latent["cholangiocarcinoma"]])

    age_term = pt["age"] - 50.0
    tx = P.TRANSPLANT
    tx0 = by_etiology(pt["code"], tx["rate"], tx["default"]) * np.exp(
        tx["log_cirrhosis"] * pt["cirrhosis"] + tx["log_age"] * age_term)
    tx1 = tx["after_severe"] * np.exp(tx["log_age"] * age_term)
    latent["liver_transplant"] = piecewise_exponential(e[4], [severe], [tx0, tx1])

    ld = P.LIVER_DEATH
    ld0 = by_etiology(pt["code"], ld["rate"], ld["default"]) * np.exp(
        ld["log_cirrhosis"] * pt["cirrhosis"] + ld["log_age"] * age_term)
    ld1 = ld["after_severe"] * np.exp(ld["log_age"] * age_term)
    t_tx = latent["liver_transplant"]
    latent["liver_death"] = piecewise_exponential(
        e[5], [np.minimum(severe, t_tx), t_tx], [ld0, ld1, np.full(n, ld["after_transplant"])]
    )
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
            seen[k] = ((latent[k] < t_tx) & (latent[k] < latent["death"]) & (d <= cens_day)
                       & np.isfinite(latent[k]))
            days[k] = d
        days["liver_transplant"], seen["liver_transplant"] = tx_day, transplanted
        days["death"], seen["death"] = death_day, died
    return {"latent": latent, "days": days, "seen": seen, "last_day": last_day,
            "end_native_day": np.where(transplanted, tx_day, np.iinfo(np.int64).max)}
