"""Publication tables of fitted models (gtsummary's tbl_regression / tbl_uvregression).

Written against the :class:`~calcstats.ModelResult` interface only (as gtsummary builds
on broom): ``tidy()``, ``terms``, ``term_tests()``, ``nonestimable``, ``nobs``,
``n_events``, ``n_competing``, ``ratio_measure``, ``method``, ``conf_level``,
``labels``, and the design (``result.design``) with the counts per level
(``level_counts()``, from the analysed rows' events and units). Any model
kind that offers these gets a table: GLMs, Cox, Fine–Gray, pooled results.

Layout: one row per continuous term; a header row per categorical variable (with its
global p-value when it has several levels) followed by one indented row per level, the
reference level printed as ``"1.00 (ref)"`` (``"—"`` for linear models or with
``reference="dash"``). ``N`` and ``Events`` give the analysed rows (patients, for
counting-process fits that name them) and events per level, taken from the first model
that contains the term. Several models sit side by side, each under a spanner with its
name. Rows, headers and footnotes show labels (:class:`~calcstats.Labels`), never code;
counts print with thousands separators (``2,229``).

Several models print the same headings (``"HR (95% CI)"``, ``"p-value"``) under their
spanners; the body's column keys carry the model name (``"Adjusted: HR (95% CI)"``), so
``table.body`` tells them apart while every export prints the plain heading.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import InvalidParameterError, SchemaError
from calcstats._format import format_ci, format_number, format_p
from calcstats._terms import (
    LABELS,
    LabelsParam,
    TermRow,
    coefficient_labels,
    display_labels,
    term_label,
    term_rows,
)
from calcstats._terms import union_rows as _union_rows
from calcstats._validation import (
    BOOLEAN,
    CALLABLE,
    CONF_LEVEL,
    DATAFRAME,
    NONE,
    TEXT,
    TEXTS,
    Constraint,
    Interval,
    Options,
    validate_params,
)
from calcstats.labels import Labels
from calcstats.regression import linear, log_binomial, logistic, negative_binomial, poisson
from calcstats.results import ModelResult, table_of
from calcstats.survival import cox, fine_gray
from calcstats.tables._table import Table
from calcstats.tables._words import in_prose

__all__ = ["regression_table", "univariable"]

_REGRESSION: dict[str, Callable[..., ModelResult]] = {
    "logistic": logistic,
    "log_binomial": log_binomial,
    "poisson": poisson,
    "negative_binomial": negative_binomial,
    "linear": linear,
}
_MODELS = tuple(_REGRESSION)
_SURVIVAL_MODELS = ("cox", "fine_gray")


@dataclass(frozen=True)
class _Style:
    exponentiate: bool | None
    conf_level: float
    digits: int
    p_digits: int
    reference: str
    global_p: bool | str


def _check_results(results: Sequence[Any], function: str) -> None:
    if not results:
        raise InvalidParameterError(f"{function}() needs at least one fitted model.")
    for i, r in enumerate(results):
        if not isinstance(r, ModelResult):
            raise SchemaError(
                f"{function}(): argument {i + 1} is a {type(r).__name__}, not a fitted "
                "calcstats model: give results of logistic, poisson, linear, cox, "
                "fine_gray, pool, ..."
            )


def _expo(result: ModelResult, style: _Style) -> bool:
    return result.ratio_measure is not None if style.exponentiate is None else style.exponentiate


def _estimate_heading(result: ModelResult, style: _Style) -> str:
    measure = result.ratio_measure
    if measure is None:
        name = "Beta"
    else:
        name = measure if _expo(result, style) else f"log {measure}"
    return f"{name} ({100 * style.conf_level:g}% CI)"


def _global_tests(result: ModelResult, style: _Style, function: str) -> pd.DataFrame:
    method = "lr" if style.global_p == "lr" else "wald"
    try:
        return result.term_tests(method=method)
    except InvalidParameterError as err:
        raise InvalidParameterError(
            f"The 'global_p' parameter of {function} is 'lr', which the "
            f"{type(result).__name__} cannot give: {err} Use global_p='wald' (or True)."
        ) from None


def _count(result: ModelResult, row: TermRow) -> tuple[int | None, float | None]:
    """N and events of one row: per level for the levels of a categorical term
    (:meth:`~calcstats.ModelResult.level_counts`), the model's for a term on its own,
    none for the rows below a header."""
    units = result.row_units()
    ids = None if units is None else units.ids
    if row.kind in ("level", "reference") and result.design is not None:
        level = str(row.coefficient) if row.kind == "level" else None
        return result.level_counts(list(row.columns), level)
    if row.indent == 0 and not row.categorical:
        n = result.nobs if ids is None else len(np.unique(ids))
        return n, (None if result.n_events is None else float(result.n_events))
    return None, None


def _cells(
    result: ModelResult, style: _Style, labels: Labels, *, prefix: str, function: str
) -> tuple[dict[tuple[str, str], tuple[str, str]], pd.DataFrame, list[str], list[str]]:
    """Estimate and p-value text per row key, the raw numbers, the model's footnotes about
    single terms, and the methods of the global tests shown."""
    tidy = result.tidy(exponentiate=style.exponentiate, conf_level=style.conf_level)
    cells: dict[tuple[str, str], tuple[str, str]] = {}
    notes: list[str] = []
    names = coefficient_labels(result, labels) if result.nonestimable else {}
    for r in tidy.itertuples(index=False):
        if r.term in result.nonestimable:
            cells[("coefficient", r.term)] = ("—", "—")
            notes.append(
                f"{prefix}— {names.get(r.term, r.term)}: not estimable "
                f"({result.nonestimable[r.term]})."
            )
        else:
            cells[("coefficient", r.term)] = (
                format_ci(r.estimate, r.conf_low, r.conf_high, digits=style.digits),
                format_p(r.p_value, digits=style.p_digits),
            )
    ref = (
        "—"
        if style.reference == "dash" or not _expo(result, style)
        else f"{1:.{style.digits}f} (ref)"
    )
    for term in result.terms:
        cells[("reference", term)] = (ref, "")
    methods: list[str] = []
    multi = {t: c for t, c in result.terms.items() if len(c) > 1 and t != "Intercept"}
    if style.global_p and multi:
        for r in _global_tests(result, style, function).itertuples(index=False):
            if r.term not in multi:
                continue
            if pd.notna(r.p_value):
                cells[("header", r.term)] = ("", format_p(r.p_value, digits=style.p_digits))
                methods.append(str(r.method))
                continue
            cells[("header", r.term)] = ("", "—")
            if not any(c in result.nonestimable for c in multi[r.term]):
                notes.append(
                    f"{prefix}— global p-value of {term_label(r.term, labels)}: {r.method}."
                )
    raw = tidy[["term", "estimate", "conf_low", "conf_high", "p_value"]]
    return cells, raw, notes, methods


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _count_text(n: float | None) -> str:
    """A count as a table prints it: ``2,229`` (blank when unknown)."""
    return "" if n is None else format_number(n, digits=0, big_mark=",")


def _prose_label(term: str, labels: Labels) -> str:
    """A formula term as a sentence names it: its label without the unit (``"age at
    index"``, not ``"Age at index (years)"``)."""
    if term in labels.variables:
        return in_prose(labels.variables[term])
    column = labels.variable_of(term)
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", column):
        return in_prose(labels.name(column))
    return in_prose(term_label(term, labels))


def _describe(result: ModelResult, labels: Labels, prefix: str) -> list[str]:
    """The model in words: method, what it adjusts for, numbers analysed, what N counts."""
    method = result.method or type(result).__name__
    count = f"n = {_count_text(result.nobs)}"
    if result.n_events is not None:
        count += f", {_count_text(result.n_events)} events"
    if result.n_competing is not None:
        count += f" ({_count_text(result.n_competing)} competing events)"
    parts = [method[:1].upper() + method[1:]]
    terms = [_prose_label(t, labels) for t in result.terms if t != "Intercept"]
    if len(terms) == 1:
        parts.append(f"{terms[0]}, unadjusted")
    elif terms:
        parts.append(f"{terms[0]} adjusted for {_and(terms[1:])}")
    parts.append(count)
    notes = [prefix + "; ".join(parts) + "."]
    units = result.row_units()
    if units is not None and units.ids is not None:
        who = in_prose(labels.name(units.id_column)) if units.id_column else "subject"
        notes.append(
            f"{prefix}N = patients (distinct {who}) with follow-up at each level; a "
            "patient whose level changes is counted under each; "
            f"{_count_text(result.nobs)} (start, stop] intervals in all."
        )
    elif units is not None:
        notes.append(
            f"{prefix}N = (start, stop] intervals, not patients (counting-process "
            "data without cluster= to identify patients)."
        )
    return notes


def _general_note(methods: Sequence[str], *, several: bool) -> str:
    text = "CI = confidence interval."
    if several:
        text += " N and Events per level from the first model containing the variable."
    if methods:
        text += (
            " Global p-values (header rows) test all levels of a variable jointly "
            f"({_and(list(dict.fromkeys(methods)))})."
        )
    return text


def _counts_body(
    rows: Sequence[TermRow], counts: Sequence[tuple[int | None, float | None]], events: bool
) -> dict[str, list[str]]:
    body = {
        "Characteristic": [r.label for r in rows],
        "N": [_count_text(n) for n, _ in counts],
    }
    if events:
        body["Events"] = [_count_text(e) for _, e in counts]
    return body


_STYLE_PARAMS: dict[str, list[Constraint]] = {
    "conf_level": [CONF_LEVEL],
    "digits": [Interval(0, None, integer=True)],
    "p_digits": [Interval(2, None, integer=True)],
    "reference": [Options("ref", "dash")],
    "title": [TEXT, NONE],
}


@validate_params(
    {
        **_STYLE_PARAMS,
        "model_names": [TEXTS, NONE],
        "labels": [LABELS],
        "exponentiate": [BOOLEAN, NONE],
        "conf_level": [CONF_LEVEL, NONE],
        "global_p": [BOOLEAN, Options("wald", "lr")],
        "intercept": [BOOLEAN],
        "counts": [BOOLEAN],
    }
)
def regression_table(
    *results: ModelResult,
    model_names: Sequence[str] | None = None,
    labels: Labels | Mapping[str, str] | None = None,
    exponentiate: bool | None = None,
    conf_level: float | None = None,
    digits: int = 2,
    p_digits: int = 3,
    reference: str = "ref",
    global_p: bool | str = True,
    intercept: bool = False,
    counts: bool = True,
    title: str | None = None,
) -> Table:
    """Publication table of one or more fitted models side by side (e.g. crude, adjusted).

    Parameters
    ----------
    *results : ModelResult
        Fitted models: logistic, poisson, linear, ... regression, Cox (cause-specific or
        all-cause), Fine–Gray, or :func:`~calcstats.pool` of any of them (layout, N and
        events from the first imputed data set). Kinds mix freely: each model has its own
        measure column (``OR``, ``HR``, ``sHR``, ...).
    model_names : sequence of str, optional
        The spanner over each model's columns (default ``"Model 1"``, ...; no spanner for
        one model unless named).
    labels : Labels or dict, optional
        Display labels of variables and levels, merged over ``Labels.default()`` and the
        results' own labels. A dict labels variables (``{"edema": "Edema"}``) or terms as
        written (``{"np.log(bili)": "Bilirubin (log)"}``).
    exponentiate, conf_level
        As in ``tidy()`` (default: each model's measure and the first model's level).
    digits, p_digits : int
        Decimals of estimates/CIs and the p-value style (:func:`calcstats.format_p`).
    reference : {"ref", "dash"}
        Reference rows as ``"1.00 (ref)"`` or ``"—"``.
    global_p : bool or {"wald", "lr"}
        Global p-value of multi-level terms on their header row (``term_tests()``; Wald by
        default, with the model's covariance, robust when the fit used it). ``"lr"``
        refits, so regression models only.
    intercept : bool
        Show the intercept row.
    counts : bool, default True
        Show the ``N`` and ``Events`` columns. ``False`` leaves them out, e.g. for the
        multivariable half of ``merge_tables(univariable(...), regression_table(...))``,
        whose univariable half shows them.
    title : str, optional

    Returns
    -------
    Table
        ``.to_frame()`` holds the raw numbers (one row per model and term).

    Notes
    -----
    ``Events`` counts the events of each model's outcome: for cause-specific Cox the
    cause of interest, for Fine–Gray the ``cause`` events (competing events are given in
    the footnote). For counting-process Cox fits (``start=``) ``N`` counts patients when
    ``cluster=`` identifies them, else (start, stop] intervals; a footnote says which.
    Non-estimable terms (monotone likelihood) print "—" with a footnote saying why.

    Examples
    --------
    >>> import calcstats as cs
    >>> pbc = cs.datasets.load_pbc()
    >>> crude = cs.cox(pbc, "C(edema)", time="time", event="status", cause=2)
    >>> adj = cs.cox(pbc, "C(edema) + age", time="time", event="status", cause=2)
    >>> t = cs.regression_table(crude, adj, model_names=["Crude", "Adjusted"],
    ...                         labels={"edema": "Edema", "age": "Age"})
    >>> list(t.body["Characteristic"])
    ['Edema', '0', '0.5', '1', 'Age']
    >>> t.columns[3:]
    ('HR (95% CI)', 'p-value', 'HR (95% CI)', 'p-value')
    >>> print(t.footnotes[1])  # doctest: +NORMALIZE_WHITESPACE
    Adjusted: Cox proportional-hazards model (Efron ties); edema adjusted for age;
    n = 418, 161 events.
    """
    _check_results(results, "regression_table")
    names = (
        [f"Model {i + 1}" for i in range(len(results))]
        if model_names is None
        else list(model_names)
    )
    if len(names) != len(results):
        raise InvalidParameterError(
            f"The 'model_names' parameter of regression_table has {len(names)} names for "
            f"{len(results)} models. Give one name per model, in the order of the models."
        )
    style = _Style(
        exponentiate,
        results[0].conf_level if conf_level is None else conf_level,
        digits,
        p_digits,
        reference,
        global_p,
    )
    lab = display_labels(results, labels)
    layout = _union_rows(results, lab, intercept=intercept)
    rows = [r for _, r in layout]
    body = _counts_body(
        rows,
        [_count(results[i], r) for i, r in layout],
        any(r.n_events is not None for r in results),
    )
    if not counts:
        body = {"Characteristic": body["Characteristic"]}
    if len(set(names)) != len(names):
        raise InvalidParameterError(
            f"The 'model_names' parameter of regression_table has repeated names {names}; "
            "give each model its own name."
        )
    named = len(results) > 1 or model_names is not None
    headers = list(body)
    spanners, notes, raws, methods = [], [], [], []
    for name, result in zip(names, results, strict=True):
        prefix = f"{name}: " if named else ""
        cells, raw, term_notes, tested = _cells(
            result, style, lab, prefix=prefix, function="regression_table"
        )
        heading = _estimate_heading(result, style)
        est_col, p_col = (f"{prefix}{heading}", f"{prefix}p-value")
        body[est_col] = [cells.get(r.key, ("", ""))[0] for r in rows]
        body[p_col] = [cells.get(r.key, ("", ""))[1] for r in rows]
        headers += [heading, "p-value"]
        spanners.append((name, [est_col, p_col]))
        notes += _describe(result, lab, prefix) + term_notes
        methods += tested
        raws.append(raw.assign(n=result.nobs, n_events=result.n_events).assign(model=name))
    notes.append(_general_note(methods, several=len(results) > 1))
    raw_all = pd.concat(raws, ignore_index=True)
    raw_all = raw_all[["model", *[c for c in raw_all.columns if c != "model"]]]
    return Table(
        pd.DataFrame(body),
        title=title,
        indent=[r.indent for r in rows],
        spanners=spanners if named else (),
        footnotes=notes,
        raw=raw_all,
        headers=headers,
    )


@table_of.register(ModelResult)
def _model_table(result: ModelResult, **options: Any) -> Table:
    """``result.to_table(**options)``: :func:`regression_table` of one model."""
    return regression_table(result, **options)


def _model_function(
    model: str | Callable[..., Any], outcome: str | None, kwargs: dict[str, Any]
) -> tuple[Callable[..., Any], bool]:
    """The fitting function and whether it takes a right-hand side only (survival)."""
    if callable(model):
        return model, False
    if model in _MODELS:
        return _REGRESSION[model], False
    event = kwargs.pop("event", None)
    if event is not None and outcome is not None and event != outcome:
        raise InvalidParameterError(
            f"univariable(model={model!r}): outcome={outcome!r} and event={event!r} differ; "
            "give the event column once (as outcome or as event=)."
        )
    event = event if event is not None else outcome
    if event is None:
        raise InvalidParameterError(
            f"univariable(model={model!r}) needs the event column: pass it as outcome (e.g. "
            "'status') or as event=."
        )
    if "time" not in kwargs:
        raise InvalidParameterError(
            f"univariable(model={model!r}) needs time='<follow-up column>'."
        )
    fit = cox if model == "cox" else fine_gray

    def fn(data: pd.DataFrame, formula: str, **kw: Any) -> Any:
        return fit(data, formula, event=event, **kw)

    return fn, True


@validate_params(
    {
        **_STYLE_PARAMS,
        "data": [DATAFRAME],
        "outcome": [TEXT, NONE],
        "covariates": [TEXTS],
        "model": [Options(*_MODELS, *_SURVIVAL_MODELS), CALLABLE],
        "labels": [LabelsParam()],
    }
)
def univariable(
    data: pd.DataFrame,
    outcome: str | None,
    covariates: Sequence[str],
    *,
    model: str | Callable[..., Any] = "logistic",
    labels: Labels | Mapping[str, str] | None = None,
    conf_level: float = 0.95,
    digits: int = 2,
    p_digits: int = 3,
    reference: str = "ref",
    title: str | None = None,
    **kwargs: Any,
) -> Table:
    """Univariable screen: one model ``outcome ~ covariate`` per covariate, in one table.

    Parameters
    ----------
    data : pandas.DataFrame
    outcome : str or None
        Left-hand side, e.g. ``"any_calcification"`` or ``"I(stage == 4)"``. For
        ``model="cox"`` / ``"fine_gray"``: the event column (or None and ``event=``).
    covariates : sequence of str
        Right-hand-side terms, e.g. ``["age", "C(etiology, Treatment('pbc'))"]``.
    model : str or callable
        ``"logistic"``, ``"log_binomial"``, ``"poisson"``, ``"negative_binomial"``,
        ``"linear"``, ``"cox"``, ``"fine_gray"`` or a function
        ``(data, formula, **kwargs) -> ModelResult``.
    labels : Labels or dict, optional
        Display labels of variables and levels (as in :func:`regression_table`).
    conf_level, digits, p_digits, reference, title
        As in :func:`regression_table`.
    **kwargs
        Passed to the model (e.g. ``exposure="person_years"``, ``method="firth"``; for
        ``"cox"`` / ``"fine_gray"``: ``time=`` (required), ``event=``, ``cause=``, ...).

    Returns
    -------
    Table
        Rows per covariate with N and events of its own model (missing values differ by
        covariate), estimate (CI) and p-value; ``.to_frame()`` the raw numbers.

    Examples
    --------
    >>> import calcstats as cs
    >>> pbc = cs.datasets.load_pbc()
    >>> t = cs.univariable(pbc, "status", ["age", "C(edema)"], model="cox", time="time",
    ...                    cause=2, labels={"edema": "Edema"})
    >>> t.body[["Characteristic", "N", "Events"]].to_numpy().tolist()[:3]
    [['Age', '418', '161'], ['Edema', '', ''], ['0', '354', '116']]
    """
    if "variable_labels" in kwargs:
        raise TypeError(
            "univariable(): variable_labels= was removed; pass labels= (a "
            "calcstats.Labels or a dict of variable labels) instead."
        )
    if not covariates:
        raise InvalidParameterError(
            "The 'covariates' parameter of univariable must list at least one term, e.g. "
            "['age', 'sex']. Got an empty list."
        )
    fn, survival = _model_function(model, outcome, kwargs)
    style = _Style(None, conf_level, digits, p_digits, reference, True)
    rows: list[TermRow] = []
    counts: list[tuple[int | None, float | None]] = []
    est: list[str] = []
    pval: list[str] = []
    notes: list[str] = []
    raws, methods, fits = [], [], []
    for cov in covariates:
        fit = fn(data, cov if survival else f"{outcome} ~ {cov}", conf_level=conf_level, **kwargs)
        if not isinstance(fit, ModelResult):
            raise SchemaError(
                f"univariable(): the model function returned a "
                f"{type(fit).__name__} for {cov!r}, not a fitted calcstats "
                "model (ModelResult)."
            )
        lab = display_labels([fit], labels)
        cells, raw, term_notes, tested = _cells(fit, style, lab, prefix="", function="univariable")
        for r in term_rows(fit, lab):
            rows.append(r)
            counts.append(_count(fit, r))
            est.append(cells.get(r.key, ("", ""))[0])
            pval.append(cells.get(r.key, ("", ""))[1])
        notes += term_notes
        methods += tested
        fits.append(fit)
        raws.append(
            raw.loc[raw["term"] != "Intercept"]
            .assign(n=fit.nobs, n_events=fit.n_events)
            .assign(covariate=cov)
        )
    body = _counts_body(rows, counts, any(f.n_events is not None for f in fits))
    body[_estimate_heading(fits[0], style)] = est
    body["p-value"] = pval
    method = fits[0].method or type(fits[0]).__name__
    first = [
        f"One univariable model per characteristic: {method}; N and Events are the rows "
        "analysed in each model."
    ]
    if len({f.nobs for f in fits}) > 1:
        first.append("Numbers analysed differ between characteristics because of missing values.")
    raw_all = pd.concat(raws, ignore_index=True)
    raw_all = raw_all[["covariate", *[c for c in raw_all.columns if c != "covariate"]]]
    return Table(
        pd.DataFrame(body),
        title=title,
        indent=[r.indent for r in rows],
        footnotes=[*first, *notes, _general_note(methods, several=False)],
        raw=raw_all,
    )
