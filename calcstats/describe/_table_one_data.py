"""Where ``table_one``'s numbers come from: a DataFrame, or an engine table by aggregates.

``table_one`` reads its data at a few points only: the groups (levels and sizes), the
summaries of a continuous variable (n, missing, mean, SD; median and quartiles for
nonnormal ones; the test), and the counts of a categorical variable per level and group.
:class:`FrameData` answers them from a DataFrame by the code of
:mod:`calcstats.describe._table_one` (``np.bincount`` over group codes);
:class:`EngineData` answers them from an engine table by aggregate queries: means and
sample variances (``var_samp``), exact quartiles (``quantile_cont``, R's type 7),
weighted quantiles by a running sum of weights, counts by ``GROUP BY``, and the rank sums
of the Wilcoxon and Kruskal–Wallis tests by a window ``rank()`` (ties get average ranks).
The tests and SMDs are the pandas path's functions on these summaries.

:func:`raw_statistics` assembles, from either, the numbers of ``table_one(...).to_frame()``
(one row per variable × level × group); with ``table_one`` reading its data through these
classes (the dispatch documented in the engine page), an engine table gives the same
Table 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from calcstats._errors import DataError
from calcstats.describe._table_one_checks import (
    MAX_AUTO_LEVELS,
    Var,
    check_finite,
    classify,
    sort_key,
)
from calcstats.describe._table_one_stats import (
    categorical_test,
    continuous_summary,
    continuous_test,
    smd_categorical,
    smd_continuous,
)
from calcstats.engine import EngineTable
from calcstats.engine._aggregate import first_rows, grouped, scalars

__all__ = ["EngineData", "FrameData", "raw_statistics"]

_TESTS = {
    "welch": "Welch two-sample t-test",
    "anova": "one-way analysis of variance",
    "wilcoxon": "Wilcoxon rank-sum (Mann–Whitney) test",
    "kruskal": "Kruskal–Wallis test",
    "chisq": "Pearson's χ² test",
    "fisher": "Fisher's exact test",
    "fisher_mc": "Fisher's exact test (Monte-Carlo p-value, 99,999 tables)",
}


class FrameData:
    """``table_one``'s data access on a DataFrame (the code of ``_table_one``)."""

    def __init__(self, data: pd.DataFrame, by: str | None, weights: str | None) -> None:
        self.data = data
        self.by = by
        self.w = None if weights is None else data[weights].to_numpy(dtype=float)
        if by is not None:
            gs = data[by]
            if isinstance(gs.dtype, pd.CategoricalDtype):
                self.glevels = list(gs.cat.categories)
                self.codes = gs.cat.codes.to_numpy().astype(np.int64)
            else:
                self.glevels = sorted(pd.unique(gs), key=sort_key)
                self.codes = pd.Categorical(gs, categories=self.glevels).codes.astype(np.int64)
        else:
            self.glevels, self.codes = [], np.zeros(len(data), dtype=np.int64)
        self.G = max(len(self.glevels), 1)

    def standin(self) -> pd.DataFrame:
        return self.data

    def group_sizes(self) -> np.ndarray:
        if self.w is not None:
            return np.bincount(self.codes, self.w, minlength=self.G)
        return np.bincount(self.codes, minlength=self.G).astype(float)

    def continuous(
        self, name: str, nonnormal: bool, use_p: bool
    ) -> tuple[dict, dict, bool, float, str]:
        s = self.data[name]
        x = (
            pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
            if not pd.api.types.is_numeric_dtype(s)
            else s.to_numpy(dtype=float, na_value=np.nan)
        )
        if (s.notna().to_numpy() & np.isnan(x)).any():
            raise DataError(f"variables: column {name!r} has non-numeric values.")
        check_finite(self.data, name, x)
        sg = continuous_summary(x, self.codes, self.G, self.w, nonnormal)
        so = continuous_summary(x, np.zeros(len(x), dtype=np.int64), 1, self.w, nonnormal)
        constant = so["n"][0] > 0 and np.nanmin(x) == np.nanmax(x)
        p, key = continuous_test(x, self.codes, sg, nonnormal) if use_p else (np.nan, "")
        return sg, so, bool(constant), p, key

    def categorical(self, spec: Var) -> tuple[np.ndarray, np.ndarray]:
        s = self.data[spec.name]
        if spec.kind == "binary":
            vals = (
                s.to_numpy(dtype=float, na_value=np.nan)
                if not pd.api.types.is_bool_dtype(s)
                else s.astype("float").to_numpy()
            )
            lc = np.where(np.isnan(vals), -1, vals).astype(np.int64)
        else:
            lc = pd.Categorical(s, categories=spec.levels).codes.astype(np.int64)
        L, G, w = len(spec.levels), self.G, self.w
        ok = lc >= 0
        cnt = (
            np.bincount(self.codes[ok] * L + lc[ok], None if w is None else w[ok], minlength=G * L)
            .reshape(G, L)
            .T
        )
        miss = np.bincount(self.codes[~ok], None if w is None else w[~ok], minlength=G)
        return cnt.astype(float), miss.astype(float)


