"""Open a DICOM association with a configured node, turning every way it can fail into a
typed error a clinician (or IT) can act on; the TLS context; the contexts we offer.

One pynetdicom `AE` per call (cheap). The call's timeout bounds the connection, the
association negotiation, each DIMSE message and network silence.
"""

from __future__ import annotations

import logging
import socket
import ssl
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from pydicom.uid import (
    JPEG2000,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)
from pynetdicom import AE, evt
from pynetdicom.association import Association
from pynetdicom.sop_class import Verification

from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.pacs.errors import (
    PacsError,
    PacsRefused,
    PacsTimeout,
    PacsUnreachable,
)
from meditwin_desktop.core.pacs.nodes import LocalAE, Node

log = logging.getLogger(__name__)

# Every transfer syntax we can decode (pydicom + pylibjpeg/GDCM), uncompressed first.
TRANSFER_SYNTAXES = [
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    DeflatedExplicitVRLittleEndian,
    JPEGLosslessSV1,
    JPEGLossless,
    JPEGLSLossless,
    JPEG2000Lossless,
    RLELossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLSNearLossless,
    JPEG2000,
]

# The storage SOP classes a C-GET asks for (an association holds at most 128 contexts).
RETRIEVE_STORAGE_CLASSES = [
    "1.2.840.10008.5.1.4.1.1.2",  # CT Image
    "1.2.840.10008.5.1.4.1.1.2.1",  # Enhanced CT Image
    "1.2.840.10008.5.1.4.1.1.4",  # MR Image
    "1.2.840.10008.5.1.4.1.1.4.1",  # Enhanced MR Image
    "1.2.840.10008.5.1.4.1.1.128",  # PET Image
    "1.2.840.10008.5.1.4.1.1.130",  # Enhanced PET Image
    "1.2.840.10008.5.1.4.1.1.20",  # Nuclear Medicine Image
    "1.2.840.10008.5.1.4.1.1.6.1",  # Ultrasound Image
    "1.2.840.10008.5.1.4.1.1.3.1",  # Ultrasound Multi-frame Image
    "1.2.840.10008.5.1.4.1.1.1",  # Computed Radiography Image
    "1.2.840.10008.5.1.4.1.1.1.1",  # Digital X-Ray Image - For Presentation
    "1.2.840.10008.5.1.4.1.1.1.2",  # Digital Mammography X-Ray Image - For Presentation
    "1.2.840.10008.5.1.4.1.1.12.1",  # X-Ray Angiographic Image
    "1.2.840.10008.5.1.4.1.1.12.2",  # X-Ray Radiofluoroscopic Image
    "1.2.840.10008.5.1.4.1.1.7",  # Secondary Capture Image
    "1.2.840.10008.5.1.4.1.1.7.2",  # Multi-frame Grayscale Byte Secondary Capture
    "1.2.840.10008.5.1.4.1.1.7.3",  # Multi-frame Grayscale Word Secondary Capture
    "1.2.840.10008.5.1.4.1.1.7.4",  # Multi-frame True Color Secondary Capture
    "1.2.840.10008.5.1.4.1.1.77.1.5.1",  # Ophthalmic Photography 8 Bit Image
    "1.2.840.10008.5.1.4.1.1.77.1.4",  # VL Photographic Image
    "1.2.840.10008.5.1.4.1.1.66.4",  # Segmentation
    "1.2.840.10008.5.1.4.1.1.88.11",  # Basic Text SR
    "1.2.840.10008.5.1.4.1.1.88.22",  # Enhanced SR
    "1.2.840.10008.5.1.4.1.1.88.33",  # Comprehensive SR
    "1.2.840.10008.5.1.4.1.1.88.34",  # Comprehensive 3D SR
    "1.2.840.10008.5.1.4.1.1.88.59",  # Key Object Selection Document
    "1.2.840.10008.5.1.4.1.1.104.1",  # Encapsulated PDF
    "1.2.840.10008.5.1.4.1.1.11.1",  # Grayscale Softcopy Presentation State
    "1.2.840.10008.5.1.4.1.1.66.1",  # Spatial Registration
    "1.2.840.10008.5.1.4.1.1.481.3",  # RT Structure Set
    "1.2.840.10008.5.1.4.1.1.481.2",  # RT Dose
]


