"""The multi-state table of an engine cohort, built in the engine by the pandas path's rules.

The rules are those of :mod:`calcstats.cohort._multistate_table` (entry state, transitions
along the declared structure, contradicting events, same-day events moved back 0.1 day);
here they are joins, window functions and a small lookup table:

* the first date of each state per patient is one ``GROUP BY`` of the events (window
  ``row_number`` keeps the event that gives it, for the record);
* the entry state, the reason a patient is left out and the candidate transitions (the
  states first entered after index, up to the last follow-up) are columns and rows of the
  patients;
* the transitions are accepted rank by rank (a patient has at most one candidate per
  state, so there are at most as many ranks as states): each rank joins the candidates of
  that rank with the patients' current state and with a lookup table that gives, for
  each (current state, candidate state, ended), what the rules do;
* the same-day shift and the sojourns (``lag`` over each patient's transitions) are window
  functions.

:func:`multistate_table` returns an :class:`~calcstats.engine.EngineTable` with the pandas
path's columns and dtypes; :func:`multistate_at_risk` adds the record (the patients left
out and the events the rules handled, pulled) and the flow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import DataError, SchemaError
from calcstats.cohort._analysis_time import _event_vocabulary
from calcstats.cohort._engine_analysis import _event_names, _patient_expr
from calcstats.cohort._multistate_table import (
    _DAYS_PER_YEAR,
    _SAME_DAY_SHIFT,
    CONTRADICTION,
    NO_FOLLOW_UP,
    RULES,
    MultiStateAtRisk,
    StateSpace,
    warn_left_out,
)
from calcstats.engine import EngineTable
from calcstats.engine._aggregate import scalars

__all__ = ["multistate_at_risk", "multistate_table"]


@dataclass
class _Built:
    """The table and what the record needs: per patient (``__key``, ``patient_id``,
    ``__reason``) and the adjusted events (``__key``, ``__s``, ``__d``, ``__rule`` code:
    0-3 the rules, ``-k`` moved back ``k`` tenths of a day; ``__phase``, ``__r``: their
    order)."""

    table: EngineTable
    patients: Any
    notes: Any
    space: StateSpace


def _lookup(space: StateSpace, exclude: bool) -> pd.DataFrame:
    """What the rules do with a candidate state ``s`` for a patient in ``cur``: one row per
    (cur, s, ended) with the rule (-1: a declared transition), whether the patient moves,
    the state after, whether follow-up then ends and whether the event contradicts."""
    names = space.names
    S = len(names)
    allowed = np.zeros((S, S), dtype=bool)
    for a, b in space.transitions:
        allowed[names.index(a), names.index(b)] = True
    reach = space.reachable()
    absorbing = [n in space.absorbing for n in names]
    rows = []
    for cur in range(S):
        for s in range(S):
            for ended in (0, 1):
                if ended:
                    rule = 0
                elif s == cur:
                    rule = 1
                elif allowed[cur, s]:
                    rule = -1
                elif reach[cur, s]:
                    rule = 2
                else:
                    rule = 3
                go = rule == -1 or (rule == 2 and not exclude)
                rows.append(
                    {
                        "__lk_cur": cur,
                        "__lk_s": s,
                        "__lk_end": ended,
                        "__lk_rule": rule,
                        "__lk_go": int(go),
                        "__lk_next": s if go else cur,
                        "__lk_ended": int(bool(ended) or (go and absorbing[s])),
                        "__lk_bad": int(exclude and rule in (2, 3)),
                    }
                )
    return pd.DataFrame(rows).astype("int64")


def _checks(c: Any, p: Any, space: StateSpace, caller: str) -> None:
    """The pandas path's input errors, in its order, from one aggregate query."""
    missing = [col for col in space.baseline.values() if col not in p.columns]
    if missing:
        raise SchemaError(
            f"{caller}: the patients table lacks the baseline column(s) "
            f"{missing} named in the states."
        )
    fu = p.last_followup_date.delta(p.index_date, unit="day").cast("float64")
    metrics = {
        "idx": p.index_date.isnull().cast("int64").sum(),
        "lfu": p.last_followup_date.isnull().cast("int64").sum(),
        "neg": (fu < 0).fill_null(False).cast("int64").sum(),
    }
    metrics.update(
        {f"b_{col}": p[col].isnull().cast("int64").sum() for col in space.baseline.values()}
    )
    got = scalars(p, metrics)

    def first_ids(pred: Any) -> list[Any]:
        return p.filter(pred).order_by("__key").limit(5).patient_id.to_pandas().tolist()

    for col, key in (("index_date", "idx"), ("last_followup_date", "lfu")):
        if got[key]:
            raise DataError(
                f"patients.{col} is missing for {got[key]} patient(s), e.g. "
                f"{first_ids(p[col].isnull())}; every patient needs a {col}."
            )
    if got["neg"]:
        raise SchemaError(
            f"{caller}: last_followup_date is before index_date for {got['neg']} "
            f"patient(s), e.g. {first_ids(fu < 0)}; correct the dates."
        )
    used = [ev for s in space.names for ev in space.states[s]]
    valid = _event_vocabulary(c, _event_names(c))
    unknown = [ev for ev in used if ev not in valid]
    if unknown:
        raise SchemaError(
            f"{caller}: unknown event name(s) {', '.join(map(repr, unknown))} in the states; "
            f"valid event names are: {', '.join(valid)}. Extend the vocabulary with "
            "read_cohort(vocabularies={'event': [...]}) for a new event."
        )
    e = c._t["events"]
    nat = e.filter(e.event.isin(used) & e.event_date.isnull())
    n_nat = int(nat.count().execute())
    if n_nat:
        ids = nat.order_by("__key").limit(5).patient_id.to_pandas().tolist()
        raise DataError(
            f"events.event_date is missing for {n_nat} event(s) used here, e.g. for "
            f"patients {ids}; every event needs a date."
        )
    for col in space.baseline.values():
        if got[f"b_{col}"]:
            raise SchemaError(
                f"{caller}: {col} is missing for {got[f'b_{col}']} "
                f"patient(s), e.g. {first_ids(p[col].isnull())}; it sets the state at index."
            )


