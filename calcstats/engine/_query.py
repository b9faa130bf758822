"""Query strings (``"age_at_index < 18 and sex == 'M'"``) translated to engine predicates.

``Cohort.exclude`` of an engine cohort takes the same query strings as the pandas path,
translated into an ibis expression that the engine evaluates; nothing is evaluated in
pandas. The documented subset:

* comparisons ``==, !=, <, <=, >, >=`` (chained too: ``18 <= age_at_index < 65``) between
  columns, numbers, text, ``True``/``False``; a date column compared with a date written
  as text (``index_date < '2015-01-01'``);
* ``and``, ``or``, ``not`` (and pandas' ``&``, ``|``, ``~``, which have the precedence of
  ``and``, ``or``, ``not`` in a query);
* ``x in [...]``, ``x not in [...]``, ``x.isin([...])``;
* ``x.isna()``, ``x.notna()`` (``isnull``, ``notnull``);
* ``+ - * /`` between numeric columns and numbers; a boolean column on its own.

Missing values follow pandas' rules for the query of :meth:`Cohort.exclude`: a
comparison with a missing number or yes/no value is unknown (and an unknown result keeps
the patient), while for text and dates ``x == 'a'`` is False and ``x != 'a'`` True when
``x`` is missing.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from calcstats._errors import CalcstatsError

__all__ = ["SUBSET", "query_columns", "translate_query"]

SUBSET = (
    "comparisons (==, !=, <, <=, >, >=), and/or/not (&, |, ~), 'in' / 'not in' lists, "
    ".isin([...]), .isna() / .notna(), + - * / on numbers"
)

_CMP: Mapping[type, Callable[[Any, Any], Any]] = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
}
_ARITH: Mapping[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}


def _pandas_precedence(query: str) -> str:
    """``&``, ``|``, ``~`` as ``and``, ``or``, ``not`` (their precedence in a pandas query)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(query).readline))
    except (tokenize.TokenError, IndentationError) as exc:
        raise CalcstatsError(f"exclude: cannot read the query {query!r}: {exc}.") from None
    out = []
    for tok in tokens:
        if tok.type == tokenize.OP and tok.string in ("&", "|", "~"):
            out.append((tokenize.NAME, {"&": "and", "|": "or", "~": "not"}[tok.string]))
        else:
            out.append((tok.type, tok.string))
    return tokenize.untokenize(out)


def _parse(query: str) -> ast.Expression:
    if not isinstance(query, str) or not query.strip():
        raise CalcstatsError(f"exclude: the query must be a non-empty string, got {query!r}.")
    try:
        return ast.parse(_pandas_precedence(query).strip(), mode="eval")
    except SyntaxError as exc:
        raise CalcstatsError(
            f"exclude: cannot parse the query {query!r} ({exc.msg}). Write a query such as "
            "\"age_at_index < 18 and sex == 'M'\"."
        ) from None


def query_columns(query: str) -> list[str]:
    """The column names a query uses (in order of first use).

    Examples
    --------
    >>> query_columns("age_at_index < 18 & sex.isin(['M'])")
    ['age_at_index', 'sex']
    """
    found = [n for n in ast.walk(_parse(query)) if isinstance(n, ast.Name)]
    found.sort(key=lambda n: (n.lineno, n.col_offset))
    return list(dict.fromkeys(n.id for n in found))


@dataclass
class _Val:
    """A translated sub-expression: the ibis value and what it is."""

    expr: Any
    kind: str  # "num", "bool", "text", "date", "const", "pred"
    nullable: bool = True  # a predicate whose missing results stay unknown (pandas NA)


def _kind(dtype: Any) -> str:
    if dtype.is_boolean():
        return "bool"
    if dtype.is_numeric():
        return "num"
    if dtype.is_temporal():
        return "date"
    return "text"


