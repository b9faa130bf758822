"""The calcification phenotype of an engine cohort, by the rules of
:mod:`calcstats.cohort._analysis_patient` (the phenotype study, the phenotype columns).

One aggregation of the baseline findings (findings joined with the studies dated on or
before the patient's index date) gives one row per study with everything the phenotype
needs; a window picks each patient's phenotype study; the result is stored once per
cohort (:func:`stored_phenotype`), since its aggregation is the costly step and the
patient, survival and counting-process tables of any outcome reuse it.
"""

from __future__ import annotations

import weakref
from typing import Any

__all__ = ["NONE", "seg_code", "stored_phenotype"]

NONE = 1e18  # "no such value" (the pandas path's inf), larger than any day count or size
SEGMENT_CODE = {
    "I": 1,
    "II": 2,
    "III": 3,
    "IV": 4,
    "IVa": 4,
    "IVb": 4,
    "V": 5,
    "VI": 6,
    "VII": 7,
    "VIII": 8,
}


def seg_code(seg: Any) -> Any:
    """Couinaud number 1-8 (IVa/IVb → 4), 100 for other labels, NULL when missing."""
    import ibis

    cases = [(seg == k, v) for k, v in SEGMENT_CODE.items()]
    return ibis.cases(
        *cases, else_=ibis.cases((seg.notnull(), 100), else_=ibis.null().cast("int64"))
    )


def _morphologies(c: Any) -> list[str]:
    """The morphologies of the cohort's findings (a missing one counts as ``unknown``),
    in the pandas path's order: one small query, so that a study carries a count and a
    largest size for these only."""
    f = c._t["findings"]
    got = f.select(__m=f.morphology.fill_null("unknown")).distinct().to_pandas()
    return sorted(got["__m"].astype(str)) or ["unknown"]


def _dominant(st: Any, names: list[str]) -> Any:
    """``st`` with ``__dm_morph``, the dominant morphology of each study from its
    per-morphology counts (``__n<i>``) and largest sizes (``__b<i>``): most findings, then
    the largest calcification (a missing size counts as -inf), then alphabetical order
    (``names`` is sorted)."""
    import ibis

    k = len(names)
    n = [st[f"__n{i}"] for i in range(k)]
    st = st.mutate(__most=ibis.greatest(*n) if k > 1 else n[0])
    b = [st[f"__b{i}"].fill_null(-NONE) for i in range(k)]
    big = [ibis.cases((st[f"__n{i}"] == st["__most"], b[i]), else_=-2 * NONE) for i in range(k)]
    st = st.mutate(__biggest=ibis.greatest(*big) if k > 1 else big[0])
    won = [
        (st[f"__n{i}"] == st["__most"]) & (st[f"__b{i}"].fill_null(-NONE) == st["__biggest"])
        for i in range(k)
    ]
    return st.mutate(
        __dm_morph=ibis.cases(*zip(won, names, strict=True), else_=ibis.null().cast("string"))
    )


def _segments(fs: Any, seg: Any, con: Any) -> tuple[dict[str, Any], Any]:
    """Aggregates of a study's Couinaud segments 1-8, and a function of the aggregated
    table giving (number of segments, right lobe, left lobe) as 0/1 integers.

    One bit mask per study (``bit_or``) where the backend has it (DuckDB), else a flag
    per segment: the aggregate state is what memory holds per study."""
    import ibis
    import ibis.expr.operations as ops

    if con.has_operation(ops.BitOr):
        one = ibis.literal(1, type="int64")
        bit = ibis.cases(((seg >= 1) & (seg <= 8), one << seg), else_=0).cast("int64")
        metrics = {"__mask": bit.bit_or()}

        def parts(st: Any) -> tuple[Any, Any, Any]:
            m = st["__mask"]
            n = (m >> 1) & 1
            for k in range(2, 9):
                n = n + ((m >> k) & 1)
            right = ((m & 0b111100000) != 0).cast("int64")
            left = ((m & 0b000011100) != 0).cast("int64")
            return n, right, left

        return metrics, parts
    metrics = {f"__s{k}": (seg == k).fill_null(False).cast("int64").max() for k in range(1, 9)}

    def flags(st: Any) -> tuple[Any, Any, Any]:
        n = st["__s1"]
        for k in range(2, 9):
            n = n + st[f"__s{k}"]
        right = ibis.greatest(*[st[f"__s{k}"] for k in range(5, 9)])
        left = ibis.greatest(*[st[f"__s{k}"] for k in range(2, 5)])
        return n, right, left

    return metrics, flags


