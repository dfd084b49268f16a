"""Scenario cells by the parameter's kind, drawn as what they are: a choice as a drop-down
of clinical labels (its code stored), a flag as a check box, a number with its unit; a
date with a calendar, a file with a chooser; points and vectors are typed.

A cell's text is the scenario's own value ("" = the personalised baseline, drawn in grey
with the value the scenario inherits: a Sano conduit's 5.0 mm, say). Values a scenario
sets are drawn on a tinted background. One click opens a drop-down or toggles a check box;
numbers are typed (decimal commas accepted) into a field that turns red while out of range.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QDate, QEvent, QModelIndex, QRect, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionButton,
    QStyleOptionComboBox,
    QStyleOptionViewItem,
    QToolButton,
    QWidget,
)

from meditwin_desktop.core.errors import MeditwinError
from meditwin_desktop.core.i18n import N_, decimal_separator, language, tr
from meditwin_desktop.core.scenario_names import number_text, with_unit
from meditwin_desktop.core.twin import Parameter, Twin, format_value

BASELINE_TEXT = N_("(baseline)")
FLAG_TEXT = {"yes": N_("yes"), "no": N_("no")}  # a flag's codes, as the drop-down says them
SET_TINT = QColor(70, 110, 160, 70)  # behind a value the scenario sets
INHERITED = QColor(150, 150, 150)  # a value taken from the baseline


class _FileEditor(QWidget):
    """A path typed or chosen with a file dialog."""

    def __init__(self, parent: QWidget, title: str, inherited: Any = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.text = QLineEdit(self)
        if inherited is not None:  # empty: the baseline's file, shown as the placeholder
            self.text.setPlaceholderText(format_value(inherited))  # a path: as it is
        self.setFocusProxy(self.text)  # typing goes to the path, not to the window
        browse = QToolButton(self)
        browse.setText("…")
        browse.clicked.connect(lambda: self._choose(title))
        row.addWidget(self.text, stretch=1)
        row.addWidget(browse)

    def _choose(self, title: str) -> None:
        path, _ = QFileDialog.getOpenFileName(self, title, self.text.text())
        if path:
            self.text.setText(path)


class NumberEditor(QWidget):
    """A number typed with its unit beside it; red while not a valid value. Empty: the
    baseline (shown as the placeholder)."""

    def __init__(self, parent: QWidget, parameter: Parameter, inherited: Any) -> None:
        super().__init__(parent)
        self.parameter = parameter
        self.setAutoFillBackground(True)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 2, 0)
        row.setSpacing(2)
        self.text = QLineEdit(self)
        self.text.setObjectName(f"number_{parameter.name}")
        if inherited is not None:
            self.text.setPlaceholderText(_decimal(format_value(inherited), inherited))
        self.text.textChanged.connect(self._check)
        row.addWidget(self.text, stretch=1)
        if parameter.unit:
            row.addWidget(QLabel(tr(parameter.unit), self))  # a unit word is translated
        self.setFocusProxy(self.text)

    def _check(self, text: str) -> None:
        self.text.setStyleSheet("" if self.valid(text) else "color: #ff6060;")

    def valid(self, text: str) -> bool:
        text = typed_text(self.parameter, text)
        if not text:
            return True
        try:
            self.parameter.validate(text)
        except MeditwinError:
            return False
        return True


class ParameterDelegate(QStyledItemDelegate):
    """Draws and edits each cell as its parameter's kind (`parameter_of(name)`);
    `inherited_of(index)` is the value a cell without its own value takes (None: none)."""

    def __init__(
        self,
        parameter_of: Callable[[str], Parameter],
        parent=None,
        inherited_of: Callable[[QModelIndex], Any] | None = None,
    ) -> None:
        super().__init__(parent)
        self._parameter_of = parameter_of
        self._inherited_of = inherited_of or (lambda index: None)

    def _parameter(self, index) -> Parameter | None:
        name = index.data(Qt.ItemDataRole.UserRole)
        return self._parameter_of(name) if name else None

    # -- drawing ----------------------------------------------------------------------------
    def _value(self, index, parameter: Parameter) -> tuple[Any, bool]:
        """The cell's value and whether the scenario sets it (else the inherited one)."""
        text = index.data(Qt.ItemDataRole.DisplayRole) or ""
        if text:
            try:
                return parameter.validate(typed_text(parameter, text)), True
            except MeditwinError:
                return text, True
        return self._inherited_of(index), False

    def displayText(self, value, locale) -> str:  # noqa: N802 - Qt API
        return str(value)

    def paint(self, painter, option, index) -> None:
        parameter = self._parameter(index)
        if parameter is None:
            super().paint(painter, option, index)
            return
        value, own = self._value(index, parameter)
        editable = bool(index.flags() & Qt.ItemFlag.ItemIsEditable)
        if own and editable:
            painter.fillRect(option.rect, SET_TINT)
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(option.rect, option.palette.color(QPalette.ColorRole.Highlight))
        kind = parameter.kind
        if kind == "flag" and value is not None:
            checked = value.lower() in ("yes", "true", "1") if isinstance(value, str) else value
            self._paint_check(painter, option, bool(checked), own, editable)
            return
        text = "" if value is None else shown_value(parameter, value, unit=True)
        if kind == "choice" and value is not None:
            room = option.rect.width() - (30 if editable else 8)
            if option.fontMetrics.horizontalAdvance(text) > room and parameter.short_labels:
                text = tr(parameter.short_label(value))  # "statin high + ezetimibe"
        if kind == "choice" and editable:
            self._paint_combo(painter, option, text, own)
            return
        item = QStyleOptionViewItem(option)
        self.initStyleOption(item, index)
        item.text = text
        item.backgroundBrush = Qt.BrushStyle.NoBrush
        if not own:
            item.palette.setColor(QPalette.ColorRole.Text, INHERITED)
            item.palette.setColor(QPalette.ColorRole.HighlightedText, INHERITED.lighter(130))
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, item, painter, widget)

    def sizeHint(self, option, index):  # noqa: N802 - Qt API
        """Wide enough for the value drawn (its unit, a choice's short label, a box)."""
        size = super().sizeHint(option, index)
        parameter = self._parameter(index)
        if parameter is None:
            return size
        value, _ = self._value(index, parameter)
        if parameter.kind == "flag" or value is None:
            size.setWidth(28)
            return size
        if parameter.kind == "choice":  # the clinical label (a short one if it is long)
            text = shown_value(parameter, value)
            if len(text) > 20 and parameter.short_labels:
                text = tr(parameter.short_label(value))
            size.setWidth(option.fontMetrics.horizontalAdvance(text) + 34)
            return size
        text = shown_value(parameter, value, unit=True)
        size.setWidth(option.fontMetrics.horizontalAdvance(text) + 12)
        return size

    def _paint_combo(self, painter, option, text: str, own: bool) -> None:
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        box = QStyleOptionComboBox()
        box.rect = option.rect.adjusted(2, 2, -2, -2)
        box.state = QStyle.StateFlag.State_Enabled
        box.palette = QPalette(option.palette)
        box.currentText = text
        box.frame = True
        if not own:
            box.palette.setColor(QPalette.ColorRole.ButtonText, INHERITED)
            box.palette.setColor(QPalette.ColorRole.Text, INHERITED)
        style.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, box, painter, widget)
        style.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, box, painter, widget)

    def _paint_check(self, painter, option, checked: bool, own: bool, editable: bool) -> None:
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        box = QStyleOptionButton()
        box.rect = _check_rect(option.rect, style, widget)
        box.state = QStyle.StateFlag.State_On if checked else QStyle.StateFlag.State_Off
        if editable:
            box.state |= QStyle.StateFlag.State_Enabled
        painter.save()
        if not own:
            painter.setOpacity(0.55)
        style.drawPrimitive(QStyle.PrimitiveElement.PE_IndicatorCheckBox, box, painter, widget)
        painter.restore()

    # -- clicks -----------------------------------------------------------------------------
    def editorEvent(self, event, model, option, index) -> bool:  # noqa: N802 - Qt API
        parameter = self._parameter(index)
        editable = bool(index.flags() & Qt.ItemFlag.ItemIsEditable)
        if parameter is None or not editable or event.type() != QEvent.Type.MouseButtonRelease:
            return super().editorEvent(event, model, option, index)
        if event.button() != Qt.MouseButton.LeftButton:
            return super().editorEvent(event, model, option, index)
        if parameter.kind == "flag":  # one click flips the value the scenario runs with
            value, _ = self._value(index, parameter)
            model.setData(index, "no" if value in (True, "yes") else "yes")
            return True
        if parameter.kind == "choice" and option.widget is not None:
            option.widget.edit(index)  # the drop-down opens at once
            return True
        return super().editorEvent(event, model, option, index)

    # -- editors ----------------------------------------------------------------------------
    def createEditor(self, parent, option, index):  # noqa: N802 - Qt API
        parameter = self._parameter(index)
        kind = parameter.kind if parameter is not None else ""
        inherited = self._inherited_of(index)
        if kind in ("choice", "flag"):
            combo = QComboBox(parent)
            combo.setObjectName(f"choice_{parameter.name}")
            if inherited is not None:  # "(baseline (5.0 mm))"
                was = shown_value(parameter, inherited)
                if kind == "flag":
                    was = tr(FLAG_TEXT.get(was, was))
                combo.addItem(tr("(baseline ({value}))").format(value=was), "")
            else:
                combo.addItem(tr(BASELINE_TEXT), "")
            options = parameter.choices if kind == "choice" else tuple(FLAG_TEXT)
            for code in options:
                shown = parameter.choice_label(code) if kind == "choice" else FLAG_TEXT[code]
                combo.addItem(tr(shown), code)
            combo.activated.connect(lambda _=0, c=combo: self._chosen(c))
            QTimer.singleShot(0, combo.showPopup)
            return combo
        if kind == "number":
            return NumberEditor(parent, parameter, inherited)
        if kind == "date":
            editor = QDateEdit(parent)
            editor.setCalendarPopup(True)
            editor.setDisplayFormat(date_format())
            return editor
        if kind == "file":
            editor = _FileEditor(parent, tr(parameter.label), inherited)
            editor.text.returnPressed.connect(lambda e=editor: self._chosen(e))  # Return: done
            return editor
        return super().createEditor(parent, option, index)

    def _chosen(self, editor: QWidget) -> None:
        self.commitData.emit(editor)
        self.closeEditor.emit(editor)

    def setEditorData(self, editor, index) -> None:  # noqa: N802 - Qt API
        text = index.data(Qt.ItemDataRole.DisplayRole) or ""
        if isinstance(editor, QComboBox):
            found = editor.findText(text) if text else 0
            if found < 0:  # a code (a flag's yes/no, shown in the language in use)
                found = editor.findData(text)
            editor.setCurrentIndex(max(found, 0))
        elif isinstance(editor, NumberEditor):
            editor.text.setText(text)
            editor.text.selectAll()
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
            parameter = self._parameter(index)
            if text and parameter is not None and parameter.kind == "flag":
                text = str(editor.currentData())  # the code: yes or no, in any language
            model.setData(index, text)
        elif isinstance(editor, NumberEditor):
            model.setData(index, editor.text.text().strip())
        elif isinstance(editor, QDateEdit):
            model.setData(index, editor.date().toString("yyyy-MM-dd"))
        elif isinstance(editor, _FileEditor):
            model.setData(index, editor.text.text().strip())
        else:
            super().setModelData(editor, model, index)

    def updateEditorGeometry(self, editor, option, index) -> None:  # noqa: N802 - Qt API
        editor.setGeometry(option.rect)  # exactly over the cell: nothing moves