def tls_context(node: Node) -> ssl.SSLContext:
    """The client TLS context of `node`: its CA (else the system's), our certificate if set."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=node.ca_file or None)
    if node.cert_file:
        context.load_cert_chain(node.cert_file, node.key_file or None)
    return context


def make_ae(local: LocalAE, timeout: float) -> AE:
    """Our AE (Verification requested), every timeout set from `timeout`, no PDU size limit
    on receiving."""
    ae = AE(ae_title=local.ae_title)
    ae.acse_timeout = timeout
    ae.dimse_timeout = timeout
    ae.network_timeout = timeout
    ae.connection_timeout = timeout
    ae.maximum_pdu_size = 0  # unlimited: the sender's PDU size decides (fast retrieval)
    # always accepted: a node that lacks the service asked for still associates, and
    # `require_context` can name the missing service instead of "closed the connection"
    ae.add_requested_context(Verification)
    return ae


def _where(node: Node) -> str:
    return f"{node.host}:{node.port}"


@contextmanager
def associated(
    node: Node,
    local: LocalAE,
    ae: AE,
    *,
    timeout: float,
    ext_neg: Sequence | None = None,
    evt_handlers: list | None = None,
) -> Iterator[Association]:
    """An established association with `node` (released on exit, aborted on error).

    PacsUnreachable: nothing listens; PacsTimeout: no answer in `timeout` seconds;
    PacsRefused: the node rejected us (AE titles)."""
    opened: list[bool] = []
    handlers = [*(evt_handlers or []), (evt.EVT_CONN_OPEN, lambda event: opened.append(True))]
    tls_args = None
    if node.tls:
        try:
            tls_args = (tls_context(node), node.host)
        except (OSError, ssl.SSLError) as error:
            raise PacsError(
                tr("The TLS files of the node '{name}' cannot be used ({reason}).").format(
                    name=node.name, reason=error
                )
            ) from error
    start = time.monotonic()
    try:
        assoc = ae.associate(
            node.host,
            node.port,
            ae_title=node.ae_title,
            ext_neg=list(ext_neg or []) or None,
            tls_args=tls_args,
            evt_handlers=handlers,
            max_pdu=0,
        )
    except (OSError, ValueError) as error:  # bad host name format, no route...
        raise _not_connected(node) from error
    elapsed = time.monotonic() - start
    if not assoc.is_established:
        raise _failure(node, local, assoc, bool(opened), elapsed, timeout)
    log.info("association with node %s (%.2f s)", node.name, elapsed)
    try:
        yield assoc
    except BaseException:
        assoc.abort()
        raise
    else:
        if assoc.is_established:
            assoc.release()


def _unreachable(node: Node) -> str:
    return tr(
        "Nothing answers at {where}: check the address and port of {name}, and that the "
        "PACS is running."
    ).format(where=_where(node), name=node.name)


def _not_connected(node: Node) -> PacsUnreachable:
    """Why no connection opened: an unknown host name, or nothing listening."""
    if not _resolves(node.host):
        return PacsUnreachable(
            tr("The address {host} of {name} cannot be found: check its spelling, and the "
               "network.").format(host=node.host, name=node.name)
        )  # fmt: skip
    return PacsUnreachable(_unreachable(node))


def _resolves(host: str) -> bool:
    try:
        socket.getaddrinfo(host, None)
        return True
    except (OSError, UnicodeError):
        return False


def _listens(node: Node, timeout: float) -> bool:
    """Whether a plain TCP connection to the node opens (tells TLS failures apart)."""
    try:
        with socket.create_connection((node.host, node.port), timeout=min(timeout, 5.0)):
            return True
    except OSError:
        return False


def _failure(
    node: Node, local: LocalAE, assoc: Association, opened: bool, elapsed: float, timeout: float
) -> PacsError:
    """The typed error of an association that was not established."""
    if assoc.is_rejected:
        primitive = assoc.acceptor.primitive
        reason = getattr(primitive, "reason_str", "") or ""
        source = getattr(primitive, "source_str", "") or ""
        log.warning("node %s rejected the association: %s (%s)", node.name, reason, source)
        return PacsRefused(
            tr(
                "{name} refused the connection ({reason}): check that the PACS knows our AE "
                'title "{ours}" and that the node\'s AE title "{theirs}" is right.'
            ).format(
                name=node.name,
                reason=reason or source,
                ours=local.ae_title,
                theirs=node.ae_title,
            )
        )
    timed_out = elapsed >= 0.9 * timeout
    log.warning(
        "association with node %s failed (connected: %s, %.2f s)", node.name, opened, elapsed
    )
    if timed_out:
        return PacsTimeout(
            tr(
                "{name} ({where}) did not answer within {seconds:g} s: check the address, the "
                "network and that the PACS is running."
            ).format(name=node.name, where=_where(node), seconds=timeout)
        )
    if not opened and node.tls and _listens(node, timeout):
        return PacsError(
            tr("The secure (TLS) connection to {name} failed: check its CA certificate, our "
               "certificate and key, and that {where} speaks DICOM over TLS.").format(
                name=node.name, where=_where(node)
            )
        )  # fmt: skip
    if not opened:
        return _not_connected(node)
    # connected, then closed before accepting: a refusal without its reason (some PACS
    # close instead of rejecting; Orthanc's rejection is sometimes read as a close, under load)
    return PacsRefused(
        tr(
            "{name} closed the connection before accepting it: check that the PACS knows our "
            'AE title "{ours}", that the node\'s AE title "{theirs}" is right, and TLS if it '
            "needs it."
        ).format(name=node.name, ours=local.ae_title, theirs=node.ae_title)
    )


def check_status(status, node: Node, what: str, assoc: Association | None = None) -> int:
    """The status code of a DIMSE response. No response: PacsError if the node ended the
    association (it does not allow this to us), else PacsTimeout (no answer in time)."""
    if status is None or "Status" not in status:
        if assoc is not None and _ended(assoc):
            raise PacsRefused(
                tr(
                    "{name} ended the connection during the {what}: it may not allow this "
                    'workstation (AE title "{ours}") to do this; ask for it to be added to '
                    "the PACS's known modalities."
                ).format(name=node.name, what=what, ours=assoc.ae.ae_title)
            )
        raise PacsTimeout(
            tr("{name} stopped answering during the {what}.").format(name=node.name, what=what)
        )
    return int(status.Status)


def _ended(assoc: Association, wait: float = 0.5) -> bool:
    """Whether the peer ended the association (the flags may lag the empty answer)."""
    deadline = time.monotonic() + wait
    while assoc.is_established and not assoc.is_aborted and time.monotonic() < deadline:
        time.sleep(0.01)
    return assoc.is_aborted or not assoc.is_established


def require_context(
    assoc: Association, sop_class: str, node: Node, service: str, advice: str = ""
) -> None:
    """PacsError if `node` did not accept `sop_class` (it does not offer that service)."""
    if not any(c.abstract_syntax == sop_class for c in assoc.accepted_contexts):
        message = tr("{name} does not offer {service} to this workstation.").format(
            name=node.name, service=service
        )
        raise PacsError(f"{message} {advice}".strip())
