"""The one time/event/cause input check of every survival function.

``kaplan_meier``, ``cumulative_incidence``, ``logrank``, ``gray_test``, ``rmst``, ``cox``,
``fine_gray``, ``incidence_rate``, ``rate_ratio``, the multi-state and the interval-censored
functions all read their outcome columns here, by one set of rules with one set of
messages:

* ``time`` (and ``start``) numeric, finite, ≥ 0, and ``start < time`` on every row;
* ``event`` 0/1 or ``True``/``False`` for a single outcome, or integer codes 0 = censored,
  1..k = cause k. With codes above 1 a ``cause=`` is required (the other codes then count
  as censored), except where the function models competing causes itself;
* ``cause`` a positive code present in the data;
* ``weights`` by the shared rule of :func:`calcstats._validation.check_weights` (zero
  weights set aside and counted);
* ``by``, ``strata`` and ``cluster`` columns without missing values; groups are the
  sorted levels (a Categorical's own order), only those present.

Missing values are an error naming the column and rows (``missing="error"``, curves and
descriptive functions) or were already dropped with a warning by the design builder
(models).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from calcstats._design import Design, build_design
from calcstats._errors import CalcstatsWarning, DataError, InvalidParameterError, SchemaError
from calcstats._errors import user_stacklevel as user_stacklevel
from calcstats._validation import check_weights, require_columns

__all__ = [
    "OutcomeSummary",
    "SurvivalInput",
    "as_names",
    "check_cause",
    "model_input",
    "survival_input",
    "user_stacklevel",
    "warn_group_events",
    "warn_no_events",
]

_PACKAGE = str(Path(__file__).resolve().parent)


@dataclass
class SurvivalInput:
    """Validated outcome arrays of one survival analysis (the analysed rows only).

    Attributes
    ----------
    data : pandas.DataFrame
        The analysed rows (original index labels).
    time : numpy.ndarray
        Follow-up (stop) times.
    start : numpy.ndarray or None
        Interval start times (counting-process data).
    codes : numpy.ndarray
        Integer event codes, 0 = censored.
    event : numpy.ndarray
        1.0 where the event of interest happened (``codes == cause``, or ``codes == 1``).
    cause : int or None
    weights : numpy.ndarray or None
        Positive case weights (zero-weight rows are set aside).
    group, groups, by : numpy.ndarray, pandas.DataFrame, list of str
        0-based group index per row, the group labels (one row per group) and columns.
    stratum, strata, strata_columns : numpy.ndarray, pandas.DataFrame, list of str
        The same for strata.
    cluster : numpy.ndarray or None
        0-based cluster codes (``cluster=``, e.g. the patient).
    columns : dict
        The input column of each role (``time``, ``event``, ``start``, ``weights``,
        ``cluster``).
    n_zero_weight : int
        Rows set aside for a zero weight.
    """

    data: pd.DataFrame
    time: np.ndarray
    start: np.ndarray | None
    codes: np.ndarray
    event: np.ndarray
    cause: int | None
    weights: np.ndarray | None
    group: np.ndarray
    groups: pd.DataFrame
    by: list[str]
    stratum: np.ndarray
    strata: pd.DataFrame
    strata_columns: list[str]
    cluster: np.ndarray | None
    columns: dict[str, str | None] = field(default_factory=dict)
    n_zero_weight: int = 0

    @property
    def n(self) -> int:
        return len(self.time)

    @property
    def n_groups(self) -> int:
        return len(self.groups)

    @property
    def n_strata(self) -> int:
        return len(self.strata)

    @property
    def time_column(self) -> str:
        return str(self.columns["time"])

    @property
    def event_column(self) -> str:
        return str(self.columns["event"])


class OutcomeSummary(Protocol):
    """What a result needs of the checked input: a :class:`SurvivalInput` (pandas) or an
    :class:`~calcstats._engine_input.EngineInput` (an engine table) answers it."""

    cause: int | None
    groups: pd.DataFrame
    by: list[str]
    n_zero_weight: int

    @property
    def n_groups(self) -> int: ...

    @property
    def n_strata(self) -> int: ...

    @property
    def time_column(self) -> str: ...

    @property
    def event_column(self) -> str: ...


def warn_no_events(si: SurvivalInput, d: np.ndarray, what: str) -> None:
    """Warn (:class:`~calcstats.CalcstatsWarning`) when there are no events, or a group has none.

    ``d`` holds each analysed row's event indicator (or event weight); ``what`` names the
    analysis in the message (e.g. ``"kaplan_meier"``, ``"gray_test, cause 2"``).
    """
    warn_group_events(si, np.bincount(si.group, weights=d, minlength=si.n_groups), what)


def warn_group_events(si: OutcomeSummary, events: np.ndarray, what: str) -> None:
    """:func:`warn_no_events` from the events (or event weights) of each group."""
    if not np.any(events > 0):
        warnings.warn(
            f"no events in column {si.event_column!r} ({what}): every observation is "
            "censored, so the curve stays at its starting value.",
            CalcstatsWarning,
            stacklevel=user_stacklevel(),
        )
        return
    if si.n_groups > 1:
        for gi in np.flatnonzero(events == 0):
            label = ", ".join(f"{k}={v!r}" for k, v in si.groups.iloc[gi].items())
            warnings.warn(
                f"group {label} has no events in column {si.event_column!r} ({what}).",
                CalcstatsWarning,
                stacklevel=user_stacklevel(),
            )


def as_names(value: str | Sequence[str] | None, what: str, function: str) -> list[str]:
    """Normalise ``by``/``strata`` to a list of column names."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    try:
        names = list(value)
    except TypeError:
        raise InvalidParameterError(
            f"The {what!r} parameter of {function} must be a column name or a list of column "
            f"names. Got {value!r}."
        ) from None
    for name in names:
        if not isinstance(name, str):
            raise InvalidParameterError(
                f"The {what!r} parameter of {function} must hold column names (str). Got {name!r}."
            )
    return names


