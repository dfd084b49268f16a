"""PS3.15 Table E.1-1 (Basic Profile actions per attribute), as data from `dicom-anonymizer`.

The `dicom-anonymizer` package (Kitware, BSD-3) ships the table of several editions of the
standard as Python lists of tags, one list per action; we read the newest and use our own
engine (`profile.py`). Actions: D dummy, Z empty, X remove, U new UID, and the conditional
Z/D, X/Z, X/D, X/Z/D, X/Z/U* (which of them depends on the attribute's type in the IOD).
"""

from __future__ import annotations

import functools
import pkgutil

Masked = tuple[int, int, int, int, str]  # group, element, group mask, element mask, action

_CATEGORIES = {"D_TAGS": "D", "Z_TAGS": "Z", "X_TAGS": "X", "U_TAGS": "U", "Z_D_TAGS": "Z/D",
               "X_Z_TAGS": "X/Z", "X_D_TAGS": "X/D", "X_Z_D_TAGS": "X/Z/D",
               "X_Z_U_STAR_TAGS": "X/Z/U*"}  # fmt: skip


@functools.cache
def annex_e_table() -> tuple[str, dict[int, str], tuple[Masked, ...]]:
    """(edition, {tag as int: action}, masked entries for repeating groups such as overlays
    (60xx,3000) and curves (50xx,xxxx)), from the newest edition the package ships."""
    from dicomanonymizer import dicom_anonymization_databases as databases
    from dicomanonymizer.dicomfields_selector import dicom_anonymization_database_selector

    names = [m.name for m in pkgutil.iter_modules(databases.__path__)]
    edition = max(n for n in names if n.startswith("dicomfields_"))
    tables = dicom_anonymization_database_selector(edition)
    actions: dict[int, str] = {}
    masked: list[Masked] = []
    for category, action in _CATEGORIES.items():
        for tag in tables[category]:
            if len(tag) == 2:
                actions[(tag[0] << 16) | tag[1]] = action
            else:
                masked.append((*tag, action))
    return edition.removeprefix("dicomfields_"), actions, tuple(masked)


def action_for(tag: int) -> str | None:
    """The Basic Profile action for `tag` (None: not listed, i.e. kept)."""
    _, actions, masked = annex_e_table()
    action = actions.get(int(tag))
    if action is not None:
        return action
    group, element = int(tag) >> 16, int(tag) & 0xFFFF
    for g, e, group_mask, element_mask, entry in masked:
        if (group & group_mask) == (g & group_mask) and (element & element_mask) == (
            e & element_mask
        ):
            return entry
    return None
