"""Median follow-up by the reverse Kaplan–Meier method (Schemper & Smith 1996).

The median of the observed times understates follow-up when events are common (a
patient who dies early has a short time, but was not lost to follow-up). The reverse
Kaplan–Meier curve estimates the distribution of the potential follow-up instead: being
censored is its "event", and an event (any code above 0, competing events included) ends
follow-up as a censoring. Its median and quartiles, with their confidence limits, are
R's::

    fit <- survfit(Surv(time, status == 0) ~ group)    # 1 - status for a 0/1 column
    quantile(fit, probs = c(0.25, 0.5, 0.75))

(``tests/reference/followup.R``). The curve itself is the Kaplan–Meier fit of
:func:`calcstats.kaplan_meier`, so its intervals follow ``conf_type`` in the same way;
the default here is R's ``"log"``, which is what R prints for the reverse curve.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import CalcstatsError
from calcstats._format import format_number
from calcstats._survival_input import survival_input
from calcstats._validation import COLUMN, COLUMNS, CONF_LEVEL, NONE, Options, validate_params
from calcstats.labels import Labels
from calcstats.results import CONF_TYPES, EstimateResult, KaplanMeierResult
from calcstats.survival._km import _fit

__all__ = ["FollowUpResult", "median_followup"]


def _quantile_rule(y: np.ndarray, x: np.ndarray, level: float) -> float:
    """First ``x`` where the curve ``y`` is at or below ``level``; where ``y`` equals
    ``level`` over an interval, the midpoint of that interval (R's quantile.survfit)."""
    tol = np.sqrt(np.finfo(float).eps)
    keep = ~np.isnan(y) & (y < level + tol)
    if not keep.any():
        return float("nan")
    xs, ys = x[keep], y[keep]
    if abs(ys[0] - level) < tol and np.any(ys < ys[0]):
        return float((xs[0] + xs[np.flatnonzero(ys < ys[0])[0]]) / 2)
    return float(xs[0])


class FollowUpResult(EstimateResult):
    """Median follow-up by the reverse Kaplan–Meier method (:func:`median_followup`).

    ``tidy()`` has the ``by`` columns, then ``n, n_censored, estimate, conf_low,
    conf_high, q1, q3``: patients, patients censored (the reverse curve's events), the
    median follow-up with its confidence limits, and the first and third quartiles.

    Attributes
    ----------
    curve : KaplanMeierResult
        The reverse Kaplan–Meier curve (its "events" are the censorings).
    time_column, event_column : str
    conf_type : str
        Transform of the pointwise intervals the limits are read from.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        curve: KaplanMeierResult,
        time_column: str,
        event_column: str,
        conf_type: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(frame, **kwargs)
        self.curve = curve
        self.time_column = time_column
        self.event_column = event_column
        self.conf_type = conf_type

    def inline(
        self,
        *,
        group: Mapping[str, Any] | None = None,
        digits: int = 1,
        labels: Labels | Mapping[str, str] | None = None,
    ) -> str:
        """The fragment a results section prints, e.g. ``"6.5 years (95% CI 6.1–7.0)"``;
        a limit the curve never reaches reads "not reached".

        Parameters
        ----------
        group : dict, optional
            The group, as ``{by column: value}`` (required with several groups).
        digits : int
            Decimals.
        labels : Labels or dict, optional
            Labels giving the time unit (``Labels.cohort()``: years); without a unit the
            fragment is the number alone.
        """
        tidy = self.tidy()
        if self.by:
            if not group:
                raise CalcstatsError(
                    f"inline(): this result has {len(tidy)} groups; say which with "
                    f"group={{{self.by[0]!r}: ...}}."
                )
            mask = np.ones(len(tidy), dtype=bool)
            for col, val in group.items():
                if col not in self.by:
                    raise CalcstatsError(f"inline(): {col!r} is not a grouping column ({self.by}).")
                mask &= (tidy[col] == val).to_numpy()
            if not mask.any():
                raise CalcstatsError(f"inline(): no group {dict(group)}.")
            tidy = tidy.loc[mask]
        row = tidy.iloc[0]
        lab = Labels.default() | self.labels | Labels.coerce(labels)
        unit = lab.unit(self.time_column)

        def f(v: float) -> str:
            if not np.isfinite(v):
                return "not reached"
            return format_number(v, digits=digits, big_mark=",")

        est = f(row["estimate"]) + (f" {unit}" if unit and np.isfinite(row["estimate"]) else "")
        return f"{est} ({self.conf_level:.0%} CI {f(row['conf_low'])}–{f(row['conf_high'])})"


@validate_params(
    {
        "time": [COLUMN],
        "event": [COLUMN],
        "by": [COLUMNS, NONE],
        "conf_type": [Options(*CONF_TYPES)],
        "conf_level": [CONF_LEVEL],
    }
)
def median_followup(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    by: str | Sequence[str] | None = None,
    conf_type: str = "log",
    conf_level: float = 0.95,
    labels: Labels | Mapping[str, str] | None = None,
) -> FollowUpResult:
    """Median follow-up with its confidence interval, by the reverse Kaplan–Meier method.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient (e.g. ``cohort.survival_table(...)``).
    time : str
        Column of follow-up times.
    event : str
        Column of 0/1 (or bool) events, or codes 0 = censored, 1, 2, ... = events
        (competing events included): every event ends follow-up, every 0 is a patient
        still followed when the data stop.
    by : str or list of str, optional
        Grouping column(s); one median per group.
    conf_type : {"log", "log-log", "plain"}, default "log"
        Transform of the pointwise intervals of the reverse curve (R's default "log").
    conf_level : float, default 0.95
    labels : Labels or dict, optional
        Labels the result keeps for its table and inline text (e.g. ``Labels.cohort()``:
        time in years).

    Returns
    -------
    FollowUpResult
        ``tidy()`` (median, limits, quartiles per group), ``to_table()``, ``inline()``
        and the reverse curve (``curve``).

    Examples
    --------
    >>> import calcstats as cs
    >>> pbc = cs.datasets.load_pbc()
    >>> fu = cs.median_followup(pbc, time="time", event="status")
    >>> fu.tidy()[["n", "n_censored", "estimate", "conf_low", "conf_high", "q1", "q3"]]
         n  n_censored  estimate  conf_low  conf_high      q1      q3
    0  418         232    2555.0    2338.0     2666.0  1680.0  3495.0
    >>> fu.inline(labels=cs.Labels(units={"time": "days"}), digits=0)
    '2,555 days (95% CI 2,338–2,666)'
    """
    si = survival_input(
        data, time=time, event=event, by=by, function="median_followup", competing=True
    )
    censored = (si.codes == 0).astype(float)
    if not censored.any():
        raise CalcstatsError(
            f"median_followup(): every patient in {event!r} has an event, so no one was "
            "followed to the end of the data and the reverse Kaplan–Meier curve is not "
            "defined. Report the median observed time instead."
        )
    reverse = dataclasses.replace(si, event=censored, cause=None)
    curve = _fit(
        reverse, conf_type=conf_type, conf_level=float(conf_level), labels=Labels.coerce(labels)
    )
    tidy = curve.tidy()
    assert curve.n is not None and curve.n_events is not None  # a Kaplan–Meier curve has both
    rows = []
    for i in range(len(curve.groups)):
        part = tidy
        if curve.by:
            mask = np.ones(len(tidy), dtype=bool)
            for col in curve.by:
                mask &= (tidy[col] == curve.groups.iloc[i][col]).to_numpy()
            part = tidy.loc[mask]
        t = part["time"].to_numpy(dtype=float)
        s = part["estimate"].to_numpy(dtype=float)
        rows.append(
            {
                "n": int(curve.n[i]),
                "n_censored": round(float(curve.n_events[i])),
                "estimate": _quantile_rule(s, t, 0.5),
                "conf_low": _quantile_rule(part["conf_low"].to_numpy(dtype=float), t, 0.5),
                "conf_high": _quantile_rule(part["conf_high"].to_numpy(dtype=float), t, 0.5),
                "q1": _quantile_rule(s, t, 0.75),
                "q3": _quantile_rule(s, t, 0.25),
            }
        )
    frame = pd.concat([curve.groups.reset_index(drop=True), pd.DataFrame(rows)], axis=1)
    what = {"log": "log", "log-log": "log-log", "plain": "plain"}[conf_type]
    return FollowUpResult(
        frame,
        by=curve.by,
        method=(
            "Median follow-up by the reverse Kaplan–Meier method (censoring as the event, "
            f"events as censored), {conf_level:.0%} confidence interval on the {what} scale"
        ),
        conf_level=float(conf_level),
        labels=labels,
        curve=curve,
        time_column=time,
        event_column=event,
        conf_type=conf_type,
    )
