"""The MEDITWIN case file: a case as one JSON document, for `meditwin case import/export`.

Format "meditwin-case", version 1 (UTF-8 JSON; paths relative to the file's folder):

    {"format": "meditwin-case", "version": 1,
     "patient": {"name": "...", "id": "...", "birth_date": "YYYY-MM-DD"},
     "clinical": {"age_y": 45, "sex": "male", ...},           # keys of the clinical form
     "studies": [{"date": "YYYY-MM-DD", "modality": "CT", "description": "...",
                  "dicom": "folder", "series_uid": "1.2...", "study_uid": "1.2...",  # or
                  "image": "fundus.png",                       # a 2D photograph
                  "labels": "labels-1.nii.gz"}],               # optional, NIfTI
     "active": 0,                                              # the study shown first
     "measurements": [{"date", "name", "value", "unit", "target", "source"}],
     "events": [{"time", "kind", "duration_s", "details": {}, "note"}],
     "medications": [{"name", "dose", "unit", "start", "stop", "route", "note"}],
     "recordings": [{"file", "kind", "start", "description"}],
     "image_measurements": [{"kind": "ruler"|"roi", "name", "study": 0, "view", "slice",
                             "points": [[x, y, z], [x, y, z]], "values": {}, "unit", "time"}],
     "scenarios": {"twin id": [{"name": "...", "set": {"parameter": value}}]}}

Everything but "format" and "version" is optional. Unknown keys and wrong types are
refused with the path of the key ("studies[1].date: ..."), JSON syntax errors with the
line and column. Export writes the labels as NIfTI beside the file; images stay where
they are (referenced). Runs are not part of the file: they are recomputed from it.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

from meditwin_desktop.core.atomic import write_text_atomic
from meditwin_desktop.core.case import (
    Case,
    Event,
    Measurement,
    Medication,
    Recording,
    Study,
)
from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import N_, tr
from meditwin_desktop.core.segmentation.measurements import ImageMeasurement
from meditwin_desktop.core.twin import Scenario

FORMAT, VERSION = "meditwin-case", 1
_MAX_BYTES = 50_000_000


class CaseFileError(InputError):
    """A case file that cannot be read; the message names the key or the line."""


def export_case(case: Case, path: Path) -> Path:
    """Write `case` as a case file (labels as NIfTI beside it); return its path."""
    from meditwin_desktop.core.imaging.nifti import write_label_map

    path = Path(path)
    folder = path.parent
    studies = []
    for n, study in enumerate(case.studies, start=1):
        entry: dict[str, Any] = {"date": study.date, "modality": study.modality,
                                 "description": study.description}  # fmt: skip
        reference = study.reference
        if reference.get("file"):
            entry["image"] = _relative(reference["file"], folder)
        elif reference.get("folder"):
            entry["dicom"] = _relative(reference["folder"], folder)
            entry["series_uid"] = reference.get("series_uid", "")
            entry["study_uid"] = reference.get("study_uid", "")
        if study.labels is not None:
            name = f"{path.stem}-labels-{n}.nii.gz"
            write_label_map(study.labels, folder / name)
            entry["labels"] = name
        studies.append(entry)
    document = {
        "format": FORMAT, "version": VERSION,
        "patient": {"name": case.name, "id": case.patient_id,
                    "birth_date": case.image_reference.get("birth_date", "")},
        "clinical": case.clinical, "studies": studies, "active": case.active,
        "measurements": [asdict(m) for m in case.measurements],
        "events": [asdict(e) for e in case.events],
        "medications": [asdict(m) for m in case.medications],
        "recordings": [{**asdict(r), "file": _relative(r.file, folder)}
                       for r in case.recordings],
        "image_measurements": _image_measurements_out(case),
        "scenarios": {twin: [{"name": s.name, "set": s.overrides} for s in items]
                      for twin, items in case.scenarios.items()},
    }  # fmt: skip
    for entry in document["recordings"]:
        entry.pop("id")
    write_text_atomic(path, json.dumps(document, indent=2, ensure_ascii=False,
                                       default=_plain) + "\n")  # fmt: skip
    return path


def _image_measurements_out(case: Case) -> list[dict[str, Any]]:
    """Rulers and ROIs, each with its study as an index into "studies" (ids are local)."""
    index = {study.id: n for n, study in enumerate(case.studies)}
    return [{**m.to_dict(), "study": index[m.study]}
            for m in case.image_measurements if m.study in index]  # fmt: skip


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} cannot be written to a case file")


def _relative(target: str, folder: Path) -> str:
    """`target` relative to the case file's folder when inside it, else absolute."""
    path = Path(target)
    if not path.is_absolute():
        return str(path)
    try:
        return str(path.resolve().relative_to(folder.resolve()))
    except ValueError:
        return str(path)


