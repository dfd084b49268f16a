"""RECIST 1.1 response assessment from serial target-lesion diameters.

Source: Eisenhauer EA et al. "New response evaluation criteria in solid tumours: Revised
RECIST guideline (version 1.1)". Eur J Cancer 2009;45:228-247 (sections 3.1-3.3, 4.3).

What is implemented (the guideline's numbers):
- measurable at baseline: a non-nodal lesion with longest diameter >= 10 mm; a lymph node
  with short axis >= 15 mm (a node 10-15 mm is pathological but non-measurable, < 10 mm is
  normal);
- target lesions: at most 5 in total and 2 per organ, the largest first (all nodes count
  as the one organ "lymph node");
- SLD: sum of the longest diameters of non-nodal targets plus the short axes of nodal targets;
- CR: every non-nodal target gone (0 mm) and every nodal target < 10 mm short axis;
- PR: >= 30 % decrease of the SLD from the baseline SLD;
- PD: >= 20 % increase of the SLD over the nadir (smallest SLD so far, baseline included)
  AND >= 5 mm absolute increase; or a new lesion; or unequivocal non-target progression;
- SD: none of the above;
- NE: a target lesion not measured at the visit, unless PD holds regardless (a new lesion,
  non-target progression, or the measured targets alone already meet the PD rule).

Not implemented: the assessment of non-target lesions other than their unequivocal
progression (a CR here therefore concerns the targets), the 5 mm default for a lesion "too
small to measure", confirmation of response, best overall response.

Dates are ISO 'YYYY-MM-DD'; the first date is the baseline; diameters are in mm.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from meditwin_desktop.core.twin import N_, TwinInputError, number, tr, tr_n


def _num(value: float, spec: str = "g") -> str:
    """`value` formatted by `spec` (as an f-string would), with the language's decimal
    separator: the numbers of the rules the user reads."""
    return format(value, spec).replace(".", number(0.5, 1)[1])


def _pct_text(value: float) -> str:
    """'+12.5 %': a signed percentage of the rules."""
    return tr("{pct} %").format(pct=_num(value, "+.1f"))

NODE_ORGAN = "lymph node"
MEASURABLE_LESION_MM = 10.0  # Eisenhauer 2009, section 3.1.1
MEASURABLE_NODE_MM = 15.0  # short axis, section 3.1.1
NORMAL_NODE_MM = 10.0  # short axis below which a node is normal (CR), section 3.3.1
MAX_TARGETS = 5  # section 3.2.1
MAX_PER_ORGAN = 2
PR_DECREASE_PCT = 30.0  # section 3.3.1
PD_INCREASE_PCT = 20.0
PD_ABSOLUTE_MM = 5.0
# what the user reads about an event's date, per kind of event
EVENT_DATE = {"new lesion": N_("new lesion date"), "non-target": N_("non-target date")}
EVENT_BEFORE_BASELINE = {
    "new lesion": N_(
        "The new lesion date {date} is not after the baseline study ({baseline}): "
        "progression is judged against the baseline."
    ),
    "non-target": N_(
        "The non-target date {date} is not after the baseline study ({baseline}): "
        "progression is judged against the baseline."
    ),
}
_EPS = 1e-9  # comparisons at the thresholds are inclusive (">= 30 %"), exact decimals count


@dataclass(frozen=True)
class Lesion:
    """One lesion followed across studies.

    `values_mm` maps an ISO date to the lesion's longest diameter (a node: its short axis)
    in mm; a missing date, None or NaN means "not measured at that visit".
    """

    name: str
    organ: str
    node: bool
    values_mm: Mapping[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class RecistPoint:
    """The RECIST assessment of one visit (baseline included)."""

    date: str
    day: float
    sld_mm: float | None
    nadir_mm: float | None
    change_from_baseline_pct: float | None
    change_from_nadir_pct: float | None
    category: str
    rule: str


@dataclass(frozen=True)
class RecistTimeline:
    """Target lesions, the lesions left out (with why) and the assessment of each visit."""

    targets: tuple[str, ...]
    excluded: dict[str, str]
    points: tuple[RecistPoint, ...]

    @property
    def last(self) -> RecistPoint:
        """The most recent assessment."""
        return self.points[-1]

    @property
    def nadir_mm(self) -> float | None:
        """The smallest SLD over every evaluable visit, baseline included."""
        values = [p.sld_mm for p in self.points if p.sld_mm is not None]
        return min(values) if values else None


def parse_date(text: str, what: str = "date") -> _dt.date:
    """An ISO 'YYYY-MM-DD' date, or TwinInputError naming what it belongs to."""
    if not isinstance(text, str) or len(text.strip()) != 10:
        raise TwinInputError(
            tr("The {what} '{text}' is not a date written YYYY-MM-DD.").format(what=what, text=text)
        )
    try:
        return _dt.date.fromisoformat(text.strip())
    except ValueError:
        raise TwinInputError(
            tr("The {what} '{text}' is not a valid date (expected YYYY-MM-DD).").format(
                what=what, text=text
            )
        ) from None


def _value(lesion: Lesion, date: str) -> float | None:
    """The lesion's diameter at `date` (None when not measured); checks the number."""
    raw = lesion.values_mm.get(date)
    if raw is None:
        return None
    value = float(raw)
    if math.isnan(value):
        return None
    if not math.isfinite(value):
        raise TwinInputError(
            tr("Lesion '{lesion}' on {date}: the diameter is not a number.").format(
                lesion=lesion.name, date=date
            )
        )
    if value < 0:
        raise TwinInputError(
            tr(
                "Lesion '{lesion}' on {date}: the diameter {value} mm is negative; "
                "a diameter is 0 mm or more."
            ).format(lesion=lesion.name, date=date, value=_num(value))
        )
    return value


