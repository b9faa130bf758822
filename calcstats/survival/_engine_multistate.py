"""State probabilities of an engine table: the rows checked and aggregated by path in the
engine.

:func:`state_probabilities` takes the arguments of :func:`calcstats.state_probabilities`.
The checks of :func:`~calcstats.survival._multistate_input.multistate_input` (missing
patients and states, ``"censored"`` as a from-state, the shared time/weight/group rules,
and per patient: groups fixed, no overlap, no gap, states that chain, weights fixed) are
aggregate queries and window functions over each patient's rows, with the pandas path's
messages.

The estimate needs per-time counts of the rows at risk and moving in each state; its
infinitesimal-jackknife standard errors need, in addition, each patient's influence,
which depends on the patient's path (the states and times of its rows so far) and not on
the patient. So the rows are aggregated by path in the engine, one rank at a time: the
rows of rank ``r`` with the same path before them (their parent), states and times are
one row, with the number of patients and the sums of their weights and squared weights.
The pandas path's estimator runs on these rows
(:func:`~calcstats.survival._multistate.probabilities_of`) and gives its numbers. At
most ``pull_limit`` such rows come back (all patients censored in the entry state at the
same time are one row; patients with several transitions usually have paths of their
own).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from calcstats._engine_input import EngineInput, engine_input
from calcstats._errors import DataError
from calcstats._survival_input import as_names
from calcstats._validation import require_columns
from calcstats.engine import EngineLimitError, EngineTable
from calcstats.engine._aggregate import first_rows, scalars
from calcstats.labels import Labels
from calcstats.survival._ms_result import StateProbabilitiesResult
from calcstats.survival._multistate import probabilities_of
from calcstats.survival._multistate_input import CENSORED, MultiStateInput, order_states

__all__ = ["state_probabilities"]


def _rows_text(rows: Sequence[Any]) -> str:
    """Row positions as the pandas path's messages list index labels (``?``: unknown)."""
    return ", ".join("?" if pd.isna(r) else repr(int(r)) for r in list(rows)[:3])


def _first_checks(
    table: EngineTable, *, patient_id: str, from_state: str, to_state: str, function: str
) -> None:
    """Patients and states present, no ``"censored"`` from-state, a transition per row."""
    e = table.full
    frm, to = e[from_state].cast("string"), e[to_state].cast("string")
    got = scalars(
        e,
        {
            "pid": e[patient_id].isnull().cast("int64").sum(),
            "frm": e[from_state].isnull().cast("int64").sum(),
            "to": e[to_state].isnull().cast("int64").sum(),
            "cens": (frm == CENSORED).fill_null(False).cast("int64").sum(),
            "same": (frm == to).fill_null(False).cast("int64").sum(),
        },
    )

    def rows(pred: Any, *cols: str) -> pd.DataFrame:
        return first_rows(table, pred, list(cols), limit=3)

    if got["pid"]:
        bad = rows(lambda t: t[patient_id].isnull())
        raise DataError(
            f"{function}(): patient_id column {patient_id!r} has {got['pid']} missing "
            f"value(s) (rows {_rows_text(bad['row'])}); every row must name its patient."
        )
    for role, column in (("from_state", from_state), ("to_state", to_state)):
        key = "frm" if role == "from_state" else "to"
        if got[key]:
            bad = rows(lambda t, c=column: t[c].isnull())
            raise DataError(
                f"{function}(): {role} column {column!r} has {got[key]} missing value(s) (rows "
                f"{_rows_text(bad['row'])}); every row needs a state ({CENSORED!r} for a row "
                "that ends without a transition)."
            )
    if got["cens"]:
        bad = rows(lambda t: t[from_state].cast("string") == CENSORED)
        raise DataError(
            f"{function}(): from_state is {CENSORED!r} on {got['cens']} row(s) (rows "
            f"{_rows_text(bad['row'])}); from_state is the state occupied during the interval."
        )
    if got["same"]:
        bad = rows(lambda t: t[from_state].cast("string") == t[to_state].cast("string"), from_state)
        raise DataError(
            f"{function}(): to_state equals from_state ({str(bad[from_state].iloc[0])!r}) on "
            f"{got['same']} row(s) (rows {_rows_text(bad['row'])}); a row that ends without a "
            f"transition has to_state {CENSORED!r}."
        )


