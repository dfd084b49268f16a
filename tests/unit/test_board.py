"""Board meetings: kept in the library (format 4, migrated from 3), decisions signed and
tied to the case revision the board saw (history, pruning, amendment), a killed process
loses no decision, the agenda and decision PDFs, `meditwin board`, no patient data in logs."""

from __future__ import annotations

import copy
import json
import logging
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from meditwin_desktop import cli
from meditwin_desktop.core.board import (
    IN_PROGRESS,
    AgendaItem,
    Attendee,
    Decision,
    Meetings,
    new_meeting,
)
from meditwin_desktop.core.board_report import write_agenda_pdf, write_decision_report
from meditwin_desktop.core.case import Case
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.scenarios import _user
from meditwin_desktop.core.store import CaseLibrary

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "Resect segment VI or ablate the 18 mm metastasis?"


def _meeting(*case_ids: str, date: str = "2026-12-08"):
    people = [Attendee("Dr Chair", "chair"), Attendee("Dr Scan", "radiologist")]
    meeting = new_meeting(date, "digestive oncology", "Dr Chair", people)
    meeting.items = [AgendaItem(case_id, f"{QUESTION} ({n})") for n, case_id in enumerate(case_ids)]
    return meeting


def _library(tmp_path: Path) -> tuple[CaseLibrary, Case]:
    library = CaseLibrary(tmp_path / "lib")
    case = Case(name="Marie Curiel", patient_id="PID-4242", clinical={"age_y": 61})
    library.save(case)
    return library, case


def _pages(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() for page in PdfReader(path).pages]


def test_meetings_round_trip_list_newest_first_and_survive_reopening(tmp_path):
    library, case = _library(tmp_path)
    meetings = Meetings(library)
    old, new = _meeting(case.id, date="2026-11-02"), _meeting(case.id, case.id)
    new.state, new.current = IN_PROGRESS, 1
    meetings.save(new)
    meetings.save(old)
    again = Meetings(CaseLibrary(tmp_path / "lib"))  # another start of the program
    assert [m.id for m in again.list()] == [new.id, old.id]
    back = again.load(new.id)
    assert back.attendees == new.attendees and back.items == new.items
    assert (back.date, back.specialty, back.chair, back.current) == ("2026-12-08",
            "digestive oncology", "Dr Chair", 1)  # fmt: skip
    assert again.in_progress().id == new.id
    new.state = "closed"
    again.save(new)
    assert again.in_progress() is None
    again.delete(old.id)
    with pytest.raises(InputError, match="no board meeting"):
        again.load(old.id)
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        new_meeting("8/12/2026", "oncology", "Dr Chair")


