"""The board report's baseline page: the clinical data, the personalised baseline with every
parameter's value and where it comes from (the twin's personalisation, with its
provenance, or the declared default and its source), and what each scenario changes."""

from __future__ import annotations

from typing import Any

from matplotlib.backends.backend_pdf import PdfPages

from meditwin_desktop.core.case import Case, Run
from meditwin_desktop.core.clinical import fields as clinical_fields
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
from meditwin_desktop.core.target_description import lps_text
from meditwin_desktop.core.twin import Parameter, Twin, format_value
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
            lines.append(f"  {spec.label}: {text} {unit}".rstrip())
    known = {spec.key for spec in clinical_fields()} | {QUESTION_KEY}
    lines += [f"  {k}: {v}" for k, v in clinical.items() if k not in known]
    return lines


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
        return parameter.choice_label(str(value))
    if parameter.kind == "number":  # lipids in the unit system the user chose
        converted = system_text(value, parameter.unit, parameter.label, user_system())
        if converted is not None:
            return " ".join(converted)
    text = format_value(value)
    return f"{text} {parameter.unit}".strip() if parameter.kind == "number" else text


def _personalised(twin: Twin, case: Case) -> tuple[dict, str]:
    """{name: Personalized} of the case as it is now, and '' or why it could not be made."""
    from meditwin_desktop.core.scenarios import baseline_of

    try:
        return baseline_of(twin, case), ""
    except Exception as error:  # shown on the page: the runs' values are printed instead
        return {}, f"The baseline cannot be personalised on the case as it is now: {error}"


def baseline_page(
    pdf: PdfPages, case: Case, twin: Twin, runs: list[Run], stale: dict[str, str]
) -> None:
    """The clinical data, the baseline's parameters with their sources, the scenarios."""
    figure, y = page("Baseline: clinical data and personalised parameters", bool(stale))
    clinical = clinical_lines(case.clinical)
    if clinical:
        y = heading(figure, y, "Clinical data")
        half = (len(clinical) + 1) // 2
        left = lines(figure, y, clinical[:half], size=8.5, width=58)
        right = lines(figure, y, clinical[half:], size=8.5, width=58, x=0.5)
        y = min(left, right) - 0.008
    personalised, problem = _personalised(twin, case)
    reference = next((r for r in runs if r.status == "ok"), None)
    values = {k: p.value for k, p in personalised.items()}
    if not values and reference is not None:
        values = dict(reference.parameters)
    y = heading(figure, y, "Personalised baseline: every parameter and its source")
    if problem:
        y = lines(figure, y, [problem], size=8.5, width=110) - 0.004
    rows = []
    for parameter in twin.parameters:
        value = values.get(parameter.name, parameter.default)
        if parameter.name in personalised:
            source = f"This patient: {personalised[parameter.name].provenance}"
            fill = PERSONALISED
        else:
            source = f"Default: {parameter.source}" if parameter.source else "Default"
            fill = None
        rows.append([Cell(parameter.label, fill), Cell(parameter_text(parameter, value), fill),
                     Cell(source, fill)])  # fmt: skip
    size = 8 if len(rows) <= 24 else 7
    y = table(figure, y, [0.26, 0.24, 1 - 2 * LEFT - 0.5], ["Parameter", "Value", "Source"],
              rows, size=size)  # fmt: skip
    y = lines(figure, y - 0.004, ["Blue rows: personalised from this patient's data; the "
                                  "others are the twin's declared defaults."], size=7.5,
              color="#444444") - 0.01  # fmt: skip
    scenarios = case.scenarios.get(twin.id, [])
    if scenarios and y > 0.12:
        y = heading(figure, y, "Scenarios: what each changes from the baseline")
        table(figure, y, [0.26, 1 - 2 * LEFT - 0.26], ["Scenario", "Changes"],
              [[s.name, changes_text(twin, s.overrides)] for s in scenarios], size=8)  # fmt: skip
    pdf.savefig(figure, dpi=DPI)
