"""Figures in hidden tabs are drawn when shown, not at every change of their data."""

from matplotlib.figure import Figure
from PySide6.QtWidgets import QLabel, QTabWidget

from meditwin_desktop.ui.plot_canvas import PlotCanvas


def test_a_hidden_figure_draws_once_when_its_tab_is_shown(qtbot):
    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    tabs.addTab(QLabel("outcomes"), "Outcomes")
    canvas = PlotCanvas(Figure())
    tabs.addTab(canvas, "Curves")
    tabs.show()
    qtbot.waitExposed(tabs)
    draws = []
    canvas.draw = lambda: draws.append(1)  # what draw_idle's timer calls
    for _ in range(3):  # three results arrive while the Curves tab is hidden
        canvas.figure.gca().plot([0, 1], [0, 1])
        canvas.draw_idle()
    qtbot.wait(50)
    assert draws == []
    tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: len(draws) == 1, timeout=2_000)
    qtbot.wait(50)
    assert len(draws) == 1
