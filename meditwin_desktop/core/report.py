"""The board (MDT) report: a PDF designed for printing on A4.

Page 1 is the summary (patient or pseudonym, the question to the board, the scenarios
with their key outcomes coloured against the clinical targets, every flag once, which
results are out of date: `core.report_summary`); then the baseline with every parameter's
source (`core.report_baseline`); the target described anatomically with large slices
through it, its margins and each scenario's zone (`core.report_images`); all outcomes and
notes; bars, curves, spatial and surface results, overlays on photographs, tables; the
twin's version, references, limitations and the statement of use. Out-of-date runs are
marked on every page. Images are rendered at 300 dpi.

Drawn with matplotlib (Agg; no Qt), so `meditwin report` writes the same file headless.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from meditwin_desktop import APP_NAME, __version__
from meditwin_desktop.core.atomic import write_atomic
from meditwin_desktop.core.case import Case, Run, now
from meditwin_desktop.core.comparison import (
    BEST_RULE,
    MET,
    NEAR,
    OUT_OF_DATE,
    TARGET_LEGEND,
    TARGET_RULE,
    baseline_run,
    best_scenarios,
    cell_text,
    outcome_heading,
    outcome_note,
    plot_bars,
    plot_series,
    spread_key,
    target_state,
)
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.freshness import check_runs
from meditwin_desktop.core.i18n import N_, date_text, number, tr
from meditwin_desktop.core.output_paths import output_file
from meditwin_desktop.core.report_baseline import baseline_page
from meditwin_desktop.core.report_baseline import clinical_lines as clinical_lines
from meditwin_desktop.core.report_images import key_views_page, target_page
from meditwin_desktop.core.report_layout import (
    A4,
    BORDERLINE,
    DPI,
    LEFT,
    MEETS,
    MISSED,
    STALE_FILL,
    STAMP,
    WARN,
    Cell,
    heading,
    lines,
    lines_height,
    page,
    table,
)
from meditwin_desktop.core.report_summary import QUESTION_KEY, flags, spread_lines, summary_page
from meditwin_desktop.core.report_uncertainty import uncertainty_pages
from meditwin_desktop.core.result_plots import (
    category_legend,
    chart_groups,
    is_surface,
    localise_ticks,
    photo_pixels,
    plot_chart,
    plot_overlay,
    plot_surface,
    result_labels,
    scenario_title,
    shared_range,
    table_shared,
    table_side_by_side,
    table_stacked,
)
from meditwin_desktop.core.segmentation.measurements import report_rows
from meditwin_desktop.core.twin import Twin

STATEMENT = N_(
    "This report supports, and does not replace, the clinical decision of the "
    "multidisciplinary team. Model results carry the assumptions and limitations listed "
    "here; they must be weighed with all other clinical information."
)
_A4 = A4
_WARN = WARN
_page = page


def _lines(figure: Figure, y: float, texts: list[str], size: float = 9.5, width: int = 100,
           **style) -> float:  # fmt: skip
    return lines(figure, y, texts, size=size, width=width, **style)


def _is_volume(image) -> bool:
    """A 3D image (a Volume), not a 2D photograph."""
    return image is not None and np.ndim(getattr(image, "array", None)) == 3


def _field_slice(case: Case, field) -> tuple[np.ndarray | None, np.ndarray, tuple]:
    """The CT (None without one) and a grid field on the field's middle axial plane
    (extent in LPS mm)."""
    from scipy import ndimage

    values = np.asarray(field.values)
    k = values.shape[0] // 2
    nj, ni = values.shape[1:]
    j, i = np.mgrid[0:nj, 0:ni]
    ijk = np.stack([i, j, np.full_like(i, k)], axis=-1).astype(float)
    affine = field.affine if field.affine is not None else np.eye(4)
    lps = ijk @ affine[:3, :3].T + affine[:3, 3]
    extent = (lps[0, 0, 0], lps[0, -1, 0], lps[-1, 0, 1], lps[0, 0, 1])
    image = case.image
    if not _is_volume(image):
        return None, values[k], extent
    index = image.lps_to_index(lps)
    ct = ndimage.map_coordinates(
        image.array.astype(np.float32), np.moveaxis(index[..., ::-1], -1, 0), order=1, cval=-1000
    )
    return ct, values[k], extent


def _spatial_page(pdf: PdfPages, case: Case, runs: list[Run], stale: dict[str, str]) -> None:
    """Grid fields side by side: an axial plane through each field's centre, over the CT."""
    names = sorted(
        {
            n
            for r in runs
            if r.result
            for n, f in r.result.fields.items()
            if not is_surface(f) and np.asarray(f.values).ndim == 3
        }
    )
    shown = [r for r in runs if r.result and any(n in r.result.fields for n in names)][:4]
    if not names or not shown:
        return
    figure, y = _page(tr("Spatial results (axial plane through the target)"), bool(stale))
    meta = getattr(case.image, "meta", None) or {}
    level, width = meta.get("window") or (40.0, 400.0)
    side = min(0.27, (0.84 - 0.02 * (len(shown) - 1)) / len(shown))  # of the page's width
    tall = side * A4[0] / A4[1]  # square panels
    top = y - 0.04
    for name in names[:3]:
        fields = [r.result.fields.get(name) for r in shown]
        present = [np.asarray(f.values) for f in fields if f is not None]
        low = min(float(v.min()) for v in present)
        high = max(float(v.max()) for v in present)
        mapping = None
        for column, (run, field) in enumerate(zip(shown, fields, strict=True)):
            if field is None:
                continue
            axes = figure.add_axes([LEFT + column * (side + 0.02), top - tall, side, tall])
            ct, plane, extent = _field_slice(case, field)
            if ct is not None:
                axes.imshow(ct, cmap="gray", vmin=level - width / 2, vmax=level + width / 2,
                            extent=extent, interpolation="bilinear")  # fmt: skip
            if set(np.unique(plane)) <= {0.0, 1.0}:
                if plane.any():
                    axes.contour(plane, levels=[0.5], colors="orange", extent=extent,
                                 origin="upper", linewidths=1.2)  # fmt: skip
            else:
                mapping = axes.imshow(plane, cmap="inferno", alpha=0.55, vmin=low, vmax=high,
                                      extent=extent, interpolation="bilinear")  # fmt: skip
            _panel_title(axes, run, stale, f"{tr(field.label)} {field.unit}".strip(), 7.5)
            axes.set_xticks([])
            axes.set_yticks([])
        if mapping is not None:
            bar = figure.add_axes([LEFT + len(shown) * (side + 0.02) - 0.01, top - tall, 0.012,
                                   tall])  # fmt: skip
            figure.colorbar(mapping, cax=bar)
            bar.tick_params(labelsize=7)
        top -= tall + 0.06
    _lines(figure, top + 0.03, [tr("Colour scales are shared across scenarios; patient's right "
                                   "on the left; orange outline: a predicted zone.")],
           size=8)  # fmt: skip
    _save_page(pdf, figure)


