"""What the tumour-response twin reads from the case: lesion diameters per study date, new
lesions and non-target progression (diary events), treatment periods (medications).

Conventions (shared with the platform's follow-up workspace, `core.lesions`): a lesion's
identity across studies is the measurement's `target`, "organ: name" ("liver: tumour 1");
its longest axial diameter is the measurement "longest diameter"; a lymph node is measured
by its "short axis" (a lesion with short-axis measurements is a node). New lesions and
unequivocal non-target progression are events of kind "new lesion" and "non-target
progression". Treatment periods are the case's medications (regimen, start, stop).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from meditwin_desktop.core.twin import N_, CaseView, TwinInputError, number, tr, view_of

LONGEST = N_("longest diameter")  # measurement names (keys), shown through tr()
SHORT_AXIS = N_("short axis")
VOLUME = "lesion volume"
NEW_LESION = "new lesion"
NONTARGET_PROGRESSION = "non-target progression"
NODE_WORDS = ("lymph node", "node", "ganglion", "adenopathy")
# what the user reads: one sentence per kind of diameter
TWO_VALUES = {
    LONGEST: N_(
        "Lesion '{lesion}' has two longest diameters on {date} ({first} and {second} mm): "
        "delete the wrong one in the Measurements view."
    ),
    SHORT_AXIS: N_(
        "Lesion '{lesion}' has two short axiss on {date} ({first} and {second} mm): "
        "delete the wrong one in the Measurements view."
    ),
}


def _general(value: float) -> str:
    """`value` as f"{value:g}" writes it, with the decimal separator of the language."""
    return f"{value:g}".replace(".", number(0.5, 1)[1])


def looks_like_node(organ: str) -> bool:
    """Whether an organ name is a lymph node's (then RECIST measures the short axis)."""
    return any(word in organ for word in NODE_WORDS)


UNKNOWN_ORGAN = "unknown organ"


def organ_of(target: str) -> str:
    """'liver' for 'liver: tumour 1' (text before ':'); both lungs are one organ for RECIST
    ('lung'); without an organ, 'unknown organ (T1)': each such lesion its own organ, so that
    the 2-per-organ rule never drops one on a guess."""
    head, sep, _ = target.partition(":")
    organ = head.strip().lower()
    if not sep or not organ:
        return f"{UNKNOWN_ORGAN} ({target.strip()})"
    return "lung" if organ in ("right lung", "left lung", "lungs") else organ


def _day(text: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(text).strip()[:10])
    except ValueError:
        raise TwinInputError(
            tr("The {what} '{text}' is not a date (YYYY-MM-DD).").format(what=what, text=text)
        ) from None


def _diameters(view: CaseView, name: str) -> list[Any]:
    try:
        return list(view.measurements(name, unit="mm"))
    except Exception as error:  # core.units.UnitError: a unit that is not a length
        raise TwinInputError(
            tr(
                "A lesion's {what} is not in a length unit ({error}); diameters are in mm or cm."
            ).format(what=tr(name), error=error)
        ) from None


