"""Formula → design matrices, with explicit handling of missing rows and bad covariates.

Formulas use statsmodels/patsy syntax (``C(x, Treatment('ref'))``, ``cr(age, df=4)``,
``a * b`` interactions, ``np.log(x)``). Rows with a missing value in any variable the model
uses (outcome, covariates, weights, cluster, exposure) are dropped with a
:class:`~calcstats.DataWarning` that gives the count; the analysed ``n`` is in ``glance()``.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import patsy

from calcstats._errors import DataError, DataWarning, SchemaError
from calcstats._formula import _FUNCTIONS, check_empty_terms, check_object_numbers

__all__ = ["Design", "build_design", "design_for", "term_columns"]

# as in the survival formulas: log(bili) etc. work without the np. prefix (np.log too)
_EVAL_ENV = patsy.EvalEnvironment([{k: v for k, v in _FUNCTIONS.items() if k not in ("cr", "cc")}])


@dataclass
class Design:
    """Analysis-ready pieces of a regression model."""

    formula: str
    outcome: str
    y: pd.Series
    X: pd.DataFrame
    design_info: Any
    frame: pd.DataFrame  # the analysed rows of the original data (all columns)
    weights: np.ndarray | None = None
    groups: np.ndarray | None = None
    offset: np.ndarray | None = None
    n_dropped: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _check_column(data: pd.DataFrame, column: str | None, role: str) -> None:
    if column is None:
        return
    if not isinstance(column, str) or column not in data.columns:
        raise SchemaError(
            f"{role}={column!r} is not a column of the data; available columns: "
            f"{', '.join(map(str, data.columns[:20]))}. Pass the name of a column."
        )


def build_design(
    data: pd.DataFrame,
    formula: str,
    *,
    weights: str | None = None,
    cluster: str | None = None,
    exposure: str | None = None,
    model_name: str = "model",
) -> Design:
    """Build ``y`` and ``X`` from a formula, dropping incomplete rows with a warning."""
    if not isinstance(data, pd.DataFrame):
        raise SchemaError(
            f"{model_name}() needs a pandas DataFrame as data, got {type(data).__name__}."
        )
    if not isinstance(formula, str) or "~" not in formula:
        raise SchemaError(
            f"formula must be a string like 'outcome ~ x1 + C(x2)', got {formula!r}."
        )
    for col, role in ((weights, "weights"), (cluster, "cluster"), (exposure, "exposure")):
        _check_column(data, col, role)
    df = data.reset_index(drop=True)
    n_in = len(df)
    keep = np.ones(n_in, dtype=bool)
    used = _formula_columns(formula, df)
    for col in (weights, cluster, exposure, *used):
        if col is not None:
            keep &= df[col].notna().to_numpy()
    check_object_numbers(df, used, formula)
    sub = _as_categoricals(df.loc[keep], used)
    try:
        y, X = patsy.dmatrices(formula, sub, return_type="dataframe", NA_action="drop",
                               eval_env=_EVAL_ENV)
    except patsy.PatsyError as err:
        msg = str(err).splitlines()[0]
        m = re.search(r"specified level (.+) not found", msg)
        if m:
            raise DataError(
                f"In formula {formula!r}: reference level {m.group(1)} does not occur in the "
                "analysed data. Check its spelling, or choose a level that is present, e.g. "
                "C(x, Treatment('level'))."
            ) from None
        if "NameError" in msg:
            raise SchemaError(
                f"In formula {formula!r}: {msg.split('NameError: ')[-1]}. Use column names of "
                "the data (quote odd names with Q('name'))."
            ) from None
        raise DataError(f"Could not build the model from formula {formula!r}: {msg}") from None
    rows = X.index.to_numpy()
    n_dropped = n_in - len(rows)
    if n_dropped:
        warnings.warn(
            f"{model_name}(): {n_dropped} of {n_in} rows dropped because of missing values in "
            f"the model variables ({len(rows)} analysed). Impute (calcstats.mice) or restrict "
            "the data explicitly to silence this.",
            DataWarning,
            stacklevel=3,
        )
    if len(rows) == 0:
        raise DataError(f"{model_name}(): no complete rows left for formula {formula!r}.")
    y_info, y_col = y.design_info, y.columns[-1]
    if y.shape[1] == 2 and str(y.columns[1]).endswith("[True]"):
        y = y.iloc[:, [1]].rename(columns={y.columns[1]: str(y.columns[1])[: -len("[True]")]})
    if y.shape[1] != 1:
        raise SchemaError(
            f"The outcome of {formula!r} must be one numeric column (0/1 for binary models); "
            f"it expanded to {list(y.columns)}. Code a categorical outcome as 0/1, "
            "e.g. 'I(stage == 4) ~ ...'."
        )
    outcome = str(y.columns[0])
    frame = df.loc[rows]
    check_empty_terms(X.design_info, formula)
    _check_covariates(X, formula)
    w = g = off = None
    if weights is not None:
        w = pd.to_numeric(frame[weights], errors="coerce").to_numpy(dtype=float)
        if np.any(~np.isfinite(w)) or np.any(w < 0):
            raise DataError(
                f"weights column {weights!r} must hold finite non-negative numbers."
            )
    if cluster is not None:
        g = pd.factorize(frame[cluster])[0]
    if exposure is not None:
        e = pd.to_numeric(frame[exposure], errors="coerce").to_numpy(dtype=float)
        if np.any(~np.isfinite(e)) or np.any(e <= 0):
            bad = int(np.sum(~np.isfinite(e) | (e <= 0)))
            raise DataError(
                f"exposure column {exposure!r} (person-time) must be positive; {bad} rows are "
                "zero, negative or not numeric. Remove rows without follow-up time."
            )
        off = np.log(e)
    return Design(
        formula=formula,
        outcome=outcome,
        y=y.iloc[:, 0],
        X=X,
        design_info=X.design_info,
        frame=frame,
        weights=w,
        groups=g,
        offset=off,
        n_dropped=n_dropped,
        extra={"y_info": y_info, "y_column": y_col},
    )


def _as_categoricals(sub: pd.DataFrame, used: list[str], *, strings: str = "category"
                     ) -> pd.DataFrame:
    """Make the formula's columns patsy-friendly (rows with missing values already gone).

    String columns (object or pandas ``string``/``str`` dtype, the pandas 3 default) become
    Categoricals of their present levels (``strings="category"``: the design patsy builds
    from strings, vectorised) or plain objects (``strings="object"``, for new data under a
    fitted design); nullable ``boolean`` becomes ``bool``, nullable ``Int64`` ``int64``
    and ``Float64`` ``float`` (patsy does not understand pandas extension dtypes).
    """
    conv: dict[str, Any] = {}
    for c in used:
        s = sub[c]
        if isinstance(s.dtype, pd.BooleanDtype):
            conv[c] = s.to_numpy(dtype=bool)
        elif isinstance(s.dtype, pd.api.extensions.ExtensionDtype) and (
                pd.api.types.is_numeric_dtype(s.dtype)):
            kind = "int64" if pd.api.types.is_integer_dtype(s.dtype) and s.notna().all() else float
            conv[c] = s.to_numpy(dtype=kind, na_value=np.nan if kind is float else None)
        elif s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            if strings == "object":
                conv[c] = s.to_numpy(dtype=object)
                continue
            try:
                conv[c] = pd.Categorical(s, categories=sorted(s.dropna().unique()))
            except TypeError:  # mixed, unorderable values: leave it to patsy
                continue
    if not conv:
        return sub
    sub = sub.copy()
    for c, v in conv.items():
        sub[c] = v
    return sub


def _formula_columns(formula: str, df: pd.DataFrame) -> list[str]:
    """Data columns named in the formula (so that e.g. ``I(x == 4)`` with x missing drops)."""
    unquoted = re.sub(r"'[^']*'|\"[^\"]*\"", " ", formula)  # not level names in quotes
    names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", unquoted))
    names |= set(re.findall(r"Q\(\s*['\"]([^'\"]+)['\"]\s*\)", formula))
    return [c for c in df.columns if isinstance(c, str) and c in names]


def _check_covariates(X: pd.DataFrame, formula: str) -> None:
    arr = X.to_numpy(dtype=float)
    n, p = arr.shape
    for j, name in enumerate(X.columns):
        if name == "Intercept":
            continue
        col = arr[:, j]
        if np.ptp(col) == 0:
            hint = (
                "a factor level with no analysed rows"
                if "[T." in name
                else "a covariate with one value only"
            )
            raise DataError(
                f"Covariate column {name!r} in {formula!r} is constant ({col[0]:g}) in all "
                f"{n} analysed rows ({hint}). Remove it from the formula or merge the level."
            )
    if p > n:
        raise DataError(
            f"{formula!r} has {p} coefficients but only {n} analysed rows; simplify the model."
        )
    # rank from the eigenvalues of the column-normalised cross-product (p x p: cheap for
    # big n); exact collinearity gives eigenvalues ~1e-16, near-collinearity is left to the fit
    norm = np.sqrt(np.sum(arr**2, axis=0))
    xs = arr / np.where(norm > 0, norm, 1.0)
    gram = xs.T @ xs
    ev = np.linalg.eigvalsh(gram)
    rank = int(np.sum(ev > 1e-11 * max(ev.max(), 1.0)))
    if rank < p:
        # the first column that is a combination of the previous ones
        culprit = X.columns[-1]
        for j in range(2, p + 1):
            e = np.linalg.eigvalsh(gram[:j, :j])
            if np.sum(e > 1e-11 * max(e.max(), 1.0)) < j:
                culprit = X.columns[j - 1]
                break
        raise DataError(
            f"The design of {formula!r} is rank deficient (rank {rank} < {p} columns); "
            f"{culprit!r} is a linear combination of earlier columns (collinear covariates, or "
            "a spline basis without centring, e.g. use cr(x, df=4, constraints='center'))."
        )


def term_columns(design_info: Any) -> dict[str, list[str]]:
    """Map each formula term (as written) to its design-matrix column names."""
    out: dict[str, list[str]] = {}
    for term, sl in design_info.term_name_slices.items():
        out[term] = list(design_info.column_names[sl])
    return out


def design_for(design: Design, data: pd.DataFrame, *, model_name: str) -> tuple[np.ndarray,
                                                                               np.ndarray]:
    """Outcome and design matrix of new data under a fitted model's formula."""
    if not isinstance(data, pd.DataFrame):
        raise SchemaError(f"{model_name}(): data must be a pandas DataFrame.")
    df = data.reset_index(drop=True)
    keep = np.ones(len(df), dtype=bool)
    for col in _formula_columns(design.formula, df):
        keep &= df[col].notna().to_numpy()
    sub = _as_categoricals(df.loc[keep], _formula_columns(design.formula, df), strings="object")
    try:
        y, X = patsy.build_design_matrices(
            [design.extra["y_info"], design.design_info], sub,
            return_type="dataframe", NA_action="drop",
        )
    except patsy.PatsyError as err:
        raise DataError(
            f"{model_name}(): cannot evaluate {design.formula!r} on the new data: "
            f"{str(err).splitlines()[0]}"
        ) from None
    rows = X.index.intersection(y.index)
    n_dropped = len(df) - len(rows)
    if n_dropped:
        warnings.warn(
            f"{model_name}(): {n_dropped} of {len(df)} rows of the new data dropped because "
            "of missing values in the model variables.",
            DataWarning,
            stacklevel=3,
        )
    return (y.loc[rows, design.extra["y_column"]].to_numpy(dtype=float),
            X.loc[rows].to_numpy(dtype=float))
