"""The main window: DICOM browser, 2x2 views (axial, 3D, sagittal, coronal), the panels of
the open case, the comparison, the status bar.

The open case belongs to the Qt-free `core.session.Session`; the window observes it
through `self.cases` (`SessionBridge`). Its work is split by job: opening images
(`window_imaging`), the views (`window_views`), the case on screen (`window_case`).
"""

from __future__ import annotations

import html
import logging
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QActionGroup, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QGridLayout,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from meditwin_desktop import APP_NAME, __version__
from meditwin_desktop.core import i18n
from meditwin_desktop.core.errors import MeditwinError
from meditwin_desktop.core.i18n import N_, tr
from meditwin_desktop.core.imaging.dicom import workers
from meditwin_desktop.core.imaging.slicing import AXIAL, CORONAL, SAGITTAL
from meditwin_desktop.core.paths import data_dir, log_file
from meditwin_desktop.core.registry import discover
from meditwin_desktop.core.runner import Runner
from meditwin_desktop.core.session import Session
from meditwin_desktop.core.store import CaseLibrary, LibraryError
from meditwin_desktop.demo.case import DEMO_CASES
from meditwin_desktop.ui import language
from meditwin_desktop.ui.background import Task, TaskRunner
from meditwin_desktop.ui.board_agenda import install_board_menu, offer_resume
from meditwin_desktop.ui.case_data_panel import CaseDataPanel
from meditwin_desktop.ui.case_dialogs import show_library_problem
from meditwin_desktop.ui.case_overview import CaseOverview
from meditwin_desktop.ui.clinical_panel import ClinicalPanel
from meditwin_desktop.ui.comparison import ComparisonView
from meditwin_desktop.ui.image_measurements import ImageMeasurementList
from meditwin_desktop.ui.pacs_receiver import PacsReceiver, show_pacs_panel, show_send_dialog
from meditwin_desktop.ui.patient_banner import PatientBanner
from meditwin_desktop.ui.patient_panel import PatientPanel
from meditwin_desktop.ui.scene import Scene
from meditwin_desktop.ui.segment_panel import SegmentPanel
from meditwin_desktop.ui.session_bridge import SessionBridge
from meditwin_desktop.ui.slice_view import SliceView
from meditwin_desktop.ui.status import StatusBar
from meditwin_desktop.ui.twin_panel import TwinPanel
from meditwin_desktop.ui.view3d import View3D
from meditwin_desktop.ui.welcome import WelcomePage
from meditwin_desktop.ui.window_case import CaseMixin
from meditwin_desktop.ui.window_followup import FollowUpMixin
from meditwin_desktop.ui.window_imaging import ImagingMixin
from meditwin_desktop.ui.window_studies import StudiesMixin
from meditwin_desktop.ui.window_views import LAYOUTS, ViewsMixin, settings

__all__ = ["LAYOUTS", "MainWindow", "settings"]

log = logging.getLogger(__name__)


def open_library(root: Path | None = None) -> tuple[CaseLibrary | None, LibraryError | None]:
    """The case library, or why it cannot be used (the window then runs without it)."""
    try:
        return CaseLibrary(root), None
    except LibraryError as error:
        log.error("case library unusable: %s", type(error).__name__)
        return None, error
    except OSError as error:  # the data folder itself cannot be made or read
        log.error("data folder unusable: %s", error.strerror)
        text = tr("The data folder cannot be used ({reason}).").format(reason=error.strerror)
        return None, LibraryError(text, None)


