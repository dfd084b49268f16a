"""The main window: DICOM browser, 2x2 views (axial, 3D, sagittal, coronal), status bar."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QActionGroup, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QGridLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSizePolicy,
    QStackedWidget,
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
from meditwin_desktop.core.paths import data_dir, log_file
from meditwin_desktop.core.registry import discover
from meditwin_desktop.core.runner import Runner
from meditwin_desktop.demo import DemoPatient, ensure_demo
from meditwin_desktop.demo.case import DEMO_CASES, demo_case
from meditwin_desktop.ui.background import EMIT_PARTIAL, Task, TaskRunner
from meditwin_desktop.ui.case_controller import CaseController
from meditwin_desktop.ui.case_overview import CaseOverview
from meditwin_desktop.ui.clinical_panel import ClinicalPanel
from meditwin_desktop.ui.comparison import ComparisonView
from meditwin_desktop.ui.patient_panel import PatientPanel
from meditwin_desktop.ui.resources import preset
from meditwin_desktop.ui.scene import Ruler, Scene
from meditwin_desktop.ui.segment_panel import SegmentPanel
from meditwin_desktop.ui.slice_view import SliceView
from meditwin_desktop.ui.status import StatusBar
from meditwin_desktop.ui.twin_panel import TwinPanel
from meditwin_desktop.ui.view3d import View3D

log = logging.getLogger(__name__)

_SURFACES_MODE = "Label surfaces"
_NIFTI_FILTER = "NIfTI images (*.nii *.nii.gz)"
LAYOUTS = ("2 x 2", "1 x 3", "Axial", "Coronal", "Sagittal", "3D")
_AUTO_WINDOW = "Auto (histogram)"


def settings() -> QSettings:
    """The user's settings, in the MEDITWIN data directory (tests give it a private one)."""
    return QSettings(str(data_dir() / "settings.ini"), QSettings.Format.IniFormat)


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
        self._grid = QGridLayout(grid)
        self._grid.setContentsMargins(2, 2, 2, 2)
        self._grid.setSpacing(2)
        self.overview = CaseOverview(self)  # instead of empty views for a case without images
        self.centre = QStackedWidget(self)
        self.centre.addWidget(grid)
        self.centre.addWidget(self.overview)
        self.setCentralWidget(self.centre)
        self.layout_name = "2 x 2"

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

        self.segments = SegmentPanel(self.scene, self._start, self)
        self.segments.surface_requested.connect(self.show_label_surface)
        self.segments.surface_export_requested.connect(self.export_label_surface)
        tools_dock = QDockWidget("Segmentation", self)
        tools_dock.setObjectName("segmentation_dock")
        tools_dock.setWidget(self.segments)
        tools_dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        tools_dock.setMinimumWidth(320)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, tools_dock)
        self.segmentation_dock = tools_dock

        self.clinical = ClinicalPanel(self)
        self.clinical_dock = QDockWidget("Clinical", self)
        self.clinical_dock.setObjectName("clinical_dock")
        self.clinical_dock.setWidget(self.clinical)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.clinical_dock)
        self.tabifyDockWidget(self.segmentation_dock, self.clinical_dock)

        self.registry = discover()
        self.twin_runner = Runner()
        self.twin_panel = TwinPanel(self.registry, self.twin_runner, self)
        self.twins_dock = QDockWidget("Twins", self)
        self.twins_dock.setObjectName("twins_dock")
        self.twins_dock.setWidget(self.twin_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.twins_dock)
        self.tabifyDockWidget(self.clinical_dock, self.twins_dock)
        self.segmentation_dock.raise_()
        self.comparison = ComparisonView(self)
        self.comparison_dock = QDockWidget("Comparison of scenarios", self)
        self.comparison_dock.setObjectName("comparison_dock")
        self.comparison_dock.setWidget(self.comparison)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.comparison_dock)
        self.comparison_dock.hide()
        self._demo_clinical: dict[str, dict] = {}

        self.status = StatusBar(self)
        self.setStatusBar(self.status)
        self.message = self.status.message
        self.cursor_info = self.status.cursor_info
        self._build_actions()
        self._build_tool_bar()
        for view in self.slice_views():
            view.hovered.connect(self._show_hover)
            view.roi_measured.connect(self._show_roi)
            view.maximize_requested.connect(lambda v=view: self._toggle_maximized(v))
        self._3d_timer = QTimer(self, singleShot=True, interval=40)
        self._3d_timer.timeout.connect(self._update_3d_overlays)
        for signal in (
            self.scene.cursor_changed,
            self.scene.window_changed,
            self.scene.labels_changed,
            self.scene.overlay_changed,
        ):
            signal.connect(self._3d_timer.start)
        self.scene.measurements_changed.connect(lambda: self.view3d.set_rulers(self.scene.rulers))
        self.view3d.rendered.connect(self._on_3d_rendered)
        self.view3d.picked.connect(self._picked_in_3d)
        self._first_pick: np.ndarray | None = None
        self.cases = CaseController(self._start, parent=self)
        self.cases.case_opened.connect(self._case_opened)
        self.cases.saved.connect(self.message.setText)
        self.twin_panel.case_changed.connect(self.cases.changed)
        self.clinical.changed.connect(self._clinical_changed)
        self.twin_panel.runs_changed.connect(self._runs_changed)
        self.twin_panel.runs_started.connect(lambda _: self.comparison_dock.show())
        self.twin_panel.point_requested.connect(
            lambda prefix: self.twin_panel.set_point(prefix, self.scene.cursor)
        )
        self._labels_timer = QTimer(self, singleShot=True, interval=800)
        self._labels_timer.timeout.connect(self._labels_changed_for_case)
        self.scene.labels_changed.connect(self._labels_timer.start)
        self._restore_settings()

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
        demos = file_menu.addMenu("Open demo &case")
        for name, spec in DEMO_CASES.items():
            self._action(demos, spec["title"], lambda _=False, n=name: self.open_demo_case(n))
        file_menu.addSeparator()
        self._action(file_menu, "&Save case", self.cases_save, QKeySequence.StandardKey.Save)
        self._action(file_menu, "Open &case…", self._ask_case)
        self._action(file_menu, "Export &report (PDF)…", self._ask_report)
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
        self.window_presets.addItems(["From image", _AUTO_WINDOW])
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
        task.succeeded.connect(task.guarded(on_done))
        if on_partial is not None:
            task.partial.connect(task.guarded(on_partial))
        if not quiet:
            task.failed.connect(task.guarded(lambda error, n=name: self._on_failed(n, error)))
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

    def open_demo_case(self, name: str) -> None:
        """Open a case of the demo library (the CT demo through the DICOM import)."""
        if DEMO_CASES[name]["image"]:
            self.open_demo()
            return
        case = demo_case(name)  # clinical data only: nothing to compute
        self.cases.adopt(case)
        self.twins_dock.raise_()
        self.message.setText(f"Opened {case.name}: clinical data only, no images.")

    def _demo_ready(self, patients: list[DemoPatient]) -> None:
        self.timings["demo_ready"] = time.perf_counter() - self._t0
        patient = patients[0]
        self._known_labels[patient.series_uid] = patient.labels_path
        self._demo_clinical[patient.series_uid] = DEMO_CASES["thorax-abdomen"]["clinical"]
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
            self.cases.new_case_for(volume, self._demo_clinical.get(series.uid))
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
        self.centre.setCurrentIndex(0)
        self.scene.set_volume(volume)
        self.view3d.clear()
        self.status.set_warnings(volume.meta.get("warnings", []))
        stored = str(settings().value(f"window_preset/{volume.meta.get('modality', '')}", ""))
        if self.window_presets.findText(stored) > 0:
            self.window_presets.setCurrentText(stored)
            self.apply_window_preset(stored)
        else:
            self.window_presets.setCurrentIndex(0)

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
        task.failed.connect(
            task.guarded(lambda error: self.patients.show_thumbnail(series, None, str(error)))
        )

    # -- labels and NIfTI ------------------------------------------------------------------
    def _load_labels(self, path: Path, volume: Volume) -> None:
        hidden = set(self.scene.hidden_labels)
        budget = self.view3d.triangle_budget()  # exports keep every triangle

        def work(*, progress, cancelled) -> tuple[LabelMap, dict]:
            label_map = fit_labels_to(read_label_map(path), volume)
            shown = [v for v, lab in label_map.labels.items() if lab.name not in hidden]
            surfaces = label_surfaces(
                label_map,
                shown,
                max_triangles=budget,
                progress=progress,
                cancelled=cancelled,
            )
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
        modality = self.scene.volume.meta.get("modality", "")
        if modality and mode.startswith("Volume: "):
            settings().setValue(f"render_mode/{modality}", mode)
        self._update_3d_overlays()
        if not self.view3d.isVisible():  # layout without 3D: the slices are all there is
            self._on_3d_rendered()

    def apply_window_preset(self, name: str) -> None:
        """Apply a window/level preset by name ('From image': the series' own window;
        'Auto (histogram)': 1st-99th percentile, the usual choice for MR)."""
        if self.scene.volume is None:
            return
        if name in preset("window_level"):
            self.scene.set_window(*preset("window_level")[name])
        elif name == _AUTO_WINDOW:
            self.scene.set_window(*self.scene.auto_window())
        else:
            self.scene.set_window(*self.scene.volume.meta.get("window", self.scene.auto_window()))
        modality = self.scene.volume.meta.get("modality", "")
        if modality:
            settings().setValue(f"window_preset/{modality}", name)

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

    # -- tools, layouts, 3D overlays ----------------------------------------------------------
    def slice_views(self) -> list[SliceView]:
        """The three slice views."""
        return [self.axial, self.coronal, self.sagittal]

    def _build_tool_bar(self) -> None:
        toolbar = self.addToolBar("Tools")
        toolbar.setObjectName("tools_toolbar")
        group = QActionGroup(self)
        self.tool_actions = {}
        for tool, text, tip in (
            ("navigate", "Crosshair", "Left click moves the linked crosshair"),
            ("ruler", "Ruler", "Drag on a slice to measure a distance (also shown in 3D)"),
            ("roi", "ROI", "Drag a rectangle on a slice for its statistics"),
        ):
            action = QAction(text, self, checkable=True)
            action.setToolTip(tip)
            action.setChecked(tool == "navigate")
            action.triggered.connect(lambda _=False, t=tool: self.scene.set_tool(t))
            group.addAction(action)
            toolbar.addAction(action)
            self.tool_actions[tool] = action
        toolbar.addAction("Clear rulers", self.scene.clear_rulers)
        self.scene.tool_changed.connect(self._tool_changed)
        toolbar.addSeparator()
        toolbar.addWidget(QLabel(" Layout: "))
        self.layout_combo = QComboBox()
        self.layout_combo.setObjectName("layout_combo")
        self.layout_combo.addItems(LAYOUTS)
        self.layout_combo.textActivated.connect(self.set_layout)
        toolbar.addWidget(self.layout_combo)
        toolbar.addSeparator()
        self.planes_action = QAction("Slices in 3D", self, checkable=True)
        self.planes_action.setToolTip("Show the three slices in the 3D view")
        self.planes_action.toggled.connect(self._planes_toggled)
        toolbar.addAction(self.planes_action)
        self.clip_actions = {}
        for name in ("axial", "coronal", "sagittal"):
            action = QAction(f"Clip {name}", self, checkable=True)
            action.setToolTip(f"Cut the 3D view at the {name} slice")
            action.toggled.connect(self._update_clipping)
            toolbar.addAction(action)
            self.clip_actions[name] = action

    def _tool_changed(self) -> None:
        action = self.tool_actions.get(self.scene.tool)
        for tool, other in self.tool_actions.items():
            other.setChecked(other is action or (action is None and tool == "navigate"))

    def set_layout(self, name: str) -> None:
        """Arrange the views: 2 x 2, 1 x 3 (the slices side by side) or one view alone."""
        if name not in LAYOUTS:
            return
        views = {
            "Axial": self.axial,
            "Coronal": self.coronal,
            "Sagittal": self.sagittal,
            "3D": self.view3d,
        }
        placement = {
            "2 x 2": [
                (self.axial, 0, 0),
                (self.view3d, 0, 1),
                (self.sagittal, 1, 0),
                (self.coronal, 1, 1),
            ],
            "1 x 3": [(self.axial, 0, 0), (self.coronal, 0, 1), (self.sagittal, 0, 2)],
        }.get(name, [(views.get(name), 0, 0)])
        for view in views.values():
            self._grid.removeWidget(view)
            view.hide()
        for row in range(3):
            self._grid.setRowStretch(row, 0)
            self._grid.setColumnStretch(row, 0)
        for view, row, column in placement:
            # Ignore the views' size hints so equal stretch means equal cells (the 3D widget
            # asks for more than the slice views and would otherwise squeeze them).
            view.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
            self._grid.addWidget(view, row, column)
            self._grid.setRowStretch(row, 1)
            self._grid.setColumnStretch(column, 1)
            view.show()
        self.layout_name = name
        self.layout_combo.setCurrentText(name)
        settings().setValue("layout", name)

    def _toggle_maximized(self, view: SliceView) -> None:
        alone = view.orientation.name.capitalize()
        self.set_layout("2 x 2" if self.layout_name == alone else alone)

    def _planes_toggled(self, visible: bool) -> None:
        self.view3d.set_planes_visible(visible)
        self._update_3d_overlays()

    def _update_clipping(self) -> None:
        planes = {}
        for view in self.slice_views():
            name = view.orientation.name
            if self.clip_actions[name].isChecked() and view.plane() is not None:
                planes[name] = (view.plane().origin, np.asarray(view.orientation.normal, float))
        self.view3d.set_clipping(planes)

    def _update_3d_overlays(self) -> None:
        if self.scene.volume is None:
            return
        self.view3d.set_cursor(self.scene.cursor)
        if self.planes_action.isChecked():
            self.view3d.set_slice_planes(
                {
                    view.orientation.name: (view.plane(), view.display_image())
                    for view in self.slice_views()
                    if view.plane() is not None
                }
            )
        if any(action.isChecked() for action in self.clip_actions.values()):
            self._update_clipping()

    def _picked_in_3d(self, point: np.ndarray) -> None:
        """Two picks in 3D make a ruler."""
        if self._first_pick is None:
            self._first_pick = point
            self.message.setText("3D ruler: click the second point.")
            return
        ruler = Ruler(self._first_pick, point)
        self._first_pick = None
        self.scene.add_ruler(ruler)
        self.message.setText(f"3D ruler: {ruler.length_mm:.1f} mm")

    def _show_roi(self, stats: dict) -> None:
        if not stats.get("pixels"):
            self.message.setText("The ROI holds no pixel of the image.")
            return
        unit = " HU" if self.scene.volume.meta.get("modality") == "CT" else ""
        self.message.setText(
            f"ROI on the {stats['view']} slice: {stats['area_mm2'] / 100:.2f} cm², "
            f"mean {stats['mean']:.1f}{unit}, SD {stats['std']:.1f}, "
            f"min {stats['min']:.0f}, max {stats['max']:.0f} ({stats['pixels']} pixels)"
        )

    def show_label_surface(self, value: int) -> None:
        """Compute one label's surface in the background and show it in 3D with its volume."""
        labels = self.scene.labels
        if labels is None:
            return
        budget = self.view3d.triangle_budget()  # exports keep every triangle

        def work(*, progress, cancelled):
            surfaces = label_surfaces(
                labels,
                [value],
                max_triangles=budget,
                progress=progress,
                cancelled=cancelled,
            )
            mesh = surfaces.get(value)
            voxel_ml = float(np.prod(labels.volume.spacing)) / 1000
            voxels_ml = float((labels.volume.array == value).sum()) * voxel_ml
            return mesh, (abs(mesh.volume) / 1000 if mesh is not None else 0.0), voxels_ml

        def done(result) -> None:
            mesh, surface_ml, voxels_ml = result
            label = labels.labels.get(value)
            if mesh is None or label is None:
                self.message.setText("That label is empty: there is no surface to show.")
                return
            self._surfaces[value] = mesh
            if self.view3d.mode != "surfaces":
                self.view3d.show_surfaces({value: mesh}, labels.labels)
            else:
                self.view3d.set_surface(value, mesh, label)
            self.message.setText(
                f"{label.name}: {voxels_ml:.1f} mL (voxel count); the surface shown "
                f"({mesh.n_cells} triangles) encloses {surface_ml:.1f} mL"
            )

        self._start("Surface", work, on_done=done)

    def export_label_surface(self, value: int, path: str) -> None:
        """Write one label's surface as STL or VTP (for 3D printing, for meshes twins use)."""
        labels = self.scene.labels
        if labels is None:
            return

        def work(*, progress, cancelled):
            mesh = label_surfaces(labels, [value], progress=progress, cancelled=cancelled).get(
                value
            )
            if mesh is None:
                raise MeditwinError("That label is empty: there is no surface to export.")
            mesh.save(path)
            return mesh

        self._start(
            "Exporting surface",
            work,
            on_done=lambda mesh: self.message.setText(f"Saved {path} ({mesh.n_cells} triangles)"),
        )

    def _restore_settings(self) -> None:
        stored = settings()
        self.set_layout(str(stored.value("layout", "2 x 2")))
        radius = float(stored.value("brush_radius_mm", self.scene.brush_radius_mm))
        self.segments.brush_radius.setValue(radius)
        self.planes_action.setChecked(str(stored.value("planes_in_3d", "false")) == "true")

    def _save_settings(self) -> None:
        stored = settings()
        stored.setValue("layout", self.layout_name)
        stored.setValue("brush_radius_mm", self.scene.brush_radius_mm)
        stored.setValue("planes_in_3d", "true" if self.planes_action.isChecked() else "false")
        modality = self.scene.volume.meta.get("modality", "") if self.scene.volume else ""
        if modality:
            stored.setValue(f"window_preset/{modality}", self.window_presets.currentText())
            stored.setValue(f"render_mode/{modality}", self.render_mode.currentText())
        stored.sync()

    # -- cases, twins, report ----------------------------------------------------------------
    def cases_save(self) -> None:
        """Save the open case to the local library."""
        if self.cases.case is None:
            self.message.setText("There is no case to save: open a series first.")
            return
        self.cases.save()

    def _ask_case(self) -> None:
        from PySide6.QtWidgets import QInputDialog

        cases = self.cases.library.cases()
        if not cases:
            QMessageBox.information(self, "Open case", "The case library is empty.")
            return
        labels = [f"{c.name}  [{c.patient_id}]  {c.modified}" for c in cases]
        choice, ok = QInputDialog.getItem(self, "Open case", "Case:", labels, 0, False)
        if ok:
            self.cases.open(cases[labels.index(choice)].id)

    def _case_opened(self, case) -> None:
        if case.image is not None and case.image is not self.scene.volume:
            self._set_volume(case.image)
            self._describe(case.image, case.image_reference.get("description", case.name), 1)
            self.set_render_mode(self._default_volume_preset(case.image))
        elif case.image is None and self.scene.volume is not None:
            self._surfaces = {}
            self.scene.set_volume(None)
            self.view3d.clear()
            self.status.set_warnings([])
        if case.labels is not None and case.labels is not self.scene.labels:
            self.scene.set_labels(case.labels)
        if case.image is None:
            self.overview.show_case(case)
            self.centre.setCurrentWidget(self.overview)
        self.clinical.set_case(case)
        self.twin_panel.set_case(case)
        self._runs_changed(self.twin_panel.twin.id if self.twin_panel.twin else "")

    def _clinical_changed(self) -> None:
        self.cases.changed()
        if self.cases.case is not None and self.cases.case.image is None:
            self.overview.show_case(self.cases.case)
        if self.cases.case is not None:
            self.twin_panel.refresh_case(self.cases.case)  # personalise again

    def _labels_changed_for_case(self) -> None:
        case = self.cases.case
        if case is None or (case.labels is None and self.scene.labels is None):
            return  # e.g. the views emptied for a case without images: nothing changed
        if case.labels is not self.scene.labels:
            case.labels = self.scene.labels
        self.cases.changed()
        self.twin_panel.refresh_case(case)

    def _runs_changed(self, twin_id: str) -> None:
        case = self.cases.case
        twin = self.twin_panel.twin
        if case is None or twin is None:
            return
        labels = self.scene.labels
        anatomy = [  # the comparison keeps what lies near each result
            (mesh, labels.labels[v].color)
            for v, mesh in self._surfaces.items()
            if labels is not None
            and v in labels.labels
            and labels.labels[v].name.lower() not in ("body", "skin")
        ]
        self.comparison.set_anatomy(anatomy)
        self.comparison.show_runs(twin, case)
        if case.runs.get(twin.id):
            self.comparison_dock.show()

    def _ask_report(self) -> None:
        case, twin = self.cases.case, self.twin_panel.twin
        if case is None or twin is None or not case.runs.get(twin.id):
            QMessageBox.information(self, "Export report", "Run the scenarios of a twin first.")
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Export report", f"{case.name}.pdf", "PDF (*.pdf)"
        )
        if path:
            self.export_report(Path(path))

    def export_report(self, path: Path, pseudonym: str | None = None) -> None:
        """Write the board report for the open case and twin (in the background)."""
        from meditwin_desktop.core.report import write_report

        case, twin = self.cases.case, self.twin_panel.twin
        snapshot = None
        if self.view3d.isVisible():
            self.view3d.plotter.render()  # frames are drawn when painted: the last may be old
            snapshot = self.view3d.plotter.screenshot(return_img=True)
        self._start(
            "Writing the report",
            lambda *, progress, cancelled: write_report(
                case, twin, path, snapshot=snapshot, pseudonym=pseudonym
            ),
            on_done=lambda _: self.message.setText(f"Report written to {path}"),
        )

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._save_settings()
        self.twin_panel.cancel_all()
        self.twin_runner.shutdown()
        self.cases.save_now()
        self.comparison.close_viewports()
        self.runner.shutdown()
        workers.shutdown()
        self.view3d.close_plotter()
        super().closeEvent(event)
