"""``table_one`` of an engine table: its numbers by aggregate queries.

:class:`EngineData` answers what ``table_one`` reads of its data
(:class:`~calcstats.describe._table_one_data.TableOneData`) inside the engine: counts and
sums by ``GROUP BY``, sample variances (``var_samp``), exact quartiles (``quantile_cont``,
R's type 7), weighted quantiles by a running sum of weights, and the rank sums of the
Wilcoxon and Kruskal–Wallis tests by a window ``rank()`` (ties get average ranks). The
checks, tests, SMDs, footnotes and the layout are the pandas path's
(:func:`~calcstats.describe._table_one.build_table_one`), so an engine table gives the
same Table 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from calcstats._engine_input import check_weight_values
from calcstats._errors import SchemaError
from calcstats._validation import require_columns
from calcstats.describe._checks import empty_error, missing_error
from calcstats.describe._engine import check_groups
from calcstats.describe._table_one import build_table_one
from calcstats.describe._table_one_checks import (
    FEW_LEVELS,
    MAX_AUTO_LEVELS,
    SHOW,
    Var,
    examples,
    infinite_error,
    sort_key,
    text_in_numbers_error,
)
from calcstats.describe._table_one_data import Summary
from calcstats.describe._table_one_stats import continuous_test
from calcstats.engine import EngineTable
from calcstats.engine._aggregate import first_rows, grouped, scalars
from calcstats.labels import Labels

__all__ = ["EngineData", "table_one"]


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _dense(frame: pd.DataFrame, column: str, G: int, fill: float = 0.0) -> np.ndarray:
    out = np.full(G, fill, dtype=float)
    g = frame["__g"].to_numpy(dtype=np.int64)
    ok = g >= 0
    vals = frame[column].to_numpy(dtype=float, na_value=np.nan)
    out[g[ok]] = vals[ok]
    return out


def _cases(cases: list[tuple[Any, int]]) -> Any:
    import ibis

    return ibis.cases(*cases, else_=-1).cast("int64") if cases else ibis.literal(-1)


def _pad(values: Any, n: int) -> Any:
    if isinstance(values, pd.Categorical):
        return pd.Categorical(
            list(values) + [None] * (n - len(values)), categories=values.categories, ordered=True
        )
    s = pd.Series(values)
    if len(s) == n:
        return s.to_numpy()
    if s.dtype == bool:
        return pd.array(list(s) + [None] * (n - len(s)), dtype="boolean")
    fill = [np.nan] * (n - len(s)) if s.dtype.kind in "fM" else [None] * (n - len(s))
    return pd.Series(list(s) + fill, dtype=s.dtype if s.dtype.kind in "fM" else object)


class EngineData:
    """``table_one``'s data access on an engine table, by aggregate queries."""

    def __init__(self, table: EngineTable) -> None:
        import ibis

        self.base = table.cached()
        if len(self.base) == 0:
            raise empty_error("table_one")
        self.table = self.base
        self.weights: str | None = None
        self.w: Any = None
        self.G = 1
        self.e = self.table.full.mutate(__g=ibis.literal(0).cast("int64"))
        # the rows analysed (weight > 0), for the rows named in messages
        self._keep: Any = None

    def _first(self, predicate: Any, column: str) -> pd.DataFrame:
        """The first rows of the analysed rows where ``predicate`` holds (``row``: the
        position in the table as given, as the pandas path's index labels)."""
        keep = self._keep

        def pred(t: Any) -> Any:
            return predicate(t) if keep is None else (keep(t) & predicate(t))

        return first_rows(self.base, pred, [column], limit=SHOW)

    @property
    def columns(self) -> list[str]:
        return self.table.columns

    def shape(self) -> pd.DataFrame:
        return pd.DataFrame(columns=self.table.columns)

    def use_weights(self, weights: str | None) -> int:
        import ibis

        if weights is None:
            return 0
        require_columns(self.shape(), {"weights": weights}, function="table_one")
        e = self.base.full
        dtype = e.schema()[weights]
        w = e[weights]
        miss = (w.isnull() | w.isnan()) if dtype.is_floating() else w.isnull()
        n_miss = int(scalars(e, {"m": miss.cast("int64").sum()})["m"] or 0)
        if n_miss:
            raise missing_error(weights, n_miss, argument="weights")
        if not (dtype.is_numeric() or dtype.is_boolean()):
            raise SchemaError(
                f"table_one(): weights column {weights!r} must be numeric; found dtype "
                f"{dtype}. Convert it with pd.to_numeric."
            )
        kept, n_zero = check_weight_values(self.base, e, weights, "table_one")
        self.weights = weights
        if n_zero:
            self._keep = lambda t: t[weights].cast("float64") > 0
            self.table = self.base.with_expr(kept)
        self.e = self.table.full.mutate(__g=ibis.literal(0).cast("int64"))
        self.w = self.e[weights].cast("float64")
        return n_zero

    def check_by(self, by: str) -> None:
        check_groups(self.table, [by], argument="by", func="table_one")

    def numbers_from_text(self, variables: Sequence[str], categorical: set[str]) -> None:
        """Text columns of numbers with stray text are an error, as in the pandas path
        (an engine's text column is never converted: its values are text)."""
        e = self.table.full
        for v in variables:
            if v in categorical or isinstance(self.table.kinds.get(v), tuple):
                continue
            if not e.schema()[v].is_string():
                continue
            x = e[v]
            num = x.try_cast("float64")
            got = scalars(
                e,
                {
                    "present": x.notnull().cast("int64").sum(),
                    "text": (x.notnull() & num.isnull()).cast("int64").sum(),
                },
            )
            n_present, n_text = int(got["present"] or 0), int(got["text"] or 0)
            if n_text == 0 or n_present - n_text < n_text:
                continue
            n_levels = int(scalars(e, {"k": x.nunique()})["k"] or 0)
            if n_levels <= FEW_LEVELS:
                continue
            rows = self._first(lambda t, v=v: t[v].notnull() & t[v].try_cast("float64").isnull(), v)
            shown = examples(list(rows["row"]), list(rows[v]), n_text)
            raise text_in_numbers_error(v, n_text, n_present, shown, n_levels)

    def standin(self, variables: Sequence[str]) -> pd.DataFrame:
        """A small frame with each variable's dtype and the values ``classify`` reads
        (the distinct values of text, boolean and categorical columns; for numbers
        whether they are all 0/1)."""
        e = self.table.full
        out = {}
        for c in variables:
            dtype = e.schema()[c]
            kind = self.table.kinds.get(c)
            if isinstance(kind, tuple):
                out[c] = pd.Categorical([], categories=list(kind[1]), ordered=True)
            elif dtype.is_temporal():
                out[c] = pd.Series([], dtype="datetime64[ns]")
            elif dtype.is_boolean():
                out[c] = pd.Series([True, False], dtype=bool)
            elif dtype.is_numeric():
                x = e[c].cast("float64")
                present = x.notnull() & ~x.isnan()
                got = scalars(
                    e,
                    {
                        "other": (present & ~x.isin([0.0, 1.0])).cast("int64").sum(),
                        "n": present.cast("int64").sum(),
                    },
                )
                out[c] = pd.Series(
                    [] if not got["n"] else [0.5] if got["other"] else [0.0, 1.0], dtype=float
                )
            else:
                vals = (
                    e.filter(e[c].notnull())
                    .select(c)
                    .distinct()
                    .limit(MAX_AUTO_LEVELS + 1)
                    .to_pandas()[c]
                    .tolist()
                )
                out[c] = pd.Series(vals, dtype=object)
        n = max((len(v) for v in out.values()), default=0)
        return pd.DataFrame({c: _pad(v, n) for c, v in out.items()})

    def group_levels(self, by: str) -> list[Any]:
        kind = self.table.kinds.get(by)
        if isinstance(kind, tuple):
            return list(kind[1])
        e = self.table.full
        got = e.select(by).distinct().to_pandas()[by].tolist()
        if e.schema()[by].is_boolean():
            got = [bool(v) for v in got]
        return sorted(got, key=sort_key)

    def set_groups(self, by: str | None, levels: list[Any]) -> None:
        import ibis

        e = self.table.full
        if by is None:
            self.G, self.e = 1, e.mutate(__g=ibis.literal(0).cast("int64"))
        else:
            codes = _cases([(e[by] == _py(v), i) for i, v in enumerate(levels)])
            self.G, self.e = max(len(levels), 1), e.mutate(__g=codes)
        if self.weights is not None:
            self.w = self.e[self.weights].cast("float64")

    def _ones(self) -> Any:
        return (self.e["__g"] * 0 + 1).cast("float64")

    def group_sizes(self) -> np.ndarray:
        w = self.w if self.w is not None else self._ones()
        return _dense(grouped(self.e, ["__g"], {"n": w.sum()}), "n", self.G)

    def _x(self, name: str) -> Any:
        import ibis

        x = self.e[name].cast("float64")
        if self.e.schema()[name].is_floating():
            return ibis.cases((x.isnan(), ibis.null().cast("float64")), else_=x)
        return x

    def continuous(
        self, name: str, nonnormal: bool, use_p: bool
    ) -> tuple[Summary, Summary, bool, float, str]:
        e = self.e
        x = self._x(name)
        n_inf = int(scalars(e, {"i": x.isinf().cast("int64").sum()})["i"] or 0)
        if n_inf:
            rows = self._first(lambda t: t[name].cast("float64").isinf(), name)
            raise infinite_error(name, n_inf, examples(list(rows["row"]), list(rows[name]), n_inf))
        sg = self._summary(x, ["__g"], nonnormal)
        so = self._summary(x, [], nonnormal)
        got = scalars(e, {"lo": x.min(), "hi": x.max()})
        constant = so["n"][0] > 0 and got["lo"] == got["hi"]
        if not use_p:
            return sg, so, bool(constant), np.nan, ""
        if not nonnormal:
            p, key = continuous_test(np.zeros(0), np.zeros(0, dtype=np.int64), sg, False)
        else:
            p, key = self._rank_test(x, sg)
        return sg, so, bool(constant), p, key

    def _summary(self, x: Any, keys: list[str], need_q: bool) -> Summary:
        """``continuous_summary``'s numbers by aggregates."""
        import ibis

        e = self.e.mutate(__x=x)
        G = self.G if keys else 1
        ok = e["__x"].notnull()
        metrics = {"n": ok.cast("int64").sum(), "missing": (~ok).cast("int64").sum()}
        wcol = None if self.weights is None else e[self.weights].cast("float64")
        if wcol is None:
            metrics.update(mean=e["__x"].mean(), var=e["__x"].var(how="sample"))
        else:
            w = ibis.cases((ok, wcol), else_=0.0)
            metrics.update(wsum=w.sum(), wx=(w * e["__x"].fill_null(0.0)).sum())
        got = grouped(e, keys, metrics)
        if not keys:
            got = got.assign(__g=0)
        n = _dense(got, "n", G)
        out = {"n": n, "missing": _dense(got, "missing", G)}
        with np.errstate(divide="ignore", invalid="ignore"):
            if wcol is None:
                mean = _dense(got, "mean", G, fill=np.nan)
                var = np.where(n > 1, _dense(got, "var", G, fill=np.nan), np.nan)
                wsum = n
            else:
                wsum = _dense(got, "wsum", G)
                mean = _dense(got, "wx", G) / wsum
                m = (
                    ibis.cases(
                        *[(e["__g"] == i, float(mean[i])) for i in range(G)], else_=float(mean[0])
                    )
                    if keys
                    else float(mean[0])
                )
                ss = grouped(e.filter(ok), keys, {"ss": (wcol * (e["__x"] - m) ** 2).sum()})
                if not keys:
                    ss = ss.assign(__g=0)
                var = np.where(n > 1, _dense(ss, "ss", G) / wsum * n / (n - 1), np.nan)
        out.update(mean=mean, sd=np.sqrt(var), var=var, wsum=wsum)
        if need_q:
            q = self._quantiles(e.filter(ok), keys, G)
            out.update(median=q[:, 0], q1=q[:, 1], q3=q[:, 2])
        return out

    def _quantiles(self, e: Any, keys: list[str], G: int) -> np.ndarray:
        import ibis

        probs = (0.5, 0.25, 0.75)
        q = np.full((G, 3), np.nan)
        if self.weights is None:
            got = grouped(e, keys, {f"q{i}": e["__x"].quantile(p) for i, p in enumerate(probs)})
            if not keys:
                got = got.assign(__g=0)
            for i in range(3):
                q[:, i] = _dense(got, f"q{i}", G, fill=np.nan)
            return q
        w = e[self.weights].cast("float64")
        part = [e["__g"]] if keys else []
        win = ibis.window(group_by=part, order_by=e["__x"], rows=(None, 0))
        tot = ibis.window(group_by=part)
        r = e.mutate(__cw=w.sum().over(win), __tw=w.sum().over(tot))
        for i, p in enumerate(probs):
            hit = r.filter(r["__cw"] >= p * r["__tw"] * (1 - 1e-12))
            got = grouped(hit, keys, {"v": hit["__x"].min()})
            if not keys:
                got = got.assign(__g=0)
            q[:, i] = _dense(got, "v", G, fill=np.nan)
        return q

    def _rank_test(self, x: Any, sg: Summary) -> tuple[float, str]:
        """Wilcoxon / Kruskal–Wallis from rank sums (average ranks for ties), as
        ``continuous_test`` computes them from the rows."""
        import ibis

        e = self.e.mutate(__x=x)
        e = e.filter(e["__x"].notnull())
        n = sg["n"]
        use = n > 0
        k = int(use.sum())
        if k < 2:
            return np.nan, ""
        r = e.mutate(
            __lo=ibis.rank().over(order_by=e["__x"]), __tie=e.count().over(group_by=e["__x"])
        )
        avg = r["__lo"] + 1 + (r["__tie"] - 1) / 2.0
        rs = grouped(r, ["__g"], {"r": avg.sum()})
        rsum = _dense(rs, "r", self.G)[use]
        ties_t = grouped(e, ["__x"], {"t": e.count()})["t"].to_numpy(dtype=float)
        ties = float(np.sum(ties_t**3 - ties_t))
        N = float(n.sum())
        nn = n[use]
        if k == 2:
            n1, n2 = nn
            u = rsum[0] - n1 * (n1 + 1) / 2
            d = u - n1 * n2 / 2
            sigma = np.sqrt(n1 * n2 / 12 * ((N + 1) - ties / (N * (N - 1))))
            if sigma == 0:
                return np.nan, "wilcoxon"
            z = (d - np.sign(d) * 0.5) / sigma
            return float(2 * stats.norm.sf(abs(z))), "wilcoxon"
        h = 12 / (N * (N + 1)) * np.sum(rsum**2 / nn) - 3 * (N + 1)
        corr = 1 - ties / (N**3 - N)
        if corr <= 0:
            return np.nan, "kruskal"
        return float(stats.chi2.sf(h / corr, k - 1)), "kruskal"

    def categorical(self, spec: Var) -> tuple[np.ndarray, np.ndarray]:
        e = self.e
        col = e[spec.name]
        if spec.kind == "binary":
            v = col.cast("float64")
            lc = _cases([(v == 0.0, 0), (v == 1.0, 1)])
        else:
            lc = _cases([(col == _py(lv), i) for i, lv in enumerate(spec.levels)])
        w = self.w if self.w is not None else self._ones()
        got = grouped(e.mutate(__lc=lc, __w=w), ["__g", "__lc"], {"n": w.sum()})
        L, G = len(spec.levels), self.G
        cnt = np.zeros((L, G))
        miss = np.zeros(G)
        for g, lv, val in zip(got["__g"], got["__lc"], got["n"], strict=True):
            if g < 0:
                continue
            if lv < 0:
                miss[int(g)] += float(val)
            else:
                cnt[int(lv), int(g)] += float(val)
        return cnt, miss


def table_one(
    data: EngineTable,
    *,
    by: str | None = None,
    variables: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    nonnormal: Sequence[str] | None = None,
    statistic: str | Mapping[str, str] | None = None,
    digits: int | Mapping[str, int] | None = None,
    labels: Labels | Mapping[str, str] | None = None,
    overall: bool = True,
    pvalues: bool = True,
    smd: bool | str = True,
    missing: bool = True,
    weights: str | None = None,
    suppress_below: int | None = None,
    title: str | None = "Table 1. Baseline characteristics",
) -> Any:
    """:func:`calcstats.table_one` of an engine table (same arguments and table)."""
    return build_table_one(
        EngineData(data),
        by=by,
        variables=variables,
        categorical=categorical,
        nonnormal=nonnormal,
        statistic=statistic,
        digits=digits,
        labels=labels,
        overall=overall,
        pvalues=pvalues,
        smd=smd,
        missing=missing,
        weights=weights,
        suppress_below=suppress_below,
        title=title,
    )
