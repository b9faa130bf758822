"""``simulate_cohort``: a synthetic calcification cohort with known truth.

A sequential structural model (every draw from one ``numpy.random.Generator``, in a fixed
order, fully vectorised):

1. etiology from the preset's mix (the mix among calcified patients divided by the
   etiology's probability of calcification, so non-calcified patients form the comparison
   group), then age, sex, baseline cirrhosis, labs, BMI, diabetes, alcohol, site and the
   index date (uniform accrual);
2. true calcifications by etiology (count, morphology, size, Couinaud segment weighted by
   segment volume) and, for patients without one, a calcification that may form during
   follow-up;
3. imaging: the index study and scheduled follow-up studies; each study detects each
   lesion present with a probability that depends on its size and the modality, with
   measurement error in size and punctate/coarse misreading;
4. outcomes from cause-specific hazards (see ``_outcomes``), loss to follow-up and the
   administrative end of follow-up;
5. missingness (MCAR per optional column, ALP missing at random given bilirubin).

Etiology confounds calcification and outcome by design: both depend on it, so with
``calcification_hr=1`` a crude Cox model finds an association that adjustment for
etiology removes. Parameters and their sources: ``calcstats/simulate/_params.py``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from calcstats._errors import InvalidParameterError
from calcstats.simulate import _params as P
from calcstats.simulate._baseline import (
    DAYS_PER_YEAR,
    draw_lesions,
    draw_patients,
    etiology_probabilities,
    observe_lesions,
    schedule_imaging,
)
from calcstats.simulate._outcomes import LIVE_STATES, draw_outcomes
from calcstats.simulate._tables import apply_missingness, build_tables
from calcstats.simulate._truth import Truth

if TYPE_CHECKING:
    from calcstats.cohort import Cohort

__all__ = ["PRESETS", "simulate_cohort"]

PRESETS = tuple(P.PRESET_MIX)
#: Transitions on which recorded calcification can act (``calcification_hr`` mapping).
CALCIFICATION_TRANSITIONS = (
    ("no_cirrhosis", "cirrhosis"),
    ("no_cirrhosis", "decompensation"),
    ("cirrhosis", "decompensation"),
    *((s, "liver_transplant") for s in LIVE_STATES),
)


def _check_number(
    name: str, value: object, *, low: float, high: float = math.inf, low_open: bool = False
) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise _bad(name, "a number", value)
    v = float(value)
    ok = (v > low if low_open else v >= low) and v <= high
    if not ok:
        bound = f"{'>' if low_open else '>='} {low:g}"
        if high < math.inf:
            bound += f" and <= {high:g}"
        raise _bad(name, f"a number {bound}", value)
    return float(value)


def _bad(name: str, want: str, value: object) -> InvalidParameterError:
    """The one message template of calcstats' option checks."""
    return InvalidParameterError(
        f"The {name!r} parameter of simulate_cohort must be {want}. Got {value!r}."
    )


def _transition_hrs(value: object) -> dict[str, float]:
    """``calcification_hr`` as {"from -> to": hazard ratio} (a number: on cirrhosis)."""
    if not isinstance(value, Mapping):
        hr = _check_number("calcification_hr", value, low=0, low_open=True)
        if not math.isfinite(hr):
            raise _bad("calcification_hr", "a finite number > 0", value)
        return {"no_cirrhosis -> cirrhosis": hr}
    out: dict[str, float] = {}
    allowed = [f"{a} -> {b}" for a, b in CALCIFICATION_TRANSITIONS]
    for key, hr in value.items():
        if isinstance(key, tuple) and len(key) == 2:
            key = f"{key[0]} -> {key[1]}"
        name = " -> ".join(p.strip() for p in str(key).split("->"))
        if name.endswith("-> death"):
            raise InvalidParameterError(
                f"The 'calcification_hr' parameter of simulate_cohort cannot set {name!r}: "
                "death includes background mortality in attained age, so no proportional "
                f"effect on it is exactly true. Choose among {', '.join(allowed)}."
            )
        if name not in allowed:
            raise InvalidParameterError(
                f"The 'calcification_hr' parameter of simulate_cohort must map transitions "
                f"among {', '.join(allowed)} to hazard ratios. Got the key {key!r}."
            )
        v = _check_number(f"calcification_hr[{name!r}]", hr, low=0, low_open=True)
        if not math.isfinite(v):
            raise _bad(f"calcification_hr[{name!r}]", "a finite number > 0", hr)
        out[name] = v
    return out


