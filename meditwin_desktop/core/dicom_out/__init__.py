"""DICOM objects sent back to a PACS: labels as SEG, measurements and key outcomes as a
TID 1500 SR, the board report as an Encapsulated PDF, all in the source study. No Qt."""

from meditwin_desktop.core.dicom_out.board import KINDS, board_objects
from meditwin_desktop.core.dicom_out.validate import dciodvfy

__all__ = ["KINDS", "board_objects", "dciodvfy"]
