"""Measurements made on the images: rulers (a distance) and ROIs (a rectangle on a slice
with the statistics of the image inside it), kept with the case (`Case.image_measurements`)
so that they are drawn again on reopening and reach the board report.

`points` are LPS millimetres: a ruler's two ends, an ROI's two opposite corners (on its
slice). `values` are numbers keyed by what they are ("length_mm"; "mean", "std", "min",
"max", "area_mm2", "pixels"); `unit` is the image's (HU for CT).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from meditwin_desktop.core.i18n import N_, number, tr

# the views, as shown: tr(view)
_VIEWS = (N_("axial"), N_("coronal"), N_("sagittal"))

KINDS = ("ruler", "roi")


@dataclass
class ImageMeasurement:
    """One ruler or ROI on a study of the case."""

    kind: str  # "ruler" or "roi"
    name: str  # "Ruler 1", "ROI 2" (the user may rename it)
    study: str  # the study's id
    view: str  # "axial", "coronal", "sagittal" or "3D"
    slice: int  # 1-based slice number in that view (0 for 3D)
    points: list[list[float]]  # two LPS points
    values: dict[str, float] = field(default_factory=dict)
    unit: str = ""  # of the image values (HU for CT)
    time: str = ""  # ISO date-time it was made

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"measurement kind '{self.kind}' is not one of {KINDS}")
        self.points = [[float(x) for x in p] for p in self.points]
        self.values = {k: float(v) for k, v in self.values.items()}

    @property
    def ends(self) -> tuple[np.ndarray, np.ndarray]:
        """The two points as arrays (LPS mm)."""
        return np.asarray(self.points[0], float), np.asarray(self.points[1], float)

    def where(self) -> str:
        """'axial 45' (or '3D')."""
        return f"{tr(self.view)} {self.slice}" if self.slice else tr(self.view)

    def summary(self) -> str:
        """'42.3 mm' for a ruler; 'mean 61 ± 12 HU (min 20, max 98), 312 mm²' for an ROI."""
        v, unit = self.values, f" {self.unit}" if self.unit else ""
        if self.kind == "ruler":
            return f"{number(v.get('length_mm', 0.0), 1)} mm"
        if not v.get("pixels"):
            return tr("no pixels inside")
        return tr("mean {mean} ± {std}{unit} (min {min}, max {max}), {area} mm²").format(
            mean=number(v["mean"]),
            std=number(v["std"]),
            unit=unit,
            min=number(v["min"]),
            max=number(v["max"]),
            area=number(v["area_mm2"]),
        )

    def to_dict(self) -> dict[str, Any]:
        """As stored in the case document."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImageMeasurement:
        """From the case document (unknown keys of a later version ignored)."""
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def ruler_measurement(
    name: str, study: str, view: str, slice_number: int, start: np.ndarray, end: np.ndarray,
    time: str = "",
) -> ImageMeasurement:  # fmt: skip
    """A ruler between two LPS points."""
    length = float(np.linalg.norm(np.asarray(end, float) - np.asarray(start, float)))
    points = [list(start), list(end)]
    return ImageMeasurement(
        "ruler", name, study, view, slice_number, points, {"length_mm": length}, "mm", time
    )


def next_name(existing: list[ImageMeasurement], kind: str) -> str:
    """'Ruler 3' / 'ROI 2': one more than the highest number of that kind so far."""
    prefix = "Ruler" if kind == "ruler" else "ROI"
    numbers = [0]
    for m in existing:
        head, _, tail = m.name.rpartition(" ")
        if m.kind == kind and head == prefix and tail.isdigit():
            numbers.append(int(tail))
    return f"{prefix} {max(numbers) + 1}"


def report_rows(case: Any) -> list[tuple[str, str, str, str]]:
    """(study, name, where, value) for each ruler and ROI of a case, for the board report:
    the study as 'CT 2024-03-12' (its modality and date, else its description)."""
    studies = {s.id: s for s in getattr(case, "studies", [])}
    rows = []
    for m in getattr(case, "image_measurements", []):
        study = studies.get(m.study)
        label = " ".join(x for x in (study.modality, study.date) if x) if study else ""
        label = label or (study.description if study else "") or "image"
        rows.append((label, m.name, m.where(), m.summary()))
    return rows