def _panel_title(axes, run: Run, stale: dict[str, str], what: str = "", size: float = 8) -> None:
    """A panel's title: the scenario (in red, marked, when out of date) and what it shows."""
    old = run.scenario in stale
    title = f"{run.scenario} ({tr(OUT_OF_DATE)})" if old else run.scenario
    axes.set_title(f"{title}\n{what}".strip(), fontsize=size, color=_WARN if old else "black")


def _surface_pages(pdf: PdfPages, runs: list[Run], stale: dict[str, str]) -> None:
    """Values on surface meshes: per field, a row of scenarios seen from the front and one
    seen from the patient's left, on a shared colour scale (two fields a page)."""
    # a movie (values over time) has no page: paper shows its maps, the screen its frames
    names = list(result_labels(runs, "fields", lambda f: is_surface(f) and f.times is None))
    for first in range(0, len(names), 2):
        figure, y = _page(tr("Surface results"), bool(stale))
        for block, name in enumerate(names[first : first + 2]):
            shown = [r for r in runs if r.result and name in r.result.fields][:4]
            fields = [r.result.fields[name] for r in shown]
            clim = shared_range(f.values for f in fields)
            top = y - block * 0.45
            figure.text(0.06, top, f"{tr(fields[0].label)} [{fields[0].unit}]".replace(" []", ""),
                        fontsize=10, weight="bold", va="top")  # fmt: skip
            width = 0.88 / len(shown)
            mapping = None
            for row, (view, caption) in enumerate(
                (("anterior", tr("from the front")), ("left", tr("from the patient's left")))
            ):
                for column, (run, field) in enumerate(zip(shown, fields, strict=True)):
                    axes = figure.add_axes(
                        [0.06 + column * width, top - 0.2 - row * 0.18, width * 0.94, 0.16]
                    )
                    mapping = plot_surface(axes, field, view=view, clim=clim)
                    if row == 0:
                        _panel_title(axes, run, stale, size=8)
                    if column == 0:
                        axes.set_ylabel(caption, fontsize=7)
                    for spine in axes.spines.values():
                        spine.set_visible(False)
            bar = figure.add_axes([0.3, top - 0.415, 0.4, 0.01])
            figure.colorbar(mapping, cax=bar, orientation="horizontal")
            bar.tick_params(labelsize=7)
            bar.set_xlabel(tr("{what}, shared scale").format(
                what=f"{tr(fields[0].label)} [{fields[0].unit}]"), fontsize=7)  # fmt: skip
        view_note = tr(
            "Orthographic views; from the front the patient's right is on the left, from the "
            "left anterior is on the left."
        )
        _lines(figure, 0.04, [view_note], size=7.5)
        _save_page(pdf, figure)


