"""The board report's baseline page: the clinical data, the personalised baseline with every
parameter's value and where it comes from (the twin's personalisation, with its
provenance, or the declared default and its source), and what each scenario changes."""

from __future__ import annotations

from typing import Any

from matplotlib.backends.backend_pdf import PdfPages

from meditwin_desktop.core.case import Case, Run
from meditwin_desktop.core.clinical import fields as clinical_fields
from meditwin_desktop.core.i18n import date_text, tr
from meditwin_desktop.core.report_layout import (
    DPI,
    LEFT,
    Cell,
    heading,
    lines,
    page,
    table,
)
from meditwin_desktop.core.report_summary import QUESTION_KEY, changes_text
from meditwin_desktop.core.result_plots import localise_ticks
from meditwin_desktop.core.target_description import lps_text
from meditwin_desktop.core.twin import Parameter, Twin
from meditwin_desktop.core.twin import readable_value as format_value
from meditwin_desktop.core.units import system_text, user_system

PERSONALISED = "#e3eefa"  # rows whose value comes from this patient's data


def clinical_lines(clinical: dict) -> list[str]:
    """'Label: value unit' for each recorded clinical value (known fields in form order);
    the question to the board is printed on page 1, not here."""
    lines = []
    for spec in clinical_fields():
        if spec.key != QUESTION_KEY and clinical.get(spec.key) not in (None, ""):
            text, unit = spec.readable(clinical[spec.key])
            converted = system_text(clinical[spec.key], spec.unit, spec.label, user_system())
            if converted is not None:  # lipids in the unit system the user chose
                text, unit = converted
            text = _localised(spec, clinical[spec.key], text)
            value = f"{text} {tr(unit)}".rstrip()
            lines.append("  " + tr("{label}: {value}").format(label=tr(spec.label), value=value))
    known = {spec.key for spec in clinical_fields()} | {QUESTION_KEY}
    lines += [f"  {k}: {v}" for k, v in clinical.items() if k not in known]
    return lines


def _localised(spec, value: Any, text: str) -> str:
    """A clinical value's text in the language in use: words of choices and flags
    translated, the decimal comma, dates as the language writes them (free text as typed)."""
    if spec.kind in ("choice", "flag"):
        return tr(text)
    if spec.kind == "number":
        return _decimal(text) if _is_number(text) else text
    if spec.kind == "date":
        return date_text(str(value)) if len(str(value)) == 10 else text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _decimal(text: str) -> str:
    from meditwin_desktop.core.i18n import decimal_separator

    return text.replace(".", decimal_separator())


def parameter_text(parameter: Parameter, value: Any) -> str:
    """A parameter's value as the board reads it (points as R/A/S, choices as labelled)."""
    if value is None:
        return "–"
    if parameter.kind == "point":
        try:
            return lps_text(value) + " mm"
        except (TypeError, ValueError):
            return format_value(value)
    if parameter.kind == "choice":
        return tr(parameter.choice_label(str(value)))
    if parameter.kind == "number":  # lipids in the unit system the user chose
        converted = system_text(value, parameter.unit, parameter.label, user_system())
        if converted is not None:
            return " ".join((_decimal(converted[0]), converted[1]))
    text = format_value(value)
    return f"{text} {tr(parameter.unit)}".strip() if parameter.kind == "number" else text


def _personalised(twin: Twin, case: Case) -> tuple[dict, str]:
    """{name: Personalized} of the case as it is now, and '' or why it could not be made."""
    from meditwin_desktop.core.scenarios import baseline_of

    try:
        return baseline_of(twin, case), ""
    except Exception as error:  # shown on the page: the runs' values are printed instead
        why = tr("The baseline cannot be personalised on the case as it is now: {error}")
        return {}, why.format(error=error)


def baseline_page(
    pdf: PdfPages, case: Case, twin: Twin, runs: list[Run], stale: dict[str, str]
) -> None:
    """The clinical data, the baseline's parameters with their sources, the scenarios."""
    figure, y = page(tr("Baseline: clinical data and personalised parameters"), bool(stale))
    clinical = clinical_lines(case.clinical)
    if clinical:
        y = heading(figure, y, tr("Clinical data"))
        half = (len(clinical) + 1) // 2
        left = lines(figure, y, clinical[:half], size=8.5, width=58)
        right = lines(figure, y, clinical[half:], size=8.5, width=58, x=0.5)
        y = min(left, right) - 0.008
    personalised, problem = _personalised(twin, case)
    reference = next((r for r in runs if r.status == "ok"), None)
    values = {k: p.value for k, p in personalised.items()}
    if not values and reference is not None:
        values = dict(reference.parameters)
    y = heading(figure, y, tr("Personalised baseline: every parameter and its source"))
    if problem:
        y = lines(figure, y, [problem], size=8.5, width=110) - 0.004
    rows = []
    for parameter in twin.parameters:
        value = values.get(parameter.name, parameter.default)
        if parameter.name in personalised:
            source = tr("This patient: {provenance}").format(
                provenance=tr(personalised[parameter.name].provenance)
            )
            fill = PERSONALISED
        elif parameter.source:
            source = tr("Default: {source}").format(source=parameter.source)
            fill = None
        else:
            source = tr("Default")
            fill = None
        rows.append([Cell(tr(parameter.label), fill), Cell(parameter_text(parameter, value), fill),
                     Cell(source, fill)])  # fmt: skip
    size = 8 if len(rows) <= 24 else 7
    headings = [tr("Parameter"), tr("Value"), tr("Source")]
    y = table(figure, y, [0.26, 0.24, 1 - 2 * LEFT - 0.5], headings, rows, size=size)
    y = lines(figure, y - 0.004, [tr("Blue rows: personalised from this patient's data; the "
                                     "others are the twin's declared defaults.")], size=7.5,
              color="#444444") - 0.01  # fmt: skip
    scenarios = case.scenarios.get(twin.id, [])
    if scenarios and y > 0.12:
        y = heading(figure, y, tr("Scenarios: what each changes from the baseline"))
        table(figure, y, [0.26, 1 - 2 * LEFT - 0.26], [tr("Scenario"), tr("Changes")],
              [[s.name, changes_text(twin, s.overrides)] for s in scenarios], size=8)  # fmt: skip
    localise_ticks(figure)  # numbers with the language's decimal comma
    pdf.savefig(figure, dpi=DPI)
