"""Find installed twins: the `meditwin.twins` entry-point group (plus MEDITWIN_EXTRA_TWINS).

A hospital installs a twin as a Python package declaring
`[project.entry-points."meditwin.twins"] my_twin = "my_package:TWIN"`. A plugin that fails
to import or does not honour the contract is reported (UI and log), never fatal.
`MEDITWIN_EXTRA_TWINS="module:ATTR,..."` adds twins without installing them (development,
tests).
"""

from __future__ import annotations

import importlib
import logging
import os
from dataclasses import dataclass
from importlib.metadata import entry_points

from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.twin import Twin

log = logging.getLogger(__name__)
GROUP = "meditwin.twins"


@dataclass
class Registry:
    """The twins found, by id, and one line per plugin that could not be used."""

    twins: dict[str, Twin]
    problems: list[str]

    def get(self, twin_id: str) -> Twin:
        """The twin with this id; KeyError naming the installed ones otherwise."""
        try:
            return self.twins[twin_id]
        except KeyError:
            known = ", ".join(sorted(self.twins)) or "none"
            raise KeyError(f"No twin '{twin_id}' is installed (installed: {known}).") from None


def _load(name: str, target: str) -> Twin:
    module_name, _, attribute = target.partition(":")
    obj = importlib.import_module(module_name)
    for part in (attribute or "TWIN").split("."):
        obj = getattr(obj, part)
    if not isinstance(obj, Twin):
        raise TypeError(f"{target} is a {type(obj).__name__}, not a meditwin Twin")
    if not callable(obj.simulate) or "<lambda>" in getattr(obj.simulate, "__qualname__", ""):
        raise TypeError("simulate must be a module-level function (it runs in another process)")
    return obj


def discover() -> Registry:
    """Every twin of the entry-point group and of MEDITWIN_EXTRA_TWINS."""
    targets = [(ep.name, ep.value) for ep in entry_points(group=GROUP)]
    extra = os.environ.get("MEDITWIN_EXTRA_TWINS", "")
    targets += [(t.strip(), t.strip()) for t in extra.split(",") if t.strip()]
    twins: dict[str, Twin] = {}
    problems: list[str] = []
    for name, target in targets:
        try:
            twin = _load(name, target)
        except Exception as error:  # a broken plugin must not take the application down
            message = (
                f"Twin plugin '{name}' ({target}) cannot be used: {type(error).__name__}: {error}"
            )
            log.warning(message)  # the log in English, the problem in the user's language
            message = tr("Twin plugin '{name}' ({target}) cannot be used: {error}").format(
                name=name, target=target, error=f"{type(error).__name__}: {error}"
            )
            log.debug("plugin failure details", exc_info=error)
            problems.append(message)
            continue
        if twin.id in twins:
            problems.append(
                tr("Twin plugin '{name}' repeats the id '{id}'; ignored.").format(
                    name=name, id=twin.id
                )
            )
            continue
        twins[twin.id] = twin
    return Registry(twins, problems)
