"""The interface language, applied before any window is built.

The user's choice is kept in the settings (`language`: "system", "en" or "fr"); "system"
follows the system locale. Applying it sets MEDITWIN's own catalogues (core/i18n.py, also
for the workers started later), loads Qt's translation of its own dialogs (qtbase_fr.qm,
shipped with PySide6) and the locale of number editors (decimal comma in French).
A change takes effect at the next start: widgets are built in one language.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QLibraryInfo, QLocale, QSettings, QTranslator
from PySide6.QtWidgets import QApplication

from meditwin_desktop.core import i18n
from meditwin_desktop.core.paths import data_dir

log = logging.getLogger(__name__)

SETTING = "language"
CHOICES = ("system", *i18n.LANGUAGES)  # what the settings accept
_QT_LOCALES = {
    "fr": QLocale(QLocale.Language.French, QLocale.Country.France),
    "en": QLocale.c(),  # decimal point, ISO dates: as clinical English reads them
}
_translators: list[QTranslator] = []  # kept alive while installed


def _settings() -> QSettings:
    try:
        return QSettings(str(data_dir() / "settings.ini"), QSettings.Format.IniFormat)
    except OSError:
        return QSettings()


def chosen() -> str:
    """The language chosen in the settings ("system" when none)."""
    value = str(_settings().value(SETTING, "system") or "system")
    return value if value in CHOICES else "system"


def choose(code: str) -> None:
    """Keep `code` ("system", "en", "fr") for the next start."""
    _settings().setValue(SETTING, code if code in CHOICES else "system")


def apply_language(app: QApplication, code: str | None = None) -> str:
    """Use the chosen language (or `code`): returns the language in use. An explicit
    `MEDITWIN_LANG` in the environment wins (tests, a shared workstation's launcher)."""
    import os

    wanted = os.environ.get(i18n.ENV) or (code or chosen())
    language = i18n.set_language(wanted)
    for translator in _translators:
        app.removeTranslator(translator)
    _translators.clear()
    if language in _QT_LOCALES and language != "en":
        folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        translator = QTranslator(app)
        if translator.load(f"qtbase_{language}", folder):
            app.installTranslator(translator)
            _translators.append(translator)
        else:
            log.warning("Qt's own %s translation not found", language)
    QLocale.setDefault(_QT_LOCALES.get(language, _QT_LOCALES["en"]))
    return language
