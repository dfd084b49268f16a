"""Preparing a board meeting: the agenda editor (date, specialty, chair, attendees, the
ordered cases from the library with the question put to the board), the Board menu, and
the offer to resume a meeting left in progress (a crash during the meeting).

The meeting is kept in the case library (`core.board.Meetings`); its agenda and decision
reports are written in the background (`core.board_report`).
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
from pathlib import Path

from PySide6.QtCore import QDate, Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from meditwin_desktop.core.board import ROLES, STATES, AgendaItem, Attendee, Meeting, new_meeting
from meditwin_desktop.core.errors import MeditwinError
from meditwin_desktop.core.i18n import N_, date_text, tr
from meditwin_desktop.core.store import LibraryError
from meditwin_desktop.ui.presentation import Presentation

log = logging.getLogger(__name__)
_ID = Qt.ItemDataRole.UserRole
_ISO_DATE = "yyyy-MM-dd"  # the date as stored, shown the same in every language


def _role_box(role: str) -> QComboBox:
    """An attendee's role: one of the usual roles (shown translated) or typed."""
    box = QComboBox()
    box.setEditable(True)
    for key in ROLES:
        box.addItem(tr(key), key)
    found = box.findData(role)
    if found >= 0:
        box.setCurrentIndex(found)
    else:
        box.setEditText(role)
    return box


def _role_of(box: QComboBox) -> str:
    """The role's key when one of the usual roles is shown, else the text typed."""
    text = box.currentText().strip()
    found = box.findText(text)
    return str(box.itemData(found)) if found >= 0 else text