def _image_pages(pdf: PdfPages, case: Case, runs: list[Run], stale: dict[str, str]) -> None:
    """Overlays on the case's photographs: per overlay a row of scenarios (shared colour
    scale and bar for values; a mask as a cyan fill and outline), as many rows a page as
    fit."""
    names = list(result_labels(runs, "overlays"))
    figure, y, missing = None, 0.0, False

    def finish() -> None:
        notes = [
            tr("Masks: cyan fill and outline. Value maps share one colour scale per row; "
               "maps of categories (arteries, veins) have a legend.")
        ]
        if missing:
            notes.append(tr("Grey background: the photograph was not loaded with the case."))
        _lines(figure, 0.05, notes, size=7.5)
        _save_page(pdf, figure)

    for name in names:
        shown = [r for r in runs if r.result and name in r.result.overlays][:4]
        overlays = [r.result.overlays[name] for r in shown]
        rows, columns = np.asarray(overlays[0].values).shape[:2]
        width = 0.19  # of the page's width; the height keeps the photograph's aspect
        height = width * _A4[0] / _A4[1] * rows / max(columns, 1)
        if height > 0.3:
            width, height = width * 0.3 / height, 0.3
        if figure is None or y - height - 0.07 < 0.08:
            if figure is not None:
                finish()
            figure, y = _page(tr("Images"), bool(stale))
            missing = False
        unit = f" [{overlays[0].unit}]" if overlays[0].unit else ""
        figure.text(0.06, y, tr(overlays[0].label) + unit, fontsize=10, weight="bold", va="top")
        clim = shared_range(o.values for o in overlays)
        mapping = None
        bottom = y - 0.055 - height
        for column, (run, overlay) in enumerate(zip(shown, overlays, strict=True)):
            axes = figure.add_axes([0.06 + column * (width + 0.015), bottom, width, height])
            photo = photo_pixels(case, overlay)
            missing |= photo is None
            mapping = plot_overlay(axes, overlay, photo, clim=clim) or mapping
            _panel_title(axes, run, stale, size=8)
        if overlays[0].categories:
            category_legend(figure, overlays[0], loc="upper left", fontsize=7,
                            bbox_to_anchor=(0.06, bottom - 0.004))  # fmt: skip
        if mapping is not None:
            left = 0.06 + len(shown) * (width + 0.015) + 0.005
            bar = figure.add_axes([left, bottom, 0.012, height])
            figure.colorbar(mapping, cax=bar)
            bar.tick_params(labelsize=7)
            bar.set_ylabel(f"{tr(overlays[0].label)}{unit}", fontsize=7)
        y = bottom - 0.04
    if figure is not None:
        finish()


