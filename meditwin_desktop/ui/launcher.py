"""Start-up: a window on screen at once, the heavy toolkits imported behind it.

The main window needs VTK, pyvista, matplotlib, scipy and pydicom, whose imports take
~3 s on a 2-core machine. The launcher shows a start-up window where the main window
will be, saying what is loading, imports `ui.main_window` in a thread meanwhile (the
event loop keeps the window painted and movable), then builds the main window in its
place. Only PySide6 and light modules are imported before the first window.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QRect, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QLabel, QProgressBar, QVBoxLayout, QWidget

from meditwin_desktop import APP_NAME, __version__
from meditwin_desktop.core.i18n import N_, tr

if TYPE_CHECKING:
    from meditwin_desktop.ui.main_window import MainWindow

log = logging.getLogger(__name__)

# What the main window needs, heaviest first, with what the start-up window says meanwhile.
STEPS: tuple[tuple[str, str], ...] = (
    ("numpy", N_("numerics")),
    ("scipy.ndimage", N_("image processing")),
    ("pydicom", N_("the DICOM reader")),
    ("matplotlib.figure", N_("charts")),
    ("pyvista", N_("3D geometry")),
    ("pyvistaqt", N_("the 3D view")),
    ("meditwin_desktop.core.registry", N_("the twins")),
    ("meditwin_desktop.ui.main_window", N_("the workstation")),
)


def main_window_geometry(app: QApplication) -> QRect:
    """Most of the primary screen, centred."""
    screen = app.primaryScreen().availableGeometry()
    rect = QRect(0, 0, int(screen.width() * 0.92), int(screen.height() * 0.92))
    rect.moveCenter(screen.center())
    return rect


class StartupWindow(QWidget):
    """Where the main window will be: the name, the version and what is loading."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(APP_NAME)
        self.setObjectName("startup_window")
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        title = QLabel(APP_NAME)
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 2.2)
        title.setFont(font)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(title)
        version = QLabel(
            tr("version {version} · clinical decision support with virtual twins").format(
                version=__version__
            )
        )
        version.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(version)
        self.step = QLabel(tr("Starting…"))
        self.step.setObjectName("startup_step")
        self.step.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addSpacing(24)
        layout.addWidget(self.step)
        self.progress = QProgressBar()
        self.progress.setRange(0, len(STEPS))
        self.progress.setTextVisible(False)
        self.progress.setFixedWidth(360)
        layout.addWidget(self.progress, alignment=Qt.AlignmentFlag.AlignCenter)
        layout.addStretch(3)
        self.painted = False

    def show_step(self, done: int, what: str) -> None:
        """`what` is one of the STEPS' texts (English, translated here)."""
        self.progress.setValue(done)
        self.step.setText(tr("Loading {what}…").format(what=tr(what)))

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().paintEvent(event)
        self.painted = True


class Launcher(QObject):
    """Shows the start-up window, imports the main window's modules in a thread, then
    builds the main window in its place and calls `on_ready(window)`.

    `failed(message)` when an import fails (a broken installation): the start-up window
    then says so instead of closing."""

    _stepped = Signal(int, str)
    _imported = Signal()
    failed = Signal(str)

    def __init__(
        self, app: QApplication, on_ready: Callable[[MainWindow], None], parent=None
    ) -> None:
        super().__init__(parent)
        self.app = app
        self.on_ready = on_ready
        self.window: MainWindow | None = None
        self.started = time.perf_counter()
        self.startup = StartupWindow()
        self._stepped.connect(self.startup.show_step)
        self._imported.connect(self._build)
        self.failed.connect(self._failed)

    def start(self) -> None:
        self.startup.setGeometry(main_window_geometry(self.app))
        self.startup.show()
        threading.Thread(target=self._import, name="startup-imports", daemon=True).start()

    def _import(self) -> None:
        try:
            for done, (module, what) in enumerate(STEPS):
                self._stepped.emit(done, what)
                importlib.import_module(module)
        except Exception as error:  # a broken installation: say which part is missing
            log.exception("start-up import failed")
            self.failed.emit(f"{type(error).__name__}: {error}")
            return
        self._imported.emit()

    def _build(self) -> None:
        from meditwin_desktop.ui.main_window import MainWindow  # imported by the thread

        self.startup.show_step(len(STEPS), STEPS[-1][1])
        window = MainWindow()
        window.setGeometry(self.startup.geometry())
        window.show()
        self.window = window
        self.startup.close()
        self.startup.deleteLater()
        log.info("main window built %.2f s after the launcher", time.perf_counter() - self.started)
        self.on_ready(window)

    def _failed(self, message: str) -> None:
        self.startup.progress.hide()
        self.startup.step.setText(
            tr(
                "{app} cannot start: a part of the installation is missing or damaged "
                "({message}). Reinstall the application; details are in the log."
            ).format(app=APP_NAME, message=message)
        )
        self.startup.step.setWordWrap(True)
