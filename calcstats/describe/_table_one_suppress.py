"""Small-cell suppression for ``table_one``.

For every categorical or binary variable the count table levels × groups (plus its
"Missing" row, shown or not, and the 0 level of a binary variable, which is implied by
the group size) goes through :func:`calcstats.tables.suppression_mask` with the
totals protected: the group sizes in the header are the column totals and the Overall
column holds the row totals. Primary cells (1..k−1) print as ``<k``, secondary ones as
``*``; a hidden Overall cell follows the same rule. Group sizes in the header row and
continuous summaries are not suppressed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["suppress_table_one"]


def suppress_table_one(
    body: pd.DataFrame,
    blocks: list[tuple[list[int | None], np.ndarray, int | None]],
    cols: list[tuple[str, int | None]],
    k: int,
) -> tuple[pd.DataFrame, str]:
    """Apply suppression to the display ``body``; return it and the footnote ('' if none)."""
    from calcstats.tables import suppression_mask, suppression_note

    body = body.copy()
    any_hidden = False
    for level_rows, counts, miss_row in blocks:
        c = np.rint(counts).astype(np.int64)
        row_ids = [*level_rows, miss_row]
        keep = c.sum(axis=1) > 0  # an all-zero row (e.g. no missing) is not published
        c_used = c[keep]
        ids_used = [r for r, kp in zip(row_ids, keep, strict=True) if kp]
        mask = np.asarray(
            suppression_mask(c_used, k, protect_totals=True, margins=True), dtype=bool
        )
        totals = c_used.sum(axis=1)
        for i, r in enumerate(ids_used):
            if r is None:
                continue
            for name, g in cols:
                if g is None:
                    hide, val = mask[i, -1], totals[i]
                else:
                    hide, val = mask[i, g], c_used[i, g]
                if hide:
                    any_hidden = True
                    body.iloc[r, body.columns.get_loc(name)] = f"<{k}" if 1 <= val < k else "*"
    return body, (suppression_note(k) if any_hidden else "")
