"""Which labels a twin reads: those are protected from editing by default.

A label is used by a twin when one of the twin's label requirements names it, or when the
twin's `prepare` treats it differently from an anonymous label: the twin is probed on a
tiny case (one voxel per label) with that label renamed, and the digest of its inputs
compared (`core.runner.input_hash`). So the liver twin's 'tumour 2' and 'portal vein'
(recognised by words in their names) are found without the twin listing them, and a
'kidney' it treats as any other tissue is not. Twins without a label requirement read no
labels and are not probed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from meditwin_desktop.core.case import Case
from meditwin_desktop.core.i18n import tr, tr_n
from meditwin_desktop.core.imaging.volume import Label, LabelMap, Volume
from meditwin_desktop.core.runner import input_hash
from meditwin_desktop.core.twin import Twin, view_of

_ANONYMOUS = "zz anonymous structure"
_cache: dict[tuple, frozenset[int]] = {}


@dataclass(frozen=True)
class Protection:
    """The labels of a case that twins use: value -> titles of the twins using it, and
    how many results of each twin the case holds (they go out of date with an edit)."""

    users: Mapping[int, tuple[str, ...]]
    runs: Mapping[str, int]

    def __contains__(self, value: object) -> bool:
        return value in self.users

    def describe(self, value: int) -> str:
        """ "Liver ablation (3 results)" for the twins using label `value`."""
        parts = []
        for title in self.users.get(value, ()):
            count = self.runs.get(title, 0)
            shown = tr(title)  # a twin's title, declared in English
            parts.append(
                tr_n("{title} ({n} result)", "{title} ({n} results)", count).format(
                    title=shown, n=count
                )
                if count
                else shown
            )
        return ", ".join(parts)


def _label_names(labels: LabelMap | None) -> dict[int, str]:
    return {v: lab.name for v, lab in labels.labels.items()} if labels is not None else {}


def _probe(twin: Twin, names: Mapping[int, str]) -> str:
    """The digest of the twin's inputs on a case of one voxel per label."""
    values = sorted(names)
    size = len(values) + 1
    dtype = np.uint8 if max(values, default=0) < 256 else np.uint16
    array = np.array([[[0, *values]]], dtype)
    image = Volume(np.zeros((1, 1, size), np.float32), np.eye(4), {"modality": "CT"})
    table = {v: Label(v, n, (128, 128, 128)) for v, n in names.items()}
    case = Case("probe", image=image, labels=LabelMap(Volume(array, np.eye(4)), table))
    return input_hash(twin.prepare(view_of(case)))


def labels_used_by(twin: Twin, names: Mapping[int, str]) -> frozenset[int]:
    """Values of the labels `twin` reads among `names` (value -> name)."""
    wanted = {r.what.lower() for r in twin.requirements if r.kind == "label"}
    if not wanted:
        return frozenset()
    key = (twin.id, twin.version, tuple(sorted(names.items())))
    if key in _cache:
        return _cache[key]
    used = {v for v, name in names.items() if name.lower() in wanted}
    try:
        reference = _probe(twin, names)
    except Exception:  # a twin that cannot run on the probe: its named labels only
        reference = None
    if reference is not None:
        for value in names:
            try:
                if _probe(twin, {**names, value: _ANONYMOUS}) != reference:
                    used.add(value)
            except Exception:  # the twin cannot do without it
                used.add(value)
    _cache[key] = frozenset(used)
    return _cache[key]


def protected_labels(
    twins: Iterable[Twin], case: Case | None, labels: LabelMap | None
) -> Protection:
    """The labels of `labels` (the case's active study's, being edited) used by the twins
    that concern the case: those with results on it, or whose label requirements it meets."""
    names = _label_names(labels)
    lower = {n.lower() for n in names.values()}
    users: dict[int, list[str]] = {}
    runs: dict[str, int] = {}
    for twin in twins:
        count = len(case.runs.get(twin.id, [])) if case is not None else 0
        meets = any(r.kind == "label" and r.what.lower() in lower for r in twin.requirements)
        if not (count or meets):
            continue
        runs[twin.title] = count
        for value in labels_used_by(twin, names):
            users.setdefault(value, []).append(twin.title)
    return Protection({v: tuple(t) for v, t in users.items()}, runs)
