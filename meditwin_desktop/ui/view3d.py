"""The 3D view: label surfaces or volume rendering, slice planes, clipping, rulers.

Rendering happens here (GUI thread, VTK through pyvistaqt's QtInteractor); surfaces are
computed off the GUI thread by `core.imaging.surfaces` and handed in ready-made.
Geometry is in LPS millimetres; volumes are placed with their affine as user matrix.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyvista as pv
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QImage, QOffscreenSurface, QOpenGLContext
from PySide6.QtOpenGLWidgets import QOpenGLWidget
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from pyvistaqt import QtInteractor
from vtkmodules.vtkCommonDataModel import vtkPiecewiseFunction, vtkPlane, vtkPolyData
from vtkmodules.vtkCommonMath import vtkMatrix4x4
from vtkmodules.vtkRenderingAnnotation import vtkAnnotatedCubeActor
from vtkmodules.vtkRenderingCore import vtkColorTransferFunction, vtkVolume, vtkVolumeProperty
from vtkmodules.vtkRenderingVolumeOpenGL2 import vtkSmartVolumeMapper

from meditwin_desktop.core.i18n import N_, number, tr, tr_n
from meditwin_desktop.core.imaging.slicing import PlaneImage
from meditwin_desktop.core.imaging.surfaces import interaction_surface
from meditwin_desktop.core.imaging.volume import Label, Volume
from meditwin_desktop.core.imaging.vtk_bridge import index_image
from meditwin_desktop.ui.theme import VIEW_COLORS

# camera direction (focal point -> camera) and view-up, in LPS
STANDARD_VIEWS = {
    "A": ((0, -1, 0), (0, 0, 1)),
    "P": ((0, 1, 0), (0, 0, 1)),
    "L": ((1, 0, 0), (0, 0, 1)),
    "R": ((-1, 0, 0), (0, 0, 1)),
    "S": ((0, 0, 1), (0, -1, 0)),
    "I": ((0, 0, -1), (0, -1, 0)),
}
_VIEW_NAMES = {
    "A": N_("from the front"),
    "P": N_("from the back"),
    "L": N_("from the left"),
    "R": N_("from the right"),
    "S": N_("from above"),
    "I": N_("from below"),
}
_TRANSLUCENT = {
    "right lung": 0.15,
    "left lung": 0.15,
    "liver": 0.45,
    "body": 0.1,
    "intracranial": 0.12,
    "brain mask": 0.12,
}  # enclosing: what lies inside shows
_CURSOR_COLORS = ((0.8, 0.3, 0.3), (0.35, 0.67, 0.31), (0.84, 0.75, 0.24))
# clipping keeps the side a plane's normal points away from: below axial, behind coronal...
_CLIP_KEEP = {"axial": -1.0, "coronal": -1.0, "sagittal": -1.0}
# Triangles worth drawing, all surfaces together. Software OpenGL (Mesa llvmpipe on 2
# cores) draws about 3 k triangles per ms: the demo's 19 surfaces at 350 k triangles took
# 130-175 ms a frame in a 488 x 424 px view where most triangles are smaller than a pixel;
# decimated to 150 k they look the same. While the view moves, less is drawn
# (the lighter copies, a quarter), for 20+ frames a second; full detail returns when still.
TRIANGLES_HARDWARE = 1_500_000
TRIANGLES_SOFTWARE = 150_000
REFINE_MS = 150  # full detail this long after the last interaction (wheel steps come in bursts)
_SOFTWARE_RENDERERS = (
    "llvmpipe",
    "softpipe",
    "swiftshader",
    "software",
    "gdi generic",
    "basic render",  # Microsoft Basic Render Driver
)
_GL_RENDERER = 0x1F01
_renderer_name: str | None = None


class View3D(QWidget):
    """3D rendering of the scene in a QtInteractor, with a small view toolbar."""

    rendered = Signal()  # after a frame that shows newly set content
    picked = Signal(object)  # LPS point picked on a surface while measuring

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("view_3d")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._toolbar())
        self.plotter = QtInteractor(self, auto_update=False)
        give_own_window(self.plotter)
        self.plotter.set_background((0.08, 0.09, 0.11), top=(0.22, 0.24, 0.28))
        self.plotter.add_orientation_widget(
            _orientation_cube(), interactive=False, viewport=(0, 0, 0.18, 0.18)
        )
        self.plotter.enable_anti_aliasing("fxaa")
        layout.addWidget(self.plotter, stretch=1)
        self._content: dict[str, object] = {}  # actor name -> actor (content, not decorations)
        self._lighter: dict[str, object] = {}  # actor name -> its lighter actor while moving
        self.detail = "full"  # "full", or "interaction" while the view moves
        self._refine = QTimer(self, singleShot=True, interval=REFINE_MS)
        self._refine.timeout.connect(self._full_detail)
        self._style = None
        self._fxaa: dict[object, bool] = {}  # renderer -> its FXAA setting, while moving
        self._watch_interaction()
        self.busy: Callable[[], bool] = lambda: False  # while true, moved frames stay light
        self.plotter.installEventFilter(self)  # resizes draw light, like interaction
        self._planes: dict[str, pv.PolyData] = {}
        self._cursor_mesh: pv.PolyData | None = None
        self._bounds: np.ndarray | None = None
        self._awaiting_frame = False
        self._frames = 0  # frames rendered so far
        self._clipping: dict[str, np.ndarray] = {}  # orientation -> plane (origin, normal)
        self.planes_visible = False
        self.plotter.ren_win.AddObserver("EndEvent", self._on_frame)
        self.mode = "empty"

    def _toolbar(self) -> QWidget:
        bar = _HeaderBar(self._fit_header, self)
        color = VIEW_COLORS["3d"]
        bar.setStyleSheet(f"background: rgb(24,25,28); border-top: 3px solid {color.name()};")
        row = QHBoxLayout(bar)
        row.setContentsMargins(8, 2, 4, 2)
        row.setSpacing(2)
        self._title = QLabel(tr("3D"), bar)
        self._title.setStyleSheet(
            f"color: {color.lighter(130).name()}; font-weight: bold; border: none;"
        )
        row.addWidget(self._title)
        self.status = ElidedLabel(bar)
        self.status.setStyleSheet("color: #bbb; border: none;")
        self.status.changed.connect(self._fit_header)
        row.addWidget(self.status, stretch=1)
        self.measure_button = QToolButton(bar)
        self.measure_button.setText(tr("Measure"))
        self.measure_button.setCheckable(True)
        self.measure_button.setToolTip(tr("Click two points on the surfaces to measure in 3D"))
        self.measure_button.setStyleSheet("border: none; color: #ddd; padding: 0 5px;")
        self.measure_button.toggled.connect(self.set_measuring)
        # buttons keep their full text; the status label is what gives way
        self.measure_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        row.addWidget(self.measure_button)
        # the six standard views as buttons, folded into one menu when the bar is narrow
        # (1 x 3, 1280 x 800, 2x scaling) so that the status text is read whole
        self.views_button = QToolButton(bar)
        self.views_button.setText(tr("View"))
        self.views_button.setToolTip(tr("View from the front, back, left, right, above or below"))
        self.views_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.views_button.setStyleSheet("border: none; color: #ddd; padding: 0 6px;")
        menu = QMenu(self.views_button)
        self._view_buttons: list[QToolButton] = []
        for name in STANDARD_VIEWS:
            side = tr(_VIEW_NAMES[name])
            menu.addAction(
                tr("{letter}: {side}").format(letter=name, side=side),
                lambda n=name: self.standard_view(n),
            )
            button = QToolButton(bar)
            button.setText(name)
            button.setToolTip(tr("View {side}").format(side=side))
            button.setStyleSheet("border: none; color: #ddd; padding: 0 5px;")
            button.clicked.connect(lambda _=False, n=name: self.standard_view(n))
            button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
            row.addWidget(button)
            self._view_buttons.append(button)
        self.views_button.setMenu(menu)
        self.views_button.hide()
        row.addWidget(self.views_button)
        self._bar = bar
        return bar

    def _fit_header(self) -> None:
        """Show the six view buttons only where the status text still fits whole."""
        bar = getattr(self, "_bar", None)
        if bar is None:
            return
        margins = bar.layout().contentsMargins()
        fixed = (
            margins.left()
            + margins.right()
            + self._title.sizeHint().width()
            + self.measure_button.sizeHint().width()
            + 12
        )
        text = self.status.fontMetrics().horizontalAdvance(self.status.text()) + 8
        wide = sum(b.sizeHint().width() + 2 for b in self._view_buttons)
        folded = bar.width() < fixed + text + wide
        for button in self._view_buttons:
            button.setVisible(not folded)
        self.views_button.setVisible(folded)

    # -- content ---------------------------------------------------------------------
    def clear(self) -> None:
        """Remove surfaces, volume, planes, cursor and rulers."""
        self._remove_content()
        for name in [*self._planes, "cursor", "rulers"]:
            self.plotter.remove_actor(name, render=False)
        self._planes, self._cursor_mesh = {}, None
        self.mode = "empty"

    @property
    def structures(self) -> int:
        """How many structures (label surfaces, or a volume) the view shows."""
        return len(self._content)

    def _add_content(self, name: str, actor) -> None:
        self._content[name] = actor
        self._apply_clipping(actor)

    def show_surfaces(self, surfaces: dict[int, pv.PolyData], labels: dict[int, Label]) -> None:
        """Show label surfaces, each in its label's colour."""
        self._remove_content()
        for value, mesh in surfaces.items():
            self.set_surface(value, mesh, labels.get(value), render=False)
        meshes = [m for m in surfaces.values() if m.n_cells]
        if meshes:
            bounds = np.array([m.bounds for m in meshes]).reshape(-1, 6)
            self._bounds = np.r_[bounds[:, 0::2].min(0), bounds[:, 1::2].max(0)][[0, 3, 1, 4, 2, 5]]
        self.mode = "surfaces"
        self._watch_interaction()  # pyvista may have set another style since
        count = len(self._content)
        self.status.setText(tr_n("{n} structures", "{n} structures", count).format(n=count))
        self.standard_view("A")

    def set_surface(
        self, value: int, mesh: pv.PolyData | None, label: Label | None, render: bool = True
    ) -> None:
        """Add, replace or (mesh None) remove one label's surface."""
        name = f"label-{value}"
        self._remove_actor(name)
        if mesh is None or label is None or mesh.n_cells == 0:
            if render:
                self.request_render()
            return
        actor = self.plotter.add_mesh(
            mesh,
            color=np.array(label.color) / 255.0,
            opacity=_TRANSLUCENT.get(label.name, 1.0),
            smooth_shading=False,  # True would compute normals again, here, on the GUI thread
            specular=0.3,
            name=name,
            render=False,
            reset_camera=False,
        )
        actor.prop.interpolation = "phong"  # shaded with the mesh's own point normals
        self._add_content(name, actor)
        lighter = interaction_surface(mesh)
        if lighter is not None:
            self._add_lighter(name, actor, lighter)
        if self._bounds is None:
            b = np.asarray(mesh.bounds)
            self._bounds = b
        if render:
            self.request_render()

    def show_volume(self, volume: Volume, preset: dict) -> None:
        """Volume-render a volume with a transfer-function preset (see resources/presets)."""
        self._remove_content()
        mapper = vtkSmartVolumeMapper()
        mapper.SetInputData(index_image(volume.array))
        prop = vtkVolumeProperty()
        prop.SetInterpolationTypeToLinear()
        prop.ShadeOn()
        prop.SetAmbient(0.3)
        prop.SetDiffuse(0.7)
        prop.SetSpecular(0.2)
        opacity, color = vtkPiecewiseFunction(), vtkColorTransferFunction()
        for value, alpha in _points(volume, preset, "opacity"):
            opacity.AddPoint(value, alpha)
        for value, r, g, b in _points(volume, preset, "color"):
            color.AddRGBPoint(value, r, g, b)
        prop.SetScalarOpacity(opacity)
        prop.SetColor(color)
        actor = vtkVolume()
        actor.SetMapper(mapper)
        actor.SetProperty(prop)
        matrix = vtkMatrix4x4()
        matrix.DeepCopy(volume.affine.ravel())
        actor.SetUserMatrix(matrix)
        self.plotter.add_actor(actor, name="volume", reset_camera=False, render=False)
        self._add_content("volume", actor)
        nk, nj, ni = volume.shape
        corners = volume.index_to_lps(np.array([[0, 0, 0], [ni - 1, nj - 1, nk - 1]]))
        self._bounds = np.c_[corners.min(0), corners.max(0)].ravel()
        self.mode = "volume"
        self.status.setText(tr("volume rendering"))
        self.standard_view("A")

    def _remove_content(self) -> None:
        for name in list(self._content):
            self._remove_actor(name)

    def _remove_actor(self, name: str) -> None:
        self.plotter.remove_actor([name, f"{name}-lighter"], render=False)
        self._content.pop(name, None)
        self._lighter.pop(name, None)

    # -- level of detail while the view moves --------------------------------------------------
    def _add_lighter(self, name: str, actor, mesh: pv.PolyData) -> None:
        """Add the lighter copy of a surface, drawn in its place while the view moves."""
        lighter = self.plotter.add_mesh(
            mesh, name=f"{name}-lighter", render=False, reset_camera=False, pickable=False
        )
        lighter.SetProperty(actor.GetProperty())  # one look: colour, opacity, shading
        moving = self.detail == "interaction"
        lighter.SetVisibility(moving)
        actor.SetVisibility(not moving)
        self._lighter[name] = lighter
        self._apply_clipping(lighter)

    def _watch_interaction(self) -> None:
        """Observe the interactor style's start and end of interaction (rotate, pan, zoom)."""
        style = self.plotter.iren.interactor.GetInteractorStyle()
        if style is None or style is self._style:
            return
        style.AddObserver("StartInteractionEvent", self._interaction_started)
        style.AddObserver("EndInteractionEvent", self._interaction_ended)
        self._style = style

    def _interaction_started(self, *args) -> None:
        self._refine.stop()
        if self.detail == "full" and self._lighter:
            self._set_detail("interaction")

    def _interaction_ended(self, *args) -> None:
        if self.detail == "interaction":
            self._refine.start()  # the style's own frame after this one stays light

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        """A resize (a dock opening: the comparison at *Run all*) repaints at once, inside
        the layout change: that frame draws the lighter copies, full detail follows."""
        if watched is self.plotter and event.type() == QEvent.Type.Resize and self._frames:
            self._interaction_started()
            if self.detail == "interaction":
                self._refine.start()
        return False

    def _full_detail(self) -> None:
        if self.detail != "full" and not getattr(self.plotter, "_closed", True):
            if self.busy():  # simulations hold every core: a full frame would stall
                self._refine.start()
                return
            self._set_detail("full")
            self.plotter.update()  # the widget's paint renders the frame

    def _set_detail(self, detail: str) -> None:
        """Show the lighter copies ("interaction") or the surfaces themselves ("full")."""
        self.detail = detail
        moving = detail == "interaction"
        for name, lighter in self._lighter.items():
            lighter.SetVisibility(moving)
            self._content[name].SetVisibility(not moving)
        # FXAA is a full-screen pass, ~10 ms a frame in software OpenGL: in motion the eye
        # does not see the edges it smooths; the still frame has it again
        for renderer in self.plotter.renderers:
            if moving:
                self._fxaa[renderer] = renderer.GetUseFXAA()
                renderer.SetUseFXAA(False)
            elif renderer in self._fxaa:
                renderer.SetUseFXAA(self._fxaa.pop(renderer))

    def triangles_drawn(self) -> int:
        """Triangles of the content drawn now (surfaces or their lighter copies)."""
        total = 0
        for name, actor in self._content.items():
            shown = self._lighter.get(name) if self.detail == "interaction" else None
            shown = shown if shown is not None else actor
            data = shown.GetMapper().GetInput() if hasattr(shown, "GetMapper") else None
            if isinstance(data, vtkPolyData):
                total += data.GetNumberOfPolys()
        return total

    # -- slice planes, clipping, cursor, rulers -------------------------------------------------
    def set_slice_planes(self, planes: dict[str, tuple[PlaneImage, QImage]]) -> None:
        """Show the slice views' current images as textured planes in 3D."""
        for name, (plane, image) in planes.items():
            actor_name = f"plane-{name}"
            if not self.planes_visible or image is None:
                self.plotter.remove_actor(actor_name, render=False)
                self._planes.pop(actor_name, None)
                continue
            rows, cols = plane.pixels.shape
            corners = np.array(
                [
                    plane.to_lps(c, r)
                    for c, r in (
                        (-0.5, rows - 0.5),
                        (cols - 0.5, rows - 0.5),
                        (cols - 0.5, -0.5),
                        (-0.5, -0.5),
                    )
                ]
            )
            mesh = self._planes.get(actor_name)
            if mesh is None:
                mesh = pv.PolyData(corners, faces=np.array([4, 0, 1, 2, 3]))
                mesh.active_texture_coordinates = np.array([[0, 0], [1, 0], [1, 1], [0, 1.0]])
                self._planes[actor_name] = mesh
            else:
                mesh.points = corners
            texture = pv.Texture(_image_array(image))
            self.plotter.add_mesh(
                mesh,
                texture=texture,
                name=actor_name,
                render=False,
                reset_camera=False,
                lighting=False,
                pickable=False,  # measuring picks anatomy, not the slices drawn over it
            )
        self.request_render()

    def set_planes_visible(self, visible: bool) -> None:
        """Show or hide the slice planes (they reappear at the next update)."""
        self.planes_visible = visible
        if not visible:
            for name in list(self._planes):
                self.plotter.remove_actor(name, render=False)
            self._planes = {}
            self.request_render()

    def set_clipping(self, planes: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
        """Clip surfaces and volume at slice planes {orientation: (origin, normal)}."""
        self._clipping = planes
        for actor in [*self._content.values(), *self._lighter.values()]:
            self._apply_clipping(actor)
        self.request_render()

    def _apply_clipping(self, actor) -> None:
        mapper = actor.GetMapper() if hasattr(actor, "GetMapper") else None
        if mapper is None:
            return
        mapper.RemoveAllClippingPlanes()
        for name, (origin, normal) in self._clipping.items():
            plane = vtkPlane()
            plane.SetOrigin(*origin)
            plane.SetNormal(*(np.asarray(normal) * _CLIP_KEEP[name]))
            mapper.AddClippingPlane(plane)

    def set_cursor(self, lps: np.ndarray) -> None:
        """Draw the linked crosshair as three lines through `lps` across the content."""
        if self._bounds is None:
            return
        b = self._bounds
        x, y, z = lps
        points = np.array(
            [[b[0], y, z], [b[1], y, z], [x, b[2], z], [x, b[3], z], [x, y, b[4]], [x, y, b[5]]],
            float,
        )
        if self._cursor_mesh is None:
            lines = pv.PolyData(points, lines=np.array([2, 0, 1, 2, 2, 3, 2, 4, 5]))
            lines.cell_data["rgb"] = (np.array(_CURSOR_COLORS) * 255).astype(np.uint8)
            self.plotter.add_mesh(
                lines,
                scalars="rgb",
                rgb=True,
                line_width=2,
                name="cursor",
                render=False,
                reset_camera=False,
                pickable=False,  # seen end-on, a crosshair line caught clicks in mid-air
            )
            self._cursor_mesh = lines
        else:
            self._cursor_mesh.points = points
        self.request_render()

    def set_rulers(self, rulers) -> None:
        """Draw distance measurements as lines with their length."""
        self.plotter.remove_actor(["rulers", "ruler-labels"], render=False)
        if rulers:
            points = np.array([p for r in rulers for p in (r.start, r.end)], float)
            cells = np.hstack([[2, 2 * n, 2 * n + 1] for n in range(len(rulers))])
            self.plotter.add_mesh(
                pv.PolyData(points, lines=cells),
                color=(0.35, 0.86, 1.0),
                line_width=3,
                name="rulers",
                render=False,
                reset_camera=False,
                pickable=False,
            )
            self.plotter.add_point_labels(
                np.array([(r.start + r.end) / 2 for r in rulers]),
                [f"{number(r.length_mm, 1)} mm" for r in rulers],
                name="ruler-labels",
                font_size=12,
                text_color="white",
                shape_opacity=0.4,
                render=False,
                pickable=False,
            )
        self.request_render()

    def set_measuring(self, on: bool) -> None:
        """Left clicks pick points on the 3D content (for the 3D ruler)."""
        if on:
            self.plotter.enable_point_picking(
                callback=lambda point: self.picked.emit(np.asarray(point, float)),
                left_clicking=True,
                # where the ray first meets a surface; the point picker snapped to the
                # mesh vertex nearest the ray, often on the far side of the structure
                picker="cell",
                show_message=False,
                show_point=True,
                color="cyan",
                point_size=8,
            )
        else:
            self.plotter.disable_picking()

    def standard_view(self, name: str) -> None:
        """Look at the content from the patient's A, P, L, R, S or I side."""
        direction, up = STANDARD_VIEWS[name]
        if self._bounds is None:
            return
        # the renderer's methods with render=False: the plotter's reset_camera always
        # renders, and each frame of a large surface is ~100 ms of software OpenGL
        renderer = self.plotter.renderer
        renderer.view_vector(direction, viewup=up, render=False)
        renderer.reset_camera(render=False, bounds=self._bounds)
        self.plotter.camera.zoom(1.35)
        self.request_render()

    def triangle_budget(self) -> int:
        """Most triangles worth drawing, all surfaces together, with this machine's OpenGL
        (`label_surfaces` gives each surface its share and a lighter copy for moving)."""
        name = opengl_renderer().lower()
        software = any(word in name for word in _SOFTWARE_RENDERERS)
        return TRIANGLES_SOFTWARE if software else TRIANGLES_HARDWARE

    def request_render(self) -> None:
        """Schedule a frame, and emit `rendered` once it is done.

        The widget's paint renders the scene, so requests made before it runs share one
        frame. `plotter.render()` renders at once *and* schedules that paint: two frames,
        ~100 ms each for a large surface in software OpenGL. It is called only for the
        first frame, which pyvista needs to have seen before it takes screenshots.
        """
        self._awaiting_frame = True
        if self._frames:
            self.plotter.update()
        else:
            self.plotter.render()

    def _on_frame(self, *args) -> None:
        if not self._frames:
            opengl_renderer()  # the widget's context is current: read the renderer's name
        self._frames += 1
        if self._awaiting_frame and self._content:
            self._awaiting_frame = False
            self.rendered.emit()

    def close_plotter(self) -> None:
        """Release the render window (call before the widget is destroyed)."""
        self._refine.stop()  # no full-detail frame on a released window
        release_plotter(self.plotter)


class _HeaderBar(QWidget):
    """The 3D view's header; tells its view when its width changes."""

    def __init__(self, on_resize: Callable[[], None], parent: QWidget) -> None:
        super().__init__(parent)
        self._on_resize = on_resize

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._on_resize()


class ElidedLabel(QLabel):
    """A label that gives way in a narrow bar, ending its text with "…" (full text as tip).

    A plain QLabel's minimum width is its whole text: in the 2 x 2 layout it squeezed the
    3D view's Measure button down to "...".
    """

    changed = Signal()  # the full text changed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        self._full = text
        self.setToolTip(text)
        self._elide()
        self.changed.emit()

    def text(self) -> str:
        return self._full

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        metrics = self.fontMetrics()
        super().setText(metrics.elidedText(self._full, Qt.TextElideMode.ElideRight, self.width()))


def release_plotter(plotter: QtInteractor) -> None:
    """Close a QtInteractor and let go of its wrappers of Qt's GL context and surface, while
    the widget (which owns them) still exists: call it before the widget is destroyed.

    pyvistaqt keeps Python wrappers of the widget's QOpenGLContext and of that context's
    surface, a QOffscreenSurface owned by Qt and reached through `QOpenGLContext.surface()`
    (a QSurface*, so PySide is never told when Qt deletes it). `close()` keeps both, and
    pyvistaqt's own release (on the context's aboutToBeDestroyed) cannot run once the
    widget's destruction has begun. The surface's wrapper then stayed in PySide's table of
    live objects under a freed address; a QObject made there later (a QMenu of the next
    main window) was handed that wrapper, and the first call on it crashed in
    PySide::getHiddenDataFromQObject (the GUI tests' intermittent segfault).
    """
    plotter.close()
    forget = getattr(plotter, "_forget_context", None)  # pyvistaqt's QOpenGLWidget interactor
    if forget is not None:
        forget()


def give_own_window(widget: QOpenGLWidget) -> None:
    """Put an OpenGL widget in a native child window of its own (call before it is shown).

    A QOpenGLWidget turns on OpenGL composition for its whole native window: every
    repaint of anything in it, down to a progress bar, then redraws the window through
    OpenGL. With software OpenGL that cost 10-35 ms per progress update of the main
    window; in a window of its own it costs 0.4 ms, and only 3D frames are composed.
    Its ancestors stay non-native. Done on X11 only, where it was measured (Wayland
    and macOS handle native child windows differently).
    """
    if QGuiApplication.platformName() != "xcb":  # measured on X11 only; elsewhere as Qt does
        return
    widget.setAttribute(Qt.WidgetAttribute.WA_DontCreateNativeAncestors)
    widget.setAttribute(Qt.WidgetAttribute.WA_NativeWindow)


def opengl_renderer() -> str:
    """The OpenGL renderer's name ("llvmpipe (LLVM 15...)", "NVIDIA RTX A2000/PCIe"...).

    Read during the 3D view's first frame (its context is current then); asked for
    before that, it comes from a throw-away offscreen context (~0.1 s under software
    OpenGL). Cached for the process, an unreadable name as "".
    """
    global _renderer_name
    if _renderer_name is None:
        current = QOpenGLContext.currentContext()
        if current is not None:
            _renderer_name = str(current.functions().glGetString(_GL_RENDERER) or "")
        else:
            _renderer_name = _offscreen_renderer_name()
    return _renderer_name


def _offscreen_renderer_name() -> str:
    context, surface = QOpenGLContext(), QOffscreenSurface()
    name = ""
    if context.create():
        surface.setFormat(context.format())
        surface.create()
        if context.makeCurrent(surface):
            name = str(context.functions().glGetString(_GL_RENDERER) or "")
            context.doneCurrent()
        surface.destroy()
    return name


def _image_array(image: QImage) -> np.ndarray:
    """A QImage (greyscale) as an (h, w, 3) uint8 array."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = image.width(), image.height()
    data = np.frombuffer(image.constBits(), np.uint8, count=image.bytesPerLine() * height)
    return (
        data.reshape(height, image.bytesPerLine())[:, : width * 3].reshape(height, width, 3).copy()
    )


def _orientation_cube() -> vtkAnnotatedCubeActor:
    """A cube whose faces carry the patient's anatomical directions (LPS world)."""
    cube = vtkAnnotatedCubeActor()
    for face, text in (
        ("XPlus", "L"),
        ("XMinus", "R"),
        ("YPlus", "P"),
        ("YMinus", "A"),
        ("ZPlus", "S"),
        ("ZMinus", "I"),
    ):
        getattr(cube, f"Set{face}FaceText")(text)
    cube.SetFaceTextScale(0.6)
    cube.GetCubeProperty().SetColor(0.32, 0.36, 0.42)
    cube.GetTextEdgesProperty().SetColor(0.9, 0.9, 0.9)
    for face in ("X", "Y", "Z"):
        for side in ("Plus", "Minus"):
            getattr(cube, f"Get{face}{side}FaceProperty")().SetColor(0.95, 0.95, 0.95)
    return cube


def _points(volume: Volume, preset: dict, key: str) -> list[list[float]]:
    """Transfer-function points, converting percentile-based presets (MR) to values."""
    if key in preset:
        return preset[key]
    points = preset[f"{key}_percentile"]
    sample = volume.array.ravel()[:: max(1, volume.array.size // 200_000)]
    values = np.percentile(sample, [p[0] for p in points])
    return [[float(v), *p[1:]] for v, p in zip(values, points, strict=True)]
