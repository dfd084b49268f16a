"""Dialogs about the case library: a case's revision history (restore one), the board
report's options (identified or pseudonymised), and what to do when the library is damaged."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from meditwin_desktop.core.case import Case
from meditwin_desktop.core.errors import MeditwinError
from meditwin_desktop.core.i18n import N_, date_text, tr
from meditwin_desktop.core.store import CaseLibrary, LibraryDamaged, LibraryError, backups_of

_REPORT_FILE = "board-report.pdf"  # the file name proposed (a name: not translated)
# the notes the application writes with a revision (stored in English, shown translated)
_NOTES = (N_("autosave"), N_("saved by the user"), N_("on exit"))
_IMPORTED = "imported from "


def note_text(note: str) -> str:
    """A revision's note as the user reads it (notes the application writes are kept in
    English in the library: translated here)."""
    if note.startswith(_IMPORTED):
        return tr("imported from {name}").format(name=note[len(_IMPORTED) :])
    return tr(note) if note in _NOTES else note


def _saved_text(saved: str) -> str:
    """When a revision was saved ("2026-12-07 10:15:03"), its date as the language writes it."""
    day, sep, rest = saved.partition(" ") if " " in saved else saved.partition("T")
    shown = date_text(day)
    return f"{shown}{' ' if sep else ''}{rest}" if shown != day else saved


class HistoryDialog(QDialog):
    """The kept revisions of a case, newest first; restoring one makes it the head again
    (as a new revision: nothing is lost)."""

    restore_requested = Signal(int)

    def __init__(self, library: CaseLibrary, case_id: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("history_dialog")
        self.setWindowTitle(tr("Case history"))
        self.resize(640, 420)
        revisions = library.history(case_id)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                tr(
                    "Each save is a revision. Restoring one saves it again as the "
                    "newest; the others stay in the history."
                )
            )
        )
        self.table = QTableWidget(len(revisions), 3, self)
        self.table.setObjectName("history_table")
        self.table.setHorizontalHeaderLabels([tr("Revision"), tr("Saved (UTC)"), tr("Note")])
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        for row, revision in enumerate(revisions):
            note = note_text(revision.note) + (tr(" (shown now)") if row == 0 else "")
            saved = _saved_text(revision.saved)
            for column, text in enumerate((str(revision.revision), saved, note)):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.selectRow(0)
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.restore = buttons.addButton(
            tr("Restore this revision"), QDialogButtonBox.ButtonRole.ActionRole
        )
        self.restore.setObjectName("restore_revision")
        self.restore.clicked.connect(self._restore)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._revisions = [r.revision for r in revisions]

    def _restore(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() == 0:
            return  # the newest is what is on screen already
        self.restore_requested.emit(self._revisions[rows[0].row()])
        self.accept()


class ReportDialog(QDialog):
    """Where to write the board report, and whether it names the patient."""

    def __init__(
        self,
        case: Case,
        pseudonym: str | None,
        stale: dict[str, str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("report_dialog")
        self.setWindowTitle(tr("Export the board report"))
        self.path: Path | None = None
        self.pseudonym: str | None = None
        layout = QVBoxLayout(self)
        if stale:
            warning = QLabel(
                tr(
                    "⚠ {count} result(s) are out of date: the report will say "
                    "so on every page. Run all again first to refresh them."
                ).format(count=len(stale))
            )
            warning.setWordWrap(True)
            warning.setStyleSheet("color: #f0a040;")
            layout.addWidget(warning)
        self.identified = QRadioButton(
            tr("Name the patient ({name}, ID {patient_id})").format(
                name=case.name, patient_id=case.patient_id or tr("none")
            )
        )
        self.pseudonymised = QRadioButton(
            tr("Pseudonymised: no name, ID, UIDs, free text, operator or dates; print instead:")
        )
        self.pseudonymised.setObjectName("report_pseudonymised")
        group = QButtonGroup(self)
        group.addButton(self.identified)
        group.addButton(self.pseudonymised)
        self.pseudonym_text = QLineEdit(pseudonym or "")
        self.pseudonym_text.setObjectName("report_pseudonym")
        self.pseudonym_text.setPlaceholderText(tr("e.g. MDT-2024-017"))
        (self.pseudonymised if pseudonym else self.identified).setChecked(True)
        layout.addWidget(self.identified)
        layout.addWidget(self.pseudonymised)
        layout.addWidget(self.pseudonym_text)
        row = QHBoxLayout()
        self.file = QLineEdit(str(Path.home() / _REPORT_FILE))
        self.file.setObjectName("report_file")
        browse = QPushButton(tr("Choose…"))
        browse.clicked.connect(self._browse)
        row.addWidget(self.file, stretch=1)
        row.addWidget(browse)
        layout.addLayout(row)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._case = case

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, tr("Board report"), self.file.text(), "PDF (*.pdf)"
        )
        if path:
            self.file.setText(path)

    def _accept(self) -> None:
        from meditwin_desktop.core.output_paths import output_file
        from meditwin_desktop.core.pseudonym import check_pseudonym

        try:
            path = output_file(self.file.text().strip(), ".pdf")
            pseudonym = None
            if self.pseudonymised.isChecked():
                pseudonym = check_pseudonym(self.pseudonym_text.text(), self._case)
        except MeditwinError as error:
            QMessageBox.warning(self, tr("Export the board report"), str(error))
            return
        self.path, self.pseudonym = path, pseudonym
        self.accept()


def show_library_problem(window) -> None:
    """Say that the case library cannot be used and offer the ways out: restore the newest
    daily backup, start a new library (the damaged file is kept), or go on without it."""
    session = window.session
    error = getattr(window, "library_error", None)
    damaged = isinstance(error, LibraryDamaged)  # a newer release's library is left alone
    root = error.path.parent if damaged and error.path else None
    backups = backups_of(root) if root is not None else []
    box = QMessageBox(
        QMessageBox.Icon.Warning,
        tr("The case library cannot be used"),
        tr(
            "{problem}\n\nYou can view images and run twins; "
            "nothing is saved until the library is usable again."
        ).format(problem=session.library_problem),
        parent=window,
    )
    box.setObjectName("library_problem")
    restore = new = None
    if backups and root is not None:
        restore = box.addButton(
            tr("Restore the backup of {date}").format(
                date=date_text(backups[0].stem.split("-", 1)[1])
            ),
            QMessageBox.ButtonRole.AcceptRole,
        )
    if root is not None:
        new = box.addButton(
            tr("Start a new library (keep the damaged file)"),
            QMessageBox.ButtonRole.DestructiveRole,
        )
    box.addButton(tr("Continue without the library"), QMessageBox.ButtonRole.RejectRole)

    def chosen(button) -> None:
        try:
            if button is restore:
                library = CaseLibrary.restore_backup(root, backups[0])
            elif button is new:
                library = CaseLibrary.start_new(root)
            else:
                return
        except LibraryError as failure:
            QMessageBox.warning(window, tr("The case library cannot be used"), str(failure))
            return
        window.use_library(library)

    box.buttonClicked.connect(chosen)
    box.open()
