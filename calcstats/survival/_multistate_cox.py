"""Multi-state Cox models: one Cox model per transition, fitted jointly, as R's
``coxph(Surv(start, stop, to_state) ~ ..., id=patient_id, istate=from_state)``.

Each row in state ``a`` is copied once for every modelled transition ``a -> b`` out of
``a``, with status 1 only for the transition that happened; the copies are strata (one
baseline hazard per transition, ties handled within a transition) and the fit is an
ordinary stratified Cox model (:mod:`calcstats.survival._coxfit`). A covariate gets one
coefficient per transition, unless it is ``shared`` by chosen transitions (R's
``1:3 + 2:3 ~ x / common``) or ``specific`` to some (R's ``1:2 ~ x``). Standard errors are
robust, clustered on the patient across all transitions (``sqrt(diag(fit$var))`` in R),
which equals per-transition ``coxph(..., cluster=patient_id)`` without shared terms.

Ties: ``ties="efron"`` (the default) is the method of R 3.5-3's default multi-state fit;
note that R 3.5-3 turns any explicit ``ties=`` argument into Breslow for multi-state data
(fixed in survival 3.7-1, whose default is Breslow), so compare ``ties="breslow"`` with
R's ``ties="breslow"`` fit.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from calcstats._design import Design, build_design, formula_variables
from calcstats._errors import DataError, DataWarning, SchemaError, user_stacklevel
from calcstats._memory import check_memory
from calcstats._validation import COLUMN, CONF_LEVEL, NONE, Options, validate_params
from calcstats.labels import Labels
from calcstats.survival._ms_cox_result import MultiStateCoxResult, StackedFit
from calcstats.survival._multistate_fit import fit_transitions
from calcstats.survival._multistate_input import MultiStateInput, multistate_input

__all__ = ["multistate_cox"]

ARROW = " -> "


def transition_name(states: Sequence[str], pair: tuple[int, int]) -> str:
    return f"{states[pair[0]]}{ARROW}{states[pair[1]]}"


def _parse_one(spec: Any, states: tuple[str, ...], what: str) -> tuple[int, int]:
    if isinstance(spec, str):
        parts = [p.strip() for p in spec.split("->")]
    elif isinstance(spec, tuple | list) and len(spec) == 2:
        parts = [str(p) for p in spec]
    else:
        parts = []
    if len(parts) != 2 or not all(parts):
        raise DataError(
            f"multistate_cox(): {what}: {spec!r} is not a transition; write "
            f"'from -> to' (e.g. '{states[0]} -> {states[-1]}') or a (from, to) "
            "pair."
        )
    bad = [p for p in parts if p not in states]
    if bad:
        raise DataError(
            f"multistate_cox(): {what}: {bad[0]!r} is not a state of the data "
            f"(states: {', '.join(states)})."
        )
    return states.index(parts[0]), states.index(parts[1])


def _transition_list(spec: Any, states: tuple[str, ...], what: str) -> list[tuple[int, int]]:
    items = (
        [spec]
        if isinstance(spec, str)
        or (isinstance(spec, tuple) and len(spec) == 2 and all(isinstance(s, str) for s in spec))
        else list(spec)
    )
    return [_parse_one(s, states, what) for s in items]


def _complete_patients(
    data: pd.DataFrame, formula: str, terms: Sequence[str], patient_id: str
) -> pd.DataFrame:
    """Leave out (with a warning) the patients with a missing value in a model variable."""
    text = " + ".join([formula, *terms]) if terms else formula
    variables = formula_variables(text, data)
    miss = data[variables].isna().any(axis=1).to_numpy()
    if not miss.any():
        return data
    bad_ids = pd.unique(data.loc[miss, patient_id])
    drop = data[patient_id].isin(bad_ids).to_numpy()
    cols = [v for v in variables if data[v].isna().any()]
    warnings.warn(
        f"multistate_cox(): {bad_ids.size} patient(s) ({int(drop.sum())} rows) left out for "
        f"missing values in {', '.join(cols)}; all rows of a patient go together so that "
        "the sojourns stay complete. Impute or filter them first to silence this.",
        DataWarning,
        stacklevel=user_stacklevel(),
    )
    return data.loc[~drop]


def _coefficient_map(
    design: Design,
    trans: list[tuple[int, int]],
    states: tuple[str, ...],
    base_terms: list[str],
    specific: dict[str, list[tuple[int, int]]],
    shared: dict[str, list[list[tuple[int, int]]]],
) -> tuple[list[tuple[str, tuple[int, ...]]], np.ndarray]:
    """Coefficients as (design column, transitions sharing it) and the map
    ``cmap[column, transition] -> coefficient index`` (-1 absent), in R's order: by
    transition, then by term in formula order; a shared coefficient at its first transition.
    """
    cols = design.columns
    K = len(trans)
    applies = np.zeros((len(cols), K), dtype=bool)
    for term, tcols in design.terms.items():
        allowed = (
            list(range(K))
            if term in base_terms
            else [trans.index(t) for t in specific.get(term, [])]
        )
        for c in tcols:
            applies[cols.index(c), allowed] = True
    group_of: dict[tuple[int, int], int] = {}  # (column, transition) -> shared group id
    groups: list[list[int]] = []
    for term, lists in shared.items():
        for members in lists:
            ks = [trans.index(t) for t in members]
            for c in design.terms[term]:
                ci = cols.index(c)
                missing = [transition_name(states, trans[k]) for k in ks if not applies[ci, k]]
                if missing:
                    raise DataError(
                        f"multistate_cox(): shared term {term!r} is not in the model of "
                        f"{', '.join(missing)}; add it to the formula or to specific=."
                    )
                for k in ks:
                    if (ci, k) in group_of:
                        raise DataError(
                            f"multistate_cox(): transition "
                            f"{transition_name(states, trans[k])} is in two shared groups "
                            f"of {term!r}."
                        )
                    group_of[(ci, k)] = len(groups)
                groups.append(ks)
    cmap = np.full((len(cols), K), -1, dtype=np.int64)
    coefs: list[tuple[str, tuple[int, ...]]] = []
    for k in range(K):
        for ci, c in enumerate(cols):
            if not applies[ci, k] or cmap[ci, k] >= 0:
                continue
            tied = tuple(groups[group_of[(ci, k)]]) if (ci, k) in group_of else (k,)
            cmap[ci, list(tied)] = len(coefs)
            coefs.append((c, tied))
    return coefs, cmap


def _stack_arrays(
    from_code: np.ndarray,
    to_code: np.ndarray,
    X: np.ndarray,
    trans: list[tuple[int, int]],
    cmap: np.ndarray,
    n_coef: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One copy of each row per modelled transition out of its state: (rows, transition,
    stacked design, status)."""
    rows = [np.flatnonzero(from_code == a) for a, _ in trans]
    row = np.concatenate(rows)
    strat = np.repeat(np.arange(len(trans), dtype=np.int64), [r.size for r in rows])
    check_memory(
        8.0 * row.size * max(n_coef, 1) * 6,
        what=f"multistate_cox with {row.size:,} stacked rows and {n_coef} coefficients",
        advice="model fewer transitions or covariates, or fewer rows.",
    )
    Xs = np.zeros((row.size, n_coef))
    bounds = np.concatenate([[0], np.cumsum([r.size for r in rows])])
    for k in range(len(trans)):
        sl = slice(int(bounds[k]), int(bounds[k + 1]))
        for ci in np.flatnonzero(cmap[:, k] >= 0):
            Xs[sl, cmap[ci, k]] = X[row[sl], ci]
    to = np.array([b for _, b in trans], dtype=np.int64)[strat]
    return row, strat, Xs, to_code[row] == to


