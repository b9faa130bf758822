"""The formula language of every calcstats model: patsy's, with a few additions.

:mod:`calcstats._design` builds the design matrix; this module holds what it reads a
formula with: the functions a formula may call (``log``, ``exp``, ... with or without
``np.``; centred natural and cyclic splines ``cr``/``cc``), the parsing of a formula into
its outcome and terms, the data columns a formula uses (with close-match hints for a
misspelt name), the refusal of columns a formula would silently mis-code, and the
clean-up of numpy-2 scalar reprs in coefficient names.

Examples
--------
>>> import pandas as pd
>>> formula_variables("log(bili) + C(sex)", pd.DataFrame({"bili": [1.0], "sex": ["F"]}))
['bili', 'sex']
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import patsy

from calcstats._errors import SchemaError

__all__ = ["clean_name", "formula_variables"]

_FUNCTIONS: dict[str, Any] = {
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

    The plain natural-spline basis spans the constant, which a model with an intercept (or
    a Cox model) cannot estimate; centring gives ``df`` identifiable columns (as R's ``ns``).
    """

    class Centred(base):
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
_ENV = patsy.EvalEnvironment([_FUNCTIONS])
_LEVEL_REPR = re.compile(r"np\.(?:float|int|uint)\d+\(([^()]*)\)|np\.str_\(('[^']*'|\"[^\"]*\")\)")
_PATSY_BUILTINS = frozenset(
    {
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
)
_NUMBER_KINDS = frozenset({"integer", "floating", "mixed-integer-float", "decimal"})


def clean_name(name: str) -> str:
    """``C(stage)[T.np.float64(2.0)]`` → ``C(stage)[T.2.0]`` (numpy-2 scalar reprs)."""

    def repl(m: re.Match[str]) -> str:
        return m.group(1) if m.group(1) is not None else m.group(2)[1:-1]

    return _LEVEL_REPR.sub(repl, name)


def _split(formula: str, *, response: bool, model_name: str) -> tuple[str, str]:
    if not isinstance(formula, str) or not formula.strip():
        example = "'outcome ~ age + C(etiology)'" if response else "'age + C(etiology)'"
        raise SchemaError(
            f"{model_name}(): formula must be a non-empty string such as "
            f"{example}, got {formula!r}."
        )
    lhs, rhs = formula.split("~", 1) if "~" in formula else ("", formula)
    if response and not lhs.strip():
        raise SchemaError(
            f"{model_name}(): formula {formula!r} has no outcome; write it as "
            "'outcome ~ x1 + C(x2)'."
        )
    if not response and lhs.strip():
        raise SchemaError(
            f"{model_name}(): formula {formula!r} has a left-hand side ({lhs.strip()!r}); give "
            "only the right-hand side, e.g. 'age + C(etiology)', and name the outcome columns "
            "with time= and event=."
        )
    if not rhs.strip():
        raise SchemaError(
            f"{model_name}(): formula {formula!r} has no terms on its right-hand "
            "side; write '~ 1' for a model without covariates."
        )
    return lhs.strip(), rhs.strip()


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


def _variables(termlist: list[Any], data: pd.DataFrame, formula: str) -> list[str]:
    found: list[str] = []
    cols = [str(c) for c in data.columns]
    for term in termlist:
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
                    more = " ..." if len(cols) > 20 else ""
                    raise SchemaError(
                        f"formula {formula!r} uses {name!r}, which is not a column of the "
                        f"data (columns: {', '.join(cols[:20])}{more}).{hint}"
                    )
    return found


def formula_variables(formula: str, data: pd.DataFrame) -> list[str]:
    """The data columns a formula's right-hand side uses (in order of first use).

    Raises :class:`~calcstats.SchemaError` for a name that is neither a column of ``data``
    nor a known function, listing close matches.

    Examples
    --------
    >>> import pandas as pd
    >>> formula_variables("log(bili) + C(sex)", pd.DataFrame({"bili": [1.0], "sex": ["F"]}))
    ['bili', 'sex']
    """
    rhs = formula.split("~", 1)[-1] if isinstance(formula, str) else formula
    desc = _parse(rhs, formula)
    return _variables(desc.rhs_termlist, data, formula)


def _parse(text: str, formula: str) -> Any:
    try:
        return patsy.ModelDesc.from_formula(text)
    except patsy.PatsyError as exc:
        raise SchemaError(f"cannot parse formula {formula!r}: {str(exc).splitlines()[0]}") from None


def _check_columns(data: pd.DataFrame, variables: Sequence[str], formula: str) -> None:
    """Refuse columns that a formula would silently code as categories."""
    for v in variables:
        s = data[v]
        if s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) in _NUMBER_KINDS:
            raise SchemaError(
                f"column {v!r} in formula {formula!r} holds numbers stored as dtype object, "
                f"which a formula would code as a categorical variable ({s.nunique()} "
                f"levels). Convert it first: data[{v!r}] = pd.to_numeric(data[{v!r}]) "
                "(then write C(...) around it if you do mean it as categorical)."
            )
        if (
            pd.api.types.is_datetime64_any_dtype(s)
            or pd.api.types.is_timedelta64_dtype(s)
            or isinstance(s.dtype, pd.PeriodDtype)
        ):
            raise SchemaError(
                f"column {v!r} in formula {formula!r} holds dates or durations ({s.dtype}), "
                "which a formula would code as one category per value. Use a number derived "
                "from it instead, e.g. age in years or calendar year."
            )
