"""DICOM: scan folders into patients > studies > series, assemble series into volumes."""

from meditwin_desktop.core.imaging.dicom.assemble import load_series
from meditwin_desktop.core.imaging.dicom.scan import (
    PatientInfo,
    ScanResult,
    SeriesInfo,
    StudyInfo,
    scan,
)

__all__ = ["PatientInfo", "ScanResult", "SeriesInfo", "StudyInfo", "load_series", "scan"]
