"""The simulator's known truth: generating parameters, latent quantities, true models."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from calcstats._errors import CalcstatsError
from calcstats.simulate import _params as P

__all__ = ["TRANSITIONS", "Truth"]

#: The transitions of the simulated liver progression ("from -> to").
TRANSITIONS = (
    "no_cirrhosis -> cirrhosis",
    "no_cirrhosis -> decompensation",
    "cirrhosis -> decompensation",
    "no_cirrhosis -> liver_transplant",
    "cirrhosis -> liver_transplant",
    "decompensation -> liver_transplant",
    "no_cirrhosis -> death",
    "cirrhosis -> death",
    "decompensation -> death",
)


class Truth:
    """What the simulator knows and the analyst does not.

    Attributes
    ----------
    params : dict
        Every generating parameter (the call's options, the preset, the per-etiology
        tables and hazards, with their source tags).
    patients : pandas.DataFrame
        One row per patient: ``patient_id``, ``true_etiology``, ``true_calcification``,
        ``true_n_calcifications`` (latent count at baseline, detected or not),
        ``new_calcification_years`` (latent onset of a calcification formed after index
        in a patient without one at baseline, ``inf`` if none forms before the
        administrative end of follow-up; an imaging study after it shows it, with the
        modality's sensitivity, and :meth:`Cohort.interval_table` brackets it),
        ``calcification_recorded_years`` (first imaging study showing a
        calcification, ``inf`` if none) and the latent event times before censoring
        ``latent_<event>_years`` (``inf`` = never).
    lesions : pandas.DataFrame
        One row per true lesion: ``patient_id``, ``lesion``, ``onset_years``, ``segment``,
        ``size_mm`` (true size), ``morphology`` (true), ``associated_lesion``.
    etiology_levels : tuple of str
        Recorded etiologies present in the cohort (sorted); the first is the reference
        level that patsy (and so :func:`calcstats.cox`) uses.

    Examples
    --------
    >>> import calcstats as cs
    >>> sim = cs.simulate_cohort(500, seed=1)
    >>> sim.truth.formula("cirrhosis")
    'any_calcification + C(etiology) + age_at_index + sex'
    """

    def __init__(
        self,
        params: dict[str, Any],
        patients: pd.DataFrame,
        lesions: pd.DataFrame,
        etiology_levels: tuple[str, ...],
    ) -> None:
        self.params = params
        self.patients = patients
        self.lesions = lesions
        self.etiology_levels = tuple(etiology_levels)

    def __repr__(self) -> str:
        return (
            f"Truth(preset={self.params['preset']!r}, n={self.params['n']}, "
            f"seed={self.params['seed']!r}, "
            f"calcification_hr={self.params['calcification_hr']})"
        )

    @staticmethod
    def _check_outcome(outcome: str) -> None:
        if outcome in P.PH_OUTCOMES:
            return
        if outcome == "decompensation":
            raise CalcstatsError(
                "No single proportional-hazards model from index is true for "
                "'decompensation': its hazard rises tenfold once cirrhosis develops (the "
                "simulated liver progression is a multi-state model). Fit "
                "cs.multistate_cox(cohort.multistate_table(), ...) and compare with "
                "Truth.transition_hazard_ratios('no_cirrhosis', 'decompensation') and "
                "('cirrhosis', 'decompensation')."
            )
        if outcome in ("liver_transplant", "death"):
            raise CalcstatsError(
                f"No single proportional-hazards model is true for {outcome!r}: its hazard "
                "rises after decompensation, HCC or cholangiocarcinoma (illness-death "
                "structure) and death adds Gompertz background mortality in attained age. "
                f"Truth.formula/hazard_ratios cover {', '.join(P.PH_OUTCOMES)}."
            )
        raise CalcstatsError(
            f"Unknown outcome {outcome!r}; the simulator's proportional-hazards outcomes "
            f"are {', '.join(P.PH_OUTCOMES)}."
        )

    def formula(self, outcome: str, *, time_varying: bool = False) -> str:
        """Right-hand side of the true cause-specific Cox model for ``outcome``.

        Parameters
        ----------
        outcome : str
            ``"cirrhosis"``, ``"decompensation"``, ``"hcc"`` or ``"cholangiocarcinoma"``.
        time_varying : bool
            If True, name the exposure ``calcification`` as in
            ``cohort.counting_process_table(outcome, exposure="calcification")``;
            otherwise ``any_calcification`` (baseline, ``cohort.survival_table``).

        Notes
        -----
        The calcification effect acts on the calcification status as recorded, from the
        first imaging study that shows it. With ``followup_imaging=False`` that status is
        fixed at baseline and the baseline model is exactly true; with follow-up imaging
        the time-varying model is the true one and the baseline model misclassifies the
        patients whose calcification is first recorded later. For ``"cirrhosis"`` the
        model applies to patients without cirrhosis at baseline (``survival_table``
        leaves the others out), so ``cirrhosis_at_baseline`` is not a term.

        Examples
        --------
        >>> import calcstats as cs
        >>> cs.simulate_cohort(300, seed=2).truth.formula("hcc")
        'any_calcification + C(etiology) + age_at_index + sex + cirrhosis_at_baseline'
        """
        self._check_outcome(outcome)
        spec = self.params.get("hazards", P.HAZARDS)[outcome]
        exposure = "calcification" if time_varying else "any_calcification"
        terms = [exposure, "C(etiology)", "age_at_index", "sex"]
        if spec["log_cirrhosis"] is not None:
            terms.append("cirrhosis_at_baseline")
        return " + ".join(terms)

    def hazard_ratios(
        self, outcome: str, *, reference: str | None = None, time_varying: bool = False
    ) -> pd.Series:
        """True hazard ratio of every term of :meth:`formula`, named as cs.cox names them.

        Parameters
        ----------
        outcome : str
            As in :meth:`formula`.
        reference : str, optional
            Reference etiology; default the alphabetically first etiology in the cohort
            (patsy's choice). Pass it when you fit on a subset that lacks that level.
        time_varying : bool
            Name the exposure ``calcification`` instead of ``any_calcification``.

        Returns
        -------
        pandas.Series
            Index: ``any_calcification``, ``C(etiology)[T.<level>]`` for each non-reference
            level, ``age_at_index`` (per year), ``sex[T.M]`` and, except for cirrhosis,
            ``cirrhosis_at_baseline``.

        Examples
        --------
        >>> import calcstats as cs
        >>> hr = cs.simulate_cohort(300, seed=2, calcification_hr=1.5).truth
        >>> print(hr.hazard_ratios("cirrhosis")["any_calcification"])
        1.5
        """
        self._check_outcome(outcome)
        levels = self.etiology_levels
        ref = levels[0] if reference is None else reference
        if ref not in levels:
            raise CalcstatsError(
                f"reference={ref!r} is not an etiology of this cohort; choose one of "
                f"{', '.join(levels)}."
            )
        spec = self.params.get("hazards", P.HAZARDS)[outcome]
        exposure = "calcification" if time_varying else "any_calcification"
        calc_hr = self.params["calcification_hr"] if outcome == "cirrhosis" else 1.0
        out = {exposure: float(calc_hr)}
        base = spec["rate"].get(ref, spec["default"])
        for level in levels:
            if level != ref:
                out[f"C(etiology)[T.{level}]"] = spec["rate"].get(level, spec["default"]) / base
        out["age_at_index"] = math.exp(spec["log_age"])
        out["sex[T.M]"] = math.exp(spec["log_male"])
        if spec["log_cirrhosis"] is not None:
            out["cirrhosis_at_baseline"] = math.exp(spec["log_cirrhosis"])
        return pd.Series(out, name="hazard_ratio", dtype=float)

    # ---- the multi-state progression ------------------------------------------------
    def _transition(self, from_state: str, to_state: str) -> tuple[str, dict[str, Any]]:
        label = f"{from_state} -> {to_state}"
        if label not in TRANSITIONS:
            raise CalcstatsError(
                f"{label!r} is not a transition of the simulated progression; transitions: "
                f"{', '.join(TRANSITIONS)}."
            )
        if to_state == "death":
            raise CalcstatsError(
                f"No proportional-hazards model is true for {label!r}: the death hazard adds "
                "Gompertz background mortality in attained age to liver death. "
                "Truth.transition_hazard_ratios covers "
                f"{', '.join(t for t in TRANSITIONS if not t.endswith('death'))}."
            )
        if to_state == "liver_transplant":
            tx = self.params.get("transplant", P.TRANSPLANT)
            if from_state == "decompensation":
                spec = {"rate": {}, "default": 1.0, "log_age": tx["log_age"], "log_male": None}
            else:
                spec = {
                    "rate": tx["rate"],
                    "default": tx["default"],
                    "log_age": tx["log_age"],
                    "log_male": None,
                }
        else:
            hz = self.params.get("hazards", P.HAZARDS)[to_state]
            spec = {
                "rate": hz["rate"],
                "default": hz["default"],
                "log_age": hz["log_age"],
                "log_male": hz["log_male"],
            }
        return label, spec

    def transition_formula(
        self, from_state: str, to_state: str, *, time_varying: bool = False
    ) -> str:
        """Right-hand side of the true Cox model of one transition of the progression.

        The transitions are those of :meth:`Cohort.multistate_table`'s default states:
        ``no_cirrhosis -> cirrhosis``, ``no_cirrhosis -> decompensation``,
        ``cirrhosis -> decompensation`` and ``* -> liver_transplant`` (transitions into
        death have no true proportional-hazards model). As in :meth:`formula`, the
        calcification effect acts on the recorded status: the baseline model
        (``any_calcification``) is exactly true with ``followup_imaging=False``.

        Examples
        --------
        >>> import calcstats as cs
        >>> cs.simulate_cohort(300, seed=2).truth.transition_formula(
        ...     "cirrhosis", "decompensation")
        'any_calcification + C(etiology) + age_at_index + sex'
        """
        _, spec = self._transition(from_state, to_state)
        terms = ["calcification" if time_varying else "any_calcification"]
        if spec["rate"]:
            terms.append("C(etiology)")
        terms.append("age_at_index")
        if spec["log_male"] is not None:
            terms.append("sex")
        return " + ".join(terms)

    def transition_hazard_ratios(
        self,
        from_state: str,
        to_state: str,
        *,
        reference: str | None = None,
        time_varying: bool = False,
    ) -> pd.Series:
        """True hazard ratios of one transition, named as :func:`calcstats.multistate_cox`
        names its terms (the ``term`` column of ``tidy()``).

        Examples
        --------
        >>> import calcstats as cs
        >>> t = cs.simulate_cohort(300, seed=2, calcification_hr={
        ...     "no_cirrhosis -> cirrhosis": 1.5, "cirrhosis -> decompensation": 2.0}).truth
        >>> float(t.transition_hazard_ratios("cirrhosis", "decompensation")
        ...       ["any_calcification"])
        2.0
        """
        label, spec = self._transition(from_state, to_state)
        levels = self.etiology_levels
        ref = levels[0] if reference is None else reference
        if ref not in levels:
            raise CalcstatsError(
                f"reference={ref!r} is not an etiology of this cohort; choose one of "
                f"{', '.join(levels)}."
            )
        hrs = self.params.get("calcification_transition_hr") or {
            "no_cirrhosis -> cirrhosis": self.params["calcification_hr"]
        }
        exposure = "calcification" if time_varying else "any_calcification"
        out = {exposure: float(hrs.get(label, 1.0))}
        if spec["rate"]:
            base = spec["rate"].get(ref, spec["default"])
            for level in levels:
                if level != ref:
                    out[f"C(etiology)[T.{level}]"] = spec["rate"].get(level, spec["default"]) / base
        out["age_at_index"] = math.exp(spec["log_age"])
        if spec["log_male"] is not None:
            out["sex[T.M]"] = math.exp(spec["log_male"])
        return pd.Series(out, name="hazard_ratio", dtype=float)

    def new_calcification_survival(self, times: Any) -> pd.DataFrame:
        """True probability of no new calcification by each time (patients without one at
        baseline), by cirrhosis at baseline.

        New calcification forms at an exponential time with rate
        ``new_calcification_rate`` (times ``new_calcification_hr`` with cirrhosis at
        baseline), so ``S(t) = exp(-rate t)``.

        Parameters
        ----------
        times : array-like
            Years from index.

        Returns
        -------
        pandas.DataFrame
            ``cirrhosis_at_baseline`` (0/1), ``time``, ``survival``.

        Examples
        --------
        >>> import calcstats as cs
        >>> t = cs.simulate_cohort(200, seed=1, new_calcification_rate=0.1).truth
        >>> t.new_calcification_survival([1.0])["survival"].round(4).tolist()
        [0.9048, 0.9048]
        """
        t = np.atleast_1d(np.asarray(times, dtype=float))
        rate = float(self.params.get("new_calcification_rate", 0.0))
        hr = float(self.params.get("new_calcification_hr", 1.0))
        frames = [
            pd.DataFrame(
                {"cirrhosis_at_baseline": c, "time": t, "survival": np.exp(-rate * hr**c * t)}
            )
            for c in (0, 1)
        ]
        return pd.concat(frames, ignore_index=True)

    def new_calcification_coefficients(self, model: str = "aft") -> pd.Series:
        """The true parameters of the onset of new calcification as
        :func:`calcstats.parametric_survival` names them for the formula
        ``"cirrhosis_at_baseline"`` (Weibull with scale 1, i.e. exponential).

        Parameters
        ----------
        model : {"aft", "ph"}
            ``"aft"``: ``Intercept = -log(rate)``, ``cirrhosis_at_baseline =
            -log(new_calcification_hr)`` and ``scale = 1``. ``"ph"``: ``Intercept =
            log(rate)``, ``cirrhosis_at_baseline = log(new_calcification_hr)``, ``shape = 1``.

        Examples
        --------
        >>> import calcstats as cs
        >>> t = cs.simulate_cohort(200, seed=1, new_calcification_rate=0.1,
        ...                        new_calcification_hr=2.0).truth
        >>> t.new_calcification_coefficients("ph").round(4).to_dict()
        {'Intercept': -2.3026, 'cirrhosis_at_baseline': 0.6931, 'shape': 1.0}
        """
        if model not in ("aft", "ph"):
            raise CalcstatsError(f"model must be 'aft' or 'ph', got {model!r}.")
        rate = float(self.params.get("new_calcification_rate", 0.0))
        hr = float(self.params.get("new_calcification_hr", 1.0))
        if rate <= 0:
            raise CalcstatsError(
                "this cohort was simulated with new_calcification_rate=0: "
                "no new calcification forms."
            )
        sign = -1.0 if model == "aft" else 1.0
        last = "scale" if model == "aft" else "shape"
        return pd.Series(
            {
                "Intercept": sign * math.log(rate),
                "cirrhosis_at_baseline": sign * math.log(hr),
                last: 1.0,
            },
            dtype=float,
        )

    def to_dict(self) -> dict[str, Any]:
        """Parameters, the true models (formula and hazard ratios per outcome) and a
        summary of the latent quantities, as plain JSON-ready Python objects."""
        models = {
            k: {
                "formula": self.formula(k),
                "hazard_ratios": {t: float(v) for t, v in self.hazard_ratios(k).items()},
            }
            for k in P.PH_OUTCOMES
        }
        lat = self.patients
        if lat.empty:
            summary: dict[str, int] = {}
        else:
            summary = {
                "n_true_calcification": int(lat["true_calcification"].sum()),
                "n_true_lesions_baseline": int(lat["true_n_calcifications"].sum()),
                "n_new_calcification": int(np.isfinite(lat["new_calcification_years"]).sum()),
                "n_calcification_recorded": int(
                    np.isfinite(lat["calcification_recorded_years"]).sum()
                ),
            }
        transitions = {
            t: {
                "formula": self.transition_formula(*t.split(" -> ")),
                "hazard_ratios": {
                    k: float(v) for k, v in self.transition_hazard_ratios(*t.split(" -> ")).items()
                },
            }
            for t in TRANSITIONS
            if not t.endswith("death")
        }
        return {
            "generator": "calcstats.simulate_cohort",
            "params": _jsonable(self.params),
            "etiology_levels": list(self.etiology_levels),
            "models": models,
            "transitions": transitions,
            "latent_summary": summary,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Truth:
        """Rebuild a Truth from :meth:`to_dict` output (e.g. a ``truth.json`` file).

        The generating parameters and true models are restored; the latent per-patient
        and per-lesion tables are not stored in the JSON, so ``patients`` and ``lesions``
        are empty.

        Examples
        --------
        >>> import calcstats as cs
        >>> t = cs.simulate_cohort(200, seed=1).truth
        >>> cs.Truth.from_dict(t.to_dict()).formula("hcc") == t.formula("hcc")
        True
        """
        for key in ("params", "etiology_levels"):
            if key not in data:
                raise CalcstatsError(
                    f"Not a calcstats truth: the {key!r} entry is missing. Pass the output "
                    "of Truth.to_dict() or the content of a truth.json it wrote."
                )
        return cls(
            dict(data["params"]), pd.DataFrame(), pd.DataFrame(), tuple(data["etiology_levels"])
        )

    def to_json(self, path: str | Path | None = None, *, indent: int = 2) -> str:
        """:meth:`to_dict` as JSON text; written to ``path`` too when given."""
        text = json.dumps(self.to_dict(), indent=indent, sort_keys=False) + "\n"
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    return obj
