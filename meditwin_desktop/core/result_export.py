"""Each scenario's results as ordinary files (`meditwin run ... --export DIR`).

`export_runs(runs, twin, folder)` writes `folder/<scenario>/` per run (the scenario's name
made safe for a file name; names that collide get ' (2)', ' (3)'...), `export_run` one:
- `outcomes.json`: twin, scenario, status, error, parameters (value, unit), outcomes
  (value, unit, label, note, target, off_target), warnings, and an entry per written file
  (`series`, `fields`, `overlays`, `tables`) saying what it holds;
- `<series>.csv`: x and value columns, headed with their quantity and unit; the patient's
  observed points, when there are, in `<series>.observed.csv` (same columns);
- `<field>.nii.gz`: a field on an image grid (NIfTI, RAS affine as NIfTI wants; 0/1 fields
  as uint8);
- `<field>.vtp`: values on a surface mesh (VTK PolyData, points in LPS mm, point data
  named after the field);
- `<overlay>.png`: a 2D overlay of the photograph's size: a 0/1 mask as 0/255 8-bit grey;
  values scaled to 8 bits, the scale in outcomes.json (`value = low + (pixel - first) *
  (high - low) / (255 - first)`; with missing values `first` is 1 and pixel 0 means none);
  a map of categories as its codes (1 the first category, 0 none; names in outcomes.json);
- `<table>.csv`: a table, headed with its columns and units;
- `<chart>.csv`: a chart (waterfall, spider plot): its x column, then one column per line.
A curve with an uncertainty band has two more columns, its lower and upper edges.
A run with a sensitivity analysis adds `sensitivity.csv`: per outcome and uncertain input,
its first-order and total Sobol indices (named in outcomes.json under "sensitivity").
File names are the results' names made safe; a name used twice gets ' (2)'. Files are
written atomically; an existing export of the same scenario is overwritten file by file.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from meditwin_desktop.core.atomic import write_atomic, write_text_atomic
from meditwin_desktop.core.case import Run
from meditwin_desktop.core.output_paths import output_folder
from meditwin_desktop.core.twin import Chart, Field, Overlay, Table, TimeSeries, Twin

_UNSAFE = re.compile(r"[^\w .,()+=-]+")
_RESERVED = {"con", "prn", "aux", "nul", *(f"{p}{n}" for p in ("com", "lpt") for n in range(10))}


def safe_name(text: str, fallback: str = "result") -> str:
    """`text` as a file or folder name on every OS: no separators or control characters,
    no leading dot, at most 100 characters."""
    name = _UNSAFE.sub("_", str(text)).strip(" .")[:100].strip(" .")
    if not name:
        return fallback
    return f"_{name}" if name.split(".")[0].lower() in _RESERVED else name


def _unique(name: str, taken: set[str]) -> str:
    """`name`, or 'name (2)', 'name (3)'... when taken (case-insensitively)."""
    candidate, n = name, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{name} ({n})"
    taken.add(candidate.lower())
    return candidate


def json_value(value: Any) -> Any:
    """A value JSON can hold (NaN and infinities as null, arrays and tuples as lists,
    mappings with text keys)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(float(value)) else None
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (tuple, list, np.ndarray)):
        return [json_value(v) for v in value]
    return value if value is None or isinstance(value, str) else str(value)


def outcome_entries(run: Run, twin: Twin) -> dict[str, dict[str, Any]]:
    """name -> {"value", "unit"[, "note"]} for each outcome of a run; a null value comes
    with a note saying why (the model's reason, or the outcome's declared meaning)."""
    declared = {o.name: o for o in twin.outcomes}
    notes = run.result.notes if run.result is not None else {}
    entries = {}
    for name, value in run.outcomes.items():
        outcome = declared.get(name)
        entry: dict[str, Any] = {"value": value, "unit": outcome.unit if outcome else ""}
        if value is None:
            entry["note"] = notes.get(name) or (outcome.absent if outcome else "") or "n/a"
        elif notes.get(name):
            entry["note"] = notes[name]
        spread = run.result.spread.get(name) if run.result is not None else None
        if spread is not None:  # a run with uncertainty: its spread over the samples
            entry.update({"median": spread.median, "low": spread.low, "high": spread.high,
                          "level": spread.level, "p_target": spread.p_target,
                          "samples": spread.samples, "failed": spread.failed,
                          "undefined": spread.undefined})  # fmt: skip
        entries[name] = entry
    return entries


