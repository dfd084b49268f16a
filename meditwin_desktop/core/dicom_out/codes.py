"""The codes MEDITWIN writes into DICOM: units in UCUM and its own concepts.

The private coding scheme "99MEDITWIN" (DICOM PS3.16 8.2: a "99" prefix marks a local
scheme) holds what no standard terminology has:

- `<twin id>.<outcome name>` (e.g. `liver_ablation.margin_min_mm`): a twin's outcome, its
  code meaning the outcome's label ("Minimal ablation margin"); the twin id keeps two
  twins' outcomes of the same name apart (the twin and its version are in each group's
  algorithm identification);
- `RESULTCURRENCY` "Result currency", a qualitative evaluation whose value is `CURRENT`
  "Up to date" or `OUTOFDATE` "Out of date" (the run was computed from other data than the
  case now holds);
- `UNDEFINED` "<why>": the value of an outcome the model left undefined (never written as a
  number), and `CATEGORY` values (`<twin id>.<outcome>.<category>`) for categorical outcomes
  (a RECIST response).

Each SR carries the scheme's identification (Coding Scheme Identification Sequence).
"""

from __future__ import annotations

import re

from highdicom.coding_schemes import CodingSchemeIdentificationItem
from highdicom.sr import CodedConcept

SCHEME = "99MEDITWIN"
SCHEME_ITEM = CodingSchemeIdentificationItem(
    designator=SCHEME,
    name="MEDITWIN Desktop twin outcomes and result states",
    responsible_organization="MEDITWIN",
)

RESULT_CURRENCY = CodedConcept("RESULTCURRENCY", SCHEME, "Result currency")
UP_TO_DATE = CodedConcept("CURRENT", SCHEME, "Up to date")
OUT_OF_DATE = CodedConcept("OUTOFDATE", SCHEME, "Out of date")

# units as the twins and core.units write them -> (UCUM code, meaning)
_UCUM = {
    "": ("1", "no units"),
    "%": ("%", "percent"),
    "pp": ("%", "percentage points"),
    "/day": ("/d", "per day"),
    "/d": ("/d", "per day"),
    "/h": ("/h", "per hour"),
    "1/h": ("/h", "per hour"),
    "/min": ("/min", "per minute"),
    "bpm": ("/min", "beats per minute"),
    "L/min/m2": ("L/min/m2", "litre per minute per square metre"),
    "mL/min/m2": ("mL/min/m2", "millilitre per minute per square metre"),
    "days": ("d", "day"),
    "d": ("d", "day"),
    "h": ("h", "hour"),
    "min": ("min", "minute"),
    "s": ("s", "second"),
    "ms": ("ms", "millisecond"),
    "week": ("wk", "week"),
    "month": ("mo", "month"),
    "years": ("a", "year"),
    "y": ("a", "year"),
    "deg": ("deg", "degree"),
    "°C": ("Cel", "degree Celsius"),
    "mL": ("mL", "millilitre"),
    "L": ("L", "litre"),
    "µL": ("uL", "microlitre"),
    "cm3": ("cm3", "cubic centimetre"),
    "mm3": ("mm3", "cubic millimetre"),
    "mm2": ("mm2", "square millimetre"),
    "mm²": ("mm2", "square millimetre"),
    "mL h": ("mL.h", "millilitre hour"),
    "µL/min": ("uL/min", "microlitre per minute"),
    "mm": ("mm", "millimetre"),
    "cm": ("cm", "centimetre"),
    "µm": ("um", "micrometre"),
    "m": ("m", "metre"),
    "kg": ("kg", "kilogram"),
    "g": ("g", "gram"),
    "mg": ("mg", "milligram"),
    "mmHg": ("mm[Hg]", "millimetre of mercury"),
    "kPa": ("kPa", "kilopascal"),
    "mg/dL": ("mg/dL", "milligram per decilitre"),
    "g/L": ("g/L", "gram per litre"),
    "mmol/L": ("mmol/L", "millimole per litre"),
    "µmol/L": ("umol/L", "micromole per litre"),
    "mmol/L-years": ("mmol/L.a", "millimole per litre year"),
    "mg/dL-years": ("mg/dL.a", "milligram per decilitre year"),
    "HU": ("[hnsf'U]", "Hounsfield unit"),
    "Hz": ("Hz", "hertz"),
    "points": ("{score}", "score points"),
    "people": ("{people}", "people"),
    "seizures": ("{seizures}", "seizures"),
}


def ucum(unit: str) -> CodedConcept:
    """The UCUM code of a unit as MEDITWIN writes it ("mmHg" -> "mm[Hg]"); a unit UCUM does
    not know becomes an annotation ("{tumours}"), which UCUM reads as "1"."""
    if unit in _UCUM:
        code, meaning = _UCUM[unit]
    else:
        annotation = re.sub(r"[^!-z|~]", "_", unit)[:60]  # printable ASCII without { }
        code, meaning = f"{{{annotation}}}", unit[:64] or "no units"
    return CodedConcept(code, "UCUM", meaning)


def outcome_code(twin_id: str, name: str, label: str) -> CodedConcept:
    """The concept of a twin's outcome in the 99MEDITWIN scheme."""
    return CodedConcept(f"{twin_id}.{name}", SCHEME, label[:64] or name[:64])


def category_code(twin_id: str, name: str, category: str) -> CodedConcept:
    """A categorical outcome's value ("PR") in the 99MEDITWIN scheme."""
    return CodedConcept(f"{twin_id}.{name}.{category}", SCHEME, category[:64])


def undefined_code(why: str) -> CodedConcept:
    """The value of an outcome the model did not define; the meaning says why."""
    return CodedConcept("UNDEFINED", SCHEME, (why or "not defined")[:64])