class _Translator:
    def __init__(self, table: Any, query: str) -> None:
        import ibis

        self.ibis = ibis
        self.table = table
        self.query = query
        self.schema = table.schema()

    def fail(self, what: str) -> CalcstatsError:
        return CalcstatsError(
            f"exclude: the query {self.query!r} uses {what}, which the engine path does not "
            f"translate. Supported: {SUBSET}. Compute the column first, or exclude with a "
            "simpler query."
        )

    # ------------------------------------------------------------------ values
    def value(self, node: ast.AST) -> _Val:
        if isinstance(node, ast.Name):
            if node.id not in self.schema:
                raise CalcstatsError(
                    f"exclude: the query {self.query!r} names {node.id!r}, which is not a "
                    f"column; columns: {list(self.schema)}."
                )
            return _Val(self.table[node.id], _kind(self.schema[node.id]))
        if isinstance(node, ast.Constant):
            if node.value is None:
                raise self.fail("None (test missing values with .isna())")
            return _Val(node.value, "const")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = self.value(node.operand)
            if inner.kind not in ("num", "const"):
                raise self.fail("a minus sign before something that is not a number")
            return _Val(-inner.expr, inner.kind)
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
            left, right = self.value(node.left), self.value(node.right)
            for side in (left, right):
                if side.kind not in ("num", "const") or isinstance(side.expr, str):
                    raise self.fail("arithmetic on a column that is not numeric")
            return _Val(_ARITH[type(node.op)](left.expr, right.expr), "num")
        return _Val(self.predicate(node).expr, "pred")

    def _literal(self, v: _Val, other: _Val) -> Any:
        """A constant in the type of the column it is compared with."""
        if v.kind != "const":
            return v.expr
        if other.kind == "date" and isinstance(v.expr, str):
            try:
                return self.ibis.date(v.expr)
            except Exception:
                raise CalcstatsError(
                    f"exclude: {v.expr!r} in the query {self.query!r} is compared with a date "
                    "column but is not a date; write it as 'YYYY-MM-DD'."
                ) from None
        return v.expr

    # -------------------------------------------------------------- predicates
    def predicate(self, node: ast.AST) -> _Val:
        if isinstance(node, ast.BoolOp):
            parts = [self.predicate(v) for v in node.values]
            out = parts[0].expr
            for p in parts[1:]:
                out = (out & p.expr) if isinstance(node.op, ast.And) else (out | p.expr)
            return _Val(out, "pred")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return _Val(~self.predicate(node.operand).expr, "pred")
        if isinstance(node, ast.Compare):
            out = None
            left = self.value(node.left)
            for op, comp in zip(node.ops, node.comparators, strict=True):
                right = self.value(comp)
                part = self.compare(op, left, right)
                out = part if out is None else out & part
                left = right
            return _Val(out, "pred")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            return self.method(node)
        if isinstance(node, ast.Name):
            v = self.value(node)
            if v.kind != "bool":
                raise self.fail(f"the column {node.id!r} on its own (it is not True/False)")
            return _Val(v.expr, "pred")
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return _Val(self.ibis.literal(node.value), "pred")
        raise self.fail(type(node).__name__)

    def compare(self, op: ast.cmpop, left: _Val, right: _Val) -> Any:
        if isinstance(op, ast.In | ast.NotIn):
            values = self.constants(right)
            out = left.expr.isin(values).fill_null(False)
            return ~out if isinstance(op, ast.NotIn) else out
        if type(op) not in _CMP:
            raise self.fail(type(op).__name__)
        a, b = self._literal(left, right), self._literal(right, left)
        if left.kind == "const" and right.kind == "const":
            raise self.fail("a comparison of two constants")
        res = _CMP[type(op)](a, b)
        if "text" in (left.kind, right.kind) or "date" in (left.kind, right.kind):
            # pandas: a missing text/date is unequal to everything and not ordered
            return res.fill_null(isinstance(op, ast.NotEq))
        return res

    def constants(self, node_val: _Val) -> list[Any]:
        expr = node_val.expr
        if node_val.kind == "const" and isinstance(expr, list | tuple):
            return list(expr)
        raise self.fail("'in' with something other than a list of values")

    def method(self, node: ast.Call) -> _Val:
        func = node.func
        assert isinstance(func, ast.Attribute)
        target = self.value(func.value)
        name = func.attr
        if name in ("isna", "isnull", "notna", "notnull") and not node.args:
            miss = target.expr.isnull()
            return _Val(miss if name in ("isna", "isnull") else ~miss, "pred")
        if name == "isin" and len(node.args) == 1:
            values = self.literal_list(node.args[0])
            return _Val(target.expr.isin(values).fill_null(False), "pred")
        raise self.fail(f".{name}(...)")

    def literal_list(self, node: ast.AST) -> list[Any]:
        if isinstance(node, ast.Constant) and isinstance(node.value, list):
            return list(node.value)
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            out = []
            for elt in node.elts:
                if not isinstance(elt, ast.Constant):
                    raise self.fail("a list holding something other than constants")
                out.append(elt.value)
            return out
        raise self.fail(".isin() of something other than a list of values")


def _fold_lists(tree: ast.Expression) -> ast.Expression:
    """Turn list/tuple literals into constants (for ``x in [...]``)."""

    class Fold(ast.NodeTransformer):
        def _fold(self, node: ast.List | ast.Tuple) -> ast.AST:
            values = [e.value for e in node.elts if isinstance(e, ast.Constant)]
            if len(values) == len(node.elts):
                # a list constant: ast.Constant's annotation knows only scalar literals
                return ast.copy_location(ast.Constant(cast(Any, values)), node)
            return node

        def visit_List(self, node: ast.List) -> ast.AST:
            return self._fold(node)

        def visit_Tuple(self, node: ast.Tuple) -> ast.AST:
            return self._fold(node)

    return Fold().visit(tree)


def translate_query(query: str, table: Any) -> Any:
    """The ibis boolean expression of ``query`` on ``table``; unknown results are False.

    Examples
    --------
    >>> import ibis, pandas as pd
    >>> t = ibis.memtable(pd.DataFrame({"age": [15.0, None, 40.0], "sex": ["M", None, "F"]}))
    >>> pred = translate_query("age < 18 or sex != 'F'", t)
    >>> t.filter(pred).count().execute()
    2
    """
    tree = _parse(query)
    tr = _Translator(table, query)
    body = tree.body
    # a list literal is only meaningful on the right of 'in'
    if any(
        isinstance(n, ast.Compare) and any(isinstance(o, ast.In | ast.NotIn) for o in n.ops)
        for n in ast.walk(body)
    ):
        body = _fold_lists(ast.Expression(body)).body
    pred = tr.predicate(body)
    return pred.expr.fill_null(False)
