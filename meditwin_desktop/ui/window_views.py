"""The main window's views: layouts, tools, window presets, the 3D view's modes and
overlays, cursor read-out, measurements, label surfaces and the user's view settings."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QSizePolicy

from meditwin_desktop.core.errors import MeditwinError
from meditwin_desktop.core.i18n import N_, number, tr
from meditwin_desktop.core.imaging.geometry import position_text
from meditwin_desktop.core.imaging.surfaces import label_surfaces
from meditwin_desktop.core.imaging.volume import Volume
from meditwin_desktop.core.paths import data_dir
from meditwin_desktop.ui.keyed_combo import KeyedComboBox
from meditwin_desktop.ui.resources import preset
from meditwin_desktop.ui.scene import Ruler
from meditwin_desktop.ui.slice_view import SliceView
from meditwin_desktop.ui.window_imaging import SURFACES_MODE

LAYOUTS = ("2 x 2", "1 x 3", "Axial", "Coronal", "Sagittal", "3D")  # keys (settings)
AUTO_WINDOW = "Auto (histogram)"
FROM_IMAGE = "From image"
# how the keys of the layouts, window presets and 3D modes read (translated where shown)
_LAYOUT_NAMES = {"Axial": N_("Axial"), "Coronal": N_("Coronal"), "Sagittal": N_("Sagittal")}
_WINDOW_NAMES = {FROM_IMAGE: N_("From image"), AUTO_WINDOW: N_("Auto (histogram)")}
_VOLUME = "Volume: "  # a volume rendering mode is this + the preset's name (a key)


def layout_name(key: str) -> str:
    """A layout as the user reads it."""
    return tr(_LAYOUT_NAMES.get(key, key))


def window_preset_name(key: str) -> str:
    """A window/level preset as the user reads it (preset names are translated too)."""
    return tr(_WINDOW_NAMES.get(key, key))


def render_mode_name(key: str) -> str:
    """A 3D mode ("Volume: CT bone", "Label surfaces") as the user reads it."""
    if key.startswith(_VOLUME):
        return tr("Volume: {preset}").format(preset=tr(key[len(_VOLUME) :]))
    return tr(key)


def settings() -> QSettings:
    """The user's settings, in the MEDITWIN data directory (tests give it a private one);
    Qt's default place when that folder cannot be used."""
    try:
        return QSettings(str(data_dir() / "settings.ini"), QSettings.Format.IniFormat)
    except OSError:
        return QSettings()


