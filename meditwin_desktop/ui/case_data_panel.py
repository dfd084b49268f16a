"""The "Case data" dock: the open case's measurements, diary, medications and recordings.

Each tab edits one list of `session.case`; an edit calls `session.touch(what)` so the case is
saved, and the tabs redraw on the bridge's `replaced` and `changed`. CSV files are imported
through `CsvImportDialog`; recordings open in the EEG viewer (one window per recording).

Brain MRI volumes (`core.brain_volumes`), in the Measurements tab: "Hippocampal volume from
labels" measures the active study's labels; "Import FreeSurfer aseg…" reads aseg.stats or
aseg.mgz/.nii(.gz) in the background for a visit date the user confirms. Both add their
measurements through the view's own path (so the case is saved and runs go stale), and ask
before replacing values of the same name, target and date.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from meditwin_desktop.core import brain_volumes, signals
from meditwin_desktop.core.case import Case, Measurement, Recording
from meditwin_desktop.core.csv_import import new_records
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import N_, date_text, decimal_separator, number, tr, tr_n
from meditwin_desktop.core.session import Session
from meditwin_desktop.ui.csv_import_dialog import CsvImportDialog
from meditwin_desktop.ui.diary_view import DiaryView
from meditwin_desktop.ui.eeg_viewer import EegViewer
from meditwin_desktop.ui.measurements_view import (
    MeasurementsView,
    RecordDialog,
    RecordTable,
    general,
    iso_to_qdate,
    source_text,
    when_text,
)
from meditwin_desktop.ui.medications_view import MedicationsView
from meditwin_desktop.ui.parameter_editors import date_format
from meditwin_desktop.ui.session_bridge import SessionBridge

SIGNAL_FILES = N_("EDF/BDF recordings (*.edf *.EDF *.bdf *.BDF *.rec);;All files (*)")
CSV_FILES = N_("CSV files (*.csv *.CSV *.txt *.tsv);;All files (*)")
ASEG_FILES = N_(
    "FreeSurfer/FastSurfer aseg (*.stats *.mgz *.mgh *.nii *.nii.gz);;"
    "aseg.stats (*.stats);;Label volumes (*.mgz *.mgh *.nii *.nii.gz);;All files (*)"
)  # the file filters: shown through tr()


def ask_file(parent: QWidget, title: str, filters: str) -> str:
    """A file the user picks ("" when cancelled); tests replace it."""
    return QFileDialog.getOpenFileName(parent, title, "", tr(filters))[0]


def describe_recording(path: str, **_) -> Recording:
    """A case entry for an EDF/BDF file: its start, kind and a description (background)."""
    with signals.open_recording(path) as edf:
        start = edf.start.isoformat() if edf.start else ""
        minutes = edf.duration_s / 60
        length = f"{number(minutes, 1)} min" if minutes >= 1 else f"{_g(edf.duration_s)} s"
        description = tr_n(
            "{n} channels, {rate} Hz, {length} ({format})",
            "{n} channels, {rate} Hz, {length} ({format})",
            len(edf.channels),
        ).format(n=len(edf.channels), rate=_g(edf.sfreq), length=length, format=edf.format)
        return Recording(
            str(Path(path).resolve()), signals.guess_kind(edf.channels), start, description
        )


def _g(value: float) -> str:
    """`:g` with the decimal separator in use."""
    return f"{value:g}".replace(".", decimal_separator())


def read_aseg_file(path: str, date: str, **_) -> brain_volumes.BrainVolumes:
    """`core.brain_volumes.read_aseg` as a background task (it may read a large aseg.mgz)."""
    return brain_volumes.read_aseg(path, date)


class VisitDateDialog(RecordDialog):
    """Asks the date of the MRI visit a FreeSurfer output was computed from."""

    def __init__(self, file_name: str, default: str, parent: QWidget | None = None) -> None:
        super().__init__(tr("Date of the MRI visit"), parent)
        self.setObjectName("visit_date_dialog")
        text = QLabel(
            tr("{file}: on which visit was the MRI acquired? (FreeSurfer's files carry "
               "the processing date, not the scan's.)").format(file=file_name),
            self,
        )  # fmt: skip
        text.setWordWrap(True)
        self.form.addRow(text)
        self.date = QDateEdit(iso_to_qdate(default), self)
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat(date_format())
        self.date.setObjectName("visit_date")
        self.form.addRow(tr("Visit date"), self.date)

    def build(self) -> str:
        return self.date.date().toString("yyyy-MM-dd")


class RecordingsView(RecordTable):
    """The case's recordings: add one, open it in the EEG viewer, remove it."""

    add_requested = Signal()
    open_requested = Signal()  # the selected recording, in the EEG viewer
    attribute, noun = "recordings", "recording"
    none_yet = N_("No recording yet.")
    headers = (N_("File"), N_("Status"), N_("Kind"), N_("Start"), N_("Description"))

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, importable=False)
        self.add_button.setText(tr("Add recording…"))
        self.edit_button.setText(tr("Open in viewer"))
        self.delete_button.setText(tr("Remove"))

    def add(self) -> None:  # a file is picked and read by the panel
        self.add_requested.emit()

    def edit(self) -> None:
        self.open_requested.emit()

    def cells(self, r: Recording) -> list[str]:
        status = tr("ready") if os.path.isfile(r.file) else tr("FILE MISSING")
        return [Path(r.file).name, status, r.kind, when_text(r.start), r.description]

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
            (N_("Measurements"), N_("Diary"), N_("Medications"), N_("Recordings")),
            self.views.values(),
            strict=True,
        ):
            self.tabs.addTab(view, tr(title))
        layout.addWidget(self.tabs, stretch=1)
        self.message = QLabel("", self)
        self.message.setObjectName("case_data_message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #f0ad4e;")
        layout.addWidget(self.message)
        for what, view in self.views.items():
            view.edited.connect(lambda w=what: self._edited(w))
        self.measurements.import_requested.connect(lambda: self.import_csv("measurements"))
        self._brain_buttons()
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
        self.heading.setText("" if case is not None else tr("Open a case to see its data."))
        self.heading.setVisible(case is None)
        for view in self.views.values():
            view.set_case(case)
        if case is not None and not case.measurements and case.events:
            self.tabs.setCurrentWidget(self.diary)  # a diary case: its diary first

    def _changed(self, what: str) -> None:
        if what in self.views:
            self.views[what].refresh()
        if what == "events":
            for viewer in self.viewers.values():
                viewer.set_events(self.session.case.events if self.session.case else [])
        elif what == "clinical":  # the weight gives mg/kg/day; the diary's reading, its days
            self.medications.refresh()
            self.diary.refresh()

    def _edited(self, what: str) -> None:
        self.message.setText("")
        self.session.touch(what)
        self.views[what].refresh()  # (touch announces it too; a case without library: not)

    # -- importing ---------------------------------------------------------------------------
    def import_csv(self, kind: str, path: str | None = None) -> CsvImportDialog | None:
        """Pick a CSV file and open the import dialog for it ('measurements' or 'diary')."""
        if self.session.case is None:
            return None
        title = tr("Import a seizure diary") if kind == "diary" else tr("Import measurements")
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
        skipped = (
            "; "
            + tr("{n} repeated lines or lines already in the case were left out").format(
                n=repeats
            )
            if repeats
            else ""
        )
        if view is self.diary:
            imported = tr_n("{n} event(s) imported", "{n} event(s) imported", len(fresh))
        else:
            imported = tr_n(
                "{n} measurement(s) imported", "{n} measurement(s) imported", len(fresh)
            )
        self.message.setText(imported.format(n=len(fresh)) + skipped + ".")

    # -- brain MRI volumes ------------------------------------------------------------------
    def _brain_buttons(self) -> None:
        row = QHBoxLayout()
        view = self.measurements
        self.hippocampus_button = QPushButton(tr("Hippocampal volume from labels"), view)
        self.hippocampus_button.setObjectName("hippocampus_from_labels")
        self.hippocampus_button.setToolTip(
            tr("Measure the left and right hippocampus labels (and an 'intracranial' label, for "
               "the ratio) of the study on screen, dated with the study.")
        )  # fmt: skip
        self.hippocampus_button.clicked.connect(lambda _=False: self.hippocampus_from_labels())
        self.aseg_button = QPushButton(tr("Import FreeSurfer aseg…"), view)
        self.aseg_button.setObjectName("import_aseg")
        self.aseg_button.setToolTip(
            tr("Hippocampal volumes (and eTIV) from FreeSurfer or FastSurfer: "
               "<subject>/stats/aseg.stats, or <subject>/mri/aseg.mgz.")
        )  # fmt: skip
        self.aseg_button.clicked.connect(lambda _=False: self.import_aseg())
        row.addWidget(self.hippocampus_button)
        row.addWidget(self.aseg_button)
        row.addStretch(1)
        view.layout().insertLayout(1, row)  # under the Add/Edit/Delete/Import CSV bar

    def hippocampus_from_labels(self) -> None:
        """Measure the hippocampus (and intracranial) labels of the study on screen."""
        case = self.session.case
        if case is None:
            return
        try:
            volumes = brain_volumes.from_labels(case)
        except InputError as error:
            self._show_problem(error)
            return
        self._add_brain_volumes(case, volumes)

    def import_aseg(self, path: str | None = None) -> VisitDateDialog | None:
        """Pick an aseg.stats or aseg.mgz, ask the visit's date (default: the study on
        screen's), then read it in the background."""
        case = self.session.case
        if case is None:
            return None
        path = path or ask_file(self, tr("Import FreeSurfer/FastSurfer aseg"), ASEG_FILES)
        if not path:
            return None
        default = case.study.date if case.study is not None else ""
        dialog = VisitDateDialog(Path(path).name, default, self)
        dialog.accepted.connect(lambda: self._read_aseg(case, path, dialog.record))
        dialog.open()
        return dialog

    def _read_aseg(self, case: Case, path: str, date: str) -> None:
        if self.session.case is not case:
            return
        self.message.setStyleSheet("")
        self.message.setText(tr("Reading {file}…").format(file=Path(path).name))
        self._start(
            tr("Reading FreeSurfer volumes"),
            read_aseg_file,
            path,
            date,
            on_done=lambda volumes: self._add_brain_volumes(case, volumes),
            on_failed=self._show_problem,
            quiet=True,
        )

    def _add_brain_volumes(self, case: Case, volumes: brain_volumes.BrainVolumes) -> None:
        if self.session.case is not case:
            return  # the case was switched while the file was read
        rows = brain_volumes.brain_measurements(volumes)
        clashes = brain_volumes.visit_values(case.measurements, volumes.date)

        def new(old: Measurement) -> Measurement | None:
            return next((r for r in rows if brain_volumes.same_slot(old, r)), None)

        if all((n := new(m)) is not None and n.value == m.value and n.unit == m.unit
               for m in clashes):  # fmt: skip
            self._store_brain_volumes(case, volumes, rows, clashes)  # nothing changes: no question
            return

        def new_value(old: Measurement) -> str:
            found = new(old)
            return tr("removed (not in the new values)") if found is None else (
                f"{general(found.value)} {found.unit}")  # fmt: skip

        def line(m: Measurement) -> str:
            source = source_text(m.source) if m.source else tr("no source")
            return "• " + tr("{names}: {text}").format(
                names=f"{m.name} ({m.target})" if m.target else m.name,
                text=f"{general(m.value)} {m.unit} ({source}) → {new_value(m)}",
            )

        listed = "\n".join(line(m) for m in clashes)
        visit = date_text(volumes.date) if volumes.date else tr("this undated visit")
        box = QMessageBox(
            QMessageBox.Icon.Question,
            tr("Replace measurements?"),
            tr("The case already has these values for {visit}:\n{values}\n\nReplace them "
               "with those from {source}?").format(visit=visit, values=listed,
                                                   source=volumes.source),
            QMessageBox.StandardButton.NoButton,
            self,
        )
        box.setObjectName("replace_brain_volumes")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        replace = box.addButton(tr("Replace"), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(
            lambda button: (
                self._store_brain_volumes(case, volumes, rows, clashes)
                if button is replace
                else self.message.setText(tr("Nothing imported: the case's values were kept."))
            )
        )
        box.open()

    def _store_brain_volumes(
        self,
        case: Case,
        volumes: brain_volumes.BrainVolumes,
        rows: list[Measurement],
        replaced: list[Measurement],
    ) -> None:
        if self.session.case is not case:
            return
        if replaced:
            case.measurements[:] = [
                m for m in case.measurements if not any(m is r for r in replaced)
            ]
        self.measurements.add_records(rows)  # the view's path: saved, runs go stale
        parts = []
        for template, value in (
            (N_("left {value} mL"), volumes.left_ml),
            (N_("right {value} mL"), volumes.right_ml),
            (N_("both hippocampi {value} mL"), volumes.hippocampus_ml),
            (N_("intracranial {value} mL"), volumes.icv_ml),
        ):
            if value is not None:
                parts.append(tr(template).format(value=number(value, 2)))
        if volumes.ratio is not None:
            parts.append(tr("ratio {value}").format(value=number(volumes.ratio, 5)))
        when = (
            tr("the visit of {date}").format(date=date_text(volumes.date))
            if volumes.date
            else tr("no date (the study has none: edit the rows to date them)")
        )
        text = tr_n(
            "{n} measurement(s) for {when} ({source}): {values}.",
            "{n} measurement(s) for {when} ({source}): {values}.",
            len(rows),
        ).format(n=len(rows), when=when, source=volumes.source, values=", ".join(parts))
        if replaced:
            text += " " + tr_n(
                "{n} earlier value(s) replaced.", "{n} earlier value(s) replaced.", len(replaced)
            ).format(n=len(replaced))
        if volumes.notes:
            text += "\n" + "\n".join(volumes.notes)
        self.message.setStyleSheet("color: #f0ad4e;" if volumes.notes else "")
        self.message.setText(text)

    # -- recordings --------------------------------------------------------------------------
    def add_recording(self, path: str | None = None) -> None:
        """Pick an EDF/BDF file; its start and kind are read in the background."""
        if self.session.case is None:
            return
        path = path or ask_file(self, tr("Add a recording"), SIGNAL_FILES)
        if not path:
            return
        case = self.session.case
        self.message.setStyleSheet("")
        self.message.setText(tr("Reading {file}…").format(file=Path(path).name))
        self._start(
            tr("Reading the recording"),
            describe_recording,
            path,
            on_done=lambda r: self._recording_added(case, r),
            on_failed=self._show_problem,
            quiet=True,
        )

    def _recording_added(self, case: Case, recording: Recording) -> None:
        if self.session.case is not case:
            return
        self.message.setText(
            tr("Added {file}: {description}.").format(
                file=Path(recording.file).name, description=recording.description
            )
        )
        self.recordings.add_records([recording])

    def _show_problem(self, error: BaseException) -> None:
        self.message.setStyleSheet("color: #f0ad4e;")
        self.message.setText(str(error))

    def open_recording(self) -> EegViewer | None:
        """Open the selected recording in the EEG viewer (or say why it cannot be)."""
        index = self.recordings.selected()
        case = self.session.case
        if index is None or case is None:
            self._show_problem(ValueError(tr("Select a recording to open.")))
            return None
        recording = case.recordings[index]
        if not os.path.isfile(recording.file):
            self._show_problem(
                ValueError(
                    tr("The file of this recording is missing: {file}. It was moved or "
                       "deleted, or its drive is not connected. Remove the recording and add the "
                       "file again from where it is now.").format(file=recording.file)
                )
            )
            return None
        viewer = self.viewers.get(recording.id)
        if viewer is None:
            title = f"{recording.kind} · {Path(recording.file).name}"
            zone = str(case.clinical.get("diary_time_zone") or "")
            viewer = EegViewer(recording.file, self._start, case.events, title, self, zone)
            viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            viewer.destroyed.connect(lambda _=None, i=recording.id: self.viewers.pop(i, None))
            self.viewers[recording.id] = viewer
        viewer.show()
        viewer.raise_()
        viewer.activateWindow()
        self.message.setText("")
        return viewer


__all__ = [
    "CaseDataPanel",
    "RecordingsView",
    "VisitDateDialog",
    "ask_file",
    "describe_recording",
    "read_aseg_file",
]
