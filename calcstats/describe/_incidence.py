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

from collections.abc import Sequence

import numpy as np
import pandas as pd

from calcstats._errors import CalcstatsError, DataError
from calcstats.describe._checks import (
    as_list,
    check_columns,
    check_frame,
    check_time,
    event_indicator,
)
from calcstats.describe._intervals import (
    poisson_exact_interval,
    rate_ratio_exact,
    rate_ratio_wald,
)
from calcstats.describe._result import (
    DescriptiveResult,
    check_suppress,
    group_keys,
    suppress_rows,
)
from calcstats.results import check_conf_level

__all__ = ["IncidenceRateResult", "RateRatioResult", "incidence_rate", "rate_ratio"]


def _level_str(x: object) -> str:
    if isinstance(x, (float, np.floating)) and np.isfinite(x) and float(x).is_integer():
        return str(int(x))
    return str(x)


def _fmt_ci(est: float, low: float, high: float, digits: int) -> str:
    from calcstats.tables import format_ci

    return format_ci(est, low, high, digits=digits)


class IncidenceRateResult(DescriptiveResult):
    """Incidence rates: ``tidy()`` columns are the ``by`` columns (and ``band``), then
    ``events, person_time, rate, conf_low, conf_high`` (rate per ``per`` person-time).

    With ``suppress_below`` the table hides event counts 1..k−1 and the rates of those
    rows (primary suppression: no event totals are printed).
    """

    title = "Incidence rates"

    def _suppress(self, body: pd.DataFrame, frame: pd.DataFrame, k: int):
        return suppress_rows(body, frame[["events"]].to_numpy(), ["Events"], k,
                             n_label_columns=max(1, len(self.by)))

    def _display(self, frame: pd.DataFrame, *, digits: int) -> pd.DataFrame:
        body = self._label_frame(frame)
        per = self.extra["per"]
        body["Events"] = frame["events"].map(lambda v: f"{v:,.0f}")
        body["Person-time"] = frame["person_time"].map(lambda v: f"{v:,.1f}")
        body[f"Rate per {per:,g} ({self.conf_level * 100:g}% CI)"] = [
            _fmt_ci(e, a, b, digits)
            for e, a, b in zip(frame["rate"], frame["conf_low"], frame["conf_high"], strict=True)
        ]
        return body


class RateRatioResult(DescriptiveResult):
    """Rate ratios against a reference level: ``tidy()`` columns are the ``by`` column,
    then ``estimate, conf_low, conf_high, p_value`` (the reference row has estimate 1)."""

    title = "Rate ratios"

    def tidy(self) -> pd.DataFrame:
        return self._frame[[*self.by, "estimate", "conf_low", "conf_high", "p_value"]].copy()

    def counts(self) -> pd.DataFrame:
        """Events and person-time of each level (the inputs of the ratios)."""
        return self._frame[[*self.by, "events", "person_time"]].copy()

    def _display(self, frame: pd.DataFrame, *, digits: int) -> pd.DataFrame:
        from calcstats.tables import format_p

        full = self._frame
        body = self._label_frame(full)
        body["Events"] = full["events"].map(lambda v: f"{v:,.0f}")
        body["Person-time"] = full["person_time"].map(lambda v: f"{v:,.1f}")
        col = f"Rate ratio ({self.conf_level * 100:g}% CI)"
        body[col] = [
            "1 (reference)" if ref else _fmt_ci(e, a, b, digits)
            for ref, e, a, b in zip(
                full["reference"], full["estimate"], full["conf_low"], full["conf_high"],
                strict=True,
            )
        ]
        body["p-value"] = ["" if ref else format_p(p) for ref, p in
                           zip(full["reference"], full["p_value"], strict=True)]
        return body

    def to_table(self, *, title: str | None = None, digits: int = 2):
        """Publication Table with events, person-time, rate ratio (CI) and p-value."""
        from calcstats.tables import Table

        body = self._display(self._frame, digits=digits)
        return Table(body, title=title or self.title, footnotes=[self.method], raw=self.tidy())


