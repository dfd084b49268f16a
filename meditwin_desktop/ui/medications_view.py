"""Medications: a table (name, dose, unit, start, stop, route) with add, edit and delete;
daily doses are also shown in mg/kg/day when the case's weight is known."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QDateEdit, QDoubleSpinBox, QLineEdit, QWidget

from meditwin_desktop.core.case import Medication
from meditwin_desktop.core.i18n import N_, date_text, decimal_separator, tr
from meditwin_desktop.ui.measurements_view import (
    RecordDialog,
    RecordTable,
    general,
    iso_to_qdate,
)
from meditwin_desktop.ui.parameter_editors import date_format

DOSE_UNITS = ("mg/day", "mg/kg/day", "g/day", "µg/day", "mg", "mL/day", "IU/day")
ROUTES = (  # stored in English, shown in the language in use
    N_("oral"),
    N_("intravenous"),
    N_("rectal"),
    N_("buccal"),
    N_("intranasal"),
    N_("subcutaneous"),
    N_("transdermal"),
    N_("intramuscular"),
)
_PER_DAY_MG = {
    "mg/day": 1.0,
    "mg/d": 1.0,
    "g/day": 1000.0,
    "g/d": 1000.0,
    "µg/day": 1e-3,
    "ug/day": 1e-3,
    "mcg/day": 1e-3,
}


def mg_per_kg_day(dose: float, unit: str, weight_kg: float | None) -> float | None:
    """The daily dose per kg of body weight, None when it cannot be told (no weight, a unit
    that is not a daily mass)."""
    unit = unit.strip()
    if unit == "mg/kg/day":
        return dose
    if unit not in _PER_DAY_MG or not weight_kg or weight_kg <= 0:
        return None
    return dose * _PER_DAY_MG[unit] / weight_kg


def case_weight(case) -> float | None:
    """The weight in kg from the clinical form, if entered."""
    try:
        weight = float((case.clinical if case is not None else {}).get("weight_kg"))
    except (TypeError, ValueError):
        return None
    return weight if weight > 0 else None


class MedicationDialog(RecordDialog):
    """Add or edit one medication."""

    def __init__(self, record: Medication | None, names: list[str], parent=None) -> None:
        super().__init__(tr("Edit medication") if record else tr("Add medication"), parent)
        self._original = record
        self.name = QComboBox(self)
        self.name.setEditable(True)
        self.name.addItems(names)
        self.name.setCurrentText(record.name if record else "")
        self.name.setObjectName("medication_name")
        self.dose = QDoubleSpinBox(self)
        self.dose.setRange(0.0, 1e6)
        self.dose.setDecimals(3)
        self.dose.setValue(record.dose if record else 0.0)
        self.dose.setObjectName("medication_dose")
        self.unit = QComboBox(self)
        self.unit.setEditable(True)
        self.unit.addItems(list(DOSE_UNITS))
        self.unit.setCurrentText(record.unit if record else DOSE_UNITS[0])
        self.start = QDateEdit(iso_to_qdate(record.start if record else ""), self)
        self.stopped = QCheckBox(tr("stopped on"), self)
        self.stop = QDateEdit(iso_to_qdate(record.stop if record else ""), self)
        for edit in (self.start, self.stop):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat(date_format())
        self.stopped.toggled.connect(self.stop.setEnabled)
        self.stopped.setChecked(bool(record and record.stop))
        self.stop.setEnabled(self.stopped.isChecked())
        self.route = QComboBox(self)
        self.route.setEditable(True)
        self.route.addItems([tr(r) for r in ROUTES])
        self.route.setCurrentText(route_text(record.route) if record else tr(ROUTES[0]))
        self.note = QLineEdit(record.note if record else "", self)
        for label, widget in (
            (N_("Name"), self.name),
            (N_("Dose"), self.dose),
            (N_("Unit"), self.unit),
            (N_("Started"), self.start),
            ("", self.stopped),
            (N_("Stopped"), self.stop),
            (N_("Route"), self.route),
            (N_("Note"), self.note),
        ):
            self.form.addRow(tr(label) if label else "", widget)

    def build(self) -> Medication:
        name = self.name.currentText().strip()
        if not name:
            raise ValueError(tr("Give the drug's name."))
        if self.dose.value() <= 0:
            raise ValueError(tr("Give the dose (above 0)."))
        start = self.start.date().toString("yyyy-MM-dd")
        stop = self.stop.date().toString("yyyy-MM-dd") if self.stopped.isChecked() else ""
        if stop and stop < start:
            raise ValueError(
                tr("The stop date {stop} is before the start date {start}.").format(
                    stop=date_text(stop), start=date_text(start)
                )
            )
        return Medication(
            name,
            self.dose.value(),
            self.unit.currentText().strip(),
            start,
            stop,
            _route_code(self.route.currentText().strip()),
            self.note.text().strip(),
        )


class MedicationsView(RecordTable):
    """The case's medications."""

    attribute, noun = "medications", "medication"
    none_yet = N_("No medication yet.")
    headers = (N_("Name"), N_("Dose"), N_("Unit"), "mg/kg/day", N_("Start"), N_("Stop"),
               N_("Route"), N_("Note"))  # fmt: skip

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, importable=False)

    def cells(self, m: Medication) -> list[str]:
        per_kg = mg_per_kg_day(m.dose, m.unit, case_weight(self.case))
        return [
            m.name,
            general(m.dose),
            m.unit,
            "" if per_kg is None else f"{per_kg:.3g}".replace(".", decimal_separator()),
            _day(m.start),
            _day(m.stop) if m.stop else tr("taken"),
            route_text(m.route),
            m.note,
        ]

    def sort_key(self, m: Medication) -> str:
        return f"{m.stop == ''}{m.start}"

    def dialog(self, record: Medication | None) -> MedicationDialog:
        return MedicationDialog(record, sorted({m.name for m in self.records}), self)

    def redraw(self) -> None:
        weight = case_weight(self.case)
        self.empty.setVisible(True)
        text = (
            tr("Weight {weight} kg (clinical form).").format(weight=general(weight))
            if weight
            else tr("Enter the weight in the clinical form to see doses in mg/kg/day.")
        )
        self.empty.setText(text if self.records else tr(self.none_yet) + " " + text)


def route_text(route: str) -> str:
    """A stored route as shown (a listed one in the language in use; others as written)."""
    return tr(route) if route in ROUTES else route


def _route_code(text: str) -> str:
    """The route to store: a listed route's English word, else the text as typed."""
    return next((r for r in ROUTES if text == tr(r)), text)


def _day(text: str) -> str:
    """A stored date as the language writes it (in English, as stored)."""
    shown = date_text(text)
    return text if shown == text[:10] else shown
