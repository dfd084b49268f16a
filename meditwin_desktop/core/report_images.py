"""The board report's images, large and for print (rendered at 300 dpi): the target page
(the target described anatomically; an axial slice through it with the tumour, its 5 and
10 mm margins, each scenario's predicted zone and the applicator's path; coronal and
sagittal slices beside), and the key views of a case without a target point."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from scipy import ndimage

from meditwin_desktop.core.case import Case, Run
from meditwin_desktop.core.i18n import N_, number, tr
from meditwin_desktop.core.imaging.slicing import AXIAL, CORONAL, SAGITTAL, Orientation
from meditwin_desktop.core.imaging.volume import Volume
from meditwin_desktop.core.report_layout import DPI, LEFT, heading, lines, page
from meditwin_desktop.core.result_plots import is_mask, is_surface, localise_ticks
from meditwin_desktop.core.target_description import describe_target, is_lesion, lps_text
from meditwin_desktop.core.twin import Twin

STEP_MM = 0.5  # resampling step of the slices (contours drawn smooth at print size)
# as the planning views draw them (ui/planning_layer.py), so the board sees the same picture
TUMOUR_COLOUR = "#fae646"
MARGIN_COLOURS = {5.0: "#78eb8c", 10.0: "#5ac8eb"}
PATH_COLOUR = "#f5f5f5"
ZONE_COLOURS = ("#ff8c28", "#ff4fd8", "#4da3ff", "#c8a2ff", "#ff5050", "#b4ff4f")
PLANE_TITLES = {  # orientation name -> the view's title (shown through tr)
    "axial": (N_("Axial ({point} mm)"), N_("Axial through the target")),
    "coronal": (N_("Coronal ({point} mm)"), N_("Coronal through the target")),
    "sagittal": (N_("Sagittal ({point} mm)"), N_("Sagittal through the target")),
}


def point_parameters(twin: Twin, values: dict) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(target, entry) LPS points of a run's parameters: the point parameters named
    'target...' and 'entry...' (None where the twin has none)."""
    found: dict[str, np.ndarray] = {}
    for parameter in twin.parameters:
        if parameter.kind != "point" or parameter.name not in values:
            continue
        for role in ("target", "entry"):
            if parameter.name.startswith(role) and role not in found:
                found[role] = np.asarray(values[parameter.name], float)
    return found.get("target"), found.get("entry")


def _window(case: Case) -> tuple[float, float]:
    meta = getattr(case.image, "meta", None) or {}
    level, width = meta.get("window") or (40.0, 400.0)
    return float(level), float(width)


class Plane:
    """A square of a patient plane around a centre, sampled every STEP_MM."""

    def __init__(self, orientation: Orientation, centre: np.ndarray, half_mm: float) -> None:
        self.orientation = orientation
        self.centre = np.asarray(centre, float)
        self.half = half_mm
        steps = np.arange(-half_mm, half_mm + STEP_MM / 2, STEP_MM)
        self.right = np.asarray(orientation.right, float)
        self.down = np.asarray(orientation.down, float)
        v, u = np.meshgrid(steps, steps, indexing="ij")
        self.points = self.centre + u[..., None] * self.right + v[..., None] * self.down
        self.extent = (-half_mm, half_mm, half_mm, -half_mm)

    def sample(self, volume: Volume | np.ndarray, affine=None, order=1, outside=0.0):
        """Values of a volume (or an array with its affine) on this plane."""
        array = volume.array if isinstance(volume, Volume) else np.asarray(volume)
        affine = volume.affine if isinstance(volume, Volume) else np.asarray(affine, float)
        inverse = np.linalg.inv(affine)
        index = self.points @ inverse[:3, :3].T + inverse[:3, 3]  # (i, j, k)
        coordinates = np.moveaxis(index[..., ::-1], -1, 0)
        if array.dtype == bool:
            array = array.astype(np.float32)
        return ndimage.map_coordinates(array, coordinates, order=order, cval=outside,
                                       mode="constant")  # fmt: skip

    def project(self, point: np.ndarray) -> tuple[float, float]:
        """In-plane (u, v) mm of a point."""
        d = np.asarray(point, float) - self.centre
        return float(d @ self.right), float(d @ self.down)


