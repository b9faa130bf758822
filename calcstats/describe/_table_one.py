"""Table 1: baseline characteristics overall and by group, with tests and SMDs.

Layout and conventions follow R ``tableone`` / gtsummary: continuous variables as
mean (SD) or, for ``nonnormal`` ones, median [IQR] (printed [Q1, Q3]; ``statistic=`` per
variable also gives gtsummary's median (Q1, Q3)); categorical variables as n (%) for
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

Computing and display are apart: this module computes every number into a
:class:`_TableOneResult` (``tidy()``: one row per variable × level × group, Overall
included), and ``table_one`` returns its publication table, built by
:mod:`calcstats.tables` (``result.to_table()`` dispatches there through
:func:`calcstats.results.table_of`; nothing here imports the tables layer).

Python ``tableone`` is written per variable and per group with pandas ``groupby``; here
every statistic is one ``np.bincount`` over integer group codes, so 200,000 rows × 20
variables take well under a second.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import DataError, InvalidParameterError
from calcstats._validation import (
    BOOLEAN,
    COLUMN,
    COLUMNS,
    NONE,
    Interval,
    Options,
    require_columns,
    validate_params,
)
from calcstats.describe._checks import as_list, check_title
from calcstats.describe._table_one_checks import (
    Var,
    apply_display,
    check_labels,
    classify,
    resolve_statistics,
)
from calcstats.describe._table_one_data import FrameData, TableOneData
from calcstats.describe._table_one_notes import (
    categorical_p_why,
    continuous_p_why,
    smd_why,
)
from calcstats.describe._table_one_stats import (
    SMD_SUMMARIES,
    categorical_test,
    smd_categorical,
    smd_continuous,
)
from calcstats.labels import Labels
from calcstats.results import Result

__all__ = ["TEST_NAMES", "_TableOneResult", "table_one"]

TEST_NAMES = {
    "welch": "Welch two-sample t-test",
    "anova": "one-way analysis of variance",
    "wilcoxon": "Wilcoxon rank-sum (Mann–Whitney) test",
    "kruskal": "Kruskal–Wallis test",
    "chisq": "Pearson's χ² test",
    "fisher": "Fisher's exact test",
    "fisher_mc": "Fisher's exact test (Monte-Carlo p-value, 99,999 tables)",
}


class _TableOneResult(Result):
    """The numbers of a Table 1 (what :func:`table_one` computes before it lays them out).

    ``table_one`` returns ``result.to_table(title=...)``; the layout is
    :func:`calcstats.tables._table_one.table_one_table`. Labels are resolved here (they
    appear in the footnotes that say why a statistic is not defined).

    Attributes
    ----------
    by : str or None
        The grouping column.
    by_label : str
        Its label.
    groups : list
        The levels of ``by`` in display order (empty without ``by``).
    group_labels : list of str
        Their labels.
    variables : list of Var
        The row groups: name, label, kind, levels and level labels (display order).
    overall, missing : bool
        Show the Overall column; show "Missing" rows.
    show_p, show_smd : bool
        p-values / SMDs were computed and are shown.
    asked_p : bool
        p-values were asked for (with ``by``), even if not shown (weights).
    smd_summary : str or None
        ``"mean"`` or ``"max"`` of the pairwise SMDs (None: no SMDs).
    weights : str or None
        The weight column.
    n_zero_weight : int
        Rows set aside because their weight is 0.
    undefined : list of (str, str, str)
        ``(variable label, what, why)`` for every statistic that is not defined ("—").
    suppress_below : int or None
        Counts 1..k−1 are hidden in the table.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        by: str | None,
        by_label: str,
        groups: list[Any],
        group_labels: list[str],
        variables: list[Var],
        overall: bool,
        missing: bool,
        show_p: bool,
        show_smd: bool,
        asked_p: bool,
        smd_summary: str | None,
        weights: str | None,
        n_zero_weight: int,
        undefined: list[tuple[str, str, str]],
        suppress_below: int | None,
        labels: Labels,
    ) -> None:
        self._frame = frame
        self.by = by
        self.by_label = by_label
        self.groups = groups
        self.group_labels = group_labels
        self.variables = variables
        self.overall = overall
        self.missing = missing
        self.show_p = show_p
        self.show_smd = show_smd
        self.asked_p = asked_p
        self.smd_summary = smd_summary
        self.weights = weights
        self.n_zero_weight = n_zero_weight
        self.undefined = undefined
        self.suppress_below = suppress_below
        self.labels = labels
        self.method = "Baseline characteristics" + (f" by {by}" if by else "")

    def tidy(self) -> pd.DataFrame:
        """One row per variable × level × group (``"Overall"`` included): ``variable,
        label, level, group, n`` and the statistics of the row (``mean, sd, missing``,
        ``median, q1, q3``, ``count, percent``, ``p_value, test, smd``)."""
        return self._frame.copy()


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