def _organ(lesion: Lesion) -> str:
    return NODE_ORGAN if lesion.node else (lesion.organ.strip() or "unknown organ")


def select_targets(lesions: Sequence[Lesion], baseline: str) -> tuple[list[Lesion], dict[str, str]]:
    """Choose the RECIST target lesions at `baseline`: measurable, <= 5, <= 2 per organ.

    Measurable lesions are taken largest first (ties by name). Returns the targets and,
    for every other lesion, the reason it is not a target. Raises TwinInputError when no
    lesion is measurable at baseline.
    """
    excluded: dict[str, str] = {}
    measurable: list[tuple[float, Lesion]] = []
    for lesion in lesions:
        value = _value(lesion, baseline)
        if value is None:
            excluded[lesion.name] = tr("not measured at baseline ({date})").format(date=baseline)
        elif lesion.node and value < MEASURABLE_NODE_MM:
            if value >= NORMAL_NODE_MM:
                text = tr(
                    "node short axis {value} mm < {limit} mm (not measurable; pathological "
                    "non-target)"
                )
            else:
                text = tr("node short axis {value} mm < {limit} mm (not measurable; normal node)")
            excluded[lesion.name] = text.format(value=_num(value), limit=_num(MEASURABLE_NODE_MM))
        elif not lesion.node and value < MEASURABLE_LESION_MM:
            excluded[lesion.name] = tr(
                "longest diameter {value} mm < {limit} mm (not measurable)"
            ).format(value=_num(value), limit=_num(MEASURABLE_LESION_MM))
        else:
            measurable.append((value, lesion))
    measurable.sort(key=lambda item: (-item[0], item[1].name))
    targets: list[Lesion] = []
    per_organ: dict[str, int] = {}
    for value, lesion in measurable:
        organ = _organ(lesion)
        count = per_organ.get(organ, 0)
        if count >= MAX_PER_ORGAN:
            excluded[lesion.name] = tr(
                "{rank}{suffix} lesion in {organ} ({value} mm): at most {most} per organ"
            ).format(
                rank=count + 1,
                suffix=tr(_ordinal(count + 1)),
                organ=organ,
                value=_num(value),
                most=MAX_PER_ORGAN,
            )
        elif len(targets) >= MAX_TARGETS:
            excluded[lesion.name] = tr(
                "{value} mm: already {most} larger target lesions (at most {most} in total)"
            ).format(value=_num(value), most=MAX_TARGETS)
        else:
            targets.append(lesion)
            per_organ[organ] = count + 1
    if not targets:
        reasons = "; ".join(f"{name}: {why}" for name, why in excluded.items()) or tr(
            "no lesions"
        )
        raise TwinInputError(
            tr(
                "No lesion is measurable at baseline ({date}): RECIST 1.1 needs a lesion "
                ">= {lesion_mm} mm or a node with short axis >= {node_mm} mm ({reasons})."
            ).format(
                date=baseline,
                lesion_mm=_num(MEASURABLE_LESION_MM),
                node_mm=_num(MEASURABLE_NODE_MM),
                reasons=reasons,
            )
        )
    return targets, excluded


