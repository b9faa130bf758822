"""Design columns of a formula as engine expressions, from patsy's own coding.

The statistics layer builds the patsy design (``DesignInfo``) of a formula once, on a
small prototype frame holding every level of every categorical variable; this module
turns each design column into an ibis expression over the engine table: a numerical
factor is its code translated (columns, numbers, ``+ - * / **``, comparisons, ``I()``,
``Q()``, ``log``, ``log2``, ``log10``, ``log1p``, ``exp``, ``sqrt``, ``abs``, with or
without ``np.``, with NumPy's results at the edges: ``log(0) = -inf``, ``log(-1) = nan``),
a categorical factor a ``CASE`` over its levels giving the contrast matrix's entries,
and an interaction their product, in patsy's column order. Stateful transforms (splines,
``center``, ``standardize``) have no row-wise form and are refused.
"""

from __future__ import annotations

import ast
from typing import Any

import numpy as np

from calcstats._errors import SchemaError

__all__ = ["design_exprs", "factor_code_expr", "outcome_expr"]

_STATEFUL = frozenset({"cr", "cc", "bs", "te", "center", "standardize", "scale"})
_UNARY = ("log", "log2", "log10", "log1p", "exp", "sqrt", "abs")


class _Translate:
    def __init__(self, table: Any, formula: str) -> None:
        import ibis

        self.ibis = ibis
        self.table = table
        self.formula = formula

    def fail(self, code: str, why: str) -> SchemaError:
        return SchemaError(
            f"formula {self.formula!r}: the term {code!r} {why}, which the engine path "
            "cannot compute row by row. Compute the column first (e.g. a spline basis in "
            "pandas, or a new column in the engine), or analyse the data in pandas."
        )

    def __call__(self, node: ast.AST, code: str) -> Any:
        ibis = self.ibis
        if isinstance(node, ast.Name):
            if node.id not in self.table.columns:
                raise self.fail(code, f"uses {node.id!r}, which is not a column")
            return self.table[node.id]
        if isinstance(node, ast.Constant):
            return ibis.literal(node.value)
        if isinstance(node, ast.UnaryOp):
            inner = self(node.operand, code)
            if isinstance(node.op, ast.USub):
                return -inner
            if isinstance(node.op, ast.UAdd):
                return inner
            if isinstance(node.op, ast.Not | ast.Invert):
                return ~inner
        if isinstance(node, ast.BinOp):
            a, b = self(node.left, code), self(node.right, code)
            kind = type(node.op)
            if kind is ast.Add:
                return a + b
            if kind is ast.Sub:
                return a - b
            if kind is ast.Mult:
                return a * b
            if kind is ast.Div:
                return a.cast("float64") / b.cast("float64")
            if kind is ast.Pow:
                return a.cast("float64") ** b.cast("float64")
            if kind is ast.BitAnd:
                return a & b
            if kind is ast.BitOr:
                return a | b
        if isinstance(node, ast.BoolOp):
            vals = [self(v, code) for v in node.values]
            out = vals[0]
            for v in vals[1:]:
                out = (out & v) if isinstance(node.op, ast.And) else (out | v)
            return out
        if isinstance(node, ast.Compare):
            out = None
            left = self(node.left, code)
            for op, comp in zip(node.ops, node.comparators, strict=True):
                right = self(comp, code)
                part = _compare(op, left, right)
                if part is None:
                    raise self.fail(code, f"uses the comparison {type(op).__name__}")
                out = part if out is None else out & part
                left = right
            return out
        if isinstance(node, ast.Call):
            return self.call(node, code)
        raise self.fail(code, f"uses {type(node).__name__}")

    def call(self, node: ast.Call, code: str) -> Any:
        ibis = self.ibis
        func = node.func
        name = (
            func.id
            if isinstance(func, ast.Name)
            else func.attr
            if isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "np"
            else None
        )
        if name in _STATEFUL:
            raise self.fail(code, f"is a stateful transform ({name}(), fitted on the data)")
        if name == "Q" and node.args and isinstance(node.args[0], ast.Constant):
            col = node.args[0].value
            if col not in self.table.columns:
                raise self.fail(code, f"quotes {col!r}, which is not a column")
            return self.table[col]
        if name == "I" and len(node.args) == 1:
            return self(node.args[0], code)
        if name in _UNARY and len(node.args) == 1:
            x = self(node.args[0], code).cast("float64")
            nan, inf = ibis.literal(float("nan")), ibis.literal(float("-inf"))
            if name in ("log", "log2", "log10"):
                base = {"log": x.ln, "log2": x.log2, "log10": x.log10}[name]
                return ibis.cases((x > 0, base()), (x == 0, inf), else_=nan)
            if name == "log1p":
                return ibis.cases((x > -1, (x + 1).ln()), (x == -1, inf), else_=nan)
            if name == "sqrt":
                return ibis.cases((x >= 0, x.sqrt()), else_=nan)
            if name == "exp":
                return ibis.cases((x <= 709.0, x.exp()), else_=ibis.literal(float("inf")))
            return x.abs()
        raise self.fail(code, f"calls {name or ast.unparse(func)}()")


