"""Variable / level structure of a fitted model's terms (for tables and forest plots).

Patsy names a treatment-coded level ``C(etiology)[T.psc]``; a publication table wants a
row "Etiology" with indented levels and the reference level marked. :func:`term_layout`
builds that structure from the model's patsy ``DesignInfo`` (regression models keep it in
``result.design.design_info``; Cox and Fine–Gray likewise), and falls back to parsing term
names when no design is attached.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

__all__ = ["term_layout", "variable_name"]

_LEVEL = re.compile(r"^(?P<var>.+?)\[(?:T\.)?(?P<level>.+)\]$")
_C_CALL = re.compile(r"^C\(\s*(?P<name>[^,\)]+?)\s*(?:,.*)?\)$")


def variable_name(term: str) -> str:
    """Plain variable name of a patsy term (``C(etiology, Treatment('pbc'))`` → ``etiology``)."""
    m = _C_CALL.match(term.strip())
    return m.group("name").strip() if m else term.strip()


def _design_info(result: Any) -> Any:
    design = getattr(result, "design", None)
    info = getattr(design, "design_info", None) if design is not None else None
    return info if info is not None else getattr(result, "design_info", None)


def _row(variable: str, level: str = "", *, term: str | None = None, reference: bool = False,
         header: bool = False) -> dict[str, Any]:
    return {"variable": variable, "level": level, "term": term, "is_reference": reference,
            "is_header": header}


def term_layout(result: Any) -> pd.DataFrame:
    """Rows for a table or forest plot: variables, their levels and reference levels.

    Returns a DataFrame with columns ``variable`` (plain name), ``level`` ("" for a
    continuous term), ``term`` (the model's coefficient name, None for a reference row),
    ``is_reference`` and ``is_header`` (a variable line above its levels), in model order.
    """
    params = list(result.params.index)
    rows: list[dict[str, Any]] = []
    info = _design_info(result)
    seen: set[str] = set()
    if info is not None:
        formula = str(getattr(result, "formula", "") or "")
        rhs = formula.split("~", 1)[-1]
        slices = list(info.term_name_slices.items())
        # patsy puts categorical terms first; restore the order of the formula
        slices.sort(key=lambda kv: rhs.find(kv[0]) if rhs.find(kv[0]) >= 0 else len(rhs))
        for term_name, sl in slices:
            if term_name == "Intercept":
                continue
            cols = [c for c in info.column_names[sl] if c in params]
            term = next(t for t in info.terms if t.name() == term_name)
            factors = term.factors
            cat = None
            if len(factors) == 1:
                fi = info.factor_infos[factors[0]]
                if fi.type == "categorical":
                    cat = fi
            if cat is None:
                for c in cols:
                    rows.append(_row(variable_name(c), term=c))
                    seen.add(c)
                continue
            var = variable_name(term_name)
            rows.append(_row(var, header=True))
            present = {}
            for c in cols:
                m = _LEVEL.match(c)
                if m:
                    present[m.group("level")] = c
            for level in cat.categories:
                key = str(level)
                rows.append(_row(var, key, term=present.get(key), reference=key not in present))
            seen.update(cols)
    for c in params:  # anything the design did not explain (or no design at all)
        if c in seen or c == "Intercept":
            continue
        m = _LEVEL.match(c)
        if m:
            var = variable_name(m.group("var"))
            if not any(r["variable"] == var and r["is_header"] for r in rows):
                rows.append(_row(var, header=True))
            rows.append(_row(var, m.group("level"), term=c))
        else:
            rows.append(_row(variable_name(c), term=c))
    return pd.DataFrame(rows, columns=["variable", "level", "term", "is_reference", "is_header"])
