"""Tables side by side and one under another (gtsummary's ``tbl_merge`` / ``tbl_stack``).

:func:`merge_tables` lines tables up on their row labels: a row is identified by its
label and the labels of the rows it sits under (``"Female"`` under ``"Sex"``), so the same
level of two variables never mixes. Rows found in only some tables keep their place (after
the row they follow in their own table) and are blank elsewhere. Each table's columns go
under its spanner (``spanners=("Univariable", "Multivariable")``): the gtsummary table of
univariable and multivariable models is
``merge_tables(univariable(...), regression_table(fit), spanners=(...))``.

:func:`stack_tables` puts tables one under another: columns are matched by their spanner
and heading, and each table can sit under a heading row of its own.

Both read finished :class:`~calcstats.tables.Table` objects, or results (anything with
``to_table()``), which they turn into tables with the ``labels=`` given. Footnotes are
kept once each, in order; ``to_frame()`` holds the raw numbers of every part, with a
``table`` column naming the part.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from calcstats._errors import CalcstatsError, InvalidParameterError, SchemaError
from calcstats.labels import Labels
from calcstats.results import Result
from calcstats.tables._table import Table

__all__ = ["merge_tables", "stack_tables"]


def _as_tables(
    parts: Sequence[Any], labels: Labels | Mapping[str, str] | None, function: str
) -> list[Table]:
    """The parts as Tables: results through ``to_table(labels=...)``."""
    if len(parts) < 2:
        raise InvalidParameterError(
            f"{function}() needs at least two tables (or results); got {len(parts)}."
        )
    if labels is not None and not isinstance(labels, Labels | Mapping):
        raise InvalidParameterError(
            f"The 'labels' parameter of {function} must be a calcstats.Labels, a dict of "
            f"variable labels or None. Got {type(labels).__name__}."
        )
    if labels is not None and not any(isinstance(p, Result) for p in parts):
        raise InvalidParameterError(
            f"The 'labels' parameter of {function} labels the results it makes tables of, "
            "but every part is a Table already. Pass labels= where the tables are made "
            "(e.g. regression_table(..., labels=...))."
        )
    out = []
    for i, part in enumerate(parts):
        if isinstance(part, Table):
            out.append(part)
        elif isinstance(part, Result):
            out.append(part.to_table(labels=labels) if labels is not None else part.to_table())
        else:
            raise SchemaError(
                f"{function}(): part {i + 1} is a {type(part).__name__}, not a calcstats "
                "Table or result; make one with cs.Table(...), regression_table(...) or "
                "result.to_table()."
            )
    return out


def _names(given: Sequence[str] | None, n: int, *, name: str, function: str) -> list[str] | None:
    if given is None:
        return None
    if isinstance(given, str) or not all(isinstance(s, str) for s in given):
        raise InvalidParameterError(
            f"The {name!r} parameter of {function} must be a list of str, one per table. "
            f"Got {given!r}."
        )
    names = list(given)
    if len(names) != n:
        raise InvalidParameterError(
            f"The {name!r} parameter of {function} has {len(names)} names for {n} tables. "
            "Give one per table, in the order of the tables."
        )
    return names


def _row_paths(table: Table) -> list[tuple[str, ...]]:
    """Each row's label with the labels of the rows above it at lower indentation, plus an
    occurrence number when the same path repeats."""
    stack: list[str] = []
    seen: dict[tuple[str, ...], int] = {}
    out = []
    for lvl, row in zip(table.indent, table.cells, strict=True):
        stack = [*stack[:lvl], *[""] * max(0, lvl - len(stack)), row[0]]
        path = tuple(stack)
        k = seen.get(path, 0)
        seen[path] = k + 1
        out.append((*path, f"#{k}"))
    return out


def _footnotes(tables: Sequence[Table]) -> list[str]:
    return list(dict.fromkeys(note for t in tables for note in t.footnotes))


def _raw(tables: Sequence[Table], names: Sequence[str]) -> pd.DataFrame:
    frames = [t.to_frame().assign(table=name) for t, name in zip(tables, names, strict=True)]
    raw = pd.concat(frames, ignore_index=True)
    return raw[["table", *[c for c in raw.columns if c != "table"]]]


def _unique_keys(keys: list[str]) -> list[str]:
    """Keys made unique by numbering repeats (``"N"``, ``"N (2)"``)."""
    out: list[str] = []
    for k in keys:
        new, i = k, 2
        while new in out:
            new, i = f"{k} ({i})", i + 1
        out.append(new)
    return out


def merge_tables(
    *tables: Table | Result,
    spanners: Sequence[str] | None = None,
    title: str | None = None,
    labels: Labels | Mapping[str, str] | None = None,
) -> Table:
    """Tables side by side, lined up on their row labels.

    Parameters
    ----------
    *tables : Table or result
        Two or more tables (or results, made into tables with ``to_table(labels=...)``).
        The row-label column of the first names the rows.
    spanners : sequence of str, optional
        A spanning heading per table over its columns (``("Univariable",
        "Multivariable")``). A table's own spanners then read ``"Multivariable: Crude"``.
        Without ``spanners`` the tables keep their own.
    title : str, optional
        Default: the first table's title.
    labels : Labels or dict, optional
        Display labels for the results among ``tables`` (tables made already keep theirs).

    Returns
    -------
    Table
        The rows of the first table in order, with rows found only in later tables after
        the row they follow there; footnotes of every table once each; ``to_frame()`` the
        raw numbers of every table with a ``table`` column (its spanner, or its position).

    Examples
    --------
    >>> import calcstats as cs
    >>> pbc = cs.datasets.load_pbc()
    >>> uni = cs.univariable(pbc, "status", ["age", "C(edema)"], model="cox", time="time",
    ...                      cause=2, labels={"edema": "Edema"})
    >>> multi = cs.cox(pbc, "age + C(edema)", time="time", event="status", cause=2)
    >>> t = cs.merge_tables(uni, cs.regression_table(multi, labels={"edema": "Edema"},
    ...                                              counts=False),
    ...                     spanners=("Univariable", "Multivariable"))
    >>> t.columns
    ('Characteristic', 'N', 'Events', 'HR (95% CI)', 'p-value', 'HR (95% CI)', 'p-value')
    >>> [row[0] for row in t.cells]
    ['Age', 'Edema', '0', '0.5', '1']
    """
    parts = _as_tables(tables, labels, "merge_tables")
    outer = _names(spanners, len(parts), name="spanners", function="merge_tables")
    if title is not None and not isinstance(title, str):
        raise InvalidParameterError(
            f"The 'title' parameter of merge_tables must be a str or None. Got {title!r}."
        )
    order: list[tuple[str, ...]] = []
    where: dict[tuple[str, ...], tuple[str, int]] = {}  # path -> (label, indent)
    cells: list[dict[tuple[str, ...], tuple[str, ...]]] = []
    for t in parts:
        paths = _row_paths(t)
        anchor = -1
        for path, lvl, row in zip(paths, t.indent, t.cells, strict=True):
            if path in where:
                anchor = order.index(path)
            else:
                anchor += 1
                order.insert(anchor, path)
                where[path] = (row[0], lvl)
        cells.append(dict(zip(paths, (row[1:] for row in t.cells), strict=True)))
    columns: list[list[str]] = [[where[p][0] for p in order]]
    keys = [parts[0].keys[0]]
    headers = [parts[0].columns[0]]
    groups: list[tuple[tuple[int, str], list[int]]] = []  # ((table, spanner), positions)
    for j, t in enumerate(parts):
        inner = {k: lab for lab, ks in t.spanners for k in ks}
        blank = ("",) * (t.n_cols - 1)
        for c, key in enumerate(t.keys[1:]):
            columns.append([cells[j].get(p, blank)[c] for p in order])
            keys.append(f"{outer[j]}: {key}" if outer else key)
            headers.append(t.columns[c + 1])
            span = inner.get(key, "")
            if outer:
                span = f"{outer[j]}: {span}" if span else outer[j]
            if not span:
                continue
            if groups and groups[-1][0] == (j, span):
                groups[-1][1].append(len(keys) - 1)
            else:
                groups.append(((j, span), [len(keys) - 1]))
    keys = _unique_keys(keys)
    frame = pd.DataFrame(dict(zip(keys, columns, strict=True)))
    return Table(
        frame,
        title=parts[0].title if title is None else title,
        indent=[where[p][1] for p in order],
        spanners=[(lab, [keys[i] for i in idx]) for (_, lab), idx in groups],
        footnotes=_footnotes(parts),
        raw=_raw(parts, outer or [str(j + 1) for j in range(len(parts))]),
        headers=headers,
    )


def stack_tables(
    *tables: Table | Result,
    headings: Sequence[str] | None = None,
    title: str | None = None,
    labels: Labels | Mapping[str, str] | None = None,
) -> Table:
    """Tables one under another, columns matched by spanner and heading.

    Parameters
    ----------
    *tables : Table or result
        Two or more tables (or results, made into tables with ``to_table(labels=...)``).
        A column missing from a table is blank in its rows.
    headings : sequence of str, optional
        A heading row above each table's rows (whose rows are then indented under it),
        e.g. ``("Kaplan–Meier", "Aalen–Johansen")``.
    title : str, optional
        Default: the first table's title.
    labels : Labels or dict, optional
        Display labels for the results among ``tables``.

    Returns
    -------
    Table
        ``to_frame()`` holds the raw numbers of every table with a ``table`` column (its
        heading, or its position).

    Raises
    ------
    CalcstatsError
        If the columns under one spanner do not end up side by side (the tables' spanners
        cover different columns).

    Examples
    --------
    >>> import pandas as pd, calcstats as cs
    >>> st = pd.DataFrame({"time": [1.0, 2, 3, 4, 5, 6], "status": [1, 0, 1, 1, 0, 1],
    ...                    "sex": list("FFFMMM")})
    >>> rates = cs.incidence_rate(st, time="time", event="status", by="sex")
    >>> overall = cs.incidence_rate(st, time="time", event="status")
    >>> t = cs.stack_tables(rates, overall, headings=("By sex", "All patients"))
    >>> [("  " * i) + row[0] for i, row in zip(t.indent, t.cells)]
    ['By sex', '  Female', '  Male', 'All patients', '  All']
    """
    parts = _as_tables(tables, labels, "stack_tables")
    heads = _names(headings, len(parts), name="headings", function="stack_tables")
    if title is not None and not isinstance(title, str):
        raise InvalidParameterError(
            f"The 'title' parameter of stack_tables must be a str or None. Got {title!r}."
        )
    slots: list[tuple[str, str]] = []  # (spanner, heading) of every value column
    for t in parts:
        inner = {k: lab for lab, ks in t.spanners for k in ks}
        seen: dict[tuple[str, str], int] = {}
        for key, head in zip(t.keys[1:], t.columns[1:], strict=True):
            slot = (inner.get(key, ""), head)
            n = seen.get(slot, 0)
            seen[slot] = n + 1
            if slots.count(slot) <= n:
                slots.append(slot)
    rows: list[list[str]] = []
    indent: list[int] = []
    for j, t in enumerate(parts):
        inner = {k: lab for lab, ks in t.spanners for k in ks}
        shift = 0
        if heads:
            rows.append([heads[j], *[""] * len(slots)])
            indent.append(0)
            shift = 1
        used: dict[tuple[str, str], int] = {}
        place = []
        for key, head in zip(t.keys[1:], t.columns[1:], strict=True):
            slot = (inner.get(key, ""), head)
            n = used.get(slot, 0)
            used[slot] = n + 1
            place.append([i for i, s in enumerate(slots) if s == slot][n])
        for lvl, row in zip(t.indent, t.cells, strict=True):
            out = [row[0], *[""] * len(slots)]
            for value, i in zip(row[1:], place, strict=True):
                out[i + 1] = value
            rows.append(out)
            indent.append(lvl + shift)
    groups: list[tuple[str, list[int]]] = []
    for i, (span, _) in enumerate(slots):
        if not span:
            continue
        if groups and groups[-1][0] == span and groups[-1][1][-1] == i - 1:
            groups[-1][1].append(i)
        elif any(g[0] == span for g in groups):
            raise CalcstatsError(
                f"stack_tables(): the columns under the spanner {span!r} do not end up side "
                "by side, because the tables place them differently. Give the tables the "
                "same columns (or use merge_tables to put them side by side)."
            )
        else:
            groups.append((span, [i]))
    keys = _unique_keys([parts[0].keys[0], *[f"{s}: {h}" if s else h for s, h in slots]])
    frame = pd.DataFrame(rows, columns=keys)
    return Table(
        frame,
        title=parts[0].title if title is None else title,
        indent=indent,
        spanners=[(lab, [keys[i + 1] for i in idx]) for lab, idx in groups],
        footnotes=_footnotes(parts),
        raw=_raw(parts, heads or [str(j + 1) for j in range(len(parts))]),
        headers=[parts[0].columns[0], *[h for _, h in slots]],
    )
