"""The patient case: what a clinician brings to the board.

- `studies`: dated imaging studies (a CT or MR series, or a 2D photograph), each with its
  own labels; one is `active` (on screen, and what `image`, `labels` and
  `image_reference` refer to);
- `clinical`: values of the clinical form (core fields and the twins' own);
- `measurements`: values over time (lab values, scores, lesion diameters), with units;
- `events` (a seizure diary), `medications` (doses, start and stop), `recordings`
  (EEG and other signals in EDF/BDF files);
- `scenarios` and `runs` per twin.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from meditwin_desktop.core.imaging.volume import LabelMap, Volume
from meditwin_desktop.core.segmentation.measurements import ImageMeasurement
from meditwin_desktop.core.twin import Scenario

UNREADABLE = "unreadable"  # a stored run whose result file is damaged


def now() -> str:
    """UTC time as ISO 8601 text."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_id() -> str:
    """A short random id (cases, studies, recordings)."""
    return uuid.uuid4().hex[:12]


@dataclass
class Run:
    """One simulation of one scenario, with everything needed to reproduce it.

    `input_hash` is the digest of the twin's prepared inputs (`core.runner.input_hash`)
    and `parameters` the validated values it ran with: together with the twin version
    they tell whether the run still matches the case (`core.freshness`).
    """

    twin_id: str
    twin_version: str
    scenario: str
    parameters: dict[str, Any]
    input_hash: str
    status: str  # "ok", "failed", "cancelled" (or "unreadable" when loaded damaged)
    error: str | None
    outcomes: dict[str, float | None]
    seconds: float
    app_version: str
    user: str
    time: str
    result: Any = None  # core.twin.Result when ok (series and fields)
    stored: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    # `stored`: the library's entry of an unreadable run, written back as it was (a damaged
    # file may be a passing read error: saving must not drop the reference)


@dataclass
class Study:
    """One dated imaging study: a 3D series (CT, MR...) or a 2D photograph.

    `reference` says where its images are (the DICOM stays where it was imported from:
    {"folder", "series_uid", "study_uid", "description", "birth_date"}, or {"file"} for a
    photograph); `image` is loaded from it, never stored; `labels` are stored.
    """

    id: str = field(default_factory=new_id)
    date: str = ""  # ISO date of acquisition
    modality: str = ""  # CT, MR, OP (ophthalmic photography), XC (photograph)...
    description: str = ""
    reference: dict[str, Any] = field(default_factory=dict)
    image: Any = None  # Volume (3D) or Photo (2D), loaded on demand
    labels: LabelMap | None = None


@dataclass
class Measurement:
    """A value measured at a time: a lab value, a score, a lesion's diameter."""

    name: str  # e.g. "LDL cholesterol", "MMSE", "longest diameter"
    value: float
    unit: str  # see core.units
    date: str = ""  # ISO date (or date-time) it was measured
    target: str = ""  # what was measured when there are several (a lesion, an eye)
    source: str = ""  # typed, a CSV file, a ruler on study 2...


@dataclass
class Event:
    """Something that happened at a time: a seizure, a hospital stay, a procedure."""

    time: str  # ISO date-time
    kind: str  # e.g. "convulsive", "focal", "status epilepticus"
    duration_s: float | None = None
    details: dict[str, Any] = field(default_factory=dict)  # e.g. {"rescue": "midazolam"}
    note: str = ""


@dataclass
class Medication:
    """A drug the patient takes or took, with its dose and dates."""

    name: str
    dose: float
    unit: str  # mg/day, mg/kg/day, mg...
    start: str = ""  # ISO date
    stop: str = ""  # ISO date, "" while taken
    route: str = ""
    note: str = ""


@dataclass
class Recording:
    """A signal recording (EEG...) in a file beside the case (EDF, EDF+, BDF)."""

    file: str
    kind: str = "EEG"
    start: str = ""  # ISO date-time of the first sample
    description: str = ""
    id: str = field(default_factory=new_id)


class Case:
    """Everything the board discusses about one patient.

    `revision` is the library revision this object was loaded from or last saved as (0:
    never saved); `problems` lists what could not be read back (a damaged array file);
    `unreadable` keeps the library's entries of those parts so that saving keeps them.
    `image`, `labels` and `image_reference` are those of the active study (setting one
    on a case without studies creates it).
    """

    def __init__(
        self,
        name: str,
        patient_id: str = "",
        id: str | None = None,
        image: Volume | None = None,
        labels: LabelMap | None = None,
        image_reference: dict[str, Any] | None = None,
        clinical: dict[str, Any] | None = None,
        scenarios: dict[str, list[Scenario]] | None = None,
        runs: dict[str, list[Run]] | None = None,
        created: str | None = None,
        *,
        studies: list[Study] | None = None,
        measurements: list[Measurement] | None = None,
        events: list[Event] | None = None,
        medications: list[Medication] | None = None,
        recordings: list[Recording] | None = None,
        problems: list[str] | None = None,
    ) -> None:
        self.name = name
        self.patient_id = patient_id
        self.id = id or new_id()
        self.studies: list[Study] = list(studies or [])
        self.active = 0
        self.clinical: dict[str, Any] = dict(clinical or {})
        self.measurements: list[Measurement] = list(measurements or [])
        self.image_measurements: list[ImageMeasurement] = []  # rulers and ROIs on studies
        self.events: list[Event] = list(events or [])
        self.medications: list[Medication] = list(medications or [])
        self.recordings: list[Recording] = list(recordings or [])
        self.scenarios: dict[str, list[Scenario]] = dict(scenarios or {})  # per twin id
        self.runs: dict[str, list[Run]] = dict(runs or {})  # per twin id
        self.created = created or now()
        self.revision = 0
        self.problems: list[str] = list(problems or [])
        self.unreadable: dict[str, Any] = {}
        if image is not None or labels is not None or image_reference:
            self.studies.insert(0, Study(reference=dict(image_reference or {}), image=image,
                                         labels=labels))  # fmt: skip

    def __repr__(self) -> str:
        return f"Case(id={self.id!r}, studies={len(self.studies)}, revision={self.revision})"

    # -- the active study ---------------------------------------------------------------------
    @property
    def study(self) -> Study | None:
        """The study on screen (None for a case without images)."""
        return self.studies[self.active] if 0 <= self.active < len(self.studies) else None

    def _study_for_writing(self) -> Study:
        if self.study is None:
            self.studies.append(Study())
            self.active = len(self.studies) - 1
        return self.study

    @property
    def image(self) -> Any:
        """The active study's image (a Volume, or a Photo), if loaded."""
        return self.study.image if self.study is not None else None

    @image.setter
    def image(self, value: Any) -> None:
        if value is None and self.study is None:
            return
        self._study_for_writing().image = value

    @property
    def labels(self) -> LabelMap | None:
        """The active study's labels."""
        return self.study.labels if self.study is not None else None

    @labels.setter
    def labels(self, value: LabelMap | None) -> None:
        if value is None and self.study is None:
            return
        self._study_for_writing().labels = value

    @property
    def image_reference(self) -> dict[str, Any]:
        """Where the active study's images are ({} without a study)."""
        return self.study.reference if self.study is not None else {}

    @image_reference.setter
    def image_reference(self, value: dict[str, Any]) -> None:
        if not value and self.study is None:
            return
        self._study_for_writing().reference = dict(value)