def _measurements_pages(pdf: PdfPages, case: Case, stale: dict[str, str]) -> None:
    """The rulers and ROIs the clinicians kept on the images, 40 a page (none: no page)."""
    rows = [list(row) for row in report_rows(case)]
    for first in range(0, len(rows), 40):
        title = tr("Measurements on the images (continued)") if first else tr(
            "Measurements on the images")  # fmt: skip
        figure, y = _page(title, bool(stale))
        table(figure, y, [0.2, 0.2, 0.16, 1 - 2 * LEFT - 0.56],
              [tr("Study"), tr("Measurement"), tr("Where"), tr("Value")],
              rows[first : first + 40])  # fmt: skip
        _save_page(pdf, figure)


def _table_pages(pdf: PdfPages, runs: list[Run], stale: dict[str, str]) -> None:
    """Each table: once when every scenario has the same (it comes from the case), else the
    scenarios side by side when the rows are named and it fits, else one scenario after
    another; long texts wrapped to the page's width shared by the columns, columns as wide
    as their texts; tables follow one another on a page while their lines fit."""
    figure, y = None, 0.0
    for name, label in result_labels(runs, "tables").items():
        shared = table_shared(runs, name, stale)
        side = None if shared else table_side_by_side(runs, name, stale)
        headings, rows = shared or (
            side if side and len(side[0]) <= 9 else table_stacked(runs, name, stale)
        )
        title = (tr("Table: {name} (the same in every scenario)") if shared else tr(
            "Table: {name}")).format(name=tr(label))  # fmt: skip
        wraps = _column_wraps(headings, rows)
        wrapped = [[textwrap.fill(c, w) for c, w in zip(row, wraps, strict=False)]
                   for row in rows]  # fmt: skip
        labels = [textwrap.fill(h, max(8, min(18, w)))
                  for h, w in zip(headings, wraps, strict=True)]  # fmt: skip
        for part, cells in enumerate(_table_chunks(wrapped)):
            header = max(h.count("\n") + 1 for h in labels) + 1.2
            tall = header + sum(max(c.count("\n") + 1 for c in row) for row in cells or [[""]])
            height = tall * TABLE_LINE
            size = 8 if sum(wraps) <= NARROW_CHARACTERS else 7
            name = title + (" (" + tr("continued") + ")" if part else "")
            if figure is None or y - height - 0.04 < 0.06:
                figure, y = _next_table_page(pdf, figure, stale)
            top = y
            y = heading(figure, top - 0.01, name, 10)
            axes = figure.add_axes([0.04, y - height, 0.92, height])
            axes.axis("off")
            drawn = _draw_table(axes, labels, cells, size)
            bottom = min(y - height, _bottom(figure, drawn))  # as drawn, wrapped lines too
            if bottom < 0.04 and top < 0.9:  # not the page's first: on a page of its own
                axes.remove()
                figure.texts.pop()  # its heading
                figure, y = _next_table_page(pdf, figure, stale)
                y = heading(figure, y - 0.01, name, 10)
                axes = figure.add_axes([0.04, y - height, 0.92, height])
                axes.axis("off")
                bottom = min(y - height, _bottom(figure, _draw_table(axes, labels, cells, size)))
            y = bottom - 0.02
    if figure is not None:
        _save_page(pdf, figure)


