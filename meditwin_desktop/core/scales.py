"""The range each clinical score can take: a value outside it is a typing error, refused
where it is entered (the measurement form, a CSV import) and by the twins that read it.

    score_problem("MMSE", 35, "points")  -> "MMSE 35 is outside its scale (0-30)."

Scales' own definitions: MMSE (Folstein 1975), 0-30; CDR-SB (Morris 1993), 6 boxes x 3 =
0-18; ADAS-Cog 13 (Mohs 1997), 0-85; FAQ (Pfeffer 1982), 10 items x 3 = 0-30; RAVLT
immediate recall (Rey), 5 trials x 15 words = 0-75; E-Cog (Farias 2008), item means 1-4.
"""

from __future__ import annotations

import re

from meditwin_desktop.core.i18n import decimal_separator, tr

SCALES: dict[str, tuple[float, float]] = {
    "MMSE": (0.0, 30.0), "CDR-SB": (0.0, 18.0), "ADAS-Cog 13": (0.0, 85.0),
    "FAQ": (0.0, 30.0), "RAVLT": (0.0, 75.0), "E-Cog Subject": (1.0, 4.0),
    "E-Cog Study-partner": (1.0, 4.0),
}  # fmt: skip


def _key(name: str) -> str:
    return re.sub(r"[\s\-_]+", "", str(name)).lower()


_BY_KEY = {_key(name): (name, bounds) for name, bounds in SCALES.items()}


def score_range(name: str) -> tuple[float, float] | None:
    """The (lowest, highest) a score named `name` can take (case, spaces, hyphens and
    underscores ignored); None for a measure that is not a known score."""
    found = _BY_KEY.get(_key(name))
    return found[1] if found else None


def score_problem(name: str, value: float, unit: str) -> str:
    """'' when `value` can be a `name` score in `unit`, else why not (only scores in points
    are checked; other units are the units table's business)."""
    bounds = score_range(name)
    if bounds is None or unit != "points" or bounds[0] <= value <= bounds[1]:
        return ""
    def shown(number: float) -> str:
        return f"{number:g}".replace(".", decimal_separator())

    return tr("{name} {value} is outside its scale ({low}-{high}).").format(
        name=tr(name), value=shown(value), low=shown(bounds[0]), high=shown(bounds[1])
    )