@validate_params(
    {
        "by": [COLUMN, NONE],
        "variables": [COLUMNS, NONE],
        "categorical": [COLUMNS, NONE],
        "nonnormal": [COLUMNS, NONE],
        "overall": [BOOLEAN],
        "pvalues": [BOOLEAN],
        "smd": [BOOLEAN, Options(*SMD_SUMMARIES)],
        "missing": [BOOLEAN],
        "weights": [COLUMN, NONE],
        "suppress_below": [Interval(2, None, integer=True), NONE],
    },
    engine="calcstats.describe._table_one_engine:table_one",
)
def table_one(
    data: pd.DataFrame,
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
    """Table 1 of a cohort study: characteristics overall and by group.

    Parameters
    ----------
    data : DataFrame
        One row per patient (e.g. ``cohort.patient_table()``).
    by : str, optional
        Grouping column (e.g. ``"any_calcification"``); missing values are an error.
        Levels appear in the order of their labels, then category order (Categoricals)
        or sorted.
    variables : list of str, optional
        Rows of the table, in order. Default: every column except ``by`` and ``weights``,
        leaving out dates and text columns with more than 20 distinct values (identifiers).
    categorical : list of str, optional
        Numeric columns to show as categories (e.g. a stage coded 1–4). Text, bool and
        Categorical columns are always categorical; numeric 0/1 columns are binary.
    nonnormal : list of str, optional
        Continuous variables shown as median [IQR] and tested with rank tests.
    statistic : str or dict, optional
        What a continuous row shows: ``"mean (SD)"``, ``"median [IQR]"`` (printed
        ``median [Q1, Q3]``, as R tableone) or ``"median (Q1, Q3)"`` (as gtsummary). A
        dict gives it per variable (``{"bilirubin_mg_dl": "median (Q1, Q3)"}``); one
        string applies to every continuous variable. A median row is tested with a rank
        test, as ``nonnormal``. The row label ends with the statistic ("Bilirubin
        (mg/dL), median [IQR]") and the footnote names the same. Default: "mean (SD)",
        "median [IQR]" for ``nonnormal`` variables.
    digits : int or dict, optional
        Decimals per variable (``{"inr": 2, "age_at_index": 0}``) or one number for all:
        of the summaries of a continuous row, of the percentages of a categorical one.
        Default: continuous summaries get decimals from their spread (SD or IQR ≥ 100:
        0; ≥ 1: 1; ≥ 0.1: 2; else 3), percentages 1.
    labels : Labels or dict, optional
        Display labels, merged over the schema's defaults (``cs.Labels.default()``: e.g.
        ``sex`` prints as "Sex" and its level ``F`` as "Female", ``etiology`` ``pbc`` as
        "Primary biliary cholangitis"). A dict gives variable labels, e.g.
        ``{"age_at_index": "Age, years"}``; a :class:`~calcstats.Labels` also level labels,
        whose order is the display order of the levels (and of the groups of ``by``).
        Keys for columns not in the table are allowed (one set of labels can serve several
        tables); a variable key that is not a column but nearly matches an unlabelled
        variable is taken for a typo and raises a SchemaError suggesting the variable.
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
        Column of case weights (e.g. IPTW): weighted summaries and SMDs. The shared rule
        of every calcstats function with weights: a weight must be a finite number ≥ 0
        (an error names the rows otherwise; a missing weight is an error); rows with
        weight 0 are set aside and counted in a footnote.
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
        infinite values in a continuous variable, dates named in ``variables``, negative,
        infinite or missing weights.
    SchemaError
        An unknown column, or a ``labels`` key that looks like a mistyped variable.
    InvalidParameterError
        Invalid options.
    CalcstatsError
        A categorical variable with so many levels that its Monte-Carlo Fisher test
        cannot be run (merge levels or pass ``pvalues=False``).

    Examples
    --------
    >>> import pandas as pd, calcstats as cs
    >>> df = pd.DataFrame({"age": [50.0, 61, 47, 70, 66, 58], "sex": list("FMFFMM"),
    ...                    "calc": [1, 1, 1, 0, 0, 0]})
    >>> t1 = cs.table_one(df, by="calc")
    >>> t1.to_frame()["variable"].unique().tolist()
    ['n', 'age', 'sex']
    >>> [row[0] for row in t1.cells]
    ['n', 'Age, mean (SD)', 'Sex, n (%)', 'Female', 'Male']
    >>> t2 = cs.table_one(df, by="calc", statistic={"age": "median (Q1, Q3)"},
    ...                   digits={"age": 0, "sex": 0})
    >>> t2.cells[1][:2], t2.cells[3][:2]
    (('Age, median (Q1, Q3)', '60 (52, 65)'), ('Female', '3 (50)'))
    >>> t2.footnotes[0]
    'Values are median (Q1, Q3); n (%) of patients with data.'
    """
    return build_table_one(
        FrameData(data),
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


def build_table_one(
    source: TableOneData,
    *,
    by: str | None,
    variables: Sequence[str] | None,
    categorical: Sequence[str] | None,
    nonnormal: Sequence[str] | None,
    statistic: str | Mapping[str, str] | None,
    digits: int | Mapping[str, int] | None,
    labels: Labels | Mapping[str, str] | None,
    overall: bool,
    pvalues: bool,
    smd: bool | str,
    missing: bool,
    weights: str | None,
    suppress_below: int | None,
    title: str | None,
) -> Any:
    """:func:`table_one` of its data, read through ``source`` (the rows of a DataFrame
    or an engine table's aggregates)."""
    check_title(title, func="table_one")
    if suppress_below is not None and weights is not None:
        raise InvalidParameterError(
            "The 'suppress_below' parameter of table_one must be None when weights= is "
            f"given: weighted counts are not patient counts. Got {suppress_below!r}. "
            "Suppress the unweighted table, or report weighted percentages only."
        )
    smd_how = ("mean" if smd else None) if isinstance(smd, bool) else smd
    cat_set, nn_set = set(as_list(categorical)), set(as_list(nonnormal))
    require_columns(
        source.shape(),
        {"categorical": sorted(cat_set), "nonnormal": sorted(nn_set), "by": by},
        function="table_one",
    )
    n_zero = source.use_weights(weights)
    if by is not None:
        source.check_by(by)
    explicit = variables is not None
    if explicit:
        var_names = as_list(variables)
        require_columns(source.shape(), {"variables": var_names}, function="table_one")
        if by in var_names:
            raise InvalidParameterError(
                f"The 'variables' parameter of table_one must not include the grouping "
                f"column by={by!r}. Got {var_names!r}."
            )
    else:
        var_names = [c for c in source.columns if c not in (by, weights)]
    lab = check_labels(labels, source.shape(), var_names, by)
    statistics, medians = resolve_statistics(statistic, var_names, nn_set)
    # numbers held in object columns (e.g. read from Excel) are described as numbers;
    # numbers with stray text ("unknown") are an error naming the rows
    source.numbers_from_text(var_names, cat_set)
    specs = classify(source.standin(var_names), var_names, cat_set, nn_set, lab, explicit, medians)
    if not specs:
        raise DataError("table_one: no variables to describe.")
    apply_display(specs, statistics, digits, var_names)
    result = _compute(
        source,
        specs,
        by=by,
        weighted=weights is not None,
        lab=lab,
        overall=overall,
        pvalues=pvalues,
        smd_how=smd_how,
        missing=missing,
        weights=weights,
        n_zero=n_zero,
        suppress_below=suppress_below,
    )
    return result.to_table(title=title)


def _compute(
    source: TableOneData,
    specs: list[Var],
    *,
    by: str | None,
    weighted: bool,
    lab: Labels,
    overall: bool,
    pvalues: bool,
    smd_how: str | None,
    missing: bool,
    weights: str | None,
    n_zero: int,
    suppress_below: int | None,
) -> _TableOneResult:
    """Every number of the table: summaries per group and overall, tests, SMDs."""
    glevels: list[Any] = []
    if by is not None:
        glevels = [_plain(g) for g in lab.order(by, source.group_levels(by))]
    source.set_groups(by, glevels)
    G = max(len(glevels), 1)
    show_groups = by is not None
    use_p = pvalues and show_groups and not weighted and G >= 2
    use_smd = smd_how is not None and show_groups and G >= 2
    group_labels = [lab.level(by, g) for g in glevels] if by is not None else []
    by_label = lab.variable(by) if by is not None else ""
    where = [f"{by_label} = {g}" for g in group_labels]  # group columns in footnotes
    slots: list[int | None] = [None, *range(len(glevels))]  # Overall, then the groups
    show_overall = overall or not show_groups
    shown = [i for i in slots if (i is None and show_overall) or i is not None]
    names = ["Overall" if i is None else where[i] for i in shown]
    undefined: list[tuple[str, str, str]] = []
    raw: list[dict] = []

    def group_of(i: int | None) -> Any:
        return "Overall" if i is None else glevels[i]

    wsum_g = source.group_sizes()
    for i in slots:
        raw.append(
            {
                "variable": "n",
                "label": "n",
                "level": None,
                "group": group_of(i),
                "n": float(wsum_g.sum()) if i is None else wsum_g[i],
            }
        )
    for spec in specs:
        if spec.kind in ("continuous", "nonnormal"):
            nq = spec.kind == "nonnormal"
            sg, so, constant, p, key = source.continuous(spec.name, nq, use_p)
            d = np.nan
            if use_smd and smd_how is not None and not constant:
                d = smd_continuous(sg["mean"], sg["var"], sg["n"], summary=smd_how)
            shown_n = [so["n"][0] if i is None else sg["n"][i] for i in shown]
            empty = [nm for nm, n in zip(names, shown_n, strict=True) if n == 0]
            if empty:
                undefined.append((spec.label, "summary", f"no patient with data in {_and(empty)}"))
            single = [nm for nm, n in zip(names, shown_n, strict=True) if n == 1]
            if single and not nq:
                undefined.append((spec.label, "SD", f"one patient with data in {_and(single)}"))
            if use_p and not np.isfinite(p):
                why = continuous_p_why(sg["n"], sg["var"], nq, constant, where)
                undefined.append((spec.label, "p-value", why))
            if use_smd and not np.isfinite(d):
                why = smd_why(sg["n"], constant, where, categorical=False)
                undefined.append((spec.label, "SMD", why))
            for i in slots:
                src, j = (so, 0) if i is None else (sg, i)
                rec = {
                    "variable": spec.name,
                    "label": spec.label,
                    "level": None,
                    "group": group_of(i),
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
            continue
        cnt, miss_g = source.categorical(spec)  # levels × groups, missing per group
        L = len(spec.levels)
        cnt_o = cnt.sum(axis=1)
        tot_g = cnt.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            props = cnt / tot_g
            props_o = cnt_o / cnt_o.sum()
        constant = np.count_nonzero(cnt_o > 0) == 1
        p, key = categorical_test(cnt, name=spec.name) if use_p else (np.nan, "")
        if use_p and not np.isfinite(p):
            undefined.append((spec.label, "p-value", categorical_p_why(tot_g, constant, where)))
        d = np.nan
        if use_smd and smd_how is not None and not constant:
            d = smd_categorical(np.nan_to_num(props), tot_g, summary=smd_how)
        if use_smd and not np.isfinite(d):
            undefined.append((spec.label, "SMD", smd_why(tot_g, constant, where, categorical=True)))
        for lv in range(L):
            for i in slots:
                raw.append(
                    {
                        "variable": spec.name,
                        "label": spec.label,
                        "level": spec.levels[lv],
                        "group": group_of(i),
                        "n": cnt_o.sum() if i is None else tot_g[i],
                        "count": cnt_o[lv] if i is None else cnt[lv, i],
                        "percent": 100 * (props_o[lv] if i is None else props[lv, i]),
                        "missing": float(miss_g.sum()) if i is None else miss_g[i],
                        "p_value": p,
                        "test": TEST_NAMES.get(key, ""),
                        "smd": d,
                    }
                )
    return _TableOneResult(
        pd.DataFrame(raw),
        by=by,
        by_label=by_label,
        groups=glevels,
        group_labels=group_labels,
        variables=specs,
        overall=show_overall,
        missing=missing,
        show_p=use_p,
        show_smd=use_smd,
        asked_p=pvalues and show_groups,
        smd_summary=smd_how if use_smd else None,
        weights=weights,
        n_zero_weight=n_zero,
        undefined=undefined,
        suppress_below=suppress_below,
        labels=lab,
    )
