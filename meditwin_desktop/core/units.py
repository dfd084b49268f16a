"""One table of units for measurements: convert a value between units of a dimension, and
between mass and molar concentrations of the analytes whose molar mass is known.

    convert(6.2, "mmol/L", "mg/dL", "LDL cholesterol")  -> 239.75
    convert(31.5, "mm", "cm")                           -> 3.15

A unit system (`UNIT_SYSTEMS`: mg/dL or mmol/L) is the user's one choice for showing
concentrations of the known analytes everywhere (comparison, curves, report):

    in_system(160.0, "mmol/L-years", "LDL-C burden", "mg/dL")  -> (6187.2, "mg/dL-years")

Units are written as clinicians write them ("mg/dL", "µmol/L", "mL", "mmHg"); "u" may be
typed for "µ". A conversion that is not possible raises UnitError naming both units.
"""

from __future__ import annotations

import configparser
from collections.abc import Sequence

from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.paths import data_dir


class UnitError(InputError):
    """Two units that cannot be converted into each other (or an unknown unit)."""


# dimension -> unit -> factor to the dimension's first unit
_DIMENSIONS: dict[str, dict[str, float]] = {
    "length": {"mm": 1.0, "cm": 10.0, "m": 1000.0, "µm": 1e-3, "in": 25.4},
    "volume": {"mL": 1.0, "L": 1000.0, "cm3": 1.0, "µL": 1e-3, "mm3": 1e-3, "dL": 100.0},
    "mass": {"g": 1.0, "kg": 1000.0, "mg": 1e-3, "µg": 1e-6, "lb": 453.59237},
    "time": {"s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0, "week": 604800.0,
             "month": 2629800.0, "y": 31557600.0},
    "pressure": {"mmHg": 1.0, "kPa": 7.50062, "cmH2O": 0.735559},
    "fraction": {"%": 1.0, "fraction": 100.0},
    "mass concentration": {"mg/dL": 1.0, "g/dL": 1000.0, "g/L": 100.0, "mg/L": 0.1,
                           "µg/mL": 0.1, "ng/mL": 1e-4, "pg/mL": 1e-7},
    "molar concentration": {"mmol/L": 1.0, "µmol/L": 1e-3, "nmol/L": 1e-6, "pmol/L": 1e-9,
                            "mM": 1.0, "µM": 1e-3, "nM": 1e-6},
    "rate": {"bpm": 1.0, "/min": 1.0, "/h": 1 / 60, "/d": 1 / 1440},
    "score": {"points": 1.0},
    "cell count": {"G/L": 1.0, "10^9/L": 1.0, "/nL": 1.0, "/µL": 1e-3, "T/L": 1000.0,
                   "10^12/L": 1000.0},
    "enzyme activity": {"U/L": 1.0, "IU/L": 1.0, "kU/L": 1000.0, "µkat/L": 60.0},
    "ratio": {"mmol/mol": 1.0},
    "clearance": {"mL/min/1.73m²": 1.0, "mL/min/1.73m2": 1.0},
    "frequency": {"Hz": 1.0},
    "amyloid load": {"CL": 1.0},  # centiloids (Klunk et al. 2015)
    "uptake ratio": {"SUVR": 1.0},
    "dimensionless": {"ratio": 1.0},  # theta/alpha power, CSF Abeta42/40
    "model space": {"0-1": 1.0},  # a disease-course model's normalised scale (Leaspy)
}  # fmt: skip
# Written as people type them (case-insensitive only here: "G/L" and "g/L" differ)
_SYNONYMS = {"years": "y", "year": "y", "days": "d", "day": "d", "hours": "h", "ml": "mL",
             "l": "L", "cc": "mL", "score": "points", "pts": "points", "beats/min": "bpm",
             "mmhg": "mmHg", "mg/dl": "mg/dL", "mmol/l": "mmol/L", "months": "month",
             "weeks": "week", "g/dl": "g/dL", "mg/l": "mg/L", "ng/ml": "ng/mL",
             "pg/ml": "pg/mL", "umol/l": "µmol/L", "nmol/l": "nmol/L", "pmol/l": "pmol/L",
             "ug/ml": "µg/mL", "ul": "µL", "um": "µm", "ug": "µg", "u/l": "U/L",
             "iu/l": "IU/L", "ukat/l": "µkat/L", "/ul": "/µL", "kpa": "kPa",
             "cmh2o": "cmH2O", "hz": "Hz", "cl": "CL", "centiloid": "CL",
             "suvr": "SUVR"}  # fmt: skip

