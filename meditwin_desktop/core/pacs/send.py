"""Send DICOM objects (our SEG, SR, PDF...) to a node by C-STORE.

Nothing identifiable leaves for a node the user has not confirmed (`Node.identifiable_ok`):
`send` raises IdentifiableDataError before connecting; the GUI asks, saves the consent
on the node and sends again. Files are sent as they are on disk (not decoded).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from meditwin_desktop.core.errors import Cancelled, IdentifiableDataError, InputError
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.pacs.association import associated, check_status, make_ae
from meditwin_desktop.core.pacs.errors import PacsError
from meditwin_desktop.core.pacs.nodes import LocalAE, Node
from meditwin_desktop.core.progress import CancelledFn, ProgressFn, never_cancelled, no_progress

log = logging.getLogger(__name__)

_IDENTIFYING = ("PatientName", "PatientID", "PatientBirthDate")


@dataclass(frozen=True)
class Sent:
    """How many objects the node stored, and how many it did not."""

    sent: int
    failed: int
    reason: str = ""  # the first failure's, for the message


def is_identifiable(dataset: Dataset) -> bool:
    """True if the patient's name, ID or birth date is present and not empty."""
    return any(str(dataset.get(keyword, "") or "").strip() for keyword in _IDENTIFYING)


def _header(item: Dataset | str | Path) -> Dataset:
    """A dataset's header (a file read without its pixel data)."""
    if isinstance(item, Dataset):
        return item
    try:
        return pydicom.dcmread(item, stop_before_pixels=True)
    except (OSError, InvalidDicomError) as error:
        raise InputError(
            tr("{file} is not a DICOM file that can be sent.").format(file=Path(item).name)
        ) from error


def _syntax(header: Dataset) -> str:
    meta = getattr(header, "file_meta", None)
    syntax = getattr(meta, "TransferSyntaxUID", None) if meta is not None else None
    return str(syntax) if syntax else "1.2.840.10008.1.2.1"


def send(
    node: Node,
    local: LocalAE,
    datasets: list,
    *,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
    timeout: float = 60.0,
) -> Sent:
    """C-STORE each of `datasets` (pydicom Datasets or file paths) to `node`."""
    if not datasets:
        return Sent(0, 0)
    headers = [_header(item) for item in datasets]
    if not node.identifiable_ok and any(is_identifiable(h) for h in headers):
        raise IdentifiableDataError(
            tr(
                "These objects identify the patient (name, ID or birth date) and {name} has not "
                "been confirmed for identifiable data: confirm it to send them."
            ).format(name=node.name)
        )
    for header in headers:
        if "SOPClassUID" not in header or "SOPInstanceUID" not in header:
            raise InputError(tr("An object to send has no SOP class or instance UID."))
    ae = make_ae(local, timeout)
    contexts: dict[str, set[str]] = {}
    for header in headers:
        contexts.setdefault(str(header.SOPClassUID), set()).add(_syntax(header))
    if len(contexts) > 128:
        raise InputError(tr("Too many kinds of objects to send at once (more than 128)."))
    for sop_class, syntaxes in contexts.items():
        ae.add_requested_context(sop_class, sorted(syntaxes))
    sent = failed = 0
    first_failure = ""
    start = time.monotonic()
    with associated(node, local, ae, timeout=timeout) as assoc:
        for index, item in enumerate(datasets):
            if cancelled():
                raise Cancelled()
            payload = str(item) if isinstance(item, str | Path) else item
            try:
                status = assoc.send_c_store(payload, msg_id=index + 1)
            except ValueError as error:  # no accepted context for this class/syntax
                failed += 1
                first_failure = first_failure or str(error)
                continue
            code = check_status(status, node, tr("sending"), assoc)
            if code == 0x0000 or (code & 0xF000) == 0xB000:
                sent += 1
            else:
                failed += 1
                first_failure = first_failure or f"0x{code:04X} {status.get('ErrorComment', '')}"
            progress(
                (index + 1) / len(datasets),
                tr("{done} of {total} sent").format(done=index + 1, total=len(datasets)),
            )
    log.info(
        "send to node %s: %d sent, %d failed (%.2f s)",
        node.name,
        sent,
        failed,
        time.monotonic() - start,
    )
    if failed and not sent:
        template = (
            tr("{name} did not store the object ({reason}).")
            if failed == 1
            else tr("{name} stored none of the {count} objects (first reason: {reason}).")
        )
        raise PacsError(template.format(name=node.name, count=failed, reason=first_failure.strip()))
    return Sent(sent, failed, first_failure.strip())
