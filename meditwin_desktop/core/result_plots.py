"""Result kinds beyond outcomes and curves, drawn the same way by the GUI comparison and the
board report (matplotlib axes, no Qt): values on a surface mesh, overlays on a 2D
photograph, tables and charts (waterfall, spider plots), side by side across scenarios with
shared colour scales."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.collections import PolyCollection
from matplotlib.colors import ListedColormap, Normalize
from matplotlib.ticker import ScalarFormatter

from meditwin_desktop.core.case import Run
from meditwin_desktop.core.comparison import NOT_APPLICABLE, OUT_OF_DATE
from meditwin_desktop.core.i18n import decimal_separator, tr
from meditwin_desktop.core.twin import Chart, Field, Overlay

MASK_COLOUR = "#00e5ff"  # cyan: stands out on fundus red and on grey
NEUTRAL = 0.55  # grey behind an overlay whose photograph is not loaded

# Orthographic views of a surface (LPS): the direction the viewer looks and screen-up.
# "anterior": seen from the front, the patient's right on the viewer's left (as a chest
# X-ray); "left": from the patient's left side, anterior on the viewer's left.
SURFACE_VIEWS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "anterior": ((0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
    "posterior": ((0.0, -1.0, 0.0), (0.0, 0.0, 1.0)),
    "left": ((-1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
    "right": ((1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
}


class _DecimalCommaFormatter(ScalarFormatter):
    """matplotlib's default tick labels with the language's decimal comma."""

    def __call__(self, x, pos=None) -> str:
        return super().__call__(x, pos).replace(".", decimal_separator())

    def format_data_short(self, value) -> str:
        return super().format_data_short(value).replace(".", decimal_separator())


def localise_ticks(figure) -> None:
    """Tick labels in the language in use (1,5 in French): the default number formatter
    of each axis is swapped for one with the decimal comma. Call before drawing."""
    if decimal_separator() == ".":
        return
    for axes in figure.axes:
        for axis in (axes.xaxis, axes.yaxis):
            if type(axis.get_major_formatter()) is ScalarFormatter:
                axis.set_major_formatter(_DecimalCommaFormatter())


def scenario_title(run: Run, stale: Iterable[str] = ()) -> str:
    """'Scenario' or 'Scenario (out of date)'."""
    return f"{run.scenario} ({tr(OUT_OF_DATE)})" if run.scenario in set(stale) else run.scenario


def result_labels(runs: Sequence[Run], kind: str, test=None) -> dict[str, str]:
    """name -> label of the runs' results of `kind` ('series', 'fields', 'overlays',
    'tables', 'charts'), in the order the twin gives them; `test(item)` keeps some only."""
    labels: dict[str, str] = {}
    for run in runs:
        if run.result is not None:
            for name, item in getattr(run.result, kind, {}).items():
                if test is None or test(item):
                    labels.setdefault(name, item.label)
    return labels


def is_surface(field: Field) -> bool:
    """Whether a field holds values on a surface mesh (points and triangles)."""
    return field.points is not None and field.faces is not None


def is_mask(values: np.ndarray) -> bool:
    """A 0/1 (or boolean) array: a zone to outline rather than a quantity to colour."""
    values = np.asarray(values)
    return values.dtype == bool or (values.size > 0 and bool(np.isin(values, (0, 1)).all()))


def shared_range(arrays: Iterable[np.ndarray]) -> tuple[float, float]:
    """The finite minimum and maximum over all arrays (high > low; (0, 1) if none)."""
    low, high = math.inf, -math.inf
    for array in arrays:
        finite = np.asarray(array, float)
        finite = finite[np.isfinite(finite)]
        if finite.size:
            low, high = min(low, float(finite.min())), max(high, float(finite.max()))
    if not math.isfinite(low):
        return 0.0, 1.0
    return low, high if high > low else low + 1.0


# -- values on a surface mesh -------------------------------------------------------------
def face_values(field: Field) -> np.ndarray:
    """One value per triangle: the mean of its corners (or the field's own per-face values)."""
    values = np.asarray(field.values, float).reshape(-1)
    faces = np.asarray(field.faces, int)
    if len(values) == len(faces) and len(values) != len(field.points):
        return values
    return values[faces].mean(axis=1)


def plot_surface(
    axes,
    field: Field,
    *,
    view: str = "anterior",
    clim: tuple[float, float] | None = None,
    cmap: str = "inferno",
) -> ScalarMappable:
    """A surface field as an orthographic rendering on 2D `axes` (triangles painted far to
    near, lightly shaded by their slope to the viewer); returns the colour mapping for a
    colour bar. Triangles without a finite value are grey."""
    forward, up = (np.array(v) for v in SURFACE_VIEWS[view])
    right = np.cross(forward, up)
    points = np.asarray(field.points, float)
    faces = np.asarray(field.faces, int)
    values = face_values(field)
    low, high = clim or shared_range([values])
    norm = Normalize(low, high)
    mapping = ScalarMappable(norm, cmap)
    colours = mapping.to_rgba(np.nan_to_num(values, nan=low))
    colours[~np.isfinite(values)] = (0.6, 0.6, 0.6, 1.0)
    corners = points[faces]  # (m, 3, 3)
    normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    length = np.linalg.norm(normals, axis=1)
    facing = np.abs(normals @ forward) / np.where(length > 0, length, 1.0)
    colours[:, :3] *= (0.7 + 0.3 * facing)[:, None]
    depth = corners.mean(axis=1) @ forward  # larger: farther from the viewer
    order = np.argsort(-depth, kind="stable")
    screen = np.stack([corners @ right, corners @ up], axis=-1)[order]
    axes.add_collection(
        PolyCollection(screen, facecolors=colours[order], edgecolors=colours[order], linewidths=0.3)
    )
    flat = screen.reshape(-1, 2)
    margin = 0.04 * max(np.ptp(flat[:, 0]), np.ptp(flat[:, 1]), 1.0)
    axes.set_xlim(flat[:, 0].min() - margin, flat[:, 0].max() + margin)
    axes.set_ylim(flat[:, 1].min() - margin, flat[:, 1].max() + margin)
    axes.set_aspect("equal")
    axes.set_xticks([])
    axes.set_yticks([])
    return mapping


# -- overlays on a 2D photograph ----------------------------------------------------------
def photo_pixels(case: Any, overlay: Overlay) -> np.ndarray | None:
    """The pixels of the photograph an overlay lies on (its study, or the active one for
    ''), or None when that study's image is not a loaded 2D photograph."""
    if case is None:
        return None
    studies = list(getattr(case, "studies", []) or [])
    study = next((s for s in studies if getattr(s, "id", None) == overlay.study), None)
    if study is None and not overlay.study:
        study = getattr(case, "study", None)
    if study is not None and getattr(study, "image", None) is None and _is_photo(study):
        _load_photo(case, study)  # another visit's photograph: read from its file (~20 ms)
    pixels = getattr(getattr(study, "image", None), "pixels", None)
    if pixels is None or np.asarray(pixels).ndim not in (2, 3):
        return None
    return np.asarray(pixels)


def _is_photo(study: Any) -> bool:
    return bool((getattr(study, "reference", None) or {}).get("file"))


def _load_photo(case: Any, study: Any) -> None:
    from meditwin_desktop.core.case_images import load_study_image
    from meditwin_desktop.core.errors import MeditwinError

    with contextlib.suppress(MeditwinError, OSError):  # moved or unreadable: drawn on grey,
        load_study_image(case, study)  # and the note says the photograph is missing


def _photo_rgb(pixels: np.ndarray) -> np.ndarray:
    """A photograph as floats in [0, 1] (grey or RGB, any integer depth)."""
    array = np.asarray(pixels, float)
    if array.ndim == 3 and array.shape[2] > 3:
        array = array[..., :3]
    top = float(array.max()) if array.size else 1.0
    scale = 255.0 if top <= 255 and pixels.dtype == np.uint8 else max(top, 1.0)
    return np.clip(array / scale, 0.0, 1.0)


CATEGORY_COLOURS = ("#ff3b30", "#2f7bff", "#ffd60a", "#34c759", "#af52de")


def overlay_rgba(overlay: Overlay, cmap: str = "viridis") -> np.ndarray:
    """An overlay as (rows, columns, 4) uint8 colours to lay over its photograph: categories
    in their colours, a mask in cyan, values on `cmap` over their range; transparent where
    there is nothing."""
    from matplotlib import colormaps
    from matplotlib.colors import to_rgba

    values = np.asarray(overlay.values)
    rgba = np.zeros((*values.shape[:2], 4))
    if overlay.categories:
        codes = np.nan_to_num(values.astype(float), nan=0.0)
        for code, colour in enumerate(category_colours(overlay), start=1):
            rgba[codes == code] = to_rgba(colour, 0.9)
    elif is_mask(values):
        rgba[values.astype(bool)] = to_rgba(MASK_COLOUR, 0.6)
    else:
        data = values.astype(float)
        finite = np.isfinite(data)
        low, high = shared_range([data])
        rgba[finite] = colormaps[cmap](Normalize(low, high)(data[finite]))
        rgba[finite, 3] = 0.85
    return np.round(rgba * 255).astype(np.uint8)


def category_colours(overlay: Overlay) -> list[str]:
    """The colour of each of an overlay's categories (its own, else a default palette)."""
    count = len(overlay.categories)
    colours = list(overlay.colours or CATEGORY_COLOURS)[:count]
    return colours + list(CATEGORY_COLOURS)[len(colours) : count]


def category_legend(figure, overlay: Overlay, **where) -> None:
    """One legend for the figure naming an overlay's categories in their colours (below the
    panels: small photographs keep their room)."""
    from matplotlib.patches import Patch

    colours = category_colours(overlay)
    patches = [Patch(color=c, label=tr(n))
               for c, n in zip(colours, overlay.categories, strict=True)]  # fmt: skip
    options = {"loc": "lower center", "ncol": len(patches), "fontsize": 8, "frameon": False}
    figure.legend(handles=patches, **{**options, **where})


def _plot_categories(axes, overlay: Overlay, values: np.ndarray, extent) -> None:
    """A map of categories in their colours (`category_legend` names them)."""
    count = len(overlay.categories)
    codes = np.nan_to_num(np.asarray(values, float), nan=0.0)
    shown = np.ma.masked_where((codes < 1) | (codes > count), codes)
    axes.imshow(shown, cmap=ListedColormap(category_colours(overlay)), vmin=0.5,
                vmax=count + 0.5, extent=extent, interpolation="nearest", alpha=0.85)  # fmt: skip


def plot_overlay(
    axes,
    overlay: Overlay,
    photo: np.ndarray | None = None,
    *,
    clim: tuple[float, float] | None = None,
    cmap: str = "viridis",
) -> ScalarMappable | None:
    """An overlay over its photograph (a neutral grey without one): a 0/1 mask as a cyan fill
    and outline, values with `cmap` over `clim` (non-finite values transparent). Returns the
    mapping for a colour bar (None for a mask)."""
    values = np.asarray(overlay.values)
    rows, columns = values.shape[:2]
    extent = (0, columns, rows, 0)  # the photograph is stretched to the overlay's grid
    if photo is None:
        axes.imshow(np.full((rows, columns), NEUTRAL), cmap="gray", vmin=0, vmax=1, extent=extent)
    else:
        picture = _photo_rgb(photo)
        axes.imshow(picture, cmap="gray" if picture.ndim == 2 else None, extent=extent,
                    interpolation="bilinear")  # fmt: skip
    mapping = None
    if overlay.categories:
        _plot_categories(axes, overlay, values, extent)
    elif is_mask(values):
        inside = values.astype(bool)
        fill = np.ma.masked_where(~inside, np.ones(inside.shape))
        axes.imshow(fill, cmap=ListedColormap([MASK_COLOUR]), alpha=0.45, extent=extent,
                    interpolation="nearest", vmin=0, vmax=1)  # fmt: skip
        if inside.any() and not inside.all():
            axes.contour(inside.astype(float), levels=[0.5], colors=[MASK_COLOUR],
                         linewidths=0.8, extent=extent, origin="upper")  # fmt: skip
    else:
        low, high = clim or shared_range([values])
        mapping = axes.imshow(
            np.ma.masked_invalid(values.astype(float)),
            cmap=cmap,
            vmin=low,
            vmax=high,
            alpha=0.8 if photo is not None else 1.0,
            extent=extent,
            interpolation="nearest",
        )
    axes.set_xlim(0, columns)
    axes.set_ylim(rows, 0)
    axes.set_xticks([])
    axes.set_yticks([])
    return mapping


# -- tables --------------------------------------------------------------------------------
def table_cell(value: Any) -> str:
    """A table value as shown: numbers to 4 significant digits, None as '–'."""
    if value is None:
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return tr("yes") if value else tr("no")
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(float(value)):
            return tr(NOT_APPLICABLE)
        return f"{float(value):.4g}".replace(".", decimal_separator())
    return str(value)


def _headings(table) -> list[str]:
    units = list(table.units) + [""] * (len(table.columns) - len(table.units))
    return [f"{tr(str(c))} [{tr(u)}]" if u else tr(str(c))
            for c, u in zip(table.columns, units, strict=False)]  # fmt: skip


def table_stacked(
    runs: Sequence[Run], name: str, stale: Iterable[str] = ()
) -> tuple[list[str], list[list[str]]]:
    """Table `name` of every run, one scenario after another: headings ('Scenario' first)
    and rows of texts."""
    shown = [r for r in runs if r.result is not None and name in r.result.tables]
    if not shown:
        return [], []
    headings = [tr("Scenario"), *_headings(shown[0].result.tables[name])]
    rows = []
    for run in shown:
        table = run.result.tables[name]
        title = scenario_title(run, stale)
        rows += [[title, *(table_cell(v) for v in row)] for row in table.rows]
    return headings, rows


def table_side_by_side(
    runs: Sequence[Run], name: str, stale: Iterable[str] = ()
) -> tuple[list[str], list[list[str]]] | None:
    """Table `name` with scenarios side by side: rows matched on the first column (a
    lesion, a vessel segment), each further column once per scenario. None when the first
    column does not name the rows (repeated within a scenario) or columns differ."""
    shown = [r for r in runs if r.result is not None and name in r.result.tables]
    if not shown:
        return None
    tables = [r.result.tables[name] for r in shown]
    if any(tuple(t.columns) != tuple(tables[0].columns) for t in tables):
        return None
    keys: list[Any] = []
    by_key = []
    for table in tables:
        rows = {row[0]: row for row in table.rows}
        if len(rows) != len(table.rows):
            return None
        by_key.append(rows)
        keys += [k for k in rows if k not in keys]
    names = _headings(tables[0])
    headings = [names[0]] + [
        f"{column}\n{scenario_title(run, stale)}" for column in names[1:] for run in shown
    ]
    rows = []
    for key in keys:
        row = [table_cell(key)]
        for index in range(1, len(names)):
            row += [
                table_cell(found[key][index]) if key in found and index < len(found[key]) else "–"
                for found in by_key
            ]
        rows.append(row)
    return headings, rows


# -- charts (waterfall, spider plots) -------------------------------------------------------
def chart_groups(runs: Sequence[Run], name: str) -> list[tuple[list[Run], Chart]]:
    """The runs' charts `name`, identical ones together (a waterfall of the observed
    lesions is the same in every scenario: drawn once, titled with every scenario)."""
    groups: list[tuple[list[Run], Chart]] = []
    for run in runs:
        chart = run.result.charts.get(name) if run.result is not None else None
        if chart is None:
            continue
        for members, shown in groups:
            if _same_chart(shown, chart):
                members.append(run)
                break
        else:
            groups.append(([run], chart))
    return groups


def _same_chart(a: Chart, b: Chart) -> bool:
    if a.kind != b.kind or list(a.x) != list(b.x) or list(a.lines) != list(b.lines):
        return False
    return all(np.array_equal(np.asarray(a.lines[k], float), np.asarray(b.lines[k], float),
                              equal_nan=True) for k in a.lines)  # fmt: skip


def plot_chart(axes, chart: Chart, title: str = "", *, colour: str = "#dddddd") -> None:
    """A chart on matplotlib `axes`: bars coloured by sign (a waterfall: shrinking lesions
    blue, growing ones red, missing values marked 'n/a') or one line per entry (a spider
    plot), with its labelled guides; `colour` is the text colour of the annotations."""
    if chart.kind == "bars":
        [values] = [np.asarray(v, float) for v in chart.lines.values()]
        labels = [str(x) for x in chart.x]
        heights = np.where(np.isfinite(values), values, 0.0)
        colours = ["#4f8fd6" if v < 0 else "#d9534f" if v > 0 else "#9a9a9a" for v in heights]
        bars = axes.bar(range(len(labels)), heights, color=colours, width=0.65)
        for bar, value in zip(bars, values, strict=True):
            text = f"{value:+.0f}" if math.isfinite(value) else tr(NOT_APPLICABLE)
            top = bar.get_height()
            axes.annotate(text, (bar.get_x() + bar.get_width() / 2, top),
                          textcoords="offset points", xytext=(0, 3 if top >= 0 else -10),
                          ha="center", fontsize=7, color=colour)  # fmt: skip
        axes.set_xticks(range(len(labels)), labels, fontsize=7, rotation=20, ha="right")
        axes.set_xlim(-0.6, max(len(labels), 6) - 0.4)  # a few bars stay bar-wide
        axes.axhline(0.0, color="#888888", linewidth=0.8)
    else:
        x = np.asarray(chart.x, float)
        for name, values in chart.lines.items():
            values = np.asarray(values, float)
            keep = np.isfinite(values)
            axes.plot(x[keep], values[keep], marker="o", markersize=4, linewidth=1.3, label=name)
        axes.legend(fontsize=7)
        label = f"{tr(chart.x_label)} [{tr(chart.x_unit)}]" if chart.x_unit else tr(chart.x_label)
        axes.set_xlabel(label)
    for n, (text, level) in enumerate(chart.guides):
        axes.axhline(level, color="#d9534f", linestyle="--", linewidth=0.9)
        right = n % 2 == 1
        axes.annotate(tr(text), (0.99 if right else 0.01, level),
                      xycoords=("axes fraction", "data"), textcoords="offset points",
                      xytext=(0, 3), color="#d9534f", fontsize=7,
                      ha="right" if right else "left")  # fmt: skip
    axes.set_ylabel(tr(chart.unit))
    axes.set_title(title or tr(chart.label), fontsize=9)
    axes.grid(alpha=0.25)


def table_shared(
    runs: Sequence[Run], name: str, stale: Iterable[str] = ()
) -> tuple[list[str], list[list[str]]] | None:
    """Table `name` once when every run has the same one (a RECIST table comes from the
    measurements, not the scenario): headings and rows of texts; None when they differ or
    only one run has it, or any is out of date (then each keeps its mark)."""
    shown = [r for r in runs if r.result is not None and name in r.result.tables]
    if len(shown) < 2 or any(r.scenario in set(stale) for r in shown):
        return None
    first = shown[0].result.tables[name]
    texts = [[table_cell(v) for v in row] for row in first.rows]
    for run in shown[1:]:
        table = run.result.tables[name]
        if (
            tuple(table.columns) != tuple(first.columns)
            or [[table_cell(v) for v in row] for row in table.rows] != texts
        ):
            return None
    return _headings(first), texts
