"""Measurements over time: a table (date, name, target, value, unit, source) with add, edit
and delete, and a plot of one measurement over time in one unit (`core.units`).

`RecordTable` (buttons above a table of one of the case's lists, edits in a dialog) and
`dark_axes` are shared with the diary and medications views.
"""

from __future__ import annotations

from datetime import datetime

from matplotlib.figure import Figure
from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from meditwin_desktop.core.case import Case, Measurement
from meditwin_desktop.core.csv_import import check_unit, parse_number
from meditwin_desktop.core.i18n import N_, date_text, decimal_separator, tr, tr_n
from meditwin_desktop.core.scales import score_problem
from meditwin_desktop.core.units import UnitError, convert, dimension, known_units, normalise
from meditwin_desktop.ui.parameter_editors import date_format
from meditwin_desktop.ui.plot_canvas import PlotCanvas

TYPED = N_("typed")  # the source of a value typed in (stored as written, shown translated)


def general(value: float) -> str:
    """A number as `:g` writes it, with the decimal separator of the language in use."""
    return f"{value:g}".replace(".", decimal_separator())


def when_text(text: str) -> str:
    """A stored date or date-time as the table shows it: '2024-03-12 10:30:00' (English,
    as stored), '12/03/2024 10:30:00' (French)."""
    text = str(text)
    day = date_text(text[:10])
    if day == text[:10]:
        return text.replace("T", " ")
    return day + text[10:].replace("T", " ")


def source_text(source: str) -> str:
    """A value's source as shown ("typed" in the language in use; others as written)."""
    return tr(TYPED) if source == TYPED else source


def dark_axes(figure: Figure):
    """A fresh axes on `figure`, in the dark theme's colours."""
    figure.clear()
    figure.patch.set_facecolor("#2b2d30")
    axes = figure.add_subplot(111)
    axes.set_facecolor("#1e1f22")
    for spine in axes.spines.values():
        spine.set_color("#aaaaaa")
    axes.tick_params(colors="#dddddd", labelsize=8)
    return axes


def iso_to_qdate(text: str) -> QDate:
    """'2024-03-12' (or a date-time) as a QDate; today when empty or unreadable."""
    date = QDate.fromString(str(text)[:10], "yyyy-MM-dd")
    return date if date.isValid() else QDate.currentDate()


