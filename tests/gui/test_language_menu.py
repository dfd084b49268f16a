"""View > Language keeps the language for the next start and says so; Help > About names
every installed twin with its version, the language in use and where the data are."""

import html

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QMessageBox

from meditwin_desktop.core import i18n
from meditwin_desktop.core.paths import data_dir, log_file
from meditwin_desktop.ui import language

pytestmark = pytest.mark.gui


@pytest.fixture
def kept_language():
    """The settings are shared by the test session: the choice made here is undone after
    (a later test's application would otherwise start in French)."""
    before = language.chosen()
    yield
    language.choose(before)


def _stored_language() -> str:
    settings = QSettings(str(data_dir() / "settings.ini"), QSettings.Format.IniFormat)
    return str(settings.value(language.SETTING, ""))


def test_view_language_menu_keeps_the_choice_and_says_when_it_applies(
    show_window, qtbot, kept_language
):
    window = show_window()
    view_menu = window.findChild(QMenu, "view_menu")
    menu = window.findChild(QMenu, "language_menu")
    assert menu is not None and menu.menuAction() in view_menu.actions()
    actions = {action.data(): action for action in menu.actions() if action.isCheckable()}
    assert list(actions) == ["system", "en", "fr"]
    assert actions["en"].text() == "English" and actions["fr"].text() == "Français"
    assert actions[language.chosen()].isChecked()
    assert sum(action.isChecked() for action in actions.values()) == 1

    actions["fr"].trigger()

    assert language.chosen() == "fr" and _stored_language() == "fr"
    assert actions["fr"].isChecked() and not actions["system"].isChecked()
    box = window.findChild(QMessageBox, "language_changed")
    qtbot.waitUntil(lambda: box.isVisible(), timeout=2000)
    assert box.text() == i18n.tr("The language will change when MEDITWIN restarts.")
    box.close()

    actions["system"].trigger()  # back to the system's: kept too
    assert language.chosen() == "system" and _stored_language() == "system"


def test_help_about_names_every_twin_with_its_version(show_window, monkeypatch):
    window = show_window()
    shown = []
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, text: shown.append(text))
    about = window.findChild(QAction, "about_action")
    assert about in window.findChild(QMenu, "help_menu").actions()
    about.trigger()
    assert len(shown) == 1
    text = shown[0]
    assert window.registry.twins, "no twin installed: nothing to check"
    for twin in window.registry.twins.values():
        assert html.escape(i18n.tr(twin.title)) in text, twin.id
        assert f"— {i18n.tr('version {version}').format(version=twin.version)}" in text, twin.id
    assert str(log_file()) in text and "settings.ini" in text
    assert str(window.session.library.root) in text
    assert i18n.LANGUAGES.get(i18n.language(), i18n.language()) in text
