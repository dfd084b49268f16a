"""The board's decision for the case on screen, typed during the meeting: the chosen option
(one of the case's scenarios or free text), the alternatives discussed, the rationale, the
follow-up, who was present, notes. "Record" asks the presentation to sign and keep it
(`core.board.Meetings.record_decision`); a recorded decision is shown with who recorded it
and when, and a later "Record" amends it. `DecisionPanel` is the form with the meeting's
buttons, as the presentation shows it on the right."""

from __future__ import annotations

import datetime as dt
import html

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from meditwin_desktop.core.board import Attendee, Decision
from meditwin_desktop.core.i18n import date_text, tr
from meditwin_desktop.core.scenarios import BASELINE


def signed_text(decision: Decision) -> str:
    """'Recorded by <user> at <local time> (case revision N)'."""
    try:
        moment = dt.datetime.fromisoformat(decision.signed_at).astimezone()
        when = f"{date_text(moment.date())} {moment:%H:%M}"
    except (TypeError, ValueError):
        when = decision.signed_at
    return tr("Recorded by {user} at {time} (case revision {revision})").format(
        user=decision.signed_by, time=when, revision=decision.case_revision
    )


class _TextBox(QPlainTextEdit):
    """A few lines of text, as high as that many lines in the font it is shown with
    (the presentation's is twice the usual on a 4K screen)."""

    def __init__(self, name: str, lines: int) -> None:
        super().__init__()
        self.setObjectName(name)
        self.setTabChangesFocus(True)  # Tab goes to the next field, as in a form
        self._lines = lines
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(super().sizeHint().width(),
                     self.fontMetrics().lineSpacing() * self._lines + 12)  # fmt: skip

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(super().minimumSizeHint().width(), self.sizeHint().height())


class DecisionForm(QWidget):
    """The decision fields for one agenda item; `record_requested(Decision)` on Record."""

    record_requested = Signal(object)  # core.board.Decision, not yet signed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("decision_form")
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 8, 8, 8)
        self.case_title = QLabel()
        self.case_title.setObjectName("decision_case")
        self.case_title.setWordWrap(True)
        column.addWidget(self.case_title)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)  # a narrow panel
        self.option = QComboBox()
        self.option.setObjectName("decision_option")
        self.option.setEditable(True)  # a scenario, or the option typed
        self.option.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.option.lineEdit().setPlaceholderText(tr("a scenario, or type the option"))
        form.addRow(tr("Chosen option"), self.option)
        self.alternatives = _TextBox("decision_alternatives", 2)
        form.addRow(tr("Alternatives discussed"), self.alternatives)
        self.rationale = _TextBox("decision_rationale", 3)
        form.addRow(tr("Rationale"), self.rationale)
        self.follow_up = QLineEdit()
        self.follow_up.setObjectName("decision_follow_up")
        form.addRow(tr("Follow-up"), self.follow_up)
        self.present = QListWidget()
        self.present.setObjectName("decision_present")
        self.present.setWordWrap(True)  # long names and roles wrap in a narrow panel
        self.present.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        form.addRow(tr("Present for this case"), self.present)
        self.notes = _TextBox("decision_notes", 2)
        form.addRow(tr("Notes"), self.notes)
        column.addLayout(form)
        self.record = QPushButton(tr("Record decision"))
        self.record.setObjectName("decision_record")
        self.record.clicked.connect(self._record)
        column.addWidget(self.record)
        self.status = QLabel()
        self.status.setObjectName("decision_status")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.RichText)
        column.addWidget(self.status)
        column.addStretch(1)

    # -- showing ---------------------------------------------------------------------------
    def show_item(
        self,
        title: str,
        scenarios: list[str],
        attendees: list[Attendee],
        recorded: Decision | None,
        draft: Decision | None = None,
    ) -> None:
        """Fill the form for a case: the draft typed earlier, else the recorded decision,
        else empty with everyone present."""
        self.case_title.setText(title)
        self.option.clear()
        for name in scenarios:  # the baseline's name is a key, shown translated
            self.option.addItem(tr(BASELINE) if name == BASELINE else name, name)
        shown = draft or recorded
        self.option.setCurrentText(shown.option if shown else "")
        self.alternatives.setPlainText(shown.alternatives if shown else "")
        self.rationale.setPlainText(shown.rationale if shown else "")
        self.follow_up.setText(shown.follow_up if shown else "")
        self.notes.setPlainText(shown.notes if shown else "")
        present = set(shown.present) if shown else {a.name for a in attendees}
        self.present.clear()
        for attendee in attendees:
            item = QListWidgetItem(f"{attendee.name} ({tr(attendee.role)})")
            item.setData(Qt.ItemDataRole.UserRole, attendee.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = attendee.name in present
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            self.present.addItem(item)
        self.show_recorded(recorded)

    def show_recorded(self, recorded: Decision | None) -> None:
        """Say whether (and by whom, when) this case's decision was recorded."""
        if recorded is None:
            self.status.setText(html.escape(tr("No decision recorded yet.")))
            self.record.setText(tr("Record decision"))
            return
        signed = "<b>✓ " + html.escape(signed_text(recorded)) + "</b>"
        chosen = html.escape(tr("Decision: {option}").format(option=recorded.option))
        self.status.setText("<br>".join((signed, chosen)))
        self.record.setText(tr("Record an amended decision"))

    # -- reading -----------------------------------------------------------------------------
    def decision(self) -> Decision:
        """What the form holds (not signed)."""
        option = self.option.currentText().strip()
        found = self.option.findText(option) if option else -1
        present = [
            str(self.present.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.present.count())
            if self.present.item(i).checkState() == Qt.CheckState.Checked
        ]
        return Decision(
            option=option,
            scenario=str(self.option.itemData(found)) if found >= 0 else "",
            alternatives=self.alternatives.toPlainText().strip(),
            rationale=self.rationale.toPlainText().strip(),
            follow_up=self.follow_up.text().strip(),
            present=present,
            notes=self.notes.toPlainText().strip(),
        )

    def _record(self) -> None:
        decision = self.decision()
        if not decision.option:
            self.status.setText(
                html.escape(tr("Choose a scenario or type the option the board chose."))
            )
            self.option.setFocus()
            return
        self.record_requested.emit(decision)


class DecisionPanel(QWidget):
    """The presentation's right panel: the decision form, then the reports, the pseudonym
    and the end of the meeting."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("decision_panel")
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 8)
        self.form = DecisionForm(self)
        column.addWidget(self.form, stretch=1)
        self.case_report = self._button(tr("Decision report (this case)…"), "case_report")
        self.meeting_report = self._button(tr("Meeting report…"), "meeting_report")
        self.hide_identity = self._button(tr("Hide the patient's identity…"), "hide_identity")
        self.end = self._button(tr("End meeting"), "end")

    def _button(self, text: str, name: str) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(f"presentation_{name}")
        self.layout().addWidget(button)
        return button
