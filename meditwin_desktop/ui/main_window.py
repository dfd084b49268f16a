"""The main window: DICOM browser, 2x2 views (axial, 3D, sagittal, coronal), status bar."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QGridLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QWidget,
)

from meditwin_desktop import APP_NAME, __version__
from meditwin_desktop.core.errors import MeditwinError
from meditwin_desktop.core.imaging.dicom import ScanResult, SeriesInfo, load_series, scan, workers
from meditwin_desktop.core.imaging.dicom.thumbnail import series_thumbnail
from meditwin_desktop.core.imaging.labels import fit_labels_to
from meditwin_desktop.core.imaging.nifti import (
    read_label_map,
    read_volume,
    write_label_map,
    write_volume,
)
from meditwin_desktop.core.imaging.slicing import AXIAL, CORONAL, SAGITTAL
from meditwin_desktop.core.imaging.surfaces import label_surfaces
from meditwin_desktop.core.imaging.volume import LabelMap, Volume
from meditwin_desktop.core.paths import log_file
from meditwin_desktop.demo import DemoPatient, ensure_demo
from meditwin_desktop.ui.background import EMIT_PARTIAL, Task, TaskRunner
from meditwin_desktop.ui.patient_panel import PatientPanel
from meditwin_desktop.ui.resources import preset
from meditwin_desktop.ui.scene import Scene
from meditwin_desktop.ui.slice_view import SliceView
from meditwin_desktop.ui.status import StatusBar
from meditwin_desktop.ui.view3d import View3D

log = logging.getLogger(__name__)

_SURFACES_MODE = "Label surfaces"
_NIFTI_FILTER = "NIfTI images (*.nii *.nii.gz)"


class MainWindow(QMainWindow):
    """The workstation window. All heavy work goes through `self.runner`."""

    ready = Signal()  # the opened series (and its labels, if any) is on screen in all views

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(APP_NAME)
        self.scene = Scene(self)
        self.runner = TaskRunner(parent=self)
        self.timings: dict[str, float] = {}
        self._t0 = time.perf_counter()
        self._known_labels: dict[str, Path] = {}
        self._volumes: dict[str, list[Volume]] = {}
        self._thumbnails: dict[str, np.ndarray] = {}
        self._surfaces: dict = {}
        self._loading: str | None = None  # series UID being loaded

        self.axial = SliceView(self.scene, AXIAL)
        self.coronal = SliceView(self.scene, CORONAL)
        self.sagittal = SliceView(self.scene, SAGITTAL)
        self.view3d = View3D()
        grid = QWidget(self)
        layout = QGridLayout(grid)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addWidget(self.axial, 0, 0)
        layout.addWidget(self.view3d, 0, 1)
        layout.addWidget(self.sagittal, 1, 0)
        layout.addWidget(self.coronal, 1, 1)
        self.setCentralWidget(grid)

        self.patients = PatientPanel(self)
        self.patients.series_activated.connect(self.open_series)
        self.patients.series_selected.connect(self._request_thumbnail)
        self.patients.volume_activated.connect(self._show_volume)
        dock = QDockWidget("Patients", self)
        dock.setObjectName("patients_dock")
        dock.setWidget(self.patients)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        dock.setMinimumWidth(340)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)

        self.status = StatusBar(self)
        self.setStatusBar(self.status)
        self.message = self.status.message
        self.cursor_info = self.status.cursor_info
        self._build_actions()
        for view in (self.axial, self.coronal, self.sagittal):
            view.hovered.connect(self._show_hover)
        self.scene.cursor_changed.connect(lambda: self.view3d.set_cursor(self.scene.cursor))
        self.view3d.rendered.connect(self._on_3d_rendered)

    # -- chrome ------------------------------------------------------------------
    def _action(self, menu, text: str, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_actions(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(
            file_menu, "&Open DICOM folder…", self._ask_folder, QKeySequence.StandardKey.Open
        )
        self._action(file_menu, "Open DICOM&DIR…", self._ask_dicomdir)
        self._action(file_menu, "Open &demo patient", self.open_demo)
        file_menu.addSeparator()
        self._action(file_menu, "Import NIfTI &image…", self._ask_nifti_volume)
        self._action(file_menu, "Import NIfTI &labels…", self._ask_nifti_labels)
        self._action(file_menu, "&Export image as NIfTI…", self._ask_export_volume)
        self._action(file_menu, "Export labels as NIf&TI…", self._ask_export_labels)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        view_menu = self.menuBar().addMenu("&View")
        self.overlay_action = QAction("Show &labels on slices", self, checkable=True)
        self.overlay_action.setChecked(True)
        self.overlay_action.setShortcut("L")
        self.overlay_action.toggled.connect(self.scene.set_overlay_visible)
        view_menu.addAction(self.overlay_action)

        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, f"&About {APP_NAME}", self._about)
        self._action(
            help_menu,
            "Open &log folder",
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(log_file().parent))),
        )

        toolbar = self.addToolBar("View")
        toolbar.setObjectName("view_toolbar")
        toolbar.addWidget(QLabel(" Window: "))
        self.window_presets = QComboBox()
        self.window_presets.setObjectName("window_presets")
        self.window_presets.addItem("From image")
        self.window_presets.addItems(list(preset("window_level")))
        self.window_presets.textActivated.connect(self.apply_window_preset)
        toolbar.addWidget(self.window_presets)
        toolbar.addAction(self.overlay_action)
        toolbar.addSeparator()
        toolbar.addWidget(QLabel(" 3D: "))
        self.render_mode = QComboBox()
        self.render_mode.setObjectName("render_mode")
        self.render_mode.addItems([f"Volume: {name}" for name in preset("volume_rendering")])
        self.render_mode.textActivated.connect(self.set_render_mode)
        toolbar.addWidget(self.render_mode)

    def _about(self) -> None:
        QMessageBox.about(
            self,
            f"About {APP_NAME}",
            f"<b>{APP_NAME} {__version__}</b><p>Clinical decision support with virtual twins."
            f"<p>Log file: {log_file()}",
        )

    # -- background work -----------------------------------------------------------
    def _start(self, name: str, fn, *args, on_done, on_partial=None, quiet=False, **kwargs) -> Task:
        """Run `fn` in the background; `quiet` tasks neither take the status bar nor pop up."""
        task = self.runner.task(name, fn, *args, **kwargs)
        task.succeeded.connect(on_done)
        if on_partial is not None:
            task.partial.connect(on_partial)
        if not quiet:
            task.failed.connect(lambda error, n=name: self._on_failed(n, error))
            task.cancelled_.connect(lambda n=name: self.message.setText(f"{n}: cancelled"))
            self.status.track(task)
        return self.runner.start(task)

    def _on_failed(self, name: str, error: BaseException) -> None:
        text = (
            str(error)
            if isinstance(error, MeditwinError)
            else (f"{type(error).__name__}: {error}\n\nDetails are in the log: {log_file()}")
        )
        self.message.setText(f"{name} failed")
        box = QMessageBox(QMessageBox.Icon.Warning, f"{name} failed", text, parent=self)
        box.setObjectName("error_dialog")
        box.open()

    def cancel_current_task(self) -> None:
        """Cancel the work shown in the status bar."""
        self.status.cancel()

    # -- opening DICOM -----------------------------------------------------------------
    def open_demo(self) -> None:
        """Generate (first time) and open the built-in demo patient."""
        self._start("Preparing the demo patient", ensure_demo, on_done=self._demo_ready)

    def _demo_ready(self, patients: list[DemoPatient]) -> None:
        self.timings["demo_ready"] = time.perf_counter() - self._t0
        patient = patients[0]
        self._known_labels[patient.series_uid] = patient.labels_path
        self.open_folder(patient.dicom_dir, select=patient.series_uid)

    def _ask_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open DICOM folder")
        if folder:
            self.open_folder(Path(folder))

    def _ask_dicomdir(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open DICOMDIR", "", "DICOMDIR (DICOMDIR)")
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
                example = (
                    f" (e.g. {result.skipped[0][0].name}: {result.skipped[0][1]})"
                    if (result.skipped)
                    else ""
                )
                self.message.setText(f"No DICOM series found in {folder}{example}")
            else:
                self.message.setText("Double-click a series to open it")

        self._start("Scanning DICOM", scan, [folder], on_done=done)

    def open_series(self, series: SeriesInfo) -> None:
        """Load a series in the background; its first slices show while the rest decodes."""
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
            labels_path = self._known_labels.get(series.uid)
            if labels_path is not None:
                self._load_labels(labels_path, volume)
            else:
                self.set_render_mode(self._default_volume_preset(volume))
            if volume.meta.get("partial"):
                self.status.show_warnings()

        task = self._start(
            f"Loading {series.description or 'series'}",
            load_series,
            series.files,
            on_volume=EMIT_PARTIAL,
            on_done=done,
            on_partial=early,
        )
        task.progressed.connect(lambda *_: self.scene.data_changed.emit())

    def _set_volume(self, volume: Volume) -> None:
        self.scene.set_volume(volume)
        self.window_presets.setCurrentIndex(0)
        self.view3d.clear()
        self.status.set_warnings(volume.meta.get("warnings", []))

    def _describe(self, volume: Volume, description: str, count: int) -> None:
        label = volume.meta.get("label", "")
        text = f"{description or 'Series'}{f' ({label})' if label else ''}: "
        text += f"{' x '.join(map(str, volume.shape[::-1]))} voxels, "
        text += " x ".join(f"{s:.3g}" for s in volume.spacing) + " mm"
        if count > 1:
            text += f"; {count} volumes in this series (listed under it)"
        self.message.setText(text)

    def _show_volume(self, uid: str, index: int) -> None:
        volumes = self._volumes.get(uid, [])
        if index < len(volumes):
            self._set_volume(volumes[index])
            self._describe(
                volumes[index], volumes[index].meta.get("series_description", ""), len(volumes)
            )
            self.set_render_mode(self._default_volume_preset(volumes[index]))

    def _request_thumbnail(self, series: SeriesInfo) -> None:
        if series.uid in self._thumbnails:
            self.patients.show_thumbnail(series, self._thumbnails[series.uid])
            return

        def done(image: np.ndarray) -> None:
            self._thumbnails[series.uid] = image
            self.patients.show_thumbnail(series, image)

        task = self._start("Preview", series_thumbnail, series.files, on_done=done, quiet=True)
        task.failed.connect(lambda error: self.patients.show_thumbnail(series, None, str(error)))

    # -- labels and NIfTI ------------------------------------------------------------------
    def _load_labels(self, path: Path, volume: Volume) -> None:
        hidden = set(self.scene.hidden_labels)

        def work(*, progress, cancelled) -> tuple[LabelMap, dict]:
            label_map = fit_labels_to(read_label_map(path), volume)
            shown = [v for v, lab in label_map.labels.items() if lab.name not in hidden]
            surfaces = label_surfaces(label_map, shown, progress=progress, cancelled=cancelled)
            return label_map, surfaces

        def done(result: tuple[LabelMap, dict]) -> None:
            label_map, self._surfaces = result
            if self.scene.volume is not volume:
                return  # the user opened something else meanwhile
            self.timings["surfaces"] = time.perf_counter() - self._t0
            self.scene.set_labels(label_map)
            self.message.setText(f"{self.message.text()}, {len(label_map.labels)} labels")
            if self.render_mode.findText(_SURFACES_MODE) < 0:
                self.render_mode.insertItem(0, _SURFACES_MODE)
            self.set_render_mode(_SURFACES_MODE)

        self._start("Loading labels and surfaces", work, on_done=done)

    def _ask_nifti_volume(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import NIfTI image", "", _NIFTI_FILTER)
        if path:
            self.open_nifti(Path(path))

    def open_nifti(self, path: Path) -> None:
        """Open a NIfTI image as the current volume (research data, other tools' output)."""

        def work(*, progress, cancelled) -> Volume:
            return read_volume(path)

        def done(volume: Volume) -> None:
            self._set_volume(volume)
            self._describe(volume, path.name, 1)
            self.set_render_mode(self._default_volume_preset(volume))

        self._start(f"Importing {path.name}", work, on_done=done)

    def _ask_nifti_labels(self) -> None:
        if self.scene.volume is None:
            QMessageBox.information(self, "Import labels", "Open an image first.")
            return
        path, _ = QFileDialog.getOpenFileName(self, "Import NIfTI labels", "", _NIFTI_FILTER)
        if path:
            self._load_labels(Path(path), self.scene.volume)

    def _ask_export_volume(self) -> None:
        if self.scene.volume is None:
            QMessageBox.information(self, "Export image", "There is no image to export.")
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Export image as NIfTI", "image.nii.gz", _NIFTI_FILTER
        )
        if path:
            volume = self.scene.volume
            self._start(
                "Exporting image",
                lambda *, progress, cancelled: write_volume(volume, Path(path)),
                on_done=lambda _: self.message.setText(f"Saved {path}"),
            )

    def _ask_export_labels(self) -> None:
        if self.scene.labels is None:
            QMessageBox.information(self, "Export labels", "There are no labels to export.")
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Export labels as NIfTI", "labels.nii.gz", _NIFTI_FILTER
        )
        if path:
            labels = self.scene.labels
            self._start(
                "Exporting labels",
                lambda *, progress, cancelled: write_label_map(labels, Path(path)),
                on_done=lambda _: self.message.setText(f"Saved {path}"),
            )

    # -- display ---------------------------------------------------------------------------
    @staticmethod
    def _default_volume_preset(volume: Volume) -> str:
        return (
            "Volume: CT soft tissue"
            if volume.meta.get("modality") == "CT"
            else "Volume: MR default"
        )

    def set_render_mode(self, mode: str) -> None:
        """Show label surfaces or a volume rendering preset in the 3D view."""
        if self.scene.volume is None:
            return
        if mode == _SURFACES_MODE and self.scene.labels is not None:
            self.view3d.show_surfaces(self._surfaces, self.scene.labels.labels)
        elif mode.startswith("Volume: "):
            self.view3d.show_volume(self.scene.volume, preset("volume_rendering")[mode[8:]])
        else:
            return
        self.render_mode.setCurrentText(mode)
        self.view3d.set_cursor(self.scene.cursor)

    def apply_window_preset(self, name: str) -> None:
        """Apply a window/level preset by name ('From image' restores the series default)."""
        if name in preset("window_level"):
            level, width = preset("window_level")[name]
            self.scene.set_window(level, width)
        elif self.scene.volume is not None:
            self.scene.set_window(*self.scene.volume.meta.get("window", self.scene.auto_window()))

    def _on_3d_rendered(self) -> None:
        if "rendered" not in self.timings and self.scene.volume is not None:
            self.timings["rendered"] = time.perf_counter() - self._t0
            self.ready.emit()

    def _show_hover(self, lps: np.ndarray | None) -> None:
        if lps is None:
            self.cursor_info.setText("")
            return
        value = self.scene.value_at(lps)
        unit = " HU" if self.scene.volume and self.scene.volume.meta.get("modality") == "CT" else ""
        text = f"L {lps[0]:+.1f}  P {lps[1]:+.1f}  S {lps[2]:+.1f} mm"
        if value is not None:
            text += f"   {value:.0f}{unit}"
        label = self.scene.label_at(lps)
        if label:
            text += f"   {label}"
        self.cursor_info.setText(text)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.runner.shutdown()
        workers.shutdown()
        self.view3d.close_plotter()
        super().closeEvent(event)
