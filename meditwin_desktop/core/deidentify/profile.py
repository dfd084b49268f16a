"""The Basic Application Level Confidentiality Profile applied to one pydicom dataset.

One `BasicProfile` serves one export, so that UIDs and dates change the same way in every
object of it. Rules (PS3.15 Annex E; the package docstring lists them for users):
- Table E.1-1 actions (`table.py`): D dummy, Z empty, X removed; X/Z, X/D, X/Z/D removed
  (stricter than needed, which PS3.15 permits), Z/D emptied. Sequences marked D, Z, Z/D
  or X/Z are emptied (their items could hold free text), X, X/D, X/Z/D removed; other
  sequences (kept, or X/Z/U*) are cleaned item by item with the same rules.
- By VR, listed or not: UIDs other than standard ones are replaced (2.25.<hash of a
  random per-export key and the UID>); person names not otherwise handled are emptied;
  UN values and private attributes (and group lengths) are removed.
- Dates (DA, DT): "shift" moves them back by one random whole number of days (1 to 10
  years), kept nowhere; times of day stay; time zone offsets go. "remove": the table's
  action, and unlisted dates are removed too.
- PatientName and PatientID become the pseudonym; PatientBirthDate is always emptied.
- Retain Patient Characteristics: the attributes of CHARACTERISTIC_KEYWORDS are kept and
  PatientAge is derived from birth and study dates when absent.
- Free text left in the header that still names the patient (names, their parts, IDs,
  birth date) has those words blanked out.
"""

from __future__ import annotations

import functools
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.sr.codedict import codes
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    generate_uid,
)

from meditwin_desktop import APP_NAME, __version__
from meditwin_desktop.core.deidentify.table import action_for, annex_e_table
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.pseudonym import Redactor

DATE_RULES = ("shift", "remove")
PROFILE = codes.DCM.BasicApplicationConfidentialityProfile
MODIFIED_DATES = codes.DCM.RetainLongitudinalTemporalInformationModifiedDatesOption
PATIENT_CHARACTERISTICS = codes.DCM.RetainPatientCharacteristicsOption
CHARACTERISTIC_KEYWORDS = frozenset(
    {"PatientAge", "PatientSex", "PatientSize", "PatientWeight", "PatientSexNeutered",
     "EthnicGroup", "SmokingStatus", "PregnancyStatus"}
)  # fmt: skip
SHIFT_DAYS = (366, 3652)  # the range of the backward shift, drawn once per export
DUMMY_DATE, DUMMY_TIME = "19000101", "000000"
_DUMMY_TEXT = "DEIDENTIFIED"
_IDENTITY = ("PatientName", "PatientID")
_TYPE2 = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate",
          "StudyTime", "ReferringPhysicianName", "StudyID", "AccessionNumber")  # fmt: skip
_STANDARD_UIDS = ("CodingSchemeUID", "MappingResourceUID", "TransferSyntaxUID")
_FREE_TEXT_VRS = frozenset({"LO", "LT", "PN", "SH", "ST", "UC", "UT"})
_STRING_VRS = _FREE_TEXT_VRS | {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "TM", "UR"}
_REMOVED_SEQUENCE = frozenset({"X", "X/D", "X/Z/D"})
_EMPTIED_SEQUENCE = frozenset({"D", "Z", "Z/D", "X/Z"})
_TEXT_IN_PIXELS = frozenset({"US", "XA", "RF", "ES", "XC", "OT", "SC", "GM", "SM", "DOC"})