def _sorted_rows(ei: EngineInput, *, patient_id: str, from_state: str, to_state: str) -> Any:
    """The analysed rows in the pandas path's order (group, patient by first appearance,
    start), with each patient's previous row (``__p_*``) and the row's rank."""
    import ibis

    e = ei.expr
    e = e.mutate(
        __pid=e[patient_id],
        __fs=e[from_state].cast("string"),
        __ts=e[to_state].cast("string"),
        __first=e["__pos"].min().over(ibis.window(group_by=e[patient_id])),
    )
    w = ibis.window(group_by=e["__pid"], order_by=[e["__start"], e["__pos"]])
    e = e.mutate(
        __k=ibis.row_number().over(
            order_by=[e["__g"], e["__first"], e["__pid"], e["__start"], e["__pos"]]
        ),
        __rank=ibis.row_number().over(w),
        __ng=e["__g"].max().over(ibis.window(group_by=e["__pid"]))
        - e["__g"].min().over(ibis.window(group_by=e["__pid"])),
        __p_start=e["__start"].lag().over(w),
        __p_stop=e["__t"].lag().over(w),
        __p_fs=e["__fs"].lag().over(w),
        __p_ts=e["__ts"].lag().over(w),
        __p_w=e["__w"].lag().over(w),
        __p_pos=e["__pos"].lag().over(w),
    )
    return ei.table.store(e)


def _patient_checks(e: Any, *, by: list[str], weighted: bool, function: str) -> None:
    """Groups fixed per patient, then no overlap, no gap, chained states, fixed weights
    (the first offending patient in the pandas path's order)."""
    import ibis

    has_prev = e["__rank"] > 0
    expected = ibis.cases((e["__p_ts"] == CENSORED, e["__p_fs"]), else_=e["__p_ts"])
    rules = {
        "overlap": has_prev & (e["__start"] < e["__p_stop"]),
        "gap": has_prev & (e["__start"] > e["__p_stop"]),
        "chain": has_prev & (e["__fs"] != expected),
    }
    if weighted:
        rules["weight"] = has_prev & (e["__w"] != e["__p_w"])
    got = scalars(
        e,
        {
            "groups": (e["__ng"] > 0).cast("int64").sum(),
            **{k: v.cast("int64").sum() for k, v in rules.items()},
        },
    )
    if got["groups"]:
        first = e.filter(e["__ng"] > 0).order_by(["__first", "__pid"]).limit(1).to_pandas()
        who = first["__pid"].iloc[0]
        mine = e.filter(e["__pid"] == who).order_by("__k").limit(3).to_pandas()
        raise DataError(
            f"{function}(): patient {_plain(who)!r} is in more than one group of by={by} "
            f"(rows {_rows_text(mine['__pos'])}); the groups must be fixed per patient (e.g. "
            "baseline covariates)."
        )
    for name, pred in rules.items():
        if not got[name]:
            continue
        n_pat = int(scalars(e.filter(pred), {"n": e.filter(pred)["__pid"].nunique()})["n"])
        r = e.filter(pred).order_by("__k").limit(1).to_pandas().iloc[0]
        st, sp, pst, psp = r["__start"], r["__t"], r["__p_start"], r["__p_stop"]
        if name == "overlap":
            what = f"the interval ({st:g}, {sp:g}] overlaps the previous one ({pst:g}, {psp:g}]"
            fix = (
                "a patient is in one state at a time: remove duplicated rows or correct the times."
            )
        elif name == "gap":
            what = f"there is a gap between stop {psp:g} and the next start {st:g}"
            fix = (
                "each row must start where the patient's previous row stopped (a patient not "
                "under observation has no rows after that time)."
            )
        elif name == "chain":
            ended = (
                f"ended in {r['__p_ts']!r}"
                if r["__p_ts"] != CENSORED
                else f"was in {r['__p_fs']!r} and ended censored"
            )
            what = f"from_state is {r['__fs']!r} but the previous row " + ended
            fix = (
                "from_state must be the state entered at the end of the previous row (or "
                "the previous from_state after a censored row)."
            )
        else:
            what = f"the weight changes ({r['__p_w']:g} to {r['__w']:g})"
            fix = "a patient is one cluster: give all rows of a patient the same weight."
        raise DataError(
            f"{function}(): {what} for patient {_plain(r['__pid'])!r} (rows "
            f"{_rows_text([r['__p_pos'], r['__pos']])})"
            + (f" and {n_pat - 1} other patient(s)" if n_pat > 1 else "")
            + f"; {fix}"
        )


