"""Board meetings (MDT; in French oncology the mandatory RCP): the agenda, and what the
board decided for each case, kept in the case library (no Qt).

A meeting (date, specialty, chair, attendees with their roles) holds an ordered list of
cases, each with the question put to the board. It is one row of the library's
`meetings` table (a JSON document), written in one SQLite transaction whose commit is
fsynced (WAL, `synchronous=FULL`): the meeting autosaves, and a crash reopens it
(`Meetings.in_progress`) at its current case with every decision entered so far.

`Meetings.record_decision` signs a decision (the OS user, UTC time) and ties it to the
case revision the board saw (the case's head in the library; the caller saves the case
first). Each decision recorded, an amendment included, is also appended to the
`board_decisions` table, in the same transaction: `CaseLibrary.history` shows it as an
entry "board decision <date>: <option>" after that revision, and the revision is never
pruned, so `library.load(case_id, decision.case_revision)` always gives what the board
saw. The case's document is not touched (no new revision: a case open elsewhere does not
see a conflicting save). An amendment replaces the meeting's decision; the earlier one
stays in `board_decisions` (`Meetings.decisions`) and in the case's history.
"""

from __future__ import annotations

import copy
import json
import logging
import sqlite3
from collections import Counter
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date as _date

from meditwin_desktop import __version__
from meditwin_desktop.core.case import new_id, now
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import N_, tr
from meditwin_desktop.core.scenarios import _user
from meditwin_desktop.core.store import CaseLibrary
from meditwin_desktop.core.store_schema import LibraryDamaged

log = logging.getLogger(__name__)

FORMAT = 1
PLANNED, IN_PROGRESS, CLOSED = "planned", "in progress", "closed"
STATES = {PLANNED: N_("planned"), IN_PROGRESS: N_("in progress"), CLOSED: N_("closed")}
ROLES = (N_("chair"), N_("oncologist"), N_("radiologist"), N_("surgeon"),
         N_("radiation oncologist"), N_("pathologist"), N_("nurse"), N_("other"))  # fmt: skip
DECISION_NOTE = "board decision {date}: {option}"  # kept in English in the library
AMENDED_NOTE = "board decision {date} (amended): {option}"


@dataclass
class Attendee:
    """A person at the meeting and their role ("oncologist", "chair"...)."""

    name: str
    role: str


@dataclass
class Decision:
    """What the board decided for one case; the last three fields are set on recording."""

    option: str  # the chosen option; a scenario's name or free text
    scenario: str = ""  # the scenario's name when the option is one
    alternatives: str = ""
    rationale: str = ""
    follow_up: str = ""
    present: list[str] = field(default_factory=list)  # attendee names present for this case
    notes: str = ""
    signed_by: str = ""
    signed_at: str = ""  # ISO 8601, UTC
    case_revision: int = 0  # the case revision the board saw


@dataclass
class AgendaItem:
    """A case on the agenda, the question put to the board, and its decision once taken."""

    case_id: str
    question: str
    decision: Decision | None = None


@dataclass
class Meeting:
    """A board meeting: its agenda, where the presentation stands, and its decisions."""

    id: str
    date: str  # ISO date
    specialty: str
    chair: str
    attendees: list[Attendee]
    items: list[AgendaItem]
    current: int = 0  # the item on screen (the crash-reopen point)
    state: str = PLANNED
    updated: str = ""


def new_meeting(
    date: str, specialty: str, chair: str, attendees: tuple[Attendee, ...] | list = ()
) -> Meeting:
    """A planned meeting with an empty agenda; InputError if `date` is not an ISO date."""
    _check_date(date)
    return Meeting(new_id(), date, specialty, chair, list(attendees), [])


def _check_date(text: str) -> None:
    try:
        _date.fromisoformat(text)
    except (TypeError, ValueError):
        raise InputError(
            tr("'{date}' is not a date; write the meeting's date as YYYY-MM-DD.").format(date=text)
        ) from None


def to_document(meeting: Meeting) -> dict:
    """The meeting as JSON-ready data (what the library stores)."""
    return {"format": FORMAT, **asdict(meeting)}


