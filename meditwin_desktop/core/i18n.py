"""What the user reads, in English or French: translation, numbers and dates.

The code holds English text. `tr(text)` translates it now; `tr_n(one, many, n)` picks the
plural form; `N_(text)` only marks text (a declaration) that is translated where it is
shown. A twin's declarations (parameter labels, help, outcome labels, clinical fields) are
plain English and translated by whoever shows them (`tr(parameter.label)`).

Catalogues are GNU gettext `.po` files read with Babel (`babel.messages.pofile`): the
platform's in `resources/translations/<language>/*.po` (merged), each twin's in its package
as `translations/<language>.po` (found through the `meditwin.twins` entry points, so a
hospital's own twin brings its own). A twin's code reads its own catalogue first (so its
"baseline" can differ from another twin's), the platform reads its own, then the twins'.
Text with values is a template: `tr("{count} cases").format(count=n)`, never an f-string.

The language is `MEDITWIN_LANG` when set, else the system's (LC_ALL, LC_MESSAGES, LANG).
`set_language` sets `MEDITWIN_LANG` too, so worker processes speak the same language.
The pseudo language `qps` (tests) wraps every translated text in ⟦ ⟧ and records its
English original, to find text that reaches the screen without `tr`.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import logging
import os
import sys
import threading
from importlib.metadata import entry_points
from pathlib import Path

log = logging.getLogger(__name__)

ENV = "MEDITWIN_LANG"
LANGUAGES = {"en": "English", "fr": "Français"}  # code -> its own name (shown as is)
PSEUDO = "qps"
OPEN, CLOSE = "⟦", "⟧"
TWIN_GROUP = "meditwin.twins"

_lock = threading.Lock()
_language: str | None = None
Entries = dict[str, "str | tuple[str, ...]"]
# language -> (the platform's entries, each twin package's own, all twins' merged)
_catalogues: dict[str, tuple[Entries, dict[str, Entries], Entries]] = {}
_seen: set[str] = set()


def N_(text: str) -> str:  # noqa: N802 (the gettext convention)
    """Mark `text` for translation where it is shown; returns it unchanged."""
    return text


def system_language() -> str:
    """The supported language of the system locale (environment), English otherwise."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = os.environ.get(variable, "")
        if value:
            code = value.split(":")[0].split("_")[0].split(".")[0].lower()
            return code if code in LANGUAGES else "en"
    return "en"


def language() -> str:
    """The language in use: `MEDITWIN_LANG`, else the system's."""
    global _language
    if _language is None:
        wanted = os.environ.get(ENV, "").strip().lower()
        _language = wanted if wanted in LANGUAGES or wanted == PSEUDO else system_language()
    return _language


def set_language(code: str) -> str:
    """Use `code` ("en", "fr", or "system") from now on, here and in later workers;
    returns the language used (an unknown code falls back to the system's)."""
    global _language
    code = (code or "system").strip().lower()
    if code not in LANGUAGES and code != PSEUDO:
        code = system_language()
    _language = code
    os.environ[ENV] = code
    return code


def tr(text: str) -> str:
    """`text` (English) in the language in use; itself when there is no translation."""
    lang = language()
    if lang == "en" or not text:
        return text
    if lang == PSEUDO:
        _seen.add(text)
        return f"{OPEN}{text}{CLOSE}"
    found = _lookup(lang, text, sys._getframe(1).f_globals.get("__name__", ""))
    return found if isinstance(found, str) and found else text


def tr_n(one: str, many: str, count: int) -> str:
    """The singular or plural template for `count`, translated (French: 0 and 1 are
    singular). Format it afterwards: `tr_n("{n} case", "{n} cases", n).format(n=n)`."""
    lang = language()
    if lang == "en":
        return one if count == 1 else many
    if lang == PSEUDO:
        _seen.add(one)
        return f"{OPEN}{one if count == 1 else many}{CLOSE}"
    forms = _lookup(lang, one, sys._getframe(1).f_globals.get("__name__", ""))
    if isinstance(forms, tuple) and len(forms) >= 2 and all(forms):
        return forms[0] if count <= 1 else forms[-1]  # French: one (0, 1), other
    return many if count != 1 else one


def seen() -> set[str]:
    """English texts translated in the pseudo language so far (tests)."""
    return set(_seen)


