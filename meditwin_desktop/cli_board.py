"""`meditwin board`: the board meetings of the case library from the command line.

`meditwin board list [--json]` lists the meetings (latest first); `meditwin board show ID
[--json]` prints one: its attendees and its agenda with each case's question and decision;
`meditwin board agenda ID --out FILE.pdf` writes its agenda; `meditwin board report ID
[--case N] --out FILE.pdf` its decision report (case N, counted from 1, or every case).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.output_paths import output_file


def add_parser(commands) -> None:
    """Add the `board` subcommand to the `meditwin` parser."""
    board = commands.add_parser("board", help="board meetings: list, show, agenda, report")
    actions = board.add_subparsers(dest="board_command", required=True)
    listing = actions.add_parser("list", help="list the board meetings, latest first")
    listing.add_argument("--json", action="store_true", help="print JSON")
    show = actions.add_parser("show", help="print a meeting: attendees, cases, decisions")
    show.add_argument("meeting", metavar="ID")
    show.add_argument("--json", action="store_true", help="print JSON")
    agenda = actions.add_parser("agenda", help="write a meeting's agenda as PDF")
    agenda.add_argument("meeting", metavar="ID")
    agenda.add_argument("--out", required=True, help="the PDF file to write")
    report = actions.add_parser("report", help="write a meeting's decision report as PDF")
    report.add_argument("meeting", metavar="ID")
    report.add_argument("--case", type=int, metavar="N", help="only case N of the agenda")
    report.add_argument("--out", required=True, help="the PDF file to write")


def board_command(args: argparse.Namespace) -> int:
    """Run `meditwin board ...`."""
    from meditwin_desktop.core.board import Meetings
    from meditwin_desktop.core.store import CaseLibrary

    if args.board_command in ("agenda", "report"):
        out = output_file(args.out, ".pdf")  # before anything is loaded
    library = CaseLibrary()
    meetings = Meetings(library)
    if args.board_command == "list":
        found = meetings.list()
        document = {"meetings": [{"id": m.id, "date": m.date, "specialty": m.specialty,
                                  "chair": m.chair, "state": m.state, "cases": len(m.items),
                                  "decided": sum(i.decision is not None for i in m.items)}
                                 for m in found]}  # fmt: skip
        text = "\n".join(
            f"{m['id']}  {m['date']}  {m['specialty']}  ({m['state']})  {m['cases']} case(s), "
            f"{m['decided']} decided"
            for m in document["meetings"]
        )
        print(json.dumps(document, indent=2) if args.json else text or "No board meeting yet.")
        return 0
    meeting = meetings.load(args.meeting)
    if args.board_command == "show":
        print(json.dumps(asdict(meeting), indent=2) if args.json else _show(meeting))
        return 0
    if args.board_command == "agenda":
        from meditwin_desktop.core.board_report import write_agenda_pdf

        print(f"Agenda written to {write_agenda_pdf(meeting, library, out)}")
        return 0
    from meditwin_desktop.core.board_report import write_decision_report

    index = None
    if args.case is not None:
        if not 1 <= args.case <= len(meeting.items):
            raise InputError(
                f"--case {args.case}: the meeting has {len(meeting.items)} case(s), from 1."
            )
        index = args.case - 1
    print(f"Decision report written to {write_decision_report(meeting, library, out, index)}")
    return 0


def _show(meeting) -> str:
    """The meeting as text (English: the command line is for IT staff and scripts)."""
    out = [
        f"{meeting.specialty} board, {meeting.date} ({meeting.state}); chair: {meeting.chair}",
        "Attendees: " + (", ".join(f"{a.name} ({a.role})" for a in meeting.attendees) or "none"),
    ]
    for n, item in enumerate(meeting.items, 1):
        out.append(f"{n}. case {item.case_id}: {item.question}")
        decision = item.decision
        if decision is None:
            out.append("   no decision recorded")
            continue
        out.append(f"   decision: {decision.option}")
        texts = {"alternatives": decision.alternatives, "rationale": decision.rationale,
                 "follow-up": decision.follow_up, "notes": decision.notes}  # fmt: skip
        for label, text in texts.items():
            if text:
                out.append(f"   {label}: {text}")
        out.append(f"   signed by {decision.signed_by} at {decision.signed_at}, "
                   f"case revision {decision.case_revision}")  # fmt: skip
    return "\n".join(out)
