"""Reading dates strictly: every value a date, missing, ambiguous or an explained problem.

Accepted per value: ISO ``2021-03-04`` (with or without a time, which is dropped, and a
UTC offset such as ``2021-03-04T00:00:00+01:00``, which keeps the local date 2021-03-04),
``2021/03/04``, ``20210304``, ``4 Mar 2021`` / ``March 4, 2021`` / ``04MAR2021``,
``04.03.2021`` (day first), ``04/03/2021`` or ``04-03-2021`` (day or month first: given by
``date_format="dmy"`` or ``"mdy"``, else inferred from the column when some value can only
be read day first (``25/12/2020``) or only month first (``12/25/2020``); a value that is
still ambiguous is a problem), Excel serial day numbers 10000–99999 (1927–2173) and native
date types of parquet, Excel, Stata and SAS files (a time-zone-aware timestamp gives its
local calendar date: 2020-03-01 00:30+01:00 is 2020-03-01, not the UTC date).
``date_format`` may also be an explicit ``strftime`` format, tried first. Two-digit years
are never guessed.

An impossible value says which part is impossible (``month 15 does not exist with
date_format='dmy' (day/month/year); did you mean 'mdy'?``, ``day 31 does not exist in
February 2015``). A column that mixes day-first and month-first dates, or holds values
that are impossible under the chosen ``date_format`` but valid in the other order, also
gets one summary problem (rule ``mixed_date_format``) from :func:`mixed_date_problem`.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import SchemaError
from calcstats.cohort._problems import problem_frame
from calcstats.cohort._text import blank_codes, plain

__all__ = ["ParsedDates", "mixed_date_problem", "parse_dates", "read_dates"]

_ORDER = {"dmy": "day/month/year", "mdy": "month/day/year"}
_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


@dataclass(frozen=True)
class ParsedDates:
    """A date column as read.

    ``dates`` is datetime64[ns] (NaT where missing, invalid or ambiguous); ``invalid``
    marks values given but not a date; ``ambiguous`` day/month-ambiguous values; ``why``
    (object) says which part of an invalid value is impossible (None: unreadable text);
    ``only_dmy`` / ``only_mdy`` mark ``dd/dd/yyyy`` values that are a date in one order only.
    """

    dates: pd.Series
    invalid: np.ndarray
    ambiguous: np.ndarray
    why: np.ndarray
    only_dmy: np.ndarray
    only_mdy: np.ndarray


def _excel_serial(x: np.ndarray) -> np.ndarray:
    """Excel serial day numbers (10000–99999) → datetime64[ns]; NaT elsewhere."""
    x = np.asarray(x, dtype=float)
    ok = np.isfinite(x) & (x >= 10000) & (x < 100000)
    out = np.full(len(x), np.datetime64("NaT"), dtype="datetime64[ns]")
    days = np.floor(x[ok]).astype(np.int64)
    out[ok] = np.datetime64("1899-12-30", "ns") + days.astype("timedelta64[D]")
    return out


def _to_dt(strings: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(strings, format=fmt, errors="coerce")


def _valid(year: Any, month: Any, day: Any) -> Any:
    """Whether (year, month, day) is a calendar date (floats, arrays or Series; NaN is not)."""
    ok_m = (month >= 1) & (month <= 12)
    m = np.where(ok_m, month, 1).astype(int) - 1
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    dim = _DAYS[m] + ((m == 1) & leap)
    return ok_m & (day >= 1) & (day <= dim)


def _impossible(year: int, month: int, day: int) -> str:
    """Which part of a date that is not a calendar date is impossible."""
    if not 1 <= month <= 12:
        return f"month {month} does not exist"
    return f"day {day} does not exist in {calendar.month_name[month]} {year}"


def _dmy_reasons(a, b, y, dots, fmt: str | None) -> list[str]:
    """Why each dd/dd/yyyy value (day or month first) is not a date."""
    out = []
    for x, z, yr, dot in zip(a.astype(int), b.astype(int), y.astype(int), dots, strict=True):
        as_dmy, as_mdy = _impossible(yr, z, x), _impossible(yr, x, z)
        ok_dmy, ok_mdy = bool(_valid(yr, z, x)), bool(_valid(yr, x, z))
        if fmt in _ORDER:
            own, other = (as_dmy, ok_mdy) if fmt == "dmy" else (as_mdy, ok_dmy)
            alt = "mdy" if fmt == "dmy" else "dmy"
            text = f"{own} with date_format={fmt!r} ({_ORDER[fmt]})"
            out.append(text + (f"; did you mean {alt!r}?" if other else ""))
        elif dot:
            out.append(f"{as_dmy} (dates written with dots are day.month.year)")
        elif x > 12 and z > 12:
            out.append(f"neither {x} nor {z} can be a month")
        else:
            out.append(f"not a date as day/month/year ({as_dmy}) nor as month/day/year ({as_mdy})")
    return out


def _parse_unique_dates(uniq: pd.Series, date_format: str | None) -> dict[str, np.ndarray]:
    """Parse distinct date values; returns per-value arrays (see :class:`ParsedDates`)."""
    n = len(uniq)
    out = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    res = {
        "ambiguous": np.zeros(n, dtype=bool),
        "why": np.full(n, None, dtype=object),
        "only_dmy": np.zeros(n, dtype=bool),
        "only_mdy": np.zeros(n, dtype=bool),
    }
    s = uniq.reset_index(drop=True)
    is_str = s.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    # native datetime-like objects and numbers (e.g. from Excel) first
    for i in np.flatnonzero(~is_str):
        v = s.iloc[i]
        if isinstance(v, bool | np.bool_):
            continue
        if isinstance(v, int | float | np.integer | np.floating):
            out.iloc[i] = _excel_serial(np.array([v]))[0]
            continue
        try:
            ts = pd.Timestamp(v)
        except (TypeError, ValueError):
            continue
        if ts is not pd.NaT and ts.tzinfo is not None:
            ts = ts.tz_localize(None)  # the calendar date where it was recorded
        out.iloc[i] = ts
    txt = s.where(is_str, "").astype(str).str.strip()
    todo = pd.Series(is_str, index=txt.index) & out.isna()

    def fill(mask: pd.Series, values: pd.Series) -> None:
        m = mask & todo & values.notna()
        out.loc[m] = values[m]
        todo.loc[m] = False

    if date_format and "%" in date_format:
        fill(todo, _to_dt(txt.where(todo), date_format))
    # the date part of an ISO timestamp: a UTC offset ("Z", "+01:00") keeps the local date
    iso = txt.str.match(
        r"^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
    )
    if (iso & todo).any():
        fill(
            iso,
            pd.to_datetime(
                txt.where(iso & todo)
                .str[:10]
                .str.replace(r"^(\d{4})-(\d{1,2})-(\d{1,2}).*$", r"\1-\2-\3", regex=True),
                format="%Y-%m-%d",
                errors="coerce",
            ),
        )
    ymd_slash = txt.str.match(r"^\d{4}/\d{1,2}/\d{1,2}$")
    if (ymd_slash & todo).any():
        fill(ymd_slash, _to_dt(txt.where(ymd_slash & todo), "%Y/%m/%d"))
    ymd = txt.str.extract(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?!\d)").astype(float)
    bad_ymd = ((iso | ymd_slash) & todo & ymd[0].notna()).to_numpy() & ~_valid(
        ymd[0], ymd[1], ymd[2]
    ).to_numpy()
    for i in np.flatnonzero(bad_ymd):
        res["why"][i] = _impossible(*(int(v) for v in ymd.iloc[i]))
    compact = txt.str.match(r"^\d{8}$")
    if (compact & todo).any():
        fill(compact, _to_dt(txt.where(compact & todo), "%Y%m%d"))
    serial = txt.str.match(r"^\d{5}(\.\d+)?$")
    if (serial & todo).any():
        vals = pd.to_numeric(txt.where(serial & todo), errors="coerce").to_numpy()
        fill(serial, pd.Series(_excel_serial(vals), index=txt.index))
    parts = txt.str.extract(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})$")
    dmy_like = parts[0].notna() & todo
    if dmy_like.any():
        a = pd.to_numeric(parts[0], errors="coerce")
        b = pd.to_numeric(parts[2], errors="coerce")
        y = pd.to_numeric(parts[3], errors="coerce")
        dots = parts[1] == "."
        ok_dmy = _valid(y, b, a).to_numpy()
        ok_mdy = _valid(y, a, b).to_numpy()
        like = dmy_like.to_numpy() & ~dots.to_numpy()
        res["only_dmy"] = like & ok_dmy & ~ok_mdy
        res["only_mdy"] = like & ok_mdy & ~ok_dmy
        if date_format in _ORDER:
            day_first = pd.Series(date_format == "dmy", index=txt.index)
        elif date_format is None or "%" in date_format:
            evidence_d = bool(res["only_dmy"].any())
            evidence_m = bool(res["only_mdy"].any())
            day_first = pd.Series(dots.to_numpy(), index=txt.index) | (
                (a > 12) | (evidence_d and not evidence_m)
            )
            month_first = ~dots & ((b > 12) | (evidence_m and not evidence_d))
            amb = dmy_like & ~day_first & ~month_first & (a != b)
            res["ambiguous"] = amb.to_numpy(dtype=bool)
            dmy_like = dmy_like & ~amb
        else:
            raise SchemaError(
                f"date_format must be 'dmy', 'mdy' or a strftime format such as '%d/%m/%Y'; "
                f"got {date_format!r}."
            )
        day = a.where(day_first, b)
        month = b.where(day_first, a)
        impossible = (dmy_like & ~_valid(y, month, day)).to_numpy()
        if impossible.any():
            res["why"][impossible] = _dmy_reasons(
                a[impossible],
                b[impossible],
                y[impossible],
                dots[impossible].to_numpy(),
                date_format if date_format in _ORDER else None,
            )
        iso_txt = (
            parts[3]
            + "-"
            + month.astype("Int64").astype(str)
            + "-"
            + day.astype("Int64").astype(str)
        )
        fill(
            dmy_like & ~pd.Series(impossible, index=txt.index),
            _to_dt(iso_txt.where(dmy_like), "%Y-%m-%d"),
        )
    if todo.any():
        words = (
            txt.str.replace(",", " ", regex=False)
            .str.replace(r"[\s\-]+", " ", regex=True)
            .str.strip()
        )
        for fmt in ("%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%d%b%Y"):
            if not todo.any():
                break
            fill(todo, _to_dt(words.where(todo), fmt))
    res["dates"] = out.dt.normalize().to_numpy(dtype="datetime64[ns]")
    return res


def read_dates(s: pd.Series, *, date_format: str | None = None) -> ParsedDates:
    """Parse a column of dates strictly (see the module docstring for the forms read)."""
    s = plain(s).reset_index(drop=True)
    n = len(s)
    none = np.zeros(n, dtype=bool)
    no_why = np.full(n, None, dtype=object)
    if pd.api.types.is_datetime64_any_dtype(s):
        vals = s
        if getattr(s.dt, "tz", None) is not None:
            vals = s.dt.tz_localize(None)  # local calendar date, not the UTC one
        return ParsedDates(
            vals.dt.normalize().astype("datetime64[ns]"),
            none,
            none.copy(),
            no_why,
            none.copy(),
            none.copy(),
        )
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        vals = _excel_serial(s.to_numpy(dtype=float, na_value=np.nan))
        dates = pd.Series(vals, dtype="datetime64[ns]")
        invalid = s.notna().to_numpy() & dates.isna().to_numpy()
        return ParsedDates(dates, invalid, none, no_why, none.copy(), none.copy())
    codes, uniques = pd.factorize(s)
    missing = blank_codes(codes, uniques)
    u = _parse_unique_dates(pd.Series(uniques, dtype=object), date_format)
    at = np.where(codes >= 0, codes, len(uniques))  # a sentinel slot for missing values

    def per_row(values: np.ndarray, empty: object) -> np.ndarray:
        return np.append(values, np.array([empty], dtype=values.dtype))[at]

    dates = pd.Series(per_row(u["dates"], np.datetime64("NaT", "ns")))
    amb = per_row(u["ambiguous"], False)
    invalid = ~missing & dates.isna().to_numpy() & ~amb
    return ParsedDates(
        dates,
        invalid,
        amb,
        per_row(u["why"], None),
        per_row(u["only_dmy"], False),
        per_row(u["only_mdy"], False),
    )


def parse_dates(
    s: pd.Series, *, date_format: str | None = None
) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Parse a column of dates strictly.

    Returns
    -------
    (dates, invalid, ambiguous)
        ``dates`` is datetime64[ns] (NaT where missing or invalid); ``invalid`` marks
        values given but not readable as a date; ``ambiguous`` marks day/month-ambiguous
        values (also NaT). :func:`read_dates` also says why a value is impossible.

    Examples
    --------
    >>> d, bad, amb = parse_dates(pd.Series(["2021-03-04", "4 Mar 2021", "31/12/2020", "x"]))
    >>> d.dt.strftime("%Y-%m-%d").tolist()[:3], bad.tolist()
    (['2021-03-04', '2021-03-04', '2020-12-31'], [False, False, False, True])
    """
    p = read_dates(s, date_format=date_format)
    return p.dates, p.invalid, p.ambiguous


