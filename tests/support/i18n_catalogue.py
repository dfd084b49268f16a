"""Keep a `.po` catalogue in step with the code (Babel's extractor and catalogue merge).

    python -m tests.support.i18n_catalogue update CATALOGUE.po FILE_OR_FOLDER...
        adds every `tr`/`tr_n`/`N_` text of the files (empty French to fill in), keeps the
        translations already there, and marks obsolete the texts no longer in the code
    python -m tests.support.i18n_catalogue missing CATALOGUE.po
        lists the texts that still have no translation (or a fuzzy one)
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

KEYWORDS = {"tr": None, "N_": None, "tr_n": (1, 2)}
HEADER = {"Plural-Forms": "nplurals=2; plural=(n > 1);"}


def python_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*.py") if "tests" not in p.parts)
        elif path.suffix == ".py":
            files.append(path)
    return files


def extract(paths: list[Path]) -> Catalog:
    """A template catalogue of every translatable text in `paths` (files or folders)."""
    template = Catalog(fuzzy=False)
    for file in python_files(paths):
        for lineno, message, comments, _context in extract_from_file(
            "python", str(file), keywords=KEYWORDS, strip_comment_tags=True
        ):
            template.add(message, locations=[(str(file), lineno)], auto_comments=comments)
    return template


def load(po: Path) -> Catalog:
    if po.is_file():
        with open(po, "rb") as handle:
            return read_po(handle, locale="fr")
    return Catalog(locale="fr", project="MEDITWIN Desktop", fuzzy=False)


def update(po: Path, paths: list[Path]) -> None:
    catalogue = load(po)
    catalogue.update(extract(paths), no_fuzzy_matching=True)
    po.parent.mkdir(parents=True, exist_ok=True)
    with open(po, "wb") as handle:
        write_po(handle, catalogue, width=100, omit_header=False, ignore_obsolete=True)


def missing(po: Path) -> list[str]:
    out = []
    for message in load(po):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            out.append(message.id if isinstance(message.id, str) else message.id[0])
    return out


if __name__ == "__main__":
    command, catalogue_path, *rest = sys.argv[1:]
    if command == "update":
        update(Path(catalogue_path), [Path(p) for p in rest])
    for text in missing(Path(catalogue_path)):
        print(repr(text))