def _outcomes(run: Run, twin: Twin) -> dict[str, dict[str, Any]]:
    declared = {o.name: o for o in twin.outcomes}
    entries = outcome_entries(run, twin)
    for name, entry in entries.items():
        entry["value"] = json_value(entry["value"])
        outcome = declared.get(name)
        if outcome is None:
            continue
        entry["label"] = outcome.label
        if outcome.target is not None:
            entry["target"] = {"low": outcome.target.low, "high": outcome.target.high}
            entry["off_target"] = outcome.off_target(run.outcomes.get(name))
    return entries


def _parameters(run: Run, twin: Twin) -> dict[str, dict[str, Any]]:
    units = {p.name: p.unit for p in twin.parameters}
    return {
        name: {"value": json_value(value), "unit": units.get(name, "")}
        for name, value in run.parameters.items()
    }


def _csv_text(headings: Sequence[str], rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headings)
    writer.writerows(rows)
    return buffer.getvalue()


def _number(value: Any) -> Any:
    """A CSV cell: numbers with full precision ('' for NaN or None), other values as text."""
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)):
        return repr(float(value)) if math.isfinite(float(value)) else ""
    if isinstance(value, np.integer):
        return int(value)
    return value


def _write_series(series: TimeSeries, folder: Path, stem: str) -> dict[str, Any]:
    headings = [f"{series.x_label} [{series.time_unit}]", f"{series.label} [{series.unit}]"]
    columns = [series.time, series.values]
    if series.lower is not None and series.upper is not None:
        band = series.band_label or "band"
        headings += [f"{band}: lower [{series.unit}]", f"{band}: upper [{series.unit}]"]
        columns += [series.lower, series.upper]
    rows = zip(*(map(_number, c) for c in columns), strict=True)
    write_text_atomic(folder / f"{stem}.csv", _csv_text(headings, rows))
    entry: dict[str, Any] = {
        "file": f"{stem}.csv",
        "label": series.label,
        "unit": series.unit,
        "x": series.x_label,
        "x_unit": series.time_unit,
        "band": series.band_label if series.lower is not None else None,
        "guides": [{"label": t, "value": json_value(v)} for t, v in series.guides],
    }
    if series.observed_time is not None and series.observed_values is not None:
        observed = zip(
            map(_number, series.observed_time), map(_number, series.observed_values), strict=True
        )
        write_text_atomic(folder / f"{stem}.observed.csv", _csv_text(headings, observed))
        entry["observed_file"] = f"{stem}.observed.csv"
    return entry


def _write_grid(field: Field, path: Path) -> None:
    from meditwin_desktop.core.imaging.nifti import write_volume
    from meditwin_desktop.core.imaging.volume import Volume

    values = np.asarray(field.values)
    if values.ndim == 2:
        values = values[np.newaxis]  # one slice
    if values.dtype == bool or (values.size and np.isin(values, (0, 1)).all()):
        values = values.astype(np.uint8)
    elif values.dtype == np.float16 or not np.issubdtype(values.dtype, np.number):
        values = values.astype(np.float32)
    affine = field.affine if field.affine is not None else np.eye(4)
    write_volume(Volume(values, affine, {}), path)


