"""The banner above the views: whose data is on screen (name, ID, birth date, or the
pseudonym), what is loading, and whether the case can be saved."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.session import Session

_STYLE = "QLabel#patient_banner {{ background: {bg}; color: {fg}; padding: 4px 10px; }}"


class PatientBanner(QLabel):
    """One line, always visible: the patient of the open case, or that none is open."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setObjectName("patient_banner")
        self.setTextFormat(Qt.TextFormat.RichText)
        # wraps rather than widening the window past a 1280-pixel screen (or being cut)
        self.setWordWrap(True)
        self.refresh()

    def refresh(self) -> None:
        """Redraw from the session."""
        session = self.session
        identity = session.identity()
        parts = []
        if identity is None:
            none = tr("No case open")
            parts.append(f"<b>{html.escape(none)}</b>")
        else:
            parts.append(f"<b>{html.escape(identity.banner())}</b>")
            if session.case is not None and session.case.problems:
                problem = tr("⚠ part of the saved case could not be read (see the Twins tab)")
                parts.append(html.escape(problem))
        if session.loading:
            parts.append(f"<i>{html.escape(session.loading)}</i>")
        if session.library is None:
            parts.append(html.escape(tr("⚠ case library unavailable: nothing is saved")))
        self.setText(" &nbsp;·&nbsp; ".join(parts))
        pseudonymised = identity is not None and identity.pseudonymised
        warn = session.library is None or (session.case is not None and session.case.problems)
        bg = "#5a4a1a" if pseudonymised else ("#5a2a24" if warn else "#243447")
        self.setStyleSheet(_STYLE.format(bg=bg, fg="#f0f0f0"))
        self.setToolTip(session.library_problem if session.library is None else "")
