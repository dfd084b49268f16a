"""Page 1 of the board report: who (or the pseudonym), the question to the board, the
scenarios with their key outcomes coloured against the clinical targets, every flag and
warning once (with the scenarios it concerns), and which results are out of date."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from matplotlib.backends.backend_pdf import PdfPages

from meditwin_desktop.core.case import Case, Run
from meditwin_desktop.core.comparison import (
    MET,
    NEAR,
    NOT_APPLICABLE,
    OFF,
    OUT_OF_DATE,
    best_scenarios,
    interval_text,
    outcome_note,
    ruled_out,
    shown_unit,
    spread_key,
    spread_of,
    state_text,
    target_mark,
    target_state,
    target_text,
    value_text,
)
from meditwin_desktop.core.i18n import N_, date_text, number, tr
from meditwin_desktop.core.report_layout import (
    BORDERLINE,
    DPI,
    LEFT,
    MEETS,
    MISSED,
    STALE_FILL,
    STALE_SIGN,
    WARN,
    Cell,
    heading,
    line_height,
    lines,
    page,
    table,
)
from meditwin_desktop.core.result_plots import localise_ticks
from meditwin_desktop.core.twin import Outcome, Twin
from meditwin_desktop.core.twin import readable_value as readable

QUESTION_KEY = "board_question"  # the clinical form's field for the question to the board
KEY_OUTCOMES = 6
RUN_STATES = (N_("failed"), N_("cancelled"))  # a run's status, shown through tr()


def key_outcomes(twin: Twin, limit: int = KEY_OUTCOMES) -> list[Outcome]:
    """The outcomes page 1 shows: those with a clinical target first, then those with a
    better direction, in the twin's order."""
    targeted = [o for o in twin.outcomes if o.target is not None]
    directed = [o for o in twin.outcomes if o.target is None and o.better in ("higher", "lower")]
    return (targeted + directed)[:limit]


def changes_text(twin: Twin, overrides: dict) -> str:
    """'Power per applicator 100 W, Ablation time 600 s' (or 'personalised baseline')."""
    parts = []
    for name, value in overrides.items():
        try:
            parameter = twin.parameter(name)
        except Exception:  # a parameter the twin no longer has: named as stored
            parts.append(f"{name} = {readable(value)}")
            continue
        if parameter.kind == "choice":
            shown = tr(parameter.choice_label(str(value)))
        else:
            shown = readable(value)
        parts.append(f"{tr(parameter.label)} {shown} {tr(parameter.unit)}".strip())
    return ", ".join(parts) or tr("personalised baseline (no change)")


def _who(names: Sequence[str], everyone: Sequence[str]) -> str:
    if len(everyone) > 1 and set(names) == set(everyone):
        return tr("all scenarios")
    return ", ".join(names)


