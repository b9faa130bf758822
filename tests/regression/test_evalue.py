"""E-values against the worked examples of VanderWeele & Ding (2017) and the formulas."""

from __future__ import annotations

import math

import pytest

from calcstats import CalcstatsError
from calcstats.regression import evalue


def test_paper_example_rr():
    # VanderWeele & Ding (2017), Ann Intern Med: RR 3.9 (1.8-8.7) -> 7.26 and 3.02
    e = evalue(3.9, 1.8, 8.7)
    assert round(e.point, 2) == 7.26
    # the formula on the printed (rounded) limit 1.8 gives exactly 1.8 + sqrt(1.8*0.8) = 3.00;
    # the paper's 3.02 comes from the unrounded lower limit (~1.81)
    assert e.ci == pytest.approx(3.0, rel=1e-12)
    assert round(evalue(3.9, 1.81, 8.7).ci, 2) == 3.02
    assert e.point == pytest.approx(3.9 + math.sqrt(3.9 * 2.9), rel=1e-12)


def test_smoking_lung_cancer_example():
    # Hammond & Horn RR 10.73 (8.02-14.36), the worked example of VanderWeele & Ding (2017)
    # as printed by R EValue::evalues.RR (package vignette): 20.94777 and 15.52336
    e = evalue(10.73, 8.02, 14.36)
    assert e.point == pytest.approx(20.94777, abs=5e-6)
    assert e.ci == pytest.approx(15.52336, abs=5e-6)


def test_protective_estimate_inverted():
    # EValue package documentation: RR 0.80 (0.71-0.91) -> 1.81 and 1.43
    e = evalue(0.80, 0.71, 0.91)
    assert round(e.point, 2) == 1.81
    assert round(e.ci, 2) == 1.43
    assert e.rr_limit == 0.91
    # symmetry: E(RR) == E(1/RR)
    assert evalue(0.5).point == pytest.approx(evalue(2.0).point, rel=1e-12)


def test_ci_covering_one_gives_one():
    assert evalue(1.3, 0.9, 1.8).ci == 1.0
    assert evalue(0.8, 0.6, 1.1).ci == 1.0
    assert evalue(1.0).point == 1.0


def test_or_and_hr_conversions():
    rare = evalue(2.0, 1.2, 3.0, measure="OR", rare=True)
    assert rare.point == pytest.approx(evalue(2.0, 1.2, 3.0).point, rel=1e-12)
    common = evalue(2.0, 1.2, 3.0, measure="OR", rare=False)
    rr = math.sqrt(2.0)
    assert common.point == pytest.approx(rr + math.sqrt(rr * (rr - 1)), rel=1e-12)
    assert common.ci == pytest.approx(evalue(math.sqrt(1.2)).point, rel=1e-12)
    hr = evalue(2.0, measure="HR", rare=False)
    rr_hr = (1 - 0.5 ** math.sqrt(2)) / (1 - 0.5 ** math.sqrt(0.5))
    assert hr.rr == pytest.approx(rr_hr, rel=1e-12)
    assert list(hr.tidy()["quantity"]) == ["point"]
    assert "E-value" in repr(common)


def test_bad_input():
    with pytest.raises(CalcstatsError, match="rare="):
        evalue(2.0, measure="OR")
    with pytest.raises(CalcstatsError, match="positive"):
        evalue(-0.3)
    with pytest.raises(CalcstatsError, match="both"):
        evalue(2.0, 1.5)
    with pytest.raises(CalcstatsError, match="not inside"):
        evalue(2.0, 2.5, 3.0)
