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
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import DataError
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
from calcstats.describe._bands import split_bands
from calcstats.describe._checks import as_list, check_frame, check_no_missing, group_keys
from calcstats.describe._intervals import (
    poisson_exact_interval,
    rate_ratio_exact,
    rate_ratio_wald,
)
from calcstats.describe._standardize import (
    STANDARDIZE,
    check_standardize,
    standardized_rates,
)
from calcstats.labels import Labels
from calcstats.results import EstimateResult

__all__ = [
    "IncidenceRateResult",
    "RateRatioResult",
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
    rate, conf_low, conf_high`` (rate per ``per`` units of person-time; with
    ``standardize`` the directly standardised rate and its Fay–Feuer interval, while
    ``events`` and ``person_time`` stay crude totals). With
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
    standardize : str or None
        The column the rates were directly standardised over (None: crude rates).
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
        standardize: str | None = None,
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
        self.standardize = standardize


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


@validate_params(
    {
        "time": [COLUMN],
        "event": [COLUMN],
        "by": [COLUMNS, NONE],
        "per": [Interval(0, None, closed="neither")],
        "conf_level": [CONF_LEVEL],
        "bands": [NUMBERS, NONE],
        "standardize": [STANDARDIZE],
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
    standardize: Mapping[str, Any] | None = None,
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
    standardize : dict, optional
        Direct standardisation, as in :func:`calcstats.prevalence`:
        ``{"by": "age_group", "weights": {"<50": 0.5, "50-69": 0.3, "70+": 0.2}}`` where
        ``weights`` maps every level of the standardising column to its standard-population
        size or share (normalised to sum 1; weight 0 leaves a level out). Within each
        group (and each band) ``rate`` is then the directly standardised rate
        ``sum_k w_k d_k / T_k × per`` over the strata k (events d_k, person-time T_k),
        with the Fay–Feuer (1997) gamma interval (R ``epitools::ageadjust.direct``; its
        lower limit is 0 when the weighted strata have no events, where R gives NaN);
        ``events`` and ``person_time`` stay crude totals. Every weighted stratum needs
        person-time in every group and band. With ``bands`` the standardising column is
        a per-row value (e.g. age group at entry), not attained age: split the rows by
        attained age first to standardise by it.
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
        ``cause`` that does not occur; a group with no person-time; with ``standardize``,
        a missing value or a level without a weight in the standardising column, or a
        weighted stratum without person-time in a group or band.
    InvalidParameterError
        A ``standardize`` that is not ``{"by": column, "weights": {...}}`` with finite
        weights >= 0 summing to more than 0, or that names a ``by`` column.

    Examples
    --------
    >>> import pandas as pd, calcstats as cs
    >>> st = pd.DataFrame({"time": [1.0, 2.5, 4.0, 0.5], "status": [1, 0, 2, 1]})
    >>> res = cs.incidence_rate(st, time="time", event="status", cause=1, per=100)
    >>> res.tidy()["events"].tolist(), res.per
    ([2], 100.0)

    Directly standardised by age group to a standard population (sizes or shares):

    >>> df = pd.DataFrame({
    ...     "years": [2.0, 3.0, 1.0, 4.0, 2.0, 5.0, 1.5, 2.5],
    ...     "died": [1, 0, 1, 0, 1, 1, 0, 1],
    ...     "sex": ["F", "F", "F", "F", "M", "M", "M", "M"],
    ...     "age_group": ["<60", "<60", "60+", "60+", "<60", "<60", "60+", "60+"],
    ... })
    >>> std = {"by": "age_group", "weights": {"<60": 70000, "60+": 30000}}
    >>> res = cs.incidence_rate(df, time="years", event="died", by="sex", standardize=std)
    >>> res.tidy().round(1)
      sex  events  person_time   rate  conf_low  conf_high
    0   F       2         10.0  200.0      18.9      849.1
    1   M       3         11.0  275.0      55.7      825.4
    >>> res.standardize
    'age_group'
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
        standardize=standardize,
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
    standardize: Mapping[str, Any] | None = None,
) -> IncidenceRateResult:
    """The computation of :func:`incidence_rate` (``function`` names the caller in errors)."""
    keys = group_keys(data, by_cols, func=function)
    std = None
    if standardize is not None:
        std = check_standardize(
            standardize, data.columns, by_cols, bands=bands is not None, function=function
        )
        check_no_missing(data, [std[0]], argument="standardize['by']")
        keys = keys.assign(**{std[0]: data[std[0]]})
    si = survival_input(data, time=time, event=event, cause=cause, function=function)
    t, d = si.time, si.event.astype(np.int64)
    cuts = None
    if bands is not None:
        pt, ev, band_labels, cuts = split_bands(t, d, bands)
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
    acols = [*gcols, std[0]] if std is not None else gcols
    if acols:
        agg = work.groupby(acols, observed=True, sort=True).agg(
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
        standardize=std,
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
    standardize: tuple[str, Mapping[Any, float]] | None = None,
) -> IncidenceRateResult:
    """Rates and their exact intervals from the events and person-time of each group
    (``frame``: the ``gcols``, ``events``, ``person_time``), as the pandas path counts
    them from the rows and the engine path by an aggregate query.

    ``standardize``: (column, normalised weights); ``frame`` then has a row per (group,
    stratum) with the column after the ``gcols``, and the rates are directly
    standardised (:func:`~calcstats.describe._standardize.standardized_rates`)."""
    if standardize is not None:
        std_col: str | None = standardize[0]
        frame = standardized_rates(
            frame,
            gcols=gcols,
            std_col=standardize[0],
            weights=standardize[1],
            per=per,
            level=level,
            function=function,
        )
        how = (
            f", directly standardised by {std_col} to the given standard population, with "
            f"{level:.0%} Fay–Feuer gamma confidence interval."
        )
    else:
        std_col = None
        frame = _crude_rates(frame, gcols=gcols, time=time, per=per, level=level, func=function)
        how = f", with {level:.0%} exact Poisson (Garwood) confidence interval."
    what = f"{event} = {cause}" if cause is not None else f"{event} events"
    text = (
        f"Rate of {what} per {float(per):,g} units of person-time (time column '{time}'; "
        f"per {float(per):,g} person-years when '{time}' is in years){how}"
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
        standardize=std_col,
        labels=labels,
        suppress_below=suppress_below,
    )


def _crude_rates(
    frame: pd.DataFrame, *, gcols: list[str], time: str, per: float, level: float, func: str
) -> pd.DataFrame:
    """Crude rates and exact Poisson intervals of each group of ``frame``."""
    frame["events"] = frame["events"].astype(np.int64)
    frame["person_time"] = frame["person_time"].astype(float)
    if (frame["person_time"] <= 0).any():
        if gcols:
            bad = frame.loc[frame["person_time"] <= 0, gcols].to_dict("records")
            where, fix = f"in group(s) {bad}", "Check the time column or drop those groups."
        else:
            where, fix = f"in {time!r}", "Check the time column."
        raise DataError(
            f"{func}(): zero total person-time {where}; a rate needs positive follow-up. {fix}"
        )
    lo, hi = poisson_exact_interval(frame["events"].to_numpy(), conf_level=level)
    scale = float(per) / frame["person_time"].to_numpy()
    frame["rate"] = frame["events"].to_numpy() * scale
    frame["conf_low"] = lo * scale
    frame["conf_high"] = hi * scale
    return frame


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
