"""The root of the result hierarchy and the table registry.

Every calcstats estimator returns a :class:`Result`: a :class:`~calcstats.ModelResult`
(a fitted model), a :class:`~calcstats.CurveResult` (step curves over time), an
:class:`~calcstats.EstimateResult` (prevalences, rates, ratios, restricted means) or a
:class:`~calcstats.TestResult` (a hypothesis test). All have ``tidy()`` (raw numbers in a
DataFrame with fixed column names), ``to_table()`` (the publication
:class:`~calcstats.Table`), ``method``, ``conf_level``, ``labels``, a readable ``repr``
and ``_repr_html_``.

Tables and plots never guess what a result is: ``to_table()`` dispatches on the result's
type through :func:`table_of`, a :func:`functools.singledispatch` function whose
implementations live in :mod:`calcstats.tables` (the layer above); plots dispatch the
same way inside :mod:`calcstats.plot`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from functools import singledispatch
from typing import Any

import pandas as pd

from calcstats._errors import CalcstatsError
from calcstats._validation import CONF_LEVEL, check_param
from calcstats.labels import Labels

__all__ = ["Result", "check_conf_level", "table_of"]


def check_conf_level(conf_level: float, *, function: str = "tidy") -> float:
    """Validate a confidence level in (0, 1) and return it as float."""
    check_param(conf_level, [CONF_LEVEL], name="conf_level", function=function)
    return float(conf_level)


@singledispatch
def table_of(result: Any, **options: Any) -> Any:
    """The publication table of a result (implementations registered by calcstats.tables)."""
    raise CalcstatsError(
        f"no publication table is defined for {type(result).__name__}; use .tidy() for its "
        "raw numbers."
    )


class Result(ABC):
    """Base class of every calcstats result.

    Attributes
    ----------
    method : str
        A sentence naming the estimator and the interval/test used (no code).
    conf_level : float
        Confidence level of the intervals.
    labels : Labels
        The display labels the result was made with (``labels=`` of the estimator);
        tables and plots merge theirs over these.
    """

    __test__ = False  # keep pytest from collecting TestResult & co.
    method: str = ""
    conf_level: float = 0.95
    labels: Labels = Labels()

    @abstractmethod
    def tidy(self) -> pd.DataFrame:
        """Raw numbers, one row per term / time / group (column names fixed per type)."""

    def to_table(self, **options: Any) -> Any:
        """The publication :class:`~calcstats.Table` (raw numbers in ``.to_frame()``).

        Options (``labels=``, ``title=``, ``digits=``, ...) are those of the table
        function registered for this type; see :mod:`calcstats.tables`.
        """
        return table_of(self, **options)

    def _summary(self) -> pd.DataFrame:
        return self.tidy()

    def _title(self) -> str:
        return f"{type(self).__name__}: {self.method}"

    def __repr__(self) -> str:
        body = self._summary().to_string(index=False, float_format=lambda v: f"{v:.4g}")
        return f"{self._title()}\n{body}"

    def _repr_html_(self) -> str:
        return f"<p><b>{self._title()}</b></p>" + self._summary().to_html(
            index=False, float_format=lambda v: f"{v:.4g}"
        )
