"""What the Dravet twin reads from the case: the seizure diary as daily convulsive counts
(`core.seizure_diary.daily_counts`: clusters logged with a count, "no seizure" days and
"not recorded" periods), prolonged seizures and status epilepticus, the current drugs in
mg/kg/day, the weight, the age, the SCN1A variant and the last echocardiogram.

Everything returned is plain (lists, numbers, text): it is hashed with the run and sent to
the worker process.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from meditwin_desktop.core.twin import (
    N_,
    CaseView,
    TwinInputError,
    case_diary,
    event_day,
    is_convulsive,
    seizure_kind,
    tr,
    view_of,
)

PROLONGED_S = 300.0  # a convulsive seizure over 5 minutes needs rescue medication (ILAE t1,
# Trinka E et al. A definition and classification of status epilepticus. Epilepsia
# 2015;56:1515-23)
UNRECORDED = (N_("seizure-free"), N_("unknown"))
_MG = {"mg/day": 1.0, "g/day": 1000.0, "µg/day": 1e-3, "ug/day": 1e-3}
STATUS = "status epilepticus"


def _date(text: Any, what: str) -> dt.date | None:
    text = str(text or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise TwinInputError(
            tr("The {what} '{text}' is not a date: write it as YYYY-MM-DD.").format(
                what=what, text=text
            )
        ) from None


def mg_per_kg_day(dose: float, unit: str, weight_kg: float | None) -> float | None:
    """A daily dose per kg of body weight; None when it cannot be told (no weight, a dose
    per intake)."""
    unit = str(unit).strip().replace(" ", "")
    if unit == "mg/kg/day":
        return float(dose)
    if unit not in _MG or not weight_kg or weight_kg <= 0:
        return None
    return float(dose) * _MG[unit] / float(weight_kg)


def _weight(clinical: dict) -> float | None:
    try:
        weight = float(clinical.get("weight_kg"))
    except (TypeError, ValueError):
        return None
    return weight if math.isfinite(weight) and weight > 0 else None


def _age(clinical: dict, on: dt.date) -> float | None:
    born = _date(clinical.get("birth_date"), tr("date of birth"))
    if born is not None:
        return (on - born).days / 365.25
    try:
        return float(clinical.get("age_y"))
    except (TypeError, ValueError):
        return None


def _numbers(values) -> list[float | None]:
    return [None if math.isnan(v) else float(v) for v in values]


def prepare(view: CaseView) -> dict[str, Any]:
    """The twin's inputs from the case (TwinInputError when the diary cannot be read)."""
    view = view_of(view)
    clinical = dict(view.clinical)
    events = view.events()
    if not events:
        raise TwinInputError(
            tr(
                "The case has no seizure diary: import the family's diary (Case data > Diary > "
                "Import CSV) or enter the seizures there."
            )
        )
    diary = case_diary(events, clinical)  # read as the Diary view reads it
    unrecorded = str(clinical.get("diary_unrecorded_days") or UNRECORDED[0])
    unrecorded = unrecorded if unrecorded in UNRECORDED else UNRECORDED[0]
    zone = str(clinical.get("diary_time_zone") or "").strip() or None
    first, last = diary.start, diary.start + dt.timedelta(days=diary.days - 1)
    convulsive = prolonged = 0
    for event in events:
        day = event_day(event.time, zone)
        kind = seizure_kind(event.kind)
        if day is None or not first <= day <= last or not is_convulsive(kind):
            continue
        if event.duration_s is not None or kind == STATUS:
            convulsive += 1
            prolonged += kind == STATUS or float(event.duration_s or 0.0) > PROLONGED_S
    weight = _weight(clinical)
    medications = []
    for drug in view.medications:
        stopped = _date(drug.stop, tr("stop date of {name}").format(name=drug.name))
        if stopped is not None and stopped < last:
            continue
        medications.append({
            "name": drug.name, "dose": float(drug.dose), "unit": drug.unit,
            "mg_kg_day": mg_per_kg_day(drug.dose, drug.unit, weight),
        })  # fmt: skip
    return {
        "start": first.isoformat(),
        "end": last.isoformat(),
        "convulsive": _numbers(diary.convulsive),
        "all_seizures": _numbers(diary.all_seizures),
        "unrecorded_days": unrecorded,
        "time_zone": zone or "",
        "timed_convulsive": convulsive,
        "prolonged_convulsive": prolonged,
        "status_events": list(diary.status_events),
        "rescue_events": int(diary.rescue_events),
        "duplicates": int(diary.duplicates),
        "shown_diary_notes": list(diary.notes),  # translated: not in the input hash
        "medications": medications,
        "weight_kg": weight,
        "age_y": _age(clinical, last),
        "scn1a_variant": str(clinical.get("scn1a_variant") or ""),
        "echocardiogram": str(clinical.get("echocardiogram") or ""),
    }