def _check_rect(cell: QRect, style, widget) -> QRect:
    """A check box's indicator, centred in its cell."""
    option = QStyleOptionButton()
    size = style.subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, option, widget).size()
    rect = QRect(0, 0, size.width(), size.height())
    rect.moveCenter(cell.center())
    return rect


def shown_value(parameter: Parameter, value: Any, unit: bool = False) -> str:
    """A value as its cell shows it (a choice's clinical label, flags yes/no; numbers with
    their declared decimals, and their unit when `unit`)."""
    if parameter.kind == "choice":
        return tr(parameter.choice_label(str(value)))
    if parameter.kind == "number" and not isinstance(value, (bool, str)):
        digits = number_text(parameter, value)
        text = with_unit(parameter, value) if unit else digits
        text = text.replace(digits, _decimal(digits, value), 1)  # 2,5 in French
        if unit and parameter.unit and text.endswith(parameter.unit):  # "years": "ans"
            text = text[: -len(parameter.unit)] + tr(parameter.unit)
        return text
    if parameter.kind == "number" and isinstance(value, str) and unit and parameter.unit:
        return f"{value} {tr(parameter.unit)}"
    return format_value(value)


def header_text(parameter: Parameter, width: int = 10) -> str:
    """A column header: the label broken into short lines (units are in the cells)."""
    lines, line = [], ""
    for word in tr(parameter.label).split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line])


