"""DICOM networking with a PACS (pynetdicom): nodes, echo, find, retrieve, receive, send.

Nothing is sent anywhere the user did not configure (`nodes.py`). Logs keep counts, node
names and durations only: pynetdicom's own records (which print query keys and datasets
at DEBUG/INFO, and repeat at ERROR what our typed errors say) are kept out of the log
unless someone set the "pynetdicom" logger's level on purpose.
"""

import logging

from meditwin_desktop.core.pacs.errors import PacsError, PacsRefused, PacsTimeout, PacsUnreachable
from meditwin_desktop.core.pacs.nodes import (
    LocalAE,
    Node,
    PacsSettings,
    load_settings,
    save_settings,
    validate_local,
    validate_node,
)
from meditwin_desktop.core.pacs.query import Match, QueryKeys, echo, find
from meditwin_desktop.core.pacs.received import retrieval_folder
from meditwin_desktop.core.pacs.retrieve import Retrieved, retrieve
from meditwin_desktop.core.pacs.send import Sent, is_identifiable, send
from meditwin_desktop.core.pacs.storage_server import StorageServer

_pynetdicom_log = logging.getLogger("pynetdicom")
if _pynetdicom_log.level == logging.NOTSET:
    _pynetdicom_log.setLevel(logging.CRITICAL)

__all__ = [
    "LocalAE",
    "Match",
    "Node",
    "PacsError",
    "PacsRefused",
    "PacsSettings",
    "PacsTimeout",
    "PacsUnreachable",
    "QueryKeys",
    "Retrieved",
    "Sent",
    "StorageServer",
    "echo",
    "find",
    "is_identifiable",
    "load_settings",
    "retrieval_folder",
    "retrieve",
    "save_settings",
    "send",
    "validate_local",
    "validate_node",
]
