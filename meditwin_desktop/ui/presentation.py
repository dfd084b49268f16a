"""Presentation mode: the board meeting on a shared screen.

The real main window is driven, in its presentation layout (`presentation_layout`): the
views, the 3D rotation and the comparison of scenarios work as usual. Right, Page Down or
Space: next case; Left or Page Up: previous; D: the decision; Esc: leave (the meeting is
saved and stays in progress until the chair ends it).

The meeting is saved at every move and decision (`core.board.Meetings`): after a crash
the window reopens it at the same case with every decision (`board_agenda.offer_resume`).
While a case is shown the next one is loaded in the background (its document and image,
then its 3D surfaces into `core.imaging.surface_cache`), so moving to it only puts it on
screen.
"""

from __future__ import annotations

import copy
import html
import logging
import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox

from meditwin_desktop.core.board import CLOSED, IN_PROGRESS, Decision, Meeting, Meetings
from meditwin_desktop.core.case import Case
from meditwin_desktop.core.case_images import load_case_image
from meditwin_desktop.core.errors import MeditwinError
from meditwin_desktop.core.i18n import N_, date_text, tr
from meditwin_desktop.core.imaging.surface_cache import cached_label_surfaces, shown_values
from meditwin_desktop.core.store import LibraryError
from meditwin_desktop.ui.decision_form import DecisionPanel
from meditwin_desktop.ui.presentation_layout import PresentationHeader, PresentationLayout

log = logging.getLogger(__name__)