def _next_table_page(pdf: PdfPages, figure: Figure | None, stale) -> tuple[Figure, float]:
    """Save the page being filled (if any) and start the next page of tables."""
    if figure is not None:
        _save_page(pdf, figure)
    return _page(tr("Tables (continued)") if figure else tr("Tables"), bool(stale))


def _bottom(figure: Figure, drawn) -> float:
    """The bottom of a drawn table, figure fraction (measured as Agg lays it out)."""
    box = drawn.get_window_extent(FigureCanvasAgg(figure).get_renderer())
    return float(box.y0 / figure.bbox.height)


def _draw_table(axes, labels: list[str], cells: list[list[str]], size: float):
    """A table filling `axes` from its top: bold headings, a row as tall as its tallest
    cell, out-of-date values in the warning colour."""
    drawn = axes.table(cellText=cells or [["–"] * len(labels)], colLabels=labels,
                       loc="upper center", cellLoc="center")  # fmt: skip
    drawn.auto_set_font_size(False)
    drawn.set_fontsize(size)
    drawn.auto_set_column_width(list(range(len(labels))))
    celld = drawn.get_celld()
    tall: dict[int, int] = {}
    for (row, _column), cell in celld.items():
        tall[row] = max(tall.get(row, 1), cell.get_text().get_text().count("\n") + 1)
    for (row, _column), cell in celld.items():
        cell.set_height(cell.get_height() * max(tall[row], 2.2 if row == 0 else 1))
        if row == 0:
            cell.set_text_props(weight="bold")
        if tr(OUT_OF_DATE) in cell.get_text().get_text():
            cell.set_text_props(color=_WARN, style="italic")
    return drawn


WRAP = 48  # characters of a table cell on one line (a RECIST rule takes two or three)
PAGE_CHARACTERS = 120  # characters of 7-point text across a table page, all columns
NARROW_CHARACTERS = 95  # a table this narrow (characters a line, all columns) gets 8 points
PAGE_LINES = 60  # lines of 7-point table text a page holds
TABLE_LINE = 0.0125  # height of a table's line of 7-8 point text, figure fraction (A4)


def _column_wraps(headings: list[str], rows: list[list[str]]) -> list[int]:
    """Characters per line of each column: its longest text (at most WRAP), the widest
    columns narrowed first until all fit PAGE_CHARACTERS (never under 8)."""
    wraps = [
        min(WRAP, max([len(word) for word in str(h).split()] + [len(str(row[n])) for row in rows
                                                                if n < len(row)] + [1]))
        for n, h in enumerate(headings)
    ]  # fmt: skip
    while sum(wraps) > PAGE_CHARACTERS and max(wraps) > 8:
        wraps[wraps.index(max(wraps))] -= 1
    return wraps


def _table_chunks(rows: list[list[str]]) -> list[list[list[str]]]:
    """The rows in pages of at most PAGE_LINES lines (a row as tall as its tallest cell)."""
    chunks: list[list[list[str]]] = [[]]
    used = 0
    for row in rows:
        height = max((cell.count("\n") + 1 for cell in row), default=1)
        if chunks[-1] and used + height > PAGE_LINES:
            chunks.append([])
            used = 0
        chunks[-1].append(row)
        used += height
    return chunks


def _chart_pages(pdf: PdfPages, runs: list[Run], stale: dict[str, str]) -> None:
    """Each chart (waterfall, spider plot), two a page; identical charts of several
    scenarios drawn once, titled with all of them."""
    panels = []
    for name, label in result_labels(runs, "charts").items():
        for members, chart in chart_groups(runs, name):
            who = ", ".join(scenario_title(r, stale) for r in members)
            panels.append((chart, f"{tr(label)} — {who}"))
    for first in range(0, len(panels), 2):
        figure, y = _page(tr("Charts"), bool(stale))
        for n, (chart, title) in enumerate(panels[first : first + 2]):
            axes = figure.add_axes([0.12, y - 0.4 - n * 0.45, 0.8, 0.33])
            plot_chart(axes, chart, textwrap.fill(title, 90), colour="black")
            axes.tick_params(labelsize=7)
        _save_page(pdf, figure)


