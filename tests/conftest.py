"""Shared test fixtures, and the hypothesis profiles.

Hypothesis draws new examples on every run. In CI (``CI`` set to anything but
``""``, ``0``, ``false`` or ``no``) the ``ci`` profile is loaded: examples are
derandomised (the same ones on every run, derived from each test), without the example
database and without deadlines, so the suite cannot fail at random. Locally the
``dev`` profile keeps drawing new examples (and replays failures from
``.hypothesis/``); ``HYPOTHESIS_PROFILE=ci`` reproduces a CI run. Tests must not set
``derandomize``, ``database`` or ``@seed`` themselves (tests/test_hypothesis_profile.py
checks), and every example that once failed is pinned with ``@example``. (Recent
hypothesis versions switch to a similar built-in profile whenever ``CI`` is set at all,
even to ``false``; the project supports hypothesis >= 6.80, so the profile is explicit.)
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import sys
import time
from pathlib import Path

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)


# locally: new random examples every run, but no deadline (timing is not what these tests
# check, and a loaded machine would make them flaky)
settings.register_profile("dev", derandomize=False, deadline=None, print_blob=True)


def in_ci() -> bool:
    """True when the ``CI`` environment variable is set to a true value."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if in_ci() else "dev"))

REFERENCE = Path(__file__).parent / "reference"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(scope="session")
def pbc_reference() -> dict:
    """Values R printed on the Mayo PBC data (tests/reference/pbc_reference.json)."""
    return json.loads((REFERENCE / "pbc_reference.json").read_text())["values"]


@contextlib.contextmanager
def _another_day(days: int):
    """Move the clock ``days`` ahead for the file writers' stacks (a small freezegun).

    Shifts ``time.time``/``time_ns``/``localtime``/``gmtime``/``ctime``/``strftime`` and
    ``datetime.datetime.now``/``utcnow``/``today`` and ``datetime.date.today`` as seen
    through the ``datetime`` module and through the names imported from it by calcstats,
    python-docx, openpyxl, matplotlib and Pillow.
    """
    real_dt, real_date = _dt.datetime, _dt.date
    shift = _dt.timedelta(days=days).total_seconds()
    real_time, real_time_ns = time.time, time.time_ns
    real_localtime, real_gmtime = time.localtime, time.gmtime
    real_ctime, real_strftime = time.ctime, time.strftime

    class _Meta(type):
        def __instancecheck__(cls, obj):
            return isinstance(obj, cls._real)

    class FakeDatetime(real_dt, metaclass=_Meta):
        _real = real_dt

        @classmethod
        def now(cls, tz=None):
            return real_dt.fromtimestamp(real_time() + shift, tz)

        @classmethod
        def utcnow(cls):
            return cls.now(_dt.UTC).replace(tzinfo=None)

        @classmethod
        def today(cls):
            return cls.now()

    class FakeDate(real_date, metaclass=_Meta):
        _real = real_date

        @classmethod
        def today(cls):
            return real_date.fromtimestamp(real_time() + shift)

    patches = [
        (time, "time", lambda: real_time() + shift),
        (time, "time_ns", lambda: real_time_ns() + int(shift * 1e9)),
        (time, "localtime", lambda s=None: real_localtime(real_time() + shift if s is None else s)),
        (time, "gmtime", lambda s=None: real_gmtime(real_time() + shift if s is None else s)),
        (time, "ctime", lambda s=None: real_ctime(real_time() + shift if s is None else s)),
        (
            time,
            "strftime",
            lambda f, t=None: real_strftime(f, time.localtime() if t is None else t),
        ),
        (_dt, "datetime", FakeDatetime),
        (_dt, "date", FakeDate),
    ]
    stacks = ("calcstats", "docx", "openpyxl", "matplotlib", "PIL", "zipfile")
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(stacks):
            continue
        for attr, value in list(vars(module).items()):
            if value is real_dt:
                patches.append((module, attr, FakeDatetime))
            elif value is real_date:
                patches.append((module, attr, FakeDate))
    with pytest.MonkeyPatch.context() as mp:
        for target, attr, value in patches:
            mp.setattr(target, attr, value)
        yield


@pytest.fixture()
def another_day():
    """``with another_day(400): ...`` runs the block with the clock 400 days ahead."""
    return _another_day
