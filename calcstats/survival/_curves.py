"""The curve result shared by :func:`kaplan_meier` and :func:`cumulative_incidence`.

A :class:`SurvivalCurve` holds one step function per group (one row per distinct
observed time, as R's ``survfit``) and answers the usual questions: the whole curve
(``tidy``), its value at given times (``at``), the median with its confidence interval
(``median``) and the numbers at risk under a plot (``risk_table``). Plotting code reads the
attributes ``kind``, ``cause``, ``by``, ``groups``, ``conf_type``, ``conf_level`` and
``start_value``; it never recomputes anything.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from calcstats._errors import DataError

__all__ = ["CONF_TYPES", "CURVE_COLUMNS", "SurvivalCurve", "check_conf_type", "confint"]

CURVE_COLUMNS = [
    "time", "n_risk", "n_event", "n_censor", "estimate", "std_error", "conf_low", "conf_high",
]
CONF_TYPES = ("log-log", "log", "plain")


def check_conf_type(conf_type: str) -> str:
    """Validate ``conf_type`` (R's ``survfit`` names)."""
    if conf_type not in CONF_TYPES:
        raise DataError(
            f"conf_type must be one of {', '.join(map(repr, CONF_TYPES))}, got {conf_type!r}."
        )
    return conf_type


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


class SurvivalCurve:
    """Step-function estimates per group: Kaplan–Meier survival or a cumulative incidence.

    Attributes
    ----------
    kind : {"km", "cif"}
        Kaplan–Meier survival (starts at 1, decreasing) or Aalen–Johansen cumulative
        incidence (starts at 0, increasing).
    cause : int or None
        Event code the curve is about (None: any event coded 1).
    by : list of str
        Grouping columns (empty for a single curve).
    groups : pandas.DataFrame
        One row per group with the ``by`` values, in curve order.
    conf_type, conf_level : str, float
        How the pointwise intervals were computed.
    start_value : float
        Value of the curve at time 0 (1 for ``km``, 0 for ``cif``).
    time_column, event_column : str
        Names of the input columns (axis labels for plots).
    """

    def __init__(
        self,
        curve: pd.DataFrame,
        *,
        groups: pd.DataFrame,
        by: list[str],
        kind: str,
        cause: int | None,
        conf_type: str,
        conf_level: float,
        n: np.ndarray,
        n_events: np.ndarray,
        time_column: str,
        event_column: str,
        states: pd.DataFrame | None = None,
        method: str = "",
    ) -> None:
        self._curve = curve.reset_index(drop=True)
        self.groups = groups.reset_index(drop=True)
        self.by = list(by)
        self.kind = kind
        self.cause = cause
        self.conf_type = conf_type
        self.conf_level = conf_level
        self.start_value = 1.0 if kind == "km" else 0.0
        self.n = np.asarray(n, dtype=float)
        self.n_events = np.asarray(n_events, dtype=float)
        self.time_column = time_column
        self.event_column = event_column
        self._states = states
        self.method = method
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
            if self.kind == "km":
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

    def state_probabilities(self) -> pd.DataFrame:
        """All state probabilities of a cumulative incidence fit (long format).

        One column per ``by`` variable, then ``time, state, estimate, std_error`` with
        states ``"event_free"`` (overall survival) and ``"cause_<k>"`` for every event
        code; at every time they sum to 1. Only for ``kind == "cif"``.
        """
        if self._states is None:
            raise DataError(
                "state_probabilities() is defined for cumulative_incidence results only."
            )
        return self._with_groups(self._states)

    # ---- display -----------------------------------------------------------------------
    def _summary(self) -> pd.DataFrame:
        med = self.median()
        last = self._curve.groupby("_group", sort=True).tail(1)
        med["final_estimate"] = last["estimate"].to_numpy()
        return med

    def _title(self) -> str:
        what = "Kaplan–Meier survival" if self.kind == "km" else "Cumulative incidence"
        if self.cause is not None:
            what += f" (cause {self.cause})"
        return (
            f"{what}: {len(self.groups)} curve(s), {self.conf_level:.0%} CI "
            f"({self.conf_type})"
        )

    def __repr__(self) -> str:
        body = self._summary().to_string(index=False, float_format=lambda v: f"{v:.4g}")
        return f"{self._title()}\n{body}"

    def _repr_html_(self) -> str:
        return f"<p><b>{self._title()}</b></p>" + self._summary().to_html(
            index=False, float_format=lambda v: f"{v:.4g}"
        )
