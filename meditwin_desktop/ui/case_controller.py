"""The open case in the GUI: created from the open series, saved (and autosaved) to the
local library, reopened with its image, labels, scenarios and results."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from meditwin_desktop.core.case import Case
from meditwin_desktop.core.case_images import load_case_image
from meditwin_desktop.core.imaging.volume import Volume
from meditwin_desktop.core.store import CaseLibrary

log = logging.getLogger(__name__)
AUTOSAVE_MS = 60_000


class CaseController(QObject):
    """Owns `case`; `changed()` marks it dirty, the autosave timer stores it."""

    case_opened = Signal(object)  # Case
    saved = Signal(str)  # a message for the status bar

    def __init__(self, run, library: CaseLibrary | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self._run = run  # MainWindow._start: background work with progress
        self.library = library or CaseLibrary()
        self.case: Case | None = None
        self.dirty = False
        self._saving = False
        self.autosave = QTimer(self, interval=AUTOSAVE_MS)
        self.autosave.timeout.connect(self.save_if_dirty)
        self.autosave.start()

    def new_case_for(self, volume: Volume, clinical: dict | None = None) -> Case:
        """A case on a freshly opened series (not yet saved)."""
        files = volume.meta.get("files") or []
        folder = str(Path(files[0]).parent) if files else ""
        name = volume.meta.get("patient_name", "").replace("^", " ").strip() or "Unnamed patient"
        self.case = Case(
            name=name,
            patient_id=volume.meta.get("patient_id", ""),
            image=volume,
            image_reference={
                "folder": folder,
                "series_uid": volume.meta.get("series_uid", ""),
                "description": volume.meta.get("series_description", ""),
            },
            clinical=dict(clinical or {}),
        )
        self.dirty = False
        self.case_opened.emit(self.case)
        return self.case

    def adopt(self, case: Case) -> None:
        """Make `case` (built elsewhere, e.g. a demo case without images) the open case."""
        self.save_if_dirty()  # the case being left keeps its last edits
        self.case = case
        self.dirty = False
        self.case_opened.emit(case)

    def changed(self) -> None:
        """Something in the case changed: the next autosave stores it."""
        if self.case is not None:
            self.dirty = True

    def save(self) -> None:
        """Store the case in the background (a new revision)."""
        case = self.case
        if case is None or self._saving:
            return
        self._saving = True
        self.dirty = False

        def done(revision: int) -> None:
            self._saving = False
            self.saved.emit(f"Case '{case.name}' saved (revision {revision}).")

        task = self._run(
            "Saving the case",
            lambda *, progress, cancelled: self.library.save(case),
            on_done=done,
            quiet=True,
        )
        task.failed.connect(lambda error: self._save_failed(error))

    def _save_failed(self, error: BaseException) -> None:
        self._saving = False
        self.dirty = True
        log.error("saving the case failed: %s", error)
        self.saved.emit(f"Saving the case failed: {error}. It stays open; try File > Save case.")

    def save_if_dirty(self) -> None:
        if self.dirty:
            self.save()

    def save_now(self) -> None:
        """Store synchronously (when the window closes)."""
        if self.case is not None and self.dirty:
            try:
                self.library.save(self.case)
                self.dirty = False
            except Exception:  # closing must go on; the previous revision is intact
                log.exception("saving the case on exit failed")

    def open(self, case_id: str) -> None:
        """Load a case and its image in the background, then announce it."""

        def work(*, progress, cancelled) -> Case:
            return load_case_image(
                self.library.load(case_id), progress=progress, cancelled=cancelled
            )

        def done(case: Case) -> None:
            self.case = case
            self.dirty = False
            self.case_opened.emit(case)

        self._run("Opening the case", work, on_done=done)
