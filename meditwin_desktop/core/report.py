"""The board (MDT) report: a PDF with the case, key views, scenarios, outcomes, curves,
the twin's version and references, its limitations and the statement of use.

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
from meditwin_desktop.core.clinical import FIELDS as CLINICAL_FIELDS
from meditwin_desktop.core.comparison import (
    baseline_run,
    best_scenarios,
    cell_text,
    outcome_heading,
    plot_bars,
    plot_series,
)
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.imaging.slicing import AXIAL, CORONAL, SAGITTAL, slice_through
from meditwin_desktop.core.twin import Twin, format_value

STATEMENT = (
    "This report supports, and does not replace, the clinical decision of the "
    "multidisciplinary team. Model results carry the assumptions and limitations listed "
    "here; they must be weighed with all other clinical information."
)
_A4 = (8.27, 11.69)


def _page(title: str) -> tuple[Figure, float]:
    figure = Figure(figsize=_A4)
    figure.text(0.06, 0.965, title, fontsize=15, weight="bold")
    figure.text(0.06, 0.945, f"{APP_NAME} {__version__} — {now()}", fontsize=8, color="#555555")
    return figure, 0.92


def _lines(
    figure: Figure, y: float, lines: list[str], size: float = 9.5, width: int = 100
) -> float:
    for line in lines:
        for part in textwrap.wrap(line, width) or [""]:
            figure.text(0.06, y, part, fontsize=size, va="top")
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


def _field_slice(case: Case, field) -> tuple[np.ndarray, np.ndarray, tuple]:
    """The CT and a grid field on the field's middle axial plane (extent in LPS mm)."""
    from scipy import ndimage

    values = np.asarray(field.values)
    k = values.shape[0] // 2
    nj, ni = values.shape[1:]
    j, i = np.mgrid[0:nj, 0:ni]
    ijk = np.stack([i, j, np.full_like(i, k)], axis=-1).astype(float)
    lps = ijk @ field.affine[:3, :3].T + field.affine[:3, 3]
    image = case.image
    index = image.lps_to_index(lps)
    ct = ndimage.map_coordinates(
        image.array.astype(np.float32), np.moveaxis(index[..., ::-1], -1, 0), order=1, cval=-1000
    )
    extent = (lps[0, 0, 0], lps[0, -1, 0], lps[-1, 0, 1], lps[0, 0, 1])
    return ct, values[k], extent


def _spatial_page(pdf: PdfPages, case: Case, runs: list[Run]) -> None:
    """Grid fields side by side: an axial plane through each field's centre, over the CT."""
    names = sorted(
        {
            n
            for r in runs
            if r.result
            for n, f in r.result.fields.items()
            if f.affine is not None and np.asarray(f.values).ndim == 3
        }
    )
    shown = [r for r in runs if r.result and any(n in r.result.fields for n in names)][:4]
    if not names or not shown:
        return
    figure, y = _page("Spatial results (axial plane through the target)")
    level, width = case.image.meta.get("window") or (40.0, 400.0)
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
            axes.set_title(f"{run.scenario}\n{field.label} {field.unit}".strip(), fontsize=7)
            axes.set_xticks([])
            axes.set_yticks([])
    _lines(
        figure,
        y - 0.27 - (min(len(names), 3) - 1) * 0.28 - 0.02,
        ["Colour scales are shared across scenarios; patient's right on the left."],
        size=8,
    )
    pdf.savefig(figure)


def _change(twin: Twin, name: str, value) -> str:
    parameter = twin.parameter(name)
    return f"{parameter.label} = {format_value(value)} {parameter.unit}".strip()


def _outcome_rows(twin: Twin, runs: list[Run]) -> list[list[str]]:
    baseline = baseline_run(runs)
    best = best_scenarios(twin, runs)
    rows = []
    for outcome in twin.outcomes:
        row = [outcome_heading(outcome).replace(" is better", "")]
        for run in runs:
            text = cell_text(outcome, run, baseline)
            row.append(("* " + text) if run.scenario in best[outcome.name] else text)
        rows.append(row)
    return rows


def clinical_lines(clinical: dict) -> list[str]:
    """'Label: value unit' for each recorded clinical value (known fields in form order)."""
    lines = []
    for spec in CLINICAL_FIELDS:
        if clinical.get(spec.key) not in (None, ""):
            text, unit = spec.readable(clinical[spec.key])
            lines.append(f"  {spec.label}: {text} {unit}".rstrip())
    known = {spec.key for spec in CLINICAL_FIELDS}
    lines += [f"  {k}: {v}" for k, v in clinical.items() if k not in known]
    return lines