def _stack(
    mi: MultiStateInput, X: np.ndarray, trans: list[tuple[int, int]], cmap: np.ndarray, n_coef: int
) -> StackedFit:
    row, strat, Xs, status = _stack_arrays(mi.from_code, mi.to_code, X, trans, cmap, n_coef)
    return StackedFit(row=row, stratum=strat, X=Xs, status=status)


@validate_params(
    {
        "ties": [Options("efron", "breslow")],
        "conf_level": [CONF_LEVEL],
        "from_state": [COLUMN],
        "to_state": [COLUMN],
        "start": [COLUMN],
        "stop": [COLUMN],
        "patient_id": [COLUMN],
        "weights": [COLUMN, NONE],
    }
)
def multistate_cox(
    data: pd.DataFrame,
    formula: str,
    *,
    transitions: Sequence[str | tuple[str, str]] | None = None,
    shared: Mapping[str, Sequence[Any]] | None = None,
    specific: Mapping[str, Sequence[Any] | str] | None = None,
    ties: str = "efron",
    from_state: str = "from_state",
    to_state: str = "to_state",
    start: str = "start",
    stop: str = "stop",
    patient_id: str = "patient_id",
    weights: str | None = None,
    conf_level: float = 0.95,
    labels: Labels | dict[str, str] | None = None,
) -> MultiStateCoxResult:
    """Cox models for the transitions of a multi-state model (as R's multi-state ``coxph``).

    Parameters
    ----------
    data : pandas.DataFrame
        Multi-state rows (:meth:`Cohort.multistate_table` layout; see
        :func:`state_probabilities`) with the covariates. A patient with a missing value
        in a model variable is left out with all their rows (a DataWarning counts them).
    formula : str
        Right-hand side applied to every modelled transition, e.g.
        ``"any_calcification + age_at_index"``; ``"1"`` for none (with ``specific``).
    transitions : list, optional
        The transitions to model, as ``"from -> to"`` strings or (from, to) pairs; default
        every observed transition. Transitions left out are not modelled (their events
        censor the others, as in separate Cox models).
    shared : dict, optional
        Term → transitions that share one coefficient, e.g.
        ``{"age_at_index": ["cirrhosis -> death", "decompensation -> death"]}`` (R's
        ``2:5 + 3:5 ~ age / common``); a list of such lists gives several groups.
    specific : dict, optional
        Term → the transitions it applies to (not in ``formula``), e.g.
        ``{"mspike": ["mgus -> pcm"]}`` (R's ``1:2 ~ mspike``).
    ties : {"efron", "breslow"}
        Tie handling within a transition (see the module notes on R's versions).
    from_state, to_state, start, stop, patient_id, weights : str
        Column names (weights constant within a patient).
    conf_level : float
    labels : Labels or dict, optional

    Returns
    -------
    MultiStateCoxResult
        ``tidy()`` (``transition, term, estimate, ...``; hazard ratios by default),
        ``glance()``, ``cov``, ``terms``, ``predict_probabilities(profile, times=)``.

    Examples
    --------
    >>> import warnings
    >>> import calcstats as cs
    >>> sim = cs.simulate_cohort(3000, seed=1, followup_imaging=False,
    ...                          calcification_hr={"cirrhosis -> decompensation": 2.0})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", cs.DataWarning)  # counts of the table's rules
    ...     ms = sim.multistate_table()
    >>> fit = cs.multistate_cox(ms, "any_calcification + age_at_index",
    ...                         transitions=["no_cirrhosis -> cirrhosis",
    ...                                      "cirrhosis -> decompensation"])
    >>> print(fit.tidy()[["transition", "term", "estimate"]].round(2).to_string(index=False))
                     transition              term  estimate
      no_cirrhosis -> cirrhosis any_calcification      0.49
      no_cirrhosis -> cirrhosis      age_at_index      1.02
    cirrhosis -> decompensation any_calcification      2.92
    cirrhosis -> decompensation      age_at_index      1.02
    """
    if not isinstance(formula, str) or not formula.strip():
        raise SchemaError(
            "multistate_cox(): formula must be a right-hand side such as "
            "'age + sex' (or '1' with specific=)."
        )
    specific = {k: v for k, v in (specific or {}).items()}
    data = (
        _complete_patients(data, formula, list(specific), patient_id)
        if isinstance(data, pd.DataFrame) and patient_id in data.columns
        else data
    )
    mi = multistate_input(
        data,
        from_state=from_state,
        to_state=to_state,
        start=start,
        stop=stop,
        patient_id=patient_id,
        weights=weights,
        function="multistate_cox",
        labels=Labels.coerce(labels),
    )
    states = mi.states
    observed = sorted(
        {
            (int(a), int(b))
            for a, b in zip(mi.from_code[mi.to_code >= 0], mi.to_code[mi.to_code >= 0], strict=True)
        }
    )
    if transitions is None:
        trans = observed
    else:
        trans = _transition_list(transitions, states, "transitions")
        absent = [transition_name(states, t) for t in trans if t not in observed]
        if absent:
            raise DataError(
                f"multistate_cox(): no {', '.join(absent)} transition in the "
                "data; a Cox model needs events. Observed: "
                f"{', '.join(transition_name(states, t) for t in observed)}."
            )
        if len(set(trans)) != len(trans):
            raise DataError("multistate_cox(): transitions lists a transition twice.")
    if not trans:
        raise DataError("multistate_cox(): the data have no transitions to model.")
    spec = {t: _transition_list(v, states, f"specific[{t!r}]") for t, v in specific.items()}
    for term, ks in spec.items():
        extra = [transition_name(states, k) for k in ks if k not in trans]
        if extra:
            raise DataError(
                f"multistate_cox(): specific[{term!r}] names {extra[0]}, which is "
                "not a modelled transition."
            )
    base = formula.strip()
    text = base if base != "1" else ""
    full = " + ".join([t for t in [text, *spec] if t])
    if not full:
        raise SchemaError("multistate_cox(): the model has no covariates.")
    design = build_design(
        mi.data, full, response=False, intercept=False, model_name="multistate_cox"
    )
    base_terms = (
        list(
            build_design(
                mi.data, text, response=False, intercept=False, model_name="multistate_cox"
            ).terms
        )
        if text
        else []
    )
    both = [t for t in spec if t in base_terms]
    if both:
        raise DataError(
            f"multistate_cox(): {both[0]!r} is both in the formula (every "
            "transition) and in specific=; keep it in one of them."
        )
    unknown = [t for t in spec if t not in design.terms]
    sh: dict[str, list[list[tuple[int, int]]]] = {}
    for term, groups in (shared or {}).items():
        if term not in design.terms:
            unknown.append(term)
            continue
        items = [groups] if isinstance(groups, str) else list(groups)
        lists = items if items and all(isinstance(g, list) for g in items) else [items]
        sh[term] = [_transition_list(g, states, f"shared[{term!r}]") for g in lists]
        for g in sh[term]:
            bad = [transition_name(states, k) for k in g if k not in trans]
            if bad:
                raise DataError(
                    f"multistate_cox(): shared[{term!r}] names {bad[0]}, which "
                    "is not a modelled transition."
                )
    if unknown:
        raise DataError(
            f"multistate_cox(): {unknown[0]!r} is not a term of the model; terms: "
            f"{', '.join(design.terms)} (write it as in the formula)."
        )
    coefs, cmap = _coefficient_map(design, trans, states, base_terms, spec, sh)
    st = _stack(mi, design.matrix, trans, cmap, len(coefs))
    names = [_coef_name(states, trans, c, members) for c, members in coefs]
    nonest = _constant_columns(st, names, coefs, trans, states)
    keep = np.array([n not in nonest for n in names])
    fit = fit_transitions(
        st.X,
        mi.stop[st.row],
        mi.start[st.row],
        st.status,
        st.stratum,
        mi.subject[st.row],
        mi.weights[st.row] if mi.weighted else None,
        members=[m for _, m in coefs],
        names=names,
        keep=keep,
        ties=ties,
        robust=True,
        report=True,
    )
    nonest.update(fit.nonestimable)
    coef, cov, naive = fit.coef, fit.cov, fit.var
    assert cov is not None  # robust=True above
    return MultiStateCoxResult(
        pd.Series(coef, index=names),
        cov=cov,
        naive_cov=naive,
        fit=fit,
        stacked=st,
        data=mi,
        design=design,
        transitions=trans,
        coefficients=coefs,
        cmap=cmap,
        ties=ties,
        conf_level=conf_level,
        nonestimable=nonest,
        labels=labels,
        n_events=int(st.status.sum()),
        keep=keep,
    )


def _coef_name(
    states: tuple[str, ...], trans: list[tuple[int, int]], column: str, members: tuple[int, ...]
) -> str:
    label = " + ".join(transition_name(states, trans[k]) for k in members)
    return f"{label}: {column}"


def _constant_columns(
    st: StackedFit,
    names: list[str],
    coefs: list[tuple[str, tuple[int, ...]]],
    trans: list[tuple[int, int]],
    states: tuple[str, ...],
) -> dict[str, str]:
    """Coefficients whose column does not vary among the rows of their transitions."""
    out = {}
    for j, (_, members) in enumerate(coefs):
        sel = np.isin(st.stratum, members)
        col = st.X[sel, j]
        if col.size == 0 or np.all(col == col[0]):
            where = ", ".join(transition_name(states, trans[k]) for k in members)
            out[names[j]] = f"not estimable: constant among the rows at risk of {where}"
    if out:
        warnings.warn(
            f"multistate_cox(): {', '.join(out)} cannot be estimated (the covariate "
            "does not vary among the patients at risk of the transition); reported "
            "as NaN. Remove the term from that transition (specific=).",
            DataWarning,
            stacklevel=user_stacklevel(),
        )
    return out
