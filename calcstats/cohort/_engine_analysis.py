"""Analysis tables of an engine cohort, computed in the engine by the pandas path's rules.

The rules are those of :mod:`calcstats.cohort._analysis_patient` (the phenotype study, the
phenotype columns; computed by :mod:`calcstats.cohort._engine_phenotype`) and
:mod:`calcstats.cohort._analysis_time` (time zero, status codes,
same-day ties, prevalent cases, horizon, the counting-process split), written as joins,
window functions and conditional aggregates. Every function returns an
:class:`~calcstats.engine.EngineTable` with the pandas path's columns in the same order
(``.to_pandas()`` gives the pandas path's DataFrame, dtypes included); ``at_risk``
returns the pandas path's :class:`~calcstats.cohort._analysis_time.AtRisk` record with
the excluded patients pulled (``patient_id, reason``) and the flow extended.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import DataError, DataWarning, SchemaError
from calcstats.cohort._analysis_base import check_no_clash
from calcstats.cohort._analysis_patient import BURDEN_LEVELS, PHENOTYPE_COLUMNS
from calcstats.cohort._analysis_time import (
    AtRisk,
    _check_horizon,
    _check_names,
    _event_vocabulary,
)
from calcstats.cohort._engine_phenotype import NONE, seg_code, stored_phenotype
from calcstats.engine import EngineTable

__all__ = ["at_risk", "counting_process_table", "lesion_table", "patient_table", "survival_table"]

_DAYS_PER_YEAR = 365.25
_NONE = NONE  # "no such event" (the pandas path's inf), larger than any day count


def _columns(expr: Any) -> list[str]:
    return [c for c in expr.columns if not c.startswith("__")]


def _binary_to_int(p: Any, kinds: dict[str, Any], drop: Sequence[str] = ()) -> dict[str, Any]:
    """Patient columns with booleans as 0/1 integers (the pandas path's ``binary_to_int``)."""
    out = {}
    for c in _columns(p):
        if c in drop:
            continue
        out[c] = p[c].cast("int64") if p.schema()[c].is_boolean() else p[c]
    return out


def _int_kinds(p: Any, kinds: dict[str, Any]) -> dict[str, Any]:
    out = dict(kinds)
    for c in _columns(p):
        if p.schema()[c].is_boolean():
            out[c] = "int"
    return out


# ------------------------------------------------------------------------ patients
def _study_patient_join(f: Any, s: Any, q: Any) -> Any:
    """Findings with their study (``s``: ``__s_*``) and patient (``q``: ``__q_*``) columns;
    each join reads the columns of the table it joins (the findings and patients tables
    of a cohort share ancestors once exclusions are applied)."""
    fs = f.inner_join(s, f.study_id == s["__s_sid"])
    return fs.inner_join(q, fs.patient_id == q["__q_pid"])


def _patient_expr(
    c: Any, base: Any = None, keep: tuple[str, ...] = ()
) -> tuple[Any, dict[str, Any]]:
    """The patient table on ``base`` (the patients table, or a table derived from it one
    row per patient, whose internal columns ``keep`` are carried along)."""
    import ibis

    p = c._t["patients"]
    check_no_clash(pd.DataFrame(columns=_columns(p)), PHENOTYPE_COLUMNS, "patient_table()")
    ph = stored_phenotype(c)
    base = p if base is None else base
    j = base.left_join(ph, base.patient_id == ph["__ph_pid"])
    n = j["__ph_n"].fill_null(0)
    dif = j["__ph_dif"].fill_null(0) == 1
    right = j["__ph_right"].fill_null(0) == 1
    left = j["__ph_left"].fill_null(0) == 1
    burden = ibis.cases((n == 0, "none"), (dif | (n > 5), ">5"), (n == 1, "1"), else_="2-5")
    dominant = ibis.cases((dif, "diffuse"), (n == 0, "none"), else_=j["__dm_morph"])
    cols = _binary_to_int(j, c._kinds["patients"])
    cols.update(
        any_calcification=(n > 0).cast("int64"),
        n_calcifications=n.cast("int64"),
        calcification_burden=burden,
        max_size_mm=j["__ph_max"].cast("float64"),
        dominant_morphology=dominant,
        n_segments=j["__ph_nseg"].fill_null(0).cast("int64"),
        bilobar=(right & left).cast("int64"),
        right_lobe_only=(right & ~left).cast("int64"),
    )
    expr = j.select(**cols, __key=j["__key"], **{k: j[k] for k in keep})
    kinds = _int_kinds(p, c._kinds["patients"])
    kinds.update(
        any_calcification="int",
        n_calcifications="int",
        calcification_burden=("category", BURDEN_LEVELS),
        max_size_mm="float",
        dominant_morphology="text",
        n_segments="int",
        bilobar="int",
        right_lobe_only="int",
    )
    return expr, kinds


def patient_table(c: Any) -> EngineTable:
    """One row per patient: the patient columns, then the calcification phenotype at index
    (the rules of :func:`calcstats.cohort._analysis.patient_table`)."""
    expr, kinds = _patient_expr(c)
    return EngineTable(
        expr,
        engine=c.engine,
        options=c.options,
        store=c.store,
        kinds=kinds,
        order=["__key"],
        name="patient table",
    )


# ------------------------------------------------------------------------ follow-up
def _event_names(c: Any) -> pd.DataFrame:
    e = c._t["events"]
    return e.select("event").distinct().to_pandas()


def _follow_up(
    c: Any, outcome: Any, competing: Any, horizon: Any, caller: str
) -> tuple[Any, tuple[str, ...], dict[int, str], float | None, list[str]]:
    """Patients with ``__fu``, ``__days``, ``__status`` and ``__why`` (the pandas rules),
    the competing events, the status labels, the horizon and the reasons for leaving a
    patient out: ``__why`` is 0 for a patient at risk, else ``k`` for ``reasons[k - 1]``
    (the first that applies), so the rows carry a small number and no text."""
    import ibis

    p, e = c._t["patients"], c._t["events"]
    outcome, competing = _check_names(c, _event_names(c), outcome, competing, caller)
    horizon = _check_horizon(horizon, caller)
    if outcome == "cirrhosis" and "cirrhosis_at_baseline" not in p.columns:
        raise SchemaError(
            f"{caller}: the patients table lacks cirrhosis_at_baseline, needed to leave out "
            "prevalent cirrhosis for the outcome 'cirrhosis'."
        )
    names = (outcome, *competing)
    fu = p.last_followup_date.delta(p.index_date, unit="day").cast("float64")
    checks = {"neg": (fu < 0).cast("int64").sum()}
    if outcome == "cirrhosis":
        checks["base"] = p.cirrhosis_at_baseline.isnull().cast("int64").sum()
    used = e.filter(e.event.isin(list(names)))
    got = p.aggregate(**checks).to_pandas().iloc[0]
    n_nat = int(used.filter(used.event_date.isnull()).count().execute())
    if int(got["neg"] or 0):
        ids = p.filter(fu < 0).order_by("__key").limit(5).patient_id.to_pandas().tolist()
        raise DataError(
            f"last_followup_date is before index_date for {int(got['neg'])} "
            f"patient(s), e.g. {ids}; correct the dates (read_cohort() reports these)."
        )
    if n_nat:
        ids = used.filter(used.event_date.isnull()).limit(5).patient_id.to_pandas().tolist()
        raise DataError(
            f"events.event_date is missing for {n_nat} event(s) used here, e.g. for "
            f"patients {ids}; every event needs a date."
        )
    if outcome == "cirrhosis" and int(got["base"] or 0):
        ids = p.filter(p.cirrhosis_at_baseline.isnull()).order_by("__key").limit(5)
        raise DataError(
            f"{caller}: cirrhosis_at_baseline is missing for {int(got['base'])} "
            f"patient(s), e.g. {ids.patient_id.to_pandas().tolist()}; it is needed to leave "
            "out prevalent cirrhosis."
        )
    # each patient's first date of each event, then days from index (the first date
    # gives the fewest days: one index date per patient)
    first = used.group_by(__f_pid=used.patient_id).agg(
        **{f"__f{k}": used.event_date.min(where=used.event == name) for k, name in enumerate(names)}
    )
    j = p.left_join(first, p.patient_id == first["__f_pid"])
    fu = j.last_followup_date.delta(j.index_date, unit="day").cast("float64")
    f = [
        j[f"__f{k}"].delta(j.index_date, unit="day").cast("float64").fill_null(_NONE)
        for k in range(len(names))
    ]
    ed = f[0] if len(f) == 1 else ibis.least(*f)
    which = ibis.cases(*[(f[k] == ed, k + 1) for k in range(len(f))], else_=0)
    happened = ed <= fu
    d = ibis.cases((happened, ed), else_=fu)
    status = ibis.cases((happened, which), else_=0)
    if horizon is not None:
        hd = horizon * _DAYS_PER_YEAR
        beyond = d > hd
        d = ibis.cases((beyond, hd), else_=d)
        status = ibis.cases((beyond, 0), else_=status)
    reasons = [(f[0] <= 0, f"prevalent case: {outcome} dated on or before index_date")]
    if outcome == "cirrhosis":
        reasons.append(
            (
                j.cirrhosis_at_baseline,
                "prevalent case: cirrhosis_at_baseline is true",
            )
        )
    for k, name in enumerate(competing, start=1):
        reasons.append(
            (f[k] <= 0, f"not at risk: competing event {name} dated on or before index_date")
        )
    reasons.append((d <= 0, "no follow-up: last_followup_date equals index_date"))
    why = ibis.cases(*[(cond, k) for k, (cond, _) in enumerate(reasons, start=1)], else_=0)
    out = j.mutate(__fu=fu, __days=d, __status=status.cast("int64"), __why=why)
    labels = {0: "censored", **{k + 1: name for k, name in enumerate(names)}}
    return out, tuple(competing), labels, horizon, [text for _, text in reasons]


def _warn_excluded(
    fu: Any, reasons: list[str], caller: str, outcome: str, competing: Sequence[str]
) -> None:
    out = fu.filter(fu["__why"] > 0)
    counts = out.group_by("__why").agg(n=out.count(), first=out["__key"].min())
    counts = counts.order_by("first").to_pandas()
    if not len(counts):
        return
    detail = "; ".join(
        f"{reasons[int(w) - 1]}: {n}" for w, n in zip(counts["__why"], counts["n"], strict=True)
    )
    comp = f", competing={tuple(competing)!r}" if competing else ""
    warnings.warn(
        f"{caller}: {int(counts['n'].sum())} patient(s) left out ({detail}). "
        f"cohort.at_risk({outcome!r}{comp}) lists them and adds them to the participant "
        "flow.",
        DataWarning,
        stacklevel=4,
    )


def _survival_expr(
    c: Any, outcome: str, competing: Any, horizon: Any, caller: str
) -> tuple[Any, Any, dict[str, Any], tuple[str, ...], dict[int, str], list[str]]:
    import ibis

    fu, competing, labels, horizon, reasons = _follow_up(c, outcome, competing, horizon, caller)
    # the patients at risk, their phenotype and follow-up in one chain of joins
    at_risk = fu.filter(fu["__why"] == 0)
    pt, kinds = _patient_expr(c, base=at_risk, keep=("__days", "__status"))
    taken = [x for x in ("time", "status") if x in _columns(pt)]
    if taken:
        raise SchemaError(
            f"{caller}: the patients table already has column(s) {taken}; rename them."
        )
    j = pt
    time = j["__days"] / _DAYS_PER_YEAR
    if horizon is not None:
        time = ibis.cases((j["__days"] >= horizon * _DAYS_PER_YEAR, float(horizon)), else_=time)
    expr = j.select(*_columns(pt), time=time, status=j["__status"], __key=j["__key"])
    kinds = {**kinds, "time": "float", "status": "int"}
    return expr, fu, kinds, competing, labels, reasons


def survival_table(
    c: Any,
    outcome: str,
    *,
    competing: Sequence[str] = (),
    horizon: float | None = None,
    warn: bool = True,
) -> EngineTable:
    """One row per patient at risk: the patient table plus ``time`` and ``status`` (the
    rules of :func:`calcstats.cohort._analysis.survival_table`)."""
    expr, fu, kinds, competing, _, reasons = _survival_expr(
        c, outcome, competing, horizon, "survival_table"
    )
    if warn:
        _warn_excluded(fu, reasons, "survival_table", outcome, competing)
    return EngineTable(
        expr,
        engine=c.engine,
        options=c.options,
        store=c.store,
        kinds=kinds,
        order=["__key"],
        name="survival table",
    )


def at_risk(
    c: Any, outcome: str, *, competing: Sequence[str] = (), horizon: float | None = None
) -> AtRisk:
    """The survival table (engine-backed), the patients left out (pulled) and the flow."""
    expr, fu, kinds, competing, labels, reasons = _survival_expr(
        c, outcome, competing, horizon, "at_risk"
    )
    excluded = fu.filter(fu["__why"] > 0).select("__key", "patient_id", "__why")
    excluded = excluded.order_by("__key").to_pandas()
    texts = np.asarray(reasons, dtype=object)
    excluded = pd.DataFrame(
        {
            "patient_id": excluded["patient_id"].to_numpy(dtype=object),
            "reason": texts[excluded["__why"].to_numpy(dtype=np.int64) - 1],
        }
    )
    flow = c.flow
    for reason, ids in excluded.groupby("reason", sort=False)["patient_id"]:
        flow = flow.add(f"{reason} (not at risk of {outcome})", ids.tolist(), rule="at_risk")
    table = EngineTable(
        expr,
        engine=c.engine,
        options=c.options,
        store=c.store,
        kinds=kinds,
        order=["__key"],
        name="survival table",
    )
    return AtRisk(table=table, excluded=excluded, flow=flow, status=dict(labels))


def counting_process_table(
    c: Any, outcome: str, *, exposure: str = "calcification", competing: Sequence[str] = ()
) -> EngineTable:
    """``(start, stop]`` intervals split where the exposure starts (the rules of
    :func:`calcstats.cohort._analysis.counting_process_table`)."""
    import ibis

    caller = "counting_process_table"
    if not isinstance(exposure, str):
        raise SchemaError(f"{caller}: exposure must be a name (str), got {exposure!r}.")
    fu, competing, labels, _, reasons = _follow_up(c, outcome, competing, None, caller)
    p = c._t["patients"]
    if exposure != "calcification":
        valid = _event_vocabulary(c, _event_names(c))
        if exposure not in valid:
            raise SchemaError(
                f"{caller}: unknown exposure {exposure!r}; use 'calcification' or an event "
                f"name: {', '.join(valid)}."
            )
        if exposure in labels.values():
            raise SchemaError(
                f"{caller}: the exposure {exposure!r} is also the outcome or a competing "
                "event; choose a different exposure."
            )
    taken = [x for x in ("start", "stop", "status", exposure) if x in _columns(p)]
    if taken:
        raise SchemaError(
            f"{caller}: the patients table already has column(s) {taken}; rename them."
        )
    q = p.select(__q_pid=p.patient_id, __q_idx=p.index_date)
    if exposure == "calcification":
        f, img = c._t["findings"], c._t["imaging"]
        s = img.select(__s_sid=img.study_id, __s_date=img.study_date)
        fi = _study_patient_join(f, s, q)
        days = fi["__s_date"].delta(fi["__q_idx"], unit="day").cast("float64")
        ex = fi.group_by(__x_pid=fi.patient_id).agg(__x=days.min())
    else:
        e = c._t["events"]
        ef = e.filter(e.event == exposure)
        ev = ef.inner_join(q, ef.patient_id == q["__q_pid"])
        days = ev.event_date.delta(ev["__q_idx"], unit="day").cast("float64")
        ex = ev.group_by(__x_pid=ev.patient_id).agg(__x=days.min())
    keep = fu.filter(fu["__why"] == 0)
    j = keep.left_join(ex, keep.patient_id == ex["__x_pid"])
    x = j["__x"]
    end, status = j["__days"], j["__status"]
    split = (x > 0) & (x < end)
    split = split.fill_null(False)
    covars = _binary_to_int(j, c._kinds["patients"], drop=("patient_id",))
    covars = {k: v for k, v in covars.items() if not k.startswith("__")}
    first = j.select(
        patient_id=j.patient_id,
        start=ibis.literal(0).cast("float64"),
        stop=ibis.cases((split, x), else_=end) / _DAYS_PER_YEAR,
        status=ibis.cases((split, 0), else_=status).cast("int64"),
        **{exposure: (x <= 0).fill_null(False).cast("int64")},
        **covars,
        __key=j["__key"],
        __part=ibis.literal(0),
    )
    second = j.filter(split).select(
        patient_id=j.patient_id,
        start=x / _DAYS_PER_YEAR,
        stop=end / _DAYS_PER_YEAR,
        status=status.cast("int64"),
        **{exposure: ibis.literal(1).cast("int64")},
        **{k: j[k].cast("int64") if j.schema()[k].is_boolean() else j[k] for k in covars},
        __key=j["__key"],
        __part=ibis.literal(1),
    )
    expr = first.union(second)
    kinds = {k: v for k, v in _int_kinds(p, c._kinds["patients"]).items() if k != "patient_id"}
    kinds.update(patient_id="text", start="float", stop="float", status="int", **{exposure: "int"})
    _warn_excluded(fu, reasons, caller, outcome, competing)
    return EngineTable(
        expr,
        engine=c.engine,
        options=c.options,
        store=c.store,
        kinds=kinds,
        order=["__key", "__part"],
        name="counting-process table",
    )


def lesion_table(c: Any) -> EngineTable:
    """One row per finding with its study and its patient's covariates (the rules of
    :func:`calcstats.cohort._analysis.lesion_table`)."""
    import ibis

    f, img, p = c._t["findings"], c._t["imaging"], c._t["patients"]
    extra_names = ("lobe", "study_date", "modality", "years_since_index")
    clash = [x for x in extra_names if x in _columns(f)]
    if clash:
        raise SchemaError(
            f"the findings table has column(s) {', '.join(map(repr, clash))}, which "
            "lesion_table() derives; rename or drop them before building the table."
        )
    s = img.select(__s_sid=img.study_id, __s_date=img.study_date, __s_mod=img.modality)
    pcols = _binary_to_int(p, c._kinds["patients"], drop=("patient_id",))
    taken = set(_columns(f)) | set(extra_names)
    renamed = {(f"{k}_patient" if k in taken else k): v.name(f"__pc_{k}") for k, v in pcols.items()}
    q = p.select(
        __q_pid=p.patient_id, __q_idx=p.index_date, **{v.get_name(): v for v in renamed.values()}
    )
    j = _study_patient_join(f, s, q)
    seg = seg_code(j.segment)
    lobe = ibis.cases(
        ((seg >= 5) & (seg <= 8), "right"),
        ((seg >= 2) & (seg <= 4), "left"),
        (seg == 1, "caudate"),
        else_=ibis.null().cast("string"),
    )
    years = j["__s_date"].delta(j["__q_idx"], unit="day").cast("float64") / _DAYS_PER_YEAR
    expr = j.select(
        *_columns(f),
        lobe=lobe,
        study_date=j["__s_date"],
        modality=j["__s_mod"],
        years_since_index=years,
        **{k: j[v.get_name()] for k, v in renamed.items()},
        __key=j["__key"],
    )
    pk = _int_kinds(p, c._kinds["patients"])
    kinds = {
        **c._kinds["findings"],
        "lobe": "text",
        "study_date": "date",
        "modality": "text",
        "years_since_index": "float",
    }
    kinds.update(
        {(f"{k}_patient" if k in taken else k): pk.get(k) for k in pcols if pk.get(k) is not None}
    )
    return EngineTable(
        expr,
        engine=c.engine,
        options=c.options,
        store=c.store,
        kinds=kinds,
        order=["__key"],
        name="lesion table",
    )