# molar mass in g/mol: 1 mmol/L = molar_mass / 10 mg/dL
_MOLAR_MASS = {
    "cholesterol": 386.65,  # total, LDL, HDL, non-HDL (as in SCORE2: x 38.67)
    "triglycerides": 885.7,  # triolein (x 88.57)
    "glucose": 180.16,  # (x 18.016)
    "creatinine": 113.12,  # (1 mg/dL = 88.4 µmol/L)
    "urea nitrogen": 28.01,  # BUN: two nitrogen atoms (1 mg/dL = 0.357 mmol/L urea)
    "urea": 60.06,
}
_ANALYTES = {"ldl": "cholesterol", "hdl": "cholesterol", "cholesterol": "cholesterol",
             "triglyceride": "triglycerides", "glucose": "glucose", "creatinine": "creatinine",
             "urea nitrogen": "urea nitrogen", "bun": "urea nitrogen",
             "urea": "urea"}  # fmt: skip  # the more specific first


def normalise(unit: str) -> str:
    """The unit as the table writes it ("umol/l" -> "µmol/L"). Exact first: capitals
    matter ("G/L" is giga-cells per litre, "g/L" grams); then the known ways of typing it
    (lower case, "u" for "µ"); Greek mu (U+03BC) is the micro sign."""
    text = unit.strip().replace("\u03bc", "µ")
    if dimension_of_exact(text):
        return text
    return _SYNONYMS.get(text.lower(), text)


def dimension_of_exact(unit: str) -> str | None:
    """The dimension of a unit written exactly as the table writes it."""
    return next((d for d, units in _DIMENSIONS.items() if unit in units), None)


def dimension(unit: str) -> str | None:
    """The dimension of a unit ("mass concentration"), None if unknown."""
    return dimension_of_exact(normalise(unit))


def _analyte(quantity: str | None) -> str | None:
    """The analyte a quantity names ('LDL-C on treatment' -> 'cholesterol'), if known."""
    words = f" {(quantity or '').lower()} "
    return next((a for key, a in _ANALYTES.items() if f" {key}" in words
                 or key in words.replace(" ", "")), None)  # fmt: skip


def _molar_mass(quantity: str | None) -> float | None:
    analyte = _analyte(quantity)
    return None if analyte is None else _MOLAR_MASS[analyte]


def convert(value: float, source: str, target: str, quantity: str | None = None) -> float:
    """`value` in unit `source`, expressed in unit `target`; `quantity` (e.g. "LDL
    cholesterol") allows mass <-> molar concentration for known analytes."""
    a, b = normalise(source), normalise(target)
    if a == b:
        return float(value)
    da, db = dimension(a), dimension(b)
    if da is None or db is None:
        unknown = source if da is None else target
        raise UnitError(
            tr("Unknown unit '{unit}' (known: {known}).").format(
                unit=unknown, known=", ".join(known_units())
            )
        )
    if da == db:
        return float(value) * _DIMENSIONS[da][a] / _DIMENSIONS[db][b]
    concentrations = {"mass concentration", "molar concentration"}
    molar_mass = _molar_mass(quantity)
    if {da, db} == concentrations and molar_mass is not None:
        if da == "molar concentration":  # mmol/L -> mg/dL, then to the target
            mg_dl = float(value) * _DIMENSIONS[da][a] * molar_mass / 10.0
            return mg_dl / _DIMENSIONS[db][b]
        mmol_l = float(value) * _DIMENSIONS[da][a] * 10.0 / molar_mass
        return mmol_l / _DIMENSIONS[db][b]
    if quantity:
        raise UnitError(
            tr("{source} cannot be converted to {target} for {quantity}.").format(
                source=source, target=target, quantity=tr(quantity)
            )
        )
    raise UnitError(
        tr("{source} cannot be converted to {target}.").format(source=source, target=target)
    )


def known_units() -> list[str]:
    """Every unit of the table."""
    return [unit for units in _DIMENSIONS.values() for unit in units]


