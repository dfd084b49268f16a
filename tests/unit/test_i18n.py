"""core/i18n.py: the language in use, catalogues, plurals, numbers and dates."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from meditwin_desktop.core import i18n

PO = """msgid ""
msgstr ""
"Language: fr\\n"
"Plural-Forms: nplurals=2; plural=(n > 1);\\n"

msgid "Open case"
msgstr "Ouvrir le dossier"

msgid "{n} case"
msgid_plural "{n} cases"
msgstr[0] "{n} dossier"
msgstr[1] "{n} dossiers"

#, fuzzy
msgid "Guessed"
msgstr "Deviné"

msgid "Not yet"
msgstr ""
"""


@pytest.fixture
def french(tmp_path, monkeypatch):
    po = tmp_path / "fr.po"
    po.write_text(PO, encoding="utf-8")
    monkeypatch.setattr(i18n, "platform_catalogue_files", lambda lang: [po])
    monkeypatch.setattr(i18n, "twin_catalogues", lambda lang: {})
    i18n.reload()
    i18n.set_language("fr")
    yield po
    i18n.set_language("en")
    i18n.reload()


def test_english_is_the_text_itself():
    i18n.set_language("en")
    assert i18n.tr("Open case") == "Open case"
    assert i18n.tr_n("{n} case", "{n} cases", 1).format(n=1) == "1 case"
    assert i18n.tr_n("{n} case", "{n} cases", 0).format(n=0) == "0 cases"
    assert i18n.number(1234.56, 1) == "1234.6"
    assert i18n.date_text("2026-12-07") == "2026-12-07"


def test_french_translates_and_falls_back_to_english(french):
    assert i18n.tr("Open case") == "Ouvrir le dossier"
    assert i18n.tr("Not in the catalogue") == "Not in the catalogue"
    assert i18n.tr("Guessed") == "Guessed"  # a fuzzy (unreviewed) translation is not shown
    assert i18n.tr("Not yet") == "Not yet"  # nor an empty one


def test_french_plural_counts_zero_and_one_as_singular(french):
    assert i18n.tr_n("{n} case", "{n} cases", 0).format(n=0) == "0 dossier"
    assert i18n.tr_n("{n} case", "{n} cases", 1).format(n=1) == "1 dossier"
    assert i18n.tr_n("{n} case", "{n} cases", 2).format(n=2) == "2 dossiers"


def test_french_numbers_take_a_decimal_comma_and_dates_day_first(french):
    assert i18n.number(1234.56, 1) == "1234,6"
    assert i18n.number(-0.5, 2) == "-0,50"
    assert i18n.number(3, 0) == "3"
    assert i18n.date_text(dt.date(2026, 12, 7)) == "07/12/2026"
    assert i18n.date_text("2026-03-12T10:00:00") == "12/03/2026"
    assert i18n.date_text("not a date") == "not a date"


def test_the_language_reaches_worker_processes_through_the_environment(monkeypatch):
    monkeypatch.delenv(i18n.ENV, raising=False)
    assert i18n.set_language("fr") == "fr"
    import os

    assert os.environ[i18n.ENV] == "fr"
    assert i18n.set_language("klingon") in i18n.LANGUAGES  # unknown: the system's
    i18n.set_language("en")


@pytest.mark.parametrize(
    ("variables", "expected"),
    [({"LANG": "fr_FR.UTF-8"}, "fr"), ({"LC_ALL": "fr_CA.UTF-8", "LANG": "en_GB.UTF-8"}, "fr"),
     ({"LANG": "de_DE.UTF-8"}, "en"), ({"LANG": "C.UTF-8"}, "en"), ({}, "en")],
)
def test_the_system_language_comes_from_the_locale_variables(monkeypatch, variables, expected):
    for name in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert i18n.system_language() == expected


def test_a_damaged_catalogue_leaves_english_and_a_log_line(tmp_path, monkeypatch, caplog):
    po = tmp_path / "fr.po"
    po.write_bytes(b'msgid "Open case"\nmsgstr "\xff\xfe unterminated')
    monkeypatch.setattr(i18n, "platform_catalogue_files", lambda lang: [po])
    monkeypatch.setattr(i18n, "twin_catalogues", lambda lang: {})
    i18n.reload()
    i18n.set_language("fr")
    try:
        with caplog.at_level(logging.WARNING):
            assert i18n.tr("Open case") == "Open case"
        assert "unreadable" in caplog.text
    finally:
        i18n.set_language("en")
        i18n.reload()


def test_the_pseudo_language_marks_and_records_what_went_through_tr():
    i18n.set_language(i18n.PSEUDO)
    try:
        assert i18n.tr("Open case") == "⟦Open case⟧"
        assert "Open case" in i18n.seen()
    finally:
        i18n.set_language("en")


def test_every_installed_twin_brings_its_own_french_catalogue():
    from meditwin_desktop.core.registry import discover

    files = {p.parent.parent.name for p in i18n.twin_catalogues("fr").values()}
    assert set(discover().twins) <= files


def test_a_twin_reads_its_own_words_first_and_the_platform_its_own(tmp_path, monkeypatch):
    platform, twin = tmp_path / "platform.po", tmp_path / "twin.po"
    platform.write_text('msgid "none"\nmsgstr "aucun"\n', encoding="utf-8")
    twin.write_text('msgid "none"\nmsgstr "néant"\n\nmsgid "Dose"\nmsgstr "Posologie"\n',
                    encoding="utf-8")
    monkeypatch.setattr(i18n, "platform_catalogue_files", lambda lang: [platform])
    monkeypatch.setattr(i18n, "twin_catalogues", lambda lang: {"meditwin_twins.fake": twin})
    i18n.reload()
    i18n.set_language("fr")
    try:
        in_twin: dict = {"__name__": "meditwin_twins.fake.model", "tr": i18n.tr}
        exec("words = tr('none'), tr('Dose')", in_twin)
        assert in_twin["words"] == ("néant", "Posologie")
        assert i18n.tr("none") == "aucun"  # the platform's own word
        assert i18n.tr("Dose") == "Posologie"  # a twin's declaration shown by the platform
    finally:
        i18n.set_language("en")
        i18n.reload()


def test_plot_ticks_take_the_decimal_comma_in_french(french):
    from matplotlib.figure import Figure

    from meditwin_desktop.core.result_plots import localise_ticks

    figure = Figure()
    axes = figure.add_subplot()
    axes.plot([0.0, 0.5, 1.0, 1.5], [0.25, 0.5, 0.75, 1.0])
    localise_ticks(figure)
    figure.canvas.draw()
    labels = [t.get_text() for t in axes.get_xticklabels() if t.get_text()]
    assert any("," in t for t in labels) and not any("." in t for t in labels), labels


@pytest.mark.parametrize("demo", ["fh-patient", "neonate-hlhs", "dravet-child"])
def test_switching_language_leaves_the_runs_up_to_date(demo):
    """The input hash (what makes a run out of date) does not depend on the language."""
    from meditwin_desktop.core.registry import discover
    from meditwin_desktop.core.runner import input_hash
    from meditwin_desktop.core.twin_case import view_of
    from meditwin_desktop.demo.case import demo_case

    case = demo_case(demo)
    fitting = [t for t in discover().twins.values() if not t.missing(case)]
    assert fitting
    for twin in fitting:
        digests = []
        for language in ("en", "fr"):
            i18n.set_language(language)
            digests.append(input_hash(twin.prepare(view_of(case))))
        i18n.set_language("en")
        assert digests[0] == digests[1], twin.id
