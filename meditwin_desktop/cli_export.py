"""`meditwin export CASE --out DIR --deidentify --pseudonym NAME`: a de-identified export.

Writes DIR/NAME/ (refused if it exists): the case's images as de-identified DICOM, its
labels as DICOM SEG, its results as JSON and a manifest (see `core.deidentify`). Output
with --json: {"folder": path, "images": n, "segmentation": relative path or null,
"files": n, "options": [DCM codes], "dates": "shifted" | "removed", "warnings": [text]}.
Exit: 0 written, 2 bad input (message on stderr), 1 cancelled or failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_parser(commands: Any) -> None:
    """Add the `export` subcommand to `commands` (an argparse subparsers object)."""
    export = commands.add_parser(
        "export",
        help="export a case de-identified (DICOM, DICOM SEG, JSON results)",
        description="Export a case without patient identity (DICOM PS3.15 Basic Profile) "
        "into a new folder named after the pseudonym.",
    )
    export.add_argument("case", help="case id or name in the local library")
    export.add_argument(
        "--out", type=Path, required=True, help="existing folder to create the export in"
    )
    export.add_argument(
        "--deidentify",
        action="store_true",
        help="remove the patient's identity (required: the only export there is)",
    )
    export.add_argument(
        "--pseudonym",
        required=True,
        help="name of the patient in the export and of its folder, e.g. MDT-2024-017",
    )
    export.add_argument(
        "--dates",
        choices=("shift", "remove"),
        default="shift",
        help="shift all dates by one random, unrecorded offset (default) or remove them",
    )
    export.add_argument(
        "--no-patient-characteristics",
        action="store_true",
        help="also leave out age, sex, size and weight",
    )
    export.add_argument(
        "--no-images", action="store_true", help="export the results only (no DICOM)"
    )
    export.add_argument("--json", action="store_true", help="print JSON")


def export_command(args: argparse.Namespace) -> int:
    """Run `meditwin export`; InputError (exit 2 in `cli.main`) for what the user can fix."""
    from meditwin_desktop.core.errors import InputError
    from meditwin_desktop.core.output_paths import output_folder
    from meditwin_desktop.core.pseudonym import check_pseudonym

    if not args.deidentify:
        raise InputError(
            "Only de-identified exports exist: add --deidentify (with --pseudonym NAME)."
        )
    pseudonym = check_pseudonym(args.pseudonym)
    target = output_folder(args.out) / pseudonym
    if target.exists() or target.is_symlink():
        raise InputError(f"{target} already exists; choose another pseudonym or folder.")
    case = _load_case(args.case, images=not args.no_images)
    from meditwin_desktop.core.deidentify import export_deidentified

    folder = export_deidentified(
        case,
        target,
        pseudonym=pseudonym,
        dates=args.dates,
        retain_patient_characteristics=not args.no_patient_characteristics,
        images=not args.no_images,
        progress=_print_progress,
    )
    if sys.stderr.isatty():
        print(file=sys.stderr)  # end the progress line
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    summary = {
        "folder": str(folder),
        "images": manifest["contents"]["images"],
        "segmentation": manifest["contents"]["segmentation"],
        "files": len(manifest["files"]) + 1,
        "options": [option["value"] for option in manifest["options"]],
        "dates": manifest["dates"],
        "warnings": manifest["warnings"],
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    segmentation = "with" if summary["segmentation"] else "without"
    print(
        f"Exported to {folder}: {summary['images']} image(s), {segmentation} segmentation, "
        f"dates {summary['dates']}."
    )
    for warning in summary["warnings"]:
        print(f"note: {warning}")
    return 0


def _load_case(text: str, *, images: bool) -> Any:
    """The case called `text` in the local library, with its image loaded if asked."""
    from meditwin_desktop.core.case_images import load_case_image
    from meditwin_desktop.core.store import CaseLibrary

    library = CaseLibrary()
    case = library.load(library.find(text))
    return load_case_image(case, progress=_print_progress) if images else case


def _print_progress(fraction: float, message: str) -> None:
    if sys.stderr.isatty():
        print(f"\r{fraction:4.0%} {message:<50}", end="", file=sys.stderr, flush=True)