def _first_events(c: Any, space: StateSpace) -> Any:
    """Per patient and state: the days from index to its first event (``__d``) and that
    event (``__ev``; the first listed on ties), one row each (``__pid``, ``__s``)."""
    import ibis

    names = space.names
    p, e = c._t["patients"], c._t["events"]
    state_of, pos_of = [], []
    for i, s in enumerate(names):
        for j, ev in enumerate(space.states[s]):
            state_of.append((e.event == ev, i))
            pos_of.append((e.event == ev, j))
    used = [ev for s in names for ev in space.states[s]]
    ev = e.filter(e.event.isin(used)).mutate(
        __s=ibis.cases(*state_of, else_=-1).cast("int64"),
        __pos=ibis.cases(*pos_of, else_=-1).cast("int64"),
    )
    q = p.select(__q_pid=p.patient_id, __q_idx=p.index_date)
    j = ev.inner_join(q, ev.patient_id == q["__q_pid"])
    j = j.mutate(__d=j.event_date.delta(j["__q_idx"], unit="day").cast("float64"))
    w = ibis.window(group_by=[j.patient_id, j["__s"]], order_by=[j["__d"], j["__pos"]])
    j = j.mutate(__rn=ibis.row_number().over(w))
    first = j.filter(j["__rn"] == 0)
    return first.select(
        __pid=first.patient_id, __s=first["__s"], __d=first["__d"], __ev=first.event
    )


def _patients(c: Any, space: StateSpace, first: Any) -> Any:
    """Patients with ``__fu`` (days), ``__reason`` (why left out, or NULL) and
    ``__entry`` (the state at index)."""
    import ibis

    names = space.names
    p = c._t["patients"]
    wide = first.group_by(__w_pid=first["__pid"]).agg(
        **{
            f"__w{i}": ibis.cases((first["__s"] == i, first["__d"]), else_=ibis.null()).max()
            for i in range(len(names))
        }
    )
    j = p.left_join(wide, p.patient_id == wide["__w_pid"])
    fu = j.last_followup_date.delta(j.index_date, unit="day").cast("float64")
    at = {}
    for i, s in enumerate(names):
        flag = (j[f"__w{i}"] <= 0).fill_null(False)
        if s in space.baseline:
            flag = flag | j[space.baseline[s]].cast("boolean").fill_null(False)
        at[s] = flag
    reasons = [(at[s], f"not at risk: {s} on or before index_date") for s in space.absorbing]
    reasons.append((fu <= 0, NO_FOLLOW_UP))
    live = [i for i, s in enumerate(names) if s not in space.absorbing]
    entry = ibis.cases(
        *[(at[names[i]], i) for i in reversed(live)], else_=names.index(space.initial)
    )
    return j.select(
        "__key",
        "patient_id",
        __fu=fu,
        __reason=ibis.cases(*reasons, else_=ibis.null().cast("string")),
        __entry=entry.cast("int64"),
    )


