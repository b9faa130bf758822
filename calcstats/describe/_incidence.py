"""Incidence rates (events per person-time) and rate ratios.

* ``incidence_rate``: events, person-time and rate with the exact Poisson (Garwood)
  interval, as R ``poisson.test(x, T)``; optional follow-up time bands as Stata's
  ``stsplit`` (intervals (lo, hi]: an event at exactly a cut point belongs to the band that
  ends there; follow-up beyond the last cut forms an open band).
* ``rate_ratio``: each level of ``by`` against a reference level, exact conditional
  (binomial) interval and p-value as R ``poisson.test(c(x1, x0), c(T1, T0))``, or Wald on
  the log scale (SE = sqrt(1/x1 + 1/x0), normal p-value).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from calcstats._errors import DataError, InvalidParameterError
from calcstats._survival_input import survival_input
from calcstats._validation import (
    COLUMN,
    COLUMNS,
    CONF_LEVEL,
    NONE,
    NUMBERS,
    Constraint,
    Interval,
    Options,
    validate_params,
)
from calcstats.describe._checks import as_list, check_frame, group_keys
from calcstats.describe._intervals import (
    poisson_exact_interval,
    rate_ratio_exact,
    rate_ratio_wald,
)
from calcstats.labels import Labels
from calcstats.results import EstimateResult

__all__ = [
    "IncidenceRateResult",
    "RateRatioResult",
    "band_edges",
    "incidence_rate",
    "rate_ratio",
    "rate_ratio_result",
    "rate_result",
]

_CAUSE: list[Constraint] = [Interval(1, None, integer=True), NONE]
_SUPPRESS: list[Constraint] = [Interval(2, None, integer=True), NONE]


def _level_str(x: object) -> str:
    if isinstance(x, float | np.floating) and np.isfinite(x) and float(x).is_integer():
        return str(int(x))
    return str(x)


class IncidenceRateResult(EstimateResult):
    """Incidence rates (the result of :func:`incidence_rate`).

    ``tidy()`` columns are the ``by`` columns (and ``band``), then ``events, person_time,
    rate, conf_low, conf_high`` (rate per ``per`` units of person-time). With
    ``suppress_below`` the publication table hides event counts 1..k−1 and the rates of
    those rows (primary suppression: no event totals are printed).

    Attributes
    ----------
    per : float
        Rates are events per ``per`` units of person-time.
    time, event : str
        The person-time and event columns.
    cause : int or None
        The event code counted (None: a 0/1 event column).
    bands : list of float or None
        Follow-up cut points (the ``band`` column), or None.
    by, method, conf_level, labels, suppress_below
        As :class:`~calcstats.results.EstimateResult` (``by`` ends with ``"band"`` when
        follow-up was split into bands).
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        by: Sequence[str],
        method: str,
        conf_level: float,
        per: float,
        time: str,
        event: str,
        cause: int | None,
        bands: list[float] | None = None,
        labels: Labels | Mapping[str, str] | None = None,
        suppress_below: int | None = None,
    ) -> None:
        super().__init__(
            frame,
            by=by,
            method=method,
            conf_level=conf_level,
            labels=labels,
            suppress_below=suppress_below,
        )
        self.per = float(per)
        self.time = time
        self.event = event
        self.cause = cause
        self.bands = bands


