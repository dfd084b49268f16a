"""`meditwin cases`: the case library from the command line.

`meditwin cases [--json]` lists it: {"cases": [{"id", "name", "patient_id", "modified",
"revisions", "twins"}]}. `--history ID` lists a case's kept revisions; `--restore ID
--revision N` makes revision N the case's head again (as a new revision: nothing is lost).
"""

from __future__ import annotations

import argparse
import json

from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.store import CaseLibrary


def add_parser(commands) -> None:
    """Add the `cases` subcommand to the `meditwin` parser."""
    cases = commands.add_parser("cases", help="list the case library, its history, restore")
    cases.add_argument("--json", action="store_true", help="print JSON")
    cases.add_argument("--history", metavar="ID", help="list the kept revisions of a case")
    cases.add_argument("--restore", metavar="ID", help="make an earlier revision the head")
    cases.add_argument("--revision", type=int, metavar="N", help="the revision to restore")


def cases_command(args: argparse.Namespace) -> int:
    """List, show the history of, or restore cases."""
    library = CaseLibrary()
    if args.restore is not None:
        if args.revision is None:
            raise InputError("--restore needs --revision N (see `meditwin cases --history ID`).")
        case_id = library.find(args.restore)
        new = library.restore(case_id, args.revision)
        _print(args, {"case": case_id, "restored": args.revision, "revision": new},
               f"Case {case_id}: revision {args.revision} restored as revision {new}.")  # fmt: skip
        return 0
    if args.revision is not None:
        raise InputError("--revision goes with --restore ID.")
    if args.history is not None:
        case_id = library.find(args.history)
        revisions = library.history(case_id)
        entries = [{"revision": r.revision, "saved": r.saved, "app_version": r.app_version,
                    "note": r.note} for r in revisions]  # fmt: skip
        text = "\n".join(f"{r.revision:5d}  {r.saved}  {r.note}" for r in revisions)
        _print(args, {"case": case_id, "revisions": entries}, text)
        return 0
    summaries = library.cases()
    entries = [{"id": c.id, "name": c.name, "patient_id": c.patient_id, "modified": c.modified,
                "revisions": c.revisions, "twins": list(c.twins)} for c in summaries]  # fmt: skip
    text = (
        "\n".join(
            f"{c.id}  {c.name}  [{c.patient_id or 'no ID'}]  {c.modified}  "
            f"{c.revisions} revision(s)  {', '.join(c.twins) or 'no twin run'}"
            for c in summaries
        )
        or "The case library is empty."
    )
    _print(args, {"cases": entries}, text)
    return 0


def _print(args: argparse.Namespace, document: dict, text: str) -> None:
    print(json.dumps(document, indent=2) if args.json else text)
