"""Our storage SCP: receives the studies a PACS sends us (C-MOVE destination, or pushed).

Runs in pynetdicom's background threads while the app is open (`LocalAE.receive`); each
instance is written raw into `retrieval_folder(its StudyInstanceUID)`. With `accept_from`,
only those calling AE titles may associate (the configured nodes); C-ECHO is answered.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from pathlib import Path

from pydicom.dataset import Dataset
from pynetdicom import AE, AllStoragePresentationContexts, evt
from pynetdicom.sop_class import Verification

from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.pacs.association import TRANSFER_SYNTAXES
from meditwin_desktop.core.pacs.errors import PacsError
from meditwin_desktop.core.pacs.nodes import LocalAE
from meditwin_desktop.core.pacs.received import retrieval_folder, write_received

log = logging.getLogger(__name__)

_OUT_OF_RESOURCES = 0xA700
_CANNOT_UNDERSTAND = 0xC000


class StorageServer:
    """A C-STORE (and C-ECHO) SCP on `local.storage_port`, all interfaces."""

    def __init__(
        self, local: LocalAE, accept_from: list[str] | None = None, *, host: str = ""
    ) -> None:
        self.local = local
        self.accept_from = [a.strip() for a in accept_from] if accept_from else None
        self.host = host
        self._server = None
        self._lock = threading.Lock()
        self._received: dict[str, set[str]] = defaultdict(set)  # study -> series
        self._counts: dict[str, int] = defaultdict(int)  # study -> files written
        self.port = local.storage_port

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        """Listen in background threads; PacsError if the port cannot be used."""
        if self._server is not None:
            return
        ae = AE(ae_title=self.local.ae_title)
        ae.maximum_pdu_size = 0
        ae.network_timeout = 60
        ae.dimse_timeout = 60
        ae.acse_timeout = 30
        for context in AllStoragePresentationContexts:
            ae.add_supported_context(context.abstract_syntax, TRANSFER_SYNTAXES)
        ae.add_supported_context(Verification)
        if self.accept_from:
            ae.require_calling_aet = self.accept_from
        handlers = [(evt.EVT_C_STORE, self._on_store), (evt.EVT_C_ECHO, lambda event: 0x0000)]
        try:
            self._server = ae.start_server(
                (self.host, self.local.storage_port), block=False, evt_handlers=handlers
            )
        except OSError as error:
            raise PacsError(
                tr(
                    "This workstation cannot receive studies on port {port} ({reason}): another "
                    "program may use it; choose another port in the PACS settings."
                ).format(port=self.local.storage_port, reason=error.strerror or error)
            ) from error
        self.port = self._server.server_address[1]
        log.info("storage server listening on port %d", self.port)

    def stop(self) -> None:
        """Stop listening (waits for the threads)."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            log.info("storage server stopped")

    def received(self, study_uid: str) -> tuple[int, list[str]]:
        """Files written and series seen for a study since the server started."""
        with self._lock:
            return self._counts[study_uid], sorted(self._received[study_uid])

    def _on_store(self, event) -> int:
        try:
            ds: Dataset = event.dataset
            study = str(ds.StudyInstanceUID)
            series = str(ds.get("SeriesInstanceUID", ""))
        except Exception:  # an instance without a study: we cannot file it
            log.warning("storage server: an instance without a study was refused")
            return _CANNOT_UNDERSTAND
        try:
            write_received(
                retrieval_folder(study),
                event.request.AffectedSOPInstanceUID,
                event.encoded_dataset(include_meta=True),
            )
        except OSError:
            log.warning("storage server: an instance could not be written", exc_info=True)
            return _OUT_OF_RESOURCES
        with self._lock:
            self._counts[study] += 1
            if series:
                self._received[study].add(series)
        return 0x0000

    def folder(self, study_uid: str) -> Path:
        return retrieval_folder(study_uid)
