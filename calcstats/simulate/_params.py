"""Default parameters of the cohort simulator, with their sources.

Every number comes from the domain research note (``docs``: simulator design, §3 of the
project's domain research). Tags: ``S<n>`` a published source, ``R`` computed in R from
``survival::pbc`` / ``survexp.us``, ``A`` an assumption made for the generator (a plausible
default, not evidence). The tags travel into :class:`~calcstats.simulate.Truth`
(``truth.to_dict()["sources"]``).

Etiologies use the calcstats vocabulary; the research note's groups are mapped as
granuloma → ``granulomatous``, hydatid → ``echinococcosis``, schistosoma →
``schistosomiasis``, PSC/PBC → ``psc``/``pbc`` (half each), cystic neoplasm + metastasis +
HCC/FLC/iCCA + hepatoblastoma → ``neoplasm``, healed abscess / post-traumatic /
post-procedural → ``post_procedural``, vascular + Pneumocystis + perinatal/TORCH →
``other``. In the paediatric preset 10 of the 70 perinatal points go to
``biliary_atresia`` [A].
"""

from __future__ import annotations

from typing import Any

ETIOLOGIES: tuple[str, ...] = (
    "biliary_atresia",
    "echinococcosis",
    "granulomatous",
    "hemangioma",
    "hepatolithiasis",
    "idiopathic",
    "neoplasm",
    "other",
    "pbc",
    "post_procedural",
    "psc",
    "schistosomiasis",
)

#: Etiology mix (%) among patients WITH calcification, per preset (domain §3.2, all [A],
#: rankings anchored on S2, S4, S5, S16, S1, S12-S14, S8-S10).
PRESET_MIX: dict[str, dict[str, float]] = {
    "western_tertiary": {
        "granulomatous": 40,
        "idiopathic": 18,
        "echinococcosis": 2,
        "schistosomiasis": 0.5,
        "hepatolithiasis": 2,
        "pbc": 1.5,
        "psc": 1.5,
        "hemangioma": 7,
        "neoplasm": 16,
        "post_procedural": 8,
        "other": 3.5,
    },
    "east_asia": {
        "granulomatous": 20,
        "idiopathic": 30,
        "echinococcosis": 3,
        "schistosomiasis": 4,
        "hepatolithiasis": 25,
        "pbc": 0.5,
        "psc": 0.5,
        "hemangioma": 4,
        "neoplasm": 9,
        "post_procedural": 3,
        "other": 1,
    },
    "parasite_endemic": {
        "granulomatous": 22,
        "idiopathic": 12,
        "echinococcosis": 30,
        "schistosomiasis": 10,
        "hepatolithiasis": 4,
        "pbc": 0.5,
        "psc": 0.5,
        "hemangioma": 4,
        "neoplasm": 9,
        "post_procedural": 6,
        "other": 2,
    },
    "paediatric": {"other": 75, "biliary_atresia": 10, "hemangioma": 5, "neoplasm": 10},
}

#: Probability that a patient of this etiology has >= 1 true calcification [A]; anchors:
#: hemangioma 10-20% (S3), hydatid wall 20-30% (S11), hepatic TB about half (S20).
#: The cohort's overall etiology mix is PRESET_MIX / P_CALC, renormalised, so that the mix
#: among calcified patients is the preset's and non-calcified patients form the comparison
#: group.
P_CALC: dict[str, float] = {
    "biliary_atresia": 0.15,
    "echinococcosis": 0.25,
    "granulomatous": 0.5,
    "hemangioma": 0.15,
    "hepatolithiasis": 0.7,
    "idiopathic": 0.9,
    "neoplasm": 0.25,
    "other": 0.5,
    "pbc": 0.1,
    "post_procedural": 0.5,
    "psc": 0.2,
    "schistosomiasis": 0.4,
}

