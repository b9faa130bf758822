"""The formula → design builder of :mod:`calcstats._design`, for engine tables.

The same formula language, coefficient names, term order, missing-row rule (with the same
warning), checks (infinite values, constant columns, rank of the centred scaled design)
and :class:`~calcstats._design.Scaling` as the pandas path. The patsy design is built on a
prototype frame holding every level of each categorical variable (so reference levels,
level order and names are patsy's own); each column then becomes an engine expression
(:func:`calcstats.engine._formula.design_exprs`), checked against patsy's matrix on the
prototype. The rank check and the scaling come from aggregate queries.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import patsy

from calcstats._design import (
    Scaling,
    _check_empty_terms,
    _formula_order,
    _patsy_error,
    _patsy_frame,
)
from calcstats._errors import DataError, DataWarning, SchemaError, user_stacklevel
from calcstats._formula import _ENV, _parse, _split, _variables, clean_name
from calcstats.engine import EngineTable
from calcstats.engine._aggregate import level_order, scalars
from calcstats.engine._dispatch import rows_stay
from calcstats.engine._formula import design_exprs, outcome_expr

__all__ = ["EngineDesign", "divergence_standin", "engine_design", "scaling"]


#: most levels of a numeric variable used as a category (``C(stage)``)
_MAX_LEVELS = 1_000


@dataclass
class EngineDesign:
    """A model's design on an engine table (the counterpart of :class:`Design`).

    ``expr`` is the table of the analysed rows; ``exprs`` the design columns and ``y``
    the outcome as engine expressions on it. ``terms``, ``columns``, ``variables``,
    ``n_dropped`` and the patsy ``design_info`` are those of the pandas path.
    """

    formula: str
    columns: list[str]
    terms: dict[str, list[str]]
    variables: list[str]
    n: int
    n_dropped: int
    dropped_columns: list[str]
    design_info: Any
    order: list[int]
    expr: Any
    exprs: list[Any]
    y_expr: Any = None
    outcome: str | None = None
    y_info: Any = None
    shift_invariant: bool = True
    table: EngineTable | None = field(default=None, repr=False)

    @property
    def X(self) -> pd.DataFrame:
        """The design matrix has no engine form: its rows stay in the engine."""
        raise rows_stay(f"The design matrix of {self.formula!r}")

    @property
    def y(self) -> pd.Series:
        """The outcome per row has no engine form: its rows stay in the engine
        (``y_expr`` is the engine column)."""
        raise rows_stay(f"The outcome of {self.formula!r}")

    @property
    def intercept(self) -> int | None:
        return self.columns.index("Intercept") if "Intercept" in self.columns else None

    def without(self, drop: Sequence[str]) -> EngineDesign:
        """The same rows without some columns (restricted fits)."""
        keep = [i for i, c in enumerate(self.columns) if c not in drop]
        cols = [self.columns[i] for i in keep]
        terms = {t: [c for c in cs if c in cols] for t, cs in self.terms.items()}
        return replace(
            self,
            columns=cols,
            exprs=[self.exprs[i] for i in keep],
            terms={t: cs for t, cs in terms.items() if cs},
        )

    def rebind(self, expr: Any) -> list[Any]:
        """The design columns on ``expr``, a table derived from the analysed rows (which
        carry them as ``__x<j>``)."""
        keep = [
            i for i in self.order if clean_name(self.design_info.column_names[i]) in self.columns
        ]
        return [expr[f"__x{i}"] for i in keep]

    def categorical_levels(self) -> dict[str, list[Any]]:
        """Levels (reference first) of each one-factor categorical term."""
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
        """The design of new (pandas) data under this coding."""
        from calcstats._design import Design

        proxy = Design(
            formula=self.formula,
            X=pd.DataFrame(columns=self.columns),
            y=None,
            outcome=self.outcome,
            terms=self.terms,
            variables=self.variables,
            rows=np.zeros(0, dtype=np.int64),
            n_dropped=self.n_dropped,
            dropped_columns=self.dropped_columns,
            design_info=self.design_info,
            order=self.order,
        )
        return proxy.new_data(newdata)


def _categorical_vars(termlist: list[Any], columns: list[str]) -> set[str]:
    """Variables that appear inside ``C(...)`` (their values are levels)."""
    out: set[str] = set()
    for term in termlist:
        for factor in term.factors:
            tree = ast.parse(factor.code, mode="eval")
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "C"
                ):
                    for sub in ast.walk(node.args[0]) if node.args else ():
                        if isinstance(sub, ast.Name) and sub.id in columns:
                            out.add(sub.id)
    return out


def _prototype(
    table: EngineTable, expr: Any, names: list[str], as_levels: set[str]
) -> pd.DataFrame:
    """A small frame with every level of each categorical variable, numbers elsewhere."""
    schema = expr.schema()
    cols: dict[str, list[Any]] = {}
    for v in names:
        dtype = schema[v]
        kind = table.kinds.get(v)
        categorical = (
            dtype.is_string() or dtype.is_boolean() or isinstance(kind, tuple) or v in as_levels
        )
        if not categorical:
            continue
        got = expr.select(v).distinct().limit(_MAX_LEVELS + 1).to_pandas()[v].tolist()
        if len(got) > _MAX_LEVELS:
            raise SchemaError(
                f"column {v!r} has more than {_MAX_LEVELS:,} distinct values to use as "
                "categories; a categorical term needs fewer levels."
            )
        if dtype.is_boolean():
            got = [bool(x) for x in got]
        cols[v] = level_order(got, kind)
    size = max([2, *(len(v) for v in cols.values())])
    frame: dict[str, Any] = {}
    for v in names:
        dtype = schema[v]
        if v in cols:
            vals = [cols[v][i % len(cols[v])] for i in range(size)]
            kind = table.kinds.get(v)
            if isinstance(kind, tuple):
                frame[v] = pd.Categorical(
                    vals, categories=[c for c in kind[1] if c in cols[v]], ordered=True
                )
            elif dtype.is_boolean():
                frame[v] = np.array(vals, dtype=bool)
            elif dtype.is_string():
                frame[v] = pd.Series(vals, dtype=object)
            else:
                frame[v] = np.array(vals)
        else:
            frame[v] = np.linspace(1.25, 2.75, size)
    return pd.DataFrame(frame)


def _missing(expr: Any, used: list[str]) -> tuple[Any, dict[str, int], int, int]:
    """Rows without missing values in ``used``; per-column missing counts; rows dropped;
    rows."""
    schema = expr.schema()

    def miss(c: str) -> Any:
        m = expr[c].isnull()
        return (m | expr[c].isnan()) if schema[c].is_floating() else m

    checks = {f"m{i}": miss(c).cast("int64").sum() for i, c in enumerate(used)}
    any_miss = None
    for c in used:
        any_miss = miss(c) if any_miss is None else (any_miss | miss(c))
    if any_miss is not None:
        checks["any"] = any_miss.cast("int64").sum()
    checks["n"] = expr.count()
    got = scalars(expr, checks)
    counts = {c: int(got[f"m{i}"] or 0) for i, c in enumerate(used)}
    n_dropped = int(got.get("any") or 0)
    kept = expr.filter(~any_miss) if any_miss is not None and n_dropped else expr
    return kept, counts, n_dropped, int(got["n"])


def engine_design(
    table: EngineTable,
    formula: str,
    *,
    response: bool,
    intercept: bool = True,
    extra: Sequence[str | None] = (),
    model_name: str = "model",
    expr: Any = None,
) -> EngineDesign:
    """Build the design of ``formula`` on an engine table (see :func:`build_design`)."""
    expr = table.full if expr is None else expr
    columns = [c for c in expr.columns if not c.startswith("__")]
    shape = pd.DataFrame(columns=columns)
    lhs, rhs = _split(formula, response=response, model_name=model_name)
    desc = _parse(rhs, formula)
    variables = _variables(desc.rhs_termlist, shape, formula)
    lhs_terms = _parse(lhs, formula).rhs_termlist if lhs else []
    y_vars = _variables(lhs_terms, shape, formula) if lhs else []
    if not variables and not intercept:
        raise SchemaError(f"{model_name}(): formula {formula!r} uses no column of the data.")
    for col in extra:
        if col is not None and col not in columns:
            raise SchemaError(f"{model_name}(): {col!r} is not a column of the data.")
    schema = expr.schema()
    for v in [*y_vars, *variables]:
        if schema[v].is_temporal():
            raise SchemaError(
                f"column {v!r} in formula {formula!r} holds dates or durations ({schema[v]}), "
                "which a formula would code as one category per value. Use a number derived "
                "from it instead, e.g. age in years or calendar year."
            )
    used = list(dict.fromkeys([*y_vars, *variables, *(c for c in extra if c is not None)]))
    kept, counts, n_dropped, n_all = _missing(expr, used)
    dropped_cols = [c for c in used if counts[c]]
    if n_dropped:
        listing = ", ".join(f"{c} ({counts[c]})" for c in dropped_cols)
        warnings.warn(
            f"{model_name}(): {n_dropped} of {n_all} rows dropped for missing values in "
            f"the model variables: {listing} ({n_all - n_dropped} analysed). Impute "
            "(calcstats.mice) or filter them first to silence this.",
            DataWarning,
            stacklevel=user_stacklevel(),
        )
    n = n_all - n_dropped
    if n == 0:
        raise DataError(f"{model_name}(): no complete rows left for the model variables {used}.")
    names = list(dict.fromkeys([*y_vars, *variables]))
    as_levels = _categorical_vars([*lhs_terms, *desc.rhs_termlist], columns)
    proto = _prototype(table, kept, names, as_levels)
    frame = _patsy_frame(proto, names)
    text = f"{lhs} ~ {rhs}" if lhs else rhs
    if not intercept:
        text = f"{lhs} ~ 1 + {rhs}" if lhs else f"1 + {rhs}"
    try:
        with np.errstate(all="ignore"):
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
    names_out = [clean_name(info.column_names[i]) for i in order]
    terms: dict[str, list[str]] = {}
    pos = set(order)
    for term in sorted(
        info.term_name_slices, key=lambda t: written.index(t) if t in written else -1
    ):
        sl = info.term_name_slices[term]
        cols = [clean_name(info.column_names[i]) for i in range(sl.start, sl.stop) if i in pos]
        if cols:
            terms[clean_name(term)] = cols
    all_exprs = design_exprs(info, kept, formula)
    _self_check(info, all_exprs, frame, proto, mat, kept, formula)
    y = outcome = y_info = None
    # the analysed rows with the design columns computed once (``__x<j>``, ``__y``)
    keep_cols = [c for c in used if c in columns]
    internal = [c for c in kept.columns if c.startswith("__") and not c.startswith("__x")]
    computed = {f"__x{i}": all_exprs[i].cast("float64") for i in order}
    if ymat is not None:
        computed["__y"] = outcome_expr(ymat.design_info, kept, formula).cast("float64")
    kept = table.store(kept.select(*keep_cols, *internal, **computed))
    exprs = [kept[f"__x{i}"] for i in order]
    if ymat is not None:
        y_info = ymat.design_info
        y = kept["__y"]
        ycols = [str(c) for c in y_info.column_names]
        if len(ycols) == 2 and ycols[1].endswith("[True]"):
            outcome = ycols[1][: -len("[True]")]
        elif len(ycols) != 1:
            raise SchemaError(
                f"{model_name}(): the outcome of {formula!r} must be one numeric column (0/1 "
                f"for binary models); it expanded to {ycols}. Code a categorical outcome as "
                "0/1, e.g. 'I(stage == 4) ~ ...'."
            )
        else:
            outcome = ycols[0]
    invariant = not intercept or "Intercept" in names_out
    design = EngineDesign(
        formula=formula,
        columns=names_out,
        terms=terms,
        variables=variables,
        n=n,
        n_dropped=n_dropped,
        dropped_columns=dropped_cols,
        design_info=info,
        order=order,
        expr=kept,
        exprs=exprs,
        y_expr=y,
        outcome=outcome,
        y_info=y_info,
        shift_invariant=invariant,
        table=table,
    )
    _check_values(design, model_name, constant_ok=not invariant)
    return design


def _self_check(
    info: Any, exprs: list[Any], frame: Any, proto: pd.DataFrame, mat: Any, kept: Any, formula: str
) -> None:
    """The translated columns on the prototype equal patsy's matrix there."""
    import ibis

    schema = {
        c: kept.schema()[c] if not pd.api.types.is_float_dtype(proto[c]) else "float64"
        for c in proto.columns
    }
    data = proto.copy()
    for c in data.columns:
        if isinstance(data[c].dtype, pd.CategoricalDtype):
            data[c] = data[c].astype(object)
    mt = ibis.memtable(data, schema=schema)
    rebound = design_exprs(info, mt, formula)
    got = mt.select(**{f"c{i}": e for i, e in enumerate(rebound)}).to_pandas()
    want = np.asarray(mat, dtype=float)
    mine = got.to_numpy(dtype=float)
    if mine.shape != want.shape or not np.allclose(mine, want, equal_nan=True):
        raise SchemaError(
            f"formula {formula!r}: the engine translation of a term does not reproduce "
            "patsy's coding; compute the term's columns first, or analyse the data in pandas."
        )