def _bars_page(pdf: PdfPages, twin: Twin, runs: list[Run]) -> None:
    """Up to six outcomes that have a better direction, as bars across the scenarios."""
    chosen = [o for o in twin.outcomes if o.better in ("higher", "lower")][:6]
    if not chosen or not runs:
        return
    figure, _ = _page("Key outcomes")
    for n, outcome in enumerate(chosen):
        row, column = divmod(n, 2)
        axes = figure.add_axes([0.08 + column * 0.47, 0.64 - row * 0.29, 0.4, 0.22])
        plot_bars(axes, outcome, runs)
        axes.tick_params(labelsize=7)
    pdf.savefig(figure)


def write_report(
    case: Case,
    twin: Twin,
    path: Path,
    *,
    snapshot: np.ndarray | None = None,
    pseudonym: str | None = None,
) -> Path:
    """Write the PDF (atomically) and return its path."""
    runs = [r for r in case.runs.get(twin.id, [])]
    if not runs:
        raise InputError(f"No scenario of {twin.title} has been run on this case yet.")
    if case.image is None and case.image_reference.get("series_uid"):
        raise InputError("The case's image is not loaded; open the case with its images.")
    order = [s.name for s in case.scenarios.get(twin.id, [])]
    runs.sort(key=lambda r: order.index(r.scenario) if r.scenario in order else 99)
    ok = [r for r in runs if r.status == "ok"]
    patient = pseudonym or f"{case.name} (ID {case.patient_id or 'unknown'})"

    def pages(pdf: PdfPages) -> None:
        figure, y = _page("Multidisciplinary board — virtual twin report")
        y = _lines(
            figure,
            y,
            [
                f"Patient: {patient}",
                f"Imaging: {case.image_reference.get('description', '')} "
                f"(series {case.image_reference.get('series_uid', 'n/a')})"
                if case.image is not None
                else "Imaging: none (clinical data only)",
                f"Twin: {twin.title}, version {twin.version} ({twin.specialty})",
                f"Question: {twin.question}",
                "",
                "Clinical data:",
                *clinical_lines(case.clinical),
            ],
        )
        if case.image is not None:
            _key_views(figure, case, snapshot, y - 0.01)
        pdf.savefig(figure)

        figure, y = _page("Scenarios and outcomes")
        table_axes = figure.add_axes([0.06, 0.70, 0.88, 0.18])
        table_axes.axis("off")
        scenario_rows = [
            [
                s.name,
                textwrap.shorten(
                    ", ".join(_change(twin, k, v) for k, v in s.overrides.items())
                    or "personalised baseline",
                    110,
                    placeholder=" …",
                ),
            ]
            for s in case.scenarios.get(twin.id, [])
        ] or [  # runs made without stored scenarios (e.g. by a script): their names only
            [run.scenario, "as run (see the outcomes)"] for run in case.runs.get(twin.id, [])
        ]
        scenario_table = table_axes.table(
            cellText=scenario_rows,
            colLabels=["Scenario", "Changes"],
            colWidths=[0.22, 0.78],
            loc="upper center",
            cellLoc="left",
        )
        scenario_table.auto_set_font_size(False)
        scenario_table.set_fontsize(8)
        outcome_axes = figure.add_axes([0.06, 0.40, 0.88, 0.26])
        outcome_axes.axis("off")
        if ok:
            outcome_table = outcome_axes.table(
                cellText=_outcome_rows(twin, ok),
                colLabels=["Outcome"] + [r.scenario for r in ok],
                colWidths=[0.46] + [0.54 / len(ok)] * len(ok),
                loc="upper center",
                cellLoc="center",
            )
            outcome_table.auto_set_font_size(False)
            outcome_table.set_fontsize(7 if len(twin.outcomes) > 10 else 8)
            for (row, column), cell in outcome_table.get_celld().items():
                if column == 0 and row > 0:
                    cell.set_text_props(ha="left")  # long outcome names read from the left
        failed = [f"{r.scenario}: {r.status} ({r.error})" for r in runs if r.status != "ok"]
        _lines(
            figure,
            0.36,
            ["* better value; in brackets: difference to the baseline.", *failed],
            size=8,
        )
        pdf.savefig(figure)

        notes = [
            f"  - {r.scenario}: {warning}"
            for r in ok
            if r.result is not None
            for warning in r.result.warnings
        ]
        if notes:
            figure, y = _page("What the model noted")
            _lines(figure, y, notes[:60], size=8.5, width=110)
            pdf.savefig(figure)
        _bars_page(pdf, twin, ok)
        series_names = list(dict.fromkeys(n for r in ok if r.result for n in r.result.series))
        for first in range(0, min(len(series_names), 8), 4):  # 4 curves a page, 2 pages
            figure, _ = _page("Curves")
            for n, name in enumerate(series_names[first : first + 4]):
                axes = figure.add_axes([0.1, 0.7 - n * 0.22, 0.82, 0.17])
                plot_series(axes, ok, name, linewidth=1.2)
            pdf.savefig(figure)

        _spatial_page(pdf, case, ok)

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

    def write(tmp: Path) -> None:
        with PdfPages(tmp) as pdf:
            pages(pdf)

    write_atomic(Path(path), write, suffix=".pdf")
    return Path(path)
