"""A board meeting on paper (A4 PDF, matplotlib Agg, no Qt): the agenda, and the decision
report of one case or of the whole meeting.

The agenda: the meeting (date, specialty, chair), its attendees with their roles, and the
ordered cases with the patient (or a pseudonym) and the question put to the board.

The decision report of a case is read from the case revision the board saw (the
decision's `case_revision`, never the case's latest): the question, each twin's
scenarios with their key outcomes coloured against the clinical targets (marked when out
of date: `core.freshness`), the decision (option, alternatives, rationale, follow-up,
who was present, notes), who signed it and when, and the decisions it amended. The whole
meeting's report is a summary page, then each case's.

The patient is named as in `core.report`: by name and ID, or, for the cases given a
pseudonym in `pseudonyms`, by the pseudonym alone, with the free text (question,
decision, scenario names) redacted by `core.pseudonym.Redactor`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)
from matplotlib.backends.backend_pdf import PdfPages

from meditwin_desktop import APP_NAME, __version__
from meditwin_desktop.core.board import Decision, Meeting, Meetings
from meditwin_desktop.core.case import Case, now
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.freshness import check_runs, stale_runs
from meditwin_desktop.core.i18n import date_text, tr
from meditwin_desktop.core.output_paths import output_file
from meditwin_desktop.core.registry import discover
from meditwin_desktop.core.report import _outcome_rows, _when, outcome_table_header
from meditwin_desktop.core.report_layout import (
    A4,
    LEFT,
    STAMP,
    WARN,
    Cell,
    heading,
    line_height,
    lines,
    page,
    table,
    wrapped,
)
from meditwin_desktop.core.report_layout import _wrap_cell as _wrap_cell
from meditwin_desktop.core.report_summary import key_outcomes
from meditwin_desktop.core.store import CaseLibrary

log = logging.getLogger(__name__)
_BOTTOM = 0.05  # lowest content height on a page, figure fraction
_WIDTH = 100  # characters a text line holds at 9.5 pt


class _Pages:
    """Content flowing down A4 pages: a new page (same title, "continued") when full."""

    def __init__(self, pdf: PdfPages, title: str, stale: bool = False) -> None:
        self.pdf, self.title, self.stale = pdf, title, stale
        self.figure, self.y = page(title, stale)

    def room(self, height: float) -> None:
        if self.y - height < _BOTTOM:
            self.new_page()

    def new_page(self) -> None:
        self.pdf.savefig(self.figure)
        self.figure, self.y = page(tr("{title} (continued)").format(title=self.title),
                                   self.stale)  # fmt: skip

    def heading(self, text: str) -> None:
        self.room(line_height(11) * 3)
        self.y = heading(self.figure, self.y - 0.006, text)

    def lines(self, texts: list[str], size: float = 9.5, **style) -> None:
        for text in wrapped(texts, _WIDTH):
            self.room(line_height(size))
            self.y = lines(self.figure, self.y, [text], size=size, width=10_000, **style)

    def table(self, widths: list[float], header: list, rows: list[list], size=8.0) -> None:
        """A table; continued on the next page (its header repeated) when it is full."""
        top = _row_height(header, widths, size)
        chunk: list[list] = []
        used = 0.0
        for row in rows:
            height = _row_height(row, widths, size)
            if self.y - top - used - height < _BOTTOM and (chunk or self.y < 0.9):
                if chunk:
                    table(self.figure, self.y, widths, header, chunk, size=size)
                self.new_page()
                chunk, used = [], 0.0
            chunk.append(row)
            used += height
        self.y = table(self.figure, self.y, widths, header, chunk, size=size) - 0.006

    def close(self) -> None:
        self.pdf.savefig(self.figure)


def _row_height(row: list, widths: list[float], size: float) -> float:
    """The height `report_layout.table` gives this row."""
    pad = 0.004
    texts = [c.text if isinstance(c, Cell) else str(c) for c in row]
    wraps = [
        len(_wrap_cell(t, (w - 2 * pad) * A4[0], size)) for t, w in zip(texts, widths, strict=True)
    ]
    return max(wraps) * line_height(size) + 2 * pad


def _patient(library: CaseLibrary, case_id: str, pseudonyms: Mapping[str, str]) -> str:
    """'Name (ID 123)', or the pseudonym, of an agenda's case."""
    if case_id in pseudonyms:
        return tr("{name} (pseudonymised)").format(name=pseudonyms[case_id])
    with library._connect() as db:
        row = db.execute("SELECT name, patient_id FROM cases WHERE id = ?", (case_id,)).fetchone()
    if row is None:
        return tr("case {id} (no longer in the library)").format(id=case_id)
    return tr("{name} (ID {id})").format(name=row[0], id=row[1] or tr("unknown"))


