"""The hypothesis profiles of tests/conftest.py: CI draws the same examples on every run."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# A property test as the suite writes them (per-test settings without derandomize);
# it prints the examples hypothesis drew.
PROBE = """
import json
import tests.conftest  # loads the profile, as pytest does before importing test modules
from hypothesis import given, settings, strategies as st

drawn = []

@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(-10**6, 10**6), max_size=5))
def prop(xs):
    drawn.append(xs)

prop()
print(json.dumps({"derandomize": settings.default.derandomize,
                  "database": repr(settings.default.database), "drawn": drawn}))
"""


def _probe(ci: str | None, profile: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "HYPOTHESIS_PROFILE")}
    if ci is not None:
        env["CI"] = ci
    if profile is not None:
        env["HYPOTHESIS_PROFILE"] = profile
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_ci_draws_the_same_examples_on_every_run():
    first, second = _probe("true"), _probe("true")
    assert first["derandomize"] is True
    assert first["database"] == "None"  # no replay of examples saved by an earlier run
    assert len(first["drawn"]) > 5
    assert first["drawn"] == second["drawn"]


@pytest.mark.parametrize(
    ("ci", "profile", "derandomized"),
    [
        (None, None, False),
        ("false", None, False),
        ("0", None, False),
        ("1", None, True),
        (None, "ci", True),
    ],
)
def test_profile_follows_the_ci_variable(ci, profile, derandomized):
    assert _probe(ci, profile)["derandomize"] is derandomized


def test_no_test_overrides_the_profile():
    pattern = re.compile(
        r"derandomize\s*=|database\s*=|@seed\(|hypothesis\.seed|load_profile|register_profile"
    )
    offenders = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        if path in (ROOT / "tests" / "conftest.py", Path(__file__).resolve()):
            continue
        text = path.read_text()
        if "hypothesis" not in text:
            continue
        for lineno, line in enumerate(text.splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{lineno}: {line.strip()}")
    assert offenders == []
