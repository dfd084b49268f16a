"""The board report as an Encapsulated PDF instance in the source study.

highdicom has no Encapsulated Document IOD, so it is built with pydicom following
PS3.3 A.45.1 (Encapsulated PDF IOD): Patient, General Study, Encapsulated Document
Series, General Equipment, SC Equipment, Encapsulated Document and SOP Common modules.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ExplicitVRLittleEndian, generate_uid

from meditwin_desktop.core.dicom_out.common import (
    MANUFACTURER,
    MODEL,
    SOFTWARE,
    copy_patient_study,
    stamp,
)
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import tr

ENCAPSULATED_PDF = "1.2.840.10008.5.1.4.1.1.104.1"
TITLE = "MEDITWIN board report"
SERIES_NUMBER = 902
# LOINC 18748-4 "Diagnostic imaging study" would claim a radiology report; the board's
# report is a consultation note of the multidisciplinary team
DOCUMENT_CODE = ("11488-4", "LN", "Consult note")


def pdf_object(pdf: bytes, sources: Sequence[Dataset], *, title: str = TITLE) -> Dataset:
    """`pdf` (a whole PDF file's bytes) as an Encapsulated PDF in the study of `sources`
    (the source images' headers; all of them are listed as its source instances)."""
    if not pdf.startswith(b"%PDF-"):
        raise InputError(tr("The board report is not a PDF file; it cannot be sent."))
    if not sources:
        raise InputError(tr("There is no source image to attach the report to."))
    date, time = stamp()
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ENCAPSULATED_PDF
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    copy_patient_study(sources[0], ds)
    ds.SpecificCharacterSet = "ISO_IR 192"  # titles may hold any character (UTF-8)
    ds.SOPClassUID = ENCAPSULATED_PDF
    # Encapsulated Document Series
    ds.Modality = "DOC"
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber = SERIES_NUMBER
    ds.SeriesDescription = TITLE
    ds.SeriesDate, ds.SeriesTime = date, time
    # General Equipment, SC Equipment
    ds.Manufacturer = MANUFACTURER
    ds.ManufacturerModelName = MODEL
    ds.SoftwareVersions = SOFTWARE
    ds.ConversionType = "WSD"  # workstation
    # Encapsulated Document
    ds.InstanceNumber = 1
    ds.ContentDate, ds.ContentTime = date, time
    ds.AcquisitionDateTime = date + time
    ds.BurnedInAnnotation = "YES"  # the report shows the patient's identity
    ds.DocumentTitle = title
    concept = Dataset()
    concept.CodeValue, concept.CodingSchemeDesignator, concept.CodeMeaning = DOCUMENT_CODE
    ds.ConceptNameCodeSequence = [concept]
    ds.SourceInstanceSequence = [_reference(s) for s in sources]
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.EncapsulatedDocument = pdf + (b"\0" if len(pdf) % 2 else b"")  # OB: even length
    ds.EncapsulatedDocumentLength = len(pdf)
    return ds


def _reference(source: Dataset) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = source.SOPClassUID
    item.ReferencedSOPInstanceUID = source.SOPInstanceUID
    return item


def pdf_bytes(ds: Dataset) -> bytes:
    """The PDF of an Encapsulated PDF instance (without the padding byte)."""
    data = bytes(ds.EncapsulatedDocument)
    length = ds.get("EncapsulatedDocumentLength")
    return data[: int(length)] if length is not None else data.rstrip(b"\0")