class AgendaDialog(QDialog):
    """The agenda of one board meeting (new or kept in the library)."""

    def __init__(self, window, meeting: Meeting | None = None) -> None:
        super().__init__(window)
        self.setObjectName("agenda_dialog")
        self.setWindowTitle(tr("Board meeting agenda"))
        self.window_ = window
        self.meeting = meeting or new_meeting(dt.date.today().isoformat(), "", "")
        self._items: list[AgendaItem] = list(self.meeting.items)
        column = QVBoxLayout(self)
        column.addLayout(self._meeting_form())
        cases = QGridLayout()
        cases.addWidget(self._library_side(), 0, 0)
        cases.addWidget(self._agenda_side(), 0, 1)
        cases.setColumnStretch(0, 2)
        cases.setColumnStretch(1, 3)
        column.addLayout(cases, stretch=1)
        self.message = QLabel()
        self.message.setObjectName("agenda_message")
        self.message.setWordWrap(True)
        column.addWidget(self.message)
        column.addLayout(self._buttons())
        self._fill()
        self.resize(1180, 720)

    # -- construction ----------------------------------------------------------------------
    def _meeting_form(self) -> QHBoxLayout:
        row = QHBoxLayout()
        form = QFormLayout()
        self.date = QDateEdit()
        self.date.setObjectName("agenda_date")
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat(_ISO_DATE)
        self.specialty = QLineEdit()
        self.specialty.setObjectName("agenda_specialty")
        self.specialty.setPlaceholderText(tr("e.g. digestive oncology"))
        self.chair = QLineEdit()
        self.chair.setObjectName("agenda_chair")
        form.addRow(tr("Date"), self.date)
        form.addRow(tr("Specialty"), self.specialty)
        form.addRow(tr("Chair"), self.chair)
        row.addLayout(form, stretch=2)
        people = QVBoxLayout()
        people.addWidget(QLabel(tr("Attendees")))
        self.attendees = QTableWidget(0, 2)
        self.attendees.setObjectName("agenda_attendees")
        self.attendees.setHorizontalHeaderLabels([tr("Name"), tr("Role")])
        self.attendees.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.attendees.verticalHeader().hide()
        self.attendees.setMinimumHeight(110)
        people.addWidget(self.attendees)
        buttons = QHBoxLayout()
        self.add_attendee_button = QPushButton(tr("Add attendee"))
        self.add_attendee_button.setObjectName("agenda_add_attendee")
        self.add_attendee_button.clicked.connect(lambda: self.add_attendee("", "oncologist"))
        self.remove_attendee_button = QPushButton(tr("Remove attendee"))
        self.remove_attendee_button.setObjectName("agenda_remove_attendee")
        self.remove_attendee_button.clicked.connect(self._remove_attendee)
        buttons.addWidget(self.add_attendee_button)
        buttons.addWidget(self.remove_attendee_button)
        buttons.addStretch(1)
        people.addLayout(buttons)
        row.addLayout(people, stretch=3)
        return row

    def _library_side(self) -> QWidget:
        side = QWidget()
        column = QVBoxLayout(side)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(QLabel(tr("Cases in the library")))
        self.search = QLineEdit()
        self.search.setObjectName("agenda_search")
        self.search.setPlaceholderText(tr("Search by name or patient ID"))
        self.search.textChanged.connect(self._filter)
        column.addWidget(self.search)
        self.library_list = QListWidget()
        self.library_list.setObjectName("agenda_library")
        self.library_list.itemActivated.connect(lambda item: self.add_case(str(item.data(_ID))))
        column.addWidget(self.library_list, stretch=1)
        self.add_button = QPushButton(tr("Add to the agenda ▶"))
        self.add_button.setObjectName("agenda_add_case")
        self.add_button.clicked.connect(self._add_selected)
        column.addWidget(self.add_button)
        return side

    def _agenda_side(self) -> QWidget:
        side = QWidget()
        column = QVBoxLayout(side)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(QLabel(tr("Agenda (double-click a question to edit it)")))
        self.agenda = QTableWidget(0, 2)
        self.agenda.setObjectName("agenda_cases")
        self.agenda.setHorizontalHeaderLabels([tr("Case"), tr("Question to the board")])
        header = self.agenda.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.agenda.setColumnWidth(0, 260)
        self.agenda.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.agenda.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.agenda.setWordWrap(True)
        self.agenda.verticalHeader().hide()  # the case column numbers the cases
        column.addWidget(self.agenda, stretch=1)
        buttons = QHBoxLayout()
        self.up_button = QPushButton(tr("Move up"))
        self.up_button.setObjectName("agenda_up")
        self.up_button.clicked.connect(lambda: self.move_selected(-1))
        self.down_button = QPushButton(tr("Move down"))
        self.down_button.setObjectName("agenda_down")
        self.down_button.clicked.connect(lambda: self.move_selected(1))
        self.remove_button = QPushButton(tr("Remove from the agenda"))
        self.remove_button.setObjectName("agenda_remove_case")
        self.remove_button.clicked.connect(self._remove_selected)
        for button in (self.up_button, self.down_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        column.addLayout(buttons)
        return side

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.save_button = QPushButton(tr("Save"))
        self.save_button.setObjectName("agenda_save")
        self.save_button.clicked.connect(self.save)
        self.pdf_button = QPushButton(tr("Print the agenda (PDF)…"))
        self.pdf_button.setObjectName("agenda_pdf")
        self.pdf_button.clicked.connect(self._ask_agenda_pdf)
        self.report_button = QPushButton(tr("Meeting report…"))
        self.report_button.setObjectName("agenda_report")
        self.report_button.clicked.connect(self._ask_report)
        self.present_button = QPushButton(tr("Present the meeting"))
        self.present_button.setObjectName("agenda_present")
        self.present_button.clicked.connect(self.present)
        close = QPushButton(tr("Close"))
        close.setObjectName("agenda_close")
        close.clicked.connect(self.reject)
        for button in (self.save_button, self.pdf_button, self.report_button):
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(self.present_button)
        row.addWidget(close)
        return row

    def _fill(self) -> None:
        meeting = self.meeting
        self.date.setDate(QDate.fromString(meeting.date, _ISO_DATE))
        self.specialty.setText(meeting.specialty)
        self.chair.setText(meeting.chair)
        for attendee in meeting.attendees:
            self.add_attendee(attendee.name, attendee.role)
        library = self.window_.session.library
        try:
            self._cases = library.cases() if library is not None else []
        except (LibraryError, OSError):
            log.exception("the library's cases are unreadable")
            self._cases = []
            self.message.setText(tr("The list of saved cases cannot be read."))
        self._names = {c.id: f"{c.name}  [{c.patient_id}]" for c in self._cases}
        self._filter("")
        self._show_agenda()

    # -- attendees -------------------------------------------------------------------------
    def add_attendee(self, name: str, role: str) -> None:
        """A row for one attendee (the name cell ready for typing when empty)."""
        row = self.attendees.rowCount()
        self.attendees.insertRow(row)
        self.attendees.setItem(row, 0, QTableWidgetItem(name))
        self.attendees.setCellWidget(row, 1, _role_box(role))
        if not name:
            self.attendees.setCurrentCell(row, 0)
            self.attendees.editItem(self.attendees.item(row, 0))

    def _remove_attendee(self) -> None:
        row = self.attendees.currentRow()
        if row >= 0:
            self.attendees.removeRow(row)

    # -- cases --------------------------------------------------------------------------------
    def _filter(self, text: str) -> None:
        wanted = text.strip().lower()
        self.library_list.clear()
        for summary in self._cases:
            if wanted and wanted not in f"{summary.name} {summary.patient_id}".lower():
                continue
            item = QListWidgetItem(self._names[summary.id])
            item.setData(_ID, summary.id)
            item.setToolTip(tr("Changed on {date}").format(date=date_text(summary.modified[:10])))
            self.library_list.addItem(item)

    def _add_selected(self) -> None:
        item = self.library_list.currentItem()
        if item is None:
            self.message.setText(tr("Choose a case in the library list first."))
            return
        self.add_case(str(item.data(_ID)))

    def add_case(self, case_id: str, question: str = "") -> None:
        """Put a library case at the end of the agenda, its question cell ready for typing."""
        self._read_questions()
        if any(item.case_id == case_id for item in self._items):
            self.message.setText(tr("This case is already on the agenda."))
            return
        self._items.append(AgendaItem(case_id, question))
        self._show_agenda()
        row = len(self._items) - 1
        self.agenda.setCurrentCell(row, 1)
        if not question:
            self.agenda.editItem(self.agenda.item(row, 1))
        self.message.setText("")

    def move_selected(self, step: int) -> None:
        """Move the selected case up (-1) or down (+1) the agenda."""
        self._read_questions()
        row = self.agenda.currentRow()
        to = row + step
        if row < 0 or not 0 <= to < len(self._items):
            return
        if self._items[row].decision is not None or self._items[to].decision is not None:
            self.message.setText(tr("Cases with a recorded decision keep their place."))
            return
        self._items[row], self._items[to] = self._items[to], self._items[row]
        self._show_agenda()
        self.agenda.setCurrentCell(to, 1)

    def _remove_selected(self) -> None:
        self._read_questions()
        row = self.agenda.currentRow()
        if row < 0:
            return
        if self._items[row].decision is not None:
            self.message.setText(tr("This case has a recorded decision: it stays on the agenda."))
            return
        del self._items[row]
        self._show_agenda()

    def _show_agenda(self) -> None:
        self.agenda.setRowCount(len(self._items))
        for row, item in enumerate(self._items):
            name = self._names.get(item.case_id, tr("case {id} (no longer in the library)")
                                   .format(id=item.case_id))  # fmt: skip
            if item.decision is not None:
                name = f"✓ {name}"
            case = QTableWidgetItem(f"{row + 1}. {name}")
            case.setFlags(case.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.agenda.setItem(row, 0, case)
            self.agenda.setItem(row, 1, QTableWidgetItem(item.question))
        self.agenda.resizeRowsToContents()

    def _read_questions(self) -> None:
        for row, item in enumerate(self._items):
            cell = self.agenda.item(row, 1)
            if cell is not None:
                item.question = cell.text().strip()

    # -- the meeting -----------------------------------------------------------------------------
    def read(self) -> Meeting:
        """The meeting as the dialog shows it."""
        self._read_questions()
        meeting = self.meeting
        meeting.date = self.date.date().toString(_ISO_DATE)
        meeting.specialty = self.specialty.text().strip()
        meeting.chair = self.chair.text().strip()
        attendees = []
        for row in range(self.attendees.rowCount()):
            cell = self.attendees.item(row, 0)
            name = cell.text().strip() if cell is not None else ""
            if name:
                attendees.append(Attendee(name, _role_of(self.attendees.cellWidget(row, 1))))
        meeting.attendees = attendees
        meeting.items = list(self._items)
        meeting.current = min(meeting.current, max(0, len(meeting.items) - 1))
        return meeting

    def save(self) -> bool:
        """Keep the meeting in the library; say so (or why not)."""
        meetings = self.window_.presentation.meetings
        if meetings is None:
            self.message.setText(tr("The case library cannot be used: nothing is saved."))
            return False
        try:
            meetings.save(self.read())
        except (LibraryError, MeditwinError, OSError) as error:
            log.error("saving the board meeting failed: %s", type(error).__name__)
            self.message.setText(tr("The meeting could not be saved: {error}").format(error=error))
            return False
        self.message.setText(
            tr("Meeting saved ({count} cases on the agenda).").format(count=len(self._items))
        )
        return True

    def present(self) -> None:
        """Save, close, and present the meeting on the main window."""
        if not self._items:
            self.message.setText(tr("The agenda is empty: add cases first."))
            return
        if self.save():
            self.accept()
            self.window_.presentation.start(self.meeting)

    def export_agenda(self, path: Path, *, show: bool = False) -> None:
        """Write the agenda PDF in the background; `show`: then open it in the system's
        PDF viewer (to print it)."""
        from meditwin_desktop.core.board_report import write_agenda_pdf

        library, meeting = self.window_.session.library, copy.deepcopy(self.read())
        pseudonyms = dict(self.window_.presentation.pseudonyms)
        if library is None:
            return
        self.window_._start(
            N_("Writing the agenda"),
            lambda *, progress, cancelled: write_agenda_pdf(meeting, library, path,
                                                            pseudonyms=pseudonyms),
            on_done=lambda written: self._agenda_written(written, show),
        )  # fmt: skip

    def _agenda_written(self, path: Path, show: bool) -> None:
        self.message.setText(tr("Agenda written to {path}").format(path=path))
        if show:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    def _ask_agenda_pdf(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        name = f"agenda-{self.read().date}.pdf"
        path, _ = QFileDialog.getSaveFileName(self, tr("Agenda (PDF)"), name,
                                              tr("PDF documents (*.pdf)"))  # fmt: skip
        if path:
            self.export_agenda(Path(path), show=True)

    def _ask_report(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        name = f"board-{self.read().date}.pdf"
        path, _ = QFileDialog.getSaveFileName(self, tr("Meeting report"), name,
                                              tr("PDF documents (*.pdf)"))  # fmt: skip
        if path:
            self.window_.presentation.write_report(self.read(), Path(path), None)


# -- the Board menu and the resume offer ------------------------------------------------------
def install_board_menu(window) -> None:
    """The Board menu and `window.presentation`."""
    window.presentation = Presentation(window)
    menu = window.menuBar().addMenu(tr("&Board"))
    menu.setObjectName("board_menu")
    window._action(menu, tr("&New board meeting…"), lambda: open_agenda(window))
    window._action(menu, tr("&Open a board meeting…"), lambda: _choose(window, open_agenda))
    window._action(menu, tr("&Present a board meeting…"),
                   lambda: _choose(window, window.presentation.start))  # fmt: skip


def open_agenda(window, meeting: Meeting | None = None) -> AgendaDialog:
    """The agenda editor, not modal (the library and the window stay usable)."""
    dialog = AgendaDialog(window, meeting)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    dialog.raise_()
    return dialog


def _meeting_label(meeting: Meeting) -> str:
    return tr("{date} · {specialty} · {count} cases · {state}").format(
        date=date_text(meeting.date), specialty=meeting.specialty or "—",
        count=len(meeting.items), state=tr(STATES.get(meeting.state, meeting.state)),
    )  # fmt: skip


def _choose(window, then) -> None:
    meetings = window.presentation.meetings
    try:
        found = meetings.list() if meetings is not None else []
    except (LibraryError, MeditwinError, OSError) as error:
        QMessageBox.warning(window, tr("Board meetings"), str(error))
        return
    if not found:
        QMessageBox.information(window, tr("Board meetings"),
                                tr("No board meeting yet: Board > New board meeting."))  # fmt: skip
        return
    labels = [_meeting_label(m) for m in found]
    choice, ok = QInputDialog.getItem(window, tr("Board meetings"), tr("Meeting:"), labels, 0,
                                      False)  # fmt: skip
    if ok:
        then(found[labels.index(choice)])


def offer_resume(window) -> QMessageBox | None:
    """After a crash (a meeting still in progress): offer to resume it at its case."""
    meetings = getattr(window, "presentation", None) and window.presentation.meetings
    if not meetings:
        return None
    try:
        meeting = meetings.in_progress()
    except (LibraryError, MeditwinError, OSError) as error:
        log.error("the meeting in progress is unreadable: %s", type(error).__name__)
        return None
    if meeting is None or not meeting.items:
        return None
    decided = sum(item.decision is not None for item in meeting.items)
    box = QMessageBox(
        QMessageBox.Icon.Question,
        tr("Board meeting in progress"),
        tr("The board meeting of {date} ({specialty}) was not ended: it was at case {number} "
           "of {count}; decisions recorded: {decided}. Resume it there?").format(
            date=date_text(meeting.date), specialty=meeting.specialty or "—",
            number=meeting.current + 1, count=len(meeting.items), decided=decided),
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        window,
    )  # fmt: skip
    box.setObjectName("board_resume")
    box.button(QMessageBox.StandardButton.Yes).setText(tr("Resume the meeting"))
    box.button(QMessageBox.StandardButton.No).setText(tr("Not now"))
    box.setInformativeText(tr("Later: Board > Present a board meeting."))

    def answered(button) -> None:
        if box.standardButton(button) == QMessageBox.StandardButton.Yes:
            window.presentation.start(meeting)

    box.buttonClicked.connect(answered)
    box.open()
    return box
