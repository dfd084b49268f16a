"""The demo patient's anatomy: an adult thorax-abdomen CT phantom with exact labels.

Analytic shapes in LPS millimetres (+x left, +y posterior, +z superior) painted on a
256 x 256 x 240 grid (1.5625 x 1.5625 x 2 mm), in portal-venous-phase HU, then blurred
(partial volume) and given seeded noise. Deterministic: same output on every run.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from meditwin_desktop.core.imaging.volume import Label, LabelMap, Volume
from meditwin_desktop.demo.shapes import Canvas

SHAPE = (240, 256, 256)  # (nk, nj, ni)
SPACING = (1.5625, 1.5625, 2.0)  # (di, dj, dk) mm
ORIGIN = (-199.21875, -189.21875, -278.0)  # LPS of voxel (0, 0, 0)
SEED = 20261122
NOISE_HU = 12.0

# value: (name, colour, HU)
LABELS: dict[int, tuple[str, tuple[int, int, int], float]] = {
    1: ("body", (177, 122, 101), 40.0),
    2: ("right lung", (197, 165, 145), -860.0),
    3: ("left lung", (197, 165, 145), -860.0),
    4: ("spine", (241, 214, 145), 280.0),
    5: ("rib cage", (230, 220, 200), 450.0),
    6: ("aorta", (224, 97, 76), 165.0),
    7: ("inferior vena cava", (0, 151, 206), 140.0),
    8: ("heart myocardium", (206, 110, 84), 100.0),
    9: ("left ventricle cavity", (255, 90, 90), 170.0),
    10: ("right ventricle cavity", (120, 120, 255), 160.0),
    11: ("left atrium", (255, 140, 140), 168.0),
    12: ("right atrium", (150, 150, 255), 158.0),
    13: ("liver", (221, 130, 101), 105.0),
    14: ("hepatic veins", (0, 190, 230), 150.0),
    15: ("portal vein", (190, 90, 200), 175.0),
    16: ("tumour 1", (240, 220, 60), 45.0),
    17: ("tumour 2", (250, 160, 40), 45.0),
    18: ("right kidney", (185, 102, 83), 150.0),
    19: ("left kidney", (185, 102, 83), 150.0),
    20: ("spleen", (157, 108, 162), 115.0),
}
L = {name: value for value, (name, _, _) in LABELS.items()}
HU = {name: hu for _, (name, _, hu) in LABELS.items()}

BODY_CENTER = (0.0, 10.0)
TUMOURS = {  # name: (centre LPS mm, radius mm)
    "tumour 1": ((-94.0, -12.0, -38.0), 15.0),  # ~6 mm from the right hepatic vein
    "tumour 2": ((-60.0, -28.0, -86.0), 8.0),  # ~20 mm from any large vessel
}


def body_semi_axes(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Half-width (x) and half-depth (y) of the body cross-section at height z."""
    t = np.clip((z + 40.0) / 80.0, 0.0, 1.0)  # 0 in the abdomen, 1 in the thorax
    return 160.0 + 12.0 * t, 128.0 - 6.0 * t


def _inside_body(x, y, z, inset: float = 0.0):
    a, b = body_semi_axes(z)
    return ((x - BODY_CENTER[0]) / (a - inset)) ** 2 + (
        (y - BODY_CENTER[1]) / (b - inset)
    ) ** 2 <= 1


def diaphragm(x, y):
    """Height (z, mm) of the diaphragm: the right dome higher than the left."""
    right = -25.0 + 40.0 * (1.0 - ((x + 70.0) / 95.0) ** 2 - ((y - 10.0) / 115.0) ** 2)
    left = -30.0 + 35.0 * (1.0 - ((x - 70.0) / 95.0) ** 2 - ((y - 10.0) / 115.0) ** 2)
    return np.maximum(right, left)


def _unit(v) -> np.ndarray:
    v = np.asarray(v, float)
    return v / np.linalg.norm(v)


