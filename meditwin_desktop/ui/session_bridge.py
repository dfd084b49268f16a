"""The Qt side of the session (`core.session.Session`): its events as signals in the GUI
thread, and the saving of the open case in the background (autosave, on switch, on exit).

Views connect to `replaced` (a different case: start again from it), `changed` (what
changed in the open case) and `loading_changed`. A save takes a snapshot of the case in
the GUI thread and writes it in a worker thread, so editing goes on while the library
writes. Saves run one at a time, in order: a snapshot taken while another save runs
waits its turn (one per case: the newest), so the case left by a switch is saved as it
was left, and a save that fails is kept and tried again at the next autosave and on exit.
"""

from __future__ import annotations

import logging
from concurrent.futures import TimeoutError as FutureTimeout

from PySide6.QtCore import QObject, QTimer, Signal

from meditwin_desktop.core.case import Case
from meditwin_desktop.core.i18n import N_, tr
from meditwin_desktop.core.session import Session
from meditwin_desktop.core.store import Saved

log = logging.getLogger(__name__)
AUTOSAVE_MS = 60_000
_EXIT_WAIT_S = 30.0


class SessionBridge(QObject):
    """Signals for the session's events; background saves of its case."""

    replaced = Signal(object)  # Case or None
    changed = Signal(str)  # one of core.session.CHANGES
    loading_changed = Signal(str)
    saved = Signal(str)  # a message for the status bar

    def __init__(self, session: Session, start_task, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._start = start_task  # MainWindow._start: background work with progress
        self._queue: list[tuple[Case, str]] = []  # snapshots waiting, oldest first
        self._task = None  # the save in progress
        self._current: tuple[Case, str] | None = None  # its snapshot
        self._saving_id: str | None = None
        self._after_save: list = []  # callbacks waiting for the saves in progress
        # Plain methods, not the signals' bound `emit`: the core keeps no reference to a
        # PySide SignalInstance, which may outlive its C++ object when the window goes.
        session.replaced.connect(self._replaced)
        session.changed.connect(self._changed)
        session.loading_changed.connect(self._loading_changed)
        self.autosave = QTimer(self, interval=AUTOSAVE_MS)
        self.autosave.timeout.connect(self.save_if_dirty)
        self.autosave.start()

    def _replaced(self, case: Case | None) -> None:
        self.replaced.emit(case)

    def _changed(self, what: str) -> None:
        self.changed.emit(what)

    def _loading_changed(self, text: str) -> None:
        self.loading_changed.emit(text)

    def detach(self) -> None:
        """Stop listening to the session (the window closes)."""
        self.autosave.stop()
        self.session.replaced.disconnect(self._replaced)
        self.session.changed.disconnect(self._changed)
        self.session.loading_changed.disconnect(self._loading_changed)

    @property
    def case(self) -> Case | None:
        """The open case."""
        return self.session.case

    @property
    def dirty(self) -> bool:
        """Whether the open case has changes not yet saved."""
        return self.session.dirty

    # -- switching -------------------------------------------------------------------------
    def switch_to(self, case: Case | None) -> None:
        """Save the open case if it changed (as it is now), then open `case` (None: close)."""
        self.save_if_dirty()
        self.session.open(case)

    # -- saving ----------------------------------------------------------------------------
    def save_if_dirty(self) -> None:
        """Save the open case when it has unsaved changes (and retry failed saves)."""
        if self.session.dirty:
            self.save(N_("autosave"))  # the revision's note: kept in English, shown translated
        elif self._queue and self._task is None:
            self._next()

    def save(self, note: str = "") -> None:
        """Store the open case, as it is now, as a new revision (in the background)."""
        session = self.session
        if session.case is None:
            return
        if session.library is None:
            self.saved.emit(tr("Not saved: {problem}").format(problem=session.library_problem))
            return
        snapshot = session.snapshot()
        session.dirty = False
        self._queue = [(c, n) for c, n in self._queue if c.id != snapshot.id]
        self._queue.append((snapshot, note))
        if self._task is None:
            self._next()

    def saving(self, case_id: str | None = None) -> bool:
        """Whether a save of case `case_id` (None: of any case) is running or waiting."""
        ids = {c.id for c, _ in self._queue} | ({self._saving_id} if self._task else set())
        return bool(ids) if case_id is None else case_id in ids

    def after_saving(self, case_id: str | None, callback) -> None:
        """Call `callback` once no save of case `case_id` (None: of any case) is running or
        waiting, at once if none: reopening a case just left must read what was saved."""
        if self.saving(case_id):
            self._after_save.append((case_id, callback))
        else:
            callback()

    def _next(self) -> None:
        snapshot, note = self._queue.pop(0)
        library, session = self.session.library, self.session
        if library is None:
            self._queue.insert(0, (snapshot, note))
            return

        def done(result: Saved) -> None:
            self._ended()
            if session.case is not None and session.case.id == snapshot.id:
                session.case.revision = result.revision
            shown = session.case is not None and session.case.id == snapshot.id
            text = (
                tr("Case saved (revision {revision}).")
                if shown
                else tr("The case you left was saved (revision {revision}).")
            ).format(revision=result.revision)
            if result.replaced_other is not None:
                text += " " + tr(
                    "It had also been changed elsewhere (revision {revision}); both are in "
                    "File > Case history."
                ).format(revision=result.replaced_other)
            self.saved.emit(text)
            self._continue()

        def failed(error: BaseException) -> None:
            self._ended()
            self._queue.insert(0, (snapshot, note))  # kept: tried again at the next autosave
            log.error("saving case %s failed: %s", snapshot.id, type(error).__name__)
            self.saved.emit(
                tr(
                    "Saving the case failed: {error}. Your changes are kept in memory and "
                    "saving is tried again every minute and on closing."
                ).format(error=error)
            )
            self._release_waiting()  # do not block opening other cases on a failing disk

        self._saving_id, self._current = snapshot.id, (snapshot, note)
        self._task = self._start(
            N_("Saving the case"),
            lambda *, progress, cancelled: library.save_detailed(snapshot, note),
            on_done=done,
            on_failed=failed,
            quiet=True,
        )

    def _ended(self) -> None:
        self._task, self._saving_id = None, None

    def _continue(self) -> None:
        if self._queue:
            self._next()
        else:
            self._release_waiting()

    def _release_waiting(self) -> None:
        waiting, self._after_save = self._after_save, []
        for case_id, callback in waiting:
            if self._task is not None and case_id in (None, self._saving_id):
                self._after_save.append((case_id, callback))
            else:
                callback()

    def save_now(self) -> None:
        """The window closes: wait for the save in progress, then store what is waiting
        and the open case's last changes, synchronously."""
        session = self.session
        if session.library is None:
            return
        if self._task is not None and self._task.future is not None:
            try:
                self._task.future.result(timeout=_EXIT_WAIT_S)
            except FutureTimeout:
                log.error("a save was still running when the window closed")
            except Exception:  # it failed: its snapshot is tried once more below
                if self._current is not None:
                    self._queue.insert(0, self._current)
        if session.case is not None and session.dirty:
            self._queue = [(c, n) for c, n in self._queue if c.id != session.case.id]
            self._queue.append((session.snapshot(), N_("on exit")))
            session.dirty = False
        for snapshot, _ in self._queue:
            try:
                session.library.save(snapshot, N_("on exit"))
            except Exception as error:  # closing goes on; earlier revisions are intact
                log.error("saving case %s on exit failed: %s", snapshot.id,
                          type(error).__name__)  # fmt: skip
        self._queue = []