def _row(data: pd.DataFrame, pos: int) -> str:
    """The index label of row ``pos``, as the user would type it (``0``, not ``np.int64(0)``)."""
    label = data.index[pos]
    if isinstance(label, tuple):
        label = tuple(x.item() if isinstance(x, np.generic) else x for x in label)
    elif isinstance(label, np.generic):
        label = label.item()
    return repr(label)


def _numeric(data: pd.DataFrame, column: str, role: str, function: str) -> np.ndarray:
    col = data[column]
    if pd.api.types.is_bool_dtype(col):
        col = col.astype(float)
    if not pd.api.types.is_numeric_dtype(col):
        raise SchemaError(
            f"{function}(): {role} column {column!r} must be numeric, found dtype {col.dtype}; "
            "convert it (e.g. pd.to_numeric) before the analysis."
        )
    values = col.to_numpy(dtype=float, na_value=np.nan)
    bad = np.flatnonzero(np.isnan(values))
    if bad.size:
        raise DataError(
            f"{function}(): {role} column {column!r} has {bad.size} missing value(s) (first "
            f"at row {_row(data, bad[0])}); drop or impute these rows before the analysis."
        )
    return values


def _times(data: pd.DataFrame, column: str, role: str, function: str) -> np.ndarray:
    t = _numeric(data, column, role, function)
    bad = np.flatnonzero(~np.isfinite(t))
    if bad.size:
        raise DataError(
            f"{function}(): {role} column {column!r} has {bad.size} infinite value(s) (first "
            f"at row {_row(data, bad[0])}); follow-up times must be finite."
        )
    bad = np.flatnonzero(t < 0)
    if bad.size:
        raise DataError(
            f"{function}(): {role} column {column!r} has {bad.size} negative value(s) (first: "
            f"{float(t[bad[0]]):g} at row {_row(data, bad[0])}); times count from the index "
            "date and must be >= 0 — check the dates they were computed from."
        )
    return t


def _codes(data: pd.DataFrame, column: str, function: str) -> np.ndarray:
    e = _numeric(data, column, "event", function)
    bad = np.flatnonzero((e != np.round(e)) | (e < 0))
    if bad.size:
        raise DataError(
            f"{function}(): event column {column!r} must hold 0 (censored) and positive "
            f"integer event codes (or True/False), found {float(e[bad[0]]):g} at row "
            f"{_row(data, bad[0])}."
        )
    return e.astype(np.int64)


