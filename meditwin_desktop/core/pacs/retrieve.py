"""Retrieve a study (or some of its series) from a node, by C-GET or C-MOVE.

C-GET: the node sends the instances back on our own association (we ask for the storage
classes in `RETRIEVE_STORAGE_CLASSES` with the SCP role); each is written raw into
`retrieval_folder(study_uid)`. C-MOVE: the node opens an association to our
`StorageServer` (which must be running: the node knows us by our AE title) and the server
writes them there. With `series_uids`, the series are retrieved one after the other
("series k of n"); else the whole study at once. Cancel sends a C-CANCEL, then aborts:
files already complete stay (a later retrieval overwrites them), none is half-written.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from pydicom.dataset import Dataset
from pynetdicom import build_role, evt
from pynetdicom.sop_class import (
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
)

from meditwin_desktop.core.errors import Cancelled, InputError
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.pacs.association import (
    RETRIEVE_STORAGE_CLASSES,
    TRANSFER_SYNTAXES,
    associated,
    check_status,
    make_ae,
    require_context,
)
from meditwin_desktop.core.pacs.errors import PacsError
from meditwin_desktop.core.pacs.nodes import LocalAE, Node
from meditwin_desktop.core.pacs.received import (
    retrieval_folder,
    sync_folder,
    write_received,
)
from meditwin_desktop.core.pacs.storage_server import StorageServer
from meditwin_desktop.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress

log = logging.getLogger(__name__)

_PENDING = (0xFF00, 0xFF01)
_WARNING = (0xB000,)
_CANCELLED = 0xFE00
_REFUSED = 0xA700


@dataclass(frozen=True)
class Retrieved:
    """What a retrieval brought: the folder, files written, failed sub-operations, series."""

    folder: Path
    files: int
    failed: int
    series: list[str]


class _Receiver:
    """The C-STORE handler of a C-GET: writes each instance, counts, honours cancel."""

    def __init__(self, folder: Path, cancelled: CancelledFn) -> None:
        self.folder = folder
        self.cancelled = cancelled
        self.files = 0
        self.series: set[str] = set()
        self.stop = threading.Event()
        self.error: OSError | None = None

    def __call__(self, event) -> int:
        if self.stop.is_set() or self.cancelled():
            self.stop.set()
            return _REFUSED
        data = event.encoded_dataset(include_meta=True)
        try:
            write_received(self.folder, event.request.AffectedSOPInstanceUID, data)
        except OSError as error:
            self.error = error
            return _REFUSED
        series = _series_of(event)
        if series:
            self.series.add(series)
        self.files += 1
        return 0x0000


def _series_of(event) -> str:
    try:
        return str(event.dataset.get("SeriesInstanceUID", ""))
    except Exception:
        return ""


def _identifier(study_uid: str, series_uid: str | None) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = "SERIES" if series_uid else "STUDY"
    ds.StudyInstanceUID = study_uid
    if series_uid:
        ds.SeriesInstanceUID = series_uid
    return ds


def _count(status: Dataset, keyword: str) -> int:
    return int(status.get(keyword, 0) or 0)


def retrieve(
    node: Node,
    local: LocalAE,
    study_uid: str,
    series_uids: list[str] | None = None,
    *,
    method: str | None = None,
    server: StorageServer | None = None,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
    timeout: float = 60.0,
) -> Retrieved:
    """Retrieve `study_uid` (or only `series_uids`) from `node` into the local folder."""
    study_uid = study_uid.strip()
    if not study_uid:
        raise InputError(tr("Choose a study to retrieve."))
    method = (method or node.retrieve).lower()
    if method not in ("get", "move"):
        raise InputError(tr("The retrieval method must be 'get' (C-GET) or 'move' (C-MOVE)."))
    if method == "move" and (server is None or not server.running):
        raise PacsError(
            tr(
                "Retrieval by C-MOVE needs this workstation to receive studies: turn on "
                "receiving in the PACS settings (or use C-GET)."
            )
        )
    folder = retrieval_folder(study_uid)
    parts: list[str | None] = list(series_uids) if series_uids else [None]
    start = time.monotonic()
    if method == "get":
        result = _get(node, local, study_uid, parts, folder, progress, cancelled, timeout)
    else:
        assert server is not None
        result = _move(node, local, study_uid, parts, server, progress, cancelled, timeout)
    sync_folder(folder)
    log.info(
        "retrieve (%s) from node %s: %d files, %d failed, %d series (%.2f s)",
        method,
        node.name,
        result.files,
        result.failed,
        len(result.series),
        time.monotonic() - start,
    )
    if result.files == 0 and result.failed:
        raise PacsError(
            tr("{name} could not send any of the {count} files of the study.").format(
                name=node.name, count=result.failed
            )
        )
    return result


def _report(progress: ProgressFn, index: int, parts: int, status: Dataset) -> None:
    done = (
        _count(status, "NumberOfCompletedSuboperations")
        + _count(status, "NumberOfFailedSuboperations")
        + _count(status, "NumberOfWarningSuboperations")
    )
    left = _count(status, "NumberOfRemainingSuboperations")
    within = done / (done + left) if done + left else 0.0
    if parts > 1:
        message = tr("Series {index} of {count}: {done} of {total} images").format(
            index=index + 1, count=parts, done=done, total=done + left
        )
    else:
        message = tr("{done} of {total} images").format(done=done, total=done + left)
    progress((index + within) / parts, message)


def _get(node, local, study_uid, parts, folder, progress, cancelled, timeout) -> Retrieved:
    model = StudyRootQueryRetrieveInformationModelGet
    ae = make_ae(local, timeout)
    ae.add_requested_context(model)
    for sop_class in RETRIEVE_STORAGE_CLASSES:
        ae.add_requested_context(sop_class, TRANSFER_SYNTAXES)
    roles = [build_role(sop_class, scp_role=True) for sop_class in RETRIEVE_STORAGE_CLASSES]
    receiver = _Receiver(folder, cancelled)
    failed = 0
    progress(0.0, tr("Connecting to {name}").format(name=node.name))
    with associated(
        node, local, ae, timeout=timeout, ext_neg=roles, evt_handlers=[(evt.EVT_C_STORE, receiver)]
    ) as assoc:
        require_context(
            assoc, model, node, tr("retrieval by C-GET"),
            tr("Choose C-MOVE in the node's settings."),
        )  # fmt: skip
        for index, series_uid in enumerate(parts):
            msg_id = index + 1
            final = None
            for status, _ in assoc.send_c_get(
                _identifier(study_uid, series_uid), model, msg_id=msg_id
            ):
                code = check_status(status, node, tr("retrieval"), assoc)
                if receiver.stop.is_set() or cancelled():
                    receiver.stop.set()
                    assoc.send_c_cancel(msg_id, query_model=model)
                    raise Cancelled()
                if code in _PENDING:
                    _report(progress, index, len(parts), status)
                    continue
                final = (code, status)
            if receiver.error is not None:
                raise PacsError(
                    tr("The retrieved images cannot be written ({reason}).").format(
                        reason=receiver.error.strerror or receiver.error
                    )
                ) from receiver.error
            failed += _final(node, final)
            progress(
                (index + 1) / len(parts),
                tr("Series {index} of {count} retrieved").format(index=index + 1, count=len(parts)),
            )
    series = [s for s in parts if s] or sorted(receiver.series)
    return Retrieved(folder, receiver.files, failed, series)


def _final(node: Node, final: tuple[int, Dataset] | None) -> int:
    """Failed sub-operations of a finished C-GET/C-MOVE; PacsError if it failed as a whole."""
    if final is None:
        raise PacsError(tr("{name} ended the retrieval without an answer.").format(name=node.name))
    code, status = final
    if code == _CANCELLED:
        raise Cancelled()
    failed = _count(status, "NumberOfFailedSuboperations")
    if code in (0x0000, *_WARNING) or ((code & 0xF000) == 0xA000 and failed):
        return failed
    if code == 0xA801:
        raise PacsError(
            tr(
                "{name} does not know where to send the study: add this workstation (its AE "
                "title, address and port) to the PACS's known modalities."
            ).format(name=node.name)
        )
    raise PacsError(
        tr(
            "{name} could not retrieve the study (status 0x{code:04X}): it may not allow this "
            "workstation to retrieve."
        ).format(name=node.name, code=code)
    )


def _move(node, local, study_uid, parts, server, progress, cancelled, timeout) -> Retrieved:
    model = StudyRootQueryRetrieveInformationModelMove
    ae = make_ae(local, timeout)
    ae.add_requested_context(model)
    before, _ = server.received(study_uid)
    completed = failed = 0
    progress(0.0, tr("Connecting to {name}").format(name=node.name))
    with associated(node, local, ae, timeout=timeout) as assoc:
        require_context(
            assoc, model, node, tr("retrieval by C-MOVE"),
            tr("Choose C-GET in the node's settings."),
        )  # fmt: skip
        for index, series_uid in enumerate(parts):
            msg_id = index + 1
            final = None
            for status, _ in assoc.send_c_move(
                _identifier(study_uid, series_uid), local.ae_title, model, msg_id=msg_id
            ):
                code = check_status(status, node, tr("retrieval"), assoc)
                if cancelled():
                    assoc.send_c_cancel(msg_id, query_model=model)
                    raise Cancelled()
                if code in _PENDING:
                    _report(progress, index, len(parts), status)
                    continue
                final = (code, status)
            failed += _final(node, final)
            assert final is not None
            completed += _count(final[1], "NumberOfCompletedSuboperations") + _count(
                final[1], "NumberOfWarningSuboperations"
            )
            progress(
                (index + 1) / len(parts),
                tr("Series {index} of {count} retrieved").format(index=index + 1, count=len(parts)),
            )
    after, seen = server.received(study_uid)
    files = max(completed, after - before)
    series = [s for s in parts if s] or seen
    return Retrieved(retrieval_folder(study_uid), files, failed, series)
