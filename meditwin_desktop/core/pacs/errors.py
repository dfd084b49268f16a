"""Errors of DICOM networking; each message tells a clinician (or IT) what to check."""

from meditwin_desktop.core.errors import MeditwinError


class PacsError(MeditwinError):
    """A PACS exchange failed; `str()` says what to check."""


class PacsRefused(PacsError):  # noqa: N818 - reads as an outcome
    """The PACS rejected the association (wrong AE title, unknown calling AE...)."""


class PacsUnreachable(PacsError):  # noqa: N818 - reads as an outcome
    """Nothing answers at the node's address (connection refused, unknown host)."""


class PacsTimeout(PacsError):  # noqa: N818 - reads as an outcome
    """The PACS did not answer within the time allowed."""