def _factorize(
    data: pd.DataFrame, names: list[str], what: str, function: str
) -> tuple[np.ndarray, pd.DataFrame]:
    """0-based codes of the level combinations of ``names`` (sorted, or category order)."""
    n = len(data)
    if not names:
        return np.zeros(n, dtype=np.int64), pd.DataFrame(index=range(1))
    codes_list, levels_list = [], []
    for name in names:
        col = data[name]
        if col.isna().any():
            where = np.flatnonzero(col.isna().to_numpy())
            raise DataError(
                f"{function}(): {what} column {name!r} has {where.size} missing value(s) "
                f"(first at row {_row(data, where[0])}); drop these rows or give them their "
                "own level."
            )
        try:
            codes, levels = pd.factorize(col, sort=True)
        except TypeError:
            raise SchemaError(
                f"{function}(): {what} column {name!r} mixes value types that cannot be "
                "ordered (e.g. numbers and text); convert it to one type, e.g. .astype(str)."
            ) from None
        codes_list.append(codes.astype(np.int64))
        levels_list.append(np.asarray(levels))
    if len(names) == 1:
        used = np.unique(codes_list[0])
        remap = np.full(len(levels_list[0]), -1, dtype=np.int64)
        remap[used] = np.arange(used.size)
        labels = pd.DataFrame({names[0]: levels_list[0][used]})
        return remap[codes_list[0]], labels
    dims = tuple(len(lv) for lv in levels_list)
    flat = np.ravel_multi_index(tuple(codes_list), dims)
    uniq, inv = np.unique(flat, return_inverse=True)
    parts = np.unravel_index(uniq, dims)
    labels = pd.DataFrame({nm: lv[p] for nm, lv, p in zip(names, levels_list, parts, strict=True)})
    return inv.astype(np.int64), labels


def check_cause(codes: np.ndarray, cause: object, column: str, function: str) -> int:
    """Validate that ``cause`` is a positive integer code present in the event column."""
    present = np.unique(codes)
    if isinstance(cause, bool) or not isinstance(cause, int | np.integer):
        raise InvalidParameterError(
            f"The 'cause' parameter of {function} must be a positive integer event code. "
            f"Got {cause!r}."
        )
    code = int(cause)
    if code < 1:
        raise InvalidParameterError(
            f"The 'cause' parameter of {function} must be a positive integer event code "
            f"(0 is the censoring code). Got {cause!r}."
        )
    if code not in present:
        raise DataError(
            f"{function}(): cause={code} does not occur in event column {column!r} (codes "
            f"present: {present.tolist()}); pick one of the event codes in the data."
        )
    return code


