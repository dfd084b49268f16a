"""A matplotlib canvas that draws only while on screen."""

from __future__ import annotations

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure

from meditwin_desktop.core.result_plots import localise_ticks


class PlotCanvas(FigureCanvasQTAgg):
    """Draws only while visible: a hidden tab's figure is drawn when it is shown, not each
    time its data change (matplotlib's draw_idle draws hidden canvases too: 50-120 ms on the
    GUI thread per figure, at every result of a twin's run)."""

    def __init__(self, figure: Figure) -> None:
        super().__init__(figure)
        self._stale = False

    def draw(self) -> None:
        localise_ticks(self.figure)  # tick labels with the language's decimal comma
        super().draw()

    def draw_idle(self) -> None:
        if self.isVisible():
            super().draw_idle()
        else:
            self._stale = True

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if self._stale:
            self._stale = False
            super().draw_idle()