def read_lesions(view: CaseView) -> dict[str, Any]:
    """Lesions {target: {"organ", "node", "values": {date: mm}, "sources": {date: source}}},
    the visit dates (every date with a diameter), sorted, the units given and the lesions
    whose other kind of diameter was left aside. A lymph node (its organ names a node, or
    it has short axes only) is followed by its short axis, any other lesion by its longest
    diameter (RECIST 1.1): a CSV with both columns gives both, the other is set aside.
    TwinInputError for a lesion measured twice on one date with different values, a
    measurement without a date or a lesion name, or a diameter out of any plausible range."""
    found: dict[str, dict[str, dict[str, tuple[float, str]]]] = {}
    for name in (LONGEST, SHORT_AXIS):
        for m in _diameters(view, name):
            target = (m.target or "").strip()
            if not target:
                raise TwinInputError(
                    tr(
                        "A {what} of {value} mm ({date}) names no lesion: give each "
                        "measurement its lesion (e.g. 'liver: segment VII') so that it can be "
                        "followed across studies."
                    ).format(what=tr(name), value=_general(m.value), date=m.date or tr("no date"))
                )
            if not m.date:
                raise TwinInputError(
                    tr("The {what} of lesion '{lesion}' has no date.").format(
                        what=tr(name), lesion=target
                    )
                )
            date = _day(m.date, tr("date of lesion '{lesion}'").format(lesion=target)).isoformat()
            if not 0.0 <= m.value <= 400.0:
                raise TwinInputError(
                    tr(
                        "Lesion '{lesion}' on {date}: {value} mm is not a plausible diameter "
                        "(0-400 mm); check the unit (mm, cm) and the value."
                    ).format(lesion=target, date=date, value=_general(m.value))
                )
            values = found.setdefault(target, {}).setdefault(name, {})
            old = values.get(date)
            if old is not None and abs(old[0] - m.value) > 1e-6:
                raise TwinInputError(
                    tr(TWO_VALUES[name]).format(
                        lesion=target, date=date, first=_general(old[0]), second=_general(m.value)
                    )
                )
            values[date] = (float(m.value), m.source)
    lesions: dict[str, dict[str, Any]] = {}
    set_aside = []
    for target, kinds in found.items():
        organ = organ_of(target)
        node = looks_like_node(organ) or LONGEST not in kinds
        kind = SHORT_AXIS if node else LONGEST
        if kind not in kinds:  # a node measured by its longest diameter only
            kind, node = LONGEST, False
        if len(kinds) > 1:
            set_aside.append(target)
        lesions[target] = {
            "organ": organ, "node": node,
            "values": {d: v for d, (v, _) in kinds[kind].items()},
            "sources": {d: src for d, (_, src) in kinds[kind].items()},
        }  # fmt: skip
    dates = sorted({d for lesion in lesions.values() for d in lesion["values"]})
    units = sorted({m.unit for name in (LONGEST, SHORT_AXIS) for m in view.measurements(name)})
    return {"lesions": lesions, "dates": dates, "units": units, "set_aside": set_aside}


def read_events(view: CaseView) -> dict[str, list[str]]:
    """Dates of new lesions and of unequivocal non-target progression."""
    return {
        "new_lesion_dates": sorted(_day(e.time, tr("new lesion date")).isoformat()
                                   for e in view.events(NEW_LESION)),
        "nontarget_progression_dates": sorted(
            _day(e.time, tr("non-target progression date")).isoformat()
            for e in view.events(NONTARGET_PROGRESSION)
        ),
    }  # fmt: skip


def read_treatments(view: CaseView) -> list[dict[str, Any]]:
    """Treatment periods {regimen, start, stop ('' ongoing), dose, unit}, by start date."""
    periods = []
    for m in view.medications:
        if not m.start:
            raise TwinInputError(
                tr(
                    "The treatment '{name}' has no start date: the model needs when each "
                    "treatment period began (and ended)."
                ).format(name=m.name)
            )
        start = _day(m.start, tr("start of '{name}'").format(name=m.name)).isoformat()
        stop = (_day(m.stop, tr("stop of '{name}'").format(name=m.name)).isoformat()
                if m.stop else "")  # fmt: skip
        if stop and stop < start:
            raise TwinInputError(tr("The treatment '{name}' stops ({stop}) before it starts "
                                    "({start}).").format(name=m.name, stop=stop,
                                                         start=start))  # fmt: skip
        periods.append({"regimen": m.name, "start": start, "stop": stop, "dose": m.dose,
                        "unit": m.unit})  # fmt: skip
    return sorted(periods, key=lambda p: p["start"])


def read_volumes(view: CaseView) -> dict[str, dict[str, float]]:
    """Lesion volumes from segmentations {target: {date: mL}} (shown, not fitted)."""
    volumes: dict[str, dict[str, float]] = {}
    try:
        found = view.measurements(VOLUME, unit="mL")
    except Exception as error:  # core.units.UnitError
        raise TwinInputError(
            tr("A lesion volume is not in a volume unit ({error}).").format(error=error)
        ) from None
    for m in found:
        if m.target and m.date:
            volumes.setdefault(m.target, {})[m.date[:10]] = float(m.value)
    return volumes


def prepare(view: CaseView) -> dict[str, Any]:
    """Everything `simulate` needs, as plain picklable data."""
    view = view_of(view)
    return {**read_lesions(view), **read_events(view), "treatments": read_treatments(view),
            "volumes": read_volumes(view)}  # fmt: skip