def _build(c: Any, states: Any, on_contradiction: str, caller: str) -> _Built:
    import ibis

    if on_contradiction not in ("direct", "exclude"):
        raise SchemaError(
            f"{caller}: on_contradiction must be 'direct' or 'exclude', got {on_contradiction!r}."
        )
    space = StateSpace.coerce(states)
    names = space.names
    S = len(names)
    _checks(c, c._t["patients"], space, caller)
    covariates, kinds = _patient_expr(c)
    taken = [x for x in ("from_state", "to_state", "start", "stop") if x in covariates.columns]
    if taken:
        raise SchemaError(
            f"{caller}: the patients table already has column(s) {taken}; rename them."
        )
    first = c.store(_first_events(c, space))
    pts = c.store(_patients(c, space, first))
    keep = pts.filter(pts["__reason"].isnull())
    cand = first.inner_join(keep, first["__pid"] == keep.patient_id)
    cand = cand.filter((cand["__d"] > 0) & (cand["__d"] <= cand["__fu"]))
    cand = cand.mutate(
        __r=ibis.row_number().over(group_by=cand["__pid"], order_by=[cand["__d"], cand["__s"]])
    )
    cand = c.store(cand.select("__pid", "__key", "__s", "__d", "__r", "__entry"))
    top = scalars(cand, {"r": cand["__r"].max()})["r"]
    lookup = ibis.memtable(_lookup(space, on_contradiction == "exclude"))
    state = c.store(
        cand.filter(cand["__r"] == 0).select(
            __st_pid=cand["__pid"],
            __cur=cand["__entry"],
            __ended=ibis.literal(0).cast("int64"),
            __bad=ibis.literal(0).cast("int64"),
        )
    )
    steps = []
    for r in range(int(top) + 1 if top is not None else 0):
        cr = cand.filter(cand["__r"] == r)
        j = cr.inner_join(state, cr["__pid"] == state["__st_pid"])
        j = j.inner_join(
            lookup,
            (j["__cur"] == lookup["__lk_cur"])
            & (j["__s"] == lookup["__lk_s"])
            & (j["__ended"] == lookup["__lk_end"]),
        )
        step = c.store(
            j.select(
                "__pid",
                "__key",
                "__s",
                "__d",
                "__r",
                "__lk_rule",
                "__lk_go",
                "__lk_next",
                "__lk_ended",
                "__lk_bad",
            )
        )
        steps.append(step)
        nxt = state.left_join(step, state["__st_pid"] == step["__pid"])
        state = nxt.select(
            "__st_pid",
            __cur=nxt["__lk_next"].fill_null(nxt["__cur"]),
            __ended=nxt["__lk_ended"].fill_null(nxt["__ended"]),
            __bad=ibis.greatest(nxt["__bad"], nxt["__lk_bad"].fill_null(0)),
        )
    # the patients left out: the reasons at index, then contradicting events
    pj = pts.left_join(state, pts.patient_id == state["__st_pid"])
    if on_contradiction == "exclude":
        reason = ibis.cases(
            (pj["__reason"].isnull() & (pj["__bad"].fill_null(0) == 1), CONTRADICTION),
            else_=pj["__reason"],
        )
    else:
        reason = pj["__reason"]
    pts = c.store(
        pj.select(
            "__key",
            "patient_id",
            "__fu",
            "__entry",
            __reason=reason,
            __cur=pj["__cur"].fill_null(pj["__entry"]),
            __ended=pj["__ended"].fill_null(0),
        )
    )
    kept = pts.filter(pts["__reason"].isnull())
    if steps:
        allsteps = steps[0].union(*steps[1:]) if len(steps) > 1 else steps[0]
    else:
        allsteps = cand.select(
            "__pid",
            "__key",
            "__s",
            "__d",
            "__r",
            __lk_rule=ibis.literal(-1).cast("int64"),
            __lk_go=ibis.literal(0).cast("int64"),
            __lk_next=ibis.literal(0).cast("int64"),
            __lk_ended=ibis.literal(0).cast("int64"),
            __lk_bad=ibis.literal(0).cast("int64"),
        ).limit(0)
    allsteps = allsteps.semi_join(kept, allsteps["__pid"] == kept.patient_id)
    allsteps = c.store(allsteps)
    # accepted transitions: same-day shift, then the sojourns
    acc = allsteps.filter(allsteps["__lk_go"] == 1)
    day = ibis.window(group_by=[acc["__pid"], acc["__d"]], order_by=acc["__r"])
    acc = acc.mutate(
        __later=acc.count().over(ibis.window(group_by=[acc["__pid"], acc["__d"]]))
        - 1
        - ibis.row_number().over(day)
    )
    acc = acc.mutate(__t=(acc["__d"] - _SAME_DAY_SHIFT * acc["__later"]) / _DAYS_PER_YEAR)
    seq = ibis.window(group_by=acc["__pid"], order_by=acc["__r"])
    acc = acc.mutate(
        __prev_s=acc["__s"].lag().over(seq),
        __prev_t=acc["__t"].lag().over(seq),
        __last=acc["__r"] == acc["__r"].max().over(ibis.window(group_by=acc["__pid"])),
    )
    acc = c.store(acc)
    kk = kept.select(__k_pid=kept.patient_id, __k_entry=kept["__entry"])
    ak = acc.inner_join(kk, acc["__pid"] == kk["__k_pid"])
    moves = ak.select(
        __key=ak["__key"],
        __from=ak["__prev_s"].fill_null(ak["__k_entry"]).cast("int64"),
        __to=ak["__s"].cast("int64"),
        start=ak["__prev_t"].fill_null(0.0).cast("float64"),
        stop=ak["__t"].cast("float64"),
        __part=ak["__r"].cast("int64"),
    )
    last = acc.filter(acc["__last"]).select(__l_pid=acc["__pid"], __l_t=acc["__t"])
    kl = kept.left_join(last, kept.patient_id == last["__l_pid"])
    last_t = kl["__l_t"].fill_null(0.0)
    fu_years = kl["__fu"] / _DAYS_PER_YEAR
    open_ = kl.filter((kl["__ended"] == 0) & (fu_years > last_t))
    censored = open_.select(
        __key=open_["__key"],
        __from=open_["__cur"].cast("int64"),
        __to=ibis.literal(S).cast("int64"),
        start=last_t.cast("float64"),
        stop=fu_years.cast("float64"),
        __part=ibis.literal(S + 1).cast("int64"),
    )
    rows = moves.union(censored)
    cats = [*names, "censored"]

    def label(code: Any) -> Any:
        return ibis.cases(*[(code == i, n) for i, n in enumerate(cats)])

    cv = covariates.rename(__cv_key="__key")
    j = rows.inner_join(cv, rows["__key"] == cv["__cv_key"])
    cov_cols = [x for x in covariates.columns if not x.startswith("__") and x != "patient_id"]
    expr = j.select(
        patient_id=j.patient_id,
        from_state=label(j["__from"]),
        to_state=label(j["__to"]),
        start=j.start.cast("float64"),
        stop=j.stop.cast("float64"),
        **{x: j[x] for x in cov_cols},
        __key=j["__key"],
        __part=j["__part"],
    )
    out_kinds = {
        "patient_id": kinds.get("patient_id", "text"),
        "from_state": ("category", cats, False),
        "to_state": ("category", cats, False),
        "start": "float",
        "stop": "float",
        **{x: kinds[x] for x in cov_cols if x in kinds},
    }
    table = EngineTable(
        expr,
        engine=c.engine,
        options=c.options,
        store=c.store,
        kinds=out_kinds,
        order=["__key", "__part"],
        name="multi-state table",
    )
    # the record: the events the rules handled (of the patients in the table)
    loop = allsteps.filter(allsteps["__lk_rule"] >= 0).select(
        "__key",
        "__pid",
        "__s",
        "__d",
        "__r",
        __rule=allsteps["__lk_rule"].cast("int64"),
        __phase=ibis.literal(0).cast("int64"),
    )
    shifted = acc.filter(acc["__later"] > 0)
    shifted = shifted.select(
        "__key",
        "__pid",
        "__s",
        "__d",
        "__r",
        __rule=(-shifted["__later"]).cast("int64"),
        __phase=ibis.literal(1).cast("int64"),
    )
    notes = loop.union(shifted)
    fe = first.select(__f_pid=first["__pid"], __f_s=first["__s"], __ev=first["__ev"])
    notes = notes.inner_join(fe, (notes["__pid"] == fe["__f_pid"]) & (notes["__s"] == fe["__f_s"]))
    # the order in which the pandas path lists the notes of one phase
    notes = notes.mutate(
        __ord=ibis.row_number().over(
            order_by=[notes["__phase"], notes["__r"], notes["__rule"], notes["__key"]]
        ),
        __ord_shift=ibis.row_number().over(order_by=[notes["__key"], notes["__r"]]),
    )
    return _Built(table=table, patients=pts, notes=notes, space=space)


