"""The "Case data" dock: the open case's measurements, diary, medications and recordings.

Each tab edits one list of `session.case`; an edit calls `session.touch(what)` so the case is
saved, and the tabs redraw on the bridge's `replaced` and `changed`. CSV files are imported
through `CsvImportDialog`; recordings open in the EEG viewer (one window per recording).
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from meditwin_desktop.core import signals
from meditwin_desktop.core.case import Case, Recording
from meditwin_desktop.core.csv_import import new_records
from meditwin_desktop.core.session import Session
from meditwin_desktop.ui.csv_import_dialog import CsvImportDialog
from meditwin_desktop.ui.diary_view import DiaryView
from meditwin_desktop.ui.eeg_viewer import EegViewer
from meditwin_desktop.ui.measurements_view import MeasurementsView, RecordTable
from meditwin_desktop.ui.medications_view import MedicationsView
from meditwin_desktop.ui.session_bridge import SessionBridge

SIGNAL_FILES = "EDF/BDF recordings (*.edf *.EDF *.bdf *.BDF *.rec);;All files (*)"
CSV_FILES = "CSV files (*.csv *.CSV *.txt *.tsv);;All files (*)"


def ask_file(parent: QWidget, title: str, filters: str) -> str:
    """A file the user picks ("" when cancelled); tests replace it."""
    return QFileDialog.getOpenFileName(parent, title, "", filters)[0]


def describe_recording(path: str, **_) -> Recording:
    """A case entry for an EDF/BDF file: its start, kind and a description (background)."""
    with signals.open_recording(path) as edf:
        start = edf.start.isoformat() if edf.start else ""
        minutes = edf.duration_s / 60
        length = f"{minutes:.1f} min" if minutes >= 1 else f"{edf.duration_s:g} s"
        description = f"{len(edf.channels)} channels, {edf.sfreq:g} Hz, {length} ({edf.format})"
        return Recording(
            str(Path(path).resolve()), signals.guess_kind(edf.channels), start, description
        )


class RecordingsView(RecordTable):
    """The case's recordings: add one, open it in the EEG viewer, remove it."""

    add_requested = Signal()
    open_requested = Signal()  # the selected recording, in the EEG viewer
    attribute, noun = "recordings", "recording"
    headers = ("File", "Status", "Kind", "Start", "Description")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, importable=False)
        self.add_button.setText("Add recording…")
        self.edit_button.setText("Open in viewer")
        self.delete_button.setText("Remove")

    def add(self) -> None:  # a file is picked and read by the panel
        self.add_requested.emit()

    def edit(self) -> None:
        self.open_requested.emit()

    def cells(self, r: Recording) -> list[str]:
        status = "ready" if os.path.isfile(r.file) else "FILE MISSING"
        return [Path(r.file).name, status, r.kind, r.start.replace("T", " "), r.description]

    def sort_key(self, r: Recording) -> str:
        return r.start

    def refresh(self) -> None:
        super().refresh()
        for row, index in enumerate(self._rows):
            recording = self.records[index]
            for column in range(self.table.columnCount()):
                item = self.table.item(row, column)
                item.setToolTip(recording.file)
                if not os.path.isfile(recording.file):
                    item.setForeground(Qt.GlobalColor.red)


