"""Restricted mean survival time with its standard error and between-group contrasts.

The estimate is the area under the Kaplan–Meier curve up to ``tau``; the standard error
is the Greenwood-type one of R's ``print.survfit(rmean = tau)`` and ``survRM2`` (with
case weights, the infinitesimal-jackknife SE of R's robust fit instead):
``Var = sum_j A_j^2 d_j / (n_j (n_j - d_j))`` where ``A_j`` is the area under the curve
from event time ``t_j`` to ``tau`` — not the variance of ``min(T, tau)``, which ignores
censoring. lifelines' ``restricted_mean_survival_time`` gives no standard error, hence
this module.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from calcstats._errors import DataError, DataWarning, InvalidParameterError
from calcstats._memory import CURVE_MEMORY_ADVICE, memory_guard
from calcstats._survival_input import survival_input, user_stacklevel, warn_no_events
from calcstats._validation import (
    COLUMN,
    COLUMNS,
    CONF_LEVEL,
    NONE,
    Interval,
    validate_params,
)
from calcstats.labels import Labels
from calcstats.results import EstimateResult
from calcstats.survival._tabulate import tabulate

__all__ = ["RMSTContrastResult", "RMSTResult", "rmst"]


def _rmst_one(
    time: np.ndarray, n_risk: np.ndarray, n_event: np.ndarray, tau: float
) -> tuple[float, float]:
    """Restricted mean and its standard error for one group's distinct times."""
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1.0 - n_event / n_risk)
        hh = np.where(n_risk > n_event, n_event / (n_risk * (n_risk - n_event)), 0.0)
    keep = time <= tau
    t = np.concatenate([time[keep], [tau]])
    s = np.concatenate([surv[keep], [surv[keep][-1] if keep.any() else 1.0]])
    h = np.concatenate([hh[keep], [0.0]])
    rect = np.diff(np.concatenate([[0.0], t])) * np.concatenate([[1.0], s[:-1]])
    area_after = np.cumsum(rect[::-1])[::-1]  # area from t[j-1] to tau, j = 0..n-1
    # event time t[j] pairs with the area from t[j] to tau = area_after[j + 1]
    var = float(np.sum(area_after[1:] ** 2 * h[:-1]))
    return float(rect.sum()), float(np.sqrt(var))


def _rmst_ij_se(time: np.ndarray, event: np.ndarray, w: np.ndarray, tau: float) -> float:
    """Infinitesimal-jackknife SE of the restricted mean of a weighted Kaplan–Meier curve.

    The influence of row ``i`` on ``log S(t)`` is ``−Σ_{t_j ≤ t} (dN_ij − Y_ij d_j / Y_j) /
    (Y_j − d_j)`` (derivative with respect to its weight; ``d_j``, ``Y_j`` weighted), so its
    influence on the area up to ``tau`` is ``R_i = −Σ_j g_j (dN_ij − Y_ij d_j / Y_j) /
    (Y_j − d_j)`` with ``g_j`` the area under the curve from ``t_j`` to ``tau``; the SE is
    ``sqrt(Σ (w_i R_i)²)``, as R's ``residuals(survfit, type = "rmst", weighted = TRUE)``.
    """
    ev_t = np.unique(time[(event > 0) & (time <= tau)])
    if ev_t.size == 0:
        return 0.0
    pos = np.searchsorted(ev_t, time, side="right")  # event times <= T_i
    d = np.bincount(
        np.searchsorted(ev_t, time[event > 0]),
        weights=(w * event)[event > 0],
        minlength=ev_t.size + 1,
    )[: ev_t.size]
    at_risk = np.bincount(pos, weights=w, minlength=ev_t.size + 1)
    Y = np.cumsum(at_risk[::-1])[::-1][1:]  # weight of rows with T_i >= t_j
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1.0 - d / Y)
        edges = np.concatenate([ev_t, [tau]])
        area = np.diff(edges) * surv  # area of each step after t_j up to the next / tau
        g = np.cumsum(area[::-1])[::-1]  # area from t_j to tau
        c = np.where(g > 0, g / (Y - d), 0.0)
    k = np.concatenate([[0.0], np.cumsum(c * d / Y)])  # Σ_{t_j <= t} g_j c_j d_j / Y_j
    r = k[np.minimum(pos, ev_t.size)]
    is_ev = (event > 0) & (time <= tau)
    j = np.searchsorted(ev_t, time[is_ev])
    r[is_ev] -= c[j]
    return float(np.sqrt(np.sum((w * r) ** 2)))