def _frame(long_axis) -> np.ndarray:
    """Rotation whose first column is `long_axis` (unit), completed to a right-handed frame."""
    u = _unit(long_axis)
    v = _unit(np.cross(u, [0.0, 0.0, 1.0]))
    return np.column_stack([u, v, np.cross(u, v)])


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int, int], cell: int) -> np.ndarray:
    """Smooth unit-variance random texture (coarse random grid, trilinear upsampling)."""
    coarse = rng.standard_normal(tuple(n // cell + 2 for n in shape)).astype(np.float32)
    zoomed = ndimage.zoom(coarse, cell, order=1, prefilter=False)
    field = zoomed[: shape[0], : shape[1], : shape[2]]
    return (field - field.mean()) / field.std()


def _paint_body(c: Canvas, texture: np.ndarray) -> None:
    region, x, y, z = c.box((-200, -200, -300), (200, 220, 220))
    body = _inside_body(x, y, z)
    c.paint(region, body, L["body"], HU["body"])
    fat = body & ~_inside_body(x, y, z, inset=14.0)  # subcutaneous fat
    muscle = _inside_body(x, y, z, inset=14.0) & ~_inside_body(x, y, z, inset=24.0)
    inner = _inside_body(x, y, z, inset=24.0)
    abdomen = inner & (diaphragm(x, y) > z)
    thorax = inner & ~abdomen
    hu = c.hu[region]
    hu[fat] = -105.0
    hu[muscle] = 50.0
    hu[thorax] = -80.0  # mediastinal fat; organs are painted over it
    mix = texture[region] > 0.2  # bowel loops (soft tissue) in visceral fat
    hu[abdomen & mix] = 35.0
    hu[abdomen & ~mix] = -95.0
    # paraspinal muscles
    c.ellipsoid((-38, 112, -40), (22, 18, 260), L["body"], 55.0, only=[L["body"]])
    c.ellipsoid((38, 112, -40), (22, 18, 260), L["body"], 55.0, only=[L["body"]])


def _paint_lungs(c: Canvas) -> None:
    def above_diaphragm(x, y, z):
        return (diaphragm(x, y) + 3.0 < z) & _inside_body(x, y, z, inset=24.0)

    c.ellipsoid(
        (-78, 18, 95), (66, 98, 118), L["right lung"], HU["right lung"], where=above_diaphragm
    )
    c.ellipsoid((82, 22, 95), (60, 94, 112), L["left lung"], HU["left lung"], where=above_diaphragm)


def _paint_spine_and_ribs(c: Canvas) -> None:
    top, bottom = 200.0, -278.0
    for z0 in np.arange(bottom, top, 30.0):
        z1 = z0 + 24.0  # 6 mm disc above each vertebral body
        radius = 17.0 + 7.0 * (top - z1) / (top - bottom)  # larger lumbar vertebrae
        region, x, y, z = c.box((-40, 40, z0), (40, 135, z0 + 30.0))
        r_body = np.hypot(x, y - 70.0)
        r_canal = np.hypot(x, y - 100.0)
        in_vertebra = z <= z1
        vertebral_body = (r_body <= radius) & in_vertebra
        pedicles = (np.abs(x) >= 5.0) & (np.abs(x) <= 13.0) & (y > 80.0) & (y <= 96.0) & in_vertebra
        # laminae touch the next level's (facet joints): the posterior column is continuous
        arch = (r_canal > 9.0) & (r_canal <= 17.0) & (y > 92.0)
        spinous = (np.abs(x) <= 4.0) & (y > 110.0) & (y <= 126.0) & in_vertebra
        transverse = (
            (np.abs(x) <= 28.0) & (np.abs(y - 98.0) <= 4.0) & (np.abs(x) > 8.0) & (in_vertebra)
        )
        bone = vertebral_body | pedicles | arch | spinous | transverse
        cortex = bone & ~(r_body <= radius - 2.0) & ~(arch & (r_canal > 11) & (r_canal < 15))
        c.paint(region, bone, L["spine"], HU["spine"])
        c.paint(region, cortex, L["spine"], 700.0)
        c.paint(region, (r_canal <= 9.0) & (y > 84.0), L["body"], 15.0)  # spinal canal (CSF)
    for n in range(12):
        z_start = 185.0 - 14.5 * n
        end_angle = np.radians(155.0 - (35.0 if n >= 10 else 4.0 * n))
        angles = np.linspace(np.radians(14.0), end_angle, 14)
        for side in (-1.0, 1.0):
            a, b = body_semi_axes(np.float32(z_start))
            pts = [
                (
                    side * (a - 17.0) * np.sin(t),
                    BODY_CENTER[1] + (b - 17.0) * np.cos(t),
                    z_start - 38.0 * (t - angles[0]) / (angles[-1] - angles[0]),
                )
                for t in angles
            ]
            c.tube(pts, 4.5, L["rib cage"], HU["rib cage"])
    region, *_ = c.box((-14, -118, 70), (14, -100, 170))  # sternum
    c.paint(region, np.array(True), L["rib cage"], 400.0)


def _paint_abdominal_organs(c: Canvas, texture: np.ndarray) -> None:
    def under_diaphragm(margin: float):
        return lambda x, y, z: (diaphragm(x, y) - margin > z) & _inside_body(x, y, z, inset=26.0)

    liver_hu = HU["liver"]
    away_from_spine = lambda x, y, z: under_diaphragm(4.0)(x, y, z) & (np.hypot(x, y - 75) > 42)  # noqa: E731
    c.ellipsoid((-62, 8, -50), (74, 88, 74), L["liver"], liver_hu, where=away_from_spine)
    c.ellipsoid(
        (12, -38, -32),
        (58, 40, 34),
        L["liver"],
        liver_hu,
        where=away_from_spine,
        only=[L["body"], L["liver"]],
    )
    liver = c.labels == L["liver"]
    c.hu[liver] += 6.0 * texture[liver]
    kidney_axes = _frame([0.15, 0.1, 1.0])
    for name, center in (("right kidney", (-72, 58, -118)), ("left kidney", (74, 60, -102))):
        c.ellipsoid(center, (55, 30, 24), L[name], HU[name], rotation=kidney_axes)
        c.ellipsoid(center, (38, 16, 11), L[name], 95.0, rotation=kidney_axes, only=[L[name]])
    c.ellipsoid(
        (96, 48, -32),
        (58, 42, 24),
        L["spleen"],
        HU["spleen"],
        rotation=_frame([0.2, 0.5, 1.0]),
        where=under_diaphragm(4.0),
    )


def _paint_heart(c: Canvas) -> None:
    center = np.array([25.0, -30.0, 42.0])
    axes = _frame([0.55, -0.45, -0.70])  # base -> apex: towards left, anterior, inferior
    u = axes[:, 0]

    def beyond_base(origin, offset):
        return lambda x, y, z: (
            (x - origin[0]) * u[0] + (y - origin[1]) * u[1] + (z - origin[2]) * u[2] > offset
        )

    la = center - 30 * u + np.array([0.0, 28.0, 6.0])
    ra = center - 26 * u + np.array([-38.0, 6.0, 0.0])
    c.ellipsoid(la, (22, 22, 20), L["heart myocardium"], HU["heart myocardium"])
    c.ellipsoid(la, (20, 20, 18), L["left atrium"], HU["left atrium"])
    c.ellipsoid(ra, (24, 24, 22), L["heart myocardium"], HU["heart myocardium"])
    c.ellipsoid(ra, (22, 22, 20), L["right atrium"], HU["right atrium"])
    rv = center + np.array([-26.0, -14.0, 4.0])
    c.ellipsoid(
        rv,
        (50, 36, 26),
        L["heart myocardium"],
        HU["heart myocardium"],
        rotation=axes,
        where=beyond_base(rv, -16.0),
    )
    c.ellipsoid(
        rv,
        (46, 32, 22),
        L["right ventricle cavity"],
        HU["right ventricle cavity"],
        rotation=axes,
        where=beyond_base(rv, -14.0),
    )
    c.ellipsoid(
        center,
        (55, 33, 33),
        L["heart myocardium"],
        HU["heart myocardium"],
        rotation=axes,
        where=beyond_base(center, -22.0),
    )
    c.ellipsoid(
        center,
        (46, 24, 24),
        L["left ventricle cavity"],
        HU["left ventricle cavity"],
        rotation=axes,
        where=beyond_base(center, -22.0),
    )


def _paint_great_vessels(c: Canvas) -> None:
    aorta = [
        (18, -24, 60),
        (10, -32, 100),
        (8, -28, 128),
        (12, 2, 142),
        (22, 34, 128),
        (24, 44, 90),
        (22, 44, 20),
        (14, 42, -60),
        (8, 40, -200),
        (4, 36, -225),
    ]
    c.tube(aorta, [14, 14, 14, 13, 12, 12, 11, 10, 9, 8], L["aorta"], HU["aorta"])
    for side in (-1, 1):
        c.tube([(4, 36, -225), (side * 45, 28, -278)], [7, 6], L["aorta"], HU["aorta"])
    c.tube(
        [(-24, 42, -278), (-25, 42, -140), (-24, 40, 8), (-22, 30, 36)],
        [11, 12, 13, 14],
        L["inferior vena cava"],
        HU["inferior vena cava"],
    )


def _paint_liver_vessels(c: Canvas) -> None:
    pv, hv = (L["portal vein"], HU["portal vein"]), (L["hepatic veins"], HU["hepatic veins"])
    hilum = (-30, 12, -95)
    c.tube([(6, 34, -150), (-10, 26, -125), hilum], [8, 8, 7.5], *pv)
    c.tube([hilum, (-62, 12, -82), (-95, -20, -62), (-118, -38, -50)], [6.5, 5.5, 4, 2.5], *pv)
    c.tube([(-62, 12, -82), (-100, 40, -78), (-125, 50, -72)], [5, 4, 2.5], *pv)
    c.tube([hilum, (0, -18, -72), (30, -45, -50)], [5.5, 4, 2.5], *pv)
    confluence = (-24, 40, 2)
    c.tube([confluence, (-70, 24, -14), (-112, 6, -50), (-128, -4, -70)], [7, 6, 3.5, 2], *hv)
    c.tube([confluence, (-38, -10, -30), (-42, -45, -66), (-45, -62, -90)], [6.5, 5, 3, 2], *hv)
    c.tube([confluence, (0, -14, -12), (24, -46, -30)], [5.5, 4, 2.5], *hv)


def _paint_tumours(c: Canvas, shapes: dict | None = None) -> None:
    """Paint the metastases: `shapes` {name: (centre, semi-axes, rotation or None)} (LPS mm),
    by default the spheres of TUMOURS. An enhancing rim 3 mm thick around a hypodense core."""
    if shapes is None:
        shapes = {name: (center, (radius,) * 3, None) for name, (center, radius) in TUMOURS.items()}
    for name, (center, semi, rotation) in shapes.items():
        semi = np.asarray(semi, float)
        if semi.min() <= 0.0:
            continue  # gone
        c.ellipsoid(center, semi, L[name], 75.0, rotation=rotation)  # enhancing rim
        if semi.min() > 4.0:
            c.ellipsoid(center, semi - 3.0, L[name], 38.0, rotation=rotation, only=[L[name]])


def label_table() -> dict[int, Label]:
    """The demo's labels with names and display colours."""
    return {value: Label(value, name, color) for value, (name, color, _) in LABELS.items()}


def paint_organs(
    shape: tuple[int, int, int] = SHAPE, origin=ORIGIN, seed: int = SEED
) -> tuple[Canvas, np.random.Generator]:
    """The anatomy without the metastases on a grid of `shape` at `origin` (a crop of the
    full grid keeps the same voxel positions when `origin` is on it), and the random
    generator to finish it with."""
    rng = np.random.default_rng(seed)
    c = Canvas(shape, SPACING, origin)
    texture = _smooth_noise(rng, shape, 8)
    _paint_body(c, texture)
    _paint_lungs(c)
    lungs = (c.labels == L["right lung"]) | (c.labels == L["left lung"])
    c.hu[lungs] += 25.0 * texture[lungs]
    _paint_abdominal_organs(c, texture)
    _paint_spine_and_ribs(c)
    _paint_heart(c)
    _paint_great_vessels(c)
    _paint_liver_vessels(c)
    return c, rng


def finish(c: Canvas, rng: np.random.Generator, origin=None) -> tuple[Volume, LabelMap]:
    """Partial volume (blur) and scanner noise; the CT (HU, int16) and its label map, on
    the canvas grid placed at `origin` (LPS of voxel (0, 0, 0); default: the canvas's)."""
    hu = ndimage.gaussian_filter(c.hu, sigma=(0.5, 0.7, 0.7))
    hu += NOISE_HU * rng.standard_normal(c.hu.shape, dtype=np.float32)
    affine = np.diag([*SPACING, 1.0])
    affine[:3, 3] = c.origin if origin is None else origin
    ct = Volume(np.clip(np.rint(hu), -1024, 3071).astype(np.int16), affine, {"modality": "CT"})
    labels = LabelMap(Volume(c.labels, affine.copy()), label_table())
    return ct, labels


def build() -> tuple[Volume, LabelMap]:
    """Generate the demo CT (HU, int16) and its ground-truth label map on the same grid."""
    c, rng = paint_organs()
    _paint_tumours(c)
    return finish(c, rng)
