"""The canonical cohort schema: tables, columns, types, vocabularies and ranges.

Everything the reader and the validator check is declared here as data, so that users
can read it (``calcstats.cohort._schema.TABLES``) and extend the vocabularies
(``read_cohort(vocabularies={"etiology": ["caroli"]})``) without touching code.

Normalisation of values
-----------------------
Text values of vocabulary columns are compared after casefolding, stripping surrounding
spaces and collapsing runs of spaces, hyphens and underscores into one space, so
``" Chronic-HBV "`` matches ``chronic_hbv``. Documented synonyms (``SYNONYMS``) are then
mapped to the canonical value, e.g. ``female``/``f``/``woman`` → ``F``, ``ultrasound``/
``us`` → ``US``, ``ct scan`` → ``CT``, ``primary biliary cholangitis`` → ``pbc``.
Booleans accept ``yes/y/true/t/1`` and ``no/n/false/f/0`` (any case). Couinaud segments
accept Roman or Arabic numerals with an optional ``segment``/``seg``/``s`` prefix and an
optional ``a``/``b`` half for segment IV: ``"4a"``, ``"IV a"``, ``"seg 7"`` and ``"7"`` give
``IVa``, ``IVa``, ``VII`` and ``VII``.

Ranges
------
``HARD_RANGES`` are impossible values (a problem: ``size_mm`` must be > 0, age 0–120);
``PLAUSIBLE_RANGES`` are possible but unusual values (a :class:`DataWarning`, the row is
kept: e.g. bilirubin above 30 mg/dL, age above 100).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from calcstats._errors import SchemaError

__all__ = [
    "BOOLEAN_FALSE",
    "BOOLEAN_TRUE",
    "HARD_RANGES",
    "NATIVE_LIVER_OUTCOMES",
    "PLAUSIBLE_RANGES",
    "SYNONYMS",
    "TABLES",
    "VOCABULARIES",
    "Column",
    "TableSpec",
    "Vocabularies",
    "normalise_key",
    "parse_segment",
]


@dataclass(frozen=True)
class Column:
    """One canonical column.

    ``kind`` is one of ``id`` (text key), ``str`` (free text), ``vocab`` (value from the
    vocabulary named ``vocab``), ``bool``, ``float`` and ``date``.
    """

    name: str
    kind: str
    required: bool = True
    vocab: str | None = None
    description: str = ""


@dataclass(frozen=True)
class TableSpec:
    """The columns of one canonical table, in canonical order."""

    name: str
    columns: tuple[Column, ...]
    key: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column | None:
        for c in self.columns:
            if c.name == name:
                return c
        return None


_LABS = (
    ("bilirubin_mg_dl", "total bilirubin, mg/dL"),
    ("albumin_g_dl", "albumin, g/dL"),
    ("alp_u_l", "alkaline phosphatase, U/L"),
    ("platelets_10e9_l", "platelets, 10^9/L"),
    ("inr", "international normalised ratio"),
)

TABLES: Mapping[str, TableSpec] = MappingProxyType(
    {
        "patients": TableSpec(
            "patients",
            (
                Column("patient_id", "id", description="unique patient identifier"),
                Column("sex", "vocab", vocab="sex", description="F or M"),
                Column("age_at_index", "float", description="years at the index date"),
                Column(
                    "birth_date",
                    "date",
                    required=False,
                    description="may be given instead of age_at_index",
                ),
                Column("index_date", "date", description="index imaging study: time zero"),
                Column("etiology", "vocab", vocab="etiology"),
                Column("cirrhosis_at_baseline", "bool"),
                Column("last_followup_date", "date"),
                Column("site", "str", required=False),
                Column("bmi", "float", required=False, description="kg/m^2"),
                Column("diabetes", "bool", required=False),
                Column("alcohol_use", "vocab", required=False, vocab="alcohol_use"),
                *(Column(n, "float", required=False, description=d) for n, d in _LABS),
            ),
            key="patient_id",
        ),
        "imaging": TableSpec(
            "imaging",
            (
                Column("study_id", "id"),
                Column("patient_id", "id"),
                Column("study_date", "date"),
                Column("modality", "vocab", vocab="modality"),
            ),
            key="study_id",
        ),
        "findings": TableSpec(
            "findings",
            (
                Column("finding_id", "id"),
                Column("study_id", "id"),
                Column("patient_id", "id"),
                Column("segment", "vocab", vocab="segment"),
                Column("size_mm", "float", description="longest diameter, mm (> 0)"),
                Column("morphology", "vocab", vocab="morphology"),
                Column("associated_lesion", "str", required=False),
            ),
            key="finding_id",
        ),
        "events": TableSpec(
            "events",
            (
                Column("patient_id", "id"),
                Column("event", "vocab", vocab="event"),
                Column("event_date", "date"),
            ),
        ),
    }
)

#: Canonical vocabularies (values in canonical spelling).
VOCABULARIES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "sex": ("F", "M"),
        "etiology": (
            "pbc",
            "psc",
            "biliary_atresia",
            "hepatolithiasis",
            "schistosomiasis",
            "echinococcosis",
            "granulomatous",
            "chronic_hbv",
            "chronic_hcv",
            "alcohol",
            "masld",
            "hemangioma",
            "neoplasm",
            "post_procedural",
            "idiopathic",
            "other",
        ),
        "event": (
            "cirrhosis",
            "portal_hypertension",
            "varices",
            "ascites",
            "variceal_bleeding",
            "encephalopathy",
            "decompensation",
            "hcc",
            "cholangiocarcinoma",
            "liver_transplant",
            "death",
        ),
        "morphology": (
            "punctate",
            "coarse",
            "rim",
            "ductal",
            "vascular",
            "network",
            "diffuse",
            "amorphous",
        ),
        "modality": ("CT", "US", "MRI"),
        "segment": ("I", "II", "III", "IV", "IVa", "IVb", "V", "VI", "VII", "VIII"),
        "alcohol_use": ("none", "moderate", "heavy"),
    }
)

#: Documented synonyms: vocabulary → {synonym: canonical value}. Keys are compared after
#: :func:`normalise_key`; the canonical values themselves always match.
SYNONYMS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "sex": {
            "female": "F",
            "woman": "F",
            "women": "F",
            "w": "F",
            "girl": "F",
            "fem": "F",
            "male": "M",
            "man": "M",
            "men": "M",
            "boy": "M",
        },
        "etiology": {
            "primary biliary cholangitis": "pbc",
            "primary biliary cirrhosis": "pbc",
            "primary sclerosing cholangitis": "psc",
            "atresia": "biliary_atresia",
            "intrahepatic stones": "hepatolithiasis",
            "intrahepatic lithiasis": "hepatolithiasis",
            "schistosoma": "schistosomiasis",
            "bilharzia": "schistosomiasis",
            "hydatid": "echinococcosis",
            "hydatid disease": "echinococcosis",
            "hydatid cyst": "echinococcosis",
            "echinococcus": "echinococcosis",
            "granuloma": "granulomatous",
            "granulomatous disease": "granulomatous",
            "tuberculosis": "granulomatous",
            "tb": "granulomatous",
            "histoplasmosis": "granulomatous",
            "hbv": "chronic_hbv",
            "hepatitis b": "chronic_hbv",
            "chronic hepatitis b": "chronic_hbv",
            "hcv": "chronic_hcv",
            "hepatitis c": "chronic_hcv",
            "chronic hepatitis c": "chronic_hcv",
            "ald": "alcohol",
            "alcoholic": "alcohol",
            "alcoholic liver disease": "alcohol",
            "alcohol related liver disease": "alcohol",
            "arld": "alcohol",
            "nafld": "masld",
            "mafld": "masld",
            "nash": "masld",
            "mash": "masld",
            "haemangioma": "hemangioma",
            "tumor": "neoplasm",
            "tumour": "neoplasm",
            "neoplastic": "neoplasm",
            "post procedure": "post_procedural",
            "iatrogenic": "post_procedural",
        },
        "event": {
            "cirrhosis dx": "cirrhosis",
            "cirrhotic": "cirrhosis",
            "ph": "portal_hypertension",
            "portal htn": "portal_hypertension",
            "varices dx": "varices",
            "esophageal varices": "varices",
            "oesophageal varices": "varices",
            "decomp ascites": "ascites",
            "variceal bleed": "variceal_bleeding",
            "decomp variceal bleed": "variceal_bleeding",
            "variceal hemorrhage": "variceal_bleeding",
            "variceal haemorrhage": "variceal_bleeding",
            "he": "encephalopathy",
            "hepatic encephalopathy": "encephalopathy",
            "decomp encephalopathy": "encephalopathy",
            "decompensated": "decompensation",
            "hepatic decompensation": "decompensation",
            "hepatocellular carcinoma": "hcc",
            "cca": "cholangiocarcinoma",
            "transplant": "liver_transplant",
            "liver transplantation": "liver_transplant",
            "olt": "liver_transplant",
            "lt": "liver_transplant",
            "died": "death",
            "dead": "death",
            "deceased": "death",
        },
        "morphology": {
            "dot": "punctate",
            "dot like": "punctate",
            "speck": "punctate",
            "coarse nodular": "coarse",
            "nodular": "coarse",
            "chunky": "coarse",
            "curvilinear": "rim",
            "curvilinear rim": "rim",
            "eggshell": "rim",
            "ring": "rim",
            "linear branching ductal": "ductal",
            "intraductal": "ductal",
            "linear branching vascular": "vascular",
            "septal": "network",
            "septal capsular network": "network",
            "diffuse micro": "diffuse",
        },
        "modality": {
            "ct scan": "CT",
            "computed tomography": "CT",
            "cat": "CT",
            "cat scan": "CT",
            "ultrasound": "US",
            "ultrasonography": "US",
            "sonography": "US",
            "echo": "US",
            "mr": "MRI",
            "magnetic resonance": "MRI",
            "magnetic resonance imaging": "MRI",
        },
        "alcohol_use": {
            "no": "none",
            "never": "none",
            "abstinent": "none",
            "light": "moderate",
            "mild": "moderate",
            "excessive": "heavy",
        },
        "segment": {},
    }
)

BOOLEAN_TRUE: frozenset[str] = frozenset({"yes", "y", "true", "t", "1", "1.0"})
BOOLEAN_FALSE: frozenset[str] = frozenset({"no", "n", "false", "f", "0", "0.0"})

#: Events about the native liver: none may follow a liver transplant.
NATIVE_LIVER_OUTCOMES: frozenset[str] = frozenset(
    {
        "cirrhosis",
        "portal_hypertension",
        "varices",
        "ascites",
        "variceal_bleeding",
        "encephalopathy",
        "decompensation",
        "hcc",
        "cholangiocarcinoma",
    }
)

#: Events that may precede the index date (prevalent conditions). Death and liver
#: transplant before the index imaging study are problems.
TERMINAL_EVENTS: frozenset[str] = frozenset({"death", "liver_transplant"})

#: Baseline flags and the event that must agree with them: a patient with the event dated
#: on or before the index date must have the flag True; a patient with the flag True must
#: not have the event first diagnosed after the index date.
BASELINE_FLAGS: Mapping[str, str] = MappingProxyType({"cirrhosis_at_baseline": "cirrhosis"})

#: Impossible values: (table, column) → (low, high, low_inclusive, high_inclusive).
HARD_RANGES: Mapping[tuple[str, str], tuple[float, float, bool, bool]] = MappingProxyType(
    {
        ("patients", "age_at_index"): (0.0, 120.0, True, True),
        ("patients", "bmi"): (0.0, float("inf"), False, True),
        ("patients", "bilirubin_mg_dl"): (0.0, float("inf"), True, True),
        ("patients", "albumin_g_dl"): (0.0, float("inf"), False, True),
        ("patients", "alp_u_l"): (0.0, float("inf"), True, True),
        ("patients", "platelets_10e9_l"): (0.0, float("inf"), True, True),
        ("patients", "inr"): (0.0, float("inf"), False, True),
        ("findings", "size_mm"): (0.0, float("inf"), False, True),
    }
)

#: Possible but implausible values (a DataWarning; the row is kept): (low, high) inclusive.
PLAUSIBLE_RANGES: Mapping[tuple[str, str], tuple[float, float]] = MappingProxyType(
    {
        ("patients", "age_at_index"): (0.0, 100.0),
        ("patients", "bmi"): (10.0, 70.0),
        ("patients", "bilirubin_mg_dl"): (0.0, 30.0),
        ("patients", "albumin_g_dl"): (1.0, 6.0),
        ("patients", "alp_u_l"): (10.0, 5000.0),
        ("patients", "platelets_10e9_l"): (5.0, 1000.0),
        ("patients", "inr"): (0.5, 10.0),
        ("findings", "size_mm"): (0.0, 150.0),
    }
)

_SEP = re.compile(r"[\s_\-]+")


def normalise_key(value: object) -> str:
    """Casefold, strip and collapse spaces/hyphens/underscores to one space.

    Examples
    --------
    >>> normalise_key("  Chronic-HBV ")
    'chronic hbv'
    """
    return _SEP.sub(" ", str(value).strip().casefold()).strip()


_ROMAN = {
    "i": "I",
    "ii": "II",
    "iii": "III",
    "iv": "IV",
    "v": "V",
    "vi": "VI",
    "vii": "VII",
    "viii": "VIII",
}
_ARABIC = {"1": "I", "2": "II", "3": "III", "4": "IV", "5": "V", "6": "VI", "7": "VII", "8": "VIII"}
_SEGMENT = re.compile(r"^(?:segment|seg|s)?\.?\s*([ivx]+|\d+)\s*([ab])?$")


def parse_segment(value: object) -> str | None:
    """Canonical Couinaud segment of a text, or None when it is not one.

    Examples
    --------
    >>> [parse_segment(v) for v in ["4a", "IV a", "seg 7", "7", "S8", "IX"]]
    ['IVa', 'IVa', 'VII', 'VII', 'VIII', None]
    """
    text = str(value).strip().casefold().replace("_", " ").replace("-", " ")
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    m = _SEGMENT.match(text)
    if m is None:
        return None
    num, half = m.group(1), m.group(2)
    seg = _ARABIC.get(num) if num.isdigit() else _ROMAN.get(num)
    if seg is None:
        return None
    if half is not None:
        if seg != "IV":
            return None
        return f"IV{half}"
    return seg


@dataclass(frozen=True)
class Vocabularies:
    """Allowed values and synonyms of every vocabulary column.

    Build the default with ``Vocabularies()`` and extend it with :meth:`extend`:
    a list adds canonical values, a dict adds synonyms (``{"caroli disease": "caroli"}``;
    a synonym's target is added as a canonical value when new).

    Examples
    --------
    >>> v = Vocabularies().extend({"etiology": ["caroli"], "event": {"sbp": "ascites"}})
    >>> "caroli" in v["etiology"], v.lookup("event")["sbp"]
    (True, 'ascites')
    """

    values: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(VOCABULARIES))
    synonyms: Mapping[str, Mapping[str, str]] = field(
        default_factory=lambda: {k: dict(v) for k, v in SYNONYMS.items()}
    )

    def __getitem__(self, name: str) -> tuple[str, ...]:
        return tuple(self.values[name])

    def __contains__(self, name: object) -> bool:
        return name in self.values

    def __iter__(self):
        return iter(self.values)

    def keys(self) -> Iterable[str]:
        return self.values.keys()

    def to_dict(self) -> dict[str, list[str]]:
        """The canonical values of each vocabulary, as plain lists."""
        return {k: list(v) for k, v in self.values.items()}

    def lookup(self, name: str) -> dict[str, str]:
        """Map from normalised text (:func:`normalise_key`) to canonical value."""
        table = {normalise_key(s): c for s, c in self.synonyms.get(name, {}).items()}
        table.update({normalise_key(c): c for c in self.values[name]})
        return table

    def extend(self, extra: Mapping[str, Iterable[str] | Mapping[str, str]] | None) -> Vocabularies:
        """A new Vocabularies with extra values (list) or synonyms (dict) added."""
        if extra is None:
            return self
        if isinstance(extra, Vocabularies):
            return extra
        if not isinstance(extra, Mapping):
            raise SchemaError(
                "vocabularies must be a dict such as {'etiology': ['caroli']} (extra values) "
                f"or {{'event': {{'sbp': 'ascites'}}}} (synonyms); got {type(extra).__name__}."
            )
        values = {k: list(v) for k, v in self.values.items()}
        synonyms = {k: dict(v) for k, v in self.synonyms.items()}
        for name, items in extra.items():
            if name not in values:
                raise SchemaError(
                    f"vocabularies: unknown vocabulary {name!r}; the vocabularies are "
                    f"{sorted(values)}."
                )
            if isinstance(items, str):
                raise SchemaError(
                    f"vocabularies[{name!r}] must be a list of values or a dict of synonyms, "
                    f"not the string {items!r}; write [{items!r}]."
                )
            if isinstance(items, Mapping):
                for syn, target in items.items():
                    synonyms.setdefault(name, {})[str(syn)] = str(target)
                    if str(target) not in values[name]:
                        values[name].append(str(target))
            else:
                for item in items:
                    if str(item) not in values[name]:
                        values[name].append(str(item))
        return Vocabularies(values={k: tuple(v) for k, v in values.items()}, synonyms=synonyms)