# -- reading ---------------------------------------------------------------------------------
def read_case_file(path: Path) -> Case:
    """A new case (new id) from a case file; CaseFileError naming what is wrong."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size > _MAX_BYTES:
        raise CaseFileError(
            tr("{path} is not a case file (not a regular file under 50 MB).").format(path=path)
        )
    try:
        text = path.read_text(encoding="utf-8-sig", errors="strict")
        document = json.loads(text, parse_constant=_no_constant)
    except UnicodeDecodeError as error:
        why = tr("{file}: not UTF-8 text (byte {byte}); save the case file as UTF-8.")
        raise CaseFileError(why.format(file=path.name, byte=error.start)) from None
    except json.JSONDecodeError as error:
        raise CaseFileError(tr("{file}, line {line}, column {column}: {error}.").format(
            file=path.name, line=error.lineno, column=error.colno, error=error.msg
        )) from None  # fmt: skip
    except (ValueError, RecursionError) as error:
        raise CaseFileError(f"{path.name}: {error}") from None
    return _case(document, path.parent, path.name)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a case file may hold")


class _Reader:
    """Checks one JSON object's keys and types, naming the key path in every error."""

    def __init__(self, value: Any, where: str, source: str) -> None:
        self.where, self.source = where, source
        if not isinstance(value, dict):
            self.fail(f"must be an object, not {type(value).__name__}")
        self.value = value

    def fail(self, message: str) -> None:
        raise CaseFileError(f"{self.source}: {self.where or 'top level'}: {message}.")

    def only(self, *keys: str) -> None:
        unknown = [k for k in self.value if k not in keys]
        if unknown:
            self.fail(f"unknown key '{unknown[0]}' (known: {', '.join(keys)})")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        value = self.value.get(key, default)
        if value is None and default is None:
            return None
        if isinstance(value, bool) and kind in (float, (int, float)):
            self._wrong(key, value, kind)
        if kind is float:
            kind = (int, float)
        if not isinstance(value, kind):
            self._wrong(key, value, kind)
        if isinstance(value, float) and not math.isfinite(value):
            self._wrong(key, value, kind)
        return value

    def _wrong(self, key: str, value: Any, kind: Any) -> None:
        names = {str: N_("text"), dict: N_("an object"), list: N_("a list"),
                 bool: N_("true or false")}  # fmt: skip
        wanted = names.get(kind, N_("a number")) if not isinstance(kind, tuple) else N_("a number")
        path = f"{self.where}.{key}" if self.where else key
        raise CaseFileError(tr("{source}: {path}: must be {wanted}, not {value}.").format(
            source=self.source, path=path, wanted=tr(wanted), value=repr(value)))  # fmt: skip

    def items(self, key: str) -> list[tuple[str, Any]]:
        values = self.get(key, list, [])
        prefix = f"{self.where}.{key}" if self.where else key
        return [(f"{prefix}[{n}]", item) for n, item in enumerate(values)]


def _case(document: Any, folder: Path, source: str) -> Case:
    top = _Reader(document, "", source)
    top.only("format", "version", "patient", "clinical", "studies", "active", "measurements",
             "events", "medications", "recordings", "image_measurements",
             "scenarios")  # fmt: skip
    if top.get("format", str, "") != FORMAT:
        top.fail(f"'format' must be \"{FORMAT}\"")
    version = top.get("version", (int,), 0)
    if version != VERSION:
        top.fail(f"version {version} is not one this release reads (it reads {VERSION})")
    patient = _Reader(top.get("patient", dict, {}), "patient", source)
    patient.only("name", "id", "birth_date")
    case = Case(patient.get("name", str, "") or "Unnamed patient", patient.get("id", str, ""))
    case.clinical = _clinical(top.get("clinical", dict, {}), top)
    for where, item in top.items("studies"):
        case.studies.append(_study(_Reader(item, where, source), folder))
    birth = patient.get("birth_date", str, "")
    if birth and case.studies:
        case.studies[0].reference.setdefault("birth_date", birth)
    active = top.get("active", (int,), 0)
    if case.studies and not 0 <= active < len(case.studies):
        top.fail(f"'active' must be a study's index (0 to {len(case.studies) - 1})")
    case.active = active
    case.measurements = [_measurement(_Reader(i, w, source)) for w, i in top.items("measurements")]
    case.events = [_event(_Reader(i, w, source)) for w, i in top.items("events")]
    case.medications = [_medication(_Reader(i, w, source)) for w, i in top.items("medications")]
    case.recordings = [_recording(_Reader(i, w, source), folder)
                       for w, i in top.items("recordings")]  # fmt: skip
    case.image_measurements = [_image_measurement(_Reader(i, w, source), case)
                               for w, i in top.items("image_measurements")]  # fmt: skip
    scenarios = top.get("scenarios", dict, {})
    for twin, entries in scenarios.items():
        reader = _Reader({"list": entries}, f"scenarios.{twin}", source)
        case.scenarios[twin] = []
        for where, item in reader.items("list"):
            scenario = _Reader(item, where.replace(".list", ""), source)
            scenario.only("name", "set")
            name = scenario.get("name", str, "")
            if not name:
                scenario.fail("a scenario needs a 'name'")
            case.scenarios[twin].append(Scenario(name, dict(scenario.get("set", dict, {}))))
    return case