def _zones(runs: Sequence[Run]) -> list[tuple[Run, object]]:
    """(run, field) of each run's first 3D mask field (a predicted zone)."""
    out = []
    for run in runs:
        if run.result is None:
            continue
        for field in run.result.fields.values():
            values = np.asarray(field.values)
            if not is_surface(field) and values.ndim == 3 and is_mask(values):
                if values.max() > 0.5:  # an empty zone (a resection only) is not drawn
                    out.append((run, field))
                break
    return out


def _tumour_value(case: Case, target: np.ndarray) -> int | None:
    from meditwin_desktop.core.planning import target_label

    labels = case.labels
    names = {v: lab.name for v, lab in labels.labels.items()}
    return target_label(labels.volume.array, labels.volume.affine, names, target)


def _draw_plane(
    axes,
    case: Case,
    plane: Plane,
    tumour: int | None,
    margin,
    zones: list,
    path: tuple[np.ndarray, np.ndarray] | None,
    stale: dict[str, str],
    fontsize: float,
) -> None:
    level, width = _window(case)
    ct = plane.sample(case.image, order=1, outside=-1000.0)
    axes.imshow(ct, cmap="gray", vmin=level - width / 2, vmax=level + width / 2,
                extent=plane.extent, interpolation="bilinear")  # fmt: skip
    if tumour is not None:
        mask = plane.sample(case.labels.volume.array == tumour, case.labels.volume.affine)
        mask = ndimage.gaussian_filter(mask, 1.5)  # the voxels' staircase, smoothed ~1 mm
        if mask.max() > 0.5:
            axes.contour(mask, levels=[0.5], colors=TUMOUR_COLOUR, linewidths=1.6,
                         extent=plane.extent, origin="upper")  # fmt: skip
    for n, (run, field) in enumerate(zones):
        zone = plane.sample(np.asarray(field.values, np.float32), field.affine)
        if zone.max() > 0.5:
            axes.contour(zone, levels=[0.5], colors=ZONE_COLOURS[n % len(ZONE_COLOURS)],
                         extent=plane.extent, origin="upper", linewidths=1.4,
                         linestyles="-." if run.scenario in stale else "-")  # fmt: skip
    if margin is not None:  # over the zones: where a zone meets a margin, both show
        distance = plane.sample(margin.distance, margin.affine, outside=1e3)
        for mm, colour in MARGIN_COLOURS.items():
            if distance.min() < mm < distance.max():
                axes.contour(distance, levels=[mm], colors=colour, extent=plane.extent,
                             origin="upper", linewidths=1.3,
                             linestyles="--" if mm == 5.0 else ":")  # fmt: skip
    if path is not None and _in_plane(plane, path):
        (su, sv), (tu, tv) = plane.project(path[0]), plane.project(path[1])
        axes.plot([su, tu], [sv, tv], color=PATH_COLOUR, linewidth=1.2, linestyle=(0, (6, 3)))
        axes.plot([su], [sv], marker="o", markersize=4, color=PATH_COLOUR)
    axes.plot([0], [0], marker="+", markersize=12, mew=1.8, color="#ff2b2b")
    axes.set_xlim(-plane.half, plane.half)
    axes.set_ylim(plane.half, -plane.half)
    edge_letters(axes, plane.orientation, fontsize)
    axes.set_xticks([])
    axes.set_yticks([])


def edge_letters(axes, orientation, fontsize: float | None = None) -> None:
    """The anatomical letters at the edges of a slice's axes (R, L, A, P...)."""
    letters = orientation.edge_letters()
    for text, x, y, ha, va in (
        (letters["left"], 0.015, 0.5, "left", "center"),
        (letters["right"], 0.985, 0.5, "right", "center"),
        (letters["top"], 0.5, 0.985, "center", "top"),
        (letters["bottom"], 0.5, 0.015, "center", "bottom"),
    ):
        axes.text(x, y, text, transform=axes.transAxes, color="white", weight="bold",
                  fontsize=fontsize, ha=ha, va=va)  # fmt: skip


def _in_plane(plane: Plane, path: tuple[np.ndarray, np.ndarray], degrees: float = 30.0) -> bool:
    """Whether the path runs within `degrees` of the plane (else its projection would show
    a skin entry inside the body)."""
    direction = np.asarray(path[1], float) - np.asarray(path[0], float)
    length = float(np.linalg.norm(direction))
    if length == 0:
        return False
    normal = np.asarray(plane.orientation.normal, float)
    return abs(float(direction @ normal)) / length < np.sin(np.radians(degrees))