def _present(lesion: Lesion, value: float | None) -> bool:
    """Whether a measured lesion is there: a non-nodal lesion above 0 mm, a node at least
    10 mm short axis (a smaller node is normal)."""
    if value is None:
        return False
    return value >= NORMAL_NODE_MM if lesion.node else value > 0


def _add_appeared(
    lesions: Sequence[Lesion],
    targets: set[str],
    visits: list[tuple[_dt.date, str]],
    baseline: str,
    events: dict[str, list[tuple[_dt.date, str]]],
) -> None:
    """A lesion absent at baseline (not measured, 0 mm, a normal node) and measured present
    later is a new lesion (RECIST 1.1, section 4.3.2): an event on the day it was seen."""
    for lesion in lesions:
        if lesion.name in targets or _present(lesion, _value(lesion, baseline)):
            continue
        for day, text in visits[1:]:
            value = _value(lesion, text)
            if _present(lesion, value):
                events["new lesion"].append(  # the date first: a schedule reads it back
                    (
                        day,
                        tr("{date} ('{lesion}' {value} mm, absent at baseline)").format(
                            date=text, lesion=lesion.name, value=_num(value or 0.0)
                        ),
                    )
                )
                break


def _ordinal(n: int) -> str:
    return {1: N_("st"), 2: N_("nd"), 3: N_("rd")}.get(n if n < 20 else n % 10, N_("th"))


def _check_dates(dates: Sequence[str], what: str) -> list[tuple[_dt.date, str]]:
    parsed = [(parse_date(d, what), d.strip()) for d in dates]
    seen: dict[_dt.date, str] = {}
    for day, text in parsed:
        if day in seen:
            raise TwinInputError(
                tr(
                    "The {what} {text} appears twice: each study date must be given once "
                    "(merge the measurements of one study under one date)."
                ).format(what=what, text=text)
            )
        seen[day] = text
    return sorted(parsed)


def _pct(value: float, reference: float) -> float | None:
    return None if reference <= 0 else 100.0 * (value - reference) / reference


