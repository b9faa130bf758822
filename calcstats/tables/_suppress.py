"""Small-cell suppression (statistical disclosure control) for count tables.

Published counts of 1 to k−1 patients can identify people, so data custodians forbid
them; the threshold is theirs to set (common choices: k = 5; k = 11 in the US CMS
cell-size suppression policy, which bans counts 1–10; NHS Digital's Hospital Episode
Statistics replace 1–7). Hiding the small cell alone is not enough when totals are
printed: if a row has one hidden cell, the row total gives it back. ``suppression_mask``
therefore applies the two steps of cell suppression as described in Hundepool et al.,
*Statistical Disclosure Control* (Wiley, 2012, ch. 4, "primary" and "secondary" or
"complementary" suppression), the method behind tau-ARGUS and the small-cell rules of
national statistics offices and health-data custodians:

Algorithm
---------
The count table is augmented with its margins: row totals as an extra column, column
totals as an extra row and the grand total in the corner. Every row and every column of
the augmented table is then a published linear relation (the cells add up to the total).

1. **Primary suppression**: every entry with value 1..k−1 is hidden — also a small row
   or column total, which is itself a small count. Zeros are not hidden: a zero is not a
   secret, and hiding a structural zero protects nothing.
2. **Secondary suppression, line rule**: a relation (row or column of the augmented table)
   with exactly one hidden entry gives that entry back by subtraction. For each such line
   the smallest visible entry greater than zero is hidden too (ties: the first in
   row-major order). A total is chosen only when no cell of the line qualifies (e.g. a
   row whose only non-zero cell is hidden): the margin is suppressed.
3. **Secondary suppression, cycle rule**: two hidden entries per line are not always
   enough: several lines together can still isolate a cell (two blocks of hidden cells
   joined through one cell). In the bipartite graph whose vertices are the rows and
   columns of the augmented table and whose edges are the hidden entries, a hidden entry
   can be solved for from the published relations exactly when its edge is a *bridge*
   (lies on no cycle; the relations are, up to signs, the incidence matrix of that graph,
   whose null space is spanned by its cycles). For each bridge the smallest positive
   visible entry that closes a cycle through it is hidden.
4. **Secondary suppression, bounds rule**: the labels say more than "hidden": a ``<k``
   entry lies in 1..k−1 and a ``*`` entry is at least k. With these bounds a reader can
   still pin a small cell down (row "<5", "*", total 6: "*" >= 5 forces "<5" = 1). Every
   table consistent with the display differs from the true one by cycles of hidden
   entries, so a small entry can take another value exactly when a cycle through it can
   be walked one step within the bounds — a path search in a directed graph, exact for
   the linear-programming range on whole-number tables (the tests check it against
   scipy's ``linprog``). For each small entry that is pinned, the smallest visible
   entry of its row or column is hidden.
5. Steps 2–4 are repeated until nothing changes (a fixed point). In every step a cell
   is preferred to a total (group sizes and an Overall column are best left visible),
   and a zero is hidden only as a last resort when a relation has no positive visible
   entry left.

Guarantee: no hidden entry can be computed from the visible entries and the totals, and
no small entry can be narrowed to a single value by also using the ``<k`` / ``*`` bounds
— except when every other entry of its row and column is hidden already (a table with
too few counts of k or more), which issues a :class:`~calcstats.DataWarning`. The
width of the remaining range is not otherwise controlled (tau-ARGUS's optimal method
sets protection intervals by linear programming). With k = 2 the label ``<2`` itself
says 1.

Display rule (``apply_suppression``): a primary cell prints as ``"<k"`` (for k = 5,
``"<5"``), a secondary cell as ``"*"``; ``suppression_note(k)`` gives the matching footnote.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import CalcstatsError, DataError, DataWarning, user_stacklevel

__all__ = ["apply_suppression", "suppression_mask", "suppression_note"]


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 2:
        raise CalcstatsError(
            f"The suppression threshold k must be a whole number of at least 2, got {k!r}; "
            "e.g. k=5 hides counts 1 to 4."
        )
    return int(k)


def _check_counts(counts: Any) -> np.ndarray:
    try:
        arr = np.asarray(counts, dtype=float)
    except (TypeError, ValueError):
        raise DataError(
            "counts must be a 2-D table of non-negative whole numbers (an array or a "
            "DataFrame of counts, without totals)."
        ) from None
    if arr.ndim != 2:
        raise DataError(
            f"counts must be 2-D (rows × columns), got an array with {arr.ndim} dimension(s)."
        )
    bad = ~np.isfinite(arr) | (arr < 0) | (arr != np.round(arr))
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise DataError(
            f"counts must be non-negative whole numbers; found {arr[i, j]:g} at row {i}, "
            f"column {j}. Pass the counts, not percentages or missing values."
        )
    return arr.astype(np.int64)


def _augment(c: np.ndarray) -> np.ndarray:
    r, k = c.shape
    a = np.zeros((r + 1, k + 1), dtype=np.int64)
    a[:r, :k] = c
    a[:r, k] = c.sum(axis=1)
    a[r, :k] = c.sum(axis=0)
    a[r, k] = c.sum()
    return a


def _pick(values: np.ndarray, cands: list[tuple[int, int]], margin_r: int, margin_c: int):
    """The entry to hide next: a positive cell before a positive total (totals such as
    group sizes are better left visible), the smallest first, then row-major order; a
    zero only when nothing positive is left."""
    if not cands:
        return None

    def key(rc: tuple[int, int]) -> tuple[int, int, int, int, int]:
        i, j = rc
        v = int(values[i, j])
        return (v == 0, int(i == margin_r or j == margin_c), v, i, j)

    return min(cands, key=key)


def _line_rule(values: np.ndarray, hidden: np.ndarray) -> bool:
    nr, nc = values.shape
    changed = False
    for axis in (0, 1):
        for line in range(nr if axis == 0 else nc):
            sel = hidden[line, :] if axis == 0 else hidden[:, line]
            if sel.sum() != 1:
                continue
            if axis == 0:
                cands = [(line, j) for j in range(nc) if not hidden[line, j]]
            else:
                cands = [(i, line) for i in range(nr) if not hidden[i, line]]
            choice = _pick(values, cands, nr - 1, nc - 1)
            if choice is not None:
                hidden[choice] = True
                changed = True
    return changed


def _component(hidden: np.ndarray, start: tuple[str, int], skip: tuple[int, int]) -> set:
    """Vertices reachable from ``start`` in the hidden-entry graph without edge ``skip``."""
    seen = {start}
    stack = [start]
    while stack:
        kind, idx = stack.pop()
        if kind == "r":
            nbrs = [("c", int(j)) for j in np.flatnonzero(hidden[idx, :]) if (idx, j) != skip]
        else:
            nbrs = [("r", int(i)) for i in np.flatnonzero(hidden[:, idx]) if (i, idx) != skip]
        for v in nbrs:
            if v not in seen:
                seen.add(v)
                stack.append(v)
    return seen


def _bridges(hidden: np.ndarray) -> list[tuple[int, int]]:
    """Hidden entries whose edge is a bridge of the row–column graph (Tarjan's
    low-link algorithm, iterative), sorted by position."""
    nr, nc = hidden.shape
    adj: list[list[int]] = [[] for _ in range(nr + nc)]
    for i, j in np.argwhere(hidden):
        adj[int(i)].append(nr + int(j))
        adj[nr + int(j)].append(int(i))
    disc = [-1] * (nr + nc)
    low = [0] * (nr + nc)
    timer = 0
    out: list[tuple[int, int]] = []
    for root in range(nr + nc):
        if disc[root] != -1 or not adj[root]:
            continue
        disc[root] = low[root] = timer
        timer += 1
        stack = [(root, -1, iter(adj[root]))]
        while stack:
            v, parent, it = stack[-1]
            for w in it:
                if w == parent:
                    continue  # no parallel edges: (row, column) pairs are unique
                if disc[w] == -1:
                    disc[w] = low[w] = timer
                    timer += 1
                    stack.append((w, v, iter(adj[w])))
                    break
                low[v] = min(low[v], disc[w])
            else:
                stack.pop()
                if parent != -1:
                    low[parent] = min(low[parent], low[v])
                    if low[v] > disc[parent]:
                        a, b = (parent, v) if parent < nr else (v, parent)
                        out.append((a, b - nr))
    return sorted(out)


def _cycle_rule(values: np.ndarray, hidden: np.ndarray) -> bool:
    nr, nc = values.shape
    for i, j in _bridges(hidden):
        side_r = _component(hidden, ("r", i), (i, j))
        side_c = _component(hidden, ("c", j), (i, j))
        rows = [u for kind, u in side_c if kind == "r"]
        cols = [v for kind, v in side_r if kind == "c"]
        cands = [(u, v) for u in rows for v in cols if not hidden[u, v]]
        choice = _pick(values, cands, nr - 1, nc - 1)
        if choice is None:  # pragma: no cover - a bridge always has a closing entry
            continue
        hidden[choice] = True
        return True
    return False


def _slack(values: np.ndarray, k: int, i: int, j: int) -> tuple[bool, bool]:
    """Whether hidden entry (i, j) can move up / down by one, as far as a reader knows:
    a ``<k`` entry lies in 1..k−1, a ``*`` entry is at least k (at least 0 if it is 0).
    Returned in the sign convention of the cycle graph, where row and column totals
    (but not the grand total) count negatively."""
    v = values[i, j]
    if 1 <= v < k:
        up, down = v < k - 1, v > 1
    elif v >= k:
        up, down = True, v > k
    else:
        up, down = True, False
    nr, nc = values.shape
    flipped = (i == nr - 1) != (j == nc - 1)  # a row or column total, not the corner
    return (down, up) if flipped else (up, down)


def _pinned(values: np.ndarray, hidden: np.ndarray, k: int, i: int, j: int) -> bool:
    """True if the reader can work out hidden entry (i, j) exactly.

    Every table consistent with what is shown differs from the true one by a sum of
    cycles of hidden entries (alternately +1 and −1 around each cycle). The entry can
    take another value exactly when some cycle through it can be walked one step
    without leaving the bounds the labels imply: a path in the graph with an arc
    row → column for each entry that can go up and column → row for each that can go
    down. (For whole-number tables this is exact for the linear-programming range.)
    """
    up, down = _slack(values, k, i, j)
    out_arcs: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for u, v in map(tuple, np.argwhere(hidden)):
        if (u, v) == (i, j):
            continue
        can_up, can_down = _slack(values, k, int(u), int(v))
        if can_up:
            out_arcs.setdefault(("r", int(u)), []).append(("c", int(v)))
        if can_down:
            out_arcs.setdefault(("c", int(v)), []).append(("r", int(u)))

    def reach(src: tuple[str, int], dst: tuple[str, int]) -> bool:
        seen, stack = {src}, [src]
        while stack:
            x = stack.pop()
            if x == dst:
                return True
            for y in out_arcs.get(x, ()):
                if y not in seen:
                    seen.add(y)
                    stack.append(y)
        return False

    if up and reach(("c", j), ("r", i)):
        return False
    return not (down and reach(("r", i), ("c", j)))


def _interval_rule(
    values: np.ndarray, hidden: np.ndarray, k: int, stuck: set[tuple[int, int]]
) -> bool:
    """For each small hidden entry the reader can pin down, hide the smallest visible
    entry of its row or column (one per row/column per round). Entries whose row and
    column are already fully hidden cannot be helped: they are added to ``stuck``."""
    if k == 2:
        return False  # "<2" itself says 1: nothing more can be protected
    nr, nc = values.shape
    changed = False
    touched: set[tuple[str, int]] = set()
    for i, j in map(tuple, np.argwhere(hidden & (values >= 1) & (values < k))):
        i, j = int(i), int(j)
        if ("r", i) in touched or ("c", j) in touched or not _pinned(values, hidden, k, i, j):
            continue
        cands = [(i, v) for v in range(nc) if not hidden[i, v]]
        cands += [(u, j) for u in range(nr) if not hidden[u, j]]
        choice = _pick(values, cands, nr - 1, nc - 1)
        if choice is None:
            stuck.add((i, j))
            continue
        hidden[choice] = True
        touched.update({("r", i), ("c", j), ("r", choice[0]), ("c", choice[1])})
        changed = True
    return changed


def suppression_mask(
    counts: Any, k: int, *, protect_totals: bool = True, margins: bool = False
) -> np.ndarray:
    """Cells to hide so that no count 1..k−1 is shown or can be worked out from totals.

    Parameters
    ----------
    counts : array-like or DataFrame
        2-D table of non-negative whole numbers, rows × columns, WITHOUT totals.
    k : int
        Threshold: counts 1 to k−1 are hidden (primary suppression).
    protect_totals : bool, default True
        The row, column and grand totals are published (e.g. an "Overall" column and
        group sizes in the header): apply secondary suppression so no hidden count can be
        recovered from them, and treat a small total as a small count. False: primary
        suppression only (for displays without totals).
    margins : bool, default False
        Return the mask of the table augmented with totals, shape (rows + 1, columns + 1):
        last column the row totals, last row the column totals, corner the grand total.
        With ``margins=False`` a hidden total cannot be shown in the returned mask, so a
        :class:`~calcstats.DataWarning` names the totals that must be hidden too.

    Returns
    -------
    numpy.ndarray of bool
        True where the entry must be hidden.

    Notes
    -----
    See the module docstring of ``calcstats.tables._suppress`` for the algorithm, its
    guarantee and the guidance it follows.

    Examples
    --------
    >>> suppression_mask([[2, 10, 12], [20, 30, 25]], 5).astype(int)
    array([[1, 1, 0],
           [1, 1, 0]])
    """
    k = _check_k(k)
    c = _check_counts(counts)
    if not protect_totals:
        mask = (c >= 1) & (c < k)
        if margins:
            out = np.zeros((c.shape[0] + 1, c.shape[1] + 1), dtype=bool)
            out[:-1, :-1] = mask
            return out
        return mask
    a = _augment(c)
    hidden = (a >= 1) & (a < k)
    stuck: set[tuple[int, int]] = set()
    while _line_rule(a, hidden) or _cycle_rule(a, hidden) or _interval_rule(a, hidden, k, stuck):
        stuck.clear()
    if stuck:
        import warnings

        warnings.warn(
            f"Small-cell suppression cannot protect the entries {sorted(stuck)} (0-based, "
            "totals last): every other entry of their rows and columns is hidden already, "
            "yet the totals and the '<k' bounds still give their value. The table has too "
            "few counts of k or more: merge categories or do not publish it.",
            DataWarning,
            stacklevel=user_stacklevel(),
        )
    if margins:
        return hidden
    row_tot = np.flatnonzero(hidden[:-1, -1]).tolist()
    col_tot = np.flatnonzero(hidden[-1, :-1]).tolist()
    if row_tot or col_tot or hidden[-1, -1]:
        import warnings

        parts = []
        if row_tot:
            parts.append(f"the totals of rows {row_tot}")
        if col_tot:
            parts.append(f"the totals of columns {col_tot}")
        if hidden[-1, -1]:
            parts.append("the grand total")
        warnings.warn(
            "Small-cell suppression also requires hiding "
            + " and ".join(parts)
            + " (0-based); call suppression_mask(..., margins=True) to get their mask.",
            DataWarning,
            stacklevel=user_stacklevel(),
        )
    return hidden[:-1, :-1].copy()


def suppression_note(k: int) -> str:
    """The footnote that explains the display rule of :func:`apply_suppression`.

    Examples
    --------
    >>> suppression_note(5).split(". ")[0]
    '<5: count between 1 and 4, not shown'
    """
    k = _check_k(k)
    return (
        f"<{k}: count between 1 and {k - 1}, not shown. *: not shown so that a small count "
        "cannot be worked out from totals."
    )


def apply_suppression(body: pd.DataFrame, mask: Any, k: int, *, counts: Any = None) -> pd.DataFrame:
    """Replace hidden cells of a display table with ``"<k"`` or ``"*"``.

    The whole display cell is replaced (``"3 (1.5)"`` becomes ``"<5"``), since a
    percentage gives the count back.

    Parameters
    ----------
    body : pandas.DataFrame
        Display strings.
    mask : array-like or DataFrame of bool
        Cells to hide, from :func:`suppression_mask`. A DataFrame is aligned to ``body``
        by index and column labels (it may cover only some rows and columns); an array
        must have the shape of ``body``.
    k : int
        The threshold used for the mask.
    counts : array-like or DataFrame, optional
        The counts behind the masked cells (same layout as ``mask``). With counts, a
        hidden count 1..k−1 prints as ``"<k"`` and other hidden cells as ``"*"``; without
        counts every hidden cell prints as ``"*"``.

    Returns
    -------
    pandas.DataFrame
        A copy of ``body``.

    Examples
    --------
    >>> import pandas as pd
    >>> body = pd.DataFrame({"a": ["2 (10%)", "18 (90%)"], "b": ["9 (45%)", "11 (55%)"]})
    >>> counts = [[2, 9], [18, 11]]
    >>> apply_suppression(body, suppression_mask(counts, 5), 5, counts=counts)
        a  b
    0  <5  *
    1   *  *
    """
    k = _check_k(k)
    if not isinstance(body, pd.DataFrame):
        raise CalcstatsError(f"body must be a pandas DataFrame, got {type(body).__name__}.")

    def aligned(x: Any, name: str, fill: Any) -> pd.DataFrame:
        if isinstance(x, pd.DataFrame):
            extra_r = x.index.difference(body.index)
            extra_c = x.columns.difference(body.columns)
            if len(extra_r) or len(extra_c):
                raise CalcstatsError(
                    f"{name} has rows {list(extra_r)} / columns {list(extra_c)} that are not "
                    "in body; give it the same labels as the cells it covers."
                )
            return x.reindex(index=body.index, columns=body.columns, fill_value=fill)
        arr = np.asarray(x)
        if arr.shape != body.shape:
            raise CalcstatsError(
                f"{name} has shape {arr.shape} but body has shape {body.shape}; pass a "
                "DataFrame labelled like body to cover only part of it."
            )
        return pd.DataFrame(arr, index=body.index, columns=body.columns)

    hide = aligned(mask, "mask", False).to_numpy(dtype=bool)
    labels = np.full(body.shape, "*", dtype=object)
    if counts is not None:
        cnt = aligned(counts, "counts", 0).to_numpy(dtype=float)
        small = (cnt >= 1) & (cnt < k)
        labels[small] = f"<{k}"
    values = body.to_numpy(dtype=object, copy=True)
    values[hide] = labels[hide]
    return pd.DataFrame(values, index=body.index, columns=body.columns)
