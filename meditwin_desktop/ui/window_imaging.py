"""The main window's imaging: opening DICOM folders, series, NIfTI and labels in the
background, and making the case that goes with them.

Opening a series closes the case on screen first (it is saved), so the previous
patient's data never stays beside the new images; the series then reopens the case it
belongs to (matched by its Series Instance UID) or starts a new one.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QFileDialog, QMessageBox

from meditwin_desktop.core.case import Case
from meditwin_desktop.core.i18n import N_, decimal_separator, tr, tr_n
from meditwin_desktop.core.imaging.dicom import ScanResult, SeriesInfo, load_series, scan
from meditwin_desktop.core.imaging.dicom.thumbnail import series_thumbnail
from meditwin_desktop.core.imaging.nifti import (
    read_volume,
    write_label_map,
    write_volume,
)
from meditwin_desktop.core.imaging.surface_cache import cached_label_surfaces, shown_values
from meditwin_desktop.core.imaging.volume import LabelMap, Volume
from meditwin_desktop.core.segmentation.label_files import FILE_FILTER as LABEL_FILE_FILTER
from meditwin_desktop.core.segmentation.label_files import read_label_file, referenced_series_uid
from meditwin_desktop.demo import DemoPatient, ensure_demo
from meditwin_desktop.demo.case import DEMO_CASES, demo_case
from meditwin_desktop.ui.background import EMIT_PARTIAL

_NIFTI_FILTER = N_("NIfTI images (*.nii *.nii.gz)")
_DICOMDIR_FILTER = "DICOMDIR (DICOMDIR)"  # file names and patterns: not translated
_IMAGE_FILE, _LABELS_FILE = "image.nii.gz", "labels.nii.gz"
SURFACES_MODE = N_("Label surfaces")  # a key, shown translated (`render_mode_name`)


def new_case_for(volume: Volume, clinical: dict | None = None, name: str = "") -> Case:
    """A case on a freshly opened image (not yet saved)."""
    meta = volume.meta
    files = meta.get("files") or []
    patient = meta.get("patient_name", "").replace("^", " ").strip()
    date = meta.get("series_date") or meta.get("study_date") or ""
    case = Case(
        name=patient or name or "Unnamed patient",
        patient_id=meta.get("patient_id", ""),
        image=volume,
        image_reference={
            "folder": str(Path(files[0]).parent) if files else "",
            "series_uid": meta.get("series_uid", ""),
            "study_uid": meta.get("study_uid", ""),
            "description": meta.get("series_description", ""),
            "birth_date": meta.get("patient_birth_date", ""),
        },
        clinical=dict(clinical or {}),
    )
    study = case.studies[0]
    study.date = f"{date[:4]}-{date[4:6]}-{date[6:8]}" if len(date) == 8 else date
    study.modality = meta.get("modality", "")
    study.description = meta.get("series_description", "")
    return case


class ImagingMixin:
    """Opening images and labels (mixed into `MainWindow`)."""

    # -- demo -----------------------------------------------------------------------------
    def open_demo(self) -> None:
        """Generate (first time) and open the built-in demo patient (the thorax CT)."""
        self._open_demo_image("thorax-abdomen")

    def _open_demo_image(self, name: str) -> None:
        self._start(N_("Preparing the demo patient"), ensure_demo,
                    on_done=lambda patients: self._demo_ready(patients, name))  # fmt: skip

    def open_demo_case(self, name: str) -> None:
        """Open a case of the demo library: the saved one if there is (its scenarios and
        runs), else a fresh one (the imaging demos go through the DICOM import)."""
        if DEMO_CASES[name]["image"] and not DEMO_CASES[name].get("studies"):
            self._open_demo_image(name)
            return
        self.switch_case(None)  # saved first: reopening it reads what was just saved
        self.cases.after_saving(f"demo-{name}", lambda: self._open_demo_case(name))

    def _open_demo_case(self, name: str) -> None:
        case_id, library = f"demo-{name}", self.session.library
        if library is not None and library.exists(case_id):
            self.open_case(case_id)
            return
        spec = DEMO_CASES[name]
        if spec.get("studies") or spec.get("recordings"):  # files to write: in the background
            if getattr(self, "_building_demo", False):
                return  # a second click while the first build runs
            self._building_demo = True
            generation = self.session.generation

            def done(case) -> None:
                self._building_demo = False
                if self.session.generation == generation:  # no other case opened meanwhile
                    self._demo_studies_ready(case)

            def ended(*_) -> None:
                self._building_demo = False

            self._start(f"Preparing the demo case {name}",
                        lambda *, progress, cancelled: demo_case(name, progress=progress,
                                                                 cancelled=cancelled),
                        on_done=done, on_failed=ended, on_cancelled=ended)  # fmt: skip
            return
        case = demo_case(name)  # clinical data only: nothing to compute
        self.switch_case(case)
        self.twins_dock.raise_()
        self.message.setText(
            tr("Opened {name}: clinical data only, no images.").format(name=case.name)
        )

    def _demo_studies_ready(self, case) -> None:
        self.switch_case(case)
        if not case.studies or all(s.reference.get("file") for s in case.studies):
            self.twins_dock.raise_()  # nothing to segment (photographs): the twins
        studies, recordings, events = len(case.studies), len(case.recordings), len(case.events)
        held = [
            tr_n("{count} dated studies", "{count} dated studies", studies).format(count=studies)
            if studies
            else tr("no images"),
            tr_n("{count} recording(s)", "{count} recording(s)", recordings).format(
                count=recordings
            )
            if recordings
            else "",
            tr_n("{count} diary entries", "{count} diary entries", events).format(count=events)
            if events
            else "",
        ]
        contents = ", ".join(h for h in held if h)
        self.message.setText(
            tr("Opened {name}: {contents}").format(name=case.name, contents=contents)
        )

    def _demo_ready(self, patients: list[DemoPatient], name: str = "thorax-abdomen") -> None:
        self.timings["demo_ready"] = time.perf_counter() - self._t0
        wanted = DEMO_CASES[name].get("patient_id")
        patient = next((p for p in patients if p.patient_id == wanted), patients[0])
        self._known_labels[patient.series_uid] = patient.labels_path
        self._demo_clinical[patient.series_uid] = DEMO_CASES[name]["clinical"]
        self.open_folder(patient.dicom_dir, select=patient.series_uid)

    # -- DICOM ----------------------------------------------------------------------------
    def _ask_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, tr("Open DICOM folder"))
        if folder:
            self.open_folder(Path(folder))

    def _ask_dicomdir(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("Open DICOMDIR"), "", _DICOMDIR_FILTER)
        if path:
            self.open_folder(Path(path))

    def open_folder(self, folder: Path, select: str | None = None) -> None:
        """Scan a folder or DICOMDIR in the background; open `select` (or a lone series)."""

        def done(result: ScanResult) -> None:
            self.timings["scanned"] = time.perf_counter() - self._t0
            self.patients.show_scan(result, str(folder))
            series = result.find_series(select) if select else None
            candidates = result.all_series()
            if series is None and len(candidates) == 1:
                series = candidates[0]
            if series is not None:
                self.patients.select_series(series.uid)
                self.open_series(series)
            elif not candidates:
                if result.skipped:
                    text = tr("No DICOM series found in {folder} (e.g. {file}: {reason})").format(
                        folder=folder, file=result.skipped[0][0].name, reason=result.skipped[0][1]
                    )
                else:
                    text = tr("No DICOM series found in {folder}").format(folder=folder)
                self.message.setText(text)
            else:
                self.message.setText(tr("Double-click a series to open it"))

        self._start(N_("Scanning DICOM"), scan, [folder], on_done=done)

    def open_series(self, series: SeriesInfo) -> None:
        """Load a series in the background; its first slices show while the rest decodes.
        The case on screen is saved and closed first. A DICOM SEG opens as labels on the
        series it segments (`open_seg`)."""
        if series.modality == "SEG":
            self.open_seg(series)
            return
        patient = self.patients.patient_of(series.uid)
        self.switch_case(None)  # (also forgets any other series still loading)
        shown = series.description or tr("a series")
        if patient is None:
            loading = tr("Loading {series}…").format(series=shown)
        else:
            name = patient.name.replace("^", " ").strip() or tr("an unnamed patient")
            if patient.id:
                loading = tr("Loading {series} of {patient} (ID {id})…")
            else:
                loading = tr("Loading {series} of {patient}…")
            loading = loading.format(series=shown, patient=name, id=patient.id)
        self.session.set_loading(loading)
        self._loading = series.uid

        def early(volume: Volume) -> None:
            if self._loading == series.uid:
                self.timings.setdefault("first_slice", time.perf_counter() - self._t0)
                self._set_volume(volume)

        def done(volumes: list[Volume]) -> None:
            self.timings["loaded"] = time.perf_counter() - self._t0
            self._volumes[series.uid] = volumes
            self.patients.show_volumes(series.uid, [v.meta.get("label", "") for v in volumes])
            if self._loading != series.uid:
                return
            self._loading = None
            volume = volumes[0]
            if volume is self.scene.volume:
                if "window" not in volume.meta:
                    self.scene.set_window(*self.scene.auto_window())
                self.scene.data_changed.emit()
            else:
                self._set_volume(volume)
            self._describe(volume, series.description, len(volumes))
            self._open_case_of(volume, series.uid)
            if volume.meta.get("partial"):
                self.status.show_warnings()

        def stopped(*_) -> None:
            if self._loading == series.uid:
                self._loading = None
                self.session.set_loading("")

        task = self._start(
            N_("Loading a series"),
            load_series,
            series.files,
            on_volume=EMIT_PARTIAL,
            on_done=done,
            on_partial=early,
            on_failed=stopped,
            on_cancelled=stopped,
        )
        task.progressed.connect(lambda *_: self.scene.data_changed.emit())

    def open_seg(self, series: SeriesInfo) -> None:
        """A DICOM SEG: its labels onto the series it references, opened first if needed."""
        path = series.files[0]
        try:
            reference = referenced_series_uid(path)
        except Exception as error:  # an unreadable header: say so, open nothing
            self.message.setText(
                tr("{file} cannot be read as DICOM SEG ({error}).").format(
                    file=path.name, error=error
                )
            )
            return
        volume = self.scene.volume
        if volume is not None and reference and volume.meta.get("series_uid") == reference:
            self.import_label_file(path)
            return
        target = self.patients.find_series(reference) if reference else None
        if target is None:
            text = tr("{name} is a segmentation (DICOM SEG) of a series that is not in this "
                      "folder. Open that series, then import the SEG with File > Import "
                      "labels.").format(name=series.description or path.name)  # fmt: skip
            box = QMessageBox(QMessageBox.Icon.Information, tr("Segmentation of another series"),
                              text, parent=self)  # fmt: skip
            box.setObjectName("seg_reference_missing")
            box.open()
            return
        self._known_labels[target.uid] = path  # shown when the series' case has no labels
        self._pending_seg = (target.uid, path)  # offered over the case's own labels if any
        self.patients.select_series(target.uid)
        self.open_series(target)
        self.message.setText(tr("Opening the series that {file} segments…").format(file=path.name))

    def _open_case_of(self, volume: Volume, series_uid: str) -> None:
        """The case this series belongs to (saved earlier), else a new one; after the save
        of the case just left, which may be that very case."""
        self.cases.after_saving(None, lambda: self._find_case_of(volume, series_uid))

    def _find_case_of(self, volume: Volume, series_uid: str) -> None:
        if self.scene.volume is not volume:
            return  # something else was opened meanwhile
        library = self.session.library
        case_id = library.find_by_series(series_uid) if library is not None else None
        if case_id is None:
            self.switch_case(new_case_for(volume, self._demo_clinical.get(series_uid)))
            return
        self.session.set_loading(tr("Opening the saved case of this series…"))
        generation = self.session.generation

        def done(case: Case) -> None:
            if self.scene.volume is not volume or self.session.generation != generation:
                return  # something else was opened meanwhile
            index = next((n for n, s in enumerate(case.studies)
                          if s.reference.get("series_uid") == series_uid), case.active)  # fmt: skip
            case.active = index  # a follow-up opened from the browser shows as itself
            case.image = volume
            self.switch_case(case)
            self.message.setText(
                tr("Reopened the saved case of this series (revision {revision})").format(
                    revision=case.revision
                )
            )

        def failed(_error) -> None:  # said by the error dialog; never a duplicate case
            if self.session.generation == generation:
                self.session.set_loading(tr("The saved case of this series could not be "
                                            "opened: the images are shown, nothing is "
                                            "saved."))  # fmt: skip

        self._start(
            N_("Opening the saved case"),
            lambda *, progress, cancelled: library.load(case_id),
            on_done=done,
            on_failed=failed,
        )

    def _set_volume(self, volume: Volume) -> None:
        self.centre.setCurrentIndex(0)
        self.scene.set_volume(volume)
        self.view3d.clear()
        self._surfaces = {}
        self.status.set_warnings(volume.meta.get("warnings", []))
        stored = str(self.settings.value(f"window_preset/{volume.meta.get('modality', '')}", ""))
        if self.window_presets.findText(stored) > 0:
            self.window_presets.setCurrentText(stored)
            self.apply_window_preset(stored)
        else:
            self.window_presets.setCurrentIndex(0)

    def _describe(self, volume: Volume, description: str, count: int) -> None:
        label = volume.meta.get("label", "")
        series = (description or tr("Series")) + (f" ({label})" if label else "")
        spacing = " x ".join(f"{s:.3g}".replace(".", decimal_separator()) for s in volume.spacing)
        text = tr("{series}: {size} voxels, {spacing} mm").format(
            series=series, size=" x ".join(map(str, volume.shape[::-1])), spacing=spacing
        )
        if count > 1:
            text += tr("; {count} volumes in this series (listed under it)").format(count=count)
        self.message.setText(text)

    def _show_volume(self, uid: str, index: int) -> None:
        volumes = self._volumes.get(uid, [])
        if index < len(volumes) and self.cases.case is not None:
            volume = volumes[index]
            self._set_volume(volume)
            self.session.set_image(volume)
            self._describe(volume, volume.meta.get("series_description", ""), len(volumes))
            self.set_render_mode(self._default_volume_preset(volume))

    def _request_thumbnail(self, series: SeriesInfo) -> None:
        if series.uid in self._thumbnails:
            self.patients.show_thumbnail(series, self._thumbnails[series.uid])
            return

        def done(image: np.ndarray) -> None:
            self._thumbnails[series.uid] = image
            self.patients.show_thumbnail(series, image)

        self._start(
            N_("Preview"),
            series_thumbnail,
            series.files,
            on_done=done,
            on_failed=lambda error: self.patients.show_thumbnail(series, None, str(error)),
            quiet=True,
        )

    # -- labels and NIfTI ---------------------------------------------------------------------
    def _load_labels(self, source: Path | LabelMap, volume: Volume) -> None:
        """Show labels (a NIfTI file, or the case's own) on the volume, with their surfaces."""
        hidden = set(self.scene.hidden_labels)
        budget = self.view3d.triangle_budget()  # exports keep every triangle

        def work(*, progress, cancelled) -> tuple[LabelMap, dict]:
            note = ""
            if isinstance(source, LabelMap):
                label_map = source
            else:  # NIfTI, NRRD or DICOM SEG, onto the volume
                label_map, note = read_label_file(source, volume)
            shown = shown_values(label_map, hidden)
            surfaces = cached_label_surfaces(  # a prefetched case finds them there
                label_map, shown, max_triangles=budget, progress=progress, cancelled=cancelled
            )
            return label_map, surfaces, note

        def done(result: tuple[LabelMap, dict, str]) -> None:
            label_map, surfaces, note = result
            if self.scene.volume is not volume:
                return  # the user opened something else meanwhile
            self._surfaces = surfaces
            self.timings["surfaces"] = time.perf_counter() - self._t0
            self.scene.set_labels(label_map)
            count = len(label_map.labels)
            with_labels = tr_n("{text}, {count} labels", "{text}, {count} labels", count)
            self.message.setText(with_labels.format(text=self.message.text(), count=count))
            if note:
                self.message.setText(note)
            if self.render_mode.findText(SURFACES_MODE) < 0:
                self.render_mode.insertItem(0, SURFACES_MODE)
            self.set_render_mode(SURFACES_MODE)

        self._start(N_("Loading labels and surfaces"), work, on_done=done)

    def _ask_nifti_volume(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("Import NIfTI image"), "", tr(_NIFTI_FILTER))
        if path:
            self.open_nifti(Path(path))

    def open_nifti(self, path: Path) -> None:
        """Open a NIfTI image as a new case (research data, other tools' output)."""
        self.switch_case(None)
        generation = self.session.generation

        def work(*, progress, cancelled) -> Volume:
            return read_volume(path)

        def done(volume: Volume) -> None:
            if self.session.generation != generation:
                return  # something else was opened meanwhile
            self._set_volume(volume)
            self._describe(volume, path.name, 1)
            self.set_render_mode(self._default_volume_preset(volume))
            self.switch_case(new_case_for(volume, name=f"Image {path.name}"))

        self._start(N_("Importing a NIfTI image"), work, on_done=done)

    def _ask_nifti_labels(self) -> None:
        if self.scene.volume is None:
            QMessageBox.information(self, tr("Import labels"), tr("Open an image first."))
            return
        path, _ = QFileDialog.getOpenFileName(self, tr("Import labels"), "", tr(LABEL_FILE_FILTER))
        if path:
            self.import_label_file(Path(path))

    def import_label_file(self, path: Path) -> None:
        """Labels from a NIfTI, NRRD or DICOM SEG file onto the open image (they replace
        the labels on screen: asked first when a twin uses those)."""
        if self.scene.volume is None:
            return
        action = tr("importing {file}").format(file=path.name)
        if not self.segments.guard.confirm(sorted(self.scene.locked_labels), action):
            return
        self._load_labels(path, self.scene.volume)

    def _ask_export_volume(self) -> None:
        if self.scene.volume is None:
            QMessageBox.information(self, tr("Export image"), tr("There is no image to export."))
            return
        path, _ = QFileDialog.getSaveFileName(
            self, tr("Export image as NIfTI"), _IMAGE_FILE, tr(_NIFTI_FILTER)
        )
        if path:
            volume = self.scene.volume
            self._start(
                N_("Exporting image"),
                lambda *, progress, cancelled: write_volume(volume, Path(path)),
                on_done=lambda _: self.message.setText(tr("Saved {path}").format(path=path)),
            )

    def _ask_export_labels(self) -> None:
        if self.scene.labels is None:
            QMessageBox.information(self, tr("Export labels"), tr("There are no labels to export."))
            return
        path, _ = QFileDialog.getSaveFileName(
            self, tr("Export labels as NIfTI"), _LABELS_FILE, tr(_NIFTI_FILTER)
        )
        if path:
            labels = self.scene.labels
            self._start(
                N_("Exporting labels"),
                lambda *, progress, cancelled: write_label_map(labels, Path(path)),
                on_done=lambda _: self.message.setText(tr("Saved {path}").format(path=path)),
            )
