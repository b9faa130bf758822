"""Participant flow: who was left out of the cohort, why, and at which step.

The invariant, checked on construction: the patients in the source tables equal the
patients in the final cohort plus every excluded patient, and each excluded patient is
excluded exactly once.

Rows dropped without a patient of the cohort (e.g. events whose ``patient_id`` is not in
the patients table, or rows without a ``patient_id`` that no key links to a patient) are
counted in ``n_rows_excluded`` of the step of their rule: as rows, not as patients. A row
that a key links to a patient (a finding with a blank ``patient_id`` on that patient's
study) is the patient's, and leaves the cohort with the patient.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from calcstats._errors import CalcstatsError

__all__ = ["Flow", "FlowStep"]

_FRAME_COLUMNS = ["step", "reason", "n_before", "n_excluded", "n_after", "excluded_ids"]


@dataclass(frozen=True)
class FlowStep:
    """One step of the participant flow.

    Attributes
    ----------
    reason : str
        Why the patients were left out (or, for step 0, "Patients in source tables").
    n_before, n_excluded, n_after : int
        Patients before the step, left out by it, and remaining after it.
    excluded_ids : tuple of str
        The patient ids left out by this step.
    rule : str or None
        The validation rule (for steps made by ``read_cohort(on_error="exclude")``),
        ``"user"`` for :meth:`Cohort.exclude`, None for step 0.
    n_rows_excluded : int
        Rows dropped by the step that belong to no patient of the cohort (orphan rows or
        rows without a patient_id); these are rows, not patients.
    """

    reason: str
    n_before: int
    n_excluded: int
    n_after: int
    excluded_ids: tuple[str, ...] = ()
    rule: str | None = None
    n_rows_excluded: int = 0

    def __post_init__(self) -> None:
        if self.n_before - self.n_excluded != self.n_after:
            raise CalcstatsError(
                f"flow step {self.reason!r}: n_before ({self.n_before}) - n_excluded "
                f"({self.n_excluded}) != n_after ({self.n_after})."
            )
        if len(self.excluded_ids) != self.n_excluded:
            raise CalcstatsError(
                f"flow step {self.reason!r}: {len(self.excluded_ids)} excluded ids listed "
                f"but n_excluded is {self.n_excluded}."
            )


@dataclass(frozen=True)
class Flow:
    """Ordered participant-flow steps; step 0 is "Patients in source tables".

    Examples
    --------
    >>> f = Flow.start(["a", "b", "c"]).add("age under 18", ["b"], rule="user")
    >>> f.to_frame()[["step", "n_before", "n_excluded", "n_after"]].to_numpy().tolist()
    [[0, 3, 0, 3], [1, 3, 1, 2]]
    """

    steps: tuple[FlowStep, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", tuple(self.steps))
        seen: set[str] = set()
        for i, step in enumerate(self.steps):
            if i > 0 and step.n_before != self.steps[i - 1].n_after:
                raise CalcstatsError(
                    f"flow step {i} ({step.reason!r}) starts from {step.n_before} patients "
                    f"but the previous step ended with {self.steps[i - 1].n_after}."
                )
            dup = seen.intersection(step.excluded_ids)
            if dup:
                raise CalcstatsError(
                    f"flow step {i} ({step.reason!r}) excludes patient(s) already excluded "
                    f"earlier: {sorted(dup)[:5]}."
                )
            seen.update(step.excluded_ids)

    @classmethod
    def start(cls, patient_ids: Iterable[str]) -> Flow:
        """A flow whose step 0 counts the distinct ``patient_ids``."""
        n = len(set(patient_ids))
        return cls((FlowStep("Patients in source tables", n, 0, n),))

    @property
    def n_in(self) -> int:
        """Patients in the source tables."""
        return self.steps[0].n_before if self.steps else 0

    @property
    def n_out(self) -> int:
        """Patients remaining after the last step."""
        return self.steps[-1].n_after if self.steps else 0

    @property
    def excluded_ids(self) -> tuple[str, ...]:
        """Every excluded patient id, in the order of the steps."""
        return tuple(i for s in self.steps for i in s.excluded_ids)

    def add(
        self,
        reason: str,
        excluded_ids: Iterable[str],
        *,
        rule: str | None = None,
        n_rows_excluded: int = 0,
    ) -> Flow:
        """A new Flow with one more step excluding ``excluded_ids``."""
        ids = tuple(sorted({str(i) for i in excluded_ids}))
        n_before = self.n_out
        step = FlowStep(reason, n_before, len(ids), n_before - len(ids), ids, rule, n_rows_excluded)
        return Flow((*self.steps, step))

    def to_frame(self, *, detail: bool = False) -> pd.DataFrame:
        """The steps as a DataFrame.

        Parameters
        ----------
        detail : bool, default False
            Add the columns ``rule`` and ``n_rows_excluded`` (rows dropped that belonged
            to no patient of the cohort).

        Returns
        -------
        pandas.DataFrame
            Columns ``step, reason, n_before, n_excluded, n_after, excluded_ids``.
        """
        rows = [
            {
                "step": i,
                "reason": s.reason,
                "n_before": s.n_before,
                "n_excluded": s.n_excluded,
                "n_after": s.n_after,
                "excluded_ids": s.excluded_ids,
                "rule": s.rule,
                "n_rows_excluded": s.n_rows_excluded,
            }
            for i, s in enumerate(self.steps)
        ]
        cols = [*_FRAME_COLUMNS, "rule", "n_rows_excluded"] if detail else _FRAME_COLUMNS
        out = pd.DataFrame(rows, columns=[*_FRAME_COLUMNS, "rule", "n_rows_excluded"])
        return out[cols]

    def __repr__(self) -> str:
        lines = [f"Flow({len(self.steps)} steps)"]
        for i, s in enumerate(self.steps):
            if i == 0:
                lines.append(f"  {i}. {s.reason}: {s.n_after}")
            else:
                rows = (
                    f" (+{s.n_rows_excluded} rows without a patient)" if s.n_rows_excluded else ""
                )
                lines.append(f"  {i}. {s.reason}: -{s.n_excluded} -> {s.n_after}{rows}")
        return "\n".join(lines)
