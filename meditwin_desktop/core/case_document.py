"""A case as a JSON document plus named arrays (labels, results' curves and fields).

The document is what the library stores per revision. Arrays are handed to an
`ArrayStore`, which returns the name the document keeps; reading one back may fail (a
damaged file): that marks only the labels or the run concerned as unreadable, never the
whole case.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import asdict, fields
from typing import Any, Protocol

import numpy as np

from meditwin_desktop.core.case import (
    UNREADABLE,
    Case,
    Event,
    Measurement,
    Medication,
    Recording,
    Run,
    Study,
    new_id,
)
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.imaging.volume import Label, LabelMap, Volume
from meditwin_desktop.core.segmentation.measurements import ImageMeasurement
from meditwin_desktop.core.twin import (
    Chart,
    Field,
    Overlay,
    Result,
    Scenario,
    Spread,
    Table,
    TimeSeries,
)

log = logging.getLogger(__name__)
FORMAT = 3  # 3: studies, measurements, events, medications, recordings
_RUN_FIELDS = {f.name for f in fields(Run)} - {"result", "stored"}


class ArrayStore(Protocol):
    """Where a document's arrays live."""

    def put(self, arrays: dict[str, np.ndarray]) -> str:
        """Store arrays; return the reference the document keeps."""

    def get(self, reference: str) -> dict[str, np.ndarray]:
        """The arrays stored under `reference`; raises on a missing or damaged file."""


def to_document(case: Case, arrays: ArrayStore) -> dict[str, Any]:
    """The case (without its images, which stay where they were imported from)."""
    document: dict[str, Any] = {
        "format": FORMAT,
        "studies": [_study_document(case, study, arrays) for study in case.studies],
        "active": case.active,
        "clinical": case.clinical,
        "measurements": [asdict(m) for m in case.measurements],
        "image_measurements": [m.to_dict() for m in case.image_measurements],
        "events": [asdict(e) for e in case.events],
        "medications": [asdict(m) for m in case.medications],
        "recordings": [asdict(r) for r in case.recordings],
        "scenarios": {t: [asdict(s) for s in ss] for t, ss in case.scenarios.items()},
        "runs": {},
    }
    for twin_id, runs in case.runs.items():
        entries = []
        for run in runs:
            if run.status == UNREADABLE:
                if run.stored is not None:
                    entries.append(run.stored)  # as stored: never dropped by a save
                continue
            entry = {k: v for k, v in asdict(run).items() if k not in ("result", "stored")}
            if run.result is not None:
                entry["result"] = _result_document(run.result, arrays)
            entries.append(entry)
        document["runs"][twin_id] = entries
    return document


def _study_document(case: Case, study: Study, arrays: ArrayStore) -> dict[str, Any]:
    entry = {"id": study.id, "date": study.date, "modality": study.modality,
             "description": study.description, "reference": study.reference,
             "labels": None}  # fmt: skip
    if study.labels is None:
        entry["labels"] = case.unreadable.get(f"labels:{study.id}")  # never dropped by a save
    else:
        volume = study.labels.volume
        entry["labels"] = {
            "file": arrays.put({"array": volume.array, "affine": volume.affine}),
            "table": [[lab.value, lab.name, list(lab.color)]
                      for lab in study.labels.labels.values()],
        }  # fmt: skip
    return entry


