"""column_map: your column names to the canonical ones, checked before anything is read.

One flat dict for all tables (``{"PatID": "patient_id"}``) or one per table
(``{"patients": {...}}``). Headers equal to a canonical name up to case, surrounding spaces
and spaces or hyphens for underscores (``"Patient ID"``) match without a map; the same rule
applies to a map's targets. A target that looks like a misspelt canonical name
(``"patiend_id"``) or, in a per-table map, names a column of another table, is a
:class:`SchemaError` with suggestions; any other target names an extra column (kept as a
covariate).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any, cast

import pandas as pd

from calcstats._errors import SchemaError
from calcstats.cohort._schema import TABLES

__all__ = ["canonical_name", "rename", "split_column_map"]

TABLE_NAMES = tuple(TABLES)


def split_column_map(column_map: Mapping[str, Any] | None) -> tuple[dict[str, dict], bool]:
    """Per-table maps; the bool says whether the map was flat (one map for all tables)."""
    if column_map is None:
        return {t: {} for t in TABLE_NAMES}, True
    if not isinstance(column_map, Mapping):
        raise SchemaError(
            f"column_map must be a dict such as {{'PatID': 'patient_id'}} or "
            f"{{'patients': {{'PatID': 'patient_id'}}}}; got {type(column_map).__name__}."
        )
    nested = [k for k, v in column_map.items() if isinstance(v, Mapping)]
    if nested:
        if len(nested) != len(column_map) or not set(nested) <= set(TABLE_NAMES):
            raise SchemaError(
                "column_map mixes per-table maps and column renames, or names an unknown "
                f"table ({sorted(set(column_map) - set(TABLE_NAMES))}); use either one flat "
                "dict {'PatID': 'patient_id'} or per-table dicts keyed by "
                f"{list(TABLE_NAMES)}."
            )
        maps = {t: dict(column_map.get(t, {})) for t in TABLE_NAMES}
        flat = False
    else:
        maps = {t: dict(column_map) for t in TABLE_NAMES}
        flat = True
    for table, mapping in maps.items():
        bad = {k: v for k, v in mapping.items() if not isinstance(v, str) or not v.strip()}
        if bad:
            where = "" if flat else f" (for the {table} table)"
            raise SchemaError(
                f"column_map{where} must map each of your column names to a calcstats column "
                f"name (a non-empty string); got {bad}. Leave a column out of column_map to "
                "keep its name."
            )
    _check_targets(maps, flat)
    return maps, flat


def _check_targets(maps: dict[str, dict], flat: bool) -> None:
    """Targets that look like a misspelt calcstats name are errors, with suggestions.

    A target equal to a canonical name up to case, spaces and hyphens (``"Patient ID"``) is
    that name; a per-table target naming a column of another table is an error; a target
    close to a canonical name (``"patiend_id"``, difflib ratio >= 0.8) is an error naming
    the likely name. Any other target names an extra column, kept as a covariate.
    """
    every = sorted({n for spec in TABLES.values() for n in spec.names})
    for table, mapping in maps.items():
        names = every if flat else list(TABLES[table].names)
        where = "column_map" if flat else f"column_map for the {table} table"
        for src, target in mapping.items():
            key = _NAME_SEP.sub("_", target.strip().lower())
            if target in names:
                continue
            if key in names:
                mapping[src] = key
                continue
            owners = [t for t, spec in TABLES.items() if key in spec.names]
            if owners:
                raise SchemaError(
                    f"{where} maps {src!r} to {target!r}, a column of the {owners[0]} table, "
                    f"not of the {table} table. The {table} columns are {names}; map the "
                    f"column under the {owners[0]!r} key of column_map."
                )
            close = difflib.get_close_matches(key, names, n=3, cutoff=0.8)
            if close:
                raise SchemaError(
                    f"{where} maps {src!r} to {target!r}, which is not a calcstats column "
                    f"name: did you mean {' or '.join(map(repr, close))}? The known names "
                    f"are {names}. (A column you want kept as an extra covariate needs no "
                    "column_map entry; to rename it, choose a name unlike these.)"
                )
        if flat:
            for other in maps.values():
                other.update(mapping)
            return


_NAME_SEP = re.compile(r"[\s\-]+")


def canonical_name(col: object, table: str, mapping: Mapping[str, str]) -> str:
    if col in mapping:
        return str(mapping[cast(str, col)])
    text = str(col)
    key = _NAME_SEP.sub("_", text.strip().lower())
    if key in TABLES[table].names:
        return key
    return text


def rename(df: pd.DataFrame, table: str, mapping: Mapping[str, str], strict: bool) -> pd.DataFrame:
    if strict:
        missing = [k for k in mapping if k not in df.columns]
        if missing:
            raise SchemaError(
                f"column_map for the {table} table names column(s) {missing} that the table "
                f"does not have; its columns are {list(df.columns)}."
            )
    new = [canonical_name(c, table, mapping) for c in df.columns]
    dup = sorted({c for c in new if new.count(c) > 1})
    if dup:
        raise SchemaError(
            f"after renaming, the {table} table has duplicate column(s) {dup} (from "
            f"{[c for c, n in zip(df.columns, new, strict=True) if n in dup]}); map only one "
            "source column to each name."
        )
    out = df.copy(deep=False)
    out.columns = new
    return out.reset_index(drop=True)