def _meeting_lines(meeting: Meeting) -> list[str]:
    return [
        tr("Date: {date}").format(date=date_text(meeting.date)),
        tr("Specialty: {specialty}").format(specialty=meeting.specialty),
        tr("Chair: {chair}").format(chair=meeting.chair),
    ]


def _attendees(pages: _Pages, meeting: Meeting) -> None:
    pages.heading(tr("Attendees"))
    if not meeting.attendees:
        pages.lines([tr("No attendee recorded.")])
        return
    widths = [0.5, 1 - 2 * LEFT - 0.5]
    rows = [[a.name, tr(a.role)] for a in meeting.attendees]
    pages.table(widths, [tr("Name"), tr("Role")], rows, size=9)


def _stamp() -> None:
    STAMP[0] = f"{APP_NAME} {__version__} — {_when(now())}"


def _write(path: Path, draw: Callable[[PdfPages], None]) -> Path:
    from meditwin_desktop.core.atomic import write_atomic

    def write(tmp: Path) -> None:
        with PdfPages(tmp, metadata={"Creator": APP_NAME}) as pdf:
            draw(pdf)

    write_atomic(path, write, suffix=".pdf")
    return path


def write_agenda_pdf(
    meeting: Meeting,
    library: CaseLibrary,
    path: Path,
    *,
    pseudonyms: Mapping[str, str] | None = None,
) -> Path:
    """Write the meeting's agenda (atomically) and return its path."""
    path = output_file(path, ".pdf")
    pseudonyms = pseudonyms or {}
    _stamp()

    def draw(pdf: PdfPages) -> None:
        pages = _Pages(pdf, tr("Board meeting agenda — {specialty}").format(
            specialty=meeting.specialty))  # fmt: skip
        pages.lines(_meeting_lines(meeting), size=10.5)
        _attendees(pages, meeting)
        pages.heading(tr("Cases"))
        if not meeting.items:
            pages.lines([tr("No case on the agenda yet.")])
        rows = [
            [str(n), _patient(library, item.case_id, pseudonyms), _redacted(
                library, item.case_id, pseudonyms)(item.question)]
            for n, item in enumerate(meeting.items, 1)
        ]  # fmt: skip
        widths = [0.05, 0.33, 1 - 2 * LEFT - 0.38]
        if rows:
            pages.table(widths, ["#", tr("Patient"), tr("Question to the board")], rows, size=9)
        pages.close()

    path = _write(path, draw)
    _log(meeting, "agenda")
    return path


def _redacted(library: CaseLibrary, case_id: str, pseudonyms: Mapping[str, str]):
    """The free text of a case as printed: redacted when the case has a pseudonym."""
    if case_id not in pseudonyms:
        return lambda text: text
    from meditwin_desktop.core.pseudonym import Redactor

    try:
        case = library.load(case_id)
    except InputError:
        return lambda text: text
    return Redactor.for_case(case, pseudonyms[case_id])