def bold(font: QFont) -> QFont:
    """The font, bold (key parameters' headers)."""
    font = QFont(font)
    font.setBold(True)
    return font


def point_parameters(twin: Twin | None) -> list[tuple[str, str]]:
    """(name, label) of the positions in the patient a twin takes (kind 'point')."""
    parameters = twin.parameters if twin is not None else ()
    return [(p.name, tr(p.label)) for p in parameters if p.kind == "point"]


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


def typed_text(parameter: Parameter, text: str) -> str:
    """What the user typed or chose, as `parameter.validate` reads it: decimal commas as
    points (`decimal_text`), a choice's label in the language in use as its code, a flag's
    translated yes/no as yes/no."""
    text = decimal_text(text, parameter.kind)
    if parameter.kind == "choice" and text not in parameter.choices:
        for code in parameter.choices:
            if text == tr(parameter.choice_label(code)):
                return code
    if parameter.kind == "flag":
        for code, shown in FLAG_TEXT.items():
            if text == tr(shown):
                return code
    return text


def date_format(with_time: bool = False) -> str:
    """The Qt display format of dates in editors: dd/MM/yyyy in French, ISO otherwise
    (with the time of day: HH:mm after it)."""
    day = "dd/MM/yyyy" if language() == "fr" else "yyyy-MM-dd"
    return f"{day} HH:mm" if with_time else day


def _decimal(text: str, value: Any = None) -> str:
    """A number's text with the decimal separator of the language in use (a value that is
    not a number, a path or a vector, say, is left as it is)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return text
    return text.replace(".", decimal_separator())
