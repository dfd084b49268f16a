"""The main window's follow-up workspace (View > Follow-up comparison): two dated studies
of the open case side by side in the centre, with the lesion tool and table; Close (or
another case) brings the usual views back."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QFrame, QMessageBox, QScrollArea

from meditwin_desktop.core.i18n import tr
from meditwin_desktop.ui.followup_view import FollowUpView


class FollowUpMixin:
    """The follow-up workspace (mixed into `MainWindow`)."""

    def _build_followup(self) -> None:
        self.followup = FollowUpView(self.session, self._start, self)
        # in a scroll area: the window keeps its minimum width (a narrow centre scrolls)
        self.followup_page = QScrollArea(self)
        self.followup_page.setObjectName("followup_page")
        self.followup_page.setWidgetResizable(True)
        self.followup_page.setFrameShape(QFrame.Shape.NoFrame)
        self.followup_page.setWidget(self.followup)
        self.centre.addWidget(self.followup_page)
        self._before_followup = None  # the centre page the workspace replaced
        self._followup_open = False
        self._panels_before_followup = None  # the panels as they were before it opened
        self.centre.currentChanged.connect(self._keep_followup)
        self.followup.close_requested.connect(self.close_followup)
        self.followup.measured.connect(lambda: self.image_measurements.show_study())
        self.cases.replaced.connect(self._followup_case_replaced)
        self.cases.changed.connect(self.followup.case_changed)

    def show_followup(self) -> bool:
        """Show the open case's baseline and latest studies side by side (False, with the
        reason, when the case has fewer than two dated 3D studies)."""
        case = self.cases.case
        if case is None or not self.followup.open():
            count = len(self.followup.studies())
            text = (
                tr("Open a case first.")
                if case is None
                else tr(
                    "The comparison needs two studies of the case with images; this case "
                    "has {count}. Add a follow-up series in the Studies panel."
                ).format(count=count)
            )
            box = QMessageBox(QMessageBox.Icon.Information, tr("Follow-up comparison"), text,
                              parent=self)  # fmt: skip
            box.setObjectName("followup_refused")
            box.open()
            return False
        if self.centre.currentWidget() is not self.followup_page:
            self._before_followup = self.centre.currentWidget()
        if not self._followup_open:  # the browser and studies make room for two views
            self._panels_before_followup = self.saveState()
            for dock in self._left_docks():
                dock.hide()
        self._followup_open = True
        self.centre.setCurrentWidget(self.followup_page)
        self.message.setText(
            tr("Follow-up comparison: choose a lesion, then draw with the Ruler.")
        )
        return True

    def close_followup(self) -> None:
        """Back to the layout the workspace replaced."""
        self._end_followup()
        if self.centre.currentWidget() is not self.followup_page:
            return
        previous = self._before_followup
        self._before_followup = None
        if previous is None or previous is self.followup_page:
            self.centre.setCurrentIndex(0)
        else:
            self.centre.setCurrentWidget(previous)

    def _followup_case_replaced(self, _case) -> None:
        """Another case: nothing of the previous patient stays in the workspace, which
        closes (the window has already chosen the new case's page)."""
        previous = self._before_followup  # the page the window chose for the new case
        self._end_followup()
        self.followup.clear()
        self._before_followup = None
        if self.centre.currentWidget() is self.followup_page:
            if previous is not None and previous is not self.followup_page:
                self.centre.setCurrentWidget(previous)  # an overview, a photograph...
            else:
                self.centre.setCurrentIndex(0)

    def _keep_followup(self, index: int) -> None:
        """While the workspace is open, the active study shown (or loaded) in the usual
        views does not take the centre from it; the welcome page (no case) does."""
        page = self.centre.widget(index)
        if self._followup_open and page is not self.followup_page and page is not self.welcome:
            if page is not None:
                self._before_followup = page
            self.centre.setCurrentWidget(self.followup_page)

    def _end_followup(self) -> None:
        """The panels back as they were before the workspace opened."""
        if self._followup_open and self._panels_before_followup is not None:
            self.restoreState(self._panels_before_followup)
        self._followup_open = False
        self._panels_before_followup = None

    def _left_docks(self) -> list[QDockWidget]:
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        docks = [d for d in self.findChildren(QDockWidget) if d.parent() is self]
        return [d for d in docks if self.dockWidgetArea(d) == left]