_CURVE = 0.27  # page height one curve takes (axes, title, ticks and axis label)


def _curve(figure: Figure, top: float, runs: list[Run], name: str, stale) -> None:
    """One curve across the scenarios, its title's top at `top`."""
    axes = figure.add_axes([0.11, top - 0.235, 0.82, 0.21])
    plot_series(axes, runs, name, linewidth=1.2, stale=set(stale))
    axes.tick_params(labelsize=8)


def _bars_page(pdf: PdfPages, twin: Twin, runs: list[Run], stale: dict[str, str]) -> None:
    """Up to six outcomes that have a better direction or a clinical target, as bars across
    the scenarios (the target as a band or a line)."""
    chosen = [o for o in twin.outcomes if o.better in ("higher", "lower") or o.target][:6]
    if not chosen or not runs:
        return
    figure, _ = _page(tr("Key outcomes"), bool(stale))
    for n, outcome in enumerate(chosen):
        row, column = divmod(n, 2)
        axes = figure.add_axes([0.1 + column * 0.47, 0.64 - row * 0.29, 0.33, 0.22])
        plot_bars(axes, outcome, runs, stale=set(stale))
        axes.tick_params(labelsize=7)
        title = axes.get_title()  # 'Label (higher is better; target …)': wrapped to the axes
        axes.set_title("\n".join(textwrap.fill(t, 40) for t in title.split("\n")), fontsize=8.5)
        names = [textwrap.fill(t.get_text(), 16) for t in axes.get_xticklabels()]
        axes.set_xticks(axes.get_xticks(), names, fontsize=7)  # scenario names wrapped
    _save_page(pdf, figure)


