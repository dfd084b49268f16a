"""The state the views share: volume, labels (and their editor), cursor, window, tools.

Views and panels listen to the signals; nothing here draws or computes heavily.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal

from meditwin_desktop.core.imaging.volume import LabelMap, Volume
from meditwin_desktop.core.segmentation.editor import EditPolicy, LabelEditor

TOOLS = ("navigate", "paint", "erase", "ruler", "roi")


@dataclass
class Ruler:
    """A distance measured between two LPS points (mm)."""

    start: np.ndarray
    end: np.ndarray

    @property
    def length_mm(self) -> float:
        return float(np.linalg.norm(self.end - self.start))


class Scene(QObject):
    """What is shown, independent of how: every view listens to these signals."""

    volume_changed = Signal()
    data_changed = Signal()  # the open volume's voxels changed in place (e.g. still loading)
    labels_changed = Signal()  # label voxels, names or colours changed (or a new label map)
    labels_replaced = Signal()  # a label map was set (shown), just before labels_changed
    active_label_changed = Signal()
    cursor_changed = Signal()
    window_changed = Signal()
    overlay_changed = Signal()
    preview_changed = Signal()
    tool_changed = Signal()
    measurements_changed = Signal()
    edit_refused = Signal(int)  # a tool was refused a locked label (value): ask to unlock it

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.volume: Volume | None = None
        self.editor: LabelEditor | None = None
        self.active_label: int | None = None
        self.cursor = np.zeros(3)  # LPS mm
        self.window = (40.0, 400.0)  # (level/centre, width) in the volume's units
        self.overlay_opacity = 0.35
        self.overlay_visible = True
        self.hidden_labels = {"body"}  # names not drawn in the overlay or in 3D
        self.preview_range: tuple[float, float] | None = None  # threshold preview on slices
        self.tool = "navigate"
        self.brush_radius_mm = 5.0
        self.overwrite = False  # painting tools may take voxels from other labels
        self.edit_inside: int | None = None  # tools edit only voxels of this label
        self.locked_labels: set[int] = set()  # used by a twin: not edited unless unlocked
        self.preview_mask: Volume | None = None  # e.g. region growing, before it is applied
        self.rulers: list[Ruler] = []

    @property
    def labels(self) -> LabelMap | None:
        """The label map shown (the one being edited)."""
        return self.editor.labels if self.editor is not None else None

    def set_volume(self, volume: Volume | None) -> None:
        """Show a new volume: cursor to its centre, window from the header or its values.

        None empties the views (a case with clinical data only).
        """
        self.volume = volume
        self.editor = None
        self.active_label = None
        self.preview_range = None
        self.preview_mask = None
        self.edit_inside = None
        self.rulers = []
        if volume is not None:
            nk, nj, ni = volume.shape
            self.cursor = volume.index_to_lps(np.array([ni // 2, nj // 2, nk // 2], float))
            self.window = volume.meta.get("window") or _auto_window(volume.array)
        for signal in (
            self.labels_changed,
            self.active_label_changed,
            self.volume_changed,
            self.window_changed,
            self.cursor_changed,
            self.measurements_changed,
        ):
            signal.emit()

    def auto_window(self) -> tuple[float, float]:
        """Window from the open volume's 1st-99th percentiles (MR: 'auto from histogram')."""
        return _auto_window(self.volume.array) if self.volume is not None else self.window

    def set_labels(self, labels: LabelMap | None) -> None:
        """Show (and edit) a label map on the open volume's grid."""
        self.editor = LabelEditor(labels) if labels is not None else None
        self.edit_inside = None
        self.preview_mask = None
        # the label under the crosshair, or none: never the first one just for being first
        under = self.label_at(self.cursor) if labels is not None else None
        self.active_label = (
            labels.by_name(under).value if under and under not in self.hidden_labels else None
        )
        self.labels_replaced.emit()
        self.labels_changed.emit()
        self.active_label_changed.emit()

    def ensure_editor(self) -> LabelEditor:
        """The editor, on a new empty label map if there is none yet."""
        if self.editor is None:
            if self.volume is None:
                raise RuntimeError("no volume open")
            self.editor = LabelEditor.empty_for(self.volume)
        return self.editor

    def set_active_label(self, value: int | None) -> None:
        """Choose the label the tools paint with."""
        if value != self.active_label:
            self.active_label = value
            self.active_label_changed.emit()

    def set_cursor(self, lps: np.ndarray) -> None:
        """Move the linked crosshair (LPS mm), clamped to the volume."""
        lps = np.asarray(lps, float)
        if self.volume is not None:
            nk, nj, ni = self.volume.shape
            ijk = np.clip(self.volume.lps_to_index(lps), 0, [ni - 1, nj - 1, nk - 1])
            lps = self.volume.index_to_lps(ijk)
        if not np.allclose(lps, self.cursor):
            self.cursor = lps
            self.cursor_changed.emit()

    def set_window(self, level: float, width: float) -> None:
        """Change window level and width (width at least 1)."""
        self.window = (float(level), max(float(width), 1.0))
        self.window_changed.emit()

    def set_overlay_visible(self, visible: bool) -> None:
        """Show or hide the label overlay on the slice views."""
        self.overlay_visible = visible
        self.overlay_changed.emit()

    def set_preview(self, value_range: tuple[float, float] | None) -> None:
        """Highlight voxels within a value range on the slices (threshold preview)."""
        self.preview_range = value_range
        self.preview_changed.emit()

    def set_preview_mask(self, mask: Volume | None) -> None:
        """Show a mask (on the volume's grid) as the preview on the slices, or none."""
        self.preview_mask = mask
        self.preview_changed.emit()

    def edit_policy(self) -> EditPolicy:
        """Which voxels the tools may take now (options of the segmentation panel)."""
        return EditPolicy(self.overwrite, self.edit_inside, frozenset(self.locked_labels))

    def set_tool(self, tool: str) -> None:
        """What a left-drag on a slice does: navigate, paint, erase, ruler or roi."""
        if tool not in TOOLS:
            raise ValueError(tool)
        self.tool = tool
        self.tool_changed.emit()

    def add_ruler(self, ruler: Ruler) -> None:
        """Keep a distance measurement (shown on slices and in 3D)."""
        self.rulers.append(ruler)
        self.measurements_changed.emit()

    def clear_rulers(self) -> None:
        """Remove every distance measurement."""
        self.rulers = []
        self.measurements_changed.emit()

    def value_at(self, lps: np.ndarray) -> float | None:
        """Voxel value at an LPS position (nearest voxel), None outside the volume."""
        if self.volume is None:
            return None
        ijk = self.volume.lps_to_index(lps)
        if not self.volume.contains_index(ijk):
            return None
        i, j, k = np.round(ijk).astype(int)
        if not self.slice_read(k):
            return None
        return float(self.volume.array[k, j, i])

    def slice_read(self, k: int) -> bool:
        """Whether slice k of the volume has been read (a series still loading shows its
        slices as they come; the others hold no value yet)."""
        decoded = self.volume.meta.get("decoded") if self.volume is not None else None
        return decoded is None or not 0 <= k < len(decoded) or bool(decoded[k])

    def slices_unread(self) -> int:
        """How many slices of the volume are still being read (0 when it is complete)."""
        decoded = self.volume.meta.get("decoded") if self.volume is not None else None
        return 0 if decoded is None else int(len(decoded) - np.count_nonzero(decoded))

    def label_at(self, lps: np.ndarray) -> str | None:
        """Name of the label at an LPS position, if any."""
        if self.labels is None:
            return None
        grid = self.labels.volume
        ijk = grid.lps_to_index(lps)
        if not grid.contains_index(ijk):
            return None
        i, j, k = np.round(ijk).astype(int)
        label = self.labels.labels.get(int(grid.array[k, j, i]))
        return label.name if label else None


def _auto_window(array: np.ndarray) -> tuple[float, float]:
    """Window from the 1st-99th percentile of a subsample of the values."""
    sample = array.ravel()[:: max(1, array.size // 200_000)]
    lo, hi = np.percentile(sample, [1, 99])
    return float((lo + hi) / 2), float(max(hi - lo, 1.0))
