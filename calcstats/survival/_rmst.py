"""Restricted mean survival time with its standard error and between-group contrasts.

The estimate is the area under the Kaplan–Meier curve up to ``tau``; the standard error
is the Greenwood-type one of R's ``print.survfit(rmean = tau)`` and ``survRM2``:
``Var = sum_j A_j^2 d_j / (n_j (n_j - d_j))`` where ``A_j`` is the area under the curve
from event time ``t_j`` to ``tau`` — not the variance of ``min(T, tau)``, which ignores
censoring. lifelines' ``restricted_mean_survival_time`` gives no standard error, hence
this module.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from calcstats._errors import DataError, DataWarning
from calcstats._memory import CURVE_MEMORY_ADVICE, memory_guard
from calcstats._result import check_conf_level
from calcstats.survival._input import event_indicator, prepare, warn_no_events
from calcstats.survival._tabulate import tabulate

__all__ = ["RMSTResult", "rmst"]


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


class RMSTResult:
    """Restricted mean survival time per group, with contrasts between groups.

    Attributes
    ----------
    tau : float
        Restriction time.
    by : list of str
        Grouping columns; ``groups`` holds their values, one row per group.
    conf_level : float
        Confidence level of the intervals.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        groups: pd.DataFrame,
        by: list[str],
        tau: float,
        conf_level: float,
        cause: int | None,
    ) -> None:
        self._frame = frame.reset_index(drop=True)
        self.groups = groups.reset_index(drop=True)
        self.by = list(by)
        self.tau = tau
        self.conf_level = conf_level
        self.cause = cause
        self.method = (
            f"Restricted mean survival time to tau = {tau:g} (area under the Kaplan–Meier "
            "curve; Greenwood-type standard error as R's print.survfit(rmean=))"
        )

    def tidy(self) -> pd.DataFrame:
        """One row per group: ``by`` columns, then ``estimate, std_error, conf_low, conf_high``."""
        z = stats.norm.ppf(0.5 + self.conf_level / 2)
        est = self._frame["estimate"].to_numpy()
        se = self._frame["std_error"].to_numpy()
        out = pd.DataFrame(
            {"estimate": est, "std_error": se, "conf_low": est - z * se, "conf_high": est + z * se}
        )
        if self.by:
            out = pd.concat([self.groups, out], axis=1)
        return out

    def _label(self, i: int) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.groups.iloc[i].items())

    def contrast(self, measure: str = "difference", reference: int = 0) -> pd.DataFrame:
        """Each group against a reference group (independent groups, normal approximation).

        Parameters
        ----------
        measure : {"difference", "ratio"}
            ``difference``: RMST_g - RMST_ref with SE ``sqrt(se_g^2 + se_ref^2)``.
            ``ratio``: RMST_g / RMST_ref, inference on the log scale (delta method);
            ``std_error`` is then the SE of the log ratio.
        reference : int
            Row of ``groups`` used as reference (default the first, R's first level).

        Returns
        -------
        pandas.DataFrame
            Columns ``contrast, estimate, std_error, conf_low, conf_high, p_value``. A
            contrast whose standard error is 0 (neither group has an event before ``tau``
            that leaves anyone at risk) has NaN interval and p-value, with a warning.
        """
        return self._contrast(measure, reference, warn=True)

    def _contrast(self, measure: str, reference: int, *, warn: bool) -> pd.DataFrame:
        if measure not in ("difference", "ratio"):
            raise DataError(f"measure must be 'difference' or 'ratio', got {measure!r}.")
        k = len(self.groups)
        if k < 2:
            raise DataError("contrast() needs at least two groups; fit rmst with by=.")
        if not isinstance(reference, int) or not 0 <= reference < k:
            raise DataError(f"reference must be a group row between 0 and {k - 1}.")
        z = stats.norm.ppf(0.5 + self.conf_level / 2)
        est = self._frame["estimate"].to_numpy()
        se = self._frame["std_error"].to_numpy()
        if measure == "ratio" and np.any(est == 0):
            i = int(np.flatnonzero(est == 0)[0])
            raise DataError(
                f"the RMST of group {self._label(i)} is 0 (every subject had the event at "
                "time 0), so a ratio of restricted means is undefined; use "
                "measure='difference'."
            )
        rows = []
        exact = []
        for i in range(k):
            if i == reference:
                continue
            if measure == "difference":
                e = est[i] - est[reference]
                s = float(np.hypot(se[i], se[reference]))
                label = f"{self._label(i)} - {self._label(reference)}"
                stat, lo, hi = e / s if s else np.nan, e - z * s, e + z * s
            else:
                e_log = np.log(est[i] / est[reference])
                s = float(np.hypot(se[i] / est[i], se[reference] / est[reference]))
                label = f"{self._label(i)} / {self._label(reference)}"
                e, lo, hi = np.exp(e_log), np.exp(e_log - z * s), np.exp(e_log + z * s)
                stat = e_log / s if s else np.nan
            if s == 0:
                exact.append(label)
                lo = hi = np.nan
            rows.append(
                {
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
                stacklevel=3,  # _contrast <- contrast <- the user's call
            )
        return pd.DataFrame(rows)

    def to_table(self, *, title: str | None = None, digits: int = 2):
        """Publication Table: RMST (CI) per group and the difference (CI) with p-value."""
        from calcstats.tables import Table, format_ci, format_p

        tidy = self.tidy()
        pct = f"{self.conf_level * 100:g}% CI"
        body = pd.DataFrame(
            {"Group": [self._label(i) for i in range(len(self.groups))] if self.by else ["All"]}
        )
        body[f"RMST ({pct})"] = format_ci(
            tidy["estimate"], tidy["conf_low"], tidy["conf_high"], digits=digits
        )
        if len(self.groups) > 1:
            con = self._contrast("difference", 0, warn=False)  # NaN shows as NA
            diffs = format_ci(con["estimate"], con["conf_low"], con["conf_high"], digits=digits)
            body[f"Difference ({pct})"] = ["reference", *diffs]
            body["p-value"] = ["", *format_p(con["p_value"])]
        return Table(
            body,
            title=title or f"Restricted mean survival time to {self.tau:g}",
            footnotes=[self.method],
            raw=tidy,
        )

    def __repr__(self) -> str:
        text = [self.method, self.tidy().to_string(index=False, float_format=lambda v: f"{v:.4g}")]
        if len(self.groups) > 1:
            text.append(
                self._contrast("difference", 0, warn=False).to_string(
                    index=False, float_format=lambda v: f"{v:.4g}"
                )
            )
        return "\n".join(text)

    def _repr_html_(self) -> str:
        html = f"<p><b>{self.method}</b></p>" + self.tidy().to_html(index=False)
        if len(self.groups) > 1:
            html += self._contrast("difference", 0, warn=False).to_html(index=False)
        return html


def rmst(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    tau: float,
    by: str | Sequence[str] | None = None,
    cause: int | None = None,
    conf_level: float = 0.95,
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
    conf_level : float
        Confidence level.

    Returns
    -------
    RMSTResult
        ``.tidy()`` per group (``estimate, std_error, conf_low, conf_high``) and
        ``.contrast(measure="difference" | "ratio")`` between groups (first group as
        reference, with CI and p-value); ``.to_table()``.

    Examples
    --------
    >>> import pandas as pd
    >>> import calcstats as cs
    >>> df = pd.DataFrame({"t": [1, 2, 2, 3, 4, 5], "d": [1, 1, 0, 1, 0, 1]})
    >>> cs.rmst(df, time="t", event="d", tau=4).tidy().round(4)
       estimate  std_error  conf_low  conf_high
    0    2.9444     0.4698    2.0237     3.8652
    """
    with memory_guard("rmst", CURVE_MEMORY_ADVICE):
        conf_level = check_conf_level(conf_level)
        try:
            tau = float(tau)
        except (TypeError, ValueError):
            raise DataError(f"tau must be a positive number, got {tau!r}.") from None
        if not np.isfinite(tau) or tau <= 0:
            raise DataError(f"tau must be a positive number, got {tau!r}.")
        sd = prepare(data, time=time, event=event, by=by)
        d = event_indicator(sd, cause)
        warn_no_events(sd, d, "rmst")
        rt = tabulate(sd.time, sd.group, sd.n_groups, [None, d])
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
                    f"tau={tau:g} is beyond the last follow-up time ({t[-1]:g}){where}; the "
                    "survival curve is unknown there. Choose tau at most the smallest "
                    "group's last follow-up time."
                )
            est, se = _rmst_one(t, nr, ne, tau)
            rows.append({"estimate": est, "std_error": se})
        return RMSTResult(
            pd.DataFrame(rows),
            groups=sd.groups,
            by=sd.by,
            tau=tau,
            conf_level=conf_level,
            cause=cause,
        )
