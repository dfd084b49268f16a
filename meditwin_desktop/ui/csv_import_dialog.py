"""Import measurements or a diary from a CSV file: the file's columns, each with a choice of
what it holds (guessed from its header, editable), and a preview of what will be imported.

The file is read and converted in the background (`core.csv_import`); a problem names the
line and the column, and the dialog stays open so that the mapping can be corrected.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from meditwin_desktop.core import csv_import
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import N_, date_text, decimal_separator, tr, tr_n
from meditwin_desktop.ui.diary_view import format_duration

_PREVIEW_ROWS = 20
_NOT_IMPORTED = N_("(not imported)")
_SEPARATORS = {"\t": N_("tab"), ";": "';'", ",": "','", "|": "'|'"}


def _convert(kind: str, table: csv_import.Table, mapping: dict, **_) -> list:
    """Records of the whole table (runs in the background)."""
    if kind == "diary":
        return csv_import.events_from(table, mapping)
    return csv_import.measurements_from(table, mapping)


def _date_time(text: str) -> str:
    """'2024-02-03 08:00' with its date as the language writes it."""
    day, sep, rest = text.partition(" ")
    return f"{date_text(day)}{sep}{rest}"


def _load(path: str, **_) -> csv_import.Table:
    return csv_import.load_table(path)


class CsvImportDialog(QDialog):
    """Choose what each column holds, look at the preview, import. `imported(records)`."""

    imported = Signal(list)

    def __init__(self, path: str, kind: str, start_task, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("csv_import_dialog")
        self.kind, self._start = kind, start_task
        self.fields = csv_import.DIARY_FIELDS if kind == "diary" else csv_import.MEASUREMENT_FIELDS
        self.setWindowTitle(
            tr("Import a diary from CSV") if kind == "diary" else tr("Import measurements from CSV")
        )
        self.table: csv_import.Table | None = None
        self._combos: list[QComboBox] = []
        layout = QVBoxLayout(self)
        self.intro = QLabel(tr("Reading {path}…").format(path=path), self)
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        layout.addWidget(QLabel(tr("The file: choose what each column holds (first row)."), self))
        self.columns = QTableWidget(0, 0, self)
        self.columns.setObjectName("csv_columns")
        self.columns.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        layout.addWidget(self.columns, stretch=2)
        layout.addWidget(QLabel(tr("What will be imported:"), self))
        self.preview = QTableWidget(0, len(self.fields), self)
        self.preview.setObjectName("csv_preview")
        self.preview.setHorizontalHeaderLabels([tr(label) for label, _ in self.fields.values()])
        self.preview.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview.verticalHeader().hide()
        layout.addWidget(self.preview, stretch=2)
        self.message = QLabel("", self)
        self.message.setObjectName("csv_message")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.import_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.import_button.setText(tr("Import"))
        self.import_button.setObjectName("csv_import_button")
        self.import_button.setEnabled(False)
        self.buttons.accepted.connect(self._import)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.resize(860, 560)
        self._start(
            N_("Reading the CSV file"),
            _load,
            path,
            on_done=self._loaded,
            on_failed=self._failed,
            quiet=True,
        )

    # -- the file ----------------------------------------------------------------------------
    def _loaded(self, table: csv_import.Table) -> None:
        self.table = table
        separator = tr(_SEPARATORS[table.delimiter])
        self.intro.setText(
            tr("{file}: {rows} rows, {columns} columns separated by {separator}.").format(
                file=table.name,
                rows=len(table.rows),
                columns=len(table.headers),
                separator=separator,
            )
        )
        guess = csv_import.guess_mapping(table.headers, self.kind)
        by_column = {column: field for field, column in guess.items() if column}
        shown = table.rows[:_PREVIEW_ROWS]
        self.columns.setColumnCount(len(table.headers))
        self.columns.setHorizontalHeaderLabels(list(table.headers))
        self.columns.setRowCount(len(shown) + 1)
        self.columns.setVerticalHeaderLabels([tr("holds"), *(str(line) for line, _ in shown)])
        # shown translated; each item's data is its field ("": not imported)
        choices = [("", tr(_NOT_IMPORTED))]
        choices += [(field, tr(label)) for field, (label, _) in self.fields.items()]
        for column, header in enumerate(table.headers):
            combo = QComboBox(self.columns)
            combo.setObjectName(f"csv_map_{column}")
            for field, text in choices:
                combo.addItem(text, field)
            field = by_column.get(header)
            if field is not None:
                combo.setCurrentIndex(max(0, combo.findData(field)))
            combo.currentIndexChanged.connect(lambda _: self._refresh())
            self.columns.setCellWidget(0, column, combo)
            self._combos.append(combo)
            for row, (_, cells) in enumerate(shown, start=1):
                text = cells[column] if column < len(cells) else ""
                self.columns.setItem(row, column, QTableWidgetItem(text))
        self.columns.resizeColumnsToContents()
        self._refresh()

    def _failed(self, error: BaseException) -> None:
        self.message.setText(str(error))
        self.intro.setText(tr("This file cannot be imported."))

    def mapping(self) -> dict[str, str | None]:
        """Field -> column as chosen; ValueError when a field is chosen for two columns."""
        chosen: dict[str, str | None] = dict.fromkeys(self.fields)
        for combo, header in zip(self._combos, self.table.headers, strict=True):
            field = combo.currentData()
            if not field or field not in chosen:
                continue
            if chosen[field] is not None:
                raise ValueError(
                    tr("Two columns ('{first}' and '{second}') are chosen for {field}: keep one.")
                    .format(first=chosen[field], second=header, field=tr(self.fields[field][0]))
                )
            chosen[field] = header
        return chosen

    def set_column(self, header: str, field: str | None) -> None:
        """Choose what a column holds (None: not imported)."""
        combo = self._combos[self.table.headers.index(header)]
        combo.setCurrentIndex(max(0, combo.findData(field or "")))

    # -- preview and import -------------------------------------------------------------------
    def _refresh(self) -> None:
        """Convert the first rows with the mapping: show them, or the first problem."""
        self.preview.setRowCount(0)
        try:
            mapping = self.mapping()
            head = csv_import.Table(
                self.table.headers,
                self.table.rows[:_PREVIEW_ROWS],
                self.table.delimiter,
                self.table.name,
            )
            records = _convert(self.kind, head, mapping)
        except (ValueError, InputError) as error:
            self.message.setText(str(error))
            self.message.setStyleSheet("color: #f0ad4e;")
            self.import_button.setEnabled(False)
            return
        self.preview.setRowCount(len(records))
        for row, record in enumerate(records):
            for column, text in enumerate(self._cells(record)):
                self.preview.setItem(row, column, QTableWidgetItem(text))
        self.preview.resizeColumnsToContents()
        more = len(self.table.rows) - len(records)
        repeats = csv_import.new_records([], records)[1] if self.kind == "diary" else 0
        self.message.setStyleSheet("")
        text = (
            tr("The first {count} rows read well; {more} more are checked on import.")
            if more > 0
            else tr("The first {count} rows read well.")
        ).format(count=len(records), more=more)
        if repeats:
            text += " " + tr_n(
                "{count} repeats an earlier row and will be left out.",
                "{count} repeat an earlier row and will be left out.",
                repeats,
            ).format(count=repeats)
        self.message.setText(text)
        self.import_button.setEnabled(bool(self.table.rows))

    def _cells(self, record) -> list[str]:
        if self.kind == "diary":
            time = str(record.time).replace("T", " ")
            until = record.details.get("until", "")
            return [
                date_text(time[:10]),
                time[11:16] + time[19:],  # with its UTC offset, if written
                tr(record.kind),  # a code of the diary, shown translated
                str(record.details.get("count", "")),
                format_duration(record.duration_s),
                str(record.details.get("rescue", "")),
                record.note,
                str(until),
            ]
        return [
            _date_time(record.date.replace("T", " ")),
            record.name,
            f"{record.value:g}".replace(".", decimal_separator()),
            record.unit,
            record.target,
            record.source,
        ]

    def _import(self) -> None:
        try:
            mapping = self.mapping()
        except ValueError as error:
            self.message.setText(str(error))
            return
        self.import_button.setEnabled(False)
        self.message.setText(tr("Importing…"))
        self._start(
            N_("Importing the CSV file"),
            _convert,
            self.kind,
            self.table,
            mapping,
            on_done=self._converted,
            on_failed=self._import_failed,
            quiet=True,
        )

    def _converted(self, records: list) -> None:
        self.imported.emit(records)
        self.accept()

    def _import_failed(self, error: BaseException) -> None:
        self.message.setText(str(error))
        self.message.setStyleSheet("color: #f0ad4e;")
        self.import_button.setEnabled(True)