def write_report(
    case: Case,
    twin: Twin,
    path: Path,
    *,
    snapshot: np.ndarray | None = None,
    pseudonym: str | None = None,
    stale: dict[str, str] | None = None,
) -> Path:
    """Write the PDF (atomically) and return its path.

    `stale`: scenario -> why its run is out of date (`core.freshness.check_runs`); computed
    here when not given. With `pseudonym` the report carries no identity: name, IDs, UIDs,
    free text, the operator's name and dates (also the PDF's creation date) are gone
    (`core.pseudonym`), and no 3D snapshot is printed (a surface rendering of a head can
    show the face); the key slices through the lesion are kept, the question to the board
    (free text) is withheld."""
    path = output_file(path, ".pdf")
    if not case.runs.get(twin.id):
        raise InputError(tr("No scenario of {twin} has been run on this case yet.").format(
            twin=tr(twin.title)))  # fmt: skip
    if case.image is None and case.image_reference.get("series_uid"):
        raise InputError(tr("The case's image is not loaded; open the case with its images."))
    if stale is None:
        stale = check_runs(twin, case)
    withheld = pseudonym is not None and bool(case.clinical.get(QUESTION_KEY))
    if pseudonym is not None:
        from meditwin_desktop.core.pseudonym import Redactor, pseudonymize

        redact = Redactor.for_case(case, pseudonym)  # as scenario names are redacted
        stale = {redact(name): redact(reason) for name, reason in stale.items()}
        case = pseudonymize(case, pseudonym)
        STAMP[0] = f"{APP_NAME} {__version__}"
        snapshot = None  # a surface rendering of a head can show the face
    else:
        STAMP[0] = f"{APP_NAME} {__version__} — {_when(now())}"
    runs = list(case.runs.get(twin.id, []))
    order = [s.name for s in case.scenarios.get(twin.id, [])]
    runs.sort(key=lambda r: order.index(r.scenario) if r.scenario in order else 99)
    ok = [r for r in runs if r.status == "ok"]
    stale = {k: v for k, v in stale.items() if any(r.scenario == k for r in runs)}

    def pages(pdf: PdfPages) -> None:
        summary_page(pdf, case, twin, runs, stale, pseudonym is not None, withheld)
        baseline_page(pdf, case, twin, runs, stale)
        if not target_page(pdf, case, twin, runs, stale, snapshot) and not key_views_page(
            pdf, case, stale, snapshot
        ):
            _photo_page(pdf, case, stale)
        _measurements_pages(pdf, case, stale)
        figure, y = _outcomes_page(pdf, twin, runs, ok, stale)
        series = list(dict.fromkeys(n for r in ok if r.result for n in r.result.series))[:9]
        room = int((y - 0.06) // _CURVE) if series else 0  # curves that fit below the table
        if room:
            y = heading(figure, y - 0.01, tr("Curves"))
            for name in series[:room]:
                _curve(figure, y, ok, name, stale)
                y -= _CURVE
        _save_page(pdf, figure)
        _bars_page(pdf, twin, ok, stale)
        uncertainty_pages(pdf, twin, ok, stale)
        rest = series[room:]
        for first in range(0, len(rest), 3):  # 3 curves a page
            figure, y = _page(tr("Curves"), bool(stale))
            for n, name in enumerate(rest[first : first + 3]):
                _curve(figure, y - 0.02 - n * _CURVE, ok, name, stale)
            _save_page(pdf, figure)
        _spatial_page(pdf, case, ok, stale)
        _surface_pages(pdf, ok, stale)
        _image_pages(pdf, case, ok, stale)
        _table_pages(pdf, ok, stale)
        _chart_pages(pdf, ok, stale)
        _provenance_page(pdf, twin, runs)

    metadata = {"Creator": APP_NAME}
    if pseudonym is not None:
        metadata["CreationDate"] = None  # a date that could link the report to a visit

    def write(tmp: Path) -> None:
        with PdfPages(tmp, metadata=metadata) as pdf:
            pages(pdf)

    write_atomic(path, write, suffix=".pdf")
    return path


def _when(time: str) -> str:
    """A stored ISO time ('2026-12-07T14:05:00') as the language writes it (date and
    hour in French; as stored in English)."""
    if not time or date_text(time) == time[:10]:
        return time
    return f"{date_text(time)} {time[11:16]}".rstrip()


def _provenance_page(pdf, twin, runs) -> None:
    figure, y = _page(tr("Model, provenance and limitations"))
    y = _lines(
        figure,
        y,
        [
            tr("{title}, version {version}.").format(title=tr(twin.title), version=twin.version),
            tr("References:"),
        ]
        + [f"  - {ref}" for ref in twin.references]
        + ["", tr("Limitations:")]
        + [f"  - {tr(text)}" for text in twin.limitations]
        + ["", tr("Runs:")]
        + [
            "  - "
            + tr(
                "{scenario}: {status}, {seconds} s, {app} {app_version}, twin {twin_version}, "
                "inputs {inputs}, {user}, {time}"
            ).format(
                scenario=r.scenario,
                status=tr(r.status),
                seconds=number(r.seconds, 1),
                app=APP_NAME,
                app_version=r.app_version,
                twin_version=r.twin_version,
                inputs=r.input_hash[:12],
                user=r.user,
                time=_when(r.time),
            )
            for r in runs
        ]
        + [""],
    )
    _lines(figure, y - 0.02, [tr(STATEMENT)], size=10.5, width=85)
    _save_page(pdf, figure)


def _photo_page(pdf: PdfPages, case: Case, stale: dict[str, str]) -> None:
    """The case's 2D photograph, large (nothing without one)."""
    pixels = getattr(case.image, "pixels", None)
    if pixels is None:
        return
    figure, y = _page(tr("Photograph"), bool(stale))
    axes = figure.add_axes([LEFT, 0.08, 1 - 2 * LEFT, y - 0.1])
    pixels = np.asarray(pixels)
    axes.imshow(pixels, cmap="gray" if pixels.ndim == 2 else None)
    axes.axis("off")
    _save_page(pdf, figure)


def outcome_table_header(runs: list[Run], stale: dict[str, str]) -> list[Cell]:
    """The outcome table's header: "Outcome", then each run's scenario (out-of-date ones
    marked in the warning colour)."""
    return [Cell(tr("Outcome"))] + [
        Cell(f"{r.scenario}\n({tr(OUT_OF_DATE)})", colour=WARN, align="center")
        if r.scenario in stale else Cell(r.scenario, align="center")
        for r in runs
    ]  # fmt: skip


def _outcome_rows(twin: Twin, runs: list[Run], stale: dict[str, str]) -> list[list]:
    baseline = baseline_run(runs)
    best = best_scenarios(twin, runs, stale)
    rows = []
    for outcome in twin.outcomes:
        row = [Cell(outcome_heading(outcome, short=True))]
        for run in runs:
            text = cell_text(outcome, run, baseline)
            if outcome_note(outcome, run):
                text += " †"
            text += spread_lines(outcome, run)  # a run with uncertainty: interval, P(target)
            state = target_state(outcome, run.outcomes.get(outcome.name))
            fill = {MET: MEETS, NEAR: BORDERLINE, None: None}.get(state, MISSED)
            if run.scenario in stale:
                row.append(Cell(text, STALE_FILL, style="italic", colour=WARN, align="center"))
            elif run.scenario in best[outcome.name]:
                row.append(Cell("★ " + text, fill, weight="bold", align="center"))
            else:
                row.append(Cell(text, fill, align="center"))
        rows.append(row)
    return rows


def _outcomes_page(pdf, twin: Twin, runs: list[Run], ok: list[Run], stale) -> tuple[Figure, float]:
    """Every outcome of every scenario, the legend, and every flag and note (once); returns
    the last page, not yet written, and the height where its content ends."""
    figure, y = _page(tr("Scenarios and outcomes"), bool(stale))
    if ok:
        shown = ok[:6]
        first = 0.34
        widths = [first] + [(1 - 2 * LEFT - first) / len(shown)] * len(shown)
        header = outcome_table_header(shown, stale)
        size = 8 if len(twin.outcomes) <= 14 else 7
        y = table(figure, y, widths, header, _outcome_rows(twin, shown, stale), size=size)
    legend = [
        tr(BEST_RULE),
        tr("In brackets: difference to the baseline; † the model noted something about this "
           "value (below); n/a: not defined for this scenario."),
    ]
    if any(o.target is not None for o in twin.outcomes):
        legend += [tr(TARGET_RULE), f"{tr(TARGET_LEGEND)}."]
    key = spread_key(ok)
    if key:
        legend.append(f"{key} " + tr("How they were computed: page 'Uncertainty and "
                                     "sensitivity'."))
    if stale:
        legend.append(tr("Columns marked '{marker}' were computed from other data than "
                         "the case now holds (page 1 says what changed).").format(
                             marker=tr(OUT_OF_DATE)))  # fmt: skip
    y = _lines(figure, y - 0.008, legend, size=8, width=120) - 0.01
    found = flags(twin, runs, stale)
    if found:
        y = heading(figure, y, tr("Flags, warnings and notes"))
        for text, alarm in found:
            need = lines_height([text], 8.5, 112)
            if y - need < 0.04:
                _save_page(pdf, figure)
                figure, y = _page(tr("Flags, warnings and notes (continued)"), bool(stale))
            y = _lines(figure, y, [("⚠ " if alarm else "• ") + text], size=8.5, width=112,
                       color=_WARN if alarm else "black")  # fmt: skip
    return figure, y


def _save_page(pdf, figure) -> None:
    """One page into the PDF, its plots' numbers in the language in use."""
    localise_ticks(figure)
    pdf.savefig(figure, dpi=DPI)