def _check_values(design: EngineDesign, model_name: str, *, constant_ok: bool) -> None:
    """Infinite/undefined values and constant columns (the pandas path's checks)."""
    e = design.expr
    checks = {}
    for i, x in enumerate(design.exprs):
        checks[f"bad{i}"] = (x.isnull() | x.isnan() | x.isinf()).cast("int64").sum()
        checks[f"lo{i}"] = x.min()
        checks[f"hi{i}"] = x.max()
        checks[f"mean{i}"] = x.mean()
    got = scalars(e, checks)
    bad = [c for i, c in enumerate(design.columns) if got[f"bad{i}"]]
    if bad:
        raise DataError(
            f"{model_name}(): the design of formula {design.formula!r} has infinite or "
            f"undefined values in {', '.join(bad)} (e.g. log of zero or of a negative number); "
            "transform or filter those rows first."
        )
    for i, name in enumerate(design.columns):
        if name == "Intercept" or constant_ok:
            continue
        if design.n and got[f"lo{i}"] == got[f"hi{i}"]:
            hint = (
                "a factor level with no analysed rows"
                if "[T." in str(name)
                else "a covariate with one value only"
            )
            raise DataError(
                f"{model_name}(): covariate column {name!r} in {design.formula!r} is constant "
                f"({got[f'lo{i}']:g}) in all {design.n} analysed rows ({hint}), so its effect "
                "cannot be estimated. Remove it from the formula or merge the level."
            )
    means = np.array([float(got[f"mean{i}"]) for i in range(len(design.exprs))])
    _check_rank(design, model_name, means)