def _known(kind: type, data: dict) -> dict:
    names = {f.name for f in fields(kind)}
    return {key: value for key, value in data.items() if key in names}


def decision_from(data: dict | None) -> Decision | None:
    """A decision read back from its stored form (unknown keys ignored)."""
    return None if data is None else Decision(**_known(Decision, data))


def from_document(data: dict) -> Meeting:
    """A meeting read back from `to_document`'s data (unknown keys ignored)."""
    meeting = Meeting(**_known(Meeting, data))
    meeting.attendees = [Attendee(**_known(Attendee, a)) for a in data.get("attendees", [])]
    meeting.items = [
        AgendaItem(item["case_id"], item.get("question", ""), decision_from(item.get("decision")))
        for item in data.get("items", [])
    ]
    return meeting


def decision_note(meeting: Meeting, decision: Decision, *, amended: bool = False) -> str:
    """The case history's entry for a decision (English, as the library keeps notes)."""
    return (AMENDED_NOTE if amended else DECISION_NOTE).format(
        date=meeting.date, option=decision.option
    )


def _keep_recorded(meeting: Meeting, stored: Meeting) -> None:
    """A copy of the meeting taken before a decision was recorded (a late autosave) does
    not erase it: each agenda item (the n-th of its case) keeps the latest decision."""
    recorded = {key: item.decision for key, item in _keyed(stored.items) if item.decision}
    for key, item in _keyed(meeting.items):
        kept = recorded.get(key)
        if kept and (item.decision is None or item.decision.signed_at < kept.signed_at):
            item.decision = kept


def _keyed(items: list[AgendaItem]) -> list[tuple[tuple[str, int], AgendaItem]]:
    seen: Counter[str] = Counter()
    out = []
    for item in items:
        out.append(((item.case_id, seen[item.case_id]), item))
        seen[item.case_id] += 1
    return out


@dataclass(frozen=True)
class RecordedDecision:
    """One decision as recorded (amended ones included), from `Meetings.decisions`."""

    meeting_id: str
    item: int
    case_id: str
    decision: Decision


