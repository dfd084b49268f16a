"""`export_deidentified`: write the de-identified export folder of a case (see the package)."""

from __future__ import annotations

import copy
import logging
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataset import Dataset

from meditwin_desktop.core.atomic import fsync_dir
from meditwin_desktop.core.case import Case
from meditwin_desktop.core.deidentify.documents import case_document, manifest, relative, write_json
from meditwin_desktop.core.deidentify.profile import DATE_RULES, BasicProfile
from meditwin_desktop.core.deidentify.segmentation import write_segmentation
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.imaging.volume import Volume
from meditwin_desktop.core.output_paths import output_folder
from meditwin_desktop.core.progress import (
    CancelledFn,
    ProgressFn,
    check_cancelled,
    never_cancelled,
    no_progress,
    sub_progress,
)
from meditwin_desktop.core.pseudonym import check_pseudonym, identifiers, pseudonymize

log = logging.getLogger(__name__)

_PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


def export_deidentified(
    case: Case,
    out_dir: Path | str,
    *,
    pseudonym: str,
    dates: str = "shift",
    retain_patient_characteristics: bool = True,
    images: bool = True,
    progress: ProgressFn = no_progress,
    cancelled: CancelledFn = never_cancelled,
) -> Path:
    """Write the de-identified export of `case` into the new folder `out_dir` (its parent
    must exist) and return it; InputError for what the user can fix, `Cancelled`.

    `dates`: "shift" (Modified Dates option) or "remove"; `images=False` writes only the
    JSON parts, as does a case without images. The folder is written under a hidden name
    beside `out_dir` and renamed when complete: it is there whole or not at all.
    """
    if dates not in DATE_RULES:
        raise InputError(tr("Dates can be 'shift' or 'remove', not '{dates}'.").format(dates=dates))
    pseudonym = check_pseudonym(pseudonym, case)
    target = Path(out_dir).expanduser()
    output_folder(target.parent)
    if os.path.lexists(target):
        raise InputError(
            tr(
                "{name} already exists in {folder}; choose another pseudonym or folder (an "
                "export never overwrites one)."
            ).format(name=target.name, folder=target.parent)
        )
    profile = BasicProfile(
        pseudonym, dates=dates, retain_patient_characteristics=retain_patient_characteristics
    )
    profile.identifiers.update(identifiers(case))
    partial = target.parent / f".{target.name}.partial-{secrets.token_hex(4)}"
    partial.mkdir(mode=0o700)
    try:
        contents = _write(case, partial, profile, images, progress, cancelled)
        check_cancelled(cancelled)
        if os.path.lexists(target):
            raise InputError(
                tr("{name} appeared in {folder} meanwhile; not replaced.").format(
                    name=target.name, folder=target.parent
                )
            )
        os.rename(partial, target)
        fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    log.info(
        "de-identified export written: %d image(s), segmentation: %s, %d warning(s)",
        contents["images"],
        contents["segmentation"] is not None,
        len(profile.warnings),
    )
    progress(1.0, tr("Export written"))
    return target


def _write(
    case: Case,
    folder: Path,
    profile: BasicProfile,
    images: bool,
    progress: ProgressFn,
    cancelled: CancelledFn,
) -> dict[str, Any]:
    view = pseudonymize(case, profile.pseudonym)
    if images and case.image is None and case.image_reference:
        from meditwin_desktop.core.case_images import load_case_image

        case = load_case_image(_shallow_copy(case), cancelled=cancelled)
    written: list[Path] = []
    sources: dict[str, Dataset] = {}
    if images and case.image is not None and not isinstance(case.image, Volume):
        profile.warn(
            tr(
                "The active study is a photograph: photographs are not exported as DICOM yet "
                "(only 3D series are)."
            )
        )
    elif images and case.image is not None:
        progress_images = sub_progress(progress, 0.0, 0.8)
        written, sources = _write_images(case, folder, profile, progress_images, cancelled)
    numbers: dict[int, int] | None = None
    seg_path = folder / "segmentation" / "SEG00001.dcm"
    if sources and view.labels is not None and case.image is not None:
        check_cancelled(cancelled)
        progress(0.8, tr("Writing the segmentation"))
        seg_path.parent.mkdir()
        numbers = write_segmentation(view.labels, case.image, sources, seg_path, profile)
    elif images and view.labels is not None:
        profile.warn(
            tr("The labels were not exported as DICOM SEG: the images were not exported.")
        )
    contents = {
        "images": len(written),
        "segmentation": relative(seg_path, folder) if numbers is not None else None,
        "case": "case.json",
    }
    written += [seg_path] if numbers is not None else []
    progress(0.9, tr("Writing the results"))
    write_json(folder / "case.json", case_document(view, profile, numbers or {}))
    written.append(folder / "case.json")
    write_json(folder / "manifest.json", manifest(profile, folder, written, contents))
    for path in [*written, folder / "manifest.json"]:
        with open(path, "rb+") as handle:
            os.fsync(handle.fileno())
    return contents


def _source_files(case: Case, cancelled: CancelledFn) -> list[Path]:
    """The DICOM files of the case's image: its loaded stack's, else its series'."""
    image = case.image
    files = [Path(f) for f in (image.meta.get("files") or [])] if image is not None else []
    if files and all(f.is_file() for f in files):
        return files
    reference = case.image_reference
    folder = Path(str(reference.get("folder", "")))
    if reference.get("series_uid") and folder.is_dir():
        from meditwin_desktop.core.imaging.dicom import scan

        series = scan([folder], cancelled=cancelled).find_series(reference["series_uid"])
        if series is not None:
            return [Path(f) for f in series.files]
    if files or reference:
        raise InputError(
            tr(
                "The DICOM images of this case are no longer where they were imported from. "
                "Reconnect the disk, or export without images."
            )
        )
    return []


def _shallow_copy(case: Case) -> Case:
    """A copy whose active study can take a loaded image without touching `case`."""
    copied = copy.copy(case)
    copied.studies = [copy.copy(study) for study in case.studies]
    return copied


def _write_images(
    case: Case, folder: Path, profile: BasicProfile, progress: ProgressFn, cancelled: CancelledFn
) -> tuple[list[Path], dict[str, Dataset]]:
    """Write the de-identified series into folder/images; (paths, {original SOP Instance
    UID: the header written, without pixels})."""
    files = _source_files(case, cancelled)
    if not files:
        profile.warn(tr("The image is not DICOM (e.g. NIfTI): it was not exported."))
        return [], {}
    (folder / "images").mkdir()
    written, headers = [], {}
    for n, source in enumerate(files):
        if n % 8 == 0:
            check_cancelled(cancelled)
            progress(
                n / len(files),
                tr("De-identifying image {n} of {total}").format(n=n + 1, total=len(files)),
            )
        try:
            ds = pydicom.dcmread(source, force=True)  # as the loader does
            _ = ds.SOPInstanceUID, ds.SOPClassUID
        except (OSError, AttributeError, pydicom.errors.InvalidDicomError) as error:
            raise InputError(
                tr(
                    "Image {n} of {total} of the series cannot be read ({error}); nothing was "
                    "exported."
                ).format(n=n + 1, total=len(files), error=type(error).__name__)
            ) from None
        original = str(ds.get("SOPInstanceUID", ""))
        profile.apply(ds)
        path = folder / "images" / f"IM{n + 1:05d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        for keyword in _PIXEL_KEYWORDS:
            if keyword in ds:
                delattr(ds, keyword)  # the SEG needs the headers only
        written.append(path)
        headers[original] = ds
    return written, headers