class ViewsMixin:
    """Layouts, tools and 3D display (mixed into `MainWindow`)."""

    @property
    def settings(self) -> QSettings:
        """The user's settings (see `settings`)."""
        return settings()

    def slice_views(self) -> list[SliceView]:
        """The three slice views."""
        return [self.axial, self.coronal, self.sagittal]

    def _build_view_tool_bar(self) -> None:
        toolbar = self.addToolBar(tr("View"))
        toolbar.setObjectName("view_toolbar")
        toolbar.addWidget(QLabel(tr(" Window: ")))
        self.window_presets = KeyedComboBox(window_preset_name)
        self.window_presets.setObjectName("window_presets")
        self.window_presets.addItems([FROM_IMAGE, AUTO_WINDOW])
        self.window_presets.addItems(list(preset("window_level")))
        self.window_presets.keyActivated.connect(self.apply_window_preset)
        toolbar.addWidget(self.window_presets)
        toolbar.addAction(self.overlay_action)
        toolbar.addSeparator()
        toolbar.addWidget(QLabel(tr(" 3D: ")))
        self.render_mode = KeyedComboBox(render_mode_name)
        self.render_mode.setObjectName("render_mode")
        self.render_mode.addItems([f"{_VOLUME}{name}" for name in preset("volume_rendering")])
        self.render_mode.keyActivated.connect(self.set_render_mode)
        toolbar.addWidget(self.render_mode)

    def _build_tool_bar(self) -> None:
        toolbar = self.addToolBar(tr("Tools"))
        toolbar.setObjectName("tools_toolbar")
        group = QActionGroup(self)
        self.tool_actions = {}
        for tool, text, tip in (
            ("navigate", N_("Crosshair"), N_("Left click moves the linked crosshair")),
            ("ruler", N_("Ruler"), N_("Drag on a slice to measure a distance (also shown in 3D)")),
            ("roi", N_("ROI"), N_("Drag a rectangle on a slice for its statistics")),
        ):
            action = QAction(tr(text), self, checkable=True)
            action.setToolTip(tr(tip))
            action.setChecked(tool == "navigate")
            action.triggered.connect(lambda _=False, t=tool: self.scene.set_tool(t))
            group.addAction(action)
            toolbar.addAction(action)
            self.tool_actions[tool] = action
        toolbar.addAction(tr("Clear rulers"), self.scene.clear_rulers)
        # Esc ends a tool anywhere in the window, as in Slicer; enabled only while a tool is
        # on, so it never takes Esc from an editor or a table cell otherwise
        self.escape_tool = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        self.escape_tool.setEnabled(False)
        self.escape_tool.activated.connect(lambda: self.scene.set_tool("navigate"))
        self.scene.tool_changed.connect(self._tool_changed)
        toolbar.addSeparator()
        toolbar.addWidget(QLabel(tr(" Layout: ")))
        self.layout_combo = KeyedComboBox(layout_name)
        self.layout_combo.setObjectName("layout_combo")
        self.layout_combo.addItems(LAYOUTS)
        self.layout_combo.keyActivated.connect(self.set_layout)
        toolbar.addWidget(self.layout_combo)
        toolbar.addSeparator()
        self.planes_action = QAction(tr("Slices in 3D"), self, checkable=True)
        self.planes_action.setToolTip(tr("Show the three slices in the 3D view"))
        self.planes_action.toggled.connect(self._planes_toggled)
        toolbar.addAction(self.planes_action)
        self.clip_actions = {}
        for name, text, tip in (
            ("axial", N_("Clip axial"), N_("Cut the 3D view at the axial slice")),
            ("coronal", N_("Clip coronal"), N_("Cut the 3D view at the coronal slice")),
            ("sagittal", N_("Clip sagittal"), N_("Cut the 3D view at the sagittal slice")),
        ):
            action = QAction(tr(text), self, checkable=True)
            action.setToolTip(tr(tip))
            action.toggled.connect(self._update_clipping)
            toolbar.addAction(action)
            self.clip_actions[name] = action

    def _attach_planning(self) -> None:
        """The ablation plan on the slice views and its summary in the twin panel."""
        from meditwin_desktop.ui.planning_controller import PlanningController

        self.planning = PlanningController(self)
        from meditwin_desktop.ui.result_markers import ResultMarkerController

        self.result_markers = ResultMarkerController(self)  # other twins' points and zones

    def _tool_changed(self) -> None:
        self.escape_tool.setEnabled(self.scene.tool != "navigate")
        action = self.tool_actions.get(self.scene.tool)
        for tool, other in self.tool_actions.items():
            other.setChecked(other is action or (action is None and tool == "navigate"))

    # -- layouts ----------------------------------------------------------------------------
    def set_layout(self, name: str) -> None:
        """Arrange the views: 2 x 2, 1 x 3 (the slices side by side) or one view alone."""
        if name not in LAYOUTS:
            return
        views = {
            "Axial": self.axial,
            "Coronal": self.coronal,
            "Sagittal": self.sagittal,
            "3D": self.view3d,
        }
        placement = {
            "2 x 2": [
                (self.axial, 0, 0),
                (self.view3d, 0, 1),
                (self.sagittal, 1, 0),
                (self.coronal, 1, 1),
            ],
            "1 x 3": [(self.axial, 0, 0), (self.coronal, 0, 1), (self.sagittal, 0, 2)],
        }.get(name, [(views.get(name), 0, 0)])
        for view in views.values():
            self._grid.removeWidget(view)
            view.hide()
        for row in range(3):
            self._grid.setRowStretch(row, 0)
            self._grid.setColumnStretch(row, 0)
        for view, row, column in placement:
            # Ignore the views' size hints so equal stretch means equal cells (the 3D widget
            # asks for more than the slice views and would otherwise squeeze them).
            view.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
            self._grid.addWidget(view, row, column)
            self._grid.setRowStretch(row, 1)
            self._grid.setColumnStretch(column, 1)
            view.show()
        self.layout_name = name
        self.layout_combo.setCurrentText(name)
        self.settings.setValue("layout", name)

    def _toggle_maximized(self, view: SliceView) -> None:
        alone = view.orientation.name.capitalize()
        self.set_layout("2 x 2" if self.layout_name == alone else alone)

    # -- 3D ---------------------------------------------------------------------------------
    def _planes_toggled(self, visible: bool) -> None:
        self.view3d.set_planes_visible(visible)
        self._update_3d_overlays()

    def _update_clipping(self) -> None:
        planes = {}
        for view in self.slice_views():
            name = view.orientation.name
            if self.clip_actions[name].isChecked() and view.plane() is not None:
                planes[name] = (view.plane().origin, np.asarray(view.orientation.normal, float))
        self.view3d.set_clipping(planes)

    def _update_3d_overlays(self) -> None:
        if self.scene.volume is None:
            return
        self.view3d.set_cursor(self.scene.cursor)
        if self.planes_action.isChecked():
            self.view3d.set_slice_planes(
                {
                    view.orientation.name: (view.plane(), view.display_image())
                    for view in self.slice_views()
                    if view.plane() is not None
                }
            )
        if any(action.isChecked() for action in self.clip_actions.values()):
            self._update_clipping()

    @staticmethod
    def _default_volume_preset(volume: Volume) -> str:
        ct = volume.meta.get("modality") == "CT"
        return f"{_VOLUME}CT soft tissue" if ct else f"{_VOLUME}MR default"

    def set_render_mode(self, mode: str) -> None:
        """Show label surfaces or a volume rendering preset in the 3D view."""
        if self.scene.volume is None:
            return
        if mode == SURFACES_MODE and self.scene.labels is not None:
            self.view3d.show_surfaces(self._surfaces, self.scene.labels.labels)
        elif mode.startswith(_VOLUME):
            self.view3d.show_volume(self.scene.volume, preset("volume_rendering")[mode[8:]])
        else:
            return
        self.render_mode.setCurrentText(mode)
        modality = self.scene.volume.meta.get("modality", "")
        if modality and mode.startswith(_VOLUME):
            self.settings.setValue(f"render_mode/{modality}", mode)
        self._update_3d_overlays()
        if not self.view3d.isVisible():  # layout without 3D: the slices are all there is
            self._on_3d_rendered()

    def apply_window_preset(self, name: str) -> None:
        """Apply a window/level preset by name ('From image': the series' own window;
        'Auto (histogram)': 1st-99th percentile, the usual choice for MR)."""
        if self.scene.volume is None:
            return
        if name in preset("window_level"):
            self.scene.set_window(*preset("window_level")[name])
        elif name == AUTO_WINDOW:
            self.scene.set_window(*self.scene.auto_window())
        else:
            self.scene.set_window(*self.scene.volume.meta.get("window", self.scene.auto_window()))
        modality = self.scene.volume.meta.get("modality", "")
        if modality:
            self.settings.setValue(f"window_preset/{modality}", name)

    def _on_3d_rendered(self) -> None:
        if "rendered" not in self.timings and self.scene.volume is not None:
            self.timings["rendered"] = self._elapsed()
            self.ready.emit()

    # -- read-outs and measurements ---------------------------------------------------------
    def _show_hover(self, lps: np.ndarray | None) -> None:
        if lps is None:
            self.cursor_info.setText("")
            return
        value = self.scene.value_at(lps)
        unit = " HU" if self.scene.volume and self.scene.volume.meta.get("modality") == "CT" else ""
        text = f"{position_text(lps)} mm"
        if value is not None:
            text += f"   {number(value, 0)}{unit}"
        elif self.scene.slices_unread() and self.scene.volume.contains_index(
            self.scene.volume.lps_to_index(lps)
        ):
            text += "   " + tr("(this slice is still loading)")
        label = self.scene.label_at(lps)
        if label:
            text += f"   {label}"
        self.cursor_info.setText(text)

    def _picked_in_3d(self, point: np.ndarray) -> None:
        """Two picks in 3D make a ruler."""
        if self._first_pick is None:
            self._first_pick = point
            self.message.setText(tr("3D ruler: click the second point."))
            return
        ruler = Ruler(self._first_pick, point)
        self._first_pick = None
        self.scene.add_ruler(ruler)
        self.message.setText(tr("3D ruler: {length} mm").format(length=number(ruler.length_mm, 1)))

    def _show_roi(self, stats: dict) -> None:
        if not stats.get("pixels"):
            self.message.setText(tr("The ROI holds no pixel of the image."))
            return
        unit = " HU" if self.scene.volume.meta.get("modality") == "CT" else ""
        slice_text = {  # the view's orientation name, as the sentence reads it
            "axial": N_("ROI on the axial slice"),
            "coronal": N_("ROI on the coronal slice"),
            "sagittal": N_("ROI on the sagittal slice"),
        }.get(stats["view"])
        where = (tr(slice_text) if slice_text else tr("ROI on the {view} slice")).format(
            view=stats["view"]
        )
        self.message.setText(
            tr(
                "{where}: {area} cm², mean {mean}{unit}, SD {sd}, min {min}, max {max} "
                "({pixels} pixels)"
            ).format(
                where=where,
                area=number(stats["area_mm2"] / 100, 2),
                mean=number(stats["mean"], 1),
                unit=unit,
                sd=number(stats["std"], 1),
                min=number(stats["min"], 0),
                max=number(stats["max"], 0),
                pixels=stats["pixels"],
            )
        )

    def show_label_surface(self, value: int) -> None:
        """Compute one label's surface in the background and show it in 3D with its volume."""
        labels = self.scene.labels
        if labels is None:
            return
        budget = self.view3d.triangle_budget()  # exports keep every triangle

        def work(*, progress, cancelled):
            surfaces = label_surfaces(
                labels, [value], max_triangles=budget, progress=progress, cancelled=cancelled
            )
            mesh = surfaces.get(value)
            voxel_ml = float(np.prod(labels.volume.spacing)) / 1000
            voxels_ml = float((labels.volume.array == value).sum()) * voxel_ml
            return mesh, (abs(mesh.volume) / 1000 if mesh is not None else 0.0), voxels_ml

        def done(result) -> None:
            mesh, surface_ml, voxels_ml = result
            label = labels.labels.get(value)
            if mesh is None or label is None:
                self.message.setText(tr("That label is empty: there is no surface to show."))
                return
            if self.scene.labels is not labels:
                return  # another case or label map is on screen now
            self._surfaces[value] = mesh
            if self.view3d.mode != "surfaces":
                self.view3d.show_surfaces({value: mesh}, labels.labels)
            else:
                self.view3d.set_surface(value, mesh, label)
            self.message.setText(
                tr(
                    "{label}: {voxels} mL (voxel count); the surface shown "
                    "({triangles} triangles) encloses {surface} mL"
                ).format(
                    label=label.name,
                    voxels=number(voxels_ml, 1),
                    triangles=mesh.n_cells,
                    surface=number(surface_ml, 1),
                )
            )

        self._start(N_("Surface"), work, on_done=done)

    def export_label_surface(self, value: int, path: str) -> None:
        """Write one label's surface as STL or VTP (for 3D printing, for meshes twins use)."""
        labels = self.scene.labels
        if labels is None:
            return

        def work(*, progress, cancelled):
            surfaces = label_surfaces(labels, [value], progress=progress, cancelled=cancelled)
            mesh = surfaces.get(value)
            if mesh is None:
                raise MeditwinError(tr("That label is empty: there is no surface to export."))
            mesh.save(path)
            return mesh

        self._start(
            N_("Exporting surface"),
            work,
            on_done=lambda mesh: self.message.setText(
                tr("Saved {path} ({triangles} triangles)").format(path=path, triangles=mesh.n_cells)
            ),
        )

    # -- settings ---------------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        stored = self.settings
        self.set_layout(str(stored.value("layout", "2 x 2")))
        radius = float(stored.value("brush_radius_mm", self.scene.brush_radius_mm))
        self.segments.brush_radius.setValue(radius)
        self.planes_action.setChecked(str(stored.value("planes_in_3d", "false")) == "true")

    def _save_settings(self) -> None:
        stored = self.settings
        stored.setValue("layout", self.layout_name)
        stored.setValue("brush_radius_mm", self.scene.brush_radius_mm)
        stored.setValue("planes_in_3d", "true" if self.planes_action.isChecked() else "false")
        modality = self.scene.volume.meta.get("modality", "") if self.scene.volume else ""
        if modality:
            stored.setValue(f"window_preset/{modality}", self.window_presets.currentText())
            stored.setValue(f"render_mode/{modality}", self.render_mode.currentText())
        stored.sync()
