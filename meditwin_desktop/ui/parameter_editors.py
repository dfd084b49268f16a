"""Editors of a scenario's parameter cells, by the parameter's kind: a list of clinical
labels for a choice, as-baseline / yes / no for a flag, a calendar for a date, a file
chooser for a file; numbers, points and vectors are typed. An empty cell (or
"(baseline)") means the personalised baseline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QStyledItemDelegate,
    QToolButton,
    QWidget,
)

from meditwin_desktop.core.twin import Parameter, Twin, format_value

BASELINE_TEXT = "(baseline)"


class _FileEditor(QWidget):
    """A path typed or chosen with a file dialog."""

    def __init__(self, parent: QWidget, title: str) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.text = QLineEdit(self)
        browse = QToolButton(self)
        browse.setText("…")
        browse.clicked.connect(lambda: self._choose(title))
        row.addWidget(self.text, stretch=1)
        row.addWidget(browse)

    def _choose(self, title: str) -> None:
        path, _ = QFileDialog.getOpenFileName(self, title, self.text.text())
        if path:
            self.text.setText(path)


class ParameterDelegate(QStyledItemDelegate):
    """Creates the editor that suits each cell's parameter (`parameter_of(name)`)."""

    def __init__(self, parameter_of: Callable[[str], Parameter], parent=None) -> None:
        super().__init__(parent)
        self._parameter_of = parameter_of

    def _parameter(self, index) -> Parameter | None:
        name = index.data(Qt.ItemDataRole.UserRole)
        return self._parameter_of(name) if name else None

    def createEditor(self, parent, option, index):  # noqa: N802 - Qt API
        parameter = self._parameter(index)
        kind = parameter.kind if parameter is not None else ""
        if kind in ("choice", "flag"):
            combo = QComboBox(parent)
            combo.addItem(BASELINE_TEXT, "")
            options = parameter.choices if kind == "choice" else ("yes", "no")
            for code in options:
                combo.addItem(parameter.choice_label(code) if kind == "choice" else code, code)
            return combo
        if kind == "date":
            editor = QDateEdit(parent)
            editor.setCalendarPopup(True)
            editor.setDisplayFormat("yyyy-MM-dd")
            return editor
        if kind == "file":
            return _FileEditor(parent, parameter.label)
        return super().createEditor(parent, option, index)

    def setEditorData(self, editor, index) -> None:  # noqa: N802 - Qt API
        text = index.data(Qt.ItemDataRole.DisplayRole) or ""
        if isinstance(editor, QComboBox):
            found = editor.findText(text)
            editor.setCurrentIndex(max(found, 0))
        elif isinstance(editor, QDateEdit):
            date = QDate.fromString(text, "yyyy-MM-dd")
            editor.setDate(date if date.isValid() else QDate.currentDate())
        elif isinstance(editor, _FileEditor):
            editor.text.setText(text)
        else:
            super().setEditorData(editor, index)

    def setModelData(self, editor, model, index) -> None:  # noqa: N802 - Qt API
        if isinstance(editor, QComboBox):
            text = "" if editor.currentData() == "" else editor.currentText()
            model.setData(index, text)
        elif isinstance(editor, QDateEdit):
            model.setData(index, editor.date().toString("yyyy-MM-dd"))
        elif isinstance(editor, _FileEditor):
            model.setData(index, editor.text.text().strip())
        else:
            super().setModelData(editor, model, index)


def shown_value(parameter: Parameter, value: Any) -> str:
    """A value as its cell shows it (a choice's clinical label, flags yes/no)."""
    if parameter.kind == "choice":
        return parameter.choice_label(str(value))
    return format_value(value)


def point_parameters(twin: Twin | None) -> list[tuple[str, str]]:
    """(name, label) of the positions in the patient a twin takes (kind 'point')."""
    parameters = twin.parameters if twin is not None else ()
    return [(p.name, p.label) for p in parameters if p.kind == "point"]


def decimal_text(text: str, kind: str) -> str:
    """What the user typed, with decimal commas read as points (French, German... locales):
    '2,5' is 2.5 for a number; a point or vector separated by ';' may use them too
    ('-94,5; -12; -38')."""
    text = text.strip()
    if kind == "number" and text.count(",") == 1 and "." not in text:
        return text.replace(",", ".")
    if kind in ("point", "vector") and ";" in text:
        return ", ".join(part.strip().replace(",", ".") for part in text.split(";"))
    return text