class BasicProfile:
    """The Basic Profile with the Modified Dates and Patient Characteristics options."""

    def __init__(
        self, pseudonym: str, *, dates: str = "shift", retain_patient_characteristics: bool = True
    ) -> None:
        if dates not in DATE_RULES:
            raise ValueError(f"dates must be one of {DATE_RULES}")
        self.pseudonym = pseudonym
        self.dates = dates
        self.retain_characteristics = retain_patient_characteristics
        self.edition = annex_e_table()[0]
        self._key = secrets.token_hex(32)  # never written: new UIDs cannot be traced back
        low, high = SHIFT_DAYS
        self._shift = timedelta(days=-(low + secrets.randbelow(high - low + 1)))
        self._uids: dict[str, str] = {}
        self.warnings: list[str] = []
        self.identifiers: set[str] = set()  # no header text may mention these

    @property
    def options(self) -> list[Any]:
        """The option codes applied (pydicom `Code`s)."""
        applied = [MODIFIED_DATES] if self.dates == "shift" else []
        return applied + ([PATIENT_CHARACTERISTICS] if self.retain_characteristics else [])

    @property
    def method(self) -> list[str]:
        """DeidentificationMethod: one value per rule (LO: 64 characters at most each)."""
        kept = "retained" if self.retain_characteristics else "removed"
        return [
            f"{APP_NAME} {__version__}: PS3.15 Basic Profile"[:64],
            "Dates shifted" if self.dates == "shift" else "Dates removed",
            f"Patient characteristics {kept}",
            "Private attributes removed; UIDs replaced",
        ]

    def warn(self, text: str) -> None:
        """Record a warning for the manifest (once)."""
        if text not in self.warnings:
            self.warnings.append(text)

    def uid(self, old: str) -> str:
        """The new UID of `old`, the same for the whole export."""
        if old not in self._uids:
            self._uids[old] = generate_uid(prefix=None, entropy_srcs=[self._key, old])
        return self._uids[old]

    def apply(self, ds: Dataset) -> Dataset:
        """De-identify `ds` in place (file meta and preamble rebuilt) and return it.

        InputError for images flagged with burned-in annotations.
        """
        if str(ds.get("BurnedInAnnotation", "")).upper() == "YES":
            raise InputError(
                tr(
                    "The images are marked as having burned-in annotations (text in the pixels, "
                    "which may name the patient): they cannot be exported de-identified. Export "
                    "without images, or remove the text with a dedicated tool first."
                )
            )
        self._note_pixel_risks(ds)
        self._collect_identifiers(ds)
        age = self._age(ds) if self.retain_characteristics else None
        self._clean(ds)
        if age and not ds.get("PatientAge"):
            ds.PatientAge = age
        for keyword in _TYPE2:
            if keyword not in ds:
                setattr(ds, keyword, "")
        self.remove_mentions(ds)
        self.stamp(ds)
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = ds.SOPClassUID
        meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        meta.TransferSyntaxUID = _transfer_syntax(ds)
        meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
        meta.ImplementationVersionName = f"MEDITWIN_{__version__}"[:16]
        ds.file_meta = meta  # the original's may name a station (source AE title)
        ds.preamble = b"\x00" * 128  # a preamble may hold another format's header
        return ds

    def stamp(self, ds: Dataset) -> None:
        """Write the identity and de-identification attributes (PS3.15 E.1.1)."""
        ds.PatientName = self.patient_name
        ds.PatientID = self.pseudonym
        ds.PatientIdentityRemoved = "YES"
        ds.DeidentificationMethod = self.method
        items = []
        for code in [PROFILE, *self.options]:
            item = Dataset()
            item.CodeValue = code.value
            item.CodingSchemeDesignator = code.scheme_designator
            item.CodeMeaning = code.meaning
            items.append(item)
        ds.DeidentificationMethodCodeSequence = Sequence(items)
        ds.LongitudinalTemporalInformationModified = (
            "MODIFIED" if self.dates == "shift" else "REMOVED"
        )

    @property
    def patient_name(self) -> str:
        """The pseudonym as a family name ('P-017^': one component, not the retired form)."""
        return f"{self.pseudonym}^"

    def content_date(self, source: Dataset) -> tuple[str, str]:
        """(date, time) for a new object made from de-identified `source` (e.g. a SEG)."""
        if self.dates == "shift" and source.get("StudyDate"):
            return str(source.StudyDate), str(source.get("StudyTime") or DUMMY_TIME)
        return DUMMY_DATE, DUMMY_TIME

    def remove_mentions(self, ds: Dataset) -> None:
        """Blank out the identifiers still in free text (and warn when there were some).

        Coded strings (CS) are left alone: they hold defined terms, and a descriptive
        "patient name" (a phantom's, say) would otherwise break an ImageType.
        """
        redact = _redactor(frozenset(self.identifiers - {self.pseudonym, ""}))
        if _remove_mentions(ds, redact):
            self.warn(tr("Header text that named the patient had the name or ID blanked out."))

    # -- the rules -------------------------------------------------------------------
    def _clean(self, ds: Dataset) -> None:
        for elem in list(ds):
            tag, keyword = elem.tag, elem.keyword
            if tag.is_private or tag.element == 0:
                del ds[tag]
            elif keyword in _IDENTITY:
                elem.value = self.patient_name if keyword == "PatientName" else self.pseudonym
            elif keyword == "PatientBirthDate":
                elem.value = ""
            elif not (self.retain_characteristics and keyword in CHARACTERISTIC_KEYWORDS):
                self._element(ds, elem, action_for(tag))

    def _element(self, ds: Dataset, elem: Any, action: str | None) -> None:
        vr = elem.VR
        if vr == "SQ":
            self._sequence(ds, elem, action)
        elif vr == "UN" or (vr == "UI" and action in ("X", "X/D", "X/Z/D")):
            del ds[elem.tag]
        elif vr == "UI":
            self._replace_uids(elem)
        elif vr in ("DA", "DT"):
            self._date(ds, elem, action)
        elif vr == "TM" and self.dates == "shift":
            return  # whole-day shifts keep the time of day
        elif vr == "PN" and action is None:
            elem.value = ""
        elif action is not None and action.startswith("X"):
            del ds[elem.tag]
        elif action == "D":
            elem.value = _dummy(elem.VR)
        elif action is not None:  # Z, Z/D
            elem.value = "" if vr in _STRING_VRS else None

    def _sequence(self, ds: Dataset, elem: Any, action: str | None) -> None:
        if action in _REMOVED_SEQUENCE:
            del ds[elem.tag]
        elif action in _EMPTIED_SEQUENCE:
            elem.value = Sequence()
        else:  # kept, or X/Z/U*: clean each item (U*: its UIDs are replaced)
            for item in elem.value:
                self._clean(item)

    def _replace_uids(self, elem: Any) -> None:
        keyword = elem.keyword
        standard = keyword.endswith("ClassUID") or keyword in _STANDARD_UIDS

        def new(uid: Any) -> str:
            uid = str(uid)
            if standard or not uid or uid.startswith("1.2.840.10008."):
                return uid
            return self.uid(uid)

        if elem.VM > 1:
            elem.value = [new(v) for v in elem.value]
        elif elem.value:
            elem.value = new(elem.value)

    def _date(self, ds: Dataset, elem: Any, action: str | None) -> None:
        if self.dates == "shift":
            shift = _shift_date if elem.VR == "DA" else _shift_datetime
            values = [elem.value] if elem.VM <= 1 else list(elem.value)
            shifted = [shift(str(v or ""), self._shift) for v in values]
            elem.value = shifted[0] if len(shifted) == 1 else shifted
        elif action in ("Z", "Z/D"):
            elem.value = ""
        elif action == "D":
            elem.value = DUMMY_DATE if elem.VR == "DA" else DUMMY_DATE + DUMMY_TIME
        else:
            del ds[elem.tag]

    def _age(self, ds: Dataset) -> str | None:
        birth = str(ds.get("PatientBirthDate") or "")
        when = next((str(ds.get(k)) for k in ("StudyDate", "ContentDate") if ds.get(k)), "")
        return patient_age(birth, when)

    def _collect_identifiers(self, ds: Dataset) -> None:
        for keyword in ("PatientName", "PatientBirthName", "PatientMotherBirthName"):
            name = str(ds.get(keyword) or "")
            self.identifiers.add(name)
            self.identifiers.update(re.split(r"[\^= ]+", name))
        for keyword in ("PatientID", "OtherPatientIDs", "PatientBirthDate"):
            value = ds.get(keyword)
            values = [value] if isinstance(value, str) else (value or [])
            self.identifiers.update(str(v) for v in values)

    def _note_pixel_risks(self, ds: Dataset) -> None:
        modality = str(ds.get("Modality", "")).upper()
        secondary = str(ds.get("SOPClassUID", "")).startswith("1.2.840.10008.5.1.4.1.1.7")
        if "BurnedInAnnotation" not in ds and (modality in _TEXT_IN_PIXELS or secondary):
            self.warn(
                tr(
                    "{modality} images often carry text in the pixels and do not say whether "
                    "they do: look at them before sharing."
                ).format(modality=modality)
                if modality
                else tr(
                    "These images often carry text in the pixels and do not say whether they "
                    "do: look at them before sharing."
                )
            )
        if "MOSAIC" in [str(v).upper() for v in (ds.get("ImageType") or [])]:
            self.warn(
                tr(
                    "Mosaic images: the vendor's private data that tell how to unpack the "
                    "slices are removed with the other private attributes."
                )
            )
        if str(ds.get("RecognizableVisualFeatures", "")).upper() == "YES":
            self.warn(
                tr("The images show recognisable features (e.g. a face): they are unchanged.")
            )


