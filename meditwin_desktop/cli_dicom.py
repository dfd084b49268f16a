"""`meditwin dicom scan|load`: DICOM import from the command line, as text or JSON."""

from __future__ import annotations

import argparse
import json

import numpy as np

from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.imaging.dicom import load_series, scan
from meditwin_desktop.core.imaging.volume import Volume


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
        "warnings": list(volume.meta.get("warnings", [])),
    }


def load_command(args: argparse.Namespace) -> int:
    """Load one or every series under a path and print each volume's geometry."""
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
        for volume in load_series(info.files):
            out.append(volume_json(volume))
    if args.json:
        print(json.dumps({"volumes": out}, indent=2))
    else:
        for v in out:
            print(
                f"{v['modality']} {v['series_uid']}: shape (k,j,i) {v['shape']}, "
                f"spacing (i,j,k) {v['spacing']} mm, origin {v['origin']} mm LPS, "
                f"values {v['value_range']}"
            )
            for warning in v["warnings"]:
                print(f"  warning: {warning}")
    return 0
