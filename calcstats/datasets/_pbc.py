"""The Mayo Clinic primary biliary cholangitis (PBC) data, as in R's ``survival::pbc``."""

from __future__ import annotations

from importlib import resources

import pandas as pd

from calcstats._errors import CalcstatsError

__all__ = ["load_pbc"]

# Column order and R storage types of survival::pbc ("int" columns become int64, or the
# nullable Int64 when the column has missing values; "num" columns float64).
_COLUMNS: dict[str, str] = {
    "id": "int",
    "time": "int",
    "status": "int",
    "trt": "int",
    "age": "num",
    "sex": "str",
    "ascites": "int",
    "hepato": "int",
    "spiders": "int",
    "edema": "num",
    "bili": "num",
    "chol": "int",
    "albumin": "num",
    "copper": "int",
    "alk.phos": "num",
    "ast": "num",
    "trig": "int",
    "platelet": "int",
    "protime": "num",
    "stage": "int",
}


def load_pbc() -> pd.DataFrame:
    """Load the Mayo Clinic PBC data (418 patients), as R's ``survival::pbc``.

    Primary biliary cholangitis (formerly cirrhosis) patients seen at the Mayo Clinic
    between 1974 and 1984. The first 312 patients took part in a randomised
    placebo-controlled trial of D-penicillamine and have complete data for most
    variables; the other 106 consented to have basic measurements recorded and to be
    followed for survival, but did not take part in the trial (their trial-only
    variables are missing). Six of them were lost to follow-up shortly after diagnosis,
    so only 412 patients have the full baseline record.

    Returns
    -------
    pandas.DataFrame
        418 rows, one per patient, in R's column order. Integer columns with missing
        values use pandas' nullable ``Int64`` dtype (``pd.NA`` where missing); integer
        columns without missing values are ``int64``; measurements are ``float64``;
        ``sex`` holds the strings ``"m"``/``"f"``.

        ========  ========  ===========================================================
        column    dtype     meaning
        ========  ========  ===========================================================
        id        int64     case number (1-418)
        time      int64     days from registration to death, transplantation or the
                            end of follow-up (July 1986)
        status    int64     status at ``time``: 0 censored, 1 liver transplant, 2 dead
        trt       Int64     1 D-penicillamine, 2 placebo, NA not randomised
        age       float64   age at registration (years)
        sex       str       ``"m"`` male, ``"f"`` female
        ascites   Int64     ascites present (0/1)
        hepato    Int64     hepatomegaly (enlarged liver) present (0/1)
        spiders   Int64     spider angiomata present (0/1)
        edema     float64   0 no oedema; 0.5 untreated or successfully treated
                            oedema; 1 oedema despite diuretic therapy
        bili      float64   serum bilirubin (mg/dL)
        chol      Int64     serum cholesterol (mg/dL)
        albumin   float64   serum albumin (g/dL)
        copper    Int64     urine copper (ug/day)
        alk.phos  float64   alkaline phosphatase (U/L)
        ast       float64   aspartate aminotransferase (U/mL; SGOT)
        trig      Int64     triglycerides (mg/dL)
        platelet  Int64     platelet count (10^9/L, i.e. per cubic mm / 1000)
        protime   float64   standardised blood clotting (prothrombin) time (seconds)
        stage     Int64     histologic stage of disease (1-4; needs a biopsy)
        ========  ========  ===========================================================

    Notes
    -----
    Missing values: ``trt``, ``ascites``, ``hepato``, ``spiders``, ``alk.phos`` and
    ``ast`` 106; ``chol`` 134; ``copper`` 108; ``trig`` 136; ``platelet`` 11;
    ``protime`` 2; ``stage`` 6. Outcome counts: 232 censored, 25 transplanted,
    161 dead. For survival analyses of death, treat transplantation as censoring
    (``status == 2``) or as a competing risk (``status`` codes 1 and 2).

    The file shipped with calcstats is an export of ``survival::pbc`` (R package
    survival, LGPL >= 2), the same values as Appendix D of Fleming & Harrington.

    References
    ----------
    T. R. Fleming and D. P. Harrington, *Counting Processes and Survival Analysis*,
    Wiley, 1991 (Appendix D).

    T. M. Therneau and P. M. Grambsch, *Modeling Survival Data: Extending the Cox
    Model*, Springer, 2000.

    T. M. Therneau, *survival: Survival Analysis*, R package (dataset ``pbc``).

    E. R. Dickson, P. M. Grambsch, T. R. Fleming, L. D. Fisher and A. Langworthy,
    "Prognosis in primary biliary cirrhosis: model for decision making",
    *Hepatology* 10 (1989) 1-7.

    Examples
    --------
    >>> import calcstats as cs
    >>> pbc = cs.datasets.load_pbc()
    >>> pbc.shape
    (418, 20)
    >>> int((pbc["status"] == 2).sum())
    161
    """
    source = resources.files("calcstats.datasets").joinpath("data", "pbc.csv")
    try:
        with source.open("rb") as handle:
            raw = pd.read_csv(handle)
    except FileNotFoundError:  # pragma: no cover - only with a broken installation
        raise CalcstatsError(
            "calcstats/datasets/data/pbc.csv is missing from the installed package; "
            "reinstall calcstats."
        ) from None
    out = {}
    for name, kind in _COLUMNS.items():
        col = raw[name]
        if kind == "int":
            col = col.astype("Int64") if col.isna().any() else col.astype("int64")
        elif kind == "num":
            col = col.astype("float64")
        else:
            col = col.astype(str)
        out[name] = col
    return pd.DataFrame(out)