def test_a_library_of_format_3_is_migrated_to_hold_meetings(tmp_path):
    library, case = _library(tmp_path)
    with sqlite3.connect(library.path) as db:  # back to format 3: no meeting tables
        db.execute("DROP TABLE meetings")
        db.execute("DROP TABLE board_decisions")
        db.execute("PRAGMA user_version = 3")
    library = CaseLibrary(tmp_path / "lib")
    assert library.load(case.id).name == "Marie Curiel"
    meetings = Meetings(library)
    meeting = _meeting(case.id)
    meetings.record_decision(meeting, 0, Decision("resection"))
    assert Meetings(CaseLibrary(tmp_path / "lib")).load(meeting.id).items[0].decision
    with sqlite3.connect(library.path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 4
    [copy] = (tmp_path / "lib").glob("library.format3-*.sqlite")  # kept as it was, first
    with sqlite3.connect(copy) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 3


def test_a_decision_is_signed_and_keeps_the_revision_the_board_saw(tmp_path):
    library, case = _library(tmp_path)
    library.keep = 2  # old revisions are pruned quickly...
    meetings = Meetings(library)
    meeting = _meeting(case.id)
    meetings.save(meeting)
    before = datetime.now(UTC).replace(microsecond=0)
    decided = meetings.record_decision(meeting, 0, Decision(
        "resection", alternatives="thermal ablation", rationale="close to the portal vein",
        follow_up="CT at 3 months", present=["Dr Chair"]))  # fmt: skip
    decision = decided.items[0].decision
    signed = datetime.fromisoformat(decision.signed_at)
    assert signed.utcoffset() == timedelta(0) and before <= signed <= datetime.now(UTC)
    assert (decision.signed_by, decision.case_revision) == (_user(), 1)
    assert meeting.items[0].decision == decision  # updated in place too
    for age in (62, 63, 64):  # the case edited after the meeting
        case.clinical["age_y"] = age
        library.save(case)
    stored = Meetings(CaseLibrary(tmp_path / "lib")).load(meeting.id).items[0].decision
    assert stored == decision and stored.case_revision == 1
    assert library.load(case.id, 1).clinical["age_y"] == 61  # ...but not the one decided on
    with pytest.raises(InputError):
        library.load(case.id, 2)  # (pruned: the pin is what kept revision 1)
    history = library.history(case.id)
    assert [h.revision for h in history][:2] == [4, 3]
    notes = [h for h in history if h.note.startswith("board decision")]
    assert [(h.revision, h.note) for h in notes] == [(1, "board decision 2026-12-08: resection")]
    assert library.load(case.id).clinical["age_y"] == 64  # the head, unchanged by the note
    with pytest.raises(InputError, match="option"):
        meetings.record_decision(meeting, 0, Decision(""))
    with pytest.raises(InputError, match="no case number 2"):
        meetings.record_decision(meeting, 1, Decision("x"))


def test_an_amended_decision_replaces_the_last_and_the_first_stays_in_the_history(tmp_path):
    library, case = _library(tmp_path)
    meetings = Meetings(library)
    meeting = _meeting(case.id)
    before = copy.deepcopy(meeting)
    meetings.record_decision(meeting, 0, Decision("ablation", rationale="small lesion"))
    meetings.save(before)  # a late autosave of a copy taken before the decision...
    assert meetings.load(meeting.id).items[0].decision.option == "ablation"  # ...keeps it
    assert before.items[0].decision.option == "ablation"
    case.clinical["age_y"] = 62
    library.save(case)  # the presenter corrected the case, saved, and the board re-decided
    meetings.record_decision(meeting, 0, Decision("", scenario="Resection 1 cm margin"))
    assert meetings.load(meeting.id).items[0].decision.option == "Resection 1 cm margin"
    recorded = meetings.decisions(meeting.id, 0)
    assert [(r.decision.option, r.decision.case_revision) for r in recorded] == [
        ("ablation", 1), ("Resection 1 cm margin", 2)]  # fmt: skip
    notes = [(h.revision, h.note) for h in library.history(case.id) if h.note.startswith("board")]
    assert notes == [(2, "board decision 2026-12-08 (amended): Resection 1 cm margin"),
                     (1, "board decision 2026-12-08: ablation")]  # fmt: skip
    report = " ".join(_pages(write_decision_report(meeting, library, tmp_path / "d.pdf", 0)))
    assert "Resection 1 cm margin" in report and "Amends the decision signed by" in report


KILLED = """
import os, sys
from meditwin_desktop.core.board import Decision, Meetings, AgendaItem, new_meeting
from meditwin_desktop.core.store import CaseLibrary
meetings = Meetings(CaseLibrary(sys.argv[1]))
meeting = new_meeting("2026-12-08", "oncology", "Dr Chair")
meeting.items = [AgendaItem(case_id, "q") for case_id in sys.argv[2:]]
meeting.state = "in progress"
for n in range(len(meeting.items)):
    meeting.current = n
    meetings.save(meeting)
    meetings.record_decision(meeting, n, Decision(f"option {n}", rationale=f"why {n}"))
os._exit(1)  # killed right after the last save returned: no clean-up, no close
"""


def test_a_process_killed_after_saving_loses_no_decision(tmp_path):
    library, case = _library(tmp_path)
    other = Case(name="Paul Other", patient_id="PID-9")
    library.save(other)
    done = subprocess.run([sys.executable, "-c", KILLED, str(library.root), case.id, other.id],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 1, done.stderr
    reopened = Meetings(CaseLibrary(tmp_path / "lib")).in_progress()
    assert reopened is not None and reopened.current == 1
    assert [i.decision.option for i in reopened.items] == ["option 0", "option 1"]
    assert [i.decision.rationale for i in reopened.items] == ["why 0", "why 1"]


@pytest.fixture(scope="module")
def fh_case():
    from meditwin_desktop.core.registry import discover
    from meditwin_desktop.core.runner import Runner
    from meditwin_desktop.core.scenarios import run_scenarios
    from meditwin_desktop.core.twin import Scenario
    from meditwin_desktop.demo.case import demo_case

    case = demo_case("fh-patient")
    twin = discover().get("cardiometabolic")
    statin = Scenario("High statin", {"therapy": "statin_high"})
    case.scenarios[twin.id] = [Scenario("Baseline"), statin]
    runner = Runner()
    try:
        runs = run_scenarios(twin, case, case.scenarios[twin.id], runner)
    finally:
        runner.shutdown()
    assert [r.status for r in runs] == ["ok", "ok"], [r.error for r in runs]
    return case


def test_the_pdfs_print_the_agenda_and_what_was_decided_on_what_the_board_saw(
    fh_case, tmp_path, caplog
):
    caplog.set_level(logging.DEBUG)
    library = CaseLibrary(tmp_path / "lib")
    case = fh_case
    library.save(case)
    meetings = Meetings(library)
    meeting = _meeting(case.id, case.id)
    meetings.record_decision(meeting, 0, Decision(
        "High statin", scenario="High statin", rationale="LDL far above its target",
        follow_up="lipids in 6 weeks"))  # fmt: skip
    ldl = case.clinical["ldl_mg_dl"]
    case.clinical["ldl_mg_dl"] = 193.0  # after the meeting: every run is now out of date
    try:
        library.save(case)
    finally:
        case.clinical["ldl_mg_dl"] = ldl

    [agenda] = _pages(write_agenda_pdf(meeting, library, tmp_path / "agenda.pdf"))
    for text in ("Dr Scan", "radiologist", f"{QUESTION} (1)", case.name, case.patient_id):
        assert text in " ".join(agenda.split()), text

    [decided] = _pages(write_decision_report(meeting, library, tmp_path / "one.pdf", 0))
    flat = " ".join(decided.split())
    for text in (f"{QUESTION} (0)", "High statin", "LDL far above its target",
                 "lipids in 6 weeks", f"Signed by {_user()}", "Case revision 1"):  # fmt: skip
        assert text in flat, text
    assert "OUT OF DATE" not in flat  # the revision the board saw, not the latest
    assert "LDL-C on treatment" in flat  # the key outcomes, coloured against the target

    whole = _pages(write_decision_report(meeting, library, tmp_path / "all.pdf"))
    assert len(whole) == 1 + 2  # a summary page, then one page per case
    assert "No decision recorded yet" in whole[2]
    assert "OUT OF DATE" in whole[2]  # undecided: the latest revision, stale since the edit

    [hidden] = _pages(write_agenda_pdf(meeting, library, tmp_path / "p.pdf",
                                       pseudonyms={case.id: "RCP-017"}))  # fmt: skip
    assert "RCP-017" in hidden and case.patient_id not in hidden
    for secret in (case.name, case.patient_id, "LDL far above", QUESTION):
        assert secret not in caplog.text, secret


def test_board_command_lists_shows_and_writes_the_pdfs(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MEDITWIN_HOME", str(tmp_path))
    library = CaseLibrary()
    case = Case(name="Ann Example", patient_id="A-1")
    library.save(case)
    meeting = _meeting(case.id)
    Meetings(library).record_decision(meeting, 0, Decision("surveillance"))

    assert cli.main(["board", "list", "--json"]) == 0
    [entry] = json.loads(capsys.readouterr().out)["meetings"]
    assert (entry["id"], entry["cases"], entry["decided"]) == (meeting.id, 1, 1)
    assert cli.main(["board", "show", meeting.id]) == 0
    assert "decision: surveillance" in capsys.readouterr().out
    assert cli.main(["board", "agenda", meeting.id, "--out", str(tmp_path / "a.pdf")]) == 0
    assert cli.main(["board", "report", meeting.id, "--case", "1",
                     "--out", str(tmp_path / "r.pdf")]) == 0  # fmt: skip
    assert len(_pages(tmp_path / "r.pdf")) == 1 and len(_pages(tmp_path / "a.pdf")) == 1
    assert cli.main(["board", "report", meeting.id, "--case", "2", "--out",
                     str(tmp_path / "x.pdf")]) == 2  # fmt: skip
    assert cli.main(["board", "show", "nope"]) == 2