#: Age at index: ("normal", mean, sd) truncated to [lo, hi], ("uniform", lo, hi) or
#: ("gamma", shape, scale) truncated to [0, hi]; and proportion female (domain §3.3).
ADULT_AGE: dict[str, tuple] = {
    "granulomatous": ("normal", 45, 13),
    "idiopathic": ("normal", 45, 13),  # S5
    "pbc": ("normal", 50.7, 10.4),  # R (Mayo pbc)
    "psc": ("normal", 40, 13),  # S29
    "hepatolithiasis": ("normal", 59, 11),  # S17
    "echinococcosis": ("normal", 42, 16),  # A
    "hemangioma": ("normal", 48, 12),  # A
    "neoplasm": ("normal", 60, 13),  # A (HCC 64 S34, FLC younger S39, metastases)
    "schistosomiasis": ("normal", 40, 14),  # A
    "post_procedural": ("normal", 58, 13),  # A
    "other": ("normal", 50, 16),  # A
    "biliary_atresia": ("uniform", 18, 30),  # A (adult survivors)
}
PAEDIATRIC_AGE: dict[str, tuple] = {
    "other": ("uniform", 0.0, 0.1),  # perinatal detection (S8), postnatal age [A]
    "biliary_atresia": ("uniform", 0.05, 0.35),  # A
    "hemangioma": ("uniform", 0.0, 1.0),  # A (infantile)
    "neoplasm": ("gamma", 2.0, 0.75),  # hepatoblastoma, mean 1.5 y (S40)
}
ADULT_AGE_RANGE = (18.0, 90.0)
PAEDIATRIC_AGE_RANGE = (0.0, 17.0)
P_FEMALE: dict[str, float] = {
    "granulomatous": 0.5,
    "idiopathic": 0.5,  # S5
    "pbc": 0.895,  # R
    "psc": 0.33,  # S29
    "hepatolithiasis": 0.55,
    "echinococcosis": 0.55,  # A
    "hemangioma": 0.75,  # S3
    "neoplasm": 0.35,  # A (HCC 0.2 S34, hepatoblastoma 0.4 S40)
    "schistosomiasis": 0.45,
    "post_procedural": 0.5,
    "other": 0.5,  # A
    "biliary_atresia": 0.55,  # A
}

#: P(cirrhosis at baseline | etiology) (domain §3.4): PBC 35% R, PSC 8% S26, rest [A].
P_CIRRHOSIS: dict[str, float] = {
    "granulomatous": 0.02,
    "idiopathic": 0.02,
    "hemangioma": 0.02,
    "pbc": 0.35,
    "psc": 0.08,
    "hepatolithiasis": 0.10,
    "schistosomiasis": 0.15,
    "neoplasm": 0.30,
    "echinococcosis": 0.02,
    "post_procedural": 0.05,
    "other": 0.03,
    "biliary_atresia": 0.30,
}
CHOLESTATIC = ("pbc", "psc", "biliary_atresia", "hepatolithiasis")

#: Lab marginals: (median, sd of log) for lognormal labs, (mean, sd) for albumin.
#: Cholestatic mode from Mayo pbc quantiles (R); non-cholestatic from reference ranges [mem].
LABS = {
    "cholestatic": {
        "bilirubin": (1.40, 1.07),
        "albumin": (3.53, 0.42),
        "alp": (1259.0, 0.61),
        "platelets": (251.0, 0.39),
        "inr": (1.0, 0.08),
    },
    "normal": {
        "bilirubin": (0.6, 0.35),
        "albumin": (4.2, 0.35),
        "alp": (75.0, 0.30),
        "platelets": (250.0, 0.25),
        "inr": (1.0, 0.05),
    },
}
#: Cirrhosis shifts [A]: albumin -0.5, platelets x0.6, INR +0.15, bilirubin x1.8.
CIRRHOSIS_LAB_SHIFT = {"albumin": -0.5, "platelets": 0.6, "inr": 0.15, "bilirubin": 1.8}
RHO_BILI_ALBUMIN = -0.3  # Gaussian copula [A]