def _scale_bar(axes, half: float) -> None:
    length = 20.0 if half < 60 else 50.0
    x0, y0 = -half + 0.06 * half, half - 0.08 * half
    axes.plot([x0, x0 + length], [y0, y0], color="white", linewidth=2.5)
    axes.text(x0 + length / 2, y0 - 0.03 * half, f"{number(length, 0)} mm", color="white",
              ha="center", va="bottom", fontsize=8)  # fmt: skip


def target_page(
    pdf: PdfPages,
    case: Case,
    twin: Twin,
    runs: list[Run],
    stale: dict[str, str],
    snapshot: np.ndarray | None,
) -> bool:
    """The target page; False (nothing written) without a 3D image, labels or a target."""
    ok = [r for r in runs if r.status == "ok"]
    if case.labels is None or not _is_volume(case.image) or not ok:
        return False
    target, entry = point_parameters(twin, ok[0].parameters)
    if target is None:
        return False
    described = describe_target(case.labels, target, entry, case.image)
    figure, y = page(tr("Target and plan"), bool(stale))
    text = described.lines()
    others = _other_targets(twin, ok, target, entry)
    if others:
        text.append(tr("Other scenarios aim elsewhere: {others}.").format(others=others))
    y = lines(figure, y, text, size=9.5, width=100) - 0.03
    tumour = _tumour_value(case, target)
    margin = None
    if tumour is not None:
        from meditwin_desktop.core.planning import margin_field

        margin = margin_field(case.labels.volume.array == tumour, case.labels.volume.affine)
    zones = _zones(ok)
    path = None
    if described.skin is not None:
        path = (np.asarray(described.skin), target)
    half = float(np.clip((described.depth_mm or 40.0) + 12.0, 45.0, 95.0))
    size = min(0.88 * 8.27, (y - 0.43) * 11.69)  # inches: the axial panel is square
    width, height = size / 8.27, size / 11.69
    axes = figure.add_axes([0.5 - width / 2, y - height, width, height])
    _draw_plane(axes, case, Plane(AXIAL, target, half), tumour, margin, zones, path, stale, 12)
    _scale_bar(axes, half)
    axes.set_title(tr("Axial through the target ({point} mm)").format(point=lps_text(target)),
                   fontsize=10)  # fmt: skip
    y -= height + 0.012
    y = _legend(figure, y, tumour, margin is not None, zones, path, stale, case)
    count = 2 if snapshot is None else 3
    small = 0.4 if snapshot is None else 0.28
    gap = (1 - 2 * LEFT - count * small) / (count - 1)
    bottom = y - small * 8.27 / 11.69 - 0.025
    for n, orientation in enumerate((CORONAL, SAGITTAL)):
        panel = figure.add_axes([LEFT + n * (small + gap), bottom, small, small * 8.27 / 11.69])
        _draw_plane(panel, case, Plane(orientation, target, half), tumour, margin, zones, path,
                    stale, 9)  # fmt: skip
        panel.set_title(tr(PLANE_TITLES[orientation.name.lower()][1]), fontsize=9)
    if snapshot is not None:
        panel = figure.add_axes([LEFT + 2 * (small + gap), bottom, small, small * 8.27 / 11.69])
        panel.imshow(snapshot, interpolation="antialiased")
        panel.set_title(tr("3D view (as on screen)"), fontsize=9)
        panel.axis("off")
    localise_ticks(figure)  # numbers with the language's decimal comma
    pdf.savefig(figure, dpi=DPI)
    return True


def _other_targets(twin, ok, target, entry) -> str:
    seen = []
    for run in ok[1:]:
        t, e = point_parameters(twin, run.parameters)
        if t is None:
            continue
        if not np.allclose(t, target) or (e is not None and entry is not None
                                          and not np.allclose(e, entry)):  # fmt: skip
            seen.append(tr("{scenario} (target {point} mm)").format(
                scenario=run.scenario, point=lps_text(t)))  # fmt: skip
    return "; ".join(seen)


