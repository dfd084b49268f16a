"""Typed errors a user can cause; their message is written for a clinician.

The UI shows `str(error)`; the log keeps the traceback.
"""


class MeditwinError(Exception):
    """Base of every error the user can cause and act on."""


class InputError(MeditwinError):
    """A file, folder or value given by the user cannot be used."""


class DicomError(InputError):
    """A DICOM file or series cannot be read or assembled into a volume."""


class IdentifiableDataError(InputError):
    """A run's data identify the patient and would leave this computer (a remote cluster)."""


class Cancelled(MeditwinError):  # noqa: N818 - reads as an outcome, not a fault
    """Long work was cancelled by the user."""

    def __init__(self, message: str | None = None) -> None:
        from meditwin_desktop.core.i18n import tr

        super().__init__(tr("Cancelled by the user.") if message is None else message)