class RateRatioResult(EstimateResult):
    """Rate ratios against a reference level (the result of :func:`rate_ratio`).

    ``tidy()`` columns are the ``by`` column, then ``estimate, conf_low, conf_high,
    p_value`` (the reference row has estimate 1 and no interval or p-value);
    :meth:`counts` gives the events and person-time behind them.

    Attributes
    ----------
    reference : object
        The reference level of ``by``.
    interval : str
        ``"exact"`` (conditional binomial) or ``"wald"`` (log scale).
    time, event : str
        The person-time and event columns.
    cause : int or None
        The event code counted (None: a 0/1 event column).
    by, method, conf_level, labels
        As :class:`~calcstats.results.EstimateResult`.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        by: Sequence[str],
        method: str,
        conf_level: float,
        reference: object,
        interval: str,
        time: str,
        event: str,
        cause: int | None,
        labels: Labels | Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(frame, by=by, method=method, conf_level=conf_level, labels=labels)
        self.reference = reference
        self.interval = interval
        self.time = time
        self.event = event
        self.cause = cause

    def tidy(self) -> pd.DataFrame:
        """``by``, ``estimate, conf_low, conf_high, p_value`` (reference row: estimate 1)."""
        return self._frame[[*self.by, "estimate", "conf_low", "conf_high", "p_value"]].copy()

    def counts(self) -> pd.DataFrame:
        """Events and person-time of each level, and which level is the reference."""
        return self._frame[[*self.by, "events", "person_time", "reference"]].copy()


def band_edges(bands: Sequence[float]) -> tuple[np.ndarray, np.ndarray, list[str], list[float]]:
    """Lower and upper edges, labels and cut points of the follow-up bands (Stata
    ``stsplit``: bands (lo, hi], a first band from 0, an open last band)."""
    cuts = np.unique(np.atleast_1d(np.asarray(bands, dtype=float)))
    if cuts.size == 0 or (cuts < 0).any():
        raise InvalidParameterError(
            "The 'bands' parameter of incidence_rate must be a list of cut points >= 0 (e.g. "
            f"[0, 1, 5, 10]) or None. Got {bands!r}."
        )
    if cuts[0] > 0:
        cuts = np.concatenate([[0.0], cuts])
    edges = np.concatenate([cuts, [np.inf]])
    lo, hi = edges[:-1], edges[1:]
    labels = [f"{a:g}–{b:g}" if np.isfinite(b) else f"≥{a:g}" for a, b in zip(lo, hi, strict=True)]
    return lo, hi, labels, cuts.tolist()


def _split_bands(
    t: np.ndarray, d: np.ndarray, bands: Sequence[float]
) -> tuple[np.ndarray, np.ndarray, list[str], list[float]]:
    """Person-time and events per band (Stata ``stsplit``): arrays shaped (n, n_bands)."""
    lo, hi, labels, cuts = band_edges(bands)
    pt = np.clip(t[:, None], lo, hi) - lo
    inband = (t[:, None] > lo) & (t[:, None] <= hi)
    inband[:, 0] |= t == 0
    ev = inband & (d[:, None] == 1)
    return pt, ev.astype(np.int64), labels, cuts


@validate_params(
    {
        "time": [COLUMN],
        "event": [COLUMN],
        "by": [COLUMNS, NONE],
        "per": [Interval(0, None, closed="neither")],
        "conf_level": [CONF_LEVEL],
        "bands": [NUMBERS, NONE],
        "cause": _CAUSE,
        "suppress_below": _SUPPRESS,
    },
    engine="calcstats.describe._engine:incidence_rate",
)
def incidence_rate(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    by: str | Sequence[str] | None = None,
    per: float = 1000,
    conf_level: float = 0.95,
    bands: Sequence[float] | None = None,
    cause: int | None = None,
    suppress_below: int | None = None,
    labels: Labels | Mapping[str, str] | None = None,
) -> IncidenceRateResult:
    """Events, person-time and incidence rate with an exact Poisson confidence interval.

    Parameters
    ----------
    data : DataFrame
        One row per patient (or per interval).
    time : str
        Person-time column (e.g. years of follow-up); must be non-negative.
    event : str
        0/1 (or bool) event column, or integer codes 0 = censored, 1..k = cause k.
    by : str or list of str, optional
        Grouping column(s).
    per : float
        Rates are expressed per ``per`` units of person-time (default 1000).
    conf_level : float
        Confidence level of the Garwood exact Poisson interval (R ``poisson.test``).
    bands : list of float, optional
        Follow-up cut points, e.g. ``[0, 1, 5, 10]``: person-time and events are split
        into bands (lo, hi] as Stata's ``stsplit``; follow-up beyond the last cut forms a
        final open band ("≥10"). Adds a ``band`` column after the ``by`` columns.
    cause : int, optional
        The event code counted; other codes count as censored. Required when ``event``
        holds codes above 1 (several event types), as in every survival function.
    suppress_below : int, optional
        In ``to_table()``, hide event counts 1..k−1 and their rates (primary suppression).
    labels : Labels or dict, optional
        Display labels (kept as ``result.labels``; used by ``to_table()``).

    Returns
    -------
    IncidenceRateResult
        ``.tidy()`` → by columns, [band], ``events, person_time, rate, conf_low, conf_high``.

    Raises
    ------
    DataError
        Negative, infinite or missing times; event codes above 1 without ``cause``; a
        ``cause`` that does not occur; a group with no person-time.

    Examples
    --------
    >>> import pandas as pd, calcstats as cs
    >>> st = pd.DataFrame({"time": [1.0, 2.5, 4.0, 0.5], "status": [1, 0, 2, 1]})
    >>> res = cs.incidence_rate(st, time="time", event="status", cause=1, per=100)
    >>> res.tidy()["events"].tolist(), res.per
    ([2], 100.0)
    """
    data = check_frame(data, func="incidence_rate")
    return _incidence_rate(
        data,
        time=time,
        event=event,
        by_cols=as_list(by),
        per=float(per),
        level=float(conf_level),
        bands=bands,
        cause=cause,
        suppress_below=suppress_below,
        labels=Labels.coerce(labels),
        function="incidence_rate",
    )


def _incidence_rate(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    by_cols: list[str],
    per: float,
    level: float,
    bands: Sequence[float] | None,
    cause: int | None,
    suppress_below: int | None,
    labels: Labels,
    function: str,
) -> IncidenceRateResult:
    """The computation of :func:`incidence_rate` (``function`` names the caller in errors)."""
    keys = group_keys(data, by_cols, func=function)
    si = survival_input(data, time=time, event=event, cause=cause, function=function)
    t, d = si.time, si.event.astype(np.int64)
    cuts = None
    if bands is not None:
        pt, ev, band_labels, cuts = _split_bands(t, d, bands)
        parts = []
        for j, lab in enumerate(band_labels):
            part = keys.assign(band=lab, _t=pt[:, j], _d=ev[:, j])
            parts.append(part[pt[:, j] > 0])
        work = pd.concat(parts, ignore_index=True)
        work["band"] = pd.Categorical(work["band"], categories=band_labels, ordered=True)
        gcols = [*by_cols, "band"]
    else:
        work = keys.assign(_t=t, _d=d)
        gcols = by_cols
    if gcols:
        agg = work.groupby(gcols, observed=True, sort=True).agg(
            events=("_d", "sum"), person_time=("_t", "sum")
        )
        frame = agg.reset_index()
    else:
        frame = pd.DataFrame({"events": [int(d.sum())], "person_time": [float(t.sum())]})
    return rate_result(
        frame,
        gcols=gcols,
        time=time,
        event=event,
        per=per,
        level=level,
        cuts=cuts,
        cause=si.cause,
        suppress_below=suppress_below,
        labels=labels,
        function=function,
    )


def rate_result(
    frame: pd.DataFrame,
    *,
    gcols: list[str],
    time: str,
    event: str,
    per: float,
    level: float,
    cuts: list[float] | None,
    cause: int | None,
    suppress_below: int | None,
    labels: Labels,
    function: str,
) -> IncidenceRateResult:
    """Rates and their exact intervals from the events and person-time of each group
    (``frame``: the ``gcols``, ``events``, ``person_time``), as the pandas path counts
    them from the rows and the engine path by an aggregate query."""
    frame["events"] = frame["events"].astype(np.int64)
    frame["person_time"] = frame["person_time"].astype(float)
    if (frame["person_time"] <= 0).any():
        if gcols:
            bad = frame.loc[frame["person_time"] <= 0, gcols].to_dict("records")
            where, fix = f"in group(s) {bad}", "Check the time column or drop those groups."
        else:
            where, fix = f"in {time!r}", "Check the time column."
        raise DataError(
            f"{function}(): zero total person-time {where}; a rate needs positive follow-up. {fix}"
        )
    lo, hi = poisson_exact_interval(frame["events"].to_numpy(), conf_level=level)
    scale = float(per) / frame["person_time"].to_numpy()
    frame["rate"] = frame["events"].to_numpy() * scale
    frame["conf_low"] = lo * scale
    frame["conf_high"] = hi * scale
    what = f"{event} = {cause}" if cause is not None else f"{event} events"
    text = (
        f"Rate of {what} per {float(per):,g} units of person-time (time column '{time}'; "
        f"per {float(per):,g} person-years when '{time}' is in years), with "
        f"{level:.0%} exact Poisson (Garwood) confidence interval."
    )
    if cuts is not None:
        text += " Follow-up split into time bands (lo, hi] as Stata stsplit."
    return IncidenceRateResult(
        frame,
        by=gcols,
        method=text,
        conf_level=level,
        per=float(per),
        time=time,
        event=event,
        cause=cause,
        bands=cuts,
        labels=labels,
        suppress_below=suppress_below,
    )


@validate_params(
    {
        "time": [COLUMN],
        "event": [COLUMN],
        "by": [COLUMN],
        "method": [Options("exact", "wald")],
        "conf_level": [CONF_LEVEL],
        "cause": _CAUSE,
    },
    engine="calcstats.describe._engine:rate_ratio",
)
def rate_ratio(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    by: str,
    reference: object = None,
    method: str = "exact",
    conf_level: float = 0.95,
    cause: int | None = None,
    labels: Labels | Mapping[str, str] | None = None,
) -> RateRatioResult:
    """Incidence rate ratios of each level of ``by`` against a reference level.

    Parameters
    ----------
    data : DataFrame
        One row per patient.
    time, event : str
        Person-time and event columns (as in :func:`incidence_rate`).
    by : str
        Grouping column.
    reference : optional
        Reference level (matched by value or by its string form, so ``"1"`` matches 1
        and 1.0);
        default the first level (category order for Categoricals, else sorted).
    method : {"exact", "wald"}
        ``"exact"``: conditional binomial interval and two-sided binomial p-value (R
        ``poisson.test`` two-sample); ``"wald"``: log-scale Wald interval and z-test.
    conf_level : float
        Confidence level.
    cause : int, optional
        The event code counted; required when ``event`` holds codes above 1.
    labels : Labels or dict, optional
        Display labels (kept as ``result.labels``; used by ``to_table()``).

    Returns
    -------
    RateRatioResult
        ``.tidy()`` → ``by``, ``estimate, conf_low, conf_high, p_value``; the reference row
        has estimate 1 and missing interval and p-value. ``.counts()`` gives events and
        person-time per level.

    Examples
    --------
    >>> import pandas as pd, calcstats as cs
    >>> st = pd.DataFrame({"t": [2.0, 3, 1, 4], "d": [1, 0, 1, 1], "g": ["a", "a", "b", "b"]})
    >>> res = cs.rate_ratio(st, time="t", event="d", by="g")
    >>> float(res.tidy()["estimate"][1]), res.reference
    (2.0, 'a')
    """
    data = check_frame(data, func="rate_ratio")
    labels = Labels.coerce(labels)
    level = float(conf_level)
    rates = _incidence_rate(
        data,
        time=time,
        event=event,
        by_cols=[by],
        per=1.0,
        level=level,
        bands=None,
        cause=cause,
        suppress_below=None,
        labels=labels,
        function="rate_ratio",
    )
    return rate_ratio_result(
        rates, by=by, reference=reference, method=method, level=level, labels=labels
    )


def rate_ratio_result(
    rates: IncidenceRateResult,
    *,
    by: str,
    reference: object,
    method: str,
    level: float,
    labels: Labels,
) -> RateRatioResult:
    """Rate ratios against the reference level from the events and person-time of each
    level of ``by`` (``rates``, from the rows or from an engine)."""
    counts = rates.tidy()[[by, "events", "person_time"]]
    levels = list(counts[by])
    if reference is None:
        ref_i = 0
    else:
        matches = [
            i
            for i, v in enumerate(levels)
            if v == reference or str(v) == str(reference) or _level_str(v) == str(reference)
        ]
        if not matches:
            raise DataError(
                f"reference={reference!r} is not a level of {by!r} present in the data; "
                f"levels: {[str(v) for v in levels]}."
            )
        ref_i = matches[0]
    if len(levels) < 2:
        raise DataError(f"rate_ratio needs at least two levels of {by!r}; found only {levels!r}.")
    x0 = float(counts["events"].iloc[ref_i])
    t0 = float(counts["person_time"].iloc[ref_i])
    fun = rate_ratio_exact if method == "exact" else rate_ratio_wald
    rows = []
    for i in range(len(levels)):
        if i == ref_i:
            rows.append((1.0, np.nan, np.nan, np.nan, True))
            continue
        x1 = float(counts["events"].iloc[i])
        t1 = float(counts["person_time"].iloc[i])
        rows.append((*fun(x1, t1, x0, t0, conf_level=level), False))
    est = pd.DataFrame(rows, columns=["estimate", "conf_low", "conf_high", "p_value", "reference"])
    frame = pd.concat([counts.reset_index(drop=True), est], axis=1)
    label = (
        "exact conditional (binomial) interval and p-value"
        if method == "exact"
        else "Wald interval on the log scale and z-test"
    )
    text = (
        f"Incidence rate ratio of {rates.event} by {by} versus {by} = "
        f"{_level_str(levels[ref_i])}, with {level:.0%} {label}."
    )
    ref_level = levels[ref_i]
    if isinstance(ref_level, np.generic):
        ref_level = ref_level.item()
    return RateRatioResult(
        frame,
        by=[by],
        method=text,
        conf_level=level,
        reference=ref_level,
        interval=method,
        time=rates.time,
        event=rates.event,
        cause=rates.cause,
        labels=labels,
    )