class EngineData:
    """``table_one``'s data access on an engine table, by aggregate queries."""

    def __init__(self, table: EngineTable, by: str | None, weights: str | None) -> None:
        import ibis

        self.table = table.cached()
        self.by = by
        e = self.table.full
        self.weights = weights
        self.w = e[weights].cast("float64") if weights is not None else None
        if by is not None:
            got = e.select(by).distinct().to_pandas()[by].tolist()
            kind = table.kinds.get(by)
            if isinstance(kind, tuple):
                self.glevels = list(kind[1])
            else:
                if e.schema()[by].is_boolean():
                    got = [bool(v) for v in got]
                self.glevels = sorted(got, key=sort_key)
            cases = [(e[by] == _py(v), i) for i, v in enumerate(self.glevels)]
            self.e = e.mutate(__g=ibis.cases(*cases, else_=-1).cast("int64"))
        else:
            self.glevels = []
            self.e = e.mutate(__g=ibis.literal(0).cast("int64"))
        self.G = max(len(self.glevels), 1)

    def check_inputs(self) -> None:
        """The input checks ``table_one`` makes on ``by`` and ``weights`` (missing values,
        empty levels, weights numeric, finite and non-negative), by aggregates."""
        e = self.table.full
        if self.by is not None:
            n_miss = int(scalars(e, {"m": e[self.by].isnull().cast("int64").sum()})["m"] or 0)
            if n_miss:
                raise DataError(
                    f"by: column {self.by!r} has {n_miss} missing value(s); rows with a "
                    "missing by cannot be counted. Drop or impute them explicitly first, "
                    f"e.g. data.dropna(subset=[{self.by!r}])."
                )
            kind = self.table.kinds.get(self.by)
            if isinstance(kind, tuple):
                present = set(e.select(self.by).distinct().to_pandas()[self.by])
                empty = [c for c in kind[1] if c not in present]
                if empty:
                    raise DataError(
                        f"by: column {self.by!r} has level(s) {[str(x) for x in empty]} with "
                        f"no rows (empty group). Drop them with "
                        f"data[{self.by!r}].cat.remove_unused_categories(), or merge levels."
                    )
        if self.weights is not None:
            dtype = e.schema()[self.weights]
            if not dtype.is_numeric():
                raise DataError(f"weights={self.weights!r} must be numeric, got {dtype}.")
            w = e[self.weights].cast("float64")
            got = scalars(
                e,
                {
                    "m": w.isnull().cast("int64").sum(),
                    "bad": (w.isinf() | w.isnan() | (w < 0)).fill_null(False).cast("int64").sum(),
                },
            )
            if got["m"]:
                raise DataError(
                    f"weights: column {self.weights!r} has {got['m']} missing value(s); rows "
                    "with a missing weights cannot be counted. Drop or impute them explicitly "
                    f"first, e.g. data.dropna(subset=[{self.weights!r}])."
                )
            if got["bad"]:
                raise DataError(f"weights={self.weights!r} must be finite and non-negative.")

    def standin(self) -> pd.DataFrame:
        """A small frame with each column's dtype and the values ``classify`` reads (the
        distinct values of text, boolean and categorical columns; for numbers whether they
        are all 0/1)."""
        e = self.table.full
        out = {}
        for c in self.table.columns:
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
                got = scalars(
                    e,
                    {
                        "other": (x.notnull() & ~x.isnan() & ~x.isin([0.0, 1.0]))
                        .cast("int64")
                        .sum(),
                        "n": (x.notnull() & ~x.isnan()).cast("int64").sum(),
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

    def group_sizes(self) -> np.ndarray:
        e = self.e
        w = self.w if self.w is not None else (e["__g"] * 0 + 1).cast("float64")
        got = grouped(e, ["__g"], {"n": w.sum()})
        return _dense(got, "n", self.G)

    def _x(self, name: str) -> Any:
        import ibis

        x = self.e[name].cast("float64")
        if self.e.schema()[name].is_floating():
            return ibis.cases((x.isnan(), ibis.null().cast("float64")), else_=x)
        return x

    def continuous(
        self, name: str, nonnormal: bool, use_p: bool
    ) -> tuple[dict, dict, bool, float, str]:
        e = self.e
        x = self._x(name)
        n_inf = int(scalars(e, {"i": x.isinf().cast("int64").sum()})["i"] or 0)
        if n_inf:
            rows = first_rows(self.table, lambda t: t[name].cast("float64").isinf(), [name])
            shown = ", ".join(
                f"row {'?' if pd.isna(r) else int(r)}: {v!r}"
                for r, v in zip(rows["row"], rows[name], strict=True)
            )
            raise DataError(
                f"variables: column {name!r} has {n_inf} infinite value(s) ({shown}); a "
                "mean, SD or median with them means nothing. Fix the source (often a "
                f"division by zero), or set them to missing: data[{name!r}] = "
                f"data[{name!r}].replace([np.inf, -np.inf], np.nan)."
            )
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

    def _summary(self, x: Any, keys: list[str], need_q: bool) -> dict[str, np.ndarray]:
        """``continuous_summary``'s numbers by aggregates."""
        import ibis

        e = self.e.mutate(__x=x)
        G = self.G if keys else 1
        ok = e["__x"].notnull()
        metrics = {"n": ok.cast("int64").sum(), "missing": (~ok).cast("int64").sum()}
        if self.w is None:
            metrics.update(mean=e["__x"].mean(), var=e["__x"].var(how="sample"))
        else:
            w = ibis.cases((ok, e[self.weights].cast("float64")), else_=0.0)
            metrics.update(wsum=w.sum(), wx=(w * e["__x"].fill_null(0.0)).sum())
        got = grouped(e, keys, metrics) if keys else grouped(e, [], metrics)
        if not keys:
            got = got.assign(__g=0)
        n = _dense(got, "n", G)
        out = {"n": n, "missing": _dense(got, "missing", G)}
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.w is None:
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
                ss = grouped(
                    e.filter(ok),
                    keys,
                    {"ss": (e[self.weights].cast("float64") * (e["__x"] - m) ** 2).sum()},
                )
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
        if self.w is None:
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

    def _rank_test(self, x: Any, sg: dict[str, np.ndarray]) -> tuple[float, str]:
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
            lc = ibis_cases([(v == 0.0, 0), (v == 1.0, 1)])
        else:
            lc = ibis_cases([(col == _py(lv), i) for i, lv in enumerate(spec.levels)])
        w = self.w if self.w is not None else (e["__g"] * 0 + 1).cast("float64")
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


def ibis_cases(cases: list[tuple[Any, int]]) -> Any:
    import ibis

    return ibis.cases(*cases, else_=-1).cast("int64")


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


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


def _dense(frame: pd.DataFrame, column: str, G: int, fill: float = 0.0) -> np.ndarray:
    out = np.full(G, fill, dtype=float)
    g = frame["__g"].to_numpy(dtype=np.int64)
    ok = g >= 0
    vals = frame[column].to_numpy(dtype=float, na_value=np.nan)
    out[g[ok]] = vals[ok]
    return out


def raw_statistics(
    source: FrameData | EngineData,
    *,
    variables: Sequence[str],
    categorical: Sequence[str] = (),
    nonnormal: Sequence[str] = (),
    pvalues: bool = True,
    smd: str | None = "mean",
    overall: bool = True,
) -> pd.DataFrame:
    """The numbers of ``table_one(...).to_frame()`` (the raw frame), from either source.

    Examples
    --------
    >>> df = pd.DataFrame({"age": [50.0, 61, 47, 70], "calc": [1, 1, 0, 0]})
    >>> raw = raw_statistics(FrameData(df, "calc", None), variables=["age"])
    >>> raw[raw["group"] == "Overall"][["variable", "n", "mean"]].to_dict("records")
    [{'variable': 'n', 'n': 4.0, 'mean': nan}, {'variable': 'age', 'n': 4.0, 'mean': 57.0}]
    """
    specs = classify(source.standin(), list(variables), set(categorical), set(nonnormal), {}, True)
    G, glevels = source.G, source.glevels
    show_groups = source.by is not None
    use_p = pvalues and show_groups and source.w is None and G >= 2
    use_smd = smd is not None and show_groups and G >= 2
    cols = ([None] if overall or not show_groups else []) + (list(range(G)) if show_groups else [])
    wsum_g = source.group_sizes()
    rows: list[dict] = [
        {
            "variable": "n",
            "label": "n",
            "level": None,
            "group": "Overall" if i is None else glevels[i],
            "n": float(wsum_g.sum()) if i is None else wsum_g[i],
        }
        for i in cols
    ]
    for spec in specs:
        if spec.kind in ("continuous", "nonnormal"):
            nq = spec.kind == "nonnormal"
            sg, so, constant, p, key = source.continuous(spec.name, nq, use_p)
            d = (
                smd_continuous(sg["mean"], sg["var"], sg["n"], summary=smd)
                if use_smd and not constant
                else np.nan
            )
            for i in cols:
                src, j = (so, 0) if i is None else (sg, i)
                rec = {
                    "variable": spec.name,
                    "label": spec.label,
                    "level": None,
                    "group": "Overall" if i is None else glevels[i],
                    "n": src["n"][j],
                    "mean": src["mean"][j],
                    "sd": src["sd"][j],
                    "missing": src["missing"][j],
                    "p_value": p,
                    "test": _TESTS.get(key, ""),
                    "smd": d,
                }
                if nq:
                    rec.update(median=src["median"][j], q1=src["q1"][j], q3=src["q3"][j])
                rows.append(rec)
            continue
        cnt, miss_g = source.categorical(spec)
        cnt_o, tot_g = cnt.sum(axis=1), cnt.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            props, props_o = cnt / tot_g, cnt_o / cnt_o.sum()
        constant = np.count_nonzero(cnt_o > 0) == 1
        p, key = categorical_test(cnt, name=spec.name) if use_p else (np.nan, "")
        d = (
            smd_categorical(np.nan_to_num(props), tot_g, summary=smd)
            if use_smd and not constant
            else np.nan
        )
        for lv in range(len(spec.levels)):
            for i in cols:
                rows.append(
                    {
                        "variable": spec.name,
                        "label": spec.label,
                        "level": spec.levels[lv],
                        "group": "Overall" if i is None else glevels[i],
                        "n": cnt_o.sum() if i is None else tot_g[i],
                        "count": cnt_o[lv] if i is None else cnt[lv, i],
                        "percent": 100 * (props_o[lv] if i is None else props[lv, i]),
                        "missing": float(miss_g.sum()) if i is None else miss_g[i],
                        "p_value": p,
                        "test": _TESTS.get(key, ""),
                        "smd": d,
                    }
                )
    return pd.DataFrame(rows)
