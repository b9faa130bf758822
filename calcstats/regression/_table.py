"""Publication tables of regression results (gtsummary's tbl_regression / tbl_merge /
tbl_uvregression), built on :class:`calcstats.tables.Table`.

Layout: one row per continuous term; a header row per categorical variable (with its
global p-value when it has several levels) followed by one indented row per level, the
reference level printed as ``"1.00 (ref)"`` (``"—"`` for linear models or with
``reference="dash"``). ``N`` and ``Events`` give the analysed rows and events per level
(for continuous terms: the model's n and events), taken from the first model that contains
the term. Several models sit side by side, each under a spanner with its label.

``Table`` needs unique column names, so the columns of the second and later models carry
1, 2, ... trailing no-break spaces (U+00A0): identical on the page, distinct as keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import patsy

from calcstats._errors import CalcstatsError
from calcstats._terms import variable_name
from calcstats.regression._table_view import TableView, table_view
from calcstats.results import check_conf_level
from calcstats.tables import Table, format_ci, format_number, format_p

__all__ = ["regression_table", "univariable"]

_NBSP = "\u00a0"


def _term_rows(view: TableView, term: Any, labels: dict[str, str],
               digits: int) -> list[dict[str, Any]]:
    """Row skeletons (key, label, indent, n, events) of one formula term."""
    di = view.design_info
    name = term.name()
    cols = view.term_columns(name)
    events = view.events()
    rows: list[dict[str, Any]] = []
    factors = term.factors
    cat_info = None
    if len(factors) == 1:
        fi = di.factor_infos[factors[0]]
        if fi.type == "categorical":
            cat_info = fi
    if cat_info is not None and all(re.search(r"\[T\.", c) for c in cols):
        var = variable_name(factors[0].code)
        rows.append({"key": ("term", name), "label": labels.get(var, var), "indent": 0,
                     "n": None, "events": None, "multi": len(cols) > 1})
        block = view.X()[cols].to_numpy(dtype=float)
        for cat in cat_info.categories:
            col = view.level_column(name, cat)
            if col in cols:
                mask = block[:, cols.index(col)] == 1
                key = ("col", col)
            else:
                mask = (block == 0).all(axis=1)
                key = ("ref", name)
            rows.append({"key": key, "label": str(cat), "indent": 1, "n": view.count(mask),
                         "events": None if events is None else float(events[mask].sum())})
        return rows
    lab = labels.get(name, labels.get(variable_name(name), name))
    if len(cols) == 1:
        rows.append({"key": ("col", cols[0]), "label": lab, "indent": 0, "n": view.count(),
                     "events": view.n_events})
        return rows
    rows.append({"key": ("term", name), "label": lab, "indent": 0, "n": view.count(),
                 "events": view.n_events, "multi": True})
    for c in cols:
        rows.append({"key": ("col", c), "label": c[len(name):] if c.startswith(name) and
                     len(c) > len(name) else c, "indent": 1, "n": None, "events": None})
    return rows


def _terms_in_formula_order(view: TableView) -> list[Any]:
    """Formula terms in the order written (patsy groups categorical terms first)."""
    terms = list(view.design_info.terms)
    try:
        written = [t.name() for t in patsy.ModelDesc.from_formula(view.rhs).rhs_termlist]
    except patsy.PatsyError:
        return terms
    pos = {name: i for i, name in enumerate(written)}
    return sorted(terms, key=lambda t: pos.get(t.name(), len(pos)))


def _model_cells(view: TableView, *, exponentiate: bool | None, conf_level: float,
                 digits: int, p_digits: int, reference: str, global_p: bool | str,
                 ) -> tuple[dict[tuple[str, str], tuple[str, str]], list[dict[str, Any]]]:
    result = view.result
    t = result.tidy(exponentiate=exponentiate, conf_level=conf_level).set_index("term")
    expo = result.ratio_measure is not None if exponentiate is None else exponentiate
    cells: dict[tuple[str, str], tuple[str, str]] = {}
    raw: list[dict[str, Any]] = []
    nonest = getattr(result, "nonestimable", {})
    for term, r in t.iterrows():
        if term in nonest:
            cells[("col", term)] = ("—", "—")
        else:
            cells[("col", term)] = (format_ci(r["estimate"], r["conf_low"], r["conf_high"],
                                              digits=digits),
                                    format_p(r["p_value"], digits=p_digits))
        raw.append({"term": term, "estimate": r["estimate"], "conf_low": r["conf_low"],
                    "conf_high": r["conf_high"], "p_value": r["p_value"]})
    ref_text = "—" if reference == "dash" or not expo else f"{1:.{digits}f} (ref)"
    for term in view.design_info.terms:
        cells[("ref", term.name())] = (ref_text, "")
    if global_p:
        tests = view.term_tests("lr" if global_p == "lr" else "wald")
        if tests is not None:
            for _, r in tests[tests["df"] > 1].iterrows():
                cells[("term", r["term"])] = (
                    "", "—" if pd.isna(r["p_value"]) else format_p(r["p_value"], digits=p_digits))
    return cells, raw


def regression_table(
    *results: Any,
    labels: Sequence[str] | None = None,
    variable_labels: dict[str, str] | None = None,
    exponentiate: bool | None = None,
    conf_level: float | None = None,
    digits: int = 2,
    p_digits: int = 3,
    reference: str = "ref",
    global_p: bool | str = True,
    intercept: bool = False,
    title: str | None = None,
) -> Table:
    """Publication table of one or more fitted models side by side (e.g. crude, adjusted).

    Parameters
    ----------
    *results : RegressionResult, CoxResult, FineGrayResult or PooledResult
        Fitted calcstats regression models, Cox (cause-specific or all-cause) and
        Fine–Gray models from :mod:`calcstats.survival`, or results of :func:`pool` over
        any of them (layout, N and events from the first imputed data set). Kinds mix
        freely: each model has its own measure column (``OR``, ``HR``, ``sHR``, ...).
    labels : sequence of str, optional
        Spanner label per model (default ``"Model 1"``, ...; no spanner for one model).
    variable_labels : dict, optional
        Display names, keyed by variable (``"etiology"``) or term (``"np.log(bili)"``).
    exponentiate, conf_level
        As in ``tidy()``.
    digits, p_digits : int
        Decimals of estimates/CIs and the p-value style (``calcstats.tables.format_p``).
    reference : {"ref", "dash"}
        Reference rows as ``"1.00 (ref)"`` or ``"—"``.
    global_p : bool or {"wald", "lr"}
        Global p-value of multi-level terms on their header row (Wald by default: for
        Cox/Fine–Gray the chi-square on the term's coefficients with the reported, robust
        when used, covariance). ``"lr"`` refits, so regression models only.
    intercept : bool
        Show the intercept row.
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

    Examples
    --------
    >>> import calcstats as cs
    >>> pbc = cs.datasets.load_pbc()
    >>> crude = cs.logistic(pbc, "I(stage == 4) ~ C(edema)")
    >>> adj = cs.logistic(pbc, "I(stage == 4) ~ C(edema) + age + sex")
    >>> cs.regression_table(crude, adj, labels=["Crude", "Adjusted"])  # doctest: +SKIP
    >>> cox = cs.cox(pbc, "C(edema) + age", time="time", event="status", cause=2)
    >>> fg = cs.fine_gray(pbc, "C(edema) + age", time="time", event="status", cause=2)
    >>> cs.regression_table(cox, fg, labels=["Cause-specific", "Fine-Gray"])  # doctest: +SKIP
    """
    if not results:
        raise CalcstatsError("regression_table() needs at least one fitted model.")
    views = [table_view(r, i + 1) for i, r in enumerate(results)]
    if labels is None:
        labels = [f"Model {i + 1}" for i in range(len(results))]
    labels = [str(x) for x in labels]
    if len(labels) != len(results):
        raise CalcstatsError(
            f"regression_table(): {len(labels)} labels for {len(results)} models."
        )
    if reference not in ("ref", "dash"):
        raise CalcstatsError(f"reference must be 'ref' or 'dash', got {reference!r}.")
    if global_p not in (True, False, "wald", "lr"):
        raise CalcstatsError(f"global_p must be True, False, 'wald' or 'lr', got {global_p!r}.")
    level = results[0].conf_level if conf_level is None else check_conf_level(conf_level)
    vlabels = dict(variable_labels or {})
    skeleton: list[dict[str, Any]] = []
    seen: set[str] = set()
    for v in views:
        for term in _terms_in_formula_order(v):
            name = term.name()
            if name in seen or (name == "Intercept" and not intercept):
                continue
            seen.add(name)
            skeleton.extend(_term_rows(v, term, vlabels, digits))
    cells_per_model = []
    raw_rows = []
    for lab, v in zip(labels, views, strict=True):
        cells, raw = _model_cells(v, exponentiate=exponentiate, conf_level=level, digits=digits,
                                  p_digits=p_digits, reference=reference, global_p=global_p)
        cells_per_model.append(cells)
        for x in raw:
            raw_rows.append({"model": lab, **x, "n": v.result.nobs,
                             "n_events": v.result.n_events})
    return _assemble(skeleton, views, labels, cells_per_model, level,
                     pd.DataFrame(raw_rows), title)


def _model_note(lab: str, v: TableView) -> list[str]:
    r = v.result
    ev = "" if r.n_events is None else f", {r.n_events} events"
    if v.kind == "fine_gray":
        ev += f" ({v.fit.n_competing} competing events)"
    notes = [f"{lab}: {r.method}; n = {r.nobs}{ev}; {v.formula}."]
    for term, why in getattr(r, "nonestimable", {}).items():
        notes.append(f"{lab}: — {term} not estimable ({why}).")
    if v.n_note():
        notes.append(f"{lab}: {v.n_note()}")
    if v.pooled:
        notes.append(f"{lab}: estimates pooled over {r.m} imputed data sets (Rubin's "
                     "rules, t intervals on Barnard-Rubin df); no global p-values.")
    return notes


def _assemble(skeleton, views, labels, cells_per_model, level, raw, title) -> Table:
    any_events = any(v.n_events is not None for v in views)
    body: dict[str, list[str]] = {"Characteristic": [r["label"] for r in skeleton]}
    body["N"] = ["" if r["n"] is None else format_number(r["n"], digits=0) for r in skeleton]
    if any_events:
        body["Events"] = ["" if r["events"] is None else format_number(r["events"], digits=0)
                          for r in skeleton]
    spanners = []
    for k, (lab, v, cells) in enumerate(zip(labels, views, cells_per_model, strict=True)):
        measure = v.result.ratio_measure or "Beta"
        pct = f"{100 * level:g}%"
        est_col = f"{measure} ({pct} CI)" + _NBSP * k
        p_col = "p-value" + _NBSP * k
        body[est_col] = [cells.get(tuple(row["key"]), ("", ""))[0] for row in skeleton]
        body[p_col] = [cells.get(tuple(row["key"]), ("", ""))[1] for row in skeleton]
        spanners.append((lab, [est_col, p_col]))
    notes = []
    for lab, v in zip(labels, views, strict=True):
        notes.extend(_model_note(lab, v))
    notes.append("CI = confidence interval; N and Events per level from the first model "
                 "containing the variable; global p-values (header rows) test all levels.")
    return Table(pd.DataFrame(body), title=title, indent=[r["indent"] for r in skeleton],
                 spanners=spanners if len(views) > 1 else (), footnotes=notes, raw=raw)


_MODELS = ("logistic", "log_binomial", "poisson", "negative_binomial", "linear")
_SURVIVAL_MODELS = ("cox", "fine_gray")


def _survival_fn(model: str, outcome: str | None, kwargs: dict[str, Any]) -> Callable[..., Any]:
    """``cox`` / ``fine_gray`` with the event column bound (from ``outcome`` or ``event=``)."""
    from calcstats.survival import cox, fine_gray

    event = kwargs.pop("event", None)
    if event is not None and outcome is not None and event != outcome:
        raise CalcstatsError(
            f"univariable(model={model!r}): outcome={outcome!r} and event={event!r} differ; "
            "give the event column once (as outcome or as event=)."
        )
    event = event if event is not None else outcome
    if event is None:
        raise CalcstatsError(f"univariable(model={model!r}) needs the event column: pass it "
                             "as outcome (e.g. 'status') or as event=.")
    if "time" not in kwargs:
        raise CalcstatsError(f"univariable(model={model!r}) needs time='<follow-up column>'.")
    fit = cox if model == "cox" else fine_gray

    def fn(data: pd.DataFrame, formula: str, **kw: Any) -> Any:
        return fit(data, formula, event=event, **kw)

    return fn


def univariable(
    data: pd.DataFrame,
    outcome: str | None,
    covariates: Sequence[str],
    *,
    model: str | Callable[..., Any] = "logistic",
    variable_labels: dict[str, str] | None = None,
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
        ``(data, formula, **kwargs) -> RegressionResult``.
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
    >>> cs.univariable(pbc, "I(stage == 4)", ["age", "sex", "C(edema)"])  # doctest: +SKIP
    >>> cs.univariable(pbc, "status", ["age", "C(edema)"], model="cox", time="time",
    ...                cause=2)  # doctest: +SKIP
    """
    import calcstats.regression as reg

    survival = isinstance(model, str) and model in _SURVIVAL_MODELS
    if survival:
        fn = _survival_fn(model, outcome, kwargs)
    elif isinstance(model, str):
        if model not in _MODELS:
            raise CalcstatsError(f"model must be one of {_MODELS + _SURVIVAL_MODELS} or a "
                                 f"function, got {model!r}.")
        fn = getattr(reg, model)
    elif callable(model):
        fn = model
    else:
        raise CalcstatsError("model must be a model name or a function.")
    if isinstance(covariates, str) or not covariates:
        raise CalcstatsError("covariates must be a non-empty list of terms, e.g. ['age', 'sex'].")
    level = check_conf_level(conf_level)
    vlabels = dict(variable_labels or {})
    skeleton: list[dict[str, Any]] = []
    cells: dict[tuple[str, str], tuple[str, str]] = {}
    raw_rows = []
    fits = []
    for i, cov in enumerate(covariates):
        formula = cov if survival else f"{outcome} ~ {cov}"
        fit = table_view(fn(data, formula, conf_level=level, **kwargs), i + 1,
                         caller="univariable()")
        fits.append(fit)
        c, raw = _model_cells(fit, exponentiate=None, conf_level=level, digits=digits,
                              p_digits=p_digits, reference=reference, global_p=True)
        for term in _terms_in_formula_order(fit):
            if term.name() == "Intercept":
                continue
            for row in _term_rows(fit, term, vlabels, digits):
                key = (row["key"][0], row["key"][1], i)
                cells[key] = c.get(row["key"], ("", ""))
                skeleton.append({**row, "key": key})
        for x in raw:
            if x["term"] != "Intercept":
                raw_rows.append({"covariate": cov, **x, "n": fit.result.nobs,
                                 "n_events": fit.result.n_events})
    return _finish(skeleton, fits, cells, level, pd.DataFrame(raw_rows), title)


def _finish(skeleton, fits, cells, level, raw, title) -> Table:
    any_events = any(f.n_events is not None for f in fits)
    body: dict[str, list[str]] = {"Characteristic": [r["label"] for r in skeleton]}
    body["N"] = ["" if r["n"] is None else format_number(r["n"], digits=0) for r in skeleton]
    if any_events:
        body["Events"] = ["" if r["events"] is None else format_number(r["events"], digits=0)
                          for r in skeleton]
    measure = fits[0].result.ratio_measure or "Beta"
    est_col = f"{measure} ({100 * level:g}% CI)"
    body[est_col] = [cells.get(r["key"], ("", ""))[0] for r in skeleton]
    body["p-value"] = [cells.get(r["key"], ("", ""))[1] for r in skeleton]
    notes = [f"Univariable models ({fits[0].result.method}), one per characteristic; N and Events "
             "are the rows analysed in each model.",
             "Global p-values (header rows) test all levels of a variable."]
    if not np.all([f.result.nobs == fits[0].result.nobs for f in fits]):
        notes.append("Numbers analysed differ between characteristics because of missing "
                     "values.")
    return Table(pd.DataFrame(body), title=title, indent=[r["indent"] for r in skeleton],
                 footnotes=notes, raw=raw)
