"""The main window's PACS hook: our storage SCP while the window is open (it receives the
studies a PACS sends us by C-MOVE), and the menu entries' launchers. The SCP starts when
receiving is on and at least one node is configured, restarts when the settings change,
stops with the window; a port already in use is a message in the status bar, never a
crash. The networking modules are imported on first use, not with the window."""

from __future__ import annotations

import logging
from collections.abc import Callable

from meditwin_desktop.core.errors import MeditwinError
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.paths import data_dir

log = logging.getLogger(__name__)


class PacsReceiver:
    """Owns the `StorageServer` (or none); `say(text)` shows a message to the user."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self._say = say
        self.server = None  # core.pacs.StorageServer while running
        self.problem = ""  # why it is not running although it should (shown once)

    @property
    def running(self) -> bool:
        """Whether our storage SCP listens now."""
        return self.server is not None and bool(self.server.running)

    def apply(self, settings=None) -> None:
        """(Re)start or stop the storage SCP for `settings` (read from disk when None)."""
        self.stop()
        self.problem = ""
        if settings is None:
            try:
                configured = (data_dir() / "pacs.json").is_file()
            except OSError:  # an unusable data folder: the window says so; no PACS here
                return
            if not configured:
                return  # no PACS configured: no networking code loaded either
        from meditwin_desktop.core import pacs

        try:
            settings = settings if settings is not None else pacs.load_settings()
        except MeditwinError as error:
            self._fail(tr("PACS settings unreadable: {error}").format(error=error))
            return
        if not (settings.local.receive and settings.nodes):
            return
        server = pacs.StorageServer(settings.local, [node.ae_title for node in settings.nodes])
        try:
            server.start()
        except MeditwinError as error:
            self._fail(str(error))
            return
        except OSError as error:  # a port taken, reported by the socket itself
            self._fail(
                tr("Retrieved studies cannot be received on port {port} ({reason}).").format(
                    port=settings.local.storage_port, reason=error.strerror or error
                )
            )
            return
        self.server = server
        log.info("storage SCP listening on port %s", settings.local.storage_port)

    def _fail(self, text: str) -> None:
        self.problem = text
        log.warning("storage SCP not started")
        self._say(text)

    def stop(self) -> None:
        """Stop listening (nothing to do when not running)."""
        server, self.server = self.server, None
        if server is not None:
            try:
                server.stop()
            except Exception:  # closing the window must not fail on it
                log.exception("storage SCP did not stop cleanly")


def show_pacs_panel(window):
    """File > Query PACS…"""
    from meditwin_desktop.ui import pacs_panel

    return pacs_panel.show_pacs_panel(window)


def show_send_dialog(window):
    """File > Send to PACS…"""
    from meditwin_desktop.ui import send_to_pacs

    return send_to_pacs.show_send_dialog(window)