def moments(
    design: EngineDesign, *, weights: Any = None, centre: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Centre and scale of :class:`Scaling` from aggregates: (weighted) means, then the
    (weighted) mean square deviation."""
    e = design.expr
    w = weights if weights is not None else None
    p = len(design.exprs)
    if w is None:
        got = scalars(e, {f"m{j}": x.mean() for j, x in enumerate(design.exprs)})
    else:
        got = scalars(
            e, {"sw": w.sum(), **{f"m{j}": (w * x).sum() for j, x in enumerate(design.exprs)}}
        )
        got = {k: v / got["sw"] for k, v in got.items() if k != "sw"}
    mean = np.array([float(got[f"m{j}"]) for j in range(p)])
    c = mean if centre else np.zeros(p)
    if w is None:
        sq = scalars(
            e, {f"s{j}": ((x - float(c[j])) ** 2).mean() for j, x in enumerate(design.exprs)}
        )
        ms = np.array([float(sq[f"s{j}"]) for j in range(p)])
    else:
        sq = scalars(
            e,
            {
                "sw": w.sum(),
                **{f"s{j}": (w * (x - float(c[j])) ** 2).sum() for j, x in enumerate(design.exprs)},
            },
        )
        ms = np.array([float(sq[f"s{j}"]) / float(sq["sw"]) for j in range(p)])
    return c, np.sqrt(ms)


def scaling(design: EngineDesign, *, weights: Any = None, centre: bool | None = None) -> Scaling:
    """:meth:`Design.scaling` from aggregates (:class:`Scaling` of the pandas path);
    ``centre`` defaults to the design's shift invariance."""
    centre = design.shift_invariant if centre is None else centre
    c, sd = moments(design, weights=weights, centre=centre)
    sd = np.where(np.isfinite(sd) & (sd > 0), sd, 1.0)
    i = design.intercept
    if i is not None:
        c[i], sd[i] = 0.0, 1.0
    return Scaling(centre=c, scale=sd, intercept=i)


def _check_rank(design: EngineDesign, model_name: str, means: np.ndarray) -> None:
    """The pandas path's rank check, on the Gram matrix of the centred scaled design (one
    query of centred cross-products; the scales are their diagonal)."""
    n, p = design.n, len(design.columns)
    k = p - (design.intercept is not None)
    if p > n:
        raise DataError(
            f"{model_name}(): {design.formula!r} has {p} coefficients but only {n} analysed "
            "rows; simplify the model (fewer terms or levels) or use more data."
        )
    if k == 0:
        return
    icpt = design.intercept
    c = means.copy() if design.shift_invariant else np.zeros(p)
    if icpt is not None:
        c[icpt] = 0.0
    dev = [x - float(c[j]) for j, x in enumerate(design.exprs)]
    pairs = {f"g{a}_{b}": (dev[a] * dev[b]).sum() for a in range(p) for b in range(a, p)}
    got = scalars(design.expr, pairs)
    cross = np.empty((p, p))
    for a in range(p):
        for b in range(a, p):
            cross[a, b] = cross[b, a] = float(got[f"g{a}_{b}"]) / n
    sd = np.sqrt(np.diag(cross))
    sd = np.where(np.isfinite(sd) & (sd > 0), sd, 1.0)
    if icpt is not None:
        sd[icpt] = 1.0
    gram = cross / np.outer(sd, sd)
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


def divergence_standin(
    expr: Any, xs: Sequence[Any], diverging: np.ndarray, events: Any
) -> tuple[np.ndarray, np.ndarray]:
    """A four-row design and event vector carrying, for each diverging column, the facts
    :func:`~calcstats._newton.divergence_report` reads of the rows (is the column 0/1; do
    its rows at 1 have no, every or some events), so that its message is the pandas
    path's. ``events`` is a boolean expression on ``expr``."""
    ev = np.array([0.0, 1.0, 0.0, 1.0])
    X = np.full((4, len(xs)), 0.5)
    for j in np.flatnonzero(diverging):
        x = xs[int(j)]
        got = scalars(
            expr,
            {
                "other": (~x.isin([0.0, 1.0])).cast("int64").sum(),
                "n1": (x == 1.0).cast("int64").sum(),
                "e1": ((x == 1.0) & events).cast("int64").sum(),
            },
        )
        if got["other"]:
            continue
        n1, e1 = int(got["n1"] or 0), int(got["e1"] or 0)
        X[:, j] = (
            [0, 0, 0, 0]
            if n1 == 0
            else [1, 0, 1, 0]
            if e1 == 0
            else [0, 1, 0, 1]
            if e1 == n1
            else [1, 1, 0, 0]
        )
    return X, ev