def _write_surface(field: Field, path: Path, name: str) -> None:
    import pyvista as pv

    points = np.asarray(field.points, float)
    faces = np.asarray(field.faces, np.int64)
    mesh = pv.PolyData(points, np.column_stack([np.full(len(faces), 3), faces]).ravel())
    values = np.asarray(field.values)
    if field.times is not None:  # a movie: one array per frame, named by its time
        for time, frame in zip(field.times, values, strict=True):
            mesh.point_data[f"{name} t={float(time):g} {field.time_unit}"] = frame
    elif len(values) == len(points):
        mesh.point_data[name] = values
    else:
        mesh.cell_data[name] = values
    mesh.field_data["coordinates"] = np.array(["LPS mm"])
    mesh.field_data["unit"] = np.array([field.unit or "-"])
    write_atomic(path, lambda tmp: mesh.save(str(tmp), binary=True), suffix=".vtp")


def overlay_pixels(overlay: Overlay) -> tuple[np.ndarray, dict[str, Any]]:
    """An overlay as 8-bit pixels and how to read them (see the module's docstring)."""
    values = np.asarray(overlay.values)
    if overlay.categories:  # the codes themselves: 1 the first category... 0 none
        codes = np.nan_to_num(values.astype(float), nan=0.0)
        codes = np.where((codes >= 1) & (codes <= len(overlay.categories)), codes, 0)
        names = {str(n + 1): name for n, name in enumerate(overlay.categories)}
        return codes.astype(np.uint8), {"kind": "categories", "categories": names, "none": 0}
    if values.dtype == bool or (values.size and np.isin(values, (0, 1)).all()):
        return values.astype(bool).astype(np.uint8) * 255, {"kind": "mask", "inside": 255}
    data = values.astype(float)
    finite = np.isfinite(data)
    low = float(data[finite].min()) if finite.any() else 0.0
    high = float(data[finite].max()) if finite.any() else 1.0
    first = 0 if finite.all() else 1
    span = high - low if high > low else 1.0
    pixels = np.zeros(data.shape, np.uint8)
    scaled = first + np.rint((data[finite] - low) / span * (255 - first))
    pixels[finite] = np.clip(scaled, first, 255).astype(np.uint8)
    scale = {"low": low, "high": high, "first": first, "no_value": 0 if first else None}
    return pixels, {"kind": "values", "scale": scale}


def _write_png(pixels: np.ndarray, path: Path) -> None:
    from PIL import Image

    write_atomic(
        path, lambda tmp: Image.fromarray(pixels, mode="L").save(tmp, format="PNG"), suffix=".png"
    )


def _write_table(table: Table, folder: Path, stem: str) -> dict[str, Any]:
    units = list(table.units) + [""] * (len(table.columns) - len(table.units))
    headings = [f"{c} [{u}]" if u else str(c) for c, u in zip(table.columns, units, strict=False)]
    rows = ([_number(v) for v in row] for row in table.rows)
    write_text_atomic(folder / f"{stem}.csv", _csv_text(headings, rows))
    return {
        "file": f"{stem}.csv",
        "label": table.label,
        "columns": list(table.columns),
        "units": units,
    }


def _write_chart(chart: Chart, folder: Path, stem: str) -> dict[str, Any]:
    x_unit = f" [{chart.x_unit}]" if chart.x_unit else ""
    unit = f" [{chart.unit}]" if chart.unit else ""
    headings = [f"{chart.x_label or 'x'}{x_unit}", *(f"{name}{unit}" for name in chart.lines)]
    rows = ([_number(x), *(_number(v[n]) for v in chart.lines.values())]
            for n, x in enumerate(chart.x))  # fmt: skip
    write_text_atomic(folder / f"{stem}.csv", _csv_text(headings, rows))
    return {"file": f"{stem}.csv", "label": chart.label, "kind": chart.kind, "unit": chart.unit,
            "guides": [{"label": t, "value": json_value(v)} for t, v in chart.guides]}  # fmt: skip


def _write_sensitivity(result, folder: Path, stem: str) -> dict[str, Any]:
    """The Sobol indices of a run with a sensitivity analysis, one row per outcome and
    input (the outcome's order, inputs as stored)."""
    rows = ([outcome, name, _number(first), _number(total)]
            for outcome, found in result.sensitivity.items()
            for name, (first, total) in found.items())  # fmt: skip
    headings = ["outcome", "input", "first order", "total"]
    write_text_atomic(folder / f"{stem}.csv", _csv_text(headings, rows))
    return {"file": f"{stem}.csv", "method": result.uncertainty}