# The user's choice of units for concentrations: one system everywhere
UNIT_SYSTEMS: dict[str, str] = {
    "mg/dL": "conventional: mg/dL",
    "mmol/L": "SI: mmol/L (lipids, glucose), µmol/L (creatinine)",
}
# mg/dL until the user chooses: the unit the clinical form stores lipids in, and the one the
# demo cases and the risk equations (PCE) are written in; mmol/L is one click away
DEFAULT_SYSTEM = "mg/dL"
_SYSTEM_UNITS = {
    "mmol/L": {"creatinine": "µmol/L"},  # the other analytes in mmol/L
    "mg/dL": {},
}


SYSTEM_SETTING = "units/system"  # the key in the user's settings.ini (the GUI's QSettings)


def user_system() -> str:
    """The unit system the user chose in the GUI (`SYSTEM_SETTING` of settings.ini in the
    data directory, as the window keeps it), else `DEFAULT_SYSTEM`: the report and the
    command line show what the window shows."""
    section, key = SYSTEM_SETTING.split("/")
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(data_dir() / "settings.ini", encoding="utf-8")
    except (OSError, configparser.Error, UnicodeDecodeError):
        return DEFAULT_SYSTEM
    chosen = parser.get(section, key, fallback=DEFAULT_SYSTEM)
    return chosen if chosen in UNIT_SYSTEMS else DEFAULT_SYSTEM


def _split(unit: str) -> tuple[str, str]:
    """A compound unit as its concentration and the rest: 'mmol/L-years' -> ('mmol/L',
    '-years'); a plain unit -> (unit, '')."""
    for separator in ("-", "·", " x ", "*"):
        head, found, tail = unit.partition(separator)
        if found and dimension(head) in ("mass concentration", "molar concentration"):
            return normalise(head), found + tail
    return normalise(unit), ""


def system_unit(unit: str, quantity: str | None, system: str) -> str:
    """The unit `system` shows a quantity declared in `unit` in: the analyte's unit of
    that system for a known analyte's concentration (also inside a compound unit such as
    'mmol/L-years'), else `unit` unchanged."""
    head, tail = _split(unit)
    analyte = _analyte(quantity)
    if (
        analyte is None
        or system not in _SYSTEM_UNITS
        or dimension(head)
        not in (
            "mass concentration",
            "molar concentration",
        )
    ):
        return unit
    wanted = _SYSTEM_UNITS[system].get(analyte, system)
    return unit if wanted == head else wanted + tail


# Decimals a concentration is read to in each system's unit (lab reports, guidelines)
SYSTEM_DECIMALS = {"mmol/L": 2, "µmol/L": 0, "mg/dL": 0}


def system_text(
    value: float | None, unit: str, quantity: str | None, system: str
) -> tuple[str, str] | None:
    """(text, unit) of a value that `system` shows in another unit than its own `unit`
    (LDL cholesterol 240 mg/dL -> ('6.21', 'mmol/L')), read to `SYSTEM_DECIMALS`; None when
    it stays as it is (no conversion, or no value): for clinical values and parameters."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    converted, shown = in_system(float(value), unit, quantity, system)
    if shown == unit or converted is None:
        return None
    head = _split(shown)[0]
    return f"{converted:.{SYSTEM_DECIMALS.get(head, 2)}f}", shown


def preferred_unit(unit: str, choices: Sequence[str], quantity: str | None, system: str) -> str:
    """Among the units a form field offers (`choices`, its own `unit` first), the one
    `system` shows this quantity in; else `unit`."""
    wanted = system_unit(unit, quantity, system)
    return wanted if wanted in choices else unit


def in_system(
    value: float | None, unit: str, quantity: str | None, system: str
) -> tuple[float | None, str]:
    """`value` (declared in `unit`) and its unit as `system` shows them (None stays None)."""
    shown = system_unit(unit, quantity, system)
    if shown == unit or value is None:
        return value, shown
    return convert(value, _split(unit)[0], _split(shown)[0], quantity), shown


def system_factor(unit: str, quantity: str | None, system: str) -> float:
    """By how much `system` multiplies a value (or a difference) declared in `unit`."""
    value, _ = in_system(1.0, unit, quantity, system)
    return float(value) if value is not None else 1.0
