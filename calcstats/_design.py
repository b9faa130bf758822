"""The one formula → design builder of every calcstats model.

``cox``, ``fine_gray``, ``multistate_cox``, the GLMs (``logistic``, ``poisson``,
``log_binomial``, ``negative_binomial``, ``linear``), ``propensity`` and ``mice`` pooling
all read their formula here, so a formula means the same everywhere:

* The language is patsy's (the R-style formula language statsmodels also uses):
  ``C(etiology)``, ``C(etiology, Treatment('pbc'))``, ``Q('odd.name')``, ``I(age / 10)``,
  interactions ``a:b`` and ``a * b``, natural cubic splines ``cr(age, df=4)`` and cyclic
  ``cc(x, df=4)`` (both centred, so they never span the intercept), and the NumPy functions
  ``log``, ``log2``, ``log10``, ``log1p``, ``exp``, ``sqrt``, ``abs`` with or without the
  ``np.`` prefix.
* Coefficients are named as patsy names them (``C(etiology)[T.psc]``, ``cr(age, df=4)[0]``)
  and listed **in the order the formula writes the terms** (patsy itself puts categorical
  terms first).
* Survival models take a right-hand side only and have no intercept column (categorical
  terms still use treatment coding, as in a model with an intercept). Regression models
  take ``outcome ~ terms`` and have an intercept unless the formula removes it (``- 1``).
* Rows with a missing value in any formula variable (or in ``extra`` columns such as
  time, event, weights, cluster) are dropped with a :class:`~calcstats.DataWarning` that
  names the columns and counts; the count is kept (``n_dropped``) so that results report
  it. Columns that a formula would silently mis-code (numbers stored as text, dates) and
  terms that give no column (a one-level factor) are refused with a clear error.
* Rank is checked on the **centred and scaled** design, so ``x + 1e7`` is not mistaken
  for a copy of the intercept. :class:`Scaling` gives the models the same centred and
  scaled columns to fit on, and maps the estimates back; fits are therefore invariant to
  affine rescaling of a covariate.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import patsy

from calcstats._errors import DataError, DataWarning, SchemaError, user_stacklevel
from calcstats._formula import (
    _ENV,
    _check_columns,
    _parse,
    _split,
    _variables,
    clean_name,
)

__all__ = [
    "Design",
    "Scaling",
    "build_design",
]


@dataclass
class Scaling:
    """Centring and scaling of design columns, and the map back to the original units.

    The models fit on ``Z = (X − centre) / scale`` (the intercept column, when present,
    stays 1). With ``β`` on the original columns and ``γ`` on ``Z``:
    ``β_j = γ_j / scale_j`` for the slopes and ``β_0 = γ_0 − Σ_j γ_j centre_j / scale_j``
    for the intercept, i.e. ``β = T γ``; covariances map as ``T V Tᵀ``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.column_stack([np.ones(3), [1e12, 1e12 + 1e8, 1e12 + 3e8]])
    >>> s = Scaling.of(X, intercept=0)
    >>> np.round(s.apply(X)[:, 1], 6).tolist()
    [-1.069045, -0.267261, 1.336306]
    """

    centre: np.ndarray
    scale: np.ndarray
    intercept: int | None

    @classmethod
    def of(
        cls,
        X: np.ndarray,
        *,
        intercept: int | None,
        centre: bool = True,
        weights: np.ndarray | None = None,
    ) -> Scaling:
        """Scale the columns, and centre them when ``centre`` (a model with an intercept, or
        one invariant to shifts such as Cox)."""
        X = np.asarray(X, dtype=float)
        p = X.shape[1]
        w = None if weights is None else np.asarray(weights, dtype=float)
        if w is not None and w.sum() <= 0:
            w = None
        mean = np.average(X, axis=0, weights=w) if len(X) else np.zeros(p)
        c = mean if centre else np.zeros(p)
        dev = X - c
        sd = np.sqrt(np.average(dev * dev, axis=0, weights=w)) if len(X) else np.ones(p)
        sd = np.where(np.isfinite(sd) & (sd > 0), sd, 1.0)
        if intercept is not None:
            c[intercept], sd[intercept] = 0.0, 1.0
        return cls(centre=c, scale=sd, intercept=intercept)

    def apply(self, X: np.ndarray) -> np.ndarray:
        """``(X − centre) / scale`` (the intercept column unchanged)."""
        return np.ascontiguousarray((np.asarray(X, dtype=float) - self.centre) / self.scale)

    @property
    def back(self) -> np.ndarray:
        """The matrix ``T`` with ``β = T γ``."""
        T = np.diag(1.0 / self.scale)
        if self.intercept is not None:
            T[self.intercept, :] -= self.centre / self.scale
            T[self.intercept, self.intercept] = 1.0
        return T

    def coef(self, gamma: np.ndarray) -> np.ndarray:
        return self.back @ gamma

    def cov(self, v: np.ndarray) -> np.ndarray:
        T = self.back
        return T @ v @ T.T


@dataclass
class Design:
    """A model's design, built by :func:`build_design`.

    Attributes
    ----------
    formula : str
        The formula as given.
    X : pandas.DataFrame
        Design matrix of the analysed rows (index 0..n-1), columns in formula order; with an
        ``Intercept`` column for regression models.
    y : pandas.Series or None
        The outcome (regression models).
    outcome : str or None
        Name of the outcome (``I(stage == 4)`` for an expression).
    terms : dict of str to list of str
        Each formula term (as written) and its columns, in formula order.
    variables : list of str
        The data columns the formula uses (right-hand side, in order of first use).
    rows : numpy.ndarray
        Positions (0-based) in the input data of the analysed rows.
    n_dropped : int
        Rows dropped for missing values.
    dropped_columns : list of str
        Columns whose missing values dropped rows.
    """

    formula: str
    X: pd.DataFrame
    y: pd.Series | None
    outcome: str | None
    terms: dict[str, list[str]]
    variables: list[str]
    rows: np.ndarray
    n_dropped: int
    dropped_columns: list[str]
    design_info: Any = field(repr=False)
    y_info: Any = field(default=None, repr=False)
    order: list[int] = field(default_factory=list, repr=False)
    frame: pd.DataFrame | None = field(default=None, repr=False)
    #: the model is unchanged by adding a constant to a column (it has an intercept, or it
    #: is a survival model); then columns are centred for fitting and a constant column is
    #: not estimable
    shift_invariant: bool = True

    @property
    def columns(self) -> list[str]:
        """Coefficient names (design columns), in formula order."""
        return [str(c) for c in self.X.columns]

    @property
    def matrix(self) -> np.ndarray:
        """The design as a contiguous float array."""
        return np.ascontiguousarray(self.X.to_numpy(dtype=float))

    @property
    def intercept(self) -> int | None:
        """Position of the intercept column, or None."""
        return self.columns.index("Intercept") if "Intercept" in self.columns else None

    def scaling(self, *, weights: np.ndarray | None = None) -> Scaling:
        """Centring (when shift-invariant) and scaling for fitting (see :class:`Scaling`)."""
        return Scaling.of(
            self.matrix, intercept=self.intercept, centre=self.shift_invariant, weights=weights
        )

    def term_of(self) -> dict[str, str]:
        """Column → formula term."""
        return {c: t for t, cols in self.terms.items() for c in cols}

    def categorical_levels(self) -> dict[str, list[Any]]:
        """Levels (reference first, in coding order) of each one-factor categorical term."""
        out: dict[str, list[Any]] = {}
        info = self.design_info
        for term in info.terms:
            if len(term.factors) != 1:
                continue
            fi = info.factor_infos[term.factors[0]]
            if fi.type == "categorical":
                out[clean_name(term.name())] = list(fi.categories)
        return out

    def new_data(self, newdata: pd.DataFrame) -> np.ndarray:
        """The design for ``newdata`` under this design's coding, knots and reference levels."""
        if not isinstance(newdata, pd.DataFrame):
            raise SchemaError(f"new data must be a pandas DataFrame, got {type(newdata).__name__}.")
        missing = [v for v in self.variables if v not in newdata.columns]
        if missing:
            raise SchemaError(
                f"new data lacks the model variable(s) {', '.join(missing)}; give one column "
                f"per variable in the formula ({', '.join(self.variables)})."
            )
        if newdata[self.variables].isna().any().any():
            raise DataError("new data have missing values in the model variables; fill them first.")
        frame = _patsy_frame(newdata, self.variables, strings="object")
        try:
            with np.errstate(all="ignore"):
                (mat,) = patsy.build_design_matrices([self.design_info], frame, NA_action="raise")
        except patsy.PatsyError as exc:
            raise DataError(
                f"cannot code the new data with the fitted formula "
                f"{self.formula!r}: {str(exc).splitlines()[0]}"
            ) from None
        return np.asarray(mat, dtype=float)[:, self.order]

    def outcome_and_matrix(
        self, newdata: pd.DataFrame, *, model_name: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """Outcome and design of new data under this design (rows with missing values in the
        model variables are dropped with a :class:`~calcstats.DataWarning`)."""
        if self.y_info is None:
            raise SchemaError(f"{model_name}(): the model has no outcome to evaluate.")
        if not isinstance(newdata, pd.DataFrame):
            raise SchemaError(f"{model_name}(): data must be a pandas DataFrame.")
        lhs = self.formula.split("~", 1)[0]
        y_vars = _variables(_parse(lhs, self.formula).rhs_termlist, newdata, self.formula)
        used = list(dict.fromkeys([*y_vars, *self.variables]))
        missing = [v for v in used if v not in newdata.columns]
        if missing:
            raise SchemaError(f"{model_name}(): new data lack {', '.join(missing)}.")
        keep = ~newdata[used].isna().any(axis=1).to_numpy()
        if not keep.all():
            warnings.warn(
                f"{model_name}(): {int((~keep).sum())} of {len(newdata)} rows of the new data "
                "dropped because of missing values in the model variables.",
                DataWarning,
                stacklevel=user_stacklevel(),
            )
        sub = newdata.loc[keep]
        frame = _patsy_frame(sub, used, strings="object")
        try:
            with np.errstate(all="ignore"):
                ymat, mat = patsy.build_design_matrices(
                    [self.y_info, self.design_info], frame, NA_action="raise"
                )
        except patsy.PatsyError as exc:
            raise DataError(
                f"{model_name}(): cannot evaluate {self.formula!r} on the new data: "
                f"{str(exc).splitlines()[0]}"
            ) from None
        y = np.asarray(ymat, dtype=float)
        y = y[:, -1] if y.shape[1] == 2 else y[:, 0]
        return y, np.asarray(mat, dtype=float)[:, self.order]


def _patsy_frame(
    sub: pd.DataFrame, variables: Sequence[str], *, strings: str = "category"
) -> dict[str, Any]:
    """The formula's columns as patsy should see them.

    A pandas Categorical keeps its category order (the first category is the reference)
    without levels that have no analysed rows; text columns (object, ``string``, Arrow)
    become Categoricals of their present levels in sorted order (``strings="object"``
    keeps them as objects, for new data under a fitted design); nullable ``boolean``
    becomes ``bool`` and nullable numbers plain NumPy numbers (patsy does not understand
    pandas extension dtypes).
    """
    out: dict[str, Any] = {}
    for v in variables:
        s = sub[v]
        if isinstance(s.dtype, pd.CategoricalDtype):
            out[v] = s.array.remove_unused_categories() if strings == "category" else s.array
        elif isinstance(s.dtype, pd.BooleanDtype) or (
            isinstance(s.dtype, pd.ArrowDtype) and pd.api.types.is_bool_dtype(s.dtype)
        ):
            out[v] = s.to_numpy(dtype=bool)
        elif pd.api.types.is_bool_dtype(s.dtype):
            out[v] = s.to_numpy()
        elif pd.api.types.is_numeric_dtype(s.dtype):
            if isinstance(s.dtype, pd.api.extensions.ExtensionDtype):
                integral = pd.api.types.is_integer_dtype(s.dtype) and bool(s.notna().all())
                out[v] = s.to_numpy(
                    dtype="int64" if integral else float, na_value=None if integral else np.nan
                )
            else:
                out[v] = s.to_numpy()
        elif s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            if strings == "object":
                out[v] = s.to_numpy(dtype=object)
                continue
            try:
                out[v] = pd.Categorical(
                    s.to_numpy(dtype=object), categories=sorted(s.dropna().unique())
                )
            except TypeError:  # mixed, unorderable values: leave it to patsy
                out[v] = s.to_numpy(dtype=object)
        else:
            out[v] = s.to_numpy()
    return out


def _formula_order(info: Any, written: list[str]) -> list[int]:
    """Design columns with terms in the order the formula writes them."""
    rank = {name: i for i, name in enumerate(written)}
    slices = list(info.term_name_slices.items())
    slices.sort(key=lambda kv: -1 if kv[0] == "Intercept" else rank.get(kv[0], len(rank)))
    return [i for _, sl in slices for i in range(sl.start, sl.stop)]


def build_design(
    data: pd.DataFrame,
    formula: str,
    *,
    response: bool,
    intercept: bool = True,
    extra: Sequence[str | None] = (),
    model_name: str = "model",
) -> Design:
    """Build the design of ``formula`` on ``data``.

    Parameters
    ----------
    data : pandas.DataFrame
        The analysis table.
    formula : str
        ``"outcome ~ age + C(etiology)"`` (``response=True``) or a right-hand side
        ``"age + C(etiology)"`` (``response=False``, survival models).
    response : bool
        Whether the formula has an outcome on its left-hand side.
    intercept : bool
        Keep the intercept column (regression models). Survival models pass False: the
        terms are coded as with an intercept, which is then dropped.
    extra : sequence of str
        Further columns (time, event, weights, cluster, ...) whose missing values also drop
        a row.
    model_name : str
        The calling function, for messages.

    Returns
    -------
    Design

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"y": [0, 1, 1, 0], "x": [1.0, 2, 4, 3], "g": ["a", "b", "a", "b"]})
    >>> build_design(d, "log(x) + C(g)", response=False, intercept=False).columns
    ['log(x)', 'C(g)[T.b]']
    >>> build_design(d, "y ~ C(g) + x", response=True).columns
    ['Intercept', 'C(g)[T.b]', 'x']
    """
    if not isinstance(data, pd.DataFrame):
        raise SchemaError(
            f"{model_name}() needs a pandas DataFrame as data, got {type(data).__name__}."
        )
    lhs, rhs = _split(formula, response=response, model_name=model_name)
    desc = _parse(rhs, formula)
    variables = _variables(desc.rhs_termlist, data, formula)
    y_vars = _variables(_parse(lhs, formula).rhs_termlist, data, formula) if lhs else []
    if not variables and not intercept:
        raise SchemaError(f"{model_name}(): formula {formula!r} uses no column of the data.")
    for col in extra:
        if col is not None and col not in data.columns:
            raise SchemaError(f"{model_name}(): {col!r} is not a column of the data.")
    _check_columns(data, [*y_vars, *variables], formula)
    used = list(dict.fromkeys([*y_vars, *variables, *(c for c in extra if c is not None)]))
    miss = data[used].isna()
    bad = miss.any(axis=1).to_numpy()
    n_dropped = int(bad.sum())
    dropped_cols = [c for c in used if bool(miss[c].any())]
    if n_dropped:
        counts = ", ".join(f"{c} ({int(miss[c].sum())})" for c in dropped_cols)
        warnings.warn(
            f"{model_name}(): {n_dropped} of {len(data)} rows dropped for missing values in "
            f"the model variables: {counts} ({len(data) - n_dropped} analysed). Impute "
            "(calcstats.mice) or filter them first to silence this.",
            DataWarning,
            stacklevel=user_stacklevel(),
        )
    rows = np.flatnonzero(~bad)
    if len(rows) == 0:
        raise DataError(f"{model_name}(): no complete rows left for the model variables {used}.")
    sub = data.iloc[rows]
    frame: Any = _patsy_frame(sub, list(dict.fromkeys([*y_vars, *variables])))
    if not frame:  # an intercept-only formula ("1"): patsy takes the row count from an index
        frame = pd.DataFrame(index=pd.RangeIndex(len(sub)))
    text = f"{lhs} ~ {rhs}" if lhs else rhs
    if not intercept:
        text = f"{lhs} ~ 1 + {rhs}" if lhs else f"1 + {rhs}"
    try:
        with np.errstate(all="ignore"):  # non-finite results are reported below
            if lhs:
                ymat, mat = patsy.dmatrices(
                    text, frame, eval_env=_ENV, NA_action="raise", return_type="matrix"
                )
            else:
                ymat, mat = (
                    None,
                    patsy.dmatrix(
                        text, frame, eval_env=_ENV, NA_action="raise", return_type="matrix"
                    ),
                )
    except patsy.PatsyError as exc:
        raise _patsy_error(exc, formula, model_name) from None
    info = mat.design_info
    _check_empty_terms(info, formula, model_name)
    written = [t.name() for t in desc.rhs_termlist]
    order = _formula_order(info, written)
    if not intercept:
        order = [i for i in order if info.column_names[i] != "Intercept"]
    names = [clean_name(info.column_names[i]) for i in order]
    X = pd.DataFrame(np.asarray(mat, dtype=float)[:, order], columns=names)
    terms: dict[str, list[str]] = {}
    pos = set(order)
    for term in sorted(
        info.term_name_slices, key=lambda t: written.index(t) if t in written else -1
    ):
        sl = info.term_name_slices[term]
        cols = [clean_name(info.column_names[i]) for i in range(sl.start, sl.stop) if i in pos]
        if cols:
            terms[clean_name(term)] = cols
    y, outcome, y_info = None, None, None
    if ymat is not None:
        y, outcome = _outcome(ymat, formula, model_name)
        y_info = ymat.design_info
    invariant = not intercept or "Intercept" in names
    _check_values(X, formula, model_name, constant_ok=not invariant)
    design = Design(
        formula=formula,
        X=X,
        y=y,
        outcome=outcome,
        terms=terms,
        variables=variables,
        rows=rows,
        n_dropped=n_dropped,
        dropped_columns=dropped_cols,
        design_info=info,
        y_info=y_info,
        order=order,
        frame=sub,
        shift_invariant=invariant,
    )
    _check_rank(design, model_name)
    return design


def _patsy_error(exc: patsy.PatsyError, formula: str, model_name: str) -> Exception:
    msg = str(exc).splitlines()[0]
    m = re.search(r"specified level (.+) not found", msg)
    if m:
        return DataError(
            f"{model_name}(): in formula {formula!r}, reference level {m.group(1)} does not "
            "occur in the analysed data. Check its spelling, or choose a level that is "
            "present, e.g. C(x, Treatment('level'))."
        )
    if "NameError" in msg:
        return SchemaError(
            f"{model_name}(): in formula {formula!r}: {msg.split('NameError: ')[-1]}. Use "
            "column names of the data (quote odd names with Q('name'))."
        )
    return SchemaError(f"{model_name}(): cannot build the design of formula {formula!r}: {msg}")


def _outcome(ymat: Any, formula: str, model_name: str) -> tuple[pd.Series, str]:
    cols = [str(c) for c in ymat.design_info.column_names]
    arr = np.asarray(ymat, dtype=float)
    if arr.shape[1] == 2 and cols[1].endswith("[True]"):
        return pd.Series(arr[:, 1], name=cols[1][: -len("[True]")]), cols[1][: -len("[True]")]
    if arr.shape[1] != 1:
        raise SchemaError(
            f"{model_name}(): the outcome of {formula!r} must be one numeric column (0/1 for "
            f"binary models); it expanded to {cols}. Code a categorical outcome as 0/1, "
            "e.g. 'I(stage == 4) ~ ...'."
        )
    if not np.all(np.isfinite(arr[:, 0])):
        raise DataError(f"{model_name}(): the outcome {cols[0]!r} has infinite values.")
    return pd.Series(arr[:, 0], name=cols[0]), cols[0]


def _check_empty_terms(info: Any, formula: str, model_name: str) -> None:
    """Refuse formula terms that produced no design column (a one-level factor)."""
    empty = [
        clean_name(name)
        for name, sl in info.term_name_slices.items()
        if name != "Intercept" and sl.stop == sl.start
    ]
    if empty:
        raise DataError(
            f"{model_name}(): term(s) {', '.join(map(repr, empty))} of formula {formula!r} give "
            "no covariate column: the variable takes a single value (one level) in the "
            "analysed rows. Drop the term, or check the filtering that left it constant."
        )


def _check_values(X: pd.DataFrame, formula: str, model_name: str, *, constant_ok: bool) -> None:
    arr = X.to_numpy(dtype=float)
    finite = np.isfinite(arr).all(axis=0)
    if not finite.all():
        bad = [c for c, ok in zip(X.columns, finite, strict=True) if not ok]
        raise DataError(
            f"{model_name}(): the design of formula {formula!r} has infinite or undefined "
            f"values in {', '.join(bad)} (e.g. log of zero or of a negative number); "
            "transform or filter those rows first."
        )
    n = len(arr)
    for j, name in enumerate(X.columns):
        if name == "Intercept" or constant_ok:
            continue
        if n and np.ptp(arr[:, j]) == 0:
            hint = (
                "a factor level with no analysed rows"
                if "[T." in str(name)
                else "a covariate with one value only"
            )
            raise DataError(
                f"{model_name}(): covariate column {name!r} in {formula!r} is constant "
                f"({arr[0, j]:g}) in all {n} analysed rows ({hint}), so its effect cannot be "
                "estimated. Remove it from the formula or merge the level."
            )


def _check_rank(design: Design, model_name: str) -> None:
    """Rank of the centred, scaled design (so affine rescaling cannot fake collinearity)."""
    n, p = design.X.shape
    k = p - (design.intercept is not None)
    if p > n:
        raise DataError(
            f"{model_name}(): {design.formula!r} has {p} coefficients but only {n} analysed "
            "rows; simplify the model (fewer terms or levels) or use more data."
        )
    if k == 0:
        return
    Z = design.scaling().apply(design.matrix)
    gram = Z.T @ Z / n
    ev = np.linalg.eigvalsh(gram)
    tol = 1e-10 * max(float(ev.max()), 1.0)
    rank = int(np.sum(ev > tol))
    if rank < p:
        culprit = design.columns[-1]
        for j in range(2, p + 1):
            e = np.linalg.eigvalsh(gram[:j, :j])
            if np.sum(e > tol) < j:
                culprit = design.columns[j - 1]
                break
        raise DataError(
            f"{model_name}(): the design of {design.formula!r} is rank deficient (rank "
            f"{rank} < {p} columns): {culprit!r} is a linear combination of earlier columns. "
            "Remove redundant terms (e.g. a variable and a spline of the same variable, or "
            "overlapping categories)."
        )
