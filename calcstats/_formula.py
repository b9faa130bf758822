"""Right-hand-side formula → design matrix, shared by the survival models.

The formula language is patsy's (statsmodels ships it), so term names are patsy's:
``C(etiology)[T.psc]``, ``cr(age, df=4)[0]``, ``age:sex[T.M]``. NumPy functions ``log``,
``log2``, ``log10``, ``exp``, ``sqrt`` and ``abs`` are available without a prefix
(``log(bili)``). The design never has an intercept column: categorical terms still use
treatment (reference) coding, as in a model with an intercept, and the intercept column is
dropped afterwards (a Cox model has no intercept).

Rows with a missing value in any model variable are dropped, never silently: a
:class:`~calcstats.DataWarning` names the columns and the number of rows, and the count is
kept on the returned :class:`Design` (``n_dropped``) so results can report it.
"""

from __future__ import annotations

import ast
import difflib
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import patsy

from calcstats._errors import DataError, DataWarning, SchemaError

__all__ = [
    "Design",
    "build_design",
    "check_empty_terms",
    "check_object_numbers",
    "design_for_new_data",
    "formula_variables",
]

_FUNCTIONS = {
    "log": np.log,
    "log2": np.log2,
    "log10": np.log10,
    "log1p": np.log1p,
    "exp": np.exp,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "np": np,
}


def _centred_spline(base: type) -> object:
    """patsy's ``cr``/``cc`` with ``constraints="center"`` by default.

    Without an intercept the plain natural-spline basis spans the constant, which a Cox
    model cannot estimate; centring gives ``df`` identifiable columns (as R's ``ns``).
    """

    class Centred(base):  # type: ignore[misc, valid-type]
        def memorize_chunk(
            self, x, df=None, knots=None, lower_bound=None, upper_bound=None, constraints="center"
        ):
            return super().memorize_chunk(x, df, knots, lower_bound, upper_bound, constraints)

        def transform(
            self, x, df=None, knots=None, lower_bound=None, upper_bound=None, constraints="center"
        ):
            return super().transform(x, df, knots, lower_bound, upper_bound, constraints)

    Centred.__name__ = base.__name__
    return patsy.stateful_transform(Centred)


_FUNCTIONS["cr"] = _centred_spline(patsy.mgcv_cubic_splines.CR)
_FUNCTIONS["cc"] = _centred_spline(patsy.mgcv_cubic_splines.CC)
_LEVEL_REPR = re.compile(r"np\.(?:float|int|uint)\d+\(([^()]*)\)|np\.str_\(('[^']*'|\"[^\"]*\")\)")


