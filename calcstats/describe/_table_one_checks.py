"""Inputs of ``table_one``: which kind of row each column becomes, and value checks.

:func:`classify` sorts the variables into continuous, nonnormal, binary (0/1, bool) and
categorical rows; dates and, unless named, text columns with more than
``MAX_AUTO_LEVELS`` distinct values (identifiers, free text) are left out. The checks:

* Numbers held in text columns. A column of numbers with a few text cells (``"unknown"``,
  ``"n/a"``, ``"<0.5"``) would otherwise be described as a category with one level per
  distinct value; :func:`numbers_from_text` raises a DataError naming the column, the
  first rows and their values, and the fix (convert them to missing with
  ``pd.to_numeric(..., errors="coerce")``, or list the column in ``categorical=``). A
  column with at most :data:`FEW_LEVELS` distinct values is clearly categorical (a stage
  coded ``1``-``4`` plus ``"unknown"``) and is left as categories.
* Infinite values in a continuous variable (:func:`check_finite`).
* ``labels=`` (a :class:`~calcstats.Labels` or dict) whose variable keys are near-misses
  of a variable of the table (:func:`check_labels`).
* ``statistic=`` and ``digits=`` per variable (:func:`resolve_statistics`,
  :func:`apply_display`): a key that is not a variable of the table, a statistic for a
  categorical variable, or "mean (SD)" for a variable listed in ``nonnormal``.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from calcstats._errors import CalcstatsError, DataError, InvalidParameterError, SchemaError
from calcstats.labels import Labels

__all__ = [
    "FEW_LEVELS",
    "MAX_AUTO_LEVELS",
    "SHOW",
    "STATISTICS",
    "Var",
    "apply_display",
    "check_finite",
    "check_labels",
    "classify",
    "examples",
    "infinite_error",
    "numbers_from_text",
    "resolve_statistics",
    "sort_key",
    "text_in_numbers_error",
]

#: What a continuous row can show; the text is the row label's suffix and the footnote's.
STATISTICS = ("mean (SD)", "median [IQR]", "median (Q1, Q3)")

#: Up to this many distinct values a text column with some numbers is a category.
FEW_LEVELS = 10
#: Text columns with more distinct values are left out unless named in ``variables``.
MAX_AUTO_LEVELS = 20
_NUMBER_KINDS = frozenset({"integer", "floating", "mixed-integer-float", "decimal"})
#: rows quoted in a message
SHOW = 5


def _row(label: object) -> str:
    if isinstance(label, np.generic):
        label = label.item()
    return repr(label)


def _examples(s: pd.Series, bad: np.ndarray) -> str:
    """``row 3: 'unknown', row 17: 'n/a'`` for the first rows flagged in ``bad``."""
    pos = np.flatnonzero(bad)[:SHOW]
    return examples(list(s.index[pos]), list(s.iloc[pos]), int(np.count_nonzero(bad)))


def numbers_from_text(
    data: pd.DataFrame, variables: Sequence[str], categorical: set[str]
) -> pd.DataFrame:
    """Return ``data`` with number-holding object columns as numbers; raise on stray text.

    Object columns whose values are all numbers (e.g. read from Excel) become numeric. An
    object or string column that is mostly numbers but has text cells and more than
    ``FEW_LEVELS`` distinct values raises a DataError, unless it is listed in
    ``categorical``. The caller's frame is not changed.
    """
    convert = []
    for v in variables:
        s = data[v]
        if isinstance(s.dtype, pd.CategoricalDtype) or not (
            pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)
        ):
            continue
        kind = pd.api.types.infer_dtype(s, skipna=True)
        if kind in _NUMBER_KINDS and s.dtype == object:
            convert.append(v)
            continue
        if v in categorical or kind == "boolean":
            continue
        counts = s.value_counts(dropna=True)  # one pass; the values are parsed once each
        if counts.empty:
            continue
        parsed = pd.to_numeric(pd.Series(counts.index, dtype=object), errors="coerce")
        is_text = parsed.isna().to_numpy()
        n_text = int(counts.to_numpy()[is_text].sum())
        n_present = int(counts.sum())
        if n_text == 0 or n_present - n_text < n_text:
            continue  # numbers in text form, or a text column with a few numbers
        n_levels = len(counts)
        if n_levels <= FEW_LEVELS:
            continue  # clearly categorical: e.g. stage 1-4 and "unknown"
        text = s.isin(counts.index[is_text]).to_numpy()
        raise text_in_numbers_error(v, n_text, n_present, _examples(s, text), n_levels)
    if convert:
        data = data.copy(deep=False)
        for v in convert:
            data[v] = pd.to_numeric(data[v])
    return data


def text_in_numbers_error(
    column: str, n_text: int, n_present: int, examples: str, n_levels: int
) -> DataError:
    """The error of a column of numbers with text cells (``examples``: ``row 3: 'n/a'``)."""
    return DataError(
        f"variables: column {column!r} holds numbers, but {n_text} of its "
        f"{n_present} non-missing values are text ({examples}), so "
        f"it would be described as a category with {n_levels} levels. If these values "
        f"mean 'not known', convert them to missing first: "
        f"data[{column!r}] = pd.to_numeric(data[{column!r}], errors='coerce'). To show every "
        f"value as a category instead, list the column in categorical=."
    )


def infinite_error(column: str, n_bad: int, examples: str) -> DataError:
    """The error of a continuous variable with ±inf (``examples``: ``row 3: inf``)."""
    return DataError(
        f"variables: column {column!r} has {n_bad} infinite value(s) "
        f"({examples}); a mean, SD or median with them means "
        "nothing. Fix the source (often a division by zero), or set them to missing: "
        f"data[{column!r}] = data[{column!r}].replace([np.inf, -np.inf], np.nan)."
    )


def examples(rows: Sequence[object], values: Sequence[object], total: int) -> str:
    """``row 3: 'unknown', row 17: 'n/a'`` for the first rows of ``total`` flagged."""
    shown = ", ".join(f"row {_row(r)}: {_row(v)}" for r, v in zip(rows, values, strict=False))
    more = f" and {total - SHOW} more row(s)" if total > SHOW else ""
    return shown + more


def check_finite(data: pd.DataFrame, column: str, x: np.ndarray) -> None:
    """Raise a DataError naming the rows if the continuous variable ``x`` holds ±inf."""
    bad = np.isinf(x)
    if bad.any():
        raise infinite_error(column, int(bad.sum()), _examples(data[column], bad))


def check_labels(
    labels: Labels | Mapping[str, str] | None,
    data: pd.DataFrame,
    shown: Sequence[str],
    by: str | None,
) -> Labels:
    """Validate ``labels`` (a :class:`~calcstats.Labels` or a dict of variable labels)
    and return them merged over the schema's defaults (``Labels.default() | labels``).

    A variable-label key that is not a column but nearly matches an unlabelled variable
    of the table (or ``by``) is a typo and raises a SchemaError. Keys for columns that are
    not in this table are allowed, so one set of labels can serve several tables and
    models.
    """
    given = Labels.coerce(labels)
    columns = {str(c) for c in data.columns}
    unlabelled = [v for v in [*shown, *([by] if by else [])] if v not in given.variables]
    for key in given.variables:
        if str(key) in columns:
            continue
        close = difflib.get_close_matches(str(key), unlabelled, n=1, cutoff=0.75)
        if close:
            raise SchemaError(
                f"labels: key {key!r} is not a column of the data, and {close[0]!r} (in the "
                f"table) has no label. Did you mean {close[0]!r}? Rename the key, or the "
                f"row will show the default label of {close[0]!r}."
            )
    return Labels.default() | given


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


@dataclass
class Var:
    """A row group of the table: a variable, its label, kind and levels.

    ``levels`` are in display order (the order of the level labels, then the data's);
    ``level_labels`` are their labels.
    """

    name: str
    label: str
    kind: str  # "continuous" | "nonnormal" | "binary" | "categorical"
    levels: list = field(default_factory=list)
    level_labels: list[str] = field(default_factory=list)
    #: continuous rows: one of STATISTICS (None until :func:`apply_display`)
    statistic: str | None = None
    #: decimals of the summaries (continuous) or percentages (categorical); None: default
    digits: int | None = None


def _per_variable(value: object, name: str, kind: str) -> dict[str, object] | None:
    """``value`` as {variable: value} when it is a dict (None when it is one value)."""
    if isinstance(value, Mapping):
        bad = [k for k in value if not isinstance(k, str)]
        if bad:
            raise InvalidParameterError(
                f"The {name!r} parameter of table_one must map variable names (str) to "
                f"{kind}. Got the key {bad[0]!r}."
            )
        return dict(value)
    return None


def _check_statistic(value: object, where: str) -> str:
    if value not in STATISTICS:
        raise InvalidParameterError(
            f"The 'statistic' parameter of table_one{where} must be one of "
            f"{', '.join(map(repr, STATISTICS))}. Got {value!r}."
        )
    return str(value)


def _check_keys(keys: Sequence[str], variables: Sequence[str], name: str) -> None:
    for key in keys:
        if key not in variables:
            close = difflib.get_close_matches(key, list(variables), n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise SchemaError(
                f"table_one: {name}= names {key!r}, which is not a variable of the table "
                f"({', '.join(map(repr, variables))}).{hint}"
            )


def resolve_statistics(
    statistic: object, variables: Sequence[str], nonnormal: set[str]
) -> tuple[dict[str, str], set[str]]:
    """The statistic asked for each variable, and the variables it shows as medians (to be
    treated as ``nonnormal``: a median row is tested with a rank test).

    ``statistic`` is None, one of :data:`STATISTICS` (every continuous variable) or a dict
    {variable: statistic}. "mean (SD)" for a variable listed in ``nonnormal`` is an error.
    """
    if statistic is None:
        return {}, set(nonnormal)
    per = _per_variable(statistic, "statistic", "one of " + ", ".join(STATISTICS))
    if per is None:
        style = _check_statistic(statistic, "")
        if style == "mean (SD)" and nonnormal:
            raise InvalidParameterError(
                "table_one: statistic='mean (SD)' asks for means of every continuous "
                f"variable, but nonnormal= lists {sorted(nonnormal)}. Give statistic as a "
                "dict per variable, or leave nonnormal out."
            )
        return {"*": style}, (set() if style == "mean (SD)" else {"*"})
    _check_keys(list(per), variables, "statistic")
    out = {k: _check_statistic(v, f" for {k!r}") for k, v in per.items()}
    clash = sorted(k for k, v in out.items() if v == "mean (SD)" and k in nonnormal)
    if clash:
        raise InvalidParameterError(
            f"table_one: statistic= asks for 'mean (SD)' of {clash}, which nonnormal= "
            "lists (medians and rank tests). Drop them from one of the two."
        )
    return out, {k for k, v in out.items() if v != "mean (SD)"}


def apply_display(
    specs: list[Var], statistics: dict[str, str], digits: object, variables: Sequence[str]
) -> None:
    """Set each row's statistic and decimals (``digits``: None, an int for every variable,
    or a dict {variable: int}); a statistic for a categorical variable is an error."""
    per_digits = _per_variable(digits, "digits", "whole numbers of decimals")
    if per_digits is not None:
        _check_keys(list(per_digits), variables, "digits")
    for spec in specs:
        continuous = spec.kind in ("continuous", "nonnormal")
        asked = statistics.get(spec.name)
        if asked is not None and not continuous:
            raise InvalidParameterError(
                f"table_one: statistic= gives {asked!r} for {spec.name!r}, which is "
                f"{spec.kind}; statistics apply to continuous variables (a categorical "
                "variable shows n (%))."
            )
        if continuous:
            default = "median [IQR]" if spec.kind == "nonnormal" else "mean (SD)"
            spec.statistic = asked or statistics.get("*") or default
        d = per_digits.get(spec.name) if per_digits is not None else digits
        if d is not None and (
            isinstance(d, bool) or not isinstance(d, numbers.Integral) or not 0 <= int(d) <= 6
        ):
            where = f" for {spec.name!r}" if per_digits is not None else ""
            raise InvalidParameterError(
                f"The 'digits' parameter of table_one{where} must be a whole number of "
                f"decimals from 0 to 6. Got {d!r}."
            )
        spec.digits = None if d is None else int(d)


def _not_continuous(v: str, kind: str, nonnormal: set[str]) -> CalcstatsError:
    if v in nonnormal:
        return CalcstatsError(f"nonnormal: {v!r} is {kind}; nonnormal lists continuous variables.")
    return InvalidParameterError(
        f"table_one: statistic= asks for a median of {v!r}, which is {kind}; statistics "
        "apply to continuous variables (a categorical variable shows n (%))."
    )


def classify(
    data: pd.DataFrame,
    variables: list[str],
    categorical: set[str],
    nonnormal: set[str],
    labels: Labels,
    explicit: bool,
    medians: Collection[str] = frozenset(),
) -> list[Var]:
    """The rows of the table, one ``Var`` per variable, in order (see the module notes).

    ``medians``: variables that ``statistic=`` shows as medians (``{"*"}``: every
    continuous one); they are nonnormal rows too.
    """
    asked = set(nonnormal) | (set(variables) if "*" in medians else set(medians))
    given, nonnormal = nonnormal, asked
    out = []
    for v in variables:
        s = data[v]
        label = labels.variable(v)
        if pd.api.types.is_datetime64_any_dtype(s) or isinstance(s.dtype, pd.PeriodDtype):
            if explicit:
                raise DataError(
                    f"variables: column {v!r} holds dates ({s.dtype}); summarise a derived "
                    "number (e.g. follow-up in years) instead."
                )
            continue
        nonmiss = s.dropna()
        if pd.api.types.is_bool_dtype(s) or (
            pd.api.types.is_numeric_dtype(s)
            and v not in given
            and not isinstance(s.dtype, pd.CategoricalDtype)
            and _is_01(nonmiss)
        ):
            if v in given or (v in nonnormal and "*" not in medians):
                raise _not_continuous(v, "binary", given)
            out.append(Var(v, label, "binary", [0, 1], ["0", "1"]))
            continue
        if isinstance(s.dtype, pd.CategoricalDtype):
            levels = list(s.cat.categories)
        elif v in categorical or not pd.api.types.is_numeric_dtype(s):
            levels = sorted(pd.unique(nonmiss), key=sort_key)
            if not explicit and v not in categorical and len(levels) > MAX_AUTO_LEVELS:
                continue  # identifiers and free text are left out unless named
        else:
            out.append(Var(v, label, "nonnormal" if v in nonnormal else "continuous"))
            continue
        if v in given or (v in nonnormal and "*" not in medians):
            raise _not_continuous(v, "categorical", given)
        levels = [_plain(x) for x in labels.order(v, levels)]
        out.append(Var(v, label, "categorical", levels, [labels.level(v, x) for x in levels]))
    return out


def _is_01(values: pd.Series) -> bool:
    arr = values.to_numpy(dtype=float)
    return arr.size > 0 and bool(((arr == 0) | (arr == 1)).all())


def sort_key(x: object) -> tuple:
    """Numbers first (by value), then text (alphabetically)."""
    return (0, x, "") if isinstance(x, (int, float, np.number)) else (1, 0, str(x))