class Presentation(QObject):
    """The board meeting on the main window: navigation, decisions, autosave, prefetch."""

    case_shown = Signal(int)  # the agenda item whose case is now on screen
    left = Signal()  # the window is back to its usual layout

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.meeting: Meeting | None = None
        self.index = -1
        self.shown = -1  # the item whose case is on screen, header and panel filled
        self.active = False
        self.open_times: list[tuple[int, float, bool]] = []  # (item, seconds, from cache)
        self._cache: dict[str, Case] = {}  # prefetched, not yet shown
        self._fetching: set[str] = set()
        self._waiting: tuple[str, int] | None = None  # (case id, generation) a fetch brings
        self._target: tuple[str, float, bool] | None = None  # (case id, start, cached)
        self._drafts: dict[int, Decision] = {}
        self.pseudonyms: dict[str, str] = {}  # case id -> pseudonym shown (and printed)
        self.layout = PresentationLayout(window, {
            "next": self.next, "previous": self.previous, "decision": self.focus_decision,
            "leave": self.leave,
        })  # fmt: skip
        self.layout.closing.connect(lambda: self.leave(closing=True))
        self._flags_timer = QTimer(self, interval=1000)
        self._flags_timer.timeout.connect(self._show_flags)
        window.cases.replaced.connect(self._replaced)
        window.cases.changed.connect(self._identity_changed)

    # -- the meeting ------------------------------------------------------------------------
    @property
    def meetings(self) -> Meetings | None:
        """The meetings of the window's library (None without a library)."""
        library = self.window.session.library
        return Meetings(library) if library is not None else None

    @property
    def panel(self) -> DecisionPanel | None:
        """The decision panel (while presenting)."""
        return self.layout.panel

    @property
    def header(self) -> PresentationHeader | None:
        """The header above the views (while presenting)."""
        return self.layout.header

    def start(self, meeting: Meeting, index: int | None = None) -> None:
        """Present `meeting` from item `index` (default: where it was left)."""
        if self.meetings is None:
            from meditwin_desktop.ui.case_dialogs import show_library_problem

            show_library_problem(self.window)
            return
        if not meeting.items:
            QMessageBox.information(
                self.window, tr("Present the meeting"), tr("The agenda is empty: add cases first.")
            )
            return
        if self.active and self.meeting is not None and self.meeting.id != meeting.id:
            self.leave()
        self.meeting, self._drafts = meeting, {}
        meeting.state = IN_PROGRESS
        if not self.active:
            self._enter()
        self.index = -1
        self.go(meeting.current if index is None else index)

    def save_meeting(self) -> bool:
        """Store the meeting now (a small SQLite transaction); say so if it fails."""
        meetings = self.meetings
        if meetings is None or self.meeting is None:
            return False
        try:
            meetings.save(self.meeting)
        except (LibraryError, MeditwinError, OSError) as error:
            log.error("saving the board meeting failed: %s", type(error).__name__)
            self.window.message.setText(
                tr("The meeting could not be saved: {error}").format(error=error)
            )
            if self.header is not None:
                self.header.flags.setText(tr("⚠ the meeting is not saved"))
            return False
        return True

    # -- moving between cases ----------------------------------------------------------
    def next(self) -> None:
        """The next case of the agenda."""
        self.go(self.index + 1)

    def previous(self) -> None:
        """The previous case of the agenda."""
        self.go(self.index - 1)

    def go(self, index: int) -> None:
        """Show agenda item `index`: the meeting is saved at it, its case opened (at once
        when prefetched), the decision panel filled."""
        meeting = self.meeting
        if not self.active or meeting is None:
            return
        index = max(0, min(index, len(meeting.items) - 1))
        if index == self.index:
            return
        self._keep_draft()
        self.index = meeting.current = index
        self.shown = -1
        meeting.state = IN_PROGRESS
        self.save_meeting()
        self._show_header()
        self._open(meeting.items[index].case_id)

    def _open(self, case_id: str) -> None:
        window, start = self.window, time.perf_counter()
        open_case = window.cases.case
        if open_case is not None and open_case.id == case_id and self._target is None:
            self._shown()  # already on screen (the presenter opened it, or it resumed)
            return
        cached = self._cache.pop(case_id, None)
        if cached is not None and self._fresh(cached):
            self._target = (case_id, start, True)
            window.switch_case(cached)  # on screen at once: `_replaced` follows
            return
        self._target = (case_id, start, case_id in self._fetching)
        if case_id in self._fetching:  # the prefetch will bring it
            window.switch_case(None)
            window.session.set_loading(tr("Opening a saved case…"))
            self._waiting = (case_id, window.session.generation)
            return
        self._waiting = None
        window.open_case(case_id)

    def _fresh(self, case: Case) -> bool:
        """Whether a prefetched case is still the library's head, with no save pending."""
        library = self.window.session.library
        if library is None or self.window.cases.saving(case.id):
            return False
        try:
            return library.history(case.id)[0].revision == case.revision
        except (LibraryError, MeditwinError, OSError):
            return False

    def _replaced(self, case: Case | None) -> None:
        target = self._target
        if not self.active or target is None or case is None or case.id != target[0]:
            return
        self._target = None
        # the window shows the case (views, twin, comparison) after this: then it is timed
        QTimer.singleShot(0, lambda: self._shown(target))

    def _identity_changed(self, what: str) -> None:
        """A pseudonym set for the case on screen names it for the rest of the meeting
        (on screen and in the reports)."""
        case, session = self.window.cases.case, self.window.session
        if what != "identity" or not self.active or case is None:
            return
        if session.pseudonym:
            self.pseudonyms[case.id] = session.pseudonym
        else:
            self.pseudonyms.pop(case.id, None)
        self._show_flags()

    def _shown(self, target: tuple[str, float, bool] | None = None) -> None:
        """The item's case is on screen: header, decision panel, next case prefetched."""
        if not self.active or self.meeting is None:
            return
        if target is not None:
            seconds = time.perf_counter() - target[1]
            self.open_times.append((self.index, seconds, target[2]))
            log.info("board case %d on screen in %.3f s%s", self.index + 1, seconds,
                     " (prefetched)" if target[2] else "")  # fmt: skip
        case, session = self.window.cases.case, self.window.session
        if case is not None and case.id in self.pseudonyms and session.pseudonym is None:
            session.set_pseudonym(self.pseudonyms[case.id])
            self.window.pseudonym_action.setChecked(True)
        self.window.scene.set_tool("navigate")  # Esc then leaves the presentation
        self._show_header()
        self._show_decision()
        self._prefetch(self.index + 1)
        self.shown = self.index
        self.case_shown.emit(self.index)

    def _prefetch(self, index: int) -> None:
        """Load the case of item `index` in the background, once its saves are done."""
        meeting, window = self.meeting, self.window
        library = window.session.library
        if meeting is None or library is None or not 0 <= index < len(meeting.items):
            return
        case_id = meeting.items[index].case_id
        on_screen = window.cases.case is not None and window.cases.case.id == case_id
        if on_screen or case_id in self._cache or case_id in self._fetching:
            return
        self._cache.clear()  # one case kept ahead: images are large
        # read here, on the GUI thread, as `_load_labels` reads them when the case opens
        hidden, budget = set(window.scene.hidden_labels), window.view3d.triangle_budget()

        def work(*, progress, cancelled) -> Case:
            return load_case_image(library.load(case_id), progress=progress, cancelled=cancelled)

        def done(case: Case) -> None:
            self._fetching.discard(case_id)
            waiting, self._waiting = self._waiting, None
            if waiting is not None and waiting[0] == case_id and self.active:
                if window.session.generation == waiting[1]:  # nothing else opened meanwhile
                    window.switch_case(case)
                return
            if self.active:
                self._cache[case_id] = case
                self._prefetch_surfaces(case, hidden, budget)

        def failed(_error) -> None:  # opened the usual way, which says what is wrong
            self._fetching.discard(case_id)
            if self._waiting is not None and self._waiting[0] == case_id and self.active:
                self._waiting = None
                window.open_case(case_id)

        def begin() -> None:
            if self.active and case_id not in self._fetching:
                self._fetching.add(case_id)
                window._start(N_("Preparing the next case"), work, on_done=done,
                              on_failed=failed, quiet=True)  # fmt: skip

        window.cases.after_saving(case_id, begin)  # what was just saved is what is read

    def _prefetch_surfaces(self, case: Case, hidden: set[str], budget: int) -> None:
        """Compute the prefetched case's label surfaces into the surface cache, as opening
        it asks for them (its labels, those not hidden, the view's triangle budget): it
        then finds them there (if it opens first, it waits for these)."""
        study = case.study
        labels = study.labels if study is not None and study.image is not None else None
        if labels is None:
            return

        def work(*, progress, cancelled) -> None:
            cached_label_surfaces(labels, shown_values(labels, hidden), max_triangles=budget,
                                  progress=progress, cancelled=cancelled)  # fmt: skip

        self.window._start(N_("Preparing the next case's surfaces"), work,
                           on_done=lambda _: None, quiet=True)  # fmt: skip

    # -- the decision ------------------------------------------------------------------------
    def _scenario_names(self) -> list[str]:
        case, twin = self.window.cases.case, self.window.twin_panel.twin
        if case is None:
            return []
        ids = [twin.id] if twin is not None else list(case.scenarios) + list(case.runs)
        names: list[str] = []
        for twin_id in ids:
            for name in [s.name for s in case.scenarios.get(twin_id, [])] + [
                r.scenario for r in case.runs.get(twin_id, [])
            ]:
                if name and name not in names:
                    names.append(name)
        return names

    def _show_decision(self) -> None:
        panel, meeting = self.panel, self.meeting
        if panel is None or meeting is None or not 0 <= self.index < len(meeting.items):
            return
        item = meeting.items[self.index]
        title = tr("Case {number} of {count}").format(number=self.index + 1,
                                                      count=len(meeting.items))  # fmt: skip
        panel.form.show_item(title, self._scenario_names(), meeting.attendees, item.decision,
                             self._drafts.get(self.index))  # fmt: skip

    def _keep_draft(self) -> None:
        """What was typed and not recorded stays with its case until the window closes."""
        panel, meeting = self.panel, self.meeting
        if panel is None or meeting is None or not 0 <= self.index < len(meeting.items):
            return
        typed = panel.form.decision()
        recorded = meeting.items[self.index].decision
        empty = Decision(option="", present=typed.present)
        differs = recorded is None or typed != _unsigned(recorded)
        if typed != empty and differs:
            self._drafts[self.index] = typed
        else:
            self._drafts.pop(self.index, None)

    def record(self, decision: Decision) -> None:
        """Sign and keep the decision for the case on screen: the case is saved first
        when it has changes (the decision names the revision the board saw)."""
        meeting, window = self.meeting, self.window
        case = window.cases.case
        if meeting is None or not 0 <= self.index < len(meeting.items):
            return
        index, case_id = self.index, meeting.items[self.index].case_id
        if case is None or case.id != case_id or self._target is not None:
            self.panel.form.status.setText(
                html.escape(tr("Wait until the case is on screen, then record the decision."))
            )
            return
        if window.cases.dirty:
            window.cases.save(N_("before the board's decision"))

        def write() -> None:
            meetings = self.meetings
            if meetings is None or self.meeting is not meeting:
                return
            try:
                meetings.record_decision(meeting, index, decision)
            except (LibraryError, MeditwinError, OSError) as error:
                log.error("recording a board decision failed: %s", type(error).__name__)
                text = tr("The decision was not recorded: {error}").format(error=error)
                if self.panel is not None and self.index == index:
                    self.panel.form.status.setText(html.escape(text))
                self.window.message.setText(text)
                return
            self._drafts.pop(index, None)
            if self.panel is not None and self.index == index:
                self.panel.form.show_recorded(meeting.items[index].decision)
                self.window.setFocus()  # the keys move between cases again
            self._show_header()

        window.cases.after_saving(case_id, write)

    # -- reports -------------------------------------------------------------------------------
    def export_report(self, path: Path, index: int | None = None) -> None:
        """Write the decision report of item `index` (None: of the whole meeting)."""
        if self.meeting is not None:
            self.write_report(self.meeting, path, index)

    def write_report(self, meeting: Meeting, path: Path, index: int | None) -> None:
        """Write a decision report of `meeting` in the background (a copy is written:
        the meeting goes on meanwhile); the cases given a pseudonym are printed so."""
        from meditwin_desktop.core.board_report import write_decision_report

        library, meeting = self.window.session.library, copy.deepcopy(meeting)
        pseudonyms = dict(self.pseudonyms)
        if library is None:
            return
        self.window._start(
            N_("Writing the decision report"),
            lambda *, progress, cancelled: write_decision_report(
                meeting, library, path, index, pseudonyms=pseudonyms
            ),
            on_done=lambda written: self.window.message.setText(
                tr("Decision report written to {path}").format(path=written)
            ),
        )

    def _ask_report(self, whole: bool) -> None:
        meeting = self.meeting
        if meeting is None:
            return
        name = (
            f"board-{meeting.date}.pdf" if whole else f"board-{meeting.date}-{self.index + 1}.pdf"
        )
        path, _ = QFileDialog.getSaveFileName(
            self.window, tr("Decision report"), name, tr("PDF documents (*.pdf)")
        )
        if path:
            self.export_report(Path(path), None if whole else self.index)

    # -- ending ---------------------------------------------------------------------------------
    def end_meeting(self) -> None:
        """The chair ends the meeting: closed, saved, and the usual layout back."""
        if self.meeting is None:
            return
        self._keep_draft()
        self.meeting.state = CLOSED
        undecided = sum(item.decision is None for item in self.meeting.items)
        self.save_meeting()
        self.leave()
        self.window.message.setText(
            tr("Meeting closed; cases without a decision: {count}.").format(count=undecided)
        )

    def leave(self, *, closing: bool = False) -> None:
        """Back to the usual layout; the meeting stays saved (in progress unless ended).
        `closing`: the window is closing (its size and place are not given back)."""
        if not self.active:
            return
        self._keep_draft()
        self.save_meeting()
        self.active = False
        self._target, self._waiting = None, None
        self._cache.clear()
        self._flags_timer.stop()
        self.layout.exit(closing)
        self.left.emit()

    def _enter(self) -> None:
        offer = self.window.findChild(QMessageBox, "board_resume")
        if offer is not None:  # presenting from the menu answers the offer to resume
            offer.close()
        self.active = True
        self.layout.enter()
        panel = self.layout.panel
        panel.form.record_requested.connect(self.record)
        panel.case_report.clicked.connect(lambda: self._ask_report(False))
        panel.meeting_report.clicked.connect(lambda: self._ask_report(True))
        panel.hide_identity.clicked.connect(self.window.pseudonym_action.trigger)
        panel.end.clicked.connect(self.end_meeting)
        self._flags_timer.start()

    def focus_decision(self) -> None:
        """D: the decision panel, its option field ready for typing."""
        if self.panel is not None:
            self.layout.dock.show()
            self.panel.form.option.setFocus()

    # -- the header --------------------------------------------------------------------------------
    def _show_header(self) -> None:
        header, meeting = self.header, self.meeting
        if header is None or meeting is None or not 0 <= self.index < len(meeting.items):
            return
        item = meeting.items[self.index]
        header.position.setText(
            tr("Case {number} of {count}").format(number=self.index + 1, count=len(meeting.items))
        )
        header.meeting.setText(f"{meeting.specialty} · {date_text(meeting.date)}")
        header.question.setText(
            tr("Question: {question}").format(question=item.question)
            if item.question
            else tr("No question written for this case.")
        )
        header.previous.setEnabled(self.index > 0)
        header.next.setEnabled(self.index < len(meeting.items) - 1)
        self._show_flags()

    def _show_flags(self) -> None:
        """Who is on screen (as the report prints it) and what to be wary of."""
        header, window = self.header, self.window
        if header is None or self.meeting is None:
            return
        identity = window.session.identity()
        case = window.cases.case
        item = self.meeting.items[self.index] if 0 <= self.index < len(self.meeting.items) else None
        if identity is None or case is None or item is None or case.id != item.case_id:
            who = window.session.loading or tr("Opening a saved case…")
        elif identity.pseudonymised:
            who = tr("Patient: {name} (pseudonymised)").format(name=identity.name)
        else:
            who = tr("Patient: {name} (ID {id})").format(
                name=identity.name, id=identity.patient_id or tr("unknown")
            )
        header.who.setText(who)
        flags = []
        stale = len(window.stale) if case is not None else 0
        if stale:
            flags.append(tr("⚠ out-of-date results: {count}").format(count=stale))
        if case is not None and case.problems:
            flags.append(tr("⚠ part of the saved case could not be read"))
        if item is not None and item.decision is not None:
            flags.append(tr("✓ decision recorded"))
        text = "   ".join(flags)
        if header.flags.text() != text:
            header.flags.setText(text)


def _unsigned(decision: Decision) -> Decision:
    """The decision as typed (without its signature), to compare with the form."""
    return Decision(
        option=decision.option,
        scenario=decision.scenario,
        alternatives=decision.alternatives,
        rationale=decision.rationale,
        follow_up=decision.follow_up,
        present=list(decision.present),
        notes=decision.notes,
    )
