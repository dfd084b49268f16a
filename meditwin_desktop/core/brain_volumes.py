"""Hippocampal and intracranial volumes of a brain MRI visit: from a study's labels, or
imported from FreeSurfer/FastSurfer outputs (`aseg.stats`, `aseg.mgz`/`.nii(.gz)`).

Pure (no Qt). The measurements follow the issue-20 data contract:

- "Hippocampal volume" (mL), target "left", "right", or "" for both hippocampi;
- "Intracranial volume" (mL);
- "Hippocampus volume ratio" (unit "fraction"): both hippocampi / intracranial volume;
- `date` is the visit's date; `source` "labels of study <date>", "FreeSurfer aseg.stats" or
  "FreeSurfer aseg.mgz".

File formats:

- `aseg.stats` is written by FreeSurfer's `mri_segstats` (freesurfer/freesurfer,
  mri_segstats.c) and by FastSurfer's `segstats.py` in the same layout: header lines
  "# Measure <key>, <name>, <description>, <value>, <unit>", among them
  "# Measure EstimatedTotalIntraCranialVol, eTIV, Estimated Total Intracranial Volume,
  <value>, mm^3" (FastSurfer writes the same key, name and unit, the value with 12 decimals:
  Deep-MI/FastSurfer, FastSurferCNN/utils/brainvolstats.py, `default(
  "EstimatedTotalIntraCranialVol")` and `fmt_measure`), then
  "# ColHeaders Index SegId NVoxels Volume_mm3 StructName ..." and one whitespace-separated
  row per structure. Columns are found by name, never by position. The test file
  tests/data/freesurfer/aseg.stats copies the layout of a FreeSurfer 7.4.1 output (public
  example: github.com/Neuro-iX/FS741, stats/aseg.stats) with values of its own.
- `aseg.mgz` is a label volume whose values follow FreeSurferColorLUT.txt: 17
  Left-Hippocampus, 53 Right-Hippocampus. It holds no intracranial volume (eTIV is computed
  from the Talairach transform and written only to aseg.stats).

Plausibility: a hippocampus of 0.5-7 mL per side and an intracranial volume of 900-2300 mL
are accepted silently; anything outside gets a note (never a refusal). These bounds are a
deliberately wide screen meant to catch unit mistakes (mm3 read as mL differ 1000-fold) and
wrong labels; they are not normative limits, and no published normative table is encoded
here (for scale, the FreeSurfer 7.4.1 example above: hippocampi 4.11 and 4.27 mL, eTIV
1464 mL).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from meditwin_desktop.core.case import Measurement
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import N_, decimal_separator, tr

# measurement names (stored as they are; shown translated: tr(name))
HIPPOCAMPAL_VOLUME = N_("Hippocampal volume")
INTRACRANIAL_VOLUME = N_("Intracranial volume")
HIPPOCAMPUS_RATIO = N_("Hippocampus volume ratio")
SOURCE_STATS = "FreeSurfer aseg.stats"
SOURCE_MGZ = "FreeSurfer aseg.mgz"

LEFT_HIPPOCAMPUS_ID = 17  # FreeSurferColorLUT.txt
RIGHT_HIPPOCAMPUS_ID = 53
LEFT_HIPPOCAMPUS = "Left-Hippocampus"
RIGHT_HIPPOCAMPUS = "Right-Hippocampus"

SIDE_ML = (0.5, 7.0)  # plausible adult hippocampus, one side (see module docstring)
BOTH_ML = (1.0, 14.0)  # both sides in one label
ICV_ML = (900.0, 2300.0)  # plausible adult intracranial volume

VOLUME_SUFFIXES = (".mgz", ".mgh", ".nii", ".nii.gz")
STATS_SUFFIXES = (".stats",)

_LEFT = {"left", "l", "lh"}
_RIGHT = {"right", "r", "rh"}
_BOTH = {"both", "bilateral", "total"}
_ICV_NAMES = {"intracranial", "intracranial volume", "icv", "tiv", "total intracranial volume",
              "etiv", "intracranial cavity", "skull inside"}  # fmt: skip
_BRAIN_MASK_NAMES = {"brain mask", "brainmask", "brain"}
BRAIN_MASK_NOTE = N_(
    "The intracranial volume is the '{name}' label: a brain mask leaves out the CSF around "
    "the brain, so it underestimates the intracranial volume (and overestimates the ratio). "
    "Draw an 'intracranial' label, or import aseg.stats for FreeSurfer's eTIV."
)
MGZ_ICV_NOTE = N_(
    "intracranial volume not in aseg.mgz: import aseg.stats for eTIV or draw an intracranial label"
)


@dataclass(frozen=True)
class BrainVolumes:
    """Volumes (mL) of one MRI visit. `hippocampus_ml` is both hippocampi (or the one label
    when the sides are not separated; None when only one side is known); `icv_ml` is None
    when unknown (then there is no ratio). `notes` say what a clinician should know."""

    left_ml: float | None
    right_ml: float | None
    hippocampus_ml: float | None
    icv_ml: float | None
    source: str
    date: str = ""
    notes: tuple[str, ...] = ()

    @property
    def ratio(self) -> float | None:
        """Both hippocampi / intracranial volume (None without both)."""
        if self.hippocampus_ml is None or not self.icv_ml:
            return None
        return self.hippocampus_ml / self.icv_ml


_SEVERAL = {
    "left": N_(
        "Several labels name the left hippocampus ({labels}): keep one, rename or delete the "
        "others."
    ),
    "right": N_(
        "Several labels name the right hippocampus ({labels}): keep one, rename or delete the "
        "others."
    ),
    "both": N_(
        "Several labels name the both hippocampus ({labels}): keep one, rename or delete the "
        "others."
    ),
}


# -- names ---------------------------------------------------------------------------------
def _words(name: str) -> list[str]:
    return re.sub(r"[_\-.,/()]+", " ", name.strip().lower()).split()


def _hippocampus_side(name: str) -> str | None:
    """'left', 'right' or 'both' for a hippocampus label name, else None."""
    words = _words(name)
    if not any(w in ("hippocampus", "hippocampi", "hippocampal") for w in words):
        return None
    rest = {w for w in words if w not in ("hippocampus", "hippocampi", "hippocampal")}
    if rest and not rest <= _LEFT | _RIGHT | _BOTH | {"volume", "formation"}:
        return None  # e.g. "hippocampal fissure", "hippocampus tail"
    if rest & _LEFT and not rest & _RIGHT:
        return "left"
    if rest & _RIGHT and not rest & _LEFT:
        return "right"
    return "both"


def _icv_kind(name: str) -> str | None:
    """'icv' for an intracranial label, 'brain mask' for a brain mask, else None."""
    text = " ".join(_words(name))
    if text in _ICV_NAMES:
        return "icv"
    if text in _BRAIN_MASK_NAMES:
        return "brain mask"
    return None


# -- plausibility --------------------------------------------------------------------------
def _outside(value: float | None, bounds: tuple[float, float], what: str) -> list[str]:
    if value is None or bounds[0] <= value <= bounds[1]:
        return []
    if value == 0:
        hint = tr("The structure is empty.")
    elif value > bounds[1] * 100:
        hint = tr("It looks like mm³ taken for mL (1 mL = 1000 mm³).")
    elif value < bounds[0] / 100:
        hint = tr("It looks like mL taken for mm³, or L for mL.")
    else:
        hint = tr("Check the label (is it the right structure?) and the image's voxel size.")
    comma = decimal_separator()
    return [
        tr(what).format(
            value=f"{value:.4g}".replace(".", comma),
            low=f"{bounds[0]:g}".replace(".", comma),
            high=f"{bounds[1]:g}".replace(".", comma),
        )
        + " "
        + hint
    ]


def plausibility_notes(volumes: BrainVolumes) -> list[str]:
    """Notes for values outside wide adult ranges (see the module docstring)."""
    notes = _outside(
        volumes.left_ml,
        SIDE_ML,
        N_("The left hippocampus is {value} mL, outside the usual adult range {low}-{high} mL."),
    )
    notes += _outside(
        volumes.right_ml,
        SIDE_ML,
        N_("The right hippocampus is {value} mL, outside the usual adult range {low}-{high} mL."),
    )
    if volumes.left_ml is None and volumes.right_ml is None:
        notes += _outside(
            volumes.hippocampus_ml,
            BOTH_ML,
            N_(
                "The hippocampus (both sides) is {value} mL, outside the usual adult range "
                "{low}-{high} mL."
            ),
        )
    notes += _outside(
        volumes.icv_ml,
        ICV_ML,
        N_(
            "The intracranial volume is {value} mL, outside the usual adult range "
            "{low}-{high} mL."
        ),
    )
    return notes


def _finish(left, right, both, icv, source, date, notes) -> BrainVolumes:
    draft = BrainVolumes(left, right, both, icv, source, date, tuple(notes))
    return BrainVolumes(left, right, both, icv, source, date,
                        tuple(notes) + tuple(plausibility_notes(draft)))  # fmt: skip


# -- from a study's labels -----------------------------------------------------------------
def from_labels(case_or_study: Any) -> BrainVolumes:
    """Volumes from the labels of a study (a `Study`, or a `Case`: its active study).

    Hippocampus labels: "left hippocampus", "hippocampus left", "Left-Hippocampus" (and
    right), or one "hippocampus" for both sides; intracranial volume from a label
    "intracranial", "ICV", "intracranial volume" (or a "brain mask", with a note: it
    underestimates it). Volume = voxel count x voxel volume (as `LabelMap.volume_ml` and
    `core.lesions`). InputError when there is no hippocampus label, or it is empty.
    """
    study = case_or_study.study if hasattr(case_or_study, "studies") else case_or_study
    if study is None:
        raise InputError(
            tr("This case has no imaging study: open the T1 MRI of the visit first.")
        )
    labels = getattr(study, "labels", None)
    date = getattr(study, "date", "") or ""
    if labels is None or not labels.labels:
        raise InputError(
            tr(
                "This study has no labels. Draw the left and right hippocampus (labels "
                "'left hippocampus' and 'right hippocampus') on the T1 MRI, and an "
                "'intracranial' label for the ratio, or import FreeSurfer's aseg.stats."
            )
        )
    array = np.asarray(labels.volume.array)
    voxel_ml = float(np.prod(labels.volume.spacing)) / 1000.0
    sides: dict[str, list[Any]] = {"left": [], "right": [], "both": []}
    icv_labels: list[tuple[str, Any]] = []
    for label in sorted(labels.labels.values(), key=lambda lab: lab.value):
        side = _hippocampus_side(label.name)
        if side is not None:
            sides[side].append(label)
        kind = _icv_kind(label.name)
        if kind is not None:
            icv_labels.append((kind, label))
    names = ", ".join(f"'{lab.name}'" for lab in labels.labels.values())
    if not any(sides.values()):
        raise InputError(
            tr(
                "No hippocampus label in this study (its labels: {names}). Draw the "
                "hippocampus on the T1 MRI as 'left hippocampus' and 'right hippocampus' (or "
                "one 'hippocampus' label for both sides)."
            ).format(names=names)
        )
    for side, found in sides.items():
        if len(found) > 1:
            listed = ", ".join(f"'{lab.name}'" for lab in found)
            raise InputError(tr(_SEVERAL[side]).format(labels=listed))

    def volume(label) -> float:
        count = int(np.count_nonzero(array == label.value))
        if count == 0:
            raise InputError(
                tr("The label '{name}' is empty: draw the structure on the T1 MRI first.").format(
                    name=label.name
                )
            )
        return count * voxel_ml

    notes: list[str] = []
    left = volume(sides["left"][0]) if sides["left"] else None
    right = volume(sides["right"][0]) if sides["right"] else None
    if left is not None and right is not None:
        both = left + right
        if sides["both"]:
            notes.append(
                tr(
                    "The label '{name}' was not used: the left and right hippocampus labels "
                    "give the total."
                ).format(name=sides["both"][0].name)
            )
    elif sides["both"] and left is None and right is None:
        both = volume(sides["both"][0])
    else:
        both = None
        notes.append(
            tr(
                "Only the left hippocampus is labelled: draw the right hippocampus for the "
                "total and the ratio."
            )
            if left is not None
            else tr(
                "Only the right hippocampus is labelled: draw the left hippocampus for the "
                "total and the ratio."
            )
        )
    icv = None
    icv_labels.sort(key=lambda pair: pair[0] != "icv")  # a true ICV label before a brain mask
    if icv_labels:
        kind, label = icv_labels[0]
        icv = volume(label)
        if kind == "brain mask":
            notes.append(tr(BRAIN_MASK_NOTE).format(name=label.name))
    else:
        notes.append(
            tr(
                "No intracranial label: the volumes are given without the ratio. Draw an "
                "'intracranial' label, or import aseg.stats for FreeSurfer's eTIV."
            )
        )
    source = (
        tr("labels of study {date}").format(date=date)
        if date
        else tr("labels of a study")
    )
    return _finish(left, right, both, icv, source, date, notes)


# -- FreeSurfer / FastSurfer files ---------------------------------------------------------
def _number(text: str) -> float:
    value = float(text)
    if not np.isfinite(value):
        raise ValueError(text)
    return value


def read_aseg_stats(path: str | Path, date: str = "") -> BrainVolumes:
    """Hippocampi (Left-/Right-Hippocampus, column Volume_mm3) and eTIV (the "# Measure
    EstimatedTotalIntraCranialVol" line) of a FreeSurfer or FastSurfer aseg.stats, in mL.
    InputError for a file that is not an aseg.stats."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InputError(
            tr("Cannot read {name}: {error}.").format(
                name=path.name, error=error.strerror or error
            )
        ) from None
    if b"\x00" in raw[:4096]:
        raise InputError(
            tr(
                "{name} is not a FreeSurfer stats file (it is binary). Choose "
                "<subject>/stats/aseg.stats, or aseg.mgz for the label volume."
            ).format(name=path.name)
        )
    text = raw.decode("utf-8", errors="replace")
    headers: list[str] | None = None
    measures: dict[str, tuple[float, str]] = {}
    rows: list[list[str]] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            body = stripped.lstrip("#").strip()
            if body.startswith("ColHeaders"):
                headers = body.split()[1:]
            elif body.startswith("Measure "):
                parts = [p.strip() for p in body[len("Measure ") :].split(",")]
                if len(parts) >= 5:
                    try:
                        value = _number(parts[-2])
                    except ValueError:
                        continue
                    for key in (parts[0], parts[1]):
                        measures.setdefault(key.lower(), (value, parts[-1]))
            continue
        rows.append(stripped.split())
    if headers is None or "StructName" not in headers or "Volume_mm3" not in headers:
        raise InputError(
            tr(
                "{name} is not an aseg.stats file: it has no '# ColHeaders' line with "
                "StructName and Volume_mm3 columns. Choose <subject>/stats/aseg.stats from "
                "FreeSurfer's recon-all or FastSurfer."
            ).format(name=path.name)
        )
    name_col, volume_col = headers.index("StructName"), headers.index("Volume_mm3")
    volumes: dict[str, float] = {}
    for row in rows:
        if len(row) != len(headers):
            continue  # a truncated line
        try:
            volumes.setdefault(row[name_col], _number(row[volume_col]))
        except ValueError:
            continue
    missing = [s for s in (LEFT_HIPPOCAMPUS, RIGHT_HIPPOCAMPUS) if s not in volumes]
    if missing:
        raise InputError(
            tr(
                "{name} has no {rows} row: it is not a whole-brain aseg.stats (or it was cut "
                "short). Choose <subject>/stats/aseg.stats."
            ).format(name=path.name, rows=tr(" and no ").join(missing))
        )
    notes: list[str] = []
    icv = None
    for key, note in (
        ("estimatedtotalintracranialvol", ""),
        ("etiv", ""),
        ("intracranialvol", N_("The intracranial volume is FreeSurfer 5's 'IntraCranialVol'.")),
    ):
        if key in measures:
            value, unit = measures[key]
            icv = value / 1000.0 if unit.strip().lower() in ("mm^3", "mm3") else value
            if unit.strip().lower() not in ("mm^3", "mm3"):
                notes.append(
                    tr("The intracranial volume's unit is '{unit}', read as mL.").format(unit=unit)
                )
            if note:
                notes.append(tr(note))
            break
    if icv is None:
        notes.append(
            tr(
                "{name} has no EstimatedTotalIntraCranialVol line (a segmentation-only run may "
                "omit it): the volumes are given without the ratio."
            ).format(name=path.name)
        )
    left, right = volumes[LEFT_HIPPOCAMPUS] / 1000.0, volumes[RIGHT_HIPPOCAMPUS] / 1000.0
    return _finish(left, right, left + right, icv, SOURCE_STATS, date, notes)


