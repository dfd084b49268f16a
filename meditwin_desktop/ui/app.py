"""Start the GUI: application object, theme, crash reporting, main window."""

from __future__ import annotations

import gc
import logging
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from meditwin_desktop import APP_NAME, __version__
from meditwin_desktop.core.logs import PrivacyFilter, setup_logging
from meditwin_desktop.core.paths import private_files
from meditwin_desktop.ui.crash import ExceptionReporter
from meditwin_desktop.ui.language import apply_language
from meditwin_desktop.ui.launcher import Launcher, main_window_geometry
from meditwin_desktop.ui.resources import icon_path
from meditwin_desktop.ui.theme import apply_dark_theme
from meditwin_desktop.ui.wheel_guard import install_wheel_guard

if TYPE_CHECKING:  # the main window's modules load behind the start-up window
    from meditwin_desktop.ui.main_window import MainWindow

log = logging.getLogger(__name__)


def create_app(argv: list[str] | None = None, install_exception_hook: bool = True) -> QApplication:
    """The QApplication, themed, with unhandled exceptions reported (reuses an existing one)."""
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName("MEDITWIN")
    app.setWindowIcon(QIcon(icon_path("meditwin.svg")))
    apply_language(app)
    apply_dark_theme(app)
    install_wheel_guard(app)
    if install_exception_hook:
        ExceptionReporter(app).install()
    return app


def show_main_window(window: MainWindow, app: QApplication) -> None:
    """Size the window to most of the screen and show it."""
    window.setGeometry(main_window_geometry(app))
    window.show()


def freeze_startup_objects() -> None:
    """Exempt what start-up created (modules, classes, widgets: ~320 k objects) from
    garbage collection. A full collection walks every tracked object and held the GUI
    thread 150-200 ms each time; frozen, later ones walk only newer objects. No collection
    first (it took 0.3 s on the way to the first CT slice): start-up leaves little garbage."""
    gc.freeze()


def run_gui(
    demo: str | None = None, path: Path | None = None, exit_after_render: bool = False
) -> int:
    """Run the desktop application until its window closes; return the exit code.

    A start-up window is on screen within about half a second; the main window replaces
    it once its modules are imported (`ui.launcher`)."""
    started = time.perf_counter()
    private_files()
    try:
        setup_logging()
    except OSError as error:  # a read-only or missing data folder: run, log to stderr only
        logging.basicConfig(level=logging.WARNING)
        for handler in logging.getLogger().handlers:
            handler.addFilter(PrivacyFilter())
        log.warning("no log file (%s)", error.strerror)
    log.info("%s %s starting", APP_NAME, __version__)
    app = create_app()
    if demo and _demo_writes_files(demo):  # a first launch writes the demo files meanwhile
        threading.Thread(target=_prepare_demo, name="demo", daemon=True).start()

    def ready(window: MainWindow) -> None:
        freeze_startup_objects()
        if exit_after_render:
            _mark_first_slice(window, started)
            window.ready.connect(lambda: _report_and_quit(window, started))
        if demo:
            QTimer.singleShot(0, lambda: window.open_demo_case(demo))
        elif path is not None:
            QTimer.singleShot(0, lambda: window.open_folder(path))

    launcher = Launcher(app, ready)
    if exit_after_render:
        _mark_startup_window(launcher, started)
    launcher.start()
    return app.exec()


def _demo_writes_files(name: str) -> bool:
    from meditwin_desktop.demo.case import DEMO_CASES

    spec = DEMO_CASES.get(name, {})
    return bool(spec.get("image") or spec.get("recordings"))


def _prepare_demo() -> None:
    from meditwin_desktop.demo import ensure_demo

    try:
        ensure_demo()
    except Exception:  # the main window retries and reports it
        log.exception("demo not prepared in the background")


class _FirstPaint(QObject):
    """Prints `marker` and seconds since `started` the first time `widget` paints while
    `condition()` holds (benchmarks: launch-to-window, launch-to-first-CT-frame)."""

    def __init__(self, widget, marker: str, started: float, condition=lambda: True) -> None:
        super().__init__(widget)
        self.marker, self.started, self.condition = marker, started, condition
        widget.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Paint and self.condition():
            print(f"{self.marker} since_main={time.perf_counter() - self.started:.3f}", flush=True)
            watched.removeEventFilter(self)
        return False


def _mark_startup_window(launcher: Launcher, started: float) -> None:
    _FirstPaint(launcher.startup, "MEDITWIN_WINDOW", started)


def _mark_first_slice(window: MainWindow, started: float) -> None:
    _FirstPaint(
        window.axial, "MEDITWIN_FIRST_SLICE", started, lambda: window.scene.volume is not None
    )


def _report_and_quit(window: MainWindow, started: float) -> None:
    timings = " ".join(f"{k}={v:.3f}" for k, v in window.timings.items())
    print(f"MEDITWIN_RENDERED since_main={time.perf_counter() - started:.3f} {timings}", flush=True)
    QTimer.singleShot(0, window.close)