def write_decision_report(
    meeting: Meeting,
    library: CaseLibrary,
    path: Path,
    index: int | None = None,
    *,
    pseudonyms: Mapping[str, str] | None = None,
) -> Path:
    """Write the decision report of case `index` (0-based), or of the whole meeting when
    None (a summary page, then each case), atomically; return its path."""
    path = output_file(path, ".pdf")
    if index is not None and not 0 <= index < len(meeting.items):
        raise InputError(tr("The agenda has no case number {number}.").format(number=index + 1))
    pseudonyms = pseudonyms or {}
    history = Meetings(library).decisions(meeting.id)
    _stamp()

    def draw(pdf: PdfPages) -> None:
        if index is None:
            _summary(pdf, meeting, library, pseudonyms)
        for n in range(len(meeting.items)) if index is None else [index]:
            case_id = meeting.items[n].case_id
            earlier = [r.decision for r in history if (r.item, r.case_id) == (n, case_id)][:-1]
            _case_pages(pdf, meeting, n, library, pseudonyms, earlier)

    path = _write(path, draw)
    _log(meeting, "decision report" if index is None else f"decision report of case {index + 1}")
    return path


def _log(meeting: Meeting, what: str) -> None:
    log.info("board meeting %s: %s written (%d cases)", meeting.id,
                                     what, len(meeting.items))  # fmt: skip


def _summary(pdf: PdfPages, meeting: Meeting, library: CaseLibrary, pseudonyms) -> None:
    pages = _Pages(pdf, tr("Board meeting decisions — {specialty}").format(
        specialty=meeting.specialty))  # fmt: skip
    pages.lines(_meeting_lines(meeting), size=10.5)
    _attendees(pages, meeting)
    pages.heading(tr("Decisions"))
    rows = []
    for n, item in enumerate(meeting.items, 1):
        redact = _redacted(library, item.case_id, pseudonyms)
        decided = item.decision
        rows.append([
            str(n),
            _patient(library, item.case_id, pseudonyms),
            redact(item.question),
            redact(decided.option) if decided else Cell(tr("no decision recorded"), colour=WARN),
        ])  # fmt: skip
    widths = [0.05, 0.27, 0.3, 1 - 2 * LEFT - 0.62]
    if not rows:
        pages.lines([tr("No case on the agenda.")])
    else:
        pages.table(widths, ["#", tr("Patient"), tr("Question"), tr("Decision")], rows, size=8.5)
    pages.close()


def _seen_case(library: CaseLibrary, case_id: str, decision: Decision | None) -> Case | None:
    """The case revision the board saw (its latest when no decision is recorded)."""
    revision = decision.case_revision if decision and decision.case_revision else None
    try:
        return library.load(case_id, revision)
    except InputError:
        return None


def _case_pages(pdf, meeting: Meeting, n: int, library, pseudonyms, earlier) -> None:
    item = meeting.items[n]
    decision = item.decision
    case = _seen_case(library, item.case_id, decision)
    redact = _redacted(library, item.case_id, pseudonyms)
    stale_twins = _twins(case) if case is not None else []
    if case is not None and item.case_id in pseudonyms:  # freshness judged on the real case
        from meditwin_desktop.core.pseudonym import pseudonymize

        shown = pseudonymize(case, pseudonyms[item.case_id])
        stale_twins = [
            (twin, _ordered(shown, twin.id), {redact(k): redact(v) for k, v in stale.items()})
            for twin, _, stale in stale_twins
        ]
    any_stale = any(stale for _, _, stale in stale_twins)
    pages = _Pages(pdf, tr("Board decision — case {number} of {count}").format(
        number=n + 1, count=len(meeting.items)), any_stale)  # fmt: skip
    pages.lines([
        tr("{specialty} board, {date}; chair: {chair}").format(
            specialty=meeting.specialty, date=date_text(meeting.date), chair=meeting.chair),
        tr("Patient: {patient}").format(patient=_patient(library, item.case_id, pseudonyms)),
    ], size=10.5)  # fmt: skip
    if case is None:
        pages.lines([tr("This case (or the revision the board saw) is no longer in the "
                        "library; only the decision is printed.")], color=WARN)  # fmt: skip
    elif decision is not None:
        pages.lines([tr("Case revision {revision}: the one the board saw.").format(
            revision=decision.case_revision)])  # fmt: skip
    pages.heading(tr("Question to the board"))
    pages.lines([redact(item.question) or tr("none recorded")])
    for twin, runs, stale in stale_twins:
        _outcomes(pages, twin, runs, stale)
    if stale_twins and case.image is None and case.image_reference.get("series_uid"):
        pages.lines([tr("Changes of the image or labels since these runs are not checked "
                        "here (the case's image is not loaded).")], size=8.5)  # fmt: skip
    pages.heading(tr("Decision"))
    if decision is None:
        pages.lines([tr("No decision recorded yet.")], color=WARN)
    else:
        _decision_lines(pages, decision, redact)
    for old in reversed(earlier):
        pages.lines([tr("Amends the decision signed by {user} on {time}: {option}").format(
            user=old.signed_by, time=_when(old.signed_at), option=redact(old.option))],
            size=8.5)  # fmt: skip
    pages.close()