def _plain(x: Any) -> Any:
    return x.item() if isinstance(x, np.generic) else x


def _states(
    e: Any, table: EngineTable, *, from_state: str, to_state: str, labels: Labels, function: str
) -> tuple[str, ...]:
    """The states in the pandas path's display order (:func:`order_states`), from the
    states occupied, first entered and occupied at a patient's first row."""
    occupied = set(e.select("__fs").distinct().to_pandas()["__fs"])
    moved = e.filter(e["__ts"] != CENSORED)
    entry = moved.group_by("__ts").agg(t=moved["__t"].min()).to_pandas()
    first_entry = dict(zip(entry["__ts"], entry["t"].astype(float), strict=True))
    first = e.filter(e["__rank"] == 0)
    initial = set(first.select("__fs").distinct().to_pandas()["__fs"])
    cats: list[str] = []
    for c in (from_state, to_state):
        kind = table.kinds.get(c)
        if isinstance(kind, tuple):
            cats += [str(x) for x in kind[1] if str(x) not in cats]
    states = order_states(
        occupied=occupied,
        first_entry=first_entry,
        initial=initial,
        categories=cats or None,
        labels=Labels.default() | labels,
    )
    if cats:
        missing = sorted((occupied | set(first_entry)) - set(states))
        if missing:
            raise DataError(
                f"{function}(): state(s) {missing} are not categories of the from_state / "
                "to_state columns; add them to the categories."
            )
    return states


def _paths(e: Any, table: EngineTable, states: tuple[str, ...]) -> pd.DataFrame:
    """The rows aggregated by path, rank by rank: one row per (group, parent, from, to,
    start, stop) with the patients (``n``) and their weight sums (``w``, ``w2``)."""
    import ibis

    def code(col: Any) -> Any:
        return ibis.cases(*[(col == s, i) for i, s in enumerate(states)], else_=-1).cast("int64")

    rows = table.store(
        e.select(
            "__pid",
            "__g",
            "__rank",
            __fc=code(e["__fs"]),
            __tc=code(e["__ts"]),
            __a=e["__start"],
            __b=e["__t"],
            __w=e["__w"],
        )
    )
    top = int(scalars(rows, {"r": rows["__rank"].max()})["r"] or 0)
    limit = table.options.pull_limit
    keys = ["__g", "__parent", "__fc", "__tc", "__a", "__b"]
    parts, offset, mapping = [], 0, None
    for r in range(top + 1):
        cur = rows.filter(rows["__rank"] == r)
        if mapping is None:
            cur = cur.mutate(__parent=ibis.literal(-1).cast("int64"))
        else:
            cur = cur.inner_join(mapping, cur["__pid"] == mapping["__m_pid"])
            cur = cur.mutate(__parent=cur["__m_node"])
        cur = cur.mutate(__node=ibis.dense_rank().over(order_by=[cur[k] for k in keys]) + offset)
        cur = table.store(cur.select("__pid", "__node", *keys, "__w"))
        agg = cur.group_by(["__node", *keys]).agg(
            n=cur.count(), w=cur["__w"].sum(), w2=(cur["__w"] * cur["__w"]).sum()
        )
        got = agg.to_pandas().assign(rank=r)
        offset += len(got)
        if offset > limit:
            raise EngineLimitError(
                f"state_probabilities: the patients' paths (states and times so far) give "
                f"more than {limit:,} distinct rows (engine_options pull_limit), which "
                "would all come back from the engine for the standard errors. Raise the "
                "limit if they fit in memory, or analyse fewer patients or coarser times."
            )
        parts.append(got)
        mapping = cur.select(__m_pid=cur["__pid"], __m_node=cur["__node"])
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["__g", "rank", "__node"], kind="stable").reset_index(drop=True)


