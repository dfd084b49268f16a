"""De-identified export of a case: DICOM PS3.15 Annex E Basic Application Level
Confidentiality Profile, with the Retain Longitudinal Temporal Information Modified Dates
and Retain Patient Characteristics options (each may be turned off).

`export_deidentified(case, out_dir, pseudonym=...)` creates the folder `out_dir`:

    images/IM00001.dcm ...       the case's image series, de-identified, pixels unchanged
    segmentation/SEG00001.dcm    the labels as DICOM SEG referencing those images
    case.json                    clinical values (no free text), scenarios, runs, outcomes
    manifest.json                profile, options, contents with SHA-256, warnings

In short (details in `profile.py`, `documents.py`, `core/pseudonym.py`):
- Table E.1-1 (`table.py`, the standard's data as shipped by `dicom-anonymizer`) applied
  to every attribute, recursively; private attributes removed; UIDs replaced the same way
  in every object of one export (the SEG references the exported images) and not
  traceable; dates shifted back by a random number of days kept nowhere (or removed);
  PatientName and PatientID are the pseudonym; birth date emptied; age, sex, size and
  weight kept under the Patient Characteristics option; free text left in a header that
  still names the patient has the name blanked out.
- Each DICOM object carries PatientIdentityRemoved YES, DeidentificationMethod,
  DeidentificationMethodCodeSequence (113100 and the options' codes 113107, 113108) and
  LongitudinalTemporalInformationModified.
- Images flagged BurnedInAnnotation YES are refused; pixel data are not cleaned
  otherwise (the manifest lists the options not applied).
- The JSON parts come from the pseudonymised view of the case (`core.pseudonym`).
"""

from meditwin_desktop.core.deidentify.export import export_deidentified
from meditwin_desktop.core.deidentify.profile import DATE_RULES, BasicProfile

__all__ = ["DATE_RULES", "BasicProfile", "export_deidentified"]