def _split_bands(
    t: np.ndarray, d: np.ndarray, bands: Sequence[float]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Person-time and events per band (Stata ``stsplit``): arrays shaped (n, n_bands)."""
    try:
        cuts = np.asarray(sorted(set(float(b) for b in bands)), dtype=float)
    except (TypeError, ValueError):
        raise CalcstatsError(f"bands must be a list of numbers, got {bands!r}.") from None
    if cuts.size == 0 or (cuts < 0).any() or not np.isfinite(cuts).all():
        raise CalcstatsError(f"bands must be finite, non-negative cut points, got {bands!r}.")
    if cuts[0] > 0:
        cuts = np.concatenate([[0.0], cuts])
    edges = np.concatenate([cuts, [np.inf]])
    lo, hi = edges[:-1], edges[1:]
    pt = np.clip(t[:, None], lo, hi) - lo
    inband = (t[:, None] > lo) & (t[:, None] <= hi)
    inband[:, 0] |= t == 0
    ev = inband & (d[:, None] == 1)
    labels = [f"{a:g}–{b:g}" if np.isfinite(b) else f"≥{a:g}" for a, b in zip(lo, hi, strict=True)]
    return pt, ev.astype(np.int64), labels


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
        With event codes, the code counted as the event (default 1 when codes above 1
        occur); other codes count as censored.
    suppress_below : int, optional
        In ``to_table()``, hide event counts 1..k−1 and their rates (primary suppression).

    Returns
    -------
    IncidenceRateResult
        ``.tidy()`` → by columns, [band], ``events, person_time, rate, conf_low, conf_high``.

    Examples
    --------
    >>> import pandas as pd, calcstats as cs
    >>> st = pd.DataFrame({"time": [1.0, 2.5, 4.0, 0.5], "status": [1, 0, 2, 1]})
    >>> cs.incidence_rate(st, time="time", event="status", cause=1, per=100).tidy()["events"]
    0    2
    Name: events, dtype: int64
    """
    data = check_frame(data, func="incidence_rate")
    level = check_conf_level(conf_level)
    check_suppress(suppress_below)
    if not np.isscalar(per) or not float(per) > 0:
        raise CalcstatsError(f"per must be a positive number (e.g. 1000), got {per!r}.")
    check_columns(data, [time], argument="time")
    check_columns(data, [event], argument="event")
    by_cols = as_list(by)
    keys = group_keys(data, by_cols)
    t = check_time(data, time)
    d, used_cause = event_indicator(data, event, cause=cause)
    if bands is not None:
        pt, ev, labels = _split_bands(t, d, bands)
        parts = []
        for j, lab in enumerate(labels):
            part = keys.assign(band=lab, _t=pt[:, j], _d=ev[:, j])
            parts.append(part[pt[:, j] > 0])
        work = pd.concat(parts, ignore_index=True)
        work["band"] = pd.Categorical(work["band"], categories=labels, ordered=True)
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
    frame["events"] = frame["events"].astype(np.int64)
    if (frame["person_time"] <= 0).any():
        if gcols:
            bad = frame.loc[frame["person_time"] <= 0, gcols].to_dict("records")
            where, fix = f"in group(s) {bad}", "Check the time column or drop those groups."
        else:
            where, fix = f"in {time!r}", "Check the time column."
        raise DataError(
            f"incidence_rate: zero total person-time {where}; a rate needs positive "
            f"follow-up. {fix}"
        )
    lo, hi = poisson_exact_interval(frame["events"].to_numpy(), conf_level=level)
    scale = float(per) / frame["person_time"].to_numpy()
    frame["rate"] = frame["events"].to_numpy() * scale
    frame["conf_low"] = lo * scale
    frame["conf_high"] = hi * scale
    what = f"{event} = {used_cause}" if used_cause is not None else f"{event} events"
    text = (
        f"Rate of {what} per {float(per):,g} units of person-time (time column '{time}'; "
        f"per {float(per):,g} person-years when '{time}' is in years), with "
        f"{level:.0%} exact Poisson (Garwood) confidence interval."
    )
    if bands is not None:
        text += " Follow-up split into time bands (lo, hi] as Stata stsplit."
    res = IncidenceRateResult(
        frame, by=gcols, method=text, conf_level=level, suppress_below=suppress_below,
        extra={"per": float(per), "cause": used_cause},
    )
    return res


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
        Event code counted as the event when ``event`` holds codes (default 1).

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
    >>> float(cs.rate_ratio(st, time="t", event="d", by="g").tidy()["estimate"][1])
    2.0
    """
    data = check_frame(data, func="rate_ratio")
    level = check_conf_level(conf_level)
    if method not in ("exact", "wald"):
        raise CalcstatsError(f"method={method!r} is not supported; use 'exact' or 'wald'.")
    if not isinstance(by, str):
        raise CalcstatsError(f"rate_ratio takes one `by` column (a string), got {by!r}.")
    rates = incidence_rate(data, time=time, event=event, by=by, cause=cause, conf_level=level)
    counts = rates.tidy()[[by, "events", "person_time"]]
    levels = list(counts[by])
    if reference is None:
        ref_i = 0
    else:
        matches = [i for i, v in enumerate(levels)
                   if v == reference or str(v) == str(reference)
                   or _level_str(v) == str(reference)]
        if not matches:
            raise DataError(
                f"reference={reference!r} is not a level of {by!r} present in the data; "
                f"levels: {[str(v) for v in levels]}."
            )
        ref_i = matches[0]
    if len(levels) < 2:
        raise DataError(
            f"rate_ratio needs at least two levels of {by!r}; found only {levels!r}."
        )
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
    est = pd.DataFrame(rows, columns=["estimate", "conf_low", "conf_high", "p_value",
                                      "reference"])
    frame = pd.concat([counts.reset_index(drop=True), est], axis=1)
    label = (
        "exact conditional (binomial) interval and p-value" if method == "exact"
        else "Wald interval on the log scale and z-test"
    )
    text = (
        f"Incidence rate ratio of {event} by {by} versus {by} = {levels[ref_i]}, with "
        f"{level:.0%} {label}."
    )
    return RateRatioResult(
        frame, by=[by], method=text, conf_level=level,
        extra={"reference": levels[ref_i], "method": method},
    )
