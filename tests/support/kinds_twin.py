"""A test twin producing one result of each kind, quickly (not a clinical model).

Outcomes with clinical targets (a range and a threshold), a curve with observed points, a
grid field, values on a surface mesh (a sphere around the image's centre), a 0/1 mask and
a value map on the active 2D photograph (or a 48 x 64 grid without one), a table, a point
outcome (a "hot spot" 10 mm to the patient's left of the centre, moved by `shift` mm) and a
surface movie (values over 5 frames, 0-40 ms).
`shift` moves every value, so scenarios differ; shift -10 puts SaO2 below its target.
"""

from __future__ import annotations

import numpy as np

from meditwin_desktop.core.twin import (
    CaseView,
    Field,
    Outcome,
    Overlay,
    Parameter,
    Personalized,
    Result,
    Table,
    Target,
    TimeSeries,
    Twin,
)


def personalize(case: CaseView) -> dict[str, Personalized]:
    return {}


def prepare(case: CaseView) -> dict:
    centre, shape = np.zeros(3), (48, 64)
    if case.has_image:
        try:
            grid = case.image_grid()
            nk, nj, ni = grid.array.shape
            centre = grid.index_to_lps(np.array([ni, nj, nk]) / 2.0)
        except KeyError:
            pass
    try:
        pixels, _ = case.photo()
        shape = pixels.shape[:2]
    except KeyError:
        pass
    return {"centre": centre, "shape": tuple(int(n) for n in shape)}


def sphere(centre: np.ndarray, radius: float, rings: int = 12, sectors: int = 24):
    """Points (n, 3) and triangles (m, 3) of a UV sphere."""
    theta = np.linspace(0, np.pi, rings + 1)[1:-1]
    phi = np.linspace(0, 2 * np.pi, sectors, endpoint=False)
    t, p = np.meshgrid(theta, phi, indexing="ij")
    ring = np.stack([np.sin(t) * np.cos(p), np.sin(t) * np.sin(p), np.cos(t)], -1).reshape(-1, 3)
    points = np.vstack([[0, 0, 1], ring, [0, 0, -1]]) * radius + centre
    faces = []
    for s in range(sectors):
        n = (s + 1) % sectors
        faces.append((0, 1 + s, 1 + n))
        last = 1 + (rings - 2) * sectors
        faces.append((len(points) - 1, last + n, last + s))
    for r in range(rings - 2):
        for s in range(sectors):
            a, b = 1 + r * sectors + s, 1 + r * sectors + (s + 1) % sectors
            faces += [(a, a + sectors, b), (b, a + sectors, b + sectors)]
    return points, np.array(faces)


def simulate(params, inputs, progress, cancelled) -> Result:
    shift = float(params["shift"])
    centre = np.asarray(inputs["centre"], float)
    rows, columns = inputs["shape"]
    t = np.linspace(0.0, 10.0, 51)
    affine = np.diag([4.0, 4.0, 4.0, 1.0])
    affine[:3, 3] = centre - 4.0 * np.array([4, 4, 4])
    k, j, i = np.mgrid[0:8, 0:8, 0:8]
    dose = np.exp(-((i - 3.5) ** 2 + (j - 3.5) ** 2 + (k - 3.5) ** 2) / 8.0) * (50 + shift)
    points, faces = sphere(centre, 25.0)
    activation = 60.0 + (points[:, 0] - centre[0]) + shift  # later towards the patient's left
    y, x = np.mgrid[0:rows, 0:columns]
    vessel = (np.abs(y - rows / 2 - 6 * np.sin(x / 7.0)) < 2 + abs(shift) / 10).astype(np.uint8)
    inside = (y - rows / 2) ** 2 + (x - columns / 2) ** 2 < (min(rows, columns) / 2.5) ** 2
    flow = np.where(inside, x / columns * 10.0 + shift / 5, np.nan)
    times = np.arange(5) * 10.0
    movie = np.stack([(points[:, 2] - centre[2]) + t for t in times]).astype(np.float32)
    hotspot = tuple(float(x) for x in centre + np.array([10.0 + shift, 0.0, 0.0]))
    progress(1.0, "done")
    return Result(
        outcomes={
            "sao2": 80.0 + shift,
            "remnant": 35.0 + shift,
            "time": 5.0 - shift / 10,
            "hotspot": hotspot,
        },
        series={
            "pressure": TimeSeries(
                "Pressure",
                "mmHg",
                t,
                90 + shift + 10 * np.sin(t),
                "d",
                observed_time=np.array([1.0, 4.0, 7.0]),
                observed_values=np.array([92.0, 85.0, 96.0]),
            )
        },
        fields={
            "dose": Field("Dose", "Gy", dose, affine=affine),
            "activation": Field("Activation time", "ms", activation, points=points, faces=faces),
            "potential": Field("Potential", "mV", movie, points=points, faces=faces, times=times),
        },
        overlays={
            "vessels": Overlay("Vessels", vessel),
            "flow": Overlay("Flow", flow, unit="mL/min"),
        },
        tables={
            "segments": Table(
                "Segments",
                ("segment", "diameter", "flow"),
                [("A1", 120.0 + shift, 3.2), ("A2", 95.5, 2.1 + shift / 10), ("V1", 150.25, None)],
                ("", "µm", "mL/min"),
            )
        },
        warnings=["a test twin"] if shift < 0 else [],
    )


TWIN = Twin(
    id="kinds",
    title="Every result kind (test twin)",
    specialty="testing",
    version="1.0",
    question="Not clinical: draws and exports every kind of result.",
    references=("none",),
    parameters=(Parameter("shift", "Shift", "", 0.0, -50.0, 50.0, source="test value"),),
    outcomes=(
        Outcome("sao2", "SaO2", "%", "none", target=Target(75, 85), precision=1),
        Outcome("remnant", "Remnant", "%", "higher", target=Target(low=30), resolution=2.0),
        Outcome("time", "Time", "h", "lower"),
        Outcome("hotspot", "Hot spot", "mm", point=True, precision=1),
    ),
    requirements=(),
    personalize=personalize,
    prepare=prepare,
    simulate=simulate,
    limitations=("A test model, not a clinical one.",),
)