def from_document(document: dict[str, Any], arrays: ArrayStore, case: Case) -> Case:
    """Fill `case` (name, id... already set) from a stored document (format 2 or 3)."""
    if "studies" not in document:  # format 2: one image reference and its labels
        reference = dict(document.get("image_reference") or {})
        stored = {"reference": reference, "labels": document.get("labels")}
        document = {**document, "studies": [stored] if reference or stored["labels"] else []}
    for entry in document["studies"]:
        study = Study(id=entry.get("id") or new_id(), date=entry.get("date", ""),
                      modality=entry.get("modality", ""),
                      description=entry.get("description", ""),
                      reference=dict(entry.get("reference") or {}))  # fmt: skip
        case.studies.append(study)
        if entry.get("labels"):
            study.labels = _labels(entry["labels"], arrays, case, study)
    case.active = min(int(document.get("active", 0)), max(len(case.studies) - 1, 0))
    case.clinical = dict(document.get("clinical") or {})
    case.measurements = [Measurement(**m) for m in document.get("measurements", [])]
    case.image_measurements = [
        ImageMeasurement.from_dict(m) for m in document.get("image_measurements", [])
    ]
    case.events = [Event(**e) for e in document.get("events", [])]
    case.medications = [Medication(**m) for m in document.get("medications", [])]
    case.recordings = [Recording(**r) for r in document.get("recordings", [])]
    case.scenarios = {
        t: [Scenario(s["name"], dict(s.get("overrides") or {})) for s in ss]
        for t, ss in (document.get("scenarios") or {}).items()
    }
    for twin_id, entries in (document.get("runs") or {}).items():
        case.runs[twin_id] = [_run(entry, arrays, case) for entry in entries]
    return case


def _labels(stored: dict[str, Any], arrays: ArrayStore, case: Case, study: Study):
    try:
        data = arrays.get(stored["file"])
        table = {int(v): Label(int(v), n, tuple(c)) for v, n, c in stored["table"]}
        return LabelMap(Volume(data["array"], data["affine"]), table)
    except Exception as error:  # a damaged file: the rest of the case stays usable
        log.warning("labels of case %s unreadable: %s", case.id, type(error).__name__)
        case.unreadable[f"labels:{study.id}"] = stored
        case.problems.append(
            tr("The saved labels of study {study} could not be read (damaged file); restore an "
               "earlier revision to get them back. Everything else in the case is intact.").format(
                study=study.description or study.date or study.id)
        )  # fmt: skip
        return None


def _run(entry: dict[str, Any], arrays: ArrayStore, case: Case) -> Run:
    original = copy.deepcopy(entry)
    stored = entry.get("result")
    run = Run(**{k: v for k, v in entry.items() if k in _RUN_FIELDS})
    if stored is not None:
        try:
            run.result = _result(stored, arrays)
        except Exception as error:
            log.warning("a run of case %s unreadable: %s", case.id, type(error).__name__)
            run.status, run.result, run.stored = UNREADABLE, None, original
            run.error = tr("its saved results are damaged; run the scenario again")
            case.problems.append(
                tr("The saved results of scenario '{scenario}' ({twin}) could not be read "
                   "(damaged file); run it again or restore an earlier revision.").format(
                    scenario=run.scenario, twin=run.twin_id)
            )  # fmt: skip
    return run


def _result_document(result: Result, store: ArrayStore) -> dict[str, Any]:
    arrays: dict[str, np.ndarray] = {}
    meta: dict[str, Any] = {"outcomes": result.outcomes, "warnings": list(result.warnings),
                            "notes": dict(result.notes), "series": {}, "fields": {},
                            "overlays": {}, "tables": {}, "charts": {}}  # fmt: skip
    for name, overlay in result.overlays.items():
        arrays[f"overlay.{name}"] = np.asarray(overlay.values)
        meta["overlays"][name] = {"label": overlay.label, "study": overlay.study,
                                  "unit": overlay.unit}  # fmt: skip
    for name, table in result.tables.items():
        meta["tables"][name] = {"label": table.label, "columns": list(table.columns),
                                "rows": [list(row) for row in table.rows],
                                "units": list(table.units)}  # fmt: skip
    for name, chart in result.charts.items():
        meta["charts"][name] = {
            "label": chart.label, "kind": chart.kind, "unit": chart.unit,
            "x_label": chart.x_label, "x_unit": chart.x_unit,
            "guides": [list(g) for g in chart.guides],
            "x": [x if isinstance(x, str) else float(x) for x in chart.x],
            "lines": {k: [float(v) if np.isfinite(v) else None for v in np.asarray(values, float)]
                      for k, values in chart.lines.items()},
        }  # fmt: skip
    for name, series in result.series.items():
        arrays[f"series.{name}.time"] = np.asarray(series.time)
        arrays[f"series.{name}.values"] = np.asarray(series.values)
        if series.observed_time is not None:
            arrays[f"series.{name}.observed_time"] = np.asarray(series.observed_time)
            arrays[f"series.{name}.observed_values"] = np.asarray(series.observed_values)
        if series.lower is not None and series.upper is not None:
            arrays[f"series.{name}.lower"] = np.asarray(series.lower)
            arrays[f"series.{name}.upper"] = np.asarray(series.upper)
        meta["series"][name] = {"label": series.label, "unit": series.unit,
                                "time_unit": series.time_unit, "x_label": series.x_label,
                                "guides": [list(g) for g in series.guides],
                                "band_label": series.band_label}  # fmt: skip
    for name, item in result.fields.items():
        meta["fields"][name] = {"label": item.label, "unit": item.unit,
                                "time_unit": item.time_unit}  # fmt: skip
        for part in ("values", "affine", "points", "faces", "times"):
            if getattr(item, part) is not None:
                arrays[f"field.{name}.{part}"] = np.asarray(getattr(item, part))
    if result.spread:
        meta["spread"] = {name: asdict(spread) for name, spread in result.spread.items()}
    if result.sensitivity:
        meta["sensitivity"] = {name: {k: list(v) for k, v in per_input.items()}
                               for name, per_input in result.sensitivity.items()}  # fmt: skip
    if result.uncertainty:
        meta["uncertainty"] = result.uncertainty
    if arrays:
        meta["file"] = store.put(arrays)
    return meta