class MainWindow(CaseMixin, StudiesMixin, FollowUpMixin, ImagingMixin, ViewsMixin, QMainWindow):
    """The workstation window. All heavy work goes through `self.runner`."""

    ready = Signal()  # the opened series (and its labels, if any) is on screen in all views

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(APP_NAME)
        self.scene = Scene(self)
        self.runner = TaskRunner(parent=self)
        self.timings: dict[str, float] = {}
        self._t0 = time.perf_counter()
        self._known_labels: dict = {}
        self._pending_seg: tuple[str, Path] | None = None  # (series UID, SEG) to import
        self._demo_clinical: dict[str, dict] = {}
        self._volumes: dict = {}
        self._thumbnails: dict[str, np.ndarray] = {}
        self._surfaces: dict = {}
        self._loading: str | None = None  # series UID being loaded
        self._first_pick: np.ndarray | None = None
        library, self.library_error = open_library()
        self.session = Session(library, str(self.library_error or ""))
        self.cases = SessionBridge(self.session, self._start, self)

        self._build_centre()
        self._build_docks()
        self.status = StatusBar(self)
        self.setStatusBar(self.status)
        self.message = self.status.message
        self.cursor_info = self.status.cursor_info
        self._build_actions()
        self._build_view_tool_bar()
        self._build_tool_bar()
        for bar in self.findChildren(QToolBar):
            self.panels_menu.addAction(bar.toggleViewAction())
        self._default_panels = self.saveState()
        self._wire_views()
        self._build_case_wiring()
        self._build_followup()
        self._restore_settings()
        self._show_identity()
        self._wire_welcome()
        self.pacs_receiver = PacsReceiver(self.message.setText)  # C-MOVE arrives here
        self.pacs_receiver.apply()
        if library is None:
            QTimer.singleShot(0, lambda: show_library_problem(self))
        else:  # what killed saves left behind, collected when nobody waits for it
            self._start(
                N_("Tidying the case library"),
                lambda *, progress, cancelled: library.collect_garbage(),
                on_done=lambda _: None,
                quiet=True,
            )
            QTimer.singleShot(0, lambda: offer_resume(self))  # a board meeting left running

    # -- construction ----------------------------------------------------------------
    def _build_centre(self) -> None:
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
        self.welcome = WelcomePage(DEMO_CASES, self)
        self.centre.addWidget(self.welcome)
        self.centre.setCurrentWidget(self.welcome)
        self.banner = PatientBanner(self.session, self)
        holder = QWidget(self)
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.banner)
        column.addWidget(self.centre, stretch=1)
        self.setCentralWidget(holder)
        self.layout_name = "2 x 2"

    def _dock(
        self, title: str, name: str, widget: QWidget, area, scroll: bool = False
    ) -> QDockWidget:
        """A panel; `scroll` lets a tall one scroll rather than make the window taller
        than the screen (the Segmentation panel needs ~530 px: with the comparison open
        the window needed 841 px at 1280 x 800)."""
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        if scroll:
            area_widget = QScrollArea(dock)
            area_widget.setObjectName(f"{name}_scroll")
            area_widget.setWidgetResizable(True)
            area_widget.setFrameShape(QFrame.Shape.NoFrame)
            area_widget.setWidget(widget)
            widget = area_widget
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_docks(self) -> None:
        right = Qt.DockWidgetArea.RightDockWidgetArea
        self.patients = PatientPanel(self)
        self.patients.series_activated.connect(self.open_series)
        self.patients.series_selected.connect(self._request_thumbnail)
        self.patients.volume_activated.connect(self._show_volume)
        dock = self._dock(
            tr("Patients"), "patients_dock", self.patients, Qt.DockWidgetArea.LeftDockWidgetArea
        )
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        dock.setMinimumWidth(280)  # the views keep room on a 1280-pixel screen
        self._build_studies(dock)
        self.segments = SegmentPanel(self.scene, self._start, self)
        self.segments.surface_requested.connect(self.show_label_surface)
        self.segments.surface_export_requested.connect(self.export_label_surface)
        self.segments.import_requested.connect(self.import_label_file)
        self.image_measurements = ImageMeasurementList(self.scene, self.session, self)
        self.segments.tools.addItem(self.image_measurements, tr("Measurements (rulers, ROIs)"))
        self.segmentation_dock = self._dock(
            tr("Segmentation"), "segmentation_dock", self.segments, right, scroll=True
        )
        self.segmentation_dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.segmentation_dock.setMinimumWidth(320)
        self.clinical = ClinicalPanel(self)
        self.clinical_dock = self._dock(tr("Clinical"), "clinical_dock", self.clinical, right)
        self.tabifyDockWidget(self.segmentation_dock, self.clinical_dock)
        self.case_data = CaseDataPanel(self.session, self.cases, self._start, self)
        self.case_data_dock = self._dock(
            tr("Case data"), "case_data_dock", self.case_data, right, scroll=True
        )
        self.tabifyDockWidget(self.clinical_dock, self.case_data_dock)
        self.registry = discover()
        self.twin_runner = Runner()
        self.twin_panel = TwinPanel(self.registry, self.twin_runner, self._start, self)
        self.segments.guard.set_context(lambda: (self.registry.twins.values(), self.cases.case))
        self.twins_dock = self._dock(tr("Twins"), "twins_dock", self.twin_panel, right)
        self.tabifyDockWidget(self.clinical_dock, self.twins_dock)
        self.segmentation_dock.raise_()
        self.comparison = ComparisonView(self)
        self.comparison_dock = self._dock(
            tr("Comparison of scenarios"),
            "comparison_dock",
            self.comparison,
            Qt.DockWidgetArea.BottomDockWidgetArea,
        )
        self.comparison_dock.hide()
        # the right panels keep the window's full height when the comparison opens below:
        # the scenario table beside the results stays readable
        self.setCorner(Qt.Corner.BottomRightCorner, right)

    def _wire_views(self) -> None:
        for view in self.slice_views():
            view.hovered.connect(self._show_hover)
            view.roi_measured.connect(self._show_roi)
            view.roi_measured.connect(self.image_measurements.add_roi)
            view.add_layer(self.image_measurements.layer)
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
        self._attach_planning()
        self.cases.replaced.connect(lambda _: self.image_measurements.show_study())
        self.cases.replaced.connect(lambda _: self.segments.guard.refresh())
        self.cases.changed.connect(lambda _: self.segments.guard.refresh())
        self.cases.changed.connect(
            lambda what: what == "studies" and self.image_measurements.show_study()
        )

    def _action(self, menu, text: str, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_actions(self) -> None:
        file_menu = self.menuBar().addMenu(tr("&File"))
        self._action(
            file_menu, tr("&Open DICOM folder…"), self._ask_folder, QKeySequence.StandardKey.Open
        )
        self._action(file_menu, tr("Open DICOM&DIR…"), self._ask_dicomdir)
        self._action(file_menu, tr("Open &demo patient"), self.open_demo)
        demos = file_menu.addMenu(tr("Open demo &case"))
        for name, spec in DEMO_CASES.items():
            self._action(demos, tr(spec["title"]), lambda _=False, n=name: self.open_demo_case(n))
        file_menu.addSeparator()
        self._action(file_menu, tr("&Save case"), self.cases_save, QKeySequence.StandardKey.Save)
        self._action(file_menu, tr("Open &case…"), self._ask_case)
        self._action(file_menu, tr("&Import case file or photograph…"), self._ask_import_case)
        self._action(file_menu, tr("Export case &file…"), self._ask_export_case)
        self._action(file_menu, tr("Case &history…"), self._ask_history)
        self._action(file_menu, tr("Export &report (PDF)…"), self._ask_report)
        self._action(file_menu, tr("Export de-&identified case…"), self._ask_deidentified_export)
        file_menu.addSeparator()
        self._action(file_menu, tr("&Query PACS…"), lambda: show_pacs_panel(self))
        self._action(file_menu, tr("Send to PAC&S…"), lambda: show_send_dialog(self))
        file_menu.addSeparator()
        self._action(file_menu, tr("Import NIfTI &image…"), self._ask_nifti_volume)
        self._action(
            file_menu, tr("Import &labels (NIfTI, NRRD, DICOM SEG)…"), self._ask_nifti_labels
        )
        self._action(file_menu, tr("&Export image as NIfTI…"), self._ask_export_volume)
        self._action(file_menu, tr("Export labels as NIf&TI…"), self._ask_export_labels)
        file_menu.addSeparator()
        self._action(file_menu, tr("&Quit"), self.close, QKeySequence.StandardKey.Quit)

        view_menu = self.menuBar().addMenu(tr("&View"))
        view_menu.setObjectName("view_menu")
        self.overlay_action = QAction(tr("Show &labels on slices"), self, checkable=True)
        self.overlay_action.setChecked(True)
        self.overlay_action.setShortcut("L")
        self.overlay_action.toggled.connect(self.scene.set_overlay_visible)
        view_menu.addAction(self.overlay_action)
        self.pseudonym_action = QAction(
            tr("&Hide the patient's identity (shared screen)…"), self, checkable=True
        )
        self.pseudonym_action.triggered.connect(self._ask_pseudonym_display)
        view_menu.addAction(self.pseudonym_action)
        self._action(view_menu, tr("&Follow-up comparison"), self.show_followup, "Ctrl+Shift+F")
        view_menu.addSeparator()
        self.panels_menu = view_menu.addMenu(tr("&Panels"))
        for dock in self._docks():
            self.panels_menu.addAction(dock.toggleViewAction())
        self.panels_menu.addSeparator()
        self._action(view_menu, tr("&Restore all panels"), self.restore_panels)
        view_menu.addSeparator()
        self._build_language_menu(view_menu)
        install_board_menu(self)

        help_menu = self.menuBar().addMenu(tr("&Help"))
        help_menu.setObjectName("help_menu")
        about = self._action(help_menu, tr("&About {app}").format(app=APP_NAME), self._about)
        about.setObjectName("about_action")
        self._action(
            help_menu,
            tr("Open &log folder"),
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(log_file().parent))),
        )

    def _build_language_menu(self, view_menu) -> None:
        """View > Language: follow the system, English or French, for the next start
        (widgets are built in one language)."""
        # "Language / Langue": found whichever language the window is in
        self.language_menu = view_menu.addMenu(tr("Lan&guage"))
        self.language_menu.setObjectName("language_menu")
        group = QActionGroup(self)
        group.setExclusive(True)
        self.language_actions: dict[str, QAction] = {}
        chosen = language.chosen()
        names = {"system": tr("Follow the system"), **i18n.LANGUAGES}  # languages as themselves
        for code in language.CHOICES:
            action = QAction(names.get(code, code), self, checkable=True)
            action.setObjectName(f"language_{code}")
            action.setData(code)
            action.setChecked(code == chosen)
            action.triggered.connect(lambda _=False, c=code: self.choose_language(c))
            group.addAction(action)
            self.language_menu.addAction(action)
            self.language_actions[code] = action

    def choose_language(self, code: str) -> None:
        """Keep `code` ("system", "en", "fr") for the next start, and say so."""
        language.choose(code)
        for other, action in self.language_actions.items():
            action.setChecked(other == code)
        box = QMessageBox(
            QMessageBox.Icon.Information,
            tr("Language"),
            tr("The language will change when MEDITWIN restarts."),
            parent=self,
        )
        box.setObjectName("language_changed")
        box.open()

    def _wire_welcome(self) -> None:
        self.welcome.open_dicom.connect(self._ask_folder)
        self.welcome.open_dicomdir.connect(self._ask_dicomdir)
        self.welcome.import_case.connect(self._ask_import_case)
        self.welcome.case_chosen.connect(self.open_case)
        self.welcome.demo_chosen.connect(self.open_demo_case)
        # a case saved while the page is up (the one just closed) joins the recent list
        self.cases.saved.connect(
            lambda _: self.show_welcome() if self.centre.currentWidget() is self.welcome else None
        )
        self.show_welcome()

    def show_welcome(self) -> None:
        """The welcome page in the centre, with the library's recent cases."""
        library = self.session.library
        if library is None:
            self.welcome.show_recent(
                None, tr("The case library cannot be used: nothing is saved.")
            )
        else:
            try:
                self.welcome.show_recent(library.cases())
            except (LibraryError, OSError):
                log.exception("recent cases unreadable")
                self.welcome.show_recent(None, tr("The list of saved cases cannot be read."))
        self.centre.setCurrentWidget(self.welcome)

    def _docks(self) -> list[QDockWidget]:
        return [dock for dock in self.findChildren(QDockWidget) if dock.parent() is self]

    def restore_panels(self) -> None:
        """Every panel back where it starts (a closed Twins tab, a floating panel...)."""
        self.restoreState(self._default_panels)
        for dock in self._docks():
            if dock is not self.comparison_dock:  # it opens with results, as at start
                dock.show()
        self.segmentation_dock.raise_()

    def about_text(self) -> str:
        """Help > About: the version, the installed twins, the language, where the data are."""
        library = self.session.library
        places = (
            (tr("Case library"), library.root if library is not None else data_dir() / "cases"),
            (tr("Log file"), log_file()),
            (tr("Settings"), data_dir() / "settings.ini"),
        )
        twins = "".join(
            f"<li>{html.escape(tr(twin.title))} — "
            + html.escape(tr("version {version}").format(version=twin.version))
            + "</li>"
            for twin in sorted(self.registry.twins.values(), key=lambda t: tr(t.title).lower())
        )
        code = i18n.language()
        intro = tr("Clinical decision support with virtual twins.")
        heading = tr("Installed twins")
        none = tr("No twin is installed.")
        in_use = tr("Language: {language}").format(language=i18n.LANGUAGES.get(code, code))
        parts = [
            f"<b>{html.escape(APP_NAME)} {html.escape(__version__)}</b>",
            f"<p>{html.escape(intro)}</p>",
            f"<p><b>{html.escape(heading)}</b></p>",
            f"<ul>{twins}</ul>" if twins else f"<p>{html.escape(none)}</p>",
            f"<p>{html.escape(in_use)}</p>",
            "<p>"
            + "<br>".join(
                html.escape(tr("{what}: {path}").format(what=what, path=path))
                for what, path in places
            )
            + "</p>",
        ]
        return "".join(parts)

    def _about(self) -> None:
        QMessageBox.about(self, tr("About {app}").format(app=APP_NAME), self.about_text())

    def use_library(self, library: CaseLibrary) -> None:
        """Work with this (restored or new) library from now on."""
        self.library_error = None
        self.session.library, self.session.library_problem = library, ""
        self._show_identity()
        self.message.setText(
            tr("Case library ready ({count} cases).").format(count=len(library.cases()))
        )

    # -- background work -----------------------------------------------------------
    def _elapsed(self) -> float:
        return time.perf_counter() - self._t0

    def _start(
        self,
        name: str,
        fn,
        *args,
        on_done,
        on_partial=None,
        on_failed=None,
        on_cancelled=None,
        quiet=False,
        **kwargs,
    ) -> Task:
        """Run `fn` in the background; `quiet` tasks neither take the status bar nor pop up.
        Every handler is connected before the task starts (one that fails at once is never
        missed) and queued: it runs after `_start` has returned, even when the work ended
        at once, so a caller may keep the returned task before its handlers run."""
        queued = Qt.ConnectionType.QueuedConnection
        task = self.runner.task(name, fn, *args, **kwargs)
        task.succeeded.connect(task.guarded(on_done), queued)
        if on_partial is not None:
            task.partial.connect(task.guarded(on_partial), queued)
        if on_failed is not None:
            task.failed.connect(task.guarded(on_failed), queued)
        if on_cancelled is not None:
            task.cancelled_.connect(task.guarded(on_cancelled), queued)
        if not quiet:
            task.failed.connect(
                task.guarded(lambda error, n=name: self._on_failed(n, error)), queued
            )
            task.cancelled_.connect(
                lambda n=name: self.message.setText(tr("{name}: cancelled").format(name=tr(n)))
            )
            self.status.track(task)
        return self.runner.start(task)

    def _on_failed(self, name: str, error: BaseException) -> None:
        text = (
            str(error)
            if isinstance(error, MeditwinError)
            else tr("{error_type}: {error}\n\nDetails are in the log: {path}").format(
                error_type=type(error).__name__, error=error, path=log_file()
            )
        )
        title = tr("{name} failed").format(name=tr(name))  # task names: N_ where started
        self.message.setText(title)
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=self)
        box.setObjectName("error_dialog")
        box.open()

    def cancel_current_task(self) -> None:
        """Cancel the work shown in the status bar."""
        self.status.cancel()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._freshness_timer.stop()
        self._save_settings()
        self.twin_panel.cancel_all()
        self.twin_runner.shutdown()
        self.twin_panel.shutdown()  # a cluster connection, if any
        if self._labels_timer.isActive():
            self._labels_timer.stop()
            self._labels_changed_for_case()
        self.pacs_receiver.stop()
        self.cases.save_now()
        self.cases.detach()
        self.comparison.close_viewports()
        self.runner.shutdown()
        workers.shutdown()
        self.view3d.close_plotter()
        super().closeEvent(event)
