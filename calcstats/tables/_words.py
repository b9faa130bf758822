"""Words for titles and footnotes: labels inside sentences, events and person-time.

Every table writes its notes from the result's typed attributes and the display labels,
never from column names or code, so a note reads "Rate of cirrhosis per 1,000
person-years", not "Rate of status = 1 per 1,000 units of person-time".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from calcstats.labels import Labels

__all__ = ["and_join", "event_name", "in_prose", "person_time", "plain"]

_TIME_UNITS = {"years", "months", "weeks", "days"}


def in_prose(text: str) -> str:
    """A label inside a sentence: "Age at index" → "age at index"; acronyms ("INR",
    "MASLD") and names that start with two capitals stay as they are.

    Examples
    --------
    >>> in_prose("Any calcification"), in_prose("INR"), in_prose("Body-mass index")
    ('any calcification', 'INR', 'body-mass index')
    """
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def and_join(items: Sequence[str], word: str = "and") -> str:
    """ "a", "a and b", "a, b and c"."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value (labels are keyed by Python values)."""
    return value.item() if hasattr(value, "item") and not isinstance(value, str) else value


def event_name(lab: Labels, event: str, cause: Any) -> str:
    """The event counted, in words: the label of the code ``cause`` of ``event`` ("liver
    transplant") when labelled, else the column label with the code ("status 1"); for a
    0/1 event column (``cause`` None), the column's label ("death"), or "events" when that
    is only the generic "Status" or "Event".

    Examples
    --------
    >>> lab = Labels(levels={"status": {1: "Cirrhosis"}})
    >>> event_name(lab, "status", 1), event_name(lab, "status", 2), event_name(lab, "died", None)
    ('cirrhosis', 'status 2', 'died')
    >>> event_name(Labels.default(), "status", None)
    'events'
    """
    if cause is None:
        name = lab.name(event)
        return "events" if name in ("Status", "Event") else in_prose(name)
    levels = lab.levels.get(event, {})
    code = plain(cause)
    if any(k == code or str(k) == str(code) for k in levels):
        return in_prose(lab.level(event, code))
    return f"{in_prose(lab.name(event))} {lab.level(event, code)}"


def person_time(lab: Labels, time: str) -> str:
    """ "person-years" when ``time`` is in years (likewise months, weeks, days), else
    "units of person-time".

    Examples
    --------
    >>> person_time(Labels.cohort(), "time"), person_time(Labels.default(), "time")
    ('person-years', 'units of person-time')
    """
    unit = lab.unit(time)
    return f"person-{unit}" if unit in _TIME_UNITS else "units of person-time"