#: True lesions per etiology (domain §3.5): count = base + Poisson(mu) (or NegBin with k),
#: morphology probabilities, lognormal size (median mm, geometric sd), associated lesion,
#: segment rule ("volume", "right" (x1.2 on V-VIII, S5), "hydatid" 0.7 right, "ductal"
#: left 0.55 / right 0.30 / both 0.15 after S17).
LESIONS: dict[str, dict] = {
    "idiopathic": dict(
        base=1,
        mu=0.3,
        morph={"punctate": 0.6, "coarse": 0.4},
        size=(5, 1.6),
        assoc="none",
        seg="right",
    ),
    "granulomatous": dict(
        base=1,
        mu=1.5,
        k=1.0,
        morph={"punctate": 0.75, "coarse": 0.25},
        size=(3, 1.5),
        assoc="none",
        seg="volume",
    ),
    "echinococcosis": dict(
        base=1,
        mu=0.4,
        morph={"rim": 0.72, "coarse": 0.18, "diffuse": 0.07, "amorphous": 0.03},
        size=(20, 1.4),
        assoc="hydatid_cyst",
        seg="hydatid",
    ),
    "schistosomiasis": dict(
        base=1, mu=1.0, morph={"network": 1.0}, size=(30, 1.3), assoc="none", seg="volume"
    ),
    "hepatolithiasis": dict(
        base=1,
        mu=2.0,
        morph={"ductal": 0.7, "coarse": 0.3},
        size=(8, 1.7),
        assoc="dilated_ducts",
        seg="ductal",
    ),
    "hemangioma": dict(
        base=1,
        mu=0.0,
        morph={"coarse": 0.8, "punctate": 0.2},
        size=(10, 1.8),
        assoc="hemangioma",
        seg="volume",
    ),
    "neoplasm": dict(
        base=1,
        mu=2.0,
        morph={"amorphous": 0.45, "punctate": 0.25, "coarse": 0.30},
        size=(8, 1.7),
        assoc="solid_mass",
        seg="volume",
    ),
    "post_procedural": dict(
        base=1,
        mu=0.3,
        morph={"amorphous": 0.6, "coarse": 0.4},
        size=(8, 1.6),
        assoc="treated_lesion",
        seg="volume",
    ),
    "other": dict(
        base=1,
        mu=0.2,
        morph={"punctate": 0.6, "vascular": 0.4},
        size=(5, 1.8),
        assoc="none",
        seg="volume",
    ),
    "pbc": dict(
        base=1,
        mu=0.5,
        morph={"ductal": 0.6, "punctate": 0.4},
        size=(4, 1.6),
        assoc="none",
        seg="volume",
    ),
    "psc": dict(
        base=1,
        mu=0.5,
        morph={"ductal": 0.7, "punctate": 0.3},
        size=(4, 1.6),
        assoc="dilated_ducts",
        seg="volume",
    ),
    "biliary_atresia": dict(
        base=1,
        mu=0.3,
        morph={"punctate": 0.6, "ductal": 0.4},
        size=(3, 1.5),
        assoc="none",
        seg="volume",
    ),
}
MORPHOLOGIES = (
    "punctate",
    "coarse",
    "rim",
    "ductal",
    "vascular",
    "network",
    "diffuse",
    "amorphous",
)
#: Couinaud segment weights (%) after S22 (VIII 26%, order VIII > VII > IV > V > III > VI >
#: II > I); the individual numbers are [A].
SEGMENTS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII")
SEGMENT_WEIGHTS = (4, 8, 10, 14, 12, 9, 17, 26)
RIGHT_SEGMENTS = ("V", "VI", "VII", "VIII")
LEFT_SEGMENTS = ("II", "III", "IV")
RIGHT_BIAS = 1.2  # S5

#: Detection on each modality [A] after S41a/S45b: P = expit((size - s50) / w); rim,
#: network and diffuse patterns are always seen on CT.
DETECTION = {"CT": (1.0, 0.5), "US": (3.0, 1.0), "MRI": (6.0, 2.0)}
ALWAYS_SEEN_ON_CT = ("rim", "network", "diffuse")
SIZE_LOG_SD = 0.12  # measurement error on log size [A]
MORPHOLOGY_SWAP = 0.1  # punctate <-> coarse reader misclassification [A] (kappa ~ 0.8)

MODALITIES = ("CT", "US", "MRI")
#: Modality of the index study and of follow-up studies per preset [A].
MODALITY = {
    "western_tertiary": ({"CT": 0.6, "US": 0.3, "MRI": 0.1}, {"US": 0.6, "CT": 0.3, "MRI": 0.1}),
    "east_asia": ({"US": 0.6, "CT": 0.35, "MRI": 0.05}, {"US": 0.7, "CT": 0.25, "MRI": 0.05}),
    "parasite_endemic": (
        {"US": 0.7, "CT": 0.25, "MRI": 0.05},
        {"US": 0.8, "CT": 0.15, "MRI": 0.05},
    ),
    "paediatric": ({"US": 0.8, "CT": 0.1, "MRI": 0.1}, {"US": 0.85, "CT": 0.05, "MRI": 0.1}),
}
#: Loss to follow-up per year [A] (3% tertiary, 8% endemic/rural).
LOSS_TO_FOLLOWUP = {
    "western_tertiary": 0.03,
    "east_asia": 0.03,
    "parasite_endemic": 0.08,
    "paediatric": 0.03,
}
#: Follow-up imaging interval (years) [A] (domain §3.8): cirrhosis surveillance 6-monthly,
#: biliary disease yearly, incidental foci one study at 6-12 months then every 3 years.
IMAGING_INTERVAL = {"cirrhosis": 0.5, "biliary": 1.0, "incidental": 3.0}
BILIARY = ("pbc", "psc", "hepatolithiasis", "biliary_atresia", "schistosomiasis")

