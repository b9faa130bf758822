"""The weight formulas, trimming and Kish's ESS, checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from calcstats.causal._weights import Trim, estimand_weights, kish_ess, trim_weights

E = np.array([0.2, 0.5, 0.8, 0.2, 0.5, 0.8])
T = np.array([1, 1, 1, 0, 0, 0])


@pytest.mark.parametrize(
    ("estimand", "expected"),
    [
        ("ATE", [5.0, 2.0, 1.25, 1.25, 2.0, 5.0]),
        ("ATT", [1.0, 1.0, 1.0, 0.25, 1.0, 4.0]),
        ("ATC", [4.0, 1.0, 0.25, 1.0, 1.0, 1.0]),
        ("ATO", [0.8, 0.5, 0.2, 0.2, 0.5, 0.8]),
    ],
)
def test_estimand_formulas(estimand, expected):
    assert estimand_weights(E, T, estimand) == pytest.approx(expected)


def test_kish_ess_is_n_for_equal_weights_and_smaller_otherwise():
    assert kish_ess(np.full(7, 3.0)) == pytest.approx(7)
    assert kish_ess(np.array([1.0, 1.0, 10.0])) == pytest.approx(144 / 102)
    assert np.isnan(kish_ess(np.array([])))


def test_quantile_trim_uses_the_pooled_type7_quantile():
    w = np.array([1.0, 2, 3, 4, 100])
    out, rec = trim_weights(w, np.array([1, 0, 1, 0, 1]), 0.9)
    cap = 4 + 0.6 * 96  # R: quantile(w, 0.9, type = 7)
    assert rec.cap == pytest.approx(cap)
    assert out.tolist() == pytest.approx([1, 2, 3, 4, cap])
    assert rec == Trim("quantile", 0.9, pytest.approx(cap), 1, 1, 0, 100.0)


def test_fixed_cap_counts_units_per_group():
    out, rec = trim_weights(np.array([12.0, 3, 15, 11]), np.array([1, 1, 0, 0]), 11.5)
    assert out.tolist() == [11.5, 3, 11.5, 11]
    assert (rec.n_trimmed, rec.n_trimmed_treated, rec.n_trimmed_control) == (2, 1, 1)
    assert rec.describe() == (
        "Weights above 11.5 were set to it: 2 units (1 treated, 1 "
        "control); the largest weight was 15."
    )