def _rule_text(code: int) -> str:
    if code >= 0:
        return RULES[code]
    return f"same day: moved back {_SAME_DAY_SHIFT * -code:g} day"


def _warn(built: _Built, caller: str) -> None:
    p = built.patients
    out = p.filter(p["__reason"].notnull())
    excluded = (
        out.group_by("__reason").agg(n=out.count(), at=out["__key"].min()).order_by("at")
    ).to_pandas()
    n = built.notes
    # the order in which the pandas path lists the rules: by rank, then rule, then the
    # same-day shifts in the order of the patients
    adjusted = (
        n.group_by("__rule")
        .agg(
            k=n.count(),
            phase=n["__phase"].min(),
            at=n["__ord"].min(),
            at_shift=n["__ord_shift"].min(),
        )
        .to_pandas()
    )
    loop = adjusted[adjusted["phase"] == 0].sort_values("at")
    shift = adjusted[adjusted["phase"] == 1].sort_values("at_shift")
    ordered = pd.concat([loop, shift])
    warn_left_out(
        [(str(r), int(k)) for r, k in zip(excluded["__reason"], excluded["n"], strict=True)],
        [
            (_rule_text(int(r)), int(k))
            for r, k in zip(ordered["__rule"], ordered["k"], strict=True)
        ],
        caller,
    )


