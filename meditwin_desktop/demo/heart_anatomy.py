"""Demo hearts: a post-infarction left ventricle as a contrast CT crop with exact labels.

A short-axis-ish thorax crop (1 mm isotropic, 110 x 120 x 120 voxels) around a left
ventricle drawn analytically in LPS mm (+x left, +y posterior, +z superior): the
endocardium is a prolate half-ellipsoid cut flat at the base, the wall everything within
`WALL_MM` of it (so the epicardium is the endocardium's offset surface). A transmural
mid-ventricular infarct band (dense scar, 300 degrees around the ventricle, centred
antero-septally, so that a wave cannot simply go round it) is wrapped in a border-zone rim; in
`build(channel=True)` one border-zone channel crosses the scar along the long axis
(scar | channel | scar: the classic isthmus of post-infarct re-entrant VT), in
`build(channel=False)` the same scar has none (negative control).

Contrast CT (HU): blood pool 300, myocardium 100, border zone 80, dense scar 60, with
post-infarct wall thinning (dense scar `SCAR_WALL_MM`, border zone `BZ_WALL_MM`, from the
wall thickness over CT-defined thinning and ridges in Ghannam M et al., J Cardiovasc
Electrophysiol 2018;29:438-445: ridges 4.2 +- 1.2 mm bordered by thinning 2.6 +- 1.1 mm),
so that a CT wall-thickness derivation finds the scar. Partial-volume blur and seeded noise
as in `demo.anatomy`. Deterministic: same output on every run.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from meditwin_desktop.core.imaging.volume import Label, LabelMap, Volume
from meditwin_desktop.demo.shapes import Canvas

# --- grid ------------------------------------------------------------------------------------
SHAPE = (110, 120, 120)  # (nk, nj, ni): about 1.6 M voxels
SPACING = (1.0, 1.0, 1.0)  # (di, dj, dk) mm
ORIGIN = (-60.0, -60.0, -75.0)  # LPS of voxel (0, 0, 0)
SEED = 20261207
NOISE_HU = 10.0

# --- the left ventricle (all in mm) ----------------------------------------------------------
LV_CENTRE = (0.0, 0.0, 0.0)  # centre of the endocardial ellipsoid (LPS)
LONG_AXIS = (0.12, -0.10, -1.0)  # base -> apex: mostly inferior, a little left and anterior
ENDO_SEMI = (27.0, 27.0, 48.0)  # endocardial semi-axes (short, short, long)
WALL_MM = 10.0  # healthy wall thickness (the epicardium is the endocardium offset by it)
BASE_MM = 15.0  # the base is cut flat this far above the equator (towards the base)

# --- the infarct, in coordinates on the wall: angle around the long axis, height u along it
# (u = 0 at the equator, > 0 towards the apex), arc lengths measured at mid-wall --------------
SCAR_DIRECTION = (-0.45, -1.0, 0.0)  # centre of the scar: anterior (-y) and septal (right, -x)
SCAR_HALF_ANGLE_DEG = 150.0  # half width around the circumference (a 300 deg band; VT twin:
# the way round the scar must be much longer than through the channel to induce re-entry)
SCAR_U = (8.0, 24.0)  # mid-ventricle, 16 mm tall (the channel: ~22 mm of border zone)
BZ_RIM_MM = 3.0  # border-zone rim around the dense scar
CHANNEL_HALF_WIDTH_MM = 2.5  # the channel: 5 mm wide, along the long axis through the scar
CHANNEL_ANGLE_DEG = 0.0  # its position: angle from the scar centre
SCAR_WALL_MM = 2.5  # wall thickness over dense scar (post-infarct thinning)
BZ_WALL_MM = 4.5  # wall thickness over border zone (rim and channel)

# --- neighbours (context only: labelled "body") -----------------------------------------------
RV_CENTRE = (-34.0, -30.0, -8.0)  # right ventricular cavity, anterior-right of the septum
RV_SEMI = (26.0, 18.0, 40.0)
LUNG_CENTRE = (60.0, 60.0, -10.0)  # left lung in the posterior-left corner (not body)
LUNG_SEMI = (40.0, 34.0, 90.0)

# value: (name, colour, HU)
LABELS: dict[int, tuple[str, tuple[int, int, int], float]] = {
    1: ("body", (177, 122, 101), 40.0),
    2: ("left ventricle myocardium", (206, 110, 84), 100.0),
    3: ("left ventricle blood pool", (255, 90, 90), 300.0),
    4: ("scar", (250, 245, 230), 60.0),
    5: ("border zone", (240, 190, 60), 80.0),
}
L = {name: value for value, (name, _, _) in LABELS.items()}
HU = {name: hu for _, (name, _, hu) in LABELS.items()}
FAT_HU = -60.0  # epicardial fat around the heart (labelled body)
LUNG_HU = -850.0
RV_BLOOD_HU = 290.0


def _unit(v) -> np.ndarray:
    v = np.asarray(v, float)
    return v / np.linalg.norm(v)


def lv_frame() -> np.ndarray:
    """Columns: e1 (towards the scar centre, perpendicular to the long axis), e2, long axis."""
    u = _unit(LONG_AXIS)
    d = np.asarray(SCAR_DIRECTION, float)
    e1 = _unit(d - (d @ u) * u)
    return np.column_stack([e1, np.cross(u, e1), u])


def _local(c: Canvas) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local coordinates (a, b, u) of every voxel: a, b across, u along the long axis."""
    frame = lv_frame()
    x = c.x[None, None, :] - LV_CENTRE[0]
    y = c.y[None, :, None] - LV_CENTRE[1]
    z = c.z[:, None, None] - LV_CENTRE[2]
    a, b, u = (x * frame[0, n] + y * frame[1, n] + z * frame[2, n] for n in range(3))
    return a, b, u