class RecordDialog(QDialog):
    """A form for one record; `problem` shows why a value is refused (the dialog stays)."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("record_dialog")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.form = QFormLayout()
        self.problem = QLabel("", self)
        self.problem.setObjectName("record_problem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #f0ad4e;")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self._try_accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.record = None
        self.setMinimumWidth(380)

    def build(self):
        """The record the form describes; raise ValueError with a message when it cannot."""
        raise NotImplementedError

    def _try_accept(self) -> None:
        try:
            self.record = self.build()
        except ValueError as error:
            self.problem.setText(str(error))
            return
        self.accept()


class RecordTable(QWidget):
    """Buttons (Add, Edit, Delete, Import CSV) above a table of `case.<attribute>`."""

    edited = Signal()  # the case's list changed (the panel marks the case for saving)
    import_requested = Signal()

    attribute = ""
    noun = ""
    none_yet = ""  # "No measurement yet." (marked with N_, shown translated)
    headers: tuple[str, ...] = ()  # marked with N_, shown translated

    def __init__(self, parent: QWidget | None = None, importable: bool = True) -> None:
        super().__init__(parent)
        self.case: Case | None = None
        self._rows: list[int] = []  # table row -> index in the case's list
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        self.add_button = self._button(bar, tr("Add…"), self.add, f"{self.attribute}_add")
        self.edit_button = self._button(bar, tr("Edit…"), self.edit, f"{self.attribute}_edit")
        self.delete_button = self._button(
            bar, tr("Delete"), self.delete, f"{self.attribute}_delete"
        )
        if importable:
            self._button(
                bar, tr("Import CSV…"), self.import_requested.emit, f"{self.attribute}_import"
            )
        bar.addStretch(1)
        layout.addLayout(bar)
        self.table = QTableWidget(0, len(self.headers), self)
        self.table.setObjectName(f"{self.attribute}_table")
        self.table.setHorizontalHeaderLabels([tr(h) for h in self.headers])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.doubleClicked.connect(lambda _: self.edit())
        self.body = QSplitter(Qt.Orientation.Vertical, self)
        self.body.addWidget(self.table)
        layout.addWidget(self.body, stretch=1)
        self.empty = QLabel("", self)
        self.empty.setWordWrap(True)
        layout.addWidget(self.empty)

    def _button(self, bar: QHBoxLayout, text: str, slot, name: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.clicked.connect(lambda _=False: slot())
        bar.addWidget(button)
        return button

    # -- to write per list -------------------------------------------------------------------
    def cells(self, record) -> list[str]:
        raise NotImplementedError

    def sort_key(self, record) -> str:
        raise NotImplementedError

    def dialog(self, record) -> RecordDialog:
        raise NotImplementedError

    # -- content ---------------------------------------------------------------------------
    @property
    def records(self) -> list:
        return getattr(self.case, self.attribute) if self.case is not None else []

    def set_case(self, case: Case | None) -> None:
        self.case = case
        self.setEnabled(case is not None)
        self.refresh()

    def refresh(self) -> None:
        """Redraw the table from the case (selection kept by position)."""
        selected = self.selected()
        records = self.records
        self._rows = sorted(range(len(records)), key=lambda i: self.sort_key(records[i]))
        self.table.setRowCount(len(self._rows))
        for row, index in enumerate(self._rows):
            for column, text in enumerate(self.cells(records[index])):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        if selected is not None and selected in self._rows:
            self.table.selectRow(self._rows.index(selected))
        self.empty.setText("" if records or self.case is None else tr(self.none_yet))
        self.empty.setVisible(not records)
        self.redraw()

    def redraw(self) -> None:
        """Redraw what shows the list besides the table (a plot)."""

    def selected(self) -> int | None:
        """Index in the case's list of the selected row."""
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self._rows[rows[0].row()] if rows and rows[0].row() < len(self._rows) else None

    def add(self) -> None:
        if self.case is None:
            return
        dialog, case = self.dialog(None), self.case
        dialog.accepted.connect(lambda: self._store(None, dialog.record, case))
        dialog.open()

    def edit(self) -> None:
        index = self.selected()
        if index is None:
            return
        dialog, case = self.dialog(self.records[index]), self.case
        dialog.accepted.connect(lambda: self._store(index, dialog.record, case))
        dialog.open()

    def delete(self) -> None:
        index = self.selected()
        if index is None:
            return
        del self.records[index]
        self.table.clearSelection()
        self.edited.emit()

    def add_records(self, records: list) -> None:
        """Append imported records."""
        if self.case is not None and records:
            self.records.extend(records)
            self.edited.emit()

    def _store(self, index: int | None, record, case) -> None:
        if self.case is None or record is None or self.case is not case:
            return  # the case was switched while the dialog was open: never into another
        if index is None:
            self.records.append(record)
        else:
            self.records[index] = record
        self.edited.emit()


class MeasurementDialog(RecordDialog):
    """Add or edit one measurement."""

    def __init__(self, record: Measurement | None, names: list[str], parent=None) -> None:
        super().__init__(tr("Edit measurement") if record else tr("Add measurement"), parent)
        self.date = QDateEdit(iso_to_qdate(record.date if record else ""), self)
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat(date_format())
        self.name = QComboBox(self)
        self.name.setEditable(True)
        self.name.addItems(names)
        self.name.setCurrentText(record.name if record else "")
        self.name.setObjectName("measurement_name")
        self.target = QLineEdit(record.target if record else "", self)
        self.value = QLineEdit(general(record.value) if record else "", self)
        self.value.setObjectName("measurement_value")
        self.unit = QComboBox(self)
        self.unit.setEditable(True)
        self.unit.addItems(["", *known_units()])
        self.unit.setCurrentText(record.unit if record else "")
        self.unit.setObjectName("measurement_unit")
        self.source = QLineEdit(source_text(record.source) if record else tr(TYPED), self)
        self._original = record
        for label, widget in (
            (tr("Date"), self.date),
            (tr("Name"), self.name),
            (tr("Target"), self.target),
            (tr("Value"), self.value),
            (tr("Unit"), self.unit),
            (tr("Source"), self.source),
        ):
            self.form.addRow(label, widget)

    def build(self) -> Measurement:
        name = self.name.currentText().strip()
        if not name:
            raise ValueError(tr("Give the measurement a name (e.g. LDL cholesterol)."))
        try:
            value = parse_number(self.value.text())
        except ValueError:
            raise ValueError(
                tr("'{text}' is not a number.").format(text=self.value.text())
            ) from None
        unit = check_unit(self.unit.currentText().strip())
        problem = score_problem(name, value, unit)
        if problem:
            raise ValueError(problem + " " + tr("Check the value."))
        date = self.date.date().toString("yyyy-MM-dd")
        if self._original is not None and self._original.date[:10] == date:
            date = self._original.date  # keep a time of day it had
        source = self.source.text().strip()
        if source == tr(TYPED):
            source = TYPED  # stored in English, as imports and rulers write theirs
        return Measurement(name, value, unit, date, self.target.text().strip(), source)


