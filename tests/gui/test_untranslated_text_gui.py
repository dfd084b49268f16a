"""Every text on screen went through the translation system.

In the pseudo language (core/i18n.py: `qps`) every translated text is wrapped in ⟦ ⟧. The
window opens a demo case, runs its scenarios and shows every tab; then every visible text
(labels, buttons, tabs, menus, headers, table cells, tooltips) must carry the mark, unless it
is data (patient, scenario and study names, numbers, units)."""

from __future__ import annotations

import re

import pytest
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QDockWidget,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMenu,
    QTabBar,
    QTableWidget,
    QWidget,
)

from meditwin_desktop.core import i18n
from tests.support.i18n_scan import _is_linguistic

pytestmark = pytest.mark.gui


@pytest.fixture
def pseudo_language():
    i18n.set_language(i18n.PSEUDO)
    yield
    i18n.set_language("en")


def _plain(text: str) -> str:
    text = re.sub(r"<[^>]+>", " ", text or "")
    return re.sub(r"&[a-z]+;|&#\d+;", " ", text).replace("&", "")


def _texts(window) -> list[tuple[str, str]]:
    """(where, text) of what the user can read now."""
    found: list[tuple[str, str]] = []

    def add(widget: QWidget, text: str) -> None:
        if text:
            found.append((f"{type(widget).__name__}:{widget.objectName()}", _plain(text)))

    for widget in window.findChildren(QWidget):
        if not widget.isVisible() or widget.objectName().startswith("qt_"):
            continue  # Qt's own parts (a calendar's month) follow QLocale, not our catalogue
        if isinstance(widget, QLabel | QAbstractButton):
            add(widget, widget.text())
        if isinstance(widget, QGroupBox):
            add(widget, widget.title())
        if isinstance(widget, QDockWidget):
            add(widget, widget.windowTitle())
        if isinstance(widget, QTabBar):
            for n in range(widget.count()):
                add(widget, widget.tabText(n))
        if isinstance(widget, QComboBox):
            add(widget, widget.itemText(widget.currentIndex()))  # shown (a keyed box's key differs)
        if isinstance(widget, QLineEdit):
            add(widget, widget.placeholderText())
        if isinstance(widget, QTableWidget):
            for c in range(widget.columnCount()):
                header = widget.horizontalHeaderItem(c)
                if header is not None and not widget.isColumnHidden(c):
                    add(widget, header.text())
        add(widget, widget.toolTip())
    for menu in window.menuBar().findChildren(QMenu):
        add(menu, menu.title())
        for action in menu.actions():
            if action.isVisible():
                add(menu, action.text())
    return found


def _untranslated(window, data: set[str]) -> list[str]:
    bad = []
    for where, text in _texts(window):
        if i18n.OPEN in text or not _is_linguistic(text):
            continue
        rest = text
        for value in sorted(data, key=len, reverse=True):
            rest = rest.replace(value, " ")
        if _is_linguistic(rest):
            bad.append(f"{where}: {text[:80]!r}")
    return sorted(set(bad))


def _case_data(window) -> set[str]:
    """Names that are the patient's data, not the application's text."""
    case = window.cases.case
    data = {case.name, case.patient_id} if case is not None else set()
    if case is not None:
        for scenarios in case.scenarios.values():
            data |= {s.name for s in scenarios}
        for study in getattr(case, "studies", ()) or ():
            data |= {str(getattr(study, key, "") or "") for key in ("description", "label")}
    data |= set(i18n.LANGUAGES.values())  # each language's name in its own language
    return {d for d in data if d}


def _visit_every_tab(window, qtbot) -> list[str]:
    bad: set[str] = set()
    for bar in window.findChildren(QTabBar):
        if not bar.isVisible():
            continue
        for n in range(bar.count()):
            bar.setCurrentIndex(n)
            qtbot.wait(50)
            bad |= set(_untranslated(window, _case_data(window)))
    return sorted(bad)


@pytest.mark.parametrize("demo", ["fh-patient", "neonate-hlhs", "thorax-abdomen", "dravet-child"])
def test_every_visible_text_is_translatable(pseudo_language, show_window, qtbot, demo):
    window = show_window(1500, 950)
    window.open_demo_case(demo)
    qtbot.waitUntil(lambda: window.twin_panel.twin is not None, timeout=60_000)
    qtbot.waitUntil(lambda: not window.twin_panel.personalising(), timeout=60_000)
    panel = window.twin_panel
    panel.run_all()
    qtbot.waitUntil(lambda: all(panel._last_run(s.name) is not None
                                for s in panel.case.scenarios[panel.twin.id]), timeout=120_000)
    qtbot.wait(300)
    bad = _visit_every_tab(window, qtbot)
    assert not bad, f"{len(bad)} texts on screen without translation:\n" + "\n".join(bad[:80])
