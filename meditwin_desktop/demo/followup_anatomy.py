"""The `crc-liver-followup` demo: the demo anatomy's abdomen at four dated CT studies whose
two liver metastases shrink, then regrow, from known rates.

Truth (`TRUTH`): each metastasis is an ellipsoid with semi-axes a : 0.8 a : 0.7 a, its long
axis oblique in the axial plane (`LONG_AXIS_DEG` from +x, the patient's left), so its RECIST
longest axial diameter is 2a. That diameter follows the regression-growth law of Stein et
al. (Clin Cancer Res 2008;14:4254 and 2011;17:907):

    D(t) = D0 * (exp(-d t) + exp(g t) - 1),   t in days from the baseline scan,

with the same g and d for both lesions, so the sum of diameters (SLD) follows the same law.
At the scan days 0, 56, 112, 168 (weeks 0, 8, 16, 24) the SLD is 100 %, 65.5 %, 74.0 %,
105.4 % of baseline: RECIST 1.1 partial response at week 8 (>= 30 % below baseline), stable
disease at week 16 (26 % below baseline, +13 % over the nadir) and progression at week 24
(+61 % and +22 mm over the nadir). The rates were chosen to leave about 2 mm of SLD between
each category and its threshold, more than the error of a diameter measured on these
voxels (1.56 mm in-plane).

Patient position (`SHIFTS_MM`): the patient lies differently at each visit. Each study is the
same voxel grid relative to the anatomy, written with its image origin (table position)
moved by the study's shift, so the whole anatomy sits that many mm elsewhere in the
study's LPS coordinates: studies must be aligned (e.g. `core.lesions.centroid_offset`) to
be compared point by point. The truth in LPS of study s is the baseline anatomy + shift s.

To keep generation fast only the abdomen is written: the slices from z = -150 to +24 mm
(88 slices of 2 mm: the whole liver and both kidneys), not the whole thorax. The organs are
painted once and the metastases, blur and noise (its own seed per study) per study.
"""

from __future__ import annotations

import copy

import numpy as np

from meditwin_desktop.core.imaging.volume import LabelMap, Volume
from meditwin_desktop.demo import anatomy

TRUTH: dict[str, dict[str, float]] = {
    "tumour 1": {"d0_mm": 36.0, "g": 0.0041, "d": 0.0165},
    "tumour 2": {"d0_mm": 20.0, "g": 0.0041, "d": 0.0165},
}
"""Per metastasis: its baseline longest axial diameter D0 (mm), its growth rate g and decay
(regression) rate d (per day) in the Stein law D(t) = D0 (exp(-d t) + exp(g t) - 1)."""

AXES = (1.0, 0.8, 0.7)  # semi-axes relative to the long one: in-plane long, in-plane, z
LONG_AXIS_DEG = {"tumour 1": 35.0, "tumour 2": -60.0}  # in the axial plane, from +x
DATES = ("2026-01-05", "2026-03-02", "2026-04-27", "2026-06-22")
DESCRIPTIONS = ("Baseline", "Week 8", "Week 16", "Week 24")
SHIFTS_MM = (  # LPS translation of the patient at each study (baseline: none)
    (0.0, 0.0, 0.0),
    (4.1, -2.7, 3.0),
    (-3.3, 1.8, -5.0),
    (2.2, 3.6, 6.0),
)
Z_RANGE_MM = (-150.0, 24.0)  # the abdominal crop (on the full demo grid's slices)
CROP_SHAPE = (  # 88 slices
    round((Z_RANGE_MM[1] - Z_RANGE_MM[0]) / anatomy.SPACING[2]) + 1,
    *anatomy.SHAPE[1:],
)
CROP_ORIGIN = (anatomy.ORIGIN[0], anatomy.ORIGIN[1], Z_RANGE_MM[0])


def days(date: str) -> int:
    """Days from the baseline study to `date` (ISO)."""
    from datetime import date as _date

    return (_date.fromisoformat(date) - _date.fromisoformat(DATES[0])).days


def stein(t_days: float | np.ndarray, g: float, d: float) -> float | np.ndarray:
    """The regression-growth factor exp(-d t) + exp(g t) - 1 (1 at t = 0)."""
    t = np.asarray(t_days, float)
    return np.exp(-d * t) + np.exp(g * t) - 1.0


def diameter_mm(name: str, t_days: float) -> float:
    """True longest axial diameter (mm) of metastasis `name` at day `t_days`."""
    truth = TRUTH[name]
    return float(truth["d0_mm"] * stein(t_days, truth["g"], truth["d"]))


def sld_mm(t_days: float) -> float:
    """True sum of the longest diameters (mm) at day `t_days`."""
    return sum(diameter_mm(name, t_days) for name in TRUTH)


def _rotation(angle_deg: float) -> np.ndarray:
    t = np.radians(angle_deg)
    return np.array([[np.cos(t), -np.sin(t), 0.0], [np.sin(t), np.cos(t), 0.0], [0.0, 0.0, 1.0]])


def tumour_shapes(t_days: float) -> dict[str, tuple]:
    """The metastases at day `t_days` in the baseline anatomy's LPS frame:
    {name: (centre, semi-axes, rotation)} as `anatomy._paint_tumours` paints them."""
    shapes = {}
    for name, (center, _) in anatomy.TUMOURS.items():
        a = diameter_mm(name, t_days) / 2.0
        shapes[name] = (center, tuple(a * f for f in AXES), _rotation(LONG_AXIS_DEG[name]))
    return shapes


def build_studies() -> list[tuple[str, str, Volume, LabelMap]]:
    """The four studies: (date, description, CT, labels), each on its own shifted grid."""
    base, _ = anatomy.paint_organs(CROP_SHAPE, CROP_ORIGIN)
    studies = []
    for index, (date, description, shift) in enumerate(
        zip(DATES, DESCRIPTIONS, SHIFTS_MM, strict=True)
    ):
        canvas = copy.copy(base)
        canvas.labels, canvas.hu = base.labels.copy(), base.hu.copy()
        anatomy._paint_tumours(canvas, tumour_shapes(days(date)))
        rng = np.random.default_rng(anatomy.SEED + 1 + index)
        origin = np.asarray(CROP_ORIGIN) + np.asarray(shift)
        ct, labels = anatomy.finish(canvas, rng, origin)
        studies.append((date, description, ct, labels))
    return studies
