"""Step curves over time: Kaplan–Meier, cumulative incidence, adjusted and other curves.

A :class:`CurveResult` holds one right-continuous step function per group (one row per
distinct observed time, as R's ``survfit``) and answers the usual questions: the whole
curve (``tidy``), its value at given times (``at``), the median with its confidence
interval (``median``), the numbers at risk under a plot (``risk_table``) and the sentence
fragment of a results section (``inline``). Subclasses say what the curve is
(:class:`KaplanMeierResult` starts at 1 and falls, :class:`CumulativeIncidenceResult`
starts at 0 and rises, :class:`AdjustedCurvesResult` is model-based and has no numbers at
risk); plotting code dispatches on the class and never recomputes anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from calcstats._errors import CalcstatsError, DataError, InvalidParameterError
from calcstats._format import format_number
from calcstats.labels import Labels
from calcstats.results._base import Result

__all__ = [
    "CONF_TYPES",
    "CURVE_COLUMNS",
    "AdjustedCurvesResult",
    "CumulativeIncidenceResult",
    "CurveResult",
    "KaplanMeierResult",
    "confint",
]

CURVE_COLUMNS = [
    "time",
    "n_risk",
    "n_event",
    "n_censor",
    "estimate",
    "std_error",
    "conf_low",
    "conf_high",
]
COUNT_COLUMNS = ("n_risk", "n_event", "n_censor")
CONF_TYPES = ("log-log", "log", "plain")


def confint(
    p: np.ndarray, se: np.ndarray, *, logse: bool, conf_type: str, conf_level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise confidence limits as R's ``survfit`` (``survfit_confint``).

    ``se`` is the standard error of ``log(p)`` when ``logse`` is true (Kaplan–Meier,
    Greenwood) and of ``p`` otherwise (Aalen–Johansen). Where the transform is undefined
    (``p`` of 0, or 1 for log-log) the limits are NaN, as in R.
    """
    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    p = np.asarray(p, dtype=float)
    se = np.asarray(se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if not logse:
            se = np.where(se == 0, 0.0, se / p)
        if conf_type == "plain":
            half = z * se * p
            return np.maximum(p - half, 0.0), np.minimum(p + half, 1.0)
        if conf_type == "log":
            xx = np.where(p == 0, np.nan, p)
            return np.exp(np.log(xx) - z * se), np.minimum(np.exp(np.log(xx) + z * se), 1.0)
        xx = np.where((p == 0) | (p == 1), np.nan, p)
        half = z * se / np.log(xx)
        lll = np.log(-np.log(xx))
        return np.exp(-np.exp(lll - half)), np.exp(-np.exp(lll + half))


def _median_rule(y: np.ndarray, x: np.ndarray) -> float:
    """First ``x`` where ``y <= 0.5``; R's rule averages when ``y`` is 0.5 over an interval."""
    tol = np.sqrt(np.finfo(float).eps)
    keep = ~np.isnan(y) & (y < 0.5 + tol)
    if not keep.any():
        return float("nan")
    xs, ys = x[keep], y[keep]
    if abs(ys[0] - 0.5) < tol and np.any(ys < ys[0]):
        return float((xs[0] + xs[np.flatnonzero(ys < ys[0])[0]]) / 2)
    return float(xs[0])


def _sorted_times(times: float | Sequence[float] | np.ndarray, function: str) -> np.ndarray:
    """Distinct requested times, sorted; an :class:`InvalidParameterError` otherwise."""
    try:
        arr = np.atleast_1d(np.asarray(times, dtype=float))
    except (TypeError, ValueError):
        arr = np.array([np.nan])
    if arr.ndim != 1 or arr.size == 0 or not np.isfinite(arr).all() or (arr < 0).any():
        raise InvalidParameterError(
            f"The 'times' parameter of {function} must be a number or a list of finite "
            f"numbers >= 0. Got {times!r}."
        )
    return np.unique(arr)


def _step_values(
    values: np.ndarray, idx: np.ndarray, start: float, beyond: np.ndarray
) -> np.ndarray:
    """A step function's values at positions ``idx`` (-1: before the first time)."""
    if values.size == 0:
        return np.full(idx.shape, np.nan)
    out = np.where(idx < 0, start, values[np.clip(idx, 0, None)])
    return np.where(beyond, np.nan, out)


class CurveResult(Result):
    """Step curves over time, one per group.

    Attributes
    ----------
    by : list of str
        Grouping columns (empty for a single curve).
    groups : pandas.DataFrame
        One row per group with the ``by`` values, in curve order.
    conf_type, conf_level : str, float
        How the pointwise intervals were computed.
    n : numpy.ndarray or None
        Per group: the rows analysed (rows with a positive weight; zero-weight rows are
        set aside and counted in ``n_zero_weight``). None for model-based curves.
    n_events : numpy.ndarray or None
        Per group: the events (their weight sum with case weights, as R's ``survfit``).
    n_zero_weight : int
        Rows set aside because their case weight is zero.
    weighted : bool
        Whether case weights were used (then ``n_risk``, ``n_event`` and ``n_censor`` are
        weight sums, as R's ``survfit``; ``risk_table(unweighted=True)`` gives the
        numbers of rows).
    time_column, event_column : str
        Names of the input columns (axis labels via ``labels.time(time_column)``).
    labels : Labels
        The ``labels=`` of the estimator.
    start_value : float
        Value of the curve at time 0 (class attribute).
    increasing : bool
        Whether the curve rises from ``start_value`` (class attribute).
    measure : str
        What the estimate is, in words (class attribute; axis labels).
    has_counts : bool
        Whether numbers at risk exist (model-based curves have none).
    """

    start_value: float = 1.0
    increasing: bool = False
    measure: str = "Estimate"
    has_counts: bool = True

    def __init__(
        self,
        curve: pd.DataFrame,
        *,
        groups: pd.DataFrame,
        by: list[str],
        conf_type: str,
        conf_level: float,
        n: np.ndarray | None,
        n_events: np.ndarray | None,
        time_column: str,
        event_column: str,
        method: str = "",
        labels: Labels | Mapping[str, str] | None = None,
        weighted: bool = False,
        n_zero_weight: int = 0,
        unweighted: pd.DataFrame | None = None,
    ) -> None:
        self._curve = curve.reset_index(drop=True)
        self._columns = [c for c in CURVE_COLUMNS if self.has_counts or c not in COUNT_COLUMNS]
        self.groups = groups.reset_index(drop=True)
        self.by = list(by)
        self.conf_type = conf_type
        self.conf_level = conf_level
        self.n = None if n is None else np.asarray(n, dtype=float)
        self.n_events = None if n_events is None else np.asarray(n_events, dtype=float)
        self.n_zero_weight = int(n_zero_weight)
        self.time_column = time_column
        self.event_column = event_column
        self.method = method
        self.labels = Labels.coerce(labels)
        self.weighted = weighted
        # numbers of rows (n_risk, n_event, n_censor) aligned with ``curve``, when weighted
        self._unweighted = None if unweighted is None else unweighted.reset_index(drop=True)
        self._slices = []
        g = self._curve["_group"].to_numpy()
        bounds = np.searchsorted(g, np.arange(len(self.groups) + 1))
        for i in range(len(self.groups)):
            self._slices.append(slice(int(bounds[i]), int(bounds[i + 1])))

    # ---- helpers ---------------------------------------------------------------------
    def _with_groups(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Replace the internal ``_group`` index by one column per ``by`` variable."""
        gi = frame["_group"].to_numpy()
        out = frame.drop(columns="_group")
        if self.by:
            labels = self.groups.iloc[gi].reset_index(drop=True)
            out = pd.concat([labels, out.reset_index(drop=True)], axis=1)
        return out.reset_index(drop=True)

    def _arrays(self, i: int) -> dict[str, np.ndarray]:
        part = self._curve.iloc[self._slices[i]]
        return {c: part[c].to_numpy(dtype=float) for c in self._columns}

    def _no_counts(self, what: str) -> CalcstatsError:
        return CalcstatsError(
            f"{type(self).__name__} has no numbers at risk (the curves are model-based), so "
            f"{what} is not defined; draw it without a risk table."
        )

    # ---- public ------------------------------------------------------------------------
    def tidy(self) -> pd.DataFrame:
        """The whole curve: one row per group and distinct time.

        Columns: one per ``by`` variable, then ``time, n_risk, n_event, n_censor,
        estimate, std_error, conf_low, conf_high`` (model-based curves have no
        ``n_risk, n_event, n_censor``). ``std_error`` is on the probability scale (as R's
        ``summary.survfit``). Times with censoring only are included, as in R; the
        starting point (time 0, ``start_value``) is not, unless the curve was evaluated
        there.
        """
        return self._with_groups(self._curve[["_group", *self._columns]])

    def at(self, times: float | Sequence[float] | np.ndarray) -> pd.DataFrame:
        """The curve at given times (right-continuous step function), as ``summary(fit, times=)``.

        ``n_risk`` is the number at risk at each time; ``n_event`` and ``n_censor`` count
        what happened after the previous requested time up to and including this one.
        Beyond a group's last follow-up time the estimate is NaN (R leaves such rows out).
        """
        tq = _sorted_times(times, "at")
        frames = []
        for i in range(len(self.groups)):
            a = self._arrays(i)
            t = a["time"]
            idx = np.searchsorted(t, tq, side="right") - 1
            beyond = tq > (t[-1] if t.size else -np.inf)
            part: dict[str, Any] = {"_group": i, "time": tq}
            if self.has_counts:
                first = np.searchsorted(t, tq, side="left")
                upto = idx + 1
                cum_ev = np.concatenate([[0.0], np.cumsum(a["n_event"])])
                cum_ce = np.concatenate([[0.0], np.cumsum(a["n_censor"])])
                part["n_risk"] = np.append(a["n_risk"], 0.0)[first]
                part["n_event"] = np.diff(np.concatenate([[0.0], cum_ev[upto]]))
                part["n_censor"] = np.diff(np.concatenate([[0.0], cum_ce[upto]]))
            for col, start in (
                ("estimate", self.start_value),
                ("std_error", 0.0),
                ("conf_low", self.start_value),
                ("conf_high", self.start_value),
            ):
                part[col] = _step_values(a[col], idx, start, beyond)
            frames.append(pd.DataFrame(part))
        return self._with_groups(pd.concat(frames, ignore_index=True))

    def median(self) -> pd.DataFrame:
        """Median time with its confidence interval, per group, as R's ``print.survfit``.

        The median is the first time the survival curve is at or below 0.5 (R's rule:
        when it equals 0.5 exactly over an interval, the midpoint of that interval); the
        limits are the times where the lower and upper confidence curves cross 0.5. For
        a cumulative incidence curve the same rule is applied to ``1 - estimate`` (the
        first time the incidence reaches 0.5). NaN where a curve never gets there.

        Returns
        -------
        pandas.DataFrame
            One column per ``by`` variable, then ``n, n_event, median, conf_low,
            conf_high`` (model-based curves: ``median, conf_low, conf_high``).
        """
        rows = []
        for i in range(len(self.groups)):
            a = self._arrays(i)
            t = a["time"]
            if not self.increasing:
                s, lo, hi = a["estimate"], a["conf_low"], a["conf_high"]
            else:
                s, lo, hi = 1 - a["estimate"], 1 - a["conf_high"], 1 - a["conf_low"]
            row: dict[str, float] = {"_group": i}
            if self.has_counts and self.n is not None and self.n_events is not None:
                row["n"] = self.n[i]
                row["n_event"] = self.n_events[i]
            row["median"] = _median_rule(s, t)
            row["conf_low"] = _median_rule(lo, t)
            row["conf_high"] = _median_rule(hi, t)
            rows.append(row)
        return self._with_groups(pd.DataFrame(rows))

    def risk_table(
        self,
        times: float | Sequence[float] | np.ndarray | None = None,
        *,
        unweighted: bool = False,
    ) -> pd.DataFrame:
        """Numbers at risk and cumulative events/censorings at given times (under a plot).

        Parameters
        ----------
        times : array-like, optional
            Time points (e.g. the x-axis ticks). Default: six equally spaced points
            from 0 to the largest observed time.
        unweighted : bool, default False
            With case weights, count rows (patients) instead of summing weights: the
            actual numbers at risk and events a figure prints under weighted curves.
            Without weights the two are the same.

        Returns
        -------
        pandas.DataFrame
            One column per ``by`` variable, then ``time, n_risk, n_event, n_censor`` where
            ``n_event`` and ``n_censor`` are cumulative up to and including ``time``.
        """
        if not self.has_counts:
            raise self._no_counts("a risk table")
        if times is None:
            tmax = float(self._curve["time"].max()) if len(self._curve) else 0.0
            times = np.linspace(0.0, tmax, 6)
        tq = _sorted_times(times, "risk_table")
        if unweighted and self.weighted and self._unweighted is None:
            raise CalcstatsError(
                f"This {type(self).__name__} was made with case weights but without the "
                "numbers of rows; re-estimate it with calcstats' estimator to get "
                "risk_table(unweighted=True)."
            )
        frames = []
        for i in range(len(self.groups)):
            a = self._arrays(i)
            if unweighted and self.weighted and self._unweighted is not None:
                part = self._unweighted.iloc[self._slices[i]]
                a = {**a, **{c: part[c].to_numpy(dtype=float) for c in COUNT_COLUMNS}}
            t = a["time"]
            first = np.searchsorted(t, tq, side="left")
            upto = np.searchsorted(t, tq, side="right")
            frames.append(
                pd.DataFrame(
                    {
                        "_group": i,
                        "time": tq,
                        "n_risk": np.append(a["n_risk"], 0.0)[first],
                        "n_event": np.concatenate([[0.0], np.cumsum(a["n_event"])])[upto],
                        "n_censor": np.concatenate([[0.0], np.cumsum(a["n_censor"])])[upto],
                    }
                )
            )
        return self._with_groups(pd.concat(frames, ignore_index=True))

    # ---- display -----------------------------------------------------------------------
    def _summary(self) -> pd.DataFrame:
        med = self.median()
        last = self._curve.groupby("_group", sort=True).tail(1)
        med["final_estimate"] = last["estimate"].to_numpy()
        return med

    def _title(self) -> str:
        return (
            f"{self.measure}: {len(self.groups)} curve(s), {self.conf_level:.0%} CI "
            f"({self.conf_type})"
        )

    def inline(
        self,
        time: float,
        *,
        group: dict[str, Any] | None = None,
        digits: int = 1,
        percent: bool = True,
    ) -> str:
        """The fragment a results section prints at one time, e.g. ``"12.3% (95% CI
        9.8–15.1%)"`` (or a proportion with ``percent=False``).

        Parameters
        ----------
        time : float
            The time point.
        group : dict, optional
            The group, as ``{by column: value}`` (required with several curves).
        """
        at = self.at([time])
        if self.by:
            if not group:
                raise CalcstatsError(
                    f"inline(): this result has {len(self.groups)} curves; say which with "
                    f"group={{{self.by[0]!r}: ...}}."
                )
            mask = np.ones(len(at), dtype=bool)
            for col, val in group.items():
                if col not in self.by:
                    raise CalcstatsError(f"inline(): {col!r} is not a grouping column ({self.by}).")
                mask &= (at[col] == val).to_numpy()
            if not mask.any():
                raise CalcstatsError(f"inline(): no curve for group {group}.")
            at = at.loc[mask]
        row = at.iloc[0]
        scale, unit = (100.0, "%") if percent else (1.0, "")
        d = digits if percent else max(digits, 2)

        def f(v: float, sign: str = unit) -> str:
            return "—" if not np.isfinite(v) else format_number(scale * v, digits=d) + sign

        # the unit once after the interval: "87.1% (95% CI 83.1–90.2%)"
        return (
            f"{f(row['estimate'])} ({self.conf_level * 100:g}% CI "
            f"{f(row['conf_low'], '')}–{f(row['conf_high'])})"
        )

    def __repr__(self) -> str:
        body = self._summary().to_string(index=False, float_format=lambda v: f"{v:.4g}")
        return f"{self._title()}\n{body}"

    def _repr_html_(self) -> str:
        return f"<p><b>{self._title()}</b></p>" + self._summary().to_html(
            index=False, float_format=lambda v: f"{v:.4g}"
        )


class KaplanMeierResult(CurveResult):
    """Kaplan–Meier survival curves (:func:`calcstats.kaplan_meier`): start at 1, fall.

    Attributes
    ----------
    cause : int or None
        The event code counted as the event (others censored), or None for a 0/1 event.
    """

    start_value = 1.0
    increasing = False
    measure = "Survival probability"

    def __init__(self, curve: pd.DataFrame, *, cause: int | None = None, **kwargs: Any) -> None:
        super().__init__(curve, **kwargs)
        self.cause = cause

    def _title(self) -> str:
        what = "Kaplan–Meier survival" + ("" if self.cause is None else f" (cause {self.cause})")
        return f"{what}: {len(self.groups)} curve(s), {self.conf_level:.0%} CI ({self.conf_type})"


class CumulativeIncidenceResult(CurveResult):
    """Aalen–Johansen cumulative incidence of one cause in the presence of competing
    causes (:func:`calcstats.cumulative_incidence`): start at 0, rise.

    Attributes
    ----------
    cause : int
        The event code of the curve.
    """

    start_value = 0.0
    increasing = True
    measure = "Cumulative incidence"

    def __init__(
        self, curve: pd.DataFrame, *, cause: int, states: pd.DataFrame | None = None, **kwargs: Any
    ) -> None:
        super().__init__(curve, **kwargs)
        self.cause = cause
        self._states = states

    def _title(self) -> str:
        return (
            f"Cumulative incidence of cause {self.cause}: {len(self.groups)} curve(s), "
            f"{self.conf_level:.0%} CI ({self.conf_type})"
        )

    def state_probabilities(self) -> pd.DataFrame:
        """All state probabilities of a cumulative incidence fit (long format).

        One column per ``by`` variable, then ``time, state, estimate, std_error`` with
        states ``"event_free"`` (overall survival) and ``"cause_<k>"`` for every event
        code; at every time they sum to 1.
        """
        if self._states is None:
            raise DataError(
                "this cumulative incidence result was made without the state probabilities."
            )
        return self._with_groups(self._states)


class AdjustedCurvesResult(CurveResult):
    """Standardised (marginal) curves of a Cox or Fine–Gray model
    (:func:`calcstats.adjusted_curves`): one curve per value of the exposure, averaged
    over the population standardised.

    They are model-based, so there are no numbers at risk (``has_counts`` is False):
    ``tidy()`` has ``<variable>, time, estimate, std_error, conf_low, conf_high``, and
    ``risk_table()`` is refused. What they estimate sets their direction: survival
    (Cox; starts at 1 and falls) or cumulative incidence (Fine–Gray; starts at 0 and
    rises).

    Attributes
    ----------
    estimand : {"survival", "cumulative incidence"}
    variable : str
        The exposure set to each of ``values`` for everyone.
    values : list
        The values of ``variable``, in curve order (``groups[variable]``).
    n_standardised : int
        Rows of the population standardised over.
    n_boot : int or None
        Bootstrap resamples behind the intervals (Fine–Gray), None for delta-method
        intervals (Cox).
    """

    has_counts = False

    def __init__(
        self,
        curve: pd.DataFrame,
        *,
        estimand: str,
        variable: str,
        n_standardised: int,
        n_boot: int | None = None,
        **kwargs: Any,
    ) -> None:
        if estimand not in ("survival", "cumulative incidence"):
            raise ValueError(f"unknown estimand {estimand!r}")
        super().__init__(curve, n=None, n_events=None, **kwargs)
        self.estimand = estimand
        self.start_value = 1.0 if estimand == "survival" else 0.0
        self.increasing = estimand != "survival"
        self.measure = "Survival probability" if estimand == "survival" else "Cumulative incidence"
        self.variable = variable
        self.values = self.groups[variable].tolist()
        self.n_standardised = int(n_standardised)
        self.n_boot = n_boot

    def _title(self) -> str:
        return (
            f"Standardised {self.estimand} by {self.variable}: {len(self.groups)} "
            f"curve(s), {self.conf_level:.0%} CI ({self.conf_type})"
        )
