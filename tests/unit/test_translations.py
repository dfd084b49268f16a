"""Every text the user reads is translatable, and translated into French.

- static: no user-visible literal outside `tr` in the application and the twins
  (tests/support/i18n_scan.py; the command line stays English, for IT staff);
- every `tr`/`tr_n`/`N_` text of the platform has a French translation in
  resources/translations/fr/, every twin's text in the twin's own translations/fr.po;
- every twin's declarations (title, parameters, choices, outcomes, clinical fields);
- the `{placeholders}` of a translation are those of its English text;
- the platform's catalogues never translate one text two ways.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from meditwin_desktop.core import i18n
from meditwin_desktop.core.registry import discover
from tests.support.i18n_catalogue import extract, python_files
from tests.support.i18n_scan import _is_linguistic, scan_files

ROOT = Path(__file__).resolve().parents[2]
PLATFORM = [ROOT / "meditwin_desktop" / "ui", ROOT / "meditwin_desktop" / "core"]
PLATFORM_FR = sorted((ROOT / "resources" / "translations" / "fr").glob("*.po"))
TWIN_DIRS = sorted(p for p in (ROOT / "twins").iterdir() if (p / "__init__.py").is_file())
# read by twin developers and IT staff only, through the command line (check-twin, verify)
ENGLISH_ONLY = {"twin_check.py", "verification.py"}


def _platform_fr() -> dict:
    merged: dict = {}
    for po in PLATFORM_FR:
        merged.update(i18n.read_po(po))
    return merged


def _twin_fr(folder: Path) -> dict:
    po = folder / "translations" / "fr.po"
    return i18n.read_po(po) if po.is_file() else {}


def test_no_user_visible_text_outside_tr():
    files = python_files(PLATFORM) + python_files(TWIN_DIRS)
    findings = scan_files([f for f in files
                           if not (f.name in ENGLISH_ONLY and f.parent.name == "core")])
    assert not findings, f"{len(findings)} texts not translatable:\n" + "\n".join(
        str(f) for f in findings[:60]
    )


def test_every_platform_text_has_a_french_translation():
    french = _platform_fr()
    missing = sorted({m.id if isinstance(m.id, str) else m.id[0] for m in extract(PLATFORM)}
                     - set(french) - {""})
    assert not missing, f"{len(missing)} without French:\n" + "\n".join(map(repr, missing[:60]))


@pytest.mark.parametrize("folder", TWIN_DIRS, ids=lambda p: p.name)
def test_every_twin_text_has_a_french_translation_of_its_own(folder):
    french = _twin_fr(folder)
    texts = {m.id if isinstance(m.id, str) else m.id[0] for m in extract([folder])} - {""}
    missing = sorted(texts - set(french))
    assert not missing, f"{len(missing)} without French:\n" + "\n".join(map(repr, missing[:60]))


def _declared_texts(twin) -> set[str]:
    texts = {twin.title, twin.question, twin.specialty, *twin.limitations}
    texts |= {r.why for r in twin.requirements}
    units = set()
    for p in twin.parameters:
        texts |= {p.label, p.help, *p.choice_labels}
        units.add(p.unit)
    for o in twin.outcomes:
        texts |= {o.label, o.help, o.absent, *getattr(o, "categories", ())}
        units.add(o.unit)
    for f in getattr(twin, "clinical_fields", ()):
        texts |= {f.label, f.help}
        units |= {f.unit, *f.alternatives}
    texts |= {u for u in units if u and _is_linguistic(u)}  # "years", not "mm"
    return {t for t in texts if t and re.search(r"[A-Za-z]{2}", t)}


@pytest.mark.parametrize("twin_id", sorted(discover().twins))
def test_every_twin_declaration_has_a_french_translation(twin_id):
    twin = discover().get(twin_id)
    folder = next((d for d in TWIN_DIRS if d.name == twin_id), None)
    french = {**_platform_fr(), **(_twin_fr(folder) if folder else {})}
    missing = sorted(_declared_texts(twin) - set(french))
    assert not missing, f"{len(missing)} without French:\n" + "\n".join(map(repr, missing[:60]))


def _fields(text: str) -> set[str]:
    return set(re.findall(r"\{([^{}]*)\}", text))


def _all_catalogues() -> list[Path]:
    return PLATFORM_FR + [d / "translations" / "fr.po" for d in TWIN_DIRS
                          if (d / "translations" / "fr.po").is_file()]


@pytest.mark.parametrize("po", _all_catalogues(), ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_translations_keep_the_placeholders(po):
    wrong = []
    for english, french in i18n.read_po(po).items():
        for form in french if isinstance(french, tuple) else (french,):
            if _fields(form) != _fields(english):
                wrong.append(f"{english!r} -> {form!r}")
    assert not wrong, "\n".join(wrong[:40])


def test_the_platform_never_translates_one_text_two_ways():
    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for po in PLATFORM_FR:
        for english, french in i18n.read_po(po).items():
            if english in seen and seen[english][0] != french:
                clashes.append(f"{english!r}: {seen[english][1]} {seen[english][0]!r} vs "
                               f"{po.name} {french!r}")
            seen.setdefault(english, (french, po.name))
    assert not clashes, "\n".join(clashes[:40])


def test_every_clinical_field_and_group_has_a_french_translation():
    from meditwin_desktop.core import clinical

    french = _platform_fr()
    for folder in TWIN_DIRS:
        french.update(_twin_fr(folder))
    texts = set(clinical.groups())
    for f in clinical.fields():
        texts |= {f.label, f.help, *f.choices}
        texts |= {u for u in (f.unit, *f.alternatives) if u and _is_linguistic(u)}
    texts = {t for t in texts if t and re.search(r"[A-Za-z]{2}", t)}
    missing = sorted(texts - set(french))
    assert not missing, f"{len(missing)} without French:\n" + "\n".join(map(repr, missing[:60]))


def test_shipped_presets_and_demo_titles_have_french_names():
    import json

    from meditwin_desktop.demo.case import DEMO_CASES

    french = _platform_fr()
    names = {spec["title"] for spec in DEMO_CASES.values() if spec.get("title")}
    for preset in ("window_level", "volume_rendering"):
        data = json.loads((ROOT / "resources" / "presets" / f"{preset}.json").read_text())
        names |= {name for name in data if not name.startswith("_")}
    assert not sorted(names - set(french))