def _resolve(n: int, seed: int | None, preset: str, opts: dict[str, Any]) -> dict[str, Any]:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise _bad("n", "an integer >= 1 (the number of patients)", n)
    if preset not in PRESETS:
        raise _bad("preset", "one of " + ", ".join(map(repr, PRESETS)), preset)
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**63))
    elif isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise _bad("seed", "an integer >= 0 or None", seed)
    out = {"n": int(n), "seed": int(seed), "preset": preset}
    hrs = _transition_hrs(opts["calcification_hr"])
    out["calcification_hr"] = hrs.get("no_cirrhosis -> cirrhosis", 1.0)
    out["calcification_transition_hr"] = hrs
    out["accrual_years"] = _check_number(
        "accrual_years", opts["accrual_years"], low=0, high=100, low_open=True
    )
    out["followup_years"] = _check_number(
        "followup_years", opts["followup_years"], low=0, high=100, low_open=True
    )
    ltfu = opts["loss_to_followup"]
    out["loss_to_followup"] = (
        P.LOSS_TO_FOLLOWUP[preset]
        if ltfu is None
        else _check_number("loss_to_followup", ltfu, low=0, high=10)
    )
    out["new_calcification_rate"] = _check_number(
        "new_calcification_rate", opts["new_calcification_rate"], low=0, high=10
    )
    out["new_calcification_hr"] = _check_number(
        "new_calcification_hr", opts["new_calcification_hr"], low=0, high=1000, low_open=True
    )
    if not isinstance(opts["perfect_detection"], bool):
        raise _bad("perfect_detection", "True or False", opts["perfect_detection"])
    out["perfect_detection"] = opts["perfect_detection"]
    out["alp_missing"] = _check_number("alp_missing", opts["alp_missing"], low=0, high=1)
    out["etiology_unknown_rate"] = _check_number(
        "etiology_unknown_rate", opts["etiology_unknown_rate"], low=0, high=1
    )
    if not isinstance(opts["followup_imaging"], bool):
        raise _bad("followup_imaging", "True or False", opts["followup_imaging"])
    out["followup_imaging"] = opts["followup_imaging"]
    rate = opts["missing_rate"]
    if isinstance(rate, Mapping):
        unknown = sorted(set(rate) - set(P.OPTIONAL_COLUMNS))
        if unknown:
            raise InvalidParameterError(
                "The 'missing_rate' parameter of simulate_cohort must be a number or a dict "
                f"over the columns {', '.join(P.OPTIONAL_COLUMNS)}. Got the key(s) "
                f"{', '.join(map(repr, unknown))}."
            )
        rates = {
            c: _check_number(f"missing_rate[{c!r}]", rate.get(c, 0.0), low=0, high=1)
            for c in P.OPTIONAL_COLUMNS
        }
    else:
        r = _check_number("missing_rate", rate, low=0, high=1)
        rates = dict.fromkeys(P.OPTIONAL_COLUMNS, r)
    out["missing_rate"] = rates
    try:
        start = pd.Timestamp(opts["start_date"])
    except (TypeError, ValueError) as exc:
        raise _bad("start_date", "a date such as '2010-01-01'", opts["start_date"]) from exc
    out["start_date"] = start.strftime("%Y-%m-%d")
    return out


