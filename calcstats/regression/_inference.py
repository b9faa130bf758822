"""Inference helpers on fitted models: likelihood-ratio tests and effects within strata."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from calcstats._errors import CalcstatsError
from calcstats._validation import BOOLEAN, CONF_LEVEL, NONE, NUMBERS, validate_params
from calcstats.regression._results import RegressionResult
from calcstats.results import ModelResult, TestResult, check_conf_level

__all__ = ["effect_by", "lr_test"]


def lr_test(reduced: ModelResult, full: ModelResult) -> TestResult:
    """Likelihood-ratio test of a reduced model nested in a full one (same rows).

    The one LR test of calcstats: for GLMs, Cox and any model with a log-likelihood and a
    design (a model's own global LR test is in its ``glance()``).

    Parameters
    ----------
    reduced, full : ModelResult
        Two fits of the same kind on the same rows; the reduced model's coefficients must
        be a subset of the full model's.

    Returns
    -------
    TestResult
        ``statistic = 2 (logLik(full) - logLik(reduced))`` on ``df`` = difference in the
        number of parameters, chi-square p-value (as R ``anova(..., test="LRT")`` for glm and
        ``lmtest::lrtest``).

    Examples
    --------
    >>> import calcstats as cs
    >>> pbc = cs.datasets.load_pbc().dropna(subset=["stage"])
    >>> full = cs.logistic(pbc, "I(stage == 4) ~ age + C(edema)")
    >>> red = cs.logistic(full.design.frame, "I(stage == 4) ~ age")
    >>> cs.lr_test(red, full).p_value  # doctest: +SKIP
    """
    for name, r in (("reduced", reduced), ("full", full)):
        if not isinstance(r, ModelResult) or r.loglik is None or r.design is None:
            raise CalcstatsError(
                f"lr_test(): {name} must be a calcstats model fitted from a formula, with a "
                f"log-likelihood; got {type(r).__name__}"
                + (" without a design." if isinstance(r, ModelResult) else ".")
            )
    if type(reduced) is not type(full) or reduced.method != full.method:
        raise CalcstatsError(
            f"lr_test(): both models must be of the same kind; got {reduced.method!r} and "
            f"{full.method!r}."
        )
    if getattr(full, "_problem", None) is not None:
        raise CalcstatsError(
            "lr_test(): Firth models have different penalties when fitted separately; use "
            "full.term_tests(method='lr') for penalised likelihood-ratio tests."
        )
    missing = [c for c in reduced.params.index if c not in full.params.index]
    if missing:
        raise CalcstatsError(
            f"lr_test(): the models are not nested: {missing} are in the reduced model but "
            "not in the full model."
        )
    same = reduced.nobs == full.nobs and np.allclose(_outcome(reduced), _outcome(full))
    if same and reduced.design is not None and full.design is not None:  # checked above
        cols = list(reduced.params.index)
        same = np.allclose(
            reduced.design.X[cols].to_numpy(float), full.design.X[cols].to_numpy(float)
        )
    if not same:
        raise CalcstatsError(
            f"lr_test(): the models were not fitted on the same rows (n = {reduced.nobs} and "
            f"{full.nobs}). Fit the reduced model on full.design.frame."
        )
    df = full.n_params - reduced.n_params
    if df <= 0:
        raise CalcstatsError("lr_test(): the full model must have more parameters.")
    stat = max(2.0 * (float(full.loglik or 0.0) - float(reduced.loglik or 0.0)), 0.0)
    return TestResult(stat, df, stats.chi2.sf(stat, df), method="likelihood-ratio test")


def _outcome(result: ModelResult) -> np.ndarray:
    """The analysed outcome of a model (its y, or survival times and events)."""
    y = getattr(result.design, "y", None)
    if y is not None:
        return y.to_numpy(float)
    si = getattr(result, "input", None)
    if si is not None:
        return np.concatenate([si.time, si.event])
    return np.zeros(0)


def _find_term(terms: dict[str, list[str]], name: str, role: str) -> str:
    if name in terms:
        return name
    pat = re.compile(r"(?<![\w.])" + re.escape(name) + r"(?![\w.])")
    cand = [t for t in terms if ":" not in t and pat.search(t)]
    if len(cand) != 1:
        raise CalcstatsError(
            f"effect_by(): {role} {name!r} matches {len(cand)} main-effect terms "
            f"({cand}); available terms: {[t for t in terms if t != 'Intercept']}."
        )
    return cand[0]


@validate_params(
    {
        "at": [NUMBERS, NONE],
        "exponentiate": [BOOLEAN, NONE],
        "conf_level": [CONF_LEVEL, NONE],
    }
)
def effect_by(
    result: RegressionResult,
    exposure: str,
    modifier: str,
    *,
    at: Sequence[float] | None = None,
    exponentiate: bool | None = None,
    conf_level: float | None = None,
) -> pd.DataFrame:
    """Stratum-specific effects of an exposure across levels of an effect modifier.

    For a model with an ``exposure * modifier`` interaction, the effect of the exposure
    within modifier level ``m`` is ``b_exposure + b_exposure:m`` with variance
    ``L V L'`` from the model's covariance (robust if the model is).

    Parameters
    ----------
    result : RegressionResult
    exposure, modifier : str
        Formula terms (``"np.log(bili)"``, ``"C(sex)"``) or the column they are built on
        (``"sex"``).
    at : sequence of float, optional
        Values of a numeric modifier (default ``[0, 1]`` for a 0/1 modifier).
    exponentiate, conf_level
        As in ``tidy()``.

    Returns
    -------
    pandas.DataFrame
        ``modifier, level, exposure, estimate, std_error, statistic, p_value, conf_low,
        conf_high``; one row per modifier level (and exposure level).

    Examples
    --------
    >>> import calcstats as cs
    >>> pbc = cs.datasets.load_pbc().dropna(subset=["stage"])
    >>> fit = cs.logistic(pbc, "I(stage == 4) ~ np.log(bili) * C(sex) + age")
    >>> cs.effect_by(fit, "np.log(bili)", "sex")  # doctest: +SKIP
    """
    level = result.conf_level if conf_level is None else check_conf_level(conf_level)
    if exponentiate is None:
        exponentiate = result.ratio_measure is not None
    di = result.design.design_info
    terms = result.design.terms
    E = _find_term(terms, exposure, "exposure")
    M = _find_term(terms, modifier, "modifier")
    inter = [t for t in terms if sorted(t.split(":")) == sorted([E, M])]
    if not inter:
        raise CalcstatsError(
            f"effect_by(): the model has no {E}:{M} interaction; fit e.g. "
            f"'... ~ {E} * {M}' to estimate effects within strata."
        )
    icols = set(terms[inter[0]])
    m_cols = terms[M]
    categorical = all(c.startswith(M + "[") for c in m_cols)
    levels: list[tuple[str, str | None, float]] = []  # (label, modifier column, multiplier)
    if categorical:
        cats = None
        for f, fi in di.factor_infos.items():
            if f.name() == M and fi.type == "categorical":
                cats = fi.categories
        for cat in cats or ():
            col = next((c for c in m_cols if c in (f"{M}[T.{cat}]", f"{M}[{cat}]")), None)
            levels.append((str(cat), col, 1.0))
        levels.sort(key=lambda t: t[1] is not None)  # reference level first
    else:
        vals = at
        frame = result.design.frame
        assert frame is not None  # build_design always keeps the analysed rows
        if vals is None:
            u = np.unique(frame[M].to_numpy(dtype=float)) if M in frame else np.array([0.5])
            if set(u.tolist()) <= {0.0, 1.0}:
                vals = [0.0, 1.0]
            else:
                raise CalcstatsError(
                    f"effect_by(): modifier {M!r} is numeric; give the values to evaluate at, "
                    "e.g. at=[40, 50, 60]."
                )
        levels = [(f"{v:g}", m_cols[0], float(v)) for v in vals]
    names = list(result.params.index)
    b = result.params.to_numpy()
    V = result.cov.to_numpy()
    rows = []
    for lab, mcol, mult in levels:
        for e in terms[E]:
            L = np.zeros(len(names))
            L[names.index(e)] = 1.0
            if mcol is not None:
                col = next((c for c in (f"{e}:{mcol}", f"{mcol}:{e}") if c in icols), None)
                if col is None:
                    raise CalcstatsError(
                        f"effect_by(): interaction column for {e} and {mcol} not found."
                    )
                L[names.index(col)] = mult
            est = float(L @ b)
            se = float(np.sqrt(L @ V @ L))
            rows.append(
                {"modifier": M, "level": lab, "exposure": e, "estimate": est, "std_error": se}
            )
    out = pd.DataFrame(rows)
    z = out["estimate"] / out["std_error"]
    a = 1 - level
    if result.df_resid is not None:
        p = 2 * stats.t.sf(np.abs(z), result.df_resid)
        q = stats.t.ppf(1 - a / 2, result.df_resid)
    else:
        p = 2 * stats.norm.sf(np.abs(z))
        q = stats.norm.ppf(1 - a / 2)
    out["statistic"] = z
    out["p_value"] = p
    lo = out["estimate"] - q * out["std_error"]
    hi = out["estimate"] + q * out["std_error"]
    if exponentiate:
        out["estimate"] = np.exp(out["estimate"])
        lo, hi = np.exp(lo), np.exp(hi)
    out["conf_low"] = lo
    out["conf_high"] = hi
    return out