def _result(meta: dict[str, Any], store: ArrayStore) -> Result:
    arrays = store.get(meta["file"]) if meta.get("file") else {}
    series = {
        name: TimeSeries(m["label"], m["unit"], arrays[f"series.{name}.time"],
                         arrays[f"series.{name}.values"], m["time_unit"],
                         m.get("x_label", "time"),
                         tuple((str(t), float(v)) for t, v in m.get("guides", ())),
                         arrays.get(f"series.{name}.observed_time"),
                         arrays.get(f"series.{name}.observed_values"),
                         arrays.get(f"series.{name}.lower"), arrays.get(f"series.{name}.upper"),
                         m.get("band_label", ""))
        for name, m in meta["series"].items()
    }  # fmt: skip
    fields_ = {
        name: Field(m["label"], m["unit"], arrays[f"field.{name}.values"],
                    arrays.get(f"field.{name}.affine"), arrays.get(f"field.{name}.points"),
                    arrays.get(f"field.{name}.faces"), arrays.get(f"field.{name}.times"),
                    m.get("time_unit", "ms"))
        for name, m in meta["fields"].items()
    }  # fmt: skip
    overlays = {name: Overlay(m["label"], arrays[f"overlay.{name}"], m.get("study", ""),
                              m.get("unit", ""))
                for name, m in meta.get("overlays", {}).items()}  # fmt: skip
    tables = {name: Table(m["label"], tuple(m["columns"]), [tuple(r) for r in m["rows"]],
                          tuple(m.get("units", ())))
              for name, m in meta.get("tables", {}).items()}  # fmt: skip
    charts = {name: Chart(m["label"], m["kind"], tuple(m["x"]),
                          {k: np.array([np.nan if x is None else x for x in v], float)
                           for k, v in m["lines"].items()},
                          m.get("unit", ""), m.get("x_label", ""), m.get("x_unit", ""),
                          tuple((str(t), float(v)) for t, v in m.get("guides", ())))
              for name, m in meta.get("charts", {}).items()}  # fmt: skip
    outcomes = {name: tuple(value) if isinstance(value, list) else value  # a point outcome
                for name, value in meta["outcomes"].items()}  # fmt: skip
    spread = {name: Spread(**values) for name, values in meta.get("spread", {}).items()}
    sensitivity = {name: {k: (float(v[0]), float(v[1])) for k, v in per_input.items()}
                   for name, per_input in meta.get("sensitivity", {}).items()}  # fmt: skip
    return Result(outcomes, series, fields_, list(meta.get("warnings", [])),
                  dict(meta.get("notes", {})), overlays, tables, charts, spread, sensitivity,
                  meta.get("uncertainty", ""))  # fmt: skip
