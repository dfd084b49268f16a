"""The clinical data of a case: one vocabulary of fields, their units and plausible ranges.

`case.clinical` maps a field's key to its value in the field's canonical unit (the unit
twins read, e.g. cholesterol in mg/dL); a field may also be typed in other units
(`alternatives`: unit -> factor to multiply by to get the canonical unit). Keys are the
names twins use for the matching parameters (`age_y`, `sbp_mmhg`...). Ranges are what is
humanly plausible, wider than any model's validity: a twin flags values outside its own.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
from dataclasses import dataclass, field
from typing import Any

from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import N_, decimal_separator, tr
from meditwin_desktop.core.photo_marks import AV_MARKS_FIELD

log = logging.getLogger(__name__)

# Cholesterol mmol/L -> mg/dL (molar mass 386.65 g/mol; as in the SCORE2 authors' code).
CHOLESTEROL_MG_DL_PER_MMOL_L = 38.67
_FLAG_WORDS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False,
               "oui": True, "vrai": True, "non": False, "faux": False}  # fmt: skip


def _decimal(text: str) -> str:
    """A formatted number with the decimal separator of the language in use."""
    return text.replace(".", decimal_separator())


class ClinicalInputError(InputError):
    """A clinical value that cannot be right (not a number, implausible, unknown choice)."""


@dataclass(frozen=True)
class ClinicalField:
    """One item of the clinical form."""

    key: str
    label: str
    group: str
    unit: str = ""
    kind: str = "number"  # "number", "flag", "choice", "text" or "date" (ISO YYYY-MM-DD)
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    alternatives: dict[str, float] = field(default_factory=dict)  # unit -> factor to `unit`
    help: str = ""

    @property
    def units(self) -> tuple[str, ...]:
        """The canonical unit first, then the alternatives."""
        return (self.unit, *self.alternatives) if self.unit else ()

    def parse(self, text: Any, unit: str | None = None) -> Any:
        """The value in the canonical unit (None for an empty entry); ClinicalInputError."""
        if text is None or (isinstance(text, str) and not text.strip()):
            return None
        if self.kind == "flag":
            if isinstance(text, bool):
                return text
            word = str(text).strip().lower()
            if word not in _FLAG_WORDS:
                raise ClinicalInputError(
                    tr("{field}: '{text}' is not yes or no.").format(
                        field=tr(self.label), text=text
                    )
                )
            return _FLAG_WORDS[word]
        if self.kind == "choice":
            value = str(text).strip()
            if value not in self.choices:
                raise ClinicalInputError(
                    tr("{field}: '{value}' is not one of {choices}.").format(
                        field=tr(self.label), value=value, choices=", ".join(self.choices)
                    )
                )
            return value
        if self.kind == "text":
            return str(text).strip()
        if self.kind == "date":
            return self._date(str(text).strip())
        return self._number(text, unit or self.unit)

    def _date(self, text: str) -> str:
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise ClinicalInputError(
                tr(
                    "{field}: '{text}' is not a date; write it as YYYY-MM-DD (e.g. 1950-05-21)."
                ).format(field=tr(self.label), text=text)
            ) from None
        if not dt.date(1900, 1, 1) <= day <= dt.date.today():
            raise ClinicalInputError(
                tr("{field}: {text} is not plausible (1900 to today).").format(
                    field=tr(self.label), text=text
                )
            )
        return day.isoformat()

    def _number(self, text: Any, unit: str) -> float:
        if unit != self.unit and unit not in self.alternatives:
            raise ClinicalInputError(
                tr("{field}: unknown unit '{unit}' (use {expected}).").format(
                    field=tr(self.label), unit=unit, expected=self.unit
                )
            )
        try:
            number = float(str(text).strip().replace(",", "."))
        except ValueError:
            raise ClinicalInputError(
                tr("{field}: '{text}' is not a number ({unit}).").format(
                    field=tr(self.label), text=text, unit=tr(unit)
                )
            ) from None
        value = number * self.alternatives.get(unit, 1.0)
        low = -float("inf") if self.minimum is None else self.minimum
        high = float("inf") if self.maximum is None else self.maximum
        if not low <= value <= high:
            factor = self.alternatives.get(unit, 1.0)
            raise ClinicalInputError(
                tr(
                    "{field}: {value} {unit} is not plausible; expected {low} to {high} {unit}. "
                    "Check the value and its unit."
                ).format(
                    field=tr(self.label),
                    value=_decimal(f"{number:g}"),
                    unit=tr(unit),
                    low=_decimal(f"{low / factor:.3g}"),
                    high=_decimal(f"{high / factor:.3g}"),
                )
            )
        return value

    def readable(self, value: Any) -> tuple[str, str]:
        """(text, unit) for reading: a value below 1 in a larger alternative unit (age 4 days)."""
        if self.kind == "number" and value not in (None, "") and 0 < abs(float(value)) < 1:
            for unit, factor in self.alternatives.items():
                if abs(float(value)) / factor >= 1:
                    return self.display(value, unit), unit
        return self.display(value), self.unit

    def display(self, value: Any, unit: str | None = None) -> str:
        """A stored value as text in `unit` (the canonical unit by default)."""
        if value is None or value == "":
            return ""
        if self.kind == "flag":
            return "yes" if value else "no"
        if self.kind != "number":
            return str(value)
        factor = self.alternatives.get(unit or self.unit, 1.0)
        return f"{float(value) / factor:.4g}"


CORE_FIELDS: tuple[ClinicalField, ...] = (
    ClinicalField("age_y", N_("Age"), N_("Patient"), N_("years"), minimum=0, maximum=120,
                  alternatives={N_("months"): 1 / 12, N_("days"): 1 / 365.25}),
    ClinicalField("birth_date", N_("Date of birth"), N_("Patient"), kind="date",
                  help=N_("For the age at each dated visit or diary day")),
    ClinicalField("sex", N_("Sex"), N_("Patient"), kind="choice",
                  choices=(N_("female"), N_("male"))),
    ClinicalField("weight_kg", N_("Weight"), N_("Patient"), "kg", minimum=0.3, maximum=350,
                  alternatives={"g": 0.001, "lb": 0.45359237}),
    ClinicalField("height_cm", N_("Height / length"), N_("Patient"), "cm", minimum=20, maximum=250,
                  alternatives={"m": 100.0, "in": 2.54}),
    ClinicalField("diagnosis", N_("Diagnosis"), N_("Patient"), kind="text"),
    ClinicalField("board_question", N_("Question to the board"), N_("Patient"), kind="text",
                  help=N_("What the multidisciplinary board is asked to decide (page 1 of "
                         "the report)")),
    ClinicalField("heart_rate_bpm", N_("Heart rate"), N_("Vital signs"), "bpm", minimum=20,
                  maximum=300),
    ClinicalField("sbp_mmhg", N_("Systolic blood pressure"), N_("Vital signs"), "mmHg", minimum=30,
                  maximum=300, alternatives={"kPa": 7.50062}),
    ClinicalField("dbp_mmhg", N_("Diastolic blood pressure"), N_("Vital signs"), "mmHg", minimum=10,
                  maximum=200, alternatives={"kPa": 7.50062}),
    ClinicalField("iop_mmhg", N_("Intraocular pressure"), N_("Eye"), "mmHg", minimum=0, maximum=80,
                  help=N_("Goldmann applanation, of the eye photographed")),
    ClinicalField(AV_MARKS_FIELD, N_("Artery/vein marks"), N_("Eye"), kind="text",
                  help=N_("Right-click a vessel on the photograph to mark it as artery or vein "
                         "(it overrides the automatic label on that photograph); 'date row, "
                         "column: vein; ...'")),
)  # fmt: skip
"""The fields every twin may share; each twin declares its own (`Twin.clinical_fields`)."""


@functools.cache
def _vocabulary(extra_twins: str) -> tuple[ClinicalField, ...]:
    from meditwin_desktop.core.registry import discover  # twins import this module

    fields, seen = list(CORE_FIELDS), {f.key: f for f in CORE_FIELDS}
    for twin in discover().twins.values():
        for spec in twin.clinical_fields:
            if spec.key not in seen:  # the first declaration of a key is the one shown
                fields.append(spec)
                seen[spec.key] = spec
            elif seen[spec.key] != spec:
                log.warning("twin %s declares the clinical field '%s' differently from an "
                            "earlier one: the earlier one is used", twin.id, spec.key)  # fmt: skip
    return tuple(fields)


def fields() -> tuple[ClinicalField, ...]:
    """The clinical vocabulary: the shared fields, then those of the installed twins."""
    return _vocabulary(os.environ.get("MEDITWIN_EXTRA_TWINS", ""))


def by_key() -> dict[str, ClinicalField]:
    """The vocabulary by key."""
    return {f.key: f for f in fields()}


def groups() -> tuple[str, ...]:
    """The form's groups, in order of first use."""
    return tuple(dict.fromkeys(f.group for f in fields()))


