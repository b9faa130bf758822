"""Small-cell suppression: primary, secondary (line and cycle rules), fixed point, display."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from calcstats import CalcstatsError, DataError, DataWarning
from calcstats._errors import InvalidParameterError
from calcstats.tables import apply_suppression, suppression_mask, suppression_note
from calcstats.tables._suppress import (
    _augment,
    _bridges,
    _cycle_rule,
    _line_rule,
    _pinned,
)


def relations(shape: tuple[int, int]) -> np.ndarray:
    """The published linear relations of an augmented (r+1) x (c+1) table: every row and
    every column of it sums its cells to its total (last entry)."""
    nr, nc = shape
    rows = []
    for i in range(nr):
        m = np.zeros(shape)
        m[i, :-1] = 1
        m[i, -1] = -1
        rows.append(m.ravel())
    for j in range(nc):
        m = np.zeros(shape)
        m[:-1, j] = 1
        m[-1, j] = -1
        rows.append(m.ravel())
    return np.array(rows)


def determined(hidden: np.ndarray) -> list[tuple[int, int]]:
    """Hidden entries that the relations pin down exactly, given every visible entry:
    e_h lies in the row space of the relations restricted to the hidden entries."""
    cols = np.flatnonzero(hidden.ravel())
    if cols.size == 0:
        return []
    m = relations(hidden.shape)[:, cols]
    rank = np.linalg.matrix_rank(m)
    out = []
    for pos, flat in enumerate(cols):
        e = np.zeros(cols.size)
        e[pos] = 1
        if np.linalg.matrix_rank(np.vstack([m, e])) == rank:
            out.append(tuple(int(v) for v in np.unravel_index(flat, hidden.shape)))
    return out


def lp_range(values: np.ndarray, hidden: np.ndarray, k: int, cell: tuple[int, int]):
    """[min, max] of a hidden entry over all tables a reader finds consistent with the
    display (linear programming; scipy HiGHS): visible entries and relations known,
    "<k" entries in 1..k-1, "*" entries >= k (>= 0 if the entry is in fact 0)."""
    from scipy.optimize import linprog

    hid = hidden.ravel()
    vals = values.ravel().astype(float)
    rel = relations(hidden.shape)
    a_eq, b_eq = rel[:, hid], -rel[:, ~hid] @ vals[~hid]
    bounds = [(1, k - 1) if 1 <= v < k else ((k, None) if v >= k else (0, None)) for v in vals[hid]]
    pos = list(np.flatnonzero(hid)).index(cell[0] * hidden.shape[1] + cell[1])
    out = []
    for sign in (1.0, -1.0):
        c = np.zeros(hid.sum())
        c[pos] = sign
        res = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        out.append(np.inf if res.status == 3 else sign * res.fun)
    return out


def pinned_small_cells(values: np.ndarray, hidden: np.ndarray, k: int) -> list:
    """Small hidden entries whose consistent range holds a single whole number."""
    out = []
    for i, j in np.argwhere(hidden & (values >= 1) & (values < k)):
        lo, hi = lp_range(values, hidden, k, (int(i), int(j)))
        if np.floor(hi + 1e-7) - np.ceil(lo - 1e-7) < 1:
            out.append((int(i), int(j)))
    return out


def test_label_bounds_can_pin_a_cell_and_are_protected():
    # after the line and cycle rules row 0 shows "<5", "*", 50 with total 56: the reader
    # knows "*" >= 5, so "<5" = 56 - 50 - "*" <= 1: exactly 1. One more cell fixes it.
    c = np.array([[1, 5, 50], [40, 45, 60]])
    values = _augment(c)
    hidden = (values >= 1) & (values < 5)
    while _line_rule(values, hidden) or _cycle_rule(values, hidden):
        pass
    assert determined(hidden) == []
    assert pinned_small_cells(values, hidden, 5) == [(0, 0)]
    assert _pinned(values, hidden, 5, 0, 0)
    aug = suppression_mask(c, 5, margins=True)
    assert pinned_small_cells(values, aug, 5) == []
    # the extra cells are interior ones (50 and then 60), not the group sizes
    assert aug.astype(int).tolist() == [[1, 1, 1, 0], [1, 1, 1, 0], [0, 0, 0, 0]]


@settings(max_examples=60, deadline=None)
@given(
    counts=arrays(
        np.int64,
        st.tuples(st.integers(1, 4), st.integers(1, 4)),
        elements=st.one_of(st.integers(0, 6), st.integers(0, 40)),
    ),
    k=st.integers(3, 6),
)
def test_property_cycle_search_matches_linear_programming(counts, k):
    values = _augment(counts)
    hidden = (values >= 1) & (values < k)
    while _line_rule(values, hidden) or _cycle_rule(values, hidden):
        pass
    small = [(int(i), int(j)) for i, j in np.argwhere(hidden & (values >= 1) & (values < k))]
    by_cycles = [cell for cell in small if _pinned(values, hidden, k, *cell)]
    assert by_cycles == pinned_small_cells(values, hidden, k)


def test_primary_only_without_totals():
    c = [[0, 1, 4, 5], [7, 3, 2, 9]]
    mask = suppression_mask(c, 5, protect_totals=False)
    assert mask.tolist() == [[False, True, True, False], [False, True, True, False]]
    aug = suppression_mask(c, 5, protect_totals=False, margins=True)
    assert aug.shape == (3, 5) and not aug[-1].any() and not aug[:, -1].any()


def test_secondary_takes_smallest_cells():
    c = np.array([[2, 50, 7, 9], [30, 40, 60, 70]])
    mask = suppression_mask(c, 5)
    assert mask.astype(int).tolist() == [[1, 0, 1, 0], [1, 0, 1, 0]]
    assert determined(suppression_mask(c, 5, margins=True)) == []


def test_no_small_cells_nothing_hidden():
    c = np.array([[0, 12], [8, 30]])
    assert not suppression_mask(c, 5).any()
    assert not suppression_mask(c, 5, margins=True).any()


def test_single_nonzero_row_needs_its_total_hidden():
    # row 0 is [2, 0, 0]: its total is 2, itself a small count; zeros are never hidden
    c = np.array([[2, 0, 0], [10, 20, 30]])
    aug = suppression_mask(c, 5, margins=True)
    assert aug[0, 0] and aug[0, 3]
    assert not aug[0, 1] and not aug[0, 2]
    assert determined(aug) == []
    with pytest.warns(DataWarning, match="totals of rows \\[0"):
        inner = suppression_mask(c, 5)
    np.testing.assert_array_equal(inner, aug[:-1, :-1])


def test_fixed_point_chain():
    # hiding one secondary cell forces another in its column, and so on
    c = np.array([[1, 6, 50], [40, 7, 60], [45, 48, 8]])
    aug = suppression_mask(c, 5, margins=True)
    for i in range(aug.shape[0]):
        assert aug[i].sum() != 1
    for j in range(aug.shape[1]):
        assert aug[:, j].sum() != 1
    assert determined(aug) == []
    again = aug.copy()
    assert not _line_rule(_augment(c), again) and not _cycle_rule(_augment(c), again)


def test_two_hidden_per_line_is_not_enough():
    # two 4-cycles joined by one cell: every row and column has >= 2 hidden entries, yet
    # the joining cell (0, 2) can be solved for. The cycle rule closes it.
    values = np.arange(1, 26).reshape(5, 5) + 10
    hidden = np.zeros((5, 5), dtype=bool)
    for i, j in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (0, 2)]:
        hidden[i, j] = True
    assert determined(hidden) == [(0, 2)]
    assert _bridges(hidden) == [(0, 2)]
    assert not _line_rule(values, hidden.copy())
    fixed = hidden.copy()
    while _line_rule(values, fixed) or _cycle_rule(values, fixed):
        pass
    assert determined(fixed) == []
    # the closing cell is the smallest candidate linking the two blocks: row 2 or 3 with
    # column 0 or 1 (values 21, 22, 26, 27) -> (2, 0)
    added = np.argwhere(fixed & ~hidden).tolist()
    assert added == [[2, 0]]


@settings(max_examples=100, deadline=None)
@given(
    counts=arrays(
        np.int64,
        st.tuples(st.integers(1, 4), st.integers(1, 5)),
        elements=st.one_of(st.integers(0, 6), st.integers(0, 60)),
    ),
    k=st.integers(2, 6),
)
def test_property_no_hidden_cell_recoverable(counts, k):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        aug = suppression_mask(counts, k, margins=True)
    values = _augment(counts)
    # primary: every published count 1..k-1 (cells and totals) is hidden
    assert aug[(values >= 1) & (values < k)].all()
    # no line of the augmented table has exactly one hidden entry
    assert all(aug[i].sum() != 1 for i in range(aug.shape[0]))
    assert all(aug[:, j].sum() != 1 for j in range(aug.shape[1]))
    # and no hidden entry is pinned down by the totals (linear algebra, not the algorithm)
    assert determined(aug) == []
    # nor a small one by the totals plus what the labels say ("<k" in 1..k-1, "*" >= k),
    # unless nothing is left to hide around it (then the caller is warned)
    if k > 2:
        pinned = pinned_small_cells(values, aug, k)
        for i, j in pinned:
            assert aug[i].all() and aug[:, j].all()
        assert bool(pinned) == any("cannot protect" in str(w.message) for w in caught)
    # display: visible counts unchanged, hidden ones replaced
    body = pd.DataFrame(counts.astype(str))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        inner = suppression_mask(counts, k)
    np.testing.assert_array_equal(inner, aug[:-1, :-1])
    shown = apply_suppression(body, inner, k, counts=counts)
    vis = ~inner
    assert (shown.to_numpy()[vis] == body.to_numpy()[vis]).all()
    small = inner & (counts >= 1) & (counts < k)
    assert (shown.to_numpy()[small] == f"<{k}").all()
    assert (shown.to_numpy()[inner & ~small] == "*").all()


def test_result_does_not_depend_on_input_type():
    c = [[3, 9, 11], [12, 14, 2]]
    a = suppression_mask(c, 5)
    b = suppression_mask(np.array(c, dtype=float), 5)
    d = suppression_mask(pd.DataFrame(c, columns=["x", "y", "z"]), 5)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, d)


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ([1, 2, 3], "2-D"),
        ([[1, -2]], "non-negative whole numbers; found -2 at row 0, column 1"),
        ([[1, 2.5]], "found 2.5"),
        ([[1, np.nan]], "found nan"),
        ([["a", 1]], "2-D table"),
    ],
)
def test_bad_counts(counts, message):
    with pytest.raises(DataError, match=message.replace("(", "\\(")):
        suppression_mask(counts, 5)


@pytest.mark.parametrize("k", [1, 0, 2.5, True, "5"])
def test_bad_k(k):
    with pytest.raises(
        InvalidParameterError, match=r"'k' parameter of suppression_mask must be an integer >= 2"
    ):
        suppression_mask([[1, 2]], k)


def test_apply_suppression_aligns_dataframes():
    body = pd.DataFrame(
        {"label": ["F", "M"], "Yes": ["3 (30.0)", "7 (70.0)"], "No": ["8 (40.0)", "12 (60.0)"]},
        index=[10, 11],
    )
    counts = pd.DataFrame({"Yes": [3, 7], "No": [8, 12]}, index=[10, 11])
    mask = pd.DataFrame(suppression_mask(counts, 5), index=counts.index, columns=counts.columns)
    out = apply_suppression(body, mask, 5, counts=counts)
    assert out.to_dict("list") == {"label": ["F", "M"], "Yes": ["<5", "*"], "No": ["*", "*"]}
    assert body.loc[10, "Yes"] == "3 (30.0)"  # input untouched
    # without counts every hidden cell is "*"
    out2 = apply_suppression(body, mask, 5)
    assert out2.loc[10, "Yes"] == "*"
    with pytest.raises(CalcstatsError, match="not in body"):
        apply_suppression(body, mask.rename(columns={"Yes": "Ja"}), 5)
    with pytest.raises(CalcstatsError, match="shape"):
        apply_suppression(body, np.zeros((2, 2), dtype=bool), 5)


def test_suppression_note():
    assert suppression_note(5) == (
        "<5: count between 1 and 4, not shown. *: not shown so that a small count cannot be "
        "worked out from totals."
    )


@settings(max_examples=100, deadline=None)
@given(hidden=arrays(np.bool_, st.tuples(st.integers(1, 6), st.integers(1, 6))))
def test_bridges_are_exactly_the_solvable_entries(hidden):
    # graph theory (bridges) and linear algebra (row space) agree on any hidden pattern
    assert _bridges(hidden) == sorted(determined(hidden))


def test_all_small_table_cannot_be_protected():
    with pytest.warns(DataWarning, match="cannot protect"):
        aug = suppression_mask([[1, 1]], 3, margins=True)
    assert aug.all()