def _compare(op: ast.cmpop, a: Any, b: Any) -> Any | None:
    if isinstance(op, ast.Eq):
        return a == b
    if isinstance(op, ast.NotEq):
        return a != b
    if isinstance(op, ast.Lt):
        return a < b
    if isinstance(op, ast.LtE):
        return a <= b
    if isinstance(op, ast.Gt):
        return a > b
    if isinstance(op, ast.GtE):
        return a >= b
    return None


def factor_code_expr(code: str, table: Any, formula: str) -> Any:
    """The ibis expression of a numerical factor's code (e.g. ``"log(bili)"``)."""
    try:
        tree = ast.parse(code, mode="eval")
    except SyntaxError as exc:
        raise SchemaError(
            f"formula {formula!r}: cannot parse the term {code!r}: {exc.msg}."
        ) from None
    return _Translate(table, formula)(tree.body, code)


def _categorical_data(code: str, table: Any, formula: str) -> Any:
    """The variable a categorical factor codes: ``C(x, ...)`` → ``x``; ``x`` → ``x``."""
    tree = ast.parse(code, mode="eval").body
    if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and tree.func.id == "C":
        tree = tree.args[0]
    return _Translate(table, formula)(tree, code)


def _level(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def _contrast_value(data: Any, categories: Any, column: np.ndarray) -> Any:
    import ibis

    cases = [(data == _level(cat), float(v)) for cat, v in zip(categories, column, strict=True)]
    return ibis.cases(*cases, else_=ibis.null().cast("float64"))


def design_exprs(info: Any, table: Any, formula: str) -> list[Any]:
    """One ibis float expression per column of the patsy ``DesignInfo`` (patsy's order)."""
    import ibis
    from patsy.build import _subterm_column_combinations

    out: list[Any] = []
    for _term, subterms in info.term_codings.items():
        for sub in subterms:
            values: dict[Any, Any] = {}
            for factor in sub.factors:
                fi = info.factor_infos[factor]
                code = factor.code
                if fi.type == "categorical":
                    values[factor] = _categorical_data(code, table, formula)
                else:
                    translated = factor_code_expr(code, table, formula)
                    if fi.num_columns != 1:
                        raise SchemaError(
                            f"formula {formula!r}: the term {code!r} gives "
                            f"{fi.num_columns} columns; the engine path translates terms "
                            "of one column (compute the columns first)."
                        )
                    values[factor] = translated.cast("float64")
            for idxs in _subterm_column_combinations(info.factor_infos, sub):
                col = ibis.literal(1).cast("float64")
                for factor, j in zip(sub.factors, idxs, strict=True):
                    fi = info.factor_infos[factor]
                    if fi.type == "categorical":
                        m = sub.contrast_matrices[factor].matrix
                        col = col * _contrast_value(values[factor], fi.categories, m[:, j])
                    else:
                        col = col * values[factor]
                out.append(col)
    return out


def outcome_expr(info: Any, table: Any, formula: str) -> Any:
    """The outcome of a ``y ~ ...`` formula: its single numeric column, or the ``True``
    column of a boolean expression (``I(stage == 4)``)."""
    exprs = design_exprs(info, table, formula)
    names = [str(c) for c in info.column_names]
    if len(exprs) == 2 and names[1].endswith("[True]"):
        return exprs[1]
    return exprs[0]