# -- numbers and dates -------------------------------------------------------------------------
def decimal_separator() -> str:
    """"," in French, "." otherwise."""
    return "," if language() == "fr" else "."


def number(value: float | int, decimals: int = 0) -> str:
    """`value` with `decimals` digits after the separator of the language in use
    (1234,5 in French, 1234.5 in English; no grouping, as clinical values are read)."""
    text = f"{value:.{max(0, decimals)}f}"
    return text.replace(".", ",") if language() == "fr" else text


def date_text(day: dt.date | dt.datetime | str) -> str:
    """A date as the language writes it: 07/12/2026 in French, ISO 2026-12-07 in English
    (unambiguous). A string that is not an ISO date is returned as it is."""
    if isinstance(day, str):
        try:
            day = dt.date.fromisoformat(day[:10])
        except ValueError:
            return day
    if isinstance(day, dt.datetime):
        day = day.date()
    return day.strftime("%d/%m/%Y") if language() == "fr" else day.isoformat()


# -- catalogues ---------------------------------------------------------------------------------
def platform_catalogue_files(lang: str) -> list[Path]:
    """The platform's `.po` files for `lang` (resources/translations/<lang>/)."""
    spec = importlib.util.find_spec("meditwin_desktop.resources")
    if spec is None or not spec.submodule_search_locations:
        return []
    folder = Path(next(iter(spec.submodule_search_locations))) / "translations" / lang
    return sorted(folder.glob("*.po"))


def twin_catalogues(lang: str) -> dict[str, Path]:
    """Each installed twin's `translations/<lang>.po`, by the twin's package name (from
    its entry point, or MEDITWIN_EXTRA_TWINS)."""
    found: dict[str, Path] = {}
    packages = {ep.value.partition(":")[0] for ep in entry_points(group=TWIN_GROUP)}
    extra = os.environ.get("MEDITWIN_EXTRA_TWINS", "")
    packages |= {t.strip().partition(":")[0] for t in extra.split(",") if t.strip()}
    for package in sorted(packages):
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            continue
        if spec is None:
            continue
        if spec.submodule_search_locations:
            folder = Path(next(iter(spec.submodule_search_locations)))
        elif spec.origin:
            folder = Path(spec.origin).parent
            package = package.rpartition(".")[0] or package  # a module: its package's
        else:
            continue
        po = folder / "translations" / f"{lang}.po"
        if po.is_file():
            found[package] = po
    return found


def read_po(path: Path) -> dict[str, str | tuple[str, ...]]:
    """msgid -> msgstr (plural: the tuple of forms) of one `.po` file; fuzzy and empty
    entries are left out (not reviewed, so not shown)."""
    from babel.messages.pofile import read_po as babel_read_po

    with open(path, "rb") as handle:
        catalogue = babel_read_po(handle, ignore_obsolete=True)
    entries: dict[str, str | tuple[str, ...]] = {}
    for message in catalogue:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, tuple | list):
            forms = tuple(message.string or ())
            if forms and all(forms):
                entries[message.id[0]] = forms
        elif message.string:
            entries[message.id] = message.string
    return entries


def _read(path: Path) -> Entries:
    try:
        return read_po(path)
    except Exception as error:  # a damaged catalogue: its texts stay English
        log.warning("translation file %s unreadable: %s", path.name, error)
        return {}


def _catalogue(lang: str) -> tuple[Entries, dict[str, Entries], Entries]:
    with _lock:
        if lang not in _catalogues:
            platform: Entries = {}
            for path in platform_catalogue_files(lang):
                platform.update(_read(path))
            twins = {package: _read(path) for package, path in twin_catalogues(lang).items()}
            merged: Entries = {}
            for entries in twins.values():
                merged.update(entries)
            _catalogues[lang] = (platform, twins, merged)
        return _catalogues[lang]


def _lookup(lang: str, text: str, module: str) -> str | tuple[str, ...] | None:
    """A twin's own text in its own words first (the twin's code asks), then the
    platform's, then any twin's (a twin's declaration shown by the platform)."""
    platform, twins, merged = _catalogue(lang)
    for package, entries in twins.items():
        if module == package or module.startswith(package + "."):
            if text in entries:
                return entries[text]
            break
    return platform.get(text, merged.get(text))


def reload() -> None:
    """Forget the catalogues read so far (tests that write catalogues)."""
    with _lock:
        _catalogues.clear()
