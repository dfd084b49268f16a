"""The clinical form of the open case: one editor per field of `core.clinical`, grouped.

Numbers are typed in the unit chosen beside them (mg/dL or mmol/L for cholesterol, ...)
and stored in the field's canonical unit; a value that cannot be right is refused with
a message naming it and the expected range, and the stored value stays as it was.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from meditwin_desktop.core.case import Case
from meditwin_desktop.core.clinical import (
    ClinicalField,
    ClinicalInputError,
    fields,
    groups,
    set_value,
)
from meditwin_desktop.core.clinical import problems as clinical_problems
from meditwin_desktop.core.i18n import N_, decimal_separator, tr
from meditwin_desktop.core.units import preferred_unit, user_system
from meditwin_desktop.ui.keyed_combo import KeyedComboBox

_NOT_ENTERED = N_("not entered")  # (not "not recorded": a diary period the family did not keep)
_INVALID = "border: 1px solid #d9534f;"


def _flag(spec: ClinicalField, value: Any) -> bool:
    """A stored flag as a check box shows it ('false' from a file is unchecked)."""
    try:
        return bool(spec.parse(value))
    except ClinicalInputError:
        return False


def shown(spec: ClinicalField, value: Any, unit: str | None = None) -> str:
    """A stored number as its field shows it, with the decimal separator in use."""
    return spec.display(value, unit).replace(".", decimal_separator())


class _NumberEditor(QWidget):
    """A line edit and its unit (a choice of units when the field has alternatives)."""

    edited = Signal()

    def __init__(self, spec: ClinicalField, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.text = QLineEdit(self)
        self.text.setObjectName(f"clinical_{spec.key}")
        self.text.editingFinished.connect(self.edited)
        row.addWidget(self.text, stretch=1)
        self.unit = KeyedComboBox(tr, self)  # units shown translated ("years" -> "ans")
        self.unit.addItems(spec.units)
        self.unit.setEnabled(len(spec.units) > 1)
        self.unit.setObjectName(f"clinical_{spec.key}_unit")
        self._shown_unit = spec.unit
        self.prefer(user_system())
        self.unit.currentIndexChanged.connect(lambda n: self._unit_changed(self.unit.key(n)))
        row.addWidget(self.unit)
        self.value: Any = None

    def prefer(self, system: str) -> None:
        """Show lipids (and other analytes) in the user's unit system (`core.units`)."""
        self.unit.setCurrentText(preferred_unit(self.spec.unit, self.spec.units,
                                                self.spec.label, system))  # fmt: skip

    def show_value(self, value: Any) -> None:
        self.value = value
        self.text.setText(shown(self.spec, value, self.unit.currentText()))

    def _unit_changed(self, unit: str) -> None:
        """Re-express the stored value in the new unit (the value itself does not change)."""
        if self.value is not None:
            self.text.setText(shown(self.spec, self.value, unit))
        self._shown_unit = unit


class ClinicalPanel(QWidget):
    """Edit `case.clinical`; `changed` after each accepted value."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.case: Case | None = None
        self._editors: dict[str, QWidget] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.heading = QLabel(tr("Open a case to enter its clinical data."), self)
        self.heading.setWordWrap(True)
        layout.addWidget(self.heading)
        self.message = QLabel("", self)
        self.message.setObjectName("clinical_message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #f0ad4e;")
        layout.addWidget(self.message)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget(scroll)
        column = QVBoxLayout(body)
        for group in groups():
            box = QGroupBox(tr(group), body)
            form = QFormLayout(box)
            form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
            for spec in (f for f in fields() if f.group == group):
                label = QLabel(tr(spec.label), box)
                label.setWordWrap(True)
                if spec.help:
                    label.setToolTip(tr(spec.help))
                form.addRow(label, self._editor(spec, box))
            column.addWidget(box)
        column.addStretch(1)
        scroll.setWidget(body)
        layout.addWidget(scroll, stretch=1)
        self.setEnabled(False)

    def _editor(self, spec: ClinicalField, parent: QWidget) -> QWidget:
        if spec.kind == "number":
            editor = _NumberEditor(spec, parent)
            editor.edited.connect(
                lambda s=spec, e=editor: self._store(s, e.text.text(), e.unit.currentText())
            )
        elif spec.kind == "flag":
            editor = QCheckBox(parent)
            editor.toggled.connect(lambda on, s=spec: self._store(s, on))
        elif spec.kind == "choice":
            editor = QComboBox(parent)  # shown translated, the choice's code stored
            editor.addItem(tr(_NOT_ENTERED), "")
            for choice in spec.choices:
                editor.addItem(tr(choice), choice)
            editor.currentTextChanged.connect(
                lambda _text, s=spec, e=editor: self._store(s, e.currentData() or "")
            )
        else:
            editor = QLineEdit(parent)
            editor.editingFinished.connect(lambda s=spec, e=editor: self._store(s, e.text()))
        editor.setObjectName(f"clinical_{spec.key}")
        self._editors[spec.key] = editor
        return editor  # fmt: skip

    def set_case(self, case: Case | None) -> None:
        """Show the clinical data of `case` (no signal is emitted)."""
        self.case = case
        self.setEnabled(case is not None)
        self.heading.setText(
            tr("Clinical data of the open case (named in the banner). Values are stored with "
               "the case.")
            if case
            else tr("Open a case to enter its clinical data.")
        )  # fmt: skip
        clinical = case.clinical if case is not None else {}
        for spec in fields():
            editor = self._editors[spec.key]
            editor.blockSignals(True)
            value = clinical.get(spec.key)
            if isinstance(editor, _NumberEditor):
                editor.prefer(user_system())  # chosen in the comparison, kept in settings
                editor.show_value(value)
                editor.text.setStyleSheet("")
            elif isinstance(editor, QCheckBox):
                editor.setChecked(_flag(spec, value))
            elif isinstance(editor, QComboBox):
                code = str(value) if value and str(value) in spec.choices else ""
                editor.setCurrentIndex(max(editor.findData(code), 0))  # unknown: see the message
            else:
                editor.setText("" if value is None else str(value))
            editor.blockSignals(False)
        found = clinical_problems(clinical)
        self.message.setText(" ".join(found))

    def set_unit_system(self, system: str) -> None:
        """Show every value that has a unit of `system` in it (mg/dL or mmol/L)."""
        for editor in self._editors.values():
            if isinstance(editor, _NumberEditor):
                editor.prefer(system)

    def _store(self, spec: ClinicalField, text: Any, unit: str | None = None) -> None:
        if self.case is None:
            return
        editor = self._editors[spec.key]
        target = editor.text if isinstance(editor, _NumberEditor) else editor
        before = self.case.clinical.get(spec.key)
        if spec.kind == "number" and str(text).strip() in (
            spec.display(before, unit), shown(spec, before, unit)
        ):
            target.setStyleSheet("")
            return  # the value as shown (rounded, or in another unit): nothing was typed
        try:
            value = set_value(self.case.clinical, spec.key, text, unit)
        except ClinicalInputError as error:
            target.setStyleSheet(_INVALID)
            self.message.setText(
                tr("{error} The stored value is unchanged.").format(error=error)
            )
            return
        target.setStyleSheet("")
        if isinstance(editor, _NumberEditor):
            editor.value = value
        self.message.setText(" ".join(clinical_problems(self.case.clinical)))
        if value != before:
            self.changed.emit()
