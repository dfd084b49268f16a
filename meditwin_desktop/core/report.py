"""The board (MDT) report: a PDF with the case, key views, scenarios, outcomes (marked
against their clinical targets), curves with observed points, spatial results, surface
maps, overlays on photographs, tables, the twin's version and references, its
limitations and the statement of use. Every result kind is drawn side by side across
scenarios with shared colour scales; out-of-date runs are marked on every page.

Drawn with matplotlib (Agg; no Qt), so `meditwin report` writes the same file headless.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)
import numpy as np
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from meditwin_desktop import APP_NAME, __version__
from meditwin_desktop.core.atomic import write_atomic
from meditwin_desktop.core.case import Case, Run, now
from meditwin_desktop.core.clinical import fields as clinical_fields
from meditwin_desktop.core.comparison import (
    OUT_OF_DATE,
    TARGET_LEGEND,
    baseline_run,
    best_scenarios,
    cell_text,
    outcome_heading,
    outcome_note,
    plot_bars,
    plot_series,
)
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.freshness import check_runs
from meditwin_desktop.core.imaging.slicing import AXIAL, CORONAL, SAGITTAL, slice_through
from meditwin_desktop.core.output_paths import output_file
from meditwin_desktop.core.result_plots import (
    is_surface,
    photo_pixels,
    plot_overlay,
    plot_surface,
    result_labels,
    shared_range,
    table_side_by_side,
    table_stacked,
)
from meditwin_desktop.core.twin import Twin, format_value

STATEMENT = (
    "This report supports, and does not replace, the clinical decision of the "
    "multidisciplinary team. Model results carry the assumptions and limitations listed "
    "here; they must be weighed with all other clinical information."
)
_A4 = (8.27, 11.69)
_WARN = "#b02a1f"
_STAMP = [f"{APP_NAME} {__version__} — {now()}"]  # the page header's second line


def _page(title: str, stale: bool = False) -> tuple[Figure, float]:
    figure = Figure(figsize=_A4)
    figure.text(0.06, 0.965, title, fontsize=15, weight="bold")
    figure.text(0.06, 0.945, _STAMP[0], fontsize=8, color="#555555")
    if stale:
        figure.text(0.94, 0.965, "RESULTS OUT OF DATE", fontsize=10, weight="bold",
                    color=_WARN, ha="right")  # fmt: skip
    return figure, 0.92


def _lines(
    figure: Figure,
    y: float,
    lines: list[str],
    size: float = 9.5,
    width: int = 100,
    **style,
) -> float:
    for line in lines:
        for part in textwrap.wrap(line, width) or [""]:
            figure.text(0.06, y, part, fontsize=size, va="top", **style)
            y -= size * 0.0017
    return y


def _focus(case: Case) -> np.ndarray:
    """Where the key views cut: the centre of the first tumour-like label, else the image's."""
    image = case.image
    if case.labels is not None:
        for label in case.labels.labels.values():
            if "tumour" in label.name.lower() or "tumor" in label.name.lower():
                index = np.argwhere(case.labels.volume.array == label.value)
                if len(index):
                    k, j, i = index.mean(axis=0)
                    return case.labels.volume.index_to_lps(np.array([i, j, k]))
    return image.center_lps()


