"""Vessels a clinician marked on a fundus photograph as artery or vein (a click on the
photograph), kept in the case's clinical form as text the user can also read and edit:
'412,380: vein; 220,610: artery' (row, column of the photograph's pixels).

The automatic artery/vein labels of a fundus analysis can be wrong; a mark overrides the
label of the vessel under it (and of its whole tree).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from meditwin_desktop.core.errors import InputError

AV_MARKS_FIELD = "av_corrections"  # the clinical field that holds them
KINDS = ("artery", "vein")
_ALIASES = {"artery": "artery", "a": "artery", "vein": "vein", "v": "vein"}
_MARK = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[, ]\s*(\d+(?:\.\d+)?)\s*[:=]\s*(\w+)\s*$")


def parse_av_marks(text: str | None) -> tuple[tuple[float, float, str], ...]:
    """'412,380: vein; 220,610: artery' -> ((412.0, 380.0, 'vein'), (220.0, 610.0,
    'artery')); InputError naming an entry that is not 'row, column: artery|vein'."""
    found = []
    for entry in filter(str.strip, re.split(r"[;\n]", text or "")):
        match = _MARK.match(entry)
        kind = _ALIASES.get(match.group(3).lower()) if match else None
        if match is None or kind is None:
            raise InputError(
                f"Artery/vein mark '{entry.strip()}' is not 'row, column: artery' or 'row, "
                "column: vein' (pixels of the photograph)."
            )
        found.append((float(match.group(1)), float(match.group(2)), kind))
    return tuple(found)


def format_av_marks(marks: Sequence[tuple[float, float, str]]) -> str:
    """The inverse of `parse_av_marks`."""
    return "; ".join(f"{row:.0f},{col:.0f}: {kind}" for row, col, kind in marks)


def add_av_mark(text: str | None, row: float, col: float, kind: str) -> str:
    """`text` with a mark added; an earlier mark within 8 px of it is replaced."""
    if kind not in KINDS:
        raise InputError(f"A vessel is marked as artery or vein, not '{kind}'.")
    kept = parse_av_marks(remove_av_mark(text, row, col))
    return format_av_marks([*kept, (float(row), float(col), kind)])


def remove_av_mark(text: str | None, row: float, col: float, within: float = 8.0) -> str:
    """`text` without the marks within `within` pixels of (row, col)."""
    kept = [m for m in parse_av_marks(text) if max(abs(m[0] - row), abs(m[1] - col)) > within]
    return format_av_marks(kept)