def assess(
    lesions: Sequence[Lesion],
    dates: Sequence[str],
    *,
    new_lesion_dates: Sequence[str] = (),
    nontarget_progression_dates: Sequence[str] = (),
) -> RecistTimeline:
    """The RECIST 1.1 category at each visit; the first (earliest) date is the baseline.

    Dates out of order are sorted. A new lesion or an unequivocal non-target progression
    is PD on its date (a time point of its own when no scan was read that day, SLD not
    measured); a lesion absent at baseline and measured later is a new lesion. Once PD, it
    stands at every later visit (the rule says what the scan alone would give); a target back
    after a complete response is PD; targets gone with a non-target lesion still there (or
    not measured) is PR. An event on or before the baseline is refused.
    Raises TwinInputError for an unreadable or duplicated date, a negative diameter, or no
    lesion measurable at baseline.
    """
    if not dates:
        raise TwinInputError(tr("RECIST needs at least the baseline study date."))
    visits = _check_dates(dates, tr("study date"))
    for lesion in lesions:  # unreadable dates and negative values anywhere are input errors
        for date in lesion.values_mm:
            parse_date(date, tr("date of lesion '{lesion}'").format(lesion=lesion.name))
            _value(lesion, date)
    base_day, base_text = visits[0]
    events: dict[str, list[tuple[_dt.date, str]]] = {"new lesion": [], "non-target": []}
    for kind, given in (
        ("new lesion", new_lesion_dates),
        ("non-target", nontarget_progression_dates),
    ):
        what = tr(EVENT_DATE[kind])
        for day, text in sorted({(parse_date(d, what), d.strip()) for d in given}):
            if day <= base_day:
                raise TwinInputError(
                    tr(EVENT_BEFORE_BASELINE[kind]).format(date=text, baseline=base_text)
                )
            events[kind].append((day, text))

    # lesions keyed by the visit's own text (lesion dates must match the study date's text)
    by_date = {day: text for day, text in visits}
    norm = [
        Lesion(
            lesion.name,
            lesion.organ,
            lesion.node,
            {by_date.get(parse_date(d), d.strip()): v for d, v in lesion.values_mm.items()},
        )
        for lesion in lesions
    ]
    targets, excluded = select_targets(norm, base_text)
    names = {t.name for t in targets}
    present = [x for x in norm if x.name not in names and _present(x, _value(x, base_text))]
    _add_appeared(norm, names, visits, base_text, events)
    # a date where only lesions absent at baseline were measured is no RECIST visit: their
    # appearance is an event of its own day
    kept = {x.name for x in targets} | {x.name for x in present}
    visits = [visits[0]] + [
        (d, t) for d, t in visits[1:] if any(_value(x, t) is not None for x in norm
                                             if x.name in kept)
    ]  # fmt: skip
    visit_days = {d for d, _ in visits}
    schedule: list[tuple[_dt.date, str, bool]] = [(d, t, True) for d, t in visits]
    extra = sorted({(d, t) for evs in events.values() for d, t in evs if d not in visit_days})
    schedule = sorted(schedule + [(d, t.split(" ")[0], False) for d, t in extra])

    points: list[RecistPoint] = []
    nadir: float | None = None
    base_sld: float | None = None
    progressed: str | None = None  # the date PD was first met: it stands
    for day, text, is_visit in schedule:
        offset = float((day - base_day).days)
        seen_events = [(kind, etext) for kind, evs in events.items() for eday, etext in evs
                       if eday == day]  # fmt: skip
        values = {t.name: _value(t, text) if is_visit else None for t in targets}
        missing = [name for name, v in values.items() if v is None]
        partial = sum(v for v in values.values() if v is not None)
        sld = None if missing else partial

        if base_sld is None:  # baseline
            base_sld = partial
            nadir = partial
            points.append(
                RecistPoint(
                    text,
                    0.0,
                    partial,
                    None,
                    0.0,
                    None,
                    N_("baseline"),  # a category of its own (shown through tr())
                    tr_n(
                        "baseline SLD {sld} mm over {count} target lesion",
                        "baseline SLD {sld} mm over {count} target lesions",
                        len(targets),
                    ).format(sld=_num(partial, ".1f"), count=len(targets)),
                )
            )
            continue

        assert nadir is not None
        category, rule = _categorise(
            sld, partial, missing, values, targets, base_sld, nadir, seen_events, is_visit
        )
        back = [t for t in targets if points[-1].category == "CR" and _present(t, values[t.name])]
        if back and category != "PD":
            listed = ", ".join(f"'{t.name}' {_num(values[t.name] or 0.0)} mm" for t in back)
            category = "PD"
            rule = tr("{lesions} back after a complete response: PD").format(lesions=listed)
        if category == "CR":
            left = [x.name for x in present if _value(x, text) is None
                    or _present(x, _value(x, text))]  # fmt: skip
            if left:
                category = "PR"
                rule = tr(
                    "every target gone, but non-target {lesions} still present or not "
                    "measured (RECIST table 1: PR)"
                ).format(lesions=", ".join(repr(n) for n in left))
        if progressed and category != "PD":
            rule = tr("progression on {date} stands; this scan alone: {category} ({rule})").format(
                date=progressed, category=tr(category), rule=rule
            )
            category = "PD"
        elif category == "PD" and progressed is None:
            progressed = text
        points.append(
            RecistPoint(
                text,
                offset,
                sld,
                nadir,
                _pct(sld, base_sld) if sld is not None else None,
                _pct(sld, nadir) if sld is not None else None,
                category,
                rule,
            )
        )
        if sld is not None:
            nadir = min(nadir, sld)
    return RecistTimeline(tuple(t.name for t in targets), excluded, tuple(points))


def _pd_by_sld(value: float, nadir: float) -> bool:
    increase = value - nadir
    return increase >= PD_INCREASE_PCT / 100.0 * nadir - _EPS and increase >= PD_ABSOLUTE_MM - _EPS


