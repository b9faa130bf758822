"""Table 1: baseline characteristics overall and by group, with tests and SMDs.

Layout and conventions follow R ``tableone`` / gtsummary: continuous variables as
mean (SD) or, for ``nonnormal`` ones, median [Q1, Q3]; categorical variables as n (%) for
every level (percentages of the non-missing), binary 0/1 and bool variables as one row
(the 1/True level); a "Missing" row per variable with missing values; p-values named by a
footnote symbol per row; standardised mean differences (see ``_table_one_stats``). With
``weights`` (e.g. IPTW) means, SDs, quantiles, counts and percentages are weighted and the
SMD is the weighted SMD (R ``tableone::svyCreateTableOne``); p-values are then not shown
(design-based tests are not implemented; the weighted SMD is the balance diagnostic).

Nothing is shown that the data do not support: a statistic that is not defined (the SD of
one value, the test of a variable that takes one value, the SMD of a group without data)
is "—" with a footnote saying why (``_table_one_notes``), and values the table cannot use
(text in a numeric column, infinite values, a mistyped ``labels`` key) raise an error that
names them (``_table_one_checks``).

Python ``tableone`` is written per variable and per group with pandas ``groupby``; here
every statistic is one ``np.bincount`` over integer group codes, so 200,000 rows × 20
variables take well under a second.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from calcstats._errors import CalcstatsError, DataError
from calcstats.describe._checks import as_list, check_columns, check_frame, check_no_missing
from calcstats.describe._result import check_empty_levels, check_suppress
from calcstats.describe._table_one_checks import (
    check_finite,
    check_labels,
    classify,
    numbers_from_text,
    sort_key,
)
from calcstats.describe._table_one_notes import (
    DASH,
    Undefined,
    categorical_p_why,
    continuous_p_why,
    footnotes,
    smd_why,
)
from calcstats.describe._table_one_stats import (
    SMD_SUMMARIES,
    categorical_test,
    continuous_summary,
    continuous_test,
    smd_categorical,
    smd_continuous,
)

__all__ = ["table_one"]

TEST_NAMES = {
    "welch": "Welch two-sample t-test",
    "anova": "one-way analysis of variance",
    "wilcoxon": "Wilcoxon rank-sum (Mann–Whitney) test",
    "kruskal": "Kruskal–Wallis test",
    "chisq": "Pearson's χ² test",
    "fisher": "Fisher's exact test",
    "fisher_mc": "Fisher's exact test (Monte-Carlo p-value, 99,999 tables)",
}
SYMBOLS = ["†", "‡", "§", "¶", "‖", "#", "**"]


def _decimals(scale: float) -> int:
    """Decimals from the spread: ≥100 → 0, 1–100 → 1, 0.1–1 → 2, below → 3."""
    if not np.isfinite(scale) or scale <= 0:
        return 1
    if scale >= 100:
        return 0
    if scale >= 1:
        return 1
    return 2 if scale >= 0.1 else 3


def _level_str(x: object) -> str:
    """Display a level: integer-valued floats without '.0' (stage 1.0 → '1')."""
    if isinstance(x, (float, np.floating)) and np.isfinite(x) and float(x).is_integer():
        return str(int(x))
    return str(x)


def _fmt(x: float, d: int) -> str:
    return "" if not np.isfinite(x) else f"{x:,.{d}f}"


def table_one(
    data: pd.DataFrame,
    *,
    by: str | None = None,
    variables: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    nonnormal: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    overall: bool = True,
    pvalues: bool = True,
    smd: bool | str = True,
    missing: bool = True,
    weights: str | None = None,
    suppress_below: int | None = None,
    title: str | None = "Table 1. Baseline characteristics",
):
    """Table 1 of a cohort study: characteristics overall and by group.

    Parameters
    ----------
    data : DataFrame
        One row per patient (e.g. ``cohort.patient_table()``).
    by : str, optional
        Grouping column (e.g. ``"any_calcification"``); missing values are an error.
        Levels appear in category order (Categoricals) or sorted.
    variables : list of str, optional
        Rows of the table, in order. Default: every column except ``by`` and ``weights``,
        leaving out dates and text columns with more than 20 distinct values (identifiers).
    categorical : list of str, optional
        Numeric columns to show as categories (e.g. a stage coded 1–4). Text, bool and
        Categorical columns are always categorical; numeric 0/1 columns are binary.
    nonnormal : list of str, optional
        Continuous variables shown as median [Q1, Q3] and tested with rank tests.
    labels : dict, optional
        Display label per variable, e.g. ``{"age_at_index": "Age, years"}``. Keys for
        columns not in the table are allowed (one dictionary can serve several tables); a
        key that is not a column but nearly matches an unlabelled variable is taken for a
        typo and raises a SchemaError suggesting the variable.
    overall : bool
        Add an "Overall" column (always shown when ``by`` is None).
    pvalues : bool
        Add p-values (needs ``by``): t-test/ANOVA, Wilcoxon/Kruskal–Wallis for nonnormal,
        χ² or Fisher's exact test when an expected count is below 5; the test of each row
        is named by a footnote symbol. Not shown with ``weights``.
    smd : bool or {"mean", "max"}, default True
        Add standardised mean differences (needs ``by``). With more than two groups the
        SMD of a variable summarises the pairwise SMDs: ``True`` or ``"mean"`` gives their
        mean, as R ``tableone`` prints it; ``"max"`` the largest. ``False``: no SMDs.
    missing : bool
        Add a "Missing" row (count) for variables with missing values.
    weights : str, optional
        Column of non-negative case weights (e.g. IPTW): weighted summaries and SMDs.
    suppress_below : int, optional
        Hide counts 1..k−1 of categorical and missing rows, with secondary suppression so
        that no hidden count can be worked out from the group sizes or the Overall column.
    title : str, optional
        Table title.

    Returns
    -------
    calcstats.tables.Table
        ``.to_frame()`` gives the raw numbers, one row per variable × level × group.
        Statistics that are not defined for the data (the SD of one value, the p-value
        or SMD of a variable that takes one value or of a group without data) show as
        "—", with a footnote naming the variable and the reason.

    Raises
    ------
    DataError
        A numeric column with text cells (e.g. ``"unknown"``; the error names the rows
        and values: convert them to missing, or list the column in ``categorical=``),
        infinite values in a continuous variable, dates named in ``variables``.
    SchemaError
        An unknown column, or a ``labels`` key that looks like a mistyped variable.
    CalcstatsError
        Invalid options, or a categorical variable with so many levels that its
        Monte-Carlo Fisher test cannot be run (merge levels or pass ``pvalues=False``).

    Examples
    --------
    >>> import pandas as pd, calcstats as cs
    >>> df = pd.DataFrame({"age": [50.0, 61, 47, 70, 66, 58], "female": [1, 0, 1, 1, 0, 0],
    ...                    "calc": [1, 1, 1, 0, 0, 0]})
    >>> t1 = cs.table_one(df, by="calc")
    >>> t1.to_frame()["variable"].unique().tolist()
    ['n', 'age', 'female']
    """
    from calcstats.tables import Table, format_p

    data = check_frame(data, func="table_one")
    k_sup = check_suppress(suppress_below)
    smd_how = _check_smd(smd)
    cat_set, nn_set = set(as_list(categorical)), set(as_list(nonnormal))
    for arg, cols in (("categorical", cat_set), ("nonnormal", nn_set)):
        check_columns(data, sorted(cols), argument=arg)
    if by is not None:
        if not isinstance(by, str):
            raise CalcstatsError(f"by must be one column name, got {by!r}.")
        check_columns(data, [by], argument="by")
        check_no_missing(data, [by], argument="by")
        check_empty_levels(data, [by], argument="by")
    w = None
    if weights is not None:
        check_columns(data, [weights], argument="weights")
        check_no_missing(data, [weights], argument="weights")
        if not pd.api.types.is_numeric_dtype(data[weights]):
            raise DataError(f"weights={weights!r} must be numeric, got {data[weights].dtype}.")
        w = data[weights].to_numpy(dtype=float)
        if (w < 0).any() or not np.isfinite(w).all():
            raise DataError(f"weights={weights!r} must be finite and non-negative.")
    explicit = variables is not None
    if explicit:
        var_names = as_list(variables)
        check_columns(data, var_names, argument="variables")
        if by in var_names:
            raise CalcstatsError(f"variables includes the grouping column by={by!r}.")
    else:
        var_names = [c for c in data.columns if c not in (by, weights)]
    labels = check_labels(labels, data, var_names, by)
    # numbers held in object columns (e.g. read from Excel) are described as numbers;
    # numbers with stray text ("unknown") are an error naming the rows
    data = numbers_from_text(data, var_names, cat_set)
    specs = classify(data, var_names, cat_set, nn_set, labels, explicit)
    if not specs:
        raise DataError("table_one: no variables to describe.")

    # ---- groups ---------------------------------------------------------------------
    if by is not None:
        gs = data[by]
        if isinstance(gs.dtype, pd.CategoricalDtype):
            glevels = list(gs.cat.categories)
            codes = gs.cat.codes.to_numpy().astype(np.int64)
        else:
            glevels = sorted(pd.unique(gs), key=sort_key)
            codes = pd.Categorical(gs, categories=glevels).codes.astype(np.int64)
        G = len(glevels)
    else:
        glevels, codes, G = [], np.zeros(len(data), dtype=np.int64), 1
    show_groups = by is not None
    use_p = pvalues and show_groups and w is None and G >= 2
    use_smd = smd_how is not None and show_groups and G >= 2
    group_names = [_level_str(g) for g in glevels]
    cols = []
    if overall or not show_groups:
        cols.append(("Overall", None))
    if show_groups:
        cols += [(name, i) for i, name in enumerate(group_names)]
    by_label = str(labels.get(by, by))
    where = [f"{by_label} = {g}" for g in group_names]  # group columns in footnotes
    undefined = Undefined()

    if k_sup is not None and w is not None:
        raise CalcstatsError(
            "suppress_below cannot be combined with weights: weighted counts are not patient "
            "counts. Suppress the unweighted table, or report weighted percentages only."
        )
    rows: list[dict] = []  # display rows
    blocks: list[tuple[list[int | None], np.ndarray, int | None]] = []
    raw: list[dict] = []
    tests_used: dict[str, str] = {}

    def slot_values(arr_groups: np.ndarray, arr_overall: float | np.ndarray) -> list:
        return [arr_overall if i is None else arr_groups[i] for _, i in cols]

    wsum_g = (
        np.bincount(codes, w, minlength=G)
        if w is not None
        else np.bincount(codes, minlength=G).astype(float)
    )
    n_total = float(wsum_g.sum())
    nd = 0 if w is None else 1
    rows.append(
        {
            "label": "n",
            "indent": 0,
            "cells": [_fmt(n_total if i is None else wsum_g[i], nd) for _, i in cols],
            "p": "",
            "smd": "",
        }
    )
    for _, i in cols:
        raw.append(
            {
                "variable": "n",
                "label": "n",
                "level": None,
                "group": "Overall" if i is None else glevels[i],
                "n": n_total if i is None else wsum_g[i],
            }
        )

    zeros = np.zeros(len(data), dtype=np.int64)
    for spec in specs:
        s = data[spec.name]
        if spec.kind in ("continuous", "nonnormal"):
            x = (
                pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
                if not pd.api.types.is_numeric_dtype(s)
                else s.to_numpy(dtype=float, na_value=np.nan)
            )
            nonnum = s.notna().to_numpy() & np.isnan(x)
            if nonnum.any():
                raise DataError(f"variables: column {spec.name!r} has non-numeric values.")
            check_finite(data, spec.name, x)
            nq = spec.kind == "nonnormal"
            sg = continuous_summary(x, codes, G, w, nq)
            so = continuous_summary(x, zeros, 1, w, nq)
            n_o = so["n"][0]
            constant = n_o > 0 and np.nanmin(x) == np.nanmax(x)
            p, key = continuous_test(x, codes, sg, nq) if use_p else (np.nan, "")
            d = np.nan
            if use_smd and not constant:
                d = smd_continuous(sg["mean"], sg["var"], sg["n"], summary=smd_how)
            col_names = ["Overall" if i is None else where[i] for _, i in cols]
            empty = [
                nm for nm, n in zip(col_names, slot_values(sg["n"], n_o), strict=True) if n == 0
            ]
            if empty:
                undefined.add(spec.label, "summary", f"no patient with data in {_and(empty)}")
            if use_p and not np.isfinite(p):
                why = continuous_p_why(sg["n"], sg["var"], nq, constant, where)
                undefined.add(spec.label, "p-value", why)
            if use_smd and not np.isfinite(d):
                undefined.add(
                    spec.label, "SMD", smd_why(sg["n"], constant, where, categorical=False)
                )
            if nq:
                dec = _decimals(so["q3"][0] - so["q1"][0])
                cell = [
                    f"{_fmt(m, dec)} [{_fmt(a, dec)}, {_fmt(b, dec)}]" if n > 0 else DASH
                    for m, a, b, n in zip(
                        slot_values(sg["median"], so["median"][0]),
                        slot_values(sg["q1"], so["q1"][0]),
                        slot_values(sg["q3"], so["q3"][0]),
                        slot_values(sg["n"], so["n"][0]),
                        strict=True,
                    )
                ]
                lab = f"{spec.label}, median [IQR]"
            else:
                dec = _decimals(so["sd"][0])
                n_slots = slot_values(sg["n"], n_o)
                cell = [
                    DASH if n == 0 else f"{_fmt(m, dec)} ({_fmt(sd, dec) if n > 1 else DASH})"
                    for m, sd, n in zip(
                        slot_values(sg["mean"], so["mean"][0]),
                        slot_values(sg["sd"], so["sd"][0]),
                        n_slots,
                        strict=True,
                    )
                ]
                single = [nm for nm, n in zip(col_names, n_slots, strict=True) if n == 1]
                if single:
                    undefined.add(spec.label, "SD", f"one patient with data in {_and(single)}")
                lab = f"{spec.label}, mean (SD)"
            if key and np.isfinite(p):
                tests_used.setdefault(key, SYMBOLS[len(tests_used)])
            rows.append(
                {
                    "label": lab,
                    "indent": 0,
                    "cells": cell,
                    "p": _pcell(p, key, tests_used, format_p, use_p),
                    "smd": _smd(d, use_smd),
                }
            )
            for _, i in cols:
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
                    "test": TEST_NAMES.get(key, ""),
                    "smd": d,
                }
                if nq:
                    rec.update(median=src["median"][j], q1=src["q1"][j], q3=src["q3"][j])
                raw.append(rec)
            miss_g, miss_o = sg["missing"], so["missing"][0]
        else:
            if spec.kind == "binary":
                vals = (
                    s.to_numpy(dtype=float, na_value=np.nan)
                    if not pd.api.types.is_bool_dtype(s)
                    else s.astype("float").to_numpy()
                )
                lc = np.where(np.isnan(vals), -1, vals).astype(np.int64)
            else:
                lc = pd.Categorical(s, categories=spec.levels).codes.astype(np.int64)
                unknown = (lc < 0) & s.notna().to_numpy()
                if unknown.any():  # pragma: no cover - levels are taken from the data
                    raise DataError(f"{spec.name!r}: values outside its categories.")
            L = len(spec.levels)
            okm = lc >= 0
            idx = codes[okm] * L + lc[okm]
            cnt = np.bincount(idx, None if w is None else w[okm], minlength=G * L)
            cnt = cnt.reshape(G, L).T  # levels × groups
            cnt_o = cnt.sum(axis=1)
            miss_g = np.bincount(codes[~okm], None if w is None else w[~okm], minlength=G)
            miss_o = float(miss_g.sum())
            tot_g = cnt.sum(axis=0)
            with np.errstate(divide="ignore", invalid="ignore"):
                props = cnt / tot_g
                props_o = cnt_o / cnt_o.sum()
            constant = np.count_nonzero(cnt_o > 0) == 1
            p, key = categorical_test(cnt, name=spec.name) if use_p else (np.nan, "")
            if use_p and not np.isfinite(p):
                undefined.add(spec.label, "p-value", categorical_p_why(tot_g, constant, where))
            d = np.nan
            if use_smd and not constant:
                d = smd_categorical(np.nan_to_num(props), tot_g, summary=smd_how)
            if use_smd and not np.isfinite(d):
                why = smd_why(tot_g, constant, where, categorical=True)
                undefined.add(spec.label, "SMD", why)
            if key and np.isfinite(p):
                tests_used.setdefault(key, SYMBOLS[len(tests_used)])
            shown = [1] if spec.kind == "binary" else list(range(L))
            pct = [slot_values(props[lv], props_o[lv]) for lv in range(L)]
            cts = [slot_values(cnt[lv], cnt_o[lv]) for lv in range(L)]
            level_rows: list[int | None] = [None] * L
            if spec.kind == "binary":
                level_rows[1] = len(rows)
                rows.append(
                    {
                        "label": f"{spec.label}, n (%)",
                        "indent": 0,
                        "cells": [_npct(c, q, nd) for c, q in zip(cts[1], pct[1], strict=True)],
                        "p": _pcell(p, key, tests_used, format_p, use_p),
                        "smd": _smd(d, use_smd),
                    }
                )
            else:
                rows.append(
                    {
                        "label": f"{spec.label}, n (%)",
                        "indent": 0,
                        "cells": [""] * len(cols),
                        "p": _pcell(p, key, tests_used, format_p, use_p),
                        "smd": _smd(d, use_smd),
                    }
                )
                for lv in shown:
                    level_rows[lv] = len(rows)
                    rows.append(
                        {
                            "label": _level_str(spec.levels[lv]),
                            "indent": 1,
                            "cells": [
                                _npct(c, q, nd) for c, q in zip(cts[lv], pct[lv], strict=True)
                            ],
                            "p": "",
                            "smd": "",
                        }
                    )
            for lv in range(L):
                for _, i in cols:
                    raw.append(
                        {
                            "variable": spec.name,
                            "label": spec.label,
                            "level": spec.levels[lv],
                            "group": "Overall" if i is None else glevels[i],
                            "n": cnt_o.sum() if i is None else tot_g[i],
                            "count": cnt_o[lv] if i is None else cnt[lv, i],
                            "percent": 100 * (props_o[lv] if i is None else props[lv, i]),
                            "missing": miss_o if i is None else miss_g[i],
                            "p_value": p,
                            "test": TEST_NAMES.get(key, ""),
                            "smd": d,
                        }
                    )
        miss_row = len(rows) if (missing and miss_o > 0) else None
        if spec.kind in ("binary", "categorical"):
            blocks.append((level_rows, np.vstack([cnt, miss_g[None, :]]), miss_row))
        if missing and miss_o > 0:
            rows.append(
                {
                    "label": "Missing",
                    "indent": 1,
                    "cells": [_fmt(v, nd) for v in slot_values(miss_g, miss_o)],
                    "p": "",
                    "smd": "",
                }
            )

    body = pd.DataFrame({"Characteristic": [r["label"] for r in rows]})
    for j, (name, _) in enumerate(cols):
        body[name] = [r["cells"][j] for r in rows]
    if use_p:
        body["p-value"] = [r["p"] for r in rows]
    if use_smd:
        body["SMD"] = [r["smd"] for r in rows]
    notes = footnotes(
        {s.kind for s in specs},
        tests_used,
        TEST_NAMES,
        smd_summary=smd_how if use_smd else None,
        n_groups=G,
        weighted=w is not None,
        asked_p=pvalues and show_groups,
    )
    notes += undefined.notes()
    if k_sup is not None:
        from calcstats.describe._table_one_suppress import suppress_table_one

        body, note = suppress_table_one(body, blocks, cols, k_sup)
        if note:
            notes.append(note)
    spanners = []
    if show_groups:
        spanners = [(by_label, group_names)]
    return Table(
        body,
        title=title,
        indent=[r["indent"] for r in rows],
        spanners=spanners,
        footnotes=notes,
        raw=pd.DataFrame(raw),
    )


def _npct(c: float, q: float, nd: int) -> str:
    if not np.isfinite(q):
        return _fmt(c, nd)
    return f"{_fmt(c, nd)} ({100 * q:.1f})"


def _smd(d: float, shown: bool) -> str:
    if not shown:
        return ""
    return DASH if not np.isfinite(d) else f"{d:.3f}"


def _pcell(p: float, key: str, used: dict[str, str], format_p, shown: bool) -> str:
    if not shown:
        return ""
    if not np.isfinite(p):
        return DASH
    return f"{format_p(p)}{used[key]}"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _check_smd(smd: object) -> str | None:
    """``smd=`` as None (no SMDs), "mean" or "max"."""
    if smd is True:
        return "mean"
    if smd is False or smd is None:
        return None
    if isinstance(smd, str) and smd in SMD_SUMMARIES:
        return smd
    raise CalcstatsError(
        f"smd must be True or 'mean' (mean of the pairwise SMDs across groups, as R "
        f"tableone prints), 'max' (the largest pairwise SMD) or False, got {smd!r}."
    )