def _clean_name(name: str) -> str:
    """``C(stage)[T.np.float64(2.0)]`` → ``C(stage)[T.2.0]`` (numpy 2 scalar reprs)."""

    def repl(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            return m.group(1)
        return m.group(2)[1:-1]

    return _LEVEL_REPR.sub(repl, name)


_PATSY_BUILTINS = {
    "C",
    "I",
    "Q",
    "cr",
    "cc",
    "bs",
    "te",
    "center",
    "standardize",
    "scale",
    "Treatment",
    "Sum",
    "Poly",
    "Diff",
    "Helmert",
    "True",
    "False",
    "None",
}


@dataclass
class Design:
    """A design matrix built from a formula.

    Attributes
    ----------
    X : numpy.ndarray
        ``n × p`` float design (no intercept).
    columns : list of str
        Column (coefficient) names, patsy's.
    terms : dict of str to list of int
        For each formula term, the positions of its columns (used for per-term tests).
    variables : list of str
        The data columns the formula uses.
    rows : numpy.ndarray
        Positions (0-based, in the input data) of the rows kept.
    n_dropped : int
        Rows dropped for missing values in the model variables.
    """

    X: np.ndarray
    columns: list[str]
    terms: dict[str, list[int]]
    variables: list[str]
    rows: np.ndarray
    n_dropped: int
    design_info: patsy.DesignInfo = field(repr=False)
    dropped_columns: list[str] = field(default_factory=list)
    #: positions in ``design_info.column_names`` of the columns of ``X``, in formula order
    order: list[int] = field(default_factory=list)


def _split_formula(formula: str) -> str:
    if not isinstance(formula, str) or not formula.strip():
        raise SchemaError(
            f"formula must be a non-empty string such as 'age + C(etiology)', got {formula!r}."
        )
    if "~" in formula:
        lhs, rhs = formula.split("~", 1)
        if lhs.strip():
            raise SchemaError(
                f"formula {formula!r} has a left-hand side ({lhs.strip()!r}); give only the "
                "right-hand side, e.g. 'age + C(etiology)', and name the outcome columns with "
                "time= and event=."
            )
        formula = rhs
    return formula.strip()


def _names_in_code(code: str) -> list[str]:
    """Data-column names referenced by one patsy factor's Python code."""
    try:
        tree = ast.parse(code, mode="eval")
    except SyntaxError as exc:
        raise SchemaError(
            f"cannot parse formula term {code!r}: {exc.msg}. Quote column names with spaces "
            "or dots as Q('my col')."
        ) from None
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Q":
            for arg in node.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    names.append(arg.value)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            names.append(node.id)
    return names


def formula_variables(formula: str, data: pd.DataFrame) -> list[str]:
    """The data columns a right-hand-side formula uses (in order of first use).

    Raises :class:`~calcstats.SchemaError` for a name that is neither a column of ``data``
    nor a known function, listing close matches.
    """
    rhs = _split_formula(formula)
    try:
        desc = patsy.ModelDesc.from_formula(rhs)
    except patsy.PatsyError as exc:
        raise SchemaError(f"cannot parse formula {formula!r}: {exc}") from None
    found: list[str] = []
    cols = [str(c) for c in data.columns]
    for term in desc.rhs_termlist:
        for factor in term.factors:
            for name in _names_in_code(factor.code):
                if name in data.columns:
                    if name not in found:
                        found.append(name)
                elif name in _FUNCTIONS or name in _PATSY_BUILTINS:
                    continue
                else:
                    close = difflib.get_close_matches(name, cols, n=3, cutoff=0.6)
                    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
                    dotted = [c for c in cols if c.startswith((f"{name}.", f"{name} "))]
                    if dotted:
                        hint = f" Quote names with dots or spaces: Q({dotted[0]!r})."
                    raise SchemaError(
                        f"formula {formula!r} uses {name!r}, which is not a column of the "
                        f"data (columns: {', '.join(cols[:20])}{' ...' if len(cols) > 20 else ''})."
                        f"{hint}"
                    )
    return found


_NUMBER_KINDS = frozenset({"integer", "floating", "mixed-integer-float", "decimal"})


def check_object_numbers(data: pd.DataFrame, variables: Sequence[str], formula: str) -> None:
    """Refuse formula columns that a formula would silently code as categories.

    patsy codes an ``object`` column as categorical, so ``age`` read in as objects would
    become one dummy per distinct age; dates and durations likewise become one dummy per
    date (or no column at all). Raise :class:`~calcstats.SchemaError` naming the column
    and the conversion instead.
    """
    for v in variables:
        s = data[v]
        if s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) in _NUMBER_KINDS:
            raise SchemaError(
                f"column {v!r} in formula {formula!r} holds numbers stored as dtype object, "
                f"which a formula would code as a categorical variable ({s.nunique()} "
                f"levels). Convert it first: data[{v!r}] = pd.to_numeric(data[{v!r}]) "
                "(then write C(...) around it if you do mean it as categorical)."
            )
        if (pd.api.types.is_datetime64_any_dtype(s) or pd.api.types.is_timedelta64_dtype(s)
                or isinstance(s.dtype, pd.PeriodDtype)):
            raise SchemaError(
                f"column {v!r} in formula {formula!r} holds dates or durations ({s.dtype}), "
                "which a formula would code as one category per value. Use a number derived "
                "from it instead, e.g. age in years or calendar year."
            )


def check_empty_terms(info: patsy.DesignInfo, formula: str) -> None:
    """Refuse formula terms that produced no design column.

    A categorical variable with a single level in the analysed rows gives no column under
    treatment coding, so the term would silently vanish from the model (R stops with
    "contrasts can be applied only to factors with 2 or more levels").
    """
    empty = [
        _clean_name(name)
        for name, sl in info.term_name_slices.items()
        if name != "Intercept" and sl.stop == sl.start
    ]
    if empty:
        raise DataError(
            f"term(s) {', '.join(map(repr, empty))} of formula {formula!r} give no covariate "
            "column: the variable takes a single value (one level) in the analysed rows. "
            "Drop the term, or check the filtering that left it constant."
        )


def _patsy_column(s: pd.Series) -> object:
    """A column as patsy should see it.

    A pandas Categorical stays categorical, with its category order (the first category
    is the reference, as for the regression models) and without levels that have no
    analysed rows; ``to_numpy()`` would turn numeric categories into plain numbers and
    text categories into alphabetically ordered levels.
    """
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.array.remove_unused_categories()
    return s.to_numpy()


