"""The JSON parts of a de-identified export: `case.json` and `manifest.json`.

case.json: {"format": "meditwin-deidentified-case", "version": 1, "pseudonym", "created"
("day 0"), "clinical": {key: value}, "units": {key: unit}, "image": {"modality",
"shape_kji", "spacing_mm_ijk"} or null, "labels": [{"value", "name", "segment_number"}],
"twins": {twin id: {"scenarios": [{"name", "overrides"}], "runs": [{"scenario",
"twin_id", "twin_version", "status", "error", "parameters", "outcomes", "warnings",
"notes", "seconds", "app_version", "time" ("day N")}]}}}. Everything comes from the pseudonymised
view of the case (`core.pseudonym`): no free text, redacted names, intervals for times.

manifest.json: the profile and options applied (with their DCM codes), what was not
applied, the rules for dates, UIDs, private attributes and patient characteristics, the
contents, every file with its SHA-256, and warnings.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from meditwin_desktop import APP_NAME, __version__
from meditwin_desktop.core.case import Case
from meditwin_desktop.core.clinical import by_key
from meditwin_desktop.core.deidentify.profile import PROFILE, BasicProfile

CHARACTERISTIC_FIELDS = ("age_y", "sex", "race", "weight_kg", "height_cm")
NOT_APPLIED = (
    "Clean Pixel Data Option: pixels are copied unchanged (images flagged with burned-in "
    "annotations are refused)",
    "Clean Recognizable Visual Features Option: a CT or MR of the head can show the face in 3D",
)


def case_document(view: Case, profile: BasicProfile, numbers: dict[int, int]) -> dict:
    """case.json from the pseudonymised `view` ({label value: SEG segment number})."""
    clinical, known = dict(view.clinical), by_key()
    if not profile.retain_characteristics:
        for key in CHARACTERISTIC_FIELDS:
            clinical.pop(key, None)
    image = view.image if hasattr(getattr(view, "image", None), "spacing") else None  # 3D only
    labels = sorted(view.labels.labels.values(), key=lambda x: x.value) if view.labels else []
    return {
        "format": "meditwin-deidentified-case",
        "version": 1,
        "pseudonym": view.name,
        "created": view.created,
        "clinical": clinical,
        "units": {k: known[k].unit for k in clinical if k in known and known[k].unit},
        "image": None
        if image is None
        else {
            "modality": image.meta.get("modality", ""),
            "shape_kji": list(image.shape),
            "spacing_mm_ijk": [round(float(s), 6) for s in image.spacing],
        },
        "labels": [
            {"value": lab.value, "name": lab.name, "segment_number": numbers.get(lab.value)}
            for lab in labels
        ],
        "twins": {twin: _twin(view, twin) for twin in sorted(set(view.scenarios) | set(view.runs))},
    }


def _twin(view: Case, twin: str) -> dict:
    scenarios = view.scenarios.get(twin, [])
    return {
        "scenarios": [{"name": s.name, "overrides": s.overrides} for s in scenarios],
        "runs": [
            {
                "scenario": run.scenario,
                "twin_id": run.twin_id,
                "twin_version": run.twin_version,
                "status": run.status,
                "error": run.error,
                "parameters": run.parameters,
                "outcomes": run.outcomes,
                "warnings": list(getattr(run.result, "warnings", None) or []),
                "notes": dict(getattr(run.result, "notes", None) or {}),
                "seconds": run.seconds,
                "app_version": run.app_version,
                "time": run.time,
            }
            for run in view.runs.get(twin, [])
        ],
    }


def manifest(
    profile: BasicProfile, folder: Path, files: Iterable[Path], contents: dict[str, Any]
) -> dict:
    """manifest.json for the export in `folder` (files relative to it)."""
    return {
        "format": "meditwin-deidentified-export",
        "version": 1,
        "software": f"{APP_NAME} {__version__}",
        "pseudonym": profile.pseudonym,
        "profile": {
            "standard": "DICOM PS3.15 Annex E",
            "name": PROFILE.meaning,
            "code": _code(PROFILE),
            "attribute_table": f"PS3.15 Table E.1-1, edition {profile.edition}",
        },
        "options": [_code(code) for code in profile.options],
        "not_applied": list(NOT_APPLIED),
        "dates": "shifted" if profile.dates == "shift" else "removed",
        "patient_characteristics": "retained" if profile.retain_characteristics else "removed",
        "uids": "replaced, consistently within this export; not traceable to the originals",
        "private_attributes": "removed",
        "deidentification_method": profile.method,
        "contents": contents,
        "files": [{"path": relative(path, folder), "sha256": _sha256(path)} for path in files],
        "warnings": list(profile.warnings),
    }


def relative(path: Path, folder: Path) -> str:
    """`path` relative to `folder`, with forward slashes."""
    return path.relative_to(folder).as_posix()


def write_json(path: Path, document: Any) -> None:
    """Write `document` as UTF-8 JSON (strict: no NaN)."""
    text = json.dumps(_plain(document), indent=2, ensure_ascii=False, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")


def _code(code: Any) -> dict[str, str]:
    return {"value": code.value, "scheme": code.scheme_designator, "meaning": code.meaning}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _plain(value: Any) -> Any:
    """JSON-ready: numpy scalars and arrays, tuples; dates -> '[date]'; NaN, inf and other
    objects (whose text might identify, e.g. a path) -> None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (date, datetime)):
        return "[date]"
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return None