def _decision_lines(pages: _Pages, decision: Decision, redact) -> None:
    option = redact(decision.option)
    if decision.scenario:
        option = tr("{option} (scenario {scenario})").format(
            option=option, scenario=redact(decision.scenario)
        )
    fields = [
        (tr("Chosen option"), option),
        (tr("Alternatives discussed"), redact(decision.alternatives)),
        (tr("Rationale"), redact(decision.rationale)),
        (tr("Follow-up"), redact(decision.follow_up)),
        (tr("Present"), ", ".join(decision.present)),
        (tr("Notes"), redact(decision.notes)),
    ]
    chosen = tr("{label}: {value}").format(label=fields[0][0], value=fields[0][1])
    pages.lines([chosen], size=11, weight="bold")
    for label, text in fields[1:]:
        if text.strip():
            pages.room(line_height(9.5) * 2)
            pages.lines([label], weight="bold")
            pages.lines(["  " + line for line in text.splitlines() or [""]])
    pages.lines([tr("Signed by {user} on {time} (UTC).").format(
        user=decision.signed_by, time=_when(decision.signed_at))], size=10)  # fmt: skip


def _ordered(case: Case, twin_id: str) -> list:
    order = [s.name for s in case.scenarios.get(twin_id, [])]
    runs = case.runs.get(twin_id, [])
    return sorted(runs, key=lambda r: order.index(r.scenario) if r.scenario in order else 99)


def _twins(case: Case) -> list[tuple]:
    """(twin, runs in scenario order, stale) for each installed twin run on the case."""
    registry = discover()
    found = []
    for twin_id, runs in case.runs.items():
        twin = registry.twins.get(twin_id)
        if twin is None or not runs:
            continue
        imaged = case.image is not None or not case.image_reference.get("series_uid")
        stale = check_runs(twin, case) if imaged else stale_runs(twin, case)
        found.append((twin, _ordered(case, twin_id), stale))
    return found


def _outcomes(pages: _Pages, twin, runs, stale: dict[str, str]) -> None:
    """The twin's key outcomes for each scenario, coloured against the targets."""
    ok = [r for r in runs if r.status == "ok"][:6]
    if not ok:
        return
    pages.heading(tr("{twin}: scenarios and key outcomes").format(twin=tr(twin.title)))
    keys = {o.name for o in key_outcomes(twin)}
    rows = [
        row
        for outcome, row in zip(twin.outcomes, _outcome_rows(twin, ok, stale), strict=True)
        if outcome.name in keys
    ]
    first = 0.3
    widths = [first] + [(1 - 2 * LEFT - first) / len(ok)] * len(ok)
    header = outcome_table_header(ok, stale)
    pages.table(widths, header, rows)
    for scenario, why in stale.items():
        pages.lines([tr("{scenario} is out of date: {why}.").format(scenario=scenario,
                                                                     why=why)],
                    size=8.5, color=WARN)  # fmt: skip
