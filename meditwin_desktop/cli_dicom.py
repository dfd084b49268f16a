"""`meditwin dicom scan|load`: DICOM import from the command line, as text or JSON."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.imaging.dicom import load_series, scan
from meditwin_desktop.core.imaging.nifti import write_volume
from meditwin_desktop.core.imaging.volume import Volume
from meditwin_desktop.core.output_paths import output_folder

_SKIPPED_SHOWN = 20  # skipped files listed in text output (--json lists all)


def scan_command(args: argparse.Namespace) -> int:
    """Print the patient/study/series tree under a path."""
    result = scan([args.path])
    if args.json:
        print(json.dumps(_scan_json(result), indent=2))
        return 0
    for patient in result.patients:
        print(f"{patient.name or '(no name)'} [{patient.id}]")
        for study in patient.studies:
            print(f"  {study.date} {study.description or '(no description)'}")
            for s in study.series:
                print(
                    f"    #{s.number} {s.modality} {s.description or '(no description)'}: "
                    f"{s.image_count} images  {s.uid}"
                )
    for path, reason in result.skipped[:_SKIPPED_SHOWN]:
        print(f"skipped {path}: {reason}")
    if len(result.skipped) > _SKIPPED_SHOWN:
        print(f"... and {len(result.skipped) - _SKIPPED_SHOWN} more skipped (--json lists all)")
    print(f"{result.file_count} files, {len(result.skipped)} skipped")
    return 0


def _scan_json(result) -> dict:
    return {
        "file_count": result.file_count,
        "patients": [
            {
                "id": p.id,
                "name": p.name,
                "birth_date": p.birth_date,
                "sex": p.sex,
                "studies": [
                    {
                        "uid": st.uid,
                        "description": st.description,
                        "date": st.date,
                        "series": [
                            {
                                "uid": s.uid,
                                "number": s.number,
                                "description": s.description,
                                "modality": s.modality,
                                "date": s.date,
                                "body_part": s.body_part,
                                "images": s.image_count,
                                "files": len(s.files),
                            }
                            for s in st.series
                        ],
                    }
                    for st in p.studies
                ],
            }
            for p in result.patients
        ],
        "skipped": [{"path": str(path), "reason": reason} for path, reason in result.skipped],
    }


def volume_json(volume: Volume) -> dict:
    """Geometry and value summary of a volume (documented in the README)."""
    lo, hi = volume.value_range()
    return {
        "series_uid": volume.meta.get("series_uid", ""),
        "modality": volume.meta.get("modality", ""),
        "shape": list(volume.shape),
        "spacing": volume.spacing.round(6).tolist(),
        "origin": volume.origin.round(6).tolist(),
        "direction": volume.direction.round(6).tolist(),
        "affine": np.round(volume.affine, 6).tolist(),
        "value_range": [lo, hi],
        "dtype": str(volume.array.dtype),
        "label": volume.meta.get("label", ""),
        "partial": bool(volume.meta.get("partial", False)),
        "warnings": list(volume.meta.get("warnings", [])),
    }


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text).strip("_")[:60]


def _nifti_folder(path: Path) -> Path:
    """The --nifti folder: it must exist, be a folder and be writable (checked before loading)."""
    folder = output_folder(path)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"The folder {folder} cannot be written to; choose another place.")
    return folder


def _write_nifti(volume: Volume, target: Path) -> None:
    try:
        write_volume(volume, target)
    except OSError as error:
        raise InputError(
            f"Cannot write {target.name} into {target.parent}: "
            f"{error.strerror or type(error).__name__}."
        ) from None


def load_command(args: argparse.Namespace) -> int:
    """Load one or every series under a path and print each volume's geometry."""
    folder = _nifti_folder(args.nifti) if args.nifti is not None else None
    result = scan([args.path])
    series = result.all_series()
    if args.series:
        series = [s for s in series if s.uid == args.series]
        if not series:
            raise InputError(f"No series with UID {args.series} under {args.path}.")
    if not series:
        raise InputError(f"No DICOM series found under {args.path}.")
    out = []
    for info in series:
        for n, volume in enumerate(load_series(info.files)):
            entry = volume_json(volume)
            if folder is not None:
                name = f"{_safe(info.description) or 'series'}_{info.number}_{n + 1}.nii.gz"
                target = folder / name
                _write_nifti(volume, target)
                entry["nifti"] = str(target)
            out.append(entry)
    if args.json:
        print(json.dumps({"volumes": out}, indent=2))
    else:
        for v in out:
            print(
                f"{v['modality']} {v['label'] or v['series_uid']}: shape (k,j,i) {v['shape']}, "
                f"spacing (i,j,k) {v['spacing']} mm, origin {v['origin']} mm LPS, "
                f"values {v['value_range']}"
            )
            for warning in v["warnings"]:
                print(f"  warning: {warning}")
            if "nifti" in v:
                print(f"  written to {v['nifti']}")
    return 0
