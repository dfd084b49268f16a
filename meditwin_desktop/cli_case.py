"""`meditwin case import|export`: cases in and out of the library as files.

`meditwin case import PATH [--json]` makes a case of a case file (JSON, see
`core/case_file.py`), a DICOM folder or DICOMDIR (one patient; each series a dated study)
or a single 2D image (a fundus photograph), saves it in the library and prints its id
(`--json`: {"id": ..., "name": ...}). `meditwin case export CASE --out FILE.json` writes a
case of the library as a case file (labels as NIfTI beside it). `meditwin case add-csv CASE
FILE (--measurements | --diary) [--map FIELD=COLUMN ...]` adds measurements or a seizure
diary from a CSV file (columns guessed from English or French headers, see
`core/csv_import.py`; errors name the line and the column).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_parser(commands) -> None:
    """Add the `case` subcommand to the `meditwin` parser."""
    case = commands.add_parser("case", help="import or export a case as a file")
    actions = case.add_subparsers(dest="case_command", metavar="ACTION", required=True)
    source = actions.add_parser("import", help="make a case of a case file, DICOM or a photo")
    source.add_argument("path", type=Path, help="case file (.json), DICOM folder, or image")
    source.add_argument("--json", action="store_true", help='print {"id", "name"}')
    out = actions.add_parser("export", help="write a case of the library as a case file")
    out.add_argument("case", help="case id or name in the local library")
    out.add_argument("--out", type=Path, required=True, help="case file to write (.json)")
    csv = actions.add_parser("add-csv", help="add measurements or a diary from a CSV file")
    csv.add_argument("case", help="case id or name in the local library")
    csv.add_argument("file", type=Path, help="CSV file (English or French headers)")
    kind = csv.add_mutually_exclusive_group(required=True)
    kind.add_argument("--measurements", action="store_true", help="date, name, value, unit...")
    kind.add_argument("--diary", action="store_true", help="date, time, type, duration...")
    csv.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN",
                     help="use this column for a field (the others are guessed)")  # fmt: skip


def case_command(args: argparse.Namespace) -> int:
    """Import or export one case."""
    from meditwin_desktop.core.store import CaseLibrary

    library = CaseLibrary()
    if args.case_command == "import":
        from meditwin_desktop.core.case_import import case_from

        case = case_from(args.path)
        library.save(case, f"imported from {args.path.name}")
        if args.json:
            print(json.dumps({"id": case.id, "name": case.name}))
        else:
            print(f"{case.id}  {case.name}  ({len(case.studies)} studies)")
        return 0
    if args.case_command == "add-csv":
        return _add_csv(args, library)
    from meditwin_desktop.core.case_file import export_case
    from meditwin_desktop.core.output_paths import output_file

    path = output_file(args.out, ".json")
    case = library.load(library.find(args.case))
    export_case(case, path)
    print(f"Case written to {path}")
    return 0


def _add_csv(args: argparse.Namespace, library) -> int:
    """Read a CSV file into the case's measurements or diary and save the case."""
    from meditwin_desktop.core.csv_import import new_records, read_diary, read_measurements
    from meditwin_desktop.core.errors import InputError

    mapping = {}
    for pair in args.map:
        field, sep, column = pair.partition("=")
        if not sep or not field.strip():
            raise InputError(f"--map '{pair}' is not of the form FIELD=COLUMN.")
        mapping[field.strip()] = column.strip() or None
    case = library.load(library.find(args.case))
    if args.measurements:
        found, repeats = new_records(
            case.measurements, read_measurements(args.file, mapping or None)
        )
        case.measurements.extend(found)
        what = "measurements"
    else:
        found, repeats = new_records(case.events, read_diary(args.file, mapping or None))
        case.events.extend(found)
        what = "diary events"
    library.save(case, f"{len(found)} {what} from {args.file.name}")
    skipped = f" ({repeats} repeated or already in the case, left out)" if repeats else ""
    print(f"Added {len(found)} {what} to case {case.id}{skipped}.")
    return 0