def _endo_radius(u: np.ndarray) -> np.ndarray:
    """Endocardial radius (mm) at height u (0 beyond the apex)."""
    s = ENDO_SEMI[0]
    return s * np.sqrt(np.clip(1.0 - (u / ENDO_SEMI[2]) ** 2, 0.0, None))


def infarct_distance(a: np.ndarray, b: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Distance (mm, on the wall at mid-wall) from the dense-scar patch; 0 inside it."""
    angle = np.abs(np.arctan2(b, a))
    radius = _endo_radius(np.clip(u, None, ENDO_SEMI[2] - 1.0)) + 0.5 * WALL_MM
    arc_excess = np.maximum(angle - np.radians(SCAR_HALF_ANGLE_DEG), 0.0) * radius
    u_excess = np.maximum(np.maximum(SCAR_U[0] - u, u - SCAR_U[1]), 0.0)
    return np.hypot(arc_excess, u_excess)


def in_channel(a: np.ndarray, b: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The channel's band: within CHANNEL_HALF_WIDTH_MM (arc at mid-wall) of its meridian."""
    angle = np.arctan2(b, a) - np.radians(CHANNEL_ANGLE_DEG)
    angle = (angle + np.pi) % (2 * np.pi) - np.pi
    radius = _endo_radius(np.clip(u, None, ENDO_SEMI[2] - 1.0)) + 0.5 * WALL_MM
    return np.abs(angle) * radius <= CHANNEL_HALF_WIDTH_MM


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int, int], cell: int) -> np.ndarray:
    coarse = rng.standard_normal(tuple(n // cell + 2 for n in shape)).astype(np.float32)
    field = ndimage.zoom(coarse, cell, order=1, prefilter=False)[: shape[0], : shape[1], : shape[2]]
    return (field - field.mean()) / field.std()


def label_table() -> dict[int, Label]:
    """The demo heart's labels with names and display colours."""
    return {value: Label(value, name, color) for value, (name, color, _) in LABELS.items()}


def build(channel: bool = True) -> tuple[Volume, LabelMap]:
    """The demo heart CT (HU, int16) and its ground-truth label map on the same grid:
    with the border-zone channel through the scar (`post-mi-vt`) or without (control)."""
    rng = np.random.default_rng(SEED)
    c = Canvas(SHAPE, SPACING, ORIGIN)
    everything = (slice(None),) * 3
    c.paint(everything, np.array(True), L["body"], HU["body"])
    c.ellipsoid(LUNG_CENTRE, LUNG_SEMI, 0, LUNG_HU)
    a, b, u = _local(c)
    below_base = u >= -BASE_MM
    endo = (a / ENDO_SEMI[0]) ** 2 + (b / ENDO_SEMI[1]) ** 2 + (u / ENDO_SEMI[2]) ** 2 <= 1.0
    # distance from the endocardium (the whole ellipsoid, so the base ring is measured right)
    depth = ndimage.distance_transform_edt(~endo, sampling=SPACING[::-1]).astype(np.float32)
    scar_d = infarct_distance(a, b, u)
    scar = scar_d <= 0.0
    rim = (scar_d > 0.0) & (scar_d <= BZ_RIM_MM)
    lane = scar & in_channel(a, b, u) if channel else np.zeros_like(scar)
    wall = np.where(scar & ~lane, SCAR_WALL_MM, np.where(rim | lane, BZ_WALL_MM, WALL_MM))
    # epicardial fat: a 4 mm layer outside the full-thickness epicardium (and over thinning)
    c.paint(everything, (depth > 0) & (depth <= WALL_MM + 4.0) & below_base, L["body"], FAT_HU)
    rv = sum(((q - q0) / s) ** 2 for q, q0, s in
             zip((c.x[None, None, :], c.y[None, :, None], c.z[:, None, None]), RV_CENTRE,
                 RV_SEMI, strict=True)) <= 1.0  # fmt: skip
    c.paint(everything, rv & (depth > WALL_MM + 4.0), L["body"], RV_BLOOD_HU)
    myo = (depth > 0) & (depth <= wall) & below_base
    c.paint(everything, myo, L["left ventricle myocardium"], HU["left ventricle myocardium"])
    c.paint(everything, myo & (rim | lane), L["border zone"], HU["border zone"])
    c.paint(everything, myo & scar & ~lane, L["scar"], HU["scar"])
    pool = endo & below_base
    c.paint(everything, pool, L["left ventricle blood pool"], HU["left ventricle blood pool"])
    texture = _smooth_noise(rng, SHAPE, 6)
    c.hu += np.where(c.hu > -500, 6.0 * texture, 25.0 * texture).astype(np.float32)
    hu = ndimage.gaussian_filter(c.hu, sigma=0.6)
    hu += NOISE_HU * rng.standard_normal(SHAPE, dtype=np.float32)
    affine = np.diag([*SPACING, 1.0])
    affine[:3, 3] = ORIGIN
    ct = Volume(np.clip(np.rint(hu), -1024, 3071).astype(np.int16), affine, {"modality": "CT"})
    labels = LabelMap(Volume(c.labels, affine.copy()), label_table())
    return ct, labels
