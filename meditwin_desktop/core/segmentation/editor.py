"""Edits of a label map with undo and redo.

Each edit stores only the voxels it changed (flat indices, old and new values), so
undoing a brush stroke on a 500-slice CT costs kilobytes, not a copy of the volume.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import tr
from meditwin_desktop.core.imaging.volume import Label, LabelMap, Volume


def _bounding_box(mask: np.ndarray) -> tuple[slice, ...] | None:
    """The smallest box holding every True voxel (None if there is none)."""
    box = []
    for axis in range(mask.ndim):
        others = tuple(a for a in range(mask.ndim) if a != axis)
        hits = np.flatnonzero(mask.any(axis=others))
        if hits.size == 0:
            return None
        box.append(slice(int(hits[0]), int(hits[-1]) + 1))
    return tuple(box)


_PALETTE = [
    (230, 90, 80),
    (90, 170, 230),
    (240, 200, 60),
    (120, 200, 110),
    (200, 120, 220),
    (250, 150, 50),
    (80, 210, 200),
    (220, 220, 220),
]


@dataclass(frozen=True)
class EditPolicy:
    """Which voxels the tools may give a label (Slicer's "editable area" and "modify other
    segments"): unlabelled ones; with `overwrite` any label's too; with `inside` only those
    of label `inside`. Voxels of a `locked` label (used by a twin, not unlocked by the user)
    are never taken, whatever else is set."""

    overwrite: bool = False
    inside: int | None = None
    locked: frozenset[int] = frozenset()

    def allowed(self, current: np.ndarray, value: int) -> np.ndarray:
        """Where voxels with the labels `current` may become `value`."""
        if self.inside is not None:
            ok = current == self.inside
        elif self.overwrite:
            ok = current != value
        else:
            ok = current == 0
        locked = [v for v in self.locked if v != value]
        if locked:
            ok &= ~np.isin(current, locked)
        return ok & (current != value)


@dataclass(frozen=True)
class Edit:
    """One undoable change: which voxels, and their values before and after.

    `where` is either flat indices (sparse edits such as brush dabs) or a tuple of slices,
    the bounding box of a dense edit (thresholds, growing), stored as two sub-arrays.
    """

    description: str
    where: np.ndarray | tuple[slice, ...]
    before: np.ndarray
    after: np.ndarray

    @property
    def nbytes(self) -> int:
        index = self.where.nbytes if isinstance(self.where, np.ndarray) else 0
        return index + self.before.nbytes + self.after.nbytes

    def apply(self, array: np.ndarray, values: np.ndarray) -> None:
        """Write `values` (before or after) back where this edit acted."""
        if isinstance(self.where, np.ndarray):
            array.reshape(-1)[self.where] = values
        else:
            array[self.where] = values


class LabelEditor:
    """Owns a label map being edited; every voxel change goes through here."""

    def __init__(self, labels: LabelMap, undo_budget_bytes: int = 512 * 2**20) -> None:
        self.labels = labels
        self._undo: list[list[Edit]] = []  # each entry: one user action (a stroke = many dabs)
        self._redo: list[list[Edit]] = []
        self._group: list[Edit] | None = None
        self._budget = undo_budget_bytes

    @classmethod
    def empty_for(cls, image: Volume) -> LabelEditor:
        """An editor on a new, empty label map on `image`'s grid."""
        array = np.zeros(image.shape, np.uint8)
        return cls(LabelMap(Volume(array, image.affine.copy(), {"source": "edited"}), {}))

    @property
    def array(self) -> np.ndarray:
        return self.labels.volume.array

    # -- labels ------------------------------------------------------------------
    def add_label(self, name: str, color: tuple[int, int, int] | None = None) -> Label:
        """A new label with the next free value."""
        name = name.strip()
        if not name:
            raise InputError(tr("A label needs a name."))
        if any(label.name.lower() == name.lower() for label in self.labels.labels.values()):
            raise InputError(tr("There is already a label called '{name}'.").format(name=name))
        value = max(self.labels.labels, default=0) + 1
        if value > np.iinfo(self.array.dtype).max:
            self._widen()
        color = color or _PALETTE[(value - 1) % len(_PALETTE)]
        label = Label(value, name, tuple(int(c) for c in color))
        self.labels.labels[value] = label
        return label

    def rename(self, value: int, name: str) -> None:
        """Rename a label (names stay unique)."""
        name = name.strip()
        if not name:
            raise InputError(tr("A label needs a name."))
        if any(
            v != value and lab.name.lower() == name.lower() for v, lab in self.labels.labels.items()
        ):
            raise InputError(tr("There is already a label called '{name}'.").format(name=name))
        old = self.labels.labels[value]
        self.labels.labels[value] = Label(value, name, old.color)

    def recolor(self, value: int, color: tuple[int, int, int]) -> None:
        """Change a label's display colour."""
        old = self.labels.labels[value]
        self.labels.labels[value] = Label(value, old.name, tuple(int(c) for c in color))

    def remove_label(self, value: int) -> None:
        """Delete a label and clear its voxels (the clearing can be undone)."""
        name = self.labels.labels[value].name
        self.set_voxels(self.array == value, 0, tr("delete {name}").format(name=name))
        del self.labels.labels[value]

    def _widen(self) -> None:
        volume = self.labels.volume
        self.labels.volume = Volume(volume.array.astype(np.uint16), volume.affine, volume.meta)

    # -- voxels --------------------------------------------------------------------
    def paint(
        self,
        mask: np.ndarray,
        value: int,
        *,
        overwrite: bool = False,
        description: str = "paint",
        policy: EditPolicy | None = None,
    ) -> int:
        """Give `value` to the voxels of `mask` that `policy` allows (without a policy:
        unlabelled ones, or any with `overwrite`)."""
        policy = policy or EditPolicy(overwrite=overwrite)
        box = _bounding_box(mask)
        if box is None:
            return 0
        target = np.zeros_like(mask)
        target[box] = mask[box] & policy.allowed(self.array[box], value)
        return self.set_voxels(target, value, description)

    def erase(self, mask: np.ndarray, value: int | None = None, description: str = "erase") -> int:
        """Clear the voxels of `mask` (only those of label `value`, if given)."""
        target = mask & (self.array == value) if value is not None else mask & (self.array != 0)
        return self.set_voxels(target, 0, description)

    def replace(
        self,
        value: int,
        mask: np.ndarray,
        description: str,
        overwrite: bool = False,
        policy: EditPolicy | None = None,
    ) -> int:
        """Make label `value` exactly `mask`, taking only voxels `policy` allows (without a
        policy: unlabelled ones, or any with `overwrite`)."""
        policy = policy or EditPolicy(overwrite=overwrite)
        current = self.array == value
        grow = mask & policy.allowed(self.array, value)
        shrink = current & ~mask
        new = np.where(grow, value, 0).astype(self.array.dtype)
        return self._commit(grow | shrink, new, description)

    def set_voxels(self, mask: np.ndarray, value: int, description: str) -> int:
        """Set `value` on the voxels of `mask`; return how many changed."""
        changed = mask & (self.array != value)
        return self._commit(changed, value, description)

    def paint_at(
        self,
        index: tuple[np.ndarray, ...],
        value: int,
        *,
        overwrite: bool = False,
        description: str = "brush",
        policy: EditPolicy | None = None,
    ) -> int:
        """Give `value` to voxels at (k, j, i) index arrays that `policy` allows (without a
        policy: unlabelled ones, or any with `overwrite`)."""
        policy = policy or EditPolicy(overwrite=overwrite)
        flat_index = np.ravel_multi_index(index, self.array.shape)
        current = self.array.reshape(-1)[flat_index]
        keep = policy.allowed(current, value)
        return self._commit_flat(flat_index[keep], value, description)

    def erase_at(
        self, index: tuple[np.ndarray, ...], value: int, description: str = "erase"
    ) -> int:
        """Clear the voxels of label `value` at (k, j, i) index arrays (others are kept)."""
        flat_index = np.ravel_multi_index(index, self.array.shape)
        keep = self.array.reshape(-1)[flat_index] == value
        return self._commit_flat(flat_index[keep], 0, description)

    def begin_stroke(self, description: str) -> None:
        """Start grouping edits into one undo step (a brush stroke)."""
        self._group = []
        self._group_description = description

    def end_stroke(self) -> None:
        """Close the current group; it undoes as one step."""
        group, self._group = self._group, None
        if group:
            self._push(group)

    def _commit(self, changed: np.ndarray, new, description: str) -> int:
        """Set `new` (a value, or an array as large as `array`) where `changed` holds."""
        box = _bounding_box(changed)
        if box is None:
            return 0
        count = int(changed[box].sum())
        if count * 8 < changed[box].size:  # sparse: flat indices are smaller than a box
            index = np.flatnonzero(changed)
            values = np.asarray(new).reshape(-1)[index] if np.ndim(new) else new
            return self._commit_flat(index, values, description)
        before = self.array[box].copy()
        after = np.where(changed[box], new[box] if np.ndim(new) else new, before).astype(
            before.dtype
        )
        self.array[box] = after
        self._record(Edit(description, box, before, after))
        return count

    def _commit_flat(self, index: np.ndarray, new, description: str) -> int:
        if index.size == 0:
            return 0
        flat = self.array.reshape(-1)
        before = flat[index].copy()
        after = np.broadcast_to(np.asarray(new, dtype=flat.dtype), index.shape).copy()
        flat[index] = after
        self._record(Edit(description, index, before, after))
        return int(index.size)

    def _record(self, edit: Edit) -> None:
        if self._group is not None:
            self._group.append(edit)
        else:
            self._push([edit])

    def _push(self, group: list[Edit]) -> None:
        self._undo.append(group)
        self._redo.clear()
        while len(self._undo) > 1 and sum(e.nbytes for g in self._undo for e in g) > self._budget:
            self._undo.pop(0)

    # -- history --------------------------------------------------------------------
    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> str | None:
        """Revert the last action; return its description."""
        if not self._undo:
            return None
        group = self._undo.pop()
        for edit in reversed(group):
            edit.apply(self.array, edit.before)
        self._redo.append(group)
        return group[0].description

    def redo(self) -> str | None:
        """Re-apply the last undone action; return its description."""
        if not self._redo:
            return None
        group = self._redo.pop()
        for edit in group:
            edit.apply(self.array, edit.after)
        self._undo.append(group)
        return group[0].description
