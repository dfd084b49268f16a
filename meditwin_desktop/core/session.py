"""The session: the one owner of the open case, its loading state and who it is about.

The GUI observes it through a thin Qt adapter (`ui.session_bridge`), the pattern of
napari's `ViewerModel`: panels and views never keep a case of their own, they redraw
from `session.case` when it announces a change. `replaced` means a different case (or
none): every panel, view, measurement and comparison must start again from it.
`generation` grows at every switch, so background work started for the previous case
can tell that its result no longer belongs on screen.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from meditwin_desktop.core.case import Case, Run
from meditwin_desktop.core.events import Event
from meditwin_desktop.core.i18n import date_text, tr
from meditwin_desktop.core.imaging.volume import LabelMap, Volume
from meditwin_desktop.core.logs import protect
from meditwin_desktop.core.store import CaseLibrary

CHANGES = ("clinical", "labels", "scenarios", "runs", "identity", "studies", "measurements",
           "events", "medications", "recordings", "image_measurements")  # fmt: skip


@dataclass(frozen=True)
class PatientIdentity:
    """Who the open case is about, as the banner and the window title show it."""

    name: str
    patient_id: str = ""
    birth_date: str = ""  # YYYYMMDD (DICOM) or YYYY-MM-DD
    pseudonymised: bool = False

    def banner(self) -> str:
        """'Name · ID 123 · born 1961-03-02' (or the pseudonym alone)."""
        if self.pseudonymised:
            return tr("{name} (pseudonymised)").format(name=self.name)
        parts = [self.name or tr("Unnamed patient")]
        if self.patient_id:
            parts.append(tr("ID {id}").format(id=self.patient_id))
        else:
            parts.append(tr("no patient ID"))
        if self.birth_date:
            parts.append(tr("born {date}").format(date=_day(readable_date(self.birth_date))))
        return " · ".join(parts)


def _day(text: str) -> str:
    """An ISO date as the language writes it (other text as it is)."""
    return date_text(text) if len(text) == 10 else text


def readable_date(text: str) -> str:
    """A DICOM date (YYYYMMDD) as YYYY-MM-DD; other text unchanged."""
    text = str(text).strip()
    if len(text) == 8 and text.isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return text


class Session:
    """The open case (or none), what is loading, and the library it is saved in.

    `library` is None when the case library cannot be used (`library_problem` says why):
    images can still be viewed and twins run, nothing is saved.
    """

    def __init__(self, library: CaseLibrary | None = None, library_problem: str = "") -> None:
        self.library = library
        self.library_problem = library_problem
        self.case: Case | None = None
        self.loading = ""
        self.dirty = False
        self.pseudonym: str | None = None
        self.generation = 0
        self.replaced = Event()  # (case or None): a different case is open
        self.changed = Event()  # (what, one of CHANGES): the open case changed
        self.loading_changed = Event()  # (text; "" when nothing is loading)

    # -- the open case -----------------------------------------------------------------------
    def open(self, case: Case | None, *, dirty: bool = False) -> None:
        """Make `case` the open case (None: close it). The caller saves the previous one
        first (`snapshot`); everything shown about it is replaced."""
        if case is not None:
            protect(case.name, case.patient_id, case.image_reference.get("birth_date", ""))
        self.case = case
        self.dirty = dirty
        self.pseudonym = None  # a pseudonym names one case: never carried to the next
        self.generation += 1
        self.set_loading("")
        self.replaced.emit(case)

    def touch(self, what: str) -> None:
        """The open case changed (`what`, one of CHANGES): mark it for saving, announce it."""
        if what not in CHANGES:
            raise ValueError(what)
        if self.case is None:
            return
        self.dirty = True
        self.changed.emit(what)

    def set_active_study(self, index: int) -> None:
        """Show another study of the open case (its image is loaded by the caller)."""
        case = self.case
        if case is None or not 0 <= index < len(case.studies) or index == case.active:
            return
        case.active = index
        self.changed.emit("studies")  # viewing is not an edit: nothing to save for it

    def add_study(self, study) -> None:
        """Add a study (a follow-up, a photograph) to the open case and show it."""
        if self.case is None:
            return
        self.case.studies.append(study)
        self.case.active = len(self.case.studies) - 1
        self.touch("studies")

    def remove_study(self, index: int) -> None:
        """Take a study out of the open case (its images stay where they are; earlier
        revisions of the case keep it)."""
        case = self.case
        if case is None or not 0 <= index < len(case.studies):
            return
        del case.studies[index]
        if case.active >= index:
            case.active = max(case.active - 1, 0)
        self.touch("studies")

    def set_image(self, image: Volume | None) -> None:
        """The open case's image finished loading (does not make the case dirty)."""
        if self.case is not None:
            self.case.image = image

    def set_labels(self, labels: LabelMap | None) -> None:
        """New or edited labels for the open case."""
        if self.case is None:
            return
        self.case.labels = labels
        self.touch("labels")

    def add_run(self, run: Run) -> None:
        """A finished run replaces the earlier run of its scenario (scenario order kept; a
        cancelled run keeps an earlier result)."""
        if self.case is None:
            return
        from meditwin_desktop.core.scenarios import record_run  # (it imports the runner)

        record_run(self.case, run)
        self.touch("runs")

    def set_loading(self, text: str) -> None:
        """What is loading for the open case ("" when nothing)."""
        if text != self.loading:
            self.loading = text
            self.loading_changed.emit(text)

    # -- who it is about ------------------------------------------------------------------------
    def identity(self) -> PatientIdentity | None:
        """The patient of the open case, or their pseudonym while one is set."""
        case = self.case
        if case is None:
            return None
        if self.pseudonym:
            return PatientIdentity(self.pseudonym, pseudonymised=True)
        header = case.image_reference.get("birth_date", "")
        if not header and case.image is not None:
            header = case.image.meta.get("patient_birth_date", "")
        typed = str(case.clinical.get("birth_date") or "")  # the clinical form's (twins use it)
        birth = typed or header
        if typed and header and readable_date(header) != typed:
            birth = tr("{typed} (⚠ the images say {header}: check)").format(
                typed=_day(typed), header=_day(readable_date(header))
            )
        return PatientIdentity(case.name, case.patient_id, birth)

    def set_pseudonym(self, pseudonym: str | None) -> None:
        """Show a pseudonym instead of the patient's identity (a board screen), or stop."""
        self.pseudonym = (pseudonym or "").strip() or None
        if self.case is not None:
            self.changed.emit("identity")

    # -- saving ---------------------------------------------------------------------------
    def snapshot(self) -> Case:
        """A copy of the open case that another thread can save while this one edits on:
        containers copied, label voxels copied (they are edited in place), other arrays
        shared (never changed once made)."""
        case = self.case
        if case is None:
            raise ValueError("no case is open")
        copied = copy.copy(case)
        copied.studies = [copy.copy(study) for study in case.studies]
        for study in copied.studies:
            study.reference = dict(study.reference)
            if study.labels is not None:
                volume = study.labels.volume
                study.labels = LabelMap(
                    Volume(volume.array.copy(), volume.affine.copy(), dict(volume.meta)),
                    dict(study.labels.labels),
                )
        copied.clinical = copy.deepcopy(case.clinical)
        for name in ("measurements", "events", "medications", "recordings",
                     "image_measurements"):  # fmt: skip
            setattr(copied, name, copy.deepcopy(getattr(case, name)))
        copied.scenarios = {t: copy.deepcopy(s) for t, s in case.scenarios.items()}
        copied.runs = {t: list(r) for t, r in case.runs.items()}
        copied.problems = list(case.problems)
        copied.unreadable = dict(case.unreadable)
        return copied
