"""Imaging: volumes with patient geometry, DICOM import, NIfTI, label maps."""

from meditwin_desktop.core.imaging.volume import LabelMap, Volume

__all__ = ["LabelMap", "Volume"]