def multistate_table(
    c: Any, states: Any = None, *, on_contradiction: str = "direct"
) -> EngineTable:
    """One row per patient per sojourn (the rules and columns of
    :func:`calcstats.cohort._multistate_table.multistate_table`), engine-backed."""
    built = _build(c, states, on_contradiction, "multistate_table")
    _warn(built, "multistate_table")
    return built.table


def multistate_at_risk(
    c: Any, states: Any = None, *, on_contradiction: str = "direct"
) -> MultiStateAtRisk:
    """The engine multi-state table with its record (the patients left out and the events
    the rules handled, pulled) and the flow."""
    built = _build(c, states, on_contradiction, "multistate_at_risk")
    p = built.patients
    out = p.filter(p["__reason"].notnull()).order_by("__key")
    out = out.select("patient_id", "__reason").to_pandas()
    excluded = pd.DataFrame(
        {
            "patient_id": out["patient_id"].to_numpy(dtype=object),
            "reason": out["__reason"].astype(str).to_numpy(dtype=object),
        }
    )
    n = built.notes
    got = n.select("__pid", "__ev", "__s", "__d", "__rule", "__phase", "__ord", "__ord_shift")
    got = got.to_pandas()
    # the loop's notes by rank, rule and patient; the shifts by patient and rank
    loop = got[got["__phase"] == 0].sort_values("__ord")
    shift = got[got["__phase"] == 1].sort_values("__ord_shift")
    got = pd.concat([loop, shift], ignore_index=True)
    names = built.space.names
    adjustments = pd.DataFrame(
        {
            "patient_id": got["__pid"].to_numpy(dtype=object),
            "event": got["__ev"].to_numpy(dtype=object),
            "state": [names[int(s)] for s in got["__s"]],
            "time": got["__d"].to_numpy(dtype=float) / _DAYS_PER_YEAR,
            "rule": [_rule_text(int(r)) for r in got["__rule"]],
        },
        columns=["patient_id", "event", "state", "time", "rule"],
    )
    flow = c.flow
    for reason, ids in excluded.groupby("reason", sort=False)["patient_id"]:
        flow = flow.add(f"{reason} (multi-state table)", ids.tolist(), rule="multistate")
    return MultiStateAtRisk(
        table=built.table,  # engine-backed, as the survival at_risk table
        excluded=excluded,
        adjustments=adjustments,
        flow=flow,
        states=built.space,
    )