def _key_views(figure: Figure, case: Case, snapshot: np.ndarray | None, top: float) -> None:
    image = case.image
    point = _focus(case)
    level, width = image.meta.get("window") or (40.0, 400.0)
    panels = [AXIAL, CORONAL, SAGITTAL]
    for n, orientation in enumerate(panels):
        axes = figure.add_axes([0.06 + n * 0.3, top - 0.27, 0.28, 0.26])
        plane = slice_through(image, orientation, point)
        rows, cols = plane.pixels.shape
        dx, dy = plane.pixel_size
        extent = (0, cols * dx, rows * dy, 0)
        axes.imshow(
            plane.pixels,
            cmap="gray",
            vmin=level - width / 2,
            vmax=level + width / 2,
            extent=extent,
            interpolation="bilinear",
        )
        if case.labels is not None:
            labels = slice_through(case.labels.volume, orientation, point, nearest=True).pixels
            rgba = np.zeros((*labels.shape, 4))
            for value, label in case.labels.labels.items():
                if label.name != "body":
                    rgba[labels == value] = (*(np.array(label.color) / 255), 0.35)
            axes.imshow(rgba, extent=extent, interpolation="nearest")
        letters = orientation.edge_letters()
        for text, x, y in (
            (letters["left"], 0.02, 0.5),
            (letters["right"], 0.95, 0.5),
            (letters["top"], 0.5, 0.93),
            (letters["bottom"], 0.5, 0.02),
        ):
            axes.text(x, y, text, transform=axes.transAxes, color="white", weight="bold")
        axes.set_title(orientation.name.capitalize(), fontsize=9)
        axes.set_xticks([])
        axes.set_yticks([])
    if snapshot is not None:
        axes = figure.add_axes([0.06, top - 0.62, 0.88, 0.33])
        axes.imshow(snapshot)
        axes.set_title("3D view", fontsize=9)
        axes.axis("off")


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
    figure, y = _page("Spatial results (axial plane through the target)", bool(stale))
    meta = getattr(case.image, "meta", None) or {}
    level, width = meta.get("window") or (40.0, 400.0)
    for row, name in enumerate(names[:3]):
        fields = [r.result.fields.get(name) for r in shown]
        present = [np.asarray(f.values) for f in fields if f is not None]
        low = min(float(v.min()) for v in present)
        high = max(float(v.max()) for v in present)
        for column, (run, field) in enumerate(zip(shown, fields, strict=True)):
            if field is None:
                continue
            axes = figure.add_axes([0.06 + column * 0.225, y - 0.25 - row * 0.28, 0.21, 0.21])
            ct, plane, extent = _field_slice(case, field)
            if ct is not None:
                axes.imshow(
                    ct, cmap="gray", vmin=level - width / 2, vmax=level + width / 2, extent=extent
                )
            if set(np.unique(plane)) <= {0.0, 1.0}:
                if plane.any():
                    axes.contour(
                        plane,
                        levels=[0.5],
                        colors="orange",
                        extent=extent,
                        origin="upper",
                        linewidths=1.2,
                    )
            else:
                axes.imshow(plane, cmap="inferno", alpha=0.55, vmin=low, vmax=high, extent=extent)
            _panel_title(axes, run, stale, f"{field.label} {field.unit}".strip(), 7)
            axes.set_xticks([])
            axes.set_yticks([])
    _lines(
        figure,
        y - 0.27 - (min(len(names), 3) - 1) * 0.28 - 0.02,
        ["Colour scales are shared across scenarios; patient's right on the left."],
        size=8,
    )
    pdf.savefig(figure)


def _panel_title(axes, run: Run, stale: dict[str, str], what: str = "", size: float = 8) -> None:
    """A panel's title: the scenario (in red, marked, when out of date) and what it shows."""
    old = run.scenario in stale
    title = f"{run.scenario} ({OUT_OF_DATE})" if old else run.scenario
    axes.set_title(f"{title}\n{what}".strip(), fontsize=size, color=_WARN if old else "black")


