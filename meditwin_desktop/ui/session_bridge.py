"""The Qt side of the session (`core.session.Session`): its events as signals in the GUI
thread, and the saving of the open case in the background (autosave, on switch, on exit).

Views connect to `replaced` (a different case: start again from it), `changed` (what
changed in the open case) and `loading_changed`. Saves take a snapshot of the case in the
GUI thread and write it in a worker thread, so editing goes on while the library writes.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, Signal

from meditwin_desktop.core.case import Case
from meditwin_desktop.core.session import Session
from meditwin_desktop.core.store import Saved

log = logging.getLogger(__name__)
AUTOSAVE_MS = 60_000


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
        self._saving = False
        self._again = False
        self._saving_id: str | None = None
        self._after_save: list = []  # callbacks waiting for the save in progress
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
        """Save the open case if it changed, then open `case` (None: close)."""
        self.save_if_dirty()
        self.session.open(case)

    # -- saving ----------------------------------------------------------------------------
    def save_if_dirty(self) -> None:
        """Save the open case when it has unsaved changes."""
        if self.session.dirty:
            self.save()

    def save(self, note: str = "") -> None:
        """Store the open case as a new revision, in the background."""
        session = self.session
        if session.case is None:
            return
        if session.library is None:
            self.saved.emit(f"Not saved: {session.library_problem}")
            return
        if self._saving:  # one save at a time; the newest state is saved after it
            self._again = True
            return
        snapshot, library = session.snapshot(), session.library
        session.dirty = False
        self._saving, self._saving_id = True, snapshot.id

        def done(result: Saved) -> None:
            self._finished()
            if session.case is not None and session.case.id == snapshot.id:
                session.case.revision = result.revision
            text = f"Case saved (revision {result.revision})."
            if result.replaced_other is not None:
                text += (
                    f" It had also been changed elsewhere (revision {result.replaced_other});"
                    " both are in File > Case history."
                )
            self.saved.emit(text)

        def failed(error: BaseException) -> None:
            self._finished()
            if session.case is not None and session.case.id == snapshot.id:
                session.dirty = True
            log.error("saving case %s failed: %s", snapshot.id, type(error).__name__)
            self.saved.emit(
                f"Saving the case failed: {error}. It stays open; your changes are "
                "kept and saving is tried again."
            )

        task = self._start(
            "Saving the case",
            lambda *, progress, cancelled: library.save_detailed(snapshot, note),
            on_done=done,
            quiet=True,
        )
        task.failed.connect(failed)

    def _finished(self) -> None:
        self._saving, self._saving_id = False, None
        waiting, self._after_save = self._after_save, []
        for callback in waiting:
            callback()
        if self._again:
            self._again = False
            self.save_if_dirty()

    def after_saving(self, case_id: str | None, callback) -> None:
        """Call `callback` once no save of case `case_id` (None: of any case) is in
        progress, at once if none: reopening a case just left must read what was saved."""
        if self._saving and case_id in (None, self._saving_id):
            self._after_save.append(callback)
        else:
            callback()

    def save_now(self) -> None:
        """Store synchronously (the window closes)."""
        session = self.session
        if session.case is None or not session.dirty or session.library is None:
            return
        try:
            session.library.save(session.snapshot(), "on exit")
            session.dirty = False
        except Exception as error:  # closing must go on; the previous revision is intact
            log.error("saving case %s on exit failed: %s", session.case.id, type(error).__name__)