def read_aseg_volume(path: str | Path, date: str = "") -> BrainVolumes:
    """Hippocampi of a FreeSurfer/FastSurfer label volume (aseg.mgz, aseg.nii(.gz); labels
    17 and 53 of FreeSurferColorLUT), voxel volume from the header's zooms. The file holds
    no intracranial volume: no ratio, and a note. InputError for anything else."""
    import nibabel as nib

    path = Path(path)
    try:
        image = nib.load(str(path))
        data = np.asarray(image.dataobj)
        zooms = image.header.get_zooms()
    except FileNotFoundError:
        raise InputError(tr("{name} does not exist any more.").format(name=path.name)) from None
    except Exception:  # nibabel raises many kinds (ImageFileError, EOFError, zlib...)
        raise InputError(
            tr(
                "{name} cannot be read as an MGZ or NIfTI volume (damaged, or another format). "
                "Choose <subject>/mri/aseg.mgz, or aseg.stats."
            ).format(name=path.name)
        ) from None
    data = np.squeeze(data)
    if data.ndim != 3 or len(zooms) < 3:
        raise InputError(
            tr("{name} is not a 3D label volume (its shape is {shape}).").format(
                name=path.name, shape=data.shape
            )
        )
    if not np.issubdtype(data.dtype, np.integer) and (
        not np.all(np.isfinite(data)) or np.any(data != np.round(data))
    ):
        raise InputError(
            tr(
                "{name} holds intensities, not labels (it looks like an MRI, e.g. T1 or "
                "norm.mgz). Choose <subject>/mri/aseg.mgz."
            ).format(name=path.name)
        )
    voxel_ml = float(np.prod(np.asarray(zooms[:3], float))) / 1000.0
    left_n = int(np.count_nonzero(data == LEFT_HIPPOCAMPUS_ID))
    right_n = int(np.count_nonzero(data == RIGHT_HIPPOCAMPUS_ID))
    if left_n == 0 and right_n == 0:
        raise InputError(
            tr(
                "{name} has no voxel of label 17 (Left-Hippocampus) or 53 (Right-Hippocampus): "
                "it is not a FreeSurfer aseg. Choose <subject>/mri/aseg.mgz or aparc+aseg.mgz."
            ).format(name=path.name)
        )
    left, right = left_n * voxel_ml, right_n * voxel_ml
    return _finish(left, right, left + right, None, SOURCE_MGZ, date, [tr(MGZ_ICV_NOTE)])