def state_probabilities(
    data: EngineTable,
    *,
    by: str | Sequence[str] | None = None,
    conf_level: float = 0.95,
    conf_type: str = "log",
    from_state: str = "from_state",
    to_state: str = "to_state",
    start: str = "start",
    stop: str = "stop",
    patient_id: str = "patient_id",
    weights: str | None = None,
    p0_variance: bool = True,
    labels: Labels | dict[str, str] | None = None,
) -> StateProbabilitiesResult:
    """:func:`calcstats.state_probabilities` of an engine table (same arguments and
    result)."""
    import ibis

    function = "state_probabilities"
    by_names = as_names(by, "by", function)
    table = data.cached()
    roles: dict[str, str | list[str] | tuple[str, ...] | None] = {
        "from_state": from_state,
        "to_state": to_state,
        "start": start,
        "stop": stop,
        "patient_id": patient_id,
        "by": by_names,
        "weights": weights,
    }
    require_columns(pd.DataFrame(columns=table.columns), roles, function=function)
    _first_checks(
        table, patient_id=patient_id, from_state=from_state, to_state=to_state, function=function
    )
    full = table.full
    pos = ibis.row_number().over(order_by=table.order) if table.order else ibis.null().cast("int64")
    work = table.with_expr(
        full.mutate(_event=(full[to_state].cast("string") != CENSORED).cast("int64"), __pos=pos)
    )
    ei = engine_input(
        work,
        time=stop,
        event="_event",
        start=start,
        weights=weights,
        by=by_names or None,
        competing=True,
        function=function,
    )
    e = _sorted_rows(ei, patient_id=patient_id, from_state=from_state, to_state=to_state)
    _patient_checks(e, by=by_names, weighted=weights is not None, function=function)
    lab = Labels.coerce(labels)
    states = _states(
        e, table, from_state=from_state, to_state=to_state, labels=lab, function=function
    )
    nodes = _paths(e, table, states)
    index = pd.Series(np.arange(len(nodes)), index=nodes["__node"].to_numpy())
    parent = nodes["__parent"].to_numpy(dtype=np.int64)
    parent = np.where(parent >= 0, index.reindex(parent).to_numpy(na_value=-1), -1)
    mi = MultiStateInput(
        data=pd.DataFrame(columns=table.columns),
        states=states,
        subject=np.arange(len(nodes), dtype=np.int64),
        start=nodes["__a"].to_numpy(dtype=float),
        stop=nodes["__b"].to_numpy(dtype=float),
        from_code=nodes["__fc"].to_numpy(dtype=np.int64),
        to_code=nodes["__tc"].to_numpy(dtype=np.int64),
        weights=nodes["w"].to_numpy(dtype=float),
        weighted=weights is not None,
        group=nodes["__g"].to_numpy(dtype=np.int64),
        groups=ei.groups,
        by=by_names,
        columns={
            "from_state": from_state,
            "to_state": to_state,
            "start": start,
            "stop": stop,
            "patient_id": patient_id,
            "weights": weights,
        },
        n_zero_weight=ei.n_zero_weight,
        count=nodes["n"].to_numpy(dtype=float),
        weights2=nodes["w2"].to_numpy(dtype=float),
        parent=parent.astype(np.int64),
    )
    return probabilities_of(
        mi,
        conf_level=float(conf_level),
        conf_type=conf_type,
        p0_variance=p0_variance,
        labels=labels,
    )
