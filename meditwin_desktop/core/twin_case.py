"""`CaseView`: what a twin may read of a case, typed and read-only.

A twin's `personalize(view)` and `prepare(view)` see the case only through this view
(re-exported by `core.twin`, the one module a twin imports): label masks, volumes and
centroids of the active study, its image grid or 2D photograph, every study with its
date, measurements by name in the unit the twin asks for, events, medications, signal
recordings and clinical values. Arrays come back read-only; the view never changes the
case. It reads the case by duck typing (no import of `core.case`), so twins can be tested
on any object with the same attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

import numpy as np

from meditwin_desktop.core.units import convert


def _read_only(array: np.ndarray) -> np.ndarray:
    view = np.asarray(array).view()
    view.flags.writeable = False
    return view


@dataclass(frozen=True)
class Grid:
    """A 3D image grid: array indexed [k, j, i] and the affine (i, j, k) -> LPS mm."""

    array: np.ndarray  # read-only
    affine: np.ndarray  # read-only 4x4

    @property
    def spacing(self) -> np.ndarray:
        """Voxel size along i, j, k in mm."""
        return np.linalg.norm(self.affine[:3, :3], axis=0)

    @property
    def voxel_ml(self) -> float:
        """Volume of one voxel in mL."""
        return float(np.prod(self.spacing)) / 1000.0

    def index_to_lps(self, ijk: np.ndarray) -> np.ndarray:
        """Voxel index (i, j, k), possibly fractional, to LPS mm."""
        ijk = np.asarray(ijk, float)
        return ijk @ self.affine[:3, :3].T + self.affine[:3, 3]

    def lps_to_index(self, lps: np.ndarray) -> np.ndarray:
        """LPS mm to fractional voxel index (i, j, k)."""
        inverse = np.linalg.inv(self.affine)
        return np.asarray(lps, float) @ inverse[:3, :3].T + inverse[:3, 3]


@dataclass(frozen=True)
class StudyView:
    """One dated study of the case (its image is loaded only for the active one)."""

    id: str
    date: str
    modality: str
    description: str
    label_names: tuple[str, ...]
    active: bool
    photograph: bool = False  # a 2D photograph (loaded or not), not a 3D series


@dataclass(frozen=True)
class PhotoView:
    """One 2D photograph of the case (a fundus photograph of one eye at one visit)."""

    study: str  # the study's id
    date: str
    modality: str
    description: str
    laterality: str  # "R", "L" or "" (as the file says)
    pixels: np.ndarray  # read-only (rows, columns[, RGB])
    pixel_mm: float | None  # None when the file does not say
    active: bool


@dataclass(frozen=True)
class MeasurementView:
    """A measured value, in the unit asked for."""

    name: str
    value: float
    unit: str
    date: str
    target: str
    source: str


@dataclass(frozen=True)
class EventView:
    """An event of the case (a seizure...)."""

    time: str
    kind: str
    duration_s: float | None
    details: Mapping[str, Any]
    note: str


@dataclass(frozen=True)
class MedicationView:
    """A drug with its dose and dates."""

    name: str
    dose: float
    unit: str
    start: str
    stop: str
    route: str


@dataclass(frozen=True)
class RecordingView:
    """A signal recording (EDF/BDF file) of the case."""

    id: str
    kind: str
    file: str
    start: str
    description: str


class CaseView:
    """Read-only access to a case for twins."""

    def __init__(
        self,
        case: Any,
        read_signal: Callable[[str], Any] | None = None,
        read_image: Callable[[Any], Any] | None = None,
    ) -> None:
        self._case = case
        self._read_signal = read_signal
        self._read_image = read_image  # a study whose image is not loaded -> its image

    def _get(self, name: str, default: Any = None) -> Any:
        """An attribute of the case; a stand-in without it (tests) reads as empty."""
        return getattr(self._case, name, default)

    # -- clinical values ---------------------------------------------------------------------
    @property
    def clinical(self) -> Mapping[str, Any]:
        """The clinical form's values (canonical units of each field)."""
        return MappingProxyType(dict(self._get("clinical", {})))

    # -- the active study's labels and image -------------------------------------------------
    def _labels(self):
        labels = self._get("labels")
        if labels is None:
            raise KeyError("this case has no labels")
        return labels

    @property
    def has_image(self) -> bool:
        """Whether the active study's image is loaded."""
        return self._get("image") is not None

    @property
    def label_names(self) -> tuple[str, ...]:
        """Names of the active study's labels, in label-value order."""
        labels = self._get("labels")
        return tuple(lab.name for _, lab in sorted(labels.labels.items())) if labels else ()

    def has_label(self, name: str) -> bool:
        """Whether the active study has a label called `name` (case-insensitive)."""
        return name.lower() in {n.lower() for n in self.label_names}

    def label_values(self) -> dict[int, str]:
        """Label value -> name."""
        labels = self._get("labels")
        return {v: lab.name for v, lab in labels.labels.items()} if labels else {}

    def label_grid(self) -> Grid:
        """The label array of the active study (values, see `label_values`) on its grid."""
        volume = self._labels().volume
        return Grid(_read_only(volume.array), _read_only(volume.affine))

    def mask(self, name: str) -> np.ndarray:
        """Boolean mask [k, j, i] of the label `name`; KeyError if there is none."""
        return _read_only(self._labels().mask(name))

    def label_volume_ml(self, name: str) -> float:
        """Volume of a label in mL."""
        return float(self.mask(name).sum()) * self.label_grid().voxel_ml

    def label_centroid(self, name: str) -> np.ndarray:
        """Centre of a label in LPS mm; KeyError if absent or empty."""
        k, j, i = np.nonzero(self.mask(name))
        if not len(k):
            raise KeyError(f"label '{name}' is empty")
        return self.label_grid().index_to_lps(np.array([i.mean(), j.mean(), k.mean()]))

    def image_grid(self) -> Grid:
        """The active study's 3D image; KeyError when it is not a loaded volume."""
        image = self._get("image")
        if image is None or getattr(image, "array", None) is None or image.array.ndim != 3:
            raise KeyError("the active study has no 3D image loaded")
        return Grid(_read_only(image.array), _read_only(image.affine))

    def photo(self) -> tuple[np.ndarray, float | None]:
        """The active study's 2D photograph (rows, columns[, RGB]) and its pixel size in mm
        (None when unknown); KeyError when the active study is not a photograph."""
        image = self._get("image")
        pixels = getattr(image, "pixels", None)
        if pixels is None:
            raise KeyError("the active study is not a photograph")
        return _read_only(pixels), getattr(image, "pixel_mm", None)

    def photos(self) -> tuple[PhotoView, ...]:
        """Every 2D photograph of the case, in date order: the loaded ones, and the others
        read from their files when the platform gives the view a reader (the case itself is
        not changed). A photograph whose file cannot be read is left out."""
        active = self._get("active", 0)
        found = []
        for n, study in enumerate(self._get("studies", [])):
            image = getattr(study, "image", None)
            reference = getattr(study, "reference", None) or {}
            if image is None and self._read_image is not None and reference.get("file"):
                try:
                    image = self._read_image(study)
                except Exception:  # a moved file: the study's own loader says so on screen
                    image = None
            pixels = getattr(image, "pixels", None)
            if pixels is None:
                continue
            meta = getattr(image, "meta", {}) or {}
            found.append(PhotoView(study.id, study.date, study.modality, study.description,
                                   str(meta.get("laterality", "")).upper()[:1],
                                   _read_only(pixels), getattr(image, "pixel_mm", None),
                                   n == active))  # fmt: skip
        return tuple(sorted(found, key=lambda p: _when(p.date)))

    # -- everything else the case holds ------------------------------------------------------
    @property
    def studies(self) -> tuple[StudyView, ...]:
        """Every study, in date order."""
        active = self._get("active", 0)
        views = [
            StudyView(s.id, s.date, s.modality, s.description,
                      tuple(lab.name for lab in s.labels.labels.values()) if s.labels else (),
                      n == active, bool((getattr(s, "reference", None) or {}).get("file")))
            for n, s in enumerate(self._get("studies", []))
        ]  # fmt: skip
        return tuple(sorted(views, key=lambda s: _when(s.date)))

    def measurements(
        self, name: str | None = None, *, unit: str | None = None, target: str | None = None
    ) -> tuple[MeasurementView, ...]:
        """Measurements (of `name`: all when None or empty; of `target`), by date; values
        converted to `unit` (core.units: UnitError when they cannot be)."""
        found = []
        for m in self._get("measurements", []):
            if (name and m.name.lower() != name.lower()) or (
                target is not None and m.target != target
            ):
                continue
            value = convert(m.value, m.unit, unit, m.name) if unit else m.value
            found.append(MeasurementView(m.name, value, unit or m.unit, m.date, m.target,
                                         m.source))  # fmt: skip
        return tuple(sorted(found, key=lambda m: _when(m.date)))

    def events(self, kind: str | None = None) -> tuple[EventView, ...]:
        """Events (of `kind`), by time."""
        found = [EventView(e.time, e.kind, e.duration_s, MappingProxyType(dict(e.details)),
                           e.note)
                 for e in self._get("events", []) if kind is None or e.kind == kind]  # fmt: skip
        return tuple(sorted(found, key=lambda e: _when(e.time)))

    @property
    def medications(self) -> tuple[MedicationView, ...]:
        """Drugs with their doses and dates."""
        return tuple(MedicationView(m.name, m.dose, m.unit, m.start, m.stop, m.route)
                     for m in self._get("medications", []))  # fmt: skip

    @property
    def recordings(self) -> tuple[RecordingView, ...]:
        """Signal recordings of the case."""
        return tuple(RecordingView(r.id, r.kind, r.file, r.start, r.description)
                     for r in self._get("recordings", []))  # fmt: skip

    def signal(self, recording_id: str) -> Any:
        """The samples of a recording (`core.signals.Signal`: data in volts, rate, channel
        names); KeyError when the platform gives the twin no signal reader."""
        if self._read_signal is None:
            raise KeyError("signals are not available here")
        return self._read_signal(recording_id)


def _when(text: str) -> tuple[int, str]:
    """A sort key for an ISO date or date-time (time zones dropped); text that is not one
    sorts after, as it is."""
    try:
        return (0, datetime.fromisoformat(str(text)).replace(tzinfo=None).isoformat())
    except ValueError:
        return (1, str(text))


def view_of(case: Any) -> CaseView:
    """A read-only view of `case` for twins (signals read from the case's files)."""
    if isinstance(case, CaseView):
        return case

    def read(recording_id: str) -> Any:
        from meditwin_desktop.core.signals import read_recording  # MNE only when needed

        recording = next(r for r in case.recordings if r.id == recording_id)
        return read_recording(recording.file)

    def read_image(study: Any) -> Any:
        from meditwin_desktop.core.imaging.photo import read_photo

        return read_photo(study.reference["file"])

    return CaseView(case, read, read_image)


__all__: Sequence[str] = (
    "CaseView",
    "EventView",
    "Grid",
    "MeasurementView",
    "MedicationView",
    "PhotoView",
    "RecordingView",
    "StudyView",
    "view_of",
)