def flags(twin: Twin, runs: Sequence[Run], stale: dict[str, str]) -> list[tuple[str, bool]]:
    """Every flag once, with the scenarios it concerns: (text, off a clinical target).

    Off-target outcomes first (each outcome and side once, with each scenario's value),
    then the model's warnings and its notes on values (identical texts merged), then runs
    that failed."""
    ok = [r for r in runs if r.status == "ok"]
    names = [r.scenario for r in ok]
    out: list[tuple[str, bool]] = []
    for outcome in twin.outcomes:
        sides: dict[str, list[str]] = {}
        for run in ok:
            value = run.outcomes.get(outcome.name)
            if target_state(outcome, value) in (NEAR, OFF):
                unit = tr(shown_unit(outcome))
                shown = f"{value_text(outcome, value)} {unit}".strip()
                sides.setdefault(state_text(outcome, value), []).append(f"{run.scenario} ({shown})")
        for wrong, where in sides.items():
            out.append((tr("{outcome}: {state}: {scenarios}.").format(
                outcome=tr(outcome.label), state=wrong, scenarios=", ".join(where)), True))
    for scenario, limits in ruled_out(twin, ok).items():
        text = tr("{scenario} misses a safety limit ({limits}): it is marked better at nothing.")
        out.append((text.format(scenario=scenario, limits=", ".join(limits)), True))
    merged: dict[str, list[str]] = {}  # text -> scenarios
    about: dict[str, list[str]] = {}  # a note's text -> the outcomes it is about
    for run in ok:
        texts = [tr(w) for w in run.result.warnings] if run.result is not None else []
        for outcome in twin.outcomes:
            note = outcome_note(outcome, run)
            if note:
                texts.append(note)
                if tr(outcome.label) not in about.setdefault(note, []):
                    about[note].append(tr(outcome.label))
        for text in dict.fromkeys(texts):
            merged.setdefault(text, []).append(run.scenario)
    for text, where in merged.items():
        said = tr("{text} ({scenarios}).").format(text=text.rstrip("."),
                                                   scenarios=_who(where, names))
        if text in about:
            said = tr("{label}: {value}").format(label=", ".join(about[text]), value=said)
        out.append((said, False))
    out += [(tr("{scenario}: the run {status} ({error}).").format(
        scenario=r.scenario, status=tr(r.status), error=tr(r.error) if r.error else ""), True)
        for r in runs if r.status != "ok"]  # fmt: skip
    return out


def _day(text: str) -> str:
    """An ISO date (YYYY-MM-DD) as the language writes it; other text as it is."""
    text = str(text or "")
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        return date_text(text)
    return text


def _question(case: Case, twin: Twin, withheld: bool) -> tuple[str, str]:
    asked = str(case.clinical.get(QUESTION_KEY) or "").strip()
    if asked:
        return tr("Question to the board"), asked
    if withheld:
        return (tr("Question to the board: withheld (free text), the twin's instead"),
                tr(twin.question))  # fmt: skip
    return (tr("Question to the board (the twin's; none recorded for this case)"),
            tr(twin.question))  # fmt: skip


def _modality(case: Case) -> str:
    meta = getattr(case.image, "meta", None) or {}
    study = case.study
    found = (study.modality if study else "") or meta.get("modality")
    return str(found or case.image_reference.get("modality") or tr("image"))


def _patient_lines(case: Case, twin: Twin, pseudonymised: bool) -> list[str]:
    if pseudonymised:
        who = tr("Patient: {name} (pseudonymised)").format(name=case.name)
        imaging = tr("Imaging: {what}").format(what=_modality(case))
    else:
        who = tr("Patient: {name} (ID {id})").format(
            name=case.name, id=case.patient_id or tr("unknown")
        )
        study = case.study
        what = (
            [_modality(case), _day(study.date), study.description]
            if study is not None
            else []
        )
        imaging = tr("Imaging: {what}").format(what=" ".join(w for w in what if w))
    if case.image is None:
        imaging = tr("Imaging: none (clinical data only)")
    facts = []
    for key, unit in (("age_y", N_("years")), ("sex", ""), ("weight_kg", "kg")):
        value = case.clinical.get(key)
        if value not in (None, ""):
            if key == "age_y" and float(value) < 1:
                days = number(float(value) * 365.25, 0)
                facts.append(tr("{days} days").format(days=days))
            elif key == "sex":
                facts.append(tr(str(value)))
            else:
                facts.append(f"{readable(value)} {tr(unit)}".strip())
    diagnosis = str(case.clinical.get("diagnosis") or "")  # typed by the user: as is
    if facts or diagnosis:
        who += " — " + ", ".join(facts + ([diagnosis] if diagnosis else []))
    twin_line = tr("Twin: {title}, version {version} ({specialty})").format(
        title=tr(twin.title), version=twin.version, specialty=tr(twin.specialty)
    )
    return [who, imaging, twin_line]