def series_label(m: Measurement) -> str:
    return f"{m.name} ({m.target})" if m.target else m.name


class MeasurementsView(RecordTable):
    """The case's measurements and a plot of one of them over time."""

    attribute, noun = "measurements", "measurement"
    none_yet = N_("No measurement yet.")
    headers = (N_("Date"), N_("Name"), N_("Target"), N_("Value"), N_("Unit"), N_("Source"))

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        plot = QWidget(self)
        column = QVBoxLayout(plot)
        column.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.series = QComboBox(plot)
        self.series.setObjectName("measurement_series")
        self.series.currentIndexChanged.connect(lambda _: self._fill_units())
        self.plot_unit = QComboBox(plot)
        self.plot_unit.setObjectName("measurement_plot_unit")
        self.plot_unit.currentIndexChanged.connect(lambda _: self.plot())
        row.addWidget(QLabel(tr("Plot"), plot))
        row.addWidget(self.series, stretch=1)
        row.addWidget(QLabel(tr("in"), plot))
        row.addWidget(self.plot_unit)
        column.addLayout(row)
        self.figure = Figure(figsize=(4, 2.6), layout="constrained")
        self.canvas = PlotCanvas(self.figure)
        self.canvas.setMinimumHeight(180)
        column.addWidget(self.canvas, stretch=1)
        self.note = QLabel("", plot)
        self.note.setWordWrap(True)
        column.addWidget(self.note)
        self.body.addWidget(plot)
        self.body.setSizes([260, 240])

    def cells(self, m: Measurement) -> list[str]:
        return [when_text(m.date), m.name, m.target, general(m.value), m.unit,
                source_text(m.source)]  # fmt: skip

    def sort_key(self, m: Measurement) -> str:
        return m.date

    def dialog(self, record: Measurement | None) -> MeasurementDialog:
        names = sorted({m.name for m in self.records})
        return MeasurementDialog(record, names, self)

    def redraw(self) -> None:
        labels = sorted({series_label(m) for m in self.records})
        current = self.series.currentText()
        self.series.blockSignals(True)
        self.series.clear()
        self.series.addItems(labels)
        if current in labels:
            self.series.setCurrentText(current)
        self.series.blockSignals(False)
        self._fill_units()

    def _points(self) -> list[Measurement]:
        label = self.series.currentText()
        return [m for m in self.records if series_label(m) == label]

    def _fill_units(self) -> None:
        points = self._points()
        units = [normalise(m.unit) for m in points]
        common = max(set(units), key=units.count) if units else ""
        same = [u for u in known_units() if common and dimension(u) == dimension(common)]
        if common and points and dimension(common) in ("mass concentration", "molar concentration"):
            same += [
                u
                for u in known_units()
                if dimension(u) in ("mass concentration", "molar concentration") and u not in same
            ]
        current = self.plot_unit.currentText()
        self.plot_unit.blockSignals(True)
        self.plot_unit.clear()
        self.plot_unit.addItems(same or [common])
        self.plot_unit.setCurrentText(current if current in same else common)
        self.plot_unit.blockSignals(False)
        self.plot()

    def plot(self) -> None:
        """Draw the chosen measurement over time in the chosen unit."""
        axes = dark_axes(self.figure)
        unit, points, skipped = self.plot_unit.currentText(), [], []
        for m in self._points():
            try:
                when = datetime.fromisoformat(m.date).replace(tzinfo=None)  # naive and aware mix
                value = convert(m.value, m.unit, unit, m.name) if m.unit or unit else m.value
            except (ValueError, UnitError):
                skipped.append(m)
                continue
            points.append((when, value))
        points.sort()
        if points:
            axes.plot(
                [p[0] for p in points], [p[1] for p in points], "o-", color="#5aa0e6", markersize=4
            )
            axes.set_ylabel(
                f"{self.series.currentText()} ({unit})" if unit else self.series.currentText(),
                color="#dddddd",
                fontsize=8,
            )
            axes.tick_params(axis="x", labelrotation=30)
        else:
            axes.text(
                0.5,
                0.5,
                tr("Add measurements to plot them over time."),
                color="#aaaaaa",
                ha="center",
                va="center",
                transform=axes.transAxes,
            )
            axes.set_axis_off()  # the message alone: no empty 0-1 axes behind it
        self.note.setText(
            tr_n(
                "{n} value(s) not plotted: no date or a unit that cannot be converted to {unit}.",
                "{n} value(s) not plotted: no date or a unit that cannot be converted to {unit}.",
                len(skipped),
            ).format(n=len(skipped), unit=unit)
            if skipped
            else ""
        )
        self.note.setVisible(bool(skipped))
        self.canvas.draw_idle()