def _group_text(groups: pd.DataFrame, i: int) -> str:
    return ", ".join(f"{k}={v}" for k, v in groups.iloc[i].items())


class RMSTContrastResult(EstimateResult):
    """Contrasts of restricted means between groups (:meth:`RMSTResult.contrast`).

    ``tidy()`` has one row per group compared with the reference: the ``by`` columns of
    that group, ``contrast`` (e.g. ``"g=b - g=a"``), then ``estimate, std_error,
    conf_low, conf_high, p_value``. For ``measure="ratio"`` the estimate and limits are
    ratios and ``std_error`` is that of the log ratio.

    Attributes
    ----------
    measure : {"difference", "ratio"}
    reference : dict
        The reference group, ``{by column: value}``.
    tau : float
        Restriction time.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        measure: str,
        reference: dict[str, Any],
        tau: float,
        **kwargs: Any,
    ) -> None:
        super().__init__(frame, **kwargs)
        self.measure = measure
        self.reference = dict(reference)
        self.tau = tau


class RMSTResult(EstimateResult):
    """Restricted mean survival time per group (:func:`calcstats.rmst`).

    ``tidy()`` has the ``by`` columns, then ``estimate, std_error, conf_low,
    conf_high``; :meth:`contrast` compares the groups.

    Attributes
    ----------
    tau : float
        Restriction time.
    cause : int or None
        The event code counted as the event (others censored).
    groups : pandas.DataFrame
        The ``by`` values, one row per group.
    n : numpy.ndarray
        Rows per group (positive weights).
    n_events : numpy.ndarray
        Events per group (weight sums with case weights).
    n_zero_weight : int
        Rows set aside because their case weight is zero.
    time_column, event_column : str
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        groups: pd.DataFrame,
        tau: float,
        cause: int | None,
        n: np.ndarray,
        n_events: np.ndarray,
        n_zero_weight: int,
        time_column: str,
        event_column: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(frame, **kwargs)
        self.groups = groups.reset_index(drop=True)
        self.tau = tau
        self.cause = cause
        self.n = np.asarray(n, dtype=float)
        self.n_events = np.asarray(n_events, dtype=float)
        self.n_zero_weight = int(n_zero_weight)
        self.time_column = time_column
        self.event_column = event_column

    def _reference_row(self, reference: object) -> int:
        k = len(self.groups)
        if reference is None:
            return 0
        if isinstance(reference, Mapping):
            want = dict(reference)
        elif len(self.by) == 1:
            want = {self.by[0]: reference}
        else:
            want = {}
        if set(want) == set(self.by):
            for i in range(k):
                row = self.groups.iloc[i]
                if all(row[c] == v or str(row[c]) == str(v) for c, v in want.items()):
                    return i
        shown = "; ".join(_group_text(self.groups, i) for i in range(k))
        raise InvalidParameterError(
            "The 'reference' parameter of contrast must be None (the first group), a level "
            f"of {self.by[0]!r}"
            + (" or a dict {column: value}" if len(self.by) > 1 else "")
            + f" naming one of the groups ({shown}). Got {reference!r}."
        )

    def contrast(
        self, measure: str = "difference", *, reference: object = None
    ) -> RMSTContrastResult:
        """Each group against a reference group (independent groups, normal approximation).

        Parameters
        ----------
        measure : {"difference", "ratio"}
            ``difference``: RMST_g - RMST_ref with SE ``sqrt(se_g^2 + se_ref^2)``.
            ``ratio``: RMST_g / RMST_ref, inference on the log scale (delta method);
            ``std_error`` is then the SE of the log ratio.
        reference : optional
            The reference group: a level of ``by`` (or ``{column: value}`` with several
            ``by`` columns). Default the first group (R's first level).

        Returns
        -------
        RMSTContrastResult
            A contrast whose standard error is 0 (neither group has an event before
            ``tau`` that leaves anyone at risk) has NaN interval and p-value, with a
            warning.
        """
        return self._contrast(measure, reference, warn=True)

    def _contrast(self, measure: str, reference: object, *, warn: bool) -> RMSTContrastResult:
        if measure not in ("difference", "ratio"):
            raise InvalidParameterError(
                "The 'measure' parameter of contrast must be one of 'difference', 'ratio'. "
                f"Got {measure!r}."
            )
        k = len(self.groups)
        if k < 2:
            raise DataError("contrast() needs at least two groups; fit rmst with by=.")
        ref = self._reference_row(reference)
        z = stats.norm.ppf(0.5 + self.conf_level / 2)
        est = self._frame["estimate"].to_numpy()
        se = self._frame["std_error"].to_numpy()
        if measure == "ratio" and np.any(est == 0):
            i = int(np.flatnonzero(est == 0)[0])
            raise DataError(
                f"the RMST of group {_group_text(self.groups, i)} is 0 (every subject had "
                "the event at time 0), so a ratio of restricted means is undefined; use "
                "measure='difference'."
            )
        rows = []
        exact = []
        for i in range(k):
            if i == ref:
                continue
            if measure == "difference":
                e = est[i] - est[ref]
                s = float(np.hypot(se[i], se[ref]))
                label = f"{_group_text(self.groups, i)} - {_group_text(self.groups, ref)}"
                stat, lo, hi = e / s if s else np.nan, e - z * s, e + z * s
            else:
                e_log = np.log(est[i] / est[ref])
                s = float(np.hypot(se[i] / est[i], se[ref] / est[ref]))
                label = f"{_group_text(self.groups, i)} / {_group_text(self.groups, ref)}"
                e, lo, hi = np.exp(e_log), np.exp(e_log - z * s), np.exp(e_log + z * s)
                stat = e_log / s if s else np.nan
            if s == 0:
                exact.append(label)
                lo = hi = np.nan
            rows.append(
                {
                    **self.groups.iloc[i].to_dict(),
                    "contrast": label,
                    "estimate": e,
                    "std_error": s,
                    "conf_low": lo,
                    "conf_high": hi,
                    "p_value": float(2 * stats.norm.sf(abs(stat))),
                }
            )
        if exact and warn:
            warnings.warn(
                f"RMST contrast(s) {', '.join(exact)}: standard error 0, because neither "
                f"group has an event before tau={self.tau:g} that leaves anyone at risk (the "
                "Greenwood-type variance is 0), so there is no confidence interval or "
                "p-value (NaN).",
                DataWarning,
                stacklevel=user_stacklevel(),
            )
        what = "Difference" if measure == "difference" else "Ratio"
        return RMSTContrastResult(
            pd.DataFrame(rows),
            measure=measure,
            reference=self.groups.iloc[ref].to_dict(),
            tau=self.tau,
            by=self.by,
            conf_level=self.conf_level,
            labels=self.labels,
            method=f"{what} of restricted mean survival times to tau = {self.tau:g} "
            "(independent groups, normal approximation"
            + (", log scale)" if measure == "ratio" else ")"),
        )

    def _group_names(self) -> list[str]:
        lab = Labels.default() | self.labels
        if not self.by:
            return ["All"]
        return [
            ", ".join(lab.level(c, v) for c, v in self.groups.iloc[i].items())
            for i in range(len(self.groups))
        ]

    def _summary(self) -> pd.DataFrame:
        return self.tidy()

    def __repr__(self) -> str:
        text = [self.method, self.tidy().to_string(index=False, float_format=lambda v: f"{v:.4g}")]
        if len(self.groups) > 1:
            text.append(
                self._contrast("difference", None, warn=False)
                .tidy()
                .to_string(index=False, float_format=lambda v: f"{v:.4g}")
            )
        return "\n".join(text)

    def _repr_html_(self) -> str:
        html = f"<p><b>{self.method}</b></p>" + self.tidy().to_html(index=False)
        if len(self.groups) > 1:
            html += self._contrast("difference", None, warn=False).tidy().to_html(index=False)
        return html


