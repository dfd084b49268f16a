"""The main window: patient panel, 2x2 views (axial, 3D, sagittal, coronal), status bar."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QGridLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QToolButton,
    QWidget,
)

from meditwin_desktop import APP_NAME, __version__
from meditwin_desktop.core.errors import MeditwinError
from meditwin_desktop.core.imaging.dicom import ScanResult, SeriesInfo, load_series, scan
from meditwin_desktop.core.imaging.nifti import read_label_map
from meditwin_desktop.core.imaging.slicing import AXIAL, CORONAL, SAGITTAL
from meditwin_desktop.core.imaging.surfaces import label_surfaces
from meditwin_desktop.core.imaging.volume import LabelMap, Volume
from meditwin_desktop.core.paths import log_file
from meditwin_desktop.demo import DemoPatient, ensure_demo
from meditwin_desktop.ui.background import Task, TaskRunner
from meditwin_desktop.ui.patient_panel import PatientPanel
from meditwin_desktop.ui.resources import preset
from meditwin_desktop.ui.scene import Scene
from meditwin_desktop.ui.slice_view import SliceView
from meditwin_desktop.ui.view3d import View3D

log = logging.getLogger(__name__)

_SURFACES_MODE = "Label surfaces"


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
        self._surfaces: dict = {}
        self._current_task: Task | None = None

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
        dock = QDockWidget("Patients", self)
        dock.setObjectName("patients_dock")
        dock.setWidget(self.patients)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        dock.setMinimumWidth(340)
        self.addDockWidget(self._left(), dock)

        self._build_status_bar()
        self._build_actions()
        for view in (self.axial, self.coronal, self.sagittal):
            view.hovered.connect(self._show_hover)
        self.scene.cursor_changed.connect(lambda: self.view3d.set_cursor(self.scene.cursor))
        self.view3d.rendered.connect(self._on_3d_rendered)

    @staticmethod
    def _left():
        from PySide6.QtCore import Qt

        return Qt.DockWidgetArea.LeftDockWidgetArea

    # -- chrome ------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.message = QLabel("Ready")
        self.message.setObjectName("status_message")
        self.activity = QLabel("")
        self.activity.setObjectName("activity")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(False)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.clicked.connect(self.cancel_current_task)
        self.cursor_info = QLabel("")
        self.cursor_info.setObjectName("cursor_info")
        bar.addWidget(self.message, 1)
        bar.addPermanentWidget(self.cursor_info)
        bar.addPermanentWidget(self.activity)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)
        self.activity.hide()
        self.progress.hide()
        self.cancel_button.hide()

    def _build_actions(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        open_folder = QAction("&Open DICOM folder…", self)
        open_folder.setShortcut(QKeySequence.StandardKey.Open)
        open_folder.triggered.connect(self._ask_folder)
        file_menu.addAction(open_folder)
        open_demo = QAction("Open &demo patient", self)
        open_demo.triggered.connect(self.open_demo)
        file_menu.addAction(open_demo)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        view_menu = self.menuBar().addMenu("&View")
        self.overlay_action = QAction("Show &labels on slices", self, checkable=True)
        self.overlay_action.setChecked(True)
        self.overlay_action.setShortcut("L")
        self.overlay_action.toggled.connect(self.scene.set_overlay_visible)
        view_menu.addAction(self.overlay_action)

        help_menu = self.menuBar().addMenu("&Help")
        about = QAction(f"&About {APP_NAME}", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)
        logs = QAction("Open &log folder", self)
        logs.triggered.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(log_file().parent)))
        )
        help_menu.addAction(logs)

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
    def _start(self, name: str, fn, *args, on_done, **kwargs) -> Task:
        task = self.runner.task(name, fn, *args, **kwargs)
        self._current_task = task
        self.activity.setText(f"{name}…")
        self.activity.show()
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        task.progressed.connect(self._on_progress)
        task.succeeded.connect(on_done)
        task.failed.connect(lambda error, n=name: self._on_failed(n, error))
        task.cancelled_.connect(lambda n=name: self.message.setText(f"{n}: cancelled"))
        task.finished.connect(lambda t=task: self._on_finished(t))
        return self.runner.start(task)

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.activity.setText(message)

    def _on_finished(self, task: Task) -> None:
        if task is self._current_task:
            self._current_task = None
            self.activity.hide()
            self.progress.hide()
            self.cancel_button.hide()

    def _on_failed(self, name: str, error: BaseException) -> None:
        text = str(error) if isinstance(error, MeditwinError) else (
            f"{type(error).__name__}: {error}\n\nDetails are in the log: {log_file()}"
        )  # fmt: skip
        self.message.setText(f"{name} failed")
        box = QMessageBox(QMessageBox.Icon.Warning, f"{name} failed", text, parent=self)
        box.setObjectName("error_dialog")
        box.open()

    def cancel_current_task(self) -> None:
        """Cancel the work shown in the status bar."""
        if self._current_task is not None:
            self._current_task.cancel()

    # -- opening data ----------------------------------------------------------------
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

    def open_folder(self, folder: Path, select: str | None = None) -> None:
        """Scan a folder in the background, list it, and open `select` (or a lone series)."""

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
                self.message.setText(f"No DICOM series found in {folder}")
            else:
                self.message.setText("Double-click a series to open it")

        self._start("Scanning DICOM", scan, [folder], on_done=done)

    def open_series(self, series: SeriesInfo) -> None:
        """Load a series in the background and show it."""

        def done(volumes: list[Volume]) -> None:
            self.timings["loaded"] = time.perf_counter() - self._t0
            volume = volumes[0]
            self.scene.set_volume(volume)
            self.window_presets.setCurrentIndex(0)
            warnings = volume.meta.get("warnings", [])
            text = f"{series.description}: {' x '.join(map(str, volume.shape[::-1]))} voxels"
            self.message.setText(text + (f" — {warnings[0]}" if warnings else ""))
            labels_path = self._known_labels.get(series.uid)
            if labels_path is not None:
                self._load_labels(labels_path, volume)
            else:
                self.set_render_mode(self._default_volume_preset(volume))

        self._start(f"Loading {series.description or 'series'}", load_series, series.files,
                    on_done=done)  # fmt: skip

    def _load_labels(self, path: Path, volume: Volume) -> None:
        hidden = set(self.scene.hidden_labels)

        def work(*, progress, cancelled) -> tuple[LabelMap, dict]:
            label_map = read_label_map(path)
            if not label_map.volume.same_grid(volume):
                raise MeditwinError(f"The labels in {path.name} are not on this series' grid.")
            shown = [v for v, lab in label_map.labels.items() if lab.name not in hidden]
            surfaces = label_surfaces(label_map, shown, progress=progress, cancelled=cancelled)
            return label_map, surfaces

        def done(result: tuple[LabelMap, dict]) -> None:
            label_map, self._surfaces = result
            self.timings["surfaces"] = time.perf_counter() - self._t0
            self.scene.set_labels(label_map)
            self.message.setText(f"{self.message.text()}, {len(label_map.labels)} labels")
            if self.render_mode.findText(_SURFACES_MODE) < 0:
                self.render_mode.insertItem(0, _SURFACES_MODE)
            self.set_render_mode(_SURFACES_MODE)

        self._start("Loading labels and surfaces", work, on_done=done)

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
            self.scene.set_window(*self.scene.volume.meta.get("window", self.scene.window))

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
        self.view3d.close_plotter()
        super().closeEvent(event)