def _legend(figure: Figure, y: float, tumour, margin, zones, path, stale, case) -> float:
    handles = []
    if tumour is not None:
        name = case.labels.labels[tumour].name
        handles.append(Line2D([], [], color=TUMOUR_COLOUR, lw=2, label=name))
    if margin is not None:
        handles += [
            Line2D([], [], color=MARGIN_COLOURS[5.0], lw=1.2, ls="--", label=tr("5 mm margin")),
            Line2D([], [], color=MARGIN_COLOURS[10.0], lw=1.2, ls=":", label=tr("10 mm margin")),
        ]
    for n, (run, field) in enumerate(zones):
        label = f"{run.scenario}: {tr(field.label)}"
        if run.scenario in stale:
            label += " (" + tr("out of date") + ")"
        handles.append(Line2D([], [], color=ZONE_COLOURS[n % len(ZONE_COLOURS)], lw=2,
                              ls="-." if run.scenario in stale else "-", label=label))  # fmt: skip
    if path is not None:
        handles.append(Line2D([], [], color=PATH_COLOUR, lw=1.5, ls=(0, (6, 3)), marker="o",
                              markersize=4, label=tr("path from the skin")))  # fmt: skip
    handles.append(Line2D([], [], color="#ff2b2b", lw=0, marker="+", markersize=9, mew=1.8,
                          label=tr("target")))  # fmt: skip
    columns = 3
    rows = -(-len(handles) // columns)
    height = rows * 0.018 + 0.006
    axes = figure.add_axes([LEFT, y - height, 1 - 2 * LEFT, height])
    axes.axis("off")
    legend = axes.legend(handles=handles, loc="upper left", ncol=columns, fontsize=8,
                         frameon=True, facecolor="#3a3a3a", labelcolor="white",
                         mode="expand", borderaxespad=0.0)  # fmt: skip
    legend.get_frame().set_edgecolor("#3a3a3a")
    return y - height - 0.006


def _is_volume(image) -> bool:
    return image is not None and np.ndim(getattr(image, "array", None)) == 3


def _focus(case: Case) -> np.ndarray:
    """Where the key views cut: the centre of the first lesion label, else the image's."""
    if case.labels is not None:
        for label in case.labels.labels.values():
            if is_lesion(label.name):
                index = np.argwhere(case.labels.volume.array == label.value)
                if len(index):
                    k, j, i = index.mean(axis=0)
                    return case.labels.volume.index_to_lps(np.array([i, j, k]))
    return case.image.center_lps()


def key_views_page(
    pdf: PdfPages, case: Case, stale: dict[str, str], snapshot: np.ndarray | None
) -> bool:
    """Axial, coronal and sagittal views of the whole anatomy with the labels (and the 3D
    snapshot), two by two; False without a 3D image."""
    if not _is_volume(case.image):
        return False
    from meditwin_desktop.core.imaging.slicing import slice_through

    figure, y = page(tr("Key views"), bool(stale))
    point = _focus(case)
    level, width = _window(case)
    panels: list = [AXIAL, CORONAL, SAGITTAL] + ([snapshot] if snapshot is not None else [])
    side = 0.43  # of the page width
    for n, what in enumerate(panels):
        row, column = divmod(n, 2)
        top = y - 0.02 - row * (side * 8.27 / 11.69 + 0.04)
        axes = figure.add_axes([LEFT + column * (side + 0.02), top - side * 8.27 / 11.69, side,
                                side * 8.27 / 11.69])  # fmt: skip
        if not isinstance(what, Orientation):
            axes.imshow(what, interpolation="antialiased")
            axes.set_title(tr("3D view (as on screen)"), fontsize=9)
            axes.axis("off")
            continue
        plane = slice_through(case.image, what, point)
        rows, cols = plane.pixels.shape
        dx, dy = plane.pixel_size
        extent = (0, cols * dx, rows * dy, 0)
        axes.imshow(plane.pixels, cmap="gray", vmin=level - width / 2, vmax=level + width / 2,
                    extent=extent, interpolation="bilinear")  # fmt: skip
        if case.labels is not None:
            labels = slice_through(case.labels.volume, what, point, nearest=True).pixels
            rgba = np.zeros((*labels.shape, 4))
            for value, label in case.labels.labels.items():
                if label.name.lower() != "body":
                    rgba[labels == value] = (*(np.array(label.color) / 255), 0.35)
            axes.imshow(rgba, extent=extent, interpolation="nearest")
        edge_letters(axes, what)
        title = tr(PLANE_TITLES[what.name.lower()][0]).format(point=lps_text(point))
        axes.set_title(title, fontsize=9)
        axes.set_xticks([])
        axes.set_yticks([])
    heading(figure, 0.07, tr("Labels are drawn in their colours; the body outline is not "
                             "filled."), size=8)  # fmt: skip
    localise_ticks(figure)  # numbers with the language's decimal comma
    pdf.savefig(figure, dpi=DPI)
    return True