def export_run(run: Run, twin: Twin, folder: Path | str, name: str | None = None) -> list[Path]:
    """Write one run's results into `folder/<name>/` (default: the scenario's safe name),
    created if needed; `folder` must exist. Returns the files written."""
    folder = output_folder(folder)
    target = folder / (name or safe_name(run.scenario, "scenario"))
    target.mkdir(exist_ok=True)
    written: list[Path] = []
    taken = {"outcomes"}
    document: dict[str, Any] = {
        "twin": {"id": twin.id, "version": run.twin_version or twin.version, "title": twin.title},
        "scenario": run.scenario,
        "status": run.status,
        "error": run.error,
        "time": run.time,
        "app_version": run.app_version,
        "input_hash": run.input_hash,
        "parameters": _parameters(run, twin),
        "outcomes": _outcomes(run, twin),
        "warnings": list(run.result.warnings) if run.result is not None else [],
        "series": {},
        "fields": {},
        "overlays": {},
        "tables": {},
        "charts": {},
    }
    result = run.result if run.status == "ok" else None
    if result is not None:
        for key, series in result.series.items():
            stem = _unique(safe_name(key), taken)
            document["series"][key] = _write_series(series, target, stem)
            written.append(target / f"{stem}.csv")
            if "observed_file" in document["series"][key]:
                written.append(target / f"{stem}.observed.csv")
        for key, field in result.fields.items():
            stem = _unique(safe_name(key), taken)
            entry = {"label": field.label, "unit": field.unit}
            if field.points is not None and field.faces is not None:
                path = target / f"{stem}.vtp"
                _write_surface(field, path, key)
                entry.update(kind="surface", coordinates="LPS mm", array=key)
            elif np.ndim(field.values) in (2, 3):
                path = target / f"{stem}.nii.gz"
                _write_grid(field, path)
                entry.update(kind="grid")
            else:
                entry["not_written"] = f"values of shape {np.shape(field.values)} are no grid"
                document["fields"][key] = entry
                continue
            document["fields"][key] = {"file": path.name, **entry}
            written.append(path)
        for key, overlay in result.overlays.items():
            stem = _unique(safe_name(key), taken)
            pixels, how = overlay_pixels(overlay)
            _write_png(pixels, target / f"{stem}.png")
            document["overlays"][key] = {
                "file": f"{stem}.png",
                "label": overlay.label,
                "unit": overlay.unit,
                "study": overlay.study,
                "rows": int(pixels.shape[0]),
                "columns": int(pixels.shape[1]),
                **how,
            }
            written.append(target / f"{stem}.png")
        for key, table in result.tables.items():
            stem = _unique(safe_name(key), taken)
            document["tables"][key] = _write_table(table, target, stem)
            written.append(target / f"{stem}.csv")
        for key, chart in result.charts.items():
            stem = _unique(safe_name(key), taken)
            document["charts"][key] = _write_chart(chart, target, stem)
            written.append(target / f"{stem}.csv")
        if result.sensitivity:
            stem = _unique("sensitivity", taken)
            document["sensitivity"] = _write_sensitivity(result, target, stem)
            written.append(target / f"{stem}.csv")
    write_text_atomic(target / "outcomes.json", json.dumps(document, indent=2) + "\n")
    return [target / "outcomes.json", *written]


def export_runs(runs: Sequence[Run], twin: Twin, folder: Path | str) -> list[Path]:
    """Write every run into its own sub-folder of `folder` (see the module docstring)."""
    folder = output_folder(folder)
    taken: set[str] = set()
    written: list[Path] = []
    for run in runs:
        written += export_run(
            run, twin, folder, _unique(safe_name(run.scenario, "scenario"), taken)
        )
    return written