def _target_line(case: Case, twin: Twin, runs: Sequence[Run]) -> list[str]:
    """'Target: tumour 1, in the liver, right liver; 64 mm from the skin along the path.'"""
    from meditwin_desktop.core.report_images import point_parameters
    from meditwin_desktop.core.target_description import describe_target

    run = next((r for r in runs if r.status == "ok"), None)
    if run is None or case.labels is None or getattr(case.image, "array", None) is None:
        return []
    target, entry = point_parameters(twin, run.parameters)
    if target is None:
        return []
    found = describe_target(case.labels, target, entry, case.image)
    where = tr(found.structure) if found.structure else tr("no labelled structure")
    if found.organ and found.organ != found.structure:
        where += tr(", in the {organ}").format(organ=tr(found.organ))
    if found.region:
        where += f", {tr(found.region)}"
    if found.depth_mm is not None:
        where += tr("; {depth} mm from the skin along the path").format(
            depth=number(found.depth_mm, 0)
        )
    return [tr("Target: {where} (page 'Target and plan').").format(where=where)]


def _outcome_table(figure, y: float, twin: Twin, ok: list[Run], stale: dict[str, str]) -> float:
    chosen = key_outcomes(twin)
    best = best_scenarios(twin, ok, stale)
    shown = ok[:6]
    first = 0.36 if len(shown) > 3 else 0.42
    widths = [first] + [(1 - 2 * LEFT - first) / len(shown)] * len(shown)
    header = [Cell(tr("Key outcome (clinical target)"))]
    for run in shown:
        if run.scenario in stale:
            header.append(Cell(f"{run.scenario}\n{STALE_SIGN} {tr(OUT_OF_DATE)}", colour=WARN,
                               align="center"))  # fmt: skip
        else:
            header.append(Cell(run.scenario, align="center"))
    rows = []
    for outcome in chosen:
        unit = f" [{tr(shown_unit(outcome))}]" if shown_unit(outcome) else ""
        if outcome.target:
            why = tr("target {target}").format(target=target_text(outcome))
        elif outcome.better == "higher":
            why = tr("higher is better")
        else:
            why = tr("lower is better")
        row = [Cell(f"{tr(outcome.label)}{unit} ({why})")]
        for run in shown:
            value = run.outcomes.get(outcome.name)
            text = value_text(outcome, value) if outcome.name in run.outcomes else "–"
            fill = None
            if run.scenario in stale:
                row.append(Cell(f"{STALE_SIGN} {text}{spread_lines(outcome, run)}", STALE_FILL,
                                style="italic", colour=WARN, align="center"))  # fmt: skip
                continue
            state = target_state(outcome, value)
            if state is not None:
                text += {MET: " ✓", NEAR: f" ≈{target_mark(outcome, value)}"}.get(
                    state, f" {target_mark(outcome, value)}"
                )
                fill = {MET: MEETS, NEAR: BORDERLINE}.get(state, MISSED)
            elif text == tr(NOT_APPLICABLE):
                fill = "#f3f3f3"
            text += spread_lines(outcome, run)
            weight = "bold" if run.scenario in best[outcome.name] else "normal"
            row.append(Cell(text, fill, weight, align="center"))
        rows.append(row)
    return table(figure, y, widths, header, rows, size=8.5)


def spread_lines(outcome: Outcome, run: Run) -> str:
    """'\n[21.3–28.7]\nP = 0.81' for a run with uncertainty ('' without), for a report's
    narrow cells (the row's heading gives the target)."""
    found = spread_of(outcome, run) if outcome.name in run.outcomes else None
    if found is None:
        return ""
    text = f"\n[{interval_text(outcome, found)}]"
    if found.p_target is not None:
        text += "\n" + tr("P = {p}").format(p=number(found.p_target, 2))
    return text


