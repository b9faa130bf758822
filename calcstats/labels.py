"""Display labels: variable names, level names (in display order) and units.

Every table, figure and report function takes ``labels=`` — a :class:`Labels` or a dict of
variable labels — and shows labels, never code: ``etiology`` prints as "Etiology",
``pbc`` as "Primary biliary cholangitis", ``age_at_index`` as "Age at index (years)".

Where labels come from, weakest first:

1. :meth:`Labels.default`: the canonical cohort schema, as data
   (``calcstats/cohort/labels.json``): every canonical column and vocabulary, and the
   columns of the analysis tables. It knows no time unit: what a function cannot know
   (the unit of ``time`` in a user's own DataFrame) it does not invent, so an axis reads
   "Time", not "Time (years)".
2. ``cohort.labels`` (:meth:`Labels.cohort`): the defaults plus the units of the analysis
   tables calcstats makes (``time``, ``start``, ``stop`` in years).
3. The ``labels=`` given to an estimator (the result remembers them) and, strongest, the
   ``labels=`` given to a table or plot.

Labels merge with ``|`` (the right-hand side wins; level maps merge per variable, the
right-hand side's levels first). Level labels also set the display order: levels listed
come first, in the order listed; others follow in their data order.

Examples
--------
>>> import calcstats as cs
>>> lab = cs.Labels.default() | cs.Labels(variables={"age_at_index": "Age"})
>>> lab.variable("age_at_index")
'Age (years)'
>>> lab.level("etiology", "pbc")
'Primary biliary cholangitis'
>>> lab.order("sex", ["M", "F"])
['F', 'M']
>>> lab.level("any_calcification", 1), lab.level("diabetes", False)
('Yes', 'No')
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from calcstats._errors import InvalidParameterError

__all__ = ["Labels"]

_TERM_LEVEL = re.compile(r"^(?P<var>.+?)\[(?:T\.)?(?P<level>.+)\]$")
_C_CALL = re.compile(r"^C\(\s*(?P<name>[^,\)]+?)\s*(?:,.*)?\)$")
_FUNC = re.compile(r"^(?:np\.)?(?P<f>log2|log10|log1p|log|sqrt|exp|abs)\((?P<x>[^()]+)\)$")
_SPLINE = re.compile(r"^(?P<f>cr|cc|bs)\((?P<x>[^,()]+)(?:,.*)?\)(?:\[(?P<k>\d+)\])?$")
_Q = re.compile(r"^Q\(\s*['\"](?P<x>[^'\"]+)['\"]\s*\)$")


def _frozen(d: Mapping[Any, Any] | None) -> Mapping[Any, Any]:
    return MappingProxyType(dict(d or {}))


class Labels:
    """Variable labels, level labels (their order is the display order) and units.

    Parameters
    ----------
    variables : dict, optional
        Column → label, e.g. ``{"any_calcification": "Any calcification"}``.
    levels : dict of dict, optional
        Column → {value → label}; the order of the inner dict is the display order.
    units : dict, optional
        Column → unit, e.g. ``{"time": "years"}``; shown as "Label (unit)".

    Examples
    --------
    >>> lab = Labels(variables={"grp": "Group"}, levels={"grp": {"b": "Beta", "a": "Alpha"}})
    >>> lab.variable("grp"), lab.level("grp", "a"), lab.order("grp", ["a", "b", "c"])
    ('Group', 'Alpha', ['b', 'a', 'c'])
    """

    __slots__ = ("_levels", "_units", "_variables")
    _variables: Mapping[str, str]
    _levels: Mapping[str, Mapping[Any, str]]
    _units: Mapping[str, str]

    def __init__(
        self,
        variables: Mapping[str, str] | None = None,
        levels: Mapping[str, Mapping[Any, str]] | None = None,
        units: Mapping[str, str] | None = None,
    ) -> None:
        for name, value in (("variables", variables), ("levels", levels), ("units", units)):
            if value is not None and not isinstance(value, Mapping):
                raise InvalidParameterError(
                    f"The {name!r} parameter of Labels must be a dict or None. Got "
                    f"{type(value).__name__}."
                )
        for col, lv in (levels or {}).items():
            if not isinstance(lv, Mapping):
                raise InvalidParameterError(
                    f"The 'levels' parameter of Labels must map each column to a dict of "
                    f"value → label. Got {type(lv).__name__} for {col!r}."
                )
        object.__setattr__(self, "_variables", _frozen(variables))
        object.__setattr__(
            self, "_levels", _frozen({k: _frozen(v) for k, v in (levels or {}).items()})
        )
        object.__setattr__(self, "_units", _frozen(units))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Labels are immutable; combine them with | instead.")

    # ---- construction -------------------------------------------------------------
    @classmethod
    def default(cls) -> Labels:
        """The labels of the canonical cohort schema (no time unit)."""
        return _defaults(False)

    @classmethod
    def cohort(cls) -> Labels:
        """The defaults plus the units of calcstats' analysis tables (time in years)."""
        return _defaults(True)

    @classmethod
    def coerce(cls, labels: Labels | Mapping[str, str] | None) -> Labels:
        """A :class:`Labels` from ``labels=`` (None, a dict of variable labels, or Labels)."""
        if labels is None:
            return cls()
        if isinstance(labels, Labels):
            return labels
        if isinstance(labels, Mapping):
            bad = [k for k, v in labels.items() if not isinstance(v, str)]
            if bad:
                raise InvalidParameterError(
                    "The 'labels' parameter must be a calcstats.Labels or a dict of variable "
                    f"labels (str). Got a non-text label for {bad[0]!r}; use "
                    "cs.Labels(levels=...) for level labels."
                )
            return cls(variables=labels)
        raise InvalidParameterError(
            "The 'labels' parameter must be a calcstats.Labels, a dict of variable labels or "
            f"None. Got {type(labels).__name__}."
        )

    def __or__(self, other: Labels | Mapping[str, str] | None) -> Labels:
        other = Labels.coerce(other)
        levels: dict[str, dict[Any, str]] = {k: dict(v) for k, v in self._levels.items()}
        for col, lv in other._levels.items():
            merged = dict(lv)
            for key, val in levels.get(col, {}).items():
                merged.setdefault(key, val)
            levels[col] = merged
        return Labels(
            variables={**self._variables, **other._variables},
            levels=levels,
            units={**self._units, **other._units},
        )

    def __ror__(self, other: Mapping[str, str] | None) -> Labels:
        return Labels.coerce(other) | self

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Labels) and (
            dict(self._variables),
            {k: dict(v) for k, v in self._levels.items()},
            dict(self._units),
        ) == (
            dict(other._variables),
            {k: dict(v) for k, v in other._levels.items()},
            dict(other._units),
        )

    def __hash__(self) -> int:
        return hash((tuple(self._variables.items()), tuple(self._units.items())))

    def __repr__(self) -> str:
        return (
            f"Labels({len(self._variables)} variables, {len(self._levels)} level maps, "
            f"{len(self._units)} units)"
        )

    # ---- access -----------------------------------------------------------------------
    @property
    def variables(self) -> Mapping[str, str]:
        return self._variables

    @property
    def levels(self) -> Mapping[str, Mapping[Any, str]]:
        return self._levels

    @property
    def units(self) -> Mapping[str, str]:
        return self._units

    def unit(self, name: str) -> str | None:
        """The unit of a column, or None."""
        return self._units.get(name)

    def name(self, name: str) -> str:
        """The label of a column without its unit (a tidy fallback for unknown columns)."""
        if name in self._variables:
            return self._variables[name]
        return _prettify(name)

    def variable(self, name: str, *, unit: bool = True) -> str:
        """The label of a column, with its unit in parentheses when known."""
        text = self.name(name)
        u = self._units.get(name) if unit else None
        return f"{text} ({u})" if u else text

    def level(self, variable: str, value: Any) -> str:
        """The label of one level of a column (the value itself when unknown)."""
        lv = self._levels.get(variable)
        if lv is not None:
            for key in (value, str(value)):
                try:
                    if key in lv:
                        return lv[key]
                except TypeError:
                    continue
        if isinstance(value, bool):
            return "Yes" if value else "No"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    def order(self, variable: str, values: Iterable[Any]) -> list[Any]:
        """``values`` in display order: listed levels first (in their order), then others."""
        vals = list(values)
        lv = self._levels.get(variable)
        if not lv:
            return vals
        keys = list(lv)

        def rank(i: int) -> int:  # matched as level() matches: by value, then by text
            v = vals[i]
            for j, k in enumerate(keys):
                if k == v or str(k) == str(v):
                    return j
            return len(keys) + i

        return [vals[i] for i in sorted(range(len(vals)), key=rank)]

    def time(self, column: str = "time") -> str:
        """Axis label of a time column: "Time (years)" when the unit is known, else "Time".

        A column with a variable label shows that label (and its unit); any other time
        column reads "Time", never its column name (``futime`` is code, not a label).
        """
        text = self._variables.get(column, "Time")
        u = self._units.get(column)
        return f"{text} ({u})" if u else text

    def term(self, term: str) -> tuple[str, str | None]:
        """(variable label, level label or None) of a model coefficient or formula term.

        ``C(etiology)[T.pbc]`` → ("Etiology", "Primary biliary cholangitis"),
        ``np.log(bilirubin_mg_dl)`` → ("Bilirubin (log)", None), ``cr(age_at_index, df=4)``
        → ("Age at index (spline)", None).
        """
        parts = _split_top(term, ":")
        if len(parts) > 1:  # interaction: each factor by its label (and level)
            shown = []
            for part in parts:
                var, lev = self.term(part)
                shown.append(var if lev is None else f"{var}: {lev}")
            return " × ".join(shown), None
        m = _TERM_LEVEL.match(term)
        if m and not _SPLINE.match(term):
            var = self.variable_of(m.group("var"))
            level = m.group("level")
            return self.variable(var), self.level(var, _unquote(level))
        return self._expression(term), None

    def variable_of(self, term: str) -> str:
        """The data column of a term (``C(etiology, Treatment('pbc'))`` → ``etiology``)."""
        t = term.strip()
        c = _C_CALL.match(t)
        if c:
            t = c.group("name").strip()
        q = _Q.match(t)
        return q.group("x") if q else t

    def _expression(self, term: str) -> str:
        t = term.strip()
        f = _FUNC.match(t)
        if f:
            inner = self.name(self.variable_of(f.group("x")))
            return f"{inner} ({'square root' if f.group('f') == 'sqrt' else f.group('f')})"
        s = _SPLINE.match(t)
        if s:
            inner = self.name(self.variable_of(s.group("x")))
            part = f", basis {int(s.group('k')) + 1}" if s.group("k") else ""
            return f"{inner} (spline{part})"
        i = re.fullmatch(r"I\((?P<x>.+)\)", t)
        if i:  # an I(...) expression: its variables by their labels
            return re.sub(
                r"[A-Za-z_][A-Za-z0-9_]*",
                lambda m: self.name(m.group(0)) if m.group(0) in self._variables else m.group(0),
                i.group("x"),
            ).replace("**", "^")
        return self.variable(self.variable_of(t))


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside brackets and parentheses."""
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == sep and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return out


def _unquote(level: str) -> str:
    return level[1:-1] if len(level) > 1 and level[0] == level[-1] and level[0] in "'\"" else level


def _prettify(name: str) -> str:
    """``my_var`` → "My var"; names with capitals or other characters stay as they are."""
    if re.fullmatch(r"[a-z0-9_]+", name):
        text = name.replace("_", " ").strip()
        return text[:1].upper() + text[1:] if text else name
    return name


@cache
def _defaults(analysis_units: bool) -> Labels:
    raw = json.loads(
        resources.files("calcstats.cohort").joinpath("labels.json").read_text(encoding="utf-8")
    )
    units = dict(raw["units"])
    if analysis_units:
        units.update(raw["analysis_units"])
    # yes/no columns of the schema (0/1 or bool): "No"/"Yes", never "0"/"1"
    levels = {col: {0: "No", 1: "Yes"} for col in raw.get("binary", [])} | raw["levels"]
    # multi-state results name the states in a column called "state"
    levels.setdefault("state", raw["levels"]["to_state"])
    return Labels(variables=raw["variables"], levels=levels, units=units)
