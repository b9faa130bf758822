"""to_table() of compare_interval_methods: the three analyses side by side."""

from __future__ import annotations

import numpy as np
import pandas as pd

import calcstats as cs


def _data() -> pd.DataFrame:
    rng = np.random.default_rng(4)
    n = 120
    x = rng.integers(0, 2, n)
    t = rng.weibull(1.5, n) * np.exp(0.5 * x) * 2
    visits = np.where(x[:, None] == 1, 1.0, 0.5) * np.arange(1, 16)
    left = np.array([v[v < ti].max(initial=0.0) for v, ti in zip(visits, t, strict=True)])
    right = np.array(
        [
            v[v >= ti].min(initial=np.inf) if ti < 6 else np.inf
            for v, ti in zip(visits, t, strict=True)
        ]
    )
    left = np.where(np.isinf(right), np.minimum(left, 6.0), left)
    return pd.DataFrame({"left": left, "right": right, "any_calcification": x})


def test_table_shows_ratio_and_ci_per_method_with_schema_labels():
    cmp = cs.compare_interval_methods(_data(), "any_calcification", left="left", right="right")
    table = cmp.to_table()
    assert table.columns == (
        "Term",
        "Interval-censored",
        "Midpoint imputation",
        "Right-endpoint imputation",
    )
    assert table.title == "Time ratio (95% CI) by method"
    first = table.cells[0]
    assert first[0] == "Any calcification"
    tidy = cmp.tidy().set_index(["method", "term"])
    row = tidy.loc[("interval", "any_calcification")]
    assert first[1] == cs.format_ci(row["estimate"], row["conf_low"], row["conf_high"])
    assert table.cells[1][0] == "Scale"
    assert table.cells[1][3] == cs.format_number(cmp.right_endpoint.scale, digits=3)
    assert "midpoint or the right end" in table.footnotes[1]
    assert set(table.to_frame()["method"]) == {"interval", "midpoint", "right_endpoint"}


def test_table_options():
    cmp = cs.compare_interval_methods(
        _data(), "any_calcification", left="left", right="right", model="ph"
    )
    table = cmp.to_table(
        title="Onset of new calcification",
        digits=1,
        conf_level=0.9,
        labels={"any_calcification": "Calcified"},
    )
    assert table.title == "Onset of new calcification"
    assert table.cells[0][0] == "Calcified"
    assert table.cells[0][1].count(".") == 3  # one decimal: "1.2 (0.9–1.6)"