def field_for(key: str) -> ClinicalField:
    """The field called `key`; ClinicalInputError naming the known ones otherwise."""
    known = by_key()
    try:
        return known[key]
    except KeyError:
        raise ClinicalInputError(
            tr("No clinical field '{key}' (there is: {known}).").format(
                key=key, known=", ".join(known)
            )
        ) from None


def set_value(clinical: dict[str, Any], key: str, text: Any, unit: str | None = None) -> Any:
    """Parse and store one value in `clinical` (an empty entry removes it); the value."""
    value = field_for(key).parse(text, unit)
    if value is None:
        clinical.pop(key, None)
    else:
        clinical[key] = value
    return value


def problems(clinical: dict[str, Any]) -> list[str]:
    """Why stored values cannot be right (values from a file or an older version)."""
    found, known = [], by_key()
    for key, value in clinical.items():
        if key in known:
            try:
                known[key].parse(value)
            except (ClinicalInputError, TypeError, ValueError) as error:
                found.append(str(error))
    try:  # values from a file may not be numbers: their own messages say so above
        pressures = {"sbp_mmhg", "dbp_mmhg"} <= clinical.keys()
        if pressures and clinical["dbp_mmhg"] >= clinical["sbp_mmhg"]:
            found.append(tr("Diastolic blood pressure is not below the systolic one."))
        lipids = ("total_chol_mg_dl", "hdl_mg_dl", "ldl_mg_dl")
        if set(lipids) <= clinical.keys() and (
            clinical["ldl_mg_dl"] + clinical["hdl_mg_dl"] > clinical["total_chol_mg_dl"] * 1.05
        ):
            found.append(
                tr("LDL plus HDL cholesterol exceed the total cholesterol: check the units.")
            )
    except TypeError:
        pass  # not numbers: said by the field's own message above
    return found
