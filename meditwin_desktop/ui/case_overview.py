"""The centre of the window for a case without images: who the patient is and what is known.

Shown instead of the empty slice and 3D views (a newborn assessed on clinical data, a
risk consultation); the values come from the case's clinical data, with their units.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from meditwin_desktop.core.case import Case
from meditwin_desktop.core.clinical import fields, groups
from meditwin_desktop.core.i18n import date_text, decimal_separator, tr
from meditwin_desktop.core.session import PatientIdentity
from meditwin_desktop.core.units import system_text, user_system


class CaseOverview(QScrollArea):
    """A read-only summary of the open case's clinical data."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("case_overview")
        self.setWidgetResizable(True)
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(32, 24, 32, 24)
        self.text = QLabel(body)
        self.text.setObjectName("case_overview_text")
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.text)
        layout.addStretch(1)
        self.setWidget(body)

    def show_case(self, case: Case, identity: PatientIdentity | None = None) -> None:
        """Fill in the summary of `case`, headed by who it is about (`identity`: the name
        and ID, or the pseudonym while the patient's identity is hidden)."""
        clinical = case.clinical
        identity = identity or PatientIdentity(case.name, case.patient_id)
        parts = [f"<h2>{html.escape(identity.name)}</h2>"]
        if identity.patient_id:
            patient_id = tr("Patient ID {patient_id}").format(patient_id=identity.patient_id)
            parts.append(f"<p>{html.escape(patient_id)}</p>")
        if clinical.get("diagnosis"):
            parts.append(f"<p><b>{html.escape(str(clinical['diagnosis']))}</b></p>")
        for group in groups():
            rows = []
            for spec in fields():
                if spec.group != group or spec.key == "diagnosis":
                    continue
                if clinical.get(spec.key) in (None, ""):
                    continue
                text, unit = spec.readable(clinical[spec.key])
                # lipids in the user's unit system (core.units), to a lab report's decimals
                converted = system_text(clinical[spec.key], spec.unit, spec.label, user_system())
                if converted is not None and converted[1] in spec.units:
                    text, unit = converted
                # numbers with the language's decimal mark, dates as it writes them; words
                # (choices, yes/no, units such as "years") translated; unit symbols have no
                # entry and stay as they are
                text = {
                    "number": lambda t: t.replace(".", decimal_separator()),
                    "flag": tr,
                    "choice": tr,
                    "date": date_text,
                }.get(spec.kind, str)(text)  # free text is the user's: as typed
                unit = tr(unit) if unit else unit
                rows.append(
                    f"<tr><td style='padding-right:24px'>{html.escape(tr(spec.label))}</td>"
                    f"<td><b>{html.escape(text)}</b> {html.escape(unit)}</td></tr>"
                )
            if rows:
                parts.append(f"<h3>{html.escape(tr(group))}</h3><table>{''.join(rows)}</table>")
        parts += _held(case)
        hint = tr(
            "This case has no images. Edit its values in the <i>Clinical</i> tab; choose a "
            "twin, add scenarios and run them in the <i>Twins</i> tab; the comparison opens below."
        )
        parts.append(f"<p style='color:#9aa0a6'>{hint}</p>")
        self.text.setText("".join(parts))


def _held(case: Case) -> list[str]:
    """What else the case holds: its drugs, its diary's span, its recordings, its
    measurements (details in the Case data tab)."""
    rows = []
    if case.medications:
        drugs = "; ".join(f"{m.name} {m.dose:g} {m.unit}" for m in case.medications if not m.stop)
        rows.append((tr("Medications"), drugs or tr("none current")))
    if case.events:
        days = sorted(str(e.time)[:10] for e in case.events)
        rows.append(
            (
                tr("Diary"),
                tr("{count} entries, {first} to {last}").format(
                    count=len(case.events), first=date_text(days[0]), last=date_text(days[-1])
                ),
            )
        )
    if case.recordings:
        rows.append(
            (
                tr("Recordings"),
                "; ".join(
                    f"{r.kind} {_date_time(r.start[:16].replace('T', ' '))}".strip()
                    for r in case.recordings
                ),
            )
        )
    if case.measurements:
        names = sorted({m.name for m in case.measurements})
        rows.append(
            (
                tr("Measurements"),
                tr("{count} values of {names}").format(
                    count=len(case.measurements),
                    names=", ".join(names[:6]) + (" ..." if len(names) > 6 else ""),
                ),
            )
        )
    if not rows:
        return []
    cells = "".join(
        f"<tr><td style='padding-right:24px'>{html.escape(k)}</td>"
        f"<td>{html.escape(v)}</td></tr>" for k, v in rows
    )  # fmt: skip
    heading = html.escape(tr("In the case (Case data tab)"))
    return [f"<h3>{heading}</h3><table>{cells}</table>"]


def _date_time(text: str) -> str:
    """'2024-02-03 08:00' with its date as the language writes it."""
    day, sep, rest = text.partition(" ")
    return f"{date_text(day)}{sep}{rest}"