def _simulate_tables(
    n: int, *, seed: int | None = None, preset: str = "western_tertiary", **opts: Any
) -> tuple[dict[str, pd.DataFrame], Truth]:
    """The four canonical tables (dict of DataFrames) and the Truth, without read_cohort."""
    defaults = dict(
        calcification_hr=1.0,
        accrual_years=10.0,
        followup_years=5.0,
        loss_to_followup=None,
        followup_imaging=True,
        new_calcification_rate=0.02,
        new_calcification_hr=1.0,
        perfect_detection=False,
        missing_rate=0.03,
        alp_missing=0.25,
        etiology_unknown_rate=0.0,
        start_date="2010-01-01",
    )
    unknown = sorted(set(opts) - set(defaults))
    if unknown:
        raise TypeError(f"simulate_cohort() got unexpected keyword argument(s) {unknown}")
    par = _resolve(n, seed, preset, {**defaults, **opts})
    rng = np.random.default_rng(par["seed"])

    pt = draw_patients(
        rng,
        par["n"],
        preset=preset,
        accrual_years=par["accrual_years"],
        followup_years=par["followup_years"],
        etiology_unknown_rate=par["etiology_unknown_rate"],
    )
    lesions = draw_lesions(
        rng,
        pt,
        new_calcification_rate=par["new_calcification_rate"],
        new_calcification_hr=par["new_calcification_hr"],
    )
    studies = schedule_imaging(rng, pt, preset=preset, followup_imaging=par["followup_imaging"])
    obs = observe_lesions(rng, lesions, studies, perfect_detection=par["perfect_detection"])

    exposure = np.full(par["n"], np.inf)
    if obs["study"].shape[0]:
        np.minimum.at(
            exposure, studies["patient"][obs["study"]], studies["day"][obs["study"]] / DAYS_PER_YEAR
        )
    hrs = {tuple(k.split(" -> ")): v for k, v in par["calcification_transition_hr"].items()}
    out = draw_outcomes(
        rng, pt, exposure, calcification_hr=hrs, loss_to_followup=par["loss_to_followup"]
    )
    masks = apply_missingness(
        rng, pt, missing_rate=par["missing_rate"], alp_missing=par["alp_missing"]
    )
    tables, latent = build_tables(
        rng, pt, lesions, studies, obs, out, masks, start=np.datetime64(par["start_date"], "D")
    )
    params = {
        **par,
        "etiology_probabilities": etiology_probabilities(preset),
        "preset_mix_calcified": P.PRESET_MIX[preset],
        "p_calcification": P.P_CALC,
        "p_cirrhosis_at_baseline": P.P_CIRRHOSIS,
        "hazards": P.HAZARDS,
        "transplant": P.TRANSPLANT,
        "liver_death": P.LIVER_DEATH,
        "background_mortality_gompertz": P.GOMPERTZ,
        "detection": P.DETECTION,
        "segment_weights": dict(zip(P.SEGMENTS, P.SEGMENT_WEIGHTS, strict=True)),
        "lesions": P.LESIONS,
        "sources": "calcstats/simulate/_params.py: S<n> published (domain research §7), "
        "R computed from survival::pbc / survexp.us, A assumption",
    }
    levels = tuple(sorted(pd.unique(tables["patients"]["etiology"])))
    truth = Truth(params, latent["patients"], latent["lesions"], levels)
    return tables, truth