@validate_params(
    {
        "time": [COLUMN],
        "event": [COLUMN],
        "tau": [Interval(0, None, closed="neither")],
        "by": [COLUMNS, NONE],
        "weights": [COLUMN, NONE],
        "conf_level": [CONF_LEVEL],
    }
)
def rmst(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    tau: float,
    by: str | Sequence[str] | None = None,
    cause: int | None = None,
    weights: str | None = None,
    conf_level: float = 0.95,
    labels: Labels | dict[str, str] | None = None,
) -> RMSTResult:
    """Restricted mean survival time up to ``tau``, per group, with group contrasts.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per subject.
    time, event : str
        Follow-up time and event columns (event 0/1, or codes with ``cause``).
    tau : float
        Restriction time, in the units of ``time``. It must not exceed any group's last
        follow-up time (the curve is unknown beyond it), unless that group's curve
        has already reached 0.
    by : str or list of str, optional
        Grouping column(s).
    cause : int, optional
        Event code of interest; other codes count as censored.
    weights : str, optional
        Column of non-negative case weights: the area under the weighted Kaplan–Meier
        curve. Non-integer weights (e.g. inverse-probability weights) give the
        infinitesimal-jackknife SE of R's robust fit (``residuals(survfit(..., weights=,
        id=), type="rmst", weighted=TRUE)``), not the Greenwood-type SE of weighted counts
        that ``print.survfit(rmean=)`` shows; integer weights are frequency weights
        (Greenwood-type, as R). Rows with weight 0 are set aside and counted in
        ``n_zero_weight``.
    conf_level : float
        Confidence level.
    labels : Labels or dict, optional
        Display labels the result keeps for its tables.

    Returns
    -------
    RMSTResult
        ``.tidy()`` per group (``estimate, std_error, conf_low, conf_high``),
        ``.contrast(measure="difference" | "ratio", reference=...)`` between groups
        (an :class:`RMSTContrastResult`), ``.to_table()``.

    Examples
    --------
    >>> import pandas as pd
    >>> import calcstats as cs
    >>> df = pd.DataFrame({"t": [1, 2, 2, 3, 4, 5], "d": [1, 1, 0, 1, 0, 1]})
    >>> cs.rmst(df, time="t", event="d", tau=4).tidy().round(4)
       estimate  std_error  conf_low  conf_high
    0    2.9444     0.4698    2.0237     3.8652
    """
    labels = Labels.coerce(labels)
    with memory_guard("rmst", CURVE_MEMORY_ADVICE):
        tau = float(tau)
        if not np.isfinite(tau):
            raise InvalidParameterError(
                f"The 'tau' parameter of rmst must be a finite number > 0. Got {tau!r}."
            )
        sd = survival_input(
            data, time=time, event=event, cause=cause, by=by, weights=weights, function="rmst"
        )
        d = sd.event
        w = sd.weights
        # as survfit: non-integer (e.g. inverse-probability) weights give the robust
        # variance; integer weights are frequency weights (Greenwood on weighted counts)
        robust = w is not None and bool(np.any(w != np.floor(w)))
        warn_no_events(sd, d, "rmst")
        rt = tabulate(sd.time, sd.group, sd.n_groups, [None, d] if w is None else [w, w * d])
        rows = []
        for g in range(sd.n_groups):
            sl = rt.rows(g)
            t, nr, ne = rt.time[sl], rt.n_risk[sl], rt.sums[sl, 1]
            last_surv = np.prod(1.0 - ne / nr)
            if tau > t[-1] and last_surv > 0:
                where = (
                    ""
                    if not sd.by
                    else " in group "
                    + ", ".join(f"{k}={v!r}" for k, v in sd.groups.iloc[g].items())
                )
                raise DataError(
                    f"rmst(): tau={tau:g} is beyond the last follow-up time ({t[-1]:g})"
                    f"{where}; the survival curve is unknown there. Choose tau at most the "
                    "smallest group's last follow-up time."
                )
            est, se = _rmst_one(t, nr, ne, tau)
            # non-integer weights: the infinitesimal-jackknife SE (R's default)
            if robust and w is not None:
                rows_g = sd.group == g
                se = _rmst_ij_se(sd.time[rows_g], d[rows_g], w[rows_g], tau)
            rows.append({"estimate": est, "std_error": se})
        z = stats.norm.ppf(0.5 + float(conf_level) / 2)
        frame = pd.DataFrame(rows)
        frame["conf_low"] = frame["estimate"] - z * frame["std_error"]
        frame["conf_high"] = frame["estimate"] + z * frame["std_error"]
        if sd.by:
            frame = pd.concat([sd.groups, frame], axis=1)
        return RMSTResult(
            frame,
            groups=sd.groups,
            tau=tau,
            cause=sd.cause,
            n=np.bincount(sd.group, minlength=sd.n_groups),
            n_events=np.bincount(
                sd.group, weights=d if w is None else d * w, minlength=sd.n_groups
            ),
            n_zero_weight=sd.n_zero_weight,
            time_column=sd.time_column,
            event_column=sd.event_column,
            by=sd.by,
            conf_level=float(conf_level),
            labels=labels,
            method=(
                f"Restricted mean survival time to tau = {tau:g} (area under the "
                "Kaplan–Meier curve; "
                + (
                    "Greenwood-type standard error as R's print.survfit(rmean=))"
                    if not robust
                    else "weighted; infinitesimal-jackknife standard error as R's "
                    "residuals(survfit, type = 'rmst', weighted = TRUE))"
                )
            ),
        )