def build_design(
    data: pd.DataFrame,
    formula: str,
    *,
    extra: Sequence[str] = (),
    table: str = "data",
) -> Design:
    """Build the design matrix of ``formula`` on ``data``.

    Parameters
    ----------
    data : pandas.DataFrame
        The analysis table.
    formula : str
        Right-hand side, e.g. ``"age + C(etiology) + log(bili)"``.
    extra : sequence of str
        Further columns (time, event, strata, ...) whose missing values also drop a row.
    table : str
        Name of the table in messages.

    Returns
    -------
    Design

    Examples
    --------
    >>> import pandas as pd
    >>> d = build_design(pd.DataFrame({"x": [1.0, 2, 4], "g": ["a", "b", "a"]}), "log(x) + C(g)")
    >>> d.columns
    ['log(x)', 'C(g)[T.b]']
    """
    if not isinstance(data, pd.DataFrame):
        raise SchemaError(f"{table} must be a pandas DataFrame, got {type(data).__name__}.")
    variables = formula_variables(formula, data)
    if not variables:
        raise SchemaError(f"formula {formula!r} uses no column of {table}.")
    check_object_numbers(data, variables, formula)
    used = list(dict.fromkeys([*variables, *extra]))
    miss = data[used].isna()
    bad = miss.any(axis=1).to_numpy()
    n_dropped = int(bad.sum())
    dropped_cols = [c for c in used if bool(miss[c].any())]
    if n_dropped:
        counts = ", ".join(f"{c} ({int(miss[c].sum())})" for c in dropped_cols)
        warnings.warn(
            f"{n_dropped} of {len(data)} rows of {table} dropped for missing values in the "
            f"model variables: {counts}. Impute or filter them first to silence this.",
            DataWarning,
            stacklevel=3,
        )
    rows = np.flatnonzero(~bad)
    if len(rows) == 0:
        raise DataError(f"no complete rows left in {table} for the model variables {used}.")
    sub = data.iloc[rows] if n_dropped else data
    frame = {v: _patsy_column(sub[v]) for v in variables}
    env = patsy.EvalEnvironment([_FUNCTIONS])
    try:
        with np.errstate(all="ignore"):  # non-finite results are reported below
            mat = patsy.dmatrix(
                "1 + " + _split_formula(formula),
                frame,
                eval_env=env,
                NA_action="raise",
                return_type="matrix",
            )
    except patsy.PatsyError as exc:
        raise SchemaError(f"cannot build the design of formula {formula!r}: {exc}") from None
    info = mat.design_info
    check_empty_terms(info, formula)
    X = np.asarray(mat, dtype=float)
    keep = _formula_order(info, formula)
    X = X[:, keep]
    pos = {old: new for new, old in enumerate(keep)}
    terms: dict[str, list[int]] = {}
    for name, sl in info.term_name_slices.items():
        idx = [pos[i] for i in range(sl.start, sl.stop) if i in pos]
        if idx:
            terms[_clean_name(name)] = idx
    if not np.all(np.isfinite(X)):
        badcol = [
            info.column_names[k] for j, k in enumerate(keep) if not np.all(np.isfinite(X[:, j]))
        ]
        raise DataError(
            f"the design of formula {formula!r} has infinite or undefined values in "
            f"{', '.join(badcol)} (e.g. log of zero or of a negative number); "
            "transform or filter those rows first."
        )
    return Design(
        X=np.ascontiguousarray(X),
        columns=[_clean_name(info.column_names[i]) for i in keep],
        terms=terms,
        variables=variables,
        rows=rows,
        n_dropped=n_dropped,
        design_info=info,
        dropped_columns=dropped_cols,
        order=keep,
    )


def design_for_new_data(design: Design, newdata: pd.DataFrame) -> np.ndarray:
    """The design matrix for ``newdata`` using the fitted formula's coding and knots."""
    missing = [v for v in design.variables if v not in newdata.columns]
    if missing:
        raise SchemaError(
            f"new data lacks the model variable(s) {', '.join(missing)}; give one column per "
            f"variable in the formula ({', '.join(design.variables)})."
        )
    if newdata[design.variables].isna().any().any():
        raise DataError("new data have missing values in the model variables; fill them first.")
    frame = {v: newdata[v].to_numpy() for v in design.variables}
    try:
        (mat,) = patsy.build_design_matrices([design.design_info], frame, NA_action="raise")
    except patsy.PatsyError as exc:
        raise DataError(f"cannot code the new data with the fitted formula: {exc}") from None
    keep = design.order or [
        i for i, n in enumerate(design.design_info.column_names) if n != "Intercept"
    ]
    return np.asarray(mat, dtype=float)[:, keep]


def _formula_order(info: patsy.DesignInfo, formula: str) -> list[int]:
    """Design columns (no intercept) with terms in the order the formula writes them.

    patsy groups terms by their numeric factors (categorical-only terms first); a results
    table should list ``any_calcification + age + C(etiology)`` in that order.
    """
    try:
        written = [
            t.name()
            for t in patsy.ModelDesc.from_formula("1 + " + _split_formula(formula)).rhs_termlist
        ]
    except patsy.PatsyError:
        written = []
    rank = {name: i for i, name in enumerate(written)}
    slices = [(name, sl) for name, sl in info.term_name_slices.items() if name != "Intercept"]
    slices.sort(key=lambda kv: rank.get(kv[0], len(rank)))
    return [
        i
        for _, sl in slices
        for i in range(sl.start, sl.stop)
        if info.column_names[i] != "Intercept"
    ]
