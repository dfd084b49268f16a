"""Start the GUI: application object, theme, crash reporting, main window."""

from __future__ import annotations

import gc
import logging
import sys
import threading
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from meditwin_desktop import APP_NAME, __version__
from meditwin_desktop.core.imaging.dicom import workers
from meditwin_desktop.core.logs import PrivacyFilter, setup_logging
from meditwin_desktop.core.paths import private_files
from meditwin_desktop.ui.crash import ExceptionReporter
from meditwin_desktop.ui.main_window import MainWindow
from meditwin_desktop.ui.resources import icon_path
from meditwin_desktop.ui.theme import apply_dark_theme

log = logging.getLogger(__name__)


def create_app(argv: list[str] | None = None, install_exception_hook: bool = True) -> QApplication:
    """The QApplication, themed, with unhandled exceptions reported (reuses an existing one)."""
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName("MEDITWIN")
    app.setWindowIcon(QIcon(icon_path("meditwin.svg")))
    apply_dark_theme(app)
    if install_exception_hook:
        ExceptionReporter(app).install()
    return app


def show_main_window(window: MainWindow, app: QApplication) -> None:
    """Size the window to most of the screen and show it."""
    screen = app.primaryScreen().availableGeometry()
    window.resize(int(screen.width() * 0.92), int(screen.height() * 0.92))
    window.move(screen.center() - window.rect().center())
    window.show()


def freeze_startup_objects() -> None:
    """Exempt what start-up created (modules, classes, widgets: ~320 k objects) from
    garbage collection. A full collection walks every tracked object and held the GUI
    thread 150-200 ms each time; frozen, later ones walk only newer objects."""
    gc.collect()
    gc.freeze()


def run_gui(
    demo: str | None = None, path: Path | None = None, exit_after_render: bool = False
) -> int:
    """Run the desktop application until its window closes; return the exit code."""
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
    threading.Thread(target=workers.warm_up, name="warm-up", daemon=True).start()
    window = MainWindow()
    show_main_window(window, app)
    freeze_startup_objects()
    if exit_after_render:
        window.ready.connect(lambda: _report_and_quit(window, app, started))
    if demo:
        QTimer.singleShot(0, lambda: window.open_demo_case(demo))
    elif path is not None:
        QTimer.singleShot(0, lambda: window.open_folder(path))
    return app.exec()


def _report_and_quit(window: MainWindow, app: QApplication, started: float) -> None:
    timings = " ".join(f"{k}={v:.3f}" for k, v in window.timings.items())
    print(f"MEDITWIN_RENDERED since_main={time.perf_counter() - started:.3f} {timings}", flush=True)
    QTimer.singleShot(0, window.close)