class Meetings:
    """The board meetings kept in a case library."""

    def __init__(self, library: CaseLibrary) -> None:
        self.library = library

    def list(self) -> list[Meeting]:
        """Every meeting, the latest date first (then the latest changed)."""
        with self.library._connect() as db:
            rows = db.execute(
                "SELECT id, document FROM meetings ORDER BY date DESC, updated DESC"
            ).fetchall()
        return [self._read(meeting_id, text) for meeting_id, text in rows]

    def load(self, meeting_id: str) -> Meeting:
        """A meeting; InputError if the library has none with this id."""
        with self.library._connect() as db:
            row = db.execute("SELECT document FROM meetings WHERE id = ?",
                             (meeting_id,)).fetchone()  # fmt: skip
        if row is None:
            raise InputError(
                tr("There is no board meeting '{meeting}' in the library.").format(
                    meeting=meeting_id
                )
            )
        return self._read(meeting_id, row[0])

    def in_progress(self) -> Meeting | None:
        """The meeting in progress (the latest changed if several): the one to reopen."""
        with self.library._connect() as db:
            row = db.execute(
                "SELECT id, document FROM meetings WHERE state = ? ORDER BY updated DESC LIMIT 1",
                (IN_PROGRESS,),
            ).fetchone()
        return self._read(*row) if row else None

    def save(self, meeting: Meeting) -> None:
        """Store the meeting (one transaction, fsynced at commit); sets `updated`. A
        decision recorded meanwhile and missing from `meeting` is kept (and put back in it)."""
        self._check(meeting)
        with self.library._transaction() as db:
            self._write(db, meeting)
        log.info("board meeting %s saved (%d cases)", meeting.id, len(meeting.items))

    def delete(self, meeting_id: str) -> None:
        """Remove a meeting. The decisions it recorded stay in their cases' history."""
        with self.library._transaction() as db:
            db.execute("DELETE FROM meetings WHERE id = ?", (meeting_id,))
        log.info("board meeting %s deleted", meeting_id)

    def record_decision(self, meeting: Meeting, index: int, decision: Decision) -> Meeting:
        """Sign `decision` for the case at `index` (user, UTC time, the case's revision in
        the library), save the meeting and add the decision to the case's history, all in
        one transaction; return the meeting, updated in place. Recording again amends."""
        self._check(meeting)
        if not 0 <= index < len(meeting.items):
            raise InputError(tr("The agenda has no case number {number}.").format(number=index + 1))
        if not (decision.option or decision.scenario).strip():
            raise InputError(tr("Write the option the board chose before recording it."))
        item = meeting.items[index]
        with self.library._transaction() as db:
            row = db.execute("SELECT revision FROM cases WHERE id = ?",
                             (item.case_id,)).fetchone()  # fmt: skip
            if row is None:
                raise InputError(
                    tr("Case {number} of the agenda is not in the library (deleted?): "
                       "its decision cannot be recorded.").format(number=index + 1)
                )  # fmt: skip
            signed = replace(
                decision,
                option=(decision.option or decision.scenario).strip(),
                present=list(decision.present),
                signed_by=_user(),
                signed_at=now(),
                case_revision=row[0],
            )
            amended = (
                item.decision is not None
                or db.execute(
                    "SELECT 1 FROM board_decisions WHERE meeting_id = ? AND item = ?"
                    " AND case_id = ?",
                    (meeting.id, index, item.case_id),
                ).fetchone()
                is not None
            )
            db.execute(
                "INSERT INTO board_decisions (meeting_id, item, case_id, case_revision,"
                " signed_at, app_version, note, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (meeting.id, index, item.case_id, signed.case_revision, signed.signed_at,
                 __version__, decision_note(meeting, signed, amended=amended),
                 json.dumps(asdict(signed))),
            )  # fmt: skip
            updated = copy.deepcopy(meeting)
            updated.items[index].decision = signed
            self._write(db, updated)
        for mine, saved in zip(meeting.items, updated.items, strict=True):
            mine.decision = saved.decision  # this one, and any recorded meanwhile
        meeting.updated = updated.updated
        log.info("board meeting %s: decision recorded for case %d of %d%s", meeting.id,
                 index + 1, len(meeting.items), " (amended)" if amended else "")  # fmt: skip
        return meeting

    def decisions(self, meeting_id: str, index: int | None = None) -> list[RecordedDecision]:
        """Every decision recorded in a meeting (for one case: `index`), oldest first;
        amended decisions included."""
        query = (
            "SELECT meeting_id, item, case_id, document FROM board_decisions WHERE meeting_id = ?"
        )
        values: tuple = (meeting_id,)
        if index is not None:
            query, values = query + " AND item = ?", (meeting_id, index)
        with self.library._connect() as db:
            rows = db.execute(query + " ORDER BY signed_at, rowid", values).fetchall()
        return [RecordedDecision(m, i, c, decision_from(json.loads(d))) for m, i, c, d in rows]

    # -- plumbing -------------------------------------------------------------------------
    def _check(self, meeting: Meeting) -> None:
        _check_date(meeting.date)
        if meeting.state not in STATES:
            raise ValueError(f"unknown meeting state {meeting.state!r}")
        meeting.current = max(0, min(meeting.current, len(meeting.items) - 1))

    def _write(self, db: sqlite3.Connection, meeting: Meeting) -> None:
        row = db.execute("SELECT document FROM meetings WHERE id = ?", (meeting.id,)).fetchone()
        if row is not None:
            _keep_recorded(meeting, self._read(meeting.id, row[0]))
        meeting.updated = now()
        db.execute(
            "INSERT INTO meetings (id, date, state, updated, document) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(id) DO UPDATE SET date=excluded.date, state=excluded.state,"
            " updated=excluded.updated, document=excluded.document",
            (meeting.id, meeting.date, meeting.state, meeting.updated,
             json.dumps(to_document(meeting))),
        )  # fmt: skip

    def _read(self, meeting_id: str, text: str) -> Meeting:
        try:
            return from_document(json.loads(text))
        except (ValueError, TypeError, KeyError):
            raise LibraryDamaged(
                tr("The board meeting '{meeting}' in the case library is damaged.").format(
                    meeting=meeting_id
                ),
                self.library.path,
            ) from None
