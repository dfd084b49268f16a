"""The main window's studies: show the open case's active study (a 3D series in the slice
and 3D views, a photograph in the photo view), switch to another, add a follow-up series
or a photograph, import and export case files."""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QFileDialog, QInputDialog, QMessageBox

from meditwin_desktop.core.case import Study
from meditwin_desktop.core.case_images import load_study_image
from meditwin_desktop.core.errors import MeditwinError
from meditwin_desktop.core.i18n import N_, date_text, decimal_separator, number, tr
from meditwin_desktop.core.imaging.dicom import scan
from meditwin_desktop.core.imaging.photo import Photo, read_photo
from meditwin_desktop.core.imaging.volume import Volume
from meditwin_desktop.core.photo_marks import (
    AV_MARKS_FIELD,
    add_av_mark,
    marks_on,
    parse_av_marks,
    remove_av_mark,
)
from meditwin_desktop.ui.photo_view import PhotoView
from meditwin_desktop.ui.studies_panel import StudiesPanel

_CASE_FILE = "case.json"  # the file name proposed (a name: not translated)
_PHOTOS = N_("Photographs (*.png *.jpg *.jpeg *.tif *.tiff *.dcm);;All files (*)")


class StudiesMixin:
    """Studies of the open case (mixed into `MainWindow`)."""

    def _build_studies(self, patients_dock: QDockWidget) -> None:
        self.photo_view = PhotoView(self)
        self.photo_view.mark_requested.connect(self._mark_vessel)
        self.photo_view.clicked.connect(self._photo_clicked)
        self.centre.addWidget(self.photo_view)
        self.studies = StudiesPanel(self)
        self.studies.chosen.connect(self.choose_study)
        self.studies.add_series.connect(self._ask_series_for_case)
        self.studies.add_photo.connect(self._ask_photo_for_case)
        self.studies.remove.connect(self._ask_remove_study)
        self.studies.compare.connect(lambda: self.show_followup())
        self.studies_dock = self._dock(tr("Studies"), "studies_dock", self.studies,
                                       Qt.DockWidgetArea.LeftDockWidgetArea)  # fmt: skip
        self.tabifyDockWidget(patients_dock, self.studies_dock)
        patients_dock.raise_()

    def _studies_warning(self, title: str, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=self)
        box.setObjectName("studies_warning")
        box.open()  # not modal: the window goes on

    # -- showing the active study ------------------------------------------------------------
    def _show_study(self) -> None:
        """Show the active study's image, loading it in the background when needed."""
        case = self.cases.case
        study = case.study if case is not None else None
        self.studies.show_case(case)
        if study is None:
            return
        if study.image is None:
            self._clear_views()  # never the previous study under this one's name
            self._load_study(study)
        elif isinstance(study.image, Photo):
            self._show_photo(study.image)
        else:
            self._show_volume_of(study)

    def _clear_views(self) -> None:
        self._surfaces = {}
        self.scene.set_volume(None)
        self.view3d.clear()
        self.photo_view.show_photo(None)
        self.status.set_warnings([])

    def _show_photo(self, photo: Photo) -> None:
        self._surfaces = {}
        self.scene.set_volume(None)
        self.view3d.clear()
        self.photo_view.show_photo(photo)
        self._show_marks()
        self.comparison.images_page.refresh_photo()  # the map of a run on this photograph
        self.centre.setCurrentWidget(self.photo_view)
        size = (
            tr(", {size} mm per pixel").format(size=_general(photo.pixel_mm, 4))
            if photo.pixel_mm
            else tr(", pixel size unknown")
        )
        self.message.setText(
            tr("Photograph {width} x {height} pixels{size}").format(
                width=photo.shape[1], height=photo.shape[0], size=size
            )
        )

    # -- picks and artery/vein marks on a photograph ----------------------------------------
    def _photo_clicked(self, row: float, col: float) -> None:
        self.message.setText(
            tr(
                "Picked row {row}, column {column} of the photograph (a scenario's point on "
                "the photograph takes it from Twins)."
            ).format(row=number(row, 0), column=number(col, 0))
        )

    def _mark_vessel(self, row: float, col: float, kind: str) -> None:
        """Keep a clinician's artery/vein mark in the case's clinical form (its twins' runs
        go out of date: their inputs changed) and draw it."""
        case = self.cases.case
        if case is None:
            return
        text = case.clinical.get(AV_MARKS_FIELD)
        date = case.study.date if case.study is not None else ""
        try:
            text = (add_av_mark(text, row, col, kind, date) if kind
                    else remove_av_mark(text, row, col, date))  # fmt: skip
        except MeditwinError as error:
            self._studies_warning(tr("Artery/vein marks"), str(error))
            return
        if text:
            case.clinical[AV_MARKS_FIELD] = text
        else:
            case.clinical.pop(AV_MARKS_FIELD, None)
        self._show_marks()
        self.clinical.set_case(case)
        self.session.touch("clinical")
        values = {"row": number(row, 0), "column": number(col, 0)}
        if kind == "artery":
            text = tr("Vessel at row {row}, column {column} marked as artery.")
        elif kind == "vein":
            text = tr("Vessel at row {row}, column {column} marked as vein.")
        elif kind:
            text = tr("Vessel at row {row}, column {column} marked as {kind}.")
            values["kind"] = kind
        else:
            text = tr("Vessel at row {row}, column {column} mark removed.")
        self.message.setText(text.format(**values))

    def _show_marks(self) -> None:
        case = self.cases.case
        try:
            marks = parse_av_marks(case.clinical.get(AV_MARKS_FIELD)) if case else ()
        except MeditwinError:
            marks = ()  # the clinical form says what is wrong with the text
        date = case.study.date if case is not None and case.study is not None else ""
        self.photo_view.show_marks(marks_on(marks, date))

    def _show_volume_of(self, study: Study) -> None:
        """The study's volume in the views (unless it is there already, e.g. just loaded
        from the browser), then its labels: its own, else known ones (the demo's)."""
        image: Volume = study.image
        self.centre.setCurrentIndex(0)
        if image is not self.scene.volume:
            self._set_volume(image)
            self._describe(image, study.description or study.reference.get("description", ""),
                           1)  # fmt: skip
        elif study.labels is not None and self.scene.labels is study.labels:
            return  # already on screen with its labels
        series_uid = study.reference.get("series_uid", "")
        pending, self._pending_seg = self._pending_seg, None
        if study.labels is not None:
            self._load_labels(study.labels, image)
            if pending is not None and pending[0] == series_uid:
                # a SEG double-clicked for a series whose saved case has labels: imported
                # over them as File > Import labels does (asked first where a twin reads
                # them), never silently dropped for the case's own
                QTimer.singleShot(0, lambda path=pending[1]: self.import_label_file(path))
        elif series_uid in self._known_labels:
            self._load_labels(self._known_labels[series_uid], image)
        else:
            self.set_render_mode(self._default_volume_preset(image))

    def _load_study(self, study: Study) -> None:
        case, generation = self.cases.case, self.session.generation
        self.session.set_loading(
            tr("Loading the study of {date}…").format(date=_study_date(study))
        )

        def done(_) -> None:
            if self.session.generation == generation and case.study is study:
                self.session.set_loading("")
                self._show_study()

        def failed(_error) -> None:  # the error dialog says why; the views stay empty
            if self.session.generation == generation and case.study is study:
                self.session.set_loading(
                    tr("The study of {date} could not be loaded (see the message).").format(
                        date=_study_date(study)
                    )
                )

        self._start(N_("Loading a study"),
                    lambda *, progress, cancelled: load_study_image(case, study, progress=progress,
                                                                    cancelled=cancelled),
                    on_done=done, on_failed=failed)  # fmt: skip

    def choose_study(self, index: int) -> None:
        """Show another study of the open case (label edits on screen are kept first)."""
        case = self.cases.case
        if case is None or index == case.active:
            return
        if self._labels_timer.isActive():
            self._labels_timer.stop()
            self._labels_changed_for_case()
        self.session.set_loading("")
        self.session.set_active_study(index)

    def _ask_remove_study(self, index: int) -> None:
        case = self.cases.case
        if case is None or not 0 <= index < len(case.studies):
            return
        study = case.studies[index]
        what = study.description or study.modality
        answer = QMessageBox.question(
            self,
            tr("Remove a study"),
            tr(
                "Take the study of {date} ({what}) out of this case? Its files stay where they "
                "are; File > Case history keeps the earlier revisions."
            ).format(date=_study_date(study), what=what),
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.remove_study(index)

    def remove_study(self, index: int) -> None:
        """Take a study out of the open case (label edits on screen are kept first)."""
        if self._labels_timer.isActive():
            self._labels_timer.stop()
            self._labels_changed_for_case()
        self.session.remove_study(index)
        if self.cases.case is not None and not self.cases.case.studies:
            self._surfaces = {}
            self.scene.set_volume(None)
            self.view3d.clear()
            self.photo_view.show_photo(None)
            self.overview.show_case(self.cases.case, self.session.identity())
            self.centre.setCurrentWidget(self.overview)

    # -- adding -----------------------------------------------------------------------------
    def _ask_series_for_case(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, tr("Add a series to this case"))
        if folder:
            self.add_series_to_case(Path(folder))

    def add_series_to_case(self, folder: Path) -> None:
        """Scan a folder and add one of its series to the open case as a new study."""
        case, generation = self.cases.case, self.session.generation

        def done(result) -> None:
            if self.session.generation != generation:
                return
            series = result.all_series()
            if not series:
                QMessageBox.information(self, tr("Add a series"),
                                        tr("No DICOM series in {folder}.").format(folder=folder))
                return
            series = [s for s in series if _same_patient(result, s, case)]
            if not series:
                self._studies_warning(tr("Add a series"), tr(
                    "The series in {folder} belong to another patient than this case's "
                    "(patient ID or name differ): open them as their own case."
                ).format(folder=folder))  # fmt: skip
                return
            chosen = series[0]
            if len(series) > 1:
                names = [f"{s.date} {s.modality} {s.description} "
                         + tr("({count} images)").format(count=s.image_count)
                         for s in series]  # fmt: skip
                text, ok = QInputDialog.getItem(self, tr("Add a series"), tr("Series:"), names, 0,
                                                False)  # fmt: skip
                if not ok:
                    return
                chosen = series[names.index(text)]
            date = chosen.date
            study = Study(date=f"{date[:4]}-{date[4:6]}-{date[6:8]}" if len(date) == 8 else date,
                          modality=chosen.modality, description=chosen.description,
                          reference={"folder": str(Path(chosen.files[0]).parent),
                                     "series_uid": chosen.uid,
                                     "description": chosen.description})  # fmt: skip
            if case is self.cases.case:
                self.session.add_study(study)

        self._start(N_("Scanning DICOM"), scan, [folder], on_done=done)

    def _ask_photo_for_case(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("Add a photograph"), "", tr(_PHOTOS))
        if path:
            self.add_photo_to_case(Path(path))

    def add_photo_to_case(self, path: Path) -> None:
        """Read a photograph and add it to the open case as a new study."""
        case = self.cases.case

        def done(photo: Photo) -> None:
            if case is not self.cases.case:
                return
            other = photo.meta.get("patient_id", "")
            if other and case.patient_id and other != case.patient_id:
                self._studies_warning(
                    tr("Add a photograph"),
                    tr(
                        "{file} belongs to another patient (patient ID differs): import it "
                        "as its own case."
                    ).format(file=path.name),
                )
                return
            study = Study(date=photo.meta.get("date", ""),
                          modality=photo.meta.get("modality") or "XC",
                          description=f"photograph {path.name}",
                          reference={"file": str(path.resolve())}, image=photo)  # fmt: skip
            self.session.add_study(study)

        self._start(N_("Reading a photograph"), lambda *, progress, cancelled: read_photo(path),
                    on_done=done)  # fmt: skip

    # -- case files --------------------------------------------------------------------------
    def _ask_import_case(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, tr("Import a case file or a photograph"), "", tr("Case files and photographs "
            "(*.json *.png *.jpg *.jpeg *.tif *.tiff *.dcm);;Case files (*.json);;Photographs "
            "(*.png *.jpg *.jpeg *.tif *.tiff *.dcm);;All files (*)"))  # fmt: skip
        if path:
            self.import_case(Path(path))

    def import_case(self, path: Path) -> None:
        """Make a case of a case file or a photograph (a DICOM folder opens through File >
        Open DICOM folder), show it and save it."""
        from meditwin_desktop.core.case_images import load_case_image
        from meditwin_desktop.core.case_import import case_from

        self.switch_case(None)
        generation = self.session.generation

        def work(*, progress, cancelled):
            case = case_from(path, progress=progress, cancelled=cancelled)
            with suppress(MeditwinError):  # the images may be elsewhere: loaded when shown
                load_case_image(case, progress=progress, cancelled=cancelled)
            return case

        def done(case) -> None:
            if self.session.generation == generation:
                self.switch_case(case)
                self.cases.save(f"imported from {path.name}")  # kept in English: the history

        self._start(N_("Importing a case"), work, on_done=done)

    def _ask_export_case(self) -> None:
        from meditwin_desktop.core.case_file import export_case

        if self.cases.case is None:
            QMessageBox.information(self, tr("Export case file"), tr("Open a case first."))
            return
        path, _ = QFileDialog.getSaveFileName(self, tr("Export case file"), _CASE_FILE,
                                              tr("Case files (*.json)"))  # fmt: skip
        if not path:
            return
        snapshot = self.session.snapshot()
        self._start(
            N_("Exporting the case"),
            lambda *, progress, cancelled: export_case(snapshot, Path(path)),
            on_done=lambda written: self.message.setText(
                tr("Case written to {path}").format(path=written)
            ),
        )


def _general(value: float, digits: int) -> str:
    """`value` with `digits` significant digits (as `:g`), with the language's decimal mark."""
    return f"{value:.{digits}g}".replace(".", decimal_separator())


def _study_date(study: Study) -> str:
    """The study's date as the language writes it, or that it is unknown."""
    if not study.date:
        return tr("unknown date")
    return date_text(study.date) if study.date[4:5] == "-" else study.date  # ISO only


def _same_patient(result, series, case) -> bool:
    """Whether a scanned series belongs to the case's patient (by ID, else by name; a case
    without either takes any)."""
    patient = next((p for p in result.patients
                    if any(s is series for st in p.studies for s in st.series)), None)  # fmt: skip
    if patient is None:
        return False
    if case.patient_id and patient.id:
        return patient.id == case.patient_id
    name = patient.name.replace("^", " ").strip().lower()
    return not case.name or not name or name == case.name.strip().lower()