def _phenotype(c: Any) -> Any:
    """Per patient with a baseline finding: the phenotype of the phenotype study
    (``__ph_*`` and ``__dm_morph``).

    One pass over the baseline findings (findings joined with the studies dated on or
    before the patient's index date): one row per study with everything the phenotype
    needs (date, the Couinaud segments, and per morphology its count and largest size,
    from which the count, diffuse, the largest size and the dominant morphology follow),
    then
    the phenotype study of each patient by a window (the pandas path's order: diffuse,
    more findings, later, smaller ``study_id``). The findings of a validated cohort belong
    to their study's patient, so a study is one group.
    """
    import ibis

    p, img, f = c._t["patients"], c._t["imaging"], c._t["findings"]
    q = p.select(__q_pid=p.patient_id, __q_idx=p.index_date)
    iq = img.inner_join(q, img.patient_id == q["__q_pid"])
    studies = iq.filter(iq.study_date <= iq["__q_idx"]).select(
        __s_sid=iq.study_id, __s_date=iq.study_date
    )
    fs = f.inner_join(studies, f.study_id == studies["__s_sid"])
    morph = fs.morphology.fill_null("unknown")
    seg = seg_code(fs.segment)
    names = _morphologies(c)
    seg_metrics, seg_parts = _segments(fs, seg, c.connection)
    metrics = {
        "__pid": fs.patient_id.arbitrary(),
        "__sdate": fs["__s_date"].max(),
        **seg_metrics,
        **{f"__n{i}": fs.count(where=morph == m) for i, m in enumerate(names)},
        **{f"__b{i}": fs.size_mm.max(where=morph == m) for i, m in enumerate(names)},
    }
    # segment labels a user added to the vocabulary count as their own segment (rare)
    other = any(s not in SEGMENT_CODE for s in c.vocabularies["segment"])
    if other:
        metrics["__o_n"] = fs.segment.nunique(where=seg >= 100)
    st = _dominant(fs.group_by(__sid=fs.study_id).agg(**metrics), names)
    n_seg, right, left = seg_parts(st)
    if other:
        n_seg = n_seg + st["__o_n"]
    n_found = st["__n0"]  # every finding has one of the morphologies
    for i in range(1, len(names)):
        n_found = n_found + st[f"__n{i}"]
    sizes = [st[f"__b{i}"].fill_null(-NONE) for i in range(len(names))]
    biggest = ibis.greatest(*sizes) if len(sizes) > 1 else sizes[0]
    diffuse = (
        (st[f"__n{names.index('diffuse')}"] > 0).cast("int64")
        if "diffuse" in names
        else ibis.literal(0, type="int64")
    )
    ph = st.select(
        __ph_pid=st["__pid"],
        __w_sid=st["__sid"],
        __w_date=st["__sdate"],
        __ph_n=n_found,
        __ph_dif=diffuse,
        __ph_max=ibis.cases((biggest == -NONE, ibis.null().cast("float64")), else_=biggest),
        __ph_nseg=n_seg,
        __ph_right=right,
        __ph_left=left,
        __dm_morph=st["__dm_morph"],
    )
    # the phenotype study of each patient
    w = ibis.window(
        group_by=ph["__ph_pid"],
        order_by=[
            ph["__ph_dif"].desc(),
            ph["__ph_n"].desc(),
            ph["__w_date"].desc(),
            ph["__w_sid"].asc(),
        ],
    )
    ph = ph.mutate(__rn=ibis.row_number().over(w))
    return ph.filter(ph["__rn"] == 0)


#: The stored phenotype of each cohort (computed on first use).
_PHENOTYPES: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def stored_phenotype(c: Any) -> Any:
    """The phenotype of ``c`` computed once and kept in the engine (a table of the working
    database in calcstats' own DuckDB): its one aggregation of the findings then has the
    memory limit to itself, and the patient, survival and counting-process tables (any
    outcome) join a small stored table."""
    got = _PHENOTYPES.get(c)
    if got is None:
        ph = _phenotype(c)
        got = c.store(ph.select(*[n for n in ph.columns if n.startswith(("__ph_", "__dm_"))]))
        _PHENOTYPES[c] = got
    return got
