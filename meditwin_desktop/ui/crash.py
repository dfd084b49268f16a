"""Unhandled exceptions: logged to the user's log file and shown in a dialog, never silent."""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QApplication, QMessageBox

from meditwin_desktop.core.errors import MeditwinError
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.paths import log_file

log = logging.getLogger("meditwin.crash")


class ExceptionReporter(QObject):
    """Installs sys/threading excepthooks; shows one dialog at a time in the GUI thread."""

    caught = Signal(str, str)  # (message for the user, traceback)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.dialog: QMessageBox | None = None
        self.caught.connect(self._show, Qt.ConnectionType.QueuedConnection)
        self.last_message: str | None = None

    def install(self) -> None:
        """Route unhandled exceptions (any thread) to this reporter."""
        sys.excepthook = self.handle
        threading.excepthook = lambda a: self.handle(a.exc_type, a.exc_value, a.exc_traceback)

    def handle(
        self,
        exc_type: type[BaseException],
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Log the exception and ask the GUI thread to show it."""
        if exc_type is KeyboardInterrupt:
            QApplication.quit()
            return
        detail = "".join(traceback.format_exception(exc_type, exc, tb))
        log.error("unhandled exception\n%s", detail)
        if isinstance(exc, MeditwinError):
            message = str(exc)
        else:
            message = tr(
                "An unexpected error occurred: {error_type}: {error}\n\n"
                "Your saved work is not affected. Details were written to:\n{path}"
            ).format(error_type=exc_type.__name__, error=exc, path=log_file())
        self.last_message = message
        self.caught.emit(message, detail)

    @Slot(str, str)
    def _show(self, message: str, detail: str) -> None:
        if self.dialog is not None:
            return  # one dialog at a time; everything is in the log
        box = QMessageBox(QApplication.activeWindow())
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle(tr("MEDITWIN Desktop: error"))
        box.setText(message)
        box.setDetailedText(detail)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(self._closed)
        self.dialog = box
        box.open()  # window-modal without a nested event loop

    @Slot()
    def _closed(self) -> None:
        self.dialog = None
