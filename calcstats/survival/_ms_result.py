"""Results of the multi-state estimators: state probabilities and time in state."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from calcstats._errors import CalcstatsError, DataError
from calcstats._format import format_number
from calcstats.labels import Labels
from calcstats.results import CurveResult, EstimateResult, confint
from calcstats.results._base import select_group
from calcstats.survival._multistate_aj import CurveArrays, restricted_mean_ms
from calcstats.survival._multistate_input import MultiStateInput

__all__ = ["StateProbabilitiesResult", "TimeInStateResult"]

STATE_COLUMNS = ["time", "state", "estimate", "std_error", "conf_low", "conf_high"]


def _times(times: float | Sequence[float] | np.ndarray, what: str) -> np.ndarray:
    try:
        arr = np.atleast_1d(np.asarray(times, dtype=float))
    except (TypeError, ValueError):
        raise DataError(f"{what}: times must be numbers, got {times!r}.") from None
    if arr.size == 0 or arr.ndim != 1 or not np.all(np.isfinite(arr)) or (arr < 0).any():
        raise DataError(f"{what}: times must be finite numbers >= 0, got {times!r}.")
    return np.unique(arr)


class TimeInStateResult(EstimateResult):
    """Expected (restricted mean) time in each state up to ``tau``
    (:meth:`StateProbabilitiesResult.time_in_state`).

    ``tidy()``: the ``by`` columns, then ``state, tau, estimate, std_error, conf_low,
    conf_high``; the estimates of one group add up to ``tau``.

    Attributes
    ----------
    tau : float
        The time horizon.
    p0_variance : bool
        Whether the standard errors include the variance of the starting distribution.
    """

    def __init__(
        self, frame: pd.DataFrame, *, tau: float, p0_variance: bool, **kwargs: Any
    ) -> None:
        super().__init__(frame, **kwargs)
        self.tau = tau
        self.p0_variance = p0_variance


class StateProbabilitiesResult(CurveResult):
    """Aalen–Johansen state-occupation probabilities (:func:`calcstats.state_probabilities`).

    A :class:`~calcstats.CurveResult` with one curve per group *and state*: ``tidy()``,
    ``at()``, ``risk_table()`` and ``inline()`` carry a ``state`` column after the ``by``
    columns. A median is not defined for the probability of being in a state (use
    :meth:`time_in_state`).

    Attributes
    ----------
    states : tuple of str
        The states, in display order.
    by : list of str
        Grouping columns; ``groups`` has one row per curve with their values.
    conf_type, conf_level : str, float
        How the pointwise intervals were computed (on the probability scale).
    p0_variance : bool
        Whether the standard errors include the variance of the estimated starting
        distribution (R's ``influence=TRUE``).
    weighted : bool
        Whether case weights were used.
    columns : dict
        The input column of each role (``from_state``, ``to_state``, ``start``, ``stop``,
        ``patient_id``, ``weights``).
    n_patients, n_rows : numpy.ndarray
        Per group.
    """

    def __init__(
        self,
        curves: list[CurveArrays],
        *,
        data: MultiStateInput,
        conf_type: str,
        conf_level: float,
        p0_variance: bool,
        labels: Labels | Mapping[str, str] | None,
        method: str,
    ) -> None:
        self._curves = curves
        self._input = data
        self.time_column = str(data.columns.get("stop", "stop"))
        self.event_column = str(data.columns.get("to_state", "to_state"))
        self.n = np.array([c.n_rows for c in curves], dtype=float)
        self.n_events = np.zeros(len(curves))
        self.states = data.states
        self.by = list(data.by)
        self.groups = data.groups.reset_index(drop=True)
        self.conf_type = conf_type
        self.conf_level = conf_level
        self.p0_variance = p0_variance
        self.weighted = data.weighted
        self.columns = dict(data.columns)
        self.labels = Labels.coerce(labels)
        self.method = method
        self.n_rows = np.array([c.n_rows for c in curves], dtype=float)
        self.n_patients = np.array([data.n_patients(g) for g in range(len(curves))], dtype=float)

    measure = "Probability in state"
    start_value = float("nan")  # the starting distribution differs by state

    def median(self) -> pd.DataFrame:
        """Not defined for state-occupation probabilities (a state's probability need not
        pass 0.5); use :meth:`time_in_state` for a summary in time units."""
        raise CalcstatsError(
            "median() is not defined for state probabilities; use time_in_state(tau) for "
            "the expected time spent in each state."
        )

    # ---- helpers -------------------------------------------------------------------
    def _group_frame(self, g: int, n: int) -> pd.DataFrame:
        if not self.by:
            return pd.DataFrame(index=range(n))
        row = self.groups.iloc[[g] * n].reset_index(drop=True)
        return row

    def _state_column(self, codes: np.ndarray) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, categories=list(self.states))

    def _long(
        self,
        g: int,
        time: np.ndarray,
        p: np.ndarray,
        var: np.ndarray,
        beyond: np.ndarray | None = None,
    ) -> pd.DataFrame:
        S = len(self.states)
        se = np.sqrt(var)
        low, high = confint(
            p, se, logse=False, conf_type=self.conf_type, conf_level=self.conf_level
        )
        if beyond is not None:
            nan = np.where(beyond, np.nan, 1.0)[:, None]
            p, se, low, high = p * nan, se * nan, low * nan, high * nan
        body = pd.DataFrame(
            {
                "time": np.repeat(time, S),
                "state": self._state_column(np.tile(np.arange(S), time.size)),
                "estimate": p.reshape(-1),
                "std_error": se.reshape(-1),
                "conf_low": low.reshape(-1),
                "conf_high": high.reshape(-1),
            }
        )
        return pd.concat([self._group_frame(g, len(body)), body], axis=1)

    def _lookup(self, c: CurveArrays, tq: np.ndarray) -> np.ndarray:
        return np.searchsorted(c.time, tq, side="right") - 1

    # ---- public --------------------------------------------------------------------
    def tidy(self) -> pd.DataFrame:
        """All state probabilities: one row per group, distinct time and state.

        Columns: the ``by`` columns, then ``time, state, estimate, std_error, conf_low,
        conf_high``. The times are every distinct ``stop`` time of the group (censoring
        times included, as R's ``survfit``); ``std_error`` is the infinitesimal-jackknife
        standard error on the probability scale. At every time the estimates of a group
        add up to 1.
        """
        parts = [self._long(g, c.time, c.pstate, c.variance) for g, c in enumerate(self._curves)]
        return pd.concat(parts, ignore_index=True)

    def at(self, times: float | Sequence[float] | np.ndarray) -> pd.DataFrame:
        """State probabilities at given times (right-continuous), as ``summary(fit, times=)``.

        Before the first transition the probabilities are the starting distribution
        ``p0``; beyond a group's last follow-up time they are NaN.
        """
        tq = _times(times, "at()")
        parts = []
        for g, c in enumerate(self._curves):
            idx = self._lookup(c, tq)
            before = idx < 0
            p = np.where(before[:, None], c.p0[None, :], c.pstate[np.clip(idx, 0, None)])
            v = np.where(before[:, None], c.variance0[None, :], c.variance[np.clip(idx, 0, None)])
            parts.append(self._long(g, tq, p, v, beyond=tq > c.time[-1]))
        return pd.concat(parts, ignore_index=True)

    # no unweighted= option (plot.survival, which passes it, refuses this result type)
    def risk_table(  # type: ignore[override]
        self, times: float | Sequence[float] | np.ndarray | None = None
    ) -> pd.DataFrame:
        """Numbers at risk in each state, and entries into it so far, at given times.

        Parameters
        ----------
        times : array-like, optional
            Default: six equally spaced times from 0 to the largest observed time.

        Returns
        -------
        pandas.DataFrame
            The ``by`` columns, then ``time, state, n_risk, n_event`` (rows in the state
            at risk at ``time``; transitions into the state up to and including ``time``).
        """
        if times is None:
            times = np.linspace(0.0, max(float(c.time[-1]) for c in self._curves), 6)
        tq = _times(times, "risk_table()")
        S = len(self.states)
        parts = []
        for g, c in enumerate(self._curves):
            first = np.searchsorted(c.time, tq, side="left")
            upto = np.searchsorted(c.time, tq, side="right")
            risk = np.vstack([c.n_risk, np.zeros((1, S))])[first]
            events = np.vstack([np.zeros((1, S)), np.cumsum(c.n_event, axis=0)])[upto]
            body = pd.DataFrame(
                {
                    "time": np.repeat(tq, S),
                    "state": self._state_column(np.tile(np.arange(S), tq.size)),
                    "n_risk": risk.reshape(-1),
                    "n_event": events.reshape(-1),
                }
            )
            parts.append(pd.concat([self._group_frame(g, len(body)), body], axis=1))
        return pd.concat(parts, ignore_index=True)

    def cumulative_hazards(self) -> pd.DataFrame:
        """Nelson–Aalen cumulative hazard of every observed transition (R's ``cumhaz``).

        Returns
        -------
        pandas.DataFrame
            The ``by`` columns, then ``time, from_state, to_state, n_risk, n_event,
            cumulative_hazard``: rows at risk in the from-state at ``time``, transitions at
            ``time`` and ``Σ_{u ≤ time} (weighted transitions) / (weighted rows at risk in
            the from-state)``. No standard error (R 3.5-3 reports none for multi-state
            curves).
        """
        parts = []
        for g, c in enumerate(self._curves):
            K = c.transitions.shape[0]
            fr, to = c.transitions[:, 0], c.transitions[:, 1]
            body = pd.DataFrame(
                {
                    "time": np.repeat(c.time, K),
                    "from_state": self._state_column(np.tile(fr, c.time.size)),
                    "to_state": self._state_column(np.tile(to, c.time.size)),
                    "n_risk": c.n_risk[:, fr].reshape(-1),
                    "n_event": c.n_transition.reshape(-1),
                    "cumulative_hazard": c.cumhaz.reshape(-1),
                }
            )
            parts.append(pd.concat([self._group_frame(g, len(body)), body], axis=1))
        return pd.concat(parts, ignore_index=True)

    def transition_counts(self) -> pd.DataFrame:
        """Observed transitions and censorings per from-state (unweighted row counts).

        Returns
        -------
        pandas.DataFrame
            The ``by`` columns, then ``from_state, to_state, n`` with ``to_state``
            ``"censored"`` for rows that end without a transition; only pairs that occur.
        """
        from calcstats.survival._multistate import _counts

        return _counts(self._input)

    def time_in_state(self, tau: float) -> TimeInStateResult:
        """Expected time spent in each state up to ``tau`` (restricted mean), with SE.

        ``estimate`` is ``∫_0^tau p_s(t) dt`` over the step function that starts at the
        starting distribution (R's ``summary(fit, rmean=tau)``). ``std_error`` is the
        infinitesimal-jackknife SE of R's ``se(rmean)`` (with ``influence=TRUE``); it
        includes the variance of the starting distribution when ``p0_variance`` is True
        (R always includes it) and, with case weights, weighs each patient's influence by
        its weight (R 3.5-3 leaves the weights out of this SE). Intervals are Wald
        intervals, cut at 0 and ``tau``.

        Examples
        --------
        >>> import pandas as pd
        >>> import calcstats as cs
        >>> ms = pd.DataFrame({"patient_id": [1, 1, 2, 3], "from_state": ["a", "b", "a", "a"],
        ...                    "to_state": ["b", "censored", "censored", "b"],
        ...                    "start": [0.0, 1.0, 0.0, 0.0], "stop": [1.0, 3.0, 2.0, 2.5]})
        >>> sp = cs.state_probabilities(ms)
        >>> sp.time_in_state(3).tidy()[["state", "estimate"]].round(3)
          state  estimate
        0     a       2.0
        1     b       1.0
        """
        if (
            isinstance(tau, bool)
            or not isinstance(tau, int | float | np.number)
            or not np.isfinite(tau)
            or tau <= 0
        ):
            raise DataError(f"time_in_state(): tau must be a positive number, got {tau!r}.")
        z = stats.norm.ppf(1 - (1 - self.conf_level) / 2)
        mi = self._input
        S = len(self.states)
        parts = []
        for g in range(len(self._curves)):
            mean, var = restricted_mean_ms(
                **mi.curve_rows(g), n_states=S, tau=float(tau), p0_variance=self.p0_variance
            )
            se = np.sqrt(var)
            body = pd.DataFrame(
                {
                    "state": self._state_column(np.arange(S)),
                    "tau": float(tau),
                    "estimate": mean,
                    "std_error": se,
                    "conf_low": np.clip(mean - z * se, 0.0, tau),
                    "conf_high": np.clip(mean + z * se, 0.0, tau),
                }
            )
            parts.append(pd.concat([self._group_frame(g, S), body], axis=1))
        return TimeInStateResult(
            pd.concat(parts, ignore_index=True),
            tau=float(tau),
            p0_variance=self.p0_variance,
            by=self.by,
            conf_level=self.conf_level,
            labels=self.labels,
            method="Restricted mean time in state (area under the Aalen–Johansen curves), "
            "infinitesimal-jackknife standard errors, Wald intervals",
        )

    def inline(  # type: ignore[override]  # a state probability needs its state
        self,
        time: float,
        state: str,
        *,
        group: dict[str, Any] | None = None,
        digits: int = 1,
        percent: bool = True,
    ) -> str:
        """The fragment a results section prints, e.g. ``"12.3% (95% CI 9.8–15.1%)"``."""
        if state not in self.states:
            raise CalcstatsError(
                f"inline(): {state!r} is not a state; choose one of {list(self.states)}."
            )
        at = self.at([time])
        at = at.loc[(at["state"] == state).to_numpy()]
        at = select_group(at, list(self.by), group, count=len(self.groups), what="group")
        row = at.iloc[0]
        scale, unit = (100.0, "%") if percent else (1.0, "")
        d = digits if percent else max(digits, 2)

        def f(v: float) -> str:
            return "—" if not np.isfinite(v) else format_number(scale * v, digits=d) + unit

        return (
            f"{f(row['estimate'])} ({self.conf_level:.0%} CI "
            f"{f(row['conf_low'])}–{f(row['conf_high'])})"
        )

    # ---- display ---------------------------------------------------------------------
    def _summary(self) -> pd.DataFrame:
        parts = [
            self._long(g, c.time[-1:], c.pstate[-1:], c.variance[-1:])
            for g, c in enumerate(self._curves)
        ]
        return pd.concat(parts, ignore_index=True)

    def _title(self) -> str:
        return (
            f"State probabilities: {len(self.states)} states, {len(self.groups)} "
            f"group(s), {self.conf_level:.0%} CI ({self.conf_type}); at the last time"
        )