def _transfer_syntax(ds: Dataset) -> str:
    """The source's transfer syntax; for a file without meta, the encoding it was read in."""
    syntax = getattr(ds, "file_meta", Dataset()).get("TransferSyntaxUID")
    if syntax:
        return syntax
    implicit, little = getattr(ds, "original_encoding", None) or (True, True)
    if implicit:
        return ImplicitVRLittleEndian
    return ExplicitVRLittleEndian if little else ExplicitVRBigEndian


@functools.lru_cache(maxsize=8)
def _redactor(words: frozenset[str]) -> Redactor:
    return Redactor(words, "")


def _remove_mentions(ds: Dataset, redact: Redactor) -> int:
    changed = 0
    for elem in ds:
        if elem.VR == "SQ":
            changed += sum(_remove_mentions(item, redact) for item in elem.value)
        elif elem.VR in _FREE_TEXT_VRS and elem.keyword not in _IDENTITY and elem.value:
            values = [elem.value] if elem.VM <= 1 else list(elem.value)
            texts = [str(v) for v in values]
            if any(redact.mentions(t) for t in texts):
                blanked = [" ".join(redact.names(t).split()) for t in texts]
                elem.value = blanked[0] if len(blanked) == 1 else blanked
                changed += 1
    return changed


def _dummy(vr: str) -> Any:
    if vr in ("AE", "CS", "LO", "LT", "SH", "ST", "UC", "UT", "PN"):
        return _DUMMY_TEXT
    if vr in ("DS", "IS"):
        return "0"
    if vr in ("FD", "FL", "SL", "SS", "UL", "US", "SV", "UV"):
        return 0
    if vr == "AS":
        return "000Y"
    if vr == "TM":
        return DUMMY_TIME
    return None


def _shift_date(text: str, shift: timedelta) -> str:
    try:
        moment = datetime.strptime(text.strip().replace(".", ""), "%Y%m%d")
        return (moment + shift).strftime("%Y%m%d")
    except (ValueError, OverflowError):
        return ""


def _shift_datetime(text: str, shift: timedelta) -> str:
    match = re.fullmatch(r"(\d{8})([\d.]*)(?:[+-]\d{4})?", text.strip())
    if not match:
        return ""
    day = _shift_date(match[1], shift)
    return day + match[2] if day else ""


def patient_age(birth: str, when: str) -> str | None:
    """DICOM Age String (AS) between two DA values: days under 4 weeks, months under
    2 years, else years; None when a date is missing, unreadable or out of order."""
    try:
        born = datetime.strptime(birth.strip(), "%Y%m%d").date()
        seen = datetime.strptime(when.strip(), "%Y%m%d").date()
    except ValueError:
        return None
    if seen < born:
        return None
    if (seen - born).days < 28:
        return f"{(seen - born).days:03d}D"
    months = (seen.year - born.year) * 12 + seen.month - born.month - (seen.day < born.day)
    if months < 24:
        return f"{months:03d}M"
    return f"{min(months // 12, 999):03d}Y"