def _categorise(
    sld: float | None,
    partial: float,
    missing: list[str],
    values: dict[str, float | None],
    targets: list[Lesion],
    base_sld: float,
    nadir: float,
    seen_events: list[tuple[str, str]],
    is_visit: bool,
) -> tuple[str, str]:
    """(category, rule in words) for one follow-up visit."""
    if seen_events:
        words = "; ".join(
            (
                tr("new lesion on {date}")
                if kind == "new lesion"
                else tr("unequivocal non-target progression on {date}")
            ).format(date=etext)
            for kind, etext in seen_events
        )
        if not is_visit:
            return "PD", tr("{events}: PD (no target measurement that day)").format(events=words)
        return "PD", tr("{events}: PD").format(events=words)
    increase = partial - nadir
    pct_nadir = _pct(partial, nadir)
    pct_text = _pct_text(pct_nadir) if pct_nadir is not None else tr("up from 0")
    limits = {"pd_pct": _num(PD_INCREASE_PCT), "pd_mm": _num(PD_ABSOLUTE_MM)}
    if missing:
        names = ", ".join(f"'{n}'" for n in missing)
        if _pd_by_sld(partial, nadir):
            return "PD", tr(
                "{lesions} not measured, but the measured targets alone sum to {sum} mm, "
                "{pct} and +{increase} mm over nadir {nadir} mm "
                "(PD: >= {pd_pct} % and >= {pd_mm} mm)"
            ).format(
                lesions=names,
                sum=_num(partial, ".1f"),
                pct=pct_text,
                increase=_num(increase, ".1f"),
                nadir=_num(nadir, ".1f"),
                **limits,
            )
        return "NE", tr_n(
            "lesion {lesions} not measured: NE", "lesions {lesions} not measured: NE", len(missing)
        ).format(lesions=names)
    assert sld is not None
    if _pd_by_sld(sld, nadir):
        return "PD", tr(
            "SLD {sld} mm is {pct} and +{increase} mm over nadir {nadir} mm "
            "(PD: >= {pd_pct} % and >= {pd_mm} mm)"
        ).format(
            sld=_num(sld, ".1f"),
            pct=pct_text,
            increase=_num(increase, ".1f"),
            nadir=_num(nadir, ".1f"),
            **limits,
        )
    gone = all(values[t.name] == 0 for t in targets if not t.node)
    nodes_normal = all((values[t.name] or 0.0) < NORMAL_NODE_MM for t in targets if t.node)
    if gone and nodes_normal:
        if any(t.node for t in targets):
            text = tr(
                "every non-nodal target gone; every target node < {node_mm} mm short axis "
                "(SLD {sld} mm): CR"
            )
        else:
            text = tr("every non-nodal target gone (SLD {sld} mm): CR")
        return "CR", text.format(node_mm=_num(NORMAL_NODE_MM), sld=_num(sld, ".1f"))
    pct_base = _pct(sld, base_sld)
    assert pct_base is not None
    if pct_base <= -PR_DECREASE_PCT + _EPS:
        return "PR", tr(
            "SLD {sld} mm is {pct} % below baseline {baseline} mm (PR: >= {pr_pct} % decrease)"
        ).format(
            sld=_num(sld, ".1f"),
            pct=_num(-pct_base, ".1f"),
            baseline=_num(base_sld, ".1f"),
            pr_pct=_num(PR_DECREASE_PCT),
        )
    if increase > 0 and pct_nadir is not None and pct_nadir >= PD_INCREASE_PCT - _EPS:
        return "SD", tr(
            "SLD {pct} over nadir {nadir} mm but only +{increase} mm (PD needs >= {pd_mm} mm): SD"
        ).format(
            pct=pct_text,
            nadir=_num(nadir, ".1f"),
            increase=_num(increase, ".1f"),
            pd_mm=limits["pd_mm"],
        )
    if increase >= PD_ABSOLUTE_MM - _EPS:
        return "SD", tr(
            "SLD +{increase} mm over nadir {nadir} mm but only {pct} (PD needs >= {pd_pct} %): SD"
        ).format(
            increase=_num(increase, ".1f"),
            nadir=_num(nadir, ".1f"),
            pct=pct_text,
            pd_pct=limits["pd_pct"],
        )
    return "SD", tr(
        "SLD {sld} mm: {pct_base} from baseline {baseline} mm, {pct} from nadir {nadir} mm "
        "(neither PR nor PD): SD"
    ).format(
        sld=_num(sld, ".1f"),
        pct_base=_pct_text(pct_base),
        baseline=_num(base_sld, ".1f"),
        pct=pct_text,
        nadir=_num(nadir, ".1f"),
    )


def recist_table(
    timeline: RecistTimeline,
) -> list[tuple[str, float, float | None, float | None, float | None, str, str]]:
    """Rows for a results table: (date, day, SLD mm, change vs baseline %, change vs nadir %,
    category, rule)."""
    return [
        (
            p.date,
            p.day,
            p.sld_mm,
            p.change_from_baseline_pct,
            p.change_from_nadir_pct,
            p.category,
            p.rule,
        )
        for p in timeline.points
    ]
