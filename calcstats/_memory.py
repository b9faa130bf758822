"""Memory limits: estimate large allocations up front, and never let a bare MemoryError out.

Analyses whose memory grows faster than the data (a k x k matrix for k groups) call
:func:`check_memory` with their estimate before allocating; the public functions run
inside :func:`memory_guard`, which turns a ``MemoryError`` raised anywhere inside them
into a :class:`MemoryLimitError` that names the analysis, the size of the input and what
to do about it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from calcstats._errors import CalcstatsError

__all__ = [
    "CURVE_MEMORY_ADVICE",
    "MemoryLimitError",
    "available_bytes",
    "check_memory",
    "format_bytes",
    "memory_guard",
]


CURVE_MEMORY_ADVICE = (
    "analyse fewer rows or fewer groups (the curves hold one row per group and distinct "
    "time), e.g. round the times to days or restrict the cohort."
)


class MemoryLimitError(CalcstatsError, MemoryError):
    """An analysis needs more memory than the machine has.

    A subclass of both :class:`~calcstats._errors.CalcstatsError` and ``MemoryError``: code
    that already catches ``MemoryError`` keeps working.
    """


def format_bytes(n: float) -> str:
    """A byte count for messages, in decimal units (GB = 10^9 bytes).

    Examples
    --------
    >>> format_bytes(1536), format_bytes(7.2e9)
    ('1.5 kB', '7.2 GB')
    """
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def available_bytes() -> int | None:
    """Memory the system can give this process now (``MemAvailable``), or None if unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def check_memory(n_bytes: float, *, what: str, advice: str) -> None:
    """Raise :class:`MemoryLimitError` if ``n_bytes`` exceeds the memory available now.

    ``what`` says what needs the memory (e.g. ``"logrank with 200 groups"``) and ``advice``
    what the user can change. Unknown available memory: no check (the guard still applies).

    Examples
    --------
    >>> check_memory(1e6, what="a small table", advice="nothing to do.")
    >>> check_memory(1e30, what="The matrix", advice="use fewer groups.")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    calcstats._memory.MemoryLimitError: The matrix would need about ... use fewer groups.
    """
    avail = available_bytes()
    if avail is not None and n_bytes > avail:
        raise MemoryLimitError(
            f"{what} would need about {format_bytes(n_bytes)} of memory, but only "
            f"{format_bytes(avail)} is available; {advice}"
        )


@contextlib.contextmanager
def memory_guard(what: str, advice: str) -> Iterator[None]:
    """Context manager: a ``MemoryError`` inside becomes a :class:`MemoryLimitError`.

    The message names the analysis, keeps numpy's own text (which says how large the
    failed allocation was) and gives ``advice``; the original error is the ``__cause__``.
    A context manager rather than a decorator, so that warnings raised inside keep
    pointing at the user's call.

    Examples
    --------
    >>> with memory_guard("logrank", "use fewer groups."):  # doctest: +ELLIPSIS
    ...     raise MemoryError("Unable to allocate 7.5 GiB")
    Traceback (most recent call last):
    calcstats._memory.MemoryLimitError: logrank ran out of memory (Unable to ...
    """
    try:
        yield
    except MemoryLimitError:
        raise
    except MemoryError as exc:
        detail = str(exc) or "an allocation failed"
        raise MemoryLimitError(f"{what} ran out of memory ({detail}); {advice}") from exc
