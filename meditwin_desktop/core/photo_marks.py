"""Vessels a clinician marked on a fundus photograph as artery or vein (a right-click on the
photograph), kept in the case's clinical form as text the user can also read and edit:
'2026-02-10 412,380: vein; 2026-02-10 220,610: artery' (the photograph's date, then the row
and column of its pixel). A mark without a date applies to every photograph.

The automatic artery/vein labels of a fundus analysis can be wrong; a mark overrides the
label of the vessel under it (and of its tree) on the photograph it was made on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import tr

AV_MARKS_FIELD = "av_corrections"  # the clinical field that holds them
KINDS = ("artery", "vein")
_ALIASES = {"artery": "artery", "a": "artery", "vein": "vein", "v": "vein"}
_MARK = re.compile(
    r"^\s*(?:(\d{4}-\d{2}-\d{2})\s+)?(\d+(?:\.\d+)?)\s*[, ]\s*(\d+(?:\.\d+)?)\s*[:=]\s*(\w+)\s*$"
)
Mark = tuple[float, float, str, str]  # row, column, kind, photograph date ("" any)


def parse_av_marks(text: str | None) -> tuple[Mark, ...]:
    """'2026-02-10 412,380: vein; 220,610: artery' -> ((412.0, 380.0, 'vein', '2026-02-10'),
    (220.0, 610.0, 'artery', '')); InputError naming an entry that is not '[date] row,
    column: artery|vein'."""
    found = []
    for entry in filter(str.strip, re.split(r"[;\n]", text or "")):
        match = _MARK.match(entry)
        kind = _ALIASES.get(match.group(4).lower()) if match else None
        if match is None or kind is None:
            raise InputError(
                tr("Artery/vein mark '{mark}' is not '[date] row, column: artery' or "
                   "'[date] row, column: vein' (pixels of the photograph of that date).").format(
                    mark=entry.strip())
            )  # fmt: skip
        found.append((float(match.group(2)), float(match.group(3)), kind, match.group(1) or ""))
    return tuple(found)


def marks_on(marks: Sequence[Mark], date: str) -> list[Mark]:
    """The marks that apply to the photograph of `date` (its own and the undated ones)."""
    return [m for m in marks if m[3] in ("", str(date)[:10])]


def format_av_marks(marks: Sequence[Mark]) -> str:
    """The inverse of `parse_av_marks`."""
    return "; ".join(f"{d + ' ' if d else ''}{r:.0f},{c:.0f}: {k}" for r, c, k, d in marks)


def add_av_mark(text: str | None, row: float, col: float, kind: str, date: str = "") -> str:
    """`text` with a mark added on the photograph of `date`; an earlier mark of that
    photograph within 8 px of it is replaced."""
    if kind not in KINDS:
        raise InputError(tr("A vessel is marked as artery or vein, not '{kind}'.").format(
            kind=kind))  # fmt: skip
    kept = parse_av_marks(remove_av_mark(text, row, col, date))
    return format_av_marks([*kept, (float(row), float(col), kind, str(date)[:10])])


def remove_av_mark(
    text: str | None, row: float, col: float, date: str = "", within: float = 8.0
) -> str:
    """`text` without the marks of the photograph of `date` within `within` pixels of (row,
    col)."""
    marks = parse_av_marks(text)
    here = {m for m in marks_on(marks, date) if max(abs(m[0] - row), abs(m[1] - col)) <= within}
    return format_av_marks([m for m in marks if m not in here])