class CaseDataPanel(QWidget):
    """Tabs Measurements, Diary, Medications, Recordings of the open case."""

    def __init__(
        self, session: Session, bridge: SessionBridge, start_task, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.session, self._start = session, start_task
        self.viewers: dict[str, EegViewer] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.heading = QLabel("", self)
        self.heading.setWordWrap(True)
        layout.addWidget(self.heading)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("case_data_tabs")
        self.measurements = MeasurementsView(self)
        self.diary = DiaryView(self)
        self.medications = MedicationsView(self)
        self.recordings = RecordingsView(self)
        self.views: dict[str, RecordTable] = {
            "measurements": self.measurements,
            "events": self.diary,
            "medications": self.medications,
            "recordings": self.recordings,
        }
        for title, view in zip(
            ("Measurements", "Diary", "Medications", "Recordings"), self.views.values(), strict=True
        ):
            self.tabs.addTab(view, title)
        layout.addWidget(self.tabs, stretch=1)
        self.message = QLabel("", self)
        self.message.setObjectName("case_data_message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #f0ad4e;")
        layout.addWidget(self.message)
        for what, view in self.views.items():
            view.edited.connect(lambda w=what: self._edited(w))
        self.measurements.import_requested.connect(lambda: self.import_csv("measurements"))
        self.diary.import_requested.connect(lambda: self.import_csv("diary"))
        self.recordings.add_requested.connect(lambda: self.add_recording())
        self.recordings.open_requested.connect(lambda: self.open_recording())
        bridge.replaced.connect(self.set_case)
        bridge.changed.connect(self._changed)
        self.set_case(session.case)

    # -- the case --------------------------------------------------------------------------
    def set_case(self, case: Case | None) -> None:
        """Show another case (or none): every tab starts again; its viewers close."""
        for viewer in list(self.viewers.values()):
            viewer.close()
        self.viewers.clear()
        self.message.setText("")
        self.heading.setText("" if case is not None else "Open a case to see its data.")
        self.heading.setVisible(case is None)
        for view in self.views.values():
            view.set_case(case)

    def _changed(self, what: str) -> None:
        if what in self.views:
            self.views[what].refresh()
        if what == "events":
            for viewer in self.viewers.values():
                viewer.set_events(self.session.case.events if self.session.case else [])
        elif what == "clinical":  # the weight gives mg/kg/day
            self.medications.refresh()

    def _edited(self, what: str) -> None:
        self.message.setText("")
        self.session.touch(what)
        self.views[what].refresh()  # (touch announces it too; a case without library: not)

    # -- importing ---------------------------------------------------------------------------
    def import_csv(self, kind: str, path: str | None = None) -> CsvImportDialog | None:
        """Pick a CSV file and open the import dialog for it ('measurements' or 'diary')."""
        if self.session.case is None:
            return None
        title = "Import a seizure diary" if kind == "diary" else "Import measurements"
        path = path or ask_file(self, title, CSV_FILES)
        if not path:
            return None
        dialog = CsvImportDialog(path, kind, self._start, self)
        view = self.diary if kind == "diary" else self.measurements
        case = self.session.case
        dialog.imported.connect(lambda records: self._imported(case, view, records))
        dialog.open()
        return dialog

    def _imported(self, case: Case, view: RecordTable, records: list) -> None:
        if self.session.case is not case:
            return  # the case was switched while the dialog was open
        fresh, repeats = new_records(view.records, records)
        view.add_records(fresh)
        self.message.setStyleSheet("")
        skipped = f"; {repeats} already in the case were left out" if repeats else ""
        self.message.setText(f"{len(fresh)} {view.noun}(s) imported{skipped}.")

    # -- recordings --------------------------------------------------------------------------
    def add_recording(self, path: str | None = None) -> None:
        """Pick an EDF/BDF file; its start and kind are read in the background."""
        if self.session.case is None:
            return
        path = path or ask_file(self, "Add a recording", SIGNAL_FILES)
        if not path:
            return
        case = self.session.case
        self.message.setStyleSheet("")
        self.message.setText(f"Reading {Path(path).name}…")
        self._start(
            "Reading the recording",
            describe_recording,
            path,
            on_done=lambda r: self._recording_added(case, r),
            on_failed=self._show_problem,
            quiet=True,
        )

    def _recording_added(self, case: Case, recording: Recording) -> None:
        if self.session.case is not case:
            return
        self.message.setText(f"Added {Path(recording.file).name}: {recording.description}.")
        self.recordings.add_records([recording])

    def _show_problem(self, error: BaseException) -> None:
        self.message.setStyleSheet("color: #f0ad4e;")
        self.message.setText(str(error))

    def open_recording(self) -> EegViewer | None:
        """Open the selected recording in the EEG viewer (or say why it cannot be)."""
        index = self.recordings.selected()
        case = self.session.case
        if index is None or case is None:
            self._show_problem(ValueError("Select a recording to open."))
            return None
        recording = case.recordings[index]
        if not os.path.isfile(recording.file):
            self._show_problem(
                ValueError(
                    f"The file of this recording is missing: {recording.file}. It was moved or "
                    "deleted, or its drive is not connected. Remove the recording and add the "
                    "file again from where it is now."
                )
            )
            return None
        viewer = self.viewers.get(recording.id)
        if viewer is None:
            title = f"{recording.kind} · {Path(recording.file).name}"
            viewer = EegViewer(recording.file, self._start, case.events, title, self)
            viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            viewer.destroyed.connect(lambda _=None, i=recording.id: self.viewers.pop(i, None))
            self.viewers[recording.id] = viewer
        viewer.show()
        viewer.raise_()
        viewer.activateWindow()
        self.message.setText("")
        return viewer


__all__ = ["CaseDataPanel", "RecordingsView", "ask_file", "describe_recording"]
