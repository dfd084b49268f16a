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

from meditwin_desktop.core.case import UNREADABLE, Case, Run
from meditwin_desktop.core.imaging.volume import Label, LabelMap, Volume
from meditwin_desktop.core.twin import Field, Result, Scenario, TimeSeries

log = logging.getLogger(__name__)
FORMAT = 2
_RUN_FIELDS = {f.name for f in fields(Run)} - {"result", "stored"}


class ArrayStore(Protocol):
    """Where a document's arrays live."""

    def put(self, arrays: dict[str, np.ndarray]) -> str:
        """Store arrays; return the reference the document keeps."""

    def get(self, reference: str) -> dict[str, np.ndarray]:
        """The arrays stored under `reference`; raises on a missing or damaged file."""


def to_document(case: Case, arrays: ArrayStore) -> dict[str, Any]:
    """The case (without its image, which stays where it was imported from)."""
    document: dict[str, Any] = {
        "format": FORMAT,
        "image_reference": case.image_reference,
        "clinical": case.clinical,
        "scenarios": {t: [asdict(s) for s in ss] for t, ss in case.scenarios.items()},
        "runs": {},
        "labels": None,
    }
    if case.labels is None and case.unreadable.get("labels"):
        document["labels"] = case.unreadable["labels"]  # as stored: never dropped by a save
    if case.labels is not None:
        volume = case.labels.volume
        document["labels"] = {
            "file": arrays.put({"array": volume.array, "affine": volume.affine}),
            "table": [
                [lab.value, lab.name, list(lab.color)] for lab in case.labels.labels.values()
            ],
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


def from_document(document: dict[str, Any], arrays: ArrayStore, case: Case) -> Case:
    """Fill `case` (name, id... already set) from a stored document."""
    case.image_reference = dict(document.get("image_reference") or {})
    case.clinical = dict(document.get("clinical") or {})
    case.scenarios = {
        t: [Scenario(s["name"], dict(s.get("overrides") or {})) for s in ss]
        for t, ss in (document.get("scenarios") or {}).items()
    }
    stored_labels = document.get("labels")
    if stored_labels:
        try:
            data = arrays.get(stored_labels["file"])
            volume = Volume(data["array"], data["affine"])
            table = {int(v): Label(int(v), n, tuple(c)) for v, n, c in stored_labels["table"]}
            case.labels = LabelMap(volume, table)
        except Exception as error:  # a damaged file: the rest of the case stays usable
            log.warning("labels of case %s unreadable: %s", case.id, type(error).__name__)
            case.unreadable["labels"] = stored_labels
            case.problems.append(
                "The saved labels could not be read (damaged file); restore an earlier "
                "revision to get them back. Everything else in the case is intact."
            )
    for twin_id, entries in (document.get("runs") or {}).items():
        case.runs[twin_id] = [_run(entry, arrays, case) for entry in entries]
    return case


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
            run.error = "its saved results are damaged; run the scenario again"
            case.problems.append(
                f"The saved results of scenario '{run.scenario}' ({run.twin_id}) could not be "
                "read (damaged file); run it again or restore an earlier revision."
            )
    return run


def _result_document(result: Result, store: ArrayStore) -> dict[str, Any]:
    arrays: dict[str, np.ndarray] = {}
    meta: dict[str, Any] = {"outcomes": result.outcomes, "warnings": list(result.warnings),
                            "notes": dict(result.notes), "series": {}, "fields": {}}  # fmt: skip
    for name, series in result.series.items():
        arrays[f"series.{name}.time"] = np.asarray(series.time)
        arrays[f"series.{name}.values"] = np.asarray(series.values)
        meta["series"][name] = {"label": series.label, "unit": series.unit,
                                "time_unit": series.time_unit, "x_label": series.x_label,
                                "guides": [list(g) for g in series.guides]}  # fmt: skip
    for name, item in result.fields.items():
        meta["fields"][name] = {"label": item.label, "unit": item.unit}
        for part in ("values", "affine", "points", "faces"):
            if getattr(item, part) is not None:
                arrays[f"field.{name}.{part}"] = np.asarray(getattr(item, part))
    if arrays:
        meta["file"] = store.put(arrays)
    return meta


def _result(meta: dict[str, Any], store: ArrayStore) -> Result:
    arrays = store.get(meta["file"]) if meta.get("file") else {}
    series = {
        name: TimeSeries(m["label"], m["unit"], arrays[f"series.{name}.time"],
                         arrays[f"series.{name}.values"], m["time_unit"],
                         m.get("x_label", "time"),
                         tuple((str(t), float(v)) for t, v in m.get("guides", ())))
        for name, m in meta["series"].items()
    }  # fmt: skip
    fields_ = {
        name: Field(m["label"], m["unit"], arrays[f"field.{name}.values"],
                    arrays.get(f"field.{name}.affine"), arrays.get(f"field.{name}.points"),
                    arrays.get(f"field.{name}.faces"))
        for name, m in meta["fields"].items()
    }  # fmt: skip
    return Result(dict(meta["outcomes"]), series, fields_, list(meta.get("warnings", [])),
                  dict(meta.get("notes", {})))  # fmt: skip
