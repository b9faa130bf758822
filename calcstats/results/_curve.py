"""Step curves over time: Kaplan–Meier, cumulative incidence, adjusted and other curves.

A :class:`CurveResult` holds one right-continuous step function per group (one row per
distinct observed time, as R's ``survfit``) and answers the usual questions: the whole
curve (``tidy``), its value at given times (``at``), the median with its confidence
interval (``median``), the numbers at risk under a plot (``risk_table``) and the sentence
fragment of a results section (``inline``). Subclasses say what the curve is
(:class:`KaplanMeierResult` starts at 1 and falls, :class:`CumulativeIncidenceResult`
starts at 0 and rises); plotting code dispatches on the class and never recomputes
anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from calcstats._errors import CalcstatsError, DataError
from calcstats._format import format_number
from calcstats.labels import Labels
from calcstats.results._base import Result

__all__ = [
    "CONF_TYPES",
    "CURVE_COLUMNS",
    "CumulativeIncidenceResult",
    "CurveResult",
    "KaplanMeierResult",
    "confint",
]

CURVE_COLUMNS = [
    "time", "n_risk", "n_event", "n_censor", "estimate", "std_error", "conf_low", "conf_high",
]
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


def _sorted_times(times: float | Sequence[float] | np.ndarray) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(times, dtype=float))
    if arr.size == 0 or np.isnan(arr).any() or (arr < 0).any():
        raise DataError(f"times must be non-negative numbers, got {times!r}.")
    return np.unique(arr)


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
    n, n_events : numpy.ndarray
        Per group: rows (weight sum with weights) and events.
    time_column, event_column : str
        Names of the input columns.
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
        n: np.ndarray,
        n_events: np.ndarray,
        time_column: str,
        event_column: str,
        method: str = "",
        labels: Labels | None = None,
        weighted: bool = False,
    ) -> None:
        self._curve = curve.reset_index(drop=True)
        self.groups = groups.reset_index(drop=True)
        self.by = list(by)
        self.conf_type = conf_type
        self.conf_level = conf_level
        self.n = np.asarray(n, dtype=float)
        self.n_events = np.asarray(n_events, dtype=float)
        self.time_column = time_column
        self.event_column = event_column
        self.method = method
        self.labels = Labels.coerce(labels)
        self.weighted = weighted
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
        return {c: part[c].to_numpy(dtype=float) for c in CURVE_COLUMNS}

    # ---- public ------------------------------------------------------------------------
    def tidy(self) -> pd.DataFrame:
        """The whole curve: one row per group and distinct time.

        Columns: one per ``by`` variable, then ``time, n_risk, n_event, n_censor,
        estimate, std_error, conf_low, conf_high``. ``std_error`` is on the probability
        scale (as R's ``summary.survfit``). Times with censoring only are included, as
        in R; the starting point (time 0, ``start_value``) is not.
        """
        return self._with_groups(self._curve)

    def at(self, times: float | Sequence[float] | np.ndarray) -> pd.DataFrame:
        """The curve at given times (right-continuous step function), as ``summary(fit, times=)``.

        ``n_risk`` is the number at risk at each time; ``n_event`` and ``n_censor`` count
        what happened after the previous requested time up to and including this one.
        Beyond a group's last follow-up time the estimate is NaN (R leaves such rows out).
        """
        tq = _sorted_times(times)
        frames = []
        for i in range(len(self.groups)):
            a = self._arrays(i)
            t = a["time"]
            idx = np.searchsorted(t, tq, side="right") - 1
            safe = np.clip(idx, 0, None)
            before = idx < 0
            beyond = tq > (t[-1] if t.size else -np.inf)
            est = np.where(before, self.start_value, a["estimate"][safe] if t.size else np.nan)
            se = np.where(before, 0.0, a["std_error"][safe] if t.size else np.nan)
            lo = np.where(before, self.start_value, a["conf_low"][safe] if t.size else np.nan)
            hi = np.where(before, self.start_value, a["conf_high"][safe] if t.size else np.nan)
            first = np.searchsorted(t, tq, side="left")
            risk_ext = np.append(a["n_risk"], 0.0)
            cum_ev = np.concatenate([[0.0], np.cumsum(a["n_event"])])
            cum_ce = np.concatenate([[0.0], np.cumsum(a["n_censor"])])
            upto = idx + 1
            ev = np.diff(np.concatenate([[0.0], cum_ev[upto]]))
            ce = np.diff(np.concatenate([[0.0], cum_ce[upto]]))
            nan = np.where(beyond, np.nan, 1.0)
            frames.append(
                pd.DataFrame(
                    {
                        "_group": i,
                        "time": tq,
                        "n_risk": risk_ext[first],
                        "n_event": ev,
                        "n_censor": ce,
                        "estimate": est * nan,
                        "std_error": se * nan,
                        "conf_low": lo * nan,
                        "conf_high": hi * nan,
                    }
                )
            )
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
            One column per ``by`` variable, then ``n, n_event, median, conf_low, conf_high``.
        """
        rows = []
        for i in range(len(self.groups)):
            a = self._arrays(i)
            t = a["time"]
            if not self.increasing:
                s, lo, hi = a["estimate"], a["conf_low"], a["conf_high"]
            else:
                s, lo, hi = 1 - a["estimate"], 1 - a["conf_high"], 1 - a["conf_low"]
            rows.append(
                {
                    "_group": i,
                    "n": self.n[i],
                    "n_event": self.n_events[i],
                    "median": _median_rule(s, t),
                    "conf_low": _median_rule(lo, t),
                    "conf_high": _median_rule(hi, t),
                }
            )
        return self._with_groups(pd.DataFrame(rows))

    def risk_table(self, times: float | Sequence[float] | np.ndarray | None = None) -> pd.DataFrame:
        """Numbers at risk and cumulative events/censorings at given times (under a plot).

        Parameters
        ----------
        times : array-like, optional
            Time points (e.g. the x-axis ticks). Default: six equally spaced points
            from 0 to the largest observed time.

        Returns
        -------
        pandas.DataFrame
            One column per ``by`` variable, then ``time, n_risk, n_event, n_censor`` where
            ``n_event`` and ``n_censor`` are cumulative up to and including ``time``.
        """
        if not self.has_counts:
            raise CalcstatsError(
                f"{type(self).__name__} has no numbers at risk (the curves are model-based); "
                "draw it without a risk table."
            )
        if times is None:
            tmax = float(self._curve["time"].max()) if len(self._curve) else 0.0
            times = np.linspace(0.0, tmax, 6)
        tq = _sorted_times(times)
        frames = []
        for i in range(len(self.groups)):
            a = self._arrays(i)
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

    def inline(self, time: float, *, group: dict[str, Any] | None = None, digits: int = 1,
               percent: bool = True) -> str:
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
                    raise CalcstatsError(f"inline(): {col!r} is not a grouping column "
                                         f"({self.by}).")
                mask &= (at[col] == val).to_numpy()
            if not mask.any():
                raise CalcstatsError(f"inline(): no curve for group {group}.")
            at = at.loc[mask]
        row = at.iloc[0]
        scale, unit = (100.0, "%") if percent else (1.0, "")
        d = digits if percent else max(digits, 2)

        def f(v: float) -> str:
            return "—" if not np.isfinite(v) else format_number(scale * v, digits=d) + unit

        return (f"{f(row['estimate'])} ({self.conf_level:.0%} CI "
                f"{f(row['conf_low'])}–{f(row['conf_high'])})")

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

    def __init__(self, curve: pd.DataFrame, *, cause: int, states: pd.DataFrame | None = None,
                 **kwargs: Any) -> None:
        super().__init__(curve, **kwargs)
        self.cause = cause
        self._states = states

    def state_probabilities(self) -> pd.DataFrame:
        """All state probabilities of a cumulative incidence fit (long format).

        One column per ``by`` variable, then ``time, state, estimate, std_error`` with
        states ``"event_free"`` (overall survival) and ``"cause_<k>"`` for every event
        code; at every time they sum to 1.
        """
        if self._states is None:
            raise DataError("this cumulative incidence result was made without the state "
                            "probabilities.")
        return self._with_groups(self._states)