def _example(raw: pd.Series, mask: np.ndarray) -> str:
    i = int(np.flatnonzero(mask)[0])
    return f"row {i} {str(raw.iloc[i]).strip()!r}"


def mixed_date_problem(
    table: str, column: str, raw: pd.Series, parsed: ParsedDates, date_format: str | None
) -> pd.DataFrame | None:
    """One summary problem when a column mixes day-first and month-first dates.

    Without ``date_format``: some values can only be day/month/year and others only
    month/day/year. With ``date_format="dmy"`` (``"mdy"``): some values are impossible in
    that order but valid in the other, so the other values of the column, read in the
    chosen order, may be wrong.

    Examples
    --------
    >>> raw = pd.Series(["25/12/2020", "12/25/2020", "03/04/2020"])
    >>> p = mixed_date_problem("events", "event_date", raw, read_dates(raw), None)
    >>> p["rule"].item(), p["message"].item()[:63]
    ('mixed_date_format', 'events: column event_date mixes day-first and month-first dates')
    """
    raw = raw.reset_index(drop=True)
    d, m = parsed.only_dmy, parsed.only_mdy
    if date_format in _ORDER:
        against = m if date_format == "dmy" else d
        if not against.any():
            return None
        other = "mdy" if date_format == "dmy" else "dmy"
        what = (
            f"column {column} has {int(against.sum())} value(s) that are impossible with "
            f"date_format={date_format!r} ({_ORDER[date_format]}) but valid as "
            f"{_ORDER[other]} (e.g. {_example(raw, against)}): the column seems to mix "
            f"day-first and month-first dates, so its other values, read as "
            f"{_ORDER[date_format]}, may be wrong"
        )
        fix = (
            "check the column where it was exported and write every date as YYYY-MM-DD; "
            f"if the whole column is {_ORDER[other]}, pass date_format={other!r}"
        )
    else:
        if not (d.any() and m.any()):
            return None
        what = (
            f"column {column} mixes day-first and month-first dates: {int(d.sum())} value(s) "
            f"can only be day/month/year (e.g. {_example(raw, d)}) and {int(m.sum())} only "
            f"month/day/year (e.g. {_example(raw, m)}); each is read in the only order "
            f"possible, and the {int(parsed.ambiguous.sum())} value(s) that could be either "
            "are reported as ambiguous_date"
        )
        fix = (
            "write every date as YYYY-MM-DD, or correct the values written in the other "
            "order at their source"
        )
    return problem_frame(table, None, None, column, None, "mixed_date_format", what, fix)