def summary_page(
    pdf: PdfPages,
    case: Case,
    twin: Twin,
    runs: list[Run],
    stale: dict[str, str],
    pseudonymised: bool,
    withheld: bool = False,
) -> None:
    """Page 1: the summary the board reads first (`withheld`: the case's question to the
    board is not printed, the report being pseudonymised)."""
    figure, y = page(tr("Multidisciplinary board — virtual twin report"), bool(stale))
    about = _patient_lines(case, twin, pseudonymised) + _target_line(case, twin, runs)
    y = lines(figure, y, about, size=9.5, width=98)
    title, question = _question(case, twin, withheld)
    y = heading(figure, y - 0.008, title)
    y = lines(figure, y, [question], size=10.5, width=88) - 0.008
    if stale:
        y = _stale_box(figure, y, runs, stale)
    ok = [r for r in runs if r.status == "ok"]
    y = heading(figure, y, tr("Scenarios"))
    scenarios = {s.name: s for s in case.scenarios.get(twin.id, [])}
    described = [
        tr("{label}: {value}").format(
            label=run.scenario,
            value=changes_text(twin, scenarios[run.scenario].overrides)
            if run.scenario in scenarios else tr("as run"))
        for run in runs
    ]  # fmt: skip
    y = lines(figure, y, described, size=8.5, width=110) - 0.006
    if ok:
        y = _outcome_table(figure, y, twin, ok, stale) - 0.006
        legend = tr(
            "Green ✓: meets its clinical target; amber ≈: misses it by no more than the "
            "outcome's clinical resolution; red ↓/↑: below/above it. Bold: the better value, "
            "beyond the clinical resolution (none while a result is out of date). Values in "
            "the unit system chosen in the window. All outcomes: 'Scenarios and outcomes'."
        )
        key = spread_key(ok)
        texts = [legend] + ([f"{key} " + tr("How they were computed: page 'Uncertainty and "
                                            "sensitivity'.")] if key else [])  # fmt: skip
        y = lines(figure, y, texts, size=7.5, width=125, color="#444444") - 0.008
    found = flags(twin, runs, stale)
    y = heading(figure, y, tr("Flags and warnings ({count}, each once)").format(
        count=len(found)))  # fmt: skip
    if not found:
        lines(figure, y, [tr("None: every key outcome meets its target and the model noted "
                             "nothing.")], size=9)  # fmt: skip
    room = int((y - 0.04) / line_height(8.5))
    written = 0
    for text, alarm in found:
        parts = textwrap.wrap(text, 112, subsequent_indent="   ")
        if written + len(parts) > room:
            more = len(found) - found.index((text, alarm))
            lines(figure, y, [tr("… {count} more on the page 'Scenarios and outcomes'.").format(
                count=more)], size=8.5)  # fmt: skip
            break
        sign = f"{STALE_SIGN} " if alarm else "• "
        y = lines(figure, y, [sign + text], size=8.5, width=112,
                  color=WARN if alarm else "black")  # fmt: skip
        written += len(parts)
    localise_ticks(figure)  # numbers with the language's decimal comma
    pdf.savefig(figure, dpi=DPI)


def _stale_box(figure, y: float, runs: list[Run], stale: dict[str, str]) -> float:
    from matplotlib.patches import Rectangle

    texts = [
        STALE_SIGN + " " + tr(
            "RESULTS OUT OF DATE: {count} of {total} scenario result(s) were computed from "
            "other data than the case now holds. Run them again before deciding."
        ).format(count=len(stale), total=len(runs)),
        *["   " + tr("{label}: {value}").format(label=name, value=reason)
          for name, reason in stale.items()],
    ]
    top = y
    y = lines(figure, y - 0.004, texts, size=9, width=100, x=LEFT + 0.01, color=WARN)
    figure.patches.append(
        Rectangle((LEFT, y - 0.004), 1 - 2 * LEFT, top - y + 0.004, transform=figure.transFigure,
                  facecolor="#fbeeee", edgecolor=WARN, linewidth=1.2, zorder=-1)
    )  # fmt: skip
    return y - 0.014
