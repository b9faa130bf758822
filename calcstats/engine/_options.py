"""Engine settings, the optional-dependency check, and the engine's warning and error.

:class:`EngineOptions` holds the settings of the DuckDB connection calcstats opens itself
(memory limit, threads, spill directory, working database) and the limits of the
statistics that have no aggregate form (rows pulled into pandas, sample size). Users pass
them as a dict: ``read_cohort("data/", engine="duckdb", engine_options={"memory_limit":
"8GB"})``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from calcstats._errors import CalcstatsError, CalcstatsWarning, SchemaError

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "EngineLimitError",
    "EngineOptions",
    "EngineUnsupportedError",
    "EngineWarning",
    "require_ibis",
]

#: Memory DuckDB may use before it spills joins, sorts and aggregations to disk.
DEFAULT_MEMORY_LIMIT = "2GB"


class EngineWarning(CalcstatsWarning):
    """A statistic without an aggregate form was computed on rows pulled out of the engine
    (or on a sample of them); the message states how many rows."""


class EngineUnsupportedError(CalcstatsError):
    """A function without an engine form was given an engine-backed table; the message
    says how to pull the rows into pandas."""


class EngineLimitError(CalcstatsError):
    """A statistic without an aggregate form would pull more rows into pandas than
    ``engine_options["pull_limit"]`` allows."""


@dataclass(frozen=True)
class EngineOptions:
    """Settings of calcstats' own DuckDB connection and of pulls into pandas.

    Parameters
    ----------
    memory_limit : str, default "2GB"
        DuckDB's ``memory_limit``: above it joins, sorts and aggregations spill to
        ``temp_directory`` instead of failing. The Python process needs some more memory
        for its own objects (results, the rows of problems found).
    threads : int, optional
        DuckDB worker threads (default: DuckDB's, one per core).
    temp_directory : str, optional
        Where DuckDB spills and keeps calcstats' working database (the validated,
        converted tables). Default: ``<system temp>/calcstats-duckdb``; it needs about
        the size of the source tables in free disk space.
    database : str, optional
        A DuckDB file to keep the working tables in (they then outlive the session);
        default a new file in ``temp_directory``, deleted when the connection closes.
    pull_limit : int, default 2,000,000
        Most rows a statistic without an aggregate form (Harrell's concordance, MICE, ...)
        may pull into pandas; beyond it the statistic is computed on a sample where that is
        documented, else refused with :class:`EngineLimitError`.
    sample_size : int, default 200,000
        Rows of the simple random sample used past ``pull_limit``.
    seed : int, default 20240601
        Seed of that sample (the same rows on every run).

    Examples
    --------
    >>> opts = EngineOptions.of({"memory_limit": "8GB", "threads": 4})
    >>> opts.memory_limit, opts.threads, opts.pull_limit
    ('8GB', 4, 2000000)
    """

    memory_limit: str = DEFAULT_MEMORY_LIMIT
    threads: int | None = None
    temp_directory: str | None = None
    database: str | None = None
    pull_limit: int = 2_000_000
    sample_size: int = 200_000
    seed: int = 20240601

    @classmethod
    def of(cls, options: Mapping[str, Any] | EngineOptions | None) -> EngineOptions:
        """Options from a dict (unknown keys and bad values are a SchemaError)."""
        if options is None:
            return cls()
        if isinstance(options, EngineOptions):
            return options
        if not isinstance(options, Mapping):
            raise SchemaError(
                "engine_options must be a dict such as {'memory_limit': '4GB'}, got "
                f"{type(options).__name__}."
            )
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise SchemaError(
                f"engine_options: unknown option(s) {unknown}; the options are {sorted(known)}."
            )
        out = replace(cls(), **dict(options))
        out._check()
        return out

    def _check(self) -> None:
        if not isinstance(self.memory_limit, str) or not self.memory_limit.strip():
            raise SchemaError(
                f"engine_options['memory_limit'] must be text such as '4GB', got "
                f"{self.memory_limit!r}."
            )
        for name in ("pull_limit", "sample_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SchemaError(
                    f"engine_options[{name!r}] must be a positive whole number, got {value!r}."
                )
        if self.threads is not None and (
            isinstance(self.threads, bool) or not isinstance(self.threads, int) or self.threads < 1
        ):
            raise SchemaError(
                f"engine_options['threads'] must be a positive whole number, got {self.threads!r}."
            )

    @property
    def spill_directory(self) -> str:
        """The spill directory actually used (``temp_directory`` or the default)."""
        if self.temp_directory is not None:
            return str(self.temp_directory)
        return os.path.join(tempfile.gettempdir(), "calcstats-duckdb")


def require_ibis(what: str = "an engine") -> Any:
    """Import ibis, or say which extra installs it."""
    try:
        import ibis
    except ImportError as exc:
        raise CalcstatsError(
            f"{what} needs the optional package ibis-framework, which is not installed. "
            "Install it with `pip install 'calcstats[duckdb]'` (DuckDB) or "
            "`pip install 'calcstats[spark]'` (Spark)."
        ) from exc
    return ibis
