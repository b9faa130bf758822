"""Tests for calcstats.plot.theme and save_figure."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import matplotlib as mpl
import matplotlib.pyplot as plt
import pytest
from PIL import Image

from calcstats import CalcstatsError
from calcstats.plot import OKABE_ITO, save_figure, theme


def test_import_does_not_touch_rcparams():
    code = (
        "import matplotlib as mpl; before = dict(mpl.rcParams); import calcstats; "
        "import calcstats.plot; after = dict(mpl.rcParams); "
        "print(sorted(k for k in before if before[k] != after[k]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_theme_as_context_manager_restores():
    before = mpl.rcParams["font.size"]
    with theme("jhep", font_scale=1.5) as t:
        assert mpl.rcParams["font.size"] == pytest.approx(8.0 * 1.5)
        assert mpl.rcParams["pdf.fonttype"] == 42
        assert t.style.width_mm(2) == 190.0
    assert mpl.rcParams["font.size"] == before


def test_theme_as_decorator_and_setter():
    @theme("nature")
    def size() -> float:
        return mpl.rcParams["font.size"]

    before = mpl.rcParams["font.size"]
    assert size() == 7.0
    assert mpl.rcParams["font.size"] == before
    with mpl.rc_context():
        theme().apply()
        colors = mpl.rcParams["axes.prop_cycle"].by_key()["color"]
        assert [c.upper() for c in colors] == list(OKABE_ITO)


def test_theme_bad_journal():
    with pytest.raises(CalcstatsError, match="Unknown journal theme 'lancet'"):
        theme("lancet")
    with pytest.raises(CalcstatsError, match=r"columns must be 1, 1\.5 or 2"):
        theme("jhep").style.width_mm(3)


def _figure():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1, 2], [1, 0.8, 0.5], label="curve")
    ax.set_title("Test figure")
    return fig


def test_save_figure_exact_width_and_formats(tmp_path):
    fig = _figure()
    out = save_figure(
        fig, tmp_path / "fig.png", width_mm=90, dpi=300, formats=("pdf", "png", "tiff", "svg")
    )
    assert [p.suffix for p in out] == [".pdf", ".png", ".tiff", ".svg"]
    with Image.open(out[1]) as img:
        width_px = img.size[0]
    assert abs(width_px - 90 / 25.4 * 300) <= 1  # matplotlib floors to whole pixels
    with Image.open(out[2]) as img:
        assert img.info.get("compression") == "tiff_lzw"
    # height keeps the aspect ratio 4:3
    assert fig.get_size_inches()[1] == pytest.approx(90 / 25.4 * 0.75)


def test_save_figure_pdf_fonts_are_truetype_and_deterministic(tmp_path):
    a = save_figure(_figure(), tmp_path / "a", width_mm=85, formats=("pdf", "svg"))
    b = save_figure(_figure(), tmp_path / "b", width_mm=85, formats=("pdf", "svg"))
    for pa, pb in zip(a, b, strict=True):
        assert hashlib.sha256(pa.read_bytes()).digest() == hashlib.sha256(pb.read_bytes()).digest()
    pdf = a[0].read_bytes()
    assert b"/Type3" not in pdf
    assert b"/TrueType" in pdf or b"/CIDFontType2" in pdf


def test_save_figure_errors(tmp_path):
    fig = _figure()
    with pytest.raises(CalcstatsError, match="Unsupported format"):
        save_figure(fig, tmp_path / "x", formats=("bmp",))
    with pytest.raises(CalcstatsError, match="width_mm must be a positive"):
        save_figure(fig, tmp_path / "x", width_mm=0)
    with pytest.raises(CalcstatsError, match="expects a matplotlib Figure"):
        save_figure(fig.axes[0], tmp_path / "x")
    with pytest.raises(CalcstatsError, match="has no suffix"):
        save_figure(fig, tmp_path / "x", formats=None)


def test_save_figure_lays_a_calcstats_figure_out_again(tmp_path):
    from calcstats.plot._style import register_layout

    fig = _figure()
    calls = []
    register_layout(fig, calls.append)
    save_figure(fig, tmp_path / "a", width_mm=90, formats=("png",))
    save_figure(fig, tmp_path / "b", height_mm=50, formats=("png",))
    save_figure(fig, tmp_path / "c", formats=("png",))  # no new size: nothing to redo
    assert calls == [False, True]  # keep_height only when the height was given