def read_aseg(path: str | Path, date: str = "") -> BrainVolumes:
    """`read_aseg_stats` or `read_aseg_volume` by the file's name (.stats, or
    .mgz/.mgh/.nii/.nii.gz); InputError for another kind of file."""
    name = Path(path).name.lower()
    if name.endswith(STATS_SUFFIXES):
        return read_aseg_stats(path, date)
    if name.endswith(VOLUME_SUFFIXES):
        return read_aseg_volume(path, date)
    raise InputError(
        tr(
            "{name} is neither a FreeSurfer stats file (.stats) nor a label volume (.mgz, "
            ".nii, .nii.gz). Choose <subject>/stats/aseg.stats or <subject>/mri/aseg.mgz."
        ).format(name=Path(path).name)
    )


# -- measurements --------------------------------------------------------------------------
def brain_measurements(volumes: BrainVolumes) -> list[Measurement]:
    """The case's measurements for these volumes: "Hippocampal volume" per side (target
    "left"/"right") and both (target ""), "Intracranial volume", "Hippocampus volume ratio"
    (fraction), each dated and sourced as the volumes. Volumes to 0.1 µL (4 decimals of mL),
    the ratio to 6 significant digits."""
    rows: list[Measurement] = []

    def add(name: str, value: float | None, unit: str, target: str = "") -> None:
        if value is not None:
            rows.append(Measurement(name, value, unit, volumes.date, target, volumes.source))

    add(HIPPOCAMPAL_VOLUME, _round(volumes.left_ml, 4), "mL", "left")
    add(HIPPOCAMPAL_VOLUME, _round(volumes.right_ml, 4), "mL", "right")
    add(HIPPOCAMPAL_VOLUME, _round(volumes.hippocampus_ml, 4), "mL")
    add(INTRACRANIAL_VOLUME, _round(volumes.icv_ml, 4), "mL")
    ratio = volumes.ratio
    add(HIPPOCAMPUS_RATIO, float(f"{ratio:.6g}") if ratio is not None else None, "fraction")
    return rows


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(float(value), digits)


def visit_values(measurements: list[Measurement], date: str) -> list[Measurement]:
    """The brain volumes already recorded for the visit of `date` (every side and the ratio):
    a new import replaces them all, so that a ratio never outlives the volumes it came from."""
    names = {HIPPOCAMPAL_VOLUME.lower(), INTRACRANIAL_VOLUME.lower(), HIPPOCAMPUS_RATIO.lower()}
    return [m for m in measurements
            if m.name.strip().lower() in names and m.date[:10] == date[:10]]  # fmt: skip


def same_slot(a: Measurement, b: Measurement) -> bool:
    """Whether two measurements are the same name, target and day (one replaces the other)."""
    return (
        a.name.strip().lower() == b.name.strip().lower()
        and a.target.strip().lower() == b.target.strip().lower()
        and a.date[:10] == b.date[:10]
    )


__all__ = [
    "HIPPOCAMPAL_VOLUME",
    "HIPPOCAMPUS_RATIO",
    "INTRACRANIAL_VOLUME",
    "BrainVolumes",
    "brain_measurements",
    "from_labels",
    "plausibility_notes",
    "read_aseg",
    "read_aseg_stats",
    "read_aseg_volume",
    "same_slot",
]
