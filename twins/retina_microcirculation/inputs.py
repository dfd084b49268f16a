"""What the retina twin takes from the case: every fundus photograph (each visit, each
eye) with its pixel size, the pressures from the clinical form, and the clinician's
artery/vein corrections; and how one photograph and its scale are chosen for a run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from meditwin_desktop.core.twin import (
    AV_MARKS_FIELD,
    N_,
    CaseView,
    InputError,
    TwinInputError,
    number,
    parse_av_marks,
    tr,
)

from .network import ARTERY, VEIN

EYES = ("right", "left", "not stated")
EYE_CODES = {"R": "right", "L": "left", "": "not stated"}
# a typical optic disc: 1.8 mm across (vertical disc diameter 1.88 mm, horizontal 1.77 mm in
# 319 normal eyes: Jonas JB et al. Invest Ophthalmol Vis Sci 1988;29:1151-1158)
TYPICAL_DISC_MM = 1.8
UNDATED = "1900-01-01"  # the visit of a photograph whose file gives no date
_EYE_TEXT = {"right": N_("right eye"), "left": N_("left eye"), "not stated": N_("not stated eye")}


def eye_text(eye: str) -> str:
    """'right eye', 'left eye', 'not stated eye' (as the messages name it), translated."""
    return tr(_EYE_TEXT[eye]) if eye in _EYE_TEXT else f"{eye} eye"


def prepare(view: CaseView) -> dict[str, Any]:
    """The photographs (pixels, pixel size, date, eye) and the A/V corrections."""
    photos = [
        {"study": p.study, "date": p.date, "eye": EYE_CODES.get(p.laterality, "not stated"),
         "pixels": np.asarray(p.pixels), "pixel_mm": p.pixel_mm,
         "description": p.description}
        for p in view.photos()
    ]  # fmt: skip
    if not photos:
        raise TwinInputError(
            tr("The case has no fundus photograph: add one (Studies > Add a photograph…).")
        )
    text = str(view.clinical.get(AV_MARKS_FIELD) or "")
    entered = tuple(k for k in ("sbp_mmhg", "dbp_mmhg", "iop_mmhg")
                    if view.clinical.get(k) is not None)  # fmt: skip
    return {"photos": photos, "av_corrections": corrections(text), "entered": entered}


def corrections(text: str) -> tuple[tuple[float, float, int, str], ...]:
    """The clinician's artery/vein marks as (row, column, ARTERY|VEIN, photograph date or
    ''); TwinInputError naming a mark that cannot be read."""
    try:
        marks = parse_av_marks(text)
    except InputError as error:
        raise TwinInputError(str(error)) from None
    return tuple((row, col, ARTERY if kind == "artery" else VEIN, date)
                 for row, col, kind, date in marks)  # fmt: skip


def default_photo(inputs: Mapping[str, Any], view: CaseView) -> dict[str, Any]:
    """The latest photograph of the eye on screen (of the latest photograph's eye when the
    study on screen is not a photograph): the baseline stays put while the user looks at
    another visit (which study is on screen is not an input: it changes no result)."""
    photos = inputs["photos"]
    on_screen = next((p.study for p in view.photos() if p.active), None)
    active = next((p for p in photos if p["study"] == on_screen), photos[-1])
    return [p for p in photos if p["eye"] == active["eye"]][-1]


def visit_of(photo: Mapping[str, Any]) -> str:
    """A photograph's visit: its date, or UNDATED when the file gave none."""
    return str(photo.get("date") or "")[:10] or UNDATED


def chosen_photo(inputs: Mapping[str, Any], visit: str, eye: str) -> dict[str, Any]:
    """The photograph of `visit` (ISO date; UNDATED for a photograph without a date) and
    `eye`; TwinInputError listing the ones the case has when there is none, or when the eye
    does not say which of two."""
    photos = inputs["photos"]
    same_day = [p for p in photos if visit_of(p) == visit]
    match = [p for p in same_day if p["eye"] == eye]
    if not match and len(same_day) == 1 and "not stated" in (eye, same_day[0]["eye"]):
        match = same_day  # one photograph that day, and one side does not say which eye
    if not match:
        have = ", ".join(tr("{visit} ({eye})").format(visit=visit_of(p), eye=eye_text(p["eye"]))
                         for p in photos)
        raise TwinInputError(
            tr(
                "No photograph of the {eye} on {visit}: the case has {have}. Choose one of "
                "them as the visit and eye ({undated} stands for a photograph without a date)."
            ).format(eye=eye_text(eye), visit=visit, have=have, undated=UNDATED)
        )
    return match[0]


def pixel_scale(
    photo: Mapping[str, Any], pixel_um: float, disc_px: float, disc_mm: float
) -> tuple[float, str]:
    """(µm per pixel, where it came from): the parameter when set (> 0), else the file's
    pixel spacing, else the optic disc taken as `disc_mm` across (an assumption)."""
    if pixel_um > 0:
        return pixel_um, tr("pixel size {size} µm (set)").format(size=number(pixel_um, 2))
    if photo.get("pixel_mm"):
        um = 1000.0 * float(photo["pixel_mm"])
        return um, tr("pixel size {size} µm (from the file)").format(size=number(um, 2))
    if disc_px <= 0:
        raise TwinInputError(tr(
            "The image scale is unknown and no optic disc was found: set the pixel size."
        ))  # fmt: skip
    um = 1000.0 * disc_mm / disc_px
    return um, tr(
        "pixel size {size} µm ASSUMED: the file does not say, so the optic disc ({disc} px) "
        "was taken as {disc_mm} mm across (a typical disc; discs range about 1.2-2.4 mm): "
        "calibres scale with it, flows about with its cube"
    ).format(size=number(um, 2), disc=number(disc_px, 0),
             disc_mm=f"{disc_mm:g}".replace(".", number(0.5, 1)[1]))
