"""Image-comparison helper for the flagship figures.

Baselines live in tests/plot/baseline/. They are drawn with matplotlib's bundled DejaVu
Sans (so a machine without Arial renders the same glyphs) at 100 dpi. To regenerate after a
deliberate change: ``CALCSTATS_UPDATE_BASELINES=1 pytest tests/plot`` and look at them.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib as mpl
import pytest
from matplotlib.testing.compare import compare_images

BASELINE = Path(__file__).parent / "baseline"


@pytest.fixture
def match_baseline(tmp_path):
    def check(fig, name: str, tol: float = 6.0) -> None:
        expected = BASELINE / f"{name}.png"
        actual = tmp_path / f"{name}.png"
        fig.savefig(actual, dpi=100)
        if os.environ.get("CALCSTATS_UPDATE_BASELINES") == "1" or not expected.exists():
            if os.environ.get("CALCSTATS_UPDATE_BASELINES") != "1":
                pytest.fail(f"missing baseline {expected}; run with CALCSTATS_UPDATE_BASELINES=1")
            BASELINE.mkdir(exist_ok=True)
            expected.write_bytes(actual.read_bytes())
            return
        diff = compare_images(str(expected), str(actual), tol=tol)
        assert diff is None, diff

    return check


@pytest.fixture
def baseline_style():
    """A fixed style for baseline images: DejaVu Sans, 8 pt."""
    from calcstats.plot import theme

    with theme("general", font="DejaVu Sans"), mpl.rc_context({"font.sans-serif": ["DejaVu Sans"]}):
        yield