#: Cause-specific baseline hazards per year for a non-cirrhotic patient aged 0 (x'beta = 0)
#: are  rate[etiology] * exp(-beta_age * 50): the rates below are for age 50.
#: Native-liver events (proportional hazards in the baseline covariates, so the Cox model
#: of ``truth.formula`` is the true model):
HAZARDS: dict[str, dict] = {
    "cirrhosis": dict(
        rate={
            "pbc": 0.04,
            "psc": 0.03,
            "biliary_atresia": 0.08,
            "hepatolithiasis": 0.015,
            "schistosomiasis": 0.03,
            "neoplasm": 0.005,
        },
        default=0.002,
        log_age=0.02,
        log_male=0.262,
        log_cirrhosis=None,
        source="psc S26 (41% by 15.8 y); hepatolithiasis S17 (9.7%/7 y); rest A",
    ),
    "decompensation": dict(
        rate={
            "pbc": 0.003,
            "psc": 0.004,
            "hepatolithiasis": 0.008,
            "schistosomiasis": 0.01,
            "biliary_atresia": 0.02,
            "neoplasm": 0.005,
        },
        default=0.003,
        log_age=0.02,
        log_male=0.0,
        log_cirrhosis=2.303,
        source="cirrhotic x10: compensated 5.6%/y S31/S33, biliary 2.7%/y S31; rest A",
    ),
    "hcc": dict(
        rate={
            "pbc": 0.0027,
            "psc": 0.0005,
            "hepatolithiasis": 0.0005,
            "schistosomiasis": 0.001,
            "biliary_atresia": 0.002,
            "neoplasm": 0.002,
        },
        default=0.0003,
        log_age=0.04,
        log_male=0.693,
        log_cirrhosis=1.609,
        source="PBC 2.7 vs 13 per 1000 PY without/with cirrhosis S30; male HR 2 A",
    ),
    "cholangiocarcinoma": dict(
        rate={"psc": 0.008, "hepatolithiasis": 0.011, "pbc": 0.0005, "biliary_atresia": 0.001},
        default=0.0002,
        log_age=0.03,
        log_male=0.0,
        log_cirrhosis=0.405,
        source="PSC 0.6-1.5%/y S47b; hepatolithiasis 7.4%/7 y S17; rest A",
    ),
}
#: Outcomes with a true cause-specific proportional-hazards model from index. Not
#: decompensation: its hazard rises tenfold once cirrhosis develops (a multi-state
#: progression; see ``Truth.transition_hazard_ratios``).
PH_OUTCOMES = ("cirrhosis", "hcc", "cholangiocarcinoma")
#: Transplant and liver death follow an illness-death structure [A]: their hazards rise
#: once a patient has decompensation, HCC or cholangiocarcinoma ("severe").
TRANSPLANT: dict[str, Any] = dict(
    rate={"psc": 0.01, "pbc": 0.004, "biliary_atresia": 0.05},
    default=0.001,
    log_cirrhosis=1.099,
    after_severe=0.10,
    log_age=-0.02,
    source="post-decompensation 0.10 A; PSC transplant-free hazard ln2/13.4 S26; rest A",
)
LIVER_DEATH: dict[str, Any] = dict(
    rate={"neoplasm": 0.15},
    default=0.001,
    log_cirrhosis=1.609,
    after_severe=0.35,
    after_transplant=0.03,
    log_age=0.035,
    source="decompensated median survival ~2 y S33; age R (Mayo 0.0396); rest A",
)
#: Background (non-liver) mortality, Gompertz fitted to US 2010 life table (R):
#: h(age) = exp(a + b * age).
GOMPERTZ = {"M": (-9.392, 0.0826), "F": (-10.194, 0.0884)}
#: When a decompensation event is recorded, its clinical form is recorded the same day [A].
DECOMPENSATION_FORMS = {"ascites": 0.6, "variceal_bleeding": 0.25, "encephalopathy": 0.15}

#: Other baseline covariates (domain §3.3, all A).
SITES = {"site_A": 0.5, "site_B": 0.3, "site_C": 0.2}
ALCOHOL = {"none": 0.45, "moderate": 0.45, "heavy": 0.10}
LAB_COLUMNS = ("bilirubin_mg_dl", "albumin_g_dl", "alp_u_l", "platelets_10e9_l", "inr")
OPTIONAL_COLUMNS = ("bmi", "diabetes", "alcohol_use", *LAB_COLUMNS)