def _surface_pages(pdf: PdfPages, runs: list[Run], stale: dict[str, str]) -> None:
    """Values on surface meshes: per field, a row of scenarios seen from the front and one
    seen from the patient's left, on a shared colour scale (two fields a page)."""
    names = list(result_labels(runs, "fields", is_surface))
    for first in range(0, len(names), 2):
        figure, y = _page("Surface results", bool(stale))
        for block, name in enumerate(names[first : first + 2]):
            shown = [r for r in runs if r.result and name in r.result.fields][:4]
            fields = [r.result.fields[name] for r in shown]
            clim = shared_range(f.values for f in fields)
            top = y - block * 0.45
            figure.text(0.06, top, f"{fields[0].label} [{fields[0].unit}]".replace(" []", ""),
                        fontsize=10, weight="bold", va="top")  # fmt: skip
            width = 0.88 / len(shown)
            mapping = None
            for row, (view, caption) in enumerate(
                (("anterior", "from the front"), ("left", "from the patient's left"))
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
            bar.set_xlabel(f"{fields[0].label} [{fields[0].unit}], shared scale", fontsize=7)
        view_note = (
            "Orthographic views; from the front the patient's right is on the left, from the "
            "left anterior is on the left."
        )
        _lines(figure, 0.04, [view_note], size=7.5)
        pdf.savefig(figure)


def _image_pages(pdf: PdfPages, case: Case, runs: list[Run], stale: dict[str, str]) -> None:
    """Overlays on the case's photographs: per overlay a row of scenarios (shared colour
    scale and bar for values; a mask as a cyan fill and outline), as many rows a page as
    fit."""
    names = list(result_labels(runs, "overlays"))
    figure, y, missing = None, 0.0, False

    def finish() -> None:
        notes = ["Masks: cyan fill and outline. Value maps share one colour scale per row."]
        if missing:
            notes.append("Grey background: the photograph was not loaded with the case.")
        _lines(figure, 0.05, notes, size=7.5)
        pdf.savefig(figure)

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
            figure, y = _page("Images", bool(stale))
            missing = False
        unit = f" [{overlays[0].unit}]" if overlays[0].unit else ""
        figure.text(0.06, y, overlays[0].label + unit, fontsize=10, weight="bold", va="top")
        clim = shared_range(o.values for o in overlays)
        mapping = None
        bottom = y - 0.055 - height
        for column, (run, overlay) in enumerate(zip(shown, overlays, strict=True)):
            axes = figure.add_axes([0.06 + column * (width + 0.015), bottom, width, height])
            photo = photo_pixels(case, overlay)
            missing |= photo is None
            mapping = plot_overlay(axes, overlay, photo, clim=clim) or mapping
            _panel_title(axes, run, stale, size=8)
        if mapping is not None:
            left = 0.06 + len(shown) * (width + 0.015) + 0.005
            bar = figure.add_axes([left, bottom, 0.012, height])
            figure.colorbar(mapping, cax=bar)
            bar.tick_params(labelsize=7)
            bar.set_ylabel(f"{overlays[0].label}{unit}", fontsize=7)
        y = bottom - 0.04
    if figure is not None:
        finish()


def _table_pages(pdf: PdfPages, runs: list[Run], stale: dict[str, str]) -> None:
    """Each table: scenarios side by side when the rows are named and it fits, else one
    scenario after another; 35 rows a page."""
    for name, label in result_labels(runs, "tables").items():
        side = table_side_by_side(runs, name, stale)
        headings, rows = side if side and len(side[0]) <= 9 else table_stacked(runs, name, stale)
        for first in range(0, max(len(rows), 1), 35):
            more = " (continued)" if first else ""
            figure, _ = _page(f"Table: {label}{more}", bool(stale))
            axes = figure.add_axes([0.06, 0.08, 0.88, 0.8])
            axes.axis("off")
            table = axes.table(
                cellText=rows[first : first + 35] or [["–"] * len(headings)],
                colLabels=headings,
                loc="upper center",
                cellLoc="center",
            )
            table.auto_set_font_size(False)
            table.set_fontsize(7 if len(headings) > 6 else 8)
            for (row, _column), cell in table.get_celld().items():
                if row == 0:
                    cell.set_height(cell.get_height() * 2.2)
                    cell.set_text_props(weight="bold")
                if OUT_OF_DATE in cell.get_text().get_text():
                    cell.set_text_props(color=_WARN, style="italic")
            pdf.savefig(figure)


def _change(twin: Twin, name: str, value) -> str:
    parameter = twin.parameter(name)
    return f"{parameter.label} = {format_value(value)} {parameter.unit}".strip()


def _outcome_rows(twin: Twin, runs: list[Run], stale: dict[str, str]) -> list[list[str]]:
    baseline = baseline_run(runs)
    best = best_scenarios(twin, runs, stale)
    rows = []
    for outcome in twin.outcomes:
        row = [outcome_heading(outcome).replace(" is better", "")]
        for run in runs:
            text = cell_text(outcome, run, baseline)
            if outcome_note(outcome, run):
                text += " †"
            row.append(("* " + text) if run.scenario in best[outcome.name] else text)
        rows.append(row)
    return rows


def _status_lines(twin: Twin, runs: list[Run], stale: dict[str, str]) -> list[str]:
    """Page 1: which results are out of date and why, and what the model noted."""
    lines = []
    if stale:
        lines += [
            f"RESULTS OUT OF DATE: {len(stale)} of {len(runs)} scenario result(s) were computed "
            "from other data than the case now holds. Run them again before deciding.",
            *[f"  - {name}: {reason}" for name, reason in stale.items()],
        ]
    notes = _model_notes(twin, runs)
    if notes:
        lines += ["", f"What the model noted ({len(notes)}; all on the page 'What the model "
                      "noted'):", *notes[:8]]  # fmt: skip
    return lines


def _model_notes(twin: Twin, runs: list[Run]) -> list[str]:
    """'  - Scenario: warning' and '  - Scenario, Outcome: n/a because…' for every run."""
    notes = []
    for run in runs:
        if run.result is None:
            continue
        notes += [f"  - {run.scenario}: {warning}" for warning in run.result.warnings]
        for outcome in twin.outcomes:
            note = outcome_note(outcome, run)
            if note:
                notes.append(f"  - {run.scenario}, {outcome.label}: {note}")
    return notes


def clinical_lines(clinical: dict) -> list[str]:
    """'Label: value unit' for each recorded clinical value (known fields in form order)."""
    lines = []
    for spec in clinical_fields():
        if clinical.get(spec.key) not in (None, ""):
            text, unit = spec.readable(clinical[spec.key])
            lines.append(f"  {spec.label}: {text} {unit}".rstrip())
    known = {spec.key for spec in clinical_fields()}
    lines += [f"  {k}: {v}" for k, v in clinical.items() if k not in known]
    return lines


def _bars_page(pdf: PdfPages, twin: Twin, runs: list[Run], stale: dict[str, str]) -> None:
    """Up to six outcomes that have a better direction or a clinical target, as bars across
    the scenarios (the target as a band or a line)."""
    chosen = [o for o in twin.outcomes if o.better in ("higher", "lower") or o.target][:6]
    if not chosen or not runs:
        return
    figure, _ = _page("Key outcomes", bool(stale))
    for n, outcome in enumerate(chosen):
        row, column = divmod(n, 2)
        axes = figure.add_axes([0.08 + column * 0.47, 0.64 - row * 0.29, 0.4, 0.22])
        plot_bars(axes, outcome, runs, stale=set(stale))
        axes.tick_params(labelsize=7)
    pdf.savefig(figure)


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
    show the face); the key slices through the lesion are kept."""
    path = output_file(path, ".pdf")
    if not case.runs.get(twin.id):
        raise InputError(f"No scenario of {twin.title} has been run on this case yet.")
    if case.image is None and case.image_reference.get("series_uid"):
        raise InputError("The case's image is not loaded; open the case with its images.")
    if stale is None:
        stale = check_runs(twin, case)
    if pseudonym is not None:
        from meditwin_desktop.core.pseudonym import Redactor, pseudonymize

        redact = Redactor.for_case(case, pseudonym)  # as scenario names are redacted
        stale = {redact(name): redact(reason) for name, reason in stale.items()}
        case = pseudonymize(case, pseudonym)
        _STAMP[0] = f"{APP_NAME} {__version__}"
    else:
        _STAMP[0] = f"{APP_NAME} {__version__} — {now()}"
    runs = list(case.runs.get(twin.id, []))
    order = [s.name for s in case.scenarios.get(twin.id, [])]
    runs.sort(key=lambda r: order.index(r.scenario) if r.scenario in order else 99)
    ok = [r for r in runs if r.status == "ok"]
    stale = {k: v for k, v in stale.items() if any(r.scenario == k for r in runs)}

    def pages(pdf: PdfPages) -> None:
        _first_page(pdf, case, twin, runs, stale, snapshot, pseudonym is not None)
        _outcomes_page(pdf, case, twin, runs, ok, stale)
        notes = _model_notes(twin, ok)
        if notes:
            figure, y = _page("What the model noted", bool(stale))
            _lines(figure, y, notes[:60], size=8.5, width=110)
            pdf.savefig(figure)
        _bars_page(pdf, twin, ok, stale)
        series_names = list(dict.fromkeys(n for r in ok if r.result for n in r.result.series))
        for first in range(0, min(len(series_names), 8), 4):  # 4 curves a page, 2 pages
            figure, _ = _page("Curves", bool(stale))
            for n, name in enumerate(series_names[first : first + 4]):
                axes = figure.add_axes([0.1, 0.7 - n * 0.22, 0.82, 0.17])
                plot_series(axes, ok, name, linewidth=1.2, stale=set(stale))
            pdf.savefig(figure)
        _spatial_page(pdf, case, ok, stale)
        _surface_pages(pdf, ok, stale)
        _image_pages(pdf, case, ok, stale)
        _table_pages(pdf, ok, stale)
        _provenance_page(pdf, twin, runs)

    metadata = {"Creator": APP_NAME}
    if pseudonym is not None:
        metadata["CreationDate"] = None  # a date that could link the report to a visit

    def write(tmp: Path) -> None:
        with PdfPages(tmp, metadata=metadata) as pdf:
            pages(pdf)

    write_atomic(path, write, suffix=".pdf")
    return path


def _first_page(pdf, case, twin, runs, stale, snapshot, pseudonymised: bool) -> None:
    figure, y = _page("Multidisciplinary board — virtual twin report", bool(stale))
    if pseudonymised:
        patient = f"Patient: {case.name} (pseudonymised)"
        imaging = "Imaging: " + (case.image_reference.get("modality") or "yes")
    else:
        patient = f"Patient: {case.name} (ID {case.patient_id or 'unknown'})"
        imaging = (f"Imaging: {case.image_reference.get('description', '')} "
                   f"(series {case.image_reference.get('series_uid', 'n/a')})")  # fmt: skip
    if case.image is None:
        imaging = "Imaging: none (clinical data only)"
    y = _lines(figure, y, [patient, imaging,
                           f"Twin: {twin.title}, version {twin.version} ({twin.specialty})",
                           f"Question: {twin.question}", ""])  # fmt: skip
    status = _status_lines(twin, runs, stale)
    if status:
        y = _lines(figure, y, status, size=9, color=_WARN if stale else "black") - 0.01
    y = _lines(figure, y, ["Clinical data:", *clinical_lines(case.clinical)])
    if _is_volume(case.image):
        if y < 0.66:  # no room for the views under a long status: they get a page
            pdf.savefig(figure)
            figure, y = _page("Key views", bool(stale))
        _key_views(figure, case, None if pseudonymised else snapshot, y - 0.01)
    elif getattr(case.image, "pixels", None) is not None and y > 0.4:
        axes = figure.add_axes([0.06, 0.06, 0.88, y - 0.1])
        pixels = np.asarray(case.image.pixels)
        axes.imshow(pixels, cmap="gray" if pixels.ndim == 2 else None)
        axes.set_title("Photograph", fontsize=9)
        axes.axis("off")
    pdf.savefig(figure)


def _outcomes_page(pdf, case, twin, runs, ok, stale) -> None:
    figure, _ = _page("Scenarios and outcomes", bool(stale))
    table_axes = figure.add_axes([0.06, 0.70, 0.88, 0.18])
    table_axes.axis("off")
    scenario_rows = [
        [s.name, textwrap.shorten(", ".join(_change(twin, k, v) for k, v in s.overrides.items())
                                  or "personalised baseline", 110, placeholder=" …")]
        for s in case.scenarios.get(twin.id, [])
    ] or [  # runs made without stored scenarios (e.g. by a script): their names only
        [run.scenario, "as run (see the outcomes)"] for run in runs
    ]  # fmt: skip
    scenario_table = table_axes.table(cellText=scenario_rows, colLabels=["Scenario", "Changes"],
                                      colWidths=[0.22, 0.78], loc="upper center",
                                      cellLoc="left")  # fmt: skip
    scenario_table.auto_set_font_size(False)
    scenario_table.set_fontsize(8)
    outcome_axes = figure.add_axes([0.06, 0.40, 0.88, 0.26])
    outcome_axes.axis("off")
    if ok:
        headers = [f"{r.scenario}\n({OUT_OF_DATE})" if r.scenario in stale else r.scenario
                   for r in ok]  # fmt: skip
        table = outcome_axes.table(cellText=_outcome_rows(twin, ok, stale),
                                   colLabels=["Outcome", *headers],
                                   colWidths=[0.46] + [0.54 / len(ok)] * len(ok),
                                   loc="upper center", cellLoc="center")  # fmt: skip
        table.auto_set_font_size(False)
        table.set_fontsize(7 if len(twin.outcomes) > 10 else 8)
        for (row, column), cell in table.get_celld().items():
            if column == 0 and row > 0:
                cell.set_text_props(ha="left")  # long outcome names read from the left
            if row == 0 and stale:
                cell.set_height(cell.get_height() * 1.8)  # two-line headers
            if column > 0 and ok[column - 1].scenario in stale:
                cell.set_text_props(color=_WARN, style="italic")
                cell.set_facecolor("#f6e3e1")
    failed = [f"{r.scenario}: {r.status} ({r.error})" for r in runs if r.status != "ok"]
    legend = ["* better value (none is marked while a result is out of date); in brackets: "
              "difference to the "
              "baseline; † the model noted something about this value (see 'What the model "
              "noted'); n/a: not defined for this scenario."]  # fmt: skip
    if any(o.target is not None for o in twin.outcomes):
        legend.append(f"{TARGET_LEGEND}.")
    if stale:
        legend.append(f"Columns marked '{OUT_OF_DATE}' were computed from other data than "
                      "the case now holds (page 1 says what changed).")  # fmt: skip
    _lines(figure, 0.36, [*legend, *failed], size=8)
    pdf.savefig(figure)


def _provenance_page(pdf, twin, runs) -> None:
    figure, y = _page("Model, provenance and limitations")
    y = _lines(
        figure,
        y,
        [f"{twin.title}, version {twin.version}.", "References:"]
        + [f"  - {ref}" for ref in twin.references]
        + ["", "Limitations:"]
        + [f"  - {text}" for text in twin.limitations]
        + ["", "Runs:"]
        + [
            f"  - {r.scenario}: {r.status}, {r.seconds:.1f} s, {APP_NAME} "
            f"{r.app_version}, twin {r.twin_version}, inputs {r.input_hash[:12]}, "
            f"{r.user}, {r.time}"
            for r in runs
        ]
        + [""],
    )
    _lines(figure, y - 0.02, [STATEMENT], size=10.5, width=85)
    pdf.savefig(figure)