def _clinical(values: dict[str, Any], top: _Reader) -> dict[str, Any]:
    """Clinical values checked by their field of the vocabulary (units, ranges, choices);
    keys of twins not installed here are kept as they are when plain."""
    from meditwin_desktop.core.clinical import ClinicalInputError, by_key

    known, clinical = by_key(), {}
    for key, value in values.items():
        if isinstance(value, (dict, list)) or value is None:
            top.fail(f"clinical.{key}: must be a number, text or true/false")
        if key in known:
            try:
                value = known[key].parse(value)
            except ClinicalInputError as error:
                top.fail(f"clinical.{key}: {error}")
        if value is not None:
            clinical[key] = value
    return clinical


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?)?")


def _date(item: _Reader, key: str) -> str:
    """An ISO 8601 date or date-time ('' when absent): twins order values by it."""
    text = item.get(key, str, "")
    if text and not _ISO_DATE.fullmatch(text):
        path = f"{item.where}.{key}" if item.where else key
        raise CaseFileError(tr("{source}: {path}: '{text}' is not an ISO date (YYYY-MM-DD, or "
                               "YYYY-MM-DDThh:mm).").format(source=item.source, path=path,
                                                            text=text))  # fmt: skip
    return text


def _resolve(text: str, folder: Path) -> str:
    path = Path(text)
    return str(path if path.is_absolute() else (folder / path).resolve())


def _study(item: _Reader, folder: Path) -> Study:
    item.only(
        "date", "modality", "description", "dicom", "series_uid", "study_uid", "image", "labels"
    )
    study = Study(date=_date(item, "date"), modality=item.get("modality", str, ""),
                  description=item.get("description", str, ""))  # fmt: skip
    if item.get("image", str, ""):
        study.reference = {"file": _resolve(item.value["image"], folder)}
    elif item.get("dicom", str, ""):
        study.reference = {"folder": _resolve(item.value["dicom"], folder),
                           "series_uid": item.get("series_uid", str, ""),
                           "study_uid": item.get("study_uid", str, ""),
                           "description": study.description}  # fmt: skip
    labels = item.get("labels", str, "")
    if labels:
        from meditwin_desktop.core.imaging.nifti import read_label_map

        path = Path(_resolve(labels, folder))
        if not path.is_file():
            item.fail(f"the labels file {labels} is not there")
        study.labels = read_label_map(path)
    return study


def _measurement(item: _Reader) -> Measurement:
    item.only("date", "name", "value", "unit", "target", "source")
    if "name" not in item.value or "value" not in item.value:
        item.fail("a measurement needs a 'name' and a 'value'")
    return Measurement(item.get("name", str), float(item.get("value", float)),
                       item.get("unit", str, ""), _date(item, "date"),
                       item.get("target", str, ""), item.get("source", str, ""))  # fmt: skip


def _event(item: _Reader) -> Event:
    item.only("time", "kind", "duration_s", "details", "note")
    if "time" not in item.value or "kind" not in item.value:
        item.fail("an event needs a 'time' and a 'kind'")
    duration = item.get("duration_s", float)
    return Event(_date(item, "time"), item.get("kind", str),
                 None if duration is None else float(duration),
                 dict(item.get("details", dict, {})), item.get("note", str, ""))  # fmt: skip


def _medication(item: _Reader) -> Medication:
    item.only("name", "dose", "unit", "start", "stop", "route", "note")
    if "name" not in item.value or "dose" not in item.value:
        item.fail("a medication needs a 'name' and a 'dose'")
    return Medication(item.get("name", str), float(item.get("dose", float)),
                      item.get("unit", str, ""), _date(item, "start"),
                      _date(item, "stop"), item.get("route", str, ""),
                      item.get("note", str, ""))  # fmt: skip


def _image_measurement(item: _Reader, case: Case) -> ImageMeasurement:
    item.only("kind", "name", "study", "view", "slice", "points", "values", "unit", "time")
    study = item.get("study", (int,), 0)
    if not 0 <= study < len(case.studies):
        item.fail("'study' must be a study's index in \"studies\"")
    points = item.get("points", list, [])
    if len(points) != 2 or not all(
        isinstance(p, list)
        and len(p) == 3
        and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in p)
        for p in points
    ):
        item.fail("'points' must be two [x, y, z] positions in millimetres")
    values = item.get("values", dict, {})
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values.values()):
        item.fail("'values' must hold numbers")
    try:
        return ImageMeasurement(
            item.get("kind", str, ""),
            item.get("name", str, ""),
            case.studies[study].id,
            item.get("view", str, "axial"),
            item.get("slice", (int,), 0),
            points,
            values,
            item.get("unit", str, ""),
            item.get("time", str, ""),
        )
    except ValueError as error:  # an unknown kind
        item.fail(str(error))
        raise


def _recording(item: _Reader, folder: Path) -> Recording:
    item.only("file", "kind", "start", "description")
    if not item.get("file", str, ""):
        item.fail("a recording needs its 'file'")
    return Recording(_resolve(item.value["file"], folder), item.get("kind", str, "EEG"),
                     _date(item, "start"), item.get("description", str, ""))  # fmt: skip