def survival_input(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    function: str,
    cause: int | None = None,
    start: str | None = None,
    weights: str | None = None,
    by: str | Sequence[str] | None = None,
    strata: str | Sequence[str] | None = None,
    cluster: str | None = None,
    competing: bool = False,
) -> SurvivalInput:
    """Check the outcome columns of a survival analysis and return them as arrays.

    Parameters
    ----------
    data : pandas.DataFrame
    time, event : str
        Follow-up time and event columns.
    function : str
        The calling function (messages).
    cause : int, optional
        The event of interest; other codes count as censored.
    start : str, optional
        Interval start (counting-process data).
    weights, by, strata, cluster : optional
        Case weights, grouping, strata and cluster columns.
    competing : bool
        The function models competing causes itself (``cumulative_incidence``,
        ``gray_test``, ``fine_gray``): codes above 1 are allowed without ``cause``.

    Returns
    -------
    SurvivalInput

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"t": [1.0, 2, 3], "e": [1, 0, 2], "g": ["a", "b", "a"]})
    >>> s = survival_input(d, time="t", event="e", cause=2, by="g", function="kaplan_meier")
    >>> s.event.tolist(), s.groups["g"].tolist()
    ([0.0, 0.0, 1.0], ['a', 'b'])
    """
    by_names = as_names(by, "by", function)
    strata_names = as_names(strata, "strata", function)
    require_columns(
        data,
        {
            "time": time,
            "event": event,
            "start": start,
            "weights": weights,
            "by": by_names,
            "strata": strata_names,
            "cluster": cluster,
        },
        function=function,
    )
    n_zero = 0
    if weights is not None:
        w_all = (
            check_weights(data[weights], column=weights, function=function)
            if not data[weights].isna().any()
            else None
        )
        if w_all is None:
            where = np.flatnonzero(data[weights].isna().to_numpy())
            raise DataError(
                f"{function}(): weights column {weights!r} has {where.size} missing value(s) "
                f"(first at row {_row(data, where[0])}); give every row a weight."
            )
        zero = w_all == 0
        n_zero = int(zero.sum())
        if n_zero:
            data = data.loc[~zero]
    if len(data) == 0:
        raise DataError(f"{function}(): the data have no rows; nothing to analyse.")
    t = _times(data, time, "time", function)
    st = None
    if start is not None:
        st = _times(data, start, "start", function)
        bad = np.flatnonzero(st >= t)
        if bad.size:
            raise DataError(
                f"{function}(): {bad.size} row(s) have {start!r} >= {time!r} (first at row "
                f"{_row(data, bad[0])}); each interval must have start < stop."
            )
    codes = _codes(data, event, function)
    if cause is None:
        if not competing and np.any(codes > 1):
            raise DataError(
                f"{function}(): event column {event!r} holds event codes "
                f"{np.unique(codes).tolist()}: more than one event type. Pass cause= (the "
                "code of the event of interest; other codes count as censored), or use "
                "cumulative_incidence for competing risks."
            )
        ev = (codes == 1).astype(float) if not competing else (codes > 0).astype(float)
    else:
        cause = check_cause(codes, cause, event, function)
        ev = (codes == cause).astype(float)
    group, groups = _factorize(data, by_names, "by", function)
    stratum, strata_labels = _factorize(data, strata_names, "strata", function)
    w = data[weights].to_numpy(dtype=float) if weights is not None else None
    cl = None
    if cluster is not None:
        if data[cluster].isna().any():
            where = np.flatnonzero(data[cluster].isna().to_numpy())
            raise DataError(
                f"{function}(): cluster column {cluster!r} has {where.size} missing value(s) "
                f"(first at row {_row(data, where[0])})."
            )
        cl = pd.factorize(data[cluster])[0].astype(np.int64)
    return SurvivalInput(
        data=data,
        time=t,
        start=st,
        codes=codes,
        event=ev,
        cause=cause,
        weights=w,
        group=group,
        groups=groups.reset_index(drop=True),
        by=by_names,
        stratum=stratum,
        strata=strata_labels.reset_index(drop=True),
        strata_columns=strata_names,
        cluster=cl,
        columns={
            "time": time,
            "event": event,
            "start": start,
            "weights": weights,
            "cluster": cluster,
        },
        n_zero_weight=n_zero,
    )


def model_input(
    data: pd.DataFrame,
    formula: str,
    *,
    time: str,
    event: str,
    function: str,
    cause: int | None = None,
    start: str | None = None,
    weights: str | None = None,
    strata: str | Sequence[str] | None = None,
    cluster: str | None = None,
    competing: bool = False,
) -> tuple[Design, SurvivalInput]:
    """Design and outcome of a survival regression, on the same analysed rows.

    Zero-weight rows are set aside first (and counted), then rows with a missing value in
    any model variable are dropped with a :class:`~calcstats.DataWarning` (the design
    builder), then the outcome columns are checked on the rows left.
    """
    strata_names = as_names(strata, "strata", function)
    require_columns(
        data,
        {
            "time": time,
            "event": event,
            "start": start,
            "weights": weights,
            "strata": strata_names,
            "cluster": cluster,
        },
        function=function,
    )
    n_zero = 0
    if weights is not None:
        present = data[weights].notna()
        w_all = check_weights(data.loc[present, weights], column=weights, function=function)
        zero = np.zeros(len(data), dtype=bool)
        zero[np.flatnonzero(present.to_numpy())] = w_all == 0
        n_zero = int(zero.sum())
        if n_zero:
            data = data.loc[~zero]
    extra = [time, event, start, weights, *strata_names, cluster]
    design = build_design(
        data, formula, response=False, intercept=False, extra=extra, model_name=function
    )
    sub = data.iloc[design.rows]
    si = survival_input(
        sub,
        time=time,
        event=event,
        cause=cause,
        start=start,
        weights=weights,
        strata=strata_names or None,
        cluster=cluster,
        function=function,
        competing=competing,
    )
    si.n_zero_weight = n_zero
    return design, si