def simulate_cohort(
    n: int,
    *,
    seed: int | None = None,
    preset: str = "western_tertiary",
    calcification_hr: float | Mapping[str, float] = 1.0,
    accrual_years: float = 10.0,
    followup_years: float = 5.0,
    loss_to_followup: float | None = None,
    followup_imaging: bool = True,
    new_calcification_rate: float = 0.02,
    new_calcification_hr: float = 1.0,
    perfect_detection: bool = False,
    missing_rate: float | Mapping[str, float] = 0.03,
    alp_missing: float = 0.25,
    etiology_unknown_rate: float = 0.0,
    start_date: str = "2010-01-01",
) -> Cohort:
    """Simulate a cohort of patients imaged for the liver, with known truth.

    Parameters
    ----------
    n : int
        Number of patients.
    seed : int, optional
        Seed of the random generator; the same seed gives the same tables byte for byte.
        None draws a fresh seed (recorded in ``truth.params["seed"]``).
    preset : str
        Region × setting: ``"western_tertiary"``, ``"east_asia"``, ``"parasite_endemic"``
        or ``"paediatric"``. Sets the etiology mix among calcified patients, the age
        distributions, the imaging modalities and the loss to follow-up.
    calcification_hr : float or dict
        True hazard ratio of recorded calcification on the no_cirrhosis -> cirrhosis
        transition, conditional on etiology, age and sex. 1 (default) means no effect: any
        crude association is confounding by etiology. A dict sets it per transition of the
        liver progression, e.g. ``{"no_cirrhosis -> cirrhosis": 1.5,
        "cirrhosis -> decompensation": 2.0}`` (any of no_cirrhosis -> cirrhosis,
        no_cirrhosis / cirrhosis -> decompensation and * -> liver_transplant; the others 1).
        The outcomes follow a multi-state progression with known transition hazards
        (``truth.transition_hazard_ratios``; see ``_outcomes``).
    accrual_years, followup_years : float
        Index dates are uniform over ``accrual_years`` from ``start_date``; data are cut
        off ``followup_years`` after the end of accrual (administrative censoring).
    loss_to_followup : float, optional
        Exponential loss to follow-up per year; default 0.03 (0.08 in
        ``parasite_endemic``).
    followup_imaging : bool
        Schedule follow-up studies (6-12 months, then every 0.5 / 1 / 3 years for
        cirrhosis / biliary disease / incidental foci). Calcification first seen on a
        follow-up study changes the recorded exposure from that date.
    new_calcification_rate : float
        Rate per year at which patients without calcification at baseline form one (an
        exponential onset time, ``truth.patients["new_calcification_years"]``).
    new_calcification_hr : float
        Hazard ratio of forming a new calcification with cirrhosis at baseline. Cirrhotic
        patients are imaged every 6 months and the others every 1 or 3 years, so the
        imaging schedule differs with the exposure: the setting where taking the first
        study that shows a new calcification as its onset biases the estimates (see
        :func:`calcstats.compare_interval_methods`).
    perfect_detection : bool
        Every calcification present is seen on every imaging study (no missed lesions),
        so the last study without a calcification and the first with one bracket its
        onset. For checking methods against the truth; the default reads studies with the
        modality's sensitivity, which also makes baseline lesions missed at index appear
        later.
    missing_rate : float or dict
        MCAR probability for each optional column (``bmi``, ``diabetes``,
        ``alcohol_use`` and the labs), or a dict column → probability (others 0).
    alp_missing : float
        Average additional probability that ALP is missing, at random given bilirubin
        (three times likelier when bilirubin is normal).
    etiology_unknown_rate : float
        Share of granulomatous patients recorded as ``idiopathic`` (unproven cause); the
        true etiology stays in ``truth.patients``.
    start_date : str
        First possible index date.

    Returns
    -------
    Cohort
        Built by :func:`calcstats.read_cohort` (so it passed validation), with
        ``cohort.truth`` a :class:`Truth`.

    Examples
    --------
    >>> import calcstats as cs
    >>> sim = cs.simulate_cohort(1000, seed=1, calcification_hr=1.5)
    >>> len(sim.patients)
    1000
    >>> print(sim.truth.hazard_ratios("cirrhosis")["any_calcification"])
    1.5
    >>> sim = cs.simulate_cohort(500, seed=1, calcification_hr={
    ...     "cirrhosis -> decompensation": 2.0})
    >>> print(sim.truth.transition_hazard_ratios("cirrhosis", "decompensation")
    ...       ["any_calcification"])
    2.0
    """
    from calcstats.cohort import read_cohort

    tables, truth = _simulate_tables(
        n,
        seed=seed,
        preset=preset,
        calcification_hr=calcification_hr,
        accrual_years=accrual_years,
        followup_years=followup_years,
        loss_to_followup=loss_to_followup,
        followup_imaging=followup_imaging,
        new_calcification_rate=new_calcification_rate,
        new_calcification_hr=new_calcification_hr,
        perfect_detection=perfect_detection,
        missing_rate=missing_rate,
        alp_missing=alp_missing,
        etiology_unknown_rate=etiology_unknown_rate,
        start_date=start_date,
    )
    cohort = read_cohort(**tables, on_error="raise")
    cohort.truth = truth
    return cohort
