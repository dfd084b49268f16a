"""Access to files in `resources/` (installed as `meditwin_desktop.resources`)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def preset(name: str) -> dict[str, Any]:
    """A JSON preset file from resources/presets, without its `_about` entry."""
    text = resources.files("meditwin_desktop.resources").joinpath("presets", f"{name}.json")
    data = json.loads(text.read_text(encoding="utf-8"))
    return {key: value for key, value in data.items() if not key.startswith("_")}


def icon_path(name: str) -> str:
    """Filesystem path of an icon in resources/icons."""
    return str(resources.files("meditwin_desktop.resources").joinpath("icons", name))
